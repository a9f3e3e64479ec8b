"""Checking a package before anything in it runs, and unpacking it into a sandbox folder.

A package comes from the public side, so every entry is checked before extraction. It
must have a relative name without `..`, be no link or device file, and lie in the one
root folder. A package has at most MAX_ENTRIES entries of at most MAX_TOTAL_BYTES
together, and the manifest lists every file with its sha256. Both limits come from
tooling.packaging, whose `package` rejects a submission over them, so any package it
builds passes these checks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from tooling.errors import FatalError
from tooling.packaging import (
    CHUNK_BYTES,
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    MAX_ENTRIES,
    MAX_TOTAL_BYTES,
    sha256_of_file,
)

MAX_MANIFEST_BYTES = 10 * 1024 * 1024
REPACKAGE = "package the submission again with `python -m tooling package`"
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")


@dataclasses.dataclass(frozen=True)
class CheckedPackage:
    """A package whose sha256, entry names and manifest passed the checks."""

    path: Path
    key: str
    root: str
    manifest: dict[str, Any]


def check_package(path: Path, expected_sha256: str | None = None) -> CheckedPackage:
    """Check the zip at `path` and return it with its key and manifest.

    Raises FatalError when the sha256 differs from `expected_sha256`, when an entry is
    unsafe to extract, or when the manifest does not match the entries.
    """
    if not path.is_file():
        raise FatalError(f"no such package, {str(path)!r}; give the path of a zip file")
    key = sha256_of_file(path)
    if expected_sha256 is not None and key != expected_sha256.lower():
        raise FatalError(
            f"sha256 mismatch, {path.name} has {key} but {expected_sha256} was sent; "
            f"the package was changed or truncated in transit, so trigger it again"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            root = check_entries(entries)
            manifest = read_manifest(archive, root)
    except zipfile.BadZipFile as error:
        raise FatalError(f"not a valid zip file, {path.name}: {error}; {REPACKAGE}") from None
    check_manifest(manifest, root, entries)
    return CheckedPackage(path, key, root, manifest)


def check_entries(entries: list[zipfile.ZipInfo]) -> str:
    """Check every entry name and type, and return the single root folder's name."""
    roots = set()
    names: set[str] = set()
    check_size(entries)
    for entry in entries:
        check_entry_name(entry.filename)
        if entry.filename.rstrip("/") in names:
            raise FatalError(f"duplicate entry in the package, {entry.filename!r}; {REPACKAGE}")
        names.add(entry.filename.rstrip("/"))
        check_entry_type(entry)
        roots.add(entry.filename.split("/", 1)[0])
    check_file_folder_clash(entries)
    if len(roots) != 1:
        raise FatalError(
            f"the package must hold one root folder, found {len(roots)} "
            f"({', '.join(sorted(roots)[:5])}); {REPACKAGE}"
        )
    return roots.pop()


def check_size(entries: list[zipfile.ZipInfo]) -> None:
    """Reject a package whose zip header declares too many entries or bytes.

    Extraction counts the bytes it writes as well, because a header can lie."""
    if len(entries) > MAX_ENTRIES:
        raise FatalError(
            f"too many entries in the package, {len(entries)} (at most {MAX_ENTRIES}); "
            f"leave data files out of the submission"
        )
    declared = sum(entry.file_size for entry in entries)
    if declared > MAX_TOTAL_BYTES:
        raise FatalError(too_large_message(declared))


def too_large_message(size: int) -> str:
    return (
        f"package too large when unpacked, {size} bytes or more (at most "
        f"{MAX_TOTAL_BYTES}); leave weights and data out of the submission"
    )


def check_file_folder_clash(entries: list[zipfile.ZipInfo]) -> None:
    """Reject a file entry whose name is also a folder of another entry."""
    files = {entry.filename for entry in entries if not entry.is_dir()}
    folders = {str(parent) for entry in entries for parent in PurePosixPath(entry.filename).parents}
    clashes = sorted(files & folders)
    if clashes:
        raise FatalError(
            f"entry is both a file and a folder in the package, {clashes[0]!r}; {REPACKAGE}"
        )


def check_entry_name(name: str) -> None:
    if "\\" in name or "\x00" in name:
        raise FatalError(f"unsafe entry name in the package, {name!r}; names use '/' only")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise FatalError(f"absolute path in the package, {name!r}; entries must be relative")
    parts = PurePosixPath(name).parts
    if ".." in parts or "." in name.split("/"):
        raise FatalError(
            f"'..' or '.' in a package entry, {name!r}; entries must stay "
            f"inside the submission folder"
        )
    if not parts:
        raise FatalError(f"empty entry name in the package, {name!r}; {REPACKAGE}")


def check_entry_type(entry: zipfile.ZipInfo) -> None:
    """Reject links and device files, which zip stores in the Unix mode bits."""
    mode = entry.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        raise FatalError(
            f"symbolic link in the package, {entry.filename!r}; links are never extracted, "
            f"so {REPACKAGE}"
        )
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise FatalError(
            f"special file in the package, {entry.filename!r} (mode {mode:o}); "
            f"only files and folders are extracted"
        )


def read_manifest(archive: zipfile.ZipFile, root: str) -> dict[str, Any]:
    name = f"{root}/{MANIFEST_NAME}"
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise FatalError(f"missing manifest, {name}; {REPACKAGE}") from None
    if info.file_size > MAX_MANIFEST_BYTES:
        raise FatalError(
            f"manifest too large, {name} ({info.file_size} bytes, at most "
            f"{MAX_MANIFEST_BYTES}); {REPACKAGE}"
        )
    try:
        manifest = json.loads(archive.read(name))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise FatalError(f"invalid manifest, {name}: {error}; {REPACKAGE}") from None
    if not isinstance(manifest, dict):
        raise FatalError(f"invalid manifest, {name}: not a JSON object; {REPACKAGE}")
    return manifest


def check_manifest(manifest: dict[str, Any], root: str, entries: list[zipfile.ZipInfo]) -> None:
    if manifest.get("format") != MANIFEST_FORMAT:
        raise FatalError(
            f"unsupported manifest format {manifest.get('format')!r}, expected "
            f"{MANIFEST_FORMAT}; {REPACKAGE} from this tooling version"
        )
    if manifest.get("submission") != root:
        raise FatalError(
            f"manifest names submission {manifest.get('submission')!r} but the "
            f"root folder is {root!r}; {REPACKAGE}"
        )
    models = manifest.get("models")
    if not isinstance(models, list) or not all(isinstance(item, str) for item in models):
        raise FatalError(
            f"invalid manifest: 'models' must be a list of model identifiers; {REPACKAGE}"
        )
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        raise FatalError(f"invalid manifest: 'files' must map paths to sha256 digests; {REPACKAGE}")
    for name, digest in listed.items():
        if not isinstance(digest, str) or not SHA256_PATTERN.fullmatch(digest):
            raise FatalError(
                f"invalid manifest: the digest of {name!r} is {digest!r}, not 64 lowercase "
                f"hex characters; {REPACKAGE}"
            )
    present = {
        entry.filename[len(root) + 1 :]
        for entry in entries
        if not entry.is_dir() and entry.filename != f"{root}/{MANIFEST_NAME}"
    }
    missing = sorted(set(listed) - present)
    extra = sorted(present - set(listed))
    if missing or extra:
        raise FatalError(
            f"package entries do not match the manifest (missing: {missing[:5]}, "
            f"not listed: {extra[:5]}); {REPACKAGE}"
        )


def extract_package(package: CheckedPackage, sandbox: Path) -> Path:
    """Extract the package's files into `sandbox/<root>` and return that folder.

    Each file's sha256 is checked against the manifest while it is written. Extraction
    goes to a temporary folder that is renamed at the end, so a crash never leaves a
    half-extracted submission under the final name.
    """
    sandbox.mkdir(parents=True, exist_ok=True)
    final = sandbox / package.root
    partial = sandbox / f".{package.root}.partial"
    for stale in (final, partial):
        if stale.exists():
            shutil.rmtree(stale)
    partial.mkdir()
    budget = [MAX_TOTAL_BYTES]
    try:
        with zipfile.ZipFile(package.path) as archive:
            for entry in archive.infolist():
                if entry.is_dir():
                    continue
                relative = entry.filename[len(package.root) + 1 :]
                extract_entry(archive, entry, partial / relative, package.manifest, budget)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    partial.rename(final)
    return final


def extract_entry(
    archive: zipfile.ZipFile,
    entry: zipfile.ZipInfo,
    target: Path,
    manifest: dict[str, Any],
    budget: list[int],
) -> None:
    """Write one entry to `target`, checking its sha256 against the manifest.

    `budget` contains the bytes the package may still write. The bytes are counted as
    they come out of the archive, whatever size its header claims.
    """
    relative = entry.filename.split("/", 1)[1]
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with archive.open(entry) as source, target.open("xb") as output:
        while chunk := source.read(CHUNK_BYTES):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise FatalError(too_large_message(MAX_TOTAL_BYTES + 1))
            digest.update(chunk)
            output.write(chunk)
    if relative != MANIFEST_NAME and digest.hexdigest() != manifest["files"][relative]:
        raise FatalError(
            f"sha256 mismatch for {relative} against the manifest; the "
            f"package is corrupt, so {REPACKAGE}"
        )
    executable = (entry.external_attr >> 16) & stat.S_IXUSR
    target.chmod(0o755 if executable else 0o644)

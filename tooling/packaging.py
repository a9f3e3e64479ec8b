"""A deterministic zip of one submission folder, with a manifest inside.

The same content gives the same bytes on any machine: entries are sorted, every entry has
the same timestamp and a normalised mode, and the compression is fixed. The zip's sha256
is therefore the submission's key from packaging to scoring to the email.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import secrets
import stat
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from tooling import __version__
from tooling.errors import FatalError

logger = logging.getLogger(__name__)

MANIFEST_NAME = "brainscore-manifest.json"
MANIFEST_FORMAT = 1
# 1980-01-01 is the earliest time a zip entry can hold, so it cannot drift with time zones.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644
EXECUTABLE_MODE = 0o100755
CREATE_SYSTEM_UNIX = 3
COMPRESSION = zipfile.ZIP_DEFLATED
COMPRESS_LEVEL = 9
CHUNK_BYTES = 1 << 20
# The scoring worker's unpacker rejects a package with more entries (the files and the
# manifest) or more bytes unpacked than these, so `package` rejects it before the merge.
MAX_ENTRIES = 10_000
MAX_TOTAL_BYTES = 2 * 1024**3


@dataclasses.dataclass(frozen=True)
class PackageFile:
    """One file of the submission: its path inside the folder, size, mode and sha256."""

    relative: PurePosixPath
    path: Path
    size: int
    executable: bool
    sha256: str


@dataclasses.dataclass(frozen=True)
class Package:
    """A written package: where it is, its sha256 (the submission's key) and manifest."""

    path: Path
    sha256: str
    manifest: dict[str, Any]


def sha256_of_file(path: Path) -> str:
    """Return the hex sha256 of the file at `path`, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def collect_files(folder: Path) -> list[PackageFile]:
    """Return the files to package, sorted by path, leaving stray files out.

    Raises FatalError for a symbolic link, a file over the size limit or anything that is
    neither a file nor a folder, because the scoring side must see exactly what was merged.
    Also raises it for a submission over MAX_ENTRIES or MAX_TOTAL_BYTES, before hashing.
    """
    found = []
    for path, relative in walk_folder(folder):
        if is_left_out(relative):
            logger.info("leaving out stray file %s", relative)
            continue
        info = path.lstat()
        check_file_kind(path, relative, info)
        check_file_size(relative, info.st_size)
        found.append((path, relative, info))
    if not found:
        raise FatalError(f"no files to package in {folder}; add the submission's files")
    check_package_limits(len(found), sum(info.st_size for _, _, info in found))

    files = [
        PackageFile(
            relative, path, info.st_size, bool(info.st_mode & stat.S_IXUSR), sha256_of_file(path)
        )
        for path, relative, info in found
    ]
    return sorted(files, key=lambda item: item.relative.as_posix())


def check_file_size(relative: PurePosixPath, size: int) -> None:
    from tooling.validation.files import LARGE_FILE_BYTES, MAX_FILE_BYTES

    if size > MAX_FILE_BYTES:
        raise FatalError(
            f"file too large, {relative} ({size} bytes, the limit is "
            f"{MAX_FILE_BYTES}); remove it or download it at run time from a versioned "
            f"location"
        )
    if size > LARGE_FILE_BYTES:
        logger.warning("packaging large file %s (%d bytes)", relative, size)


def check_package_limits(file_count: int, total_bytes: int) -> None:
    """Reject a package the scoring worker would reject: `file_count` files, not counting
    the manifest, of `total_bytes` bytes together."""
    entries = file_count + 1
    if entries > MAX_ENTRIES:
        raise FatalError(
            f"too many files to package, {file_count} files and the manifest (at most "
            f"{MAX_ENTRIES} entries); leave data files out of the submission"
        )
    if total_bytes > MAX_TOTAL_BYTES:
        raise FatalError(
            f"submission too large to package, {total_bytes} bytes (at most "
            f"{MAX_TOTAL_BYTES}); leave weights and data out of the submission and download "
            f"them at run time from a versioned location"
        )


def walk_folder(folder: Path) -> Iterator[tuple[Path, PurePosixPath]]:
    """Yield every non-folder entry under `folder` with its path relative to it.

    Folders whose every file would be stray (`.git`, `__pycache__`, top-level `build`) are
    not entered. Symbolic links to folders are yielded, not followed, so that they can be
    rejected.
    """
    from tooling.validation.files import is_stray_file

    for root, folders, names in os.walk(folder, followlinks=False):
        root_path = Path(root)
        relative_root = PurePosixPath(root_path.relative_to(folder).as_posix())
        kept = []
        for name in sorted(folders):
            relative = relative_root / name
            if (root_path / name).is_symlink():
                yield root_path / name, relative
            elif is_stray_file(relative / "file"):
                logger.info("leaving out stray folder %s/", relative)
            else:
                kept.append(name)
        folders[:] = kept
        for name in sorted(names):
            yield root_path / name, relative_root / name


def is_left_out(relative: PurePosixPath) -> bool:
    """Return True for stray files and for version-control files such as a `.git` file."""
    from tooling.validation.files import VERSION_CONTROL_DIRECTORIES, is_stray_file

    return is_stray_file(relative) or relative.name in VERSION_CONTROL_DIRECTORIES


def check_file_kind(path: Path, relative: PurePosixPath, info: os.stat_result) -> None:
    if stat.S_ISLNK(info.st_mode):
        target = os.readlink(path)
        raise FatalError(
            f"symbolic link in the submission, {relative} -> {target}; replace it with the "
            f"file itself, because links are not packaged"
        )
    if not stat.S_ISREG(info.st_mode):
        raise FatalError(f"not a regular file, {relative}; remove it from the submission folder")
    if relative.name == MANIFEST_NAME and relative.parent == PurePosixPath("."):
        raise FatalError(
            f"reserved file name, {relative}; rename it, because the package's manifest "
            f"takes that name"
        )


def find_source_commit(folder: Path) -> str | None:
    """Return `git rev-parse HEAD` for the repository holding `folder`, or None."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        return None
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def build_manifest(folder: Path, files: list[PackageFile], commit: str | None) -> dict[str, Any]:
    from tooling.validation.identifiers import read_model_identifiers

    return {
        "format": MANIFEST_FORMAT,
        "submission": folder.resolve().name,
        "models": sorted(read_model_identifiers(folder)),
        "source_commit": commit,
        "tooling_version": __version__,
        "files": {item.relative.as_posix(): item.sha256 for item in files},
    }


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()


def zip_entry(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
    info.create_system = CREATE_SYSTEM_UNIX
    info.external_attr = mode << 16
    info.compress_type = COMPRESSION
    # Python 3.13 made the private `_compresslevel` slot public as `compress_level`.
    if hasattr(info, "compress_level"):
        info.compress_level = COMPRESS_LEVEL
    else:
        info._compresslevel = COMPRESS_LEVEL
    return info


def write_file_entry(archive: zipfile.ZipFile, root: str, item: PackageFile) -> None:
    """Stream one file into the archive, checking that it did not change since hashing."""
    info = zip_entry(
        f"{root}/{item.relative.as_posix()}", EXECUTABLE_MODE if item.executable else FILE_MODE
    )
    info.file_size = item.size
    digest = hashlib.sha256()
    with item.path.open("rb") as source, archive.open(info, "w") as target:
        copy_stream(source, target, digest)
    if digest.hexdigest() != item.sha256:
        raise FatalError(
            f"file changed while packaging, {item.relative}; package again once nothing "
            f"writes to the submission folder"
        )


def copy_stream(source: BinaryIO, target: BinaryIO, digest: Any) -> None:
    while chunk := source.read(CHUNK_BYTES):
        digest.update(chunk)
        target.write(chunk)


def write_zip(path: Path, root: str, files: list[PackageFile], manifest: dict[str, Any]) -> None:
    entries: list[tuple[str, PackageFile | None]] = [
        (item.relative.as_posix(), item) for item in files
    ]
    entries.append((MANIFEST_NAME, None))
    entries.sort(key=lambda entry: entry[0])
    with path.open("xb") as stream, zipfile.ZipFile(stream, "w", allowZip64=True) as archive:
        for name, item in entries:
            if item is None:
                archive.writestr(zip_entry(f"{root}/{name}", FILE_MODE), manifest_bytes(manifest))
            else:
                write_file_entry(archive, root, item)


def build_package(folder: Path, output: Path, commit: str | None = None) -> Package:
    """Package the submission `folder` into `output` and return the package.

    `commit` defaults to the HEAD of the git repository holding the folder. The zip is
    written under a temporary name of its own, removed on failure, and renamed, so neither
    a crash nor a concurrent run leaves a partial package under the final name
    `<submission>-<sha256 prefix>.zip`.
    """
    folder = Path(folder)
    if folder.is_symlink():
        raise FatalError(
            f"the submission folder is a symbolic link, {str(folder)!r}; "
            f"package the folder it points to"
        )
    if not folder.is_dir():
        raise FatalError(f"no such folder, {str(folder)!r}; give the submission's folder")
    files = collect_files(folder)
    commit = commit or find_source_commit(folder)
    if commit is None:
        logger.warning("%s is not in a git repository; the manifest has no source commit", folder)
    manifest = build_manifest(folder, files, commit)
    root = manifest["submission"]
    check_package_limits(
        len(files), sum(item.size for item in files) + len(manifest_bytes(manifest))
    )

    output.mkdir(parents=True, exist_ok=True)
    partial = output / f".{root}.{secrets.token_hex(8)}.zip.partial"
    try:
        write_zip(partial, root, files, manifest)
        key = sha256_of_file(partial)
        final = output / f"{root}-{key[:12]}.zip"
        partial.replace(final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Package(final, key, manifest)

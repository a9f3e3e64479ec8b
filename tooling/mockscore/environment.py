"""The environment a submission runs in: the tooling's own plus a cached overlay.

The tooling's environment provides torch and brainscore-vision. A submission's declared
requirements that this environment does not satisfy are installed into an overlay
virtual environment, which imports the tooling's packages through a `.pth` file and shadows
them where it installs another version. Overlays are cached under a folder named by a
hash of what they install, so that a second check of the same submission installs
nothing. A finished overlay records a digest of its files, and one whose files no longer
match it, such as one that a submission changed, is built again. The scoring worker
gives each package a cache of its own.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import site
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

logger = logging.getLogger(__name__)

CACHE_ENV_VAR = "BRAINSCORE_SUBMISSIONS_CACHE"
# Written last into a finished overlay: a folder without it is a build that was cut off.
# Its first line is the digest of the overlay's files, the other lines the requirements.
COMPLETE_MARKER = ".complete"
# pip's output can be long; the report keeps the lines that name the error.
PIP_ERROR_LINES = 12


class InstallFailed(Exception):
    """pip failed to install a submission's requirements; the message is pip's error."""


@dataclasses.dataclass(frozen=True)
class Environment:
    """The interpreter that runs a submission, and its overlay folder if it has one."""

    python: str
    overlay: Path | None = None


def default_cache_dir() -> Path:
    """Return the cache folder: $BRAINSCORE_SUBMISSIONS_CACHE, else the user's cache."""
    configured = os.environ.get(CACHE_ENV_VAR)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "brainscore-submissions"


def prepare_environment(
    requirements: Iterable[Requirement], cache_dir: Path, timeout: float
) -> Environment:
    """Return the environment for `requirements`, building an overlay if one is needed.

    Raises InstallFailed when pip fails or runs longer than `timeout` seconds.
    """
    missing = unsatisfied_requirements(requirements)
    if not missing:
        return Environment(python=sys.executable)

    overlay = cache_dir / "overlays" / overlay_key(missing)
    if is_intact(overlay):
        logger.debug("reusing the overlay %s for %s", overlay, format_requirements(missing))
        return Environment(python=str(overlay_python(overlay)), overlay=overlay)
    if (overlay / COMPLETE_MARKER).exists():
        logger.warning(
            "the files of the overlay %s changed since it was built; building it again", overlay
        )
        shutil.rmtree(overlay)

    logger.info("installing %s into an overlay environment", format_requirements(missing))
    build_overlay(overlay, missing, timeout)
    return Environment(python=str(overlay_python(overlay)), overlay=overlay)


def unsatisfied_requirements(requirements: Iterable[Requirement]) -> list[Requirement]:
    """Return the requirements that no installed distribution satisfies."""
    return [requirement for requirement in requirements if not is_satisfied(requirement)]


def is_satisfied(requirement: Requirement, extra: str = "", seen: set[str] | None = None) -> bool:
    """Tell whether an installed distribution satisfies `requirement`, extras included.

    A requirement whose marker does not apply to this interpreter counts as satisfied. A
    direct URL requirement (`name @ url`) is satisfied by any installed version of `name`
    because the URL does not say which version it holds.
    """
    if requirement.marker is not None:
        environment = {**default_environment(), "extra": extra}
        if not requirement.marker.evaluate(environment):
            return True
    try:
        distribution = importlib.metadata.distribution(requirement.name)
    except importlib.metadata.PackageNotFoundError:
        return False
    if requirement.url is None and not requirement.specifier.contains(
        distribution.version, prereleases=True
    ):
        return False
    return extras_satisfied(distribution, requirement.extras, seen or set())


def extras_satisfied(
    distribution: importlib.metadata.Distribution, extras: set[str], seen: set[str]
) -> bool:
    key = distribution.metadata["Name"].lower()
    unchecked_extras = {extra for extra in extras if f"{key}[{extra}]" not in seen}
    if not unchecked_extras:
        return True
    seen.update(f"{key}[{extra}]" for extra in unchecked_extras)
    for line in distribution.requires or []:
        dependency = Requirement(line)
        if dependency.marker is None or "extra" not in str(dependency.marker):
            continue  # not tied to an extra: installed with the distribution itself
        for extra in unchecked_extras:
            if not is_satisfied(dependency, extra, seen):
                return False
    return True


def overlay_key(requirements: Sequence[Requirement]) -> str:
    """Return the cache key of an overlay: the requirements, interpreter and base env."""
    identity = {
        "requirements": sorted(str(requirement) for requirement in requirements),
        "python": list(sys.version_info[:3]),
        "platform": sys.platform,
        "base": sys.prefix,
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return digest[:24]


def is_intact(overlay: Path) -> bool:
    """Tell whether `overlay` is finished and its files are those it was built with."""
    try:
        recorded = (overlay / COMPLETE_MARKER).read_text().partition("\n")[0]
    except FileNotFoundError:
        return False
    return recorded == files_digest(overlay)


def files_digest(folder: Path) -> str:
    """Return a sha256 over the names, link targets and contents of the files in `folder`,
    the completion marker left out."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if relative == COMPLETE_MARKER:
            continue
        if path.is_symlink():
            digest.update(f"link {relative} {os.readlink(path)}\n".encode())
        elif path.is_file():
            digest.update(f"file {relative} {file_sha256(path)}\n".encode())
        elif path.is_dir():
            digest.update(f"folder {relative}\n".encode())
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def overlay_python(overlay: Path) -> Path:
    return overlay / "bin" / "python"


def overlay_site_packages(overlay: Path) -> Path:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return overlay / "lib" / version / "site-packages"


def build_overlay(overlay: Path, requirements: Sequence[Requirement], timeout: float) -> None:
    """Create the overlay at `overlay`, built in a temporary folder and renamed when done.

    Two checks that build the same overlay at once both succeed: the second rename finds
    the folder in place and removes its own copy.
    """
    overlay.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{overlay.name}-", dir=overlay.parent))
    try:
        create_venv(building)
        pip_install(building, requirements, timeout)
        lines = [files_digest(building), *map(str, requirements)]
        (building / COMPLETE_MARKER).write_text("\n".join(lines) + "\n")
        try:
            building.rename(overlay)
        except OSError:
            if not (overlay / COMPLETE_MARKER).exists():
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)


def create_venv(folder: Path) -> None:
    """Create a virtual environment without pip that can import the tooling's packages too.

    The `.pth` line runs `site.addsitedir`, so that `.pth` files of the tooling's
    environment (editable installs among them) take effect in the overlay too.
    """
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(folder)],
        check=True,
        capture_output=True,
    )
    lines = [f"import site; site.addsitedir({path!r})" for path in base_site_packages()]
    (overlay_site_packages(folder) / "_brainscore_tooling_base.pth").write_text(
        "\n".join(lines) + "\n"
    )


def base_site_packages() -> list[str]:
    paths = [*site.getsitepackages()]
    if site.ENABLE_USER_SITE and os.path.isdir(site.getusersitepackages()):
        paths.append(site.getusersitepackages())
    return paths


def pip_install(folder: Path, requirements: Sequence[Requirement], timeout: float) -> None:
    """Install `requirements` into the venv at `folder` with the tooling's own pip.

    pip's `--python` option runs it under the overlay's interpreter, so that it finds the
    tooling's packages installed and leaves them alone. Index settings come from the
    usual pip configuration and PIP_* environment variables.
    """
    command = [
        sys.executable, "-m", "pip", "--python", str(overlay_python(folder)),
        "install", "--no-input", "--disable-pip-version-check",
        *(str(requirement) for requirement in requirements),
    ]  # fmt: skip
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise InstallFailed(f"pip did not finish within {timeout:g} s") from error
    logger.debug("pip output:\n%s", completed.stdout)
    if completed.returncode != 0:
        raise InstallFailed(pip_error(completed.stderr or completed.stdout))


def pip_error(output: str) -> str:
    """Return the last lines of pip's output that carry the error."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("ERROR", "error"))]
    chosen = errors or lines
    return "\n".join(chosen[-PIP_ERROR_LINES:]) or "pip failed without output"


def format_requirements(requirements: Iterable[Requirement]) -> str:
    return ", ".join(f"'{requirement}'" for requirement in requirements)

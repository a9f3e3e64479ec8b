"""The files of a submission folder: symbolic links, sizes, stray files, Python modules."""

from __future__ import annotations

import collections
import dataclasses
import fnmatch
import os
from pathlib import Path, PurePosixPath

from tooling.problems import Problem

# GitHub rejects files over 100 MiB and warns from 50 MiB; weights over 25 MiB are better
# hosted elsewhere with a pinned URL and checksum.
MAX_FILE_BYTES = 100 * 1024**2
LARGE_FILE_BYTES = 25 * 1024**2

# Version-control folders are neither walked, reported nor packaged.
VERSION_CONTROL_DIRECTORIES = frozenset({".git", ".hg", ".svn"})
# Installed packages: reported and left out of the package, never walked, because they contain
# thousands of files. Any folder with a pyvenv.cfg is a virtual environment too.
ENVIRONMENT_DIRECTORIES = frozenset({".venv", "venv", "node_modules", "site-packages"})
# NOTE: packaging leaves out folders by name only, so it still packages a virtual environment
# that has another name. Such a package is then rejected for having over 10,000 entries.
VIRTUAL_ENVIRONMENT_MARKER = "pyvenv.cfg"
# A submission contains a model's code and a few small files. Past this many files and folders
# the walk stops, so that a wrong folder (a home directory, /tmp) fails fast.
MAX_ENTRIES = 10_000
STRAY_DIRECTORIES = frozenset(
    {
        "__pycache__",
        ".eggs",
        ".idea",
        ".ipynb_checkpoints",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".vscode",
    }
)
# setuptools writes these beside setup.py, so they are stray only at the top of the folder.
TOP_LEVEL_STRAY_DIRECTORIES = frozenset({"build", "dist"})
STRAY_FILE_PATTERNS = (
    "*.pyc",
    "*.pyo",
    "*~",
    "*.swp",
    "*.swo",
    "*.bak",
    "*.orig",
    "*.rej",
    ".#*",
    "#*#",
    ".DS_Store",
    "Thumbs.db",
    "desktop.ini",
)


def is_stray_directory(name: str, top_level: bool) -> bool:
    if name in STRAY_DIRECTORIES or name in ENVIRONMENT_DIRECTORIES:
        return True
    if name.endswith(".egg-info"):
        return True
    return top_level and name in TOP_LEVEL_STRAY_DIRECTORIES


def is_stray_name(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in STRAY_FILE_PATTERNS)


def is_stray_file(relative: PurePosixPath) -> bool:
    """Tell whether a file, given relative to the submission folder, stays out of the package.

    Caches, build output, editor files and version-control folders are stray, as is every
    file inside a stray folder.
    """
    parts = relative.parts
    for index, name in enumerate(parts[:-1]):
        if name in VERSION_CONTROL_DIRECTORIES or is_stray_directory(name, index == 0):
            return True
    return is_stray_name(parts[-1]) if parts else False


@dataclasses.dataclass
class FileScan:
    """The result of a walk of the submission folder.

    `python_files` are relative paths with `/`, sorted. `module_names` are the names of
    every module and package in the folder, which imports of the submission's own code use.
    """

    python_files: list[str] = dataclasses.field(default_factory=list)
    module_names: set[str] = dataclasses.field(default_factory=set)
    problems: list[Problem] = dataclasses.field(default_factory=list)
    # Files and folders seen so far, in all and by the first part of their path.
    entry_count: int = 0
    entries: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    truncated: bool = False


class EntryLimitReached(Exception):
    """The walk saw more than MAX_ENTRIES files and folders."""


def scan_files(folder: Path) -> FileScan:
    """Walk `folder` without following links and report links, big files and stray files."""
    scan = FileScan()
    try:
        walk(folder, PurePosixPath(), scan)
    except EntryLimitReached:
        scan.truncated = True
        scan.problems = [entry_limit_problem(scan)]
    scan.python_files.sort()
    return scan


def entry_limit_problem(scan: FileScan) -> Problem:
    top, count = scan.entries.most_common(1)[0]
    where = f", most of them in '{top}/'," if count > 1 else ""
    return Problem(
        "too-many-files",
        f"the folder has more than {MAX_ENTRIES:,} files and folders{where} so checking "
        f"stopped; keep only the model's code and small files in the submission, and host "
        f"data and weights elsewhere",
    )


def walk(directory: Path, relative: PurePosixPath, scan: FileScan) -> None:
    with os.scandir(directory) as iterator:
        entries = sorted(iterator, key=lambda entry: entry.name)
    for entry in entries:
        path = relative / entry.name
        scan.entry_count += 1
        scan.entries[path.parts[0]] += 1
        if scan.entry_count > MAX_ENTRIES:
            raise EntryLimitReached
        if entry.is_symlink():
            scan.problems.append(symlink_problem(path, entry))
        elif entry.is_dir():
            visit_directory(entry, path, scan)
        else:
            visit_file(entry, path, scan)


def visit_directory(entry: os.DirEntry, path: PurePosixPath, scan: FileScan) -> None:
    if entry.name in VERSION_CONTROL_DIRECTORIES:
        return
    if is_environment(entry):
        scan.problems.append(environment_problem(path))
        return
    if is_stray_directory(entry.name, len(path.parts) == 1):
        scan.problems.append(
            Problem(
                "stray-file",
                f"'{path}/' is a cache or build folder; delete it and add it to .gitignore "
                f"(it is left out of the package)",
                file=str(path),
            )
        )
        return
    if entry.name.isidentifier():
        scan.module_names.add(entry.name)
    walk(Path(entry.path), path, scan)


def is_environment(entry: os.DirEntry) -> bool:
    if entry.name in ENVIRONMENT_DIRECTORIES:
        return True
    return os.path.isfile(os.path.join(entry.path, VIRTUAL_ENVIRONMENT_MARKER))


def environment_problem(path: PurePosixPath) -> Problem:
    return Problem(
        "stray-file",
        f"'{path}/' holds installed packages, such as a virtual environment; delete it or "
        f"move it out of the submission folder and add it to .gitignore (it is not checked)",
        file=str(path),
    )


def visit_file(entry: os.DirEntry, path: PurePosixPath, scan: FileScan) -> None:
    if is_stray_name(entry.name):
        scan.problems.append(
            Problem(
                "stray-file",
                f"'{path}' is a cache or editor file; delete it and add it to .gitignore "
                f"(it is left out of the package)",
                file=str(path),
            )
        )
        return
    size_problem = check_size(path, entry.stat(follow_symlinks=False).st_size)
    if size_problem is not None:
        scan.problems.append(size_problem)
    if entry.name.endswith(".py"):
        scan.python_files.append(str(path))
    module_name = entry.name.split(".", 1)[0]
    if module_name.isidentifier() and entry.name.endswith((".py", ".so", ".pyd")):
        scan.module_names.add(module_name)


def symlink_problem(path: PurePosixPath, entry: os.DirEntry) -> Problem:
    try:
        target = os.readlink(entry.path)
    except OSError:
        target = "?"
    return Problem(
        "symlink",
        f"'{path}' is a symbolic link to '{target}'; replace it by the file itself, "
        f"because links are not packaged",
        file=str(path),
    )


def check_size(path: PurePosixPath, size: int) -> Problem | None:
    mebibytes = size / 1024**2
    if size > MAX_FILE_BYTES:
        return Problem(
            "file-too-large",
            f"'{path}' is {mebibytes:.0f} MiB, over GitHub's 100 MiB limit; host it elsewhere "
            f"and download it with a pinned URL and a checksum check",
            file=str(path),
        )
    if size > LARGE_FILE_BYTES:
        return Problem(
            "large-file",
            f"'{path}' is {mebibytes:.0f} MiB; host files over 25 MiB elsewhere and download "
            f"them with a pinned URL and a checksum check",
            file=str(path),
        )
    return None

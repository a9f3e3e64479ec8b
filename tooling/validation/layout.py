"""The layout of a submission folder: the `models` package, its modules, the packaging file."""

from __future__ import annotations

import os
from pathlib import Path

from tooling.problems import Problem
from tooling.validation.files import (
    VERSION_CONTROL_DIRECTORIES,
    is_environment,
    is_stray_directory,
)
from tooling.validation.identifiers import MODEL_MODULES

MODELS_PACKAGE = "models"
MODULE_NAMES = tuple(relative.rsplit("/", 1)[-1] for relative in MODEL_MODULES)
PACKAGING_FILES = ("setup.py", "pyproject.toml")
# The depth below the submission folder, and the number of folders, searched for a
# misplaced models package, so that a wrong folder such as a home directory fails fast.
SEARCH_DEPTH = 3
MAX_SEARCHED_FOLDERS = 2_000


def is_submission_layout(folder: Path) -> bool:
    """Tell whether `folder` has a models folder or a packaging file at its top.

    A folder without either is no submission, so its files are not checked one by one."""
    package = folder / MODELS_PACKAGE
    return (package.is_dir() and not package.is_symlink()) or has_packaging_file(folder)


def has_packaging_file(folder: Path) -> bool:
    return any((folder / name).is_file() for name in PACKAGING_FILES)


def check_layout(folder: Path, display: str) -> list[Problem]:
    """Check for models/__init__.py, a model module and a packaging file."""
    if not is_submission_layout(folder):
        return [Problem("missing-models-package", not_a_submission_message(folder, display))]
    problems = check_models_package(folder, display)
    if not has_packaging_file(folder):
        problems.append(
            Problem(
                "missing-model-module",
                "the folder has neither setup.py nor pyproject.toml; add a setup.py that lists "
                "the dependencies in install_requires",
            )
        )
    return problems


def check_models_package(folder: Path, display: str) -> list[Problem]:
    package = folder / MODELS_PACKAGE
    if package.is_dir() and not package.is_symlink():
        if not (package / "__init__.py").is_file():
            return [
                Problem(
                    "missing-models-package",
                    "models/ has no __init__.py, so it is not a package; add an empty "
                    "models/__init__.py",
                    file=MODELS_PACKAGE,
                )
            ]
        if not any((package / name).is_file() for name in MODULE_NAMES):
            return [
                Problem(
                    "missing-model-module",
                    "the models package has neither base_models.py nor brain_models.py; add "
                    "base_models.py for base models or brain_models.py for brain models",
                    file=MODELS_PACKAGE,
                )
            ]
        return []
    return [Problem("missing-models-package", missing_package_message(folder, display))]


def missing_package_message(folder: Path, display: str) -> str:
    target = f"{display.rstrip('/')}/{MODELS_PACKAGE}/"
    if any((folder / name).is_file() for name in MODULE_NAMES):
        return (
            f"{' or '.join(MODULE_NAMES)} is at the top of the folder, not in a models "
            f"package; move it into {target} beside an empty __init__.py, or, if this "
            f"folder is the models package, validate its parent folder"
        )
    nested = find_nested_package(folder)
    if nested is not None:
        return nested_package_message(folder, nested, display)
    return (
        f"the folder has no models package; create {target} with an __init__.py and "
        f"base_models.py or brain_models.py from the template"
    )


def nested_package_message(folder: Path, nested: Path, display: str) -> str:
    where = nested.relative_to(folder).as_posix()
    return (
        f"the models package is at '{where}/', nested too deep; move it to "
        f"{display.rstrip('/')}/{MODELS_PACKAGE}/ and the setup.py or pyproject.toml beside "
        f"it to {display.rstrip('/')}/"
    )


def not_a_submission_message(folder: Path, display: str) -> str:
    lacks = "the folder has neither a models package nor setup.py or pyproject.toml"
    if any((folder / name).is_file() for name in MODULE_NAMES):
        return f"{lacks}; {missing_package_message(folder, display)}"
    nested = find_nested_package(folder)
    if nested is None:
        return (
            f"{lacks}, and no folder within {SEARCH_DEPTH} levels below it holds one; give a "
            f"submission folder, or create one with `python -m tooling new`"
        )
    parent = f"{display.rstrip('/')}/{nested.parent.relative_to(folder).as_posix()}"
    return (
        f"{lacks}; {nested_package_message(folder, nested, display)}, or validate {parent} "
        f"if that folder is the submission"
    )


def find_nested_package(folder: Path) -> Path | None:
    """Return the first `models` package below the top of `folder`, breadth first, looking
    into at most MAX_SEARCHED_FOLDERS folders."""
    level = [folder]
    searched = 0
    for _ in range(SEARCH_DEPTH):
        children = []
        for directory in level:
            if searched >= MAX_SEARCHED_FOLDERS:
                return None
            searched += 1
            children.extend(subfolders(directory))
        for child in children:
            package = child / MODELS_PACKAGE
            if package.is_dir() and any(
                (package / name).is_file() for name in ("__init__.py", *MODULE_NAMES)
            ):
                return package
        level = children
    return None


def subfolders(directory: Path) -> list[Path]:
    """Return the folders in `directory` that may hold a submission's code; none for a
    folder that cannot be read."""
    try:
        with os.scandir(directory) as iterator:
            return sorted(
                Path(entry.path)
                for entry in iterator
                if entry.is_dir(follow_symlinks=False)
                and entry.name not in VERSION_CONTROL_DIRECTORIES
                and not is_stray_directory(entry.name, top_level=False)
                and not entry.name.startswith(".")
                and not is_environment(entry)
            )
    except OSError:
        return []

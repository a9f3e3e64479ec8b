"""Finding the submission folders that a command-line path names."""

from __future__ import annotations

from pathlib import Path

from tooling.errors import FatalError

SUBMISSIONS_FOLDER = "submissions"


def find_submissions(path: str | Path) -> list[Path]:
    """Return the submission folders that `path` names, sorted by name.

    A folder named `submissions` contains one submission per subfolder, and any other
    folder is one submission. The layout decides, not the contents, so that a `models` package
    nested too deep inside a submission is reported rather than taken for a submission.
    """
    folder = Path(path)
    if not folder.exists():
        raise FatalError(
            f"no such folder, {str(path)!r}; give a submission folder "
            f"or the {SUBMISSIONS_FOLDER}/ folder"
        )
    if not folder.is_dir():
        raise FatalError(
            f"not a folder, {str(path)!r}; give a submission folder "
            f"or the {SUBMISSIONS_FOLDER}/ folder"
        )
    if folder.resolve().name != SUBMISSIONS_FOLDER:
        check_not_submission_part(folder)
        return [folder]
    return sorted(
        (
            child
            for child in folder.iterdir()
            if child.is_dir() and not child.is_symlink() and not child.name.startswith(".")
        ),
        key=lambda child: child.name,
    )


def check_not_submission_part(folder: Path) -> None:
    """Reject the repository root and a submission's models package.

    Neither is a submission, and walking the root would read every file of the checkout."""
    if (folder / SUBMISSIONS_FOLDER).is_dir():
        raise FatalError(
            f"{display_path(folder)!r} is the repository root; give {SUBMISSIONS_FOLDER}/ "
            f"or {SUBMISSIONS_FOLDER}/NAME"
        )
    parent = folder.resolve().parent
    if (
        folder.resolve().name == "models"
        and (folder / "__init__.py").is_file()
        and any((parent / name).is_file() for name in ("setup.py", "pyproject.toml"))
    ):
        raise FatalError(
            f"{display_path(folder)!r} is the models package, not a submission; validate its "
            f"parent folder {display_path(parent_of(folder))}"
        )


def parent_of(folder: Path) -> Path:
    """Return the parent of `folder` as the user would write it, also for `.` and `..`."""
    return folder / ".." if folder.name in ("", "..") else folder.parent


def display_path(folder: Path) -> str:
    """Return `folder` as the user wrote it, with `/` separators and no trailing slash."""
    text = folder.as_posix().rstrip("/")
    return text or "."

"""Finding the submission folders that a command-line path names."""

from __future__ import annotations

from pathlib import Path

from tooling.errors import FatalError

SUBMISSIONS_FOLDER = "submissions"


def find_submissions(path: str | Path) -> list[Path]:
    """Return the submission folders that `path` names, sorted by name.

    A folder named `submissions` holds one submission per subfolder; any other folder is
    one submission. The layout decides, not the contents, so that a `models` package
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
            f"not a folder, {str(path)!r}; give the submission's folder, " f"not a file inside it"
        )
    if folder.resolve().name != SUBMISSIONS_FOLDER:
        return [folder]
    return sorted(
        (
            child
            for child in folder.iterdir()
            if child.is_dir() and not child.is_symlink() and not child.name.startswith(".")
        ),
        key=lambda child: child.name,
    )


def display_path(folder: Path) -> str:
    """Return `folder` as the user wrote it, with `/` separators and no trailing slash."""
    text = folder.as_posix().rstrip("/")
    return text or "."

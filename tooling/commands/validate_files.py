"""`validate-files`: validate the submission folders that contain the given files.

The pre-commit hook runs it with the names of the files a commit changes, relative to the
repository's root, so that only the submissions the commit touches are validated. Their
model identifiers are still compared with those of every other submission, which costs
one parse of each other submission's model modules.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterable
from pathlib import Path

from tooling.reports import add_format_option, emit
from tooling.submissions import SUBMISSIONS_FOLDER

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate-files",
        help="validate the submission folders that contain the given files (pre-commit)",
        description=(
            f"Validate each folder {SUBMISSIONS_FOLDER}/NAME that contains one of the given "
            "files, as `validate` does, and compare its model identifiers with those of every "
            f"other folder in {SUBMISSIONS_FOLDER}/; other files are ignored. Paths are "
            "relative to the "
            "current directory, which must be the repository's root (pre-commit runs hooks "
            "there). Exit status: 0 when no errors or no submission is touched, 1 when any "
            "error, 2 for a usage error."
        ),
    )
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help=f"a changed file; those under {SUBMISSIONS_FOLDER}/NAME/ select the folder NAME",
    )
    add_format_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    folders = submission_folders(args.files)
    if not folders:
        logger.debug("none of the %d files is in a submission folder", len(args.files))
        return 0

    from tooling.validation import validate_paths

    # The folders are in submissions/, so validate_paths also compares their identifiers
    # with those of every other submission there.
    report = validate_paths([str(folder) for folder in folders])
    return emit(report, args.format, args.output)


def submission_folders(files: Iterable[str]) -> list[Path]:
    """Return the existing folders `submissions/NAME` that contain `files`, sorted.

    A folder whose files were all deleted no longer exists and is skipped: there is
    nothing left to validate. Files directly in `submissions/` belong to no submission.
    """
    folders = set()
    for name in files:
        parts = Path(name).parts
        if len(parts) < 3 or parts[0] != SUBMISSIONS_FOLDER:
            continue
        folder = Path(parts[0], parts[1])
        if folder.is_dir() and not folder.is_symlink():
            folders.add(folder)
    return sorted(folders)

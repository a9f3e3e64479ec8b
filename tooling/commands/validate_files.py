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
from typing import TYPE_CHECKING

from tooling.problems import Problem
from tooling.reports import Report, add_format_option, emit
from tooling.submissions import SUBMISSIONS_FOLDER, display_path, find_submissions

if TYPE_CHECKING:
    from tooling.validation.identifiers import ModelIdentifier

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

    report = validate_paths([str(folder) for folder in folders])
    check_identifiers_of_others(report, folders)
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


def check_identifiers_of_others(report: Report, folders: list[Path]) -> None:
    """Add `duplicate-identifier` where a touched submission reuses another's identifier.

    `validate_paths` compares only the folders it was given; this compares them with
    every other folder in `submissions/`.
    """
    from tooling.validation.identifiers import identifier_key

    owners = identifiers_elsewhere(folders)
    reports = {submission.submission: submission for submission in report.submissions}
    for folder in folders:
        for item in located_identifiers(folder):
            owner = owners.get(identifier_key(item.identifier))
            if owner is None:
                continue
            other, where = owner
            same = "the identifier" if other == item.identifier else f"'{other}', differing in case"
            reports[display_path(folder)].add(
                Problem(
                    "duplicate-identifier",
                    f"'{item.identifier}' is also {same}, of a model in {where}; choose an "
                    "identifier no other model has, for example with your lab's prefix",
                    file=item.file,
                    line=item.line,
                )
            )


def identifiers_elsewhere(folders: list[Path]) -> dict[str, tuple[str, str]]:
    """Map the case-folded identifiers of the untouched submissions to each identifier as
    written and the folder that lists it."""
    from tooling.validation.identifiers import identifier_key, read_model_identifiers

    touched = {folder.resolve() for folder in folders}
    owners: dict[str, tuple[str, str]] = {}
    for folder in find_submissions(SUBMISSIONS_FOLDER):
        if folder.resolve() in touched:
            continue
        for identifier in read_model_identifiers(folder):
            owners.setdefault(identifier_key(identifier), (identifier, display_path(folder)))
    return owners


def located_identifiers(folder: Path) -> list[ModelIdentifier]:
    """Return the identifiers of one submission with the file and line that list them."""
    from tooling.validation.identifiers import MODEL_MODULES, identifiers_in
    from tooling.validation.sources import SourceFile, parse_source

    found: list[ModelIdentifier] = []
    for relative in MODEL_MODULES:
        if not (folder / relative).is_file():
            continue
        source = parse_source(folder, relative)
        if isinstance(source, SourceFile):
            found += identifiers_in(source) or []
    return found

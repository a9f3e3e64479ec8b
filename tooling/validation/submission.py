"""Validating submission folders: every static check, in one report per folder."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

from tooling.problems import Problem
from tooling.reports import Report, SubmissionReport
from tooling.submissions import SUBMISSIONS_FOLDER, display_path, find_submissions, parent_of
from tooling.validation.effects import check_downloads, check_side_effects
from tooling.validation.files import scan_files
from tooling.validation.identifiers import (
    MODEL_MODULES,
    ModelIdentifier,
    check_identifiers,
    check_model_list,
    identifier_key,
    identifiers_in,
    read_identifiers,
)
from tooling.validation.imports import check_imports
from tooling.validation.layout import check_layout, is_submission_layout
from tooling.validation.paths import check_paths
from tooling.validation.requirements import SETUP_PY, check_requirements, load_requirements
from tooling.validation.sources import SourceFile, parse_source
from tooling.validation.template import check_bibtex, check_functions

logger = logging.getLogger(__name__)


def validate_paths(paths: Sequence[str]) -> Report:
    """Validate every submission that the paths name.

    Identifiers must be unique across all of them, and across the other submissions in
    each `submissions/` folder that contains one of them. Those are read but not validated.
    """
    report = Report("validate")
    identifiers: list[tuple[SubmissionReport, list[ModelIdentifier]]] = []
    seen: dict[Path, Path] = {}
    for path in paths:
        for folder in find_submissions(path):
            if folder.resolve() in seen:
                continue
            seen[folder.resolve()] = folder
            submission, found = inspect_submission(folder, display_path(folder))
            report.submissions.append(submission)
            identifiers.append((submission, found))
    check_unique_identifiers(identifiers, identifiers_of_siblings(seen))
    return report


def identifiers_of_siblings(validated: dict[Path, Path]) -> list[tuple[str, list[ModelIdentifier]]]:
    """Read the identifiers of the submissions beside the validated ones in a `submissions/`
    folder, which the paths did not name, with the folder as the report would name it.

    `validated` maps each validated folder, resolved, to the folder as given. Only the
    model modules are parsed, and a module whose list is not a literal is skipped.
    """
    parents: dict[Path, Path] = {}
    for resolved, folder in validated.items():
        if resolved.parent.name != SUBMISSIONS_FOLDER:
            continue
        # The parent as the user wrote it names the siblings in the report, unless the
        # folder given is a link into the submissions folder.
        written = parent_of(folder)
        parents.setdefault(
            resolved.parent, written if written.resolve() == resolved.parent else resolved.parent
        )
    siblings: list[tuple[str, list[ModelIdentifier]]] = []
    for parent in parents.values():
        for folder in find_submissions(parent):
            if folder.resolve() in validated:
                continue
            found = read_identifiers(folder, partial=True) or []
            if found:
                siblings.append((display_path(folder), found))
    return siblings


def validate_submission(folder: Path, display: str) -> SubmissionReport:
    """Validate one submission folder; `display` is how the report names it."""
    return inspect_submission(folder, display)[0]


def inspect_submission(
    folder: Path, display: str
) -> tuple[SubmissionReport, list[ModelIdentifier]]:
    started = time.perf_counter()
    problems = check_layout(folder, display)
    if not is_submission_layout(folder):
        # Checking each Python file of an arbitrary folder would bury the one real problem.
        return SubmissionReport(display, problems), []
    scan = scan_files(folder)
    problems += scan.problems
    if scan.truncated:
        return SubmissionReport(display, sorted(problems, key=problem_order)), []

    sources: dict[str, SourceFile] = {}
    for relative in scan.python_files:
        parsed = parse_source(folder, relative)
        if isinstance(parsed, Problem):
            problems.append(parsed)
        else:
            sources[relative] = parsed

    requirements = load_requirements(folder, sources.get(SETUP_PY))
    declared, requirement_problems = check_requirements(requirements)
    problems += requirements.problems + requirement_problems
    known = declared if requirements.declared is not None else None
    for relative, source in sources.items():
        if relative != SETUP_PY:
            problems += check_imports(source, scan.module_names, known, requirements)
            problems += check_code(source)

    identifiers: list[ModelIdentifier] = []
    for relative in MODEL_MODULES:
        if relative in sources:
            problems += check_functions(sources[relative])
            problems += check_bibtex(sources[relative])
            problems += check_model_list(sources[relative])
            identifiers += identifiers_in(sources[relative]) or []
    problems += check_identifiers(identifiers)

    report = SubmissionReport(display, sorted(problems, key=problem_order))
    report.models = [{"identifier": item.identifier, "kind": item.kind} for item in identifiers]
    logger.debug("validated %s in %.3f s", display, time.perf_counter() - started)
    return report, identifiers


def check_code(source: SourceFile) -> list[Problem]:
    return check_side_effects(source) + check_downloads(source) + check_paths(source)


def problem_order(problem: Problem) -> tuple[bool, str, int, int]:
    """Order problems of the whole folder first, then by file and line."""
    return (problem.file is not None, problem.file or "", problem.line or 0, problem.column or 0)


def check_unique_identifiers(
    found: list[tuple[SubmissionReport, list[ModelIdentifier]]],
    elsewhere: Sequence[tuple[str, list[ModelIdentifier]]] = (),
) -> None:
    """Report each identifier that another submission also lists, also in another case,
    in each submission of `found` that lists it.

    `elsewhere` contains the identifiers of submissions that are compared but not
    reported, by folder name.
    """
    listings = [(submission.submission, submission, items) for submission, items in found]
    listings += [(folder, None, items) for folder, items in elsewhere]
    places: dict[str, list[tuple[int, ModelIdentifier]]] = {}
    for index, (_, _, items) in enumerate(listings):
        for item in items:
            places.setdefault(identifier_key(item.identifier), []).append((index, item))

    for entries in places.values():
        for index, item in entries:
            submission = listings[index][1]
            others = [(listings[other][0], theirs) for other, theirs in entries if other != index]
            if submission is not None and others:
                submission.add(shared_identifier_problem(item, others))


def shared_identifier_problem(
    item: ModelIdentifier, others: list[tuple[str, ModelIdentifier]]
) -> Problem:
    """Return the problem of `item`, which the folders of `others` also list."""
    folders = ", ".join(sorted({folder for folder, _ in others}))
    spellings = sorted({theirs.identifier for _, theirs in others} - {item.identifier})
    if spellings:
        listed = ", ".join(f"'{spelling}'" for spelling in spellings)
        where = (
            f"differs only in case from {listed} in {folders}, so they collide on "
            f"case-insensitive file systems and in caches"
        )
    else:
        where = f"is also the identifier of a model in {folders}"
    return Problem(
        "duplicate-identifier",
        f"'{item.identifier}' {where}; choose an identifier no other model has, for example "
        f"with your lab's prefix",
        file=item.file,
        line=item.line,
    )

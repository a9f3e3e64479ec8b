"""Validating submission folders: every static check, in one report per folder."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

from tooling.problems import Problem
from tooling.reports import Report, SubmissionReport
from tooling.submissions import display_path, find_submissions
from tooling.validation.effects import check_downloads, check_side_effects
from tooling.validation.files import scan_files
from tooling.validation.identifiers import (
    MODEL_MODULES,
    ModelIdentifier,
    check_identifiers,
    check_model_list,
    identifier_key,
    identifiers_in,
)
from tooling.validation.imports import check_imports
from tooling.validation.layout import check_layout, is_submission_layout
from tooling.validation.paths import check_paths
from tooling.validation.requirements import SETUP_PY, check_requirements, load_requirements
from tooling.validation.sources import SourceFile, parse_source
from tooling.validation.template import check_bibtex, check_functions

logger = logging.getLogger(__name__)


def validate_paths(paths: Sequence[str]) -> Report:
    """Validate every submission that the paths name; identifiers must be unique across all
    of them."""
    report = Report("validate")
    identifiers: list[tuple[SubmissionReport, list[ModelIdentifier]]] = []
    seen: set[Path] = set()
    for path in paths:
        for folder in find_submissions(path):
            if folder.resolve() in seen:
                continue
            seen.add(folder.resolve())
            submission, found = inspect_submission(folder, display_path(folder))
            report.submissions.append(submission)
            identifiers.append((submission, found))
    check_unique_identifiers(identifiers)
    return report


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
) -> None:
    """Report each identifier that more than one submission lists, also in another case, in
    each of them."""
    owners: dict[str, list[tuple[SubmissionReport, ModelIdentifier]]] = {}
    for submission, identifiers in found:
        for item in identifiers:
            owners.setdefault(identifier_key(item.identifier), []).append((submission, item))
    for places in owners.values():
        submissions = {id(submission) for submission, _ in places}
        if len(submissions) < 2:
            continue
        for submission, item in places:
            others = [(other, theirs) for other, theirs in places if other is not submission]
            submission.add(shared_identifier_problem(item, others))


def shared_identifier_problem(
    item: ModelIdentifier, others: list[tuple[SubmissionReport, ModelIdentifier]]
) -> Problem:
    folders = ", ".join(sorted({other.submission for other, _ in others}))
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

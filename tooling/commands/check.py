"""`check`: validate submissions, then mock-score the ones without validation errors."""

from __future__ import annotations

import argparse
from pathlib import Path

from tooling.commands.mock_score import EXIT_STATUS_HELP, add_run_options, score_folders
from tooling.reports import Report, add_format_option, emit


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="validate submissions, then run their models on the mock benchmark",
        description=(
            "Run `validate` on each submission, then `mock-score` on each one that has no "
            "validation errors, and report the problems of both together. This is what "
            "the pull-request check runs. " + EXIT_STATUS_HELP
        ),
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a submission folder, or the submissions/ folder to check each submission in it",
    )
    add_run_options(parser)
    add_format_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tooling.validation import validate_paths

    report = validate_paths(args.paths)
    valid = [submission for submission in report.submissions if submission.ok]
    scored = score_folders(
        [(Path(submission.submission), submission.submission) for submission in valid], args
    )
    for submission, result in zip(valid, scored, strict=True):
        submission.problems.extend(result.problems)
        merge_models(submission.models, result.models)
    return emit(Report("check", report.submissions), args.format, args.output)


def merge_models(listed: list[dict], scored: list[dict]) -> None:
    """Replace validation's entry of each scored model by the mock score's, in place."""
    positions = {entry["identifier"]: index for index, entry in enumerate(listed)}
    for entry in scored:
        index = positions.get(entry["identifier"])
        if index is None:
            listed.append(entry)
        else:
            listed[index] = {**listed[index], **entry}

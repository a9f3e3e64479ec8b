"""`validate`: static checks of submission folders, without running their code."""

from __future__ import annotations

import argparse

from tooling.reports import add_format_option, emit


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check submission folders without running their code",
        description=(
            "Check submission folders without importing or running their code: layout, "
            "syntax, required functions, requirements, model identifiers and files. The "
            "identifiers of a folder in submissions/ are also compared with those of the "
            "other folders there. Exit status: 0 when no errors, 1 when any error, 2 for a "
            "usage error."
        ),
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a submission folder, or the submissions/ folder to check each submission in it",
    )
    add_format_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tooling.validation import validate_paths

    report = validate_paths(args.paths)
    return emit(report, args.format, args.output)

"""The `python -m tooling` command line: one subcommand per module in tooling.commands."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
from collections.abc import Sequence

from tooling import __version__
from tooling.errors import FatalError

# Module names under tooling.commands, in the order `--help` lists them.
COMMANDS = (
    "validate",
    "validate_files",
    "check",
    "mock_score",
    "new",
    "changed",
    "scope",
    "report",
    "package",
    "trigger",
    "score",
    "notify",
)

EXIT_ERROR = 1
EXIT_CRASH = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tooling",
        description=(
            "Check, mock-score, package and send Brain-Score model submissions. "
            "Run a subcommand with --help for its options."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"tooling.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return args.run(args)
    except FatalError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:
        # A bug in the tooling, not in the input: keep the traceback for the report.
        traceback.print_exc()
        return EXIT_CRASH

"""`changed`: the submission folders and other files that a commit range changes."""

from __future__ import annotations

import argparse
import json

from tooling.changes import ChangeSet, find_changes


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "changed",
        help="list the submission folders and other files a commit range changes",
        description=(
            "List the submission folders that the changes from the merge base of BASE and "
            "HEAD to HEAD touch (added, modified, deleted or renamed files), and the "
            "changed files outside submissions/."
        ),
    )
    add_range_options(parser)
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: one folder a line, for people (default); json: a document for scripts",
    )
    parser.set_defaults(run=run)


def add_range_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    default = "" if required else " (default: from the pull_request event payload)"
    parser.add_argument(
        "--base",
        required=required,
        metavar="REF",
        help=f"the branch or commit the changes go into{default}",
    )
    parser.add_argument(
        "--head",
        required=required,
        metavar="REF",
        help=f"the branch or commit with the changes{default}",
    )
    parser.add_argument(
        "--repository",
        default=".",
        metavar="PATH",
        help="the git repository (default: the current folder)",
    )


def run(args: argparse.Namespace) -> int:
    change_set = find_changes(args.repository, args.base, args.head)
    if args.format == "json":
        print(json.dumps(change_set.to_dict(), indent=2))
    else:
        print(render_text(change_set), end="")
    return 0


def printable(path: str) -> str:
    """Return `path` as is, or quoted with escapes when it contains control characters.

    A path is untrusted; a raw newline in it could start a line that GitHub Actions
    reads as a workflow command.
    """
    return path if path.isprintable() else json.dumps(path)


def render_text(change_set: ChangeSet) -> str:
    lines = []
    deleted = set(change_set.deleted_submissions)
    for folder in change_set.submissions:
        lines.append(printable(folder) + (" (deleted)" if folder in deleted else ""))
    lines += [f"outside submissions/: {printable(path)}" for path in change_set.outside]
    if not lines:
        lines.append("no changes")
    return "\n".join(lines) + "\n"

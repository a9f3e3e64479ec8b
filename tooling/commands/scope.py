"""`scope`: the guard that a submission pull request changes one submission folder only."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from tooling.changes import ChangeSet, find_changes
from tooling.commands.changed import add_range_options
from tooling.errors import FatalError
from tooling.github import event_labels, load_event
from tooling.problems import Problem
from tooling.reports import Report, SubmissionReport, add_format_option, emit

logger = logging.getLogger(__name__)

MAINTENANCE_LABEL = "maintenance"
# The SubmissionReport that carries problems with files outside any submission folder;
# its problems' paths are then relative to the repository root.
REPOSITORY_ROOT = "."


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "scope",
        help="fail when a pull request changes more than one submission folder",
        description=(
            "Fail with outside-submission when the pull request changes more than one "
            "submission folder or any file outside submissions/<name>/, unless it has the "
            "maintainers' label. Base, head and labels default to the pull_request event "
            "payload that GITHUB_EVENT_PATH names. Exit status: 0 in scope, 1 out of scope."
        ),
    )
    add_range_options(parser, required=False)
    parser.add_argument(
        "--label",
        action="append",
        dest="labels",
        metavar="NAME",
        help="a label of the pull request; repeat for several (default: from the event)",
    )
    parser.add_argument(
        "--maintenance-label",
        default=MAINTENANCE_LABEL,
        metavar="NAME",
        help=f"the label that lets maintainers change anything (default: {MAINTENANCE_LABEL})",
    )
    parser.add_argument(
        "--list-output",
        metavar="FILE",
        help=(
            "write the touched submission folders that exist at head to FILE, separated by "
            "NUL bytes (for `xargs -0`), when the pull request is in scope"
        ),
    )
    parser.add_argument(
        "--pull-request-output",
        metavar="FILE",
        help=(
            "write the pull request's number and head commit from the event payload to "
            "FILE as JSON, for the report workflow"
        ),
    )
    add_format_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    event = load_event()
    base = args.base or event_sha(event, "base")
    head = args.head or event_sha(event, "head")
    labels = set(args.labels) if args.labels is not None else event_labels(event)

    for path in (args.output, args.list_output, args.pull_request_output):
        if path:
            # The first step of a check job creates the reports folder for all of them.
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    change_set = find_changes(args.repository, base, head)
    maintenance = args.maintenance_label in labels
    report = check_scope(change_set, maintenance)

    if args.pull_request_output:
        write_pull_request(args.pull_request_output, event, change_set.head)
    if report.ok and args.list_output:
        write_list(args.list_output, existing_submissions(change_set))
    return emit(report, args.format, args.output)


def event_sha(event: dict, side: str) -> str:
    sha = ((event.get("pull_request") or {}).get(side) or {}).get("sha")
    if not isinstance(sha, str) or not sha:
        raise FatalError(
            f"no --{side} given and the event payload has no "
            f"pull_request.{side}.sha; pass --{side} REF"
        )
    return sha


def check_scope(change_set: ChangeSet, maintenance: bool) -> Report:
    """Return the validate report of the scope guard: one entry per touched folder."""
    folders = change_set.submissions
    outside = change_set.outside
    submissions = [SubmissionReport(folder) for folder in folders]
    if maintenance:
        if len(folders) > 1 or outside:
            logger.info(
                "maintenance label set: %d submission folders and %d other files "
                "may change together",
                len(folders),
                len(outside),
            )
        return Report("validate", submissions)

    if len(folders) > 1:
        names = ", ".join(repr(folder) for folder in folders)
        for submission in submissions:
            submission.add(
                Problem(
                    "outside-submission",
                    f"this pull request changes {len(folders)} submission folders ({names}); "
                    f"a pull request may change only one, so open one pull request per "
                    f"submission",
                )
            )
    if outside:
        root = SubmissionReport(REPOSITORY_ROOT)
        for path in outside:
            root.add(
                Problem(
                    "outside-submission",
                    f"{path!r} is outside submissions/<name>/; a submission pull request may "
                    f"change only its own folder, so move this change to a separate pull request",
                    file=path,
                )
            )
        submissions.append(root)
    return Report("validate", submissions)


def existing_submissions(change_set: ChangeSet) -> list[str]:
    deleted = set(change_set.deleted_submissions)
    return [folder for folder in change_set.submissions if folder not in deleted]


def write_list(path: str, folders: list[str]) -> None:
    with open(path, "wb") as file:
        file.write(
            b"".join(folder.encode("utf-8", "surrogateescape") + b"\0" for folder in folders)
        )
    logger.debug("wrote %d submission folders to %s", len(folders), path)


def write_pull_request(path: str, event: dict, head: str) -> None:
    number = (event.get("pull_request") or {}).get("number")
    with open(path, "w", encoding="utf-8") as file:
        json.dump({"number": number, "head_sha": head}, file)
        file.write("\n")

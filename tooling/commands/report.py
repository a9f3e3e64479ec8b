"""`report`: post the reports of a pull request's check run as one edited PR comment.

It runs in the privileged `workflow_run` workflow. It reads the artifacts of the check
run as data, never runs anything from them, and checks every report against the report
schema before rendering it. The pull request number is taken from the event, or from the
artifacts, and in both cases must name a pull request whose head is the run's commit.

A validate run comes from a `pull_request` event, so its workflow file is the pull
request's own and its verdict can be forged. The positive labels are therefore set only
when GitHub lists no changed file outside one `submissions/<name>/` folder, or when a
maintainer has set the `maintenance` label.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
from pathlib import Path
from typing import Any

from tooling import comment
from tooling.changes import submission_of
from tooling.commands.scope import MAINTENANCE_LABEL
from tooling.errors import FatalError
from tooling.github import GitHub, PullRequestInfo, load_event
from tooling.reports import Report

logger = logging.getLogger(__name__)

# The file, among the artifacts, that names the pull request and its head commit.
PULL_REQUEST_FILE = "pull-request.json"
MAX_ARTIFACT_BYTES = 5 * 2**20
# The report commands that each section accepts.
SECTION_COMMANDS = {"validate": ("validate",), "mock-score": ("mock-score", "check")}
WORKFLOW_SECTIONS = {"validate.yml": "validate", "mock-score.yml": "mock-score"}
LABEL_VALIDATED = "validated"
LABEL_MOCK_SCORED = "mock-scored"
LABEL_NEEDS_CHANGES = "needs-changes"
POSITIVE_LABELS = (LABEL_VALIDATED, LABEL_MOCK_SCORED)
# The event that starts each check's workflow. A mock-score run from any other event ran
# a pull request's own copy of mock-score.yml, not the default branch's.
SECTION_EVENTS = {"validate": "pull_request", "mock-score": "workflow_run"}
# mock-score.yml's run-name. A workflow_run-triggered run's own head_sha is the default
# branch's commit, so the pull request's head commit comes from the title.
MOCK_SCORE_TITLE = re.compile(r"mock score of (?P<sha>[0-9a-f]{40})")
# GitHub lists at most this many files of a pull request; a longer list may be cut.
MAX_LISTED_FILES = 3000
MAX_FILES_NAMED = 5


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="post a check run's reports as the pull request's comment and set its labels",
        description=(
            "Read the JSON reports a pull-request check wrote (files, or folders searched "
            "for *.json), and create or edit the one comment on the pull request that "
            "shows them; set the labels validated, mock-scored and needs-changes. The run "
            "is described by the workflow_run event payload that GITHUB_EVENT_PATH names; "
            "the token comes from GITHUB_TOKEN."
        ),
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="a report file or a folder of downloaded artifacts"
    )
    parser.add_argument(
        "--pull-request",
        type=int,
        metavar="NUMBER",
        help="the pull request (default: from the event or the artifacts)",
    )
    parser.add_argument(
        "--section",
        choices=comment.SECTIONS,
        help="which check the reports come from (default: from the event)",
    )
    parser.add_argument(
        "--head-sha", metavar="SHA", help="the commit the run checked (default: from the event)"
    )
    parser.add_argument(
        "--repository", metavar="OWNER/NAME", help="the repository (default: GITHUB_REPOSITORY)"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the comment instead of posting it; needs no token",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    event = load_event().get("workflow_run") or {}
    section = args.section or section_of(event)
    if not from_expected_event(event, section):
        return 0
    head_sha = args.head_sha or run_head_sha(event)
    conclusion = str(event.get("conclusion") or "success")
    if conclusion in ("cancelled", "skipped", "stale"):
        logger.info("the %s run was %s; nothing to report", section, conclusion)
        return 0

    reports, context = read_artifacts(args.paths, section)
    run_info = comment.Run(section, head_sha, conclusion, safe_url(event.get("html_url")))
    if args.dry_run:
        section_text = comment.render_section(run_info, reports)
        print(comment.merge_comment(None, run_info, section_text), end="")
        return 0

    github = GitHub.from_environment(args.repository)
    pull = find_pull_request(github, args.pull_request, event, context, head_sha)
    if pull is None:
        return 0
    number = pull.number
    existing = github.find_comment(number, comment.MARKER)
    earlier = comment.parse_sections(existing.body if existing else "")
    mock_score_current = earlier.get("mock-score", ("", ""))[0] == head_sha
    add, remove = choose_labels(section, reports, conclusion, mock_score_current)
    withheld = [label for label in add if label in POSITIVE_LABELS]
    note = scope_note(github, pull, withheld) if withheld else None
    if note:
        add = [label for label in add if label not in withheld]
        remove += withheld

    section_text = comment.render_section(run_info, reports, note)
    body = comment.merge_comment(existing.body if existing else None, run_info, section_text)
    result = github.upsert_comment(number, comment.MARKER, body)
    print(f"{'created' if result.created else 'edited'} the comment on #{number}: {result.url}")
    github.update_labels(number, add=add, remove=remove)
    return 0


def from_expected_event(event: dict[str, Any], section: str) -> bool:
    """Return whether the run came from the event that starts `section`'s workflow.

    Without an event (a report posted by hand) there is nothing to check.
    """
    started_by = event.get("event")
    if not event or started_by == SECTION_EVENTS[section]:
        return True
    logger.warning(
        "the %s run came from a %r event, not %r; a pull request's own copy of the "
        "workflow ran, so its reports are not posted",
        section,
        started_by,
        SECTION_EVENTS[section],
    )
    return False


def run_head_sha(event: dict[str, Any]) -> str:
    """Return the pull request's head commit that the run checked, or "" when unknown."""
    if event.get("event") == "workflow_run":
        match = MOCK_SCORE_TITLE.fullmatch(str(event.get("display_title") or ""))
        return match["sha"] if match else ""
    return str(event.get("head_sha") or "")


def scope_note(github: GitHub, pull: PullRequestInfo, labels: list[str]) -> str | None:
    """Return why `labels` are withheld from the pull request, or None to set them.

    A pull request that changes files outside one submission folder may have changed the
    check itself, so its passing verdict is not trusted without the maintenance label.
    """
    if MAINTENANCE_LABEL in pull.labels:
        return None
    files = github.pull_request_files(pull.number)
    paths = [file.filename for file in files]
    paths += [file.previous_filename for file in files if file.previous_filename]
    folders = {submission_of(path) for path in paths}
    outside = sorted(path for path in paths if submission_of(path) is None)
    names = ", ".join(f"`{label}`" for label in labels)
    if len(files) >= MAX_LISTED_FILES:
        reason = f"GitHub lists only the first {MAX_LISTED_FILES} changed files"
    elif outside:
        shown = ", ".join(comment.cell(path) for path in outside[:MAX_FILES_NAMED])
        hidden = len(outside) - MAX_FILES_NAMED
        more = f" and {hidden} more" if hidden > 0 else ""
        reason = f"it changes files outside its submission folder: {shown}{more}"
    elif len(folders) > 1:
        reason = f"it changes {len(folders)} submission folders"
    else:
        return None
    logger.warning("labels %s withheld from #%d: %s", labels, pull.number, reason)
    return (
        f"No {names} label: {reason}. Such a pull request can change the checks themselves, "
        f"so their verdict is not trusted; a maintainer reviews it and may add the "
        f"`{MAINTENANCE_LABEL}` label."
    )


def section_of(event: dict[str, Any]) -> str:
    path = str(event.get("path") or "")
    section = WORKFLOW_SECTIONS.get(path.rsplit("/", 1)[-1].split("@")[0])
    if section is None:
        raise FatalError(
            f"unknown check workflow, {path!r}; pass --section " f"{' or '.join(comment.SECTIONS)}"
        )
    return section


def safe_url(value: Any) -> str | None:
    return value if isinstance(value, str) and value.startswith("https://") else None


def find_files(paths: list[str]) -> list[Path]:
    files = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files += sorted(
                child
                for child in path.rglob("*.json")
                if child.is_file() and not child.is_symlink()
            )
        elif path.is_file():
            files.append(path)
        else:
            logger.warning("no artifact at %s; the run may have ended before writing it", path)
    return files


def load_json(path: Path) -> Any:
    if path.stat().st_size > MAX_ARTIFACT_BYTES:
        raise FatalError(
            f"artifact too large, {path}: over {MAX_ARTIFACT_BYTES} bytes; "
            f"a report is far smaller, so the run's output is not trusted"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise FatalError(
            f"invalid JSON in artifact, {path}: nested too deeply to read; re-run the check"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise FatalError(f"invalid JSON in artifact, {path}: {error}; re-run the check") from None


def read_artifacts(paths: list[str], section: str) -> tuple[list[Report], dict[str, Any]]:
    """Return the schema-checked reports for `section` and the pull-request context."""
    import jsonschema

    reports, context = [], {}
    for path in find_files(paths):
        data = load_json(path)
        if path.name == PULL_REQUEST_FILE:
            context = data if isinstance(data, dict) else {}
            continue
        try:
            report = Report.from_dict(data)
        except jsonschema.ValidationError as error:
            raise FatalError(
                f"invalid report, {path}: {error.message}; the report does "
                f"not match report.schema.json"
            ) from None
        except RecursionError:
            raise FatalError(
                f"invalid report, {path}: nested too deeply to check; re-run the check"
            ) from None
        if report.command not in SECTION_COMMANDS[section]:
            # mock-score.yml runs validate.yml too, so its artifacts hold both reports.
            logger.info(
                "skipped %s: a %s report, not part of the %s check", path, report.command, section
            )
            continue
        reports.append(report)
    return reports, context


def find_pull_request(
    github: GitHub,
    option: int | None,
    event: dict[str, Any],
    context: dict[str, Any],
    head_sha: str,
) -> PullRequestInfo | None:
    """Return the pull request to comment on, or None when the run is outdated.

    A number from the artifacts is untrusted. The pull request must have the run's commit
    as its head, so a run can only comment on the pull request it checked.
    """
    number = option or number_from_event(event, head_sha) or context.get("number")
    if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
        raise FatalError(
            "no pull request number, in the event or the artifacts; " "pass --pull-request NUMBER"
        )
    if not head_sha and not option:
        raise FatalError(
            "no head commit, in the event or --head-sha; the pull request "
            "named by the artifacts cannot be checked without it"
        )
    pull = github.pull_request(number)
    if head_sha and pull.head_sha != head_sha:
        logger.warning(
            "pull request #%d is now at %s, not %s; the run is outdated, so its "
            "report is not posted",
            number,
            pull.head_sha[:7],
            head_sha[:7],
        )
        return None
    return pull


def number_from_event(event: dict[str, Any], head_sha: str) -> int | None:
    # GitHub leaves pull_requests empty for pull requests from forks.
    for pull in event.get("pull_requests") or []:
        if isinstance(pull, dict) and (pull.get("head") or {}).get("sha") == head_sha:
            return pull.get("number")
    return None


def choose_labels(
    section: str, reports: list[Report], conclusion: str, mock_score_current: bool = False
) -> tuple[list[str], list[str]]:
    """Return the labels to add and to remove after a run of `section`.

    `mock_score_current` is whether the comment already shows a mock score of this head
    commit, whose `mock-scored` label a validate run then keeps.
    """
    passed = bool(reports) and all(report.ok for report in reports) and conclusion == "success"
    failed = bool(reports) and not all(report.ok for report in reports)
    label = LABEL_VALIDATED if section == "validate" else LABEL_MOCK_SCORED
    add, remove = [], []
    if passed:
        add.append(label)
        remove.append(LABEL_NEEDS_CHANGES)
    else:
        remove.append(label)
    if failed:
        add.append(LABEL_NEEDS_CHANGES)
    if section == "validate" and not mock_score_current:
        # A new commit needs a new mock score.
        remove.append(LABEL_MOCK_SCORED)
    return add, remove

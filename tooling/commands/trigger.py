"""`trigger`: hand packages to the private scoring engine."""

from __future__ import annotations

import argparse
import json
import logging
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from tooling.commands.options import positive_float
from tooling.errors import FatalError

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    from tooling.triggers import BACKENDS, DEFAULT_BACKEND, RetryPolicy

    parser = subparsers.add_parser(
        "trigger",
        help="send packages to the scoring engine (local spool, Jenkins or GitHub)",
        description=(
            "Send one package (ZIP with --pr, --commit and --author), or every package that "
            "`package --format json` listed (--index, after a merge), to the scoring engine. "
            "With --index, the merged pull request and its author are looked up on GitHub "
            "(GITHUB_TOKEN, GITHUB_REPOSITORY) and the pull request gets a comment with each "
            "package's sha256. Credentials come from the environment: JENKINS_URL, "
            "JENKINS_JOB, JENKINS_USER, JENKINS_API_TOKEN for jenkins; SCORING_REPOSITORY, "
            "SCORING_TOKEN, SCORING_WORKFLOW, SCORING_REF for github."
        ),
    )
    parser.add_argument("zip", nargs="?", type=Path, metavar="ZIP", help="the package to send")
    parser.add_argument(
        "--index",
        type=Path,
        metavar="FILE",
        help="send every package in this JSON list written by `package --format json`",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=DEFAULT_BACKEND,
        help=f"where to send it (default: {DEFAULT_BACKEND})",
    )
    parser.add_argument("--pr", type=int, metavar="N", help="the merged pull request's number")
    parser.add_argument("--commit", metavar="SHA", help="the merge commit on main")
    parser.add_argument(
        "--author",
        type=github_login,
        metavar="LOGIN",
        help="the pull request author's GitHub login, used to find the email address",
    )
    parser.add_argument(
        "--repository",
        metavar="OWNER/NAME",
        help="the public repository (default: $GITHUB_REPOSITORY)",
    )
    parser.add_argument(
        "--package-url",
        metavar="URL",
        help="where the scoring side downloads the package from (required for github)",
    )
    parser.add_argument(
        "--spool",
        type=Path,
        metavar="DIR",
        help="the local worker's spool folder (default: under " "$BRAINSCORE_SCORING_HOME)",
    )
    parser.add_argument(
        "--no-comment", action="store_true", help="with --index, do not comment on the pull request"
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=RetryPolicy.attempts - 1,
        metavar="N",
        help="retries after a connection error or a 5xx answer (default: " "%(default)s)",
    )
    parser.add_argument(
        "--retry-delay",
        type=positive_float,
        default=RetryPolicy.delay,
        metavar="SECONDS",
        help="seconds to wait before the first retry; each later wait doubles "
        "(default: %(default)s)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tooling.triggers import RetryPolicy

    if (args.zip is None) == (args.index is None):
        raise FatalError("give either one ZIP or --index FILE; see trigger --help")
    if args.retries < 0:
        raise FatalError(f"invalid --retries, {args.retries}; give 0 or more")
    policy = RetryPolicy(attempts=args.retries + 1, delay=args.retry_delay)
    if args.zip is not None:
        return send_one(args, policy)
    return send_index(args, policy)


GITHUB_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?")


def github_login(text: str) -> str:
    """Accept a GitHub login: letters, digits and inner hyphens, at most 39 characters."""
    if not GITHUB_LOGIN.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"invalid GitHub login {text!r}; give the pull request author's login, "
            f"for example 'octocat'"
        )
    return text


def send_one(args: argparse.Namespace, policy: Any) -> int:
    import os

    from tooling.scoring.unpack import check_package
    from tooling.triggers import Trigger, send

    package = check_package(args.zip)
    trigger = Trigger(
        package=args.zip,
        sha256=package.key,
        submission=package.root,
        pull_request=args.pr,
        commit=args.commit,
        author=args.author,
        repository=args.repository or os.environ.get("GITHUB_REPOSITORY"),
        package_url=args.package_url,
    )
    where = send(trigger, args.backend, policy=policy, spool=args.spool)
    print(f"{trigger.sha256}  {trigger.submission}  {where}")
    return 0


def read_index(path: Path) -> list[dict[str, Any]]:
    """Read the list that `package --format json` writes: objects with `path` and `sha256`."""
    try:
        listing = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise FatalError(
            f"unreadable package list, {path}: {error}; write it with `package --format json`"
        ) from None
    if not isinstance(listing, list):
        raise FatalError(
            f"invalid package list, {path}; expected a JSON list, as "
            f"`package --format json` writes it"
        )
    for number, item in enumerate(listing, start=1):
        if not (
            isinstance(item, dict)
            and isinstance(item.get("path"), str)
            and isinstance(item.get("sha256"), str)
        ):
            raise FatalError(
                f"invalid package list, {path}: entry {number} is not an object with "
                f"'path' and 'sha256' strings; write the list with `package --format json`"
            )
    return listing


def send_index(args: argparse.Namespace, policy: Any) -> int:
    from tooling.github import GitHub
    from tooling.scoring.unpack import check_package
    from tooling.triggers import Trigger, announcement, last_merge_commit, send

    listing = read_index(args.index)
    if not listing:
        logger.info("no packages to send")
        return 0
    github = GitHub.from_environment(args.repository)
    by_pull_request: dict[int, list[Trigger]] = defaultdict(list)
    for item in listing:
        path = Path(item["path"])
        package = check_package(path, item["sha256"])
        commit = args.commit or last_merge_commit(Path.cwd(), package.root)
        pull = github.merged_pull_request(commit) if commit else None
        if pull is None:
            logger.warning(
                "no merged pull request found for %s at %s; the maintainers get " "the email",
                package.root,
                commit,
            )
        trigger = Trigger(
            package=path,
            sha256=package.key,
            submission=package.root,
            pull_request=pull.number if pull else None,
            commit=commit,
            author=pull.author if pull else None,
            repository=github.repository_name,
            package_url=args.package_url,
        )
        where = send(trigger, args.backend, policy=policy, spool=args.spool)
        print(f"{trigger.sha256}  {trigger.submission}  {where}")
        if pull is not None:
            by_pull_request[pull.number].append(trigger)

    if not args.no_comment:
        for number, triggers in sorted(by_pull_request.items()):
            from tooling.triggers import COMMENT_MARKER

            github.upsert_comment(number, COMMENT_MARKER, announcement(triggers))
    return 0

"""`score`: the private scoring worker, for one package or the local spool folder."""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path
from typing import Any

from tooling.commands.options import positive_float
from tooling.errors import FatalError

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    from tooling.scoring import DEFAULT_TIMEOUT

    parser = subparsers.add_parser(
        "score",
        help="score a package on the private side: unpack, run, store, email",
        description=(
            "Check a package's sha256 and manifest, unpack it into a sandbox, run each "
            "model on each benchmark in its own subprocess and store every result at once. "
            "A package already scored is not scored again; an interrupted one resumes. "
            "Then the author is emailed (see `notify`). With --spool, process every package "
            "the local trigger queued. State lives in $BRAINSCORE_SCORING_HOME (default "
            "~/.local/state/brainscore-scoring)."
        ),
    )
    parser.add_argument("zip", nargs="?", type=Path, metavar="ZIP", help="the package to score")
    parser.add_argument(
        "--spool", action="store_true", help="score every package waiting in the local spool folder"
    )
    parser.add_argument(
        "--watch",
        type=positive_float,
        metavar="SECONDS",
        help="with --spool, keep polling the spool every SECONDS seconds",
    )
    add_state_options(parser)
    parser.add_argument(
        "--benchmark",
        action="append",
        metavar="ID",
        dest="benchmarks",
        help="'mock' or a brainscore-vision benchmark identifier; repeat for several "
        "(default: mock)",
    )
    parser.add_argument("--sha256", metavar="HEX", help="the sha256 the trigger sent")
    parser.add_argument(
        "--pr",
        type=optional_number,
        metavar="N",
        help="the merged pull request's number (an empty value means none)",
    )
    parser.add_argument("--commit", metavar="SHA", help="the merge commit")
    parser.add_argument("--author", metavar="LOGIN", help="the pull request author's login")
    parser.add_argument("--repository", metavar="OWNER/NAME", help="the public repository")
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"wall-clock limit in seconds for each model and benchmark "
        f"(default: {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where models run (default: auto)",
    )
    parser.add_argument(
        "--no-notify",
        action="store_true",
        help="store the results but send no email (send later with `notify`)",
    )
    parser.set_defaults(run=run)


def add_state_options(parser: argparse.ArgumentParser) -> None:
    """Add --home and --database, where the worker keeps its state and the scores."""
    parser.add_argument(
        "--home",
        type=Path,
        metavar="DIR",
        help="the worker's state folder (default: $BRAINSCORE_SCORING_HOME)",
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        help="SQLAlchemy database URL (default: $BRAINSCORE_DATABASE_URL, else "
        "sqlite:///HOME/scores.sqlite)",
    )


def optional_number(text: str) -> int | None:
    """Parse a pull request number; engines pass an empty parameter when there is none."""
    if not text.strip():
        return None
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"invalid pull request number {text!r}")
    return int(text)


def build_settings(args: argparse.Namespace) -> Any:
    from tooling.scoring.spool import scoring_home
    from tooling.scoring.store import Store, default_database_url
    from tooling.scoring.worker import MOCK_BENCHMARK, WorkerSettings

    home = args.home or scoring_home()
    home.mkdir(parents=True, exist_ok=True)
    url = args.database or os.environ.get("BRAINSCORE_DATABASE_URL") or default_database_url(home)
    store = Store(url)
    benchmarks = tuple(dict.fromkeys(args.benchmarks or [MOCK_BENCHMARK]))
    return WorkerSettings(
        home=home, store=store, benchmarks=benchmarks, timeout=args.timeout, device=args.device
    )


def run(args: argparse.Namespace) -> int:
    if (args.zip is None) == (not args.spool):
        raise FatalError("give either one ZIP or --spool; see score --help")
    if args.watch is not None and not args.spool:
        raise FatalError("--watch works only with --spool; add --spool or leave out --watch")
    settings = build_settings(args)
    if args.zip is not None:
        origin = {
            "pull_request": args.pr,
            "commit": args.commit,
            "author": args.author,
            "repository": args.repository,
        }
        return score_one(args.zip, settings, origin, args.sha256, notify=not args.no_notify)
    return score_spool(settings, args.watch, notify=not args.no_notify)


def score_one(
    path: Path, settings: Any, origin: dict[str, Any], sha256: str | None, notify: bool
) -> int:
    from tooling.scoring.store import SCORED
    from tooling.scoring.worker import PackageRejected, score_package

    try:
        outcome = score_package(path, settings, origin, sha256)
    except PackageRejected as error:
        # Only a rejection stored just now owes its author an email; PackageBusy and
        # other errors leave the stored state as it was.
        if notify and error.key is not None:
            send_email(settings, error.key)
        raise
    print_scores(settings, outcome.key)
    if notify and outcome.scored_now:
        send_email(settings, outcome.key)
    return 0 if outcome.status == SCORED else 1


def score_spool(settings: Any, watch: float | None, notify: bool) -> int:
    from tooling.scoring.spool import (
        DONE,
        FAILED,
        finish_record,
        pending_records,
        read_record,
        record_package,
        spool_folder,
    )
    from tooling.scoring.worker import PackageBusy, PackageRejected, score_package

    spool = spool_folder(settings.home)
    while True:
        for record_path in pending_records(spool):
            try:
                record = read_record(record_path)
            except FatalError as error:
                # One broken record must not stop the worker, so it is set aside.
                target = finish_record(record_path, FAILED)
                logger.error("spool record moved to %s: %s", target, error)
                continue
            package = record_package(spool, record)
            logger.info("scoring spooled package %s from %s", record["sha256"], record_path.name)
            try:
                outcome = score_package(package, settings, record, record["sha256"])
            except PackageBusy as error:
                logger.info("skipping %s for now: %s", record_path.name, error)
                continue
            except FatalError as error:
                logger.error("package %s rejected: %s", record["sha256"], error)
                finish_record(record_path, FAILED)
                if notify and isinstance(error, PackageRejected) and error.key is not None:
                    send_email(settings, error.key)
                continue
            print_scores(settings, outcome.key)
            if notify and outcome.scored_now:
                send_email(settings, outcome.key)
            finish_record(record_path, DONE)
        if watch is None:
            return 0
        time.sleep(watch)


def send_email(settings: Any, key: str) -> None:
    """Email the author; a failure stays pending in the database for `notify`."""
    from tooling.notify import MailSettings, notify

    if settings.store.get_submission(key) is None:
        return
    try:
        notify(key, settings.store, MailSettings.from_environment(settings.home), settings.home)
    except FatalError as error:
        settings.store.record_delivery(key, sent=False, address_source=None, error=str(error))
        logger.error("email for %s not sent, it stays pending: %s", key, error)


def print_scores(settings: Any, key: str) -> None:
    submission = settings.store.get_submission(key)
    print(f"{key}  {submission.submission}  {submission.status}")
    for row in settings.store.scores(key):
        result = (
            row.error
            if row.error
            else f"ceiled {row.ceiled:.4f}"
            if row.ceiled is not None
            else "no score"
        )
        print(f"  {row.model}  {row.benchmark}  {result}")

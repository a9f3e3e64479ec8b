"""`notify`: email a scored submission's results to its author, again or for the first time."""

from __future__ import annotations

import argparse
import os

from tooling.commands.score import add_state_options
from tooling.errors import FatalError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "notify",
        help="email a submission's scores to its author (resend, or send pending emails)",
        description=(
            "Email the stored results of the package with sha256 KEY to its author, or "
            "with --pending every email that could not be sent before. The address comes "
            "from the address book (BRAINSCORE_ADDRESS_BOOK), the author's public GitHub "
            "email, or the pull request's commit emails, else the maintainers "
            "(BRAINSCORE_MAINTAINERS_EMAIL). Mail goes over SMTP when BRAINSCORE_SMTP_HOST "
            "is set, else to .eml files in the outbox folder. Exit status 1 when an email "
            "could not be sent; it stays pending."
        ),
    )
    parser.add_argument("keys", nargs="*", metavar="KEY", help="a package's sha256")
    parser.add_argument("--pending", action="store_true", help="send every email still pending")
    add_state_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tooling.notify import MailSettings, notify
    from tooling.scoring.spool import scoring_home
    from tooling.scoring.store import Store, default_database_url

    if not args.keys and not args.pending:
        raise FatalError("give a KEY or --pending; see notify --help")
    home = args.home or scoring_home()
    url = args.database or os.environ.get("BRAINSCORE_DATABASE_URL") or default_database_url(home)
    store = Store(url)
    settings = MailSettings.from_environment(home)
    keys = list(dict.fromkeys([*args.keys, *(store.pending_deliveries() if args.pending else [])]))

    failures = 0
    for key in keys:
        if notify(key, store, settings, home):
            print(f"{key}  sent")
        else:
            print(f"{key}  pending")
            failures += 1
    return 1 if failures else 0

"""Emailing a submission's scores, or the reason it failed, to its author.

The address comes from, in order: the operator's address book (a JSON file mapping GitHub
logins to addresses), the author's public GitHub email, and the author emails of the pull
request's commits that are not noreply addresses. When none is found the maintainers'
address gets the email and the pull request gets a comment asking the author for one.
Addresses are never logged and never written into a comment: logs name only the source.

Mail goes over SMTP when BRAINSCORE_SMTP_HOST is set, else into an outbox folder as `.eml`
files. Every attempt is stored, so an SMTP server that is down leaves the delivery
pending and `notify` sends it later. The scores stay stored either way.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import json
import logging
import os
import re
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from tooling.errors import FatalError
from tooling.scoring.store import FAILED, Score, Store, Submission

logger = logging.getLogger(__name__)

ADDRESS_BOOK = "address-book"
GITHUB_PROFILE = "github-profile"
COMMIT_EMAIL = "commit-email"
MAINTAINERS = "maintainers"

COMMENT_MARKER = "<!-- brainscore-scoring: email address -->"
LOG_TAIL_LINES = 40
SMTP_TIMEOUT_SECONDS = 30
ADDRESS_PATTERN = re.compile(r"[^\s<>()\[\]'\"]+@[^\s<>()\[\]'\"]+")
CSV_FIELDS = (
    "submission",
    "key",
    "model",
    "benchmark",
    "raw",
    "ceiling",
    "ceiled",
    "error",
    "started_at",
    "finished_at",
)


@dataclasses.dataclass(frozen=True)
class MailSettings:
    """Mail transport and sender settings, read from BRAINSCORE_* environment variables."""

    sender: str
    outbox: Path
    maintainers: str | None = None
    address_book: Path | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = dataclasses.field(default=None, repr=False)
    smtp_starttls: bool = False
    smtp_ssl: bool = False

    @classmethod
    def from_environment(cls, home: Path, environ: Mapping[str, str] | None = None) -> MailSettings:
        environ = os.environ if environ is None else environ
        book = environ.get("BRAINSCORE_ADDRESS_BOOK")
        port = environ.get("BRAINSCORE_SMTP_PORT", "25")
        if not port.isdigit():
            raise FatalError(f"invalid BRAINSCORE_SMTP_PORT, {port!r}; set a port number")
        return cls(
            sender=environ.get("BRAINSCORE_MAIL_FROM", "Brain-Score <brainscore@localhost>"),
            outbox=Path(environ.get("BRAINSCORE_OUTBOX") or home / "outbox"),
            maintainers=environ.get("BRAINSCORE_MAINTAINERS_EMAIL") or None,
            address_book=Path(book) if book else None,
            smtp_host=environ.get("BRAINSCORE_SMTP_HOST") or None,
            smtp_port=int(port),
            smtp_user=environ.get("BRAINSCORE_SMTP_USER") or None,
            smtp_password=environ.get("BRAINSCORE_SMTP_PASSWORD") or None,
            smtp_starttls=environ.get("BRAINSCORE_SMTP_STARTTLS", "") in ("1", "true", "yes"),
            smtp_ssl=environ.get("BRAINSCORE_SMTP_SSL", "") in ("1", "true", "yes"),
        )


@dataclasses.dataclass(frozen=True)
class Recipient:
    """An address and where it came from; only `source` may appear in logs."""

    address: str | None
    source: str
    ask_author: bool = False


def is_noreply(address: str) -> bool:
    """Return True for addresses that do not reach a person, such as GitHub's noreply."""
    local, _, domain = address.lower().rpartition("@")
    return not local or "noreply" in domain or local in ("noreply", "no-reply")


def read_address_book(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise FatalError(
            f"unreadable address book, {path}: {error}; it must be a JSON "
            f"object mapping GitHub logins to email addresses"
        ) from None
    if not isinstance(data, dict):
        raise FatalError(
            f"invalid address book, {path}; it must be a JSON object mapping "
            f"GitHub logins to email addresses"
        )
    return {str(login).lower(): str(address) for login, address in data.items()}


def find_recipient(
    submission: Submission, settings: MailSettings, github: Any | None, book: Mapping[str, str]
) -> Recipient:
    """Find the author's address in the order the module docstring gives.

    `book` is the address book as `read_address_book` returns it: lowercase logins.
    """
    login = submission.author
    if login:
        address = book.get(login.lower())
        if address:
            return Recipient(address, ADDRESS_BOOK)
    if login and github is not None:
        address = github.user_public_email(login)
        if address and not is_noreply(address):
            return Recipient(address, GITHUB_PROFILE)
    if submission.pull_request is not None and github is not None:
        for address in github.commit_author_emails(submission.pull_request):
            if not is_noreply(address):
                return Recipient(address, COMMIT_EMAIL)
    return Recipient(settings.maintainers, MAINTAINERS, ask_author=True)


def connect_github(submission: Submission) -> Any | None:
    """Return a GitHub client for the submission's repository, or None without a token."""
    from tooling.github import TOKEN_VARIABLE, GitHub

    if not os.environ.get(TOKEN_VARIABLE) or not submission.repository:
        logger.info(
            "no GitHub token or repository for %s; using the address book only", submission.key
        )
        return None
    return GitHub.from_environment(submission.repository)


def ask_author_for_address(github: Any, submission: Submission) -> None:
    body = (
        f"{COMMENT_MARKER}\n"
        f"@{submission.author}, the scoring of `{submission.submission}` has finished, but "
        f"we found no email address to send the results to: your GitHub profile shows "
        f"none and the commits use noreply addresses. Please make an email address public "
        f"on your GitHub profile, or reply here so that a maintainer can add you to the "
        f"address book, and we will send the results. Scores are never posted publicly."
    )
    github.upsert_comment(submission.pull_request, COMMENT_MARKER, body)
    logger.info("asked the author of #%d for an email address", submission.pull_request)


def format_number(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def score_table_text(scores: list[Score]) -> str:
    header = ("model", "benchmark", "raw", "ceiling", "ceiled", "error")
    rows = [header] + [
        (
            row.model,
            row.benchmark,
            format_number(row.raw),
            format_number(row.ceiling),
            format_number(row.ceiled),
            row.error or "",
        )
        for row in scores
    ]
    widths = [max(len(row[index]) for row in rows[:]) for index in range(len(header) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def score_table_html(scores: list[Score]) -> str:
    header = "".join(
        f"<th>{name}</th>" for name in ("model", "benchmark", "raw", "ceiling", "ceiled", "error")
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(cell)}</td>"
            for cell in (
                row.model,
                row.benchmark,
                format_number(row.raw),
                format_number(row.ceiling),
                format_number(row.ceiled),
                row.error or "",
            )
        )
        + "</tr>"
        for row in scores
    )
    return f'<table border="1" cellpadding="4"><tr>{header}</tr>{body}</table>'


def scores_csv(submission: Submission, scores: list[Score]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for row in scores:
        writer.writerow(
            [
                submission.submission,
                submission.key,
                row.model,
                row.benchmark,
                "" if row.raw is None else row.raw,
                "" if row.ceiling is None else row.ceiling,
                "" if row.ceiled is None else row.ceiled,
                row.error or "",
                row.started_at.isoformat() if row.started_at else "",
                row.finished_at.isoformat() if row.finished_at else "",
            ]
        )
    return buffer.getvalue()


def read_log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    if not path.is_file():
        return "(no log was written)"
    with path.open(encoding="utf-8", errors="replace") as stream:
        return "".join(stream.readlines()[-lines:]).rstrip()


def build_message(
    submission: Submission,
    scores: list[Score],
    recipient: Recipient,
    settings: MailSettings,
    log_tail: str,
) -> EmailMessage:
    """Build the scores email, or the failure email when scoring failed as a whole."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = recipient.address
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="brainscore.local")
    intro = introduction(submission, recipient)
    if submission.status == FAILED:
        message["Subject"] = f"Brain-Score scoring failed: {submission.submission}"
        text = (
            f"{intro}\n\nScoring failed: {submission.error}\n\n"
            f"{score_table_text(scores)}\n\nLast lines of the log:\n\n{log_tail}\n"
        )
        message.set_content(text)
    else:
        message["Subject"] = f"Brain-Score scores: {submission.submission}"
        message.set_content(
            f"{intro}\n\n{score_table_text(scores)}\n\nThe attached CSV file "
            f"holds the same table. Scores are not published without your "
            f"approval.\n"
        )
        message.add_alternative(
            f"<p>{html.escape(intro)}</p>{score_table_html(scores)}"
            f"<p>The attached CSV file holds the same table. Scores are not published "
            f"without your approval.</p>",
            subtype="html",
        )
    message.add_attachment(
        scores_csv(submission, scores).encode(),
        maintype="text",
        subtype="csv",
        filename=f"scores-{submission.submission}.csv",
    )
    return message


def introduction(submission: Submission, recipient: Recipient) -> str:
    origin = f"pull request #{submission.pull_request}" if submission.pull_request else "a package"
    text = (
        f"Submission {submission.submission} from {origin} by "
        f"{submission.author or 'an unknown author'}, package sha256 {submission.key}."
    )
    if recipient.ask_author:
        text += (
            " NOTE: no address of the author was found; forward this email to them "
            "once they give one."
        )
    return text


def deliver(message: EmailMessage, settings: MailSettings, key: str) -> str:
    """Send `message` over SMTP, or write it to the outbox; return where it went."""
    if settings.smtp_host is None:
        settings.outbox.mkdir(parents=True, exist_ok=True)
        path = settings.outbox / f"{key}-{message['Message-ID'].strip('<>').split('@')[0]}.eml"
        path.write_bytes(message.as_bytes())
        return f"outbox {path}"
    if settings.smtp_ssl:
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host,
            settings.smtp_port,
            timeout=SMTP_TIMEOUT_SECONDS,
            context=ssl.create_default_context(),
        )
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS)
    with client:
        if settings.smtp_starttls:
            client.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            client.login(settings.smtp_user, settings.smtp_password or "")
        client.send_message(message)
    return f"SMTP server {settings.smtp_host}:{settings.smtp_port}"


def describe_delivery_error(error: Exception) -> str:
    """Describe a delivery failure with every email address in it replaced."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in error.recipients.values()})
        return f"SMTPRecipientsRefused: the SMTP server refused the recipient (codes {codes})"
    return ADDRESS_PATTERN.sub("<address>", f"{type(error).__name__}: {error}")


def notify(
    key: str,
    store: Store,
    settings: MailSettings,
    home: Path,
    github: Any | None = None,
    connect: bool = True,
) -> bool:
    """Email the results stored under `key`; return True once it is sent.

    A delivery failure (SMTP down, no address at all) is stored and logged, and the
    delivery stays pending for a later `notify`.
    """
    submission = store.get_submission(key)
    if submission is None:
        raise FatalError(
            f"no submission with key {key}; give the sha256 that `package` " f"printed"
        )
    try:
        book = read_address_book(settings.address_book)
    except FatalError as error:
        return keep_pending(store, key, "address book lookup failed", error)
    try:
        if github is None and connect:
            github = connect_github(submission)
        recipient = find_recipient(submission, settings, github, book)
        if recipient.ask_author and github is not None and submission.pull_request is not None:
            ask_author_for_address(github, submission)
    except FatalError as error:
        # GitHub.call turns connection and API errors into FatalError. Without GitHub the
        # address may be wrong, so the email waits rather than going to the maintainers.
        return keep_pending(store, key, "GitHub lookup failed", error)
    if recipient.address is None:
        error = "no address found and BRAINSCORE_MAINTAINERS_EMAIL is not set"
        store.record_delivery(key, sent=False, address_source=recipient.source, error=error)
        logger.error("email for %s not sent: %s", key, error)
        return False

    log_tail = read_log_tail(home / "logs" / f"{key}.log")
    message = build_message(submission, store.scores(key), recipient, settings, log_tail)
    try:
        where = deliver(message, settings, key)
    except (OSError, smtplib.SMTPException) as error:
        reason = describe_delivery_error(error)
        store.record_delivery(key, sent=False, address_source=recipient.source, error=reason)
        logger.error("email for %s not sent, it stays pending: %s", key, reason)
        return False
    store.record_delivery(key, sent=True, address_source=recipient.source)
    logger.info(
        "email for %s sent to the address from the %s through %s", key, recipient.source, where
    )
    return True


def keep_pending(store: Store, key: str, lookup: str, error: FatalError) -> bool:
    """Store why the address lookup failed, leaving the delivery pending; return False."""
    reason = f"{lookup}: {ADDRESS_PATTERN.sub('<address>', str(error))}"
    store.record_delivery(key, sent=False, address_source=None, error=reason)
    logger.error("email for %s not sent, it stays pending: %s", key, reason)
    return False

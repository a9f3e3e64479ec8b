"""Tests for emailing results: address lookup, message content, SMTP and resending."""

from __future__ import annotations

import csv
import email
import io
import json
import logging
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import REPOSITORY
from tests.githubserver import Commit, GitHubServer, PullRequest
from tests.test_scoring import FakeRunner, make_submission
from tooling.cli import main
from tooling.notify import (
    COMMENT_MARKER,
    COMMIT_EMAIL,
    GITHUB_PROFILE,
    MAINTAINERS,
    MailSettings,
    find_recipient,
    is_noreply,
)
from tooling.packaging import build_package
from tooling.scoring.store import PENDING, SENT, Store
from tooling.scoring.worker import WorkerSettings, score_package

AUTHOR = "alice"
AUTHOR_ADDRESS = "alice@lab.example.org"
MAINTAINERS_ADDRESS = "maintainers@brainscore.example.org"
PULL_NUMBER = 21


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def inbox(smtp_port: int) -> Iterator[Inbox]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def mail_env(tmp_path: Path, smtp_port: int, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("BRAINSCORE_SCORING_HOME", str(home))
    monkeypatch.setenv("BRAINSCORE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("BRAINSCORE_SMTP_PORT", str(smtp_port))
    monkeypatch.setenv("BRAINSCORE_MAINTAINERS_EMAIL", MAINTAINERS_ADDRESS)
    monkeypatch.setenv("BRAINSCORE_MAIL_FROM", "Brain-Score <scores@brainscore.example.org>")
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    return home


def score_submission(
    home: Path, tmp_path: Path, runner: FakeRunner | None = None, **origin: Any
) -> str:
    folder = make_submission(tmp_path / "pair")
    package = build_package(folder, tmp_path / "packages", commit="c" * 40)
    store = Store(f"sqlite:///{home / 'scores.sqlite'}")
    home.mkdir(parents=True, exist_ok=True)
    settings = WorkerSettings(home=home, store=store, runner=runner or FakeRunner())
    origin = {"author": AUTHOR, "pull_request": PULL_NUMBER, "repository": REPOSITORY, **origin}
    return score_package(package.path, settings, origin).key


def tooling_log(caplog: pytest.LogCaptureFixture) -> str:
    """Return the tooling's own log lines; the test SMTP server logs addresses itself."""
    return "\n".join(
        record.getMessage() for record in caplog.records if record.name.startswith("tooling")
    )


def add_pull(server: GitHubServer, commit_emails: list[str]) -> None:
    commits = [
        Commit(sha=f"{index:040x}", author_email=address)
        for index, address in enumerate(commit_emails)
    ]
    pull = PullRequest(
        PULL_NUMBER,
        "Add pair",
        AUTHOR,
        "add-pair",
        "f" * 40,
        state="closed",
        merged=True,
        merge_commit_sha="e" * 40,
        commits=commits,
    )
    server.state.add_pull(REPOSITORY, pull)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        pytest.param("123+alice@users.noreply.github.com", True, id="github-noreply"),
        pytest.param("noreply@example.org", True, id="noreply-local"),
        pytest.param("alice@lab.example.org", False, id="person"),
    ],
)
def test_is_noreply(address: str, expected: bool) -> None:
    assert is_noreply(address) is expected


@pytest.mark.usefixtures("inbox")
def test_notify_address_book_first(
    mail_env: Path,
    tmp_path: Path,
    inbox: Inbox,
    github_env: GitHubServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    book = tmp_path / "addresses.json"
    book.write_text(json.dumps({"Alice": "alice@book.example.org"}))
    monkeypatch.setenv("BRAINSCORE_ADDRESS_BOOK", str(book))
    github_env.state.add_user(AUTHOR, email=AUTHOR_ADDRESS)
    add_pull(github_env, ["alice@commit.example.org"])
    key = score_submission(mail_env, tmp_path)
    assert main(["notify", key]) == 0
    assert inbox.messages[-1]["To"] == "alice@book.example.org"


def test_recipient_lookup_order(github_env: GitHubServer, tmp_path: Path) -> None:
    from tooling.github import GitHub
    from tooling.scoring.store import Submission

    add_pull(github_env, ["1+alice@users.noreply.github.com", "alice@commit.example.org"])
    github_env.state.add_user(AUTHOR, email=None)
    github = GitHub.from_environment(retry=None)
    submission = Submission(
        key="k",
        submission="pair",
        models=[],
        author=AUTHOR,
        pull_request=PULL_NUMBER,
        repository=REPOSITORY,
    )
    settings = MailSettings(
        sender="s@example.org", outbox=tmp_path, maintainers=MAINTAINERS_ADDRESS
    )

    from_commits = find_recipient(submission, settings, github, {})
    github_env.state.users[AUTHOR].email = AUTHOR_ADDRESS
    from_profile = find_recipient(submission, settings, github, {})
    assert (from_commits.address, from_commits.source) == ("alice@commit.example.org", COMMIT_EMAIL)
    assert (from_profile.address, from_profile.source) == (AUTHOR_ADDRESS, GITHUB_PROFILE)


def test_notify_no_address_asks_author(
    mail_env: Path,
    tmp_path: Path,
    inbox: Inbox,
    github_env: GitHubServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    github_env.state.add_user(AUTHOR, email=None)
    add_pull(github_env, ["1+alice@users.noreply.github.com"])
    key = score_submission(mail_env, tmp_path)
    assert main(["notify", key]) == 0
    comments = github_env.state.comments_on(REPOSITORY, PULL_NUMBER)
    assert inbox.messages[-1]["To"] == MAINTAINERS_ADDRESS
    assert len(comments) == 1
    assert comments[0].body.startswith(COMMENT_MARKER)
    assert "@alice" in comments[0].body
    assert "@" not in comments[0].body.replace("@alice", "")
    assert MAINTAINERS_ADDRESS not in tooling_log(caplog)
    assert f"address from the {MAINTAINERS}" in tooling_log(caplog)


def test_scores_email_content(
    mail_env: Path,
    tmp_path: Path,
    inbox: Inbox,
    github_env: GitHubServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    github_env.state.add_user(AUTHOR, email=AUTHOR_ADDRESS)
    add_pull(github_env, [])
    key = score_submission(mail_env, tmp_path)
    assert main(["notify", key]) == 0
    message = inbox.messages[-1]
    text = message.get_body(("plain",)).get_content()
    attachment = next(message.iter_attachments())
    rows = list(csv.DictReader(io.StringIO(attachment.get_content())))
    assert message["To"] == AUTHOR_ADDRESS
    assert message["Subject"] == "Brain-Score scores: pair"
    assert "net-a  mock       0.4000  0.8000   0.5000" in text
    assert key in text
    assert "<table" in message.get_body(("html",)).get_content()
    assert attachment.get_filename() == "scores-pair.csv"
    assert [(row["model"], row["benchmark"], row["ceiled"]) for row in rows] == [
        ("net-a", "mock", "0.5"),
        ("net-b", "mock", "0.5"),
    ]
    assert AUTHOR_ADDRESS not in tooling_log(caplog)


def test_failure_email_has_error_and_log(mail_env: Path, tmp_path: Path, inbox: Inbox) -> None:
    key = score_submission(mail_env, tmp_path, runner=FakeRunner(), **{"pull_request": None})
    store = Store(f"sqlite:///{mail_env / 'scores.sqlite'}")
    store.set_status(key, "failed", "every model failed on every benchmark")
    assert main(["notify", key]) == 0
    message = inbox.messages[-1]
    text = message.get_body(("plain",)).get_content()
    assert message["Subject"] == "Brain-Score scoring failed: pair"
    assert "Scoring failed: every model failed on every benchmark" in text
    assert "Last lines of the log:" in text
    assert "scoring net-b on mock" in text


def test_smtp_down_keeps_scores_then_sends(
    mail_env: Path, tmp_path: Path, smtp_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    key = score_submission(mail_env, tmp_path)
    store = Store(f"sqlite:///{mail_env / 'scores.sqlite'}")

    assert main(["notify", "--pending"]) == 1
    assert capsys.readouterr().out == f"{key}  pending\n"
    assert store.get_delivery(key).status == PENDING
    assert "ConnectionRefusedError" in store.get_delivery(key).last_error
    assert len(store.scores(key)) == 2

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        assert main(["notify", "--pending"]) == 0
    finally:
        controller.stop()
    delivery = store.get_delivery(key)
    assert len(handler.messages) == 1
    assert delivery.status == SENT
    assert delivery.attempts == 2
    assert main(["notify", "--pending"]) == 0
    assert len(handler.messages) == 1


def test_outbox_without_smtp(
    mail_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BRAINSCORE_SMTP_HOST")
    key = score_submission(mail_env, tmp_path)
    assert main(["notify", key]) == 0
    files = list((mail_env / "outbox").glob("*.eml"))
    message = email.message_from_bytes(files[0].read_bytes(), policy=default)
    assert len(files) == 1
    assert message["To"] == MAINTAINERS_ADDRESS
    assert files[0].name.startswith(key)


def test_notify_unknown_key(mail_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["notify", "0" * 64]) == 1
    assert f"no submission with key {'0' * 64}" in capsys.readouterr().err


def test_github_down_keeps_email_pending(
    mail_env: Path, tmp_path: Path, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "not-a-secret")
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{free_port()}")
    key = score_submission(mail_env, tmp_path)
    store = Store(f"sqlite:///{mail_env / 'scores.sqlite'}")
    assert main(["notify", key]) == 1
    assert inbox.messages == []
    assert store.get_delivery(key).status == PENDING
    assert store.get_delivery(key).last_error.startswith(
        "GitHub lookup failed: GitHub API request failed"
    )


def test_broken_address_book_keeps_email_pending(
    mail_env: Path, tmp_path: Path, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = tmp_path / "addresses.json"
    book.write_text("{bad")
    monkeypatch.setenv("BRAINSCORE_ADDRESS_BOOK", str(book))
    key = score_submission(mail_env, tmp_path)
    store = Store(f"sqlite:///{mail_env / 'scores.sqlite'}")

    code = main(["notify", key])

    delivery = store.get_delivery(key)
    assert code == 1
    assert inbox.messages == []
    assert delivery.status == PENDING
    assert delivery.last_error.startswith(
        f"address book lookup failed: unreadable address book, {book}"
    )

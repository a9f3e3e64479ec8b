from __future__ import annotations

import socket

import pytest

from tests.conftest import REPOSITORY, TOKEN
from tests.githubserver import Commit, GitHubServer, PullRequest, fake_sha
from tooling.errors import FatalError
from tooling.github import ChangedFile, GitHub

HEAD = fake_sha("head")
MERGE = fake_sha("merge")
MARKER = "<!-- brainscore-report -->"


@pytest.fixture
def server(github_server: GitHubServer) -> GitHubServer:
    state = github_server.state
    state.add_user("ada", name="Ada Lovelace", email="ada@example.org")
    state.add_user("hidden")
    state.add_pull(
        REPOSITORY,
        PullRequest(
            number=7,
            title="Add alexnet",
            author="ada",
            head_ref="alexnet",
            head_sha=HEAD,
            labels=["maintenance"],
            files=[
                {"filename": "submissions/alexnet/setup.py", "status": "added"},
                {
                    "filename": "submissions/b/x.py",
                    "status": "renamed",
                    "previous_filename": "submissions/a/x.py",
                },
            ],
            commits=[
                Commit(fake_sha("one"), author_email="ada@example.org", author_login="ada"),
                Commit(fake_sha("two"), author_email="ada@users.noreply.github.com"),
                Commit(fake_sha("three"), author_email="ada@example.org"),
            ],
        ),
    )
    state.add_pull(
        REPOSITORY,
        PullRequest(
            number=8,
            title="Add vgg",
            author="hidden",
            head_ref="vgg",
            head_sha=fake_sha("vgg"),
            state="closed",
            merged=True,
            merge_commit_sha=MERGE,
        ),
    )
    return github_server


@pytest.fixture
def client(server: GitHubServer) -> GitHub:
    return GitHub(REPOSITORY, TOKEN, base_url=server.url, retry=None)


def test_pull_request_fields(client: GitHub) -> None:
    pull = client.pull_request(7)
    assert pull.title == "Add alexnet"
    assert pull.author == "ada"
    assert pull.head_sha == HEAD
    assert pull.head_ref == "alexnet"
    assert pull.labels == ("maintenance",)
    assert pull.merged is False


def test_pull_request_files_with_rename(client: GitHub) -> None:
    assert client.pull_request_files(7) == [
        ChangedFile("submissions/alexnet/setup.py", "added"),
        ChangedFile("submissions/b/x.py", "renamed", "submissions/a/x.py"),
    ]


def test_pull_request_files_paginated(server: GitHubServer, client: GitHub) -> None:
    files = [{"filename": f"submissions/m{i}/setup.py", "status": "added"} for i in range(250)]
    server.state.repositories[REPOSITORY].pulls[7].files = files

    found = client.pull_request_files(7)

    assert len(found) == 250
    assert found[-1].filename == "submissions/m249/setup.py"


def test_commit_author_emails_distinct(client: GitHub) -> None:
    assert client.commit_author_emails(7) == ["ada@example.org", "ada@users.noreply.github.com"]


def test_merged_pull_request_of_commit(client: GitHub) -> None:
    pull = client.merged_pull_request(MERGE)
    assert pull is not None
    assert pull.number == 8
    assert pull.author == "hidden"
    assert pull.merged is True


def test_merged_pull_request_none_for_open(client: GitHub) -> None:
    assert client.merged_pull_request(HEAD) is None


@pytest.mark.parametrize(
    ("login", "email"),
    [
        pytest.param("ada", "ada@example.org", id="public"),
        pytest.param("hidden", None, id="hidden"),
    ],
)
def test_user_public_email(client: GitHub, login: str, email: str | None) -> None:
    assert client.user_public_email(login) == email


def test_upsert_comment_creates_then_edits(server: GitHubServer, client: GitHub) -> None:
    first = client.upsert_comment(7, MARKER, "first")
    second = client.upsert_comment(7, MARKER, "second")

    comments = server.state.comments_on(REPOSITORY, 7)
    assert first.created is True
    assert second.created is False
    assert second.id == first.id
    assert len(comments) == 1
    assert comments[0].body == f"{MARKER}\nsecond"


def test_upsert_comment_ignores_marker_pasted_by_user(server: GitHubServer, client: GitHub) -> None:
    from tests.githubserver import Comment

    repository = server.state.repositories[REPOSITORY]
    repository.comments[1] = Comment(1, 7, f"{MARKER}\nfake report", author="ada")

    result = client.upsert_comment(7, MARKER, "real")

    assert result.created is True
    assert repository.comments[1].body == f"{MARKER}\nfake report"


@pytest.mark.parametrize(
    "author",
    [
        pytest.param("ada", id="user"),
        pytest.param("other-app[bot]", id="other-bot"),
        pytest.param("dependabot[bot]", id="dependabot"),
    ],
)
def test_upsert_comment_ignores_marker_of_other_account(
    server: GitHubServer, client: GitHub, author: str
) -> None:
    from tests.githubserver import Comment

    repository = server.state.repositories[REPOSITORY]
    repository.comments[1] = Comment(1, 7, f"{MARKER}\nforged report", author=author)

    result = client.upsert_comment(7, MARKER, "real")

    assert result.created is True
    assert repository.comments[1].body == f"{MARKER}\nforged report"


def test_find_comment_by_configured_bot_login(server: GitHubServer) -> None:
    from tests.githubserver import Comment

    repository = server.state.repositories[REPOSITORY]
    repository.comments[1] = Comment(1, 7, f"{MARKER}\nby the default bot")
    repository.comments[2] = Comment(2, 7, f"{MARKER}\nby the app", author="scorer[bot]")
    client = GitHub(REPOSITORY, TOKEN, base_url=server.url, retry=None, bot_login="scorer[bot]")

    found = client.find_comment(7, MARKER)

    assert found.id == 2


def test_from_environment_reads_bot_login(
    server: GitHubServer, github_env: GitHubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_BOT_LOGIN", "scorer[bot]")
    assert GitHub.from_environment(retry=None).bot_login == "scorer[bot]"


def test_from_environment_default_bot_login(
    server: GitHubServer, github_env: GitHubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_BOT_LOGIN", raising=False)
    assert GitHub.from_environment(retry=None).bot_login == "github-actions[bot]"


def test_update_labels(server: GitHubServer, client: GitHub) -> None:
    labels = client.update_labels(7, add=["validated"], remove=["maintenance", "absent"])
    assert labels == {"validated"}
    assert server.state.repositories[REPOSITORY].pulls[7].labels == ["validated"]


def test_update_labels_no_change_sends_no_write(server: GitHubServer, client: GitHub) -> None:
    client.update_labels(7, add=["maintenance"], remove=["absent"])
    assert server.state.requests_of("POST") == []
    assert server.state.requests_of("DELETE") == []


def test_set_status(server: GitHubServer, client: GitHub) -> None:
    client.set_status(HEAD, "success", "brainscore/validate", "x" * 200, "https://example.org")

    status = server.state.repositories[REPOSITORY].statuses[HEAD][0]
    assert status["state"] == "success"
    assert status["context"] == "brainscore/validate"
    assert len(status["description"]) == 140


def test_dispatch_workflow(server: GitHubServer, client: GitHub) -> None:
    server.state.add_workflow(REPOSITORY, ".github/workflows/score.yml", inputs=("sha",))

    client.dispatch_workflow("score.yml", "main", {"sha": MERGE})

    assert server.state.repositories[REPOSITORY].dispatches == [
        {"workflow": ".github/workflows/score.yml", "ref": "main", "inputs": {"sha": MERGE}}
    ]


def test_dispatch_workflow_rejected_input(server: GitHubServer, client: GitHub) -> None:
    server.state.add_workflow(REPOSITORY, ".github/workflows/score.yml")
    with pytest.raises(FatalError, match="422 Unexpected inputs"):
        client.dispatch_workflow("score.yml", "main", {"sha": MERGE})


def test_missing_pull_request_is_fatal(client: GitHub) -> None:
    with pytest.raises(FatalError, match=r"pull request #99: 404 Not Found"):
        client.pull_request(99)


def test_bad_token_is_fatal_and_not_shown(server: GitHubServer) -> None:
    client = GitHub(REPOSITORY, "wrong-token-value", base_url=server.url, retry=None)
    with pytest.raises(FatalError, match="401 Bad credentials") as raised:
        client.pull_request(7)
    assert "wrong-token-value" not in str(raised.value)


def test_from_environment_reads_variables(server: GitHubServer, github_env: GitHubServer) -> None:
    client = GitHub.from_environment(retry=None)
    assert client.pull_request(7).number == 7


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        pytest.param({}, "GITHUB_TOKEN is not set", id="no-token"),
        pytest.param({"GITHUB_TOKEN": "t"}, "GITHUB_REPOSITORY=None", id="no-repository"),
        pytest.param(
            {"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "x"}, "OWNER/NAME", id="bad-repository"
        ),
    ],
)
def test_from_environment_missing(environ: dict[str, str], message: str) -> None:
    with pytest.raises(FatalError, match=message):
        GitHub.from_environment(environ=environ)


def test_unreachable_server_is_fatal() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = GitHub(REPOSITORY, TOKEN, base_url=f"http://127.0.0.1:{port}", retry=None)

    with pytest.raises(FatalError, match="repository .*: ConnectionError"):
        client.pull(1)

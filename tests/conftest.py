"""Fixtures shared across test modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.githubserver import FakeGitHub, GitHubServer

REPOSITORY = "brain-score/submissions"
TOKEN = "test-token-not-a-secret"


@pytest.fixture
def github_server() -> Iterator[GitHubServer]:
    """A GitHub-shaped API server on 127.0.0.1 with an empty `brain-score/submissions`."""
    state = FakeGitHub(token=TOKEN)
    state.add_repository(REPOSITORY)
    with GitHubServer(state) as server:
        yield server


@pytest.fixture
def github_env(github_server: GitHubServer, monkeypatch: pytest.MonkeyPatch) -> GitHubServer:
    """Point the tooling's GitHub client at `github_server` through the environment."""
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", github_server.url)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPOSITORY)
    return github_server

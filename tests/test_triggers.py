"""Tests for the trigger backends against servers on 127.0.0.1."""

from __future__ import annotations

import base64
import dataclasses
import json
import socket
import threading
from email.parser import BytesParser
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TOKEN
from tests.githubserver import GitHubServer
from tooling.cli import main
from tooling.packaging import build_package

JENKINS_USER = "scoring-bot"
JENKINS_TOKEN = "jenkins-token-not-a-secret"
SCORING_REPOSITORY = "brain-score/scoring"
WORKFLOW_INPUTS = (
    "package_url",
    "sha256",
    "submission",
    "pull_request",
    "commit",
    "author",
    "repository",
)


@dataclasses.dataclass
class JenkinsRequest:
    path: str
    authorization: str
    fields: dict[str, str]
    files: dict[str, tuple[str, bytes]]


class FakeJenkins:
    """A Jenkins-like server that responds with the given statuses, then 201 Created."""

    def __init__(self, statuses: list[tuple[int, str]]) -> None:
        self.statuses = list(statuses)
        self.requests: list[JenkinsRequest] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler_class())
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        jenkins = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                jenkins.requests.append(parse_request(self.path, self.headers, body))
                status, text = jenkins.statuses.pop(0) if jenkins.statuses else (201, "")
                self.send_response(status)
                if status == 201:
                    self.send_header("Location", f"{jenkins.url}/queue/item/42/")
                self.send_header("Content-Length", str(len(text.encode())))
                self.end_headers()
                self.wfile.write(text.encode())

        return Handler

    def __enter__(self) -> FakeJenkins:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def parse_request(path: str, headers: Any, body: bytes) -> JenkinsRequest:
    """Split a multipart/form-data body into its fields and files."""
    head = f"Content-Type: {headers['Content-Type']}\r\n\r\n".encode()
    message = BytesParser(policy=default).parsebytes(head + body)
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        if filename:
            files[name] = (filename, payload)
        else:
            fields[name] = payload.decode()
    return JenkinsRequest(path, headers.get("Authorization", ""), fields, files)


@pytest.fixture
def package(tmp_path: Path) -> Any:
    folder = tmp_path / "tiny"
    (folder / "models").mkdir(parents=True)
    (folder / "models" / "__init__.py").write_text("")
    (folder / "models" / "base_models.py").write_text(
        "def get_model_list():\n    return ['tiny-net']\n"
    )
    (folder / "setup.py").write_text("from setuptools import setup\nsetup(name='tiny')\n")
    return build_package(folder, tmp_path / "packages", commit="a" * 40)


@pytest.fixture
def jenkins_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JENKINS_JOB", "brain-score/score-submission")
    monkeypatch.setenv("JENKINS_USER", JENKINS_USER)
    monkeypatch.setenv("JENKINS_API_TOKEN", JENKINS_TOKEN)


def trigger_args(package: Any, backend: str, *extra: str) -> list[str]:
    return [
        "trigger",
        str(package.path),
        "--backend",
        backend,
        "--pr",
        "12",
        "--commit",
        "b" * 40,
        "--author",
        "alice",
        "--repository",
        "brain-score/submissions",
        "--retry-delay",
        "0.01",
        *extra,
    ]


@pytest.mark.usefixtures("jenkins_env")
def test_jenkins_retries_503_then_accepts(
    package: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    statuses = [(503, "Service Unavailable\nJenkins is restarting"), (503, "busy")]
    with FakeJenkins(statuses) as jenkins:
        monkeypatch.setenv("JENKINS_URL", jenkins.url)
        code = main(trigger_args(package, "jenkins"))
    captured = capsys.readouterr()
    assert code == 0
    assert len(jenkins.requests) == 3
    assert "queue/item/42" in captured.out
    assert caplog.text.count("retrying in") == 2


@pytest.mark.usefixtures("jenkins_env")
def test_jenkins_request_content(package: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeJenkins([]) as jenkins:
        monkeypatch.setenv("JENKINS_URL", jenkins.url + "/")
        assert main(trigger_args(package, "jenkins")) == 0
    request = jenkins.requests[0]
    expected_auth = base64.b64encode(f"{JENKINS_USER}:{JENKINS_TOKEN}".encode()).decode()
    assert request.path == "/job/brain-score/job/score-submission/buildWithParameters"
    assert request.authorization == f"Basic {expected_auth}"
    assert request.files["PACKAGE"] == (package.path.name, package.path.read_bytes())
    assert request.fields == {
        "SHA256": package.sha256,
        "SUBMISSION": "tiny",
        "PULL_REQUEST": "12",
        "COMMIT": "b" * 40,
        "AUTHOR": "alice",
        "REPOSITORY": "brain-score/submissions",
    }


@pytest.mark.usefixtures("jenkins_env")
def test_jenkins_4xx_not_retried(
    package: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeJenkins([(403, "No valid crumb was included\n<html>...</html>")]) as jenkins:
        monkeypatch.setenv("JENKINS_URL", jenkins.url)
        code = main(trigger_args(package, "jenkins"))
    error = capsys.readouterr().err
    assert code == 1
    assert len(jenkins.requests) == 1
    assert "403 Forbidden: No valid crumb was included;" in error
    assert JENKINS_TOKEN not in error


@pytest.mark.usefixtures("jenkins_env")
def test_jenkins_unreachable_gives_up(
    package: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("JENKINS_URL", f"http://{JENKINS_USER}:{JENKINS_TOKEN}@127.0.0.1:{port}")
    code = main(trigger_args(package, "jenkins", "--retries", "2"))
    error = capsys.readouterr().err
    assert code == 1
    assert "failed after 3 attempts: no connection to" in error
    assert JENKINS_TOKEN not in error
    assert caplog.text.count("retrying in") == 2
    assert JENKINS_TOKEN not in caplog.text


def test_jenkins_missing_credentials(
    package: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JENKINS_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("JENKINS_JOB", "score")
    monkeypatch.delenv("JENKINS_USER", raising=False)
    code = main(trigger_args(package, "jenkins"))
    assert code == 1
    assert "JENKINS_USER is not set" in capsys.readouterr().err


def test_local_trigger_writes_spool_record(
    package: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spool = tmp_path / "spool"
    assert main(trigger_args(package, "local", "--spool", str(spool))) == 0
    records = list((spool / "incoming").glob("*.json"))
    record = json.loads(records[0].read_text())
    assert len(records) == 1
    assert record["sha256"] == package.sha256
    assert record["pull_request"] == 12
    assert record["author"] == "alice"
    assert (spool / "packages" / f"{package.sha256}.zip").read_bytes() == (
        package.path.read_bytes()
    )
    assert list(spool.rglob(".*.partial")) == []


def test_github_trigger_dispatches_workflow(
    package: Any, github_server: GitHubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    github_server.state.add_repository(SCORING_REPOSITORY)
    github_server.state.add_workflow(
        SCORING_REPOSITORY, ".github/workflows/score.yml", WORKFLOW_INPUTS
    )
    monkeypatch.setenv("GITHUB_API_URL", github_server.url)
    monkeypatch.setenv("SCORING_REPOSITORY", SCORING_REPOSITORY)
    monkeypatch.setenv("SCORING_TOKEN", TOKEN)
    url = "https://api.github.com/repos/brain-score/submissions/actions/artifacts/5/zip"
    assert main(trigger_args(package, "github", "--package-url", url)) == 0
    dispatches = github_server.state.repositories[SCORING_REPOSITORY].dispatches
    assert len(dispatches) == 1
    assert dispatches[0]["ref"] == "main"
    assert dispatches[0]["inputs"]["sha256"] == package.sha256
    assert dispatches[0]["inputs"]["package_url"] == url
    assert dispatches[0]["inputs"]["author"] == "alice"


def test_github_trigger_needs_package_url(package: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(trigger_args(package, "github")) == 1
    assert "no package URL for the github backend" in capsys.readouterr().err


def test_jenkins_rejects_plain_http_to_remote_host(
    package: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JENKINS_URL", f"http://{JENKINS_USER}:{JENKINS_TOKEN}@jenkins.example")
    monkeypatch.setenv("JENKINS_JOB", "score")
    monkeypatch.setenv("JENKINS_USER", JENKINS_USER)
    monkeypatch.setenv("JENKINS_API_TOKEN", JENKINS_TOKEN)

    code = main(trigger_args(package, "jenkins"))

    error = capsys.readouterr().err
    assert code == 1
    assert "insecure Jenkins address, JENKINS_URL='http://jenkins.example'" in error
    assert JENKINS_TOKEN not in error


@pytest.mark.parametrize("author", ["", "$USER", "-octocat", "a" * 40])
def test_trigger_rejects_invalid_author(
    package: Any, author: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["trigger", str(package.path), f"--author={author}"])

    assert exit_info.value.code == 2
    assert "invalid GitHub login" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("entries", "number"),
    [
        pytest.param([5], 1, id="number"),
        pytest.param([{"path": "tiny.zip"}], 1, id="no-sha256"),
        pytest.param([{"sha256": "a" * 64}], 1, id="no-path"),
        pytest.param([{"path": 3, "sha256": "a" * 64}], 1, id="path-not-string"),
        pytest.param([{"path": "tiny.zip", "sha256": "a" * 64}, []], 2, id="second-entry"),
    ],
)
def test_trigger_rejects_invalid_index_entry(
    tmp_path: Path,
    entries: list[Any],
    number: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", "brain-score/submissions")
    index = tmp_path / "packages.json"
    index.write_text(json.dumps(entries))

    code = main(["trigger", "--index", str(index), "--backend", "local"])

    assert code == 1
    assert f"invalid package list, {index}: entry {number} is not" in capsys.readouterr().err


@pytest.mark.parametrize("delay", ["-1", "0"])
def test_trigger_rejects_non_positive_delay(
    package: Any, delay: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["trigger", str(package.path), "--retry-delay", delay])

    assert exit_info.value.code == 2
    assert "greater than 0" in capsys.readouterr().err

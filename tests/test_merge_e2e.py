"""The full local path on one machine, with real parts.

A pull request is merged in a real git repository. The merged submission is packaged and
triggered with the local backend, as the score workflow does. A worker process scores it
with the mock-score runner, is killed with SIGKILL mid-run and restarted. The scores land
in SQLite, and the author receives them from an SMTP server on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import REPOSITORY, TOKEN
from tests.githubserver import FakeGitHub, GitHubServer, PullRequest
from tests.gitrepo import GitRepository
from tests.test_notify import Inbox, free_port
from tooling.cli import main
from tooling.triggers import COMMENT_MARKER

# The module's one scoring run takes about half a minute on two cores.
pytestmark = pytest.mark.slow

AUTHOR = "ada"
AUTHOR_ADDRESS = "ada@lab.example.org"
PULL_NUMBER = 5
MODEL = "e2e-small-net"
# A benchmark identifier that brainscore-vision does not register, so loading it fails
# at once and offline, as a benchmark whose data cannot be fetched does.
MISSING_BENCHMARK = "NoSuchLab2099.IT-pls"
WORKER_TIMEOUT = 600

BASE_MODELS = f"""
import functools

import torch
from torch import nn

from brainscore_vision.model_helpers.activations.pytorch import PytorchWrapper
from brainscore_vision.model_helpers.activations.pytorch import load_preprocess_images


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, kernel_size=5, stride=2)
        self.relu1 = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(8)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3)
        self.relu2 = nn.ReLU()

    def forward(self, x):
        x = self.pool(self.relu1(self.conv1(x)))
        return self.relu2(self.conv2(x))


def get_model_list():
    return ['{MODEL}']


def get_model(name):
    assert name in get_model_list()
    torch.manual_seed(0)
    preprocessing = functools.partial(load_preprocess_images, image_size=64)
    wrapper = PytorchWrapper(identifier=name, model=SmallNet(), preprocessing=preprocessing)
    wrapper.image_size = 64
    return wrapper


def get_layers(name):
    return ["relu1", "relu2"]


def get_bibtex(model_identifier):
    return "@article{{small2024, title={{A small network}}, year={{2024}}}}"
"""
SETUP = (
    "from setuptools import find_packages, setup\n\n"
    "setup(name='small-net', packages=find_packages(), install_requires=['torch'])\n"
)


@dataclasses.dataclass
class MergeRun:
    """Everything the module's tests read from the one scored merge."""

    repository: GitRepository
    github: FakeGitHub
    home: Path
    index: list[dict[str, Any]]
    first_pair_started: str
    first_worker_log: str
    second_worker_log: str
    inbox: Inbox
    smtp_port: int
    worker_env: dict[str, str]

    @property
    def key(self) -> str:
        return self.index[0]["sha256"]

    def rows(self) -> list[sqlite3.Row]:
        with sqlite3.connect(self.home / "scores.sqlite") as connection:
            connection.row_factory = sqlite3.Row
            return connection.execute(
                "SELECT * FROM scores WHERE key = ? ORDER BY benchmark", (self.key,)
            ).fetchall()


def merge_pull_request(path: Path) -> tuple[GitRepository, str, str]:
    repository = GitRepository(path)
    before = repository.commit({"README.md": "# submissions\n"}, "Start the repository")
    repository.branch("add-small-net")
    repository.commit(
        {
            "submissions/small-net/models/__init__.py": "",
            "submissions/small-net/models/base_models.py": BASE_MODELS,
            "submissions/small-net/setup.py": SETUP,
        },
        "Add small-net",
    )
    repository.checkout("main")
    repository.git("merge", "--no-ff", "-q", "-m", "Merge pull request #5", "add-small-net")
    return repository, before, repository.git("rev-parse", "HEAD")


def worker_command(home: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tooling",
        "score",
        "--spool",
        "--home",
        str(home),
        "--benchmark",
        MISSING_BENCHMARK,
        "--benchmark",
        "mock",
        "--device",
        "cpu",
        "--timeout",
        "300",
    ]


def query(home: Path, sql: str) -> list[tuple[Any, ...]]:
    database = home / "scores.sqlite"
    if not database.exists():
        return []
    with sqlite3.connect(database, timeout=10) as connection:
        try:
            return connection.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def descendants(pid: int) -> list[int]:
    """Return the process ids below `pid`, read from /proc, deepest last."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split()
        for child in map(int, children):
            found.append(child)
            found.extend(descendants(child))
    return found


def kill_worker(process: subprocess.Popen[str]) -> None:
    """SIGKILL the worker and the runner processes it started, by their ids."""
    children = descendants(process.pid)
    os.killpg(process.pid, signal.SIGKILL)
    for child in children:
        # A child that is not a process-group leader, or that exited, has no group to kill.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child, signal.SIGKILL)
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def merge_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MergeRun]:
    root = tmp_path_factory.mktemp("merge")
    repository, before, merge_commit = merge_pull_request(root / "repo")
    home = root / "home"

    state = FakeGitHub(token=TOKEN)
    state.add_repository(REPOSITORY)
    state.add_user(AUTHOR, email=AUTHOR_ADDRESS)
    state.add_pull(REPOSITORY, PullRequest(
        PULL_NUMBER, "Add small-net", AUTHOR, "add-small-net",
        repository.git("rev-parse", "add-small-net"), state="closed", merged=True,
        merge_commit_sha=merge_commit,
    ))  # fmt: skip
    smtp_port = free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)

    with GitHubServer(state) as server, pytest.MonkeyPatch.context() as patch:
        controller.start()
        environment = {
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_API_URL": server.url,
            "GITHUB_REPOSITORY": REPOSITORY,
            "BRAINSCORE_SCORING_HOME": str(home),
            "BRAINSCORE_SMTP_HOST": "127.0.0.1",
            "BRAINSCORE_SMTP_PORT": str(smtp_port),
            "BRAINSCORE_MAINTAINERS_EMAIL": "maintainers@brainscore.example.org",
        }
        for name, value in environment.items():
            patch.setenv(name, value)
        patch.chdir(repository.path)

        # The score workflow's two steps, in order.
        packages = root / "packages"
        index_path = packages / "index.json"
        packages.mkdir()
        with open(index_path, "w") as stream, contextlib.redirect_stdout(stream):
            assert (
                main(["package", "--since", before, "-o", str(packages), "--format", "json"]) == 0
            )
        assert main(["trigger", "--index", str(index_path), "--backend", "local"]) == 0
        index = json.loads(index_path.read_text())

        worker_env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        first_log = root / "worker-1.log"
        with first_log.open("w") as log:
            worker = subprocess.Popen(
                worker_command(home),
                stdout=log,
                stderr=log,
                text=True,
                env=worker_env,
                start_new_session=True,
            )
            try:
                wait_for(
                    lambda: query(home, "SELECT 1 FROM scores WHERE benchmark = 'mock'"),
                    WORKER_TIMEOUT,
                    "the worker to start the mock pair",
                )
            finally:
                kill_worker(worker)
        started = query(
            home,
            "SELECT started_at FROM scores WHERE benchmark = "
            f"'{MISSING_BENCHMARK}' AND finished_at IS NOT NULL",
        )

        second_log = root / "worker-2.log"
        with second_log.open("w") as log:
            subprocess.run(
                worker_command(home),
                stdout=log,
                stderr=log,
                text=True,
                env=worker_env,
                timeout=WORKER_TIMEOUT,
                check=False,
            )
        try:
            yield MergeRun(
                repository=repository, github=state, home=home, index=index,
                first_pair_started=started[0][0] if started else "",
                first_worker_log=first_log.read_text(),
                second_worker_log=second_log.read_text(), inbox=inbox,
                smtp_port=smtp_port, worker_env=worker_env,
            )  # fmt: skip
        finally:
            controller.stop()


def test_merge_packages_changed_submission(merge_run: MergeRun) -> None:
    assert [item["submission"] for item in merge_run.index] == ["small-net"]
    assert merge_run.index[0]["models"] == [MODEL]


def test_merge_comment_names_sha256(merge_run: MergeRun) -> None:
    comments = merge_run.github.comments_on(REPOSITORY, PULL_NUMBER)
    assert len(comments) == 1
    assert comments[0].body.startswith(COMMENT_MARKER)
    assert merge_run.key in comments[0].body
    assert "will be emailed" in comments[0].body


def test_scores_rows_in_sqlite(merge_run: MergeRun) -> None:
    rows = {row["benchmark"]: row for row in merge_run.rows()}
    assert sorted(rows) == [MISSING_BENCHMARK, "mock"]
    assert rows["mock"]["model"] == MODEL
    assert rows["mock"]["error"] is None
    assert 0 < rows["mock"]["ceiled"] <= 1
    assert 0 < rows["mock"]["ceiling"] <= 1
    assert rows["mock"]["raw"] is not None
    assert rows["mock"]["finished_at"] is not None
    assert (
        f"the benchmark '{MISSING_BENCHMARK}' could not be loaded"
        in (rows[MISSING_BENCHMARK]["error"])
    )


def test_killed_worker_resumes(merge_run: MergeRun) -> None:
    rows = {row["benchmark"]: row for row in merge_run.rows()}
    records = merge_run.home / "spool"
    assert merge_run.first_pair_started != ""
    assert rows[MISSING_BENCHMARK]["started_at"] == merge_run.first_pair_started
    assert "1 of 2 pairs already finished" in merge_run.second_worker_log
    assert f"scoring {MODEL} on {MISSING_BENCHMARK}" not in merge_run.second_worker_log
    assert list((records / "incoming").glob("*.json")) == []
    assert len(list((records / "done").glob("*.json"))) == 1


def test_author_receives_email(merge_run: MergeRun) -> None:
    messages: list[EmailMessage] = merge_run.inbox.messages
    attachment = next(messages[0].iter_attachments())
    rows = list(csv.DictReader(io.StringIO(attachment.get_content())))
    assert len(messages) == 1
    assert messages[0]["To"] == AUTHOR_ADDRESS
    assert messages[0]["Subject"] == "Brain-Score scores: small-net"
    assert [row["benchmark"] for row in rows] == [MISSING_BENCHMARK, "mock"]
    assert AUTHOR_ADDRESS not in merge_run.second_worker_log


def test_same_package_scored_once(merge_run: MergeRun, tmp_path: Path) -> None:
    package = Path(merge_run.index[0]["path"])
    args = [
        "trigger",
        str(package),
        "--pr",
        str(PULL_NUMBER),
        "--author",
        AUTHOR,
        "--spool",
        str(merge_run.home / "spool"),
    ]
    assert main(args) == 0
    result = subprocess.run(
        worker_command(merge_run.home),
        capture_output=True,
        text=True,
        env=merge_run.worker_env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0
    assert "was already scored; not scoring it again" in result.stderr
    assert len(merge_run.rows()) == 2
    assert len(merge_run.inbox.messages) == 1

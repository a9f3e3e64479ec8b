"""A pull request played end to end: the validate workflow's steps, then the report.

The validate steps are the `run:` scripts of .github/workflows/validate.yml, run with
bash in a workspace laid out as the workflow's checkouts lay it out, with the event
payload and the files GitHub Actions provides. The report step runs against the local
GitHub server, as the report workflow would after downloading the artifact.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import REPOSITORY, TOKEN
from tests.githubserver import GitHubServer, PullRequest
from tests.gitrepo import GitRepository
from tooling.cli import main
from tooling.comment import MARKER
from tooling.problems import Problem
from tooling.reports import Report, SubmissionReport

ROOT = Path(__file__).resolve().parents[1]
CASE = Path("/work/shared/cases/good-minimal")
SUBMISSION = "submissions/good-minimal"
NUMBER = 12
HOSTILE_TITLE = "Add model <img src=x onerror=alert(1)> @maintainers ::error::fake"
HOSTILE_BRANCH = "add-model$(touch${IFS}/tmp/pwned)`id`"
DEFAULT_BRANCH_SHA = "f" * 40
HOSTILE_FILE = (
    f"{SUBMISSION}/notes <b>x</b> [y](https://evil.example) @maintainers\n" "::warning::z.bak"
)


def copy_case(repo: GitRepository) -> None:
    shutil.copytree(CASE, repo.path / SUBMISSION)


def validate_steps() -> list[dict[str, Any]]:
    workflow = yaml.safe_load((ROOT / ".github/workflows/validate.yml").read_text())
    steps = workflow["jobs"]["validate"]["steps"]
    return [
        step
        for step in steps
        if "run" in step and not step["run"].startswith("python -m pip install")
    ]


class Workflow:
    """The files and environment GitHub Actions gives a job, in a temporary workspace."""

    def __init__(self, workspace: Path, server: GitHubServer) -> None:
        self.workspace = workspace
        self.server = server
        self.summary = workspace.parent / "step_summary.md"
        self.output = workspace.parent / "github_output"
        self.summary.touch()
        self.output.touch()

    def environment(self, event: dict[str, Any], name: str) -> dict[str, str]:
        event_path = self.workspace.parent / f"{name}-event.json"
        event_path.write_text(json.dumps(event), encoding="utf-8")
        return {
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "GITHUB_OUTPUT": str(self.output),
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_API_URL": self.server.url,
            "GITHUB_ACTIONS": "true",
        }

    def run_validate(self, event: dict[str, Any]) -> str:
        """Run the validate job's scripts as the runner does; return their stdout."""
        shutil.rmtree(self.workspace / "reports", ignore_errors=True)
        env = {**os.environ, **self.environment(event, "pull_request")}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
        output = []
        for step in validate_steps():
            cwd = self.workspace / step.get("working-directory", ".")
            result = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            output.append(result.stdout)
            if result.returncode != 0:
                break
        return "".join(output)

    def download_artifact(self, name: str) -> Path:
        """Copy the reports folder as download-artifact lays out one artifact."""
        artifacts = self.workspace.parent / "artifacts"
        shutil.rmtree(artifacts, ignore_errors=True)
        shutil.copytree(self.workspace / "reports", artifacts / name)
        return artifacts

    def run_report(
        self, event: dict[str, Any], artifacts: Path, monkeypatch: pytest.MonkeyPatch
    ) -> int:
        for key, value in self.environment(event, "workflow_run").items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        return main(["report", str(artifacts)])


def pull_request_event(
    repo: GitRepository, base: str, head: str, labels: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "action": "synchronize",
        "number": NUMBER,
        "pull_request": {
            "number": NUMBER,
            "title": HOSTILE_TITLE,
            "head": {"sha": head, "ref": HOSTILE_BRANCH},
            "base": {"sha": base, "ref": "main"},
            "labels": [{"name": name} for name in labels],
        },
        "repository": {"full_name": REPOSITORY, "default_branch": "main"},
    }


def workflow_run_event(workflow: str, head: str, conclusion: str) -> dict[str, Any]:
    """Return the report workflow's event for a completed run of `workflow`.

    A validate run comes from the pull request's pull_request event. A mock-score run
    comes from a workflow_run event on the default branch, so its own head_sha is the
    default branch's commit and its title names the pull request's head commit.
    """
    run = {
        "id": 4242,
        "name": workflow,
        "path": f".github/workflows/{workflow}.yml",
        "event": "pull_request",
        "head_sha": head,
        "head_branch": HOSTILE_BRANCH,
        "display_title": HOSTILE_TITLE,
        "conclusion": conclusion,
        "html_url": f"https://github.com/{REPOSITORY}/actions/runs/4242",
        # GitHub leaves this empty for pull requests from forks.
        "pull_requests": [],
    }
    if workflow == "mock-score":
        run.update(
            event="workflow_run",
            head_sha=DEFAULT_BRANCH_SHA,
            head_branch="main",
            display_title=f"mock score of {head}",
        )
    return {
        "action": "completed",
        "workflow_run": run,
        "repository": {"full_name": REPOSITORY, "default_branch": "main"},
    }


def submission_files(repo: GitRepository) -> list[dict[str, str]]:
    """Return the pull request's files as GitHub lists them, for the copied case."""
    paths = sorted((repo.path / SUBMISSION).rglob("*"))
    return [
        {"filename": path.relative_to(repo.path).as_posix(), "status": "added"}
        for path in paths
        if path.is_file()
    ]


@pytest.fixture
def played(tmp_path: Path, github_server: GitHubServer) -> dict[str, Any]:
    workspace = tmp_path / "workspace"
    repo = GitRepository(workspace / "pr")
    base = repo.commit({"README.md": "submissions by pull request\n"}, "base")
    repo.branch("contributor")
    copy_case(repo)
    head = repo.commit({}, "Add good-minimal")
    pull = github_server.state.add_pull(
        REPOSITORY,
        PullRequest(
            number=NUMBER,
            title=HOSTILE_TITLE,
            author="ada",
            head_ref=HOSTILE_BRANCH,
            head_sha=head,
            base_sha=base,
            files=submission_files(repo),
        ),
    )
    return {
        "repo": repo,
        "base": base,
        "head": head,
        "pull": pull,
        "workflow": Workflow(workspace, github_server),
    }


def comments(server: GitHubServer) -> list[Any]:
    return server.state.comments_on(REPOSITORY, NUMBER)


@pytest.mark.slow
def test_pull_request_round_trip(
    played: dict[str, Any], github_server: GitHubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, workflow, pull = played["repo"], played["workflow"], played["pull"]
    state = github_server.state

    # Push 1: a valid submission.
    stdout = workflow.run_validate(pull_request_event(repo, played["base"], played["head"]))
    artifacts = workflow.download_artifact("validate-report")
    code = workflow.run_report(
        workflow_run_event("validate", played["head"], "success"), artifacts, monkeypatch
    )

    assert code == 0
    assert sorted(path.name for path in (artifacts / "validate-report").iterdir()) == [
        "pull-request.json",
        "scope.json",
        "submissions.list",
        "validate.json",
    ]
    assert "case-good-minimal" in stdout
    assert "## Brain-Score submission validate" in workflow.summary.read_text()
    assert len(comments(github_server)) == 1
    first = comments(github_server)[0]
    assert first.body.startswith(MARKER)
    assert f"Validation of `{played['head'][:7]}`: passed" in first.body
    assert pull.labels == ["validated"]

    # Push 2: a hostile file and an undeclared import; the same comment is edited.
    head = repo.commit(
        {HOSTILE_FILE: "x\n", f"{SUBMISSION}/models/extra.py": "import timm\n"}, "Break it"
    )
    pull.head_sha = head
    stdout = workflow.run_validate(pull_request_event(repo, played["base"], head))
    artifacts = workflow.download_artifact("validate-report")
    code = workflow.run_report(
        workflow_run_event("validate", head, "failure"), artifacts, monkeypatch
    )

    body = comments(github_server)[0].body
    assert code == 0
    assert len(comments(github_server)) == 1
    comment_path = f"/repos/{REPOSITORY}/issues/{NUMBER}/comments"
    assert [request.path for request in state.requests_of("POST")].count(comment_path) == 1
    assert len(state.requests_of("PATCH")) == 1
    assert f"Validation of `{head[:7]}`: failed" in body
    assert "`undeclared-dependency`" in body
    assert "`stray-file`" in body
    assert f"::error file={SUBMISSION}/models/extra.py,line=1,title=undeclared-dependency::" in (
        stdout
    )
    assert set(pull.labels) == {"needs-changes"}
    assert_no_injection(body, workflow)


def assert_no_injection(body: str, workflow: Workflow) -> None:
    assert workflow.output.read_text() == ""
    # No HTML, link or mention from the pull request in the comment.
    assert re.search(r"(?<!\\)<(?!!-- )", body) is None
    outside_chart = body.split("```mermaid")[0].replace("[workflow run]", "")
    assert re.search(r"(?<!\\)\[", outside_chart) is None
    assert "@maintainers" not in body
    assert not Path("/tmp/pwned").exists()


# NOTE: tooling/reports/text.py writes problem messages as they are, and the stray-file
# message quotes the file name, so a newline in a name starts a line of its own in the job
# log. Strict, so that the fix there turns this test into a failure that removes the mark.
def test_job_log_has_no_injected_commands(played: dict[str, Any]) -> None:
    repo, workflow = played["repo"], played["workflow"]
    head = repo.commit({HOSTILE_FILE: "x\n"}, "Add a hostile file name")

    stdout = workflow.run_validate(pull_request_event(repo, played["base"], head))

    commands = [line for line in stdout.splitlines() if line.startswith("::")]
    assert commands
    for line in commands:
        assert re.match(r"::(error|warning) file=", line), line


@pytest.mark.slow
def test_mock_score_joins_comment(
    played: dict[str, Any],
    github_server: GitHubServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    repo, workflow, pull = played["repo"], played["workflow"], played["pull"]
    head = played["head"]
    workflow.run_validate(pull_request_event(repo, played["base"], head))
    workflow.run_report(
        workflow_run_event("validate", head, "success"),
        workflow.download_artifact("validate-report"),
        monkeypatch,
    )
    # The GPU job's artifact: written here through the report model, as the mock-score
    # command writes it, because the real run needs the model stack.
    artifacts = tmp_path / "mock-artifacts"
    (artifacts / "mock-score-report").mkdir(parents=True)
    model = {
        "identifier": "case-good-minimal",
        "kind": "base",
        "ok": True,
        "layers": ["conv", "fc"],
        "layer_scores": {
            "V1": {"conv": 0.4, "fc": 0.1},
            "V2": {},
            "V4": {},
            "IT": {"conv": 0.2, "fc": 0.6},
        },
        "regions": {"V1": {"layer": "conv", "raw": 0.4, "ceiling": 0.8, "ceiled": 0.5}},
    }
    report = Report(
        "mock-score",
        [
            SubmissionReport(
                SUBMISSION,
                [Problem("placeholder-bibtex", "get_bibtex returns the template's example")],
                [model],
            )
        ],
    )
    (artifacts / "mock-score-report" / "mock-score.json").write_text(report.to_json())
    # The scope job passes on the validate run's pull-request.json as its own artifact.
    (artifacts / "pull-request-report").mkdir()
    (artifacts / "pull-request-report" / "pull-request.json").write_text(
        json.dumps({"number": NUMBER, "head_sha": head})
    )

    code = workflow.run_report(
        workflow_run_event("mock-score", head, "success"), artifacts, monkeypatch
    )

    body = comments(github_server)[0].body
    assert code == 0
    assert len(comments(github_server)) == 1
    assert f"Validation of `{head[:7]}`: passed" in body
    assert f"Mock score of `{head[:7]}`: passed" in body
    assert "```mermaid\nxychart-beta\n" in body
    assert set(pull.labels) == {"validated", "mock-scored"}


def test_report_rejects_artifact_for_other_pull_request(
    played: dict[str, Any],
    github_server: GitHubServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    other = github_server.state.add_pull(
        REPOSITORY,
        PullRequest(
            number=99, title="someone else's", author="bob", head_ref="b", head_sha="c" * 40
        ),
    )
    artifacts = tmp_path / "artifacts" / "validate-report"
    artifacts.mkdir(parents=True)
    (artifacts / "pull-request.json").write_text(json.dumps({"number": other.number}))
    (artifacts / "validate.json").write_text(Report("validate", []).to_json())

    code = played["workflow"].run_report(
        workflow_run_event("validate", played["head"], "success"), artifacts.parent, monkeypatch
    )

    assert code == 0
    assert github_server.state.comments_on(REPOSITORY, 99) == []
    assert other.labels == []


def test_report_rejects_invalid_artifact(
    played: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    artifacts = tmp_path / "artifacts" / "validate-report"
    artifacts.mkdir(parents=True)
    (artifacts / "validate.json").write_text(json.dumps({"command": "validate", "x": 1}))

    code = played["workflow"].run_report(
        workflow_run_event("validate", played["head"], "success"), artifacts.parent, monkeypatch
    )

    assert code == 1
    assert "invalid report" in capsys.readouterr().err


def test_report_cancelled_run_posts_nothing(
    played: dict[str, Any],
    tmp_path: Path,
    github_server: GitHubServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code = played["workflow"].run_report(
        workflow_run_event("validate", played["head"], "cancelled"), tmp_path, monkeypatch
    )
    assert code == 0
    assert github_server.state.requests == []


def test_report_dry_run_prints_comment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_EVENT_PATH", raising=False)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    (tmp_path / "validate.json").write_text(Report("validate", []).to_json())

    code = main(
        ["report", "--dry-run", "--section", "validate", "--head-sha", "d" * 40, str(tmp_path)]
    )

    assert code == 0
    assert capsys.readouterr().out.startswith(MARKER)


def test_report_checks_each_artifact_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_EVENT_PATH", raising=False)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    (tmp_path / "validate.json").write_text(Report("validate", []).to_json())
    checked: list[Any] = []
    validate = jsonschema.validate

    def counting_validate(instance: Any, schema: Any) -> None:
        checked.append(instance)
        validate(instance, schema)

    monkeypatch.setattr(jsonschema, "validate", counting_validate)

    code = main(
        ["report", "--dry-run", "--section", "validate", "--head-sha", "d" * 40, str(tmp_path)]
    )

    assert code == 0
    assert len(checked) == 1


def test_report_unknown_workflow_is_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"workflow_run": {"path": ".github/workflows/other.yml"}}))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))

    code = main(["report", "--dry-run", str(tmp_path)])

    assert code == 1
    assert "unknown check workflow" in capsys.readouterr().err


def test_validate_runs_base_tooling_not_pr_copy(played: dict[str, Any]) -> None:
    # The maintenance label lets the scope guard pass, so the validate step runs in the
    # pull request's checkout, next to its own `tooling` package.
    repo, workflow = played["repo"], played["workflow"]
    head = repo.commit(
        {
            "tooling/__init__.py": "",
            "tooling/__main__.py": "print('the pull request\\'s tooling ran')\n",
        },
        "Replace the tooling",
    )

    stdout = workflow.run_validate(
        pull_request_event(repo, played["base"], head, labels=("maintenance",))
    )

    assert "the pull request's tooling ran" not in stdout
    assert "case-good-minimal" in stdout


def write_artifacts(folder: Path, name: str, report: Report, head: str) -> Path:
    """Write a check run's artifact `name` with `report` and the pull request's number."""
    (folder / name).mkdir(parents=True)
    (folder / name / f"{report.command}.json").write_text(report.to_json())
    (folder / name / "pull-request.json").write_text(
        json.dumps({"number": NUMBER, "head_sha": head})
    )
    return folder


@pytest.mark.parametrize(
    ("workflow_name", "changed", "labels", "expected"),
    [
        pytest.param(
            "validate",
            [".github/workflows/validate.yml"],
            [],
            [],
            id="validate-edits-workflow",
        ),
        pytest.param(
            "validate",
            [".github/workflows/validate.yml"],
            ["maintenance"],
            ["maintenance", "validated"],
            id="validate-maintenance",
        ),
        pytest.param(
            "validate",
            ["submissions/other/setup.py"],
            [],
            [],
            id="validate-two-submissions",
        ),
        pytest.param(
            "mock-score",
            ["tooling/commands/mock_score.py"],
            [],
            [],
            id="mock-score-edits-tooling",
        ),
        pytest.param("mock-score", [], [], ["mock-scored"], id="mock-score-in-scope"),
    ],
)
def test_report_withholds_labels_outside_submission(
    played: dict[str, Any],
    github_server: GitHubServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    workflow_name: str,
    changed: list[str],
    labels: list[str],
    expected: list[str],
) -> None:
    pull, head = played["pull"], played["head"]
    pull.files += [{"filename": path, "status": "modified"} for path in changed]
    pull.labels = list(labels)
    # A passing report, as a pull request's edited workflow could write it.
    report = Report(workflow_name, [SubmissionReport(SUBMISSION, [], [{"identifier": "m"}])])
    artifacts = write_artifacts(tmp_path / "artifacts", f"{workflow_name}-report", report, head)

    code = played["workflow"].run_report(
        workflow_run_event(workflow_name, head, "success"), artifacts, monkeypatch
    )

    body = comments(github_server)[0].body
    assert code == 0
    assert sorted(pull.labels) == expected
    if changed and not labels:
        assert "label: it changes" in body
    else:
        assert "label: it changes" not in body


def test_report_names_files_outside_submission(
    played: dict[str, Any],
    github_server: GitHubServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    pull, head = played["pull"], played["head"]
    pull.files.append({"filename": ".github/workflows/validate.yml", "status": "modified"})
    pull.labels = ["validated"]
    report = Report("validate", [SubmissionReport(SUBMISSION)])
    artifacts = write_artifacts(tmp_path / "artifacts", "validate-report", report, head)

    played["workflow"].run_report(
        workflow_run_event("validate", head, "success"), artifacts, monkeypatch
    )

    body = comments(github_server)[0].body
    assert "No `validated` label: it changes files outside its submission folder: " in body
    assert ".github/workflows/validate.yml" in body
    assert pull.labels == []


def test_report_ignores_mock_score_from_pull_request_event(
    played: dict[str, Any],
    github_server: GitHubServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # A pull request's own copy of mock-score.yml would run on the pull_request event.
    head = played["head"]
    report = Report("mock-score", [SubmissionReport(SUBMISSION)])
    artifacts = write_artifacts(tmp_path / "artifacts", "mock-score-report", report, head)
    event = workflow_run_event("validate", head, "success")
    event["workflow_run"]["path"] = ".github/workflows/mock-score.yml"

    code = played["workflow"].run_report(event, artifacts, monkeypatch)

    assert code == 0
    assert github_server.state.requests == []


def test_report_mock_score_head_from_title(
    played: dict[str, Any],
    github_server: GitHubServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    head = played["head"]
    report = Report("mock-score", [SubmissionReport(SUBMISSION)])
    artifacts = write_artifacts(tmp_path / "artifacts", "mock-score-report", report, head)

    code = played["workflow"].run_report(
        workflow_run_event("mock-score", head, "success"), artifacts, monkeypatch
    )

    body = comments(github_server)[0].body
    assert code == 0
    assert f"<!-- section mock-score {head} -->" in body
    assert DEFAULT_BRANCH_SHA[:7] not in body


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 100_000 + "]" * 100_000, id="nested-lists"),
        pytest.param('{"a":' * 100_000 + "1" + "}" * 100_000, id="nested-objects"),
    ],
)
def test_report_rejects_deeply_nested_json(
    played: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
) -> None:
    artifacts = tmp_path / "artifacts" / "validate-report"
    artifacts.mkdir(parents=True)
    (artifacts / "validate.json").write_text(text)

    code = played["workflow"].run_report(
        workflow_run_event("validate", played["head"], "success"), artifacts.parent, monkeypatch
    )

    assert code == 1
    assert "invalid JSON in artifact" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("section", "ok", "conclusion", "current", "add", "remove"),
    [
        pytest.param(
            "validate",
            True,
            "success",
            False,
            ["validated"],
            ["needs-changes", "mock-scored"],
            id="validate-passed-new-commit",
        ),
        pytest.param(
            "validate",
            True,
            "success",
            True,
            ["validated"],
            ["needs-changes"],
            id="validate-passed-keeps-mock-score",
        ),
        pytest.param(
            "validate",
            False,
            "failure",
            False,
            ["needs-changes"],
            ["validated", "mock-scored"],
            id="validate-failed",
        ),
        pytest.param(
            "mock-score",
            True,
            "success",
            False,
            ["mock-scored"],
            ["needs-changes"],
            id="mock-score-passed",
        ),
        pytest.param(
            "mock-score",
            False,
            "failure",
            False,
            ["needs-changes"],
            ["mock-scored"],
            id="mock-score-failed",
        ),
    ],
)
def test_choose_labels(
    section: str, ok: bool, conclusion: str, current: bool, add: list[str], remove: list[str]
) -> None:
    from tooling.commands.report import choose_labels

    problems = [] if ok else [Problem("timeout", "the model timed out")]
    reports = [Report(section, [SubmissionReport(SUBMISSION, problems)])]

    assert choose_labels(section, reports, conclusion, current) == (add, remove)


def test_choose_labels_without_report_adds_nothing() -> None:
    from tooling.commands.report import choose_labels

    assert choose_labels("mock-score", [], "failure") == ([], ["mock-scored"])

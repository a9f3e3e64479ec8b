"""Safety checks over every workflow in .github/workflows, run on the YAML itself."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))
PULL_REQUEST_EVENTS = {
    "pull_request",
    "pull_request_target",
    "pull_request_review",
    "pull_request_review_comment",
    "issue_comment",
    "workflow_run",
}
# The write scopes a job may hold, by (workflow file, job id); every other scope is read
# or none.
ALLOWED_WRITES: dict[tuple[str, str], set[str]] = {
    ("report.yml", "report"): {"pull-requests"},
    # After a merge it comments on the merged pull request that scoring started.
    ("score.yml", "package-and-trigger"): {"pull-requests"},
}
PINNED_USES = re.compile(
    r"^\s*(-\s+)?uses:\s+(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})\s+#\s+v\d+(\.\d+)*\s*$"
)
LOCAL_USES = re.compile(r"^\s*(-\s+)?uses:\s+\./")


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the bare key `on` as the boolean True.
    value = workflow.get("on", workflow.get(True))
    if isinstance(value, str):
        return {value: None}
    if isinstance(value, list):
        return dict.fromkeys(value)
    return value


def jobs_with_steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, job) for name, job in workflow["jobs"].items() if "steps" in job]


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for _, job in jobs_with_steps(workflow) for step in job["steps"]]


def checkout_steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        step
        for step in steps(workflow)
        if str(step.get("uses", "")).startswith("actions/checkout@")
    ]


def runs_on(job: dict[str, Any]) -> list[str]:
    value = job.get("runs-on", [])
    return [value] if isinstance(value, str) else list(value)


def workflow_id(path: Path) -> str:
    return path.name


params = [pytest.param(path, id=path.name) for path in WORKFLOW_FILES]


def test_workflows_exist() -> None:
    names = {path.name for path in WORKFLOW_FILES}
    assert {"validate.yml", "mock-score.yml", "report.yml", "ci.yml"} <= names


@pytest.mark.parametrize("path", params)
def test_top_level_permissions_empty(path: Path) -> None:
    assert load(path)["permissions"] == {}


@pytest.mark.parametrize("path", params)
def test_job_permissions_least(path: Path) -> None:
    for name, job in load(path)["jobs"].items():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{name}: permissions must list scopes"
        writes = {scope for scope, level in permissions.items() if level == "write"}
        assert writes <= ALLOWED_WRITES.get((path.name, name), set()), f"{name}: {writes}"
        assert set(permissions.values()) <= {"read", "write", "none"}, name


@pytest.mark.parametrize("path", params)
def test_uses_pinned_with_version(path: Path) -> None:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if re.match(r"^\s*(-\s+)?uses:", line) and not LOCAL_USES.match(line):
            assert PINNED_USES.match(line), f"{path.name}:{number}: {line.strip()}"


@pytest.mark.parametrize("path", params)
def test_checkout_without_credentials(path: Path) -> None:
    for step in checkout_steps(load(path)):
        assert step.get("with", {}).get("persist-credentials") is False, step


@pytest.mark.parametrize("path", params)
def test_no_expressions_in_run(path: Path) -> None:
    for step in steps(load(path)):
        script = step.get("run", "")
        assert "${{" not in script, f"{path.name}: pass values through env: {script!r}"


@pytest.mark.parametrize("path", params)
def test_no_expressions_from_pull_request_text(path: Path) -> None:
    # Outside run: too, such text may only reach env: or with: inputs of pinned actions.
    text = path.read_text(encoding="utf-8")
    assert "github.head_ref" not in text
    for field in ("title", "body", "label", "ref", "message", "name"):
        pattern = rf"github\.event\.[\w.]*\.{field}\b(?!_)"
        hits = [match.group(0) for match in re.finditer(pattern, text)]
        allowed = {"github.event.repository.name"}
        assert set(hits) <= allowed, hits


@pytest.mark.parametrize("path", params)
def test_pull_request_target_never_checks_out_head(path: Path) -> None:
    workflow = load(path)
    if "pull_request_target" not in triggers(workflow):
        return
    for step in checkout_steps(workflow):
        ref = str(step.get("with", {}).get("ref", ""))
        assert "head" not in ref, step
        assert "pull" not in ref, step


def test_report_workflow_never_checks_out_head() -> None:
    workflow = load(WORKFLOWS / "report.yml")
    assert set(triggers(workflow)) == {"workflow_run"}
    for step in checkout_steps(workflow):
        assert step["with"]["ref"] == "${{ github.event.repository.default_branch }}"


def test_report_workflow_reads_the_check_workflows() -> None:
    workflow = load(WORKFLOWS / "report.yml")
    names = {load(WORKFLOWS / name)["name"] for name in ("validate.yml", "mock-score.yml")}
    assert set(triggers(workflow)["workflow_run"]["workflows"]) == names


@pytest.mark.parametrize("path", params)
def test_self_hosted_jobs_gated(path: Path) -> None:
    workflow = load(path)
    from_pull_requests = bool(set(triggers(workflow)) & PULL_REQUEST_EVENTS)
    for name, job in jobs_with_steps(workflow):
        if "self-hosted" not in runs_on(job) or not from_pull_requests:
            continue
        assert set(triggers(workflow)) == {"pull_request"}, name
        assert job.get("environment") == "gpu", name
        assert "validate" in job.get("needs", []), name
        assert isinstance(job.get("timeout-minutes"), int), name
        assert workflow["concurrency"]["cancel-in-progress"] is True
        assert "secrets." not in yaml.safe_dump(job), name


@pytest.mark.parametrize("path", params)
def test_jobs_have_timeouts(path: Path) -> None:
    for name, job in jobs_with_steps(load(path)):
        assert isinstance(job.get("timeout-minutes"), int), name


@pytest.mark.parametrize("name", ["validate.yml", "mock-score.yml", "report.yml"])
def test_check_steps_are_tooling_calls(name: str) -> None:
    for step in steps(load(WORKFLOWS / name)):
        script = step.get("run")
        if script is None or script.startswith("python -m pip install"):
            continue
        assert "python -m tooling " in script, script


def test_validate_uses_base_install_from_base_commit() -> None:
    workflow = load(WORKFLOWS / "validate.yml")
    scripts = [step["run"] for step in steps(workflow) if "run" in step]
    assert "python -m pip install ./base" in scripts
    [base] = [step for step in checkout_steps(workflow) if step["with"].get("path") == "base"]
    assert base["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"


@pytest.mark.parametrize("name", ["validate.yml", "mock-score.yml"])
def test_reports_uploaded(name: str) -> None:
    uploads = [
        step
        for step in steps(load(WORKFLOWS / name))
        if str(step.get("uses", "")).startswith("actions/upload-artifact@")
    ]
    assert len(uploads) == 1
    assert uploads[0]["with"]["name"].endswith("-report")


def tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip(f"{name} is not installed; pip install -e '.[dev]'")
    return found


def test_zizmor_reports_nothing() -> None:
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", str(WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_match_github_schema() -> None:
    result = subprocess.run(
        [
            tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, WORKFLOW_FILES),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("line", "pinned"),
    [
        pytest.param(
            "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2",
            True,
            id="sha-and-version",
        ),
        pytest.param("      - uses: actions/checkout@v4", False, id="tag"),
        pytest.param(
            "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683",
            False,
            id="no-version-comment",
        ),
        pytest.param("      - uses: actions/checkout@11bd719 # v4", False, id="short-sha"),
    ],
)
def test_pinned_uses_pattern(line: str, pinned: bool) -> None:
    assert bool(PINNED_USES.match(line)) is pinned

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
# A command line that runs the tooling package, with the interpreter's options before -m.
TOOLING_CALL = re.compile(r"\bpython3?(?P<options>(?:\s+-[A-Za-z]+)*)\s+-m\s+tooling\b")
WORKFLOW_RUN_HEAD_SHA = "${{ github.event.workflow_run.head_sha }}"
WORKFLOW_RUN_HEAD_REPOSITORY = "${{ github.event.workflow_run.head_repository.full_name }}"


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


def self_hosted_jobs(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, job) for name, job in jobs_with_steps(workflow) if "self-hosted" in runs_on(job)]


def pull_request_checkouts(workflow: dict[str, Any], job: dict[str, Any]) -> list[str]:
    """Return the paths where `job` checks out pull-request code ("." for the workspace).

    A checkout of a head commit is pull-request code, and so is a checkout without a ref
    in a workflow that a pull request starts, which gets the pull request's merge commit.
    """
    from_pull_requests = bool(set(triggers(workflow)) & PULL_REQUEST_EVENTS)
    paths = []
    for step in job["steps"]:
        if not str(step.get("uses", "")).startswith("actions/checkout@"):
            continue
        inputs = step.get("with", {})
        ref = str(inputs.get("ref", ""))
        if "head" in ref or (not ref and from_pull_requests):
            paths.append(str(inputs.get("path", ".")).strip("/") or ".")
    return paths


def inside(folder: str, checkout: str) -> bool:
    folder = folder.strip("/") or "."
    return checkout == "." or folder == checkout or folder.startswith(checkout + "/")


def test_self_hosted_only_in_mock_score() -> None:
    # A workflow that a pull request starts runs the pull request's copy of the file, so
    # only a workflow_run workflow, which runs the default branch's copy, may hold the
    # self-hosted job.
    for path in WORKFLOW_FILES:
        if path.name != "mock-score.yml":
            assert "self-hosted" not in path.read_text(encoding="utf-8"), path.name
    assert self_hosted_jobs(load(WORKFLOWS / "mock-score.yml"))


@pytest.mark.parametrize("path", params)
def test_self_hosted_jobs_gated(path: Path) -> None:
    workflow = load(path)
    for name, job in self_hosted_jobs(workflow):
        assert set(triggers(workflow)) == {"workflow_run"}, name
        assert job.get("environment") == "gpu", name
        assert job["permissions"] == {"contents": "read"}, name
        assert isinstance(job.get("timeout-minutes"), int), name
        assert workflow["concurrency"]["cancel-in-progress"] is True
        assert "secrets." not in yaml.safe_dump(job), name


def test_mock_score_starts_after_validate() -> None:
    workflow = load(WORKFLOWS / "mock-score.yml")
    trigger = triggers(workflow)["workflow_run"]
    gate = workflow["jobs"]["scope"]["if"]
    assert trigger == {"workflows": ["validate"], "types": ["completed"]}
    assert "github.event.workflow_run.conclusion == 'success'" in gate
    assert "github.event.workflow_run.event == 'pull_request'" in gate
    assert workflow["jobs"]["mock-score"]["needs"] == "scope"


def test_mock_score_concurrency_per_branch() -> None:
    group = load(WORKFLOWS / "mock-score.yml")["concurrency"]["group"]
    assert "github.event.workflow_run.head_repository.full_name" in group
    assert "github.event.workflow_run.head_branch" in group


def test_mock_score_checks_out_workflow_run_head() -> None:
    workflow = load(WORKFLOWS / "mock-score.yml")
    for name, job in jobs_with_steps(workflow):
        checkouts = [
            step["with"]
            for step in job["steps"]
            if str(step.get("uses", "")).startswith("actions/checkout@")
        ]
        heads = [inputs for inputs in checkouts if inputs.get("path") == "pr"]
        [base] = [inputs for inputs in checkouts if inputs.get("path") == "base"]
        assert len(heads) == 1, name
        assert heads[0]["ref"] == WORKFLOW_RUN_HEAD_SHA, name
        assert heads[0]["repository"] == WORKFLOW_RUN_HEAD_REPOSITORY, name
        # In a workflow_run run github.sha is the default branch's commit.
        assert base["ref"] == "${{ github.sha }}", name


@pytest.mark.parametrize("path", params)
def test_tooling_never_imported_from_pull_request(path: Path) -> None:
    # `python -m` puts the working directory first on sys.path, so in a pull request's
    # checkout its own `tooling` folder would run; -P leaves the working directory out.
    workflow = load(path)
    for name, job in jobs_with_steps(workflow):
        checkouts = pull_request_checkouts(workflow, job)
        default = job.get("defaults", {}).get("run", {}).get("working-directory", ".")
        for step in job["steps"]:
            folder = step.get("working-directory", default)
            if not any(inside(folder, checkout) for checkout in checkouts):
                continue
            for call in TOOLING_CALL.finditer(step.get("run", "")):
                assert "-P" in call["options"].split(), f"{name}: {call.group(0)}"


@pytest.mark.parametrize(
    ("script", "safe"),
    [
        pytest.param("python -P -m tooling validate x", True, id="safe-path"),
        pytest.param("xargs -0 python -P -m tooling validate --", True, id="after-xargs"),
        pytest.param("python -m tooling validate x", False, id="plain"),
        pytest.param("python3 -u -m tooling scope", False, id="other-option"),
    ],
)
def test_tooling_call_pattern(script: str, safe: bool) -> None:
    [call] = TOOLING_CALL.finditer(script)
    assert ("-P" in call["options"].split()) is safe


@pytest.mark.parametrize(
    ("folder", "checkout", "expected"),
    [
        pytest.param("pr", "pr", True, id="checkout"),
        pytest.param("pr/sub", "pr", True, id="below"),
        pytest.param(".", "pr", False, id="workspace"),
        pytest.param("prefix", "pr", False, id="same-prefix"),
        pytest.param("base", ".", True, id="workspace-checkout"),
    ],
)
def test_inside_checkout(folder: str, checkout: str, expected: bool) -> None:
    assert inside(folder, checkout) is expected


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
        assert TOOLING_CALL.search(script), script


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
    assert uploads
    for upload in uploads:
        assert upload["with"]["name"].endswith("-report")


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

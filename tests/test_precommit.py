"""Tests of the pre-commit hooks: this repository's own and the published one.

The slow tests install the hooks with pre-commit into temporary git repositories and
commit there. pre-commit builds each hook's environment with pip, which fetches the
pinned packages from PyPI; the environments are shared by all tests of a session.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tooling.cli import main
from tooling.commands.validate_files import submission_folders

ROOT = Path(__file__).resolve().parents[1]

# The files a snapshot of the tooling needs to install and to run its hooks.
SNAPSHOT_FILES = (
    "pyproject.toml",
    "README.md",
    ".pre-commit-config.yaml",
    ".pre-commit-hooks.yaml",
)

SYNTAX_ERROR = "def get_model(name)\n    return name\n"


@pytest.fixture
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository root with two submissions, as the working directory."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "submissions").mkdir()
    assert main(["new", "good-net"]) == 0
    assert main(["new", "broken-net"]) == 0
    (tmp_path / "submissions/broken-net/models/base_models.py").write_text(
        SYNTAX_ERROR, encoding="utf-8"
    )
    return tmp_path


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(["submissions/good-net/setup.py"], ["submissions/good-net"], id="one-file"),
        pytest.param(
            ["submissions/good-net/setup.py", "submissions/good-net/models/__init__.py"],
            ["submissions/good-net"],
            id="same-folder-once",
        ),
        pytest.param(
            ["submissions/good-net/setup.py", "submissions/broken-net/setup.py"],
            ["submissions/broken-net", "submissions/good-net"],
            id="two-folders-sorted",
        ),
        pytest.param(["./submissions/good-net/setup.py"], ["submissions/good-net"], id="dot-slash"),
        pytest.param(["tooling/cli.py", "README.md"], [], id="outside-submissions"),
        pytest.param(["submissions/README.md"], [], id="directly-in-submissions"),
        pytest.param(["submissions/deleted-net/setup.py"], [], id="deleted-folder"),
        pytest.param(["other/submissions/good-net/setup.py"], [], id="nested-name"),
        pytest.param([], [], id="no-files"),
    ],
)
def test_submission_folders_maps_files(
    repository: Path, files: list[str], expected: list[str]
) -> None:
    folders = submission_folders(files)

    assert [folder.as_posix() for folder in folders] == expected


def test_validate_files_accepts_good(repository: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exit_code = main(["validate-files", "--format", "json", "submissions/good-net/setup.py"])

    report = json.loads(capsys.readouterr().out)
    assert exit_code == 0
    assert [entry["submission"] for entry in report["submissions"]] == ["submissions/good-net"]


def test_validate_files_rejects_broken(
    repository: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exit_code = main(
        ["validate-files", "--format", "json", "submissions/broken-net/models/base_models.py"]
    )

    report = json.loads(capsys.readouterr().out)
    codes = [problem["code"] for problem in report["submissions"][0]["problems"]]
    assert exit_code == 1
    assert "syntax-error" in codes


def test_validate_files_finds_duplicate_elsewhere(
    repository: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new", "copy-net"]) == 0
    module = repository / "submissions/copy-net/models/base_models.py"
    module.write_text(
        module.read_text(encoding="utf-8").replace('["copy-net"]', '["good-net"]'),
        encoding="utf-8",
    )
    capsys.readouterr()

    exit_code = main(["validate-files", "--format", "json", "submissions/copy-net/setup.py"])

    report = json.loads(capsys.readouterr().out)
    duplicates = [
        problem
        for problem in report["submissions"][0]["problems"]
        if problem["code"] == "duplicate-identifier"
    ]
    assert exit_code == 1
    assert len(duplicates) == 1
    assert "submissions/good-net" in duplicates[0]["message"]
    assert duplicates[0]["file"] == "submissions/copy-net/models/base_models.py"


def test_validate_files_finds_duplicate_differing_in_case(
    repository: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new", "case-net"]) == 0
    module = repository / "submissions/case-net/models/base_models.py"
    module.write_text(
        module.read_text(encoding="utf-8").replace('["case-net"]', '["Good-Net"]'),
        encoding="utf-8",
    )
    capsys.readouterr()

    exit_code = main(["validate-files", "--format", "json", "submissions/case-net/setup.py"])

    report = json.loads(capsys.readouterr().out)
    messages = [
        problem["message"]
        for problem in report["submissions"][0]["problems"]
        if problem["code"] == "duplicate-identifier"
    ]
    assert exit_code == 1
    assert len(messages) == 1
    assert "'Good-Net' differs only in case from 'good-net' in submissions/good-net" in messages[0]


def test_validate_finds_duplicate_in_sibling(
    repository: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new", "copy-net"]) == 0
    module = repository / "submissions/copy-net/models/base_models.py"
    module.write_text(
        module.read_text(encoding="utf-8").replace('["copy-net"]', '["good-net"]'),
        encoding="utf-8",
    )
    capsys.readouterr()

    exit_code = main(["validate", "submissions/copy-net"])

    output = capsys.readouterr().out
    assert exit_code == 1
    assert "is also the identifier of a model in submissions/good-net" in output


def test_validate_files_ignores_other_files(
    repository: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exit_code = main(["validate-files", "tooling/cli.py", "submissions/deleted-net/setup.py"])

    assert exit_code == 0
    assert capsys.readouterr().out == ""


def test_config_hooks_are_local() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))

    assert [repo["repo"] for repo in config["repos"]] == ["local"]


def test_config_dependencies_are_pinned() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]

    unpinned = [
        (hook["id"], dependency)
        for hook in hooks
        for dependency in hook.get("additional_dependencies", [])
        if not re.fullmatch(r"[A-Za-z0-9._-]+==[0-9][A-Za-z0-9.]*", dependency)
    ]
    assert unpinned == []


def test_config_pins_ruff_as_pyproject() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    ruff_pins = {
        dependency
        for repo in config["repos"]
        for hook in repo["hooks"]
        for dependency in hook.get("additional_dependencies", [])
        if dependency.startswith("ruff==")
    }

    assert len(ruff_pins) == 1
    assert f'"{ruff_pins.pop()}"' in pyproject


def test_config_covers_each_area() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}

    assert hooks["ruff-check"]["files"] == "^(tooling|tests)/"
    assert hooks["ruff-format"]["files"] == "^(tooling|tests)/"
    assert hooks["validate-submissions"]["files"] == "^submissions/"
    assert re.match(hooks["zizmor"]["files"], ".github/workflows/validate.yml")
    assert re.match(hooks["check-github-workflows"]["files"], ".github/workflows/score.yaml")


@pytest.mark.parametrize(
    ("command", "path"),
    [
        pytest.param("validate-config", ".pre-commit-config.yaml", id="config"),
        pytest.param("validate-manifest", ".pre-commit-hooks.yaml", id="manifest"),
    ],
)
def test_pre_commit_accepts_file(command: str, path: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", command, str(ROOT / path)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


# The installed hooks: real pre-commit, real git, real commits.


@pytest.fixture(scope="session")
def git_environment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for git and pre-commit, with one hook cache for the whole session."""
    environment = dict(os.environ)
    environment.update(
        PRE_COMMIT_HOME=str(tmp_path_factory.mktemp("pre-commit-home")),
        GIT_AUTHOR_NAME="Test Author",
        GIT_AUTHOR_EMAIL="author@example.com",
        GIT_COMMITTER_NAME="Test Author",
        GIT_COMMITTER_EMAIL="author@example.com",
        # Keep the user's and the machine's git settings (signing, hooks path) out.
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    # The hooks must run on what pre-commit installs, not on this test's environment.
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
        environment.pop(name, None)
    environment["PATH"] = os.pathsep.join(
        [str(Path(sys.executable).parent), environment.get("PATH", "")]
    )
    return environment


def git(folder: Path, environment: dict[str, str], *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", *arguments],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def run_checked(folder: Path, environment: dict[str, str], *command: str) -> str:
    result = subprocess.run(
        command, cwd=folder, env=environment, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def commit(folder: Path, environment: dict[str, str], message: str) -> tuple[int, str]:
    """Stage everything in `folder`, commit it and return git's exit status and output.

    git sends a hook's output to stderr, so the output is stdout and stderr together.
    """
    assert git(folder, environment, "add", "-A").returncode == 0
    result = git(folder, environment, "commit", "-m", message)
    return result.returncode, result.stdout + result.stderr


def init_repository(folder: Path, environment: dict[str, str]) -> None:
    assert git(folder, environment, "init", "-q", "-b", "main").returncode == 0


def snapshot_tooling(target: Path, environment: dict[str, str]) -> str:
    """Commit a copy of this checkout's tooling into the new repository `target`.

    The copy is what a fresh clone holds: the package, its metadata and the hook files,
    without caches. Returns the commit's hash.
    """
    target.mkdir()
    shutil.copytree(
        ROOT / "tooling", target / "tooling", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    for name in SNAPSHOT_FILES:
        shutil.copy2(ROOT / name, target / name)
    (target / "submissions").mkdir()
    (target / "submissions/.gitkeep").write_text("", encoding="utf-8")
    init_repository(target, environment)
    assert commit(target, environment, "Snapshot the tooling")[0] == 0
    return git(target, environment, "rev-parse", "HEAD").stdout.strip()


@pytest.fixture(scope="session")
def tooling_clone(
    tmp_path_factory: pytest.TempPathFactory, git_environment: dict[str, str]
) -> tuple[Path, str]:
    """A git repository holding this checkout's tooling, and the commit to install."""
    folder = tmp_path_factory.mktemp("tooling-clone") / "repository"
    revision = snapshot_tooling(folder, git_environment)
    return folder, revision


@pytest.mark.slow
def test_repository_hook_blocks_broken_submission(
    tmp_path: Path, git_environment: dict[str, str]
) -> None:
    clone = tmp_path / "clone"
    snapshot_tooling(clone, git_environment)
    run_checked(clone, git_environment, sys.executable, "-m", "pre_commit", "install")
    run_checked(clone, git_environment, sys.executable, "-m", "tooling", "new", "mylab-net")
    module = clone / "submissions/mylab-net/models/base_models.py"
    good_text = module.read_text(encoding="utf-8")

    module.write_text(SYNTAX_ERROR, encoding="utf-8")
    rejected_status, rejected_output = commit(clone, git_environment, "Add a broken submission")
    module.write_text(good_text, encoding="utf-8")
    accepted_status, accepted_output = commit(clone, git_environment, "Add a submission")

    assert rejected_status == 1
    assert "syntax-error" in rejected_output
    assert accepted_status == 0, accepted_output
    assert "validate changed submissions" in accepted_output


@pytest.mark.slow
def test_repository_hook_skips_other_files(tmp_path: Path, git_environment: dict[str, str]) -> None:
    clone = tmp_path / "clone"
    snapshot_tooling(clone, git_environment)
    run_checked(clone, git_environment, sys.executable, "-m", "pre_commit", "install")

    (clone / "notes.txt").write_text("not a submission\n", encoding="utf-8")
    status, output = commit(clone, git_environment, "Add notes")

    assert status == 0, output
    assert re.search(r"validate changed submissions\.+\(no files to check\)Skipped", output)


WORKFLOW = """\
name: greet
on: pull_request
permissions: {}
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - run: echo RUN
"""


@pytest.mark.parametrize(
    ("workflow", "finding"),
    [
        pytest.param(
            WORKFLOW.replace("RUN", '"${{ github.event.pull_request.title }}"'),
            "template-injection",
            id="zizmor",
        ),
        pytest.param(
            WORKFLOW.replace("    runs-on: ubuntu-latest\n", ""),
            "'runs-on' is a required property",
            id="schema",
        ),
    ],
)
@pytest.mark.slow
def test_repository_hooks_check_workflows(
    tmp_path: Path, git_environment: dict[str, str], workflow: str, finding: str
) -> None:
    clone = tmp_path / "clone"
    snapshot_tooling(clone, git_environment)
    run_checked(clone, git_environment, sys.executable, "-m", "pre_commit", "install")
    path = clone / ".github/workflows/greet.yml"
    path.parent.mkdir(parents=True)

    path.write_text(workflow, encoding="utf-8")
    rejected_status, rejected_output = commit(clone, git_environment, "Add a broken workflow")
    path.write_text(WORKFLOW.replace("RUN", "hello"), encoding="utf-8")
    accepted_status, accepted_output = commit(clone, git_environment, "Add a workflow")

    assert rejected_status == 1
    assert finding in rejected_output
    assert accepted_status == 0, accepted_output


def write_project_config(project: Path, hook_repository: Path, revision: str) -> None:
    config = {
        "repos": [
            {
                "repo": str(hook_repository),
                "rev": revision,
                "hooks": [{"id": "validate-submission"}],
            }
        ]
    }
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")


@pytest.mark.slow
def test_published_hook_in_outside_project(
    tmp_path: Path, git_environment: dict[str, str], tooling_clone: tuple[Path, str]
) -> None:
    hook_repository, revision = tooling_clone
    project = tmp_path / "project"
    assert main(["new", "outside-net", "--directory", str(project)]) == 0
    init_repository(project, git_environment)
    write_project_config(project, hook_repository, revision)
    run_checked(project, git_environment, sys.executable, "-m", "pre_commit", "install")
    module = project / "models/base_models.py"
    good_text = module.read_text(encoding="utf-8")

    module.write_text(SYNTAX_ERROR, encoding="utf-8")
    rejected_status, rejected_output = commit(project, git_environment, "Add a broken model")
    module.write_text(good_text, encoding="utf-8")
    accepted_status, accepted_output = commit(project, git_environment, "Add a model")

    assert rejected_status == 1
    assert "syntax-error" in rejected_output
    assert "models/base_models.py" in rejected_output
    assert accepted_status == 0, accepted_output
    assert "validate Brain-Score submission" in accepted_output


@pytest.mark.slow
def test_published_hook_rejects_undeclared_import(
    tmp_path: Path, git_environment: dict[str, str], tooling_clone: tuple[Path, str]
) -> None:
    hook_repository, revision = tooling_clone
    project = tmp_path / "project"
    assert main(["new", "outside-net", "--directory", str(project)]) == 0
    init_repository(project, git_environment)
    write_project_config(project, hook_repository, revision)
    run_checked(project, git_environment, sys.executable, "-m", "pre_commit", "install")
    module = project / "models/base_models.py"
    module.write_text("import timm\n" + module.read_text(encoding="utf-8"), encoding="utf-8")

    rejected_status, rejected_output = commit(
        project, git_environment, "Import timm without declaring it"
    )

    assert rejected_status == 1
    assert "undeclared-dependency" in rejected_output

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.gitrepo import GitRepository
from tooling.changes import FileChange, find_changes, parse_name_status, submission_of
from tooling.cli import main

SETUP = "from setuptools import setup\nsetup(name='x')\n"


@pytest.fixture
def repo(tmp_path: Path) -> GitRepository:
    repository = GitRepository(tmp_path / "repo")
    repository.commit(
        {
            "README.md": "readme\n",
            "submissions/alexnet/setup.py": SETUP,
            "submissions/alexnet/models/__init__.py": "",
            "submissions/vgg/setup.py": SETUP,
        },
        "base",
    )
    return repository


@pytest.mark.parametrize(
    ("path", "folder"),
    [
        pytest.param("submissions/a/setup.py", "submissions/a", id="file"),
        pytest.param("submissions/a/models/x.py", "submissions/a", id="nested"),
        pytest.param("submissions/README.md", None, id="directly-in-submissions"),
        pytest.param("tooling/cli.py", None, id="outside"),
        pytest.param("submissionsx/a/b", None, id="prefix"),
    ],
)
def test_submission_of(path: str, folder: str | None) -> None:
    assert submission_of(path) == folder


def test_parse_name_status_rename() -> None:
    output = b"M\0a/x\0R087\0b/old\0c/new\0D\0d\0"
    assert parse_name_status(output) == [
        FileChange("M", "a/x"),
        FileChange("R", "c/new", "b/old"),
        FileChange("D", "d"),
    ]


def test_added_folder(repo: GitRepository) -> None:
    repo.branch("head")
    repo.commit({"submissions/resnet/setup.py": SETUP})

    changes = find_changes(repo.path, "main", "head")

    assert changes.submissions == ["submissions/resnet"]
    assert changes.outside == []
    assert changes.deleted_submissions == []


def test_base_commits_after_fork_ignored(repo: GitRepository) -> None:
    repo.branch("head")
    repo.commit({"submissions/resnet/setup.py": SETUP})
    repo.checkout("main")
    repo.commit({"submissions/vgg/setup.py": SETUP + "# later\n", "docs/x.md": "x\n"})

    changes = find_changes(repo.path, "main", "head")

    assert changes.submissions == ["submissions/resnet"]
    assert changes.outside == []


def test_deleted_folder(repo: GitRepository) -> None:
    repo.branch("head")
    repo.commit({"submissions/vgg/setup.py": None})

    changes = find_changes(repo.path, "main", "head")

    assert changes.submissions == ["submissions/vgg"]
    assert changes.deleted_submissions == ["submissions/vgg"]


def test_rename_reports_both_folders(repo: GitRepository) -> None:
    repo.branch("head")
    repo.git("mv", "submissions/vgg", "submissions/vgg16")
    repo.commit({})

    changes = find_changes(repo.path, "main", "head")

    assert changes.submissions == ["submissions/vgg", "submissions/vgg16"]
    assert changes.files == (
        FileChange("R", "submissions/vgg16/setup.py", "submissions/vgg/setup.py"),
    )


def test_outside_files(repo: GitRepository) -> None:
    repo.branch("head")
    repo.commit(
        {
            "README.md": "changed\n",
            "submissions/notes.txt": "x\n",
            "submissions/alexnet/setup.py": SETUP + "#\n",
        }
    )

    changes = find_changes(repo.path, "main", "head")

    assert changes.submissions == ["submissions/alexnet"]
    assert changes.outside == ["README.md", "submissions/notes.txt"]


def test_unknown_ref_is_fatal(repo: GitRepository, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["changed", "--repository", str(repo.path), "--base", "main", "--head", "nonexistent"]
    )
    assert code == 1
    assert "git rev-parse failed" in capsys.readouterr().err


def test_option_like_ref_rejected(repo: GitRepository, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["changed", "--repository", str(repo.path), "--base", "main", "--head=--output=/tmp/x"]
    )
    assert code == 1
    assert "invalid git ref" in capsys.readouterr().err


def test_unrelated_histories_fatal(repo: GitRepository, capsys: pytest.CaptureFixture[str]) -> None:
    repo.git("checkout", "-q", "--orphan", "other")
    repo.commit({"submissions/x/setup.py": SETUP})

    code = main(["changed", "--repository", str(repo.path), "--base", "main", "--head", "other"])

    assert code == 1
    assert "no common ancestor" in capsys.readouterr().err


def test_changed_json(repo: GitRepository, capsys: pytest.CaptureFixture[str]) -> None:
    repo.branch("head")
    head = repo.commit({"submissions/vgg/setup.py": None, "submissions/new/setup.py": "new\n"})

    code = main(
        [
            "changed",
            "--repository",
            str(repo.path),
            "--base",
            "main",
            "--head",
            "head",
            "--format",
            "json",
        ]
    )

    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["head"] == head
    assert document["submissions"] == [
        {"path": "submissions/new", "deleted": False},
        {"path": "submissions/vgg", "deleted": True},
    ]
    assert {"status": "deleted", "path": "submissions/vgg/setup.py", "old_path": None} in (
        document["files"]
    )


def test_changed_text_escapes_newline(
    repo: GitRepository, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.branch("head")
    repo.commit({"x\n::error::injected": "x\n"})

    main(["changed", "--repository", str(repo.path), "--base", "main", "--head", "head"])

    lines = capsys.readouterr().out.splitlines()
    assert lines == ['outside submissions/: "x\\n::error::injected"']


def test_glob_like_folder_name_literal(repo: GitRepository) -> None:
    repo.branch("head")
    repo.commit({"submissions/*/setup.py": SETUP})

    changes = find_changes(repo.path, "main", "head")

    assert changes.submissions == ["submissions/*"]
    assert changes.deleted_submissions == []


@pytest.mark.slow
def test_thousands_of_submissions(tmp_path: Path) -> None:
    repo = GitRepository(tmp_path / "big")
    repo.commit({"README.md": "x\n"})
    repo.import_submissions(5000)
    repo.branch("head")
    repo.commit(
        {"submissions/model02500/setup.py": "changed\n", "submissions/zz-new/setup.py": SETUP}
    )

    started = time.perf_counter()
    changes = find_changes(repo.path, "main", "head")
    seconds = time.perf_counter() - started

    assert changes.submissions == ["submissions/model02500", "submissions/zz-new"]
    assert len(changes.files) == 2
    # A tree diff reads only the two changed folders; listing all 5000 would be the
    # bug this guards against. The bound is loose because test machines are shared.
    assert seconds < 5


def write_event(path: Path, base: str, head: str, labels: list[str]) -> Path:
    event = {
        "pull_request": {
            "number": 5,
            "base": {"sha": base},
            "head": {"sha": head},
            "labels": [{"name": name} for name in labels],
        }
    }
    path.write_text(json.dumps(event), encoding="utf-8")
    return path


@pytest.fixture
def two_folders(repo: GitRepository) -> tuple[str, str]:
    base = repo.git("rev-parse", "main")
    repo.branch("head")
    head = repo.commit(
        {"submissions/a/setup.py": SETUP, "submissions/b/setup.py": SETUP, "README.md": "changed\n"}
    )
    return base, head


def test_scope_two_folders_fails(repo: GitRepository, tmp_path: Path) -> None:
    repo.branch("head")
    repo.commit({"submissions/resnet/setup.py": SETUP, "submissions/vgg/setup.py": None})
    repo.checkout("main")
    repo.commit({"submissions/resnet2/setup.py": SETUP})
    listing = tmp_path / "list"

    code = main(
        [
            "scope",
            "--repository",
            str(repo.path),
            "--base",
            "main",
            "--head",
            "head",
            "--list-output",
            str(listing),
        ]
    )

    assert code == 1  # resnet and vgg are two folders
    assert not listing.exists()


def test_scope_single_folder_writes_list(repo: GitRepository, tmp_path: Path) -> None:
    repo.branch("head")
    repo.commit({"submissions/resnet/setup.py": SETUP})
    listing = tmp_path / "list"

    code = main(
        [
            "scope",
            "--repository",
            str(repo.path),
            "--base",
            "main",
            "--head",
            "head",
            "--list-output",
            str(listing),
        ]
    )

    assert code == 0
    assert listing.read_bytes() == b"submissions/resnet\0"


def test_scope_out_of_scope_report(
    two_folders: tuple[str, str],
    repo: GitRepository,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base, head = two_folders
    output = tmp_path / "scope.json"

    code = main(
        [
            "scope",
            "--repository",
            str(repo.path),
            "--base",
            base,
            "--head",
            head,
            "--label",
            "other",
            "--format",
            "github",
            "--output",
            str(output),
        ]
    )

    report = json.loads(output.read_text())
    stdout = capsys.readouterr().out
    assert code == 1
    assert [entry["submission"] for entry in report["submissions"]] == [
        "submissions/a",
        "submissions/b",
        ".",
    ]
    assert report["submissions"][2]["problems"][0]["file"] == "README.md"
    assert report["submissions"][0]["problems"][0]["code"] == "outside-submission"
    assert "::error file=README.md,title=outside-submission::" in stdout


def test_scope_maintenance_label_from_event(
    two_folders: tuple[str, str],
    repo: GitRepository,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, head = two_folders
    event = write_event(tmp_path / "event.json", base, head, ["maintenance"])
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    listing = tmp_path / "list"

    code = main(["scope", "--repository", str(repo.path), "--list-output", str(listing)])

    assert code == 0
    assert listing.read_bytes() == b"submissions/a\0submissions/b\0"


def test_scope_label_option_overrides_event(
    two_folders: tuple[str, str],
    repo: GitRepository,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, head = two_folders
    event = write_event(tmp_path / "event.json", base, head, ["maintenance"])
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))

    code = main(["scope", "--repository", str(repo.path), "--label", "bug"])

    assert code == 1


def test_scope_without_event_needs_refs(
    repo: GitRepository, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_EVENT_PATH", raising=False)

    code = main(["scope", "--repository", str(repo.path)])

    assert code == 1
    assert "pass --base REF" in capsys.readouterr().err

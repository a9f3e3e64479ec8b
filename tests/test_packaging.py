"""Tests for the deterministic submission package."""

from __future__ import annotations

import errno
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.gitrepo import GitRepository
from tooling import __version__
from tooling.cli import main
from tooling.errors import FatalError
from tooling.packaging import (
    MANIFEST_NAME,
    MAX_ENTRIES,
    MAX_TOTAL_BYTES,
    build_package,
    sha256_of_file,
)
from tooling.validation.files import LARGE_FILE_BYTES, MAX_FILE_BYTES

BASE_MODELS = (
    "def get_model_list():\n"
    "    return ['tiny-net']\n\n\n"
    "def get_model(name):\n"
    "    raise NotImplementedError\n\n\n"
    "def get_layers(name):\n"
    "    return ['relu']\n\n\n"
    "def get_bibtex(model_identifier):\n"
    "    return ''\n"
)
SUBMISSION_FILES = {
    "submissions/tiny/models/__init__.py": "",
    "submissions/tiny/models/base_models.py": BASE_MODELS,
    "submissions/tiny/setup.py": "from setuptools import setup\nsetup(name='tiny')\n",
}


def make_submission(folder: Path) -> Path:
    for name, text in SUBMISSION_FILES.items():
        target = folder / name.removeprefix("submissions/tiny/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return folder


@pytest.fixture
def repository(tmp_path: Path) -> GitRepository:
    repo = GitRepository(tmp_path / "repo")
    repo.commit(SUBMISSION_FILES, "Add tiny")
    return repo


def package_line(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[str, Path]:
    assert main(["package", *argv]) == 0
    sha256, path = capsys.readouterr().out.strip().split("  ")
    return sha256, Path(path)


def test_package_ignores_file_times(
    repository: GitRepository, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = repository.path / "submissions" / "tiny"
    first, _ = package_line(capsys, str(folder), "-o", str(tmp_path / "a"))
    for path in folder.rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    (folder / "setup.py").chmod(0o600)
    second, _ = package_line(capsys, str(folder), "-o", str(tmp_path / "b"))
    assert first == second


def test_package_copy_elsewhere_same_key(
    repository: GitRepository, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = repository.path / "submissions" / "tiny"
    copy = tmp_path / "elsewhere" / "tiny"
    shutil.copytree(folder, copy)
    commit = repository.git("rev-parse", "HEAD")
    first, _ = package_line(capsys, str(folder), "-o", str(tmp_path / "a"))
    second, _ = package_line(capsys, str(copy), "-o", str(tmp_path / "b"), "--commit", commit)
    assert first == second


def test_package_content_change_new_key(
    repository: GitRepository, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = repository.path / "submissions" / "tiny"
    first, _ = package_line(capsys, str(folder), "-o", str(tmp_path / "a"))
    (folder / "setup.py").write_text("from setuptools import setup\nsetup(name='tiny2')\n")
    second, _ = package_line(capsys, str(folder), "-o", str(tmp_path / "b"))
    assert first != second


def test_package_prints_zip_sha256(
    repository: GitRepository, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = repository.path / "submissions" / "tiny"
    sha256, path = package_line(capsys, str(folder), "-o", str(tmp_path / "out"))
    assert sha256_of_file(path) == sha256
    assert path.name == f"tiny-{sha256[:12]}.zip"


def test_package_zip_layout(repository: GitRepository, tmp_path: Path) -> None:
    folder = repository.path / "submissions" / "tiny"
    (folder / "run.sh").write_text("#!/bin/sh\n")
    (folder / "run.sh").chmod(0o775)
    package = build_package(folder, tmp_path / "out")
    with zipfile.ZipFile(package.path) as archive:
        entries = archive.infolist()
    names = [entry.filename for entry in entries]
    assert names == sorted(names)
    assert names == [
        f"tiny/{MANIFEST_NAME}",
        "tiny/models/__init__.py",
        "tiny/models/base_models.py",
        "tiny/run.sh",
        "tiny/setup.py",
    ]
    assert {entry.date_time for entry in entries} == {(1980, 1, 1, 0, 0, 0)}
    modes = {entry.filename: entry.external_attr >> 16 for entry in entries}
    assert modes["tiny/run.sh"] == 0o100755
    assert modes["tiny/setup.py"] == 0o100644
    assert {entry.compress_type for entry in entries} == {zipfile.ZIP_DEFLATED}


def test_package_manifest(repository: GitRepository, tmp_path: Path) -> None:
    folder = repository.path / "submissions" / "tiny"
    package = build_package(folder, tmp_path / "out")
    with zipfile.ZipFile(package.path) as archive:
        manifest = json.loads(archive.read(f"tiny/{MANIFEST_NAME}"))
    assert manifest["submission"] == "tiny"
    assert manifest["models"] == ["tiny-net"]
    assert manifest["source_commit"] == repository.git("rev-parse", "HEAD")
    assert manifest["tooling_version"] == __version__
    assert manifest["files"]["setup.py"] == sha256_of_file(folder / "setup.py")
    assert sorted(manifest["files"]) == [
        "models/__init__.py",
        "models/base_models.py",
        "setup.py",
    ]


def test_package_commit_option_outside_git(tmp_path: Path) -> None:
    folder = make_submission(tmp_path / "good-minimal")
    package = build_package(folder, tmp_path / "out", commit="abc123")
    assert package.manifest["source_commit"] == "abc123"


def test_package_leaves_out_stray_files(tmp_path: Path) -> None:
    folder = make_submission(tmp_path / "stray-files")
    stray = [
        ".DS_Store",
        "models/base_models.py~",
        "models/__pycache__/base_models.pyc",
        "build/lib/models/__init__.py",
        ".git/HEAD",
        "models/.git",
    ]
    for name in stray:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("stray")
    package = build_package(folder, tmp_path / "out", commit="0" * 40)
    with zipfile.ZipFile(package.path) as archive:
        names = archive.namelist()
    assert names == [
        f"stray-files/{MANIFEST_NAME}",
        "stray-files/models/__init__.py",
        "stray-files/models/base_models.py",
        "stray-files/setup.py",
    ]


@pytest.mark.parametrize(
    "make_link",
    [
        pytest.param(lambda folder: (folder / "weights.pt").symlink_to("/etc/passwd"), id="file"),
        pytest.param(lambda folder: (folder / "data").symlink_to(folder.parent), id="folder"),
    ],
)
def test_package_rejects_symbolic_link(
    tmp_path: Path, make_link, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_submission(tmp_path / "good-minimal")
    make_link(folder)
    assert main(["package", str(folder), "-o", str(tmp_path / "out")]) == 1
    assert "symbolic link in the submission" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_package_rejects_file_over_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_submission(tmp_path / "good-minimal")
    with (folder / "weights.bin").open("wb") as stream:
        stream.truncate(MAX_FILE_BYTES + 1)
    assert main(["package", str(folder), "-o", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert f"file too large, weights.bin ({MAX_FILE_BYTES + 1} bytes" in error


def test_package_streams_large_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = make_submission(tmp_path / "good-minimal")
    with (folder / "weights.bin").open("wb") as stream:
        stream.truncate(LARGE_FILE_BYTES + 1)
    package = build_package(folder, tmp_path / "out", commit="0" * 40)
    with zipfile.ZipFile(package.path) as archive:
        size = archive.getinfo("good-minimal/weights.bin").file_size
    assert size == LARGE_FILE_BYTES + 1
    assert "packaging large file weights.bin" in caplog.text


def test_package_rejects_reserved_manifest_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_submission(tmp_path / "good-minimal")
    (folder / MANIFEST_NAME).write_text("{}")
    assert main(["package", str(folder), "-o", str(tmp_path / "out")]) == 1
    assert f"reserved file name, {MANIFEST_NAME}" in capsys.readouterr().err


def test_package_json_listing(
    repository: GitRepository, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = repository.path / "submissions"
    assert main(["package", str(folder), "-o", str(tmp_path / "out"), "--format", "json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [item["submission"] for item in listing] == ["tiny"]
    assert listing[0]["models"] == ["tiny-net"]
    assert listing[0]["sha256"] == sha256_of_file(Path(listing[0]["path"]))


def test_package_named_submission(
    repository: GitRepository, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repository.path)
    out = repository.path.parent / "out"

    sha256, path = package_line(capsys, "--submission", "tiny", "-o", str(out))

    assert path == out / f"tiny-{sha256[:12]}.zip"
    with zipfile.ZipFile(path) as archive:
        assert "tiny/models/base_models.py" in archive.namelist()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("../tooling", "invalid submission name", id="parent-path"),
        pytest.param("..", "invalid submission name", id="parent"),
        pytest.param(".", "invalid submission name", id="current"),
        pytest.param("tiny/models", "invalid submission name", id="nested"),
        pytest.param("/etc", "invalid submission name", id="absolute"),
        pytest.param("", "invalid submission name", id="empty"),
        pytest.param("tiny name", "invalid submission name", id="space"),
        pytest.param("absent", "no submission folder, submissions/absent", id="missing"),
        pytest.param("link", "no submission folder, submissions/link", id="symbolic-link"),
        pytest.param("README.md", "no submission folder, submissions/README.md", id="file"),
    ],
)
def test_package_rejects_submission_name(
    repository: GitRepository,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    message: str,
) -> None:
    (repository.path / "tooling").mkdir()
    (repository.path / "tooling" / "secret.py").write_text("TOKEN = 1\n")
    (repository.path / "submissions" / "README.md").write_text("submissions\n")
    (repository.path / "submissions" / "link").symlink_to(repository.path / "tooling")
    monkeypatch.chdir(repository.path)
    out = repository.path.parent / "out"

    code = main(["package", "--submission", name, "-o", str(out)])

    assert code == 1
    assert message in capsys.readouterr().err
    assert not out.exists() or list(out.iterdir()) == []


def test_package_rejects_too_many_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_submission(tmp_path / "good-minimal")
    data = folder / "data"
    data.mkdir()
    # With the submission's 3 files, 10,000 files and the manifest: one entry too many.
    for index in range(MAX_ENTRIES - 3):
        (data / f"{index}.txt").touch()

    code = main(["package", str(folder), "-o", str(tmp_path / "out")])

    assert code == 1
    assert f"too many files to package, {MAX_ENTRIES} files" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_package_rejects_total_over_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_submission(tmp_path / "good-minimal")
    count = MAX_TOTAL_BYTES // MAX_FILE_BYTES + 1
    for index in range(count):
        # Sparse files: rejected on their sizes, before any byte is read.
        with (folder / f"weights-{index}.bin").open("wb") as stream:
            stream.truncate(MAX_FILE_BYTES)

    code = main(["package", str(folder), "-o", str(tmp_path / "out")])

    assert code == 1
    assert "submission too large to package" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_package_at_entry_limit_unpacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tooling import packaging
    from tooling.scoring import unpack

    monkeypatch.setattr(packaging, "MAX_ENTRIES", 4)
    monkeypatch.setattr(unpack, "MAX_ENTRIES", 4)
    folder = make_submission(tmp_path / "good-minimal")
    package = build_package(folder, tmp_path / "out", commit="0" * 40)

    assert unpack.check_package(package.path).key == package.sha256
    (folder / "extra.py").touch()
    with pytest.raises(FatalError, match="too many files to package"):
        build_package(folder, tmp_path / "out", commit="0" * 40)


def test_package_limits_shared_with_unpack() -> None:
    from tooling import packaging
    from tooling.scoring import unpack

    assert (unpack.MAX_ENTRIES, unpack.MAX_TOTAL_BYTES) == (
        packaging.MAX_ENTRIES,
        packaging.MAX_TOTAL_BYTES,
    )


def test_package_failed_write_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tooling import packaging

    def fail_midway(source: Any, target: Any, digest: Any) -> None:
        target.write(source.read(10))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(packaging, "copy_stream", fail_midway)
    folder = make_submission(tmp_path / "good-minimal")

    with pytest.raises(OSError, match="No space left"):
        build_package(folder, tmp_path / "out", commit="0" * 40)
    assert list((tmp_path / "out").iterdir()) == []


def test_package_temporary_names_differ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tooling import packaging

    written: list[str] = []
    write_zip = packaging.write_zip

    def record_name(path: Path, *args: Any) -> None:
        written.append(path.name)
        write_zip(path, *args)

    monkeypatch.setattr(packaging, "write_zip", record_name)
    folder = make_submission(tmp_path / "good-minimal")
    first = build_package(folder, tmp_path / "out", commit="0" * 40)
    second = build_package(folder, tmp_path / "out", commit="0" * 40)

    assert len(set(written)) == 2
    assert first.path == second.path
    assert [path.name for path in (tmp_path / "out").iterdir()] == [first.path.name]

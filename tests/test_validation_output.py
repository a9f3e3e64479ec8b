"""`python -m tooling validate` output formats and exit codes, through tooling.cli.main."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tooling.cli import main
from tooling.reports import Report

BASE_MODELS = textwrap.dedent(
    """\
    import timm


    def get_model_list():
        return ["output-model"]


    def get_model(name):
        return None


    def get_layers(name):
        return ["layer1"]


    def get_bibtex(model_identifier):
        return ""
    """
)
SETUP_PY = 'from setuptools import setup\nsetup(install_requires=["torch"])\n'


def write_submission(folder: Path, base_models: str = BASE_MODELS) -> Path:
    (folder / "models").mkdir(parents=True)
    (folder / "models" / "__init__.py").write_text("")
    (folder / "models" / "base_models.py").write_text(base_models)
    (folder / "setup.py").write_text(SETUP_PY)
    return folder


@pytest.fixture
def failing(tmp_path: Path) -> Path:
    """A submission with one error (undeclared timm, line 1) and one warning (line 17)."""
    return write_submission(tmp_path / "failing")


@pytest.fixture
def passing(tmp_path: Path) -> Path:
    source = BASE_MODELS.replace("import timm\n", "").replace('return ""', 'return "@misc{a,}"')
    return write_submission(tmp_path / "passing", source)


def test_exit_zero_without_errors(passing: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(passing)]) == 0


def test_exit_one_with_errors(failing: Path) -> None:
    assert main(["validate", str(failing)]) == 1


def test_exit_two_without_paths(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["validate"])

    assert exit_info.value.code == 2


def test_exit_two_for_unknown_format(passing: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "--format", "xml", str(passing)])

    assert exit_info.value.code == 2


def test_missing_folder_is_fatal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", str(tmp_path / "absent")])

    assert code == 1
    assert capsys.readouterr().err.startswith("error: no such folder")


def test_repository_root_is_fatal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "submissions").mkdir()

    code = main(["validate", str(tmp_path)])

    assert code == 1
    assert capsys.readouterr().err == (
        f"error: '{tmp_path}' is the repository root; give submissions/ or submissions/NAME\n"
    )


def test_text_format(failing: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["validate", str(failing)])
    lines = capsys.readouterr().out.splitlines()

    assert lines[0] == f"{failing}: failed (1 error, 1 warning)"
    assert lines[1] == (
        f"  {failing}/models/base_models.py:1: error: 'timm' is imported but not declared; "
        f"add it to install_requires in setup.py [undeclared-dependency]"
    )
    assert lines[2].startswith(f"  {failing}/models/base_models.py:17: warning: get_bibtex")
    assert lines[3] == "  model output-model (base model)"


def test_json_format(failing: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["validate", "--format", "json", str(failing)])
    document = json.loads(capsys.readouterr().out)
    submission = document["submissions"][0]

    assert Report.from_dict(document).command == "validate"
    assert submission["submission"] == str(failing)
    assert submission["ok"] is False
    assert submission["problems"][0] == {
        "code": "undeclared-dependency",
        "severity": "error",
        "file": f"{failing}/models/base_models.py",
        "line": 1,
        "column": None,
        "message": "'timm' is imported but not declared; add it to install_requires in setup.py",
    }
    assert submission["models"] == [{"identifier": "output-model", "kind": "base"}]


def test_output_file(failing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "report.json"

    main(["validate", "--output", str(output), str(failing)])

    assert json.loads(output.read_text())["ok"] is False


def test_github_annotations(
    failing: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)

    main(["validate", "--format", "github", str(failing)])
    lines = capsys.readouterr().out.splitlines()

    assert lines[0] == (
        f"::error file={failing}/models/base_models.py,line=1,title=undeclared-dependency::"
        f"'timm' is imported but not declared; add it to install_requires in setup.py"
    )
    assert lines[1].startswith(
        f"::warning file={failing}/models/base_models.py,line=17,title=placeholder-bibtex::"
    )


def test_github_step_summary(
    failing: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    main(["validate", "--format", "github", str(failing)])
    text = summary.read_text()

    assert text.startswith("earlier step\n## Brain-Score submission validate\n")
    assert "| failed | 1 | 1 | output-model |" in text
    assert "| error | `undeclared-dependency` |" in text


def test_text_format_leaves_summary_alone(
    failing: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    main(["validate", str(failing)])

    assert not summary.exists()

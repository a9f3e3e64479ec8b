"""Tests of `python -m tooling new`: scaffolding a submission from a template."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from tooling.cli import main
from tooling.commands.new import TEMPLATES

MODULES = {"pytorch": "base_models.py", "brain-model": "brain_models.py"}

REAL_BIBTEX = '''    return """@article{smith2024,
  title={A network of the ventral stream},
  author={Smith, Jane},
  journal={Journal of Vision},
  year={2024}
}"""
'''


@pytest.fixture
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository root with an empty submissions/ folder, as the working directory."""
    (tmp_path / "submissions").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def validate_json(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    capsys.readouterr()
    exit_code = main(["validate", "--format", "json", str(folder)])
    return exit_code, json.loads(capsys.readouterr().out)


def replace_bibtex(module: Path) -> None:
    """Replace the body of get_bibtex by a real entry."""
    text = module.read_text(encoding="utf-8")
    head, _, tail = text.partition("def get_bibtex(model_identifier):")
    docstring_end = tail.index('"""', tail.index('"""') + 3) + 3
    module.write_text(
        head + "def get_bibtex(model_identifier):" + tail[:docstring_end] + "\n" + REAL_BIBTEX,
        encoding="utf-8",
    )


def test_new_lists_both_templates() -> None:
    assert sorted(TEMPLATES) == ["brain-model", "pytorch"]


@pytest.mark.parametrize("template", sorted(MODULES))
def test_new_creates_files(repository: Path, template: str) -> None:
    exit_code = main(["new", "mylab-net", "--template", template])

    files = sorted(
        path.relative_to(repository).as_posix()
        for path in (repository / "submissions").rglob("*")
        if path.is_file()
    )
    assert exit_code == 0
    assert files == [
        "submissions/mylab-net/models/__init__.py",
        f"submissions/mylab-net/models/{MODULES[template]}",
        "submissions/mylab-net/setup.py",
    ]


def test_new_defaults_to_pytorch(repository: Path) -> None:
    main(["new", "mylab-net"])

    assert (repository / "submissions/mylab-net/models/base_models.py").is_file()


def test_new_prints_files_and_next_step(
    repository: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["new", "mylab-net"])

    output = capsys.readouterr().out
    assert "submissions/mylab-net/models/base_models.py" in output
    assert "python -m tooling check submissions/mylab-net" in output


@pytest.mark.parametrize("template", sorted(MODULES))
def test_new_functions_have_docstrings(repository: Path, template: str) -> None:
    main(["new", "mylab-net", "--template", template])
    module = repository / "submissions/mylab-net/models" / MODULES[template]

    tree = ast.parse(module.read_text(encoding="utf-8"))
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    undocumented = [node.name for node in functions if not ast.get_docstring(node)]
    assert ast.get_docstring(tree)
    assert len(functions) >= 3
    assert undocumented == []


@pytest.mark.parametrize("template", sorted(MODULES))
def test_new_identifier_is_name(repository: Path, template: str) -> None:
    main(["new", "mylab.net_v2", "--template", template])
    module = repository / "submissions/mylab.net_v2/models" / MODULES[template]

    namespace: dict = {}
    tree = ast.parse(module.read_text(encoding="utf-8"))
    get_model_list = next(
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == "get_model_list"
    )
    exec(compile(ast.Module([get_model_list], type_ignores=[]), str(module), "exec"), namespace)
    assert namespace["get_model_list"]() == ["mylab.net_v2"]


@pytest.mark.parametrize("template", sorted(MODULES))
def test_new_setup_declares_torch(repository: Path, template: str) -> None:
    main(["new", "mylab-net", "--template", template])
    setup = (repository / "submissions/mylab-net/setup.py").read_text(encoding="utf-8")

    call = next(
        node
        for node in ast.walk(ast.parse(setup))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setup"
    )
    keywords = {
        keyword.arg: ast.literal_eval(keyword.value)
        for keyword in call.keywords
        if keyword.arg in ("name", "install_requires")
    }
    assert keywords["name"] == "mylab-net"
    assert keywords["install_requires"] == ["torch", "torchvision"]


@pytest.mark.parametrize("template", sorted(MODULES))
def test_new_flags_only_placeholder_bibtex(
    repository: Path, template: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["new", "mylab-net", "--template", template])

    exit_code, report = validate_json(repository / "submissions/mylab-net", capsys)

    codes = [problem["code"] for problem in report["submissions"][0]["problems"]]
    assert exit_code == 0
    assert codes == ["placeholder-bibtex"]


@pytest.mark.parametrize("template", sorted(MODULES))
def test_new_passes_once_bibtex_filled(
    repository: Path, template: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["new", "mylab-net", "--template", template])
    replace_bibtex(repository / "submissions/mylab-net/models" / MODULES[template])

    exit_code, report = validate_json(repository / "submissions/mylab-net", capsys)

    assert exit_code == 0
    assert report["submissions"][0]["problems"] == []


def test_new_rejects_existing_folder(repository: Path, capsys: pytest.CaptureFixture[str]) -> None:
    existing = repository / "submissions/mylab-net"
    existing.mkdir()
    (existing / "notes.txt").write_text("mine\n", encoding="utf-8")

    exit_code = main(["new", "mylab-net"])

    assert exit_code == 1
    assert capsys.readouterr().err.startswith("error: the folder exists already")
    assert [path.name for path in existing.iterdir()] == ["notes.txt"]
    assert (existing / "notes.txt").read_text(encoding="utf-8") == "mine\n"


def test_new_rejects_used_identifier(repository: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["new", "first-net"])
    module = repository / "submissions/first-net/models/base_models.py"
    module.write_text(
        module.read_text(encoding="utf-8").replace('["first-net"]', '["second-net"]'),
        encoding="utf-8",
    )
    capsys.readouterr()

    exit_code = main(["new", "second-net"])

    assert exit_code == 1
    assert capsys.readouterr().err == (
        "error: invalid submission name, 'second-net' is already the identifier of a model "
        "in submissions/first-net; choose another name, for example with your lab's prefix\n"
    )
    assert not (repository / "submissions/second-net").exists()


def test_new_rejects_identifier_in_other_case(
    repository: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["new", "first-net"])
    module = repository / "submissions/first-net/models/base_models.py"
    module.write_text(
        module.read_text(encoding="utf-8").replace('["first-net"]', '["Second-Net"]'),
        encoding="utf-8",
    )
    capsys.readouterr()

    exit_code = main(["new", "second-net"])

    assert exit_code == 1
    assert capsys.readouterr().err == (
        "error: invalid submission name, 'second-net' differs only in case from "
        "'Second-Net', the identifier of a model in submissions/first-net; choose another "
        "name, for example with your lab's prefix\n"
    )
    assert not (repository / "submissions/second-net").exists()


def test_new_rejects_existing_file(repository: Path) -> None:
    existing = repository / "submissions/mylab-net"
    existing.write_text("mine\n", encoding="utf-8")

    exit_code = main(["new", "mylab-net"])

    assert exit_code == 1
    assert existing.read_text(encoding="utf-8") == "mine\n"


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("../escape", id="parent"),
        pytest.param("a/b", id="slash"),
        pytest.param(".hidden", id="leading-dot"),
        pytest.param("-flag", id="leading-dash"),
        pytest.param("has space", id="space"),
        pytest.param("caf\u00e9", id="non-ascii"),
        pytest.param("", id="empty"),
        pytest.param("x" * 65, id="too-long"),
    ],
)
def test_new_rejects_invalid_name(
    repository: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # "--" so that argparse takes a name such as "-flag" as NAME, not as an option.
    exit_code = main(["new", "--", name])

    assert exit_code == 1
    assert capsys.readouterr().err.startswith("error: invalid submission name")
    assert list((repository / "submissions").iterdir()) == []
    assert sorted(path.name for path in repository.iterdir()) == ["submissions"]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("a", id="one-letter"),
        pytest.param("0net", id="leading-digit"),
        pytest.param("Lab.Net_v2-b", id="every-character"),
        pytest.param("x" * 64, id="longest"),
    ],
)
def test_new_accepts_valid_name(repository: Path, name: str) -> None:
    exit_code = main(["new", name])

    assert exit_code == 0
    assert (repository / "submissions" / name / "setup.py").is_file()


def test_new_needs_submissions_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)

    exit_code = main(["new", "mylab-net"])

    assert exit_code == 1
    assert capsys.readouterr().err.startswith("error: no submissions/ folder")
    assert list(tmp_path.iterdir()) == []


def test_new_directory_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    exit_code = main(["new", "mylab-net", "--directory", "project/model"])

    assert exit_code == 0
    assert (tmp_path / "project/model/models/base_models.py").is_file()


def test_new_directory_must_not_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "project").mkdir()

    exit_code = main(["new", "mylab-net", "--directory", "project"])

    assert exit_code == 1
    assert capsys.readouterr().err.startswith("error: the folder exists already")
    assert list((tmp_path / "project").iterdir()) == []


def test_new_parent_is_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine\n", encoding="utf-8")

    exit_code = main(["new", "mylab-net", "--directory", "notes.txt/model"])

    assert exit_code == 1
    assert capsys.readouterr().err.startswith("error: cannot create 'notes.txt/model'")
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine\n"


def test_new_quotes_folder_in_next_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)

    exit_code = main(["new", "mylab-net", "--directory", "with space/model"])

    assert exit_code == 0
    assert "python -m tooling check 'with space/model'" in capsys.readouterr().out

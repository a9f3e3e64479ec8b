"""Each static check of `tooling.validation`, on submissions built in tmp_path."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from tooling.errors import FatalError
from tooling.problems import Problem
from tooling.validation import validate_paths, validate_submission

BASE_MODELS = '''\
import torch


def get_model_list():
    return ["test-model"]


def get_model(name):
    return torch.nn.Identity()


def get_layers(name):
    return ["layer1"]


def get_bibtex(model_identifier):
    return """@article{author2020, title={A model}, year={2020}}"""
'''
SETUP_PY = 'from setuptools import setup\n\nsetup(name="t", install_requires=["torch"])\n'


def write_submission(folder: Path, files: dict[str, str | None]) -> Path:
    """Write a valid base-model submission into `folder`, changed by `files` (None deletes)."""
    contents: dict[str, str | None] = {
        "models/__init__.py": "",
        "models/base_models.py": BASE_MODELS,
        "setup.py": SETUP_PY,
    }
    contents.update(files)
    for relative, text in contents.items():
        if text is not None:
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
    return folder


def problems_of(folder: Path) -> list[Problem]:
    return validate_submission(folder, "sub").problems


def line_of(folder: Path, relative: str, marker: str) -> int:
    lines = (folder / relative).read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if marker in line)


def only(problems: list[Problem], code: str) -> Problem:
    found = [problem for problem in problems if problem.code == code]
    assert len(found) == 1, problems
    return found[0]


def test_valid_submission_has_no_problems(tmp_path: Path) -> None:
    report = validate_submission(write_submission(tmp_path, {}), "sub")
    assert report.problems == []
    assert report.models == [{"identifier": "test-model", "kind": "base"}]


def replaced(old: str, new: str) -> dict[str, str]:
    return {"models/base_models.py": BASE_MODELS.replace(old, new)}


def with_code(prefix: str = "", suffix: str = "", *requirements: str) -> dict[str, str]:
    """Base models with `prefix` before and `suffix` after, and setup.py requiring torch and
    `requirements`."""
    listed = ", ".join(f'"{name}"' for name in ("torch", *requirements))
    return {
        "models/base_models.py": prefix + BASE_MODELS + suffix,
        "setup.py": f"from setuptools import setup\nsetup(install_requires=[{listed}])\n",
    }


def in_function(body: str) -> str:
    return f"\n\ndef load(name):\n    {body}\n"


BASE = "models/base_models.py"
BIBTEX = "@article{author2020, title={A model}, year={2020}}"

# A check reported at one line of one file: (files, code, file, marker of the line).
LOCATED = [
    pytest.param(
        replaced("def get_layers(name):", "def get_layers(name)"),
        "syntax-error",
        BASE,
        "def get_layers(name)",
        id="syntax-error",
    ),
    pytest.param(
        replaced("get_layers(name)", "get_layers()"),
        "missing-function",
        BASE,
        "def get_layers()",
        id="wrong-parameter-count",
    ),
    pytest.param(
        {"setup.py": 'from setuptools import setup\nsetup(install_requires=["torch=1.7.1"])\n'},
        "invalid-requirement",
        "setup.py",
        "torch=1.7.1",
        id="invalid-requirement",
    ),
    pytest.param(
        {"setup.py": 'from setuptools import setup\nsetup(install_requires=[\n    "os",\n])\n'},
        "stdlib-requirement",
        "setup.py",
        '"os"',
        id="stdlib-requirement",
    ),
    pytest.param(
        {"setup.py": "from setuptools import setup\nsetup(install_requires=read_requirements())\n"},
        "dynamic-requirements",
        "setup.py",
        "install_requires",
        id="computed-install-requires",
    ),
    pytest.param(
        with_code("import timm\n"),
        "undeclared-dependency",
        BASE,
        "import timm",
        id="undeclared-top-level",
    ),
    pytest.param(
        with_code(suffix=in_function("from transformers import AutoModel")),
        "undeclared-dependency",
        BASE,
        "from transformers",
        id="undeclared-in-function",
    ),
    pytest.param(
        replaced('["test-model"]', '["a", "b", "c",\n            "d"]'),
        "too-many-models",
        BASE,
        '"d"]',
        id="too-many-models",
    ),
    pytest.param(
        replaced('"test-model"', '"my model!"'),
        "invalid-identifier",
        BASE,
        '"my model!"',
        id="invalid-identifier",
    ),
    pytest.param(
        replaced('["test-model"]', '["same",\n            "same"]'),
        "duplicate-identifier",
        BASE,
        '"same"]',
        id="duplicate-in-submission",
    ),
    pytest.param(
        replaced(f'"""{BIBTEX}"""', '""'),
        "placeholder-bibtex",
        BASE,
        'return ""',
        id="empty-bibtex",
    ),
    pytest.param(
        replaced(BIBTEX, "TODO: add bibtex"),
        "placeholder-bibtex",
        BASE,
        "TODO",
        id="todo-bibtex",
    ),
    pytest.param(
        with_code(suffix='\nprint("loading")\n'),
        "import-time-side-effect",
        BASE,
        'print("loading")',
        id="print-at-import",
    ),
    pytest.param(
        with_code("import sys\n", '\nsys.path.insert(0, "lib")\n'),
        "import-time-side-effect",
        BASE,
        "sys.path.insert",
        id="sys-path-insert",
    ),
    pytest.param(
        with_code("import sys\n", '\nsys.path += ["lib"]\n'),
        "import-time-side-effect",
        BASE,
        "sys.path +=",
        id="sys-path-assignment",
    ),
    pytest.param(
        with_code("import os\n", '\nif True:\n    os.chdir("/tmp")\n'),
        "import-time-side-effect",
        BASE,
        "os.chdir",
        id="chdir-in-module-level-if",
    ),
    pytest.param(
        with_code(suffix=in_function('return torch.hub.load("pytorch/vision", "resnet18")')),
        "download-at-runtime",
        BASE,
        "torch.hub.load",
        id="torch-hub-load",
    ),
    pytest.param(
        with_code(
            "from urllib.request import urlretrieve\n",
            in_function('urlretrieve("https://example.org/w.pt", "w")'),
        ),
        "download-at-runtime",
        BASE,
        "urlretrieve(",
        id="urlretrieve",
    ),
    pytest.param(
        with_code(
            "import requests\n",
            in_function('return requests.get("https://example.org/w.pt")'),
            "requests",
        ),
        "download-at-runtime",
        BASE,
        "requests.get",
        id="requests-get",
    ),
    pytest.param(
        with_code("import gdown\n", in_function('gdown.download(id="abc")'), "gdown"),
        "download-at-runtime",
        BASE,
        "gdown.download",
        id="gdown",
    ),
    pytest.param(
        with_code("import os\n", in_function('os.system("wget https://example.org/w.pt")')),
        "download-at-runtime",
        BASE,
        "os.system",
        id="wget-in-shell",
    ),
    pytest.param(
        with_code(
            "from transformers import AutoModel\n",
            in_function('return AutoModel.from_pretrained("bert-base")'),
            "transformers",
        ),
        "download-at-runtime",
        BASE,
        "from_pretrained(",
        id="from-pretrained",
    ),
    pytest.param(
        with_code(
            "import timm\n",
            in_function('return timm.create_model("resnet50", pretrained=True)'),
            "timm",
        ),
        "download-at-runtime",
        BASE,
        "pretrained=True",
        id="pretrained-true",
    ),
    pytest.param(
        with_code(
            "from torchvision import models\n",
            in_function('return models.resnet18(weights="IMAGENET1K_V1")'),
        ),
        "download-at-runtime",
        BASE,
        "IMAGENET1K_V1",
        id="torchvision-weights",
    ),
    pytest.param(
        with_code(suffix=in_function('return torch.load("weights/net.pth")')),
        "cwd-relative-path",
        BASE,
        "torch.load",
        id="relative-weights-file",
    ),
    pytest.param(
        with_code("import os\n", in_function('return os.path.join("weights", name)')),
        "cwd-relative-path",
        BASE,
        "os.path.join",
        id="relative-join",
    ),
    pytest.param(
        with_code("import os\n", in_function("return os.getcwd()")),
        "cwd-relative-path",
        BASE,
        "os.getcwd",
        id="getcwd",
    ),
    pytest.param(
        with_code(suffix=in_function('return torch.load("/home/me/net.pth")')),
        "absolute-path",
        BASE,
        "/home/me",
        id="home-path",
    ),
    pytest.param(
        with_code(suffix="\nWEIGHTS = r'C:\\Users\\me\\net.pth'\n"),
        "absolute-path",
        BASE,
        "WEIGHTS",
        id="windows-path",
    ),
    pytest.param(
        with_code("from model_tools.activations.pytorch import PytorchWrapper\n"),
        "legacy-import",
        BASE,
        "model_tools.activations.pytorch",
        id="legacy-model-tools",
    ),
    pytest.param(
        {
            "setup.py": "from setuptools import setup\nsetup(install_requires=[\n"
            '    "model-tools @ git+https://github.com/brain-score/model-tools.git",\n])\n'
        },
        "legacy-import",
        "setup.py",
        "model-tools @",
        id="legacy-requirement",
    ),
]


@pytest.mark.parametrize(("files", "code", "file", "marker"), LOCATED)
def test_check_reports_code_file_line(
    tmp_path: Path, files: dict[str, str], code: str, file: str, marker: str
) -> None:
    folder = write_submission(tmp_path, files)

    problem = only(problems_of(folder), code)

    assert problem.file == file
    assert problem.line == line_of(folder, file, marker)


def test_syntax_error_has_column(tmp_path: Path) -> None:
    source = BASE_MODELS.replace("def get_layers(name):", "def get_layers(name)")
    folder = write_submission(tmp_path, {"models/base_models.py": source})

    problem = only(problems_of(folder), "syntax-error")

    assert problem.column == len("def get_layers(name)") + 1
    assert "expected ':'" in problem.message


def test_missing_function_names_signature(tmp_path: Path) -> None:
    source = BASE_MODELS.replace("def get_layers(name):", "def other(name):")
    folder = write_submission(tmp_path, {"models/base_models.py": source})

    problem = only(problems_of(folder), "missing-function")

    assert problem.file == "models/base_models.py"
    assert problem.line is None
    assert "define get_layers(name) at module level" in problem.message


def test_brain_module_needs_no_get_layers(tmp_path: Path) -> None:
    brain = BASE_MODELS.replace('def get_layers(name):\n    return ["layer1"]\n', "")
    folder = write_submission(
        tmp_path, {"models/base_models.py": None, "models/brain_models.py": brain}
    )

    report = validate_submission(folder, "sub")

    assert report.problems == []
    assert report.models == [{"identifier": "test-model", "kind": "brain"}]


@pytest.mark.parametrize(
    "definition",
    [
        pytest.param("def get_layers(name, extra=None):", id="default"),
        pytest.param("def get_layers(*args):", id="varargs"),
        pytest.param("def get_layers(name, *, verbose=False):", id="keyword-only-default"),
    ],
)
def test_compatible_signature_accepted(tmp_path: Path, definition: str) -> None:
    source = BASE_MODELS.replace("def get_layers(name):", definition)
    folder = write_submission(tmp_path, {"models/base_models.py": source})

    assert problems_of(folder) == []


def test_imported_function_accepted(tmp_path: Path) -> None:
    source = BASE_MODELS.replace('def get_layers(name):\n    return ["layer1"]\n', "")
    folder = write_submission(
        tmp_path,
        {
            "models/base_models.py": "from .layers import get_layers\n" + source,
            "models/layers.py": "def get_layers(name):\n    return ['layer1']\n",
        },
    )

    assert problems_of(folder) == []


def test_no_models_package(tmp_path: Path) -> None:
    folder = write_submission(tmp_path, {"models/__init__.py": None, "models/base_models.py": None})

    problem = only(problems_of(folder), "missing-models-package")

    assert problem.file is None
    assert "create sub/models/" in problem.message


def test_models_without_init(tmp_path: Path) -> None:
    folder = write_submission(tmp_path, {"models/__init__.py": None})

    problem = only(problems_of(folder), "missing-models-package")

    assert problem.file == "models"
    assert "add an empty models/__init__.py" in problem.message


def test_models_nested_too_deep(tmp_path: Path) -> None:
    folder = write_submission(
        tmp_path,
        {
            "models/__init__.py": None,
            "models/base_models.py": None,
            "setup.py": None,
            "my-model/models/__init__.py": "",
            "my-model/models/base_models.py": BASE_MODELS,
            "my-model/setup.py": SETUP_PY,
        },
    )

    problem = only(problems_of(folder), "missing-models-package")

    assert "'my-model/models/', nested too deep" in problem.message
    assert "move it to sub/models/" in problem.message


def test_nested_submission_not_taken_for_submission(tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    write_submission(
        submissions / "outer",
        {
            "models/__init__.py": None,
            "models/base_models.py": None,
            "inner/models/__init__.py": "",
            "inner/models/base_models.py": BASE_MODELS,
        },
    )

    report = validate_paths([str(submissions)])

    assert [item.submission for item in report.submissions] == [f"{submissions}/outer"]
    assert "missing-models-package" in [p.code for p in report.submissions[0].problems]


def test_model_module_at_top_of_folder(tmp_path: Path) -> None:
    folder = write_submission(
        tmp_path,
        {"models/__init__.py": None, "models/base_models.py": None, "base_models.py": BASE_MODELS},
    )

    problem = only(problems_of(folder), "missing-models-package")

    assert "base_models.py or brain_models.py is at the top of the folder" in problem.message


def test_package_without_model_module(tmp_path: Path) -> None:
    folder = write_submission(tmp_path, {"models/base_models.py": None})

    problem = only(problems_of(folder), "missing-model-module")

    assert problem.file == "models"


def test_no_packaging_file(tmp_path: Path) -> None:
    folder = write_submission(tmp_path, {"setup.py": None})

    problem = only(problems_of(folder), "missing-model-module")

    assert problem.file is None
    assert "neither setup.py nor pyproject.toml" in problem.message


def test_setup_py_without_setup_call(tmp_path: Path) -> None:
    folder = write_submission(tmp_path, {"setup.py": "print('hello')\n"})

    problem = only(problems_of(folder), "missing-requirements")

    assert problem.file == "setup.py"


def test_setup_py_requirements_from_variable(tmp_path: Path) -> None:
    setup = """\
        from setuptools import setup

        requirements = [
            "torch",
            "timm>=0.9",
        ]

        setup(name="t", install_requires=requirements + ["scikit-learn"])
    """
    source = "import timm\nfrom sklearn.svm import SVC\n" + BASE_MODELS
    folder = write_submission(tmp_path, {"setup.py": setup, "models/base_models.py": source})

    assert problems_of(folder) == []


def test_dynamic_requirements_skip_import_check(tmp_path: Path) -> None:
    setup = "from setuptools import setup\nsetup(install_requires=open('r.txt').readlines())\n"
    folder = write_submission(
        tmp_path, {"setup.py": setup, "models/base_models.py": "import timm\n" + BASE_MODELS}
    )

    codes = [problem.code for problem in problems_of(folder)]

    assert codes == ["dynamic-requirements"]


def test_setup_kwargs_are_dynamic(tmp_path: Path) -> None:
    setup = "from setuptools import setup\nsetup(**CONFIG)\n"
    folder = write_submission(tmp_path, {"setup.py": setup})

    problem = only(problems_of(folder), "dynamic-requirements")

    assert problem.line == 2


def test_invalid_requirement_suggests_fix(tmp_path: Path) -> None:
    setup = 'from setuptools import setup\nsetup(install_requires=["torch=1.7.1"])\n'
    folder = write_submission(tmp_path, {"setup.py": setup})

    problem = only(problems_of(folder), "invalid-requirement")

    assert "write it as 'torch==1.7.1'" in problem.message


@pytest.mark.parametrize(
    ("imports", "requirement"),
    [
        pytest.param("import umap", "umap-learn", id="umap"),
        pytest.param("import haiku", "dm-haiku", id="haiku"),
        pytest.param("import open_clip", "open-clip-torch", id="open-clip"),
        pytest.param("from skimage import io", "scikit-image", id="skimage"),
        pytest.param("from bs4 import BeautifulSoup", "beautifulsoup4", id="bs4"),
        pytest.param("from google.protobuf import message", "protobuf", id="protobuf"),
        pytest.param("import pytorch_lightning", "pytorch-lightning", id="underscore"),
        pytest.param("import Levenshtein", "python-Levenshtein", id="case"),
    ],
)
def test_distribution_covers_import(tmp_path: Path, imports: str, requirement: str) -> None:
    setup = f'from setuptools import setup\nsetup(install_requires=["torch", "{requirement}"])\n'
    folder = write_submission(
        tmp_path, {"setup.py": setup, "models/base_models.py": imports + "\n" + BASE_MODELS}
    )

    assert problems_of(folder) == []


@pytest.mark.parametrize(
    "imports",
    [
        pytest.param("import numpy\nimport scipy.stats\nimport PIL", id="scoring-environment"),
        pytest.param("import torchvision\nimport brainscore_vision", id="brainscore-vision"),
        pytest.param("import functools\nimport collections.abc", id="standard-library"),
        pytest.param("from . import helpers\nfrom .helpers import x", id="relative"),
        pytest.param("import helpers\nfrom models import helpers", id="own-module"),
        pytest.param("try:\n    import timm\nexcept ImportError:\n    timm = None", id="optional"),
    ],
)
def test_import_needs_no_declaration(tmp_path: Path, imports: str) -> None:
    folder = write_submission(
        tmp_path,
        {
            "models/base_models.py": imports + "\n" + BASE_MODELS,
            "models/helpers.py": "x = 1\n",
            "helpers.py": "x = 1\n",
        },
    )

    assert problems_of(folder) == []


def test_undeclared_names_distribution(tmp_path: Path) -> None:
    folder = write_submission(
        tmp_path, {"models/base_models.py": "from skimage import io\n" + BASE_MODELS}
    )

    problem = only(problems_of(folder), "undeclared-dependency")

    assert problem.message == (
        "'skimage' is imported but not declared; add its distribution 'scikit-image' to "
        "install_requires in setup.py"
    )


def test_undeclared_reported_once_per_file(tmp_path: Path) -> None:
    source = "import timm\n" + BASE_MODELS + "\n\ndef f():\n    import timm.layers\n"
    folder = write_submission(tmp_path, {"models/base_models.py": source})

    problem = only(problems_of(folder), "undeclared-dependency")

    assert problem.line == 1


def test_pyproject_submission(tmp_path: Path) -> None:
    pyproject = """\
        [project]
        name = "t"
        version = "0.1"
        dependencies = [
            "torch",
            "timm>=1.0",
        ]
    """
    folder = write_submission(
        tmp_path,
        {
            "setup.py": None,
            "pyproject.toml": pyproject,
            "models/base_models.py": "import timm\nimport einops\n" + BASE_MODELS,
        },
    )

    problem = only(problems_of(folder), "undeclared-dependency")

    assert problem.message == (
        "'einops' is imported but not declared; add it to project.dependencies in " "pyproject.toml"
    )
    assert problem.line == 2


def test_pyproject_invalid_dependency_line(tmp_path: Path) -> None:
    pyproject = '[project]\nname = "t"\ndependencies = [\n    "torch",\n    "numpy=1.2",\n]\n'
    folder = write_submission(tmp_path, {"setup.py": None, "pyproject.toml": pyproject})

    problem = only(problems_of(folder), "invalid-requirement")

    assert problem.file == "pyproject.toml"
    assert problem.line == 5


def test_pyproject_dynamic_dependencies(tmp_path: Path) -> None:
    pyproject = '[project]\nname = "t"\ndynamic = ["dependencies"]\n'
    folder = write_submission(tmp_path, {"setup.py": None, "pyproject.toml": pyproject})

    problem = only(problems_of(folder), "dynamic-requirements")

    assert problem.line == 3


def test_pyproject_without_project_table(tmp_path: Path) -> None:
    pyproject = '[tool.poetry.dependencies]\ntorch = "*"\n'
    folder = write_submission(tmp_path, {"setup.py": None, "pyproject.toml": pyproject})

    problem = only(problems_of(folder), "missing-requirements")

    assert problem.file == "pyproject.toml"


def test_pyproject_invalid_toml(tmp_path: Path) -> None:
    pyproject = '[project]\nname = "t"\ndependencies = ["torch"]]\n'
    folder = write_submission(tmp_path, {"setup.py": None, "pyproject.toml": pyproject})

    problem = only(problems_of(folder), "missing-requirements")

    assert problem.file == "pyproject.toml"
    assert problem.line == 3


def test_legacy_requirement_is_warning(tmp_path: Path) -> None:
    setup = (
        "from setuptools import setup\n"
        'setup(install_requires=["torch", "brain-score @ '
        'git+https://github.com/brain-score/brain-score"])\n'
    )
    source = "from brainscore.model_interface import BrainModel\n" + BASE_MODELS
    folder = write_submission(tmp_path, {"setup.py": setup, "models/base_models.py": source})

    report = validate_submission(folder, "sub")

    assert report.ok
    assert [problem.code for problem in report.problems] == ["legacy-import", "legacy-import"]
    assert "'brainscore_vision.model_interface'" in report.problems[0].message


def test_legacy_module_without_counterpart(tmp_path: Path) -> None:
    source = "from model_tools.activations.keras import KerasWrapper\n" + BASE_MODELS
    folder = write_submission(tmp_path, {"models/base_models.py": source})

    problem = only(problems_of(folder), "legacy-import")

    assert "has no counterpart" in problem.message


def test_identifiers_unique_across_submissions(tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    write_submission(submissions / "first", {})
    write_submission(submissions / "second", {})

    report = validate_paths([str(submissions)])

    for submission in report.submissions:
        problem = only(submission.problems, "duplicate-identifier")
        assert problem.line == 5
    assert f"{submissions}/second" in report.submissions[0].problems[0].message


def test_identifiers_unique_across_paths(tmp_path: Path) -> None:
    first = write_submission(tmp_path / "first", {})
    second = write_submission(tmp_path / "second", {})

    report = validate_paths([str(first), str(second)])

    assert not report.ok


@pytest.mark.parametrize(
    ("other", "words"),
    [
        pytest.param("test-model", "is also the identifier of a model in", id="same"),
        pytest.param("Test-Model", "differs only in case from 'Test-Model' in", id="case"),
    ],
)
def test_identifiers_unique_across_sibling_submissions(
    tmp_path: Path, other: str, words: str
) -> None:
    submissions = tmp_path / "submissions"
    write_submission(submissions / "first", replaced('["test-model"]', f'["{other}"]'))
    second = write_submission(submissions / "second", {})

    report = validate_paths([str(second)])

    problem = only(report.submissions[0].problems, "duplicate-identifier")
    assert len(report.submissions) == 1
    assert f"{words} {submissions}/first" in problem.message
    assert problem.file == "models/base_models.py"
    assert problem.line == 5


def test_sibling_identifiers_named_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_submission(tmp_path / "submissions" / "first", {})
    write_submission(tmp_path / "submissions" / "second", {})
    monkeypatch.chdir(tmp_path / "submissions" / "second")

    report = validate_paths(["."])

    problem = only(report.submissions[0].problems, "duplicate-identifier")
    assert "a model in ../first;" in problem.message


def test_sibling_brain_identifier_compared(tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    brain = BASE_MODELS.replace('["test-model"]', '["brain-net"]')
    computed = BASE_MODELS.replace('return ["test-model"]', 'return [f"net-{i}" for i in "ab"]')
    write_submission(
        submissions / "first",
        {"models/base_models.py": computed, "models/brain_models.py": brain},
    )
    second = write_submission(submissions / "second", replaced('"test-model"', '"brain-net"'))

    report = validate_paths([str(second)])

    problem = only(report.submissions[0].problems, "duplicate-identifier")
    assert f"{submissions}/first" in problem.message


def test_siblings_compared_only_in_submissions_folder(tmp_path: Path) -> None:
    write_submission(tmp_path / "projects" / "first", {})
    second = write_submission(tmp_path / "projects" / "second", {})

    report = validate_paths([str(second)])

    assert report.submissions[0].problems == []


def test_siblings_not_given_are_not_reported(tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    write_submission(submissions / "first", {})
    write_submission(submissions / "second", {})
    third = write_submission(submissions / "third", replaced('"test-model"', '"third-model"'))

    report = validate_paths([str(third)])

    assert [submission.submission for submission in report.submissions] == [str(third)]
    assert report.ok


def test_sibling_that_does_not_parse_is_skipped(tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    write_submission(submissions / "first", {"models/base_models.py": "def get_model_list(:\n"})
    (submissions / "notes.txt").write_text("not a submission")
    second = write_submission(submissions / "second", {})

    report = validate_paths([str(second)])

    assert report.ok


def test_identifiers_across_base_and_brain(tmp_path: Path) -> None:
    brain = BASE_MODELS.replace('["test-model"]', '["x1", "x2", "x3"]')
    folder = write_submission(tmp_path, {"models/brain_models.py": brain})

    problem = only(problems_of(folder), "too-many-models")

    assert problem.file == "models/brain_models.py"


def test_identifiers_from_module_constant(tmp_path: Path) -> None:
    source = BASE_MODELS.replace(
        'def get_model_list():\n    return ["test-model"]',
        'MODELS = {"net-a": 1, "net-b": 2}\n\n\n'
        "def get_model_list():\n    return list(MODELS.keys())",
    )
    folder = write_submission(tmp_path, {"models/base_models.py": source})

    report = validate_submission(folder, "sub")

    assert [model["identifier"] for model in report.models] == ["net-a", "net-b"]


def test_computed_identifiers_not_checked(tmp_path: Path) -> None:
    source = BASE_MODELS.replace('return ["test-model"]', 'return [f"net-{i}" for i in range(5)]')
    folder = write_submission(tmp_path, {"models/base_models.py": source})

    report = validate_submission(folder, "sub")

    assert report.problems == []
    assert report.models == []


@pytest.mark.parametrize(
    "code",
    [
        pytest.param('def get_model(name):\n    print("building")\n', id="print-in-function"),
        pytest.param('if __name__ == "__main__":\n    print("main")\n', id="main-guard"),
        pytest.param('class Net:\n    def forward(self):\n        print("x")\n', id="method"),
    ],
)
def test_code_not_run_at_import(tmp_path: Path, code: str) -> None:
    folder = write_submission(tmp_path, {"models/base_models.py": BASE_MODELS + "\n" + code})

    codes = [problem.code for problem in problems_of(folder)]

    assert "import-time-side-effect" not in codes


def test_download_at_import_reports_both(tmp_path: Path) -> None:
    source = BASE_MODELS + '\nNET = torch.hub.load("pytorch/vision", "resnet18")\n'
    folder = write_submission(tmp_path, {"models/base_models.py": source})

    codes = sorted(problem.code for problem in problems_of(folder))

    assert codes == ["download-at-runtime", "import-time-side-effect"]


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(
            "import os\nHERE = os.path.dirname(__file__)\nW = os.path.join(HERE, 'net.pth')\n",
            id="join-from-file",
        ),
        pytest.param(
            "from pathlib import Path\nW = Path(__file__).parent / 'net.pth'\n", id="pathlib"
        ),
        pytest.param("import logging\nlogging.info('saved net.pth')\n", id="log-message"),
        pytest.param("X = 'https://example.org/net.pth'\n", id="url"),
        pytest.param('"""Weights live in /home/me/net.pth on my machine."""\n', id="docstring"),
    ],
)
def test_path_not_flagged(tmp_path: Path, code: str) -> None:
    folder = write_submission(tmp_path, {"models/base_models.py": code + BASE_MODELS})

    codes = [problem.code for problem in problems_of(folder)]

    assert "cwd-relative-path" not in codes
    assert "absolute-path" not in codes


def test_torchvision_without_weights_is_offline(tmp_path: Path) -> None:
    source = (
        "import torchvision\n"
        + BASE_MODELS
        + ("\n\ndef load():\n    return torchvision.models.resnet18(weights=None)\n")
    )
    folder = write_submission(tmp_path, {"models/base_models.py": source})

    assert problems_of(folder) == []


def test_symlink(tmp_path: Path) -> None:
    folder = write_submission(tmp_path / "sub", {})
    (tmp_path / "outside.txt").write_text("x")
    os.symlink(tmp_path / "outside.txt", folder / "models" / "link.txt")

    problem = only(problems_of(folder), "symlink")

    assert problem.file == "models/link.txt"


@pytest.mark.parametrize(
    ("size", "code"),
    [
        pytest.param(100 * 1024**2 + 1, "file-too-large", id="over-100-mib"),
        pytest.param(25 * 1024**2 + 1, "large-file", id="over-25-mib"),
    ],
)
def test_file_size(tmp_path: Path, size: int, code: str) -> None:
    folder = write_submission(tmp_path, {})
    with open(folder / "models" / "weights.pth", "wb") as file:
        file.truncate(size)

    problem = only(problems_of(folder), code)

    assert problem.file == "models/weights.pth"


def test_file_at_limit_accepted(tmp_path: Path) -> None:
    folder = write_submission(tmp_path, {})
    with open(folder / "models" / "weights.pth", "wb") as file:
        file.truncate(25 * 1024**2)

    assert problems_of(folder) == []


@pytest.mark.parametrize(
    "relative",
    [
        pytest.param("models/__pycache__/base_models.cpython-311.pyc", id="pycache"),
        pytest.param("models/helpers.pyc", id="pyc"),
        pytest.param(".DS_Store", id="ds-store"),
        pytest.param("models/base_models.py~", id="backup"),
        pytest.param("models/.base_models.py.swp", id="swap"),
        pytest.param("example.egg-info/PKG-INFO", id="egg-info"),
        pytest.param("build/lib/models/__init__.py", id="build"),
    ],
)
def test_stray_file(tmp_path: Path, relative: str) -> None:
    folder = write_submission(tmp_path, {relative: "x"})

    problem = only(problems_of(folder), "stray-file")

    assert relative.startswith(problem.file)


def test_stray_folder_contents_not_checked(tmp_path: Path) -> None:
    folder = write_submission(tmp_path, {"build/lib/models/base_models.py": "def broken(:\n"})

    codes = [problem.code for problem in problems_of(folder)]

    assert codes == ["stray-file"]


def test_git_folder_skipped(tmp_path: Path) -> None:
    folder = write_submission(tmp_path, {".git/objects/x.py": "def broken(:\n"})

    assert problems_of(folder) == []


@pytest.mark.parametrize(
    ("bibtex", "reason"),
    [
        pytest.param("TODO", "which is not a BibTeX entry", id="no-entry"),
        pytest.param(
            "@article{TODO, title={TODO}}", "which is a placeholder entry", id="template-entry"
        ),
    ],
)
def test_placeholder_bibtex_says_why(tmp_path: Path, bibtex: str, reason: str) -> None:
    folder = write_submission(
        tmp_path, replaced("@article{author2020, title={A model}, " "year={2020}}", bibtex)
    )

    problem = only(problems_of(folder), "placeholder-bibtex")

    assert reason in problem.message


def test_repository_root_rejected(tmp_path: Path) -> None:
    write_submission(tmp_path / "submissions" / "first", {})

    with pytest.raises(FatalError, match="is the repository root; give submissions/ or"):
        validate_paths([str(tmp_path)])


def test_models_package_given_instead_of_submission(tmp_path: Path) -> None:
    folder = write_submission(tmp_path / "submissions" / "net", {})

    with pytest.raises(FatalError) as error:
        validate_paths([str(folder / "models")])

    assert str(error.value) == (
        f"'{folder}/models' is the models package, not a submission; "
        f"validate its parent folder {folder}"
    )


def test_file_given_instead_of_folder(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Models\n")

    with pytest.raises(FatalError) as error:
        validate_paths([str(readme)])

    assert str(error.value) == (
        f"not a folder, '{readme}'; give a submission folder or the submissions/ folder"
    )


@pytest.mark.parametrize(
    "environment",
    [
        pytest.param(".venv", id="dot-venv"),
        pytest.param("venv", id="venv"),
        pytest.param("node_modules", id="node-modules"),
        pytest.param("models/lib/site-packages", id="site-packages"),
        pytest.param("python-env", id="pyvenv-cfg"),
    ],
)
def test_environment_folder_not_entered(tmp_path: Path, environment: str) -> None:
    folder = write_submission(
        tmp_path,
        {
            f"{environment}/pyvenv.cfg": "home = /usr/bin\n",
            f"{environment}/lib/broken.py": "def broken(:\n",
        },
    )

    problem = only(problems_of(folder), "stray-file")

    assert problem.file == environment


def test_walk_stops_at_entry_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tooling.validation.files.MAX_ENTRIES", 20)
    files: dict[str, str | None] = {f"data/part{index}.py": "def broken(:\n" for index in range(30)}
    folder = write_submission(tmp_path, files)

    problems = problems_of(folder)

    assert [problem.code for problem in problems] == ["too-many-files"]
    assert "most of them in 'data/'" in problems[0].message


def test_folder_without_submission_layout(tmp_path: Path) -> None:
    for index in range(5):
        (tmp_path / f"script{index}.py").write_text("import numpy\ndef broken(:\n")
    write_submission(tmp_path / "projects" / "vision" / "net", {})

    problems = problems_of(tmp_path)

    assert [problem.code for problem in problems] == ["missing-models-package"]
    assert "'projects/vision/net/models/'" in problems[0].message


def test_folder_without_submission_layout_nor_package(tmp_path: Path) -> None:
    (tmp_path / "notes.py").write_text("def broken(:\n")

    problems = problems_of(tmp_path)

    assert [problem.code for problem in problems] == ["missing-models-package"]
    assert "neither a models package nor setup.py" in problems[0].message


def test_identifiers_differing_in_case_within_submission(tmp_path: Path) -> None:
    folder = write_submission(tmp_path, replaced('["test-model"]', '["Net-A", "net-a"]'))

    problem = only(problems_of(folder), "duplicate-identifier")

    assert "differ only in case" in problem.message


def test_identifiers_differing_in_case_across_submissions(tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    write_submission(submissions / "first", replaced('["test-model"]', '["Net-A"]'))
    write_submission(submissions / "second", replaced('["test-model"]', '["net-a"]'))

    report = validate_paths([str(submissions)])

    problem = only(report.submissions[0].problems, "duplicate-identifier")
    assert "'net-a'" in problem.message
    assert "differs only in case" in problem.message


def test_empty_model_list_is_reported(tmp_path: Path) -> None:
    folder = write_submission(tmp_path, replaced('return ["test-model"]', "return []"))

    problem = only(problems_of(folder), "no-models")

    assert problem.file == "models/base_models.py"
    assert problem.line == line_of(folder, "models/base_models.py", "def get_model_list")

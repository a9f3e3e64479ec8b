"""The static readers other parts of the tooling import from tooling.validation."""

from __future__ import annotations

import importlib.util
from pathlib import Path, PurePosixPath

import pytest

from tooling.legacy import LEGACY_MODULES, is_legacy_module, modern_module
from tooling.validation.distributions import candidate_distributions, normalize
from tooling.validation.files import LARGE_FILE_BYTES, MAX_FILE_BYTES, is_stray_file
from tooling.validation.identifiers import read_model_identifiers
from tooling.validation.requirements import is_provided_requirement, read_requirements


@pytest.mark.parametrize(
    ("relative", "stray"),
    [
        pytest.param("models/base_models.py", False, id="module"),
        pytest.param("models/weights/net.pth", False, id="weights"),
        pytest.param("models/build/x.py", False, id="nested-build"),
        pytest.param(".gitignore", False, id="gitignore"),
        pytest.param("models/__pycache__/a.cpython-311.pyc", True, id="pycache"),
        pytest.param("build/lib/models/__init__.py", True, id="build"),
        pytest.param("dist/x-0.1.tar.gz", True, id="dist"),
        pytest.param("x.egg-info/PKG-INFO", True, id="egg-info"),
        pytest.param("models/a.py~", True, id="backup"),
        pytest.param("models/.DS_Store", True, id="ds-store"),
        pytest.param(".git/config", True, id="git"),
        pytest.param(".venv/lib/python3.11/site.py", True, id="venv"),
        pytest.param("web/node_modules/x/index.js", True, id="node-modules"),
    ],
)
def test_is_stray_file(relative: str, stray: bool) -> None:
    assert is_stray_file(PurePosixPath(relative)) is stray


def test_size_limits() -> None:
    assert MAX_FILE_BYTES == 100 * 1024**2
    assert LARGE_FILE_BYTES == 25 * 1024**2


def test_read_requirements_setup_py(tmp_path: Path) -> None:
    (tmp_path / "setup.py").write_text(
        "from setuptools import setup\nREQ = ['torch', 'timm==1.0']\nsetup(install_requires=REQ)\n"
    )

    assert read_requirements(tmp_path) == ["torch", "timm==1.0"]


def test_read_requirements_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname="x"\ndependencies=["einops>=0.7"]\n')
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup()\n")

    assert read_requirements(tmp_path) == ["einops>=0.7"]


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param("from setuptools import setup\nsetup(install_requires=f())\n", id="computed"),
        pytest.param("def broken(:\n", id="syntax-error"),
        pytest.param("print('no setup call')\n", id="no-setup-call"),
    ],
)
def test_read_requirements_unreadable(tmp_path: Path, setup: str) -> None:
    (tmp_path / "setup.py").write_text(setup)

    assert read_requirements(tmp_path) == []


@pytest.mark.parametrize(
    ("requirement", "provided"),
    [
        pytest.param("torch==1.7.1", True, id="torch-pinned"),
        pytest.param("torchvision", True, id="torchvision"),
        pytest.param("numpy<2", True, id="numpy"),
        pytest.param("brainscore_vision", True, id="brainscore-vision"),
        pytest.param("scikit-learn", True, id="dependency"),
        pytest.param("Pillow", True, id="core-dependency"),
        pytest.param(
            "model-tools @ git+https://github.com/brain-score/model-tools.git",
            True,
            id="model-tools-git",
        ),
        pytest.param("git+https://github.com/brain-score/brain-score", True, id="bare-git-url"),
        pytest.param("timm>=1.0", False, id="timm"),
        pytest.param("torch=1.7.1", False, id="invalid"),
    ],
)
def test_is_provided_requirement(requirement: str, provided: bool) -> None:
    assert is_provided_requirement(requirement) is provided


def test_read_model_identifiers(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "base_models.py").write_text(
        "def get_model_list():\n    return ['a', 'b']\n"
    )
    (tmp_path / "models" / "brain_models.py").write_text(
        "MODELS = ('c',)\n\n\ndef get_model_list():\n    return list(MODELS)\n"
    )

    assert read_model_identifiers(tmp_path) == ["a", "b", "c"]


def test_read_model_identifiers_not_literal(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "base_models.py").write_text(
        "def get_model_list():\n    return load_names()\n"
    )

    assert read_model_identifiers(tmp_path) == []


@pytest.mark.parametrize(
    ("module", "distribution"),
    [
        pytest.param("sklearn.svm", "scikit-learn", id="sklearn"),
        pytest.param("PIL.Image", "Pillow", id="pil"),
        pytest.param("yaml", "PyYAML", id="yaml"),
        pytest.param("cv2", "opencv-python", id="cv2"),
        pytest.param("google.protobuf.message", "protobuf", id="protobuf"),
        pytest.param("timm.layers", "timm", id="same-name"),
    ],
)
def test_candidate_distributions(module: str, distribution: str) -> None:
    assert candidate_distributions(module)[0] == distribution


def test_normalize() -> None:
    assert normalize("Scikit_Learn") == normalize("scikit-learn")


def test_legacy_mapping_named_modules() -> None:
    assert modern_module("model_tools.activations.pytorch") == (
        "brainscore_vision.model_helpers.activations.pytorch"
    )
    assert modern_module("model_tools.brain_transformation") == (
        "brainscore_vision.model_helpers.brain_transformation"
    )
    assert modern_module("model_tools.check_submission.check_models") == (
        "brainscore_vision.model_helpers.check_submission.check_models"
    )
    assert modern_module("brainscore.model_interface") == "brainscore_vision.model_interface"
    assert is_legacy_module("brainscore.utils")
    assert not is_legacy_module("brainscore_vision.utils")


@pytest.mark.parametrize("target", sorted(set(LEGACY_MODULES.values())))
def test_legacy_target_exists(target: str) -> None:
    """Each target is a module file of the installed brainscore_vision, found without
    importing it (its package imports torch)."""
    spec = importlib.util.find_spec("brainscore_vision")
    assert spec is not None
    assert spec.origin is not None
    root = Path(spec.origin).parent.joinpath(*target.split(".")[1:])

    assert root.with_suffix(".py").is_file() or (root / "__init__.py").is_file()

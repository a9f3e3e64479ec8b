"""A submission written against the 2019 template runs unchanged in the mock score.

Its modules import `model_tools.*` and `brainscore.*`, which brainscore-vision replaced;
the child process resolves those names to today's modules.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tooling.mockscore.legacy import LegacyAliasFinder
from tooling.mockscore.runner import run_submission
from tooling.reports import SubmissionReport

BASE_MODELS = '''
import functools

import torch
from model_tools.activations.pytorch import PytorchWrapper
from model_tools.activations.pytorch import load_preprocess_images
from model_tools.check_submission import check_models
from torch import nn


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, kernel_size=5, stride=2)
        self.relu1 = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(8)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3)
        self.relu2 = nn.ReLU()

    def forward(self, x):
        x = self.pool(self.relu1(self.conv1(x)))
        return self.relu2(self.conv2(x))


def get_model_list():
    return ['legacy-2019']


def get_model(name):
    assert name == 'legacy-2019'
    torch.manual_seed(0)
    preprocessing = functools.partial(load_preprocess_images, image_size=64)
    wrapper = PytorchWrapper(identifier=name, model=SmallNet(), preprocessing=preprocessing)
    wrapper.image_size = 64
    return wrapper


def get_layers(name):
    assert name == 'legacy-2019'
    return ['relu1', 'relu2']


def get_bibtex(model_identifier):
    return """@article{legacy2019, title={A 2019 model}, author={Old, Author}, year={2019}}"""


if __name__ == '__main__':
    check_models.check_base_models(__name__)
'''

BRAIN_MODELS = '''
from brainscore.model_interface import BrainModel
from model_tools.brain_transformation import ModelCommitment

from models import base_models


def get_model_list():
    return ['legacy-2019-brain']


def get_model(name):
    assert name == 'legacy-2019-brain'
    wrapper = base_models.get_model('legacy-2019')
    wrapper.identifier = name
    regions = {'V1': 'relu1', 'V2': 'relu1', 'V4': 'relu2', 'IT': 'relu2'}
    model = ModelCommitment(identifier=name, activations_model=wrapper,
                            layers=['relu1', 'relu2'], region_layer_map=regions)
    assert isinstance(model, BrainModel)
    return model


def get_bibtex(model_identifier):
    return """@article{legacy2019, title={A 2019 model}, author={Old, Author}, year={2019}}"""
'''

SETUP_PY = """
from setuptools import setup, find_packages

requirements = [
    "torch",
    "model-tools @ git+https://github.com/brain-score/model-tools",
]

setup(name='legacy-2019', packages=find_packages(), install_requires=requirements)
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> SubmissionReport:
    folder = tmp_path_factory.mktemp("legacy") / "legacy-2019"
    (folder / "models").mkdir(parents=True)
    (folder / "models" / "__init__.py").write_text("")
    (folder / "models" / "base_models.py").write_text(BASE_MODELS)
    (folder / "models" / "brain_models.py").write_text(BRAIN_MODELS)
    (folder / "setup.py").write_text(SETUP_PY)
    return run_submission(
        folder, "legacy-2019", timeout=900, device="cpu", cache_dir=folder.parent / "cache"
    )


@pytest.mark.slow
def test_legacy_submission_passes(report: SubmissionReport) -> None:
    assert report.problems == []
    assert report.ok


@pytest.mark.slow
@pytest.mark.parametrize(
    ("identifier", "kind"),
    [
        pytest.param("legacy-2019", "base", id="base"),
        pytest.param("legacy-2019-brain", "brain", id="brain"),
    ],
)
def test_legacy_model_scored(report: SubmissionReport, identifier: str, kind: str) -> None:
    (model,) = [entry for entry in report.models if entry["identifier"] == identifier]

    assert model["kind"] == kind
    assert model["ok"] is True
    assert list(model["regions"]) == ["V1", "V2", "V4", "IT"]


def test_alias_resolves_by_longest_prefix() -> None:
    finder = LegacyAliasFinder({"model_tools": "new.helpers", "model_tools.x": "other.x"})

    assert finder.target_of("model_tools") == "new.helpers"
    assert finder.target_of("model_tools.activations.pca") == "new.helpers.activations.pca"
    assert finder.target_of("model_tools.x.y") == "other.x.y"
    assert finder.target_of("model_toolsx") is None


ALIAS_SCRIPT = """
import json
from tooling.legacy import LEGACY_MODULES
from tooling.mockscore.legacy import install_legacy_aliases
install_legacy_aliases(LEGACY_MODULES)
import model_tools.activations.pytorch as old
import brainscore.model_interface as old_interface
from brainscore_vision.model_helpers.activations import pytorch as new
from brainscore_vision import model_interface as new_interface
try:
    import model_tools.activations.keras
    error = None
except ModuleNotFoundError as raised:
    error = str(raised)
print(json.dumps({
    "same_module": old is new,
    "same_class": old.PytorchWrapper is new.PytorchWrapper,
    "same_interface": old_interface.BrainModel is new_interface.BrainModel,
    "keras_error": error,
}))
"""


@pytest.fixture(scope="module")
def aliases() -> dict:
    """Import old names in a fresh interpreter, because the aliases change sys.modules."""
    completed = subprocess.run(
        [sys.executable, "-c", ALIAS_SCRIPT], capture_output=True, text=True, check=True
    )
    return json.loads(completed.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("check", ["same_module", "same_class", "same_interface"])
def test_alias_is_same_object(aliases: dict, check: str) -> None:
    assert aliases[check] is True


@pytest.mark.slow
def test_unmapped_legacy_module_fails(aliases: dict) -> None:
    assert aliases["keras_error"] == "No module named 'model_tools.activations.keras'"

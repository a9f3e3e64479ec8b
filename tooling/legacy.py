"""The 2019 module names of `model_tools` and `brainscore`, and where those parts live now.

Submissions written for the 2019 template import `model_tools.*` (github.com/brain-score/
model-tools) and `brainscore.*`. The same parts live in `brainscore_vision` today; every
target below exists in brainscore-vision 2.4.2. Validation warns about such imports, and
the mock score and the scoring worker install import shims built from this same mapping so
that the old submissions still run.
"""

from __future__ import annotations

LEGACY_PACKAGES = ("model_tools", "brainscore")

LEGACY_MODULES: dict[str, str] = {
    "model_tools": "brainscore_vision.model_helpers",
    "model_tools.activations": "brainscore_vision.model_helpers.activations",
    "model_tools.activations.core": "brainscore_vision.model_helpers.activations.core",
    "model_tools.activations.pca": "brainscore_vision.model_helpers.activations.pca",
    "model_tools.activations.pytorch": "brainscore_vision.model_helpers.activations.pytorch",
    "model_tools.brain_transformation": "brainscore_vision.model_helpers.brain_transformation",
    "model_tools.brain_transformation.behavior": (
        "brainscore_vision.model_helpers.brain_transformation.behavior"
    ),
    "model_tools.brain_transformation.neural": (
        "brainscore_vision.model_helpers.brain_transformation.neural"
    ),
    "model_tools.brain_transformation.temporal": (
        "brainscore_vision.model_helpers.brain_transformation.temporal"
    ),
    "model_tools.check_submission": "brainscore_vision.model_helpers.check_submission",
    "model_tools.check_submission.check_models": (
        "brainscore_vision.model_helpers.check_submission.check_models"
    ),
    "model_tools.utils": "brainscore_vision.model_helpers.utils",
    "model_tools.utils.s3": "brainscore_vision.model_helpers.utils.s3",
    "brainscore": "brainscore_vision",
    "brainscore.model_interface": "brainscore_vision.model_interface",
    "brainscore.utils": "brainscore_vision.utils",
    "brainscore.benchmarks.screen": "brainscore_vision.benchmark_helpers.screen",
}

# Distribution names under which 2019 setup.py files required the legacy packages, often
# as `model-tools @ git+https://github.com/brain-score/model-tools`.
LEGACY_DISTRIBUTIONS = frozenset({"model-tools", "brain-score", "brainscore"})


def is_legacy_module(module: str) -> bool:
    """Tell whether a dotted module name belongs to a 2019 package."""
    return module.split(".", 1)[0] in LEGACY_PACKAGES


def modern_module(module: str) -> str | None:
    """Return the brainscore_vision module that replaces a 2019 module, or None.

    None means brainscore_vision has no counterpart (for example the Keras and TensorFlow
    wrappers of model_tools), so an import of that module fails in scoring.
    """
    return LEGACY_MODULES.get(module)

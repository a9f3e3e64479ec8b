"""One pass of the stimuli through a base model, with checks of every layer's activations.

The pass goes through the model's own activations wrapper (its preprocessing, forward pass
and layer hooks). A batch-activations hook, the mechanism brainscore_vision's LayerPCA
uses, copies each batch out, so that all layers come from one forward pass per batch.
"""

from __future__ import annotations

import dataclasses
import difflib
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np
from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
from brainscore_core.supported_data_standards.brainio.stimuli import StimulusSet

from tooling.problems import Problem

MINIMUM_FEATURES = 25  # the standard PLS regression fits 25 components
BASE_MODELS_FILE = "models/base_models.py"
# Columns copied to float64 at a time while computing a layer's Gram matrix, which bounds
# the memory the reduction of a wide layer needs (8192 columns x 120 images is 7.5 MiB).
_GRAM_BLOCK = 8192


@dataclasses.dataclass
class LayerActivations:
    """The activations of one layer on every stimulus, flattened to images x features."""

    layer: str
    values: np.ndarray  # float32, images x features

    @property
    def shape(self) -> list[int]:
        return [int(size) for size in self.values.shape]


@dataclasses.dataclass
class Extraction:
    """The activations of one pass over the stimuli, with the pass's duration."""

    layers: list[LayerActivations]
    images: int
    seconds: float

    @property
    def bytes_per_image(self) -> int:
        return sum(layer.values.shape[1] for layer in self.layers) * np.dtype(np.float32).itemsize


class _BatchCollector:
    """A batch-activations hook that keeps a float32 copy of every layer's batch.

    It hands the extractor a one-column placeholder per requested layer instead of the
    real batch: the extractor's packaging into an assembly costs time and memory per
    feature, and this pass only needs the arrays.
    """

    def __init__(self, layers: Sequence[str]):
        self.layers = list(layers)
        self.batches: dict[str, list[np.ndarray]] = {layer: [] for layer in self.layers}

    def __call__(self, batch_activations: OrderedDict) -> OrderedDict:
        size = 0
        for layer, values in batch_activations.items():
            flat = np.asarray(values).reshape(len(values), -1)
            self.batches.setdefault(layer, []).append(flat.astype(np.float32, copy=True))
            size = len(values)
        return OrderedDict((layer, np.zeros((size, 1), np.float32)) for layer in self.layers)


def module_names(activations_model: object) -> list[str] | None:
    """List the names `PytorchWrapper.get_layer` accepts, or None for other wrappers."""
    model = getattr(activations_model, "_model", None)
    named_modules = getattr(model, "named_modules", None)
    if named_modules is None:
        return None
    return [name for name, _ in named_modules(remove_duplicate=False) if name]


def _not_found(layer: str, names: Sequence[str], reason: str) -> Problem:
    nearest = difflib.get_close_matches(layer, names, n=3, cutoff=0.4)
    if nearest:
        hint = "nearest layer names: " + ", ".join(repr(name) for name in nearest)
    elif names:
        hint = "the network's first layer names: " + ", ".join(repr(n) for n in names[:3])
    else:
        hint = "the network reports no layer names"
    return Problem(
        "layer-not-found",
        f"layer {layer!r} {reason}; {hint}; correct get_layers",
        file=BASE_MODELS_FILE,
    )


def missing_layers(names: Sequence[str] | None, layers: Sequence[str]) -> list[str]:
    """Return the layers that are not among the network's module `names` (None: unknown)."""
    if names is None:
        return []
    known = set(names) | {"logits"}
    return [layer for layer in layers if layer not in known]


def extract(
    activations_model: Callable, layers: Sequence[str], stimulus_set: StimulusSet
) -> Extraction:
    """Run the stimuli through the model once and return every layer's activations."""
    if not hasattr(activations_model, "register_batch_activations_hook"):
        return _extract_packaged(activations_model, layers, stimulus_set)
    collector = _BatchCollector(layers)
    handle = activations_model.register_batch_activations_hook(collector)
    start = time.perf_counter()
    try:
        activations_model(stimulus_set, layers=list(layers))
    finally:
        handle.remove()
    seconds = time.perf_counter() - start
    collected = [
        LayerActivations(layer, np.concatenate(collector.batches[layer]))
        for layer in layers
        if collector.batches.get(layer)
    ]
    return Extraction(layers=collected, images=len(stimulus_set), seconds=seconds)


def _extract_packaged(
    activations_model: Callable, layers: Sequence[str], stimulus_set: StimulusSet
) -> Extraction:
    # A wrapper not built on ActivationsExtractorHelper has no batch hooks, so its
    # packaged assembly (presentation x neuroid, with a `layer` coordinate) is split here.
    start = time.perf_counter()
    assembly = activations_model(stimulus_set, layers=list(layers))
    seconds = time.perf_counter() - start
    assembly = assembly.transpose("presentation", "neuroid")
    layer_of_neuroid = assembly["layer"].values
    collected = [
        LayerActivations(layer, assembly.values[:, layer_of_neuroid == layer].astype(np.float32))
        for layer in layers
        if (layer_of_neuroid == layer).any()
    ]
    return Extraction(layers=collected, images=len(stimulus_set), seconds=seconds)


def layer_problems(
    layers: Sequence[str],
    names: Sequence[str] | None,
    missing: Sequence[str],
    extraction: Extraction | None,
) -> list[Problem]:
    """Return one problem per requested layer that cannot be scored, in the layers' order.

    `missing` are the layers left out of the extraction because the network lacks them.
    """
    by_layer = {item.layer: item for item in extraction.layers} if extraction else {}
    problems = []
    for layer in layers:
        if layer in missing:
            problem = _not_found(layer, names or [], "is not a module of the network")
        elif layer not in by_layer:
            problem = _not_found(
                layer, names or [], "gave no output: the forward pass does not call it"
            )
        else:
            problem = check_values(f"layer {layer!r}", by_layer[layer].values, BASE_MODELS_FILE)
        if problem is not None:
            problems.append(problem)
    return problems


def check_values(subject: str, values: np.ndarray, file: str) -> Problem | None:
    """Return the problem with `values` (images x features) of `subject`, if any.

    `subject` names the source in the message, for example "layer 'conv1'".
    """
    if not np.isfinite(values).all():
        images = int((~np.isfinite(values)).any(axis=1).sum())
        return Problem(
            "non-finite-activations",
            f"{subject} gives NaN or infinite activations for {images} of {len(values)} "
            "images; find the operation that overflows or divides by zero",
            file=file,
        )
    if values.shape[1] < MINIMUM_FEATURES:
        return Problem(
            "too-few-features",
            f"{subject} gives {values.shape[1]} activations per image, fewer than the "
            f"{MINIMUM_FEATURES} the PLS regression needs; choose one with at least "
            f"{MINIMUM_FEATURES} units",
            file=file,
        )
    if (values == values[0]).all():
        return Problem(
            "constant-activations",
            f"{subject} gives the same activations for all {len(values)} images; check the "
            "preprocessing and that its output depends on the input",
            file=file,
        )
    return None


def reduce(values: np.ndarray) -> np.ndarray:
    """Rotate a layer's activations onto their principal components across the stimuli.

    A layer wider than the number of images keeps images-many columns: the principal
    component scores of all stimuli. This loses nothing for the PLS regression of the
    benchmark, which centers its inputs and is unchanged by a rotation of the feature
    space, and every train and test split lies in the span of all stimuli. The scores
    are therefore those of the raw activations, up to rounding, at a fraction of the cost.
    """
    images, features = values.shape
    if features <= images:
        return values.astype(np.float64)
    mean = values.mean(axis=0, dtype=np.float64)
    gram = np.zeros((images, images))
    for start in range(0, features, _GRAM_BLOCK):
        block = values[:, start : start + _GRAM_BLOCK].astype(np.float64)
        block -= mean[start : start + _GRAM_BLOCK]
        gram += block @ block.T
    eigenvalues, eigenvectors = np.linalg.eigh(gram)
    order = np.argsort(eigenvalues)[::-1]
    # The eigenvectors scaled by the singular values are the principal component scores.
    return eigenvectors[:, order] * np.sqrt(np.maximum(eigenvalues[order], 0))


def to_assembly(layer: str, values: np.ndarray, stimulus_set: StimulusSet) -> NeuroidAssembly:
    """Package a layer's (reduced) activations the way LayerMappedModel.look_at would."""
    features = values.shape[1]
    return NeuroidAssembly(
        values,
        coords={
            "stimulus_id": ("presentation", stimulus_set["stimulus_id"].values),
            "object_name": ("presentation", stimulus_set["object_name"].values),
            "neuroid_id": ("neuroid", [f"{layer}.{index}" for index in range(features)]),
            "layer": ("neuroid", [layer] * features),
        },
        dims=["presentation", "neuroid"],
    )

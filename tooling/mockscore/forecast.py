"""Forecast the memory and time that real scoring will need, from the mock score's figures.

Real scoring commits a base model to regions the way brainscore-vision 2.4.2's
ModelCommitment does: LayerSelection fits a 1000-component PCA per layer on ImageNet
images, then scores every listed layer on the standard public benchmarks of each region
(STANDARD_REGION_BENCHMARKS in brainscore_vision.model_helpers.brain_transformation). The
forecast scales the mock score's activation size and time per image to those stimulus
counts. It is an estimate: the benchmarks that follow the layer commitment add time, and
the copy factor below is a rough allowance, not a measurement.
"""

from __future__ import annotations

import dataclasses
from typing import Any

# FreemanZiemba2013public (V1, V2): the public split contains 135 of the 450 texture and
# noise images, per the packaging notebooks in brainscore_vision/data/freemanziemba2013.
FREEMAN_ZIEMBA_2013_PUBLIC_STIMULI = 135
# MajajHong2015public (V4, IT), the stimulus set hvm-public: the 5760 HvM images minus
# the 2560 of the private split that brainscore_vision/data/majajhong2015/test.py asserts.
MAJAJ_HONG_2015_PUBLIC_STIMULI = 3200
# LayerSelection hooks LayerPCA(n_components=1000), which fits on 1000 ImageNet images.
PCA_COMPONENTS = 1000
PCA_FIT_IMAGES = 1000

STIMULI = PCA_FIT_IMAGES + FREEMAN_ZIEMBA_2013_PUBLIC_STIMULI + MAJAJ_HONG_2015_PUBLIC_STIMULI
LARGEST_STIMULUS_SET = max(
    PCA_FIT_IMAGES, FREEMAN_ZIEMBA_2013_PUBLIC_STIMULI, MAJAJ_HONG_2015_PUBLIC_STIMULI
)
# NOTE: an estimate. Activations are held once as extracted and once more while the
# regression or the PCA works on them. A measured factor would need real scoring runs.
COPY_FACTOR = 2.0
DEFAULT_BYTES_PER_FEATURE = 4  # float32

# NOTE: assumed limits of a scoring machine, to be set to the scoring service's real ones.
DEFAULT_MAX_MEMORY_GIB = 64.0
DEFAULT_MAX_HOURS = 24.0

GIB = 2**30


@dataclasses.dataclass(frozen=True)
class Limits:
    """Forecast values above which a model gets a warning."""

    max_memory_gib: float = DEFAULT_MAX_MEMORY_GIB
    max_hours: float = DEFAULT_MAX_HOURS


def forecast(entry: dict[str, Any], limits: Limits) -> dict[str, Any] | None:
    """Return the forecast for a model entry, or None when it lacks the figures."""
    seconds_per_image = entry.get("seconds_per_image")
    memory_bytes = forecast_memory_bytes(entry)
    if seconds_per_image is None and memory_bytes is None:
        return None

    result: dict[str, Any] = {"stimuli": STIMULI, "warnings": []}
    if memory_bytes is not None:
        result["memory_gib"] = significant(memory_bytes / GIB)
        if result["memory_gib"] > limits.max_memory_gib:
            result["warnings"].append(
                f"real scoring is forecast to need {result['memory_gib']:g} GiB of memory, "
                f"over the limit of {limits.max_memory_gib:g} GiB; choose fewer or smaller "
                f"layers in get_layers"
            )
    if seconds_per_image is not None:
        result["hours"] = significant(seconds_per_image * STIMULI / 3600)
        if result["hours"] > limits.max_hours:
            result["warnings"].append(
                f"real scoring is forecast to take {result['hours']:g} hours, over the "
                f"limit of {limits.max_hours:g} hours; make the forward pass faster"
            )
    return result


def significant(value: float, digits: int = 3) -> float:
    """Round to `digits` significant digits: a forecast is no more precise than that."""
    return float(f"{value:.{digits}g}")


def forecast_memory_bytes(entry: dict[str, Any]) -> float | None:
    """Return the forecast peak memory: the process's measured peak plus activations.

    With per-layer shapes (base models) the larger of two stages counts: the PCA fit on
    all layers' full activations, and every layer reduced to at most 1000 components for
    the largest stimulus set. Without shapes (brain models) the whole activation size per
    image counts for the largest stimulus set.
    """
    bytes_per_image = entry.get("activation_bytes_per_image")
    if bytes_per_image is None:
        return None
    baseline = float(entry.get("peak_memory_mib") or 0) * 2**20
    shapes = entry.get("activations") or {}
    features = {layer: shape[-1] for layer, shape in shapes.items() if shape}
    if not features:
        return baseline + COPY_FACTOR * bytes_per_image * LARGEST_STIMULUS_SET

    total_features = sum(features.values())
    bytes_per_feature = (
        bytes_per_image / total_features if total_features else DEFAULT_BYTES_PER_FEATURE
    )
    pca_fit = bytes_per_image * PCA_FIT_IMAGES
    reduced_per_image = sum(min(count, PCA_COMPONENTS) for count in features.values())
    reduced = reduced_per_image * bytes_per_feature * MAJAJ_HONG_2015_PUBLIC_STIMULI
    return baseline + COPY_FACTOR * max(pca_fit, reduced)

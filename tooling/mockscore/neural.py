"""The mock benchmark's stimuli and region benchmarks, built from brainscore_vision's parts.

Importing this module imports brainscore_vision, so set `offline_environment()` first.
"""

from __future__ import annotations

import functools
import json

import numpy as np
from brainscore_core.supported_data_standards.brainio.assemblies import (
    DataAssembly,
    NeuroidAssembly,
    walk_coords,
)
from brainscore_core.supported_data_standards.brainio.stimuli import StimulusSet
from brainscore_vision import load_ceiling
from brainscore_vision.benchmark_helpers.neural_common import NeuralBenchmark, average_repetition
from brainscore_vision.metric_helpers.xarray_utils import XarrayCorrelation
from brainscore_vision.metrics import Score
from brainscore_vision.metrics.regression_correlation.metric import (
    CrossRegressedCorrelation,
    pls_regression,
)

from tooling.mockscore.make_stimuli import DATA_DIRECTORY

STIMULUS_SET_IDENTIFIER = "brainscore-submissions.mock-score"
VISUAL_DEGREES = 8
TIME_BIN = (70, 170)  # milliseconds after stimulus onset, as in the public IT and V4 data


@functools.cache
def load_stimulus_set() -> StimulusSet:
    """Load the shipped stimuli; `object_name` and `image_label` hold the shape category."""
    records = json.loads((DATA_DIRECTORY / "stimuli.json").read_text())
    stimulus_set = StimulusSet(
        [
            {
                "stimulus_id": record["stimulus_id"],
                "object_name": record["object_name"],
                "image_label": record["object_name"],
            }
            for record in records
        ]
    )
    stimulus_set.stimulus_paths = {
        record["stimulus_id"]: DATA_DIRECTORY / record["filename"] for record in records
    }
    stimulus_set.identifier = STIMULUS_SET_IDENTIFIER
    missing = [path for path in stimulus_set.stimulus_paths.values() if not path.is_file()]
    if missing:
        raise FileNotFoundError(
            f"mock stimulus {missing[0]} is missing; reinstall the tooling package or run "
            "`python -m tooling.mockscore.make_stimuli`"
        )
    return stimulus_set


def subset(stimulus_set: StimulusSet, stimulus_ids: list[str], suffix: str) -> StimulusSet:
    """Return the rows of `stimulus_set` with these ids, as a stimulus set of its own."""
    rows = StimulusSet(stimulus_set[stimulus_set["stimulus_id"].isin(stimulus_ids)])
    rows = StimulusSet(rows.reset_index(drop=True))
    rows.stimulus_paths = {key: stimulus_set.stimulus_paths[key] for key in rows["stimulus_id"]}
    rows.identifier = f"{stimulus_set.identifier}.{suffix}"
    return rows


@functools.cache
def region_ceiling(region: str) -> Score:
    """Return the region's ceiling, computed once per process.

    NeuralBenchmark.ceiling recomputes it on every access while result caching is off.
    """
    return region_benchmark(region).ceiling


def load_recordings(region: str) -> NeuroidAssembly:
    """Load one region's simulated recordings, with a `repetition` coordinate per trial."""
    stimulus_set = load_stimulus_set()
    with np.load(DATA_DIRECTORY / "responses.npz") as responses:
        trials = responses[region]  # repetitions x stimuli x neuroids
    repetitions, stimuli, neuroids = trials.shape

    def per_presentation(column: str) -> tuple[str, np.ndarray]:
        return "presentation", np.tile(stimulus_set[column].values, repetitions)

    assembly = NeuroidAssembly(
        trials.reshape(repetitions * stimuli, neuroids, 1),
        coords={
            "stimulus_id": per_presentation("stimulus_id"),
            "object_name": per_presentation("object_name"),
            "image_label": per_presentation("image_label"),
            "repetition": ("presentation", np.repeat(np.arange(repetitions), stimuli)),
            "neuroid_id": ("neuroid", [f"{region}.{index}" for index in range(neuroids)]),
            "region": ("neuroid", [region] * neuroids),
            "time_bin_start": ("time_bin", [TIME_BIN[0]]),
            "time_bin_end": ("time_bin", [TIME_BIN[1]]),
        },
        dims=["presentation", "neuroid", "time_bin"],
    )
    assembly = assembly.squeeze("time_bin")
    assembly.attrs["stimulus_set"] = stimulus_set
    assembly.attrs["stimulus_set_identifier"] = stimulus_set.identifier
    assembly.name = f"{STIMULUS_SET_IDENTIFIER}.{region}"
    return assembly


class PearsonPerNeuroid(XarrayCorrelation):
    """Pearson correlation of prediction and target per neuroid, over stimuli.

    It aligns and packages its inputs as brainscore_vision's `pearsonr_correlation()`
    (an XarrayCorrelation of scipy.stats.pearsonr) does, and gives the same values. It
    computes all neuroids in one array operation, because one scipy call per neuroid
    took most of the metric's time on the mock benchmark's small inputs.
    """

    def __init__(self):
        super().__init__(correlation=None)

    def __call__(self, prediction: DataAssembly, target: DataAssembly) -> Score:
        prediction = prediction.sortby([self._correlation_coord, self._neuroid_coord])
        target = target.sortby([self._correlation_coord, self._neuroid_coord])
        for coord in (self._correlation_coord, self._neuroid_coord):
            if not (prediction[coord].values == target[coord].values).all():
                raise ValueError(f"prediction and target differ in their {coord!r} values")
        neuroid_dims = target[self._neuroid_coord].dims
        stimulus_dim = target[self._correlation_coord].dims[0]
        predicted = prediction.transpose(stimulus_dim, *neuroid_dims).values.astype(float)
        recorded = target.transpose(stimulus_dim, *neuroid_dims).values.astype(float)
        predicted = predicted - predicted.mean(axis=0)
        recorded = recorded - recorded.mean(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            correlations = (predicted * recorded).sum(axis=0) / np.sqrt(
                (predicted**2).sum(axis=0) * (recorded**2).sum(axis=0)
            )
        return Score(
            np.clip(correlations, -1, 1),
            coords={
                coord: (dims, values)
                for coord, dims, values in walk_coords(target)
                if dims == neuroid_dims
            },
            dims=neuroid_dims,
        )


def pls_metric() -> CrossRegressedCorrelation:
    """Return the metric of brainscore's public PLS benchmarks, `load_metric("pls")` with
    splits stratified by object, with the per-neuroid Pearson correlation vectorized."""
    return CrossRegressedCorrelation(
        regression=pls_regression(),
        correlation=PearsonPerNeuroid(),
        crossvalidation_kwargs={"stratification_coord": "object_name"},
    )


@functools.cache
def region_benchmark(region: str) -> NeuralBenchmark:
    """Build the region's benchmark: cross-validated PLS with Pearson correlation against
    the repetition-averaged recordings, ceiled by their split-half internal consistency."""
    recordings = load_recordings(region)
    averaged = average_repetition(recordings)
    averaged.attrs["stimulus_set"] = recordings.attrs["stimulus_set"]
    ceiler = load_ceiling("internal_consistency")
    return NeuralBenchmark(
        identifier=f"{STIMULUS_SET_IDENTIFIER}.{region}-pls",
        version=1,
        assembly=averaged,
        similarity_metric=pls_metric(),
        visual_degrees=VISUAL_DEGREES,
        number_of_trials=1,
        ceiling_func=lambda: ceiler(recordings),
        parent=region,
    )

"""The mock benchmark: score one model offline on shipped stimuli and simulated recordings.

It is built from brainscore_vision's own parts. The stimuli form a StimulusSet and each
region's recordings a NeuroidAssembly with repetitions. The metric is the cross-validated
PLS regression with Pearson correlation of the public V1, V2, V4 and IT benchmarks, and
the ceiling is the split-half internal consistency. A base model runs the stimuli once,
with every layer recorded in the same forward pass. Each layer is then scored for every
region, each region takes its best layer as LayerSelection does, and ModelCommitment
commits the model to those layers.

Call `offline_environment()` and put its variables into `os.environ` before anything
imports brainscore_vision; this module imports brainscore_vision only when a model is
scored.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tooling.problems import Problem

if TYPE_CHECKING:
    import numpy as np

REGIONS = ("V1", "V2", "V4", "IT")
# Images per category used to fit the behavioural readout, and to test it.
BEHAVIOUR_FITTING_PER_CATEGORY = 8
BEHAVIOUR_TEST_PER_CATEGORY = 4
BRAIN_MODELS_FILE = "models/brain_models.py"

logger = logging.getLogger(__name__)
Progress = Callable[[str], None]


class ModelProblems(Exception):
    """Raised when layers or recordings of a model cannot be scored, with every problem."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(problem.message for problem in self.problems))


def default_directory() -> Path:
    """Return the folder for the files brainscore_vision writes while scoring offline."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "brainscore-submissions-tooling" / "mock-score"


def offline_environment(directory: Path | None = None) -> dict[str, str]:
    """Return environment variables that stop brainscore_vision downloading or installing.

    Set them before brainscore_vision is imported. They turn result caching off and put
    every folder brainscore_vision writes to inside `directory`. `MT_IMAGENET_PATH` points
    at generated images in the HDF5 layout of brainscore's ImageNet validation file, which
    LayerSelection's layer PCA would otherwise download from S3. This function writes that
    file when it is missing.
    """
    from tooling.mockscore.imagenet import substitute_filename, write_imagenet_substitute

    directory = Path(directory or default_directory())
    imagenet = directory / substitute_filename()
    if not imagenet.is_file():
        write_imagenet_substitute(imagenet)
    return {
        "BS_INSTALL_DEPENDENCIES": "no",
        "RESULTCACHING_DISABLE": "1",
        "RESULTCACHING_HOME": str(directory / "result_caching"),
        "RESULTCACHING_S3_BUCKET": "",
        "BRAINSCORE_HOME": str(directory / "brain-score"),
        "BRAINIO_HOME": str(directory / "brainio"),
        "MT_HOME": str(directory / "model-tools"),
        "MT_IMAGENET_PATH": str(imagenet),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        # brainscore_vision draws tqdm bars for activations and every cross-validation,
        # which would bury a traceback in the stderr of the process that scores.
        "TQDM_DISABLE": "1",
    }


def score_base_model(
    identifier: str, activations_model, layers: list[str], progress: Progress | None = None
) -> dict:
    """Score a base model and check its behavioural readout.

    Every layer is extracted in one pass and scored for every region. The best layer per
    region is committed with ModelCommitment, whose probabilities readout is then checked.
    Raises ModelProblems listing every unusable layer.
    """
    from brainscore_vision.model_helpers.brain_transformation import ModelCommitment

    from tooling.mockscore import activations as extraction_module
    from tooling.mockscore import neural

    report = progress or _log_progress
    layers = list(layers)
    if not layers:
        raise ValueError(f"get_layers({identifier!r}) returned no layers; list at least one")
    stimulus_set = neural.load_stimulus_set()
    # Layers the network lacks are left out of the pass so that the problems of the
    # others are found in the same run.
    names = extraction_module.module_names(activations_model)
    missing = extraction_module.missing_layers(names, layers)
    present = [layer for layer in layers if layer not in missing]
    extraction = None
    if present:
        report(f"activations of {len(present)} layers on {len(stimulus_set)} images")
        extraction = extraction_module.extract(activations_model, present, stimulus_set)
    problems = extraction_module.layer_problems(layers, names, missing, extraction)
    if problems:
        raise ModelProblems(problems)

    layer_scores, regions = _select_layers(extraction, stimulus_set, report)
    commitment = ModelCommitment(
        identifier=identifier,
        activations_model=activations_model,
        layers=layers,
        region_layer_map={region: regions[region]["layer"] for region in REGIONS},
        visual_degrees=neural.VISUAL_DEGREES,
    )
    report("behavioural readout")
    behaviour = check_behaviour(commitment)
    return {
        "identifier": identifier,
        "kind": "base",
        "ok": True,
        "layers": layers,
        "activations": {item.layer: item.shape for item in extraction.layers},
        "layer_scores": layer_scores,
        "regions": regions,
        "behaviour": behaviour,
        "images": extraction.images,
        "seconds_per_image": extraction.seconds / extraction.images,
        "activation_bytes_per_image": extraction.bytes_per_image,
    }


def _select_layers(extraction, stimulus_set, report: Progress) -> tuple[dict, dict]:
    from tooling.mockscore import activations as extraction_module

    sources = {
        item.layer: extraction_module.to_assembly(
            item.layer, extraction_module.reduce(item.values), stimulus_set
        )
        for item in extraction.layers
    }
    layer_scores: dict[str, dict[str, float]] = {}
    regions: dict[str, dict] = {}
    for region in REGIONS:
        report(f"scoring {len(sources)} layers for {region}")
        scores = {layer: _score(region, source) for layer, source in sources.items()}
        layer_scores[region] = {layer: score["raw"] for layer, score in scores.items()}
        # The first of equal scores wins, as with the argmax in LayerSelection.
        best = max(scores, key=lambda layer: scores[layer]["ceiled"])
        regions[region] = {"layer": best, **scores[best]}
    return layer_scores, regions


def _score(region: str, source) -> dict[str, float]:
    """Return raw, ceiling and ceiled scores of a source assembly (presentation x neuroid).

    The ceiled score is the explained variance r**2 / ceiling, as in brainscore_vision's
    NeuralBenchmark.
    """
    from brainscore_vision.benchmark_helpers.neural_common import explained_variance
    from sklearn.exceptions import ConvergenceWarning

    from tooling.mockscore import neural

    benchmark = neural.region_benchmark(region)
    ceiling = neural.region_ceiling(region)
    with warnings.catch_warnings():
        # PLS warns when its power iteration stops at max_iter on a nearly degenerate
        # component. The score is still computed, as in real scoring, and the warning
        # would only confuse a submitter.
        warnings.simplefilter("ignore", ConvergenceWarning)
        raw = benchmark._similarity_metric(source, benchmark._assembly)
    ceiled = explained_variance(raw, ceiling)
    return {"raw": float(raw), "ceiling": float(ceiling), "ceiled": float(ceiled)}


def score_brain_model(identifier: str, brain_model, progress: Progress | None = None) -> dict:
    """Record and score each region of a brain model, then check its behavioural readout.

    Raises ModelProblems listing every region whose recording cannot be scored.
    """
    from tooling.mockscore import neural

    report = progress or _log_progress
    stimulus_set = neural.load_stimulus_set()
    recordings = {}
    seconds = 0.0
    for region in REGIONS:
        report(f"recording {region} on {len(stimulus_set)} images")
        start = time.perf_counter()
        recordings[region] = _record(brain_model, neural.region_benchmark(region))
        seconds += time.perf_counter() - start
    problems = [
        problem
        for region, values in recordings.items()
        if (problem := _check_recording(region, values.values)) is not None
    ]
    if problems:
        raise ModelProblems(problems)

    regions = {}
    for region, recording in recordings.items():
        report(f"scoring {region}")
        regions[region] = {"layer": None, **_score(region, recording)}
    report("behavioural readout")
    behaviour = check_behaviour(brain_model)
    images = len(stimulus_set)
    return {
        "identifier": identifier,
        "kind": "brain",
        "ok": True,
        "layers": [],
        "activations": {region: list(item.shape) for region, item in recordings.items()},
        "layer_scores": {},
        "regions": regions,
        "behaviour": behaviour,
        "images": images,
        "seconds_per_image": seconds / (images * len(REGIONS)),
        "activation_bytes_per_image": sum(
            item.shape[1] * item.dtype.itemsize for item in recordings.values()
        ),
    }


def _record(brain_model, benchmark):
    from brainscore_vision.benchmark_helpers.screen import place_on_screen

    brain_model.start_recording(benchmark.region, time_bins=benchmark.timebins)
    stimuli = place_on_screen(
        benchmark._assembly.stimulus_set,
        target_visual_degrees=brain_model.visual_degrees(),
        source_visual_degrees=benchmark._visual_degrees,
    )
    recording = brain_model.look_at(stimuli, number_of_trials=1)
    if "time_bin" in recording.dims and recording.sizes["time_bin"] == 1:
        recording = recording.squeeze("time_bin")
    return recording.transpose("presentation", "neuroid")


def _check_recording(region: str, values: np.ndarray) -> Problem | None:
    from tooling.mockscore import activations as extraction_module

    return extraction_module.check_values(f"the {region} recording", values, BRAIN_MODELS_FILE)


def check_behaviour(brain_model) -> dict:
    """Fit the probabilities readout on labelled stimuli, then check its output on others.

    Returns `ok` (finite probabilities, one row per test image, one column per label, rows
    summing to 1), the output `shape` and, when not ok, a `message` saying what is wrong.
    """
    import numpy as np
    from brainscore_vision.benchmark_helpers.screen import place_on_screen
    from brainscore_vision.model_interface import BrainModel

    from tooling.mockscore import neural

    fitting, test = _behaviour_stimuli()
    degrees = brain_model.visual_degrees()

    def on_screen(stimuli):
        return place_on_screen(
            stimuli, target_visual_degrees=degrees, source_visual_degrees=neural.VISUAL_DEGREES
        )

    with warnings.catch_warnings():
        # brainscore-vision 2.4.2's ProbabilitiesClassifier passes `multi_class`, which
        # scikit-learn 1.5 deprecates; that is no problem of the submission.
        warnings.filterwarnings("ignore", message=".*'multi_class' was deprecated")
        # Its newton-cg solver may stop its line search early on the few fitting images;
        # the probabilities it gives are checked below either way.
        warnings.filterwarnings("ignore", message="(Line Search failed|The line search)")
        brain_model.start_task(BrainModel.Task.probabilities, on_screen(fitting))
        probabilities = brain_model.look_at(on_screen(test))
    labels = sorted(set(fitting["image_label"]))
    values = np.asarray(probabilities.transpose("presentation", "choice").values, dtype=float)
    shape = [int(size) for size in values.shape]
    message = _behaviour_problem(values, expected_shape=[len(test), len(labels)])
    result: dict = {"ok": message is None, "shape": shape}
    if message is not None:
        result["message"] = message
    return result


def _behaviour_problem(values: np.ndarray, expected_shape: list[int]) -> str | None:
    import numpy as np

    if list(values.shape) != expected_shape:
        return (
            f"start_task(probabilities) readout gives shape {list(values.shape)}, "
            f"expected {expected_shape} (images x labels)"
        )
    if not np.isfinite(values).all():
        return "start_task(probabilities) readout gives NaN or infinite probabilities"
    sums = values.sum(axis=1)
    if not np.allclose(sums, 1, atol=1e-4):
        worst = float(sums[np.argmax(np.abs(sums - 1))])
        return f"start_task(probabilities) readout rows sum to {worst:.4f}, not 1"
    return None


def _behaviour_stimuli():
    from tooling.mockscore import neural

    stimulus_set = neural.load_stimulus_set()
    fitting_ids: list[str] = []
    test_ids: list[str] = []
    for _, rows in stimulus_set.groupby("image_label", sort=True):
        ids = list(rows["stimulus_id"])
        fitting_ids += ids[:BEHAVIOUR_FITTING_PER_CATEGORY]
        test_ids += ids[
            BEHAVIOUR_FITTING_PER_CATEGORY : BEHAVIOUR_FITTING_PER_CATEGORY
            + BEHAVIOUR_TEST_PER_CATEGORY
        ]
    return (
        neural.subset(stimulus_set, fitting_ids, "behaviour-fitting"),
        neural.subset(stimulus_set, test_ids, "behaviour-test"),
    )


def _log_progress(message: str) -> None:
    logger.info("%s", message)

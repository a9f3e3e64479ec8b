"""Time the mock score of an AlexNet against a naive layer selection on the same stimuli.

Usage: python benchmarks/mock_score_speed.py [--variant mock|baseline|both]

The network is torchvision's AlexNet with random weights (seeded), wrapped in
brainscore_vision's PytorchWrapper at 224 x 224 pixels, with the seven layers
brainscore's AlexNet plugin lists. Each variant runs in its own subprocess, so that its
peak resident memory (ru_maxrss) is its own:

- mock: `tooling.mockscore.benchmark.score_base_model`, one forward pass over the stimuli
  for all layers, then every layer scored for each region, plus the behavioural readout.
- baseline: what the 2019 template's check did, for all four regions: ModelCommitment
  with a RegionLayerMap over LayerSelection, then each region's NeuralBenchmark (with
  `load_metric("pls")`) called on the committed model, plus the same behavioural readout.
  LayerSelection hooks brainscore's 1000-component LayerPCA (fitted on the generated
  ImageNet stand-in) and scores each layer through LayerScores, which runs the model
  again per layer; with result caching off, as in the check, nothing is reused between
  regions.

Prints wall time, peak memory and the layer chosen per region for each variant.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LAYERS = [
    "features.2",
    "features.5",
    "features.7",
    "features.9",
    "features.12",
    "classifier.2",
    "classifier.5",
]
IDENTIFIER = "alexnet-random-weights"


def _alexnet():
    import functools

    import torch
    import torchvision
    from brainscore_vision.model_helpers.activations.pytorch import (
        PytorchWrapper,
        load_preprocess_images,
    )

    torch.manual_seed(0)
    network = torchvision.models.alexnet(weights=None)
    preprocessing = functools.partial(load_preprocess_images, image_size=224)
    return PytorchWrapper(network, preprocessing, identifier=IDENTIFIER)


def run_mock() -> dict:
    from tooling.mockscore import benchmark

    entry = benchmark.score_base_model(IDENTIFIER, _alexnet(), LAYERS)
    return {
        "layers": {region: entry["regions"][region]["layer"] for region in benchmark.REGIONS},
        "raw": {region: entry["regions"][region]["raw"] for region in benchmark.REGIONS},
        "behaviour": entry["behaviour"]["ok"],
    }


def _standard_benchmark(region: str):
    from brainscore_vision import load_ceiling, load_metric
    from brainscore_vision.benchmark_helpers.neural_common import (
        NeuralBenchmark,
        average_repetition,
    )

    from tooling.mockscore import neural

    recordings = neural.load_recordings(region)
    averaged = average_repetition(recordings)
    averaged.attrs["stimulus_set"] = recordings.attrs["stimulus_set"]
    ceiler = load_ceiling("internal_consistency")
    return NeuralBenchmark(
        identifier=f"{neural.STIMULUS_SET_IDENTIFIER}.{region}-pls",
        version=1,
        assembly=averaged,
        similarity_metric=load_metric(
            "pls", crossvalidation_kwargs={"stratification_coord": "object_name"}
        ),
        visual_degrees=neural.VISUAL_DEGREES,
        number_of_trials=1,
        ceiling_func=lambda: ceiler(recordings),
        parent=region,
    )


def run_baseline() -> dict:
    from brainscore_vision.model_helpers.brain_transformation import (
        LayerSelection,
        ModelCommitment,
        RegionLayerMap,
    )

    from tooling.mockscore import benchmark

    model = _alexnet()
    benchmarks = {region: _standard_benchmark(region) for region in benchmark.REGIONS}
    layer_selection = LayerSelection(
        model_identifier=IDENTIFIER, activations_model=model, layers=LAYERS, visual_degrees=8
    )
    region_layer_map = RegionLayerMap(layer_selection=layer_selection, region_benchmarks=benchmarks)
    commitment = ModelCommitment(
        identifier=IDENTIFIER,
        activations_model=model,
        layers=LAYERS,
        region_layer_map=region_layer_map,
    )
    raw = {}
    for region in benchmark.REGIONS:
        score = benchmarks[region](commitment)
        raw[region] = float(score.raw)
    behaviour = benchmark.check_behaviour(commitment)
    return {
        "layers": {region: str(region_layer_map[region]) for region in benchmark.REGIONS},
        "raw": raw,
        "behaviour": behaviour["ok"],
    }


def child(variant: str, directory: Path) -> None:
    from tooling.mockscore.benchmark import offline_environment

    os.environ.update(offline_environment(directory))
    started = time.perf_counter()
    result = run_mock() if variant == "mock" else run_baseline()
    result["seconds"] = time.perf_counter() - started
    # On Linux ru_maxrss is in KiB.
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(variant: str, directory: Path) -> dict:
    """Run one variant in a subprocess; return its result with its wall time."""
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, __file__, "--child", variant, "--directory", str(directory)],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = time.perf_counter() - started
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=["mock", "baseline", "both"], default="both")
    parser.add_argument("--child", choices=["mock", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--directory", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.directory)
        return 0

    variants = ["mock", "baseline"] if args.variant == "both" else [args.variant]
    results = {}
    with tempfile.TemporaryDirectory() as temporary:
        for variant in variants:
            results[variant] = measure(variant, Path(temporary))
            print(f"{variant}: {json.dumps(results[variant])}", flush=True)
    if len(results) == 2:
        speedup = results["baseline"]["wall_seconds"] / results["mock"]["wall_seconds"]
        same = results["baseline"]["layers"] == results["mock"]["layers"]
        print(f"speed-up {speedup:.1f}x, same layer choices: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

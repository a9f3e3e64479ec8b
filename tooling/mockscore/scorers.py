"""The scoring functions the child process runs on each model: mock or real benchmark.

A scorer takes `(kind, identifier, model, layers, status=...)`, where kind is "base" or
"brain", and returns the keys of the model entry it measured. Layer-level problems come
as ModelProblems; any other exception is a crash of the model.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from tooling.mockscore.benchmark import ModelProblems
from tooling.mockscore.runner import MOCK_BENCHMARK

__all__ = ["MOCK_BENCHMARK", "ModelProblems", "load"]

Scorer = Callable[..., dict[str, Any]]


def load(benchmark: str) -> Scorer:
    """Return the scorer for `benchmark`: the mock benchmark, or a brainscore-vision
    benchmark identifier loaded with `brainscore_vision.load_benchmark`."""
    if benchmark == MOCK_BENCHMARK:
        return score_on_mock
    from brainscore_vision import load_benchmark

    loaded = load_benchmark(benchmark)

    def score(kind: str, identifier: str, model: Any, layers: list[str], status: Any) -> dict:
        return score_on_benchmark(loaded, benchmark, kind, identifier, model, layers)

    return score


def score_on_mock(
    kind: str, identifier: str, model: Any, layers: list[str], status: Any
) -> dict[str, Any]:
    from tooling.mockscore import benchmark

    def progress(message: str) -> None:
        status.write("progress", model=identifier, detail=message)

    if kind == "base":
        return benchmark.score_base_model(identifier, model, layers, progress=progress)
    return benchmark.score_brain_model(identifier, model, progress=progress)


def score_on_benchmark(
    benchmark: Any, benchmark_identifier: str, kind: str, identifier: str, model: Any,
    layers: list[str],
) -> dict[str, Any]:  # fmt: skip
    """Score one model on a brainscore-vision benchmark, the way real scoring does.

    A base model is committed to regions with ModelCommitment and its get_layers, which
    selects a layer per region on brainscore-vision's standard public benchmarks.
    """
    if kind == "base":
        from brainscore_vision.model_helpers.brain_transformation import ModelCommitment

        model = ModelCommitment(identifier=identifier, activations_model=model, layers=layers)
    score = benchmark(model)
    result = {
        "identifier": benchmark_identifier,
        "score": finite_or_none(score),
        "raw": finite_or_none(score.attrs.get("raw")),
        "ceiling": finite_or_none(score.attrs.get("ceiling")),
    }
    return {"layers": layers, "benchmark": result}


def finite_or_none(value: Any) -> float | None:
    """Return a score (a 0-d xarray, a numpy scalar or a float) as a float; None if not
    a finite number."""
    if value is None:
        return None
    try:
        number = float(getattr(value, "values", value))
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None

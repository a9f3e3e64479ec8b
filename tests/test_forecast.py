"""The forecast of real scoring's memory and time, the progress lines and the model text."""

from __future__ import annotations

import io
import logging

import pytest

from tooling.mockscore import forecast
from tooling.mockscore.progress import BarProgress, LogProgress, make_progress
from tooling.reports import SubmissionReport
from tooling.reports.text import render_model

MIB = 2**20


def base_entry(**changes: object) -> dict:
    entry: dict = {
        "identifier": "net",
        "kind": "base",
        "ok": True,
        "activations": {"small": [120, 500], "large": [120, 100_000]},
        "activation_bytes_per_image": 4 * 100_500,
        "seconds_per_image": 0.01,
        "peak_memory_mib": 1024.0,
    }
    entry.update(changes)
    return entry


def test_hours_scale_with_stimuli() -> None:
    result = forecast.forecast(base_entry(seconds_per_image=3.6), forecast.Limits())

    assert result["stimuli"] == 1000 + 135 + 3200
    # Forecasts keep three significant digits.
    assert result["hours"] == pytest.approx(forecast.STIMULI * 3.6 / 3600, rel=1e-2)


def test_memory_takes_larger_stage() -> None:
    # PCA fit: 1000 images x 402,000 bytes; reduced: 3200 images x (500 + 1000) x 4 bytes.
    expected = 1024 * MIB + 2 * max(1000 * 402_000, 3200 * 1500 * 4)

    result = forecast.forecast(base_entry(), forecast.Limits())

    assert result["memory_gib"] == pytest.approx(expected / 2**30, rel=1e-2)


def test_brain_model_uses_whole_size() -> None:
    entry = base_entry(kind="brain", activations={}, activation_bytes_per_image=1_000_000)
    expected = 1024 * MIB + 2 * 1_000_000 * 3200

    result = forecast.forecast(entry, forecast.Limits())

    assert result["memory_gib"] == pytest.approx(expected / 2**30, rel=1e-2)


def test_warns_above_limits() -> None:
    limits = forecast.Limits(max_memory_gib=0.5, max_hours=0.001)

    result = forecast.forecast(base_entry(), limits)

    assert len(result["warnings"]) == 2
    assert "over the limit of 0.5 GiB" in result["warnings"][0]
    assert "over the limit of 0.001 hours" in result["warnings"][1]


def test_no_warning_within_limits() -> None:
    assert forecast.forecast(base_entry(), forecast.Limits())["warnings"] == []


def test_crashed_model_has_no_forecast() -> None:
    entry = {"identifier": "net", "kind": "base", "ok": False, "peak_memory_mib": 10.0}

    assert forecast.forecast(entry, forecast.Limits()) is None


def test_render_scored_model() -> None:
    entry = base_entry(
        seconds=12.34,
        device="cpu",
        regions={
            region: {"layer": "large", "raw": 0.5, "ceiling": 0.8, "ceiled": 0.625}
            for region in ("V1", "V2", "V4", "IT")
        },
        behaviour={"ok": True, "shape": [16, 4]},
        forecast={"memory_gib": 3.1, "hours": 0.8, "stimuli": 4335, "warnings": ["too big"]},
    )

    lines = render_model(entry)

    assert lines[0] == "  model net (base model): ok, 12.3 s, peak memory 1024 MiB, cpu"
    assert lines[1].split() == ["region", "layer", "raw", "ceiling", "ceiled"]
    assert lines[2].split() == ["V1", "large", "0.500", "0.800", "0.625"]
    assert "    activations: small 120 x 500, large 120 x 100000" in lines
    assert "    behaviour: ok (probabilities 16 x 4)" in lines
    assert "    warning: too big" in lines


def test_render_listed_model() -> None:
    assert render_model({"identifier": "net", "kind": "base"}) == ["  model net (base model)"]


def test_render_brain_region_without_layer() -> None:
    entry = {
        "identifier": "brain",
        "kind": "brain",
        "ok": True,
        "regions": {"IT": {"layer": None, "raw": 0.1, "ceiling": 0.8, "ceiled": 0.125}},
    }

    assert render_model(entry)[2].split() == ["IT", "-", "0.100", "0.800", "0.125"]


def test_progress_logs_lines_without_terminal(caplog: pytest.LogCaptureFixture) -> None:
    progress = make_progress(io.StringIO())
    caplog.set_level(logging.INFO, logger="tooling.mockscore")

    progress.start("sub")
    progress.update("sub", {"phase": "scoring", "models": ["a", "b"]})
    progress.update("sub", {"phase": "model", "model": "b", "index": 1})
    progress.finish("sub", SubmissionReport("sub"))

    assert isinstance(progress, LogProgress)
    assert "sub: 2 models to score: a, b" in caplog.messages
    assert "sub: scoring model 'b' (2/2)" in caplog.messages
    assert caplog.messages[-1].startswith("sub: mock score finished in ")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_terminal() -> None:
    stream = FakeTerminal()
    progress = make_progress(stream)

    progress.start("sub")
    progress.update("sub", {"phase": "scoring", "models": ["a", "b"]})
    progress.update("sub", {"phase": "model", "model": "b", "index": 1})
    progress.finish("sub", SubmissionReport("sub"))

    assert isinstance(progress, BarProgress)
    assert "2/2" in stream.getvalue()
    assert "ok" in stream.getvalue()

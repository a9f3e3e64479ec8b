from __future__ import annotations

import re
from typing import Any

import pytest

from tooling import comment
from tooling.comment import Run, chart_label, merge_comment, parse_sections, render_section
from tooling.problems import Problem
from tooling.reports import Report, SubmissionReport

HEAD = "a" * 40
NEWER = "b" * 40
HOSTILE = (
    'x"]\n```\n<img src=x onerror=alert(1)> [click](https://evil.example) @maintainers '
    "<!-- end validate --> ::error::boom"
)


def base_model(identifier: str = "resnet18-example", **overrides: Any) -> dict[str, Any]:
    model = {
        "identifier": identifier,
        "kind": "base",
        "ok": True,
        "layers": ["layer1", "layer2", "layer3"],
        "activations": {"layer1": [120, 4096]},
        "layer_scores": {
            "V1": {"layer1": 0.41, "layer2": 0.22, "layer3": 0.1},
            "V2": {"layer1": 0.3, "layer2": 0.35, "layer3": 0.2},
            "V4": {},
            "IT": {"layer1": 0.05, "layer2": 0.2, "layer3": 0.52},
        },
        "regions": {
            "V1": {"layer": "layer1", "raw": 0.41, "ceiling": 0.82, "ceiled": 0.5},
            "IT": {"layer": "layer3", "raw": 0.52, "ceiling": 0.8, "ceiled": 0.65},
        },
        "behaviour": {"ok": True, "shape": [40, 2]},
        "images": 120,
        "seconds": 12.3,
        "seconds_per_image": 0.02,
        "activation_bytes_per_image": 163840,
        "peak_memory_mib": 812.0,
        "device": "cuda",
        "forecast": {"memory_gib": 3.1, "hours": 0.8, "stimuli": 3200, "warnings": []},
    }
    model.update(overrides)
    return model


def mock_report(*models: dict[str, Any]) -> Report:
    return Report("mock-score", [SubmissionReport("submissions/resnet", [], list(models))])


def validate_report(*problems: Problem, submission: str = "submissions/resnet") -> Report:
    return Report(
        "validate",
        [SubmissionReport(submission, list(problems), [{"identifier": "resnet18-example"}])],
    )


def mermaid_blocks(text: str) -> list[str]:
    return re.findall(r"```mermaid\n(.*?)\n```", text, re.DOTALL)


def test_validation_section_passed() -> None:
    run = Run("validate", HEAD, "success", "https://github.com/o/r/actions/runs/1")
    text = render_section(run, [validate_report()])
    assert text.startswith(f"<!-- section validate {HEAD} -->\n")
    assert "### Validation of `aaaaaaa`: passed ([workflow run](https://github.com/o/r/" in text
    assert "| submissions/resnet | passed | 0 | 0 | resnet18-example |" in text


def test_validation_section_problem_table() -> None:
    problem = Problem(
        "undeclared-dependency",
        "'timm' is imported but not declared",
        file="models/base_models.py",
        line=3,
    )
    text = render_section(Run("validate", HEAD, "failure"), [validate_report(problem)])
    assert ": failed" in text
    assert "`undeclared-dependency`" in text
    assert "submissions/resnet/models/base\\_models.py:3" in text


def test_many_problems_are_cut() -> None:
    problems = [Problem("stray-file", f"stray {index}", file=f"f{index}") for index in range(100)]
    text = render_section(Run("validate", HEAD, "failure"), [validate_report(*problems)])
    assert text.count("`stray-file`") == comment.MAX_PROBLEMS_SHOWN
    assert "70 more problems in the job summary" in text


def test_no_report_section() -> None:
    text = render_section(Run("mock-score", HEAD, "failure"), [])
    assert "### Mock score of `aaaaaaa`: no report" in text
    assert "ended with `failure`" in text
    assert "changes one submission folder and nothing else" in text


def test_no_report_after_success_means_nothing_to_score() -> None:
    text = render_section(Run("mock-score", HEAD, "success"), [])
    assert "found no submission folder to score" in text
    assert "ended with" not in text


def test_no_validate_report_says_conclusion_only() -> None:
    text = render_section(Run("validate", HEAD, "cancelled"), [])
    assert "ended with `cancelled`" in text
    assert "one submission folder" not in text


def test_section_note_before_end() -> None:
    text = render_section(Run("validate", HEAD, "success"), [validate_report()], "No label.")
    assert text.endswith("\n\nNo label.\n<!-- end validate -->\n")
    assert parse_sections(text)["validate"] == (HEAD, text)


def test_model_facts_and_regions() -> None:
    text = render_section(Run("mock-score", HEAD, "success"), [mock_report(base_model())])
    assert "#### Model resnet18-example: base model, ok" in text
    assert "| peak memory (MiB) | 812 |" in text
    assert "| behavioural readout | ok (40 x 2) |" in text
    assert "| V1 | layer1 | 0.41 | 0.82 | 0.5 |" in text
    assert "| forecast: memory (GiB) | 3.1 |" in text


def test_chart_one_line_per_region() -> None:
    text = render_section(Run("mock-score", HEAD, "success"), [mock_report(base_model())])
    [chart] = mermaid_blocks(text)
    assert chart.splitlines()[0] == "xychart-beta"
    assert '    x-axis ["layer1", "layer2", "layer3"]' in chart
    assert "    line [0.4100, 0.2200, 0.1000]" in chart
    assert chart.count("    line [") == 3  # V4 has no scores
    assert "lines in order V1, V2, IT" in text


def test_brain_model_has_no_chart() -> None:
    model = base_model(
        kind="brain",
        layers=[],
        layer_scores={},
        regions={"V1": {"layer": None, "raw": 0.3, "ceiling": 0.8, "ceiled": 0.4}},
    )
    text = render_section(Run("mock-score", HEAD, "success"), [mock_report(model)])
    assert mermaid_blocks(text) == []
    assert "| V1 | (brain model) | 0.3 | 0.8 | 0.4 |" in text


def test_crashed_model_renders_known_keys() -> None:
    model = {"identifier": "broken", "kind": "base", "ok": False}
    text = render_section(Run("mock-score", HEAD, "failure"), [mock_report(model)])
    assert "#### Model broken: base model, failed" in text
    assert "| seconds |" not in text


@pytest.mark.parametrize(
    "model",
    [
        pytest.param(
            base_model(seconds="12", images=True, peak_memory_mib=float("nan")),
            id="wrong-number-types",
        ),
        pytest.param(base_model(layer_scores={"V1": {"a": "x", "b": None}}), id="bad-scores"),
        pytest.param(base_model(regions=["V1"], behaviour="ok", forecast=3), id="bad-shapes"),
        pytest.param(base_model(layer_scores={"V1": {"a": float("inf")}}), id="infinite"),
    ],
)
def test_malformed_model_fields_render(model: dict[str, Any]) -> None:
    text = render_section(Run("mock-score", HEAD, "success"), [mock_report(model)])
    assert "nan" not in text
    assert "inf" not in text.replace("info", "")


def test_hostile_identifier_cannot_inject() -> None:
    model = base_model(
        HOSTILE,
        layers=[HOSTILE],
        layer_scores={"V1": {HOSTILE: 0.5}},
        regions={"V1": {"layer": HOSTILE, "raw": 0.5, "ceiling": 1, "ceiled": 0.5}},
    )
    problem = Problem("stray-file", HOSTILE, file=HOSTILE)
    reports = [Report("mock-score", [SubmissionReport(HOSTILE, [problem], [model])])]

    text = render_section(Run("mock-score", HEAD, "success"), reports)

    assert re.search(r"(?<!\\)<(?!!-- (section|end) )", text) is None
    assert re.search(r"(?<!\\)[\[\]]", text.split("```mermaid")[0]) is None
    assert "https://evil" not in text
    assert "@maintainers" not in text
    assert text.count("```") == 2  # only the chart's own fence
    assert text.count("<!-- end") == 1
    assert "\n::error" not in text
    [chart] = mermaid_blocks(text)
    for line in chart.splitlines()[1:]:
        assert line.count('"') % 2 == 0


@pytest.mark.parametrize(
    ("name", "label"),
    [
        pytest.param("layer4.0.conv1", "layer4.0.conv1", id="plain"),
        pytest.param('a"b', "a_b", id="quote"),
        pytest.param("a\nb`", "a_b_", id="newline"),
        pytest.param("x" * 40, "x" * 21 + "...", id="long"),
        pytest.param("", "_", id="empty"),
    ],
)
def test_chart_label(name: str, label: str) -> None:
    assert chart_label(name) == label


def test_unsafe_run_url_dropped() -> None:
    run = Run("validate", HEAD, "success", "javascript:alert(1)")
    assert "workflow run" not in render_section(run, [validate_report()])


def test_merge_keeps_other_section_of_same_commit() -> None:
    validate = Run("validate", HEAD, "success")
    mock = Run("mock-score", HEAD, "success")
    first = merge_comment(None, validate, render_section(validate, [validate_report()]))
    second = merge_comment(first, mock, render_section(mock, [mock_report(base_model())]))

    sections = parse_sections(second)
    assert second.startswith(comment.MARKER)
    assert set(sections) == {"validate", "mock-score"}
    assert "Validation of `aaaaaaa`: passed" in second
    assert "Mock score of `aaaaaaa`: passed" in second


def test_merge_drops_section_of_older_commit() -> None:
    mock = Run("mock-score", HEAD, "success")
    old = merge_comment(None, mock, render_section(mock, [mock_report(base_model())]))
    validate = Run("validate", NEWER, "success")

    new = merge_comment(old, validate, render_section(validate, [validate_report()]))

    assert "Mock score of `bbbbbbb`: waiting" in new
    assert "resnet18-example: base model" not in new


def test_merge_new_comment_shows_waiting() -> None:
    run = Run("validate", HEAD, "success")
    body = merge_comment(None, run, render_section(run, [validate_report()]))
    assert "Mock score of `aaaaaaa`: waiting" in body
    assert "approves the `gpu` environment" in body


def test_forged_section_marker_not_parsed() -> None:
    problem = Problem(
        "stray-file", f"<!-- section mock-score {HEAD} -->\nfake\n" "<!-- end mock-score -->\n"
    )
    run = Run("validate", HEAD, "failure")
    body = merge_comment(None, run, render_section(run, [validate_report(problem)]))
    assert "Mock score of `aaaaaaa`: waiting" in body
    assert body.count("<!-- section mock-score") == 1


def test_long_comment_truncated() -> None:
    problems = [Problem("stray-file", "x" * 15000, file=f"f{index}") for index in range(20)]
    reports = [validate_report(*problems, submission=f"submissions/s{index}") for index in range(3)]
    run = Run("validate", HEAD, "failure")

    body = merge_comment(None, run, render_section(run, reports))

    assert len(body) < 65536
    assert body.endswith("the job summary of the run has all of it.)\n")

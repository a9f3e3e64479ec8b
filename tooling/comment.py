"""The pull-request comment: validation and mock-score results in one edited comment.

The comment has one section per workflow (validate, mock-score), each wrapped in hidden
HTML comments that name the section and the head commit it describes. Each report run
replaces its own section and keeps the other one while it describes the same commit.

Everything taken from a report is untrusted: identifiers, layer names, paths and
messages come from the pull request. Text goes through `escape_markdown`, which leaves no
HTML, link or mention, and names in the Mermaid chart are cut down to a safe alphabet,
so nothing can end the code block or the chart's quoted strings.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

from tooling.reports import Report, SubmissionReport
from tooling.reports.github import (
    cell,
    escape_markdown,
    render_problem_table,
    render_submission_table,
)
from tooling.reports.text import count

MARKER = "<!-- brainscore-submission-report -->"
SECTIONS = ("validate", "mock-score")
TITLES = {"validate": "Validation", "mock-score": "Mock score"}
REGIONS = ("V1", "V2", "V4", "IT")
# GitHub rejects comments over 65536 characters; the rest is room for the closing note.
MAX_COMMENT_CHARS = 60000
MAX_PROBLEMS_SHOWN = 30
MAX_CHART_LABEL = 24

_SECTION = re.compile(
    r"<!-- section (?P<name>[a-z-]+) (?P<sha>[0-9a-f]{40}) -->\n.*?" r"<!-- end (?P=name) -->\n",
    re.DOTALL,
)
_SHA = re.compile(r"[0-9a-f]{40}")
_CHART_UNSAFE = re.compile(r"[^A-Za-z0-9_.:/-]")


@dataclasses.dataclass(frozen=True)
class Run:
    """The workflow run whose reports a section shows."""

    section: str  # "validate" or "mock-score"
    head_sha: str
    conclusion: str  # the run's conclusion: success, failure, cancelled, ...
    url: str | None = None


def short_sha(sha: str) -> str:
    return f"`{sha[:7]}`" if _SHA.fullmatch(sha) else "unknown commit"


def format_number(value: Any, digits: int = 3) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "-"
    if not math.isfinite(value):
        return "-"
    return f"{value:.{digits}g}"


def run_link(run: Run) -> str:
    url = run.url or ""
    if not re.fullmatch(r"https://[A-Za-z0-9.-]+/[A-Za-z0-9._~/%-]+", url):
        return ""
    return f" ([workflow run]({url}))"


def render_section(run: Run, reports: list[Report], note: str | None = None) -> str:
    """Render the section of one workflow run, framed by its hidden markers.

    `note` is Markdown that the caller wrote and escaped; it ends the section.
    """
    head = run.head_sha if _SHA.fullmatch(run.head_sha) else "0" * 40
    lines = [f"<!-- section {run.section} {head} -->"]
    lines += render_section_body(run, reports)
    if note:
        lines += ["", note]
    lines.append(f"<!-- end {run.section} -->")
    return "\n".join(lines) + "\n"


def missing_report_text(run: Run) -> str:
    """Explain a run that wrote no report, by its section and conclusion."""
    if run.section == "mock-score" and run.conclusion == "success":
        return (
            f"The run found no submission folder to score{run_link(run)}: the pull request "
            f"only deletes submissions."
        )
    text = (
        f"The run ended with `{escape_markdown(run.conclusion)}` before it wrote a "
        f"report{run_link(run)}."
    )
    if run.section == "mock-score":
        text += (
            " The mock score runs only for a pull request that changes one submission "
            "folder and nothing else, so a pull request that also changes other files "
            "is not scored."
        )
    return text + " A maintainer can re-run it from the Actions tab."


def render_section_body(run: Run, reports: list[Report]) -> list[str]:
    title = f"### {TITLES[run.section]} of {short_sha(run.head_sha)}"
    if not reports:
        return [f"{title}: no report", "", missing_report_text(run)]
    passed = all(report.ok for report in reports) and run.conclusion == "success"
    lines = [f"{title}: {'passed' if passed else 'failed'}{run_link(run)}", ""]
    submissions = merge_submissions(reports)
    lines += render_submission_table(submissions)
    for submission in submissions:
        if submission.problems:
            lines += ["", *render_problems(submission)]
    if run.section != "mock-score":
        return lines
    for submission in submissions:
        for model in submission.models:
            if isinstance(model, dict):
                lines += ["", *render_model(model)]
    return lines


def merge_submissions(reports: list[Report]) -> list[SubmissionReport]:
    """Return one entry per submission folder across reports, in first-seen order.

    The scope guard and validation each report on the same folder in one run.
    """
    merged: dict[str, SubmissionReport] = {}
    for report in reports:
        for item in report.submissions:
            entry = merged.setdefault(item.submission, SubmissionReport(item.submission))
            entry.problems += item.problems
            entry.models += item.models
    return list(merged.values())


def render_problems(submission: SubmissionReport) -> list[str]:
    lines = render_problem_table(submission, heading="####", limit=MAX_PROBLEMS_SHOWN)
    hidden = len(submission.problems) - MAX_PROBLEMS_SHOWN
    if hidden > 0:
        lines.append(f"\n{count(hidden, 'more problem')} in the job summary of the run.")
    return lines


def render_model(model: dict[str, Any]) -> list[str]:
    """Render one mock-score model entry: a facts table, regions table and layer chart."""
    identifier = str(model.get("identifier", ""))
    kind = model.get("kind") if model.get("kind") in ("base", "brain") else "unknown"
    verdict = "ok" if model.get("ok") is True else "failed"
    lines = [f"#### Model {cell(identifier)}: {kind} model, {verdict}", ""]
    lines += render_facts(model)
    regions = model.get("regions")
    if isinstance(regions, dict) and regions:
        lines += ["", *render_regions(regions)]
    scores = model.get("layer_scores")
    if isinstance(scores, dict):
        lines += render_chart(identifier, scores)
    return lines


def render_facts(model: dict[str, Any]) -> list[str]:
    rows = []
    layers = model.get("layers")
    if isinstance(layers, list) and layers:
        rows.append(("layers", str(len(layers))))
    rows.append(("images", format_number(model.get("images"), 6)))
    rows.append(("seconds", format_number(model.get("seconds"))))
    rows.append(("seconds per image", format_number(model.get("seconds_per_image"))))
    bytes_per_image = model.get("activation_bytes_per_image")
    rows.append(
        (
            "activations per image (MiB)",
            format_number(
                bytes_per_image / 2**20 if isinstance(bytes_per_image, int | float) else None
            ),
        )
    )
    rows.append(("peak memory (MiB)", format_number(model.get("peak_memory_mib"), 5)))
    device = model.get("device")
    rows.append(("device", device if device in ("cpu", "cuda") else "-"))
    rows.append(("behavioural readout", render_behaviour(model.get("behaviour"))))
    rows += render_forecast(model.get("forecast"))
    known = [f"| {name} | {value} |" for name, value in rows if value != "-"]
    return ["| | |", "|---|---|", *known] if known else []


def render_behaviour(behaviour: Any) -> str:
    if not isinstance(behaviour, dict):
        return "-"
    shape = behaviour.get("shape")
    dimensions = ""
    if isinstance(shape, list) and all(isinstance(size, int) for size in shape):
        dimensions = " (" + " x ".join(str(size) for size in shape) + ")"
    return ("ok" if behaviour.get("ok") is True else "failed") + dimensions


def render_forecast(forecast: Any) -> list[tuple[str, str]]:
    if not isinstance(forecast, dict):
        return []
    rows = [
        ("forecast: memory (GiB)", format_number(forecast.get("memory_gib"))),
        ("forecast: hours for the full benchmarks", format_number(forecast.get("hours"))),
        ("forecast: stimuli", format_number(forecast.get("stimuli"), 8)),
    ]
    warnings = forecast.get("warnings")
    if isinstance(warnings, list):
        rows += [("forecast warning", escape_markdown(str(item))) for item in warnings[:5]]
    return rows


def render_regions(regions: dict[str, Any]) -> list[str]:
    lines = ["| region | layer | raw | ceiling | ceiled |", "|---|---|---|---|---|"]
    for region in REGIONS:
        entry = regions.get(region)
        if not isinstance(entry, dict):
            continue
        layer = entry.get("layer")
        layer_text = cell(layer) if isinstance(layer, str) else "(brain model)"
        lines.append(
            f"| {region} | {layer_text} | {format_number(entry.get('raw'))} | "
            f"{format_number(entry.get('ceiling'))} | {format_number(entry.get('ceiled'))} |"
        )
    return lines


def chart_label(text: str) -> str:
    """Return a name cut down to characters that cannot end a quoted Mermaid string."""
    label = _CHART_UNSAFE.sub("_", text)
    if len(label) > MAX_CHART_LABEL:
        label = label[: MAX_CHART_LABEL - 3] + "..."
    return label or "_"


def render_chart(identifier: str, layer_scores: dict[str, Any]) -> list[str]:
    """Render per-layer raw scores as a Mermaid xychart-beta, one line per region.

    The layers are those of the first region with scores, in report order; a region
    without a score for a layer draws 0 there.
    """
    regions = [
        region
        for region in REGIONS
        if isinstance(layer_scores.get(region), dict) and layer_scores[region]
    ]
    if not regions:
        return []
    layers = [layer for layer in layer_scores[regions[0]] if isinstance(layer, str)]
    series = []
    for region in regions:
        values = [layer_scores[region].get(layer) for layer in layers]
        series.append([value if format_number(value) != "-" else 0.0 for value in values])
    low = min(0.0, *(value for values in series for value in values))
    high = max(1.0, *(value for values in series for value in values))
    axis = ", ".join(f'"{chart_label(layer)}"' for layer in layers)
    lines = [
        "",
        f"Mock score per layer; lines in order {', '.join(regions)}:",
        "",
        "```mermaid",
        "xychart-beta",
        f'    title "{chart_label(identifier)}"',
        f"    x-axis [{axis}]",
        f'    y-axis "raw score" {low:.2f} --> {high:.2f}',
    ]
    lines += [f"    line [{', '.join(f'{value:.4f}' for value in values)}]" for values in series]
    lines.append("```")
    return lines


def parse_sections(body: str) -> dict[str, tuple[str, str]]:
    """Return each section of an earlier comment: name -> (head SHA, section text)."""
    return {match["name"]: (match["sha"], match.group(0)) for match in _SECTION.finditer(body)}


def merge_comment(existing: str | None, run: Run, section: str) -> str:
    """Return the comment with `section` in place of its earlier version.

    The other sections are kept while they describe the same head commit. A section of
    an older commit is replaced by a line stating that it awaits a run of the new commit.
    """
    sections = parse_sections(existing or "")
    sections[run.section] = (run.head_sha, section)
    parts = [MARKER, "## Brain-Score submission check", ""]
    for name in SECTIONS:
        sha, text = sections.get(name, (None, None))
        if text is not None and sha == run.head_sha:
            parts.append(text)
        else:
            parts.append(render_waiting(name, run.head_sha))
    body = "\n".join(parts)
    return truncate(body)


def render_waiting(name: str, head_sha: str) -> str:
    if name == "mock-score":
        note = (
            "runs on the GPU runner after validation passes and a maintainer approves "
            "the `gpu` environment for this commit"
        )
    else:
        note = "runs on every push"
    head = head_sha if _SHA.fullmatch(head_sha) else "0" * 40
    return (
        f"<!-- section {name} {head} -->\n### {TITLES[name]} of {short_sha(head_sha)}: "
        f"waiting\n\nThis check {note}.\n<!-- end {name} -->\n"
    )


def truncate(body: str) -> str:
    if len(body) <= MAX_COMMENT_CHARS:
        return body
    # Cutting inside a section drops its end marker, so the next run rewrites it whole.
    cut = body[:MAX_COMMENT_CHARS].rsplit("\n", 1)[0]
    return (
        cut + "\n\n(The report is cut here because of GitHub's comment size limit; the "
        "job summary of the run has all of it.)\n"
    )

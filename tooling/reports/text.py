"""The plain-text rendering of a report, for people at a terminal."""

from __future__ import annotations

from tooling.reports.model import Report, SubmissionReport


def render_text(report: Report) -> str:
    blocks = [render_submission(submission) for submission in report.submissions]
    if not report.submissions:
        blocks.append("no submissions found")
    return "\n\n".join(blocks) + "\n"


def render_submission(submission: SubmissionReport) -> str:
    errors, warnings = len(submission.errors), len(submission.warnings)
    verdict = "ok" if submission.ok else "failed"
    lines = [
        f"{one_line(submission.submission)}: {verdict} ({count(errors, 'error')}, "
        f"{count(warnings, 'warning')})"
    ]
    for problem in submission.problems:
        location = one_line(submission.path_of(problem) or "")
        if problem.line is not None:
            location += f":{problem.line}"
            if problem.column is not None:
                location += f":{problem.column}"
        message = one_line(problem.message)
        lines.append(f"  {location}: {problem.severity}: {message} [{problem.code}]")
    for model in submission.models:
        # Model entries come from the submission's own process, so each line is escaped.
        lines.extend(one_line(line) for line in render_model(model))
    return "\n".join(lines)


def one_line(text: str) -> str:
    """Escape control characters, so that a file name or message from a submission cannot
    start a line of its own (a workflow command such as `::error::` in a job log)."""
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


def render_model(model: dict) -> list[str]:
    """Render a model entry: a heading line and, once mock-scored, a table per region."""
    line = f"  model {model['identifier']}"
    if "kind" in model:
        line += f" ({model['kind']} model)"
    facts = model_facts(model)
    if facts:
        line += ": " + ", ".join(facts)
    lines = [line]
    if model.get("regions"):
        lines.extend(render_regions(model["regions"]))
    if model.get("activations"):
        shapes = ", ".join(
            f"{name} {' x '.join(str(size) for size in shape)}"
            for name, shape in model["activations"].items()
        )
        lines.append(f"    activations: {shapes}")
    behaviour = model.get("behaviour")
    if behaviour:
        shape = " x ".join(str(size) for size in behaviour.get("shape", []))
        verdict = "ok" if behaviour.get("ok") else behaviour.get("message", "failed")
        lines.append(f"    behaviour: {verdict} (probabilities {shape})")
    if "forecast" in model:
        lines.extend(render_forecast(model["forecast"]))
    if model.get("traceback"):
        lines.append("    traceback:")
        lines.extend(f"      {line}" for line in model["traceback"])
    return lines


def model_facts(model: dict) -> list[str]:
    """Return the short facts of a mock-scored entry; [] for an entry from validation."""
    if "seconds" not in model and "ok" not in model:
        return []
    facts = ["ok" if model.get("ok") else "failed"]
    if "seconds" in model:
        facts.append(f"{model['seconds']:.1f} s")
    if "peak_memory_mib" in model:
        facts.append(f"peak memory {model['peak_memory_mib']:.0f} MiB")
    if "device" in model:
        facts.append(model["device"])
    return facts


def render_regions(regions: dict) -> list[str]:
    rows = [("region", "layer", "raw", "ceiling", "ceiled")]
    for region, values in regions.items():
        rows.append((
            region,
            values.get("layer") or "-",
            number(values.get("raw")),
            number(values.get("ceiling")),
            number(values.get("ceiled")),
        ))  # fmt: skip
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append("    " + "  ".join(cells).rstrip())
    return lines


def render_forecast(forecast: dict) -> list[str]:
    parts = []
    if "memory_gib" in forecast:
        parts.append(f"{forecast['memory_gib']:g} GiB memory")
    if "hours" in forecast:
        parts.append(f"{forecast['hours']:g} hours")
    line = f"    forecast for real scoring (estimate): {', '.join(parts)}"
    if "stimuli" in forecast:
        line += f" for {forecast['stimuli']} images"
    return [line] + [f"    warning: {warning}" for warning in forecast.get("warnings", [])]


def number(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "-"


def count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"

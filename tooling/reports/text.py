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
        f"{submission.submission}: {verdict} ({count(errors, 'error')}, "
        f"{count(warnings, 'warning')})"
    ]
    for problem in submission.problems:
        location = submission.path_of(problem)
        if problem.line is not None:
            location += f":{problem.line}"
            if problem.column is not None:
                location += f":{problem.column}"
        lines.append(f"  {location}: {problem.severity}: {problem.message} [{problem.code}]")
    for model in submission.models:
        lines.extend(render_model(model))
    return "\n".join(lines)


def render_model(model: dict) -> list[str]:
    line = f"  model {model['identifier']}"
    if "kind" in model:
        line += f" ({model['kind']} model)"
    return [line]


def count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"

"""GitHub Actions workflow annotations and the Markdown job summary."""

from __future__ import annotations

import re
import unicodedata

from tooling.reports.model import Report, SubmissionReport
from tooling.reports.text import count


def escape_data(text: str) -> str:
    """Escape a workflow-command message so that it stays one command on one line."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_annotations(report: Report) -> str:
    lines = []
    for submission in report.submissions:
        for problem in submission.problems:
            properties = [f"file={escape_property(submission.path_of(problem) or '')}"]
            if problem.line is not None:
                properties.append(f"line={problem.line}")
                if problem.column is not None:
                    properties.append(f"col={problem.column}")
            properties.append(f"title={escape_property(problem.code)}")
            lines.append(
                f"::{problem.severity} {','.join(properties)}::" f"{escape_data(problem.message)}"
            )
    return "\n".join(lines) + ("\n" if lines else "")


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def escape_markdown(text: str) -> str:
    """Escape untrusted text for a Markdown table cell or paragraph.

    No HTML, entities, links, @-mentions or #-references survive, and format characters
    (such as right-to-left overrides, which can disguise a name) are dropped.
    """
    visible = "".join(char for char in text if unicodedata.category(char) != "Cf")
    one_line = " ".join(visible.split()).replace("&", "&amp;")
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", one_line)
    return escaped.replace("@", "@\u200b").replace("\\#", "\\#\u200b")


def render_summary(report: Report) -> str:
    """Render the Markdown summary of a report: a table of submissions and their problems."""
    lines = [f"## Brain-Score submission {report.command}", ""]
    lines += ["| submission | result | errors | warnings | models |", "|---|---|---|---|---|"]
    for submission in report.submissions:
        models = ", ".join(escape_markdown(m["identifier"]) for m in submission.models) or "-"
        verdict = "passed" if submission.ok else "failed"
        lines.append(
            f"| {escape_markdown(submission.submission)} | {verdict} | "
            f"{len(submission.errors)} | {len(submission.warnings)} | {models} |"
        )
    for submission in report.submissions:
        if submission.problems:
            lines += ["", *render_problem_table(submission)]
    return "\n".join(lines) + "\n"


def render_problem_table(submission: SubmissionReport) -> list[str]:
    heading = (
        f"### {escape_markdown(submission.submission)}: "
        f"{count(len(submission.errors), 'error')}, "
        f"{count(len(submission.warnings), 'warning')}"
    )
    lines = [heading, "", "| severity | code | where | message |", "|---|---|---|---|"]
    for problem in submission.problems:
        where = submission.path_of(problem) or ""
        if problem.line is not None:
            where += f":{problem.line}"
        lines.append(
            f"| {problem.severity} | `{problem.code}` | {escape_markdown(where)} | "
            f"{escape_markdown(problem.message)} |"
        )
    return lines

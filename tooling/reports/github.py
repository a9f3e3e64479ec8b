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

    No HTML, entities, links, autolinks, @-mentions or #-references survive, and format
    characters (such as right-to-left overrides, which can disguise a name) are dropped.
    """
    visible = "".join(char for char in text if unicodedata.category(char) != "Cf")
    one_line = " ".join(visible.split()).replace("&", "&amp;")
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", one_line)
    escaped = escaped.replace("@", "@\u200b").replace("\\#", "\\#\u200b")
    return escaped.replace("://", ":\u200b//").replace("www.", "www\u200b.")


def cell(text: str) -> str:
    """Return untrusted text escaped for a table cell or heading, or "-" when empty.

    Not a code span: backticks cannot be escaped inside one, so a name could end it.
    """
    return escape_markdown(text) or "-"


def render_summary(report: Report) -> str:
    """Render the Markdown summary of a report: a table of submissions and their problems."""
    lines = [f"## Brain-Score submission {report.command}", ""]
    lines += render_submission_table(report.submissions)
    for submission in report.submissions:
        if submission.problems:
            lines += ["", *render_problem_table(submission)]
    return "\n".join(lines) + "\n"


def render_submission_table(submissions: list[SubmissionReport]) -> list[str]:
    lines = ["| submission | result | errors | warnings | models |", "|---|---|---|---|---|"]
    for submission in submissions:
        identifiers = [str(model.get("identifier", "")) for model in submission.models]
        models = ", ".join(cell(identifier) for identifier in identifiers) or "-"
        lines.append(
            f"| {cell(submission.submission)} | "
            f"{'passed' if submission.ok else 'failed'} | {len(submission.errors)} | "
            f"{len(submission.warnings)} | {models} |"
        )
    return lines


def render_problem_table(
    submission: SubmissionReport, heading: str = "###", limit: int | None = None
) -> list[str]:
    """Render a heading and a table of the submission's problems, the first `limit` of them."""
    title = (
        f"{heading} {cell(submission.submission)}: {count(len(submission.errors), 'error')}, "
        f"{count(len(submission.warnings), 'warning')}"
    )
    lines = [title, "", "| severity | code | where | message |", "|---|---|---|---|"]
    for problem in submission.problems[:limit]:
        where = submission.path_of(problem) or ""
        if problem.line is not None:
            where += f":{problem.line}"
        lines.append(
            f"| {problem.severity} | `{problem.code}` | {cell(where)} | {cell(problem.message)} |"
        )
    return lines

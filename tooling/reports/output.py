"""Writing a report to stdout in the format the user chose."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import TextIO

from tooling.reports.github import render_annotations, render_summary
from tooling.reports.model import Report
from tooling.reports.text import render_text

FORMATS = ("text", "json", "github")

logger = logging.getLogger(__name__)


def add_format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help=(
            "output format: text for people (default), json for a report document, "
            "github for workflow annotations plus a Markdown summary appended to "
            "$GITHUB_STEP_SUMMARY when that is set"
        ),
    )
    parser.add_argument(
        "--output",
        metavar="FILE",
        help="also write the JSON report to FILE (for a workflow artifact)",
    )


def emit(
    report: Report, format: str, output: str | None = None, stream: TextIO | None = None
) -> int:
    """Write `report` in `format` to `stream` (stdout) and return the exit code."""
    stream = stream or sys.stdout
    if format == "json":
        stream.write(report.to_json() + "\n")
    elif format == "github":
        stream.write(render_annotations(report))
        stream.write(render_text(report))
        append_step_summary(render_summary(report))
    else:
        stream.write(render_text(report))
    if output:
        with open(output, "w", encoding="utf-8") as file:
            file.write(report.to_json() + "\n")
    return report.exit_code


def append_step_summary(markdown: str) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as file:
        file.write(markdown)
    logger.debug("appended the summary to %s", path)

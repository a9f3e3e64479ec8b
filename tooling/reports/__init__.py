"""One result model for every command, rendered as text, JSON or GitHub annotations."""

from tooling.reports.model import Report, SubmissionReport
from tooling.reports.output import FORMATS, add_format_option, emit

__all__ = ["FORMATS", "Report", "SubmissionReport", "add_format_option", "emit"]

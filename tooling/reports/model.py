"""The report that validate, mock-score and check produce, and its JSON form."""

from __future__ import annotations

import dataclasses
import json
from importlib import resources
from pathlib import PurePosixPath
from typing import Any

from tooling.problems import Problem

SCHEMA_VERSION = 1


@dataclasses.dataclass
class SubmissionReport:
    """The problems and models found for one submission folder.

    `submission` is the folder as the user named it, with `/` as separator. `models`
    contains one JSON-ready dictionary per model, with at least `identifier`.
    """

    submission: str
    problems: list[Problem] = dataclasses.field(default_factory=list)
    models: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(problem.is_error for problem in self.problems)

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [problem for problem in self.problems if not problem.is_error]

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def path_of(self, problem: Problem) -> str | None:
        """Return the problem's file as a path from where the command ran."""
        if problem.file is None:
            return self.submission
        return str(PurePosixPath(self.submission) / problem.file)

    def to_dict(self) -> dict[str, Any]:
        return {
            "submission": self.submission,
            "ok": self.ok,
            "problems": [
                {
                    "code": problem.code,
                    "severity": problem.severity,
                    "file": self.path_of(problem),
                    "line": problem.line,
                    "column": problem.column,
                    "message": problem.message,
                }
                for problem in self.problems
            ],
            "models": self.models,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmissionReport:
        submission = data["submission"]
        problems = []
        for item in data["problems"]:
            file = item.get("file")
            if file == submission:
                file = None
            elif file is not None and file.startswith(submission + "/"):
                file = file[len(submission) + 1 :]
            problems.append(
                Problem(
                    code=item["code"],
                    message=item["message"],
                    file=file,
                    line=item.get("line"),
                    column=item.get("column"),
                )
            )
        return cls(submission=submission, problems=problems, models=list(data["models"]))


@dataclasses.dataclass
class Report:
    """The result of one command over one or more submissions.

    `command` is the subcommand that made it (`validate`, `mock-score` or `check`).
    """

    command: str
    submissions: list[SubmissionReport] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(submission.ok for submission in self.submissions)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "command": self.command,
            "ok": self.ok,
            "submissions": [submission.to_dict() for submission in self.submissions],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """Build a report from its JSON form, after checking it against the schema."""
        validate_report_data(data)
        return cls(
            command=data["command"],
            submissions=[SubmissionReport.from_dict(item) for item in data["submissions"]],
        )


def load_schema() -> dict[str, Any]:
    text = resources.files("tooling.reports").joinpath("report.schema.json").read_text()
    return json.loads(text)


def validate_report_data(data: Any) -> None:
    """Raise jsonschema.ValidationError when `data` is not a report document."""
    import jsonschema

    jsonschema.validate(data, load_schema())

import json
from importlib import resources

import pytest

from tooling.problems import CODES, Problem


def test_problem_takes_severity_from_catalogue():
    problem = Problem("stray-file", "delete it")

    assert problem.severity == "warning"
    assert not problem.is_error


def test_problem_rejects_unknown_code():
    with pytest.raises(ValueError, match="unknown problem code 'no-such-code'"):
        Problem("no-such-code", "message")


def test_schema_lists_every_code():
    text = resources.files("tooling.reports").joinpath("report.schema.json").read_text()
    schema = json.loads(text)
    problem_schema = schema["properties"]["submissions"]["items"]["properties"]["problems"]
    listed = problem_schema["items"]["properties"]["code"]["enum"]

    assert sorted(listed) == sorted(CODES)


@pytest.mark.parametrize("code", sorted(CODES))
def test_catalogue_entry_is_complete(code):
    info = CODES[code]

    assert info.severity in ("error", "warning")
    assert info.summary
    assert info.fix

"""`validate` on every shared example case, against the results its expected.json gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tooling.validation import validate_paths

CASES = Path(__file__).resolve().parents[2] / "shared" / "cases"


def load_cases() -> list:
    # A missing cases folder fails collection: a silent skip would hide every case.
    expected = json.loads((CASES / "expected.json").read_text())
    return [pytest.param(name, item, id=name) for name, item in sorted(expected.items())]


# Codes that only running the models can find; validate reports them never.
RUN_TIME_CODES = frozenset(
    {
        "import-failed",
        "import-timeout",
        "install-failed",
        "identifier-mismatch",
        "model-crashed",
        "layer-not-found",
        "too-few-features",
        "non-finite-activations",
        "constant-activations",
        "wrong-model-type",
        "timeout",
        "out-of-memory",
    }
)


@pytest.mark.parametrize(("name", "expected"), load_cases())
def test_case_validates_as_expected(name: str, expected: dict) -> None:
    report = validate_paths([str(CASES / name)])
    submission = report.submissions[0]
    codes = {problem.code for problem in submission.problems}

    assert submission.ok == expected["validate_ok"]
    for code in set(expected["codes"]) - RUN_TIME_CODES:
        assert code in codes

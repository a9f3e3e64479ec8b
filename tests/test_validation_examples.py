"""The example submissions that submitters copy pass validation with no problems at all."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tooling.cli import main
from tooling.validation import validate_submission

SUBMISSIONS = Path(__file__).resolve().parents[1] / "submissions"
EXAMPLES = ["example-resnet18", "example-cornet-z"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_has_no_problems(tmp_path: Path, name: str) -> None:
    # The mock score leaves bytecode caches behind, which validation warns about.
    copy = shutil.copytree(
        SUBMISSIONS / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__")
    )

    report = validate_submission(copy, name)

    assert report.problems == []
    assert len(report.models) == 1


def test_examples_have_both_kinds() -> None:
    kinds = {
        model["kind"]
        for name in EXAMPLES
        for model in validate_submission(SUBMISSIONS / name, name).models
    }

    assert kinds == {"base", "brain"}


def test_validate_submissions_folder_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(SUBMISSIONS)]) == 0

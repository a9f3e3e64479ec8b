"""`check` on every shared example case and on the examples in submissions/.

The cases and examples run through two `check` commands started at the same time: one
over all of them with two jobs, and one for the case that hangs at import, with a short
timeout. Each command writes its JSON report, which the tests read.
"""

from __future__ import annotations

import concurrent.futures
import json
import shutil
from pathlib import Path

import pytest

from tooling.cli import main
from tooling.reports.model import validate_report_data

pytestmark = pytest.mark.slow

CASES = Path(__file__).resolve().parents[2] / "shared" / "cases"
EXAMPLES = Path(__file__).resolve().parents[1] / "submissions"
# The case that sleeps at import runs on its own with a timeout well above the time the
# child needs to start (a few seconds) and far below the default.
HANGING_CASE = "import-timeout"
HANGING_TIMEOUT = "60"


def load_expected() -> dict[str, dict]:
    # A missing cases folder fails collection: a silent skip would hide every case.
    return json.loads((CASES / "expected.json").read_text())


def example_names() -> list[str]:
    if not EXAMPLES.is_dir():
        return []
    folders = [child for child in EXAMPLES.iterdir() if child.is_dir()]
    return sorted(child.name for child in folders if not child.name.startswith("."))


def run_check(paths: list[str], output: Path, *options: str) -> tuple[int, dict]:
    code = main(["check", *paths, "--device", "cpu", "--format", "json",
                 "--output", str(output), *options])  # fmt: skip
    return code, json.loads(output.read_text())


@pytest.fixture(scope="module")
def check_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run check on copies of the cases and on the examples; return the folder of both
    the copies (under submissions/) and the JSON reports."""
    root = tmp_path_factory.mktemp("check")
    cases = root / "submissions"
    shutil.copytree(CASES, cases, ignore=shutil.ignore_patterns("expected.json", HANGING_CASE))
    shutil.copytree(CASES / HANGING_CASE, root / HANGING_CASE)
    paths = [str(cases)] + ([str(EXAMPLES)] if example_names() else [])
    cache = ["--cache-dir", str(root / "cache")]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as executor:
        everything = executor.submit(run_check, paths, root / "all.json", "--jobs", "2", *cache)
        hanging = executor.submit(
            run_check, [str(root / HANGING_CASE)], root / "hanging.json",
            "--timeout", HANGING_TIMEOUT, *cache,
        )  # fmt: skip
        everything.result()
        hanging.result()
    return root


@pytest.fixture(scope="module")
def reports(check_root: Path) -> dict[str, dict]:
    """Return each checked submission's report by folder name."""
    documents = [
        json.loads((check_root / name).read_text()) for name in ("all.json", "hanging.json")
    ]
    return {
        Path(item["submission"]).name: item
        for document in documents
        for item in document["submissions"]
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [pytest.param(name, item, id=name) for name, item in sorted(load_expected().items())],
)
def test_case_checks_as_expected(name: str, expected: dict, reports: dict[str, dict]) -> None:
    report = reports[name]
    codes = {problem["code"] for problem in report["problems"]}

    assert report["ok"] == expected["check_ok"]
    for code in expected["codes"]:
        assert code in codes


@pytest.mark.parametrize("name", [pytest.param(name, id=name) for name in example_names()])
def test_example_passes_check(name: str, reports: dict[str, dict]) -> None:
    report = reports[name]
    errors = [problem for problem in report["problems"] if problem["severity"] == "error"]

    assert errors == []
    assert report["models"] != []
    for model in report["models"]:
        assert model["ok"] is True
        assert set(model["regions"]) == {"V1", "V2", "V4", "IT"}


def test_scored_case_reports_every_region(reports: dict[str, dict]) -> None:
    (model,) = reports["good-minimal"]["models"]

    assert model["identifier"] == "case-good-minimal"
    assert list(model["regions"]) == ["V1", "V2", "V4", "IT"]
    assert model["layers"] == ["relu1", "relu2"]
    assert model["device"] == "cpu"
    assert model["peak_memory_mib"] > 0
    assert model["seconds"] > 0
    assert model["forecast"]["stimuli"] > 0


def test_scored_case_layer_curve(reports: dict[str, dict]) -> None:
    (model,) = reports["good-minimal"]["models"]

    for region in ("V1", "V2", "V4", "IT"):
        assert set(model["layer_scores"][region]) == {"relu1", "relu2"}


def test_crash_points_at_user_frame(reports: dict[str, dict]) -> None:
    (crash,) = [
        problem
        for problem in reports["cwd-relative-weights"]["problems"]
        if problem["code"] == "model-crashed"
    ]

    assert crash["file"].endswith("cwd-relative-weights/models/base_models.py")
    assert crash["line"] == 28
    assert "FileNotFoundError" in crash["message"]


def test_hanging_import_names_module(reports: dict[str, dict]) -> None:
    (problem,) = reports[HANGING_CASE]["problems"]

    assert problem["code"] == "import-timeout"
    assert "models.base_models" in problem["message"]


def test_wrong_type_names_returned_class(reports: dict[str, dict]) -> None:
    (problem,) = reports["brain-model-wrong-type"]["problems"]

    assert problem["code"] == "wrong-model-type"
    assert "PytorchWrapper" in problem["message"]


def test_unscored_case_has_no_mock_score(reports: dict[str, dict]) -> None:
    models = reports["syntax-error"]["models"] + reports["too-many-models"]["models"]

    for model in models:
        assert "regions" not in model


def test_scoring_leaves_submission_unchanged(check_root: Path, reports: dict[str, dict]) -> None:
    # Bytecode is not written: only the case that ships a __pycache__ folder has one.
    caches = sorted(path.parent.parent.name for path in check_root.glob("**/models/__pycache__"))

    assert caches == ["stray-files"]


@pytest.mark.parametrize(
    "name", [pytest.param("all.json", id="all"), pytest.param("hanging.json", id="hanging")]
)
def test_report_matches_schema(check_root: Path, name: str) -> None:
    document = json.loads((check_root / name).read_text())

    validate_report_data(document)

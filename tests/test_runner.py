"""The mock-score runner: isolation, failure codes, timeouts and the overlay environment.

One module fixture writes the submissions that need a child process and runs them all at
the same time. Their models fail before the mock benchmark starts, so each run takes
seconds. The tests of the shared cases cover models that score.
"""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import psutil
import pytest
from packaging.requirements import Requirement

from tooling.cli import main
from tooling.errors import FatalError
from tooling.mockscore import child
from tooling.mockscore.environment import (
    COMPLETE_MARKER,
    is_satisfied,
    overlay_key,
    overlay_site_packages,
    pip_error,
    prepare_environment,
)
from tooling.mockscore.runner import (
    ChildOutcome,
    StatusReader,
    child_environment,
    collect_results,
    ending_problem,
    read_results,
    resolve_device,
    run_submission,
)
from tooling.reports import SubmissionReport

BIBTEX = """
def get_bibtex(model_identifier):
    return "@article{test2024, title={A test}, author={Test, Author}, year={2024}}"
"""

FAILING_BASE = """
import functools
import os

from torch import nn

from brainscore_vision.model_helpers.activations.pytorch import PytorchWrapper
from brainscore_vision.model_helpers.activations.pytorch import load_preprocess_images


def build(name):
    raise ValueError(f"cwd={os.getcwd()} entries={sorted(os.listdir('.'))}")


def get_model_list():
    return ["crasher", "hungry", "renamed"]


def get_model(name):
    if name == "crasher":
        return build(name)
    if name == "hungry":
        raise MemoryError("no room for the weights")
    network = nn.Sequential(nn.Conv2d(3, 30, kernel_size=3), nn.ReLU())
    preprocessing = functools.partial(load_preprocess_images, image_size=32)
    return PytorchWrapper(identifier="another-name", model=network, preprocessing=preprocessing)


def get_layers(name):
    return ["no-such-layer"]
"""

NOT_A_BRAIN = """
def get_model_list():
    return ["not-a-brain"]


def get_model(name):
    return object()
"""

KILLED_BASE = """
import os
import signal
import time


def get_model_list():
    return ["sleeper", "killer"]


def get_model(name):
    if name == "sleeper":
        time.sleep(10**6)
    os.kill(os.getpid(), signal.SIGKILL)


def get_layers(name):
    return ["layer"]
"""

BROKEN_IMPORT = """
def fail():
    raise RuntimeError("broken at import")


fail()
"""

STUCK_BASE = """
import subprocess
import sys
import time
import time

PID_FILE = {pid_file!r}


def get_model_list():
    return ["stuck"]


def get_model(name):
    # A grandchild in a session of its own, which killing the process group misses.
    sleeper = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(10**6)"], start_new_session=True
    )
    with open(PID_FILE, "w") as file:
        file.write(str(sleeper.pid))
    time.sleep(10**6)


def get_layers(name):
    return ["layer"]
"""

TINY_BASE = """
import tinypkg


def get_model_list():
    return [f"tiny-{tinypkg.VALUE}"]


def get_model(name):
    raise LookupError("reached get_model")


def get_layers(name):
    return ["layer"]
"""

EMPTY_LIST = """
def get_model_list():
    return []


def get_model(name):
    raise LookupError(name)


def get_layers(name):
    return ["layer"]
"""

COMPUTED_LIST = """
NAMES = ("alpha", "beta")


def get_model_list():
    return [name for name in NAMES]


def get_model(name):
    raise LookupError(name)


def get_layers(name):
    return ["layer"]
"""

STUCK_TIMEOUT = 20.0
QUICK_TIMEOUT = 300.0


def write_submission(
    folder: Path,
    base: str | None = None,
    brain: str | None = None,
    requires: tuple[str, ...] = ("torch",),
) -> Path:
    (folder / "models").mkdir(parents=True)
    (folder / "models" / "__init__.py").write_text("")
    if base is not None:
        (folder / "models" / "base_models.py").write_text(base + BIBTEX)
    if brain is not None:
        (folder / "models" / "brain_models.py").write_text(brain + BIBTEX)
    (folder / "setup.py").write_text(
        "from setuptools import setup\n\n"
        f"setup(name={folder.name!r}, packages=['models'], install_requires={list(requires)!r})\n"
    )
    return folder


def build_wheel(directory: Path, name: str, version: str, source: str) -> Path:
    """Write a pure-Python wheel of one module, the way a build backend lays it out."""
    directory.mkdir(parents=True, exist_ok=True)
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": source,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = hashlib.sha256(text.encode()).digest()
        encoded = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        record.append(f"{path},sha256={encoded},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runner")


@pytest.fixture(scope="module")
def local_index(workspace: Path) -> dict[str, str]:
    """pip settings that install only from a folder holding the wheel of `tinypkg`."""
    wheels = workspace / "wheels"
    build_wheel(wheels, "tinypkg", "1.0", "VALUE = 42\n")
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels)}


@pytest.fixture(scope="module")
def runs(workspace: Path, local_index: dict[str, str]) -> dict[str, SubmissionReport]:
    """Run every child-process submission of this module at once; reports by name, or the
    FatalError a run raised."""
    submissions = workspace / "submissions"
    cache = workspace / "cache"
    pid_file = workspace / "grandchild.pid"
    jobs = {
        "failing": (
            write_submission(submissions / "failing", FAILING_BASE, NOT_A_BRAIN),
            {"timeout": QUICK_TIMEOUT},
        ),
        "killed": (
            write_submission(submissions / "killed", KILLED_BASE, BROKEN_IMPORT),
            {"timeout": QUICK_TIMEOUT, "models": ["killer"]},
        ),
        "stuck": (
            write_submission(submissions / "stuck", STUCK_BASE.format(pid_file=str(pid_file))),
            {"timeout": STUCK_TIMEOUT},
        ),
        "overlay": (
            write_submission(submissions / "overlay", TINY_BASE, requires=("tinypkg==1.0",)),
            {"timeout": QUICK_TIMEOUT},
        ),
        "empty": (write_submission(submissions / "empty"), {"timeout": QUICK_TIMEOUT}),
        "empty-list": (
            write_submission(submissions / "empty-list", EMPTY_LIST),
            {"timeout": QUICK_TIMEOUT},
        ),
        "computed-list": (
            write_submission(submissions / "computed-list", COMPUTED_LIST),
            {"timeout": QUICK_TIMEOUT, "models": ["alpha", "gamma"]},
        ),
        "uninstallable": (
            write_submission(submissions / "uninstallable", TINY_BASE, requires=("tinypkg==9.9",)),
            {"timeout": QUICK_TIMEOUT},
        ),
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in local_index.items():
            patch.setenv(name, value)
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(jobs)) as executor:
            futures = {
                name: executor.submit(
                    run_submission, folder, name, device="cpu", cache_dir=cache, **options
                )
                for name, (folder, options) in jobs.items()
            }
            return {name: future.exception() or future.result() for name, future in futures.items()}


def problems_with(report: SubmissionReport, code: str) -> list:
    return [problem for problem in report.problems if problem.code == code]


@pytest.mark.slow
def test_crash_points_at_user_frame(runs: dict[str, SubmissionReport]) -> None:
    (problem,) = problems_with(runs["failing"], "model-crashed")

    assert problem.file == "models/base_models.py"
    assert problem.line == 12
    assert "ValueError" in problem.message
    assert "get_model('crasher')" in problem.message


@pytest.mark.slow
def test_working_directory_is_empty_scratch(runs: dict[str, SubmissionReport]) -> None:
    (problem,) = problems_with(runs["failing"], "model-crashed")

    assert "entries=[]" in problem.message
    assert "/submissions/failing" not in problem.message


@pytest.mark.slow
def test_memory_error_is_out_of_memory(runs: dict[str, SubmissionReport]) -> None:
    (problem,) = problems_with(runs["failing"], "out-of-memory")

    assert "get_model('hungry')" in problem.message
    assert problem.line == 23


@pytest.mark.slow
def test_renamed_wrapper_is_identifier_mismatch(runs: dict[str, SubmissionReport]) -> None:
    (problem,) = problems_with(runs["failing"], "identifier-mismatch")

    assert "'another-name'" in problem.message
    assert problem.file == "models/base_models.py"


@pytest.mark.slow
def test_layer_problems_reach_report(runs: dict[str, SubmissionReport]) -> None:
    (problem,) = problems_with(runs["failing"], "layer-not-found")

    assert "no-such-layer" in problem.message


@pytest.mark.slow
def test_brain_model_of_wrong_type(runs: dict[str, SubmissionReport]) -> None:
    (problem,) = problems_with(runs["failing"], "wrong-model-type")

    assert "returns a object" in problem.message
    assert problem.file == "models/brain_models.py"


@pytest.mark.slow
def test_failing_model_does_not_stop_others(runs: dict[str, SubmissionReport]) -> None:
    models = runs["failing"].models

    assert [model["identifier"] for model in models] == [
        "crasher", "hungry", "renamed", "not-a-brain",
    ]  # fmt: skip
    assert [model["kind"] for model in models] == ["base", "base", "base", "brain"]
    assert [model["ok"] for model in models] == [False, False, False, False]
    assert all(model["peak_memory_mib"] > 0 for model in models)


@pytest.mark.slow
def test_sigkill_is_out_of_memory(runs: dict[str, SubmissionReport]) -> None:
    (problem,) = problems_with(runs["killed"], "out-of-memory")

    assert "SIGKILL" in problem.message
    assert "'killer'" in problem.message


@pytest.mark.slow
def test_selected_models_only(runs: dict[str, SubmissionReport]) -> None:
    # "sleeper" comes first and would sleep until the timeout if it ran.
    base_models = [model for model in runs["killed"].models if model["kind"] == "base"]

    assert [model["identifier"] for model in base_models] == ["killer"]
    assert problems_with(runs["killed"], "timeout") == []


@pytest.mark.slow
def test_import_failure_names_line(runs: dict[str, SubmissionReport]) -> None:
    (problem,) = problems_with(runs["killed"], "import-failed")

    assert problem.file == "models/brain_models.py"
    assert problem.line == 3
    assert "broken at import" in problem.message


@pytest.mark.slow
def test_timeout_while_scoring(runs: dict[str, SubmissionReport]) -> None:
    (problem,) = runs["stuck"].problems

    assert problem.code == "timeout"
    assert "'stuck'" in problem.message
    assert f"{STUCK_TIMEOUT:g} s" in problem.message


@pytest.mark.slow
def test_timeout_kills_escaped_grandchild(
    runs: dict[str, SubmissionReport], workspace: Path
) -> None:
    pid = int((workspace / "grandchild.pid").read_text())

    try:
        status = psutil.Process(pid).status()
    except psutil.NoSuchProcess:
        status = "gone"
    assert status in ("gone", psutil.STATUS_ZOMBIE)


@pytest.mark.slow
def test_overlay_provides_requirement(runs: dict[str, SubmissionReport]) -> None:
    (problem,) = runs["overlay"].problems

    assert problem.code == "model-crashed"
    assert "get_model('tiny-42')" in problem.message


@pytest.mark.slow
def test_overlay_is_cached(
    runs: dict[str, SubmissionReport], workspace: Path, local_index: dict[str, str]
) -> None:
    requirement = Requirement("tinypkg==1.0")
    overlay = workspace / "cache" / "overlays" / overlay_key([requirement])

    environment = prepare_environment([requirement], workspace / "cache", timeout=1)

    assert environment.overlay == overlay
    assert (overlay / COMPLETE_MARKER).is_file()


@pytest.mark.slow
def test_pip_failure_is_install_failed(runs: dict[str, SubmissionReport]) -> None:
    (problem,) = runs["uninstallable"].problems

    assert problem.code == "install-failed"
    assert "tinypkg==9.9" in problem.message
    assert "No matching distribution" in problem.message
    assert runs["uninstallable"].models == []


@pytest.mark.slow
def test_no_model_module_reported(runs: dict[str, SubmissionReport]) -> None:
    (problem,) = runs["empty"].problems

    assert problem.code == "missing-model-module"
    assert runs["empty"].models == []


def test_no_overlay_when_nothing_missing(tmp_path: Path) -> None:
    environment = prepare_environment([Requirement("packaging")], tmp_path, timeout=1)

    assert environment.overlay is None
    assert environment.python == sys.executable
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def fake_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An installed distribution `fakedist` 1.0 whose extra `more` needs a missing one."""
    info = tmp_path / "site" / "fakedist-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: fakedist\nVersion: 1.0\nProvides-Extra: more\n"
        'Requires-Dist: no-such-distribution-here; extra == "more"\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    return "fakedist"


@pytest.mark.parametrize(
    ("requirement", "satisfied"),
    [
        pytest.param("fakedist", True, id="installed"),
        pytest.param("fakedist==1.0", True, id="matching-version"),
        pytest.param("fakedist>=2", False, id="older-version"),
        pytest.param("fakedist[more]", False, id="extra-missing"),
        pytest.param("no-such-distribution-here", False, id="not-installed"),
        pytest.param('no-such-distribution-here; python_version < "3"', True, id="marker-off"),
        pytest.param("fakedist @ https://example.invalid/fakedist.whl", True, id="direct-url"),
    ],
)
def test_requirement_satisfaction(
    requirement: str, satisfied: bool, fake_distribution: str
) -> None:
    assert is_satisfied(Requirement(requirement)) is satisfied


def test_overlay_key_depends_on_requirements() -> None:
    first = overlay_key([Requirement("a==1"), Requirement("b")])

    assert first == overlay_key([Requirement("b"), Requirement("a==1")])
    assert first != overlay_key([Requirement("a==2"), Requirement("b")])


def test_pip_error_keeps_error_lines() -> None:
    output = "Looking in links: /x\nProcessing\nERROR: first\nERROR: second\n"

    assert pip_error(output) == "ERROR: first\nERROR: second"


def test_cpu_device_needs_no_cuda() -> None:
    assert resolve_device("cpu") == "cpu"


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


@pytest.mark.skipif(cuda_available(), reason="a CUDA device is present")
def test_cuda_device_without_cuda() -> None:
    with pytest.raises(FatalError, match="no CUDA device is available"):
        resolve_device("cuda")


@pytest.mark.skipif(cuda_available(), reason="a CUDA device is present")
def test_cli_cuda_without_cuda(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_submission(tmp_path / "any", BROKEN_IMPORT)

    code = main(["mock-score", str(folder), "--device", "cuda"])

    assert code == 1
    assert "error: no CUDA device is available" in capsys.readouterr().err


@pytest.mark.parametrize(
    "option",
    [
        pytest.param(["--timeout", "0"], id="zero-timeout"),
        pytest.param(["--timeout", "soon"], id="word-timeout"),
        pytest.param(["--jobs", "0"], id="zero-jobs"),
        pytest.param(["--device", "tpu"], id="unknown-device"),
    ],
)
def test_cli_rejects_option(option: list[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["mock-score", str(tmp_path), *option])

    assert raised.value.code == 2


def outcome(**changes: object) -> ChildOutcome:
    values: dict = {
        "returncode": 0,
        "timed_out": False,
        "last_status": {"phase": "done"},
        "results": {"problems": [], "models": []},
        "peak_memory_mib": 100.0,
        "stderr_tail": "",
    }
    values.update(changes)
    return ChildOutcome(**values)


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        pytest.param(
            {"timed_out": True, "returncode": -9,
             "last_status": {"phase": "importing", "module": "models.base_models"}},
            "import-timeout", "while importing models.base_models", id="import-timeout",
        ),
        pytest.param(
            {"timed_out": True, "returncode": -9, "last_status": {"phase": "model", "model": "m"}},
            "timeout", "while scoring model 'm'", id="model-timeout",
        ),
        pytest.param(
            {"timed_out": True, "returncode": -9, "last_status": {"phase": "starting"}},
            "timeout", "while starting", id="start-timeout",
        ),
        pytest.param(
            {"returncode": -9, "last_status": {"phase": "progress", "model": "m"}},
            "out-of-memory", "out-of-memory killer", id="oom-killer",
        ),
        pytest.param(
            {"returncode": -11, "last_status": {"phase": "model", "model": "m"}},
            "model-crashed", "SIGSEGV", id="segfault",
        ),
        pytest.param(
            {"returncode": -40, "last_status": {"phase": "model", "model": "m"}},
            "model-crashed", "killed by signal 40 while", id="real-time-signal",
        ),
        pytest.param(
            {"returncode": 1, "last_status": {"phase": "importing", "module": "models.x"},
             "stderr_tail": "Fatal Python error"},
            "import-failed", "Fatal Python error", id="exit-while-importing",
        ),
    ],
)  # fmt: skip
def test_ending_problem(changes: dict, code: str, words: str) -> None:
    problem = ending_problem(outcome(**changes), timeout=10)

    assert problem is not None
    assert problem.code == code
    assert words in problem.message


def test_clean_exit_has_no_ending_problem() -> None:
    assert ending_problem(outcome(), timeout=10) is None


VALID_PROBLEM = {
    "code": "layer-not-found",
    "message": "no layer 'fc9'",
    "file": "models/base_models.py",
    "line": 3,
    "column": None,
    "model": "m",
}
VALID_MODEL = {
    "identifier": "m",
    "kind": "base",
    "ok": False,
    "activations": {"fc": [10, 4]},
    "seconds_per_image": 0.5,
    "activation_bytes_per_image": 16,
    "peak_memory_mib": 100.0,
}


def results_with(**changes: object) -> dict:
    results: dict = {
        "problems": [VALID_PROBLEM],
        "models": [VALID_MODEL],
        "listed": ["m"],
        "unknown_models": [],
    }
    results.update(changes)
    return results


def test_read_results_accepts_child_results(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results_with()))

    results, error = read_results(path)

    assert error is None
    assert results == results_with()


def test_read_results_without_file(tmp_path: Path) -> None:
    results, error = read_results(tmp_path / "results.json")

    assert error is None
    assert results["problems"] == []


@pytest.mark.parametrize(
    ("text", "where"),
    [
        pytest.param(json.dumps({"problems": [{"code": "x"}]}), "the top level", id="rewritten"),
        pytest.param(json.dumps({}), "the top level", id="empty-object"),
        pytest.param(json.dumps([]), "the top level", id="list"),
        pytest.param("{", "not JSON", id="not-json"),
        pytest.param(b"\xff".decode("latin-1"), "not JSON", id="not-text"),
        pytest.param(json.dumps(results_with(problems=[{**VALID_PROBLEM, "code": "x"}])),
                     "problems/0/code", id="unknown-code"),
        pytest.param(json.dumps(results_with(problems=[{"code": "timeout"}])),
                     "problems/0", id="problem-without-message"),
        pytest.param(json.dumps(results_with(problems=[{**VALID_PROBLEM, "line": True}])),
                     "problems/0/line", id="boolean-line"),
        pytest.param(json.dumps(results_with(problems="timeout")), "problems", id="problems-text"),
        pytest.param(json.dumps(results_with(models=[{"kind": "base"}])),
                     "models/0", id="model-without-identifier"),
        pytest.param(json.dumps(results_with(models=[{**VALID_MODEL, "seconds_per_image": "1"}])),
                     "models/0/seconds_per_image", id="text-seconds"),
        pytest.param(json.dumps(results_with(models=[{**VALID_MODEL, "activations": {"fc": 3}}])),
                     "models/0/activations/fc", id="shape-not-list"),
        pytest.param(json.dumps(results_with(listed=[1])), "listed/0", id="listed-number"),
        pytest.param(json.dumps(results_with(unknown_models=None)),
                     "unknown_models", id="unknown-models-null"),
    ],
)  # fmt: skip
def test_read_results_rejects_malformed_file(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "results.json"
    path.write_text(text, encoding="latin-1")

    results, error = read_results(path)

    assert results == {"problems": [], "models": [], "listed": [], "unknown_models": []}
    assert error is not None
    assert where in error


def test_malformed_results_are_model_crashed(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"problems": [{"code": "x"}]}))
    results, error = read_results(path)
    report = SubmissionReport("submissions/overwriter")

    collect_results(report, outcome(results=results, results_error=error), timeout=10)

    assert [problem.code for problem in report.problems] == ["model-crashed"]
    assert "results file of the mock score is malformed" in report.problems[0].message
    assert "may have overwritten it" in report.problems[0].message


def test_status_reader_waits_for_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "status.jsonl"
    reader = StatusReader(path)
    path.write_text(json.dumps({"phase": "starting"}) + "\n" + '{"phase": "impo')

    first = reader.read_new()
    with path.open("a") as file:
        file.write('rting", "module": "models.base_models"}\n')
    second = reader.read_new()

    assert [event["phase"] for event in first] == ["starting"]
    assert [event["phase"] for event in second] == ["importing"]
    assert reader.last["module"] == "models.base_models"


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_user_frame_skips_library_frames(tmp_path: Path) -> None:
    source = tmp_path / "models" / "base_models.py"
    source.parent.mkdir()
    source.write_text("import json\n\n\ndef get_model(name):\n    return json.loads('{')\n")
    module = load_module(source, "user_frame_example")

    with pytest.raises(json.JSONDecodeError) as raised:
        module.get_model("x")
    problem = child.exception_problem("model-crashed", "get_model('x')", raised.value, tmp_path)

    assert problem.file == "models/base_models.py"
    assert problem.line == 5
    assert problem.message.startswith("get_model('x') raised JSONDecodeError: ")


def test_library_frame_named_without_user_frame(tmp_path: Path) -> None:
    with pytest.raises(json.JSONDecodeError) as raised:
        json.loads("{")
    problem = child.exception_problem("model-crashed", "scoring", raised.value, tmp_path)

    assert problem.file is None
    assert "json/decoder.py" in problem.message


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        pytest.param(MemoryError(), True, id="memory-error"),
        pytest.param(RuntimeError("CUDA out of memory. Tried to allocate"), True, id="cuda"),
        pytest.param(
            RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried"), True, id="cpu"
        ),
        pytest.param(RuntimeError("shape mismatch"), False, id="other-runtime-error"),
        pytest.param(ValueError("out of memory"), False, id="value-error"),
    ],
)
def test_out_of_memory_detection(error: BaseException, expected: bool) -> None:
    assert child.is_out_of_memory(error) is expected


LEAVING_BASE = """
import os
import sys
import time
import time

FOLDER = {folder!r}

if os.fork() == 0:  # a grandchild in the child's process group
    with open(os.path.join(FOLDER, "grandchild.pid"), "w") as file:
        file.write(str(os.getpid()))
    time.sleep(10**6)
    os._exit(0)
if os.fork() == 0:  # a daemon: a session of its own, then a second fork
    os.setsid()
    if os.fork() == 0:
        with open(os.path.join(FOLDER, "daemon.pid"), "w") as file:
            file.write(str(os.getpid()))
        time.sleep(10**6)
        os._exit(0)
    os._exit(0)
NAMES = ("grandchild.pid", "daemon.pid")
while not all(os.path.exists(os.path.join(FOLDER, name)) for name in NAMES):
    time.sleep(0.05)
if {hang!r}:
    time.sleep(10**6)
raise RuntimeError("left two processes behind")
"""


def is_running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture(scope="module", params=[False, True], ids=["exit", "timeout"])
def leftovers(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Run a submission that starts a grandchild and a daemon at import, then exits or
    hangs until the timeout. Return its report and the two process ids."""
    folder = tmp_path_factory.mktemp("leftovers")
    source = LEAVING_BASE.format(folder=str(folder), hang=request.param)
    submission = write_submission(folder / "leaving", source)
    report = run_submission(
        submission, "leaving", timeout=8.0, device="cpu", cache_dir=folder / "cache"
    )
    pids = {name: int((folder / f"{name}.pid").read_text()) for name in ("grandchild", "daemon")}
    yield report, pids
    for pid in pids.values():  # a test that failed leaves them running
        if is_running(pid):
            os.kill(pid, 9)


def test_leftover_run_ended_as_expected(leftovers) -> None:
    report, _ = leftovers

    assert [problem.code for problem in report.problems] in (["import-failed"], ["import-timeout"])


@pytest.mark.parametrize("name", ["grandchild", "daemon"])
def test_leftover_process_is_killed(leftovers, name: str) -> None:
    _, pids = leftovers

    assert not is_running(pids[name])


def test_child_environment_leaves_out_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = {
        "BRAINSCORE_ADDRESS_BOOK": "/srv/book.json",
        "BRAINSCORE_SCORING_HOME": "/srv/scoring",
        "DATABASE_URL": "postgresql://user:password@db/scores",
        "GITHUB_TOKEN": "ghp_x",
        "HTTPS_PROXY": "http://proxy:3128",
        "PYTHONPATH": "/checkout",
        "LC_SECRET": "x",
        "LC_AUTH": "x",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    environment = child_environment("cpu", "NoSuchLab2099.IT-pls", tmp_path, tmp_path)

    assert sorted(set(secrets) & set(environment)) == ["PYTHONPATH"]
    assert "/checkout" not in environment["PYTHONPATH"]


def test_child_home_is_scratch(tmp_path: Path) -> None:
    environment = child_environment("cpu", "NoSuchLab2099.IT-pls", tmp_path / "home", tmp_path)

    assert environment["HOME"] == str(tmp_path / "home")


def test_child_imports_only_tooling_from_the_checkout(tmp_path: Path) -> None:
    environment = child_environment("cpu", "NoSuchLab2099.IT-pls", tmp_path, tmp_path)
    (entry,) = environment["PYTHONPATH"].split(os.pathsep)

    assert [path.name for path in Path(entry).iterdir()] == ["tooling"]


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("not json", id="not-json"),
        pytest.param("[1, 2]", id="not-an-object"),
        pytest.param('{"time": 1}', id="no-phase"),
        pytest.param('{"phase": 3}', id="phase-not-text"),
        pytest.param("\udcff", id="not-utf-8"),
    ],
)
def test_status_reader_skips_malformed_line(tmp_path: Path, line: str) -> None:
    path = tmp_path / "status.jsonl"
    path.write_bytes(
        line.encode(errors="surrogateescape")
        + b"\n"
        + json.dumps({"phase": "scoring"}).encode()
        + b"\n"
    )

    events = StatusReader(path).read_new()

    assert [event["phase"] for event in events] == ["unknown", "scoring"]


@pytest.mark.slow
def test_changed_overlay_is_built_again(
    runs: dict[str, SubmissionReport],
    workspace: Path,
    local_index: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in local_index.items():
        monkeypatch.setenv(name, value)
    requirement = Requirement("tinypkg==1.0")
    overlay = workspace / "cache" / "overlays" / overlay_key([requirement])
    planted = overlay_site_packages(overlay) / "tinypkg" / "planted.py"
    planted.write_text("STOLEN = True\n")

    environment = prepare_environment([requirement], workspace / "cache", timeout=QUICK_TIMEOUT)

    assert environment.overlay == overlay
    assert not planted.exists()
    assert (overlay_site_packages(overlay) / "tinypkg" / "__init__.py").is_file()


@pytest.mark.slow
def test_crash_keeps_traceback(runs: dict[str, SubmissionReport]) -> None:
    crasher = runs["failing"].models[0]

    assert crasher["traceback"][0] == "Traceback (most recent call last):"
    assert 'File "models/base_models.py", line 12, in build' in "\n".join(crasher["traceback"])
    assert crasher["traceback"][-1].startswith("ValueError: cwd=")


@pytest.mark.slow
def test_traceback_starts_at_user_frame(runs: dict[str, SubmissionReport]) -> None:
    crasher = runs["failing"].models[0]

    assert "models/base_models.py" in crasher["traceback"][1]


@pytest.mark.slow
def test_import_failure_traceback_on_module_entry(runs: dict[str, SubmissionReport]) -> None:
    entries = {model["identifier"]: model for model in runs["killed"].models}

    assert entries["brain_models"]["ok"] is False
    assert entries["brain_models"]["traceback"][-1] == "RuntimeError: broken at import"


@pytest.mark.slow
def test_layer_problem_names_get_layers_line(runs: dict[str, SubmissionReport]) -> None:
    (problem,) = problems_with(runs["failing"], "layer-not-found")

    assert problem.line == 29


@pytest.mark.slow
def test_install_failure_is_one_line(runs: dict[str, SubmissionReport]) -> None:
    (problem,) = runs["uninstallable"].problems

    assert "\n" not in problem.message


@pytest.mark.slow
def test_install_failure_names_requirement_line(runs: dict[str, SubmissionReport]) -> None:
    (problem,) = runs["uninstallable"].problems

    assert (problem.file, problem.line) == ("setup.py", 3)


@pytest.mark.slow
def test_empty_model_list_reported(runs: dict[str, SubmissionReport]) -> None:
    (problem,) = runs["empty-list"].problems

    assert problem.code == "no-models"
    assert (problem.file, problem.line) == ("models/base_models.py", 2)


@pytest.mark.slow
def test_unknown_computed_model_is_fatal(runs: dict[str, SubmissionReport]) -> None:
    error = runs["computed-list"]

    assert isinstance(error, FatalError)
    assert "lists no model 'gamma'" in str(error)
    assert "its models are 'alpha', 'beta'" in str(error)


def test_unknown_literal_model_fails_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_submission(tmp_path / "literal", EMPTY_LIST.replace("[]", '["alpha"]'))

    code = main(["mock-score", str(folder), "--model", "nosuchmodel", "--device", "cpu"])

    assert code == 1
    assert "lists no model 'nosuchmodel'" in capsys.readouterr().err


def test_unknown_literal_model_lists_choices(tmp_path: Path) -> None:
    folder = write_submission(tmp_path / "literal", EMPTY_LIST.replace("[]", '["alpha"]'))

    with pytest.raises(FatalError, match="its models are 'alpha'"):
        run_submission(folder, "literal", timeout=1, device="cpu", models=["nosuchmodel"])


@pytest.mark.parametrize(
    "phase",
    [
        pytest.param({"phase": "importing", "module": "models.base_models"}, id="import-timeout"),
        pytest.param({"phase": "model", "model": "m"}, id="model-timeout"),
    ],
)
def test_timeout_says_how_to_fix(phase: dict) -> None:
    problem = ending_problem(outcome(timed_out=True, returncode=-9, last_status=phase), 10)

    assert problem is not None
    assert "raise --timeout" in problem.message


def test_end_descendants_spares_other_runs(tmp_path: Path) -> None:
    from tooling.mockscore.runner import RUN_TOKEN_VARIABLE, end_descendants

    def start(token: str) -> subprocess.Popen:
        environment = {**os.environ, RUN_TOKEN_VARIABLE: token}
        return subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(60)"],
            env=environment,
            start_new_session=True,
        )

    own, other = start("own-run"), start("other-run")
    try:
        time.sleep(0.5)  # until each child has exec'd and carries its environment

        end_descendants(own.pid, "own-run")

        assert own.poll() is not None
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()

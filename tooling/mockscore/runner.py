"""Run one submission's models in an isolated child process and collect a report.

Each submission gets its own process, started in a new session with an empty scratch
folder as its working directory and home, in the tooling's environment plus an overlay
with the requirements that environment lacks. The child's environment variables come from
an allow-list, so that credentials of the caller never reach it. A wall-clock timeout
kills the child. When the child ends for any reason, every process it left behind is
killed too, including daemons that left its session.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import dataclasses
import json
import logging
import os
import secrets
import signal
import site
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from tooling.errors import FatalError
from tooling.mockscore import forecast as forecasting
from tooling.mockscore.environment import (
    Environment,
    InstallFailed,
    default_cache_dir,
    format_requirements,
    prepare_environment,
)
from tooling.mockscore.progress import Progress, SilentProgress
from tooling.problems import Problem
from tooling.reports import SubmissionReport

logger = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda")
MOCK_BENCHMARK = "mock"
# Set in each child's environment, and inherited by its descendants, so that the end of
# one run kills only its own orphans while other runs go on.
RUN_TOKEN_VARIABLE = "BRAINSCORE_MOCK_SCORE_RUN"
DEFAULT_TIMEOUT = 1800.0
# How often the runner reads the status file and checks the clock, in seconds.
POLL_INTERVAL = 0.2
STDERR_TAIL_LINES = 15
# pip's error lines quoted in an install-failed message, and their length in all.
PIP_ERROR_LINES = 3
MAX_PIP_ERROR_CHARS = 600
# Variables passed from the runner's environment to the child, by exact name or prefix.
# Anything else, credentials among them, is left out.
PASSED_VARIABLES = frozenset(
    {"PATH", "LANG", "LANGUAGE", "TZ", "TERM", "CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER",
     "OMP_NUM_THREADS", "MKL_NUM_THREADS", "TORCH_HOME", "BRAINSCORE_HOME", "BRAINIO_HOME",
     "MT_HOME", "MT_IMAGENET_PATH", "RESULTCACHING_HOME", "RESULTCACHING_DISABLE",
     "BS_INSTALL_DEPENDENCIES"}
)  # fmt: skip
PASSED_PREFIXES = ("LC_",)
# Parts of variable names that mark credentials: a passed variable whose name contains
# one of these is still left out. The scoring worker removes such variables too, so this
# is the one list of them.
SECRET_NAME_PARTS = ("TOKEN", "PASSWORD", "SECRET", "CREDENTIAL", "API_KEY", "AUTH")
# The maximum length, in characters, of the reason for a malformed results file quoted
# in a message.
MAX_RESULTS_ERROR_CHARS = 300
# A shape of activations or probabilities in the results file.
SHAPE_SCHEMA = {"type": "array", "items": {"type": "integer", "minimum": 0}}
# The scores of one region in the results file.
REGION_SCHEMA = {"type": "object", "properties": {"layer": {"type": ["string", "null"]}}}
# The folder on the child's PYTHONPATH that contains a link to the `tooling` package.
TOOLING_LINK_FOLDER = "pythonpath"
# prctl options (linux/prctl.h).
PR_SET_CHILD_SUBREAPER = 36
# How long the runner waits for killed descendants to disappear, in seconds.
REAP_SECONDS = 5.0

# The process ids of the children running now, which `run_submissions` runs in threads.
_running: set[int] = set()
# How many runs are between the start of their child and the end of its leftovers.
_adopting = 0
_adopting_lock = threading.Lock()


@dataclasses.dataclass
class ChildOutcome:
    """The exit status, last status event, results and peak memory of a finished child."""

    returncode: int
    timed_out: bool
    last_status: dict[str, Any]
    results: dict[str, Any]
    peak_memory_mib: float
    stderr_tail: str
    # Why the results file was unusable, which `results` then replaces with empty results.
    results_error: str | None = None

    @property
    def killed_by(self) -> int | None:
        return -self.returncode if self.returncode < 0 else None


def resolve_device(device: str) -> str:
    """Return "cpu" or "cuda" for a --device choice; "auto" takes CUDA when present."""
    if device not in DEVICES:
        raise FatalError(f"unknown device, {device!r}; use one of {', '.join(DEVICES)}")
    if device == "cpu":
        return "cpu"
    available = cuda_available()
    if device == "cuda" and not available:
        raise FatalError(
            "no CUDA device is available, for --device cuda; run with --device cpu, or on "
            "a machine where torch.cuda.is_available() is true"
        )
    return "cuda" if available else "cpu"


def cuda_available() -> bool:
    try:
        import torch
    except ImportError as error:
        raise FatalError(
            "torch is not installed, which the mock score needs; install the tooling with "
            "`pip install -e '.[score]'`"
        ) from error
    return bool(torch.cuda.is_available())


def run_submissions(
    folders: Sequence[tuple[Path, str]],
    *,
    timeout: float,
    device: str = "auto",
    jobs: int = 1,
    progress: Progress | None = None,
    **options: Any,
) -> list[SubmissionReport]:
    """Run `run_submission` on each (folder, display) pair, `jobs` at a time."""
    if not folders:
        return []
    device = resolve_device(device)
    progress = progress or SilentProgress()

    def run_one(item: tuple[Path, str]) -> SubmissionReport:
        folder, display = item
        return run_submission(
            folder, display, timeout=timeout, device=device, progress=progress, **options
        )

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as executor:
        return list(executor.map(run_one, folders))


def run_submission(
    folder: Path,
    display: str,
    *,
    timeout: float,
    device: str = "auto",
    models: Sequence[str] | None = None,
    benchmark: str = "mock",
    cache_dir: Path | None = None,
    limits: forecasting.Limits | None = None,
    progress: Progress | None = None,
) -> SubmissionReport:
    """Score the models of the submission in `folder` and return its report.

    `timeout` (seconds, wall clock) applies to the child process, and separately to the
    installation of missing requirements. `models` limits the run to these identifiers.
    `benchmark` is "mock" or a brainscore-vision benchmark identifier.
    """
    report = SubmissionReport(display)
    device = resolve_device(device)
    if models:
        from tooling.validation.identifiers import read_identifiers

        found = read_identifiers(folder)
        listed = None if found is None else [item.identifier for item in found]
        check_selection(models, listed, display)
    progress = progress or SilentProgress()
    progress.start(display)
    try:
        environment = prepare_submission_environment(folder, cache_dir, timeout, report)
        if environment is None:
            return report
        outcome = run_child(
            folder, display, environment, timeout=timeout, device=device, models=models,
            benchmark=benchmark, progress=progress,
        )  # fmt: skip
        if models and outcome.results.get("unknown_models"):
            check_selection(models, outcome.results.get("listed", []), display)
        collect_results(report, outcome, timeout)
        add_forecasts(report, limits or forecasting.Limits())
        log_forecast_warnings(report)
        return report
    finally:
        progress.finish(display, report)


def check_selection(selected: Sequence[str], listed: Sequence[str] | None, display: str) -> None:
    """Raise FatalError when a --model identifier is not among the ones `display` lists;
    do nothing when the list is not known."""
    if listed is None:
        return
    unknown = [identifier for identifier in selected if identifier not in listed]
    if not unknown:
        return
    names = ", ".join(repr(identifier) for identifier in unknown)
    choices = ", ".join(repr(identifier) for identifier in listed) or "none"
    raise FatalError(
        f"{display} lists no model {names}, which --model selects; its models are "
        f"{choices}: use one of them with --model, or leave --model out to score all"
    )


def prepare_submission_environment(
    folder: Path, cache_dir: Path | None, timeout: float, report: SubmissionReport
) -> Environment | None:
    """Return the submission's environment; None after reporting install-failed."""
    from tooling.validation.requirements import is_provided_requirement, load_requirements

    declared = load_requirements(folder)
    lines = {item.text: item.line for item in declared.declared or []}
    requirements = []
    for text in list(lines):
        if is_provided_requirement(text):
            continue
        try:
            requirements.append(Requirement(text))
            lines.setdefault(str(requirements[-1]), lines[text])
        except InvalidRequirement as error:
            message = f"{text!r} is not a valid requirement, so it cannot be installed: {error}"
            report.add(Problem("install-failed", message, declared.file, lines[text]))
            return None
    try:
        return prepare_environment(requirements, cache_dir or default_cache_dir(), timeout)
    except InstallFailed as error:
        failed = failed_requirement(requirements, str(error))
        named = format_requirements([failed] if failed else requirements)
        message = f"pip failed to install {named}: {one_line_pip_error(str(error))}"
        line = lines.get(str(failed)) if failed else None
        report.add(Problem("install-failed", message, declared.file, line))
        return None


def failed_requirement(requirements: Sequence[Requirement], error: str) -> Requirement | None:
    """Return the requirement pip's error names, or the only one; None when it is unclear."""
    named = [requirement for requirement in requirements if str(requirement) in error]
    if not named:
        lowered = error.lower()
        named = [requirement for requirement in requirements if requirement.name.lower() in lowered]
    if len(named) == 1:
        return named[0]
    return requirements[0] if len(requirements) == 1 else None


def one_line_pip_error(error: str) -> str:
    """Return pip's last ERROR lines joined with "; ", cut to a readable length."""
    lines = [line.strip() for line in error.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")] or lines
    text = "; ".join(errors[-PIP_ERROR_LINES:])
    if len(text) > MAX_PIP_ERROR_CHARS:
        text = text[:MAX_PIP_ERROR_CHARS] + " [...]"
    return text


def run_child(
    folder: Path,
    display: str,
    environment: Environment,
    *,
    timeout: float,
    device: str,
    models: Sequence[str] | None,
    benchmark: str,
    progress: Progress,
) -> ChildOutcome:
    with tempfile.TemporaryDirectory(prefix="brainscore-mock-score-") as temporary:
        control = Path(temporary) / "control"
        scratch = Path(temporary) / "scratch"
        control.mkdir()
        scratch.mkdir()
        command = child_command(environment.python, folder, control, device, models, benchmark)
        variables = child_environment(device, benchmark, scratch, control)
        run_token = secrets.token_hex(8)
        variables[RUN_TOKEN_VARIABLE] = run_token
        with (
            open(control / "stdout.log", "wb") as stdout,
            open(control / "stderr.log", "wb") as stderr,
            adopting_orphans(),
        ):
            process = subprocess.Popen(
                command,
                cwd=scratch,
                env=variables,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
            _running.add(process.pid)
            try:
                returncode, timed_out, peak, last_status = supervise(
                    process, control / "status.jsonl", timeout, display, progress
                )
            finally:
                _running.discard(process.pid)
                end_descendants(process.pid, run_token)
        results, results_error = read_results(control / "results.json")
        return ChildOutcome(
            returncode=returncode,
            timed_out=timed_out,
            last_status=last_status,
            results=results,
            peak_memory_mib=peak,
            stderr_tail=tail(control / "stderr.log"),
            results_error=results_error,
        )


def child_command(
    python: str,
    folder: Path,
    control: Path,
    device: str,
    models: Sequence[str] | None,
    benchmark: str,
) -> list[str]:
    command = [
        python, "-m", "tooling.mockscore.child",
        "--folder", str(folder.resolve()),
        "--status", str(control / "status.jsonl"),
        "--results", str(control / "results.json"),
        "--device", device,
        "--benchmark", benchmark,
    ]  # fmt: skip
    for identifier in models or ():
        command.extend(["--model", identifier])
    return command


def child_environment(device: str, benchmark: str, home: Path, control: Path) -> dict[str, str]:
    """Return the child's environment, built from an allow-list of the runner's variables.

    The child gets PATH, the locale, the device settings and brainscore-vision's data
    folders, with `home` as its HOME and temporary folder, no proxy settings and no
    bytecode. Database URLs, mail settings and every variable named like a token,
    password or secret stay out. For the mock benchmark it also gets the settings that
    keep brainscore-vision offline. A real benchmark keeps brainscore-vision's own
    settings, because it downloads its data and the ImageNet images of the layer PCA.
    """
    environment = {name: value for name, value in os.environ.items() if is_passed_variable(name)}
    environment.setdefault("PATH", os.defpath)
    environment["HOME"] = str(home)
    environment["TMPDIR"] = str(home)
    if site.ENABLE_USER_SITE and site.USER_BASE:
        # HOME moved, so the user site (`pip install --user`) is named explicitly.
        environment["PYTHONUSERBASE"] = site.USER_BASE
    if benchmark == MOCK_BENCHMARK:
        from tooling.mockscore.benchmark import offline_environment

        environment.update(offline_environment())
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    entries = tooling_path_entries(control)
    if entries:
        environment["PYTHONPATH"] = os.pathsep.join(entries)
    if device == "cpu":
        environment["CUDA_VISIBLE_DEVICES"] = ""
    return environment


def is_passed_variable(name: str) -> bool:
    upper = name.upper()
    if any(part in upper for part in SECRET_NAME_PARTS):
        return False
    return name in PASSED_VARIABLES or name.startswith(PASSED_PREFIXES)


def tooling_path_entries(control: Path) -> list[str]:
    """Return the PYTHONPATH through which the child imports the `tooling` package.

    An installed tooling needs none. A source checkout gets a folder that holds only a
    link to its `tooling` package: putting the checkout's root there would let any other
    module in it, which a pull request can add, shadow the packages the child imports.
    """
    import tooling

    package = Path(tooling.__file__).resolve().parent
    if is_site_packages(str(package.parent)):
        return []
    folder = control / TOOLING_LINK_FOLDER
    folder.mkdir(exist_ok=True)
    (folder / "tooling").symlink_to(package, target_is_directory=True)
    return [str(folder)]


def is_site_packages(path: str) -> bool:
    return path in site.getsitepackages()


def supervise(
    process: subprocess.Popen, status_path: Path, timeout: float, display: str,
    progress: Progress,
) -> tuple[int, bool, float, dict[str, Any]]:  # fmt: skip
    """Wait for the child, following its status file; kill its tree at the deadline.

    Returns the exit code (negative for a signal), whether it timed out, its peak
    resident memory in MiB and its last status.
    """
    deadline = time.monotonic() + timeout
    reader = StatusReader(status_path)
    timed_out = False
    while True:
        pid, wait_status, usage = os.wait4(process.pid, os.WNOHANG)
        for event in reader.read_new():
            progress.update(display, event)
        if pid:
            break
        if not timed_out and time.monotonic() > deadline:
            timed_out = True
            logger.debug("%s: timed out after %g s, killing the process tree", display, timeout)
            kill_tree(process.pid)
        time.sleep(POLL_INTERVAL)
    for event in reader.read_new():
        progress.update(display, event)
    process.returncode = os.waitstatus_to_exitcode(wait_status)
    return process.returncode, timed_out, maxrss_mib(usage.ru_maxrss), reader.last


@contextlib.contextmanager
def adopting_orphans() -> Iterator[None]:
    """Make this process a child subreaper while at least one run is in the block.

    The orphans of the child's descendants, such as a daemon started with a double fork
    and setsid, then become children of this process rather than of init, so that
    `end_descendants` finds and kills them. Linux only; elsewhere such daemons may
    outlive the child.
    """
    global _adopting
    with _adopting_lock:
        if _adopting == 0:
            set_child_subreaper(True)
        _adopting += 1
    try:
        yield
    finally:
        with _adopting_lock:
            _adopting -= 1
            if _adopting == 0:
                set_child_subreaper(False)


def set_child_subreaper(enabled: bool) -> None:
    if not sys.platform.startswith("linux"):
        logger.debug("no child subreaper on %s; daemons of the child may outlive it", sys.platform)
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, int(enabled), 0, 0, 0) != 0:
        logger.debug("prctl(PR_SET_CHILD_SUBREAPER) failed: %s", os.strerror(ctypes.get_errno()))


def kill_tree(pid: int) -> None:
    """Kill the child's process group and any descendant that left it."""
    descendants = []
    try:
        import psutil

        descendants = psutil.Process(pid).children(recursive=True)
    except Exception:  # psutil missing, or the child exited meanwhile
        logger.debug("could not list the descendants of process %d", pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    for descendant in descendants:
        try:
            descendant.kill()
        except Exception:
            logger.debug("descendant %d exited before it was killed", descendant.pid)


def end_descendants(pid: int, run_token: str | None = None) -> None:
    """Kill and reap whatever the child `pid` left running, after it has ended.

    The leftovers are direct children of this process, because it is a subreaper: the
    members of the child's session, and orphans in a session of their own such as
    daemons, with everything below them. This process's own helpers (pip, in its
    session), the children of runs still going (in theirs) and orphans that carry
    another run's token in their environment are left alone.
    """
    import psutil

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    keep = {os.getsid(0), *running_children()}
    leftovers = []
    for process in psutil.Process().children():
        if process.pid in keep or session_of(process.pid) in keep:
            continue
        token = run_token_of(process)
        if token is not None and token != run_token:
            continue
        leftovers.append(process)
        with contextlib.suppress(psutil.Error):
            leftovers.extend(process.children(recursive=True))
    for process in leftovers:
        with contextlib.suppress(psutil.Error):
            process.kill()
    reap([process.pid for process in leftovers], pid)


def run_token_of(process: Any) -> str | None:
    """Return the run token in a process's environment; None when absent or unreadable.

    A daemon that clears its environment loses the token and counts as a leftover of
    whichever run ends first.
    """
    import psutil

    try:
        return process.environ().get(RUN_TOKEN_VARIABLE)
    except psutil.Error:
        return None


def running_children() -> set[int]:
    return set(_running)


def session_of(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except (ProcessLookupError, PermissionError):
        return None


def reap(pids: list[int], child: int) -> None:
    """Wait until the killed processes `pids` are gone, reaping those re-parented here."""
    import psutil

    deadline = time.monotonic() + REAP_SECONDS
    remaining = set(pids)
    while remaining and time.monotonic() < deadline:
        for pid in list(remaining):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # not a child of this process (yet), or reaped
                done = 0 if psutil.pid_exists(pid) else pid
            if done:
                remaining.discard(pid)
        if remaining:
            time.sleep(0.05)
    for pid in sorted(remaining):
        logger.warning("process %d, left by the child %d, did not end", pid, child)


def maxrss_mib(maxrss: int) -> float:
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    divisor = 1024 * 1024 if sys.platform == "darwin" else 1024
    return round(maxrss / divisor, 1)


class StatusReader:
    """Reads the JSON lines the child appends to its status file, as they come."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.last: dict[str, Any] = {}

    def read_new(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as file:
                file.seek(self.offset)
                data = file.read()
        except FileNotFoundError:
            return []
        complete = data.rpartition(b"\n")[0]
        if not complete:
            return []
        self.offset += len(complete) + 1
        events = [parse_status_line(line) for line in complete.splitlines() if line.strip()]
        for event in events:
            if event["phase"] != "progress":
                self.last = event
        return events


def parse_status_line(line: bytes) -> dict[str, Any]:
    """Return one status event; a malformed line, which submission code can write, is
    an event of the phase "unknown"."""
    try:
        event = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        event = None
    if not isinstance(event, dict) or not isinstance(event.get("phase"), str):
        return {"phase": "unknown"}
    return event


def read_results(path: Path) -> tuple[dict[str, Any], str | None]:
    """Return the child's results, and None or why they are malformed.

    The child runs submission code, which can overwrite the file, so its shape is checked
    against `results_schema()`. A malformed file gives empty results and the reason; a
    missing one, which a child that died while starting leaves, gives empty results only.
    """
    empty: dict[str, Any] = {"problems": [], "models": [], "listed": [], "unknown_models": []}
    try:
        results = json.loads(path.read_bytes())
    except FileNotFoundError:
        return empty, None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        return empty, f"it is not JSON: {error}"
    reason = results_shape_error(results)
    if reason is not None:
        return empty, reason
    return results, None


def results_shape_error(results: Any) -> str | None:
    """Return why `results` does not match `results_schema()`, or None when it does."""
    import jsonschema

    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(results_schema()).iter_errors(results)
    )
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "the top level"
    message = error.message
    if len(message) > MAX_RESULTS_ERROR_CHARS:
        message = message[:MAX_RESULTS_ERROR_CHARS] + " [...]"
    return f"at {where}: {message}"


def results_schema() -> dict[str, Any]:
    """Return the JSON schema of the results file that the child writes.

    Its model entries follow the report's schema, plus the types of the fields that the
    forecast and the text report read. Its problems have the fields of `Problem`.
    """
    from tooling.problems import CODES
    from tooling.reports.model import load_schema

    submission = load_schema()["properties"]["submissions"]["items"]["properties"]
    model = json.loads(json.dumps(submission["models"]["items"]))
    model["properties"].update(
        {
            "seconds_per_image": {"type": "number", "minimum": 0},
            "activation_bytes_per_image": {"type": "number", "minimum": 0},
            "activations": {"type": "object", "additionalProperties": SHAPE_SCHEMA},
            "regions": {"type": "object", "additionalProperties": REGION_SCHEMA},
            "behaviour": {
                "type": "object",
                "properties": {"shape": SHAPE_SCHEMA, "message": {"type": "string"}},
            },
        }
    )
    problem = {
        "type": "object",
        "required": ["code", "message", "file", "line", "column"],
        "properties": {
            "code": {"enum": sorted(CODES)},
            "message": {"type": "string", "maxLength": 20000},
            "file": {"type": ["string", "null"], "maxLength": 1000},
            "line": {"type": ["integer", "null"], "minimum": 1},
            "column": {"type": ["integer", "null"], "minimum": 1},
            "model": {"type": ["string", "null"]},
        },
    }
    names = {"type": "array", "items": {"type": "string"}}
    return {
        "type": "object",
        "required": ["problems", "models", "listed", "unknown_models"],
        "properties": {
            "problems": {"type": "array", "items": problem},
            "models": {
                "type": "array",
                "maxItems": submission["models"]["maxItems"],
                "items": model,
            },
            "listed": names,
            "unknown_models": names,
        },
    }


def tail(path: Path, lines: int = STDERR_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def collect_results(report: SubmissionReport, outcome: ChildOutcome, timeout: float) -> None:
    """Add the child's problems and models to `report`, then how the child ended."""
    if outcome.results_error is not None:
        report.add(
            Problem(
                "model-crashed",
                f"the results file of the mock score is malformed ({outcome.results_error}), "
                f"so the results of every model are lost; the submission's code may have "
                f"overwritten it: leave the files of the mock score alone",
            )
        )
    for item in outcome.results["problems"]:
        report.add(
            Problem(item["code"], item["message"], item["file"], item["line"], item["column"])
        )
    report.models.extend(outcome.results["models"])

    problem = ending_problem(outcome, timeout)
    if problem is None:
        return
    report.add(problem)
    model = outcome.last_status.get("model")
    if outcome.last_status.get("phase") in ("model", "progress") and model is not None:
        mark_interrupted_model(report, model, outcome)


def ending_problem(outcome: ChildOutcome, timeout: float) -> Problem | None:
    """Return the problem that the way the child ended shows, or None for a clean end."""
    phase = outcome.last_status.get("phase")
    where = describe_phase(outcome.last_status)
    if outcome.timed_out:
        if phase == "importing":
            fix = (
                "move slow work such as downloads or building the network from module level "
                "into get_model, or for a local check raise --timeout"
            )
            return Problem(
                "import-timeout",
                f"timed out after {timeout:g} s {where}; the process was killed; {fix}",
            )
        fix = "make the model faster or smaller, or for a local check raise --timeout"
        return Problem(
            "timeout", f"timed out after {timeout:g} s {where}; the process was killed; {fix}"
        )
    if outcome.killed_by == signal.SIGKILL:
        return Problem(
            "out-of-memory",
            f"the process was killed by SIGKILL {where}, at a peak of "
            f"{outcome.peak_memory_mib:g} MiB resident memory, most likely by the kernel's "
            f"out-of-memory killer",
        )
    if outcome.returncode == 0 and phase == "done":
        return None
    code = "import-failed" if phase in ("starting", "importing") else "model-crashed"
    ended = (
        f"was killed by {signal_name(outcome.killed_by)}"
        if outcome.killed_by
        else f"exited with status {outcome.returncode}"
    )
    message = f"the process {ended} {where}"
    if outcome.stderr_tail:
        message += f"; the end of its error output:\n{outcome.stderr_tail}"
    return Problem(code, message)


def signal_name(number: int) -> str:
    """Return a signal's name, such as "signal SIGSEGV", or "signal 40" for one without a
    name in Python, such as a real-time signal."""
    try:
        return f"signal {signal.Signals(number).name}"
    except ValueError:
        return f"signal {number}"


def describe_phase(status: dict[str, Any]) -> str:
    phase = status.get("phase")
    if phase == "importing":
        return f"while importing {status.get('module', 'the submission')}"
    if phase in ("model", "progress"):
        return f"while scoring model {status.get('model')!r}"
    if phase == "scoring":
        return "after importing the submission"
    return "while starting the mock score"


def mark_interrupted_model(report: SubmissionReport, model: str, outcome: ChildOutcome) -> None:
    """Add a failed entry for the model the child was scoring when it ended."""
    if any(entry["identifier"] == model for entry in report.models):
        return
    entry: dict[str, Any] = {
        "identifier": model,
        "kind": outcome.last_status.get("kind", "base"),
        "ok": False,
        "peak_memory_mib": outcome.peak_memory_mib,
    }
    report.models.append(entry)


def add_forecasts(report: SubmissionReport, limits: forecasting.Limits) -> None:
    for entry in report.models:
        forecast = forecasting.forecast(entry, limits)
        if forecast is not None:
            entry["forecast"] = forecast


def log_forecast_warnings(report: SubmissionReport) -> None:
    for entry in report.models:
        for warning in entry.get("forecast", {}).get("warnings", []):
            logger.warning("%s: model %r: %s", report.submission, entry["identifier"], warning)

"""The scoring worker: from a package to one stored result per (model, benchmark).

Each pair runs in its own subprocess through the mock-score runner, which also prepares
the submission's environment (the tooling's own plus an overlay of its declared
requirements). Results are committed one by one, and a per-package file lock keeps two
workers off the same package, so a killed worker resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import fcntl
import logging
import math
import os
import statistics
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tooling.errors import FatalError
from tooling.mockscore.runner import MOCK_BENCHMARK, SECRET_NAME_PARTS
from tooling.reports import SubmissionReport
from tooling.scoring import DEFAULT_TIMEOUT
from tooling.scoring.store import (
    FAILED,
    RECEIVED,
    SCORED,
    SCORING,
    PairResult,
    Store,
    utc_now,
)
from tooling.scoring.unpack import CheckedPackage, check_package, extract_package

logger = logging.getLogger(__name__)

REGIONS = ("V1", "V2", "V4", "IT")
MAX_ERROR_PROBLEMS = 5
# prctl option (linux/prctl.h).
PR_SET_DUMPABLE = 4
# The model name of the row that stands for a whole benchmark run while the submission's
# models are unknown.
ALL_MODELS = "*"

# Environment variables that hold credentials, removed while submission code runs. The
# runner builds its child's environment from an allow-list; these names also cover the
# pip processes that install a submission's requirements.
SECRET_VARIABLES = frozenset(
    {
        "BRAINSCORE_DATABASE_URL",
        "BRAINSCORE_SMTP_USER",
        "BRAINSCORE_ADDRESS_BOOK",
        "BRAINSCORE_SCORING_HOME",
        "JENKINS_USER",
    }
)

Runner = Callable[..., SubmissionReport]


@dataclasses.dataclass
class WorkerSettings:
    """The worker's state folder, database, benchmarks and runner options."""

    home: Path
    store: Store
    benchmarks: tuple[str, ...] = (MOCK_BENCHMARK,)
    timeout: float = DEFAULT_TIMEOUT
    device: str = "auto"
    runner: Runner | None = None

    @property
    def work_folder(self) -> Path:
        return self.home / "work"

    @property
    def log_folder(self) -> Path:
        return self.home / "logs"

    def log_path(self, key: str) -> Path:
        return self.log_folder / f"{key}.log"

    def overlay_cache(self, folder: Path) -> Path:
        """Return the overlay cache of the package extracted at `folder`: its own, in its
        work folder, so that no other package's code can change what it imports."""
        return folder.parent.parent / "overlays"


class PackageBusy(FatalError):
    """Another worker holds the package's lock."""


class PackageRejected(FatalError):
    """A package that failed its checks; `key` is set when the rejection was stored now.

    A stored rejection is a failed submission whose author is owed an email. `key` is None
    when nothing was stored: the file is missing, or its key already has another status.
    """

    def __init__(self, message: str, key: str | None) -> None:
        super().__init__(message)
        self.key = key


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The result of `score_package`: the key, its status and whether it was scored now."""

    key: str
    status: str
    scored_now: bool


def default_runner() -> Runner:
    from tooling.mockscore.runner import run_submission

    return run_submission


@contextlib.contextmanager
def package_lock(settings: WorkerSettings, key: str) -> Iterator[None]:
    """Hold an exclusive lock on `key`; the kernel drops it when the process dies."""
    folder = settings.home / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{key}.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PackageBusy(
                f"package {key} is being scored by another worker; wait for " f"it to finish"
            ) from None
        yield


@contextlib.contextmanager
def package_log(settings: WorkerSettings, key: str) -> Iterator[None]:
    """Copy every log record to the package's own log file while it is scored."""
    settings.log_folder.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(settings.log_path(key), encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)
        handler.close()


def is_secret_variable(name: str) -> bool:
    upper = name.upper()
    return upper in SECRET_VARIABLES or any(part in upper for part in SECRET_NAME_PARTS)


@contextlib.contextmanager
def without_secrets() -> Iterator[None]:
    """Remove credentials from os.environ for the duration, and put them back after."""
    removed = {name: os.environ.pop(name) for name in list(os.environ) if is_secret_variable(name)}
    try:
        yield
    finally:
        os.environ.update(removed)


def protect_process() -> None:
    """Keep the worker's credentials out of reach of the processes it starts.

    A child running as the same user can read /proc/<worker>/environ, the environment the
    worker started with, and /proc/<worker>/mem. This makes the worker non-dumpable,
    which closes both to other processes of the user that lack CAP_SYS_PTRACE, and
    overwrites the credentials in that startup environment, which also hides them from
    a child running as root. Linux only; elsewhere it logs and does nothing.

    NOTE: this does not stop a child from reading the files the worker's user can read,
    such as the address book and the SQLite database. A shared service should run the
    worker in a container or VM of its own, or the child as another user; see
    docs/scoring.md.
    """
    if not sys.platform.startswith("linux"):
        logger.debug("cannot protect the worker's environment on %s", sys.platform)
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        logger.warning("prctl(PR_SET_DUMPABLE) failed: %s", os.strerror(ctypes.get_errno()))
    try:
        erase_startup_secrets()
    except (OSError, ValueError) as error:
        logger.warning("could not erase credentials from the startup environment: %s", error)


def erase_startup_secrets() -> None:
    """Overwrite the credentials in this process's startup environment with NUL bytes.

    os.environ is a copy made at startup, so Python code keeps reading them; C code that
    calls getenv() for one of them gets an empty string.
    """
    fields = Path("/proc/self/stat").read_text().rpartition(")")[2].split()
    # env_start and env_end are fields 50 and 51 of proc(5); fields[0] is field 3.
    start, end = int(fields[47]), int(fields[48])
    if not 0 < start < end:
        raise ValueError(f"no startup environment in /proc/self/stat ({start}, {end})")
    block = ctypes.string_at(start, end - start)
    offset = 0
    for entry in block.split(b"\0"):
        name = entry.partition(b"=")[0].decode(errors="replace")
        if entry and is_secret_variable(name):
            ctypes.memset(start + offset, 0, len(entry))
        offset += len(entry) + 1


def score_package(
    path: Path,
    settings: WorkerSettings,
    origin: dict[str, Any] | None = None,
    expected_sha256: str | None = None,
) -> Outcome:
    """Check, unpack and score the package at `path`; return what was done.

    `origin` contains `pull_request`, `commit`, `author` and `repository` as the trigger
    sent them. A package already scored or failed under the same key is not scored again.
    Raises PackageRejected when the package fails its checks, after storing the rejection,
    and PackageBusy when another worker scores it.
    """
    origin = origin or {}
    try:
        package = check_package(path, expected_sha256)
    except FatalError as error:
        key = record_rejection(path, settings, origin, error)
        raise PackageRejected(str(error), key) from None

    with package_lock(settings, package.key), package_log(settings, package.key):
        existing = settings.store.get_submission(package.key)
        if existing is not None and existing.status in (SCORED, FAILED):
            logger.info(
                "package %s was already %s; not scoring it again", package.key, existing.status
            )
            return Outcome(package.key, existing.status, scored_now=False)
        settings.store.add_submission(package.key, package.manifest, origin)
        settings.store.set_status(package.key, SCORING)
        status = score_pairs(package, settings)
    return Outcome(package.key, status, scored_now=True)


def record_rejection(
    path: Path, settings: WorkerSettings, origin: dict[str, Any], error: FatalError
) -> str | None:
    """Store a rejected package as failed, so that its author gets the reason by email.

    Returns the key it stored, or None. A key that is being scored or already has a result
    keeps it: the same zip sent again with a wrong sha256 must not turn its scores into a
    failure.
    """
    if not path.is_file():
        return None
    from tooling.packaging import sha256_of_file

    key = sha256_of_file(path)
    try:
        with package_lock(settings, key):
            existing = settings.store.get_submission(key)
            if existing is not None and existing.status != RECEIVED:
                logger.error(
                    "package %s rejected, but it is already %s and stays so: %s",
                    key,
                    existing.status,
                    error,
                )
                return None
            store_rejection(path, key, settings, origin, error)
    except PackageBusy:
        logger.error("package %s rejected while another worker scores it: %s", key, error)
        return None
    return key


def store_rejection(
    path: Path, key: str, settings: WorkerSettings, origin: dict[str, Any], error: FatalError
) -> None:
    manifest = {"submission": origin.get("submission") or path.stem, "models": []}
    with package_log(settings, key):
        logger.error("package %s rejected: %s", key, error)
        settings.store.add_submission(key, manifest, origin)
        settings.store.set_status(key, FAILED, f"package rejected: {error}")
        settings.store.request_delivery(key)


def score_pairs(package: CheckedPackage, settings: WorkerSettings) -> str:
    """Run every pair that has no finished result yet, storing each as it ends."""
    key = package.key
    try:
        folder = extract_package(package, settings.work_folder / key / "sandbox")
    except FatalError as error:
        # A file whose bytes differ from the manifest, or more bytes than the zip's header
        # declared, is only found while extracting.
        logger.error("package %s rejected: %s", key, error)
        settings.store.set_status(key, FAILED, f"package rejected: {error}")
        settings.store.request_delivery(key)
        raise PackageRejected(str(error), key) from None
    models = list(package.manifest["models"])
    if models:
        score_listed_models(folder, package.root, key, models, settings)
    else:
        score_unlisted_models(folder, package.root, key, settings)

    rows = settings.store.scores(key)
    status = FAILED if all(row.error for row in rows) else SCORED
    error = "every model failed on every benchmark" if status == FAILED else None
    settings.store.set_status(key, status, error)
    settings.store.request_delivery(key)
    return status


def score_listed_models(
    folder: Path, display: str, key: str, models: list[str], settings: WorkerSettings
) -> None:
    finished = settings.store.finished_pairs(key)
    pairs = [(model, benchmark) for model in models for benchmark in settings.benchmarks]
    logger.info(
        "package %s: %d of %d pairs already finished", key, len(finished & set(pairs)), len(pairs)
    )
    for model, benchmark in pairs:
        if (model, benchmark) in finished:
            continue
        settings.store.start_pair(key, model, benchmark)
        logger.info("scoring %s on %s", model, benchmark)
        result = run_pair(folder, display, model, benchmark, settings)
        settings.store.finish_pair(key, model, benchmark, result)
        log_result(model, benchmark, result)


def score_unlisted_models(folder: Path, display: str, key: str, settings: WorkerSettings) -> None:
    """Score every model the submission lists at run time, one runner call per benchmark.

    The manifest has no identifiers when get_model_list() is not a literal list, so the
    pairs are only known once the runner has imported the submission. A placeholder row
    under ALL_MODELS marks a benchmark in progress, so that a resumed worker reruns it.
    """
    logger.warning(
        "the manifest of %s lists no models; scoring every model the submission "
        "returns, one run per benchmark",
        key,
    )
    finished = {benchmark for _, benchmark in settings.store.finished_pairs(key)}
    for benchmark in settings.benchmarks:
        if benchmark in finished:
            continue
        started_at = utc_now()
        settings.store.start_pair(key, ALL_MODELS, benchmark, started_at)
        logger.info("scoring every model on %s", benchmark)
        report = run_runner(folder, display, None, benchmark, settings)
        entries = [] if isinstance(report, PairResult) else report.models
        for entry in entries:
            model = entry["identifier"]
            result = pair_result(report, model, benchmark)
            settings.store.start_pair(key, model, benchmark, started_at)
            settings.store.finish_pair(key, model, benchmark, result)
            log_result(model, benchmark, result)
        if entries:
            settings.store.delete_pair(key, ALL_MODELS, benchmark)
        else:
            failure = report if isinstance(report, PairResult) else no_models_result(report)
            settings.store.finish_pair(key, ALL_MODELS, benchmark, failure)
            log_result(ALL_MODELS, benchmark, failure)


def no_models_result(report: SubmissionReport) -> PairResult:
    messages = [f"{problem.code}: {problem.message}" for problem in report.errors]
    error = "; ".join(messages[:MAX_ERROR_PROBLEMS]) or "the submission returned no models"
    return PairResult(error=error)


def log_result(model: str, benchmark: str, result: PairResult) -> None:
    if result.error:
        logger.error("%s on %s failed: %s", model, benchmark, result.error)
    else:
        logger.info("%s on %s: ceiled score %s", model, benchmark, result.ceiled)


def run_pair(
    folder: Path, display: str, model: str, benchmark: str, settings: WorkerSettings
) -> PairResult:
    """Run one model on one benchmark in its own subprocess and return its result."""
    report = run_runner(folder, display, [model], benchmark, settings)
    if isinstance(report, PairResult):
        return report
    return pair_result(report, model, benchmark)


def run_runner(
    folder: Path,
    display: str,
    models: list[str] | None,
    benchmark: str,
    settings: WorkerSettings,
) -> SubmissionReport | PairResult:
    """Call the runner without credentials in the environment; a crash becomes an error."""
    runner = settings.runner or default_runner()
    protect_process()
    try:
        with without_secrets():
            report = runner(
                folder,
                display,
                timeout=settings.timeout,
                device=settings.device,
                models=models,
                benchmark=benchmark,
                cache_dir=settings.overlay_cache(folder),
            )
    except FatalError as error:
        return PairResult(error=str(error))
    except Exception as error:
        logger.error(
            "the runner crashed on %s / %s:\n%s",
            models or ALL_MODELS,
            benchmark,
            traceback.format_exc(),
        )
        return PairResult(error=f"the scoring run crashed: {type(error).__name__}: {error}")
    return report


def pair_result(report: SubmissionReport, model: str, benchmark: str) -> PairResult:
    """Read one model's result for `benchmark` out of a runner report."""
    entry = next((item for item in report.models if item.get("identifier") == model), None)
    if entry is None or not entry.get("ok", False):
        messages = [f"{problem.code}: {problem.message}" for problem in report.errors]
        error = (
            "; ".join(messages[:MAX_ERROR_PROBLEMS]) or f"the runner returned no result for {model}"
        )
        return PairResult(error=error, details=entry)
    if benchmark == MOCK_BENCHMARK:
        return regions_result(entry)
    return benchmark_result(entry, benchmark)


def regions_result(entry: dict[str, Any]) -> PairResult:
    """Average the per-region mock scores, the way Brain-Score averages its benchmarks."""
    regions = entry.get("regions") or {}
    values = {
        field: [regions[name].get(field) for name in REGIONS if name in regions]
        for field in ("raw", "ceiling", "ceiled")
    }
    means = {field: mean_of(items) for field, items in values.items()}
    details = {
        "regions": regions,
        "layers": entry.get("layers"),
        "seconds": entry.get("seconds"),
        "device": entry.get("device"),
    }
    if means["ceiled"] is None:
        return PairResult(error="the mock benchmark returned no region scores", details=details)
    return PairResult(
        raw=means["raw"], ceiling=means["ceiling"], ceiled=means["ceiled"], details=details
    )


def benchmark_result(entry: dict[str, Any], benchmark: str) -> PairResult:
    """Read a brainscore-vision benchmark's score, whose `score` is the ceiled value."""
    score = entry.get("benchmark")
    details = {
        "layers": entry.get("layers"),
        "seconds": entry.get("seconds"),
        "device": entry.get("device"),
    }
    if not isinstance(score, dict) or finite(score.get("score")) is None:
        return PairResult(error=f"the runner returned no score for {benchmark}", details=entry)
    return PairResult(
        raw=finite(score.get("raw")),
        ceiling=finite(score.get("ceiling")),
        ceiled=finite(score.get("score")),
        details=details,
    )


def mean_of(items: list[Any]) -> float | None:
    numbers = [value for value in (finite(item) for item in items) if value is not None]
    return statistics.fmean(numbers) if numbers else None


def finite(value: Any) -> float | None:
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None

"""The process that imports one submission and scores its models.

The runner starts it as `python -m tooling.mockscore.child` in an empty scratch folder.
It reports its phase as JSON lines to a status file, so that the runner can tell an
import that hangs from a model that is slow. It rewrites its results file after every
model, so that the models scored before a crash or a timeout keep their results.
Stdout belongs to the submission, whose prints land there.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import faulthandler
import importlib
import inspect
import json
import logging
import os
import resource
import sys
import time
import traceback
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tooling.mockscore.legacy import install_legacy_aliases
from tooling.problems import Problem

logger = logging.getLogger("tooling.mockscore.child")

MODULES = (("base", "models.base_models"), ("brain", "models.brain_models"))
# Messages quote the user's exception; a long one is cut to keep the report readable.
MAX_EXCEPTION_TEXT = 1500
# The traceback kept in a model entry is cut to this many lines and characters.
MAX_TRACEBACK_LINES = 40
MAX_TRACEBACK_CHARS = 4000
MAX_TRACEBACK_LINE_CHARS = 300


class StatusFile:
    """The JSON-lines file through which the runner follows the child's phase."""

    def __init__(self, path: Path) -> None:
        self.file = open(path, "a", encoding="utf-8")  # noqa: SIM115 (open for the process's life)

    def write(self, phase: str, **details: Any) -> None:
        self.file.write(json.dumps({"phase": phase, "time": time.time(), **details}) + "\n")
        self.file.flush()


class ResultsFile:
    """The problems and model entries found so far, rewritten whole after each change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[dict[str, Any]] = []
        self.models: list[dict[str, Any]] = []
        # The identifiers get_model_list returned, and the selected ones it did not return.
        self.listed: list[str] = []
        self.unknown: list[str] = []
        self.save()

    def add_problem(self, problem: Problem, model: str | None = None) -> None:
        self.problems.append(
            {
                "code": problem.code,
                "message": problem.message,
                "file": problem.file,
                "line": problem.line,
                "column": problem.column,
                "model": model,
            }
        )
        self.save()

    def add_model(self, entry: dict[str, Any]) -> None:
        self.models.append(entry)
        self.save()

    def save(self) -> None:
        partial = self.path.with_suffix(".partial")
        results = {
            "problems": self.problems,
            "models": self.models,
            "listed": self.listed,
            "unknown_models": self.unknown,
        }
        partial.write_text(json.dumps(results))
        os.replace(partial, self.path)


class Context:
    """The submission folder and the two output files, which every step of the child uses."""

    def __init__(self, folder: Path, status: StatusFile, results: ResultsFile) -> None:
        self.folder = folder
        self.status = status
        self.results = results
        # The traceback of the last crash, until the model entry takes it.
        self.traceback: list[str] = []

    def crash(self, code: str, call: str, error: BaseException, model: str | None = None) -> None:
        self.results.add_problem(exception_problem(code, call, error, self.folder), model)
        self.traceback = traceback_lines(error, self.folder)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tooling.mockscore.child")
    parser.add_argument("--folder", required=True, type=Path)
    parser.add_argument("--status", required=True, type=Path)
    parser.add_argument("--results", required=True, type=Path)
    parser.add_argument("--device", choices=("cpu", "cuda"), required=True)
    parser.add_argument("--model", action="append", dest="models")
    parser.add_argument("--benchmark", default="mock")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    faulthandler.enable()
    folder = args.folder.resolve()
    context = Context(folder, StatusFile(args.status), ResultsFile(args.results))

    context.status.write("starting")
    prepare_interpreter(folder)
    scorer = load_scorer(args.benchmark, context)
    modules = import_submission(context)
    plan = plan_models(modules, args.models, context)
    context.status.write("scoring", models=[identifier for _, _, identifier in plan])

    if scorer is not None:
        for index, (kind, module, identifier) in enumerate(plan):
            context.status.write("model", model=identifier, kind=kind, index=index)
            entry = run_model(kind, module, identifier, scorer, args.device, context)
            context.results.add_model(entry)
    context.status.write("done")
    return 0


def prepare_interpreter(folder: Path) -> None:
    """Make the submission importable as `models`, with the 2019 names aliased.

    Bytecode is not written, so that importing leaves the submission folder unchanged.
    """
    from tooling.legacy import LEGACY_MODULES

    sys.dont_write_bytecode = True
    install_legacy_aliases(LEGACY_MODULES)
    sys.path.insert(0, str(folder))


def load_scorer(benchmark: str, context: Context) -> Scorer | None:
    from tooling.mockscore import scorers

    try:
        return scorers.load(benchmark)
    except Exception as error:
        message = (
            f"the benchmark {benchmark!r} could not be loaded, so no model was scored: "
            f"{exception_text(error)}; this is a fault of the scoring environment, not of "
            f"the submission"
        )
        context.results.add_problem(Problem("benchmark-unavailable", message))
        return None


Scorer = Callable[..., dict[str, Any]]


def import_submission(context: Context) -> list[tuple[str, types.ModuleType]]:
    """Import base_models and brain_models, whichever exist; report the ones that fail."""
    modules = []
    present = [
        (kind, name)
        for kind, name in MODULES
        if (context.folder / (name.replace(".", "/") + ".py")).is_file()
    ]
    if not present:
        message = (
            "the models package has neither base_models.py nor brain_models.py, so there is "
            "nothing to score; add the module from the template"
        )
        context.results.add_problem(Problem("missing-model-module", message, "models"))
    for kind, name in present:
        context.status.write("importing", module=name)
        try:
            modules.append((kind, importlib.import_module(name)))
        except (Exception, SystemExit) as error:
            if is_out_of_memory(error):
                context.crash("out-of-memory", f"importing {name}", error)
            else:
                context.crash("import-failed", f"importing {name}", error)
            add_failed_module_entries(kind, name, context)
    return modules


def add_failed_module_entries(kind: str, name: str, context: Context) -> None:
    """Add a failed entry, with the traceback, for each model of a module that could not
    be imported or listed.

    The identifiers are read statically from the module's get_model_list; when they
    cannot be, the one entry is named after the module, such as "base_models".
    """
    from tooling.validation.identifiers import identifiers_in
    from tooling.validation.sources import SourceFile, parse_source

    relative = name.replace(".", "/") + ".py"
    source = parse_source(context.folder, relative)
    found = identifiers_in(source) if isinstance(source, SourceFile) else None
    identifiers = [item.identifier for item in found or []] or [name.rpartition(".")[2]]
    for identifier in identifiers:
        entry = {"identifier": identifier, "kind": kind, "ok": False}
        if context.traceback:
            entry["traceback"] = context.traceback
        context.results.add_model(entry)
    context.traceback = []


def plan_models(
    modules: list[tuple[str, types.ModuleType]],
    selected: Sequence[str] | None,
    context: Context,
) -> list[tuple[str, types.ModuleType, str]]:
    """Return (kind, module, identifier) for every listed model, or the selected ones.

    An empty list is reported. When every module listed its models, the selected
    identifiers that none lists go to the results as unknown, for the runner to report.
    """
    plan = []
    complete = True
    for kind, module in modules:
        call = f"{module_label(module)}.get_model_list()"
        try:
            identifiers = [str(identifier) for identifier in module.get_model_list()]
        except (Exception, SystemExit) as error:
            context.crash("model-crashed", call, error)
            add_failed_module_entries(kind, module.__name__, context)
            complete = False
            continue
        if not identifiers:
            report_empty_list(call, module, context)
        context.results.listed.extend(identifiers)
        for identifier in identifiers:
            if selected is None or identifier in selected:
                plan.append((kind, module, identifier))
    if selected is not None and complete and len(modules) == len(present_modules(context)):
        context.results.unknown = [
            identifier for identifier in selected if identifier not in context.results.listed
        ]
    context.results.save()
    return plan


def present_modules(context: Context) -> list[str]:
    return [
        name for _, name in MODULES if (context.folder / (name.replace(".", "/") + ".py")).is_file()
    ]


def report_empty_list(call: str, module: types.ModuleType, context: Context) -> None:
    message = (
        f"{call} returned no identifiers, so none of its models was scored; return a list "
        f'with the identifier of each model, such as ["my-model"]'
    )
    file, line = definition_of(module.get_model_list, context.folder)
    context.results.add_problem(Problem("no-models", message, file, line))


def run_model(
    kind: str,
    module: types.ModuleType,
    identifier: str,
    scorer: Scorer,
    device: str,
    context: Context,
) -> dict[str, Any]:
    """Load and score one model; return its entry, with its problems in the results."""
    from tooling.mockscore import scorers

    entry: dict[str, Any] = {"identifier": identifier, "kind": kind, "ok": True}
    errors_before = count_errors(context.results)
    started = time.perf_counter()
    reset_peak_memory(device)
    try:
        loaded = load_model(kind, module, identifier, context)
        if loaded is not None:
            entry.update(scorer(kind, identifier, *loaded, status=context.status))
    except scorers.ModelProblems as error:
        for problem in error.problems:
            context.results.add_problem(locate_layer_problem(problem, kind, context), identifier)
        entry.update(getattr(error, "partial", None) or {})
    except (Exception, SystemExit) as error:
        code = "out-of-memory" if is_out_of_memory(error) else "model-crashed"
        context.crash(code, f"scoring model {identifier!r}", error, identifier)
    if context.traceback:
        entry["traceback"] = context.traceback
        context.traceback = []

    entry["seconds"] = round(time.perf_counter() - started, 3)
    entry["peak_memory_mib"] = peak_memory_mib()
    entry["device"] = device
    if device == "cuda":
        entry["peak_gpu_memory_mib"] = peak_gpu_memory_mib()
    entry["ok"] = count_errors(context.results) == errors_before
    return entry


def load_model(
    kind: str, module: types.ModuleType, identifier: str, context: Context
) -> tuple[Any, list[str]] | None:
    """Call get_model (and get_layers for a base model) and check what they return.

    Returns None after reporting the problem when the model cannot be scored.
    """
    call = f"{module_label(module)}.get_model({identifier!r})"
    try:
        model = module.get_model(identifier)
    except (Exception, SystemExit) as error:
        code = "out-of-memory" if is_out_of_memory(error) else "model-crashed"
        context.crash(code, call, error, identifier)
        return None
    if kind == "brain":
        if not check_brain_model(model, call, module, identifier, context):
            return None
        return model, []

    call = f"{module_label(module)}.get_layers({identifier!r})"
    try:
        layers = list(module.get_layers(identifier))
    except (Exception, SystemExit) as error:
        context.crash("model-crashed", call, error, identifier)
        return None
    check_identifier(model, call.replace("get_layers", "get_model"), module, identifier, context)
    return model, layers


def check_brain_model(
    model: Any, call: str, module: types.ModuleType, identifier: str, context: Context
) -> bool:
    from brainscore_vision.model_interface import BrainModel

    if isinstance(model, BrainModel):
        check_identifier(model, call, module, identifier, context)
        return True
    message = (
        f"{call} returns a {type(model).__name__}, which is not a "
        f"brainscore_vision.model_interface.BrainModel; return a BrainModel (for example "
        f"a ModelCommitment around the wrapper), or move the model to base_models.py"
    )
    file, line = definition_of(module.get_model, context.folder)
    context.results.add_problem(Problem("wrong-model-type", message, file, line), identifier)
    return False


def check_identifier(
    model: Any, call: str, module: types.ModuleType, identifier: str, context: Context
) -> None:
    """Report a model object that names itself differently from its listing."""
    try:
        own = model.identifier
    except Exception:
        return  # a model without an identifier property is not comparable
    if not isinstance(own, str) or own == identifier:
        return
    message = (
        f"{call} returns a model whose identifier is {own!r}, not {identifier!r}; "
        f"pass the listed name as the identifier, for example "
        f"PytorchWrapper(identifier=name, ...)"
    )
    file, line = definition_of(module.get_model, context.folder)
    context.results.add_problem(Problem("identifier-mismatch", message, file, line), identifier)


def locate_layer_problem(problem: Problem, kind: str, context: Context) -> Problem:
    """Give a base model's problem in base_models.py without a line the line of get_layers,
    which names the layers the benchmark checks."""
    relative = "models/base_models.py"
    if kind != "base" or problem.file != relative or problem.line is not None:
        return problem
    line = function_line(context.folder / relative, "get_layers")
    return dataclasses.replace(problem, line=line) if line is not None else problem


def function_line(path: Path, name: str) -> int | None:
    """Return the line of the module-level `def name` in the file at `path`, read with ast."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return node.lineno
    return None


def count_errors(results: ResultsFile) -> int:
    return sum(1 for problem in results.problems if Problem(problem["code"], "").is_error)


def module_label(module: types.ModuleType) -> str:
    return module.__name__.rpartition(".")[2]


def definition_of(function: Any, folder: Path) -> tuple[str | None, int | None]:
    """Return the file (relative to the submission) and line where `function` is defined."""
    try:
        path = Path(inspect.getsourcefile(function) or "")
        line = inspect.getsourcelines(function)[1]
    except (OSError, TypeError):
        return None, None
    relative = relative_to_folder(path, folder)
    return (relative, line) if relative is not None else (None, None)


def relative_to_folder(path: Path, folder: Path) -> str | None:
    try:
        return path.resolve().relative_to(folder).as_posix()
    except (OSError, ValueError):
        return None


def exception_problem(code: str, call: str, error: BaseException, folder: Path) -> Problem:
    """Build a problem that points at the submission's own frame of the traceback.

    The deepest frame in a file of the submission is the place to fix, even when the
    exception is raised deeper, inside torch or brainscore_vision. Without such a frame
    the message names the deepest frame instead.
    """
    file, line = user_frame(error, folder)
    message = f"{call} raised {exception_text(error)}"
    if file is None:
        library_frame = deepest_frame(error)
        if library_frame is not None:
            message += f" (in {library_frame.filename}:{library_frame.lineno})"
    return Problem(code, message, file, line)


def traceback_lines(error: BaseException, folder: Path) -> list[str]:
    """Return the traceback of `error` from the submission's first frame on, as lines.

    The submission's files are named relative to its folder. Without a frame of the
    submission, every frame is kept. Long tracebacks keep their start and end.
    """
    frames = traceback.extract_tb(error.__traceback__)
    start = next(
        (
            index
            for index, frame in enumerate(frames)
            if relative_to_folder(Path(frame.filename), folder)
        ),
        0,
    )
    kept = traceback.StackSummary.from_list(
        [relative_frame(frame, folder) for frame in frames[start:]]
    )
    lines = ["Traceback (most recent call last):"] if kept else []
    for block in [*kept.format(), *traceback.format_exception_only(type(error), error)]:
        lines.extend(block.rstrip("\n").splitlines())
    return cap_lines(lines)


def relative_frame(frame: traceback.FrameSummary, folder: Path) -> traceback.FrameSummary:
    relative = relative_to_folder(Path(frame.filename), folder)
    if relative is None:
        return frame
    return traceback.FrameSummary(relative, frame.lineno, frame.name, line=frame.line)


def cap_lines(lines: list[str]) -> list[str]:
    """Cut long lines, then drop lines from the middle until the limits hold."""
    lines = [
        line
        if len(line) <= MAX_TRACEBACK_LINE_CHARS
        else line[:MAX_TRACEBACK_LINE_CHARS] + " [...]"
        for line in lines
    ]
    if len(lines) <= MAX_TRACEBACK_LINES and sum(map(len, lines)) <= MAX_TRACEBACK_CHARS:
        return lines
    dropped = 0
    marker_room = 40
    while (
        len(lines) >= MAX_TRACEBACK_LINES
        or sum(map(len, lines)) > MAX_TRACEBACK_CHARS - marker_room
    ):
        del lines[len(lines) // 2]
        dropped += 1
    lines.insert(len(lines) // 2, f"[... {dropped} lines left out ...]")
    return lines


def exception_text(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    if len(text) > MAX_EXCEPTION_TEXT:
        text = text[:MAX_EXCEPTION_TEXT] + " [...]"
    return text


def user_frame(error: BaseException, folder: Path) -> tuple[str | None, int | None]:
    if isinstance(error, SyntaxError) and error.filename:
        relative = relative_to_folder(Path(error.filename), folder)
        if relative is not None:
            return relative, error.lineno
    for link in exception_chain(error):
        for frame in reversed(traceback.extract_tb(link.__traceback__)):
            relative = relative_to_folder(Path(frame.filename), folder)
            if relative is not None:
                return relative, frame.lineno
    return None, None


def deepest_frame(error: BaseException) -> traceback.FrameSummary | None:
    frames = traceback.extract_tb(error.__traceback__)
    return frames[-1] if frames else None


def exception_chain(error: BaseException) -> list[BaseException]:
    """Return the exception and the ones it was raised from or during, outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def is_out_of_memory(error: BaseException) -> bool:
    """Tell whether `error` reports exhausted CPU or GPU memory."""
    if isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError":
        return True
    text = str(error).lower()
    return isinstance(error, RuntimeError) and (
        "out of memory" in text or "can't allocate memory" in text
    )


def reset_peak_memory(device: str) -> None:
    """Reset the process's peak resident memory, so that each model gets its own peak.

    Linux resets the peak (VmHWM) when 5 is written to /proc/self/clear_refs. Where that
    is not allowed, the peak stays the process's peak so far, which includes the models
    scored before.
    """
    try:
        with open("/proc/self/clear_refs", "w") as file:
            file.write("5")
    except OSError:
        pass
    if device == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats()


def peak_memory_mib() -> float:
    try:
        with open("/proc/self/status") as file:
            for line in file:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    divisor = 1024 * 1024 if sys.platform == "darwin" else 1024
    return round(maxrss / divisor, 1)


def peak_gpu_memory_mib() -> float:
    import torch

    return round(torch.cuda.max_memory_allocated() / 2**20, 1)


if __name__ == "__main__":
    sys.exit(main())

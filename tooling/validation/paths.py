"""File paths that will not exist where scoring runs: relative to the working directory, or
absolute paths on the author's machine."""

from __future__ import annotations

import ast
import re

from tooling.problems import Problem
from tooling.validation.sources import SourceFile, qualified_name

# Extensions of weights and data files that models load.
DATA_EXTENSIONS = (
    ".pt",
    ".pth",
    ".pth.tar",
    ".tar",
    ".ckpt",
    ".bin",
    ".safetensors",
    ".onnx",
    ".h5",
    ".hdf5",
    ".pkl",
    ".pickle",
    ".npy",
    ".npz",
    ".mat",
    ".json",
    ".yaml",
    ".yml",
    ".csv",
    ".txt",
    ".zip",
    ".nc",
)
# Calls whose first argument is the start of a path; a relative one starts at the working
# directory whatever follows.
PATH_BUILDERS = frozenset(
    {"os.path.join", "os.path.abspath", "os.path.realpath", "pathlib.Path", "pathlib.PurePath"}
)
CWD_FUNCTIONS = frozenset({"os.getcwd", "os.getcwdb", "pathlib.Path.cwd"})
# Calls that take text, not a path, so a file name in them is only mentioned.
TEXT_FUNCTIONS = frozenset({"print", "str", "repr", "format", "isinstance"})
TEXT_METHODS = frozenset(
    {
        "startswith",
        "endswith",
        "format",
        "replace",
        "split",
        "get",
        "debug",
        "info",
        "warning",
        "error",
        "exception",
        "critical",
        "write",
        "append",
        "add",
    }
)
PATH_KEYWORDS = frozenset({"f", "file", "filename", "fname", "path", "file_path", "filepath"})
_AUTHOR_MACHINE = re.compile(
    r"^(/(home|Users|mnt|media|scratch|data|gpfs|om|om2|net|nfs|Volumes|storage|lustre"
    r"|braintree)/|~/|[A-Za-z]:[\\/])"
)


def check_paths(source: SourceFile) -> list[Problem]:
    problems = []
    docstrings = docstring_nodes(source.tree)
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Call):
            problem = check_call(node, source)
            if problem is not None:
                problems.append(problem)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and _AUTHOR_MACHINE.match(node.value)
        ):
            problems.append(
                Problem(
                    "absolute-path",
                    f"{node.value!r} points at a place on the author's machine; ship the "
                    f"file inside the submission folder and build its path from __file__",
                    file=source.relative,
                    line=node.lineno,
                )
            )
    return sorted(problems, key=lambda problem: problem.line or 0)


def docstring_nodes(tree: ast.Module) -> set[int]:
    """Return the ids of string constants that stand alone as statements (docstrings)."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }


def check_call(call: ast.Call, source: SourceFile) -> Problem | None:
    name = qualified_name(call.func, source.aliases)
    if name in CWD_FUNCTIONS:
        return cwd_problem(source, call.lineno, f"'{name}()' returns the working directory")
    if is_text_call(call, name):
        return None
    text = path_argument(call)
    if text is None or not is_relative_path(text, name in PATH_BUILDERS):
        return None
    return cwd_problem(source, call.lineno, f"{text!r} is relative to the working directory")


def is_text_call(call: ast.Call, name: str | None) -> bool:
    if name in TEXT_FUNCTIONS:
        return True
    return isinstance(call.func, ast.Attribute) and call.func.attr in TEXT_METHODS


def path_argument(call: ast.Call) -> str | None:
    """Return the text of the call's first argument, or of a path keyword, when literal."""
    candidates = call.args[:1] + [k.value for k in call.keywords if k.arg in PATH_KEYWORDS]
    for candidate in candidates:
        text = literal_text(candidate)
        if text is not None:
            return text
    return None


def literal_text(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value + "{}"
    return None


def is_relative_path(text: str, builds_path: bool) -> bool:
    if not text or any(character.isspace() for character in text) or "://" in text:
        return False
    if text.startswith(("/", "~", "\\")) or re.match(r"[A-Za-z]:", text):
        return False
    if builds_path or text.startswith(("./", "../")):
        return True
    return text.lower().endswith(DATA_EXTENSIONS)


def cwd_problem(source: SourceFile, line: int, description: str) -> Problem:
    return Problem(
        "cwd-relative-path",
        f"{description}, which scoring sets to an empty folder; build the path from the "
        f"module's location: os.path.join(os.path.dirname(__file__), ...)",
        file=source.relative,
        line=line,
    )

"""The functions the 2019 template requires of `base_models.py` and `brain_models.py`."""

from __future__ import annotations

import ast
import re

from tooling.problems import Problem
from tooling.validation.sources import SourceFile, module_function, returned_values

# Module -> function -> the parameters the template gives it.
REQUIRED_FUNCTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "models/base_models.py": {
        "get_model_list": (),
        "get_model": ("name",),
        "get_layers": ("name",),
        "get_bibtex": ("model_identifier",),
    },
    "models/brain_models.py": {
        "get_model_list": (),
        "get_model": ("name",),
        "get_bibtex": ("model_identifier",),
    },
}

_BIBTEX_ENTRY = re.compile(r"@\s*[A-Za-z]+\s*[{(]")
_PLACEHOLDER_WORDS = re.compile(
    r"\b(todo|tbd|fixme|placeholder|xxx+|lorem ipsum|your (paper|bibtex|reference))\b",
    re.IGNORECASE,
)


def check_functions(source: SourceFile) -> list[Problem]:
    """Check that each required function is defined at module level and can be called with
    the template's arguments."""
    problems = []
    for name, parameters in REQUIRED_FUNCTIONS[source.relative].items():
        function = module_function(source.tree, name)
        if function is None:
            if not binds_name(source.tree, name):
                problems.append(missing_function(source.relative, name, parameters))
        elif not accepts(function.args, len(parameters)):
            problems.append(wrong_parameters(source.relative, function, parameters))
    return problems


def binds_name(tree: ast.Module, name: str) -> bool:
    """Tell whether module-level code binds `name` other than by `def`, for example by an
    import or an assignment; such a function cannot be checked statically."""
    for statement in tree.body:
        if isinstance(statement, ast.Import | ast.ImportFrom):
            bound = [alias.asname or alias.name.split(".")[0] for alias in statement.names]
            if name in bound:
                return True
        elif isinstance(statement, ast.Assign):
            targets = [t.id for t in statement.targets if isinstance(t, ast.Name)]
            if name in targets:
                return True
    return False


def accepts(arguments: ast.arguments, count: int) -> bool:
    """Tell whether a function with these parameters can be called with `count` positional
    arguments."""
    positional = len(arguments.posonlyargs) + len(arguments.args)
    required = positional - len(arguments.defaults)
    required_keyword_only = sum(default is None for default in arguments.kw_defaults)
    if required > count or required_keyword_only:
        return False
    return count <= positional or arguments.vararg is not None


def signature(name: str, parameters: tuple[str, ...]) -> str:
    return f"{name}({', '.join(parameters)})"


def missing_function(relative: str, name: str, parameters: tuple[str, ...]) -> Problem:
    return Problem(
        "missing-function",
        f"{relative} defines no {name}; define {signature(name, parameters)} at module level",
        file=relative,
    )


def wrong_parameters(
    relative: str, function: ast.FunctionDef, parameters: tuple[str, ...]
) -> Problem:
    count = len(parameters)
    noun = "argument" if count == 1 else "arguments"
    return Problem(
        "missing-function",
        f"{function.name} cannot be called with {count} {noun}, as scoring calls it; define "
        f"it as {signature(function.name, parameters)}",
        file=relative,
        line=function.lineno,
    )


def check_bibtex(source: SourceFile) -> list[Problem]:
    """Warn when `get_bibtex` returns an empty or placeholder literal string.

    A return value built by code (for example a lookup by model) is not checked.
    """
    function = module_function(source.tree, "get_bibtex")
    if function is None:
        return []
    problems = []
    for node in sorted(returned_values(function), key=lambda item: item.lineno):
        text = literal_text(node.value, source)
        if text is not None and is_placeholder(text):
            problems.append(
                Problem(
                    "placeholder-bibtex",
                    f"get_bibtex returns {shorten(text)!r}, {placeholder_reason(text)}; "
                    f"return the BibTeX entry of the paper that describes the model",
                    file=source.relative,
                    line=node.lineno,
                )
            )
    return problems


def literal_text(node: ast.expr | None, source: SourceFile) -> str | None:
    if node is None:
        return ""
    if isinstance(node, ast.Name) and node.id in source.assignments:
        node = source.assignments[node.id]
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, str)):
        return node.value or ""
    return None


def placeholder_reason(text: str) -> str:
    if not _BIBTEX_ENTRY.search(text):
        return "which is not a BibTeX entry (one starts like '@article{key,')"
    return "which is a placeholder entry"


def is_placeholder(text: str) -> bool:
    return not _BIBTEX_ENTRY.search(text) or bool(_PLACEHOLDER_WORDS.search(text))


def shorten(text: str, limit: int = 40) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 3] + "..."

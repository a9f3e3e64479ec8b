"""Model identifiers, read statically from the literal that `get_model_list` returns."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Literal

from tooling.problems import Problem
from tooling.validation.sources import (
    SourceFile,
    module_function,
    parse_source,
    returned_values,
    string_constants,
)

MAX_MODELS = 3
MODEL_MODULES: dict[str, Literal["base", "brain"]] = {
    "models/base_models.py": "base",
    "models/brain_models.py": "brain",
}
_VALID_IDENTIFIER = re.compile(r"[A-Za-z0-9._-]+")


@dataclasses.dataclass(frozen=True)
class ModelIdentifier:
    """An identifier as `get_model_list` lists it, and where."""

    identifier: str
    kind: Literal["base", "brain"]
    file: str
    line: int


def read_identifiers(folder: Path, *, partial: bool = False) -> list[ModelIdentifier] | None:
    """Read the identifiers the submission's `get_model_list` functions return, base models
    first, without running its code.

    Returns None when they are not statically known: a model module cannot be read or does
    not parse, or its `get_model_list` is missing or returns no literal. With `partial`,
    such a module is skipped instead, and the identifiers of the others are returned.
    """
    identifiers: list[ModelIdentifier] = []
    for relative in MODEL_MODULES:
        if not (folder / relative).is_file():
            continue
        found = read_module_identifiers(folder, relative)
        if found is None and not partial:
            return None
        identifiers += found or []
    return identifiers


def read_module_identifiers(folder: Path, relative: str) -> list[ModelIdentifier] | None:
    try:
        source = parse_source(folder, relative)
    except OSError:
        return None
    return identifiers_in(source) if isinstance(source, SourceFile) else None


def read_model_identifiers(folder: Path) -> list[str]:
    """Return the identifiers that `read_identifiers` finds with `partial`, as text: the
    models a package's manifest lists."""
    return [item.identifier for item in read_identifiers(folder, partial=True) or []]


def identifiers_in(source: SourceFile) -> list[ModelIdentifier] | None:
    """Return the identifiers `get_model_list` returns in one model module, or None when the
    function is missing or its return value is not a literal."""
    function = module_function(source.tree, "get_model_list")
    if function is None:
        return None
    returns = [node for node in returned_values(function) if node.value is not None]
    if len(returns) != 1:
        return None
    constants = string_constants(returns[0].value, source.assignments)
    if constants is None:
        return None
    kind = MODEL_MODULES[source.relative]
    return [ModelIdentifier(item.value, kind, source.relative, item.lineno) for item in constants]


def check_model_list(source: SourceFile) -> list[Problem]:
    """Report a `get_model_list` whose literal return value is empty."""
    if identifiers_in(source) != []:
        return []
    function = module_function(source.tree, "get_model_list")
    line = function.lineno if function is not None else None
    return [
        Problem(
            "no-models",
            f"get_model_list in {source.relative} returns an empty list, so none of its "
            f'models would be scored; return the identifier of each model, such as ["my-model"]',
            file=source.relative,
            line=line,
        )
    ]


def check_identifiers(identifiers: list[ModelIdentifier]) -> list[Problem]:
    """Check the number of models, the characters of each identifier and repeats."""
    problems = [problem for problem in map(check_characters, identifiers) if problem is not None]
    if len(identifiers) > MAX_MODELS:
        extra = identifiers[MAX_MODELS]
        problems.append(
            Problem(
                "too-many-models",
                f"the submission lists {len(identifiers)} models "
                f"({', '.join(repr(item.identifier) for item in identifiers)}) but at most "
                f"{MAX_MODELS} are scored; split it into several submissions",
                file=extra.file,
                line=extra.line,
            )
        )
    seen: dict[str, ModelIdentifier] = {}
    for item in identifiers:
        first = seen.setdefault(identifier_key(item.identifier), item)
        if first is not item:
            problems.append(repeat_problem(item, first))
    return problems


def identifier_key(identifier: str) -> str:
    """Return what two identifiers share when they collide: identifiers that differ only in
    case name the same file on case-insensitive file systems and the same cache entry."""
    return identifier.casefold()


def repeat_problem(item: ModelIdentifier, first: ModelIdentifier) -> Problem:
    if item.identifier == first.identifier:
        message = (
            f"'{item.identifier}' is listed twice in this submission (also at "
            f"{first.file}:{first.line}); give each model its own identifier"
        )
    else:
        message = (
            f"'{item.identifier}' and '{first.identifier}' (at {first.file}:{first.line}) "
            f"differ only in case, so they collide on case-insensitive file systems and in "
            f"caches; give each model an identifier that differs in more than case"
        )
    return Problem("duplicate-identifier", message, file=item.file, line=item.line)


def check_characters(item: ModelIdentifier) -> Problem | None:
    if _VALID_IDENTIFIER.fullmatch(item.identifier):
        return None
    return Problem(
        "invalid-identifier",
        f"model identifier {item.identifier!r} is empty or has characters other than letters, "
        f"digits, '.', '-' and '_'; rename the model using only those characters",
        file=item.file,
        line=item.line,
    )

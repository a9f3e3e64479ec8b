"""Imports of the submission's code: undeclared dependencies and 2019 module names."""

from __future__ import annotations

import ast
import dataclasses
import sys

from tooling.legacy import is_legacy_module, modern_module
from tooling.problems import Problem
from tooling.validation.distributions import (
    PROVIDED_DISTRIBUTIONS,
    candidate_distributions,
    mapped_import,
    normalize,
)
from tooling.validation.requirements import Requirements
from tooling.validation.sources import SourceFile

_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


@dataclasses.dataclass(frozen=True)
class ImportedModule:
    """An absolute import; `optional` when it sits in a `try` that catches ImportError."""

    module: str
    line: int
    optional: bool


def imported_modules(tree: ast.Module) -> list[ImportedModule]:
    """Return the absolute imports of a file, at module level and inside functions."""
    found: list[ImportedModule] = []
    collect(tree, False, found)
    return found


def collect(node: ast.AST, optional: bool, found: list[ImportedModule]) -> None:
    if isinstance(node, ast.Import):
        found.extend(ImportedModule(alias.name, node.lineno, optional) for alias in node.names)
        return
    if isinstance(node, ast.ImportFrom):
        if node.level == 0 and node.module:
            found.append(ImportedModule(node.module, node.lineno, optional))
        return
    if isinstance(node, ast.Try | ast.TryStar) and catches_import_error(node):
        for statement in node.body:
            collect(statement, True, found)
        for child in [*node.handlers, *node.orelse, *node.finalbody]:
            collect(child, optional, found)
        return
    for child in ast.iter_child_nodes(node):
        collect(child, optional, found)


def catches_import_error(node: ast.Try | ast.TryStar) -> bool:
    for handler in node.handlers:
        if handler.type is None:
            return True
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if any(isinstance(item, ast.Name) and item.id in _IMPORT_ERRORS for item in types):
            return True
    return False


def check_imports(
    source: SourceFile,
    own_modules: set[str],
    declared: set[str] | None,
    requirements: Requirements,
) -> list[Problem]:
    """Report 2019 module names, and imports that no declared or provided distribution
    covers. `declared` contains normalized distribution names, or None when unknown."""
    problems: list[Problem] = []
    reported: set[str] = set()
    for item in imported_modules(source.tree):
        top = item.module.split(".", 1)[0]
        if is_legacy_module(item.module):
            problems.append(legacy_problem(source.relative, item))
        elif (
            declared is None
            or item.optional
            or top in reported
            or is_covered(item.module, own_modules, declared)
        ):
            continue
        else:
            reported.add(top)
            problems.append(undeclared_problem(source.relative, item, requirements))
    return problems


def is_covered(module: str, own_modules: set[str], declared: set[str]) -> bool:
    top = module.split(".", 1)[0]
    if top in sys.stdlib_module_names or top in own_modules or top == "__future__":
        return True
    candidates = {normalize(name) for name in candidate_distributions(module)}
    candidates.add(normalize(top))
    return bool(candidates & (declared | PROVIDED_DISTRIBUTIONS))


def legacy_problem(relative: str, item: ImportedModule) -> Problem:
    modern = modern_module(item.module)
    if modern is None:
        message = (
            f"'{item.module}' is a 2019 module that brainscore_vision 2.4.2 has no "
            f"counterpart for, so importing it fails in scoring; use a part that "
            f"brainscore_vision provides, such as "
            f"brainscore_vision.model_helpers.activations.pytorch"
        )
    else:
        message = f"'{item.module}' is the 2019 name of '{modern}'; import from '{modern}' instead"
    return Problem("legacy-import", message, file=relative, line=item.line)


def undeclared_problem(relative: str, item: ImportedModule, requirements: Requirements) -> Problem:
    name = mapped_import(item.module)
    distribution = candidate_distributions(name)[0]
    if normalize(distribution) == normalize(name):
        fix = f"add it to {requirements.where}"
    else:
        fix = f"add its distribution '{distribution}' to {requirements.where}"
    return Problem(
        "undeclared-dependency",
        f"'{name}' is imported but not declared; {fix}",
        file=relative,
        line=item.line,
    )

"""Parsing the submission's Python files with `ast`, and reading names and literals from them.

Nothing here imports or runs submission code.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator
from pathlib import Path

from tooling.problems import Problem


@dataclasses.dataclass
class SourceFile:
    """One parsed Python file; `relative` is its path in the submission folder, with `/`."""

    relative: str
    tree: ast.Module
    aliases: dict[str, str]
    assignments: dict[str, ast.expr]


def parse_source(folder: Path, relative: str) -> SourceFile | Problem:
    """Parse one file, returning a `syntax-error` problem when it does not parse."""
    data = (folder / relative).read_bytes()
    try:
        tree = ast.parse(data, filename=relative)
    except SyntaxError as error:
        return syntax_problem(relative, error)
    except ValueError as error:
        # ast.parse raises ValueError for null bytes in the source.
        return Problem(
            "syntax-error",
            f"{relative} cannot be parsed ({error}); save it as UTF-8 text",
            file=relative,
        )
    return SourceFile(relative, tree, import_aliases(tree), module_assignments(tree))


def syntax_problem(relative: str, error: SyntaxError) -> Problem:
    line = error.lineno if error.lineno and error.lineno > 0 else None
    column = error.offset if line is not None and error.offset and error.offset > 0 else None
    return Problem(
        "syntax-error",
        f"{error.msg}; correct the syntax in {relative} at the line and column given",
        file=relative,
        line=line,
        column=column,
    )


def import_aliases(tree: ast.Module) -> dict[str, str]:
    """Map each name that an import binds anywhere in the file to the dotted name it stands for."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".", 1)[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def module_assignments(tree: ast.Module) -> dict[str, ast.expr]:
    """Map each name assigned at module level with `NAME = value` to its last value."""
    assignments: dict[str, ast.expr] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    assignments[target.id] = statement.value
        elif (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and statement.value is not None
        ):
            assignments[statement.target.id] = statement.value
    return assignments


def dotted_name(node: ast.expr) -> str | None:
    """Return `a.b.c` for a chain of attribute accesses on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def qualified_name(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """Return the dotted name of an expression with its first part resolved through imports.

    `tvm.resnet18` after `import torchvision.models as tvm` gives
    `torchvision.models.resnet18`.
    """
    name = dotted_name(node)
    if name is None:
        return None
    first, _, rest = name.partition(".")
    resolved = aliases.get(first, first)
    return f"{resolved}.{rest}" if rest else resolved


def string_constants(
    node: ast.expr, assignments: dict[str, ast.expr], depth: int = 0
) -> list[ast.Constant] | None:
    """Return the string constants of a literal list, tuple, set or dict (its keys), or None.

    Names assigned at module level are followed, as are `list(x)`, `x.keys()`, `sorted(x)`
    and `a + b`, because templates often build the list that way. Anything else is not
    literal and gives None.
    """
    if depth > 10:
        return None
    follow = lambda child: string_constants(child, assignments, depth + 1)  # noqa: E731
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return constant_elements(node.elts)
    if isinstance(node, ast.Dict):
        return None if None in node.keys else constant_elements(node.keys)
    if isinstance(node, ast.Name) and node.id in assignments:
        return follow(assignments[node.id])
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = follow(node.left), follow(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.Call) and not node.keywords:
        if isinstance(node.func, ast.Name) and node.func.id in ("list", "tuple", "sorted"):
            return follow(node.args[0]) if len(node.args) == 1 else None
        if isinstance(node.func, ast.Attribute) and node.func.attr == "keys" and not node.args:
            return follow(node.func.value)
    return None


def constant_elements(elements: list[ast.expr | None]) -> list[ast.Constant] | None:
    if all(isinstance(item, ast.Constant) and isinstance(item.value, str) for item in elements):
        return list(elements)  # type: ignore[arg-type]
    return None


def module_function(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    """Return the last module-level definition of function `name`, or None."""
    found = None
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef) and (
            statement.name == name
        ):
            found = statement
    return found


def returned_values(function: ast.FunctionDef) -> Iterator[ast.Return]:
    """Yield the `return` statements of `function`, not those of functions nested in it."""
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            yield node
        elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))

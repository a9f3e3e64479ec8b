"""The requirements a submission declares, read statically from setup.py or pyproject.toml."""

from __future__ import annotations

import ast
import dataclasses
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from tooling.legacy import LEGACY_DISTRIBUTIONS
from tooling.problems import Problem
from tooling.validation.distributions import is_provided_distribution, normalize
from tooling.validation.sources import SourceFile, parse_source, qualified_name, string_constants

SETUP_PY = "setup.py"
PYPROJECT_TOML = "pyproject.toml"

# A requirement on the 2019 packages from GitHub, which 2019 setup.py files list.
_LEGACY_URL = re.compile(r"github\.com/brain-score/(model-tools|brain-score)\b", re.IGNORECASE)
# `name=1.2` or `name = 1.2`, a common slip for `name==1.2`.
_SINGLE_EQUALS = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*=\s*([0-9][^=\s;]*)\s*$")
_STDLIB_NAMES = frozenset(name.lower() for name in sys.stdlib_module_names)


@dataclasses.dataclass(frozen=True)
class DeclaredRequirement:
    text: str
    line: int | None


@dataclasses.dataclass
class Requirements:
    """The requirements of a submission and where they are declared.

    `declared` is None when the file computes them with code that cannot be read
    statically. `field` names the place in `file` that the messages point submitters to.
    """

    file: str | None
    field: str
    declared: list[DeclaredRequirement] | None
    problems: list[Problem] = dataclasses.field(default_factory=list)

    @property
    def where(self) -> str:
        if self.file is None:
            return "install_requires in setup.py"
        return f"{self.field} in {self.file}"


def read_requirements(folder: Path) -> list[str]:
    """Return the requirement strings a submission declares, as written; [] when there are
    none or they cannot be read without running code."""
    requirements = load_requirements(folder)
    return [item.text for item in requirements.declared or []]


def load_requirements(folder: Path, setup_source: SourceFile | None = None) -> Requirements:
    """Read the requirements from pyproject.toml when it has a [project] table, else from
    setup.py. `setup_source` is setup.py already parsed, to avoid parsing it twice."""
    pyproject = folder / PYPROJECT_TOML
    setup_py = folder / SETUP_PY
    if pyproject.is_file():
        requirements = from_pyproject(pyproject.read_text(encoding="utf-8", errors="replace"))
        if requirements is not None or not setup_py.is_file():
            return requirements or no_project_table()
    if not setup_py.is_file():
        return Requirements(None, "install_requires", [])
    if setup_source is None:
        parsed = parse_source(folder, SETUP_PY)
        if isinstance(parsed, Problem):
            # The syntax error is reported with the other Python files.
            return Requirements(SETUP_PY, "install_requires", None)
        setup_source = parsed
    return from_setup_py(setup_source)


def no_project_table() -> Requirements:
    problem = Problem(
        "missing-requirements",
        "pyproject.toml has no [project] table, so its dependencies cannot be read; list them "
        "as strings in project.dependencies",
        file=PYPROJECT_TOML,
    )
    return Requirements(PYPROJECT_TOML, "project.dependencies", None, [problem])


def from_pyproject(text: str) -> Requirements | None:
    """Read project.dependencies; None when there is no [project] table."""
    field = "project.dependencies"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"line (\d+)", str(error))
        problem = Problem(
            "missing-requirements",
            f"pyproject.toml is not valid TOML ({error}); correct it so that "
            f"{field} can be read",
            file=PYPROJECT_TOML,
            line=int(match.group(1)) if match else None,
        )
        return Requirements(PYPROJECT_TOML, field, None, [problem])
    project = data.get("project")
    if not isinstance(project, dict):
        return None
    if "dependencies" in project.get("dynamic", []):
        problem = Problem(
            "dynamic-requirements",
            "pyproject.toml declares its dependencies as dynamic, so validation cannot "
            "check imports against them; list them as strings in project.dependencies",
            file=PYPROJECT_TOML,
            line=line_of(text, "dynamic"),
        )
        return Requirements(PYPROJECT_TOML, field, None, [problem])
    dependencies = project.get("dependencies", [])
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        problem = Problem(
            "missing-requirements",
            "project.dependencies in pyproject.toml is not a list of strings; write it as "
            'dependencies = ["name>=1.0", ...]',
            file=PYPROJECT_TOML,
            line=line_of(text, "dependencies"),
        )
        return Requirements(PYPROJECT_TOML, field, None, [problem])
    declared = [DeclaredRequirement(item, line_of(text, item)) for item in dependencies]
    return Requirements(PYPROJECT_TOML, field, declared)


def line_of(text: str, needle: str) -> int | None:
    """Return the first line of `text` that contains `needle`, counting from 1.

    tomllib keeps no positions, so a dependency is located by its text.
    """
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return None


def from_setup_py(source: SourceFile) -> Requirements:
    """Read install_requires from the `setup(...)` call of setup.py without running it."""
    field = "install_requires"
    call = find_setup_call(source)
    if call is None:
        problem = Problem(
            "missing-requirements",
            "setup.py has no setup(...) call to read install_requires from; call "
            "setuptools.setup with install_requires=[...]",
            file=SETUP_PY,
        )
        return Requirements(SETUP_PY, field, None, [problem])
    for keyword in call.keywords:
        if keyword.arg == field:
            return literal_install_requires(source, keyword.value)
    if any(keyword.arg is None for keyword in call.keywords):
        return dynamic_setup_py(call.lineno, "setup() receives its arguments through **")
    return Requirements(SETUP_PY, field, [])


def find_setup_call(source: SourceFile) -> ast.Call | None:
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Call):
            name = qualified_name(node.func, source.aliases)
            if name is not None and name.rsplit(".", 1)[-1] == "setup":
                return node
    return None


def literal_install_requires(source: SourceFile, value: ast.expr) -> Requirements:
    constants = string_constants(value, source.assignments)
    if constants is None:
        return dynamic_setup_py(value.lineno, "install_requires is computed by code")
    declared = [DeclaredRequirement(item.value, item.lineno) for item in constants]
    return Requirements(SETUP_PY, "install_requires", declared)


def dynamic_setup_py(line: int, reason: str) -> Requirements:
    problem = Problem(
        "dynamic-requirements",
        f"{reason}, so validation cannot check imports against it; list the requirements "
        f"as strings in install_requires=[...] in setup.py",
        file=SETUP_PY,
        line=line,
    )
    return Requirements(SETUP_PY, "install_requires", None, [problem])


def is_legacy_requirement(text: str) -> bool:
    """Tell whether a requirement names the 2019 `model-tools` or `brain-score` package."""
    if _LEGACY_URL.search(text):
        return True
    try:
        return normalize(Requirement(text).name) in LEGACY_DISTRIBUTIONS
    except InvalidRequirement:
        return False


def is_provided_requirement(text: str) -> bool:
    """Tell whether the scoring environment already provides a requirement.

    Its name decides, not its version specifier: the scoring environment keeps its own
    versions of torch, torchvision, numpy, brainscore_vision and their dependencies, and
    provides the 2019 `model-tools` and `brain-score` packages through brainscore_vision.
    """
    if is_legacy_requirement(text):
        return True
    try:
        return is_provided_distribution(Requirement(text).name)
    except InvalidRequirement:
        return False


def check_requirements(requirements: Requirements) -> tuple[set[str], list[Problem]]:
    """Check each declared requirement; return the normalized names of the valid ones and
    the problems found."""
    names: set[str] = set()
    problems: list[Problem] = []
    for item in requirements.declared or []:
        problem = check_requirement(item, requirements)
        if problem is not None:
            problems.append(problem)
        if problem is None or problem.code == "legacy-import":
            names.add(requirement_name(item.text))
    return names, problems


def check_requirement(item: DeclaredRequirement, requirements: Requirements) -> Problem | None:
    file, where = requirements.file, requirements.where
    if is_legacy_requirement(item.text):
        return Problem(
            "legacy-import",
            f"'{item.text}' asks for a 2019 package whose parts the scoring environment "
            f"provides through brainscore_vision; remove it from {where}",
            file=file,
            line=item.line,
        )
    try:
        requirement = Requirement(item.text)
    except InvalidRequirement as error:
        return invalid_requirement(item, requirements, str(error).splitlines()[0])
    if requirement.name.lower().replace("-", "_") in _STDLIB_NAMES:
        return Problem(
            "stdlib-requirement",
            f"'{item.text}' is a standard-library module, which ships with Python and cannot "
            f"be installed from PyPI; remove it from {where}",
            file=file,
            line=item.line,
        )
    return None


def invalid_requirement(
    item: DeclaredRequirement, requirements: Requirements, reason: str
) -> Problem:
    slip = _SINGLE_EQUALS.match(item.text)
    if slip:
        fix = f"write it as '{slip.group(1)}=={slip.group(2)}'"
    else:
        fix = "write it as 'name', 'name==1.2.3' or 'name>=1.2'"
    return Problem(
        "invalid-requirement",
        f"'{item.text}' ({requirements.where}) is not a valid PEP 508 requirement "
        f"({reason}); {fix}",
        file=requirements.file,
        line=item.line,
    )


def requirement_name(text: str) -> str:
    if _LEGACY_URL.search(text):
        return "brain-score"
    try:
        return normalize(Requirement(text).name)
    except InvalidRequirement:
        return normalize(text)

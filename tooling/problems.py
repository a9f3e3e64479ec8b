"""Problem codes and the problems that validation and the mock score report.

A code, once published, keeps its meaning; a new kind of problem gets a new code.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

Severity = Literal["error", "warning"]


@dataclasses.dataclass(frozen=True)
class CodeInfo:
    severity: Severity
    summary: str
    fix: str


CODES: dict[str, CodeInfo] = {
    "syntax-error": CodeInfo(
        "error",
        "a Python file of the submission does not parse",
        "correct the syntax at the line and column given",
    ),
    "missing-models-package": CodeInfo(
        "error",
        "the folder has no `models` package with an `__init__.py`",
        "put the package at `submissions/<name>/models/` with an `__init__.py`",
    ),
    "missing-model-module": CodeInfo(
        "error",
        "the `models` package has neither `base_models.py` nor `brain_models.py`, "
        "or the folder has neither `setup.py` nor `pyproject.toml`",
        "add the missing module or packaging file from the template",
    ),
    "missing-function": CodeInfo(
        "error",
        "a function that the template requires is missing or takes the wrong parameters",
        "define it at module level with the parameters the template gives",
    ),
    "missing-requirements": CodeInfo(
        "error",
        "the dependencies cannot be read from `setup.py` or `pyproject.toml`",
        "list them as literal strings in `install_requires` or `project.dependencies`",
    ),
    "invalid-requirement": CodeInfo(
        "error",
        "a dependency is not a valid PEP 508 requirement",
        "write it as `name`, `name==1.2.3` or `name>=1.2`",
    ),
    "stdlib-requirement": CodeInfo(
        "error",
        "a standard-library module is listed as a dependency",
        "remove it: it ships with Python and cannot be installed from PyPI",
    ),
    "undeclared-dependency": CodeInfo(
        "error",
        "a module is imported that no declared dependency provides",
        "add its distribution to `install_requires` (setup.py) or `dependencies` "
        "(pyproject.toml)",
    ),
    "no-models": CodeInfo(
        "error",
        "get_model_list returns an empty list, so no model would be scored",
        'return a list with the identifier of each model, such as `["my-model"]`',
    ),
    "too-many-models": CodeInfo(
        "error",
        "the submission lists more than three models",
        "split it into several submissions of at most three models each",
    ),
    "invalid-identifier": CodeInfo(
        "error",
        "a model identifier is empty or has characters other than letters, digits, "
        "`.`, `-` and `_`",
        "rename the model using only those characters",
    ),
    "duplicate-identifier": CodeInfo(
        "error",
        "a model identifier is used twice, in this submission or in another one",
        "choose an identifier no other model has, for example with your lab's prefix",
    ),
    "symlink": CodeInfo(
        "error",
        "the folder contains a symbolic link",
        "replace the link by the file itself",
    ),
    "file-too-large": CodeInfo(
        "error",
        "a file is over 100 MiB, which GitHub rejects",
        "host the file elsewhere and download it with a pinned URL and checksum",
    ),
    "too-many-files": CodeInfo(
        "error",
        "the folder has more than 10,000 files and folders, so it is not checked further",
        "keep only the model's code and small files; host data and weights elsewhere",
    ),
    "outside-submission": CodeInfo(
        "error",
        "the pull request changes more than one submission folder or files outside "
        "`submissions/`",
        "open one pull request per submission and leave other files unchanged",
    ),
    "install-failed": CodeInfo(
        "error",
        "a declared requirement cannot be installed",
        "check the name and version on PyPI and that it builds for Python 3.11 on Linux",
    ),
    "import-failed": CodeInfo(
        "error",
        "importing the submission's module raised an exception",
        "run the import locally from another directory and fix the traceback shown",
    ),
    "import-timeout": CodeInfo(
        "error",
        "importing the submission's module took longer than the time limit",
        "move slow work (downloads, model construction) from module level into get_model",
    ),
    "identifier-mismatch": CodeInfo(
        "error",
        "the model object calls itself by another identifier than the one it is listed "
        "under, so cached activations of another model could be reused",
        "pass the name given to get_model as the wrapper's identifier",
    ),
    "model-crashed": CodeInfo(
        "error",
        "get_model, get_layers or the model's forward pass raised an exception",
        "fix the error in the frame of your code that the traceback names",
    ),
    "layer-not-found": CodeInfo(
        "error",
        "get_layers names a layer that the network does not have",
        "use one of the layer names the network has; the nearest ones are listed",
    ),
    "too-few-features": CodeInfo(
        "error",
        "a layer gives fewer than 25 activations per image, too few for the regression",
        "choose a layer with at least 25 units",
    ),
    "non-finite-activations": CodeInfo(
        "error",
        "a layer gives NaN or infinite activations",
        "find the operation that overflows or divides by zero in that layer",
    ),
    "constant-activations": CodeInfo(
        "error",
        "a layer gives the same activations for every image",
        "check the preprocessing and that the layer depends on its input",
    ),
    "wrong-model-type": CodeInfo(
        "error",
        "brain_models.get_model returns something that is not a BrainModel",
        "return a BrainModel, or move the model to base_models.py",
    ),
    "timeout": CodeInfo(
        "error",
        "the model took longer than the time limit",
        "make the model faster or smaller, or raise --timeout for a local check",
    ),
    "out-of-memory": CodeInfo(
        "error",
        "the model ran out of memory",
        "reduce the model's memory use, for example the batch size or the layers chosen",
    ),
    "benchmark-unavailable": CodeInfo(
        "error",
        "the benchmark could not be loaded, for example because its data cannot be "
        "fetched; the submission is not at fault",
        "nothing to change in the submission: an operator checks the scoring service's "
        "network and data access, then scores the package again",
    ),
    "placeholder-bibtex": CodeInfo(
        "warning",
        "get_bibtex returns an empty or placeholder string",
        "return the BibTeX entry of the paper that describes the model",
    ),
    "import-time-side-effect": CodeInfo(
        "warning",
        "module-level code prints, downloads, edits sys.path or changes directory",
        "move that code into get_model or remove it",
    ),
    "cwd-relative-path": CodeInfo(
        "warning",
        "a file path is relative to the working directory, which scoring sets to an "
        "empty folder",
        "build the path from the module's location: "
        "`os.path.join(os.path.dirname(__file__), ...)`",
    ),
    "absolute-path": CodeInfo(
        "warning",
        "a file path points at a place on the author's machine",
        "ship the file inside the submission folder and build the path from `__file__`",
    ),
    "download-at-runtime": CodeInfo(
        "warning",
        "the model downloads files when it runs",
        "pin the URL and verify a checksum, or ship the file in the submission folder",
    ),
    "stray-file": CodeInfo(
        "warning",
        "a cache, build output or editor file is in the folder",
        "delete it and add it to .gitignore; it is left out of the package",
    ),
    "legacy-import": CodeInfo(
        "warning",
        "the submission uses the 2019 `model_tools` or `brainscore` packages",
        "import the same part from `brainscore_vision` as the message gives",
    ),
    "large-file": CodeInfo(
        "warning",
        "a file is over 25 MiB",
        "host large weights outside the repository with a pinned URL and checksum",
    ),
    "dynamic-requirements": CodeInfo(
        "warning",
        "the dependencies are computed by code in `setup.py` or marked dynamic in "
        "`pyproject.toml`, so imports cannot be checked against them",
        "list them as literal strings in `install_requires` or `project.dependencies`",
    ),
}


@dataclasses.dataclass(frozen=True)
class Problem:
    """One finding, located as precisely as is known.

    `file` is relative to the submission folder, with `/` as separator, and `line` and
    `column` start at 1. `message` states what is wrong, on which value, and the fix.
    """

    code: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown problem code {self.code!r}")

    @property
    def severity(self) -> Severity:
        return CODES[self.code].severity

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

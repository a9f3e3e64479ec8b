"""Code that acts when imported or run: import-time side effects and downloads."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from tooling.problems import Problem
from tooling.validation.sources import SourceFile, qualified_name

DOWNLOAD_FUNCTIONS = frozenset(
    {
        "torch.hub.load",
        "torch.hub.load_state_dict_from_url",
        "torch.hub.download_url_to_file",
        "torch.utils.model_zoo.load_url",
        "requests.get",
        "requests.request",
        "urllib.request.urlretrieve",
        "urllib.request.urlopen",
        "urllib.urlretrieve",
        "urllib.urlopen",
        "huggingface_hub.hf_hub_download",
        "huggingface_hub.snapshot_download",
        "keras.utils.get_file",
        "tensorflow.keras.utils.get_file",
    }
)
# Every function of these modules downloads.
DOWNLOAD_MODULES = ("gdown.", "wget.")
DOWNLOAD_METHODS = frozenset({"from_pretrained"})
SHELL_FUNCTIONS = frozenset(
    {
        "os.system",
        "os.popen",
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.Popen",
    }
)
SHELL_DOWNLOADERS = ("wget", "curl", "gdown")
PRINT_FUNCTIONS = frozenset({"print", "pprint.pprint", "sys.stdout.write", "sys.stderr.write"})
SYS_PATH_METHODS = frozenset({"append", "insert", "extend", "remove", "pop", "clear"})


def calls(node: ast.AST, enter_functions: bool = True) -> Iterator[ast.Call]:
    """Yield the calls inside `node`; without `enter_functions`, skip the bodies of
    functions and lambdas, which do not run when the module is imported."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Call):
            yield current
        for child in ast.iter_child_nodes(current):
            if enter_functions or not isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            ):
                stack.append(child)


def describe_download(call: ast.Call, aliases: dict[str, str]) -> str | None:
    """Return a description of what downloads in `call`, or None when it downloads nothing."""
    name = qualified_name(call.func, aliases)
    if name is not None:
        if name in DOWNLOAD_FUNCTIONS or name.startswith(DOWNLOAD_MODULES):
            return f"'{name}' downloads files"
        if name.rsplit(".", 1)[-1] in DOWNLOAD_METHODS:
            return f"'{name}' downloads weights unless given a local folder"
        if name in SHELL_FUNCTIONS and runs_downloader(call):
            return f"'{name}' runs a download command"
    for keyword in call.keywords:
        if keyword.arg == "pretrained" and is_true(keyword.value):
            return f"'pretrained=True' makes '{name or 'the call'}' download weights"
        if is_torchvision_weights(keyword, name):
            return f"'weights=' makes '{name}' download weights"
    return None


def is_torchvision_weights(keyword: ast.keyword, name: str | None) -> bool:
    """Tell whether a torchvision model builder is asked for pretrained weights."""
    if keyword.arg != "weights" or name is None or not name.startswith("torchvision.models."):
        return False
    return not (isinstance(keyword.value, ast.Constant) and keyword.value.value is None)


def is_true(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def runs_downloader(call: ast.Call) -> bool:
    words: list[str] = []
    for argument in call.args:
        elements = argument.elts if isinstance(argument, ast.List | ast.Tuple) else [argument]
        for element in elements:
            if isinstance(element, ast.Constant) and isinstance(element.value, str):
                words.extend(element.value.split())
    return any(word.rsplit("/", 1)[-1] in SHELL_DOWNLOADERS for word in words)


def check_downloads(source: SourceFile) -> list[Problem]:
    """Warn about every download, wherever it is in the file."""
    problems = []
    for call in calls(source.tree):
        description = describe_download(call, source.aliases)
        if description is not None:
            problems.append(
                Problem(
                    "download-at-runtime",
                    f"{description} when the model runs; pin the URL and verify a checksum "
                    f"(for example with hashlib.sha256), or ship the file in the submission "
                    f"folder and build its path from __file__",
                    file=source.relative,
                    line=call.lineno,
                )
            )
    return problems


def import_time_statements(tree: ast.Module) -> Iterator[ast.stmt]:
    """Yield the statements that run when the module is imported, including those in
    module-level `if`, `try`, `with` and `for` blocks and class bodies, but not the
    `if __name__ == "__main__":` block."""
    stack: list[ast.stmt] = list(reversed(tree.body))
    while stack:
        statement = stack.pop()
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if isinstance(statement, ast.If) and is_main_guard(statement.test):
            stack.extend(reversed(statement.orelse))
            continue
        nested = [child for child in ast.iter_child_nodes(statement) if isinstance(child, ast.stmt)]
        if isinstance(statement, ast.Try | ast.TryStar):
            for handler in statement.handlers:
                nested.extend(handler.body)
        if nested:
            stack.extend(reversed(nested))
        yield statement


def is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(
            isinstance(item, ast.Constant) and item.value == "__main__" for item in test.comparators
        )
    )


def check_side_effects(source: SourceFile) -> list[Problem]:
    """Warn about module-level code that prints, downloads, edits sys.path or changes
    directory when the module is imported."""
    return [
        Problem("import-time-side-effect", message, file=source.relative, line=line)
        for statement in import_time_statements(source.tree)
        for line, message in side_effects(statement, source.aliases)
    ]


def side_effects(statement: ast.stmt, aliases: dict[str, str]) -> Iterator[tuple[int, str]]:
    if isinstance(statement, ast.Assign | ast.AugAssign):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        if any(qualified_name(target, aliases) == "sys.path" for target in targets):
            yield statement.lineno, SYS_PATH_MESSAGE.format(name="sys.path")
    expressions = [
        child for child in ast.iter_child_nodes(statement) if isinstance(child, ast.expr)
    ]
    for expression in expressions:
        for call in calls(expression, enter_functions=False):
            message = side_effect_message(call, aliases)
            if message is not None:
                yield call.lineno, message


SYS_PATH_MESSAGE = (
    "'{name}' edits sys.path when the module is imported; import the submission's own "
    "modules relatively (from . import name) instead"
)


def side_effect_message(call: ast.Call, aliases: dict[str, str]) -> str | None:
    name = qualified_name(call.func, aliases)
    if name in PRINT_FUNCTIONS:
        return (
            f"'{name}' writes output when the module is imported; move it into get_model "
            f"or remove it"
        )
    if name == "os.chdir":
        return (
            "'os.chdir' changes the working directory when the module is imported; remove "
            "it and build paths from __file__"
        )
    if (
        name is not None
        and name.startswith("sys.path.")
        and name.rsplit(".", 1)[-1] in (SYS_PATH_METHODS)
    ):
        return SYS_PATH_MESSAGE.format(name=name)
    download = describe_download(call, aliases)
    if download is not None:
        return f"{download} when the module is imported; move the download into get_model"
    return None

"""`new`: create a submission folder from a template shipped with the tooling."""

from __future__ import annotations

import argparse
import re
import shlex
import string
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from tooling.errors import FatalError
from tooling.submissions import SUBMISSIONS_FOLDER, display_path, find_submissions

TEMPLATES = {
    "pytorch": "a base model: a PyTorch network whose layers Brain-Score maps to regions",
    "brain-model": "a brain model: a network already committed to regions (ModelCommitment)",
}

# A submission name is also its first model's identifier, so it takes the identifier's
# characters. It must start with a letter or digit so that it is never `.`, `..` or a
# hidden folder.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_NAME_LENGTH = 64

TEMPLATE_SUFFIX = ".tmpl"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "new",
        help="create a submission folder from a template",
        description=(
            "Create submissions/NAME/ with a models package, a setup.py and docstrings that "
            "explain each function. The model's BibTeX is a placeholder that validation "
            "flags (placeholder-bibtex) until you fill it in. Nothing existing is "
            "overwritten: an existing folder is an error, and so is a name that a model in "
            "submissions/ already uses as its identifier."
        ),
    )
    parser.add_argument(
        "name",
        metavar="NAME",
        help=(
            "the submission's folder name, also its model identifier: letters, digits, "
            f"'.', '-' and '_', starting with a letter or digit, at most {MAX_NAME_LENGTH} "
            "characters"
        ),
    )
    parser.add_argument(
        "--template",
        choices=sorted(TEMPLATES),
        default="pytorch",
        help="the kind of model to start from: "
        + "; ".join(f"{name} is {text}" for name, text in sorted(TEMPLATES.items()))
        + " (default: pytorch)",
    )
    parser.add_argument(
        "--directory",
        metavar="DIR",
        help=(
            f"create the submission in DIR, which must not exist, instead of "
            f"{SUBMISSIONS_FOLDER}/NAME in the current directory"
        ),
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    check_name(args.name)
    target = target_folder(args.name, args.directory)
    check_identifier_unused(args.name)
    written = create_submission(target, args.template, {"name": args.name, "identifier": args.name})

    folder = display_path(target)
    print(f"created {folder}/ from the {args.template} template:")
    for path in written:
        print(f"  {display_path(path)}")
    print(next_steps(folder, args.template))
    return 0


def check_name(name: str) -> None:
    if len(name) > MAX_NAME_LENGTH:
        raise FatalError(
            f"invalid submission name, {name!r} is {len(name)} characters long; "
            f"use at most {MAX_NAME_LENGTH}"
        )
    if not NAME_PATTERN.fullmatch(name):
        raise FatalError(
            f"invalid submission name, {name!r}; use letters, digits, '.', '-' and '_', "
            "starting with a letter or digit, for example 'mylab-resnet18'"
        )


def target_folder(name: str, directory: str | None) -> Path:
    """Return the folder to create, after checking that creating it overwrites nothing."""
    if directory is None:
        parent = Path(SUBMISSIONS_FOLDER)
        if not parent.is_dir():
            raise FatalError(
                f"no {SUBMISSIONS_FOLDER}/ folder in the current directory, {str(Path.cwd())!r}; "
                "run the command from the repository's root or give --directory"
            )
        target = parent / name
    else:
        target = Path(directory)
    if target.exists() or target.is_symlink():
        raise FatalError(
            f"the folder exists already, {display_path(target)!r}; choose another name, "
            "or move the folder away first (nothing was changed)"
        )
    return target


def check_identifier_unused(identifier: str) -> None:
    """Raise when a submission in `submissions/` already lists `identifier` as a model, also
    in another case, which collides on case-insensitive file systems and in caches."""
    if not Path(SUBMISSIONS_FOLDER).is_dir():
        return
    from tooling.validation.identifiers import identifier_key, read_identifiers

    key = identifier_key(identifier)
    for folder in find_submissions(SUBMISSIONS_FOLDER):
        for item in read_identifiers(folder, partial=True) or []:
            if identifier_key(item.identifier) != key:
                continue
            if item.identifier == identifier:
                clash = "is already the identifier"
            else:
                clash = f"differs only in case from {item.identifier!r}, the identifier"
            raise FatalError(
                f"invalid submission name, {identifier!r} {clash} of a model in "
                f"{display_path(folder)}; choose another name, for example with your lab's "
                "prefix"
            )


def create_submission(target: Path, template: str, values: dict[str, str]) -> list[Path]:
    """Write the template's files into the new folder `target` and return their paths.

    On a failure the files and folders written so far are removed again, one by one, so
    that no half-made submission stays behind and nothing else is touched.
    """
    source = resources.files("tooling") / "templates" / template
    created: list[Path] = []
    try:
        target.mkdir(parents=True, exist_ok=False)
        created.append(target)
        copy_tree(source, target, values, created)
    except FileExistsError as error:
        remove_created(created)
        raise FatalError(
            f"the folder exists already, {display_path(Path(error.filename or target))!r}; "
            "choose another name (nothing was changed)"
        ) from error
    except OSError as error:
        remove_created(created)
        raise FatalError(
            f"cannot create {display_path(target)!r}: {error.strerror or error}; "
            "check that the parent folder is writable"
        ) from error
    return sorted(path for path in created if path.is_file())


def copy_tree(
    source: Traversable, target: Path, values: dict[str, str], created: list[Path]
) -> None:
    for entry in sorted(source.iterdir(), key=lambda entry: entry.name):
        if entry.is_dir():
            folder = target / entry.name
            folder.mkdir()
            created.append(folder)
            copy_tree(entry, folder, values, created)
        elif entry.name.endswith(TEMPLATE_SUFFIX):
            path = target / entry.name.removesuffix(TEMPLATE_SUFFIX)
            text = string.Template(entry.read_text(encoding="utf-8")).substitute(values)
            # Mode "x" fails rather than overwrite a file that appeared meanwhile.
            with path.open("x", encoding="utf-8") as file:
                created.append(path)
                file.write(text)


def remove_created(created: list[Path]) -> None:
    for path in reversed(created):
        try:
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink(missing_ok=True)
        except OSError:
            # A folder that something else has written into meanwhile stays as it is.
            continue


def next_steps(folder: str, template: str) -> str:
    module = "base_models.py" if template == "pytorch" else "brain_models.py"
    return (
        "next steps:\n"
        f"  1. build your model in {folder}/models/{module}; each function's docstring "
        "says what it returns\n"
        f"  2. list every package the models import in {folder}/setup.py\n"
        f"  3. replace the placeholder BibTeX in get_bibtex\n"
        f"  4. check it: python -m tooling check {shlex.quote(folder)}"
    )

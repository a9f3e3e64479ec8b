"""`package`: a deterministic zip of each submission folder, named by its sha256."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from tooling.errors import FatalError
from tooling.submissions import SUBMISSIONS_FOLDER, find_submissions

# The `before` commit GitHub sends when a push creates the branch, which has no previous
# commit.
NULL_COMMIT = "0" * 40
# A folder name that --submission accepts: no path separator, so no other folder.
SUBMISSION_NAME = re.compile(r"[A-Za-z0-9._-]+")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "package",
        help="zip submission folders for scoring and print each zip's sha256",
        description=(
            "Zip each submission folder deterministically: the same files give the same "
            "bytes on any machine. Stray files (caches, backups, build output, .git) are "
            "left out; symbolic links and files over the size limit are rejected. Prints "
            "one line per package, '<sha256>  <path>', as sha256sum does; the sha256 is the "
            "submission's key for scoring."
        ),
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="a submission folder, or the submissions/ folder to package each submission",
    )
    parser.add_argument(
        "--since",
        metavar="COMMIT",
        help="package every submission that the commits from COMMIT to HEAD of the "
        "repository in the current folder changed and did not delete",
    )
    parser.add_argument(
        "--submission",
        metavar="NAME",
        help="package submissions/NAME of the repository in the current folder; NAME is "
        "checked, because it may come from a workflow_dispatch input",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        type=Path,
        metavar="DIR",
        help="folder to write the zip files to (created when missing)",
    )
    parser.add_argument(
        "--commit",
        help="source commit for the manifest (default: git rev-parse HEAD in the folder)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: '<sha256>  <path>' lines; json: a list of {submission, path, sha256, "
        "models} objects (default: text)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tooling.packaging import build_package

    if not args.paths and args.since is None and args.submission is None:
        raise FatalError(
            "give a submission folder, --submission NAME or --since COMMIT; see package --help"
        )
    folders = [folder for path in args.paths for folder in find_submissions(path)]
    if args.submission is not None:
        folders.append(named_submission(Path.cwd(), args.submission))
    if args.since is not None:
        folders += changed_submissions(Path.cwd(), args.since)
    packages = [build_package(folder, args.output, commit=args.commit) for folder in folders]

    if args.format == "json":
        listing = [
            {
                "submission": package.manifest["submission"],
                "path": str(package.path),
                "sha256": package.sha256,
                "models": package.manifest["models"],
            }
            for package in packages
        ]
        print(json.dumps(listing, indent=2))
    else:
        for package in packages:
            print(f"{package.sha256}  {package.path}")
    return 0


def named_submission(repository: Path, name: str) -> Path:
    """Return the folder `submissions/<name>` of `repository`, after checking `name`."""
    if not SUBMISSION_NAME.fullmatch(name) or name in (".", ".."):
        raise FatalError(
            f"invalid submission name, {name!r}; give the name of a folder directly under "
            f"{SUBMISSIONS_FOLDER}/, made of letters, digits, '.', '_' and '-'"
        )
    folder = repository / SUBMISSIONS_FOLDER / name
    if folder.is_symlink() or not folder.is_dir():
        raise FatalError(
            f"no submission folder, {SUBMISSIONS_FOLDER}/{name}; give the name of a folder "
            f"directly under {SUBMISSIONS_FOLDER}/"
        )
    return folder


def changed_submissions(repository: Path, since: str) -> list[Path]:
    """Return the submission folders changed from `since` to HEAD that still exist."""
    from tooling.changes import find_changes

    base = "HEAD^" if since == NULL_COMMIT else since
    changes = find_changes(repository, base, "HEAD")
    return [repository / folder for folder in changes.submissions if folder in changes.existing]

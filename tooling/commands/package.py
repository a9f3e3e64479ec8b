"""`package`: a deterministic zip of each submission folder, named by its sha256."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tooling.submissions import find_submissions


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
        nargs="+",
        metavar="PATH",
        help="a submission folder, or the submissions/ folder to package each submission",
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

    packages = []
    for path in args.paths:
        for folder in find_submissions(path):
            packages.append(build_package(folder, args.output, commit=args.commit))

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

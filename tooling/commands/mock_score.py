"""`mock-score`: run each submission's models on the offline mock benchmark."""

from __future__ import annotations

import argparse
from pathlib import Path

from tooling.commands.options import positive_float, positive_int
from tooling.reports import Report, add_format_option, emit

EXIT_STATUS_HELP = "Exit status: 0 when no errors, 1 when any error, 2 for a usage error."


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "mock-score",
        help="run submissions' models on the offline mock benchmark",
        description=(
            "Import each submission in its own process, in an empty working directory, with "
            "brainscore-vision's downloads turned off, and score every model on the mock "
            "benchmark: activations per layer, the layer-selection curve "
            "for V1, V2, V4 and IT, the behavioural readout, time, peak memory and a "
            "forecast of what real scoring will need. " + EXIT_STATUS_HELP
        ),
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a submission folder, or the submissions/ folder to score each submission in it",
    )
    add_run_options(parser)
    add_format_option(parser)
    parser.set_defaults(run=run)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Add the options of running submissions, shared with `check`."""
    from tooling.mockscore import forecast
    from tooling.mockscore.runner import DEFAULT_TIMEOUT, DEVICES

    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=(
            "wall-clock limit in seconds for each submission's process, import and all "
            f"models together (default: {DEFAULT_TIMEOUT:g}); installing missing "
            "requirements gets the same limit of its own"
        ),
    )
    parser.add_argument(
        "--device",
        choices=DEVICES,
        default="auto",
        help=(
            "where the models run: cpu hides CUDA devices from them, cuda requires one, "
            "auto uses CUDA when torch finds a device (default: auto)"
        ),
    )
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=1,
        metavar="N",
        help="number of submissions to run at the same time (default: 1)",
    )
    parser.add_argument(
        "--model",
        action="append",
        dest="models",
        metavar="IDENTIFIER",
        help="score only this model; repeat the option for several (default: all models)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help=(
            "folder for the cached environments with submissions' extra requirements "
            "(default: $BRAINSCORE_SUBMISSIONS_CACHE, else ~/.cache/brainscore-submissions)"
        ),
    )
    parser.add_argument(
        "--max-memory-gib",
        type=positive_float,
        default=forecast.DEFAULT_MAX_MEMORY_GIB,
        metavar="GIB",
        help=(
            "warn when real scoring is forecast to need more memory than this, in GiB "
            f"(default: {forecast.DEFAULT_MAX_MEMORY_GIB:g})"
        ),
    )
    parser.add_argument(
        "--max-hours",
        type=positive_float,
        default=forecast.DEFAULT_MAX_HOURS,
        metavar="HOURS",
        help=(
            "warn when real scoring is forecast to take longer than this, in hours "
            f"(default: {forecast.DEFAULT_MAX_HOURS:g})"
        ),
    )


def score_folders(folders: list[tuple[Path, str]], args: argparse.Namespace) -> list:
    """Mock-score (folder, display) pairs with the options in `args`."""
    from tooling.mockscore.forecast import Limits
    from tooling.mockscore.progress import make_progress
    from tooling.mockscore.runner import run_submissions

    return run_submissions(
        folders,
        timeout=args.timeout,
        device=args.device,
        jobs=args.jobs,
        progress=make_progress(),
        models=args.models,
        cache_dir=args.cache_dir,
        limits=Limits(max_memory_gib=args.max_memory_gib, max_hours=args.max_hours),
    )


def run(args: argparse.Namespace) -> int:
    from tooling.submissions import display_path, find_submissions

    folders = [
        (folder, display_path(folder)) for path in args.paths for folder in find_submissions(path)
    ]
    report = Report("mock-score", score_folders(folders, args))
    return emit(report, args.format, args.output)

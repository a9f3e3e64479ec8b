"""Argument types shared by several subcommands."""

from __future__ import annotations

import argparse
import math


def positive_float(text: str) -> float:
    """Parse a number greater than 0, such as a timeout or an interval in seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number greater than 0: {text!r}")
    return value


def positive_int(text: str) -> int:
    """Parse a whole number of at least 1, such as a count of parallel jobs."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value

"""Progress of the mock score on stderr: a bar at a terminal, log lines otherwise.

The runner passes every status event of a child process (see tooling.mockscore.child) to
a Progress object. Submissions may run in parallel threads, so the objects lock.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any, Protocol, TextIO

from tooling.reports import SubmissionReport

logger = logging.getLogger("tooling.mockscore")


class Progress(Protocol):
    def start(self, display: str) -> None: ...

    def update(self, display: str, event: dict[str, Any]) -> None: ...

    def finish(self, display: str, report: SubmissionReport) -> None: ...


class SilentProgress:
    def start(self, display: str) -> None:
        pass

    def update(self, display: str, event: dict[str, Any]) -> None:
        pass

    def finish(self, display: str, report: SubmissionReport) -> None:
        pass


def make_progress(stream: TextIO | None = None) -> Progress:
    """Return a bar display when `stream` (stderr) is a terminal, log lines otherwise."""
    stream = stream or sys.stderr
    if stream.isatty():
        return BarProgress(stream)
    return LogProgress()


def describe_event(event: dict[str, Any], models: list[str]) -> str | None:
    """Return a line for a status event, or None for events not worth a line."""
    phase = event.get("phase")
    if phase == "starting":
        return "starting"
    if phase == "importing":
        return f"importing {event.get('module')}"
    if phase == "scoring":
        noun = "model" if len(models) == 1 else "models"
        return f"{len(models)} {noun} to score: {', '.join(models) or 'none'}"
    if phase == "model":
        position = f" ({event['index'] + 1}/{len(models)})" if models else ""
        return f"scoring model {event.get('model')!r}{position}"
    if phase == "progress":
        return f"model {event.get('model')!r}: {event.get('detail')}"
    return None


class LogProgress:
    """Logs each step as a line, for logs of CI jobs and other non-terminals."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.models: dict[str, list[str]] = {}
        self.started: dict[str, float] = {}

    def start(self, display: str) -> None:
        with self.lock:
            self.started[display] = time.monotonic()
            self.models[display] = []
        logger.info("%s: mock score started", display)

    def update(self, display: str, event: dict[str, Any]) -> None:
        with self.lock:
            if event.get("phase") == "scoring":
                self.models[display] = list(event.get("models", []))
            line = describe_event(event, self.models.get(display, []))
        if line is not None:
            logger.info("%s: %s", display, line)

    def finish(self, display: str, report: SubmissionReport) -> None:
        with self.lock:
            seconds = time.monotonic() - self.started.pop(display, time.monotonic())
            self.models.pop(display, None)
        verdict = "ok" if report.ok else f"{len(report.errors)} errors"
        logger.info("%s: mock score finished in %.0f s (%s)", display, seconds, verdict)


class BarProgress:
    """One tqdm bar per running submission, counting its scored models."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.lock = threading.Lock()
        self.bars: dict[str, Any] = {}
        self.models: dict[str, list[str]] = {}

    def start(self, display: str) -> None:
        from tqdm import tqdm

        with self.lock:
            position = len(self.bars)
            self.bars[display] = tqdm(
                total=None, desc=display, unit="model", file=self.stream,
                position=position, leave=True, dynamic_ncols=True,
            )  # fmt: skip
            self.models[display] = []

    def update(self, display: str, event: dict[str, Any]) -> None:
        with self.lock:
            bar = self.bars.get(display)
            if bar is None:
                return
            phase = event.get("phase")
            if phase == "scoring":
                self.models[display] = list(event.get("models", []))
                bar.reset(total=len(self.models[display]))
            elif phase == "model" and event.get("index", 0) > bar.n:
                bar.update(event["index"] - bar.n)
            line = describe_event(event, self.models[display])
            if line is not None:
                bar.set_postfix_str(line, refresh=True)

    def finish(self, display: str, report: SubmissionReport) -> None:
        with self.lock:
            bar = self.bars.pop(display, None)
            self.models.pop(display, None)
            if bar is None:
                return
            if bar.total is not None:
                bar.update(bar.total - bar.n)
            bar.set_postfix_str("ok" if report.ok else f"{len(report.errors)} errors")
            bar.close()

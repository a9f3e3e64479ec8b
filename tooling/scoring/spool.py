"""The spool folder through which the `local` trigger hands packages to the worker.

Layout under the spool folder:

    packages/<sha256>.zip     the package, copied in before its record appears
    incoming/<time>-<key>.json  one record per trigger, waiting for the worker
    done/, failed/            records the worker finished, moved there by rename

Every file is written under a temporary name, flushed to disk and renamed, so a crash at
any point leaves either no record or a complete one. A record stays in `incoming/` until
the worker finished its package, so a worker that dies picks it up again on restart.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from tooling.errors import FatalError

logger = logging.getLogger(__name__)

HOME_VARIABLE = "BRAINSCORE_SCORING_HOME"
DONE = "done"
FAILED = "failed"


def scoring_home() -> Path:
    """Return the worker's state folder: $BRAINSCORE_SCORING_HOME, else under XDG_STATE_HOME."""
    configured = os.environ.get(HOME_VARIABLE)
    if configured:
        return Path(configured)
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state) / "brainscore-scoring"


def spool_folder(home: Path | None = None) -> Path:
    return (home or scoring_home()) / "spool"


def write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.partial")
    with temporary.open("wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
    temporary.replace(path)
    sync_folder(path.parent)


def copy_atomically(source: Path, target: Path) -> None:
    temporary = target.with_name(f".{target.name}.partial")
    with source.open("rb") as reader, temporary.open("wb") as writer:
        shutil.copyfileobj(reader, writer, 1 << 20)
        writer.flush()
        os.fsync(writer.fileno())
    temporary.replace(target)
    sync_folder(target.parent)


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries, so that a rename inside it survives a power loss."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def enqueue(package: Path, sha256: str, origin: dict[str, Any], spool: Path) -> Path:
    """Copy `package` into the spool and add its record; return the record's path."""
    for name in ("packages", "incoming", DONE, FAILED):
        (spool / name).mkdir(parents=True, exist_ok=True)
    stored = spool / "packages" / f"{sha256}.zip"
    if not stored.exists():
        copy_atomically(package, stored)

    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    record = {"package": stored.name, "sha256": sha256, "queued_at": stamp, **origin}
    path = spool / "incoming" / f"{stamp}-{sha256[:12]}.json"
    write_atomically(path, (json.dumps(record, indent=2, sort_keys=True) + "\n").encode())
    return path


def pending_records(spool: Path) -> list[Path]:
    """Return the records waiting in `incoming/`, oldest first."""
    incoming = spool / "incoming"
    if not incoming.is_dir():
        return []
    return sorted(path for path in incoming.glob("*.json") if not path.name.startswith("."))


def read_record(path: Path) -> dict[str, Any]:
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise FatalError(
            f"unreadable spool record, {path.name}: {error}; move it out of "
            f"the incoming folder and trigger the package again"
        ) from None
    if not isinstance(record, dict) or "package" not in record or "sha256" not in record:
        raise FatalError(
            f"invalid spool record, {path.name}: it needs 'package' and "
            f"'sha256'; trigger the package again"
        )
    return record


def record_package(spool: Path, record: dict[str, Any]) -> Path:
    name = Path(str(record["package"])).name
    return spool / "packages" / name


def finish_record(path: Path, outcome: str) -> Path:
    """Move a record to `done/` or `failed/`, so the worker does not pick it up again."""
    target = path.parent.parent / outcome / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    path.replace(target)
    return target

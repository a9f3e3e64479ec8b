"""`check` passes with the network cut off: the mock score downloads nothing.

The command runs in a network namespace of its own (`unshare -n`, which needs root) where
that works. Elsewhere a `sitecustomize` module in the child interpreters rejects every
connection that leaves the machine and logs each attempt.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CASES = Path(__file__).resolve().parents[2] / "shared" / "cases"
CASE = "good-minimal"

SOCKET_GUARD = """
import socket

LOG = {log!r}
LOCAL_HOSTS = {{"127.0.0.1", "::1", "localhost"}}


def guard(connect):
    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in LOCAL_HOSTS:
            with open(LOG, "a") as file:
                file.write(f"{{host}}\\n")
            raise OSError(f"network access to {{host}} is blocked in this test")
        return connect(self, address)
    return guarded


socket.socket.connect = guard(socket.socket.connect)
socket.socket.connect_ex = guard(socket.socket.connect_ex)
"""


def unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    completed = subprocess.run(["unshare", "-n", "--", "true"], capture_output=True, check=False)
    return completed.returncode == 0


@pytest.fixture
def offline_command(tmp_path: Path) -> tuple[list[str], dict[str, str], Path]:
    """Return the command prefix, environment and attempt log of an offline run."""
    environment = dict(os.environ)
    log = tmp_path / "connections.log"
    if unshare_works():
        return ["unshare", "-n", "--"], environment, log
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(SOCKET_GUARD.format(log=str(log)))
    paths = [str(guard), *filter(None, environment.get("PYTHONPATH", "").split(os.pathsep))]
    environment["PYTHONPATH"] = os.pathsep.join(paths)
    return [], environment, log


@pytest.mark.slow
def test_check_passes_offline(
    tmp_path: Path, offline_command: tuple[list[str], dict[str, str], Path]
) -> None:
    prefix, environment, log = offline_command
    shutil.copytree(CASES / CASE, tmp_path / CASE)
    output = tmp_path / "report.json"
    command = [
        *prefix, sys.executable, "-m", "tooling", "check", str(tmp_path / CASE),
        "--device", "cpu", "--cache-dir", str(tmp_path / "cache"),
        "--format", "json", "--output", str(output),
    ]  # fmt: skip

    completed = subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=900, check=False
    )
    report = json.loads(output.read_text())

    assert completed.returncode == 0, completed.stderr[-3000:]
    assert report["ok"] is True
    assert [model["ok"] for model in report["submissions"][0]["models"]] == [True]
    assert not log.exists()

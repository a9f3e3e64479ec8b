"""Real git repositories for tests: branches and commits made with the git command line."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.org",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.org",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


class GitRepository:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, input: bytes | None = None) -> str:
        result = subprocess.run(
            ["git", "-C", str(self.path), *args],
            input=input,
            capture_output=True,
            check=True,
            env={**os.environ, **GIT_ENV},
        )
        return result.stdout.decode().strip()

    def write(self, files: Mapping[str, str | None]) -> None:
        """Write each file (None deletes it) and stage the whole tree."""
        for name, text in files.items():
            target = self.path / name
            if text is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        self.git("add", "-A")

    def commit(self, files: Mapping[str, str | None], message: str = "change") -> str:
        self.write(files)
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def branch(self, name: str, start: str = "main") -> None:
        self.git("checkout", "-q", "-b", name, start)

    def checkout(self, name: str) -> None:
        self.git("checkout", "-q", name)

    def import_submissions(self, count: int) -> str:
        """Commit `count` submission folders on the current branch in one fast-import."""
        lines = [
            "commit refs/heads/main",
            "committer T <t@example.org> 0 +0000",
            "data 4",
            "many",
            "from refs/heads/main^0",
        ]
        for index in range(count):
            lines.append(f"M 644 inline submissions/model{index:05d}/setup.py")
            text = f"name = 'model{index}'\n"
            lines += [f"data {len(text.encode())}", text.rstrip("\n")]
        self.git("fast-import", "--quiet", input=("\n".join(lines) + "\n").encode())
        self.git("reset", "-q", "--hard", "main")
        return self.git("rev-parse", "main")

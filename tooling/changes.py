"""Finding the submission folders that a commit range touches, from git.

The range is read the way GitHub shows a pull request: from the merge base of base and
head to head, so that commits on the base branch after the fork do not count. Only git's
tree diff is used (`git diff-tree`), which reads the trees that differ and skips
unchanged folders, so the cost grows with the change and not with the number of
submissions in the repository.
"""

from __future__ import annotations

import dataclasses
import logging
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tooling.errors import FatalError
from tooling.submissions import SUBMISSIONS_FOLDER

logger = logging.getLogger(__name__)

# git's one-letter statuses of `diff-tree --name-status`, as words for reports.
STATUS_WORDS = {
    "A": "added",
    "M": "modified",
    "D": "deleted",
    "R": "renamed",
    "C": "copied",
    "T": "type-changed",
}


@dataclasses.dataclass(frozen=True)
class FileChange:
    """One changed path; `old_path` is the source of a rename or copy."""

    status: str
    path: str
    old_path: str | None = None

    @property
    def paths(self) -> tuple[str, ...]:
        return (self.path,) if self.old_path is None else (self.old_path, self.path)


@dataclasses.dataclass(frozen=True)
class ChangeSet:
    """The changes from the merge base of `base` and `head` to `head`."""

    base: str
    head: str
    merge_base: str
    files: tuple[FileChange, ...]
    # Submission folders that exist at head; a folder the range removes is not in it.
    existing: frozenset[str] = frozenset()

    @property
    def submissions(self) -> list[str]:
        """Return the submission folders that any side of any change lies in, sorted."""
        folders = {submission_of(path) for change in self.files for path in change.paths}
        return sorted(folder for folder in folders if folder is not None)

    @property
    def outside(self) -> list[str]:
        """Return the changed paths that lie in no submission folder, sorted."""
        paths = {path for change in self.files for path in change.paths}
        return sorted(path for path in paths if submission_of(path) is None)

    @property
    def deleted_submissions(self) -> list[str]:
        return [folder for folder in self.submissions if folder not in self.existing]

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "head": self.head,
            "merge_base": self.merge_base,
            "submissions": [
                {"path": folder, "deleted": folder not in self.existing}
                for folder in self.submissions
            ],
            "outside": self.outside,
            "files": [
                {
                    "status": STATUS_WORDS.get(change.status, change.status),
                    "path": change.path,
                    "old_path": change.old_path,
                }
                for change in self.files
            ],
        }


def submission_of(path: str) -> str | None:
    """Return `submissions/<name>` for a path inside a submission folder, else None.

    A file directly in `submissions/` (a README, say) belongs to no submission.
    """
    parts = path.split("/")
    if len(parts) >= 3 and parts[0] == SUBMISSIONS_FOLDER and parts[1]:
        return f"{parts[0]}/{parts[1]}"
    return None


def git(repository: Path, *args: str) -> bytes:
    # Literal pathspecs, so that a folder name such as ':(glob)*' matches only itself.
    command = ["git", "--literal-pathspecs", "-C", str(repository), *args]
    result = subprocess.run(command, capture_output=True, check=False)
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace").strip()
        raise GitError(args[0], stderr)
    return result.stdout


class GitError(FatalError):
    def __init__(self, subcommand: str, stderr: str) -> None:
        super().__init__(
            f"git {subcommand} failed, {stderr or 'no message'}; check that both commits "
            f"exist in the clone (fetch-depth: 0 in a workflow checkout)"
        )


def resolve_commit(repository: Path, ref: str) -> str:
    if ref.startswith("-"):
        raise FatalError(f"invalid git ref, {ref!r}; give a branch, tag or commit SHA")
    output = git(repository, "rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}")
    return output.decode().strip()


def find_merge_base(repository: Path, base: str, head: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repository), "merge-base", base, head],
        capture_output=True,
        check=False,
    )
    if result.returncode == 1 and not result.stderr:
        raise FatalError(
            f"no common ancestor, of {base} and {head}; the head branch must "
            f"start from the base branch"
        )
    if result.returncode != 0:
        raise GitError("merge-base", result.stderr.decode(errors="replace").strip())
    return result.stdout.decode().split()[0]


def parse_name_status(output: bytes) -> list[FileChange]:
    """Parse `git diff-tree -z --name-status` output: fields separated by NUL.

    A rename or copy is `R<score>\\0old\\0new\\0`; every other change is `X\\0path\\0`.
    """
    fields = output.decode("utf-8", errors="surrogateescape").split("\0")
    changes, index = [], 0
    while index < len(fields) and fields[index]:
        status = fields[index][0]
        if status in "RC":
            changes.append(FileChange(status, fields[index + 2], fields[index + 1]))
            index += 3
        else:
            changes.append(FileChange(status, fields[index + 1]))
            index += 2
    return changes


def existing_folders(repository: Path, head: str, folders: Sequence[str]) -> frozenset[str]:
    if not folders:
        return frozenset()
    output = git(repository, "ls-tree", "-z", "--name-only", head, "--", *folders)
    return frozenset(name for name in output.decode(errors="surrogateescape").split("\0") if name)


def find_changes(repository: str | Path, base: str, head: str) -> ChangeSet:
    """Return the changes a pull request from `head` into `base` makes."""
    repository = Path(repository)
    base_sha = resolve_commit(repository, base)
    head_sha = resolve_commit(repository, head)
    merge_base = find_merge_base(repository, base_sha, head_sha)

    # --no-commit-id and -r list files, not folders; -M pairs renames so that both sides
    # are reported. diff-tree is plumbing, so user settings such as diff.external or
    # diff.renames do not change its output.
    output = git(
        repository,
        "diff-tree",
        "-r",
        "-z",
        "--name-status",
        "-M",
        "--no-commit-id",
        merge_base,
        head_sha,
    )
    files = tuple(parse_name_status(output))
    change_set = ChangeSet(base_sha, head_sha, merge_base, files)
    existing = existing_folders(repository, head_sha, change_set.submissions)
    logger.debug("%d changed files between %s and %s", len(files), merge_base, head_sha)
    return dataclasses.replace(change_set, existing=existing)

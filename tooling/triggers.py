"""Backends that hand a package to the private scoring engine.

- `local`: copies the package into the spool folder of a worker on this machine.
- `jenkins`: POSTs the zip as a file parameter to `/job/<job>/buildWithParameters`.
- `github`: starts a `workflow_dispatch` run in a private scoring repository, passing the
  URL the package can be downloaded from and its sha256.

Connection errors and 5xx responses are retried with exponential backoff. A 4xx response is
not, because sending the same request again cannot fix it. Credentials come only from
the environment and never appear in a message.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tooling.errors import FatalError

logger = logging.getLogger(__name__)

BACKENDS = ("local", "jenkins", "github")
DEFAULT_BACKEND = "local"
JENKINS_FILE_PARAMETER = "PACKAGE"
DEFAULT_SCORING_WORKFLOW = "score.yml"
REQUEST_TIMEOUT_SECONDS = 120


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a request is repeated: delay, delay*factor, ..."""

    attempts: int = 5
    delay: float = 2.0
    factor: float = 2.0
    max_delay: float = 60.0

    def delays(self) -> list[float]:
        return [
            min(self.delay * self.factor**index, self.max_delay)
            for index in range(self.attempts - 1)
        ]


@dataclasses.dataclass(frozen=True)
class Trigger:
    """One package and where it came from, as the scoring engine receives it."""

    package: Path
    sha256: str
    submission: str
    pull_request: int | None = None
    commit: str | None = None
    author: str | None = None
    repository: str | None = None
    package_url: str | None = None

    def origin(self) -> dict[str, Any]:
        """Return the fields the worker stores with the package."""
        return {
            "submission": self.submission,
            "pull_request": self.pull_request,
            "commit": self.commit,
            "author": self.author,
            "repository": self.repository,
        }

    def parameters(self) -> dict[str, str]:
        """Return the fields as Jenkins parameters and workflow inputs (strings only)."""
        values = {
            "SHA256": self.sha256,
            "SUBMISSION": self.submission,
            "PULL_REQUEST": "" if self.pull_request is None else str(self.pull_request),
            "COMMIT": self.commit or "",
            "AUTHOR": self.author or "",
            "REPOSITORY": self.repository or "",
        }
        if self.package_url:
            values["PACKAGE_URL"] = self.package_url
        return values


class RetryableError(Exception):
    """A failure worth another attempt: no connection, or a 5xx response."""


def require(environ: Mapping[str, str], name: str, purpose: str) -> str:
    value = environ.get(name)
    if not value:
        raise FatalError(
            f"{name} is not set; set it to {purpose} in the trigger step's " f"environment"
        )
    return value


def without_userinfo(url: str) -> str:
    """Return `url` without any user or password in it, for messages."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def first_line(text: str) -> str:
    stripped = text.strip()
    return stripped.splitlines()[0][:200] if stripped else "(empty body)"


def with_retries(what: str, attempt: Any, policy: RetryPolicy) -> Any:
    """Call `attempt()` until it succeeds, sleeping between RetryableError failures."""
    delays = policy.delays()
    for number in range(1, policy.attempts + 1):
        try:
            return attempt()
        except RetryableError as error:
            if number == policy.attempts:
                raise FatalError(
                    f"{what} failed after {number} attempts: {error}; check "
                    f"that the scoring engine is up and trigger again"
                ) from None
            wait = delays[number - 1]
            logger.warning(
                "%s failed (attempt %d of %d): %s; retrying in %.2f s",
                what,
                number,
                policy.attempts,
                error,
                wait,
            )
            time.sleep(wait)
    raise AssertionError("unreachable")


def trigger_local(trigger: Trigger, spool: Path | None = None) -> str:
    from tooling.scoring.spool import enqueue, spool_folder

    folder = spool or spool_folder()
    record = enqueue(trigger.package, trigger.sha256, trigger.origin(), folder)
    return f"queued in the local spool as {record.name}"


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def jenkins_url(environ: Mapping[str, str]) -> str:
    base = require(environ, "JENKINS_URL", "the Jenkins server's address").rstrip("/")
    parsed = urllib.parse.urlsplit(base)
    # The user and API token go in a basic-auth header, readable on the way over plain HTTP.
    if parsed.scheme != "https" and parsed.hostname not in LOOPBACK_HOSTS:
        raise FatalError(
            f"insecure Jenkins address, JENKINS_URL={without_userinfo(base)!r}: the API token "
            f"would be sent unencrypted; use an https:// address"
        )
    job = require(
        environ, "JENKINS_JOB", "the scoring job's name (folder/name for a job " "inside a folder)"
    )
    path = "".join(f"/job/{urllib.parse.quote(part, safe='')}" for part in job.split("/") if part)
    return f"{base}{path}/buildWithParameters"


def trigger_jenkins(trigger: Trigger, environ: Mapping[str, str], policy: RetryPolicy) -> str:
    """POST the package and its fields to the Jenkins job; return the queue item's URL."""
    import requests

    url = jenkins_url(environ)
    auth = (
        require(environ, "JENKINS_USER", "the Jenkins user that triggers scoring"),
        require(environ, "JENKINS_API_TOKEN", "that user's Jenkins API token"),
    )
    shown = without_userinfo(url)

    def attempt() -> requests.Response:
        # NOTE: requests builds the multipart body in memory, so the whole zip is in memory
        # once: up to about MAX_TOTAL_BYTES of tooling.packaging, 2 GiB, for a zip of data
        # that does not compress.
        with trigger.package.open("rb") as stream:
            files = {JENKINS_FILE_PARAMETER: (trigger.package.name, stream, "application/zip")}
            try:
                response = requests.post(
                    url,
                    data=trigger.parameters(),
                    files=files,
                    auth=auth,
                    timeout=REQUEST_TIMEOUT_SECONDS,
                )
            except requests.ConnectionError as error:
                raise RetryableError(f"no connection to {shown}: {type(error).__name__}") from None
            except requests.Timeout:
                raise RetryableError(
                    f"no response from {shown} within " f"{REQUEST_TIMEOUT_SECONDS} s"
                ) from None
        if response.status_code >= 500:
            raise RetryableError(
                f"{response.status_code} {response.reason}: " f"{first_line(response.text)}"
            )
        return response

    response = with_retries(f"triggering Jenkins at {shown}", attempt, policy)
    if response.status_code >= 400:
        raise FatalError(
            f"Jenkins rejected the build request at {shown}, {response.status_code} "
            f"{response.reason}: {first_line(response.text)}; check JENKINS_JOB, the job's "
            f"parameters and the user's permission to build it"
        )
    queued = response.headers.get("Location", "")
    return f"queued on Jenkins as {without_userinfo(queued) if queued else shown}"


def trigger_github(trigger: Trigger, environ: Mapping[str, str], policy: RetryPolicy) -> str:
    """Start the private scoring repository's workflow with the package's URL and sha256."""
    from github import GithubRetry

    from tooling.github import API_URL_VARIABLE, DEFAULT_API_URL, GitHub

    if not trigger.package_url:
        raise FatalError(
            "no package URL for the github backend; pass --package-url with "
            "the address the scoring workflow downloads the zip from"
        )
    repository = require(
        environ, "SCORING_REPOSITORY", "OWNER/NAME of the private scoring " "repository"
    )
    token = require(
        environ,
        "SCORING_TOKEN",
        "a token that may run that repository's " "workflows (actions: write)",
    )
    workflow = environ.get("SCORING_WORKFLOW") or DEFAULT_SCORING_WORKFLOW
    ref = environ.get("SCORING_REF") or "main"
    # PyGithub's retry repeats connection errors and 5xx responses with this backoff.
    retry = GithubRetry(
        total=policy.attempts - 1, backoff_factor=policy.delay, backoff_max=policy.max_delay
    )
    client = GitHub(
        repository, token, environ.get(API_URL_VARIABLE) or DEFAULT_API_URL, retry=retry
    )
    inputs = {name.lower(): value for name, value in trigger.parameters().items()}
    # GitHub.call turns a connection error or an API error into a FatalError.
    client.dispatch_workflow(workflow, ref, inputs)
    return f"dispatched {workflow} on {repository}@{ref}"


def send(
    trigger: Trigger,
    backend: str,
    environ: Mapping[str, str] | None = None,
    policy: RetryPolicy | None = None,
    spool: Path | None = None,
) -> str:
    """Hand `trigger` to `backend`; return a line saying where it went."""
    environ = os.environ if environ is None else environ
    policy = policy or RetryPolicy()
    if backend == "local":
        return trigger_local(trigger, spool)
    if backend == "jenkins":
        return trigger_jenkins(trigger, environ, policy)
    if backend == "github":
        return trigger_github(trigger, environ, policy)
    raise FatalError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")


COMMENT_MARKER = "<!-- brainscore-scoring: package -->"


def last_merge_commit(repository_root: Path, submission: str) -> str | None:
    """Return the latest first-parent commit on HEAD that touched `submissions/<name>`."""
    import subprocess

    result = subprocess.run(
        ["git", "log", "-1", "--first-parent", "--format=%H", "--", f"submissions/{submission}"],
        cwd=repository_root,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or None if result.returncode == 0 else None


def announcement(triggers: list[Trigger]) -> str:
    """Return the PR comment: packages and their sha256, and that results go by email."""
    lines = [
        COMMENT_MARKER,
        "### Sent for scoring",
        "",
        "| submission | package sha256 |",
        "|---|---|",
    ]
    lines += [f"| `{trigger.submission}` | `{trigger.sha256}` |" for trigger in triggers]
    lines += [
        "",
        "The results will be emailed to the pull request's author. Scores are not posted "
        "here or anywhere public without the author's approval.",
    ]
    return "\n".join(lines)

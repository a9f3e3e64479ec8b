"""Everything that talks to the GitHub REST API, through PyGithub.

The token comes from the `GITHUB_TOKEN` environment variable only and is never logged or
put in a message. The API address comes from `GITHUB_API_URL`, which GitHub Actions sets
(it differs on GitHub Enterprise Server), so that tests can point it at a local server.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from tooling.errors import FatalError

logger = logging.getLogger(__name__)

TOKEN_VARIABLE = "GITHUB_TOKEN"
API_URL_VARIABLE = "GITHUB_API_URL"
REPOSITORY_VARIABLE = "GITHUB_REPOSITORY"
BOT_LOGIN_VARIABLE = "GITHUB_BOT_LOGIN"
# The account that a workflow's GITHUB_TOKEN acts as; a GitHub App token acts as
# `<app-slug>[bot]` instead, which GITHUB_BOT_LOGIN then names.
DEFAULT_BOT_LOGIN = "github-actions[bot]"
DEFAULT_API_URL = "https://api.github.com"
# PyGithub's default retry policy, which backs off on rate-limit responses and server errors.
DEFAULT_RETRY = "default"

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class PullRequestInfo:
    """The fields of a pull request that the workflows act on."""

    number: int
    title: str
    author: str
    head_ref: str
    head_sha: str
    base_ref: str
    state: str
    merged: bool
    merge_commit_sha: str | None
    labels: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class ChangedFile:
    """A file that a pull request adds, modifies, removes or renames."""

    filename: str
    status: str
    previous_filename: str | None = None


@dataclasses.dataclass(frozen=True)
class CommentResult:
    id: int
    url: str
    created: bool


class GitHub:
    """One repository on GitHub, reached through PyGithub with a token.

    `retry` is PyGithub's retry setting (None turns retries off, as tests do against a
    local server). `bot_login` is the account the token acts as, whose comments the
    tooling edits. Requests are not spaced out: each command makes a handful of them,
    far below GitHub's secondary rate limits.
    """

    def __init__(
        self,
        repository: str,
        token: str,
        base_url: str = DEFAULT_API_URL,
        retry: Any = DEFAULT_RETRY,
        timeout: int = 30,
        bot_login: str = DEFAULT_BOT_LOGIN,
    ) -> None:
        from github import Auth, Github

        options: dict[str, Any] = {}
        if retry != DEFAULT_RETRY:
            options["retry"] = retry
        self.repository_name = repository
        self.bot_login = bot_login
        self.base_url = base_url.rstrip("/")
        self.client = Github(
            auth=Auth.Token(token),
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            seconds_between_requests=0,
            seconds_between_writes=0,
            **options,
        )
        self._repository: Any = None

    @classmethod
    def from_environment(
        cls, repository: str | None = None, environ: Mapping[str, str] | None = None, **options: Any
    ) -> GitHub:
        """Connect with the token, API address and repository that GitHub Actions sets.

        The bot login comes from GITHUB_BOT_LOGIN, unless `options` names it.
        """
        environ = os.environ if environ is None else environ
        token = environ.get(TOKEN_VARIABLE)
        if not token:
            raise FatalError(
                f"no GitHub token, {TOKEN_VARIABLE} is not set; pass the "
                f"workflow's token in the step's env"
            )
        repository = repository or environ.get(REPOSITORY_VARIABLE)
        if not repository or repository.count("/") != 1:
            raise FatalError(
                f"no repository, {REPOSITORY_VARIABLE}={repository!r}; "
                f"set it to OWNER/NAME or pass --repository"
            )
        base_url = environ.get(API_URL_VARIABLE) or DEFAULT_API_URL
        options.setdefault("bot_login", environ.get(BOT_LOGIN_VARIABLE) or DEFAULT_BOT_LOGIN)
        return cls(repository, token, base_url, **options)

    @property
    def repository(self) -> Any:
        if self._repository is None:
            self._repository = self.call(
                f"repository {self.repository_name}",
                lambda: self.client.get_repo(self.repository_name),
            )
        return self._repository

    def call(self, what: str, function: Any) -> Any:
        """Run one PyGithub call and turn an API error into a FatalError about `what`."""
        import requests
        from github import GithubException

        try:
            return function()
        except requests.RequestException as error:
            raise FatalError(
                f"GitHub API request failed, {what}: {type(error).__name__}; check that "
                f"GITHUB_API_URL ({self.base_url}) is reachable and try again"
            ) from None
        except GithubException as error:
            message = error.data.get("message") if isinstance(error.data, dict) else None
            raise FatalError(
                f"GitHub API request failed, {what}: {error.status} {message or ''}".rstrip()
                + "; "
                + advice_for(error.status)
            ) from None

    # Pull requests.

    def pull(self, number: int) -> Any:
        return self.call(f"pull request #{number}", lambda: self.repository.get_pull(number))

    def pull_request(self, number: int) -> PullRequestInfo:
        return pull_request_info(self.pull(number))

    def pull_request_author(self, number: int) -> str:
        return self.pull_request(number).author

    def pull_request_files(self, number: int) -> list[ChangedFile]:
        """Return the files a pull request changes; GitHub lists at most 3000 of them."""
        pull = self.pull(number)
        files = self.call(f"files of pull request #{number}", lambda: list(pull.get_files()))
        return [ChangedFile(file.filename, file.status, file.previous_filename) for file in files]

    def commit_author_emails(self, number: int) -> list[str]:
        """Return the distinct author emails of a pull request's commits, in commit order."""
        pull = self.pull(number)
        commits = self.call(f"commits of pull request #{number}", lambda: list(pull.get_commits()))
        emails = (commit.commit.author.email for commit in commits if commit.commit.author)
        return unique(email for email in emails if email)

    def merged_pull_request(self, sha: str) -> PullRequestInfo | None:
        """Return the merged pull request whose merge (or squash) commit is `sha`."""
        commit = self.call(f"commit {sha}", lambda: self.repository.get_commit(sha))
        pulls = self.call(f"pull requests of commit {sha}", lambda: list(commit.get_pulls()))
        merged = [pull for pull in pulls if pull.merged_at is not None]
        exact = [pull for pull in merged if pull.merge_commit_sha == sha]
        chosen = (exact or merged or [None])[0]
        return None if chosen is None else pull_request_info(chosen)

    # Labels.

    def labels(self, number: int) -> set[str]:
        pull = self.pull(number)
        labels = self.call(f"labels of #{number}", lambda: list(pull.get_labels()))
        return {label.name for label in labels}

    def update_labels(
        self, number: int, add: Iterable[str] = (), remove: Iterable[str] = ()
    ) -> set[str]:
        """Add and remove labels on a pull request; return the labels it ends up with."""
        pull = self.pull(number)
        current = {label.name for label in pull.labels}
        missing = sorted(set(add) - current)
        if missing:
            self.call(f"adding labels to #{number}", lambda: pull.add_to_labels(*missing))
        for name in sorted(set(remove) & current):
            self.call(
                f"removing label {name!r} from #{number}",
                lambda name=name: pull.remove_from_labels(name),
            )
        logger.info(
            "labels of #%d: added %s, removed %s",
            number,
            missing or "none",
            sorted(set(remove) & current) or "none",
        )
        return (current | set(missing)) - set(remove)

    # Comments.

    def find_comment(self, number: int, marker: str) -> Any:
        """Return the bot's comment on #number whose body starts with `marker`, or None.

        Only comments by `bot_login` count, so that a comment that someone, or another
        bot or GitHub App, pastes the marker into is never mistaken for the report.
        """
        pull = self.pull(number)
        comments = self.call(f"comments of #{number}", lambda: list(pull.get_issue_comments()))
        for comment in comments:
            if is_bot_comment(comment, self.bot_login) and comment.body.startswith(marker):
                return comment
        return None

    def upsert_comment(self, number: int, marker: str, body: str) -> CommentResult:
        """Edit the bot's comment marked with `marker`, or create it when there is none."""
        if not body.startswith(marker):
            body = f"{marker}\n{body}"
        comment = self.find_comment(number, marker)
        if comment is None:
            pull = self.pull(number)
            comment = self.call(f"commenting on #{number}", lambda: pull.create_issue_comment(body))
            logger.info("created comment %d on #%d", comment.id, number)
            return CommentResult(comment.id, comment.html_url, created=True)
        self.call(f"editing comment {comment.id}", lambda: comment.edit(body))
        logger.info("edited comment %d on #%d", comment.id, number)
        return CommentResult(comment.id, comment.html_url, created=False)

    # Commit statuses, users and workflows.

    def set_status(
        self, sha: str, state: str, context: str, description: str, target_url: str | None = None
    ) -> None:
        """Set a commit status; GitHub cuts descriptions at 140 characters."""
        from github.GithubObject import NotSet

        commit = self.call(f"commit {sha}", lambda: self.repository.get_commit(sha))
        self.call(
            f"status {context!r} of {sha}",
            lambda: commit.create_status(
                state=state,
                context=context,
                description=description[:140],
                target_url=target_url or NotSet,
            ),
        )

    def user_public_email(self, login: str) -> str | None:
        """Return the email a user shows on their public profile, or None when hidden."""
        user = self.call(f"user {login}", lambda: self.client.get_user(login))
        return user.email or None

    def dispatch_workflow(
        self, workflow: str, ref: str, inputs: Mapping[str, str] | None = None
    ) -> None:
        """Start a `workflow_dispatch` run of `workflow` (file name or id) on `ref`."""
        found = self.call(f"workflow {workflow}", lambda: self.repository.get_workflow(workflow))
        self.call(
            f"dispatching workflow {workflow} on {ref}",
            lambda: found.create_dispatch(ref, dict(inputs or {}), throw=True),
        )
        logger.info("dispatched workflow %s on %s", workflow, ref)


def is_bot_comment(comment: Any, bot_login: str) -> bool:
    user = comment.user
    return user is not None and user.type == "Bot" and user.login == bot_login


def pull_request_info(pull: Any) -> PullRequestInfo:
    return PullRequestInfo(
        number=pull.number,
        title=pull.title,
        author=pull.user.login,
        head_ref=pull.head.ref,
        head_sha=pull.head.sha,
        base_ref=pull.base.ref,
        state=pull.state,
        merged=pull.merged_at is not None,
        merge_commit_sha=pull.merge_commit_sha,
        labels=tuple(label.name for label in pull.labels),
    )


def advice_for(status: int) -> str:
    if status in (401, 403):
        return "check GITHUB_TOKEN and the permissions that the workflow job declares"
    if status == 404:
        return "check the repository name, the number or name requested and the token's access"
    return "correct the request that GitHub's message describes"


def unique(items: Iterable[T]) -> list[T]:
    return list(dict.fromkeys(items))


EVENT_PATH_VARIABLE = "GITHUB_EVENT_PATH"


def load_event(path: str | None = None) -> dict[str, Any]:
    """Return the webhook payload of the running workflow, or {} outside GitHub Actions.

    The runner writes it to the file that `GITHUB_EVENT_PATH` names. Every field in it
    that a pull request's author controls is untrusted text.
    """
    path = path or os.environ.get(EVENT_PATH_VARIABLE)
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as file:
            event = json.load(file)
    except (OSError, ValueError) as error:
        raise FatalError(
            f"cannot read the event payload, {path}: {error}; " f"check {EVENT_PATH_VARIABLE}"
        ) from None
    if not isinstance(event, dict):
        raise FatalError(
            f"invalid event payload, {path}: not a JSON object; " f"check {EVENT_PATH_VARIABLE}"
        )
    return event


def event_labels(event: Mapping[str, Any]) -> set[str]:
    """Return the label names of the pull request in a `pull_request` event payload."""
    labels = (event.get("pull_request") or {}).get("labels") or []
    return {label["name"] for label in labels if isinstance(label, dict) and "name" in label}

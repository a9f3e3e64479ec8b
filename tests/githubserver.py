"""A local GitHub-shaped REST API server for tests.

It serves the endpoints that tooling.github calls, from a small in-memory state, on
127.0.0.1 with a free port. Response bodies start from the examples in GitHub's own
REST API description (tests/github_examples.json, derived by
tests/derive_github_examples.py), so they carry every documented field. The fields that
the tooling reads are filled from the state, and every `url` points back at this server
because PyGithub follows them.

Every request is recorded in `FakeGitHub.requests`, so that a test can assert what the
tooling sent. A request without the expected token gets 401, as from GitHub.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

EXAMPLES: dict[str, Any] = json.loads(
    Path(__file__).with_name("github_examples.json").read_text(encoding="utf-8")
)
EXAMPLE_API = "https://api.github.com"
EXAMPLE_REPOSITORY = "octocat/Hello-World"
TIMESTAMP = "2026-01-01T00:00:00Z"
MAX_PER_PAGE = 100
# The bot that the workflow token acts as; it authors the comments the tooling posts.
TOKEN_LOGIN = "github-actions[bot]"


@dataclasses.dataclass
class User:
    login: str
    id: int
    name: str | None = None
    email: str | None = None  # the public email on the profile, None when hidden


@dataclasses.dataclass
class Commit:
    sha: str
    message: str = "Add a submission"
    author_name: str = "Ada Lovelace"
    author_email: str = "ada@example.org"
    author_login: str | None = None  # the GitHub account the email belongs to, if any


@dataclasses.dataclass
class PullRequest:
    number: int
    title: str
    author: str
    head_ref: str
    head_sha: str
    base_ref: str = "main"
    base_sha: str = "0" * 40
    body: str = ""
    state: str = "open"
    merged: bool = False
    merge_commit_sha: str | None = None
    labels: list[str] = dataclasses.field(default_factory=list)
    # Each file is {"filename": ..., "status": ...}; a rename also has "previous_filename".
    files: list[dict[str, str]] = dataclasses.field(default_factory=list)
    commits: list[Commit] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Comment:
    id: int
    issue: int
    body: str
    author: str = TOKEN_LOGIN


@dataclasses.dataclass
class Workflow:
    id: int
    path: str
    name: str
    # The inputs the workflow declares under on.workflow_dispatch; others are rejected.
    inputs: tuple[str, ...] = ()


@dataclasses.dataclass
class Repository:
    full_name: str
    id: int
    default_branch: str = "main"
    pulls: dict[int, PullRequest] = dataclasses.field(default_factory=dict)
    comments: dict[int, Comment] = dataclasses.field(default_factory=dict)
    statuses: dict[str, list[dict[str, Any]]] = dataclasses.field(default_factory=dict)
    workflows: dict[int, Workflow] = dataclasses.field(default_factory=dict)
    dispatches: list[dict[str, Any]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any


class NotFound(Exception):
    pass


class Invalid(Exception):
    """A request that GitHub rejects with 422 Unprocessable Entity."""


def fake_sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


class FakeGitHub:
    """The server's state and the JSON bodies it serves from it."""

    def __init__(self, token: str = "test-token") -> None:
        self.token = token
        self.base_url = ""
        self.repositories: dict[str, Repository] = {}
        self.users: dict[str, User] = {}
        self.requests: list[Request] = []
        self._next_id = 1000
        self.lock = threading.Lock()
        self.add_user(TOKEN_LOGIN)

    # State set-up, for tests.

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def add_user(self, login: str, name: str | None = None, email: str | None = None) -> User:
        user = User(login=login, id=self.new_id(), name=name, email=email)
        self.users[login] = user
        return user

    def add_repository(self, full_name: str, default_branch: str = "main") -> Repository:
        repository = Repository(full_name, self.new_id(), default_branch)
        self.repositories[full_name] = repository
        return repository

    def add_pull(self, full_name: str, pull: PullRequest) -> PullRequest:
        if pull.author not in self.users:
            self.add_user(pull.author)
        self.repositories[full_name].pulls[pull.number] = pull
        return pull

    def add_workflow(self, full_name: str, path: str, inputs: tuple[str, ...] = ()) -> Workflow:
        workflow = Workflow(self.new_id(), path, Path(path).stem, inputs)
        self.repositories[full_name].workflows[workflow.id] = workflow
        return workflow

    def comments_on(self, full_name: str, number: int) -> list[Comment]:
        comments = self.repositories[full_name].comments.values()
        return [comment for comment in comments if comment.issue == number]

    def requests_of(self, method: str) -> list[Request]:
        return [request for request in self.requests if request.method == method]

    # JSON bodies.

    def template(self, name: str, full_name: str) -> dict[str, Any]:
        """Return a deep copy of a documented example with its URLs pointing here."""
        text = json.dumps(EXAMPLES[name])
        text = text.replace(
            f"{EXAMPLE_API}/repos/{EXAMPLE_REPOSITORY}", f"{self.base_url}/repos/{full_name}"
        )
        text = text.replace(EXAMPLE_API, self.base_url)
        return json.loads(text)

    def user_json(self, login: str, full: bool = False) -> dict[str, Any]:
        user = self.users.get(login) or User(login, 0)
        body = self.template("user", "")
        if not full:
            body = {
                key: value
                for key, value in body.items()
                if key in EXAMPLES["issue-comment"]["user"]
            }
        body.update(
            login=user.login,
            id=user.id,
            url=f"{self.base_url}/users/{user.login}",
            html_url=f"https://github.com/{user.login}",
            type="Bot" if user.login.endswith("[bot]") else "User",
        )
        if full:
            body.update(name=user.name, email=user.email)
        return body

    def repository_json(self, repository: Repository) -> dict[str, Any]:
        body = self.template("repository", repository.full_name)
        owner = repository.full_name.split("/")[0]
        body.update(
            id=repository.id,
            name=repository.full_name.split("/")[1],
            full_name=repository.full_name,
            default_branch=repository.default_branch,
            url=f"{self.base_url}/repos/{repository.full_name}",
            html_url=f"https://github.com/{repository.full_name}",
        )
        body["owner"] = self.user_json(owner)
        return body

    def label_json(self, repository: Repository, name: str) -> dict[str, Any]:
        body = self.template("label", repository.full_name)
        quoted = urllib.parse.quote(name)
        body.update(
            id=int(fake_sha(name)[:8], 16),
            name=name,
            default=False,
            description=None,
            url=f"{self.base_url}/repos/{repository.full_name}/labels/{quoted}",
        )
        return body

    def pull_json(
        self, repository: Repository, pull: PullRequest, simple: bool = False
    ) -> dict[str, Any]:
        body = self.template(
            "pull-request-simple" if simple else "pull-request", repository.full_name
        )
        api = f"{self.base_url}/repos/{repository.full_name}"
        body.update(
            id=pull.number + 100000,
            number=pull.number,
            title=pull.title,
            body=pull.body,
            state=pull.state,
            merge_commit_sha=pull.merge_commit_sha,
            merged_at=TIMESTAMP if pull.merged else None,
            closed_at=TIMESTAMP if pull.state == "closed" else None,
            url=f"{api}/pulls/{pull.number}",
            issue_url=f"{api}/issues/{pull.number}",
            comments_url=f"{api}/issues/{pull.number}/comments",
            commits_url=f"{api}/pulls/{pull.number}/commits",
            review_comments_url=f"{api}/pulls/{pull.number}/comments",
            statuses_url=f"{api}/statuses/{pull.head_sha}",
            html_url=f"https://github.com/{repository.full_name}/pull/{pull.number}",
            user=self.user_json(pull.author),
            labels=[self.label_json(repository, name) for name in pull.labels],
        )
        for side, ref, sha in (
            ("head", pull.head_ref, pull.head_sha),
            ("base", pull.base_ref, pull.base_sha),
        ):
            body[side].update(
                ref=ref,
                sha=sha,
                label=f"{pull.author}:{ref}",
                repo=self.repository_json(repository),
            )
        if not simple:
            body.update(
                merged=pull.merged, commits=len(pull.commits), changed_files=len(pull.files)
            )
        return body

    def file_json(
        self, repository: Repository, pull: PullRequest, file: dict[str, str]
    ) -> dict[str, Any]:
        body = self.template("pull-request-file", repository.full_name)
        body.update(
            filename=file["filename"],
            status=file["status"],
            sha=fake_sha(file["filename"]),
            contents_url=f"{self.base_url}/repos/{repository.full_name}/contents/"
            f"{urllib.parse.quote(file['filename'])}?ref={pull.head_sha}",
        )
        if "previous_filename" in file:
            body["previous_filename"] = file["previous_filename"]
        return body

    def commit_json(
        self, repository: Repository, commit: Commit, name: str = "pull-request-commit"
    ) -> dict[str, Any]:
        body = self.template(name, repository.full_name)
        body.update(
            sha=commit.sha, url=f"{self.base_url}/repos/{repository.full_name}/commits/{commit.sha}"
        )
        body["commit"]["message"] = commit.message
        body["commit"]["author"].update(name=commit.author_name, email=commit.author_email)
        body["author"] = self.user_json(commit.author_login) if commit.author_login else None
        return body

    def comment_json(self, repository: Repository, comment: Comment) -> dict[str, Any]:
        body = self.template("issue-comment", repository.full_name)
        api = f"{self.base_url}/repos/{repository.full_name}"
        body.update(
            id=comment.id,
            body=comment.body,
            user=self.user_json(comment.author),
            url=f"{api}/issues/comments/{comment.id}",
            issue_url=f"{api}/issues/{comment.issue}",
            html_url=f"https://github.com/{repository.full_name}/pull/"
            f"{comment.issue}#issuecomment-{comment.id}",
        )
        return body

    def workflow_json(self, repository: Repository, workflow: Workflow) -> dict[str, Any]:
        body = self.template("workflow", repository.full_name)
        body.update(
            id=workflow.id,
            name=workflow.name,
            path=workflow.path,
            url=f"{self.base_url}/repos/{repository.full_name}/actions/workflows/" f"{workflow.id}",
        )
        return body


Route = tuple[str, re.Pattern[str], Callable[..., tuple[int, Any]]]


class Handlers:
    """The endpoints, each returning (HTTP status, JSON body or None)."""

    def __init__(self, state: FakeGitHub) -> None:
        self.state = state
        repo = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
        self.routes: list[Route] = [
            ("GET", rf"{repo}", self.get_repository),
            ("GET", rf"{repo}/pulls/(?P<number>\d+)", self.get_pull),
            ("GET", rf"{repo}/pulls/(?P<number>\d+)/files", self.list_files),
            ("GET", rf"{repo}/pulls/(?P<number>\d+)/commits", self.list_commits),
            ("GET", rf"{repo}/issues/(?P<number>\d+)/comments", self.list_comments),
            ("POST", rf"{repo}/issues/(?P<number>\d+)/comments", self.create_comment),
            ("GET", rf"{repo}/issues/comments/(?P<id>\d+)", self.get_comment),
            ("PATCH", rf"{repo}/issues/comments/(?P<id>\d+)", self.edit_comment),
            ("GET", rf"{repo}/issues/(?P<number>\d+)/labels", self.list_labels),
            ("POST", rf"{repo}/issues/(?P<number>\d+)/labels", self.add_labels),
            ("DELETE", rf"{repo}/issues/(?P<number>\d+)/labels/(?P<name>[^/]+)", self.remove_label),
            ("GET", rf"{repo}/commits/(?P<sha>[0-9a-f]{{40}})", self.get_commit),
            ("GET", rf"{repo}/commits/(?P<sha>[0-9a-f]{{40}})/pulls", self.list_commit_pulls),
            ("GET", rf"{repo}/commits/(?P<sha>[0-9a-f]{{40}})/statuses", self.list_statuses),
            ("POST", rf"{repo}/statuses/(?P<sha>[0-9a-f]{{40}})", self.create_status),
            ("GET", rf"{repo}/actions/workflows/(?P<workflow>[^/]+)", self.get_workflow),
            (
                "POST",
                rf"{repo}/actions/workflows/(?P<workflow>[^/]+)/dispatches",
                self.dispatch_workflow,
            ),
            ("GET", r"/users/(?P<login>[^/]+)", self.get_user),
        ]
        self.routes = [
            (method, re.compile(pattern + "$"), handler) for method, pattern, handler in self.routes
        ]

    def repository(self, owner: str, repo: str) -> Repository:
        repository = self.state.repositories.get(f"{owner}/{repo}")
        if repository is None:
            raise NotFound
        return repository

    def pull(self, owner: str, repo: str, number: str) -> tuple[Repository, PullRequest]:
        repository = self.repository(owner, repo)
        pull = repository.pulls.get(int(number))
        if pull is None:
            raise NotFound
        return repository, pull

    def get_repository(self, request: Request, owner: str, repo: str) -> tuple[int, Any]:
        return 200, self.state.repository_json(self.repository(owner, repo))

    def get_pull(self, request: Request, owner: str, repo: str, number: str) -> tuple[int, Any]:
        repository, pull = self.pull(owner, repo, number)
        return 200, self.state.pull_json(repository, pull)

    def list_files(self, request: Request, owner: str, repo: str, number: str) -> tuple[int, Any]:
        repository, pull = self.pull(owner, repo, number)
        # GitHub lists at most 3000 files of a pull request.
        return 200, [self.state.file_json(repository, pull, file) for file in pull.files[:3000]]

    def list_commits(self, request: Request, owner: str, repo: str, number: str) -> tuple[int, Any]:
        repository, pull = self.pull(owner, repo, number)
        return 200, [self.state.commit_json(repository, commit) for commit in pull.commits]

    def list_comments(
        self, request: Request, owner: str, repo: str, number: str
    ) -> tuple[int, Any]:
        repository, pull = self.pull(owner, repo, number)
        comments = self.state.comments_on(repository.full_name, pull.number)
        return 200, [self.state.comment_json(repository, comment) for comment in comments]

    def create_comment(
        self, request: Request, owner: str, repo: str, number: str
    ) -> tuple[int, Any]:
        repository, pull = self.pull(owner, repo, number)
        body = require_string(request.body, "body")
        comment = Comment(self.state.new_id(), pull.number, body)
        repository.comments[comment.id] = comment
        return 201, self.state.comment_json(repository, comment)

    def comment(self, owner: str, repo: str, id: str) -> tuple[Repository, Comment]:
        repository = self.repository(owner, repo)
        comment = repository.comments.get(int(id))
        if comment is None:
            raise NotFound
        return repository, comment

    def get_comment(self, request: Request, owner: str, repo: str, id: str) -> tuple[int, Any]:
        repository, comment = self.comment(owner, repo, id)
        return 200, self.state.comment_json(repository, comment)

    def edit_comment(self, request: Request, owner: str, repo: str, id: str) -> tuple[int, Any]:
        repository, comment = self.comment(owner, repo, id)
        comment.body = require_string(request.body, "body")
        return 200, self.state.comment_json(repository, comment)

    def labels_json(self, repository: Repository, pull: PullRequest) -> list[dict[str, Any]]:
        return [self.state.label_json(repository, name) for name in pull.labels]

    def list_labels(self, request: Request, owner: str, repo: str, number: str) -> tuple[int, Any]:
        repository, pull = self.pull(owner, repo, number)
        return 200, self.labels_json(repository, pull)

    def add_labels(self, request: Request, owner: str, repo: str, number: str) -> tuple[int, Any]:
        repository, pull = self.pull(owner, repo, number)
        # GitHub documents both a bare list and {"labels": [...]}, of names or {"name": ...}.
        items = request.body.get("labels") if isinstance(request.body, dict) else request.body
        if not isinstance(items, list):
            raise Invalid("labels must be a list")
        names = [item.get("name") if isinstance(item, dict) else item for item in items]
        if not all(isinstance(name, str) for name in names):
            raise Invalid("each label must be a string or an object with a name")
        pull.labels += [name for name in names if name not in pull.labels]
        return 200, self.labels_json(repository, pull)

    def remove_label(
        self, request: Request, owner: str, repo: str, number: str, name: str
    ) -> tuple[int, Any]:
        repository, pull = self.pull(owner, repo, number)
        name = urllib.parse.unquote(name)
        if name not in pull.labels:
            raise NotFound
        pull.labels.remove(name)
        return 200, self.labels_json(repository, pull)

    def known_commits(self, repository: Repository) -> dict[str, Commit]:
        commits = {}
        for pull in repository.pulls.values():
            commits |= {commit.sha: commit for commit in pull.commits}
            for sha in (pull.head_sha, pull.merge_commit_sha):
                if sha and sha not in commits:
                    commits[sha] = Commit(sha)
        return commits

    def get_commit(self, request: Request, owner: str, repo: str, sha: str) -> tuple[int, Any]:
        repository = self.repository(owner, repo)
        commit = self.known_commits(repository).get(sha)
        if commit is None:
            raise Invalid(f"No commit found for SHA: {sha}")
        return 200, self.state.commit_json(repository, commit, "commit")

    def list_commit_pulls(
        self, request: Request, owner: str, repo: str, sha: str
    ) -> tuple[int, Any]:
        repository = self.repository(owner, repo)
        pulls = [
            pull
            for pull in repository.pulls.values()
            if pull.merge_commit_sha == sha
            or pull.head_sha == sha
            or any(commit.sha == sha for commit in pull.commits)
        ]
        return 200, [self.state.pull_json(repository, pull, simple=True) for pull in pulls]

    def list_statuses(self, request: Request, owner: str, repo: str, sha: str) -> tuple[int, Any]:
        repository = self.repository(owner, repo)
        return 200, list(reversed(repository.statuses.get(sha, [])))

    def create_status(self, request: Request, owner: str, repo: str, sha: str) -> tuple[int, Any]:
        repository = self.repository(owner, repo)
        fields = request.body if isinstance(request.body, dict) else {}
        if fields.get("state") not in ("error", "failure", "pending", "success"):
            raise Invalid("state must be one of error, failure, pending, success")
        body = self.state.template("status", repository.full_name)
        status_id = self.state.new_id()
        body.update(
            id=status_id,
            state=fields["state"],
            context=fields.get("context", "default"),
            description=fields.get("description"),
            target_url=fields.get("target_url"),
            url=f"{self.state.base_url}/repos/{repository.full_name}/statuses/{sha}",
            creator=self.state.user_json(TOKEN_LOGIN),
        )
        repository.statuses.setdefault(sha, []).append(body)
        return 201, body

    def workflow(self, repository: Repository, key: str) -> Workflow:
        for workflow in repository.workflows.values():
            if key in (str(workflow.id), Path(workflow.path).name):
                return workflow
        raise NotFound

    def get_workflow(
        self, request: Request, owner: str, repo: str, workflow: str
    ) -> tuple[int, Any]:
        repository = self.repository(owner, repo)
        return 200, self.state.workflow_json(repository, self.workflow(repository, workflow))

    def dispatch_workflow(
        self, request: Request, owner: str, repo: str, workflow: str
    ) -> tuple[int, Any]:
        repository = self.repository(owner, repo)
        found = self.workflow(repository, workflow)
        fields = request.body if isinstance(request.body, dict) else {}
        ref = require_string(fields, "ref")
        inputs = fields.get("inputs") or {}
        unexpected = sorted(set(inputs) - set(found.inputs))
        if unexpected:
            raise Invalid(f"Unexpected inputs provided: {unexpected}")
        repository.dispatches.append({"workflow": found.path, "ref": ref, "inputs": inputs})
        return 204, None

    def get_user(self, request: Request, login: str) -> tuple[int, Any]:
        if login not in self.state.users:
            raise NotFound
        return 200, self.state.user_json(login, full=True)


def require_string(body: Any, field: str) -> str:
    value = body.get(field) if isinstance(body, dict) else None
    if not isinstance(value, str):
        raise Invalid(f"{field} is missing or not a string")
    return value


def paginate(items: list[Any], request: Request, base_url: str) -> tuple[list[Any], str | None]:
    """Return one page of `items` and the Link header GitHub would send with it."""
    per_page = min(int(request.query.get("per_page", ["30"])[0]), MAX_PER_PAGE)
    page = max(int(request.query.get("page", ["1"])[0]), 1)
    last = max((len(items) + per_page - 1) // per_page, 1)
    links = []
    for relation, number in (("next", page + 1), ("last", last)):
        if page < last:
            query = urllib.parse.urlencode({"per_page": per_page, "page": number})
            links.append(f'<{base_url}{request.path}?{query}>; rel="{relation}"')
    return items[(page - 1) * per_page : page * per_page], ", ".join(links) or None


def make_handler_class(state: FakeGitHub, handlers: Handlers) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # Tests read FakeGitHub.requests instead of a log on stderr.

        def do_GET(self) -> None:
            self.answer("GET")

        def do_POST(self) -> None:
            self.answer("POST")

        def do_PATCH(self) -> None:
            self.answer("PATCH")

        def do_DELETE(self) -> None:
            self.answer("DELETE")

        def answer(self, method: str) -> None:
            url = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            request = Request(method, url.path, urllib.parse.parse_qs(url.query), body)
            with state.lock:
                state.requests.append(request)
                status, payload, link = self.dispatch(request)
            self.send(status, payload, link)

        def dispatch(self, request: Request) -> tuple[int, Any, str | None]:
            authorization = self.headers.get("Authorization", "")
            if authorization not in (f"token {state.token}", f"Bearer {state.token}"):
                return 401, error_body("Bad credentials"), None
            for method, pattern, handler in handlers.routes:
                match = pattern.match(request.path)
                if method == request.method and match:
                    try:
                        status, payload = handler(request, **match.groupdict())
                    except NotFound:
                        return 404, error_body("Not Found"), None
                    except Invalid as error:
                        return 422, error_body(str(error)), None
                    if request.method == "GET" and isinstance(payload, list):
                        payload, link = paginate(payload, request, state.base_url)
                        return status, payload, link
                    return status, payload, None
            return 404, error_body("Not Found"), None

        def send(self, status: int, payload: Any, link: str | None) -> None:
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            if payload is not None:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            if link:
                self.send_header("Link", link)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def error_body(message: str) -> dict[str, str]:
    return {"message": message, "documentation_url": "https://docs.github.com/rest"}


class GitHubServer:
    """A FakeGitHub served over HTTP on 127.0.0.1; use as a context manager."""

    def __init__(self, state: FakeGitHub | None = None) -> None:
        self.state = state or FakeGitHub()
        handler = make_handler_class(self.state, Handlers(self.state))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        host, port = self.httpd.server_address[:2]
        self.url = f"http://{host}:{port}"
        self.state.base_url = self.url
        # A short poll interval, so that shutdown() at the end of each test is quick.
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)

    def __enter__(self) -> GitHubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()

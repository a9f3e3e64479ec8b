"""Derive tests/github_examples.json from GitHub's own REST API description.

The fake GitHub server in tests/githubserver.py builds its response bodies on these
documented examples, so that they carry every field GitHub documents. Run it again after
a new release of the description:

    npm pack @octokit/openapi && tar xzf octokit-openapi-*.tgz
    python tests/derive_github_examples.py package/generated/api.github.com.json

Only the examples are kept (about 80 kB); the description itself is hundreds of megabytes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# Example name -> (path, method, status), each the endpoint whose documented example
# response becomes the template of that object.
ENDPOINTS = {
    "repository": ("/repos/{owner}/{repo}", "get", "200"),
    "pull-request": ("/repos/{owner}/{repo}/pulls/{pull_number}", "get", "200"),
    "pull-request-file": ("/repos/{owner}/{repo}/pulls/{pull_number}/files", "get", "200"),
    "pull-request-commit": ("/repos/{owner}/{repo}/pulls/{pull_number}/commits", "get", "200"),
    "pull-request-simple": ("/repos/{owner}/{repo}/commits/{commit_sha}/pulls", "get", "200"),
    "commit": ("/repos/{owner}/{repo}/commits/{ref}", "get", "200"),
    "issue-comment": ("/repos/{owner}/{repo}/issues/{issue_number}/comments", "post", "201"),
    "label": ("/repos/{owner}/{repo}/issues/{issue_number}/labels", "post", "200"),
    "status": ("/repos/{owner}/{repo}/statuses/{sha}", "post", "201"),
    "user": ("/users/{username}", "get", "200"),
    "workflow": ("/repos/{owner}/{repo}/actions/workflows/{workflow_id}", "get", "200"),
}

OUTPUT = Path(__file__).with_name("github_examples.json")


def resolve(description: dict[str, Any], item: dict[str, Any], section: str) -> dict[str, Any]:
    if "$ref" in item:
        return description["components"][section][item["$ref"].rsplit("/", 1)[1]]
    return item


def example_of(description: dict[str, Any], path: str, method: str, status: str) -> Any:
    responses = description["paths"][path][method]["responses"]
    response = resolve(description, responses[status], "responses")
    examples = response["content"]["application/json"]["examples"]
    first = resolve(description, next(iter(examples.values())), "examples")
    value = first["value"]
    # List endpoints document a list; the template is one item of it.
    return value[0] if isinstance(value, list) else value


def main(argv: list[str]) -> int:
    description = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    examples = {name: example_of(description, *endpoint) for name, endpoint in ENDPOINTS.items()}
    examples["source"] = f"@octokit/openapi {description['info']['version']}"
    OUTPUT.write_text(json.dumps(examples, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(ENDPOINTS)} examples to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

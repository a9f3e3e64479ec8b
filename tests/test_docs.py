"""Tests that the documentation covers every problem code and names real commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tooling.cli import build_parser
from tooling.problems import CODES

ROOT = Path(__file__).resolve().parents[1]
SUBMITTING = ROOT / "docs/submitting.md"
GUIDES = ("README.md", "docs/submitting.md", ".github/pull_request_template.md")

# A row of the problem-code table: | `code` | severity | found by | meaning | fix |
CODE_ROW = re.compile(r"^\| `(?P<code>[a-z-]+)` \| (?P<severity>error|warning) \|", re.MULTILINE)


def read(relative: str) -> str:
    return (ROOT / relative).read_text(encoding="utf-8")


def table_severities() -> dict[str, str]:
    text = SUBMITTING.read_text(encoding="utf-8")
    return {match["code"]: match["severity"] for match in CODE_ROW.finditer(text)}


def registered_commands() -> set[str]:
    parser = build_parser()
    subparsers = next(
        action for action in parser._actions if action.__class__.__name__ == "_SubParsersAction"
    )
    return set(subparsers.choices)


@pytest.mark.parametrize("code", sorted(CODES))
def test_submitting_explains_code(code: str) -> None:
    severities = table_severities()

    assert code in severities
    assert severities[code] == CODES[code].severity


def test_submitting_lists_only_known_codes() -> None:
    unknown = sorted(set(table_severities()) - set(CODES))

    assert unknown == []


@pytest.mark.parametrize("guide", GUIDES)
def test_guide_names_registered_commands(guide: str) -> None:
    named = set(re.findall(r"python -m tooling ([a-z][a-z-]*)", read(guide)))

    unknown = sorted(named - registered_commands())
    assert named
    assert unknown == []


@pytest.mark.parametrize("guide", GUIDES)
def test_guide_links_exist(guide: str) -> None:
    path = ROOT / guide
    targets = re.findall(r"\]\((?!https?://|#)([^)#]+)", read(guide))

    missing = [target for target in targets if not (path.parent / target).exists()]
    assert missing == []


@pytest.mark.parametrize(
    "command",
    [
        pytest.param("python3 -m venv .venv && . .venv/bin/activate", id="venv"),
        pytest.param('pip install -e ".[dev]"', id="install"),
        pytest.param("python -m pytest", id="test"),
    ],
)
def test_readme_commands_match_ci(command: str) -> None:
    ci_lines = read(".ci/run").splitlines()

    missing_in_ci = [part for part in command.split(" && ") if part not in ci_lines]
    assert command in read("README.md").splitlines()
    assert missing_in_ci == []


def test_pull_request_template_has_checklist() -> None:
    items = re.findall(r"^- \[ \] ", read(".github/pull_request_template.md"), re.MULTILINE)

    assert len(items) >= 5


@pytest.mark.parametrize("path", ["/tooling/", "/.github/"])
def test_codeowners_covers_path(path: str) -> None:
    rules = [
        line.split()
        for line in read(".github/CODEOWNERS").splitlines()
        if line.strip() and not line.startswith("#")
    ]

    owners = [rule[1:] for rule in rules if rule[0] == path]
    assert owners == [["@brain-score/maintainers"]]

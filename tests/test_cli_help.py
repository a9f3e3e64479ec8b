"""Tests that `--help` documents every registered subcommand and every option."""

from __future__ import annotations

import argparse

import pytest

from tooling import __version__
from tooling.cli import COMMANDS, build_parser, main


def subcommand_parsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    )
    return dict(action.choices)


def subcommand_summaries() -> dict[str, str | None]:
    """Return each subcommand's one-line summary, as the top-level --help lists it."""
    parser = build_parser()
    action = next(
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    )
    return {choice.dest: choice.help for choice in action._choices_actions}


def documented_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """Return the actions that need a help string: all but -h and the subcommand list."""
    skipped = (argparse._HelpAction, argparse._SubParsersAction)
    return [action for action in parser._actions if not isinstance(action, skipped)]


SUBCOMMANDS = sorted(subcommand_parsers())


def test_every_module_registers_one_command() -> None:
    assert len(SUBCOMMANDS) == len(COMMANDS)


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_subcommand_has_description(name: str) -> None:
    description = subcommand_parsers()[name].description

    assert description
    assert len(description.split()) >= 5


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_subcommand_has_summary(name: str) -> None:
    assert subcommand_summaries()[name]


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_option_has_help(name: str) -> None:
    actions = documented_actions(subcommand_parsers()[name])

    undocumented = [
        action.option_strings or [action.dest]
        for action in actions
        if not action.help or action.help == argparse.SUPPRESS
    ]
    assert undocumented == []


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_subcommand_help_renders(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    # argparse formats help lazily, so a stray "%" in a help string fails only here.
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"])

    output = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert output.startswith(f"usage: python -m tooling {name}")


def test_top_level_options_have_help() -> None:
    actions = documented_actions(build_parser())

    undocumented = [action.dest for action in actions if not action.help]
    assert undocumented == []


def test_top_level_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])

    output = capsys.readouterr().out
    missing = [name for name in SUBCOMMANDS if name not in output]
    assert exit_info.value.code == 0
    assert missing == []


def test_version_prints_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])

    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"python -m tooling {__version__}\n"


def test_command_names_are_kebab_case() -> None:
    not_kebab = [name for name in SUBCOMMANDS if name != name.lower() or "_" in name]

    assert not_kebab == []

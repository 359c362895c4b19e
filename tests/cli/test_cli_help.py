"""``kubeheat --help`` and the help of every command and subcommand: the parser that ``main``
uses adds a command's arguments only when that command is given, and must print exactly what
the complete parser prints."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from kubeheat.cli.main import build_parser, main


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
             ) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from commands(child, (*path, name))


COMPLETE = dict(commands(build_parser(lazy=False)))


def test_every_command_is_listed() -> None:
    assert {path[0] for path in COMPLETE if path} == {
        "validate", "template", "resource-types", "run", "plan", "delete", "events", "output",
        "signal", "sandbox", "docs", "operator", "api"}
    assert len(COMPLETE) == 25


@pytest.mark.parametrize("path", sorted(COMPLETE), ids=lambda p: " ".join(p) or "kubeheat")
def test_help_is_that_of_the_complete_parser(path: tuple[str, ...],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*path, "--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == COMPLETE[path].format_help()


def test_a_lazy_parser_fills_only_the_command_given() -> None:
    parser = build_parser()
    args = parser.parse_args(["validate", "-t", "x.yaml"])
    assert args.command == "validate" and str(args.template) == "x.yaml"
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert "validate" not in sub.fills and "run" in sub.fills
    assert sub.choices["run"]._actions[1:] == []


def test_usage_errors_show_the_command_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: kubeheat run [-h] -t TEMPLATE")
    assert "the following arguments are required: -t/--template" in err

"""``kubeheat resource-types`` and ``resource-types show TYPE``, through a parser built the way
cli/main.py builds it."""

from __future__ import annotations

import argparse
import json

import pytest
import yaml

from kubeheat.cli import resource_types
from kubeheat.resources import REGISTRY, load_builtin_plugins


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kubeheat")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    resource_types.add_parser(sub)
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


def test_list_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["resource-types"]) == 0
    out = capsys.readouterr().out
    assert "| Resource Type" in out
    for name in ("OS::Heat::None", "OS::Heat::RandomString", "OS::Heat::WaitCondition"):
        assert f"| {name} " in out


def test_list_json_and_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["resource-types", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    names = [d["resource_type"] for d in data]
    assert names == sorted(names) == load_builtin_plugins().names()
    assert cli(["resource-types", "--format", "yaml"]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == data


def test_show_yaml_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["resource-types", "show", "OS::Heat::RandomString"]) == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    cls = REGISTRY.get("OS::Heat::RandomString")
    assert cls is not None
    assert shown == cls.schema()
    assert shown["properties"]["length"]["default"] == 32
    assert shown["attributes"]["value"]["type"] == "string"


def test_show_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["resource-types", "show", "OS::Heat::TestResource", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["resource_type"] == "OS::Heat::TestResource"
    assert shown["properties"]["action_wait_secs"]["schema"]["create"]["type"] == "number"


def test_show_unknown_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["resource-types", "show", "OS::Nope::Nothing"]) == 1
    err = capsys.readouterr().err
    assert err == "ERROR: The Resource Type (OS::Nope::Nothing) could not be found.\n"


def test_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as info:
        cli(["resource-types", "show"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        cli(["resource-types", "--format", "xml"])
    assert info.value.code == 2

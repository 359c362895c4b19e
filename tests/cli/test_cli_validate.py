"""``kubeheat validate`` end to end through ``kubeheat.cli.main.main``: the output's shape (Heat's
template-validate response plus the environment), exit codes 0 / 1 / 2, error paths on stderr,
and hidden parameter values never shown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeheat.cli.main import main

HOT = "heat_template_version: 2018-08-31\n"
SECRET = "s3cr3t-Pa55word"

TEMPLATE = HOT + """description: A server
parameter_groups:
  - label: Server
    parameters: [flavor]
parameters:
  flavor:
    type: string
    default: m1.small
    constraints:
      - custom_constraint: nova.flavor
  cidr:
    type: string
    default: 10.0.0.0/24
    constraints:
      - custom_constraint: net_cidr
  count:
    type: number
    default: 1
  password:
    type: string
    hidden: true
    constraints:
      - length: {min: 6}
resources:
  server:
    type: OS::Heat::None
    properties:
      flavor: {get_param: flavor}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["validate", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def usage(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """argparse reports usage errors by exiting."""
    try:
        code = main(["validate", *argv])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def validate_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code, out, err = run(capsys, *argv, "--format", "json")
    assert (code, err) == (0, "")
    result: dict[str, Any] = json.loads(out)
    return result


# -- valid templates ---------------------------------------------------------------------------


def test_valid_template_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tpl = write(tmp_path / "t.yaml", TEMPLATE)
    result = validate_json(capsys, "-t", str(tpl), "-P", "count=3")
    assert list(result) == ["Description", "Parameters", "ParameterGroups",
                            "UncheckedConstraints", "Environment"]
    assert result["Description"] == "A server"
    params = result["Parameters"]
    assert list(params) == ["flavor", "cidr", "count", "password"]
    assert params["flavor"] == {"Type": "String", "Description": "", "NoEcho": "false",
                                "Label": "flavor", "Default": "m1.small",
                                "CustomConstraint": "nova.flavor"}
    assert params["count"]["Type"] == "Number"
    assert params["count"]["Value"] == "3"
    assert params["password"]["NoEcho"] == "true"
    assert "Default" not in params["password"]
    assert result["ParameterGroups"] == [{"label": "Server", "parameters": ["flavor"]}]
    # net_cidr is checked here; nova.flavor needs a cloud.
    assert result["UncheckedConstraints"] == ["nova.flavor"]
    assert result["Environment"] == {
        "resource_registry": {"resources": {}},
        "parameters": {"count": "3"},
        "parameter_defaults": {},
        "event_sinks": [],
    }


def test_no_unchecked_constraints_key_when_everything_was_checked(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tpl = write(tmp_path / "t.yaml", HOT + "parameters:\n  cidr:\n    type: string\n"
                "    default: 10.0.0.0/24\n    constraints:\n"
                "      - custom_constraint: net_cidr\n")
    result = validate_json(capsys, "-t", str(tpl))
    assert "UncheckedConstraints" not in result
    assert "ParameterGroups" not in result
    assert result["Description"] == "No description"


def test_environment_is_the_merged_user_environment(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tpl = write(tmp_path / "t.yaml", TEMPLATE.replace("type: OS::Heat::None", "type: My::Server"))
    write(tmp_path / "server.yaml", HOT + "parameters:\n  flavor: {type: string}\n")
    first = write(tmp_path / "one.yaml", """
parameters:
  flavor: m1.large
parameter_merge_strategies:
  count: merge
parameter_defaults:
  count: 2
resource_registry:
  My::Server: server.yaml
event_sinks:
  - {type: zaqar-queue, target: events}
""")
    second = write(tmp_path / "two.yaml", """
parameter_defaults:
  count: 3
resource_registry:
  resources:
    server:
      hooks: pre-create
""")
    result = validate_json(capsys, "-t", str(tpl), "-e", str(first), "-e", str(second),
                           "-P", "cidr=10.1.0.0/16")
    assert result["Environment"] == {
        # the registry names the file by its URL, as heatclient rewrites it
        "resource_registry": {"My::Server": (tmp_path / "server.yaml").resolve().as_uri(),
                              "resources": {"server": {"hooks": ["pre-create"]}}},
        "parameters": {"flavor": "m1.large", "cidr": "10.1.0.0/16"},
        "parameter_defaults": {"count": 5},
        "event_sinks": [{"type": "zaqar-queue", "target": "events"}],
    }
    assert result["Parameters"]["flavor"]["Value"] == "m1.large"
    assert result["Parameters"]["count"]["Default"] == 5


def test_yaml_and_table_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tpl = write(tmp_path / "t.yaml", TEMPLATE)
    for fmt in ("yaml", "table"):
        code, out, err = run(capsys, "-t", str(tpl), "--format", fmt)
        assert (code, err) == (0, "")
        assert yaml.safe_load(out)["Environment"]["parameters"] == {}
    code, out, _ = run(capsys, "-t", str(tpl))   # yaml by default
    assert code == 0 and yaml.safe_load(out)["Description"] == "A server"


def test_cfn_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tpl = write(tmp_path / "t.json", json.dumps({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"Key": {"Type": "String", "NoEcho": "true"}},
        "Resources": {"R": {"Type": "OS::Heat::None"}},
    }))
    result = validate_json(capsys, "-t", str(tpl), "-P", f"Key={SECRET}")
    assert result["Parameters"]["Key"]["NoEcho"] == "true"
    assert result["Parameters"]["Key"]["Value"] == "******"
    assert result["Environment"]["parameters"] == {"Key": "******"}


# -- invalid templates: exit 1, the error on stderr naming the path -----------------------------


@pytest.mark.parametrize(("text", "message"), [
    (HOT + "resources:\n  a: {type: OS::Heat::None, properties: {x: {get_param: nope}}}\n",
     "ERROR: resources.a.properties.x.get_param: The Parameter (nope) was not provided.\n"),
    ("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  A: {Type: X, Condition: Nope}\n",
     'ERROR: Resources.A.Condition: Invalid condition "Nope"\n'),
    (HOT + "conditions:\n  a: true\n  b: a\n",
     'ERROR: conditions.b: Condition validation error: The definition of condition "b" is '
     "invalid: a\n"),
    (HOT + "resources:\n  a: {type: child.yaml}\n",
     None),
])
def test_invalid_template(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                          message: str | None) -> None:
    tpl = write(tmp_path / "t.yaml", text)
    code, out, err = run(capsys, "-t", str(tpl))
    assert code == 1
    assert out == ""
    if message is None:   # a missing provider template: the collector names the file
        assert err.startswith("ERROR: ") and "child.yaml" in err
    else:
        assert err == message


def test_invalid_parameter_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tpl = write(tmp_path / "t.yaml", TEMPLATE)
    code, out, err = run(capsys, "-t", str(tpl), "-P", "count=many")
    assert (code, out) == (1, "")
    assert err.startswith("ERROR: parameters.count: ")


def test_unknown_parameter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tpl = write(tmp_path / "t.yaml", TEMPLATE)
    code, out, err = run(capsys, "-t", str(tpl), "-P", "colour=red")
    assert (code, out) == (1, "")
    assert err == "ERROR: parameters.colour: The Parameter (colour) was not defined in template.\n"


def test_missing_template_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "-t", str(tmp_path / "none.yaml"))
    assert (code, out) == (1, "")
    assert err.startswith("ERROR: cannot read template file")


# -- usage errors: exit 2 -----------------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["-P", "novalue"],
    ["-P", "=value"],
    ["--parameter-file", "key"],
    ["--parameter-file", "key=/nonexistent/file"],
])
def test_malformed_parameters(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                              argv: list[str]) -> None:
    tpl = write(tmp_path / "t.yaml", TEMPLATE)
    code, out, err = usage(capsys, "-t", str(tpl), *argv)
    assert (code, out) == (2, "")
    assert err.startswith("ERROR: ")


@pytest.mark.parametrize("argv", [[], ["-t"], ["-t", "x.yaml", "--format", "xml"],
                                  ["-t", "x.yaml", "--bogus"]])
def test_argument_errors(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = usage(capsys, *argv)
    assert (code, out) == (2, "")
    assert "usage:" in err


def test_parameter_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tpl = write(tmp_path / "t.yaml", TEMPLATE)
    secret_file = write(tmp_path / "pw.txt", SECRET)
    result = validate_json(capsys, "-t", str(tpl), "--parameter-file", f"password={secret_file}",
                           "-P", "flavor=m1.tiny")
    assert result["Environment"]["parameters"] == {"password": "******", "flavor": "m1.tiny"}
    assert result["Parameters"]["flavor"]["Value"] == "m1.tiny"


# -- hidden values never appear -----------------------------------------------------------------


HIDDEN_CHILD = HOT + "parameters:\n  token: {type: string, hidden: true, default: x}\n"


def all_output(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code, out, err = usage(capsys, *argv)
    return code, out + err


def test_hidden_values_are_masked_in_the_result(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    tpl = write(tmp_path / "t.yaml", TEMPLATE.replace("type: OS::Heat::None", "type: child.yaml"
                                                      ).replace("      flavor: {get_param: "
                                                                "flavor}\n", ""))
    write(tmp_path / "child.yaml", HIDDEN_CHILD)
    env = write(tmp_path / "env.yaml", f"parameter_defaults:\n  token: {SECRET}-token\n"
                f"  password: {SECRET}-default\n")
    for fmt in ("json", "yaml", "table"):
        code, text = all_output(capsys, "-t", str(tpl), "-e", str(env), "-P",
                                f"password={SECRET}", "--format", fmt)
        assert code == 0, text
        assert SECRET not in text
        assert "******" in text
    result = validate_json(capsys, "-t", str(tpl), "-e", str(env), "-P", f"password={SECRET}")
    assert result["Parameters"]["password"]["Value"] == "******"
    assert result["Parameters"]["password"]["Default"] == "******"
    assert result["Environment"]["parameters"] == {"password": "******"}
    # parameter_defaults of a parameter hidden in a provider template are masked too.
    assert result["Environment"]["parameter_defaults"] == {"token": "******",
                                                           "password": "******"}


@pytest.mark.parametrize("extra", [
    # the value fails the hidden parameter's own constraint
    "",
    # an error elsewhere that quotes a value computed from the hidden parameter
    # (a condition is evaluated where it is used, as in Heat)
    "conditions:\n  c: {get_param: password}\noutputs:\n  o: {value: x, condition: c}\n",
    "outputs:\n  o: {value: {if: [{get_param: password}, a, b]}}\n",
    "  other: {type: OS::Heat::None, deletion_policy: {get_param: password}}\n",
])
def test_hidden_values_never_appear_in_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              extra: str) -> None:
    tpl = write(tmp_path / "t.yaml", TEMPLATE + extra)
    value = "short" if not extra else SECRET
    code, text = all_output(capsys, "-t", str(tpl), "-P", f"password={value}")
    assert code == 1, text
    assert text.startswith("ERROR: ")
    assert value not in text

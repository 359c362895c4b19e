"""The review's blow-up templates through the CLI (H6, H7): ``kubeheat validate`` (exit 1) and
``run`` (exit 2, as for any template it refuses) refuse them with the limit's error before
anything is created, and nothing is left in
the state file. Normal templates near the limits still pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeheat.cli.main import main

HOT = "heat_template_version: 2016-10-14\n"
TOO_MANY = "Maximum resources per stack exceeded."


def kubeheat(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def fan(tmp_path: Path, width: int = 10, levels: int = 5) -> Path:
    """The review's prov/fan.yaml: fan.yaml -> fan1.yaml ... fan5.yaml (one OS::Heat::None)."""
    for i in range(levels + 1):
        body = (HOT + "resources:\n  n: {type: OS::Heat::None}\n" if i == levels else
                HOT + "resources:\n" + "".join(f"  a{j}: {{type: fan{i + 1}.yaml}}\n"
                                               for j in range(1, width + 1)))
        (tmp_path / ("fan.yaml" if i == 0 else f"fan{i}.yaml")).write_text(body)
    return tmp_path / "fan.yaml"


def rg(tmp_path: Path, count: str, params: str = "") -> Path:
    path = tmp_path / "rg.yaml"
    path.write_text(HOT + params + "resources:\n  g:\n    type: OS::Heat::ResourceGroup\n"
                    f"    properties: {{count: {count}, resource_def: {{type: OS::Heat::None}}}}\n")
    return path


def test_validate_refuses_the_reviews_fan_out(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = kubeheat(capsys, "validate", "-t", str(fan(tmp_path)))
    assert code == 1 and out == ""
    # the CLI names provider templates by their file:// URLs, as heatclient does
    base = tmp_path.resolve().as_uri()
    assert err.strip().endswith(
        f"resources.a1.type.{base}/fan1.yaml.resources.a1.type.{base}/fan2.yaml"
        f".resources.a5.type.{base}/fan3.yaml.resources.a7.type.{base}/fan4.yaml"
        f".resources.a1.type.{base}/fan5.yaml: {TOO_MANY}"), err


def test_run_refuses_the_reviews_fan_out_before_creating_anything(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "fan.json"
    code, _out, err = kubeheat(capsys, "run", "-t", str(fan(tmp_path)), "--state", str(state))
    assert code == 2            # run's exit code for a template it refuses
    assert TOO_MANY in err
    if state.exists() and state.stat().st_size:
        assert json.loads(state.read_text()).get("stacks", {}) == {}


def test_validate_refuses_a_huge_group_count(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = kubeheat(capsys, "validate", "-t", str(rg(tmp_path, "10000000")))
    assert code == 1
    assert f"resources.g: {TOO_MANY}" in err
    path = rg(tmp_path, "{get_param: n}", "parameters:\n  n: {type: number}\n")
    code, _out, err = kubeheat(capsys, "validate", "-t", str(path), "-P", "n=10000000")
    assert code == 1
    assert f"resources.g: {TOO_MANY}" in err
    code, _out, err = kubeheat(capsys, "validate", "-t", str(path), "-P", "n=1000")
    assert code == 0, err


def test_run_refuses_a_huge_group_count(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "rg.json"
    code, _out, err = kubeheat(capsys, "run", "-t", str(rg(tmp_path, "10000000")),
                               "--state", str(state))
    assert code == 2
    assert f"resources.g: {TOO_MANY}" in err
    if state.exists() and state.stat().st_size:
        assert json.loads(state.read_text()).get("stacks", {}) == {}


def test_validate_refuses_alias_multiplied_text(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    s = "A" * 100_000
    l1 = "[" + ", ".join(["*s"] * 100) + "]"
    path = tmp_path / "alias.yaml"
    path.write_text(f"{HOT}description: &s {s}\nresources: {{}}\noutputs:\n  o:\n"
                    f"    value: [&l1 {l1}, {', '.join(['*l1'] * 9)}]\n")
    code, _out, err = kubeheat(capsys, "validate", "-t", str(path))
    assert code == 1
    assert "expands to more than 8388608 bytes of text" in err

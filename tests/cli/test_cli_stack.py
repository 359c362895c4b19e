"""End to end through the CLI: ``kubeheat run/plan/delete/events/output/signal``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from kubeheat.cli.main import main

FUNCTIONS_TEMPLATE = """\
heat_template_version: 2018-08-31
parameters:
  names: {type: comma_delimited_list, default: "a,b,c"}
  size: {type: number, default: 3}
  flag: {type: boolean, default: true}
  cfg: {type: json, default: {"k": "v", "n": 1}}
  secret: {type: string, hidden: true, default: s3cr3t-value}
conditions:
  big: {equals: [{get_param: size}, 3]}
  small: {not: big}
resources:
  word:
    type: OS::Heat::Value
    properties: {value: hello}
  only_small:
    type: OS::Heat::Value
    condition: small
    properties: {value: never}
outputs:
  ref: {value: {get_resource: word}}
  attr: {value: {get_attr: [word, value]}}
  joined: {value: {list_join: ['-', {get_param: names}]}}
  replaced:
    value:
      str_replace:
        template: "Hi NAME, size SIZE"
        params: {NAME: {get_attr: [word, value]}, SIZE: {get_param: size}}
  split: {value: {str_split: [',', 'x,y,z', 1]}}
  repeated:
    value: {repeat: {for_each: {'%n%': {get_param: names}}, template: 'item-%n%'}}
  merged: {value: {map_merge: [{get_param: cfg}, {extra: true}]}}
  mreplaced: {value: {map_replace: [{get_param: cfg}, {keys: {k: key}, values: {1: one}}]}}
  concat: {value: {list_concat_unique: [[1, 2], [2, 3]]}}
  has: {value: {contains: [b, {get_param: names}]}}
  filtered: {value: {filter: [[b], {get_param: names}]}}
  digest: {value: {digest: [sha256, abc]}}
  url: {value: {make_url: {scheme: https, host: example.com, port: 8443, path: /x,
                           query: {a: b}}}}
  yaql: {value: {yaql: {expression: $.data.n * 2, data: {n: {get_param: size}}}}}
  cond_big: {value: {if: [big, "yes", "no"]}}
  cond_inline: {value: {if: [{and: [big, {get_param: flag}]}, both, not-both]}}
  gone: {value: {get_attr: [word, value]}, condition: small}
  with_secret: {value: {str_replace: {template: "pw=P", params: {P: {get_param: secret}}}}}
"""

EXPECTED = {
    "attr": "hello",
    "joined": "a-b-c",
    "replaced": "Hi hello, size 3",
    "split": "y",
    "repeated": ["item-a", "item-b", "item-c"],
    "merged": {"k": "v", "n": 1, "extra": True},
    "mreplaced": {"key": "v", "n": "one"},
    "concat": [1, 2, 3],
    "has": True,
    "filtered": ["a", "c"],
    "digest": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    "url": "https://example.com:8443/x?a=b",
    "yaql": 6,
    "cond_big": "yes",
    "cond_inline": "both",
    "with_secret": "pw=******",
}


def kubeheat(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_run_outputs_of_every_function(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    tmpl = write(tmp_path, "fn.yaml", FUNCTIONS_TEMPLATE)
    code, out, err = kubeheat(capsys, "run", "-t", str(tmpl), "--format", "json")
    assert code == 0, err
    result = json.loads(out)
    assert result["stack_status"] == "CREATE_COMPLETE"
    outputs = result["outputs"]
    for key, value in EXPECTED.items():
        assert outputs[key] == value, key
    word = next(r for r in result["resources"] if r["name"] == "word")
    assert outputs["ref"] == word["physical_id"]
    assert "gone" not in outputs or outputs["gone"] is None
    assert [r["name"] for r in result["resources"]] == ["word"]
    assert "s3cr3t-value" not in out + err


def test_hidden_numbers_and_non_ascii_values_are_masked_in_outputs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Outputs echoing hidden values of any type are masked, and the summary stays valid
    JSON (a hidden number used to be masked inside the JSON text, breaking it)."""
    tmpl = write(tmp_path, "num.yaml", """\
        heat_template_version: 2018-08-31
        parameters:
          pin: {type: number, hidden: true, default: 4321}
          word: {type: string, hidden: true, default: "p\u00e4ssw\u00f6rd"}
        resources:
          a: {type: OS::Heat::None}
        outputs:
          pin: {value: {get_param: pin}}
          word: {value: {get_param: word}}
          both: {value: {str_replace: {template: "W P", params: {W: {get_param: word},
                                                                  P: {get_param: pin}}}}}
        """)
    code, out, err = kubeheat(capsys, "run", "-t", str(tmpl), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["outputs"] == {"pin": "******", "word": "******",
                                          "both": "****** ******"}


def test_run_update_plan_delete_with_state(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    tmpl = write(tmp_path, "g.yaml", """\
        heat_template_version: 2016-10-14
        parameters:
          n: {type: number, default: 2}
          v: {type: string, default: one}
        resources:
          group:
            type: OS::Heat::ResourceGroup
            properties:
              count: {get_param: n}
              resource_def: {type: OS::Heat::None}
          val:
            type: OS::Heat::TestResource
            properties: {value: {get_param: v}, update_replace: false}
        outputs:
          refs: {value: {get_attr: [group, refs]}}
          val: {value: {get_attr: [val, output]}}
        """)
    state = tmp_path / "state.json"
    code, out, err = kubeheat(capsys, "run", "-t", str(tmpl), "--state", str(state),
                              "--format", "json")
    assert code == 0, err
    first = json.loads(out)
    assert len(first["outputs"]["refs"]) == 2 and first["outputs"]["val"] == "one"
    ids = {r["name"]: r["physical_id"] for r in first["resources"]}

    code, out, err = kubeheat(capsys, "plan", "-t", str(tmpl), "--state", str(state),
                              "-P", "n=3", "--format", "json")
    assert code == 0, err
    actions = {r["name"]: r["action"] for r in json.loads(out)["resources"]}
    assert actions == {"group": "update", "val": "noop"}

    code, out, err = kubeheat(capsys, "run", "-t", str(tmpl), "--state", str(state),
                              "-P", "n=3", "-P", "v=two", "--format", "json")
    assert code == 0, err
    second = json.loads(out)
    assert second["stack_status"] == "UPDATE_COMPLETE"
    assert len(second["outputs"]["refs"]) == 3 and second["outputs"]["val"] == "two"
    assert {r["name"]: r["physical_id"] for r in second["resources"]} == ids

    code, out, _ = kubeheat(capsys, "output", "show", "--state", str(state), "val",
                            "--format", "json")
    assert code == 0 and json.loads(out)["output_value"] == "two"
    code, out, _ = kubeheat(capsys, "output", "list", "--state", str(state), "--format", "json")
    assert [o["output_key"] for o in json.loads(out)] == ["refs", "val"]
    code, out, _ = kubeheat(capsys, "events", "--state", str(state), "--format", "json")
    events = json.loads(out)
    assert events[0]["resource_status"] == "IN_PROGRESS"
    assert events[-1]["resource_name"] == "g"
    assert events[-1]["resource_action"] == "UPDATE"

    code, out, err = kubeheat(capsys, "delete", "--state", str(state), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["stack_status"] == "DELETE_COMPLETE"


def test_run_failure_exit_code_and_rollback(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    tmpl = write(tmp_path, "f.yaml", """\
        heat_template_version: 2016-10-14
        resources:
          ok: {type: OS::Heat::None}
          bad:
            type: OS::Heat::TestResource
            properties: {fail: true}
            depends_on: ok
        """)
    code, out, _ = kubeheat(capsys, "run", "-t", str(tmpl), "--format", "json")
    assert code == 1
    result = json.loads(out)
    assert result["stack_status"] == "ROLLBACK_COMPLETE"
    code, out, _err = kubeheat(capsys, "run", "-t", str(tmpl), "--format", "json",
                              "--disable-rollback")
    assert code == 1
    result = json.loads(out)
    assert result["stack_status"] == "CREATE_FAILED"
    assert "bad" in result["stack_status_reason"]


def test_usage_and_validation_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                     ) -> None:
    tmpl = write(tmp_path, "v.yaml", """\
        heat_template_version: 2016-10-14
        resources:
          x: {type: OS::Heat::Value, properties: {value: {get_resource: nope}}}
        """)
    code, _, err = kubeheat(capsys, "run", "-t", str(tmpl))
    assert code == 2
    assert "resources.x.properties.value" in err
    code, _, err = kubeheat(capsys, "run", "-t", str(tmpl), "-P", "novalue")
    assert code == 2
    code, _, err = kubeheat(capsys, "delete", "--state", str(tmp_path / "missing.json"))
    assert code == 2
    unknown = write(tmp_path, "u.yaml", """\
        heat_template_version: 2016-10-14
        resources:
          x: {type: OS::Nope::Thing}
        """)
    code, _, err = kubeheat(capsys, "run", "-t", str(unknown))
    assert code == 2
    assert "resources.x" in err and "OS::Nope::Thing" in err


def _wait_for(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def test_signal_reaches_a_running_stack(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    tmpl = write(tmp_path, "w.yaml", """\
        heat_template_version: 2016-10-14
        resources:
          handle: {type: OS::Heat::WaitConditionHandle}
          wait:
            type: OS::Heat::WaitCondition
            properties: {handle: {get_resource: handle}, timeout: 60, count: 1}
        outputs:
          data: {value: {get_attr: [wait, data]}}
        """)
    state = tmp_path / "state.json"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubeheat.cli.main", "run", "-t", str(tmpl), "--state",
         str(state), "--format", "json", "--name", "waiter"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        lock = state.with_name(state.name + ".lock")
        _wait_for(lambda: lock.exists() and state.exists()
                  and '"handle"' in state.read_text(encoding="utf-8"))
        code, _out, err = kubeheat(capsys, "signal", "waiter", "handle", "--state", str(state),
                                  "--data", '{"status": "SUCCESS", "data": "ready", "id": "1"}')
        assert code == 0, err
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    result = json.loads(stdout)
    assert result["stack_status"] == "CREATE_COMPLETE"
    assert json.loads(result["outputs"]["data"]) == {"1": "ready"}


def test_sandbox_serve_writes_clouds_yaml_and_stops(tmp_path: Path) -> None:
    import signal as _signal

    import openstack
    import yaml

    clouds = tmp_path / "clouds.yaml"
    saved = tmp_path / "sandbox.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubeheat.cli.main", "sandbox", "serve", "--clouds-yaml",
         str(clouds), "--state", str(saved), "--build-delay", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert info["auth_url"].startswith("http://127.0.0.1:")
        entry = yaml.safe_load(clouds.read_text())["clouds"]["sandbox"]
        conn = openstack.connect(load_yaml_config=False, load_envvars=False, **entry)
        conn.network.create_network(name="persisted")
        conn.close()
        proc.send_signal(_signal.SIGTERM)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    names = [n["name"] for n in json.loads(saved.read_text())["store"]["networks"].values()]
    assert "persisted" in names

"""The CLI against hostile or careless input (review 2026-12: H1, H5, M5, M6, M7, L2, L3, L5,
L6), end to end through the real ``kubeheat`` entry point: in-process through
``kubeheat.cli.main.main``, or as a separate process where two commands or a signal are
involved."""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from cli_support import finish, spawn

from kubeheat.cli.main import main

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

WAITER = """\
heat_template_version: 2016-10-14
resources:
  handle: {type: OS::Heat::WaitConditionHandle}
  wait:
    type: OS::Heat::WaitCondition
    properties: {handle: {get_resource: handle}, timeout: 600, count: 1}
"""


def kubeheat(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:                       # argparse's usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def wait_for(predicate: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


# -- H5: hidden json and comma_delimited_list values ------------------------------------------
def test_hidden_json_leaves_never_show_in_errors(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """``get_param: [creds, password]`` of a hidden json parameter, used where a number is
    needed, and ``repeat`` over the whole value: the errors quote them masked."""
    hj2 = write(tmp_path, "hj2.yaml", """\
        heat_template_version: 2016-10-14
        parameters:
          creds: {type: json, hidden: true}
        resources:
          r: {type: OS::Heat::RandomString, properties: {length: {get_param: [creds, password]}}}
        """)
    code, out, err = kubeheat(capsys, "run", "-t", str(hj2), "-P",
                              'creds={"user": "admin", "password": "TopSECRETpw"}')
    assert code != 0 and "is not an integer" in err
    assert "TopSECRETpw" not in out + err and "admin" not in out + err
    for length, message in (
            ("{repeat: {for_each: {'%x%': [{get_param: creds}]}, template: '%x%'}}",
             "can only substitute strings, not dict ******"),
            ("{list_join: [',', [{get_param: creds}]]}",
             "Value '******' is not an integer")):
        rep = write(tmp_path, "rep.yaml", f"""\
            heat_template_version: 2016-10-14
            parameters:
              creds: {{type: json, hidden: true}}
            resources:
              r: {{type: OS::Heat::RandomString, properties: {{length: {length}}}}}
            """)
        code, out, err = kubeheat(capsys, "run", "-t", str(rep), "-P",
                                  'creds={"user": "admin", "password": "TopSECRETpw"}')
        assert code == 2 and message in err, err
        assert "TopSECRETpw" not in out + err and "admin" not in out + err


def test_hidden_json_and_list_leaves_are_masked_in_outputs_and_records(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tmpl = write(tmp_path, "secop.yaml", """\
        heat_template_version: 2016-10-14
        parameters:
          creds: {type: json, hidden: true}
          tokens: {type: comma_delimited_list, hidden: true}
        resources:
          v: {type: OS::Heat::Value, properties: {value: {get_param: [creds, password]}}}
        outputs:
          jp: {value: {get_param: [creds, password]}}
          t: {value: {get_param: tokens}}
          tj: {value: {str_replace: {template: 'T', params: {T: {get_param: tokens}}}}}
          v: {value: {get_attr: [v, value]}}
        """)
    state = tmp_path / "s.json"
    args = ["-t", str(tmpl), "--state", str(state), "-P",
            'creds={"user": "admin", "password": "OpSECRETjson2"}', "-P",
            "tokens=aaa,OpSECRETtok3"]
    code, out, err = kubeheat(capsys, "run", *args, "--format", "json")
    assert code == 0, err
    outputs = json.loads(out)["outputs"]
    assert outputs["jp"] == outputs["v"] == "******"
    assert outputs["t"] == ["******", "******"]
    assert "OpSECRET" not in out + err and "aaa" not in out
    for argv in (["events", "--format", "json"], ["output", "show", "--format", "json"],
                 ["plan", *args[:2], *args[4:], "--format", "json"]):
        code, out, err = kubeheat(capsys, *argv, "--state", str(state))
        assert code == 0, (argv, err)
        assert "OpSECRET" not in out + err, argv


# -- M5: short hidden values are masked as whole values ----------------------------------------
def test_a_short_hidden_value_garbles_neither_ids_nor_events(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tmpl = write(tmp_path, "hn.yaml", """\
        heat_template_version: 2016-10-14
        parameters:
          port: {type: number, hidden: true, default: 1}
          letter: {type: string, hidden: true, default: a}
        resources:
          r: {type: OS::Heat::None}
        outputs:
          port: {value: {get_param: port}}
          letter: {value: {get_param: letter}}
        """)
    state = tmp_path / "hn.json"
    code, out, err = kubeheat(capsys, "run", "-t", str(tmpl), "--state", str(state),
                              "--format", "json")
    assert code == 0, err
    result = json.loads(out)
    assert UUID.match(result["id"]) and UUID.match(result["resources"][0]["physical_id"])
    assert result["outputs"] == {"port": "******", "letter": "******"}
    code, out, err = kubeheat(capsys, "events", "--state", str(state), "--format", "json")
    assert code == 0, err
    events = json.loads(out)
    assert all(UUID.match(e["physical_resource_id"]) for e in events
               if e["resource_name"] == "r" and e["physical_resource_id"])
    code, out, err = kubeheat(capsys, "events", "--state", str(state))
    assert code == 0 and "Traceback" not in err
    assert "Stack CREATE completed successfully" in out
    code, _out, err = kubeheat(capsys, "run", "-t", str(tmpl), "-P", "nope=1")
    assert code == 2 and "Parameter" in err and "P******" not in err


# -- H1: one command at a time on a state file ------------------------------------------------
def test_two_runs_on_one_state_file_never_make_two_stacks(tmp_path: Path) -> None:
    """A run busy with a big template and a run of a small one, started together: the
    second one fails with "in use", or (once the first is done) updates the same stack. Both
    reported the same stack id, which is the one the file records."""
    small = "heat_template_version: 2016-10-14\nresources:\n  net: {type: OS::Heat::None}\n"
    (tmp_path / "a.yaml").write_text(small, encoding="utf-8")
    big = small + "outputs:\n" + "".join(f"  o{i}: {{value: {{get_resource: net}}}}\n"
                                         for i in range(5000))
    (tmp_path / "b.yaml").write_text(big, encoding="utf-8")
    state = tmp_path / "s.json"
    first = spawn("run", "-t", str(tmp_path / "b.yaml"), "--state", str(state), "--name", "n",
                  "--format", "json")
    time.sleep(0.1)
    second = spawn("run", "-t", str(tmp_path / "a.yaml"), "--state", str(state), "--name",
                   "n", "--format", "json")
    results = [finish(first), finish(second)]
    ids = {json.loads(out)["id"] for code, out, _err in results if code == 0}
    assert ids, results
    assert len(ids) == 1, results
    recorded = json.loads(state.read_text(encoding="utf-8"))
    assert set(recorded["stacks"]) == ids
    for code, _out, err in results:
        assert code == 0 or "in use" in err, err


def test_a_run_refused_while_the_lock_is_held_reads_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The lock is an exclusive ``flock`` on ``FILE.lock``, taken before the state file is
    read: held elsewhere, ``run`` and ``delete`` fail with "in use" and never open the file
    (here a damaged one, which they would otherwise report)."""
    tmpl = write(tmp_path, "a.yaml", "heat_template_version: 2016-10-14\n")
    state = tmp_path / "s.json"
    state.write_text("{not json", encoding="utf-8")
    lock = tmp_path / "s.json.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, str(os.getpid()).encode())
        for argv in (["run", "-t", str(tmpl)], ["delete"]):
            code, _out, err = kubeheat(capsys, *argv, "--state", str(state))
            assert code == 2 and f"in use by process {os.getpid()}" in err, err
            assert "damaged" not in err
    finally:
        os.close(fd)


# -- L5 and M7: timeouts ----------------------------------------------------------------------
@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "-inf", "soon"])
def test_timeouts_must_be_finite_and_positive(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str],
                                              value: str) -> None:
    tmpl = write(tmp_path, "a.yaml", "heat_template_version: 2016-10-14\n")
    state = tmp_path / "s.json"
    for argv in (["run", "-t", str(tmpl)], ["delete", "--state", str(state)]):
        code, _out, err = kubeheat(capsys, *argv, f"--timeout={value}")
        assert code == 2 and "--timeout" in err, err
    assert not state.exists()


def test_delete_timeout_ends_a_delete_that_never_ends(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tmpl = write(tmp_path, "tr.yaml", """\
        heat_template_version: 2016-10-14
        resources:
          t:
            type: OS::Heat::TestResource
            properties: {action_wait_secs: {delete: 1000000}}
        """)
    state = tmp_path / "s.json"
    code, _out, err = kubeheat(capsys, "run", "-t", str(tmpl), "--state", str(state))
    assert code == 0, err
    started = time.monotonic()
    code, out, err = kubeheat(capsys, "delete", "--state", str(state), "--timeout", "0.02",
                              "--format", "json")
    assert time.monotonic() - started < 30
    assert code == 1
    result = json.loads(out)
    assert result["stack_status"] == "DELETE_FAILED"
    assert "timed out" in result["stack_status_reason"].lower()


def test_a_run_without_timeout_gets_the_engines_default(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``--timeout`` the CLI leaves the stack timeout to the engine (Heat's 60
    minutes, here shortened to show that it applies)."""
    from kubeheat.engine import Engine

    engines: list[Engine] = []
    original = Engine.__init__

    def short(self: Engine, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        engines.append(self)
        assert self.default_timeout_minutes == 60
        self.default_timeout_minutes = 0.01

    monkeypatch.setattr(Engine, "__init__", short)
    tmpl = write(tmp_path, "tr.yaml", """\
        heat_template_version: 2016-10-14
        resources:
          t: {type: OS::Heat::TestResource, properties: {wait_secs: 1000000000000}}
        """)
    started = time.monotonic()
    code, out, err = kubeheat(capsys, "run", "-t", str(tmpl), "--format", "json")
    assert engines and time.monotonic() - started < 60
    assert code == 1, err
    assert json.loads(out)["stack_status"] in ("CREATE_FAILED", "ROLLBACK_COMPLETE",
                                               "ROLLBACK_FAILED")


# -- M6: validate knows the resource types ----------------------------------------------------
def test_validate_rejects_an_unknown_resource_type(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    unk = write(tmp_path, "unk.yaml", """\
        heat_template_version: 2016-10-14
        resources:
          w: {type: "OS::Foo::Bar"}
        """)
    code, _out, err = kubeheat(capsys, "validate", "-t", str(unk))
    assert code == 1
    assert "The Resource Type (OS::Foo::Bar) could not be found." in err
    env = write(tmp_path, "env.yaml", "resource_registry:\n  OS::Foo::Bar: OS::Heat::None\n")
    code, _out, err = kubeheat(capsys, "validate", "-t", str(unk), "-e", str(env))
    assert code == 0, err
    nested = write(tmp_path, "outer.yaml", """\
        heat_template_version: 2016-10-14
        resources:
          inner: {type: unk.yaml}
        """)
    code, _out, err = kubeheat(capsys, "validate", "-t", str(nested))
    assert code == 1 and "OS::Foo::Bar" in err


def test_the_names_validate_knows_are_the_plugins() -> None:
    from kubeheat.cli.type_names import RESOURCE_TYPE_NAMES
    from kubeheat.resources import load_builtin_plugins

    assert sorted(RESOURCE_TYPE_NAMES) == load_builtin_plugins().names(), \
        "update kubeheat/cli/type_names.py to the names `kubeheat resource-types` lists"


def test_the_property_names_validate_knows_are_the_plugins() -> None:
    from kubeheat.cli.type_names import HEAT_ATTRIBUTE_NAMES, HEAT_PROPERTY_NAMES
    from kubeheat.resources import load_builtin_plugins

    plugins = load_builtin_plugins()
    assert set(HEAT_ATTRIBUTE_NAMES) == set(HEAT_PROPERTY_NAMES)
    for type_name, names in HEAT_PROPERTY_NAMES.items():
        cls = plugins.get(type_name)
        assert cls is not None and names == frozenset(cls.properties), type_name
        assert HEAT_ATTRIBUTE_NAMES[type_name] == frozenset(cls.attributes), type_name
        assert not (cls.dynamic_attributes or cls.any_attribute), type_name


@pytest.mark.parametrize(("template", "message"), [
    # what Heat 27.0.1's validate answers (values are not checked, names are)
    ("  r: {type: OS::Heat::Value, properties: {value: x, colour: red}}\n",
     "resources.r.properties: Unknown Property colour"),
    ("  r: {type: OS::Heat::TestResource, properties: {valu: oops}}\n",
     "resources.r.properties: Unknown Property valu"),
    ("  r: {type: OS::Heat::None, update_policy: {x: 1}}\n",
     "resources.r.update_policy: Unknown Property x"),
    ("  r: {type: OS::Heat::Value, properties: {value: x}}\n"
     "  s: {type: OS::Heat::Value, properties: {value: {get_attr: [r, nope]}}}\n",
     "resources.s.properties.value.get_attr: The Referenced Attribute (r nope) is incorrect."),
])
def test_validate_refuses_unknown_names_of_a_heat_type(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, template: str, message: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("heat_template_version: 2018-08-31\nresources:\n" + template)
    code, _out, err = kubeheat(capsys, "validate", "-t", str(path))
    assert code == 1 and message in err


def test_validate_does_not_check_property_values_or_nested_names(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Heat 27.0.1's validate accepts both; the create refuses them
    path = tmp_path / "t.yaml"
    path.write_text("heat_template_version: 2018-08-31\nresources:\n"
                    "  t: {type: OS::Heat::TestResource, properties: {action_wait_secs: {b: 1}}}\n"
                    "  v: {type: OS::Heat::Value, properties: {value: abc, type: number}}\n")
    code, _out, err = kubeheat(capsys, "validate", "-t", str(path))
    assert code == 0, err


# -- L6: Ctrl-C --------------------------------------------------------------------------------
def test_ctrl_c_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text(WAITER, encoding="utf-8")
    state = tmp_path / "s.json"
    proc = spawn("run", "-t", str(tmp_path / "w.yaml"), "--state", str(state))
    assert proc.stderr is not None
    wait_for(lambda: state.exists() and '"handle"' in state.read_text(encoding="utf-8"))
    proc.send_signal(signal.SIGINT)
    code, _out, err = finish(proc, 60)
    assert code == 130, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("ERROR: interrupted") and "delete" in last
    assert "KeyboardInterrupt" not in err


# -- L3: control characters --------------------------------------------------------------------
def test_control_characters_in_names_are_escaped_on_the_terminal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name = "esc\x1b[31mRED\x1b[0m\x1b]0;pwned\x07"
    tmpl = tmp_path / "esc.yaml"
    tmpl.write_text("heat_template_version: 2016-10-14\nresources:\n  "
                    + json.dumps(name) + ": {type: OS::Heat::None}\n", encoding="utf-8")
    code, out, err = kubeheat(capsys, "run", "-t", str(tmpl), "--state",
                              str(tmp_path / "s.json"))
    assert code == 0, err
    assert "\x1b" not in out + err and "\x07" not in out + err
    assert "esc\\x1b[31mRED" in out and "esc\\x1b[31mRED" in err
    code, out, err = kubeheat(capsys, "events", "--state", str(tmp_path / "s.json"))
    assert code == 0 and "\x1b" not in out and "\\x1b" in out


# -- L2: damaged state files -------------------------------------------------------------------
GOOD_STACK = {"id": "x", "name": "n", "template": {"heat_template_version": "2016-10-14"},
              "action": "CREATE", "status": "COMPLETE"}


def _damaged(tmp_path: Path) -> dict[str, str]:
    """Damaged state files, by case."""
    tmpl = write(tmp_path, "a.yaml", "heat_template_version: 2016-10-14\n"
                 "resources:\n  a: {type: OS::Heat::None}\n")
    good = tmp_path / "good.json"
    assert main(["run", "-t", str(tmpl), "--state", str(good)]) == 0
    text = good.read_text(encoding="utf-8")
    doc = json.loads(text)
    cases = {
        "empty": "",
        "blank": "  \n",
        "truncated": text[: len(text) // 2],
        "resources": json.dumps({"version": 1, "root": "x", "stacks": {"x": {
            "id": "x", "name": "n", "resources": {"a": {}}}}}),
        "sandbox": json.dumps({**doc, "sandbox": {"store": {"servers": 3}}}),
        "events": json.dumps({**doc, "events": 7}),
        "stacks": json.dumps({**doc, "stacks": []}),
        "not a map": "[1, 2]",
    }
    return cases


def test_a_damaged_state_file_is_named_and_never_taken_for_a_new_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = _damaged(tmp_path)
    capsys.readouterr()
    tmpl = tmp_path / "a.yaml"
    for case, text in cases.items():
        state = tmp_path / f"{case.replace(' ', '_')}.json"
        state.write_text(text, encoding="utf-8")
        for argv in (["delete"], ["run", "-t", str(tmpl)], ["events"], ["output", "show"],
                     ["plan", "-t", str(tmpl)]):
            code, out, err = kubeheat(capsys, *argv, "--state", str(state))
            assert code == 2, (case, argv, out, err)
            assert f"state file {state} is damaged: " in err, (case, argv, err)
            assert "Traceback" not in err
        assert state.read_text(encoding="utf-8") == text, case       # left as it was

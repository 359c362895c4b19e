"""``kubeheat sandbox show``: what the embedded sandbox kept in a state file holds (review L10)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from kubeheat.cli.main import main

NET = """\
heat_template_version: 2016-10-14
resources:
  net: {type: OS::Neutron::Net, properties: {name: shown-net}}
  key: {type: OS::Nova::KeyPair, properties: {name: shown-key, save_private_key: true}}
"""


def kubeheat(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_show_lists_what_a_run_made_and_forgets_what_delete_removed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = tmp_path / "net.yaml"
    template.write_text(NET, encoding="utf-8")
    state = tmp_path / "s.json"
    assert kubeheat(capsys, "run", "-t", str(template), "--state", str(state),
                    "--name", "n")[0] == 0

    code, out, _ = kubeheat(capsys, "sandbox", "show", "--state", str(state),
                            "--kind", "networks", "--kind", "keypairs", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert {(r["kind"], r["name"]) for r in rows} >= {("networks", "shown-net"),
                                                      ("keypairs", "shown-key")}
    # only kind, id, name and status: a keypair's private key never reaches the terminal
    assert all(set(r) == {"kind", "id", "name", "status"} for r in rows)
    assert "PRIVATE KEY" not in out

    code, out, _ = kubeheat(capsys, "sandbox", "show", "--state", str(state))
    assert code == 0
    assert out.splitlines()[1].split() == ["|", "KIND", "|", "ID", "|", "NAME", "|", "STATUS",
                                           "|"]
    assert "shown-net" in out

    assert kubeheat(capsys, "delete", "--state", str(state))[0] == 0
    code, out, _ = kubeheat(capsys, "sandbox", "show", "--state", str(state),
                            "--kind", "networks", "--format", "json")
    assert code == 0
    assert "shown-net" not in {r["name"] for r in json.loads(out)}


def test_show_without_a_sandbox_and_bad_inputs(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    template = tmp_path / "none.yaml"
    template.write_text(textwrap.dedent("""\
        heat_template_version: 2016-10-14
        resources: {r: {type: OS::Heat::None}}
        """), encoding="utf-8")
    state = tmp_path / "heat-only.json"
    assert kubeheat(capsys, "run", "-t", str(template), "--state", str(state))[0] == 0
    # Heat's own types never start the sandbox: there is nothing to list
    assert kubeheat(capsys, "sandbox", "show", "--state", str(state)) == (
        0, "(the sandbox holds nothing)\n", "")

    code, _, err = kubeheat(capsys, "sandbox", "show", "--state", str(tmp_path / "no.json"))
    assert (code, err) == (2, f"ERROR: state file {tmp_path / 'no.json'} does not exist\n")

    damaged = tmp_path / "damaged.json"
    damaged.write_text("{}", encoding="utf-8")
    code, _, err = kubeheat(capsys, "sandbox", "show", "--state", str(damaged))
    assert code == 2
    assert err.startswith(f"ERROR: state file {damaged} is damaged:")


def test_show_reads_a_file_sandbox_serve_wrote_and_names_unknown_kinds(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = tmp_path / "net.yaml"
    template.write_text(NET, encoding="utf-8")
    state = tmp_path / "s.json"
    assert kubeheat(capsys, "run", "-t", str(template), "--state", str(state))[0] == 0
    served = tmp_path / "served.json"  # what `sandbox serve --state` keeps: the snapshot alone
    served.write_text(json.dumps(json.loads(state.read_text())["sandbox"]), encoding="utf-8")

    code, out, _ = kubeheat(capsys, "sandbox", "show", "--state", str(served),
                            "--kind", "networks", "--format", "yaml")
    assert code == 0
    assert "shown-net" in out

    code, _, err = kubeheat(capsys, "sandbox", "show", "--state", str(served), "--kind", "vms")
    assert code == 2
    assert err.startswith("ERROR: no sandbox records of kind vms (kinds: attachments, ")

    served.write_text(json.dumps({"store": {}, "version": 2}), encoding="utf-8")
    code, _, err = kubeheat(capsys, "sandbox", "show", "--state", str(served))
    assert (code, err) == (2, f'ERROR: state file {served} is damaged: "sandbox" is not a '
                              'sandbox snapshot (restore it from a copy, or move it away to '
                              'start a new stack)\n')

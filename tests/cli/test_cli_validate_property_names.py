"""``kubeheat validate`` refuses what Heat 27.0.1's template-validate refuses without looking
at values: an unknown top-level property and an update policy key the type has no schema for,
for the OpenStack types as for Heat's own (``Property error: resources.n.properties: Unknown
Property nme`` in Heat; kubeheat's message is the same less Heat's ``Property error: ``)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from kubeheat.cli.main import main


def _validate(tmp_path: Path, resources: str) -> tuple[int, str]:
    path = tmp_path / "t.yaml"
    path.write_text("heat_template_version: 2018-08-31\nresources:\n" + resources)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", "-t", str(path)])
    return code, err.getvalue()


@pytest.mark.parametrize(("resources", "message"), [
    ("  n: {type: OS::Neutron::Net, properties: {nme: x}}\n",
     "resources.n.properties: Unknown Property nme"),
    ("  v: {type: OS::Cinder::Volume, properties: {size: 1, colour: red}}\n",
     "resources.v.properties: Unknown Property colour"),
    ("  i: {type: OS::Glance::WebImage, properties: {location: 'http://x', bogus: 1}}\n",
     "resources.i.properties: Unknown Property bogus"),
    ("  n: {type: OS::Neutron::Net, update_policy: {rolling: 1}}\n",
     "resources.n.update_policy: Unknown Property rolling"),
    ("  s: {type: OS::Nova::Server, properties: {flavor: f, image: i}, "
     "update_policy: {x: 1}}\n",
     "resources.s.update_policy: Unknown Property x"),
])
def test_unknown_names_are_refused(tmp_path: Path, resources: str, message: str) -> None:
    code, err = _validate(tmp_path, resources)
    assert code == 1
    assert err.strip() == f"ERROR: {message}"


def test_known_old_and_current_names_pass(tmp_path: Path) -> None:
    code, err = _validate(tmp_path, (
        "  n: {type: OS::Neutron::Net, properties: {name: x}}\n"
        "  p: {type: OS::Neutron::Port, properties: {network_id: {get_resource: n}}}\n"
        "  g: {type: OS::Heat::ResourceGroup, properties: {count: 1, resource_def: "
        "{type: OS::Heat::None}}, update_policy: {rolling_update: {max_batch_size: 1}}}\n"))
    assert code == 0, err
    assert err == "WARNING: resources.p.properties.network_id: deprecated, use network\n"

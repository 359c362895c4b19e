"""Property names Heat 27.0.1 still accepts although they are deprecated or hidden, against the
sandbox cloud over real HTTP.

Each old name is run through the engine with the old name and again with the new one: the cloud
ends up the same (the same network, subnet, image ... once ids are mapped back to the
template's resource names) and the recorded properties are the same. Heat's answers are
recorded below as expected values: the schema of each type (``properties_schema`` and
``translation_rules()`` of Heat 27.0.1's plugins) names the old properties and what replaces
them, and Heat's ``Properties.validate`` with both names given fails with the messages in
:data:`HEAT_CONFLICTS`.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from neutron_support import Conn, EngineFactory, assert_complete, hot, run

from kubeheat.cli.main import main
from kubeheat.engine import StackRequest, StackState
from kubeheat.engine.deps import stack_requires
from kubeheat.engine.plugins import Plugins
from kubeheat.resources import (
    Property,
    PropertyError,
    check_properties,
    cloud_constraints,
    load_builtin_plugins,
)
from kubeheat.resources.base import HIDDEN, SUPPORTED
from kubeheat.resources.translation import nested_schema
from kubeheat.sandbox import SandboxCloud
from kubeheat.template import Template

CIRROS = "cirros-0.6.2-x86_64-disk"

#: Heat 27.0.1: every old property name of the types kubeheat implements that a translation
#: rule moves to its new name (``translation_rules()``: REPLACE, or for ``l3_agent_id`` ADD
#: into ``l3_agent_ids`` then DELETE), ``<type>: {old path: new path}`` (all HIDDEN in Heat
#: 27; ``[]`` marks a list item's key)
HEAT_RENAMES: dict[str, dict[str, str]] = {
    "OS::Cinder::Volume": {"imageRef": "image"},
    "OS::Neutron::FloatingIP": {"floating_network_id": "floating_network"},
    "OS::Neutron::Port": {"network_id": "network", "fixed_ips[].subnet_id": "fixed_ips[].subnet"},
    "OS::Neutron::Router": {"l3_agent_id": "l3_agent_ids"},
    "OS::Neutron::RouterInterface": {"router_id": "router", "subnet_id": "subnet",
                                     "port_id": "port"},
    "OS::Neutron::Subnet": {"network_id": "network"},
    "OS::Nova::Server": {"networks[].uuid": "networks[].network",
                         "block_device_mapping_v2[].image_id": "block_device_mapping_v2[].image"},
}

#: Heat 27.0.1: the hidden or deprecated properties without a translation rule
HEAT_UNTRANSLATED: dict[str, dict[str, str]] = {
    "OS::Cinder::Volume": {"multiattach": "HIDDEN"},
    "OS::Neutron::Port": {"replacement_policy": "HIDDEN"},
    "OS::Nova::Server": {"admin_user": "HIDDEN", "personality": "DEPRECATED"},
}

#: Heat 27.0.1's ``Properties.validate`` given both names (resource ``r``): its message
#: (``Property error: <path>: <message>``)
HEAT_CONFLICTS: list[tuple[str, dict[str, Any], str]] = [
    ("OS::Neutron::Port", {"network": "a", "network_id": "b"},
     "resources.r.properties.network: Cannot define the following properties at the same "
     "time: network, network_id"),
    ("OS::Neutron::Port", {"network": "a", "fixed_ips": [{"subnet": "x"},
                                                         {"subnet": "x", "subnet_id": "y"}]},
     "resources.r.properties.fixed_ips[1].subnet: Cannot define the following properties at "
     "the same time: fixed_ips.subnet, fixed_ips.subnet_id"),
    ("OS::Neutron::RouterInterface", {"router": "r", "router_id": "r2", "subnet_id": "s"},
     "resources.r.properties.router: Cannot define the following properties at the same time: "
     "router, router_id"),
    ("OS::Nova::Server", {"flavor": "f", "networks": [{"uuid": "n", "network": "m"}]},
     "resources.r.properties.networks[0].network: Cannot define the following properties at "
     "the same time: networks.network, networks.uuid"),
    ("OS::Nova::Server", {"flavor": "f",
                          "block_device_mapping_v2": [{"image_id": "n", "image": "m"}]},
     "resources.r.properties.block_device_mapping_v2[0].image: Cannot define the following "
     "properties at the same time: block_device_mapping_v2.image, "
     "block_device_mapping_v2.image_id"),
    ("OS::Cinder::Volume", {"imageRef": "i", "image": "j", "size": 1},
     "resources.r.properties.image: Cannot define the following properties at the same time: "
     "image, imageRef"),
    ("OS::Neutron::FloatingIP", {"floating_network_id": "i", "floating_network": "j"},
     "resources.r.properties.floating_network: Cannot define the following properties at the "
     "same time: floating_network, floating_network_id"),
    # Heat 27.0.1 fails here too, with an internal message of its ADD rule:
    # "resources.r.properties.l3_agent_ids[0]: Incorrect translation rule using - cannot
    # resolve Add rule for non-list translation value "l3_agent_ids.0"."
    ("OS::Neutron::Router", {"l3_agent_id": "a", "l3_agent_ids": ["b"]},
     "resources.r.properties.l3_agent_ids: Cannot define the following properties at the "
     "same time: l3_agent_ids, l3_agent_id"),
    ("OS::Neutron::Subnet", {"network_id": "i", "network": "j", "cidr": "10.0.0.0/24"},
     "resources.r.properties.network: Cannot define the following properties at the same "
     "time: network, network_id"),
]

WHERE = ("resources", "r", "properties")


def _walk(schema: Any, prefix: str = "") -> dict[str, Property]:
    out: dict[str, Property] = {}
    for key, prop in schema.items():
        out[prefix + key] = prop
        nested = nested_schema(prop)
        if nested is not None:
            out.update(_walk(nested, prefix + key + ("[]." if prop.type == "list" else ".")))
    return out


def test_every_old_name_heat_accepts_is_declared_with_its_replacement() -> None:
    registry = load_builtin_plugins()
    declared: dict[str, dict[str, str]] = {}
    untranslated: dict[str, dict[str, str]] = {}
    for name in registry.names():
        cls = registry.get(name)
        assert cls is not None
        for path, prop in _walk(cls.properties).items():
            if prop.replaced_by is not None:
                parent = path.rpartition(".")[0]
                declared.setdefault(name, {})[path] = (
                    f"{parent}.{prop.replaced_by}" if parent else prop.replaced_by)
                assert prop.support == HIDDEN
            elif prop.support != SUPPORTED:
                untranslated.setdefault(name, {})[path] = prop.support
    assert declared == HEAT_RENAMES
    assert untranslated == HEAT_UNTRANSLATED


def _listed(schema: dict[str, Any], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for key, entry in schema.items():
        out.add(prefix + key)
        nested = entry.get("schema")
        if nested is not None and "*" in nested:
            out |= _listed(nested["*"].get("schema") or {}, prefix + key + "[].")
        elif nested is not None:
            out |= _listed(nested, prefix + key + ".")
    return out


def test_hidden_properties_are_never_listed_and_deprecated_ones_are() -> None:
    registry = load_builtin_plugins()
    for name in registry.names():
        cls = registry.get(name)
        assert cls is not None
        every = _walk(cls.properties)
        visible = {p for p, prop in every.items()
                   if prop.support != HIDDEN and not any(
                       every[a].support == HIDDEN for a in _ancestors(p))}
        assert _listed(cls.schema()["properties"]) == visible, name
    server = registry.get("OS::Nova::Server")
    assert server is not None
    shown = server.schema()["properties"]
    assert "admin_user" not in shown and "personality" in shown and "admin_pass" in shown
    assert "uuid" not in shown["networks"]["schema"]["*"]["schema"]


def _ancestors(path: str) -> list[str]:
    """The paths (as :func:`_walk` names them) of the properties ``path`` is inside."""
    parts = path.split(".")
    return [".".join(parts[:i])[:-2] if parts[i - 1].endswith("[]") else ".".join(parts[:i])
            for i in range(1, len(parts))]


@pytest.mark.parametrize(("type_name", "values", "message"), HEAT_CONFLICTS,
                         ids=[f"{t}:{m.split(':')[0]}" for t, _, m in HEAT_CONFLICTS])
def test_both_names_given_is_heats_conflict(type_name: str, values: dict[str, Any],
                                            message: str) -> None:
    cls = load_builtin_plugins().get(type_name)
    assert cls is not None
    with pytest.raises(PropertyError) as caught:
        check_properties(cls, values, WHERE, strict=False)
    assert str(caught.value) == message


def test_the_old_value_wins_when_it_is_not_null_as_in_heat() -> None:
    """Heat's REPLACE: no conflict unless both are non-empty; a non-null old value (even "")
    replaces the new one, and the old name reads as null afterwards."""
    port = load_builtin_plugins().get("OS::Neutron::Port")
    assert port is not None
    checked = check_properties(port, {"network_id": "b"}, WHERE, strict=False)
    assert checked["network"] == "b" and checked["network_id"] is None
    router = load_builtin_plugins().get("OS::Neutron::Router")
    assert router is not None      # Heat's ADD: the single old value is the new list's item
    checked = check_properties(router, {"l3_agent_id": "a"}, WHERE)
    assert checked["l3_agent_ids"] == ["a"] and checked["l3_agent_id"] is None
    checked = check_properties(port, {"network": "a", "network_id": ""}, WHERE, strict=False)
    assert checked["network"] == ""
    checked = check_properties(port, {"network": "a", "fixed_ips": [
        {"subnet_id": "y", "ip_address": "10.0.0.3"}]}, WHERE, strict=False)
    assert checked["fixed_ips"] == [{"subnet": "y", "subnet_id": None, "ip_address": "10.0.0.3"}]
    with pytest.raises(PropertyError, match=r"^resources\.r\.properties: Property network not "
                                            r"assigned$"):
        check_properties(port, {"network_id": None}, WHERE)
    # a placeholder (validation before resources exist) stands for the required new name
    assert check_properties(port, {"network_id": None}, WHERE, strict=False,
                            deferred=["network_id"])["network"] is None


def test_personality_is_refused_unless_empty_as_heat_against_current_nova() -> None:
    server = load_builtin_plugins().get("OS::Nova::Server")
    assert server is not None
    assert check_properties(server, {"flavor": "f", "personality": {}}, WHERE)["personality"] \
        == {}
    with pytest.raises(PropertyError) as caught:
        check_properties(server, {"flavor": "f", "personality": {"/etc/motd": "hi"}}, WHERE)
    assert str(caught.value) == ("resources.r.properties.personality: Cannot use the "
                                 "personality parameter as nova no longer supports it. Use "
                                 "user_data instead.")


def test_implicit_dependencies_follow_the_old_names() -> None:
    """A port given its network by ``network_id`` waits for the network's subnets, as with
    ``network`` (Heat's add_dependencies reads the translated properties)."""
    for key in ("network", "network_id"):
        doc = hot({
            "net": {"type": "OS::Neutron::Net"},
            "subnet": {"type": "OS::Neutron::Subnet", "properties": {
                key: {"get_resource": "net"}, "cidr": "10.9.0.0/24"}},
            "port": {"type": "OS::Neutron::Port", "properties": {
                key: {"get_resource": "net"}}},
        })
        defn = Template.load(doc).define()
        requires = stack_requires(defn, Plugins(load_builtin_plugins()))
        assert requires["port"] == {"net", "subnet"}, key


# -------------------------------------------------------------------------------------------
# the sandbox: the old name gives the cloud the new name gives
# -------------------------------------------------------------------------------------------

NET = {"net": {"type": "OS::Neutron::Net"},
       "subnet": {"type": "OS::Neutron::Subnet", "properties": {
           "network": {"get_resource": "net"}, "cidr": "10.31.0.0/24"}}}
ROUTER = {"router": {"type": "OS::Neutron::Router", "properties": {
    "external_gateway_info": {"network": "public"}}}}
PORT = {"port": {"type": "OS::Neutron::Port", "depends_on": ["subnet"], "properties": {
    "network": {"get_resource": "net"}}}}

Facts = Callable[[Conn, StackState, str], Any]


def _port_facts(conn: Conn, state: StackState, target: str) -> Any:
    port = conn.network.get_port(state.resources[target].physical_id)
    return {"network": port.network_id, "subnets": [ip["subnet_id"] for ip in port.fixed_ips]}


def _subnet_facts(conn: Conn, state: StackState, target: str) -> Any:
    subnet = conn.network.get_subnet(state.resources[target].physical_id)
    return {"network": subnet.network_id, "cidr": subnet.cidr}


def _interface_facts(conn: Conn, state: StackState, target: str) -> Any:
    router, _, key = str(state.resources[target].physical_id).partition(":")
    ports = [p for p in conn.network.ports(device_id=router)
             if p.device_owner == "network:router_interface"]
    return {"router": router, "interface": key.partition("=")[0], "ports": len(ports),
            "subnets": sorted(ip["subnet_id"] for p in ports for ip in p.fixed_ips)}


def _router_facts(conn: Conn, state: StackState, target: str) -> Any:
    rid = state.resources[target].physical_id
    return {"agents": [a.id for a in conn.network.routers_hosting_l3_agents(rid)]}


def _fip_facts(conn: Conn, state: StackState, target: str) -> Any:
    fip = conn.network.get_ip(state.resources[target].physical_id)
    return {"network": fip.floating_network_id}


def _volume_facts(conn: Conn, state: StackState, target: str) -> Any:
    volume = conn.block_storage.get_volume(state.resources[target].physical_id)
    return {"image": (volume.volume_image_metadata or {}).get("image_name"),
            "bootable": volume.is_bootable, "multiattach": volume.is_multiattach}


def _server_facts(conn: Conn, state: StackState, target: str) -> Any:
    sid = state.resources[target].physical_id
    ports = list(conn.network.ports(device_id=sid))
    attachments = list(conn.compute.volume_attachments(sid))
    images = [(conn.block_storage.get_volume(a.volume_id).volume_image_metadata or {})
              .get("image_name") for a in attachments]
    return {"networks": sorted(p.network_id for p in ports), "volume_images": images}


#: id, the resources every run has, the resource under test, its properties with the new
#: names, the same with the old names, and what the cloud shows of it
CASES: list[tuple[str, dict[str, Any], str, str, dict[str, Any], dict[str, Any], Facts]] = [
    ("port-network_id", NET, "port", "OS::Neutron::Port",
     {"network": {"get_resource": "net"}}, {"network_id": {"get_resource": "net"}},
     _port_facts),
    ("port-fixed_ips-subnet_id", NET, "port", "OS::Neutron::Port",
     {"network": {"get_resource": "net"}, "fixed_ips": [{"subnet": {"get_resource": "subnet"},
                                                          "ip_address": "10.31.0.50"}]},
     {"network": {"get_resource": "net"}, "fixed_ips": [{"subnet_id": {"get_resource": "subnet"},
                                                          "ip_address": "10.31.0.50"}]},
     _port_facts),
    ("port-replacement_policy", NET, "port", "OS::Neutron::Port",
     {"network": {"get_resource": "net"}},
     {"network": {"get_resource": "net"}, "replacement_policy": "AUTO"}, _port_facts),
    ("subnet-network_id", {"net": NET["net"]}, "subnet", "OS::Neutron::Subnet",
     {"network": {"get_resource": "net"}, "cidr": "10.32.0.0/24"},
     {"network_id": {"get_resource": "net"}, "cidr": "10.32.0.0/24"}, _subnet_facts),
    ("interface-router_id-subnet_id", {**NET, **ROUTER}, "iface",
     "OS::Neutron::RouterInterface",
     {"router": {"get_resource": "router"}, "subnet": {"get_resource": "subnet"}},
     {"router_id": {"get_resource": "router"}, "subnet_id": {"get_resource": "subnet"}},
     _interface_facts),
    ("interface-port_id", {**NET, **ROUTER, **PORT}, "iface", "OS::Neutron::RouterInterface",
     {"router": {"get_resource": "router"}, "port": {"get_resource": "port"}},
     {"router": {"get_resource": "router"}, "port_id": {"get_resource": "port"}},
     _interface_facts),
    ("router-l3_agent_id", {}, "router", "OS::Neutron::Router",
     {"l3_agent_ids": ["l3-agent-2"]}, {"l3_agent_id": "l3-agent-2"}, _router_facts),
    ("floatingip-floating_network_id", {}, "fip", "OS::Neutron::FloatingIP",
     {"floating_network": "public"}, {"floating_network_id": "public"}, _fip_facts),
    ("volume-imageRef", {}, "vol", "OS::Cinder::Volume",
     {"size": 1, "image": CIRROS}, {"size": 1, "imageRef": CIRROS}, _volume_facts),
    ("volume-multiattach", {}, "vol", "OS::Cinder::Volume",
     {"size": 1, "image": CIRROS}, {"size": 1, "image": CIRROS, "multiattach": True},
     _volume_facts),
    ("server-networks-uuid", NET, "vm", "OS::Nova::Server",
     {"flavor": "m1.tiny", "image": CIRROS, "networks": [{"network": {"get_resource": "net"}}]},
     {"flavor": "m1.tiny", "image": CIRROS, "networks": [{"uuid": {"get_resource": "net"}}]},
     _server_facts),
    ("server-bdm_v2-image_id", NET, "vm", "OS::Nova::Server",
     {"flavor": "m1.tiny", "networks": [{"network": {"get_resource": "net"}}],
      "block_device_mapping_v2": [{"image": CIRROS, "volume_size": 1, "boot_index": 0,
                                   "delete_on_termination": True}]},
     {"flavor": "m1.tiny", "networks": [{"network": {"get_resource": "net"}}],
      "block_device_mapping_v2": [{"image_id": CIRROS, "volume_size": 1, "boot_index": 0,
                                   "delete_on_termination": True}]},
     _server_facts),
    ("server-admin_user", NET, "vm", "OS::Nova::Server",
     {"flavor": "m1.tiny", "image": CIRROS, "networks": [{"network": {"get_resource": "net"}}]},
     {"flavor": "m1.tiny", "image": CIRROS, "networks": [{"network": {"get_resource": "net"}}],
      "admin_user": "ubuntu"}, _server_facts),
]


def _names(value: Any, ids: dict[str, str]) -> Any:
    """``value`` with the stack's physical ids replaced by the resources' logical names."""
    if isinstance(value, dict):
        return {k: _names(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_names(v, ids) for v in value]
    return ids.get(value, value) if isinstance(value, str) else value


def _ids(state: StackState) -> dict[str, str]:
    out = {}
    for name, rec in state.resources.items():
        if rec.physical_id:
            out[str(rec.physical_id)] = name
            out[str(rec.physical_id).partition(":")[0]] = name.replace("iface", "router")
    return out


def _create(engine: EngineFactory, conn: Conn, sandbox: SandboxCloud, stack: str,
            base: dict[str, Any], target: str, type_name: str, props: dict[str, Any],
            facts: Facts) -> tuple[Any, Any]:
    public = conn.network.find_network("public", ignore_missing=False)
    image = conn.image.find_image(CIRROS, ignore_missing=False)
    eng, _, _ = engine(constraints=cloud_constraints(conn))
    resource: dict[str, Any] = {"type": type_name, "properties": props}
    if type_name == "OS::Nova::Server":
        resource["depends_on"] = ["subnet"]     # kubeheat's server does not wait for it itself
    doc = hot({**base, target: resource})
    state = run(eng.create(StackRequest(stack, doc)))
    assert_complete(state)
    ids = {**_ids(state), public.id: "public", image.id: CIRROS}
    # an old name without a replacement is recorded as given: left out of the comparison
    recorded = {k: v for k, v in state.resources[target].properties.items()
                if k not in HEAT_UNTRANSLATED.get(type_name, {})}
    seen = _names(facts(conn, state, target), ids), _names(recorded, ids)
    deleted = run(eng.delete(state.id))
    assert deleted.state == "DELETE_COMPLETE", deleted.status_reason
    return seen


@pytest.mark.parametrize(("case", "base", "target", "type_name", "new", "old", "facts"), CASES,
                         ids=[c[0] for c in CASES])
def test_the_old_name_gives_what_the_new_name_gives(
        engine: EngineFactory, conn: Conn, sandbox: SandboxCloud, case: str,
        base: dict[str, Any], target: str, type_name: str, new: dict[str, Any],
        old: dict[str, Any], facts: Facts) -> None:
    with_new = _create(engine, conn, sandbox, f"deprec-{case}-new", base, target, type_name,
                       new, facts)
    with_old = _create(engine, conn, sandbox, f"deprec-{case}-old", base, target, type_name,
                       old, facts)
    assert with_old == with_new
    seen, _ = with_new
    # the facts name what the template asked for (so the comparison is not of two nothings)
    flat = yaml.safe_dump(seen)
    assert any(ref in flat for ref in ("net", "subnet", "public", CIRROS, "router",
                                       "l3-agent")), seen


# -------------------------------------------------------------------------------------------
# replacement_policy and admin_pass through updates
# -------------------------------------------------------------------------------------------


def test_replacement_policy_replace_always_replaces_the_port_on_any_change(
        engine: EngineFactory, conn: Conn) -> None:
    eng, _, _ = engine(constraints=cloud_constraints(conn))

    def doc(name: str, policy: str) -> dict[str, Any]:
        return hot({"net": NET["net"], "port": {"type": "OS::Neutron::Port", "properties": {
            "network_id": {"get_resource": "net"}, "name": name,
            "replacement_policy": policy}}})

    state = run(eng.create(StackRequest("deprec-policy", doc("a", "AUTO"))))
    assert_complete(state)
    first = state.resources["port"].physical_id
    state = run(eng.update(state.id, StackRequest("deprec-policy", doc("b", "AUTO"))))
    assert_complete(state)
    assert state.resources["port"].physical_id == first       # AUTO: renamed in place
    state = run(eng.update(state.id, StackRequest("deprec-policy", doc("c", "REPLACE_ALWAYS"))))
    assert_complete(state)
    second = state.resources["port"].physical_id
    assert second != first and conn.network.find_port(first) is None
    assert conn.network.get_port(second).name == "c"
    run(eng.delete(state.id))


def test_admin_pass_is_given_at_boot_and_changed_in_place(
        engine: EngineFactory, conn: Conn, sandbox: SandboxCloud) -> None:
    eng, _, _ = engine(constraints=cloud_constraints(conn))

    def doc(password: str) -> dict[str, Any]:
        return hot({**NET, "vm": {"type": "OS::Nova::Server", "depends_on": ["subnet"],
                                  "properties": {
            "flavor": "m1.tiny", "image": CIRROS, "admin_pass": password,
            "networks": [{"uuid": {"get_resource": "net"}}]}}})

    state = run(eng.create(StackRequest("deprec-pass", doc("s3cret-1"))))
    assert_complete(state)
    sid = str(state.resources["vm"].physical_id)
    assert sandbox.state["servers"][sid]["_admin_pass"] == "s3cret-1"
    state = run(eng.update(state.id, StackRequest("deprec-pass", doc("s3cret-2"))))
    assert_complete(state)
    assert state.resources["vm"].physical_id == sid               # changed in place
    assert sandbox.state["servers"][sid]["_admin_pass"] == "s3cret-2"
    run(eng.delete(state.id))


# -------------------------------------------------------------------------------------------
# kubeheat validate
# -------------------------------------------------------------------------------------------

TEMPLATE = """\
heat_template_version: 2018-08-31
resources:
  net: {type: OS::Neutron::Net}
  port:
    type: OS::Neutron::Port
    properties:
      network_id: {get_resource: net}
      fixed_ips: [{ip_address: 10.0.0.5}, {subnet_id: {get_resource: subnet}}]
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.0.0.0/24}
  iface:
    type: OS::Neutron::RouterInterface
    properties: {router_id: r1, subnet_id: {get_resource: subnet}}
  vm:
    type: OS::Nova::Server
    properties:
      flavor: m1.tiny
      admin_user: ubuntu
      personality: {}
      networks: [{uuid: {get_resource: net}}]
      block_device_mapping_v2: [{image_id: cirros, boot_index: 0}]
  nested: {type: child.yaml}
"""

CHILD = """\
heat_template_version: 2018-08-31
resources:
  vol: {type: OS::Cinder::Volume, properties: {size: 1, imageRef: cirros}}
  fip: {type: OS::Neutron::FloatingIP, properties: {floating_network_id: public}}
"""


def _validate(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", *args, "--format", "json"])
    return code, out.getvalue(), err.getvalue()


def test_validate_warns_about_each_old_name_where_it_is_written(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(TEMPLATE, encoding="utf-8")
    (tmp_path / "child.yaml").write_text(CHILD, encoding="utf-8")
    code, _, err = _validate(tmp_path, "-t", str(tmp_path / "t.yaml"))
    assert code == 0, err
    assert err.splitlines() == [
        "WARNING: resources.port.properties.network_id: deprecated, use network",
        "WARNING: resources.port.properties.fixed_ips[1].subnet_id: deprecated, use subnet",
        "WARNING: resources.iface.properties.router_id: deprecated, use router",
        "WARNING: resources.iface.properties.subnet_id: deprecated, use subnet",
        "WARNING: resources.vm.properties.admin_user: deprecated: ignored (the default "
        "cloud-init user set up for each image is used, e.g. \"ubuntu\" for Ubuntu 12.04+, "
        "\"fedora\" for Fedora 19+ and \"cloud-user\" for CentOS/RHEL 6.5)",
        "WARNING: resources.vm.properties.personality: deprecated: not supported with nova "
        "api microversion 2.57 and above; use user_data or metadata instead",
        "WARNING: resources.vm.properties.networks[0].uuid: deprecated, use network",
        "WARNING: resources.vm.properties.block_device_mapping_v2[0].image_id: deprecated, "
        "use image",
        f"WARNING: {tmp_path / 'child.yaml'}: resources.vol.properties.imageRef: "
        "deprecated, use image",
        f"WARNING: {tmp_path / 'child.yaml'}: resources.fip.properties."
        "floating_network_id: deprecated, use floating_network",
    ]


def test_validate_of_current_names_warns_about_nothing(tmp_path: Path) -> None:
    text = TEMPLATE.replace("network_id", "network").replace("subnet_id", "subnet") \
        .replace("router_id", "router").replace("uuid", "network").replace("image_id", "image") \
        .replace("      admin_user: ubuntu\n", "").replace("      personality: {}\n", "") \
        .replace("  nested: {type: child.yaml}\n", "")
    (tmp_path / "t.yaml").write_text(text, encoding="utf-8")
    code, _, err = _validate(tmp_path, "-t", str(tmp_path / "t.yaml"))
    assert (code, err) == (0, "")


def test_a_plan_through_an_old_name_is_the_plan_through_the_new_one(
        engine: EngineFactory, conn: Conn) -> None:
    """An old name whose value is not known when planning (a resource the update adds) may
    change just as the new name would."""
    eng, _, _ = engine(constraints=cloud_constraints(conn))
    plans = {}
    for key in ("network", "network_id"):
        def doc(net: str, key: str = key) -> dict[str, Any]:
            return hot({"net": NET["net"], "net2": NET["net"], "port": {
                "type": "OS::Neutron::Port", "properties": {key: {"get_resource": net}}}})

        state = run(eng.create(StackRequest(f"deprec-plan-{key}", hot({
            "net": NET["net"], "port": {"type": "OS::Neutron::Port", "properties": {
                key: {"get_resource": "net"}}}}))))
        assert_complete(state)
        plan = run(eng.plan(StackRequest(f"deprec-plan-{key}", doc("net2")), state.id,
                            observe=False)).resources["port"]
        plans[key] = (plan.action, plan.reason, plan.changed, plan.may_change)
        run(eng.delete(state.id))
    assert plans["network_id"] == plans["network"]
    assert plans["network"][3] == ("network",)


def test_validate_loads_the_plugins_of_every_service_with_old_names() -> None:
    from kubeheat.cli.deprecations import SERVICES

    registry = load_builtin_plugins()
    for name in registry.names():
        cls = registry.get(name)
        assert cls is not None
        if any(p.support != SUPPORTED for p in _walk(cls.properties).values()):
            assert any(name.startswith(prefix) for prefix in SERVICES), name


def test_moving_from_the_old_name_to_the_new_one_updates_in_place(engine: EngineFactory,
                                                                 conn: Conn) -> None:
    eng, _, _ = engine(constraints=cloud_constraints(conn))

    def doc(network_key: str, subnet_key: str) -> dict[str, Any]:
        return hot({**NET, "port": {"type": "OS::Neutron::Port", "properties": {
            network_key: {"get_resource": "net"},
            "fixed_ips": [{subnet_key: {"get_resource": "subnet"}}]}}})

    state = run(eng.create(StackRequest("deprec-move", doc("network_id", "subnet_id"))))
    assert_complete(state)
    before = {n: r.physical_id for n, r in state.resources.items()}
    plan = run(eng.plan(StackRequest("deprec-move", doc("network", "subnet")), state.id))
    # as in Heat, whose convergence engine compares the definitions as written: the port's
    # changed, so it goes through UPDATE, with the same values after translation (nothing
    # changes in the cloud, nothing is replaced)
    assert {n: str(p.action) for n, p in plan.resources.items()} == {
        **dict.fromkeys(before, "noop"), "port": "update"}
    state = run(eng.update(state.id, StackRequest("deprec-move", doc("network", "subnet"))))
    assert_complete(state)
    assert {n: r.physical_id for n, r in state.resources.items()} == before
    run(eng.delete(state.id))

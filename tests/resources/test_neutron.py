"""The Neutron resource types through the engine, against the sandbox cloud with the real
openstacksdk over HTTP: create, attributes through outputs, update in place, replacement,
drift found by ``check`` and repaired by the next update, adoption after a crash, cloud errors
surfaced, deletes that find things already gone, and nothing left behind."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import ipaddress
import uuid
from collections.abc import Callable
from typing import Any

import openstack.connection
import pytest

from crash_support import Crash, CrashingStore
from kubeheat.cloud import connect
from kubeheat.engine.executor import Engine, StackRequest, StateSaveError
from kubeheat.engine.state import MemoryStateStore, StackState
from kubeheat.resources.base import TAG_RESOURCE, TAG_STACK_ID, load_builtin_plugins
from kubeheat.resources.openstack import cloud_constraints
from kubeheat.sandbox import FaultRule, SandboxCloud
from kubeheat.template.constraints import ConstraintRegistry, ConstraintViolation
from kubeheat.template.errors import TemplateError

Conn = openstack.connection.Connection
EngineFactory = Callable[..., tuple[Engine, MemoryStateStore, Any]]

NEUTRON_TYPES = ("Net", "Subnet", "Port", "Router", "RouterInterface", "FloatingIP",
                 "FloatingIPAssociation", "SecurityGroup", "SecurityGroupRule")


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def hot(resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"heat_template_version": "2018-08-31", "resources": resources}
    if outputs:
        doc["outputs"] = {k: {"value": v} for k, v in outputs.items()}
    return doc


def web_tier(cidr: str = "10.20.0.0/24") -> dict[str, Any]:
    """Net, subnet, router with gateway and interface, security group with rules, a separate
    rule, a port in the group and a floating IP on the port."""
    return hot({
        "net": {"type": "OS::Neutron::Net", "properties": {"tags": ["tier=web"]}},
        "subnet": {"type": "OS::Neutron::Subnet", "properties": {
            "network": {"get_resource": "net"}, "cidr": cidr,
            "dns_nameservers": ["8.8.8.8"]}},
        "router": {"type": "OS::Neutron::Router", "properties": {
            "external_gateway_info": {"network": "public"}}},
        "iface": {"type": "OS::Neutron::RouterInterface", "properties": {
            "router": {"get_resource": "router"}, "subnet": {"get_resource": "subnet"}}},
        "sg": {"type": "OS::Neutron::SecurityGroup", "properties": {
            "description": "web servers",
            "rules": [{"protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
                       "remote_ip_prefix": "0.0.0.0/0"},
                      {"protocol": "icmp"}]}},
        "http": {"type": "OS::Neutron::SecurityGroupRule", "properties": {
            "security_group": {"get_resource": "sg"}, "port_range_min": 80,
            "port_range_max": 80}},
        "port": {"type": "OS::Neutron::Port", "properties": {
            "network": {"get_resource": "net"},
            "fixed_ips": [{"subnet": {"get_resource": "subnet"}}],
            "security_groups": [{"get_resource": "sg"}]}},
        "fip": {"type": "OS::Neutron::FloatingIP", "depends_on": ["iface"], "properties": {
            "floating_network": "public", "port_id": {"get_resource": "port"}}},
    }, outputs={
        "port_ip": {"get_attr": ["port", "fixed_ips", 0, "ip_address"]},
        "port_mac": {"get_attr": ["port", "mac_address"]},
        "fip_address": {"get_attr": ["fip", "floating_ip_address"]},
        "subnets": {"get_attr": ["net", "subnets"]},
        "gateway": {"get_attr": ["router", "external_gateway_info", "network_id"]},
        "cidr": {"get_attr": ["subnet", "cidr"]},
    })


def tagged(conn: Conn, stack_id: str) -> dict[str, list[Any]]:
    """Everything in the cloud carrying the stack's tag, by listing."""
    tag = f"{TAG_STACK_ID}={stack_id}"
    net = conn.network
    found: dict[str, list[Any]] = {
        "networks": list(net.networks(tags=tag)),
        "subnets": list(net.subnets(tags=tag)),
        "ports": list(net.ports(tags=tag)),
        "routers": list(net.routers(tags=tag)),
        "floating_ips": list(net.ips(tags=tag)),
        "security_groups": list(net.security_groups(tags=tag)),
    }
    found["rules"] = [r for r in net.security_group_rules() if tag in (r.description or "")]
    found["router_ports"] = [p for r in found["routers"] for p in net.ports(device_id=r.id)
                             if p.device_owner == "network:router_interface"]
    return found


def assert_nothing_left(conn: Conn, stack_id: str) -> None:
    left = {k: [getattr(o, "id", o) for o in v] for k, v in tagged(conn, stack_id).items() if v}
    assert left == {}


def assert_complete(state: StackState) -> None:
    assert state.status == "COMPLETE", (state.state, state.status_reason,
                                        {n: r.status_reason for n, r in state.resources.items()
                                         if r.status != "COMPLETE"})


def ids(state: StackState) -> dict[str, str]:
    out = {name: rec.physical_id for name, rec in state.resources.items()}
    assert all(out.values()), out
    return {name: str(pid) for name, pid in out.items()}


def rule_keys(conn: Conn, group_id: str) -> set[tuple[Any, ...]]:
    return {(r.direction, r.ether_type, r.protocol, r.port_range_min, r.port_range_max,
             r.remote_ip_prefix) for r in conn.network.security_group_rules(
                 security_group_id=group_id)}


# -------------------------------------------------------------------------------------------


def test_types_are_registered_with_heats_update_rules() -> None:
    registry = load_builtin_plugins()
    for short in NEUTRON_TYPES:
        assert f"OS::Neutron::{short}" in registry
    net = registry.get("OS::Neutron::Net")
    subnet = registry.get("OS::Neutron::Subnet")
    port = registry.get("OS::Neutron::Port")
    router = registry.get("OS::Neutron::Router")
    fip = registry.get("OS::Neutron::FloatingIP")
    rule = registry.get("OS::Neutron::SecurityGroupRule")
    sg = registry.get("OS::Neutron::SecurityGroup")
    assert net and subnet and port and router and fip and rule and sg
    assert net.properties["admin_state_up"].update_allowed
    assert net.properties["admin_state_up"].default is True
    assert not subnet.properties["cidr"].update_allowed
    assert not subnet.properties["network"].update_allowed
    assert subnet.properties["network"].required
    assert subnet.properties["ip_version"].default == 4
    assert subnet.properties["allocation_pools"].update_allowed
    assert not port.properties["network"].update_allowed
    assert port.properties["fixed_ips"].update_allowed
    assert port.properties["security_groups"].update_allowed
    assert router.properties["external_gateway_info"].update_allowed
    assert fip.properties["port_id"].update_allowed
    assert not fip.properties["floating_network"].update_allowed
    assert sg.properties["rules"].update_allowed
    assert not any(p.update_allowed for p in rule.properties.values())
    assert rule.properties["protocol"].default == "tcp"
    assert {"fixed_ips", "mac_address", "network_id", "device_id"} <= set(port.attributes)
    assert {"floating_ip_address", "port_id", "router_id"} <= set(fip.attributes)
    assert {"status", "subnets", "mtu"} <= set(net.attributes)
    schema = port.schema()
    assert schema["properties"]["network"]["constraints"] == [
        {"custom_constraint": "neutron.network"}]


def test_web_tier_create_attributes_and_delete(engine: EngineFactory, conn: Conn) -> None:
    eng, _, events = engine(constraints=cloud_constraints(conn))
    state = run(eng.create(StackRequest("web", web_tier())))
    assert_complete(state)
    pid = ids(state)
    public = conn.network.find_network("public", ignore_missing=False)

    # attributes through outputs
    out = state.outputs
    assert ipaddress.ip_address(out["port_ip"]) in ipaddress.ip_network("10.20.0.0/24")
    assert ipaddress.ip_address(out["fip_address"]) in ipaddress.ip_network("172.24.4.0/24")
    assert out["subnets"] == [pid["subnet"]]  # read again after the subnet was made
    assert out["gateway"] == public.id
    assert out["cidr"] == "10.20.0.0/24"
    assert out["port_mac"] == conn.network.get_port(pid["port"]).mac_address

    # what the cloud has
    tags = {f"{TAG_STACK_ID}={state.id}"}
    net = conn.network.get_network(pid["net"])
    assert tags | {f"{TAG_RESOURCE}=net", "tier=web"} <= set(net.tags)
    assert net.name.startswith("web-net-")
    subnet = conn.network.get_subnet(pid["subnet"])
    assert subnet.dns_nameservers == ["8.8.8.8"] and subnet.network_id == net.id
    port = conn.network.get_port(pid["port"])
    assert port.security_group_ids == [pid["sg"]]
    assert port.fixed_ips[0]["subnet_id"] == subnet.id
    fip = conn.network.get_ip(pid["fip"])
    assert fip.port_id == port.id and fip.fixed_ip_address == out["port_ip"]
    router_id, _, iface = str(pid["iface"]).partition(":")
    assert router_id == pid["router"] and iface == f"subnet_id={subnet.id}"
    sg = conn.network.get_security_group(pid["sg"])
    assert sg.description == "web servers"
    assert rule_keys(conn, sg.id) == {
        ("ingress", "IPv4", "tcp", 22, 22, "0.0.0.0/0"),
        ("ingress", "IPv4", "icmp", None, None, None),
        ("egress", "IPv4", None, None, None, None),
        ("egress", "IPv6", None, None, None, None),
        ("ingress", "IPv4", "tcp", 80, 80, None),          # the separate rule resource
    }
    found = tagged(conn, state.id)
    assert {k: len(v) for k, v in found.items()} == {
        "networks": 1, "subnets": 1, "ports": 1, "routers": 1, "floating_ips": 1,
        "security_groups": 1, "rules": 1, "router_ports": 1}

    check = run(eng.check(state.id))
    assert check.ok, check.to_dict()
    assert check.drifted == {}
    # a check refreshes the attributes
    assert check.state.resources["net"].attributes["subnets"] == [pid["subnet"]]
    assert check.state.resources["fip"].attributes["port_id"] == pid["port"]

    deleted = run(eng.delete(state.id))
    assert deleted.state == "DELETE_COMPLETE", deleted.status_reason
    assert_nothing_left(conn, state.id)
    assert conn.network.find_network(pid["net"]) is None
    assert any(e.resource_action == "DELETE" for e in events.events)


def test_update_in_place_keeps_the_physical_resources(engine: EngineFactory,
                                                      conn: Conn) -> None:
    eng, _, _ = engine()
    v1 = web_tier("10.21.0.0/24")
    state = run(eng.create(StackRequest("upd", v1)))
    assert_complete(state)
    before = ids(state)

    v2 = copy.deepcopy(v1)
    res = v2["resources"]
    res["net"]["properties"].update(name="renamed", admin_state_up=False, tags=["tier=db"])
    res["subnet"]["properties"].update(
        dns_nameservers=["1.1.1.1", "9.9.9.9"], name="sub",
        allocation_pools=[{"start": "10.21.0.100", "end": "10.21.0.200"}])
    res["sg"]["properties"]["rules"] = [
        {"protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
         "remote_ip_prefix": "10.0.0.0/8"},
        {"protocol": "tcp", "port_range_min": 443, "port_range_max": 443},
        {"direction": "egress", "protocol": "tcp", "port_range_min": 53,
         "port_range_max": 53}]
    res["sg"]["properties"]["name"] = "web-sg"
    res["port"]["properties"].update(
        name="web-port", fixed_ips=[{"subnet": {"get_resource": "subnet"},
                                     "ip_address": "10.21.0.150"}])
    res["router"]["properties"]["admin_state_up"] = False
    state = run(eng.update(state.id, StackRequest("upd", v2)))
    assert_complete(state)
    after = ids(state)
    assert after == before        # everything updated in place

    net = conn.network.get_network(after["net"])
    assert net.name == "renamed" and net.is_admin_state_up is False
    assert "tier=db" in net.tags and "tier=web" not in net.tags
    assert f"{TAG_STACK_ID}={state.id}" in net.tags      # kubeheat's tags survive
    subnet = conn.network.get_subnet(after["subnet"])
    assert subnet.dns_nameservers == ["1.1.1.1", "9.9.9.9"] and subnet.name == "sub"
    assert subnet.allocation_pools == [{"start": "10.21.0.100", "end": "10.21.0.200"}]
    group = str(after["sg"])
    assert conn.network.get_security_group(group).name == "web-sg"
    assert rule_keys(conn, group) == {
        ("ingress", "IPv4", "tcp", 22, 22, "10.0.0.0/8"),
        ("ingress", "IPv4", "tcp", 443, 443, None),
        ("egress", "IPv4", "tcp", 53, 53, None),           # default egress rules dropped
        ("ingress", "IPv4", "tcp", 80, 80, None),          # the rule resource is untouched
    }
    port = conn.network.get_port(after["port"])
    assert port.name == "web-port"
    assert [ip["ip_address"] for ip in port.fixed_ips] == ["10.21.0.150"]
    assert state.outputs["port_ip"] == "10.21.0.150"
    assert conn.network.get_router(after["router"]).is_admin_state_up is False
    assert run(eng.check(state.id)).drifted == {}

    # back to v1: the default egress rules come back, the ssh rule is open again
    state = run(eng.update(state.id, StackRequest("upd", v1)))
    assert_complete(state)
    assert ids(state) == before
    assert ("egress", "IPv6", None, None, None, None) in rule_keys(conn, group)
    assert conn.network.get_network(after["net"]).is_admin_state_up is True

    assert run(eng.delete(state.id)).state == "DELETE_COMPLETE"
    assert_nothing_left(conn, state.id)


def test_replacement(engine: EngineFactory, conn: Conn) -> None:
    """A new CIDR replaces the subnet (the port moves onto the new one in place); a new port
    range replaces the rule; a new network replaces the port."""
    def doc(cidr: str, port: int, network: str) -> dict[str, Any]:
        return hot({
            "net": {"type": "OS::Neutron::Net"},
            "net2": {"type": "OS::Neutron::Net"},
            "subnet": {"type": "OS::Neutron::Subnet", "properties": {
                "network": {"get_resource": "net"}, "cidr": cidr}},
            "subnet2": {"type": "OS::Neutron::Subnet", "properties": {
                "network": {"get_resource": "net2"}, "cidr": "10.32.0.0/24"}},
            "port": {"type": "OS::Neutron::Port", "properties": {
                "network": {"get_resource": "net"},
                "fixed_ips": [{"subnet": {"get_resource": "subnet"}}]}},
            "other": {"type": "OS::Neutron::Port", "depends_on": ["subnet2", "subnet"],
                      "properties": {"network": {"get_resource": network}}},
            "sg": {"type": "OS::Neutron::SecurityGroup"},
            "rule": {"type": "OS::Neutron::SecurityGroupRule", "properties": {
                "security_group": {"get_resource": "sg"}, "port_range_min": port,
                "port_range_max": port}},
        }, outputs={"ip": {"get_attr": ["port", "fixed_ips", 0, "ip_address"]}})

    eng, _, _ = engine()
    state = run(eng.create(StackRequest("repl", doc("10.30.0.0/24", 80, "net"))))
    assert_complete(state)
    before = ids(state)
    state = run(eng.update(state.id, StackRequest("repl", doc("10.31.0.0/24", 8080, "net2"))))
    assert_complete(state)
    after = ids(state)
    assert set(after) == set(before)          # the replaced entries are gone from the state
    assert after["subnet"] != before["subnet"]
    assert after["rule"] != before["rule"]
    assert after["other"] != before["other"]
    assert after["port"] == before["port"] and after["net"] == before["net"]
    assert conn.network.find_subnet(before["subnet"]) is None
    assert conn.network.find_port(before["other"]) is None
    assert ipaddress.ip_address(state.outputs["ip"]) in ipaddress.ip_network("10.31.0.0/24")
    assert conn.network.get_port(after["other"]).network_id == after["net2"]
    keys = rule_keys(conn, str(after["sg"]))
    assert ("ingress", "IPv4", "tcp", 8080, 8080, None) in keys
    assert ("ingress", "IPv4", "tcp", 80, 80, None) not in keys
    assert run(eng.delete(state.id)).state == "DELETE_COMPLETE"
    assert_nothing_left(conn, state.id)


def test_drift_is_detected_and_repaired(engine: EngineFactory, conn: Conn,
                                        sandbox: SandboxCloud) -> None:
    doc = web_tier("10.40.0.0/24")
    doc["resources"]["spare"] = {"type": "OS::Neutron::Port", "properties": {
        "network": {"get_resource": "net"}, "admin_state_up": True}}
    eng, _, _ = engine()
    state = run(eng.create(StackRequest("drift", doc)))
    assert_complete(state)
    pid = ids(state)

    # hands in the cloud, behind the stack's back
    ssh = [r for r in conn.network.security_group_rules(security_group_id=pid["sg"])
           if r.port_range_min == 22]
    conn.network.delete_security_group_rule(ssh[0].id)
    conn.network.update_network(pid["net"], admin_state_up=False)
    conn.network.update_ip(pid["fip"], port_id=None)
    conn.network.update_port(pid["port"], security_groups=[])
    conn.network.update_port(pid["spare"], admin_state_up=False)
    sandbox.vanish("ports", str(pid["spare"]))

    check = run(eng.check(state.id))
    assert check.state.state == "CHECK_FAILED"
    drift = check.drifted
    assert drift["net"] == {"admin_state_up": (True, False)}
    assert drift["fip"]["port_id"] == (pid["port"], None)
    assert drift["port"]["security_groups"] == ([pid["sg"]], [])
    applied, observed = drift["sg"]["rules"]
    assert len(applied) == 2 and len(observed) == 3          # icmp + 2 default egress
    assert all(r["port_range_min"] != 22 for r in observed)
    assert check.resources["spare"].missing
    for name in ("subnet", "router", "iface", "http"):
        assert check.resources[name].status == "CHECK_COMPLETE", check.resources[name]

    # the next update converges back to the template
    state = run(eng.update(state.id, StackRequest("drift", doc)))
    assert_complete(state)
    assert ids(state)["spare"] != pid["spare"]           # recreated
    assert {k: v for k, v in ids(state).items() if k != "spare"} == {
        k: v for k, v in pid.items() if k != "spare"}
    assert conn.network.get_network(pid["net"]).is_admin_state_up is True
    assert conn.network.get_ip(pid["fip"]).port_id == pid["port"]
    assert conn.network.get_port(pid["port"]).security_group_ids == [pid["sg"]]
    assert ("ingress", "IPv4", "tcp", 22, 22, "0.0.0.0/0") in rule_keys(conn, str(pid["sg"]))
    again = run(eng.check(state.id))
    assert again.ok and again.drifted == {}, again.to_dict()

    assert run(eng.delete(state.id)).state == "DELETE_COMPLETE"
    assert_nothing_left(conn, state.id)


def _saves_of_a_clean_create(engine: EngineFactory, conn: Conn) -> int:
    eng, store, _ = engine()
    state = run(eng.create(StackRequest("count", web_tier("10.50.0.0/24"))))
    assert_complete(state)
    saves = int(store.writes)
    run(eng.delete(state.id))
    assert_nothing_left(conn, state.id)
    return saves


def test_crash_during_create_is_adopted_not_duplicated(engine: EngineFactory,
                                                        conn: Conn) -> None:
    total = _saves_of_a_clean_create(engine, conn)
    assert total > 20
    for limit in range(2, total, 3):
        stack_id = str(uuid.uuid4())
        inner = MemoryStateStore()
        crashing, _, _ = engine(store=CrashingStore(inner, limit))
        with pytest.raises((Crash, StateSaveError)):
            run(crashing.create(StackRequest("crash", web_tier("10.51.0.0/24")), stack_id))
        survivor, _, _ = engine(store=inner)
        state = run(survivor.apply(StackRequest("crash", web_tier("10.51.0.0/24")),
                                   stack_id))
        assert_complete(state)
        found = tagged(conn, stack_id)
        counts = {k: len(v) for k, v in found.items()}
        assert counts == {"networks": 1, "subnets": 1, "ports": 1, "routers": 1,
                          "floating_ips": 1, "security_groups": 1, "rules": 1,
                          "router_ports": 1}, (limit, counts)
        recorded = ids(state)
        assert found["networks"][0].id == recorded["net"]
        assert found["floating_ips"][0].id == recorded["fip"]
        assert run(survivor.check(stack_id)).ok
        assert run(survivor.delete(stack_id)).state == "DELETE_COMPLETE"
        assert_nothing_left(conn, stack_id)


def _web_v2() -> dict[str, Any]:
    """The web tier renamed (in place), its port moved to a fixed address (in place), its
    rule resource on another port (replaced) and a second port added."""
    doc = web_tier("10.53.0.0/24")
    res = doc["resources"]
    res["net"]["properties"]["name"] = "web-v2"
    res["port"]["properties"]["fixed_ips"] = [{"subnet": {"get_resource": "subnet"},
                                               "ip_address": "10.53.0.77"}]
    res["http"]["properties"].update(port_range_min=8080, port_range_max=8080)
    res["extra"] = {"type": "OS::Neutron::Port", "properties": {
        "network": {"get_resource": "net"}, "security_groups": [{"get_resource": "sg"}]}}
    return doc


def test_crash_during_update_converges_without_duplicates(engine: EngineFactory,
                                                          conn: Conn) -> None:
    v1, v2 = web_tier("10.53.0.0/24"), _web_v2()
    eng, store, _ = engine()
    state = run(eng.create(StackRequest("cu", v1)))
    before = store.writes
    state = run(eng.update(state.id, StackRequest("cu", v2)))
    assert_complete(state)
    total = store.writes - before
    run(eng.delete(state.id))
    for limit in range(2, total, 4):
        stack_id = str(uuid.uuid4())
        inner = MemoryStateStore()
        first, _, _ = engine(store=inner)
        assert_complete(run(first.create(StackRequest("cu", v1), stack_id)))
        crashing, _, _ = engine(store=CrashingStore(inner, limit))
        with pytest.raises((Crash, StateSaveError)):
            run(crashing.update(stack_id, StackRequest("cu", v2)))
        survivor, _, sink = engine(store=inner)
        state = run(survivor.apply(StackRequest("cu", v2), stack_id))
        assert state.state == "UPDATE_COMPLETE", (limit, state.state, [
            (e.resource_name, e.resource_action, e.resource_status_reason)
            for e in sink.events if e.resource_status == "FAILED"])
        counts = {k: len(v) for k, v in tagged(conn, stack_id).items()}
        assert counts == {"networks": 1, "subnets": 1, "ports": 2, "routers": 1,
                          "floating_ips": 1, "security_groups": 1, "rules": 1,
                          "router_ports": 1}, (limit, counts)
        port = conn.network.get_port(ids(state)["port"])
        assert [ip["ip_address"] for ip in port.fixed_ips] == ["10.53.0.77"]
        assert ("ingress", "IPv4", "tcp", 8080, 8080, None) in rule_keys(
            conn, ids(state)["sg"])
        assert run(survivor.check(stack_id)).ok
        assert run(survivor.delete(stack_id)).state == "DELETE_COMPLETE"
        assert_nothing_left(conn, stack_id)


def test_cancelled_create_is_adopted(engine: EngineFactory, conn: Conn) -> None:
    """Cancelling the create task while calls are in flight (the cloud may have made objects
    the engine never heard of, or heard of but never saw finish) and running it again leaves
    one object per resource."""
    total = _saves_of_a_clean_create(engine, conn)
    made: list[int] = []
    for limit in range(4, total, 5):
        stack_id = str(uuid.uuid4())
        inner = MemoryStateStore()
        store = CrashingStore(inner, limit, cancel=True)
        eng, _, sink = engine(store=store)

        async def interrupted(eng: Engine = eng, store: CrashingStore = store,
                              stack_id: str = stack_id) -> None:
            store.task = asyncio.current_task()
            with contextlib.suppress(asyncio.CancelledError):
                await eng.create(StackRequest("cancel", web_tier("10.52.0.0/24")), stack_id)
            await asyncio.sleep(0.3)      # calls already sent finish in their threads

        run(interrupted())
        partial = inner.load(stack_id)
        assert partial is not None and partial.status != "COMPLETE"
        made.append(sum(len(v) for v in tagged(conn, stack_id).values()))
        again, _, sink = engine(store=inner)
        state = run(again.apply(StackRequest("cancel", web_tier("10.52.0.0/24")), stack_id))
        assert state.state == "CREATE_COMPLETE", (limit, state.state, [
            (e.resource_name, e.resource_action, e.resource_status_reason)
            for e in sink.events if e.resource_status == "FAILED"])
        counts = {k: len(v) for k, v in tagged(conn, stack_id).items()}
        assert counts == {"networks": 1, "subnets": 1, "ports": 1, "routers": 1,
                          "floating_ips": 1, "security_groups": 1, "rules": 1,
                          "router_ports": 1}, (limit, counts)
        assert run(again.check(stack_id)).ok
        assert run(again.delete(stack_id)).state == "DELETE_COMPLETE"
        assert_nothing_left(conn, stack_id)
    assert any(made), made          # some runs were cut with objects already in the cloud


def test_custom_constraints_ask_the_cloud(engine: EngineFactory, conn: Conn) -> None:
    registry = cloud_constraints(conn)
    assert isinstance(registry, ConstraintRegistry)
    public = conn.network.find_network("public", ignore_missing=False)
    for name in ("neutron.network", "neutron.subnet", "neutron.port", "neutron.router",
                 "neutron.security_group"):
        plugin = registry.get(name)
        assert plugin is not None and plugin.needs_cloud
        with pytest.raises(ConstraintViolation, match="could not be found"):
            plugin.check(f"no-such-{name}")
    network = registry.get("neutron.network")
    assert network is not None
    network.check("public")
    network.check(public.id)
    group = registry.get("neutron.security_group")
    assert group is not None
    group.check("default")

    eng, _, _ = engine(constraints=registry)
    doc = hot({"fip": {"type": "OS::Neutron::FloatingIP",
                       "properties": {"floating_network": "no-such-network"}}})
    with pytest.raises(TemplateError) as info:
        run(eng.create(StackRequest("bad", doc)))
    text = str(info.value)
    assert "resources.fip.properties.floating_network" in text
    assert "no-such-network" in text

    # names resolve to ids
    doc = hot({"fip": {"type": "OS::Neutron::FloatingIP",
                       "properties": {"floating_network": "public"}}},
              outputs={"net": {"get_attr": ["fip", "floating_network_id"]}})
    state = run(eng.create(StackRequest("byname", doc)))
    assert_complete(state)
    assert state.outputs["net"] == public.id
    assert run(eng.delete(state.id)).state == "DELETE_COMPLETE"
    assert_nothing_left(conn, state.id)


def test_cloud_errors_fail_the_resource_with_the_clouds_message(engine: EngineFactory,
                                                                conn: Conn) -> None:
    doc = hot({
        "net": {"type": "OS::Neutron::Net"},
        "a": {"type": "OS::Neutron::Subnet", "properties": {
            "network": {"get_resource": "net"}, "cidr": "10.60.0.0/24"}},
        "b": {"type": "OS::Neutron::Subnet", "depends_on": ["a"], "properties": {
            "network": {"get_resource": "net"}, "cidr": "10.60.0.0/25"}},
    })
    eng, _, sink = engine()
    state = run(eng.create(StackRequest("err", doc)))
    assert state.state == "ROLLBACK_COMPLETE", (state.state, state.status_reason)
    failed = [e for e in sink.events if e.resource_name == "b"
              and e.resource_status == "FAILED"]
    assert failed and "overlaps with another subnet" in failed[0].resource_status_reason
    assert "BadRequestException" in failed[0].resource_status_reason
    assert_nothing_left(conn, state.id)        # rolled back

    doc = hot({"sg": {"type": "OS::Neutron::SecurityGroup", "properties": {"name": "default"}}})
    state = run(eng.create(StackRequest("dflt", doc, disable_rollback=True)))
    assert state.state == "CREATE_FAILED"
    assert 'cannot be assigned the name "default"' in state.status_reason
    assert run(eng.delete(state.id)).state == "DELETE_COMPLETE"


def test_delete_finds_things_already_gone(engine: EngineFactory, conn: Conn,
                                          sandbox: SandboxCloud) -> None:
    eng, _, _ = engine()
    state = run(eng.create(StackRequest("gone", web_tier("10.70.0.0/24"))))
    assert_complete(state)
    pid = ids(state)
    net = conn.network
    net.delete_ip(pid["fip"])
    net.remove_interface_from_router(pid["router"], subnet=pid["subnet"])
    net.delete_port(pid["port"])
    net.delete_security_group_rule(pid["http"])
    net.delete_security_group(pid["sg"])
    net.delete_router(pid["router"])
    sandbox.vanish("subnets", str(pid["subnet"]))
    deleted = run(eng.delete(state.id))
    assert deleted.state == "DELETE_COMPLETE", deleted.status_reason
    assert_nothing_left(conn, state.id)


def test_floating_ip_association(engine: EngineFactory, conn: Conn) -> None:
    def doc(port: str) -> dict[str, Any]:
        base = web_tier("10.80.0.0/24")
        res = base["resources"]
        del res["fip"]
        res["port2"] = {"type": "OS::Neutron::Port", "depends_on": ["subnet"],
                        "properties": {"network": {"get_resource": "net"}}}
        res["fip"] = {"type": "OS::Neutron::FloatingIP", "depends_on": ["iface"],
                      "properties": {"floating_network": "public"}}
        res["assoc"] = {"type": "OS::Neutron::FloatingIPAssociation", "properties": {
            "floatingip_id": {"get_resource": "fip"}, "port_id": {"get_resource": port}}}
        base["outputs"] = {"address": {"value": {"get_attr": ["fip", "floating_ip_address"]}}}
        return base

    eng, _, _ = engine()
    state = run(eng.create(StackRequest("assoc", doc("port"))))
    assert_complete(state)
    pid = ids(state)
    assert conn.network.get_ip(pid["fip"]).port_id == pid["port"]
    state = run(eng.update(state.id, StackRequest("assoc", doc("port2"))))
    assert_complete(state)
    assert ids(state)["assoc"] == pid["assoc"]           # re-pointed in place
    assert conn.network.get_ip(pid["fip"]).port_id == pid["port2"]

    conn.network.update_ip(pid["fip"], port_id=None)
    check = run(eng.check(state.id))
    assert check.drifted == {"assoc": {"port_id": (pid["port2"], None)}}
    state = run(eng.update(state.id, StackRequest("assoc", doc("port2"))))
    assert_complete(state)
    assert conn.network.get_ip(pid["fip"]).port_id == pid["port2"]

    assert run(eng.delete(state.id)).state == "DELETE_COMPLETE"
    assert_nothing_left(conn, state.id)


def test_references_by_name_through_a_cloud_session(engine: EngineFactory, conn: Conn,
                                                    sandbox: SandboxCloud) -> None:
    """Existing objects named in the template (network, subnet, router, security group) are
    resolved to ids, compared by id for drift, and left alone on delete; the plugins work the
    same through a kubeheat CloudSession."""
    net = conn.network.create_network(name="kh-ext-net")
    subnet = conn.network.create_subnet(name="kh-ext-subnet", network_id=net.id,
                                        cidr="10.90.0.0/24", ip_version=4)
    router = conn.network.create_router(name="kh-ext-router")
    default = conn.network.find_security_group("default", ignore_missing=False)
    doc = hot({
        "port": {"type": "OS::Neutron::Port", "properties": {
            "network": "kh-ext-net",
            "fixed_ips": [{"subnet": "kh-ext-subnet", "ip_address": "10.90.0.10"}],
            "security_groups": ["default"],
            "allowed_address_pairs": [{"ip_address": "10.90.0.0/24"}],
            "value_specs": {"description": "from value_specs"}}},
        "iface": {"type": "OS::Neutron::RouterInterface", "properties": {
            "router": "kh-ext-router", "port": {"get_resource": "port"}}},
    }, outputs={"subnet": {"get_attr": ["port", "subnets", 0, "name"]},
                "network": {"get_attr": ["port", "network", "name"]}})
    with connect(sandbox.clouds, sandbox.config.cloud_name) as session:
        eng, _, _ = engine(cloud=session, constraints=cloud_constraints(session))
        state = run(eng.create(StackRequest("names", doc)))
        assert_complete(state)
        pid = ids(state)
        port = conn.network.get_port(pid["port"])
        assert port.network_id == net.id and port.security_group_ids == [default.id]
        assert port.fixed_ips == [{"subnet_id": subnet.id, "ip_address": "10.90.0.10"}]
        assert port.description == "from value_specs"
        assert port.device_id == router.id
        assert pid["iface"] == f"{router.id}:port_id={port.id}"
        assert state.outputs == {"subnet": "kh-ext-subnet", "network": "kh-ext-net"}
        check = run(eng.check(state.id))
        assert check.ok and check.drifted == {}, check.to_dict()
        assert run(eng.delete(state.id)).state == "DELETE_COMPLETE"
    assert_nothing_left(conn, state.id)
    assert conn.network.get_router(router.id).id == router.id     # not the stack's
    conn.network.delete_router(router)
    conn.network.delete_network(net)


def test_floating_ip_waits_for_the_router_interface(engine: EngineFactory, conn: Conn,
                                                    sandbox: SandboxCloud) -> None:
    """Without depends_on, Heat's implicit dependency orders the floating IP after the
    router interface on its port's subnet (even a slow one): one POST, accepted, and the
    delete removes the floating IP before the interface."""
    doc = web_tier("10.85.0.0/24")
    del doc["resources"]["fip"]["depends_on"]
    sandbox.add_fault(FaultRule(method="PUT", path="add_router_interface", latency=0.6))
    seen = len(sandbox.request_log("network"))
    eng, _, _ = engine()
    state = run(eng.create(StackRequest("late", doc)))
    assert_complete(state)
    pid = ids(state)
    assert conn.network.get_ip(pid["fip"]).port_id == pid["port"]
    log = sandbox.request_log("network")[seen:]
    posts = [i for i, r in enumerate(log)
             if r.method == "POST" and r.path.endswith("/floatingips")]
    iface = [i for i, r in enumerate(log) if "add_router_interface" in r.path]
    assert len(posts) == 1 and log[posts[0]].status == 201
    assert iface and iface[0] < posts[0]
    deleted = run(eng.delete(state.id))
    assert deleted.state == "DELETE_COMPLETE", deleted.status_reason
    assert_nothing_left(conn, state.id)


def test_cloud_failures_are_reported_with_the_clouds_message(engine: EngineFactory,
                                                            conn: Conn,
                                                            sandbox: SandboxCloud) -> None:
    # unavailable every time: the session's and then the engine's retries give up
    rule = sandbox.add_fault(FaultRule(method="POST", path=r"/v2\.0/routers$", status=503,
                                       retry_after=0.01))
    eng, _, _ = engine()
    eng.transient_attempts, eng.transient_backoff = 2, (0.01, 0.01)
    doc = hot({"router": {"type": "OS::Neutron::Router"}})
    state = run(eng.create(StackRequest("fault", doc, disable_rollback=True)))
    assert state.state == "CREATE_FAILED"
    reason = state.resources["router"].status_reason
    assert reason.startswith("Error: resources.router: "), reason
    assert "The server is currently unavailable" in reason, reason
    # the next update retries it (a failed resource is made again)
    sandbox.remove_fault(rule)
    state = run(eng.update(state.id, StackRequest("fault", doc)))
    assert_complete(state)
    assert run(eng.delete(state.id)).state == "DELETE_COMPLETE"
    assert_nothing_left(conn, state.id)

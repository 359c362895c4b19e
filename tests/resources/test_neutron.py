"""The Neutron resource types through the engine, against the sandbox cloud with the real
openstacksdk over HTTP: create, attributes through outputs, update in place, replacement,
drift found by ``check`` and repaired by the next update, cloud errors surfaced, deletes that
find things already gone, and nothing left behind (crashes: test_neutron_crash)."""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

import pytest
from neutron_support import (
    Conn,
    EngineFactory,
    assert_complete,
    assert_nothing_left,
    hot,
    ids,
    rule_keys,
    run,
    tagged,
    web_tier,
)

from kubeheat.cloud import connect
from kubeheat.engine import StackRequest
from kubeheat.resources import TAG_RESOURCE, TAG_STACK_ID, cloud_constraints, load_builtin_plugins
from kubeheat.sandbox import FaultRule, SandboxCloud
from kubeheat.template import ConstraintRegistry, ConstraintViolation, TemplateError

NEUTRON_TYPES = ("Net", "Subnet", "Port", "Router", "RouterInterface", "FloatingIP",
                 "FloatingIPAssociation", "SecurityGroup", "SecurityGroupRule")


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

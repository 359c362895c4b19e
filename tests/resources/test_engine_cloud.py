"""The engine's cloud-facing behaviour with the Neutron types, against the sandbox cloud with the
real openstacksdk over HTTP (no mocks): Heat's implicit dependencies ordering create and
delete, interrupted creates finished instead of replaced, attributes read again when other
resources changed them, ``check`` observing with one listing per type, and custom constraints
checked against the cloud before anything is created."""

from __future__ import annotations

import asyncio
from typing import Any

import openstack.connection

from kubeheat.engine import Engine, MemoryStateStore, StackRequest, StackState
from kubeheat.resources import TAG_STACK_ID
from kubeheat.sandbox import FaultRule, SandboxCloud
from kubeheat.template import TemplateError

Conn = openstack.connection.Connection


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def hot(resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"heat_template_version": "2018-08-31", "resources": resources}
    if outputs:
        doc["outputs"] = {k: {"value": v} for k, v in outputs.items()}
    return doc


def complete(state: StackState) -> None:
    assert state.status == "COMPLETE" and state.action != "ROLLBACK", (
        state.state, state.status_reason,
        {n: r.status_reason for n, r in state.resources.items() if r.status != "COMPLETE"})


def left_over(conn: Conn, stack_id: str) -> dict[str, int]:
    tag = f"{TAG_STACK_ID}={stack_id}"
    net = conn.network
    found = {"networks": len(list(net.networks(tags=tag))),
             "subnets": len(list(net.subnets(tags=tag))),
             "ports": len(list(net.ports(tags=tag))),
             "routers": len(list(net.routers(tags=tag))),
             "floating_ips": len(list(net.ips(tags=tag)))}
    return {k: v for k, v in found.items() if v}


def network_tier(cidr: str) -> dict[str, Any]:
    """No depends_on anywhere: the order comes from Heat's implicit dependencies."""
    return hot({
        "net": {"type": "OS::Neutron::Net"},
        "port": {"type": "OS::Neutron::Port", "properties": {
            "network": {"get_resource": "net"}}},
        "subnet": {"type": "OS::Neutron::Subnet", "properties": {
            "network": {"get_resource": "net"}, "cidr": cidr}},
        "router": {"type": "OS::Neutron::Router", "properties": {
            "external_gateway_info": {"network": "public"}}},
        "iface": {"type": "OS::Neutron::RouterInterface", "properties": {
            "router": {"get_resource": "router"}, "subnet": {"get_resource": "subnet"}}},
        "fip": {"type": "OS::Neutron::FloatingIP", "properties": {
            "floating_network": "public"}},
        "assoc": {"type": "OS::Neutron::FloatingIPAssociation", "properties": {
            "floatingip_id": {"get_resource": "fip"}, "port_id": {"get_resource": "port"}}},
        "port2": {"type": "OS::Neutron::Port", "properties": {
            "network": {"get_resource": "net"},
            "fixed_ips": [{"subnet": {"get_resource": "subnet"}}]}},
        "fip2": {"type": "OS::Neutron::FloatingIP", "properties": {
            "floating_network": "public", "port_id": {"get_resource": "port2"}}},
    }, outputs={
        "subnets": {"get_attr": ["net", "subnets"]},
        "port_ip": {"get_attr": ["port", "fixed_ips", 0, "ip_address"]},
        "fip_port": {"get_attr": ["fip", "port_id"]},
    })


def test_implicit_dependencies_order_create_and_delete(engine: Any, conn: Conn,
                                                       sandbox: SandboxCloud) -> None:
    # a slow router interface: without the implicit edges the association and the floating
    # IP on the port would be tried before the port's subnet reaches the router
    sandbox.add_fault(FaultRule(method="PUT", path="add_router_interface", latency=0.4))
    eng, _, _ = engine()
    doc = network_tier("10.110.0.0/24")
    preview = run(eng.plan(StackRequest("implicit", doc)))
    assert "subnet" in preview.resources["port"].requires
    assert "iface" in preview.resources["assoc"].requires
    assert "iface" in preview.resources["fip2"].requires
    assert "router" in preview.resources["fip"].requires      # gateway on its network
    seen = len(sandbox.request_log("network"))
    state = run(eng.create(StackRequest("implicit", doc)))
    complete(state)
    assert set(state.resources["fip2"].requires) >= {"iface", "port2"}
    log = sandbox.request_log("network")[seen:]
    assert not [r for r in log if r.status == 404 and r.method in ("POST", "PUT")]
    pid = {n: str(r.physical_id) for n, r in state.resources.items()}
    assert conn.network.get_ip(pid["fip"]).port_id == pid["port"]
    assert conn.network.get_ip(pid["fip2"]).port_id == pid["port2"]
    # the port got its address from the subnet: it was made after it
    assert state.outputs["port_ip"].startswith("10.110.0.")

    seen = len(sandbox.request_log("network"))
    deleted = run(eng.delete(state.id))
    assert deleted.state == "DELETE_COMPLETE", deleted.status_reason
    log = sandbox.request_log("network")[seen:]
    removal = [i for i, r in enumerate(log) if "remove_router_interface" in r.path]
    fip_gone = [i for i, r in enumerate(log)
                if r.method == "DELETE" and "/floatingips/" in r.path and r.status < 300]
    assert removal and len(fip_gone) == 2
    # the floating IPs bound to ports on the interface's subnet go first (Heat's implicit
    # edges): fip2 is deleted and the association takes fip off its port before the
    # interface is removed. fip itself depends only on the router, so its own delete is not
    # ordered against the interface's (it may come either side).
    fip2_gone = [i for i in fip_gone if log[i].path.endswith(pid["fip2"])]
    unbound = [i for i, r in enumerate(log)
               if r.method == "PUT" and r.path.endswith(f"/floatingips/{pid['fip']}")]
    assert fip2_gone and unbound and max(fip2_gone + unbound) < removal[0]
    assert not [r for r in log if r.status == 409]
    assert left_over(conn, state.id) == {}


def test_stale_attributes_are_read_again(engine: Any, conn: Conn) -> None:
    eng, _, _ = engine()
    state = run(eng.create(StackRequest("fresh", network_tier("10.111.0.0/24"))))
    complete(state)
    pid = {n: str(r.physical_id) for n, r in state.resources.items()}
    # the net was made before its subnet, the floating IP before its association
    assert state.outputs["subnets"] == [pid["subnet"]]
    assert state.outputs["fip_port"] == pid["port"]
    assert state.resources["net"].attributes["subnets"] == [pid["subnet"]]
    assert run(eng.delete(state.id)).state == "DELETE_COMPLETE"
    assert left_over(conn, state.id) == {}


def test_interrupted_create_is_finished_not_replaced(engine: Any, conn: Conn) -> None:
    store = MemoryStateStore()
    eng, _, _ = engine(store=store)
    doc = hot({"net": {"type": "OS::Neutron::Net"},
               "subnet": {"type": "OS::Neutron::Subnet", "properties": {
                   "network": {"get_resource": "net"}, "cidr": "10.112.0.0/24"}}})
    state = run(eng.create(StackRequest("resume", doc)))
    complete(state)
    before = {n: r.physical_id for n, r in state.resources.items()}
    # as a cancelled (or timed out) run leaves it: the cloud made it and the state has its
    # id, but the create did not finish
    saved = store.load(state.id)
    assert saved is not None
    saved.action, saved.status = "CREATE", "FAILED"
    for name, rec in saved.resources.items():
        rec.action, rec.status, rec.status_reason = "CREATE", "FAILED", "CREATE aborted"
        rec.interrupted = True
        if name == "net":
            rec.attributes = {}
    store.save(saved)
    again, _, _ = engine(store=store)
    state = run(again.apply(StackRequest("resume", doc), state.id))
    complete(state)
    assert {n: r.physical_id for n, r in state.resources.items()} == before
    assert left_over(conn, state.id) == {"networks": 1, "subnets": 1}
    assert state.resources["net"].attributes["subnets"] == [before["subnet"]]
    assert run(again.delete(state.id)).state == "DELETE_COMPLETE"
    assert left_over(conn, state.id) == {}


def test_check_lists_each_type_once(engine: Any, conn: Conn, sandbox: SandboxCloud) -> None:
    n = 8
    resources: dict[str, Any] = {}
    for i in range(n):
        resources[f"net{i}"] = {"type": "OS::Neutron::Net"}
        resources[f"port{i}"] = {"type": "OS::Neutron::Port", "properties": {
            "network": {"get_resource": f"net{i}"}}}
    eng, _, _ = engine()
    state = run(eng.create(StackRequest("batch", hot(resources))))
    complete(state)

    seen = len(sandbox.request_log("network"))
    result = run(eng.check(state.id))
    assert result.ok and result.drifted == {}, result.to_dict()
    gets = [r for r in sandbox.request_log("network")[seen:] if r.method == "GET"]
    assert len(gets) == 2, [(r.path, r.query) for r in gets]          # networks, ports
    assert all(f"{TAG_STACK_ID}%3D{state.id}" in r.query or
               f"{TAG_STACK_ID}={state.id}" in r.query for r in gets)

    # drift and a resource deleted out of band are still seen
    conn.network.update_network(str(state.resources["net0"].physical_id), name="moved")
    conn.network.delete_port(str(state.resources["port1"].physical_id))
    seen = len(sandbox.request_log("network"))
    result = run(eng.check(state.id))
    assert not result.ok
    assert result.resources["port1"].missing
    gets = [r for r in sandbox.request_log("network")[seen:] if r.method == "GET"]
    assert len(gets) == 3            # the two listings, and one GET for the missing port

    seen = len(sandbox.request_log("network"))
    preview = run(eng.plan(StackRequest("batch", hot(resources)), state.id, observe=True))
    assert preview.resources["port1"].action == "create"
    gets = [r for r in sandbox.request_log("network")[seen:] if r.method == "GET"]
    assert len(gets) <= 3 + 2 * n    # listings + the missing port (+ the constraint checks)
    listings = [r for r in gets if r.query]
    assert len([r for r in listings if "tags" in r.query]) == 2
    assert run(eng.delete(state.id)).state == "DELETE_COMPLETE"
    assert left_over(conn, state.id) == {}


def test_unknown_network_fails_validation_with_a_cloud(engine: Any, conn: Conn) -> None:
    eng, _, _ = engine()          # a cloud and the default constraints: the cloud's are used
    assert isinstance(eng, Engine) and "neutron.network" in eng.constraints
    doc = hot({"net": {"type": "OS::Neutron::Net"},
               "port": {"type": "OS::Neutron::Port", "properties": {
                   "network": "no-such-network-anywhere"}}})
    stack_id = "5e1f0000-0000-4000-8000-0000000000c1"
    try:
        run(eng.create(StackRequest("unknown", doc), stack_id))
    except TemplateError as exc:
        text = str(exc)
    else:
        raise AssertionError("validation passed")
    assert "resources.port.properties.network" in text
    assert "no-such-network-anywhere" in text and "could not be found" in text
    assert left_over(conn, stack_id) == {}       # nothing was created

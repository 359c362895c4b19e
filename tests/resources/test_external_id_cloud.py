"""``external_id`` against the sandbox cloud through the real openstacksdk: an existing network
and server are adopted without their required properties, their attributes come from the
cloud, they are never deleted, a missing one refuses the stack, and an update changing the
external id fails as Heat 27.0.1's does (values recorded from the peer)."""

from __future__ import annotations

import asyncio
from typing import Any

import openstack.connection
import pytest

from kubeheat.engine import StackRequest
from kubeheat.template import TemplateError

Conn = openstack.connection.Connection


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def hot(resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"heat_template_version": "2016-10-14", "resources": resources}
    if outputs:
        doc["outputs"] = {k: {"value": v} for k, v in outputs.items()}
    return doc


def events_of(events: Any, name: str) -> list[tuple[str, str]]:
    return [
        (f"{e.resource_action}_{e.resource_status}", e.resource_status_reason)
        for e in events.events
        if e.resource_name == name
    ]


def test_an_existing_network_is_adopted_not_created_nor_deleted(engine: Any, conn: Conn) -> None:
    net = conn.network.create_network(name="extid-existing")
    sub = conn.network.create_subnet(network_id=net.id, cidr="10.120.0.0/24", ip_version=4)
    eng, _, events = engine()
    doc = hot(
        {
            "net": {"type": "OS::Neutron::Net", "external_id": net.id},
            "port": {
                "type": "OS::Neutron::Port",
                "properties": {"network": {"get_resource": "net"}},
            },
        },
        outputs={
            "name": {"get_attr": ["net", "name"]},
            "subnets": {"get_attr": ["net", "subnets"]},
            "ref": {"get_resource": "net"},
        },
    )
    state = run(eng.create(StackRequest("extid-net", doc)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    rec = state.resources["net"]
    assert (rec.state, rec.physical_id) == ("CHECK_COMPLETE", net.id)
    assert state.outputs == {"name": "extid-existing", "subnets": [sub.id], "ref": net.id}
    # Heat's Net has no check handler
    assert events_of(events, "net") == [
        ("ADOPT_IN_PROGRESS", "state changed"),
        ("ADOPT_COMPLETE", "state changed"),
        ("CHECK_COMPLETE", "CHECK not supported for OS::Neutron::Net"),
    ]
    assert len(list(conn.network.networks(name="extid-existing"))) == 1
    port_id = state.resources["port"].physical_id
    assert conn.network.get_port(port_id).network_id == net.id
    deleted = run(eng.delete(state.id))
    assert deleted.state == "DELETE_COMPLETE", deleted.status_reason
    assert conn.network.find_port(port_id) is None  # its own resource is gone
    assert conn.network.get_network(net.id).name == "extid-existing"  # the adopted stays
    conn.network.delete_subnet(sub.id)
    conn.network.delete_network(net.id)


def test_an_existing_server_without_its_required_properties(engine: Any, conn: Conn) -> None:
    image = next(iter(conn.image.images()))
    flavor = next(iter(conn.compute.flavors()))
    server = conn.compute.create_server(
        name="extid-vm", image_id=image.id, flavor_id=flavor.id, networks="none"
    )
    conn.compute.wait_for_server(server, wait=30)
    eng, _, events = engine()
    doc = hot(
        {"vm": {"type": "OS::Nova::Server", "external_id": server.id}},
        outputs={"name": {"get_attr": ["vm", "name"]}},
    )
    state = run(eng.create(StackRequest("extid-vm", doc)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert state.outputs == {"name": "extid-vm"}
    # Heat's Server has a check handler
    assert [s for s, _ in events_of(events, "vm")] == [
        "ADOPT_IN_PROGRESS",
        "ADOPT_COMPLETE",
        "CHECK_IN_PROGRESS",
        "CHECK_COMPLETE",
    ]
    run(eng.delete(state.id))
    assert conn.compute.get_server(server.id).name == "extid-vm"
    conn.compute.delete_server(server.id)


def test_a_missing_external_resource_refuses_the_stack(engine: Any, conn: Conn) -> None:
    eng, store, _ = engine()
    missing = "0b5c0b6e-0000-4000-8000-000000000000"
    doc = hot({"net": {"type": "OS::Neutron::Net", "external_id": missing}})
    with pytest.raises(TemplateError) as err:
        run(eng.create(StackRequest("extid-missing", doc)))
    # Heat 27.0.1: HTTP 400, StackValidationFailed
    assert err.value.message == (
        f"Invalid external resource: Resource {missing} (OS::Neutron::Net) can not be found."
    )
    assert err.value.path == ("resources", "net", "external_id")
    assert store.list() == []


def test_changing_the_external_id_fails_the_update(engine: Any, conn: Conn) -> None:
    first = conn.network.create_network(name="extid-first")
    second = conn.network.create_network(name="extid-second")
    eng, _, _ = engine()
    state = run(
        eng.create(
            StackRequest(
                "extid-change", hot({"net": {"type": "OS::Neutron::Net", "external_id": first.id}})
            )
        )
    )
    assert state.state == "CREATE_COMPLETE", state.status_reason
    state = run(
        eng.update(
            state.id,
            StackRequest(
                "extid-change",
                hot({"net": {"type": "OS::Neutron::Net", "external_id": second.id}}),
                disable_rollback=True,
            ),
        )
    )
    assert state.state == "UPDATE_FAILED"
    assert state.status_reason == (
        "Resource UPDATE failed: NotSupported: resources.net: Update to property external_id "
        "of net (OS::Neutron::Net) is not supported."
    )
    rec = state.resources["net"]
    assert (rec.state, rec.physical_id) == ("CHECK_COMPLETE", first.id)
    run(eng.delete(state.id))
    for net in (first, second):
        conn.network.delete_network(net.id)


def test_a_failed_server_fails_the_check(engine: Any, conn: Conn, sandbox: Any) -> None:
    image = next(iter(conn.image.images()))
    flavor = next(iter(conn.compute.flavors()))
    server = conn.compute.create_server(
        name="extid-broken", image_id=image.id, flavor_id=flavor.id, networks="none"
    )
    conn.compute.wait_for_server(server, wait=30)
    sandbox.fail_server(server.id, "Disk on fire")
    eng, _, _ = engine()
    doc = hot({"vm": {"type": "OS::Nova::Server", "external_id": server.id}})
    state = run(eng.create(StackRequest("extid-broken", doc, disable_rollback=True)))
    assert state.state == "CREATE_FAILED"
    rec = state.resources["vm"]
    assert rec.state == "CHECK_FAILED" and "Disk on fire" in rec.status_reason
    assert state.status_reason.startswith("Resource CHECK failed: ")
    run(eng.delete(state.id))
    assert conn.compute.get_server(server.id).status == "ERROR"  # never deleted
    conn.compute.delete_server(server.id)

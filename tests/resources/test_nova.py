"""OS::Nova::Server, KeyPair, Flavor and ServerGroup through the engine against the sandbox
cloud (real openstacksdk over HTTP): create, attributes through outputs, updates in place
(resize, metadata, name, rebuild), replacement, ERROR with the fault message, adoption after
a crash, drift seen by check, custom constraints, and nothing left after delete."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import openstack
import openstack.connection
import pytest
from cloud_support import hot, make_network, out, run

from kubeheat.engine import MemoryStateStore, StackRequest, StateSaveError
from kubeheat.resources import TAG_RESOURCE, TAG_STACK_ID, PropertyError, cloud_constraints
from kubeheat.sandbox import FaultRule, SandboxCloud, SandboxConfig, run_sandbox
from kubeheat.template import ConstraintViolation

NET = "nova-tests-net"
CIRROS = "cirros-0.6.2-x86_64-disk"


@pytest.fixture(scope="module")
def network(conn: openstack.connection.Connection) -> Iterator[Any]:
    yield make_network(conn, NET, "10.77.0.0/24", subnet_name=f"{NET}-subnet")


@pytest.fixture(scope="module")
def second_image(conn: openstack.connection.Connection) -> Iterator[Any]:
    image = conn.image.create_image("nova-tests-image", data=b"second image",
                                    disk_format="qcow2", container_format="bare",
                                    allow_duplicates=True, wait=True)
    yield image
    conn.image.delete_image(image.id, ignore_missing=True)


def server(**props: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"image": CIRROS, "flavor": "m1.tiny",
                            "networks": [{"network": NET}]}
    base.update(props)
    return {"type": "OS::Nova::Server", "properties": base}


def servers_of(sandbox: SandboxCloud, stack_id: str) -> list[dict[str, Any]]:
    return [s for s in sandbox.resources("servers")
            if s["metadata"].get(TAG_STACK_ID) == stack_id]


def assert_nothing_left(sandbox: SandboxCloud, stack_id: str) -> None:
    assert servers_of(sandbox, stack_id) == []
    assert [p for p in sandbox.resources("ports")
            if p["device_owner"] == "compute:nova" and p["device_id"]
            not in {s["id"] for s in sandbox.resources("servers")}] == []


def test_server_create_attributes_and_delete(sandbox: SandboxCloud, network: Any,
                                             engine: Callable[..., Any]) -> None:
    eng, _, events = engine()
    doc = hot({
        "key": {"type": "OS::Nova::KeyPair", "properties": {"name": "nova-tests-key",
                                                            "save_private_key": True}},
        "vm": server(name="web-1", key_name={"get_resource": "key"},
                     metadata={"role": "web", "weight": 3}, user_data="#!/bin/sh\necho hi",
                     user_data_format="RAW", security_groups=["default"], config_drive=True,
                     tags=["blue"]),
    }, outputs={"ip": out("vm", "first_address"), "nets": out("vm", "networks"),
                "addrs": out("vm", "addresses"), "name": out("vm", "name"),
                "show_id": {"value": {"get_attr": ["vm", "show", "id"]}},
                "tags": out("vm", "tags"), "private": out("key", "private_key"),
                "public": out("key", "public_key")})
    state = run(eng.create(StackRequest("web", doc)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    sid = state.resources["vm"].physical_id
    (raw,) = servers_of(sandbox, state.id)
    assert raw["id"] == sid and raw["status"] == "ACTIVE" and raw["name"] == "web-1"
    assert raw["metadata"] == {"role": "web", "weight": "3", TAG_STACK_ID: state.id,
                               TAG_RESOURCE: "vm"}
    assert f"{TAG_STACK_ID}={state.id}" in raw["tags"] and "blue" in raw["tags"]
    assert raw["key_name"] == "nova-tests-key" and raw["config_drive"] == "True"
    assert base64.b64decode(raw["_user_data"]).decode() == "#!/bin/sh\necho hi"
    outputs = state.outputs
    assert outputs["ip"].startswith("10.77.0.")
    assert outputs["nets"] == {NET: [outputs["ip"]], network.id: [outputs["ip"]]}
    (entry,) = outputs["addrs"][NET]
    assert entry["addr"] == outputs["ip"] and entry["port"] and entry["network"] == network.id
    assert outputs["addrs"][network.id] == outputs["addrs"][NET]
    assert len(entry["subnets"]) == 1
    assert outputs["name"] == "web-1" and outputs["show_id"] == sid
    assert outputs["tags"] == ["blue"]
    assert outputs["private"].startswith("-----BEGIN") and outputs["public"].startswith("ssh-")
    # the private key never shows in events
    assert not any(outputs["private"] in str(e) for e in events.events)
    # a check refreshes attributes without losing what only create/update compute
    assert run(eng.check(state.id)).ok
    checked = eng.load(state.id)
    assert checked is not None
    assert checked.resources["vm"].attributes["networks"] == outputs["nets"]

    state = run(eng.delete(state.id))
    assert state.state == "DELETE_COMPLETE", state.status_reason
    assert_nothing_left(sandbox, state.id)
    assert not [k for k in sandbox.resources("keypairs") if k["name"] == "nova-tests-key"]


def test_resize_metadata_and_name_update_in_place(sandbox: SandboxCloud, network: Any,
                                                  engine: Callable[..., Any]) -> None:
    eng, _, events = engine()
    doc = hot({"vm": server(metadata={"a": "1", "b": "2"})},
              outputs={"name": out("vm", "name")})
    state = run(eng.create(StackRequest("rs", doc)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    sid = state.resources["vm"].physical_id
    assert state.outputs["name"].startswith("rs-vm-")

    props = doc["resources"]["vm"]["properties"]
    props.update(flavor="m1.small", metadata={"b": "3", "c": "4"}, name="renamed")
    state = run(eng.update(state.id, StackRequest("rs", doc)))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert state.resources["vm"].physical_id == sid
    (raw,) = servers_of(sandbox, state.id)
    assert raw["id"] == sid and raw["status"] == "ACTIVE"
    assert raw["_flavor"]["name"] == "m1.small" and raw["name"] == "renamed"
    assert raw["metadata"] == {"b": "3", "c": "4", TAG_STACK_ID: state.id, TAG_RESOURCE: "vm"}
    assert f"{TAG_RESOURCE}=vm" in raw["tags"]
    assert state.outputs["name"] == "renamed"
    json.dumps(state.resources["vm"].attributes)          # the state stays JSON
    assert [e.resource_status_reason for e in events.events
            if e.resource_name == "vm" and e.resource_action == "UPDATE"][-1] == "state changed"
    assert run(eng.check(state.id)).ok

    run(eng.delete(state.id))
    assert_nothing_left(sandbox, state.id)


def test_image_change_rebuilds_by_default_and_replaces_on_request(
        sandbox: SandboxCloud, network: Any, second_image: Any,
        engine: Callable[..., Any]) -> None:
    eng, _, _ = engine()
    doc = hot({"vm": server()})
    state = run(eng.create(StackRequest("img", doc)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    sid = state.resources["vm"].physical_id

    # Heat's default image_update_policy REBUILD: rebuilt in place, same server
    doc["resources"]["vm"]["properties"]["image"] = "nova-tests-image"
    state = run(eng.update(state.id, StackRequest("img", doc)))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert state.resources["vm"].physical_id == sid
    (raw,) = servers_of(sandbox, state.id)
    assert raw["image"]["id"] == second_image.id and raw["status"] == "ACTIVE"
    assert run(eng.check(state.id)).ok

    # REPLACE: a new server, the old one deleted
    doc["resources"]["vm"]["properties"].update(image=CIRROS, image_update_policy="REPLACE")
    state = run(eng.update(state.id, StackRequest("img", doc)))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    new_id = state.resources["vm"].physical_id
    assert new_id != sid
    (raw,) = servers_of(sandbox, state.id)
    assert raw["id"] == new_id and raw["image"]["id"] != second_image.id

    run(eng.delete(state.id))
    assert_nothing_left(sandbox, state.id)


def test_flavor_replace_policy_and_user_data_policy(sandbox: SandboxCloud, network: Any,
                                                    engine: Callable[..., Any]) -> None:
    eng, _, _ = engine()
    doc = hot({"vm": server(user_data="one", user_data_update_policy="IGNORE",
                            flavor_update_policy="REPLACE")})
    state = run(eng.create(StackRequest("pol", doc)))
    sid = state.resources["vm"].physical_id
    doc["resources"]["vm"]["properties"]["user_data"] = "two"       # IGNORE: kept
    state = run(eng.update(state.id, StackRequest("pol", doc)))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert state.resources["vm"].physical_id == sid
    doc["resources"]["vm"]["properties"]["flavor"] = "m1.small"     # REPLACE: new server
    state = run(eng.update(state.id, StackRequest("pol", doc)))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert state.resources["vm"].physical_id != sid
    (raw,) = servers_of(sandbox, state.id)
    assert raw["_flavor"]["name"] == "m1.small"
    run(eng.delete(state.id))
    assert_nothing_left(sandbox, state.id)


@pytest.fixture(scope="module")
def failing_cloud() -> Iterator[tuple[SandboxCloud, openstack.connection.Connection]]:
    config = SandboxConfig(build_delay=0.05, server_error_rate=1.0,
                           server_error_message="No valid host was found. Out of cheese.")
    with run_sandbox(config) as cloud:
        conn = openstack.connect(load_yaml_config=False, load_envvars=False,
                                 **cloud.cloud_config)
        net = conn.network.create_network(name=NET)
        conn.network.create_subnet(network_id=net.id, cidr="10.78.0.0/24", ip_version=4)
        yield cloud, conn
        conn.close()


def test_server_error_fails_with_the_fault_message(
        failing_cloud: tuple[SandboxCloud, openstack.connection.Connection],
        engine: Callable[..., Any]) -> None:
    cloud, conn = failing_cloud
    eng, _, _ = engine(cloud=conn)
    state = run(eng.create(StackRequest("err", hot({"vm": server()}), disable_rollback=True)))
    assert state.state == "CREATE_FAILED"
    reason = state.resources["vm"].status_reason
    assert "ERROR" in reason and "Out of cheese." in reason, reason
    assert "Out of cheese." in state.status_reason
    run(eng.delete(state.id))
    assert [s for s in cloud.resources("servers")] == []


def test_adopts_the_server_after_a_crash(sandbox: SandboxCloud, network: Any,
                                         engine: Callable[..., Any],
                                         crash_store: Callable[..., Any]) -> None:
    inner = MemoryStateStore()
    eng, _, _ = engine(store=crash_store(inner, "vm"))
    doc = hot({"vm": server(metadata={"x": "1"})})
    with pytest.raises(StateSaveError):
        run(eng.create(StackRequest("crash", doc), "0b7d6c8e-0000-4000-8000-00000000c0de"))
    stack_id = "0b7d6c8e-0000-4000-8000-00000000c0de"
    (orphan,) = servers_of(sandbox, stack_id)
    assert inner.load(stack_id).resources["vm"].physical_id is None  # type: ignore[union-attr]

    eng2, _, _ = engine(store=inner)
    state = run(eng2.apply(StackRequest("crash", doc), stack_id))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert state.resources["vm"].physical_id == orphan["id"]
    assert len(servers_of(sandbox, stack_id)) == 1
    run(eng2.delete(stack_id))
    assert_nothing_left(sandbox, stack_id)


def test_drift_resize_metadata_and_vanished_server(sandbox: SandboxCloud, network: Any,
                                                   conn: openstack.connection.Connection,
                                                   engine: Callable[..., Any]) -> None:
    eng, _, _ = engine()
    doc = hot({"vm": server(metadata={"k": "v"})})
    state = run(eng.create(StackRequest("drift", doc)))
    sid = state.resources["vm"].physical_id
    assert run(eng.check(state.id)).ok

    conn.compute.resize_server(sid, "2")
    conn.compute.wait_for_server(conn.compute.get_server(sid), status="VERIFY_RESIZE",
                                 interval=0.05, wait=10)
    conn.compute.confirm_server_resize(sid)
    conn.compute.set_server_metadata(sid, extra="yes")
    result = run(eng.check(state.id))
    assert not result.ok
    assert result.drifted == {"vm": {"flavor": ("m1.tiny", "m1.small"),
                                     "metadata": ({"k": "v"}, {"k": "v", "extra": "yes"})}}

    # converging again puts it back: resize to m1.tiny, metadata restored, same server
    state = run(eng.apply(StackRequest("drift", doc), state.id))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert state.resources["vm"].physical_id == sid
    assert run(eng.check(state.id)).ok

    sandbox.vanish("servers", sid)
    result = run(eng.check(state.id))
    assert result.resources["vm"].missing
    state = run(eng.apply(StackRequest("drift", doc), state.id))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert state.resources["vm"].physical_id != sid
    run(eng.delete(state.id))
    assert_nothing_left(sandbox, state.id)


def test_keypair_flavor_and_server_group(sandbox: SandboxCloud, network: Any,
                                         engine: Callable[..., Any]) -> None:
    eng, _, _ = engine()
    public = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDmnuTvoDqkvU7PQ7d3wAj+ozuUPEN9cA27pWEYxXkZ6"
              " user@host")
    doc = hot({
        "key": {"type": "OS::Nova::KeyPair", "properties": {"name": "imported",
                                                            "public_key": public}},
        "flavor": {"type": "OS::Nova::Flavor", "properties": {
            "ram": 256, "vcpus": 1, "disk": 1, "extra_specs": {"hw:cpu_policy": "shared"}}},
        "group": {"type": "OS::Nova::ServerGroup", "properties": {"policies": ["affinity"]}},
        "vm": server(flavor={"get_resource": "flavor"}, key_name={"get_resource": "key"},
                     scheduler_hints={"group": {"get_resource": "group"}}),
    }, outputs={"public": out("key", "public_key"), "private": out("key", "private_key"),
                "specs": out("flavor", "extra_specs"), "public_flavor": out("flavor",
                                                                             "is_public")})
    state = run(eng.create(StackRequest("kfg", doc)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert state.outputs["public"] == public and state.outputs["private"] == ""
    assert state.outputs["specs"] == {"hw:cpu_policy": "shared"}
    assert state.outputs["public_flavor"] is True
    flavor_id = state.resources["flavor"].physical_id
    (flavor,) = [f for f in sandbox.resources("flavors") if f["id"] == flavor_id]
    assert flavor["name"].startswith("kfg-flavor-")
    (group,) = [g for g in sandbox.resources("server_groups")
                if g["id"] == state.resources["group"].physical_id]
    assert group["policy"] == "affinity"
    assert group["members"] == [state.resources["vm"].physical_id]
    assert state.resources["key"].physical_id == "imported"

    # extra_specs update in place
    doc["resources"]["flavor"]["properties"]["extra_specs"] = {"hw:cpu_policy": "dedicated"}
    state = run(eng.update(state.id, StackRequest("kfg", doc)))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert state.resources["flavor"].physical_id == flavor_id
    assert state.outputs["specs"] == {"hw:cpu_policy": "dedicated"}
    assert run(eng.check(state.id)).ok

    run(eng.delete(state.id))
    assert not [f for f in sandbox.resources("flavors") if f["id"] == flavor_id]
    assert not [g for g in sandbox.resources("server_groups") if g["name"].startswith("kfg-")]
    assert not [k for k in sandbox.resources("keypairs") if k["name"] == "imported"]
    assert_nothing_left(sandbox, state.id)


def test_keypair_adopted_after_a_crash_and_deleted_out_of_band(
        sandbox: SandboxCloud, conn: openstack.connection.Connection,
        engine: Callable[..., Any], crash_store: Callable[..., Any]) -> None:
    inner = MemoryStateStore()
    eng, _, _ = engine(store=crash_store(inner, "key"))
    doc = hot({"key": {"type": "OS::Nova::KeyPair", "properties": {"name": "crash-key"}}})
    stack_id = "0b7d6c8e-0000-4000-8000-0000000000ee"
    with pytest.raises(StateSaveError):
        run(eng.create(StackRequest("kc", doc), stack_id))
    eng2, _, _ = engine(store=inner)
    state = run(eng2.apply(StackRequest("kc", doc), stack_id))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert state.resources["key"].physical_id == "crash-key"
    conn.compute.delete_keypair("crash-key")
    assert run(eng2.check(stack_id)).resources["key"].missing
    run(eng2.delete(stack_id))


def test_custom_constraints_ask_the_cloud(sandbox: SandboxCloud, network: Any,
                                          conn: openstack.connection.Connection,
                                          engine: Callable[..., Any]) -> None:
    registry = cloud_constraints(conn)
    flavor = registry.get("nova.flavor")
    assert flavor is not None and flavor.needs_cloud
    flavor.check("m1.tiny")
    flavor.check("1")
    for name in ("nova.keypair", "glance.image", "cinder.volume"):
        assert registry.get(name) is not None, name
    registry.get("glance.image").check(CIRROS)  # type: ignore[union-attr]

    eng, _, _ = engine(constraints=registry)
    with pytest.raises(PropertyError) as err:
        run(eng.create(StackRequest("cc", hot({"vm": server(flavor="m9.huge")}))))
    assert str(err.value) == ("resources.vm.properties.flavor: Error validating value "
                              "'m9.huge': The Flavor (m9.huge) could not be found.")
    with pytest.raises(PropertyError, match=r"The Key \(nope\) could not be found\."):
        run(eng.create(StackRequest("cc", hot({"vm": server(key_name="nope")}))))
    assert not [s for s in sandbox.resources("servers") if s["name"].startswith("cc-")]


@pytest.fixture(scope="module")
def slow_cloud() -> Iterator[tuple[SandboxCloud, openstack.connection.Connection]]:
    with run_sandbox(SandboxConfig(build_delay=60.0)) as cloud:
        conn = openstack.connect(load_yaml_config=False, load_envvars=False,
                                 **cloud.cloud_config)
        net = conn.network.create_network(name=NET)
        conn.network.create_subnet(network_id=net.id, cidr="10.80.0.0/24", ip_version=4)
        yield cloud, conn
        conn.close()


def test_build_wait_is_bounded_by_the_stack_timeout(
        slow_cloud: tuple[SandboxCloud, openstack.connection.Connection],
        engine: Callable[..., Any]) -> None:
    cloud, conn = slow_cloud
    eng, _, _ = engine(cloud=conn)
    started = time.monotonic()
    state = run(eng.create(StackRequest("slow", hot({"vm": server()}), timeout_minutes=0.01,
                                        disable_rollback=True)))
    assert time.monotonic() - started < 10
    assert state.state == "CREATE_FAILED"
    assert "Timed out" in state.status_reason, state.status_reason
    state = run(eng.delete(state.id))
    assert state.state == "DELETE_COMPLETE", state.status_reason
    assert cloud.resources("servers") == []


def test_boot_from_volume_and_software_config_user_data(sandbox: SandboxCloud, network: Any,
                                                        engine: Callable[..., Any]) -> None:
    eng, _, _ = engine()
    doc = hot({
        "config": {"type": "OS::Heat::SoftwareConfig", "properties": {
            "group": "script", "config": "#!/bin/sh\necho from-config"}},
        "vm": {"type": "OS::Nova::Server", "properties": {
            "flavor": "m1.tiny", "networks": [{"network": NET}],
            "block_device_mapping_v2": [{"image": CIRROS, "volume_size": 2,
                                         "delete_on_termination": True}],
            "user_data_format": "SOFTWARE_CONFIG",
            "user_data": {"get_resource": "config"}}},
    })
    state = run(eng.create(StackRequest("bfv", doc)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    (raw,) = servers_of(sandbox, state.id)
    assert raw["image"] == ""
    (att,) = raw["_attachments"]
    (vol,) = [v for v in sandbox.resources("volumes") if v["id"] == att["volumeId"]]
    assert vol["size"] == 2 and vol["status"] == "in-use"
    assert base64.b64decode(raw["_user_data"]).decode() == "#!/bin/sh\necho from-config"
    assert run(eng.check(state.id)).ok
    run(eng.delete(state.id))
    assert_nothing_left(sandbox, state.id)
    assert not [v for v in sandbox.resources("volumes") if v["id"] == att["volumeId"]]


def test_server_deleted_out_of_band_is_gone_on_delete(sandbox: SandboxCloud, network: Any,
                                                      engine: Callable[..., Any]) -> None:
    eng, _, _ = engine()
    state = run(eng.create(StackRequest("gone", hot({"vm": server()}))))
    sandbox.vanish("servers", state.resources["vm"].physical_id)
    state = run(eng.delete(state.id))
    assert state.state == "DELETE_COMPLETE", state.status_reason


def test_flavor_and_server_group_adopted_after_a_crash(
        sandbox: SandboxCloud, engine: Callable[..., Any],
        crash_store: Callable[..., Any]) -> None:
    for name, resource in (("flavor", {"type": "OS::Nova::Flavor",
                                       "properties": {"ram": 128, "vcpus": 1}}),
                           ("group", {"type": "OS::Nova::ServerGroup", "properties": {}})):
        inner = MemoryStateStore()
        stack_id = f"0b7d6c8e-0000-4000-8000-0000000{len(name):05d}"
        eng, _, _ = engine(store=crash_store(inner, name))
        doc = hot({name: resource})
        with pytest.raises(StateSaveError):
            run(eng.create(StackRequest("fc", doc), stack_id))
        kind = "flavors" if name == "flavor" else "server_groups"
        (orphan,) = [r for r in sandbox.resources(kind) if r["name"].startswith(f"fc-{name}-")]
        eng2, _, _ = engine(store=inner)
        state = run(eng2.apply(StackRequest("fc", doc), stack_id))
        assert state.state == "CREATE_COMPLETE", state.status_reason
        assert state.resources[name].physical_id == orphan["id"]
        run(eng2.delete(stack_id))
        assert not [r for r in sandbox.resources(kind) if r["name"].startswith(f"fc-{name}-")]


def test_cloud_constraint_leaves_values_unchecked_when_the_cloud_fails(
        sandbox: SandboxCloud, conn: openstack.connection.Connection) -> None:
    flavor = cloud_constraints(conn).get("nova.flavor")
    assert flavor is not None
    rule = sandbox.add_fault(FaultRule(path=r"/flavors", status=500))
    try:
        flavor.check("m9.huge")                      # unchecked: the cloud failed
    finally:
        sandbox.remove_fault(rule)
    with pytest.raises(ConstraintViolation, match=r"The Flavor \(m9\.huge\) could not"):
        flavor.check("m9.huge")
    created = conn.compute.create_flavor(name="m9.huge", ram=64, vcpus=1, disk=0)
    try:
        flavor.check("m9.huge")                      # "missing" was not cached
    finally:
        conn.compute.delete_flavor(created.id)


def test_networks_change_attaches_and_detaches_interfaces(
        sandbox: SandboxCloud, network: Any, conn: openstack.connection.Connection,
        engine: Callable[..., Any]) -> None:
    other = conn.network.create_network(name="nova-tests-net-2")
    conn.network.create_subnet(network_id=other.id, cidr="10.81.0.0/24", ip_version=4)
    eng, _, _ = engine()
    doc = hot({"vm": server()}, outputs={"nets": out("vm", "networks")})
    state = run(eng.create(StackRequest("nics", doc)))
    sid = state.resources["vm"].physical_id
    first_ip = state.outputs["nets"][NET][0]

    doc["resources"]["vm"]["properties"]["networks"] = [
        {"network": NET}, {"network": other.id, "fixed_ip": "10.81.0.50"}]
    state = run(eng.update(state.id, StackRequest("nics", doc)))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert state.resources["vm"].physical_id == sid
    assert state.outputs["nets"][NET] == [first_ip]
    assert state.outputs["nets"]["nova-tests-net-2"] == ["10.81.0.50"]

    doc["resources"]["vm"]["properties"]["networks"] = [
        {"network": other.id, "fixed_ip": "10.81.0.50"}]
    state = run(eng.update(state.id, StackRequest("nics", doc)))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert state.resources["vm"].physical_id == sid
    assert set(state.outputs["nets"]) == {"nova-tests-net-2", other.id}
    assert {i.net_id for i in conn.compute.server_interfaces(sid)} == {other.id}
    run(eng.delete(state.id))
    assert_nothing_left(sandbox, state.id)


def test_private_flavor_tenants_and_extra_specs_removed(
        sandbox: SandboxCloud, conn: openstack.connection.Connection,
        engine: Callable[..., Any]) -> None:
    eng, _, _ = engine()
    doc = hot({"flavor": {"type": "OS::Nova::Flavor", "properties": {
        "ram": 128, "vcpus": 1, "is_public": False, "tenants": ["p1", "p2"],
        "extra_specs": {"a": "1", "b": "2"}}}},
        outputs={"specs": out("flavor", "extra_specs"), "public": out("flavor", "is_public")})
    state = run(eng.create(StackRequest("pf", doc)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    fid = state.resources["flavor"].physical_id
    assert state.outputs == {"specs": {"a": "1", "b": "2"}, "public": False}
    assert sorted(a["tenant_id"] for a in conn.compute.get_flavor_access(fid)) == ["p1", "p2"]

    props = doc["resources"]["flavor"]["properties"]
    props.update(tenants=["p2", "p3"], extra_specs={"b": "3"})
    state = run(eng.update(state.id, StackRequest("pf", doc)))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert state.resources["flavor"].physical_id == fid
    assert state.outputs["specs"] == {"b": "3"}
    assert sorted(a["tenant_id"] for a in conn.compute.get_flavor_access(fid)) == ["p2", "p3"]
    assert run(eng.check(state.id)).ok
    run(eng.delete(state.id))
    assert not [f for f in sandbox.resources("flavors") if f["id"] == fid]

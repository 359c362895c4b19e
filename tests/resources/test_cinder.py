"""OS::Cinder::Volume and OS::Cinder::VolumeAttachment through the engine against the sandbox
cloud: create and wait for available, extend in place, metadata and name updates, shrinking
refused, attach (in-use) and detach on delete, error status with the cloud's word, adoption
after a crash, drift (resized, detached, deleted out of band), nothing left after delete."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import openstack
import openstack.connection
import pytest
from cloud_support import hot, make_network, out, run

from kubeheat.engine import MemoryStateStore, StackRequest, StateSaveError
from kubeheat.resources import TAG_RESOURCE, TAG_STACK_ID
from kubeheat.sandbox import SandboxCloud, SandboxConfig, run_sandbox

NET = "cinder-tests-net"


@pytest.fixture(scope="module")
def network(conn: openstack.connection.Connection) -> Iterator[Any]:
    yield make_network(conn, NET, "10.79.0.0/24")


def volumes_of(sandbox: SandboxCloud, stack_id: str) -> list[dict[str, Any]]:
    return [v for v in sandbox.resources("volumes")
            if v["metadata"].get(TAG_STACK_ID) == stack_id]


def volume(**props: Any) -> dict[str, Any]:
    return {"type": "OS::Cinder::Volume", "properties": {"size": 1, **props}}


def test_volume_create_extend_update_and_delete(sandbox: SandboxCloud,
                                                engine: Callable[..., Any]) -> None:
    eng, _, _ = engine()
    doc = hot({"data": volume(name="data", description="d1", metadata={"tier": "gold"})},
              outputs={"size": out("data", "size"), "meta": out("data", "metadata_values"),
                       "status": out("data", "status"), "name": out("data", "display_name"),
                       "show": {"value": {"get_attr": ["data", "show", "id"]}}})
    state = run(eng.create(StackRequest("vol", doc)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    vid = state.resources["data"].physical_id
    (raw,) = volumes_of(sandbox, state.id)
    assert raw["id"] == vid and raw["status"] == "available" and raw["size"] == 1
    assert raw["metadata"] == {"tier": "gold", TAG_STACK_ID: state.id, TAG_RESOURCE: "data"}
    assert state.outputs == {"size": "1", "meta": {"tier": "gold"}, "status": "available",
                             "name": "data", "show": vid}

    props = doc["resources"]["data"]["properties"]
    props.update(size=3, metadata={"tier": "silver", "team": "a"}, description="d2")
    state = run(eng.update(state.id, StackRequest("vol", doc)))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert state.resources["data"].physical_id == vid
    (raw,) = volumes_of(sandbox, state.id)
    assert raw["size"] == 3 and raw["status"] == "available" and raw["description"] == "d2"
    assert raw["metadata"] == {"tier": "silver", "team": "a", TAG_STACK_ID: state.id,
                               TAG_RESOURCE: "data"}
    assert state.outputs["size"] == "3"
    assert run(eng.check(state.id)).ok

    # shrinking is refused (Heat: only growth is supported)
    props["size"] = 2
    state = run(eng.update(state.id, StackRequest("vol", doc, disable_rollback=True)))
    assert state.state == "UPDATE_FAILED"
    assert "Can not decrease size" in state.resources["data"].status_reason

    state = run(eng.delete(state.id))
    assert state.state == "DELETE_COMPLETE", state.status_reason
    assert volumes_of(sandbox, state.id) == []


def test_volume_from_image_and_name_change_in_place(sandbox: SandboxCloud,
                                                    engine: Callable[..., Any]) -> None:
    eng, _, _ = engine()
    doc = hot({"boot": volume(image="cirros-0.6.2-x86_64-disk")},
              outputs={"bootable": out("boot", "bootable")})
    state = run(eng.create(StackRequest("vi", doc)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert state.outputs["bootable"] == "true"
    (raw,) = volumes_of(sandbox, state.id)
    assert raw["name"].startswith("vi-boot-")
    doc["resources"]["boot"]["properties"]["name"] = "named"
    state = run(eng.update(state.id, StackRequest("vi", doc)))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert volumes_of(sandbox, state.id)[0]["name"] == "named"
    run(eng.delete(state.id))
    assert volumes_of(sandbox, state.id) == []


def test_attachment_waits_in_use_and_delete_detaches(sandbox: SandboxCloud, network: Any,
                                                     conn: openstack.connection.Connection,
                                                     engine: Callable[..., Any]) -> None:
    eng, _, _ = engine()
    doc = hot({
        "vm": {"type": "OS::Nova::Server", "properties": {
            "image": "cirros-0.6.2-x86_64-disk", "flavor": "m1.tiny",
            "networks": [{"network": NET}]}},
        "data": volume(),
        "attach": {"type": "OS::Cinder::VolumeAttachment", "properties": {
            "instance_uuid": {"get_resource": "vm"}, "volume_id": {"get_resource": "data"},
            "mountpoint": "/dev/vdc"}},
    }, outputs={"attachments": out("data", "attachments_list")})
    state = run(eng.create(StackRequest("att", doc)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    vid, sid = state.resources["data"].physical_id, state.resources["vm"].physical_id
    assert state.resources["attach"].physical_id == vid
    (raw,) = volumes_of(sandbox, state.id)
    assert raw["status"] == "in-use"
    attachment = conn.compute.get_volume_attachment(sid, vid)
    assert attachment.device == "/dev/vdc"
    assert run(eng.check(state.id)).ok

    # detached out of band: check says the attachment is missing; apply attaches again
    conn.compute.delete_volume_attachment(sid, vid)
    conn.block_storage.wait_for_status(conn.block_storage.get_volume(vid), "available",
                                       interval=0.05, wait=10)
    result = run(eng.check(state.id))
    assert result.resources["attach"].missing and not result.resources["data"].missing
    state = run(eng.apply(StackRequest("att", doc), state.id))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert volumes_of(sandbox, state.id)[0]["status"] == "in-use"

    # the attachment moves to another mountpoint in place (detach + attach)
    doc["resources"]["attach"]["properties"]["mountpoint"] = "/dev/vdd"
    state = run(eng.update(state.id, StackRequest("att", doc)))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert conn.compute.get_volume_attachment(sid, vid).device == "/dev/vdd"

    state = run(eng.delete(state.id))
    assert state.state == "DELETE_COMPLETE", state.status_reason
    assert volumes_of(sandbox, state.id) == []
    assert not [s for s in sandbox.resources("servers") if s["id"] == sid]


def test_volume_drift_resized_and_deleted_out_of_band(sandbox: SandboxCloud,
                                                      conn: openstack.connection.Connection,
                                                      engine: Callable[..., Any]) -> None:
    eng, _, _ = engine()
    doc = hot({"data": volume(metadata={"a": "b"})})
    state = run(eng.create(StackRequest("vd", doc)))
    vid = state.resources["data"].physical_id
    conn.block_storage.extend_volume(vid, 2)
    conn.block_storage.wait_for_status(conn.block_storage.get_volume(vid), "available",
                                       interval=0.05, wait=10)
    conn.block_storage.set_volume_metadata(vid, extra="1")
    result = run(eng.check(state.id))
    assert result.drifted == {"data": {"size": (1, 2),
                                       "metadata": ({"a": "b"}, {"a": "b", "extra": "1"})}}
    sandbox.vanish("volumes", vid)
    assert run(eng.check(state.id)).resources["data"].missing
    state = run(eng.delete(state.id))
    assert state.state == "DELETE_COMPLETE", state.status_reason    # 404 on delete: gone


def test_adopts_the_volume_after_a_crash(sandbox: SandboxCloud, engine: Callable[..., Any],
                                         crash_store: Callable[..., Any]) -> None:
    inner = MemoryStateStore()
    stack_id = "0b7d6c8e-0000-4000-8000-00000000c1de"
    eng, _, _ = engine(store=crash_store(inner, "data"))
    doc = hot({"data": volume()})
    with pytest.raises(StateSaveError):
        run(eng.create(StackRequest("vc", doc), stack_id))
    (orphan,) = volumes_of(sandbox, stack_id)
    eng2, _, _ = engine(store=inner)
    state = run(eng2.apply(StackRequest("vc", doc), stack_id))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert state.resources["data"].physical_id == orphan["id"]
    assert len(volumes_of(sandbox, stack_id)) == 1
    run(eng2.delete(stack_id))
    assert volumes_of(sandbox, stack_id) == []


@pytest.fixture(scope="module")
def failing_cloud() -> Iterator[tuple[SandboxCloud, openstack.connection.Connection]]:
    with run_sandbox(SandboxConfig(volume_delay=0.05, volume_error_rate=1.0)) as cloud:
        conn = openstack.connect(load_yaml_config=False, load_envvars=False,
                                 **cloud.cloud_config)
        yield cloud, conn
        conn.close()


def test_volume_error_fails_the_resource(
        failing_cloud: tuple[SandboxCloud, openstack.connection.Connection],
        engine: Callable[..., Any]) -> None:
    cloud, conn = failing_cloud
    eng, _, _ = engine(cloud=conn)
    state = run(eng.create(StackRequest("ve", hot({"data": volume()}), disable_rollback=True)))
    assert state.state == "CREATE_FAILED"
    assert "Went to status ERROR" in state.resources["data"].status_reason
    state = run(eng.delete(state.id))
    assert state.state == "DELETE_COMPLETE", state.status_reason
    assert cloud.resources("volumes") == []


def test_read_only_flag_and_retype(sandbox: SandboxCloud,
                                   engine: Callable[..., Any]) -> None:
    eng, _, _ = engine()
    doc = hot({"data": volume(read_only=True)})
    state = run(eng.create(StackRequest("ro", doc)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    (raw,) = volumes_of(sandbox, state.id)
    assert raw["_readonly"] is True
    doc["resources"]["data"]["properties"].update(read_only=False, volume_type="lvmdriver-1")
    state = run(eng.update(state.id, StackRequest("ro", doc)))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    (raw,) = volumes_of(sandbox, state.id)
    assert raw["_readonly"] is False and raw["volume_type"] == "lvmdriver-1"
    run(eng.delete(state.id))
    assert volumes_of(sandbox, state.id) == []

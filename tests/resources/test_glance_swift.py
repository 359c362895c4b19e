"""OS::Glance::WebImage and OS::Swift::Container through the engine against the sandbox cloud:
web-download import awaited until active, tags and properties updated in place, replacement,
container ACLs and metadata, attributes through outputs, drift, adoption after a crash, purge
on delete, and nothing left after delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openstack.connection
import pytest
from cloud_support import hot, out, run

from kubeheat.engine import MemoryStateStore, StackRequest, StateSaveError
from kubeheat.resources import TAG_RESOURCE, TAG_STACK_ID
from kubeheat.sandbox import SandboxCloud


def web_image(**props: Any) -> dict[str, Any]:
    return {"type": "OS::Glance::WebImage", "properties": {
        "location": "https://images.example.com/focal.qcow2", "disk_format": "qcow2",
        "container_format": "bare", **props}}


def images_of(sandbox: SandboxCloud, stack_id: str) -> list[dict[str, Any]]:
    return [i for i in sandbox.resources("images") if i.get(TAG_STACK_ID) == stack_id]


def containers_of(sandbox: SandboxCloud, stack_id: str) -> list[dict[str, Any]]:
    found = []
    for c in sandbox.resources("containers"):
        meta = {k.lower(): v for k, v in c["meta"].items()}
        if meta.get(TAG_STACK_ID) == stack_id:
            found.append(c)
    return found


# -- OS::Glance::WebImage ---------------------------------------------------------------------


def test_web_image_import_update_replace_and_delete(sandbox: SandboxCloud,
                                                    engine: Callable[..., Any]) -> None:
    eng, _, _ = engine()
    doc = hot({"img": web_image(name="focal", tags=["a", "b"], min_ram=512,
                                os_distro="ubuntu")},
              outputs={"status": out("img", "status"), "size": out("img", "size"),
                       "id": {"value": {"get_resource": "img"}}})
    state = run(eng.create(StackRequest("gl", doc)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    iid = state.resources["img"].physical_id
    (raw,) = images_of(sandbox, state.id)
    assert raw["id"] == iid and raw["status"] == "active" and raw["name"] == "focal"
    assert raw[TAG_RESOURCE] == "img" and raw["os_distro"] == "ubuntu"
    assert sorted(raw["tags"]) == ["a", "b"] and raw["min_ram"] == 512
    assert state.outputs["status"] == "active" and state.outputs["size"] > 0
    assert state.outputs["id"] == iid

    # tags and os_distro update in place
    doc["resources"]["img"]["properties"].update(tags=["b", "c"], os_distro="debian")
    state = run(eng.update(state.id, StackRequest("gl", doc)))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert state.resources["img"].physical_id == iid
    (raw,) = images_of(sandbox, state.id)
    assert sorted(raw["tags"]) == ["b", "c"] and raw["os_distro"] == "debian"
    assert run(eng.check(state.id)).ok

    # a new location replaces the image
    doc["resources"]["img"]["properties"]["location"] = "https://images.example.com/jammy.qcow2"
    state = run(eng.update(state.id, StackRequest("gl", doc)))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert state.resources["img"].physical_id != iid
    assert [i["id"] for i in images_of(sandbox, state.id)] == [
        state.resources["img"].physical_id]

    state = run(eng.delete(state.id))
    assert state.state == "DELETE_COMPLETE", state.status_reason
    assert images_of(sandbox, state.id) == []


def test_web_image_drift_and_adoption(sandbox: SandboxCloud,
                                      conn: openstack.connection.Connection,
                                      engine: Callable[..., Any],
                                      crash_store: Callable[..., Any]) -> None:
    inner = MemoryStateStore()
    stack_id = "0b7d6c8e-0000-4000-8000-00000000a1de"
    eng, _, _ = engine(store=crash_store(inner, "img"))
    doc = hot({"img": web_image(tags=["x"])})
    with pytest.raises(StateSaveError):
        run(eng.create(StackRequest("gc", doc), stack_id))
    (orphan,) = images_of(sandbox, stack_id)
    assert orphan["status"] == "queued"          # the import had not started
    eng2, _, _ = engine(store=inner)
    state = run(eng2.apply(StackRequest("gc", doc), stack_id))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert state.resources["img"].physical_id == orphan["id"]
    assert [i["status"] for i in images_of(sandbox, stack_id)] == ["active"]

    image_api: Any = conn.image
    image_api.add_tag(orphan["id"], "y")
    assert run(eng2.check(stack_id)).drifted == {"img": {"tags": (["x"], ["x", "y"])}}
    sandbox.vanish("images", orphan["id"])
    assert run(eng2.check(stack_id)).resources["img"].missing
    state = run(eng2.delete(stack_id))
    assert state.state == "DELETE_COMPLETE", state.status_reason


# -- OS::Swift::Container ---------------------------------------------------------------------


def test_container_create_attributes_update_and_delete(sandbox: SandboxCloud,
                                                       conn: openstack.connection.Connection,
                                                       engine: Callable[..., Any]) -> None:
    eng, _, _ = engine()
    doc = hot({"bucket": {"type": "OS::Swift::Container", "properties": {
        "X-Container-Read": ".r:*", "X-Container-Meta": {"Color": "blue"}}}},
        outputs={k: out("bucket", k) for k in ("DomainName", "WebsiteURL", "RootURL",
                                               "ObjectCount", "BytesUsed", "HeadContainer")})
    state = run(eng.create(StackRequest("sw", doc)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    name = state.resources["bucket"].physical_id
    assert name.startswith("sw-bucket-")
    head = conn.object_store.get_container_metadata(name)
    assert head.read_ACL == ".r:*"
    assert head.metadata == {"color": "blue", TAG_STACK_ID: state.id, TAG_RESOURCE: "bucket"}
    root = str(conn.object_store.get_endpoint()).rstrip("/")
    outputs = state.outputs
    assert outputs["RootURL"] == root and outputs["WebsiteURL"] == f"{root}/{name}"
    assert outputs["DomainName"] == f"127.0.0.1:{sandbox.port}"
    assert outputs["ObjectCount"] == 0 and outputs["BytesUsed"] == 0
    assert outputs["HeadContainer"]["X-Container-Read"] == ".r:*"

    # ACLs and metadata update in place (kubeheat; Heat would replace)
    props = doc["resources"]["bucket"]["properties"]
    props.update({"X-Container-Meta": {"Size": "L"}, "X-Container-Read": None,
                  "X-Container-Write": "demo:demo"})
    del props["X-Container-Read"]
    state = run(eng.update(state.id, StackRequest("sw", doc)))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert state.resources["bucket"].physical_id == name
    head = conn.object_store.get_container_metadata(name)
    assert head.metadata == {"size": "L", TAG_STACK_ID: state.id, TAG_RESOURCE: "bucket"}
    assert not head.read_ACL and head.write_ACL == "demo:demo"
    assert run(eng.check(state.id)).ok

    # drift: metadata changed by hand
    conn.object_store.set_container_metadata(name, extra="1")
    assert run(eng.check(state.id)).drifted == {
        "bucket": {"X-Container-Meta": ({"Size": "L"}, {"size": "L", "extra": "1"})}}

    state = run(eng.delete(state.id))
    assert state.state == "DELETE_COMPLETE", state.status_reason
    assert containers_of(sandbox, state.id) == []


def test_container_not_empty_fails_unless_purged(sandbox: SandboxCloud,
                                                 conn: openstack.connection.Connection,
                                                 engine: Callable[..., Any]) -> None:
    eng, _, _ = engine()

    def stack(name: str, purge: bool) -> Any:
        doc = hot({"bucket": {"type": "OS::Swift::Container", "properties": {
            "name": name, "PurgeOnDelete": purge}}},
            outputs={"count": out("bucket", "ObjectCount"), "bytes": out("bucket", "BytesUsed")})
        state = run(eng.create(StackRequest(name, doc)))
        assert state.state == "CREATE_COMPLETE", state.status_reason
        conn.object_store.create_object(name, "a.txt", data=b"hello")
        conn.object_store.create_object(name, "b.txt", data=b"world!")
        return run(eng.apply(StackRequest(name, doc), state.id))

    state = stack("keep", purge=False)
    assert state.outputs == {"count": 0, "bytes": 0}   # attributes are refreshed by check
    run(eng.check(state.id))
    assert eng.load(state.id).resources["bucket"].attributes["ObjectCount"] == 2
    state = run(eng.delete(state.id))
    assert state.state == "DELETE_FAILED"
    assert "Container keep is not empty" in state.status_reason
    for name in ("a.txt", "b.txt"):
        conn.object_store.delete_object(name, container="keep")
    state = run(eng.delete(state.id))
    assert state.state == "DELETE_COMPLETE", state.status_reason

    state = stack("purged", purge=True)
    state = run(eng.delete(state.id))
    assert state.state == "DELETE_COMPLETE", state.status_reason
    assert not [c for c in sandbox.resources("containers") if c["name"] in ("keep", "purged")]


def test_container_adopted_after_a_crash(sandbox: SandboxCloud, engine: Callable[..., Any],
                                         crash_store: Callable[..., Any]) -> None:
    inner = MemoryStateStore()
    stack_id = "0b7d6c8e-0000-4000-8000-00000000b1de"
    eng, _, _ = engine(store=crash_store(inner, "bucket"))
    doc = hot({"bucket": {"type": "OS::Swift::Container", "properties": {}}})
    with pytest.raises(StateSaveError):
        run(eng.create(StackRequest("sc", doc), stack_id))
    assert len(containers_of(sandbox, stack_id)) == 1
    eng2, _, _ = engine(store=inner)
    state = run(eng2.apply(StackRequest("sc", doc), stack_id))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert len(containers_of(sandbox, stack_id)) == 1
    (raw,) = containers_of(sandbox, stack_id)
    sandbox.vanish("containers", f"{raw['project']}/{raw['name']}")
    assert run(eng2.check(stack_id)).resources["bucket"].missing
    state = run(eng2.delete(stack_id))
    assert state.state == "DELETE_COMPLETE", state.status_reason     # 404: already gone
    assert containers_of(sandbox, stack_id) == []


def test_container_metadata_of_other_sdk_calls_does_not_leak(
        sandbox: SandboxCloud, conn: openstack.connection.Connection,
        engine: Callable[..., Any]) -> None:
    # openstacksdk's Container shares a class-level metadata dict that metadata= mutates
    conn.object_store.create_container(name="polluter", metadata={"leak": "yes"})
    eng, _, _ = engine()
    state = run(eng.create(StackRequest("lk", hot({"bucket": {
        "type": "OS::Swift::Container", "properties": {"X-Container-Meta": {"own": "1"}}}}))))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    head = conn.object_store.get_container_metadata(state.resources["bucket"].physical_id)
    assert head.metadata == {"own": "1", TAG_STACK_ID: state.id, TAG_RESOURCE: "bucket"}
    run(eng.delete(state.id))
    conn.object_store.delete_container("polluter")

"""Cinder, Glance and Swift through the real openstacksdk."""

from __future__ import annotations

import openstack.connection
import openstack.exceptions
import pytest
from sandbox_support import FAST, eventually, sdk

from kubeheat.sandbox import SandboxConfig, run_sandbox

Conn = openstack.connection.Connection


def test_volume_lifecycle_and_metadata(conn: Conn) -> None:
    volume = conn.block_storage.create_volume(size=2, name="vol", metadata={"stack": "s1"})
    assert volume.status == "creating"
    volume = conn.block_storage.wait_for_status(volume, "available", interval=0.02, wait=5)
    assert volume.metadata == {"stack": "s1"} and volume.is_bootable is False
    conn.block_storage.set_volume_metadata(volume, role="data")
    assert conn.block_storage.get_volume_metadata(volume).metadata == {
        "stack": "s1", "role": "data"}
    conn.block_storage.delete_volume_metadata(volume, ["role"])
    assert "role" not in conn.block_storage.get_volume(volume.id).metadata
    updated = conn.block_storage.update_volume(volume, name="vol2")
    assert updated.name == "vol2"
    conn.block_storage.extend_volume(volume, 3)
    assert conn.block_storage.get_volume(volume.id).status == "extending"
    extended = eventually(lambda: (v := conn.block_storage.get_volume(volume.id)).status
                          == "available" and v)
    assert extended.size == 3
    names = {v.name for v in conn.block_storage.volumes(name="vol2")}
    assert names == {"vol2"}
    conn.block_storage.delete_volume(volume)
    conn.block_storage.wait_for_delete(volume, interval=0.02, wait=5)
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.block_storage.get_volume(volume.id)


def test_volume_from_image_is_bootable(conn: Conn) -> None:
    image = conn.image.find_image("cirros-0.6.2-x86_64-disk")
    volume = conn.block_storage.create_volume(size=1, image_id=image.id)
    volume = conn.block_storage.wait_for_status(volume, "available", interval=0.02, wait=5)
    assert volume.is_bootable is True
    assert volume.volume_image_metadata["image_id"] == image.id
    conn.block_storage.delete_volume(volume)


def test_volume_quota_and_error() -> None:
    config = SandboxConfig(**FAST, quotas={"gigabytes": 5},  # type: ignore[arg-type]
                           volume_error_rate=1.0)
    with run_sandbox(config) as cloud:
        conn = sdk(cloud)
        resp = conn.block_storage.post("/volumes", json={"volume": {"size": 6}})
        assert resp.status_code == 413
        assert "VolumeSizeExceedsAvailableQuota" in resp.json()["overLimit"]["message"]
        volume = conn.block_storage.create_volume(size=1)
        with pytest.raises(openstack.exceptions.ResourceFailure):
            conn.block_storage.wait_for_status(volume, "available", interval=0.02, wait=5)
        conn.close()


def test_image_upload_import_patch_tags(conn: Conn) -> None:
    image = conn.image.create_image(name="up", disk_format="raw", container_format="bare",
                                    data=b"hello", allow_duplicates=True)
    assert conn.image.get_image(image.id).status == "active"
    assert conn.image.get_image(image.id).size == 5
    web = conn.image.create_image(name="web", disk_format="qcow2", container_format="bare",
                                  allow_duplicates=True, stack="s1")
    assert web.status == "queued"
    conn.image.import_image(web, method="web-download", uri="https://example.org/x.qcow2")
    assert conn.image.get_image(web.id).status == "importing"
    eventually(lambda: conn.image.get_image(web.id).status == "active")
    conn.image.update_image(web, name="web2", min_ram=64)
    got = conn.image.get_image(web.id)
    assert (got.name, got.min_ram, got.properties.get("stack")) == ("web2", 64, "s1")
    conn.image.add_tag(web, "t1")
    assert [i.id for i in conn.image.images(tag="t1")] == [web.id]
    conn.image.remove_tag(web, "t1")
    conn.image.delete_image(web)
    conn.image.delete_image(image)
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.image.get_image(web.id)


def test_swift_containers(conn: Conn) -> None:
    conn.object_store.create_container(name="bucket", metadata={"stack": "s1"})
    meta = conn.object_store.get_container_metadata("bucket")
    assert meta.metadata == {"stack": "s1"}
    conn.object_store.set_container_metadata("bucket", role="logs")
    assert conn.object_store.get_container_metadata("bucket").metadata == {
        "stack": "s1", "role": "logs"}
    assert "bucket" in {c.name for c in conn.object_store.containers()}
    conn.object_store.upload_object(container="bucket", name="a/b.txt", data=b"x")
    with pytest.raises(openstack.exceptions.ConflictException):
        conn.object_store.delete_container("bucket")
    conn.object_store.delete_object("a/b.txt", container="bucket")
    conn.object_store.delete_container("bucket")
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.object_store.get_container_metadata("bucket")

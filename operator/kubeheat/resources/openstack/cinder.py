"""Cinder resource types: ``OS::Cinder::Volume`` and ``OS::Cinder::VolumeAttachment``, and the
``cinder.volume`` / ``cinder.snapshot`` / ``cinder.backup`` / ``cinder.vtype`` custom
constraints.

Properties, attributes and update rules follow Heat's ``cinder/volume.py``: a larger ``size``
extends the volume in place (a smaller one fails, as in Heat), ``name``, ``description`` and
``metadata`` update in place, ``volume_type`` changes retype it, ``read_only`` sets the
read-only flag. Volumes carry the stack's tags as metadata (hidden from the ``metadata``
property and attribute) and are found by them after a crash. An attachment is made through
Nova (``os-volume_attachments``); its physical id is the volume's id (Nova's legacy attachment
id) and its update detaches and re-attaches.

Differences from Heat on purpose: ``backup_id`` changes replace the volume (Heat restores the
backup onto it); an extend is asked of Cinder whatever the volume's status (Heat detaches an
attached volume first; recent Cinder extends in-use volumes itself).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from kubeheat.resources.base import (
    BOOLEAN,
    HIDDEN,
    INTEGER,
    LIST,
    MAP,
    STRING,
    TAG_STACK_ID,
    Attribute,
    Created,
    Observed,
    Property,
    ResourceContext,
    ResourceFailure,
    register,
)
from kubeheat.resources.openstack._common import (
    FinderConstraint,
    ListedResource,
    OpenStackResource,
    by_stack,
    cloud_constraint,
    connection,
    custom,
    delete_quietly,
    failure,
    get_or_none,
    has_metadata,
    is_not_found,
    meta_value,
    replace_metadata,
    sdk,
    shared_listing,
    tag_metadata,
    user_metadata,
    wait_for,
)
from kubeheat.resources.translation import renamed
from kubeheat.template import RangeConstraint

if TYPE_CHECKING:
    from openstack.connection import Connection


@cloud_constraint
class VolumeConstraint(FinderConstraint):
    name = "cinder.volume"
    description = "A volume (name or id) that exists in the cloud."
    entity = "Volume"
    finder = "block_storage.find_volume"


@cloud_constraint
class SnapshotConstraint(FinderConstraint):
    name = "cinder.snapshot"
    description = "A volume snapshot (name or id) that exists in the cloud."
    entity = "VolumeSnapshot"
    finder = "block_storage.find_snapshot"


@cloud_constraint
class BackupConstraint(FinderConstraint):
    name = "cinder.backup"
    description = "A volume backup (name or id) that exists in the cloud."
    entity = "VolumeBackup"
    finder = "block_storage.find_backup"


@cloud_constraint
class VolumeTypeConstraint(FinderConstraint):
    name = "cinder.vtype"
    description = "A volume type (name or id) that exists in the cloud."
    entity = "VolumeType"
    finder = "block_storage.find_type"


def _volume_status(obj: Any) -> str:
    return str(getattr(obj, "status", "") or "")


async def _stack_volumes(ctx: ResourceContext) -> dict[str, Any]:
    """The volumes of ``ctx``'s stack by id: one listing filtered by the stack's metadata
    tag, shared by the volumes' and the attachments' observation."""
    conn = connection(ctx)
    query = json.dumps({TAG_STACK_ID: ctx.stack_id})
    volumes = await shared_listing(
        ctx, ("volumes", query),
        lambda: list(conn.block_storage.volumes(details=True, properties=query)))
    return {str(v.id): v for v in volumes
            if (v.metadata or {}).get(TAG_STACK_ID) == ctx.stack_id}


@register
class Volume(ListedResource):
    type_name = "OS::Cinder::Volume"
    description = "A Cinder block storage volume."
    proxy = "block_storage"
    entity = "volume"
    listing = "volumes"
    tagged = True
    properties = {
        "availability_zone": Property(STRING, "The availability zone in which the volume will "
                                      "be created."),
        "size": Property(INTEGER, "The size of the volume in GB. On update only increase in "
                         "size is supported.", update_allowed=True,
                         constraints=(RangeConstraint(min=1),)),
        "snapshot_id": Property(STRING, "If specified, the snapshot to create the volume from.",
                                constraints=(custom("cinder.snapshot"),)),
        "backup_id": Property(STRING, "If specified, the backup to create the volume from.",
                              constraints=(custom("cinder.backup"),)),
        "name": Property(STRING, "A name used to distinguish the volume.", update_allowed=True),
        "description": Property(STRING, "A description of the volume.", update_allowed=True),
        "volume_type": Property(STRING, "If specified, the type of volume to use, mapping to a "
                                "specific backend.", update_allowed=True,
                                constraints=(custom("cinder.vtype"),)),
        "metadata": Property(MAP, "Key/value pairs to associate with the volume.",
                             default={}, update_allowed=True),
        "image": Property(STRING, "If specified, the name or ID of the image to create the "
                          "volume from.", constraints=(custom("glance.image"),)),
        "imageRef": renamed("image"),
        "source_volid": Property(STRING, "If specified, the volume to use as source.",
                                 constraints=(custom("cinder.volume"),)),
        "scheduler_hints": Property(MAP, "Arbitrary key-value pairs specified by the client to "
                                    "help the Cinder scheduler creating a volume."),
        "read_only": Property(BOOLEAN, "Enables or disables read-only access mode of volume.",
                              update_allowed=True),
        "multiattach": Property(BOOLEAN, "Whether allow the volume to be attached more than "
                                "once.", default=False, support=HIDDEN,
                                support_message="ignored (a volume can be attached more than "
                                "once when its volume type allows it)"),
    }
    attributes = {
        "availability_zone": Attribute("The availability zone in which the volume is located.",
                                       STRING),
        "size": Attribute("The size of the volume in GB.", STRING),
        "snapshot_id": Attribute("The snapshot the volume was created from, if any.", STRING),
        "display_name": Attribute("Name of the volume.", STRING),
        "display_description": Attribute("Description of the volume.", STRING),
        "volume_type": Attribute("The type of the volume mapping to a backend, if any.",
                                 STRING),
        "metadata": Attribute("Key/value pairs associated with the volume (JSON).", STRING),
        "metadata_values": Attribute("Key/value pairs associated with the volume in raw dict "
                                     "form.", MAP),
        "source_volid": Attribute("The volume used as source, if any.", STRING),
        "status": Attribute("The current status of the volume.", STRING),
        "created_at": Attribute("The timestamp indicating volume creation.", STRING),
        "bootable": Attribute("Boolean indicating if the volume can be booted or not.",
                              STRING),
        "encrypted": Attribute("Boolean indicating if the volume is encrypted or not.",
                               STRING),
        "attachments": Attribute("A string representation of the list of attachments of the "
                                 "volume.", STRING),
        "attachments_list": Attribute("The list of attachments of the volume.", LIST),
        "multiattach": Attribute("Boolean indicating whether allow the volume to be attached "
                                 "more than once.", BOOLEAN),
    }

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        conn = connection(ctx)
        name = self._name(ctx, props)
        metadata = {k: meta_value(v) for k, v in (props.get("metadata") or {}).items()}
        attrs: dict[str, Any] = {"name": name, "metadata": {**metadata, **tag_metadata(ctx)}}
        if props.get("size") is not None:
            attrs["size"] = props["size"]
        for key, attr in (("description", "description"),
                          ("availability_zone", "availability_zone"),
                          ("volume_type", "volume_type"), ("snapshot_id", "snapshot_id"),
                          ("backup_id", "backup_id"), ("source_volid", "source_volume_id")):
            if props.get(key) is not None:
                attrs[attr] = props[key]
        if props.get("scheduler_hints"):
            attrs["scheduler_hints"] = dict(props["scheduler_hints"])
        if props.get("image"):
            image = await sdk(ctx, conn.image.find_image, props["image"], ignore_missing=True)
            if image is None:
                raise ResourceFailure(f"The Image ({props['image']}) could not be found.")
            attrs["image_id"] = image.id
        if "size" not in attrs and not (props.get("snapshot_id") or props.get("source_volid")
                                        or props.get("backup_id")):
            raise ResourceFailure("Property size not assigned: a volume needs a size unless "
                                  "it is created from a snapshot, a backup or a volume.")
        volume = await sdk(ctx, conn.block_storage.create_volume, **attrs)
        return Created(str(volume.id), {"name": name})

    async def _wait(self, ctx: ResourceContext, conn: Connection, vid: str,
                    done: tuple[str, ...] = ("available",)) -> Any:
        return await wait_for(ctx, lambda: conn.block_storage.get_volume(vid), done=done,
                              failed=("error", "error_extending", "error_restoring"),
                              what="volume", status_of=_volume_status)

    async def check_create_complete(self, ctx: ResourceContext, props: dict[str, Any]) -> bool:
        conn = connection(ctx)
        assert ctx.physical_id is not None
        await self._wait(ctx, conn, ctx.physical_id, ("available", "in-use"))
        if props.get("read_only"):
            await sdk(ctx, conn.block_storage.set_volume_readonly, ctx.physical_id, True)
        return True

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        conn = connection(ctx)
        vid = ctx.physical_id
        assert vid is not None
        data = dict(ctx.data)
        if changed & {"name", "description"}:
            name = self._name(ctx, new)
            await sdk(ctx, conn.block_storage.update_volume, vid, name=name,
                      description=new.get("description") or "")
            if not new.get("name"):
                data["name"] = name
        if "metadata" in changed:
            volume = await sdk(ctx, conn.block_storage.get_volume, vid)
            await replace_metadata(ctx, vid, volume.metadata, new.get("metadata"),
                                   conn.block_storage.delete_volume_metadata,
                                   conn.block_storage.set_volume_metadata)
        if "volume_type" in changed and new.get("volume_type"):
            await sdk(ctx, conn.block_storage.retype_volume, vid, new["volume_type"],
                      migration_policy="on-demand")
            await self._wait(ctx, conn, vid, ("available", "in-use"))
        if "size" in changed and new.get("size") is not None:
            volume = await sdk(ctx, conn.block_storage.get_volume, vid)
            if new["size"] < volume.size:
                raise ResourceFailure(f"Can not decrease size of volume {vid} from "
                                      f"{volume.size} GB to {new['size']} GB; only growth is "
                                      "supported.")
            if new["size"] > volume.size:
                await sdk(ctx, conn.block_storage.extend_volume, vid, new["size"])
                await self._wait(ctx, conn, vid, ("available", "in-use"))
        if "read_only" in changed and new.get("read_only") is not None:
            await sdk(ctx, conn.block_storage.set_volume_readonly, vid, bool(new["read_only"]))
        return data

    async def _stack_listing(self, ctx: ResourceContext) -> list[Any]:
        """The stack's volumes listed once by their metadata (``kubeheat-stack-id``), shared
        with the attachments' observation."""
        return list((await _stack_volumes(ctx)).values())

    async def _observation(self, ctx: ResourceContext, props: Mapping[str, Any], volume: Any,
                           *, batch: bool = False) -> Observed | None:
        status = _volume_status(volume)
        if status == "deleting":
            return None
        if status.startswith("error"):
            return Observed(status=status, failed=f"Volume in status {status}")
        observed: dict[str, Any] = {}
        if props.get("size") is not None:
            observed["size"] = volume.size
        meta = user_metadata(volume.metadata)
        applied = {k: meta_value(v) for k, v in (props.get("metadata") or {}).items()}
        observed["metadata"] = props.get("metadata") if meta == applied else meta
        if props.get("name"):
            observed["name"] = volume.name
        return Observed(properties=observed, attributes=self._attrs(volume), status=status)

    def _attrs(self, volume: Any) -> dict[str, Any]:
        meta = user_metadata(volume.metadata)
        attachments = list(getattr(volume, "attachments", None) or [])
        return {
            "availability_zone": volume.availability_zone,
            "size": str(volume.size),
            "snapshot_id": volume.snapshot_id,
            "display_name": volume.name,
            "display_description": volume.description,
            "volume_type": volume.volume_type,
            "metadata": json.dumps(meta),
            "metadata_values": meta,
            "source_volid": volume.source_volume_id,
            "status": volume.status,
            "created_at": volume.created_at,
            # Heat shows these as the text of Cinder's values
            "bootable": "true" if volume.is_bootable else "false",
            "encrypted": str(bool(volume.is_encrypted)),
            "attachments": json.dumps(attachments),
            "attachments_list": attachments,
            "multiattach": volume.is_multiattach,
            "show": volume.to_dict(computed=False, original_names=True),
        }

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        conn = connection(ctx)
        volume = await sdk(ctx, conn.block_storage.get_volume, ctx.physical_id)
        return self._attrs(volume)

    async def delete(self, ctx: ResourceContext, props: dict[str, Any]) -> None:
        conn = connection(ctx)
        vid = ctx.physical_id
        if vid is None:
            return
        try:
            volume = await ctx.call(conn.block_storage.get_volume, vid)
        except Exception as exc:
            if is_not_found(exc):
                return
            raise failure(exc, str(exc)) from None
        if _volume_status(volume) in ("creating", "extending", "attaching", "detaching"):
            await wait_for(ctx, lambda: conn.block_storage.get_volume(vid),
                           done=("available", "in-use", "error"), failed=(), what="volume",
                           status_of=_volume_status, gone_ok=True)
        if not await delete_quietly(ctx, conn.block_storage.delete_volume, vid,
                                    ignore_missing=False):
            return
        await wait_for(ctx, lambda: conn.block_storage.get_volume(vid), done=("deleted",),
                       failed=("error_deleting",), what="volume", status_of=_volume_status,
                       gone_ok=True)

    def _tag_filter(self, ctx: ResourceContext) -> dict[str, Any]:
        return {"properties": json.dumps(tag_metadata(ctx))}

    def _adoptable(self, ctx: ResourceContext, obj: Any) -> bool:
        return has_metadata(obj.metadata, ctx) \
            and _volume_status(obj) not in ("deleting", "deleted")

    async def _adopt(self, ctx: ResourceContext, props: Mapping[str, Any], obj: Any
                     ) -> Created:
        return Created(str(obj.id), {"name": obj.name})


@register
class VolumeAttachment(OpenStackResource):
    batch_observe: ClassVar[bool] = True
    type_name = "OS::Cinder::VolumeAttachment"
    description = "Attaches a Cinder volume to a Nova server."
    proxy = "compute"
    entity = "volume_attachment"
    properties = {
        "instance_uuid": Property(STRING, "The ID of the server to which the volume attaches.",
                                  required=True, update_allowed=True),
        "volume_id": Property(STRING, "The ID of the volume to be attached.", required=True,
                              update_allowed=True, constraints=(custom("cinder.volume"),)),
        "mountpoint": Property(STRING, "The location where the volume is exposed on the "
                               "instance. This assignment may not be honored.",
                               update_allowed=True),
    }
    attributes = {}

    async def _attach(self, ctx: ResourceContext, conn: Connection, props: Mapping[str, Any]
                      ) -> Any:
        attrs: dict[str, Any] = {}
        if props.get("mountpoint"):
            attrs["device"] = props["mountpoint"]
        return await sdk(ctx, conn.compute.create_volume_attachment, props["instance_uuid"],
                         volume=props["volume_id"], **attrs)

    async def _wait_status(self, ctx: ResourceContext, conn: Connection, vid: str,
                           status: str) -> Any:
        return await wait_for(ctx, lambda: conn.block_storage.get_volume(vid), done=(status,),
                              failed=("error", "error_attaching", "error_detaching"),
                              what="volume", status_of=_volume_status)

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        conn = connection(ctx)
        await self._attach(ctx, conn, props)
        return Created(str(props["volume_id"]), {"server_id": props["instance_uuid"]})

    async def check_create_complete(self, ctx: ResourceContext, props: dict[str, Any]) -> bool:
        await self._wait_status(ctx, connection(ctx), str(props["volume_id"]), "in-use")
        return True

    async def _detach(self, ctx: ResourceContext, conn: Connection, server_id: str,
                      volume_id: str) -> None:
        try:
            await ctx.call(conn.compute.delete_volume_attachment, server_id, volume_id,
                           ignore_missing=False)
        except Exception as exc:
            if is_not_found(exc):
                return
            raise failure(exc, str(getattr(exc, "details", None) or exc)) from None
        await wait_for(ctx, lambda: conn.block_storage.get_volume(volume_id),
                       done=("available",), failed=("error", "error_detaching"),
                       what="volume", status_of=_volume_status, gone_ok=True)

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        conn = connection(ctx)
        await self._detach(ctx, conn, str(old["instance_uuid"]), str(old["volume_id"]))
        await self._attach(ctx, conn, new)
        await self._wait_status(ctx, conn, str(new["volume_id"]), "in-use")
        return {"server_id": new["instance_uuid"]}

    async def read(self, ctx: ResourceContext, props: dict[str, Any]) -> Observed | None:
        server_id, volume_id = str(props["instance_uuid"]), str(props["volume_id"])
        attachment = await get_or_none(ctx, self._call(ctx, "get"), server_id, volume_id)
        if attachment is None:
            return None
        observed: dict[str, Any] = {}
        if props.get("mountpoint"):
            observed["mountpoint"] = attachment.device
        return Observed(properties=observed)

    @classmethod
    async def read_many(cls, items: Sequence[tuple[ResourceContext, dict[str, Any]]]
                        ) -> dict[str, Observed | None]:
        """Attachments seen on the stack's volumes (one listing, shared with the volumes'
        own observation); an attachment of a volume the stack did not make is left to
        :meth:`read`."""
        out: dict[str, Observed | None] = {}
        for _, group in by_stack(items).items():
            listed = await _stack_volumes(group[0][0])
            for ctx, props in group:
                volume = listed.get(str(props["volume_id"]))
                if volume is None or ctx.physical_id is None:
                    continue
                server_id = str(props["instance_uuid"])
                found = [a for a in getattr(volume, "attachments", None) or ()
                         if str(a.get("server_id")) == server_id]
                if not found:
                    out[ctx.physical_id] = None
                    continue
                observed: dict[str, Any] = {}
                if props.get("mountpoint"):
                    observed["mountpoint"] = found[0].get("device")
                out[ctx.physical_id] = Observed(properties=observed)
        return out

    async def delete(self, ctx: ResourceContext, props: dict[str, Any]) -> None:
        conn = connection(ctx)
        server_id, volume_id = str(props["instance_uuid"]), str(props["volume_id"])
        await self._detach(ctx, conn, server_id, volume_id)

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        conn = connection(ctx)
        volume_id = str(props["volume_id"])
        if volume_id in ctx.exclude_ids:
            return None
        try:
            await ctx.call(conn.compute.get_volume_attachment, props["instance_uuid"],
                           volume_id)
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise failure(exc, str(exc)) from None
        return Created(volume_id, {"server_id": props["instance_uuid"]})


__all__ = ["BackupConstraint", "SnapshotConstraint", "Volume", "VolumeAttachment",
           "VolumeConstraint", "VolumeTypeConstraint"]

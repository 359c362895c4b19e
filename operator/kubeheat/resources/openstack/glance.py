"""Glance resource type ``OS::Glance::WebImage`` and the ``glance.image`` custom constraint.

Properties follow Heat's ``glance/image.py`` (``GlanceWebImage``): the image record is created
``queued`` and its data imported by Glance itself from ``location`` (interoperable import,
``web-download``); the create waits until it is ``active`` (then deactivates it when ``active``
is false). ``tags``, the descriptive properties (architecture, os_distro ...),
``extra_properties``, ``members``, ``active`` and ``visibility`` update in place; anything
else replaces the image. The stack's tags are kept as image properties (``kubeheat-stack-id`` ...),
by which the image is found after a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from kubeheat.resources.base import (
    BOOLEAN,
    INTEGER,
    LIST,
    MAP,
    STRING,
    Attribute,
    Created,
    Observed,
    Property,
    ResourceContext,
    register,
)
from kubeheat.resources.openstack._common import (
    FinderConstraint,
    OpenStackResource,
    cloud_constraint,
    connection,
    failure,
    get_or_none,
    has_metadata,
    is_not_found,
    sdk,
    tag_metadata,
    wait_for,
)
from kubeheat.template import AllowedPatternConstraint, AllowedValuesConstraint, RangeConstraint

if TYPE_CHECKING:
    from openstack.image.v2._proxy import Proxy as ImageProxy

_UUID = ("^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}"
         "-([0-9a-fA-F]){12}$")
#: properties written to Glance under their own names, updated with a PATCH
_PLAIN = ("architecture", "kernel_id", "os_distro", "os_version", "owner", "visibility",
          "ramdisk_id")


@cloud_constraint
class ImageConstraint(FinderConstraint):
    name = "glance.image"
    description = "An image (name or id) that exists in the cloud."
    entity = "Image"
    finder = "image.find_image"


def _props_of(image: Any) -> dict[str, Any]:
    """An image's custom properties (where the kubeheat tags live)."""
    found = dict(getattr(image, "properties", None) or {})
    return found


@register
class WebImage(OpenStackResource):
    type_name = "OS::Glance::WebImage"
    description = "A Glance image whose data Glance downloads from a URL (web-download import)."
    proxy = "image"
    entity = "image"
    listing = "images"
    tagged = True
    properties = {
        "name": Property(STRING, "Name for the image. The name of an image is not unique to a "
                         "Image Service node."),
        "id": Property(STRING, "The image ID. Glance will generate a UUID if not specified."),
        "min_disk": Property(INTEGER, "Amount of disk space (in GB) required to boot image. "
                             "0 means no limit on the disk size.", default=0,
                             constraints=(RangeConstraint(min=0),)),
        "min_ram": Property(INTEGER, "Amount of ram (in MB) required to boot image. 0 means no "
                            "limit on the ram size.", default=0,
                            constraints=(RangeConstraint(min=0),)),
        "protected": Property(BOOLEAN, "Whether the image can be deleted. If the value is "
                              "True, the image is protected and cannot be deleted.",
                              default=False),
        "disk_format": Property(STRING, "Disk format of image.", required=True,
                                constraints=(AllowedValuesConstraint(allowed=(
                                    "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw",
                                    "qcow2", "vdi", "iso", "ploop")),)),
        "container_format": Property(STRING, "Container format of image.", required=True,
                                     constraints=(AllowedValuesConstraint(allowed=(
                                         "ami", "ari", "aki", "bare", "ovf", "ova",
                                         "docker")),)),
        "location": Property(STRING, "URL where the data for this image already resides; "
                             "Glance downloads it (web-download import).", required=True),
        "tags": Property(LIST, "List of image tags.", update_allowed=True,
                         item=Property(STRING)),
        "architecture": Property(STRING, "Operating system architecture.",
                                 update_allowed=True),
        "kernel_id": Property(STRING, "ID of image stored in Glance that should be used as the "
                              "kernel when booting an AMI-style image.", update_allowed=True,
                              constraints=(AllowedPatternConstraint(pattern=_UUID),)),
        "os_distro": Property(STRING, "The common name of the operating system distribution "
                              "in lowercase.", update_allowed=True),
        "os_version": Property(STRING, "Operating system version as specified by the "
                               "distributor.", update_allowed=True),
        "owner": Property(STRING, "Owner of the image.", update_allowed=True),
        "visibility": Property(STRING, "Scope of image accessibility.", default="private",
                               update_allowed=True,
                               constraints=(AllowedValuesConstraint(allowed=(
                                   "public", "private", "community", "shared")),)),
        "ramdisk_id": Property(STRING, "ID of image stored in Glance that should be used as "
                               "the ramdisk when booting an AMI-style image.",
                               update_allowed=True,
                               constraints=(AllowedPatternConstraint(pattern=_UUID),)),
        "extra_properties": Property(MAP, "Arbitrary properties to associate with the image.",
                                     default={}, update_allowed=True),
        "active": Property(BOOLEAN, "Activate or deactivate the image (administrators only).",
                           default=True, update_allowed=True),
        "members": Property(LIST, "Additional members (project or user ids) permitted to read "
                            "the image (visibility shared).", update_allowed=True,
                            item=Property(STRING)),
    }
    attributes = {
        "status": Attribute("The status of the image.", STRING),
        "checksum": Attribute("The checksum of the image data.", STRING),
        "size": Attribute("The size of the image data in bytes.", INTEGER),
    }

    def _proxy(self, ctx: ResourceContext) -> ImageProxy:
        """Glance v2's proxy (the web-download import and tags are v2 calls)."""
        return cast("ImageProxy", connection(ctx).image)

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        from openstack.image.v2.image import Image

        images = self._proxy(ctx)
        attrs: dict[str, Any] = {
            "name": self._name(ctx, props),
            "disk_format": props["disk_format"], "container_format": props["container_format"],
            "min_disk": props["min_disk"], "min_ram": props["min_ram"],
            "is_protected": bool(props["protected"]), "tags": list(props.get("tags") or []),
        }
        if props.get("id"):
            attrs["id"] = props["id"]
        for key in _PLAIN:
            if props.get(key) is not None:
                attrs[key] = props[key]
        image = Image.new(**attrs)
        image.properties = {**dict(props.get("extra_properties") or {}), **tag_metadata(ctx)}
        image = await sdk(ctx, image.create, images)
        for member in props.get("members") or ():
            await sdk(ctx, images.add_member, image, member=member)
        return Created(str(image.id))

    @classmethod
    def check_values(cls, values: Mapping[str, Any]) -> tuple[str, str] | None:
        """Heat: members only for a shared image."""
        if values.get("members") and values.get("visibility") not in (None, "shared"):
            return ("members", "members property should only be specified for visibility "
                    "with value shared.")
        return None

    async def check_create_complete(self, ctx: ResourceContext, props: dict[str, Any]) -> bool:
        images = self._proxy(ctx)
        iid = ctx.physical_id
        assert iid is not None
        # the import starts here, so a create interrupted before it is completed on adoption
        image = await sdk(ctx, images.get_image, iid)
        if image.status == "queued":
            try:
                await ctx.call(images.import_image, image, method="web-download",
                               uri=props["location"])
            except Exception as exc:
                if getattr(exc, "status_code", None) != 409:
                    raise failure(exc) from None
        if image.status == "deactivated" and props.get("active") is False:
            return True
        image = await wait_for(ctx, lambda: images.get_image(iid), done=("active",),
                               failed=("killed", "deleted", "deactivated"), what="image")
        if props.get("active") is False:
            await sdk(ctx, images.deactivate_image, iid)
        return image is not None

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        images = self._proxy(ctx)
        iid = ctx.physical_id
        if "tags" in changed:
            before, after = set(old.get("tags") or ()), set(new.get("tags") or ())
            for tag in sorted(after - before):
                await sdk(ctx, images.add_tag, iid, tag)
            for tag in sorted(before - after):
                try:
                    await ctx.call(images.remove_tag, iid, tag)
                except Exception as exc:
                    if not is_not_found(exc):
                        raise
        patch = {k: new.get(k) for k in _PLAIN if k in changed and new.get(k) is not None}
        if "extra_properties" in changed:
            was: dict[str, Any] = dict(old.get("extra_properties") or {})
            now: dict[str, Any] = dict(new.get("extra_properties") or {})
            patch.update({k: v for k, v in now.items() if was.get(k) != v})
            gone = [{"op": "remove", "path": f"/{k}"} for k in sorted(set(was) - set(now))]
            if gone:
                await sdk(ctx, images.patch, f"/images/{iid}", json=gone, headers={
                    "Content-Type": "application/openstack-images-v2.1-json-patch"})
        if patch:
            await sdk(ctx, images.update_image, iid, **patch)
        if "members" in changed:
            before_m, after_m = set(old.get("members") or ()), set(new.get("members") or ())
            for member in sorted(after_m - before_m):
                await sdk(ctx, images.add_member, iid, member=member)
            for member in sorted(before_m - after_m):
                await sdk(ctx, images.remove_member, member, iid)
        if "active" in changed:
            await sdk(ctx, images.reactivate_image if new.get("active") is not False
                      else images.deactivate_image, iid)
        return None

    async def _observation(self, ctx: ResourceContext, props: Mapping[str, Any], image: Any,
                           *, batch: bool = False) -> Observed | None:
        status = str(image.status or "")
        if status in ("deleted", "pending_delete"):
            return None
        active = status != "deactivated"
        if status == "killed":
            return Observed(status=status, failed="The image import failed (status killed)")
        observed: dict[str, Any] = {
            "min_disk": image.min_disk, "min_ram": image.min_ram,
            "protected": bool(image.is_protected), "visibility": image.visibility,
        }
        tags = sorted(image.tags or [])
        observed["tags"] = props.get("tags") if sorted(props.get("tags") or []) == tags \
            else tags
        if status in ("active", "deactivated"):
            observed["active"] = active
        extra = props.get("extra_properties") or {}
        if extra:
            found = {k: _props_of(image)[k] if k in _props_of(image)
                     else getattr(image, k, None) for k in extra}
            observed["extra_properties"] = extra if all(
                found.get(k) == v for k, v in extra.items()) else {
                    k: found.get(k) for k in extra}
        return Observed(properties=observed, attributes=self._attrs(image), status=status)

    def _attrs(self, image: Any) -> dict[str, Any]:
        return {"status": image.status, "checksum": image.checksum, "size": image.size,
                "show": image.to_dict(computed=False, original_names=True)}

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        images = self._proxy(ctx)
        return self._attrs(await sdk(ctx, images.get_image, ctx.physical_id))

    async def _candidates(self, ctx: ResourceContext, props: Mapping[str, Any]) -> list[Any]:
        """The image of the template's ``id``, else every image."""
        if props.get("id"):
            image = await get_or_none(ctx, self._call(ctx, "get"), props["id"])
            return [] if image is None else [image]
        return await self._list(ctx)

    def _adoptable(self, ctx: ResourceContext, obj: Any) -> bool:
        return has_metadata(_props_of(obj), ctx) \
            and obj.status not in ("deleted", "pending_delete", "killed")


__all__ = ["ImageConstraint", "WebImage"]

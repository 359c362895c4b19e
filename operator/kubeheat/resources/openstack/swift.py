"""Swift resource type ``OS::Swift::Container``.

Properties and attributes follow Heat's ``swift/container.py``. The physical id is the
container's name; the stack's tags are container metadata (``X-Container-Meta-Kubeheat-...``),
by which the container is found after a crash.

Difference from Heat on purpose: Heat replaces the container for any change; kubeheat updates
the ACLs (``X-Container-Read``/``X-Container-Write``) and the ``X-Container-Meta`` /
``X-Account-Meta`` metadata in place (replacing a container to change an ACL would lose its
objects, or fail when it is not empty).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from kubeheat.resources.base import (
    BOOLEAN,
    INTEGER,
    MAP,
    STRING,
    Attribute,
    Created,
    Observed,
    Property,
    ResourceContext,
    ResourceFailure,
    register,
)
from kubeheat.resources.openstack._common import (
    TAG_KEYS,
    OpenStackResource,
    connection,
    delete_quietly,
    failure,
    get_or_none,
    has_metadata,
    is_not_found,
    sdk,
    tag_metadata,
)

if TYPE_CHECKING:
    from openstack.connection import Connection


def _lower(meta: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (meta or {}).items()}


def _user_meta(meta: Mapping[str, Any] | None) -> dict[str, str]:
    return {k: v for k, v in _lower(meta).items() if k not in TAG_KEYS}


@register
class Container(OpenStackResource):
    type_name = "OS::Swift::Container"
    description = "A Swift object storage container."
    proxy = "object_store"
    entity = "container"
    properties = {
        "name": Property(STRING, "Name for container. If not specified, a unique name will be "
                         "generated."),
        "X-Container-Read": Property(STRING, "Specify the ACL permissions on who can read "
                                     "objects in the container.", update_allowed=True),
        "X-Container-Write": Property(STRING, "Specify the ACL permissions on who can write "
                                      "objects to the container.", update_allowed=True),
        "X-Container-Meta": Property(MAP, "A map of user-defined meta data to associate with "
                                     "the container. Each key in the map will set the header "
                                     "X-Container-Meta-{key} with the corresponding value.",
                                     default={}, update_allowed=True),
        "X-Account-Meta": Property(MAP, "A map of user-defined meta data to associate with the "
                                   "account. Each key in the map will set the header "
                                   "X-Account-Meta-{key} with the corresponding value.",
                                   default={}, update_allowed=True),
        "PurgeOnDelete": Property(BOOLEAN, "If True, delete any objects in the container when "
                                  "the container is deleted. Otherwise, deleting a non-empty "
                                  "container will result in an error.", default=False,
                                  update_allowed=True),
    }
    attributes = {
        "DomainName": Attribute("The host from the container URL.", STRING),
        "WebsiteURL": Attribute("The URL of the container.", STRING),
        "RootURL": Attribute("The parent URL of the container.", STRING),
        "ObjectCount": Attribute("The number of objects stored in the container.", INTEGER),
        "BytesUsed": Attribute("The number of bytes stored in the container.", INTEGER),
        "HeadContainer": Attribute("A map containing all headers for the container.", MAP),
    }

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        conn = connection(ctx)
        name = self._name(ctx, props)
        meta: dict[str, Any] = {**{str(k): str(v) for k, v in
                                   (props.get("X-Container-Meta") or {}).items()},
                                **tag_metadata(ctx)}
        acls: dict[str, Any] = {}
        if props.get("X-Container-Read") is not None:
            acls["read_ACL"] = props["X-Container-Read"]
        if props.get("X-Container-Write") is not None:
            acls["write_ACL"] = props["X-Container-Write"]
        from openstack.object_store.v1.container import Container as SdkContainer

        # openstacksdk's Container keeps a class-level ``metadata`` dict that the metadata=
        # argument mutates (and every request sends): give this one its own dict instead
        container = SdkContainer.new(name=name, **acls)
        container.metadata = dict(meta)
        await sdk(ctx, container.create, conn.object_store)
        if props.get("X-Account-Meta"):
            await sdk(ctx, conn.object_store.set_account_metadata,
                      **{str(k): str(v) for k, v in props["X-Account-Meta"].items()})
        return Created(name, {"name": name})

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        conn = connection(ctx)
        name = ctx.physical_id
        if changed & {"X-Container-Meta", "X-Container-Read", "X-Container-Write"}:
            head = await sdk(ctx, conn.object_store.get_container_metadata, name)
            wanted = {str(k).lower(): str(v)
                      for k, v in (new.get("X-Container-Meta") or {}).items()}
            stale = [k for k in _user_meta(head.metadata) if k not in wanted]
            if stale:
                await sdk(ctx, conn.object_store.delete_container_metadata, name, stale)
            meta: dict[str, Any] = {**wanted, **tag_metadata(ctx)}
            # an empty ACL header removes the ACL
            meta["read_ACL"] = new.get("X-Container-Read") or ""
            meta["write_ACL"] = new.get("X-Container-Write") or ""
            await sdk(ctx, conn.object_store.set_container_metadata, name, refresh=False,
                      **meta)
        if "X-Account-Meta" in changed:
            before = {str(k) for k in (old.get("X-Account-Meta") or {})}
            after = {str(k): str(v) for k, v in (new.get("X-Account-Meta") or {}).items()}
            gone = sorted(before - set(after))
            if gone:
                await sdk(ctx, conn.object_store.delete_account_metadata, gone)
            if after:
                await sdk(ctx, conn.object_store.set_account_metadata, **after)
        return None

    async def _fetch(self, ctx: ResourceContext) -> Any | None:
        """The container's metadata (a HEAD)."""
        return await get_or_none(ctx, self._proxy(ctx).get_container_metadata,
                                 ctx.physical_id)

    async def _observation(self, ctx: ResourceContext, props: Mapping[str, Any], head: Any,
                           *, batch: bool = False) -> Observed:
        meta = _user_meta(head.metadata)
        wanted = props.get("X-Container-Meta") or {}
        observed: dict[str, Any] = {
            "X-Container-Meta": wanted if meta == _lower(wanted) else meta,
            "X-Container-Read": head.read_ACL or None
            if props.get("X-Container-Read") is None else head.read_ACL,
            "X-Container-Write": head.write_ACL or None
            if props.get("X-Container-Write") is None else head.write_ACL,
        }
        return Observed(properties=observed, attributes=self._attrs(connection(ctx), head))

    def _attrs(self, conn: Connection, head: Any) -> dict[str, Any]:
        endpoint = str(conn.object_store.get_endpoint()).rstrip("/")
        parsed = urlparse(endpoint)
        headers = {k: v for k, v in dict(getattr(head, "_last_headers", None) or {}).items()}
        if not headers:
            headers = {"x-container-object-count": head.object_count,
                       "x-container-bytes-used": head.bytes_used}
        return {
            "DomainName": parsed.netloc,
            "WebsiteURL": f"{endpoint}/{head.name}",
            "RootURL": endpoint,
            "ObjectCount": int(head.object_count or 0),
            "BytesUsed": int(head.bytes_used or 0),
            "HeadContainer": headers,
        }

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        conn = connection(ctx)
        head = await sdk(ctx, conn.object_store.get_container_metadata, ctx.physical_id)
        attrs = self._attrs(conn, head)
        attrs["show"] = attrs["HeadContainer"]
        return attrs

    async def delete(self, ctx: ResourceContext, props: dict[str, Any]) -> None:
        conn = connection(ctx)
        name = ctx.physical_id
        if name is None:
            return
        try:
            objects = await ctx.call(lambda: list(conn.object_store.objects(name)))
        except Exception as exc:
            if is_not_found(exc):
                return
            raise failure(exc, str(exc)) from None
        if objects:
            if not props.get("PurgeOnDelete"):
                raise ResourceFailure(f"Conflict: Container {name} is not empty: it holds "
                                      f"{len(objects)} objects (set PurgeOnDelete to delete "
                                      "them with it).")
            for obj in objects:
                await delete_quietly(ctx, conn.object_store.delete_object, obj,
                                     container=name, ignore_missing=False)
        await delete_quietly(ctx, conn.object_store.delete_container, name,
                             ignore_missing=False)

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        conn = connection(ctx)
        name = self._name(ctx, props)
        if name in ctx.exclude_ids:
            return None
        try:
            head = await ctx.call(conn.object_store.get_container_metadata, name)
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise failure(exc, str(exc)) from None
        if not has_metadata(_lower(head.metadata), ctx):
            return None
        return Created(name, {"name": name})


__all__ = ["Container"]

"""``OS::Nova::KeyPair``: a Nova SSH key pair, imported or generated (the private key kept in
the resource's private data when asked)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeheat.resources.base import (
    BOOLEAN,
    STRING,
    Attribute,
    Created,
    Observed,
    Property,
    ResourceContext,
    register,
)
from kubeheat.resources.openstack._common import (
    OpenStackResource,
    allowed,
    connection,
    delete_quietly,
    failure,
    get_or_none,
    is_not_found,
    sdk,
)
from kubeheat.template import LengthConstraint


@register
class KeyPair(OpenStackResource):
    """The physical id is the key pair's name. Key pairs carry no tags: after a crash the pair
    of the template's name is adopted when its public key is the one asked for, or when no
    private key had to be kept."""

    type_name = "OS::Nova::KeyPair"
    description = "A Nova SSH key pair; imports public_key, or generates a key pair."
    proxy = "compute"
    entity = "keypair"
    properties = {
        "name": Property(STRING, "The name of the key pair.", required=True,
                         constraints=(LengthConstraint(min=1, max=255),)),
        "save_private_key": Property(BOOLEAN, "True if the system should remember a generated "
                                     "private key; False otherwise.", default=False),
        "type": Property(STRING, "Keypair type.", constraints=(allowed("ssh", "x509"),)),
        "public_key": Property(STRING, "The optional public key. This allows users to supply "
                               "the public key from a pre-existing key pair. If not supplied, "
                               "a new key pair will be generated."),
        "user": Property(STRING, "ID or name of user to whom to add key-pair."),
    }
    attributes = {
        "public_key": Attribute("The public key.", STRING),
        "private_key": Attribute("The private key if it has been saved.", STRING),
    }

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        conn = connection(ctx)
        attrs: dict[str, Any] = {"name": props["name"]}
        if props.get("public_key"):
            attrs["public_key"] = props["public_key"]
        if props.get("type"):
            attrs["type"] = props["type"]
        if props.get("user"):
            attrs["user_id"] = props["user"]
        keypair = await sdk(ctx, conn.compute.create_keypair, **attrs)
        data: dict[str, Any] = {"public_key": keypair.public_key}
        if props.get("save_private_key") and getattr(keypair, "private_key", None):
            # kept in the resource's private data only; never logged, never in events
            data["private_key"] = keypair.private_key
        return Created(str(keypair.name), data)

    async def read(self, ctx: ResourceContext, props: dict[str, Any]) -> Observed | None:
        keypair = await get_or_none(ctx, self._call(ctx, "get"), ctx.physical_id,
                                    **_user(props))
        if keypair is None:
            return None
        observed: dict[str, Any] = {}
        if props.get("public_key") is not None:
            observed["public_key"] = props["public_key"] \
                if _same_key(keypair.public_key, props["public_key"]) else keypair.public_key
        elif ctx.data.get("public_key") and keypair.public_key != ctx.data["public_key"]:
            observed["public_key"] = keypair.public_key
        return Observed(properties=observed, attributes={"public_key": keypair.public_key})

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        return {"public_key": ctx.data.get("public_key"),
                "private_key": ctx.data.get("private_key", "")}

    async def delete(self, ctx: ResourceContext, props: dict[str, Any]) -> None:
        await delete_quietly(ctx, self._call(ctx, "delete"), ctx.physical_id,
                             ignore_missing=False, **_user(props))

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        try:
            keypair = await ctx.call(self._call(ctx, "get"), props["name"])
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise failure(exc, str(exc)) from None
        if keypair.name in ctx.exclude_ids:
            return None
        if props.get("public_key"):
            if not _same_key(keypair.public_key, props["public_key"]):
                return None
        elif props.get("save_private_key"):
            return None  # its private key was lost with the crash: creating says "exists"
        return Created(str(keypair.name), {"public_key": keypair.public_key})


def _user(props: Mapping[str, Any]) -> dict[str, Any]:
    """The ``user_id`` argument of the key pair calls, when the template names a user."""
    return {"user_id": props["user"]} if props.get("user") else {}


def _same_key(a: str | None, b: str | None) -> bool:
    """Public keys compared on type and key material (the comment may differ)."""
    return (a or "").split()[:2] == (b or "").split()[:2]

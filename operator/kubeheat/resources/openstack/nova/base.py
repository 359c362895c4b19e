"""What the Nova types share: the ``nova.flavor``, ``nova.keypair`` and ``nova.server`` custom
constraints, and the cached name -> id lookups of flavors and images (a server's create, its
update and its block devices name them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kubeheat.resources.base import ResourceContext, ResourceFailure
from kubeheat.resources.openstack._common import FinderConstraint, cached_id, cloud_constraint

if TYPE_CHECKING:
    from openstack.connection import Connection


@cloud_constraint
class FlavorConstraint(FinderConstraint):
    name = "nova.flavor"
    description = "A flavor (name or id) that exists in the cloud."
    entity = "Flavor"
    finder = "compute.find_flavor"


@cloud_constraint
class KeypairConstraint(FinderConstraint):
    name = "nova.keypair"
    description = "A key pair (name) that exists in the cloud."
    entity = "Key"
    finder = "compute.find_keypair"


@cloud_constraint
class ServerConstraint(FinderConstraint):
    name = "nova.server"
    description = "A server (name or id) that exists in the cloud."
    entity = "Server"
    finder = "compute.find_server"


async def _lookup(ctx: ResourceContext, kind: str, ref: str, find: Callable[[], Any]) -> str:
    found = await cached_id(ctx, kind, ref, find)
    if found is None:
        raise ResourceFailure(f"The {kind.capitalize()} ({ref}) could not be found.")
    return found


async def lookup_flavor(ctx: ResourceContext, conn: Connection, ref: str) -> str:
    """The id of the flavor named or identified by ``ref`` (cached per cloud)."""
    return await _lookup(ctx, "flavor", ref,
                         lambda: conn.compute.find_flavor(ref, ignore_missing=True))


async def lookup_image(ctx: ResourceContext, conn: Connection, ref: str) -> str:
    """The id of the image named or identified by ``ref`` (cached per cloud)."""
    return await _lookup(ctx, "image", ref,
                         lambda: conn.image.find_image(ref, ignore_missing=True))

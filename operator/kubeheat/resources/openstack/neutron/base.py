"""What the Neutron types share: the ``neutron.*`` custom constraints, finding and resolving
objects by name or id, the drift comparison in the template's terms, and :class:`NeutronResource`
(tags set after the create, a status to wait for, updates by the SDK's naming)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from kubeheat.resources.base import (
    LIST,
    MAP,
    STRING,
    TAG_STACK_ID,
    Created,
    Observed,
    Property,
    ResourceContext,
    ResourceFailure,
)
from kubeheat.resources.openstack._common import (
    FinderConstraint,
    ListedResource,
    cloud_constraint,
    connection,
    failure,
    is_not_found,
    pick_existing,
    sdk,
    tag_list,
)

if TYPE_CHECKING:
    from openstack.network.v2._proxy import Proxy as NetworkProxy

# -------------------------------------------------------------------------------------------
# custom constraints answered by the cloud
# -------------------------------------------------------------------------------------------


@cloud_constraint
class NetworkConstraint(FinderConstraint):
    name = "neutron.network"
    description = "A Neutron network, by name or id"
    entity = "Network"
    finder = "network.find_network"
    ambiguous_is_found = True


@cloud_constraint
class SubnetConstraint(FinderConstraint):
    name = "neutron.subnet"
    description = "A Neutron subnet, by name or id"
    entity = "Subnet"
    finder = "network.find_subnet"
    ambiguous_is_found = True


@cloud_constraint
class PortConstraint(FinderConstraint):
    name = "neutron.port"
    description = "A Neutron port, by name or id"
    entity = "Port"
    finder = "network.find_port"
    ambiguous_is_found = True


@cloud_constraint
class RouterConstraint(FinderConstraint):
    name = "neutron.router"
    description = "A Neutron router, by name or id"
    entity = "Router"
    finder = "network.find_router"
    ambiguous_is_found = True


@cloud_constraint
class SubnetPoolConstraint(FinderConstraint):
    name = "neutron.subnetpool"
    description = "A Neutron subnet pool, by name or id"
    entity = "Subnet Pool"
    finder = "network.find_subnet_pool"
    ambiguous_is_found = True


@cloud_constraint
class SegmentConstraint(FinderConstraint):
    name = "neutron.segment"
    description = "A Neutron network segment, by name or id"
    entity = "Segment"
    finder = "network.find_segment"
    ambiguous_is_found = True


@cloud_constraint
class SecurityGroupConstraint(FinderConstraint):
    name = "neutron.security_group"
    description = "A Neutron security group, by name or id"
    entity = "Security Group"
    finder = "network.find_security_group"
    ambiguous_is_found = True


# -------------------------------------------------------------------------------------------
# helpers
# -------------------------------------------------------------------------------------------

#: what a resource's ``status`` must not be (Neutron reports ERROR for failed objects)
_FAILED = "ERROR"
_BUILDING = frozenset({"BUILD", "PENDING_CREATE"})


def network_proxy(ctx: ResourceContext) -> NetworkProxy:
    """The openstacksdk network proxy of the stack's cloud."""
    return connection(ctx).network


def api_dict(obj: Any) -> dict[str, Any]:
    """An SDK object as the API shows it (wire names, no headers, no computed fields)."""
    out: dict[str, Any] = obj.to_dict(body=True, headers=False, computed=False,
                                      original_names=True)
    return out


async def find(ctx: ResourceContext, kind: str, value: str) -> Any:
    """The Neutron object of ``kind`` named (or identified) by ``value``; a failure naming it
    when there is none, or several with that name."""
    from openstack import exceptions

    finder = getattr(network_proxy(ctx), f"find_{kind}")
    what = kind.replace("_", " ")
    try:
        found = await ctx.call(finder, value, ignore_missing=False)
    except exceptions.DuplicateResource:
        raise ResourceFailure(f"Multiple {what} matches found for name '{value}', use an ID "
                              "to be more specific.") from None
    except Exception as exc:
        if not is_not_found(exc):
            raise failure(exc) from None
        found = None
    if found is None:
        raise ResourceFailure(f"Unable to find {what} with name or id '{value}'")
    return found


async def resolve(ctx: ResourceContext, kind: str, value: Any) -> str | None:
    """The id of the object named or identified by ``value`` (None stays None)."""
    if value is None or value == "":
        return None
    return str((await find(ctx, kind, str(value))).id)


def same(applied: Any, observed: Any) -> bool:
    """Equal as Neutron means it: lists compare as sets (of their items' non-null keys), maps
    by their non-null keys."""
    return bool(_norm(applied) == _norm(observed))


def _norm(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _norm(v)) for k, v in value.items() if v is not None))
    if isinstance(value, list | tuple):
        return tuple(sorted((_norm(v) for v in value), key=repr))
    return value


def observe(applied: Mapping[str, Any], observed: Mapping[str, Any]) -> dict[str, Any]:
    """The observed values of the properties the template set: the applied value itself when
    the cloud agrees (so only real differences show as drift), else what the cloud has."""
    out: dict[str, Any] = {}
    for key, value in observed.items():
        want = applied.get(key)
        if want is None:
            continue
        out[key] = want if same(want, value) else value
    return out


def _user_tags(tags: Iterable[str] | None, ctx: ResourceContext) -> list[str]:
    """The template's tags on an object: everything but the ones kubeheat writes."""
    ours = set(tag_list(ctx))
    return sorted(t for t in (tags or ()) if t not in ours)


def extension_values(raw: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """Fields an API extension adds (port security, DNS, bindings): observed only when the
    cloud shows them, so a cloud without the extension (or a policy hiding it) is no drift."""
    return {k: raw[k] for k in keys if raw.get(k) is not None}


def marker(ctx: ResourceContext) -> str:
    """This resource's tags as one string: the description of what cannot carry tags (or
    cannot carry them from the moment it is made)."""
    return ",".join(tag_list(ctx))


def value_specs(props: Mapping[str, Any]) -> dict[str, Any]:
    specs = props.get("value_specs")
    return dict(specs) if isinstance(specs, Mapping) else {}


# -------------------------------------------------------------------------------------------
# the shared base
# -------------------------------------------------------------------------------------------


class NeutronResource(ListedResource):
    """What the Neutron types share: tags set after the create, a status to wait for, reads
    that fail with the cloud's message, updates by the SDK's naming, drift in the template's
    terms."""

    proxy = "network"
    tagged = True
    wrap_read_errors = True
    #: the object has a ``status`` that must reach a built state
    has_status: ClassVar[bool] = True
    #: a network's subnets, a port's addresses, a floating IP's association ... change after
    #: the object's own create: the engine re-reads the attributes when they may have
    live_attributes = True

    # -- SDK plumbing ------------------------------------------------------------------------
    async def _tag(self, ctx: ResourceContext, obj: Any, user_tags: Iterable[str] | None
                   ) -> None:
        """Set the object's tags: the template's plus the ones that find it after a crash."""
        if obj is None:
            obj = await self._fetch(ctx)
            if obj is None:
                raise ResourceFailure(f"The {self.entity.replace('_', ' ')} "
                                      f"{ctx.physical_id} could not be found.")
        tags = sorted(set(user_tags or ()) | set(tag_list(ctx)))
        await sdk(ctx, network_proxy(ctx).set_tags, obj, tags)

    # -- handlers ----------------------------------------------------------------------------
    async def check_create_complete(self, ctx: ResourceContext, props: dict[str, Any]) -> bool:
        if not self.has_status:
            return True
        obj = await self._fetch(ctx)
        if obj is None:
            raise ResourceFailure(f"The {self.entity.replace('_', ' ')} disappeared while "
                                  "being created")
        status = str(getattr(obj, "status", "") or "").upper()
        if status == _FAILED:
            raise ResourceFailure(f"Went to status {status} due to \"Unknown\"")
        return status not in _BUILDING

    async def _untagged(self, ctx: ResourceContext, props: Mapping[str, Any]) -> Any | None:
        """Made, but the create was interrupted before it was tagged: found by the name (or
        description) only this stack's resource of that name has, when untagged."""
        fallback = self._fallback_query(ctx, props)
        if not fallback:
            return None
        items = await self._list(ctx, **fallback)
        found = pick_existing((i for i in items if not any(
            str(t).startswith(f"{TAG_STACK_ID}=") for t in i.tags or ())), ctx)
        if found is not None:
            await self._tag(ctx, found, props.get("tags"))
        return found

    def _fallback_query(self, ctx: ResourceContext, props: Mapping[str, Any]
                        ) -> dict[str, str] | None:
        """A listing filter matching only what this resource's own create makes (the
        generated name, when the template sets none)."""
        if "name" in self.properties and not props.get("name"):
            return {"name": ctx.physical_name(255)}
        return None

    async def _adopt(self, ctx: ResourceContext, props: Mapping[str, Any], obj: Any
                     ) -> Created:
        return Created(str(obj.id), await self._data(ctx, props))

    async def _observation(self, ctx: ResourceContext, props: Mapping[str, Any], obj: Any, *,
                           batch: bool = False) -> Observed:
        raw = api_dict(obj)
        status = str(raw.get("status") or "OK")
        failed = f"Went to status {status}" if status.upper() == _FAILED else None
        observed = observe(props, await self._observed(ctx, props, raw))
        attributes = await (self._listed_attributes(ctx, raw) if batch
                            else self._attributes(ctx, raw))
        return Observed(properties=observed, attributes=attributes, status=status,
                        failed=failed)

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        obj = await self._fetch(ctx)
        if obj is None:
            return {}
        return await self._attributes(ctx, api_dict(obj))

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        if ctx.physical_id is None:
            raise ResourceFailure("The resource was never created")
        body = await self._update_body(ctx, old, new, changed)
        if "value_specs" in changed:
            body.update(value_specs(new))
        if body:
            await self._send(ctx, self._call(ctx, "update"), ctx.physical_id, **body)
        if self.tagged and "tags" in changed:
            await self._tag(ctx, None, new.get("tags"))
        return await self._data(ctx, new)

    # -- per type ----------------------------------------------------------------------------
    async def _send(self, ctx: ResourceContext, fn: Callable[..., Any], *args: Any,
                    **kwargs: Any) -> Any:
        """A create or update call."""
        return await sdk(ctx, fn, *args, **kwargs)

    async def _data(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        """Private data kept with the resource (ids the template's names resolved to)."""
        return {}

    async def _observed(self, ctx: ResourceContext, props: Mapping[str, Any],
                        raw: Mapping[str, Any]) -> dict[str, Any]:
        """The cloud's values of the observable properties (before :func:`observe`)."""
        return {}

    async def _attributes(self, ctx: ResourceContext, raw: Mapping[str, Any]
                          ) -> dict[str, Any]:
        out = {name: raw.get(name) for name in self.attributes if name != "show"}
        out["show"] = dict(raw)
        return out

    async def _listed_attributes(self, ctx: ResourceContext, raw: Mapping[str, Any]
                                 ) -> dict[str, Any]:
        """The attributes :meth:`read_many` gives from a listing: those needing no further
        call (the others keep their cached values)."""
        return await self._attributes(ctx, raw)

    async def _update_body(self, ctx: ResourceContext, old: Mapping[str, Any],
                           new: Mapping[str, Any], changed: frozenset[str]) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for key in changed:
            if key in ("tags", "value_specs"):
                continue
            if key == "name":
                body["name"] = self._name(ctx, new)
            elif new.get(key) is not None:    # dropped from the template: left as it is
                body[key] = new[key]
        return body

    def _tags_observed(self, ctx: ResourceContext, raw: Mapping[str, Any]) -> dict[str, Any]:
        if not self.tagged or "tags" not in self.properties:
            return {}
        return {"tags": _user_tags(raw.get("tags"), ctx)}


TAGS = Property(LIST, "The tags to be added to the resource.", update_allowed=True,
                item=Property(STRING))
VALUE_SPECS = Property(MAP, "Extra parameters to include in the request. Parameters are often "
                       "specific to installed hardware or extensions.", default={},
                       update_allowed=True)

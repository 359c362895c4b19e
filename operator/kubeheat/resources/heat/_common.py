"""Shared machinery of Heat's own resource types: a record in the native store per resource.

Every type here keeps its "physical" object as one record of kind ``type_name`` in
:attr:`ResourceContext.native`, tagged with :attr:`ResourceContext.tags`. The record id is the
physical id. What ``get_resource`` returns (Heat's reference id) is not always the physical id:
:meth:`NativeResource.reference` gives it, and create/find_existing also put it in
``Created.data["reference"]``.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeheat.resources.base import (
    Created,
    NativeStore,
    Observed,
    ResourceContext,
    ResourceFailure,
    ResourcePlugin,
    heat_physical_name,
    short_id,
)

#: key of ``Created.data`` / ``ctx.data`` holding what ``get_resource`` returns
REFERENCE = "reference"


def store(ctx: ResourceContext) -> NativeStore:
    """The native store, or a failure naming what is missing."""
    if ctx.native is None:
        raise ResourceFailure(f"{ctx.type} needs a native store and the engine gave none")
    return ctx.native


async def bounded_sleep(ctx: ResourceContext, seconds: float) -> None:
    """Sleep ``seconds`` (negative: forever), never past the stack's deadline.

    When the deadline comes first, sleep until it and fail with Heat's "Timed out".
    """
    wanted = math.inf if seconds < 0 else float(seconds)
    remaining = ctx.remaining()
    timed_out = remaining is not None and wanted > remaining
    limit = wanted if remaining is None else min(wanted, max(remaining, 0.0))
    if limit <= 0:
        await asyncio.sleep(0)  # let other tasks run, as a real cloud call would
    while limit > 0:
        step = min(limit, 3600.0)
        await asyncio.sleep(step)
        limit -= step
    if timed_out:
        raise ResourceFailure("Timed out")


class NativeResource(ResourcePlugin):
    """A resource whose object is a record in the native store.

    Subclasses implement :meth:`build` (the record's data from the properties) and may override
    :meth:`attrs_from` (attribute values from the record) and :meth:`reference_from`.
    """

    #: the form of a new record's id (the physical id), Heat's for the type: ``"uuid"`` (None,
    #: the software configs), ``"name"``: ``<stack>-<resource>-<short id>`` (Value,
    #: TestResource, RandomString), ``"user"``: 32 hex digits, the shape of the Keystone user
    #: id Heat makes for signalled types (WaitConditionHandle, ScalingPolicy)
    id_form: ClassVar[str] = "uuid"

    # -- what subclasses describe ------------------------------------------------------------
    def build(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        """The record's data for a new resource."""
        return {}

    def attrs_from(self, ctx: ResourceContext, record: Mapping[str, Any],
                   props: Mapping[str, Any]) -> dict[str, Any]:
        """Attribute values given the record."""
        return {}

    def reference_from(self, record_id: str, record: Mapping[str, Any]) -> str:
        """What ``get_resource`` returns (default: the physical id)."""
        return record_id

    # -- helpers ---------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.type_name

    def record(self, ctx: ResourceContext) -> dict[str, Any] | None:
        if ctx.physical_id is None:
            return None
        return store(ctx).get(self.kind, ctx.physical_id)

    def require_record(self, ctx: ResourceContext) -> dict[str, Any]:
        found = self.record(ctx)
        if found is None:
            raise ResourceFailure(
                f"The Resource ({ctx.name}) could not be found.")
        return found

    def created(self, record_id: str, record: Mapping[str, Any]) -> Created:
        return Created(physical_id=record_id,
                       data={REFERENCE: self.reference_from(record_id, record)})

    def reference(self, ctx: ResourceContext) -> str | None:
        """What ``get_resource`` returns for this resource (None before it exists).

        Read from ``ctx.data`` (as create/find_existing returned it), else from the record.
        """
        saved = ctx.data.get(REFERENCE)
        if isinstance(saved, str):
            return saved
        if ctx.physical_id is None:
            return None
        found = self.record(ctx) if ctx.native is not None else None
        if found is None:
            return ctx.physical_id
        return self.reference_from(ctx.physical_id, found)

    # -- handlers --------------------------------------------------------------------------
    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        data = self.build(ctx, props)
        record_id = store(ctx).put(self.kind, ctx.tags, data, self.new_record_id(ctx))
        return self.created(record_id, data)

    def new_record_id(self, ctx: ResourceContext) -> str | None:
        """The id of a new record (None: the store's uuid). Records made before a crash are
        found through their tags whatever their id, and those of older releases keep theirs."""
        if self.id_form == "name":
            return heat_physical_name(ctx.stack_name, ctx.name, short_id())
        if self.id_form == "user":
            return uuid.uuid4().hex
        return None

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        native = store(ctx)
        for record_id in native.find(self.kind, ctx.tags):
            if record_id in ctx.exclude_ids:
                continue  # the resource being replaced carries the same tags
            found = native.get(self.kind, record_id)
            if found is not None:
                return self.created(record_id, found)
        return None

    async def read(self, ctx: ResourceContext, props: dict[str, Any]) -> Observed | None:
        found = self.record(ctx)
        if found is None:
            return None
        return Observed(properties={}, attributes=self.attrs_from(ctx, found, props))

    def external_record(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """The record an adopted resource (``external_id``) has: Heat keeps no data for it,
        so its attributes are those of an empty record (Value's come from its properties)."""
        return {}

    async def adopt_external(self, ctx: ResourceContext, props: dict[str, Any]
                             ) -> Observed | None:
        """Heat's own types have no object in a cloud: any external id exists."""
        return Observed(attributes=self.attrs_from(ctx, self.external_record(props), props))

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        """Default: rebuild the record from the new properties."""
        found = self.require_record(ctx)
        found.update(self.build(ctx, new))
        assert ctx.physical_id is not None  # require_record found it
        store(ctx).update(self.kind, ctx.physical_id, found)
        return None

    async def delete(self, ctx: ResourceContext, props: dict[str, Any]) -> None:
        if ctx.physical_id is not None:
            store(ctx).delete(self.kind, ctx.physical_id)

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        found = self.record(ctx)
        if found is None:
            return {}
        return self.attrs_from(ctx, found, props)

"""Actions on one resource: create (adopt or make, then wait), finish an interrupted create,
record an external resource, update in place, delete, record a no-op, and the entry moves of a
replacement.

Every action records its resource ``IN_PROGRESS`` before calling the plugin, records the
physical id the moment a create returns it, and ends ``COMPLETE`` or ``FAILED`` with Heat's
reason (``<ACTION> aborted`` when it was interrupted); a failure raises
:class:`~kubeheat.engine.request.ResourceFailed`, which stops the graph walk. Steps failing
with a :class:`~kubeheat.resources.base.TransientFailure` are tried again with a growing pause,
bounded in number and by the stack's deadline. A create call in flight when its resource is
cancelled may still answer for a grace period, and what it made is recorded, so no physical
resource is left behind unrecorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping
from typing import Any, TypeVar

from kubeheat.engine.decide import NOT_OBSERVED
from kubeheat.engine.external import (
    checks,
    external_properties,
    not_found,
    not_supported,
    recorded_external,
)
from kubeheat.engine.model import (
    ADOPT,
    CHECK,
    COMPLETE,
    CREATE,
    DELETE,
    FAILED,
    IN_PROGRESS,
    INIT,
    REPLACED_SEP,
    UPDATE,
    Action,
    ResourceState,
    StackState,
    aborted_reason,
    base_name,
    new_id,
    now,
)
from kubeheat.engine.operation import Operation
from kubeheat.engine.request import ResourceFailed, failure_reason
from kubeheat.engine.runtime import Runtime
from kubeheat.resources import (
    Created,
    Observed,
    ResourceContext,
    ResourceFailure,
    ResourcePlugin,
    TransientFailure,
    check_properties,
)
from kubeheat.template import ResourceDefinition, StackDefinition, TemplateError

T = TypeVar("T")

#: seconds between check_create_complete polls (grows to POLL_MAX)
POLL_START, POLL_MAX = 0.01, 1.0
#: how often a step failing with a TransientFailure is tried (in all), and the first and
#: longest pause between attempts (seconds); the stack's deadline bounds them too
TRANSIENT_ATTEMPTS, TRANSIENT_BACKOFF, TRANSIENT_BACKOFF_MAX = 6, 0.2, 5.0
#: how long a create call in flight when its resource is cancelled may still take to answer,
#: so that what it made is recorded (and deleted by a rollback) instead of left behind
CREATE_GRACE = 30.0


def transient_error(exc: BaseException) -> bool:
    """A failure worth retrying: a plugin's :class:`TransientFailure`, or any error carrying an
    HTTP status of 5xx or 429 that a plugin let through unwrapped."""
    if isinstance(exc, TransientFailure):
        return True
    status = getattr(exc, "status_code", None) or getattr(exc, "http_status", None)
    return isinstance(status, int) and (status >= 500 or status == 429)


def _cancel_detail(exc: BaseException) -> str:
    return str(exc.args[0]) if exc.args and exc.args[0] else ""


class ResourceActions:
    """The per-resource actions of one engine (see the module)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.recorder = runtime.recorder
        #: attempts per step failing transiently, and the first and longest pause between
        self.attempts = TRANSIENT_ATTEMPTS
        self.backoff = (TRANSIENT_BACKOFF, TRANSIENT_BACKOFF_MAX)

    # -- entries ----------------------------------------------------------------------------
    @staticmethod
    def new_record(state: StackState, name: str, rdef: ResourceDefinition) -> ResourceState:
        rec = ResourceState(name=name, type=rdef.type, action=INIT, status=COMPLETE,
                            requires=sorted(rdef.dependencies),
                            deletion_policy=rdef.deletion_policy, uid=new_id())
        state.resources[name] = rec
        return rec

    def record_new(self, op: Operation, defn: StackDefinition) -> None:
        """Record every resource the definition adds as ``INIT_COMPLETE`` before the walk,
        as Heat's convergence engine does: a resource the operation never reaches (it
        failed first) is listed so."""
        state = op.state
        added = [n for n, rdef in defn.resources.items()
                 if n not in state.resources and rdef.external_id is None]
        for name in added:
            self.new_record(state, name, defn.resources[name])
        if added:
            self.recorder.save(state)

    async def resolved(self, op: Operation, defn: StackDefinition, name: str,
                       plugin: ResourcePlugin, cloud_checks: bool
                       ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any],
                                  dict[str, Any]]:
        """The resource's checked properties (``cloud_checks``: some constraint asks the
        cloud, so checked in the thread pool), metadata and update policy, evaluated against
        the live state, and its properties as given (evaluated, before the type's checks and
        defaults); an evaluation failure fails the resource."""
        rdef = defn.resources[name]
        assert op.resolver is not None
        try:
            raw = defn.resolve_properties(name, op.resolver)
            where = rdef.key_path("properties")
            op.evaluated.admit(("resources", name), raw, where)
            if rdef.external_id is not None:    # adopted as it is: nothing checked
                props = external_properties(type(plugin), raw)
            elif cloud_checks:
                props = await self.runtime.run_sync(check_properties, type(plugin), raw, where,
                                                    constraints=op.constraints)
            else:
                props = check_properties(type(plugin), raw, where, constraints=op.constraints)
            metadata = defn.resolve(rdef.metadata, op.resolver) if rdef.metadata else {}
            op.evaluated.admit(("metadata", name), metadata, rdef.key_path("metadata"))
            policy = defn.resolve(rdef.update_policy, op.resolver) if rdef.update_policy \
                else {}
        except TemplateError as exc:
            state = op.state
            rec = state.resources.get(name)
            action = UPDATE if rec is not None and rec.physical_id is not None else CREATE
            if rec is None:
                rec = self.new_record(state, name, rdef)
            reason = failure_reason(exc, name)
            self.recorder.transition(state, name, rec, action, FAILED, reason)
            raise ResourceFailed(action, reason) from None
        return (props, metadata if isinstance(metadata, dict) else {},
                policy if isinstance(policy, dict) else {}, raw)

    def retire(self, op: Operation, name: str) -> str:
        """Move ``name``'s entry aside (``name~n``) so a replacement can be created."""
        state = op.state
        n = 1
        while f"{name}{REPLACED_SEP}{n}" in state.resources:
            n += 1
        key = f"{name}{REPLACED_SEP}{n}"
        rec = state.resources.pop(name)
        rec.name = key
        rec.replaced_by = name
        state.resources[key] = rec
        op.replaced.setdefault(name, []).append(key)
        self.recorder.save(state)
        return key

    def requires_replacement(self, op: Operation, name: str, rec: ResourceState,
                             plugin: ResourcePlugin) -> None:
        """The events Heat records on a resource whose update found that it must be replaced
        (``UPDATE_IN_PROGRESS``, then ``UPDATE_COMPLETE`` saying so), before the new one is
        made."""
        state = op.state
        self.recorder.transition(state, name, rec, UPDATE, IN_PROGRESS)
        self.recorder.transition(
            state, name, rec, UPDATE, COMPLETE,
            f'The Resource {type(plugin).__name__} "{name}" [{rec.physical_id}] Stack '
            f'"{state.name}" [{state.id}] requires replacement.')

    def restore(self, op: Operation, name: str, rdef: ResourceDefinition,
                props: Mapping[str, Any]) -> ResourceState | None:
        """Rolling back a replacement: bring the old resource back instead of making a new one
        (Heat restores replaced resources on rollback)."""
        state = op.state
        for key in list(op.replaced.get(name, ())):
            old = state.resources.get(key)
            if (old is None or old.type != rdef.type or old.status == FAILED
                    or old.physical_id is None or old.properties != dict(props)):
                continue
            current = state.resources.get(name)
            if current is not None and current.properties == dict(props) \
                    and current.status == COMPLETE:
                return None
            if current is not None:
                self.retire(op, name)
            state.resources.pop(key)
            op.replaced[name].remove(key)
            old.name, old.replaced_by = name, None
            state.resources[name] = old
            self.recorder.save(state)
            return old
        return None

    def forget(self, op: Operation, key: str) -> None:
        op.state.resources.pop(key, None)
        if REPLACED_SEP in key:
            keys = op.replaced.get(base_name(key))
            if keys and key in keys:
                keys.remove(key)
        self.recorder.save(op.state, key)

    # -- the machinery of every action ------------------------------------------------------
    @contextlib.contextmanager
    def recording_failure(self, state: StackState, key: str, rec: ResourceState,
                          action: Action, reason: str | None = None) -> Iterator[None]:
        """Record ``<action>_FAILED`` on the resource when the block fails: "<ACTION> aborted"
        on cancellation (re-raised), else ``reason`` or Heat's reason for the error (raised
        as :class:`ResourceFailed`)."""
        try:
            yield
        except asyncio.CancelledError as exc:
            self.recorder.transition(state, key, rec, action, FAILED,
                                     aborted_reason(action, _cancel_detail(exc)),
                                     interrupted=True)
            raise
        except Exception as exc:
            why = reason or failure_reason(exc, base_name(key))
            self.recorder.transition(state, key, rec, action, FAILED, why)
            raise ResourceFailed(action, why) from None

    async def transient(self, op: Operation, key: str, rec: ResourceState, action: Action,
                        step: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run ``step``; while it fails with a :class:`TransientFailure`, run it again after
        a growing pause (each retry recorded as an ``<ACTION>_IN_PROGRESS`` event), at most
        ``attempts`` times in all and never past the stack's deadline: then the last failure
        is raised."""
        first, longest = self.backoff
        attempt = 0
        while True:
            try:
                return await step()
            except Exception as exc:
                if not transient_error(exc):
                    raise
                attempt += 1
                pause = min(longest, first * 2 ** (attempt - 1))
                late = op.deadline is not None and time.monotonic() + pause >= op.deadline
                if attempt >= self.attempts or late:
                    raise
                self.recorder.transition(
                    op.state, key, rec, action, IN_PROGRESS,
                    f"Retrying after a transient failure (attempt {attempt + 1} of "
                    f"{self.attempts}): {exc}")
                await asyncio.sleep(pause)

    @staticmethod
    async def _ready_attributes(plugin: ResourcePlugin, ctx: ResourceContext,
                                props: dict[str, Any]) -> dict[str, Any]:
        """Wait for a created resource to be ready (``check_create_complete`` polled with a
        growing pause); its attribute values."""
        delay = POLL_START
        while not await plugin.check_create_complete(ctx, props):
            await asyncio.sleep(delay)
            delay = min(delay * 2, POLL_MAX)
        return await plugin.attribute_values(ctx, props)

    # -- create -----------------------------------------------------------------------------
    async def create(self, op: Operation, name: str, rec: ResourceState | None,
                     rdef: ResourceDefinition, plugin: ResourcePlugin, props: dict[str, Any],
                     metadata: dict[str, Any], policy: dict[str, Any], *,
                     adopt: bool) -> None:
        """Create the resource (``adopt``: first look for one a crashed run made), wait for
        it to be ready and record its attributes."""
        state = op.state
        async with self.runtime.limit(plugin):
            if rec is None:
                rec = self.new_record(state, name, rdef)
            rec.type = rdef.type
            rec.properties = props
            rec.metadata = metadata
            rec.requires = sorted(op.requires.get(name, rdef.dependencies))
            rec.deletion_policy = rdef.deletion_policy
            rec.given = op.given.get(name)
            rec.created_time = rec.created_time or now()
            if rec.uid is None:
                rec.uid = new_id()
            self.recorder.transition(state, name, rec, CREATE, IN_PROGRESS)
            ctx = self.runtime.context(state, name, rec, op, metadata=metadata,
                                       update_policy=policy)
            with self.recording_failure(state, name, rec, CREATE):
                created = await self._obtain(op, name, rec, plugin, ctx, props,
                                             adopt or op.resuming)
            # record the physical id the moment we have it
            rec.physical_id = created.physical_id
            rec.data = dict(created.data)
            self.recorder.save(state, name)
            ctx.physical_id, ctx.data = rec.physical_id, rec.data
            with self.recording_failure(state, name, rec, CREATE):
                attrs = await self.transient(
                    op, name, rec, CREATE, lambda: self._ready_attributes(plugin, ctx, props))
            rec.attributes = attrs
            self.recorder.transition(state, name, rec, CREATE, COMPLETE)

    async def _obtain(self, op: Operation, name: str, rec: ResourceState,
                      plugin: ResourcePlugin, ctx: ResourceContext, props: dict[str, Any],
                      adopt: bool) -> Created:
        """The physical resource of a create: adopted (``adopt``: found by its tags), or
        made. After a transient failure the create call may have made it although it
        failed (a POST answered 500): it is looked for by its tags before creating again."""
        looked = not adopt

        async def attempt() -> Created:
            nonlocal looked
            if not looked:
                found = await plugin.find_existing(ctx, props)
                if found is not None and found.physical_id not in ctx.exclude_ids:
                    return found
            looked = False          # a failing create makes the next attempt look first
            created = await self._call_create_with_grace(op, name, rec, plugin, ctx, props)
            looked = True
            return created

        return await self.transient(op, name, rec, CREATE, attempt)

    async def _call_create_with_grace(self, op: Operation, name: str, rec: ResourceState,
                                      plugin: ResourcePlugin, ctx: ResourceContext,
                                      props: dict[str, Any]) -> Created:
        """``plugin.create``; when the resource is cancelled while the call is in flight, the
        call may still answer (within ``CREATE_GRACE``) and what it made is recorded before
        the cancellation goes on, so no physical resource is left behind unrecorded."""
        if plugin.runs_nested_stacks:      # nested stacks record their children themselves
            return await plugin.create(ctx, props)
        task = asyncio.ensure_future(plugin.create(ctx, props))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            remaining = op.deadline - time.monotonic() if op.deadline is not None else None
            grace = CREATE_GRACE if remaining is None else max(
                min(CREATE_GRACE, remaining), 1.0)
            await asyncio.wait([task], timeout=grace)
            if not task.done():
                task.cancel()
            elif not task.cancelled() and task.exception() is None:
                created = task.result()
                rec.physical_id = created.physical_id
                rec.data = dict(created.data)
                self.recorder.save(op.state, name)
            raise

    async def finish_create(self, op: Operation, key: str, rec: ResourceState,
                            plugin: ResourcePlugin, props: dict[str, Any],
                            metadata: dict[str, Any], policy: dict[str, Any]) -> None:
        """A create interrupted after the physical resource was recorded: wait for it."""
        state = op.state
        ctx = self.runtime.context(state, key, rec, op, metadata=metadata,
                                   update_policy=policy)
        with self.recording_failure(state, key, rec, CREATE):
            attrs = await self.transient(op, key, rec, CREATE,
                                         lambda: self._ready_attributes(plugin, ctx, props))
        rec.attributes = attrs
        self.recorder.transition(state, key, rec, CREATE, COMPLETE)

    async def external(self, op: Operation, name: str, rdef: ResourceDefinition,
                       plugin: ResourcePlugin, props: dict[str, Any],
                       metadata: dict[str, Any]) -> None:
        """``external_id`` (see :mod:`kubeheat.engine.external`): adopt the existing
        resource and check it; the same external id again records the new values only; an
        external id added, changed or removed fails the update, the resource left as it
        was."""
        state = op.state
        rec = state.resources.get(name)
        external = None if rdef.external_id is None else str(rdef.external_id)
        if rec is not None and (rec.physical_id is not None or external is None) and (
                recorded_external(rec, external) != external):
            raise ResourceFailed(UPDATE, not_supported(name, rdef.type))
        assert external is not None     # else the record had an external id: refused above
        if rec is not None and rec.external_id == external and rec.status == COMPLETE:
            rec.properties, rec.metadata = props, metadata
            ctx = self.runtime.context(state, name, rec, op, metadata=metadata)
            found = await plugin.adopt_external(ctx, props)
            if found is not None:
                rec.attributes = found.attributes
            self.recorder.save(state, name)
            return
        if rec is None:
            rec = self.new_record(state, name, rdef)
        rec.physical_id, rec.external_id = external, external
        rec.properties, rec.metadata, rec.requires = props, metadata, []
        rec.deletion_policy = "Retain"
        self.recorder.transition(state, name, rec, ADOPT, IN_PROGRESS)
        ctx = self.runtime.context(state, name, rec, op, metadata=metadata)
        with self.recording_failure(state, name, rec, ADOPT):
            found = await plugin.adopt_external(ctx, props)
            if found is None:
                raise ResourceFailure(not_found(external, rdef.type))
        rec.attributes = found.attributes
        self.recorder.transition(state, name, rec, ADOPT, COMPLETE)
        if not checks(plugin):
            self.recorder.transition(state, name, rec, CHECK, COMPLETE,
                                     f"CHECK not supported for {rdef.type}")
            return
        self.recorder.transition(state, name, rec, CHECK, IN_PROGRESS)
        with self.recording_failure(state, name, rec, CHECK):
            if found.failed:
                raise ResourceFailure(found.failed)
        self.recorder.transition(state, name, rec, CHECK, COMPLETE)

    async def carry_on(self, op: Operation, name: str, rec: ResourceState | None,
                        plugin: ResourcePlugin, type_name: str, metadata: dict[str, Any],
                        policy: dict[str, Any]) -> Any:
        """Before deciding: finish a create that was interrupted after its physical
        resource was recorded (unless the cloud says it is gone or failed), and look again
        at a resource a check found failed. Returns what the cloud showed, when it matters
        to the decision (else NOT_OBSERVED)."""
        if rec is None or rec.physical_id is None:
            return NOT_OBSERVED
        state = op.state
        observed: Any = NOT_OBSERVED
        if rec.create_unfinished:
            try:
                seen = await plugin.read(self.runtime.context(state, name, rec, op),
                                         rec.properties)
            except Exception:
                seen = Observed()        # cannot tell: finishing will say
            if seen is None:
                rec.physical_id, rec.data = None, {}
                return observed
            if seen.failed:
                observed = seen
            else:
                await self.finish_create(op, name, rec, plugin, rec.properties,
                                                 metadata, policy)
                op.marks.acted(name, op.requires.get(name, ()))
        if rec.physical_id is not None and rec.action == CHECK and rec.status == FAILED:
            observed = await plugin.read(self.runtime.context(state, name, rec, op),
                                         rec.properties)
            if observed is not None and not observed.failed and rec.type == type_name:
                self.recorder.correct(rec, CHECK, COMPLETE)
        return observed

    def record_unchanged(self, op: Operation, name: str, rec: ResourceState,
                          props: dict[str, Any], changed: frozenset[str]) -> None:
        """A no-op: keep what may have changed without an action (the recorded dependencies,
        the deletion policy, the new values of a type that is never updated)."""
        assert op.definition is not None
        rdef = op.definition.resources[name]
        requires = sorted(op.requires.get(name, rdef.dependencies))
        dirty = False
        if rec.requires != requires or rec.deletion_policy != rdef.deletion_policy:
            rec.requires, rec.deletion_policy = requires, rdef.deletion_policy
            dirty = True
        given = op.given.get(name)
        if given is not None and rec.given != given:
            # kept before kubeheat recorded it, or of a type that is never updated
            rec.given = given
            dirty = True
        if changed:         # a type that is never updated: record the new values
            rec.properties = props
            dirty = True
        if dirty:
            self.recorder.save(op.state, name)

    # -- update and delete ------------------------------------------------------------------
    async def update(self, op: Operation, name: str, rec: ResourceState,
                     rdef: ResourceDefinition, plugin: ResourcePlugin, props: dict[str, Any],
                     metadata: dict[str, Any], policy: dict[str, Any], changed: frozenset[str],
                     error: str | None = None) -> None:
        """Update in place (``error``: an update the type refuses, recorded as failed)."""
        state = op.state
        async with self.runtime.limit(plugin):
            self.recorder.transition(state, name, rec, UPDATE, IN_PROGRESS)
            ctx = self.runtime.context(state, name, rec, op, metadata=metadata,
                                       update_policy=policy,
                                       deletion_policy=rdef.deletion_policy)
            refused = f"NotSupported: resources.{name}: {error}" if error else None
            with self.recording_failure(state, name, rec, UPDATE, reason=refused):
                if error:
                    raise ResourceFailure(error)
                old = dict(rec.properties)
                # no property value changed (only the definition, the metadata): as Heat's
                # handlers given no property diff, a type does nothing, except those running
                # a nested stack, which pass the change on to it
                if changed or plugin.update_all_in_place or plugin.runs_nested_stacks:
                    data = await self.transient(
                        op, name, rec, UPDATE, lambda: plugin.update(ctx, old, props, changed))
                    if data is not None:
                        rec.data = dict(data)
                        ctx.data = rec.data
                attrs = await self.transient(
                    op, name, rec, UPDATE, lambda: plugin.attribute_values(ctx, props))
            rec.type = rdef.type    # a provider template's may name another template
            rec.properties = props
            rec.metadata = metadata
            rec.attributes = attrs
            rec.requires = sorted(op.requires.get(name, rdef.dependencies))
            rec.deletion_policy = rdef.deletion_policy
            rec.given = op.given.get(name)
            rec.updated_time = now()
            self.recorder.transition(state, name, rec, UPDATE, COMPLETE)

    async def delete(self, op: Operation, key: str, *,
                     plugin: ResourcePlugin | None = None) -> None:
        """Delete one recorded resource (honouring its deletion policy) and forget it."""
        state = op.state
        rec = state.resources.get(key)
        if rec is None:
            return
        if plugin is None:
            plugin = self.runtime.plugins.of_record(rec)
        if rec.action == DELETE and rec.status == COMPLETE:
            self.forget(op, key)
            return
        if rec.action == INIT and rec.physical_id is None and not rec.nested:
            self.forget(op, key)         # recorded, never acted on
            return
        async with self.runtime.limit(plugin):
            self.recorder.transition(state, key, rec, DELETE, IN_PROGRESS)
            ctx = self.runtime.context(state, key, rec, op)
            with self.recording_failure(state, key, rec, DELETE):
                await self._delete_physical(op, key, rec, plugin, ctx)
            self.recorder.transition(state, key, rec, DELETE, COMPLETE)
            self.forget(op, key)

    async def _delete_physical(self, op: Operation, key: str, rec: ResourceState,
                               plugin: ResourcePlugin, ctx: ResourceContext) -> None:
        policy = rec.deletion_policy
        if policy == "Snapshot" and plugin.supports_snapshot and rec.physical_id is not None:
            await plugin.snapshot(ctx, rec.properties)
            policy = "Delete"
        if policy != "Delete":
            return
        if rec.physical_id is None:
            found = await self.transient(op, key, rec, DELETE,
                                         lambda: plugin.find_existing(ctx, rec.properties))
            if found is not None and found.physical_id not in ctx.exclude_ids:
                ctx.physical_id, ctx.data = found.physical_id, dict(found.data)
                rec.physical_id = found.physical_id
        if ctx.physical_id is not None or rec.nested:
            await self.transient(op, key, rec, DELETE,
                                 lambda: plugin.delete(ctx, rec.properties))
        if rec.nested:
            nested = ctx.nested
            assert nested is not None
            for child in list(rec.nested):
                await nested.delete(child)


__all__ = ["CREATE_GRACE", "ResourceActions", "transient_error"]

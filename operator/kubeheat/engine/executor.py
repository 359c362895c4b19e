"""The executor: runs stack operations by walking the resource graph with asyncio.

:class:`Engine` creates, updates, deletes, checks, signals and cancels stacks described by a
:class:`StackRequest`. Every resource action starts the moment the resources it depends on are
done; its properties are evaluated just before, with the physical ids and attributes of the
resources already finished, then checked against the type's schema. What to do with each
resource (create, update in place, replace, adopt, nothing) is decided at that moment with the
same rules the planner previews (:func:`kubeheat.engine.plan.decide`).

State is saved after every step: before a handler is called (the resource is recorded
``IN_PROGRESS`` first), the moment a create returns a physical id, and at every status change.
A run interrupted anywhere (task cancelled, process killed, store failing) is resumed by the next
run, which adopts what the interrupted one created (``find_existing`` with the resource's tags)
instead of creating it twice.

A create interrupted after its physical id was recorded (``CREATE aborted``, a timeout, or the
process dying while it was polled) is *finished* by the next run (read, then
``check_create_complete`` polled again), not replaced; only a resource the cloud reports
failed (or gone) is replaced (or made again). An interrupted update is applied again.

Rollback follows Heat's convergence engine: a failed create deletes what it made; a failed
update converges back to the previous template (replaced resources are restored, not rebuilt).

The graph walked is the template's plus the implicit dependencies of its types
(:mod:`kubeheat.engine.deps`). Attributes of types declaring ``live_attributes`` are read
again before a later ``get_attr`` when a resource depending on them acted since, and before
outputs are computed. ``check`` and ``plan(observe=True)`` observe through
:meth:`ResourcePlugin.read_many` where a type has it (one listing per type). With a cloud and
the default constraints, the cloud's custom constraints are used; checks that may ask the cloud
run in the thread pool, each value answered once per operation.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import time
from collections.abc import Callable, Collection, Coroutine, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from kubeheat.engine.deps import stack_requires
from kubeheat.engine.events import Event, EventSink
from kubeheat.engine.native import MemoryNativeStore
from kubeheat.engine.plan import (
    NOT_OBSERVED,
    P_ADOPT,
    P_CREATE,
    P_NOOP,
    P_REPLACE,
    P_UPDATE,
    REPLACED_SEP,
    Decision,
    Plan,
    base_name,
    create_interrupted,
    decide,
    plan,
    plugin_for,
    removal_order,
)
from kubeheat.engine.state import (
    CHECK,
    COMPLETE,
    CREATE,
    DELETE,
    FAILED,
    IN_PROGRESS,
    INIT,
    ROLLBACK,
    UPDATE,
    ResourceState,
    StackState,
    StateStore,
    new_id,
    now,
)
from kubeheat.resources.base import (
    Created,
    NativeStore,
    Observed,
    PluginRegistry,
    Property,
    ResourceContext,
    ResourceFailure,
    ResourcePlugin,
    TransientFailure,
    load_builtin_plugins,
)
from kubeheat.resources.properties import accepts_any_properties, check_properties
from kubeheat.template.constraints import (
    DEFAULT_CONSTRAINTS,
    ConstraintRegistry,
    ConstraintViolation,
    CustomConstraint,
    CustomConstraintRef,
)
from kubeheat.template.environment import Environment, merge_environments, parse_environment
from kubeheat.template.errors import KubeheatError, Path, TemplateError
from kubeheat.template.functions.base import ABSENT, dependencies, functions_in, is_static
from kubeheat.template.scope import PlaceholderResources, walk_path
from kubeheat.template.stack import (
    ResourceDefinition,
    StackDefinition,
    StackIdentity,
    Template,
)

T = TypeVar("T")

STACK_TYPE = "OS::Heat::Stack"
#: seconds between check_create_complete polls (grows to POLL_MAX)
POLL_START, POLL_MAX = 0.01, 1.0
#: how often a step failing with a TransientFailure is tried (in all), and the first and
#: longest pause between attempts (seconds); the stack's deadline bounds them too
TRANSIENT_ATTEMPTS, TRANSIENT_BACKOFF, TRANSIENT_BACKOFF_MAX = 6, 0.2, 5.0
#: how long a create call in flight when its resource is cancelled may still take to answer,
#: so that what it made is recorded (and deleted by a rollback) instead of left behind
CREATE_GRACE = 30.0


class EngineError(KubeheatError):
    """A request the engine refuses (unknown stack, stack busy, nothing to roll back ...)."""

    code = "HeatException"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class StateSaveError(KubeheatError):
    """The state store failed: the operation stops at once (nothing more can be recorded)."""


class _ResourceFailed(Exception):
    """A resource action failed; ``reason`` is its status reason."""

    def __init__(self, action: str, reason: str) -> None:
        super().__init__(reason)
        self.action = action
        self.reason = reason


@dataclass
class StackRequest:
    """What to create or update a stack with.

    ``template`` None (PATCH only) keeps the previous template. ``environments`` are
    environment documents (mappings or YAML/JSON text), merged in order.
    """

    name: str
    template: dict[str, Any] | None = None
    files: dict[str, str] = field(default_factory=dict)
    environments: list[dict[str, Any] | str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    timeout_minutes: float | None = None
    disable_rollback: bool = False
    #: PATCH: parameters to drop from the previous values
    clear_parameters: list[str] = field(default_factory=list)


@dataclass
class ResourceCheck:
    """What ``check`` found for one resource."""

    name: str
    status: str                                   # CHECK_COMPLETE / CHECK_FAILED
    reason: str
    #: property -> (applied value, observed value)
    drift: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    missing: bool = False


@dataclass
class CheckResult:
    state: StackState
    resources: dict[str, ResourceCheck] = field(default_factory=dict)

    @property
    def drifted(self) -> dict[str, dict[str, tuple[Any, Any]]]:
        return {n: r.drift for n, r in self.resources.items() if r.drift}

    @property
    def ok(self) -> bool:
        return self.state.status == COMPLETE

    def to_dict(self) -> dict[str, Any]:
        return {"stack_status": self.state.state,
                "stack_status_reason": self.state.status_reason,
                "resources": {n: {"status": r.status, "reason": r.reason, "missing": r.missing,
                                  "drift": {k: {"applied": a, "observed": o}
                                            for k, (a, o) in r.drift.items()}}
                              for n, r in self.resources.items()}}


# -------------------------------------------------------------------------------------------
# helpers
# -------------------------------------------------------------------------------------------

def failure_reason(exc: BaseException, name: str) -> str:
    """A resource's status reason for a failed action, as Heat words it:
    ``<ExceptionType>: resources.<name>: <message>``."""
    if isinstance(exc, TemplateError):
        text = str(exc)
        if not text.startswith("resources."):
            text = f"resources.{name}: {text}"
        return f"{exc.code}: {text}"
    kind = "Error" if isinstance(exc, ResourceFailure) else type(exc).__name__
    return f"{kind}: resources.{name}: {exc}"


def _transient_error(exc: BaseException) -> bool:
    """A failure worth retrying: a plugin's :class:`TransientFailure`, or any error carrying an
    HTTP status of 5xx or 429 that a plugin let through unwrapped."""
    if isinstance(exc, TransientFailure):
        return True
    status = getattr(exc, "status_code", None) or getattr(exc, "http_status", None)
    return isinstance(status, int) and (status >= 500 or status == 429)


def _aborted(action: str, exc: BaseException) -> str:
    msg = str(exc.args[0]) if exc.args and exc.args[0] else ""
    return f"{action} aborted" + (f" ({msg})" if msg else "")


class _CachedConstraint(CustomConstraint):
    """A cloud constraint whose answers (pass or violation) are kept for one operation."""

    name: ClassVar[str] = ""
    needs_cloud: ClassVar[bool] = True

    def __init__(self, inner: CustomConstraint,
                 cache: dict[tuple[str, str], ConstraintViolation | None]) -> None:
        self.inner = inner
        self.cache = cache

    def check(self, value: Any) -> None:
        key = (self.inner.name, repr(value))
        if key in self.cache:
            found = self.cache[key]
            if found is not None:
                raise found
            return
        try:
            self.inner.check(value)
        except ConstraintViolation as exc:
            self.cache[key] = exc
            raise
        self.cache[key] = None


class _OperationConstraints(ConstraintRegistry):
    """The engine's constraints for one operation: cloud constraints answer each value once
    (the cloud is asked again by the next operation)."""

    def __init__(self, parent: ConstraintRegistry) -> None:
        super().__init__(parent=parent)
        self._cache: dict[tuple[str, str], ConstraintViolation | None] = {}
        self._wrapped: dict[str, CustomConstraint] = {}

    def get(self, name: str) -> CustomConstraint | None:
        found = self._wrapped.get(name)
        if found is not None:
            return found
        inner = super().get(name)
        if inner is None or not inner.needs_cloud:
            return inner
        cls = type(f"Cached{type(inner).__name__}", (_CachedConstraint,), {
            "name": inner.name, "description": inner.description, "message": inner.message})
        wrapped: CustomConstraint = cls(inner, self._cache)
        self._wrapped[name] = wrapped
        return wrapped


def _cloud_checked(prop: Property, constraints: ConstraintRegistry) -> bool:
    for c in prop.constraints:
        if isinstance(c, CustomConstraintRef):
            found = constraints.get(c.constraint)
            if found is not None and found.needs_cloud:
                return True
    if prop.schema is not None and any(_cloud_checked(p, constraints)
                                       for p in prop.schema.values()):
        return True
    return prop.item is not None and _cloud_checked(prop.item, constraints)


class _LiveResolver:
    """References and attributes of the resources recorded in a live stack state.

    Attributes of types with ``dynamic_attributes`` are asked of the plugin
    (:meth:`ResourcePlugin.get_attribute`, with the whole path); the others come from the
    values cached after the resource's last action."""

    def __init__(self, engine: Engine, state: StackState, op: _Op | None) -> None:
        self.engine = engine
        self.state = state
        self.op = op

    def reference(self, name: str) -> Any:
        rec = self.state.resources.get(name)
        if rec is None or rec.physical_id is None:
            return name
        ref = rec.data.get("reference")
        return ref if isinstance(ref, str) else rec.physical_id

    def attribute(self, name: str, attribute: str | None, path: Any) -> Any:
        rec = self.state.resources.get(name)
        if rec is None:
            return None
        if attribute is not None and attribute != "show":
            plugin = self.engine._plugin_of_record(rec, self.op)
            if plugin.dynamic_attributes:
                if rec.physical_id is None:
                    return None
                return self.engine._dynamic_attribute(self.state, name, rec, self.op, plugin,
                                                      attribute, path)
        attrs = rec.attributes
        if attribute is None:
            return {k: v for k, v in attrs.items() if k != "show"}
        if attribute in attrs:
            value = attrs[attribute]
        elif attribute == "show":
            value = {"id": rec.physical_id, **attrs}
        else:
            return None
        return walk_path(value, path) if path else value


class _Walk:
    """Runs ``run(node)`` for every node of a dependency graph, each as soon as the nodes it
    depends on have finished. The first failure stops the walk: nothing new starts and the
    actions in flight are cancelled."""

    def __init__(self, deps: Mapping[str, Collection[str]],
                 run: Callable[[str], Coroutine[Any, Any, None]]) -> None:
        self.run = run
        self.remaining = {n: len(d) for n, d in deps.items()}
        self.users: dict[str, list[str]] = {n: [] for n in deps}
        for node, needs in deps.items():
            for dep in needs:
                self.users[dep].append(node)
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.failure: _ResourceFailed | None = None
        self.crash: BaseException | None = None
        self.stopped = False
        self.timed_out = False
        self.cancelled = False
        self.finished = 0
        self._done: asyncio.Future[None] | None = None

    def _start(self, node: str) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(self.run(node))
        self.tasks[node] = task
        task.add_done_callback(functools.partial(self._finished, node))

    def _finished(self, node: str, task: asyncio.Task[None]) -> None:
        self.tasks.pop(node, None)
        if not task.cancelled():
            exc = task.exception()
            if exc is None:
                self.finished += 1
                if not self.stopped:
                    for user in self.users[node]:
                        self.remaining[user] -= 1
                        if self.remaining[user] == 0:
                            self._start(user)
            elif isinstance(exc, _ResourceFailed):
                if self.failure is None:
                    self.failure = exc
                self.stop(None)
            else:
                if self.crash is None:
                    self.crash = exc
                self.stop(None)
        if not self.tasks and self._done is not None and not self._done.done():
            self._done.set_result(None)

    def stop(self, reason: str | None) -> None:
        """Start nothing more and cancel what is in flight (``reason`` goes into their
        ``<ACTION> aborted (<reason>)`` status)."""
        self.stopped = True
        for task in list(self.tasks.values()):
            task.cancel(reason)

    async def execute(self, deadline: float | None) -> None:
        loop = asyncio.get_running_loop()
        self._done = loop.create_future()
        for node, count in list(self.remaining.items()):
            if count == 0:
                self._start(node)
        if not self.tasks:
            self._done.set_result(None)
        try:
            if deadline is None:
                await asyncio.shield(self._done)
            else:
                await asyncio.wait_for(asyncio.shield(self._done),
                                       max(deadline - time.monotonic(), 0.0))
        except TimeoutError:
            self.timed_out = True
            self.stop("Timed out")
            await asyncio.shield(self._done)
        except asyncio.CancelledError:
            self.stop(None)
            try:
                await asyncio.shield(self._done)
            finally:
                raise
        if self.crash is not None:
            raise self.crash


class _Op:
    """One running stack operation."""

    def __init__(self, engine: Engine, state: StackState, action: str,
                 deadline: float | None, depth: int = 0) -> None:
        self.state = state
        self.action = action
        self.deadline = deadline
        #: nesting depth of the stack (0: a top-level stack)
        self.depth = depth
        self.walk: _Walk | None = None
        self.cancel_requested = False
        self.cancel_rollback = True
        #: the operation takes over one that was interrupted (a crash): every create first
        #: looks for the resource by its tags, since a lost state write may have hidden it
        self.resuming = False
        self.resolver = _LiveResolver(engine, state, self)
        self.definition: StackDefinition | None = None
        self.plugins: dict[str, ResourcePlugin] = {}
        #: the dependency graph of ``definition`` with the implicit edges of its types
        self.requires: Mapping[str, frozenset[str]] = {}
        #: constraints of this operation (cloud answers cached for its duration)
        self.constraints: ConstraintRegistry = engine.constraints
        #: names of resources whose type has live attributes (see ``_refresh_attributes``)
        self.live: set[str] = set()
        #: action counter; per resource: when its attributes were last read in this
        #: operation, and when a resource depending on it last finished an action
        self.seq = 0
        self.read_at: dict[str, int] = {}
        self.touched_at: dict[str, int] = {}
        self.refreshing: dict[str, asyncio.Future[None]] = {}
        #: entries of replaced resources by logical name
        self.replaced: dict[str, list[str]] = {}
        for key in state.resources:
            if REPLACED_SEP in key:
                self.replaced.setdefault(base_name(key), []).append(key)

    def exclude_ids(self, name: str) -> frozenset[str]:
        keys = self.replaced.get(name)
        if not keys:
            return frozenset()
        res = self.state.resources
        found = (res[k].physical_id for k in keys if k in res)
        return frozenset(pid for pid in found if pid is not None)


# -------------------------------------------------------------------------------------------
# the engine
# -------------------------------------------------------------------------------------------

class Engine:
    """Runs stack operations against a state store and an event sink."""

    def __init__(self, store: StateStore, events: EventSink, *,
                 registry: PluginRegistry | None = None, native: NativeStore | None = None,
                 cloud: Any = None, concurrency: int = 64, threads: int = 16,
                 constraints: ConstraintRegistry = DEFAULT_CONSTRAINTS) -> None:
        self.store = store
        self.events = events
        self.registry = registry if registry is not None else load_builtin_plugins()
        self.native: NativeStore = native if native is not None else MemoryNativeStore()
        self.cloud = cloud
        self.concurrency = max(1, concurrency)
        if cloud is not None and constraints is DEFAULT_CONSTRAINTS:
            # a cloud: custom constraints (nova.flavor, neutron.network ...) ask it
            from kubeheat.resources.openstack import cloud_constraints

            constraints = cloud_constraints(cloud)
        self.constraints = constraints
        #: some constraints ask the cloud: checks that may use them run in the thread pool
        self._cloud_checks = any(c.needs_cloud for c in constraints)
        self._cloud_props: dict[type[ResourcePlugin], bool] = {}
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads),
                                        thread_name_prefix="kubeheat-engine")
        self._sem: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self._instances: dict[type[ResourcePlugin], ResourcePlugin] = {}
        self._running: dict[str, _Op] = {}
        #: transient failures: attempts per step and the backoff between them (seconds)
        self.transient_attempts = TRANSIENT_ATTEMPTS
        self.transient_backoff = (TRANSIENT_BACKOFF, TRANSIENT_BACKOFF_MAX)
        #: states of child stacks read for their parents' attributes, by stack id (dropped
        #: when this engine saves or deletes the stack, and when no operation runs)
        self._loaded: dict[str, StackState] = {}

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- public operations ----------------------------------------------------------------
    async def create(self, request: StackRequest, stack_id: str | None = None) -> StackState:
        """Create a stack (or resume a create that was interrupted)."""
        existing = self._load(stack_id) if stack_id else None
        if existing is not None and not (existing.action in (INIT, CREATE)
                                         and existing.status != COMPLETE):
            raise EngineError(f"The Stack ({existing.name}) already exists.", "StackExists")
        state = existing or StackState(id=stack_id or new_id(), name=request.name)
        return await self._operate(state, CREATE, request, patch=False)

    async def update(self, stack_id: str, request: StackRequest, *, patch: bool = False
                     ) -> StackState:
        """Update a stack to a new template and parameters (``patch``: as Heat's PATCH, the
        previous template, parameters, environment and files are kept unless given)."""
        state = self._require(stack_id)
        return await self._operate(state, UPDATE, request, patch=patch)

    async def apply(self, request: StackRequest, stack_id: str | None = None) -> StackState:
        """Create the stack, or update it when ``stack_id`` names one."""
        existing = self._load(stack_id) if stack_id else None
        if existing is None or (existing.action in (INIT, CREATE)
                                and existing.status != COMPLETE):
            return await self.create(request, stack_id)
        return await self.update(existing.id, request)

    async def delete(self, stack_id: str) -> StackState:
        """Delete every resource (reverse dependency order) and then the stack record."""
        state = self._require(stack_id)
        return await self._delete_stack(state)

    async def check(self, stack_id: str) -> CheckResult:
        """Read every resource; report the missing, the failed and the drifted properties."""
        state = self._require(stack_id)
        return await self._check_stack(state)

    async def signal(self, stack_id: str, resource_name: str, details: Any = None
                     ) -> StackState:
        """Deliver a signal to a resource (also while an operation runs on the stack)."""
        op = self._running.get(stack_id)
        state = op.state if op is not None else self._require(stack_id)
        rec = state.resources.get(resource_name)
        if rec is None:
            raise EngineError(f"The Resource ({resource_name}) could not be found.",
                              "ResourceNotFound")
        try:
            await self._deliver_signal(state, resource_name, rec, op, details)
        except ResourceFailure as exc:
            raise EngineError(str(exc), "ResourceFailure") from None
        if op is None:
            # a signal may change attributes outputs show (a group scaled): outputs are
            # computed again, here and in the stacks above, as Heat shows them live
            self._signal_outputs(state)
        return state

    def _signal_outputs(self, state: StackState) -> None:
        """Recompute and save the outputs of ``state`` (no operation running on it) and of
        its parent stacks; a stack whose definition cannot be rebuilt keeps its outputs."""
        seen: set[str] = set()
        current: StackState | None = state
        while current is not None and current.id not in seen and current.template \
                and current.id not in self._running:
            seen.add(current.id)
            env = [current.environment] if current.environment else []
            try:
                defn = self._define(current, current.template, current.parameters, env,
                                    current.files, patch_params=True)
            except TemplateError:
                return
            outputs, errors = _output_values(defn, _LiveResolver(self, current, None))
            if (outputs, errors) != (current.outputs, current.output_errors):
                current.outputs, current.output_errors = outputs, errors
                self._save(current)
            current = self._load(current.parent) if current.parent else None

    async def _deliver_signal(self, state: StackState, key: str, rec: ResourceState,
                              op: _Op | None, details: Any) -> dict[str, Any] | None:
        """Signal one resource of a live stack state: its plugin's data and attributes are
        updated in ``state``, saved, and the signal event is emitted. Returns the data the
        plugin returned."""
        plugin = self._plugin_of_record(rec, op)
        if not plugin.signalable:
            raise ResourceFailure(f"Signal resource during {base_name(key)} is not supported")
        ctx = self._ctx(state, key, rec, op)
        data = await plugin.signal(ctx, rec.properties, details)
        if data is not None:
            rec.data = data
            ctx.data = data
        if rec.physical_id is not None and rec.status == COMPLETE:
            attrs = await plugin.attribute_values(ctx, rec.properties)
            if attrs:
                rec.attributes = attrs
        self._save(state, key)
        text = "Signal: " + ("signal received" if details is None else _short(details))
        self._emit(state, key, rec, "SIGNAL", COMPLETE, text)
        return data

    async def _signal_resource(self, state: StackState, op: _Op | None, ref: str,
                               details: Any) -> dict[str, Any] | None:
        """``ResourceContext.signal_resource``: signal the resource of ``state`` whose logical
        name, reference id or physical id is ``ref``, on the same live state."""
        key: str | None = ref if ref in state.resources and REPLACED_SEP not in ref else None
        if key is None:
            for name, rec in state.resources.items():
                if REPLACED_SEP in name:
                    continue
                if ref == rec.physical_id or ref == rec.data.get("reference"):
                    key = name
                    break
        if key is None:
            raise LookupError(f"The Resource ({ref}) could not be found.")
        return await self._deliver_signal(state, key, state.resources[key], op, details)

    def _dynamic_attribute(self, state: StackState, name: str, rec: ResourceState,
                           op: _Op | None, plugin: ResourcePlugin, attribute: str,
                           path: Any) -> Any:
        """``get_attr`` answered by a plugin with dynamic attributes; its failures become
        template errors (the resolving property or output fails, not the engine)."""
        ctx = self._ctx(state, name, rec, op)
        try:
            return plugin.get_attribute(ctx, rec.properties, attribute, list(path or ()))
        except TemplateError:
            raise
        except ResourceFailure as exc:
            raise TemplateError(str(exc), code="InvalidTemplateAttribute") from None
        except Exception as exc:
            raise TemplateError(f"{type(exc).__name__}: attribute {attribute} of {name}: "
                                f"{exc}") from None

    async def cancel(self, stack_id: str, *, rollback: bool = True) -> bool:
        """Cancel the update in progress on ``stack_id`` (then roll back, unless
        ``rollback=False``). False when nothing is running."""
        op = self._running.get(stack_id)
        if op is None or op.action not in (UPDATE, CREATE):
            return False
        op.cancel_requested = True
        op.cancel_rollback = rollback
        if op.walk is not None:
            op.walk.stop(None)
        return True

    async def plan(self, request: StackRequest, stack_id: str | None = None, *,
                   observe: bool = True, patch: bool = False) -> Plan:
        """What :meth:`apply` would do, without changing anything. ``observe`` reads every
        recorded resource so drift and resources missing in the cloud show up."""
        recorded = self._load(stack_id) if stack_id else None
        state = recorded.copy() if recorded is not None else StackState(
            id=stack_id or new_id(), name=request.name)
        template, params, env_docs, files = self._merge_request(state, request, patch)
        constraints = _OperationConstraints(self.constraints) if self._cloud_checks \
            else self.constraints
        defn = await self._checked_definition(state, template, params, env_docs, files,
                                              constraints)
        plugins = {name: self._plugin_for(defn, rdef) for name, rdef in defn.resources.items()}
        observed: dict[str, Observed | None] = {}
        if recorded is not None and observe:
            keys = [n for n, r in recorded.resources.items()
                    if r.physical_id is not None and REPLACED_SEP not in n]
            found = await self._observe(recorded, keys, plugins)
            for key in keys:
                seen = found[key]
                if isinstance(seen, BaseException):  # a read failing is shown, not fatal
                    observed[key] = Observed(failed=f"read failed: {seen}")
                else:
                    observed[key] = seen
        live = _LiveResolver(self, recorded, None) if recorded is not None else None
        return plan(defn, recorded, observed, self.registry, plugins=plugins, attributes=live,
                    requires=stack_requires(defn, self.registry))

    async def _observe(self, state: StackState, keys: Sequence[str],
                       plugins: Mapping[str, ResourcePlugin] | None = None
                       ) -> dict[str, Observed | BaseException | None]:
        """What the cloud holds for the recorded resources ``keys`` (each with a physical
        id): types with :meth:`ResourcePlugin.read_many` are observed in one batch per type,
        the rest (and what a batch left out) one read each, in parallel with the engine's
        concurrency limit. A failed read gives its exception."""
        out: dict[str, Observed | BaseException | None] = {}
        batches: dict[type[ResourcePlugin], list[str]] = {}
        chosen: dict[str, ResourcePlugin] = {}
        for key in keys:
            rec = state.resources[key]
            plugin = (plugins or {}).get(key) or self._plugin_of_record(rec, None)
            chosen[key] = plugin
            if plugin.batch_observe:
                batches.setdefault(type(plugin), []).append(key)

        async def batch(cls: type[ResourcePlugin], names: list[str]) -> None:
            items = [(self._ctx(state, k, state.resources[k], None),
                      state.resources[k].properties) for k in names]
            try:
                async with self._semaphore():
                    seen = await cls.read_many(items)
            except Exception:
                return          # read one by one instead
            for key in names:
                pid = state.resources[key].physical_id
                if pid is not None and pid in seen:
                    out[key] = seen[pid]

        await asyncio.gather(*(batch(c, n) for c, n in batches.items()))

        async def one(key: str) -> None:
            rec = state.resources[key]
            plugin = chosen[key]
            try:
                async with self._limit(plugin):
                    out[key] = await plugin.read(self._ctx(state, key, rec, None),
                                                 rec.properties)
            except Exception as exc:
                out[key] = exc

        await asyncio.gather(*(one(k) for k in keys if k not in out))
        return out

    def outputs(self, stack_id: str) -> dict[str, Any]:
        """The stack's outputs as last computed (errors under ``output_errors``)."""
        state = self._require(stack_id)
        return dict(state.outputs)

    def load(self, stack_id: str) -> StackState | None:
        op = self._running.get(stack_id)
        return op.state if op is not None else self._load(stack_id)

    def load_cached(self, stack_id: str) -> StackState | None:
        """As :meth:`load`, for reading only: the state may be shared with other readers
        until this engine saves the stack again."""
        op = self._running.get(stack_id)
        if op is not None:
            return op.state
        found = self._loaded.get(stack_id)
        if found is None:
            found = self.store.load(stack_id)
            if found is not None:
                self._loaded[stack_id] = found
        return found

    def child_attribute(self, state: StackState, name: str, attribute: str | None,
                        path: Sequence[Any]) -> Any:
        """``get_attr: [name, attribute, *path]`` evaluated in the (child) stack ``state``."""
        op = self._running.get(state.id)
        return _LiveResolver(self, state, op).attribute(name, attribute, path)

    # -- state, events ----------------------------------------------------------------------
    def _load(self, stack_id: str | None) -> StackState | None:
        if not self._running:
            self._loaded.clear()  # another process may have changed the store meanwhile
        if not stack_id:
            return None
        return self.store.load(stack_id)

    def _require(self, stack_id: str) -> StackState:
        if stack_id in self._running:
            raise EngineError(f"Stack {stack_id} has an operation in progress",
                              "ActionInProgress")
        state = self._load(stack_id)
        if state is None:
            raise EngineError(f"The Stack ({stack_id}) could not be found.", "EntityNotFound")
        return state

    def _save(self, state: StackState, changed: str | None = None) -> None:
        if self._loaded:
            self._loaded.pop(state.id, None)
        try:
            self.store.save(state, changed)
        except Exception as exc:
            raise StateSaveError(f"saving stack {state.id} failed: {exc}") from exc

    def _emit(self, state: StackState, key: str, rec: ResourceState, action: str,
              status: str, reason: str) -> None:
        self.events.emit(Event(state.id, state.name, base_name(key), rec.physical_id,
                               rec.type, action, status, reason))

    def _stack_status(self, state: StackState, action: str, status: str, reason: str) -> None:
        state.action, state.status, state.status_reason = action, status, reason
        state.updated_time = now() if action != CREATE else state.updated_time
        self._save(state)
        self.events.emit(Event(state.id, state.name, state.name, state.id, STACK_TYPE,
                               action, status, reason))

    def _set(self, state: StackState, key: str, rec: ResourceState, action: str, status: str,
             reason: str = "state changed") -> None:
        rec.action, rec.status, rec.status_reason = action, status, reason
        self._save(state, key)
        self._emit(state, key, rec, action, status, reason)

    # -- plugins and contexts ---------------------------------------------------------------
    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._sem is None or self._sem[0] is not loop:
            self._sem = (loop, asyncio.Semaphore(self.concurrency))
        return self._sem[1]

    async def _run_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    def _instance(self, cls: type[ResourcePlugin]) -> ResourcePlugin:
        found = self._instances.get(cls)
        if found is None:
            found = self._instances[cls] = cls()
        return found

    def _plugin_for(self, defn: StackDefinition, rdef: ResourceDefinition) -> ResourcePlugin:
        cls = plugin_for(self.registry, rdef.type, rdef.implementation)
        if cls is not None:
            return self._instance(cls)
        from kubeheat.engine.nested import TemplateResource

        key = rdef.implementation or rdef.type
        nested = defn.nested.get(rdef.name)
        env = nested.environment if nested is not None else None
        return TemplateResource(key, defn.template.files.get(key),
                                env.as_dict() if env is not None else None)

    def _plugin_of_record(self, rec: ResourceState, op: _Op | None) -> ResourcePlugin:
        name = base_name(rec.name)
        if op is not None and op.definition is not None and name in op.plugins:
            rdef = op.definition.resources.get(name)
            if rdef is not None and rdef.type == rec.type:
                return op.plugins[name]
        cls = self.registry.get(rec.type)
        if cls is not None:
            return self._instance(cls)
        from kubeheat.engine.nested import TemplateResource

        return TemplateResource(rec.type, None, None)

    def _ctx(self, state: StackState, key: str, rec: ResourceState, op: _Op | None, *,
             metadata: dict[str, Any] | None = None,
             update_policy: dict[str, Any] | None = None) -> ResourceContext:
        from kubeheat.engine.nested import EngineNestedStacks

        name = base_name(key)
        return ResourceContext(
            stack_id=state.id, stack_name=state.name, name=name, type=rec.type,
            physical_id=rec.physical_id, data=rec.data,
            metadata=metadata if metadata is not None else rec.metadata,
            update_policy=update_policy or {},
            deadline=op.deadline if op is not None else None, native=self.native,
            nested=EngineNestedStacks(self, state, key, op), cloud=self.cloud,
            run_sync=self._run_sync,
            exclude_ids=op.exclude_ids(name) if op is not None else frozenset(),
            signal_resource=functools.partial(self._signal_resource, state, op))

    # -- definitions ------------------------------------------------------------------------
    def _merge_request(self, state: StackState, request: StackRequest, patch: bool
                       ) -> tuple[dict[str, Any], dict[str, Any], list[Any], dict[str, str]]:
        if not patch:
            if request.template is None:
                raise EngineError("A template is required", "StackValidationFailed")
            return (dict(request.template), dict(request.parameters),
                    list(request.environments), dict(request.files))
        template = dict(request.template) if request.template is not None else dict(
            state.template)
        params = {**state.parameters, **request.parameters}
        env_docs: list[Any] = []
        if state.environment:
            previous = copy.deepcopy(state.environment)
            if isinstance(previous.get("parameters"), dict):
                for key in request.clear_parameters:
                    previous["parameters"].pop(key, None)
            env_docs.append(previous)
        env_docs.extend(request.environments)
        for key in request.clear_parameters:
            params.pop(key, None)
        files = {**state.files, **request.files}
        return template, params, env_docs, files

    def _environment(self, template: Template, env_docs: list[Any]) -> Environment | None:
        if not env_docs:
            return None
        envs = [parse_environment(doc, name=f"environment {i + 1}" if len(env_docs) > 1
                                  else "environment")
                for i, doc in enumerate(env_docs)]
        types = {name: s.type for name, s in template.parameter_schemas.items()}
        return merge_environments(envs, types)

    def _define(self, state: StackState, template_doc: Mapping[str, Any],
                params: Mapping[str, Any], env_docs: list[Any], files: Mapping[str, str], *,
                facade: Mapping[str, Any] | None = None, depth: int = 0,
                patch_params: bool = False,
                constraints: ConstraintRegistry | None = None) -> StackDefinition:
        template = Template.load(template_doc, files=files)
        env = self._environment(template, env_docs)
        values = dict(params)
        if patch_params:
            values = {k: v for k, v in values.items() if k in template.parameter_schemas}
        identity = StackIdentity(name=state.name, id=state.id)
        return template.define(values, env, identity=identity,
                               constraints=constraints or self.constraints,
                               facade=facade, depth=depth)

    async def _checked_definition(self, state: StackState, template: Mapping[str, Any],
                                  params: Mapping[str, Any], env_docs: list[Any],
                                  files: Mapping[str, str], constraints: ConstraintRegistry,
                                  **kwargs: Any) -> StackDefinition:
        """:meth:`_define` and :meth:`_validate`; in the thread pool when some custom
        constraint asks the cloud (its answers are cached in ``constraints``)."""
        def work() -> StackDefinition:
            defn = self._define(state, template, params, env_docs, files,
                                constraints=constraints, **kwargs)
            self._validate(defn, constraints)
            return defn

        if self._cloud_checks:
            return await self._run_sync(work)
        return work()

    def _needs_cloud_checks(self, cls: type[ResourcePlugin]) -> bool:
        """True when some property of ``cls`` has a constraint that asks the cloud."""
        found = self._cloud_props.get(cls)
        if found is None:
            found = self._cloud_checks and any(
                _cloud_checked(p, self.constraints) for p in cls.properties.values())
            self._cloud_props[cls] = found
        return found

    def _validate(self, defn: StackDefinition,
                  constraints: ConstraintRegistry | None = None) -> None:
        """Unknown types, property errors and attributes no type has, found before anything
        is created."""
        placeholders = PlaceholderResources()
        classes: dict[str, type[ResourcePlugin]] = {}
        for name, rdef in defn.resources.items():
            cls = plugin_for(self.registry, rdef.type, rdef.implementation)
            if cls is None:
                if name in defn.nested:
                    self._validate(defn.nested[name], constraints)
                    continue
                raise TemplateError(f"The Resource Type ({rdef.type}) could not be found.",
                                    rdef.key_path("type"), code="ResourceTypeNotFound")
            classes[name] = cls
            values: dict[str, Any] = {}
            deferred: list[str] = []
            any_props = accepts_any_properties(cls)
            for key, snippet in rdef.properties.items():
                static = is_static(snippet)
                if any_props and not static:
                    continue          # nothing to check before the value is known
                try:
                    value = defn.resolve(snippet, placeholders)
                except TemplateError:
                    if static:
                        raise
                    value = None
                if not static:
                    deferred.append(key)
                if value is not ABSENT:
                    values[key] = value
            check_properties(cls, values, rdef.key_path("properties"),
                             constraints=constraints or self.constraints, strict=False,
                             deferred=deferred)
        self._validate_attributes(defn, classes)

    @staticmethod
    def _validate_attributes(defn: StackDefinition,
                             classes: Mapping[str, type[ResourcePlugin]]) -> None:
        """Every ``get_attr`` / ``Fn::GetAtt`` naming an attribute its resource's type does not
        have fails, as Heat's validation does (types with dynamic attributes, those accepting
        any attribute and provider templates decide when asked)."""

        def bad(dep: Any) -> bool:
            if dep.attribute is None or dep.attribute == "*" or dep.attribute == "show":
                return False
            cls = classes.get(dep.resource)
            return not (cls is None or cls.dynamic_attributes or cls.any_attribute
                        or dep.attribute in cls.attributes)

        checks: list[tuple[Any, Path]] = []
        for rdef in defn.resources.values():
            if any(bad(dep) for dep in rdef.references):
                checks.extend(((rdef.properties, rdef.key_path("properties")),
                               (rdef.metadata, rdef.key_path("metadata")),
                               (rdef.update_policy, rdef.key_path("update_policy"))))
        for name, out in defn.outputs.items():
            if out.enabled and any(bad(dep) for dep in dependencies(out.value)):
                checks.append((out.value, ("outputs", name)))
        for snippet, where in checks:
            for fn in functions_in(snippet):
                inner = set(dependencies(fn.args))
                for dep in fn.dependencies():
                    if dep not in inner and bad(dep):
                        raise TemplateError(
                            f"The Referenced Attribute ({dep.resource} {dep.attribute}) is "
                            "incorrect.", fn.path, code="InvalidTemplateAttribute")
            for dep in dependencies(snippet):
                if bad(dep):
                    raise TemplateError(
                        f"The Referenced Attribute ({dep.resource} {dep.attribute}) is "
                        "incorrect.", where, code="InvalidTemplateAttribute")

    # -- running an operation ---------------------------------------------------------------
    async def _operate(self, state: StackState, action: str, request: StackRequest, *,
                       patch: bool, facade: Mapping[str, Any] | None = None,
                       deadline: float | None = None, depth: int = 0) -> StackState:
        if state.id in self._running:
            raise EngineError(f"Stack {state.name} has an operation in progress",
                              "ActionInProgress")
        template, params, env_docs, files = self._merge_request(state, request, patch)
        constraints = _OperationConstraints(self.constraints) if self._cloud_checks \
            else self.constraints
        defn = await self._checked_definition(state, template, params, env_docs, files,
                                              constraints, facade=facade, depth=depth,
                                              patch_params=patch)
        resuming = state.action == action and state.status == IN_PROGRESS
        parent_op = self._running.get(state.parent) if state.parent else None
        if action == UPDATE and not resuming:
            state.previous = {"template": state.template, "parameters": state.parameters,
                              "environment": state.environment, "files": state.files}
        state.template = template
        state.parameters = {k: v for k, v in params.items()
                            if k in defn.template.parameter_schemas}
        env = defn.environment
        state.environment = env.as_dict() if env is not None and env_docs else {}
        state.files = dict(files)
        state.hidden = sorted(n for n, s in defn.template.parameter_schemas.items() if s.hidden)
        state.timeout_minutes = request.timeout_minutes
        state.disable_rollback = request.disable_rollback
        if state.created_time is None:
            state.created_time = now()
        if deadline is None and request.timeout_minutes:
            deadline = time.monotonic() + request.timeout_minutes * 60
        op = _Op(self, state, action, deadline, depth)
        op.resuming = resuming or (parent_op is not None and parent_op.resuming)
        op.definition = defn
        op.constraints = constraints
        self._running[state.id] = op
        try:
            self._stack_status(state, action, IN_PROGRESS, f"Stack {action} started")
            failure = await self._converge(op, defn)
            await self._refresh_for_outputs(op, defn)
            if failure is None:
                self._outputs(state, defn, op)
                self._stack_status(state, action, COMPLETE,
                                   f"Stack {action} completed successfully")
                state.previous = None if action == CREATE else state.previous
                return state
            self._outputs(state, defn, op)
            self._stack_status(state, action, FAILED, failure)
            rollback = (op.cancel_requested and op.cancel_rollback) or (
                not op.cancel_requested and not request.disable_rollback)
            if rollback and action in (CREATE, UPDATE):
                await self._rollback(op, action, request.timeout_minutes)
            return state
        finally:
            self._running.pop(state.id, None)

    async def _converge(self, op: _Op, defn: StackDefinition) -> str | None:
        """Bring every resource of ``defn`` to its definition, then delete the removed and
        replaced ones. Returns the stack's failure reason, or None."""
        op.definition = defn
        op.plugins = {n: self._plugin_for(defn, r) for n, r in defn.resources.items()}
        op.requires = stack_requires(defn, self.registry)
        op.live = {n for n, p in op.plugins.items()
                   if p.live_attributes and not p.dynamic_attributes}
        walk = _Walk(op.requires, functools.partial(self._converge_resource, op, defn))
        failure = await self._run_walk(op, walk)
        if failure is not None:
            return failure
        return await self._cleanup(op, [k for k in op.state.resources
                                        if k not in defn.resources])

    async def _run_walk(self, op: _Op, walk: _Walk) -> str | None:
        op.walk = walk
        try:
            await walk.execute(op.deadline)
        finally:
            op.walk = None
        if walk.timed_out or (op.deadline is not None and walk.failure is not None
                              and time.monotonic() >= op.deadline):
            return "Timed out"
        if op.cancel_requested:
            return f"Stack {op.action} cancelled"
        if walk.failure is not None:
            return f"Resource {walk.failure.action} failed: {walk.failure.reason}"
        return None

    async def _cleanup(self, op: _Op, keys: list[str]) -> str | None:
        if not keys:
            return None
        order = removal_order(op.state.resources, keys)
        walk = _Walk(order, functools.partial(self._delete_entry, op))
        return await self._run_walk(op, walk)

    async def _rollback(self, op: _Op, failed_action: str, timeout: float | None) -> None:
        state = op.state
        op.cancel_requested = False
        op.deadline = time.monotonic() + timeout * 60 if timeout else None
        self._running[state.id] = op
        op.action = ROLLBACK
        self._stack_status(state, ROLLBACK, IN_PROGRESS, f"Stack {ROLLBACK} started")
        if failed_action == CREATE or not state.previous:
            failure = await self._cleanup(op, list(state.resources))
            defn: StackDefinition | None = None
        else:
            prev = state.previous
            try:
                defn = self._define(state, prev["template"], prev["parameters"],
                                    [prev["environment"]] if prev["environment"] else [],
                                    prev["files"], depth=op.depth,
                                    constraints=op.constraints)
            except TemplateError as exc:
                self._stack_status(state, ROLLBACK, FAILED, str(exc))
                return
            failure = await self._converge(op, defn)
            if failure is None:
                state.template, state.parameters = prev["template"], prev["parameters"]
                state.environment, state.files = prev["environment"], prev["files"]
                state.previous = None
        if failure is not None:
            self._stack_status(state, ROLLBACK, FAILED, failure)
            return
        if defn is not None:
            await self._refresh_for_outputs(op, defn)
            self._outputs(state, defn, op)
        else:
            state.outputs, state.output_errors = {}, {}
        self._stack_status(state, ROLLBACK, COMPLETE, f"Stack {ROLLBACK} completed successfully")

    def _outputs(self, state: StackState, defn: StackDefinition, op: _Op) -> None:
        state.outputs, state.output_errors = _output_values(defn, op.resolver)

    # -- one resource -----------------------------------------------------------------------
    async def _converge_resource(self, op: _Op, defn: StackDefinition, name: str) -> None:
        state = op.state
        rdef = defn.resources[name]
        plugin = op.plugins[name]
        rec = state.resources.get(name)
        if op.live:
            await self._refresh_targets(op, rdef)
        try:
            raw = defn.resolve_properties(name, op.resolver)
            if self._needs_cloud_checks(type(plugin)):   # asks the cloud: off the event loop
                props = await self._run_sync(
                    check_properties, type(plugin), raw, rdef.key_path("properties"),
                    constraints=op.constraints)
            else:
                props = check_properties(type(plugin), raw, rdef.key_path("properties"),
                                         constraints=op.constraints)
            metadata = defn.resolve(rdef.metadata, op.resolver) if rdef.metadata else {}
            policy = defn.resolve(rdef.update_policy, op.resolver) if rdef.update_policy \
                else {}
        except TemplateError as exc:
            action = UPDATE if rec is not None and rec.physical_id is not None else CREATE
            if rec is None:
                rec = self._new_record(state, name, rdef)
            reason = failure_reason(exc, name)
            self._set(state, name, rec, action, FAILED, reason)
            raise _ResourceFailed(action, reason) from None
        metadata = metadata if isinstance(metadata, dict) else {}
        policy = policy if isinstance(policy, dict) else {}
        if rdef.external_id is not None:
            await self._external(op, name, rdef, plugin, props, metadata)
            return
        if rec is not None and op.replaced.get(name):
            rec = self._restore(op, name, rdef, props) or rec
        observed: Any = NOT_OBSERVED
        if rec is not None and rec.physical_id is not None and create_interrupted(rec):
            # the cloud made it and the state recorded it, but the create did not finish
            # (aborted, timed out, or the process died): finish it unless it is gone or
            # failed in the cloud
            try:
                seen = await plugin.read(self._ctx(state, name, rec, op), rec.properties)
            except Exception:
                seen = Observed()        # cannot tell: finishing will say
            if seen is None:
                rec.physical_id, rec.data = None, {}
            elif seen.failed:
                observed = seen
            else:
                await self._finish_create(op, name, rec, plugin, rec.properties, metadata,
                                          policy)
                self._acted(op, name)
        if rec is not None and rec.physical_id is not None and rec.action == CHECK \
                and rec.status == FAILED:
            observed = await plugin.read(self._ctx(state, name, rec, op), rec.properties)
            if observed is not None and not observed.failed and rec.type == rdef.type:
                rec.status, rec.action = COMPLETE, CHECK
        decision = decide(plugin, rec, rdef.type, props, observed=observed, metadata=metadata)
        requires = sorted(op.requires.get(name, rdef.dependencies))
        if decision.action == P_NOOP:
            assert rec is not None
            dirty = False
            if rec.requires != requires or rec.deletion_policy != rdef.deletion_policy:
                rec.requires, rec.deletion_policy = requires, rdef.deletion_policy
                dirty = True
            if decision.changed:         # a type that is never updated: record the new values
                rec.properties = props
                dirty = True
            if dirty:
                self._save(state, name)
            return
        if decision.action == P_UPDATE:
            assert rec is not None
            await self._update(op, name, rec, rdef, plugin, props, metadata, policy, decision)
            self._acted(op, name)
            return
        if decision.action == P_REPLACE:
            assert rec is not None
            old_key = self._retire(op, name)
            if not plugin.can_coexist:
                old_plugin = self._plugin_of_record(state.resources[old_key], None) \
                    if state.resources[old_key].type != rdef.type else plugin
                await self._delete_entry(op, old_key, plugin=old_plugin)
            rec = None
        elif decision.action == P_CREATE and rec is not None:
            # gone from the cloud: forget the old physical resource
            rec.physical_id = None
            rec.data = {}
        adopt = decision.action == P_ADOPT
        await self._create(op, name, rec, rdef, plugin, props, metadata, policy, adopt=adopt)
        self._acted(op, name)

    # -- live attributes --------------------------------------------------------------------
    def _acted(self, op: _Op, name: str) -> None:
        """``name`` finished an action: its attributes are fresh, and those of what it
        depends on may have changed (a subnet added to a network, a floating IP
        associated)."""
        if not op.live:
            return
        op.seq += 1
        op.read_at[name] = op.seq
        for dep in op.requires.get(name, ()):
            if dep in op.live:
                op.touched_at[dep] = op.seq

    async def _refresh_targets(self, op: _Op, rdef: ResourceDefinition) -> None:
        """Before ``rdef``'s properties are resolved: re-read the attributes of the resources
        it takes attributes from, when something depending on them acted since they were
        read."""
        stale = {ref.resource for ref in rdef.references
                 if ref.attribute is not None and ref.resource in op.live
                 and op.touched_at.get(ref.resource, -1) > op.read_at.get(ref.resource, -1)}
        if stale:
            await asyncio.gather(*(self._refresh_attributes(op, t) for t in sorted(stale)))

    async def _refresh_for_outputs(self, op: _Op, defn: StackDefinition) -> None:
        """Before outputs are computed: re-read the attributes of the resources outputs take
        attributes from (Heat reads them live), unless read in this operation and untouched
        since; one read per resource, in parallel within the concurrency limit."""
        if not op.live:
            return
        targets: set[str] = set()
        for out in defn.outputs.values():
            if out.enabled:
                targets.update(d.resource for d in dependencies(out.value)
                               if d.attribute is not None and d.resource in op.live)
        stale = [t for t in sorted(targets)
                 if t not in op.read_at or op.touched_at.get(t, -1) > op.read_at[t]]
        if stale:
            await asyncio.gather(*(self._refresh_attributes(op, t) for t in stale))

    async def _refresh_attributes(self, op: _Op, name: str) -> None:
        """Re-read one resource's attributes into the state (one read, shared by concurrent
        askers); a failed read keeps the cached values."""
        running = op.refreshing.get(name)
        if running is not None:
            await asyncio.shield(running)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        op.refreshing[name] = future
        try:
            state = op.state
            rec = state.resources.get(name)
            if rec is None or rec.physical_id is None or rec.status != COMPLETE:
                return
            plugin = op.plugins.get(name) or self._plugin_of_record(rec, op)
            mark = op.seq
            try:
                async with self._limit(plugin):
                    attrs = await plugin.attribute_values(self._ctx(state, name, rec, op),
                                                          rec.properties)
            except asyncio.CancelledError:
                raise
            except Exception:
                return
            op.read_at[name] = max(mark, op.read_at.get(name, -1))
            if attrs and attrs != rec.attributes:
                rec.attributes = attrs
                self._save(state, name)
        finally:
            op.refreshing.pop(name, None)
            future.set_result(None)

    def _new_record(self, state: StackState, name: str, rdef: ResourceDefinition
                    ) -> ResourceState:
        rec = ResourceState(name=name, type=rdef.type, action=INIT, status=COMPLETE,
                            requires=sorted(rdef.dependencies),
                            deletion_policy=rdef.deletion_policy, uid=new_id())
        state.resources[name] = rec
        return rec

    def _retire(self, op: _Op, name: str) -> str:
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
        self._save(state)
        return key

    def _restore(self, op: _Op, name: str, rdef: ResourceDefinition,
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
                self._retire(op, name)
            state.resources.pop(key)
            op.replaced[name].remove(key)
            old.name, old.replaced_by = name, None
            state.resources[name] = old
            self._save(state)
            return old
        return None

    async def _finish_create(self, op: _Op, key: str, rec: ResourceState,
                             plugin: ResourcePlugin, props: dict[str, Any],
                             metadata: dict[str, Any], policy: dict[str, Any]) -> None:
        """A create interrupted after the physical resource was recorded: wait for it."""
        state = op.state
        ctx = self._ctx(state, key, rec, op, metadata=metadata, update_policy=policy)
        with self._recording_failure(state, key, rec, CREATE):
            attrs = await self._transient(op, key, rec, CREATE,
                                          lambda: self._created_attrs(plugin, ctx, props))
        rec.attributes = attrs
        self._set(state, key, rec, CREATE, COMPLETE)

    async def _wait_created(self, plugin: ResourcePlugin, ctx: ResourceContext,
                            props: dict[str, Any]) -> None:
        delay = POLL_START
        while not await plugin.check_create_complete(ctx, props):
            await asyncio.sleep(delay)
            delay = min(delay * 2, POLL_MAX)

    @contextlib.contextmanager
    def _recording_failure(self, state: StackState, key: str, rec: ResourceState,
                           action: str) -> Iterator[None]:
        """Record ``<action>_FAILED`` on the resource when the block fails: "<ACTION> aborted"
        on cancellation (re-raised), Heat's reason otherwise (raised as ``_ResourceFailed``)."""
        try:
            yield
        except asyncio.CancelledError as exc:
            self._set(state, key, rec, action, FAILED, _aborted(action, exc))
            raise
        except Exception as exc:
            reason = failure_reason(exc, base_name(key))
            self._set(state, key, rec, action, FAILED, reason)
            raise _ResourceFailed(action, reason) from None

    async def _created_attrs(self, plugin: ResourcePlugin, ctx: ResourceContext,
                             props: dict[str, Any]) -> dict[str, Any]:
        """Wait for a created resource to be ready; its attribute values."""
        await self._wait_created(plugin, ctx, props)
        return await plugin.attribute_values(ctx, props)

    async def _transient(self, op: _Op, key: str, rec: ResourceState, action: str,
                         step: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run ``step``; while it fails with a :class:`TransientFailure`, run it again after
        a growing pause (each retry recorded as an ``<ACTION>_IN_PROGRESS`` event), at most
        ``transient_attempts`` times in all and never past the stack's deadline: then the
        last failure is raised."""
        first, longest = self.transient_backoff
        attempt = 0
        while True:
            try:
                return await step()
            except Exception as exc:
                if not _transient_error(exc):
                    raise
                attempt += 1
                pause = min(longest, first * 2 ** (attempt - 1))
                late = op.deadline is not None and time.monotonic() + pause >= op.deadline
                if attempt >= self.transient_attempts or late:
                    raise
                self._set(op.state, key, rec, action, IN_PROGRESS,
                          f"Retrying after a transient failure (attempt {attempt + 1} of "
                          f"{self.transient_attempts}): {exc}")
                await asyncio.sleep(pause)

    async def _make(self, op: _Op, name: str, rec: ResourceState, plugin: ResourcePlugin,
                    ctx: ResourceContext, props: dict[str, Any], adopt: bool) -> Created:
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
            created = await self._create_call(op, name, rec, plugin, ctx, props)
            looked = True
            return created

        return await self._transient(op, name, rec, CREATE, attempt)

    async def _create_call(self, op: _Op, name: str, rec: ResourceState,
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
                self._save(op.state, name)
            raise

    def _limit(self, plugin: ResourcePlugin) -> Any:
        # nested-stack types wait for their children's resources: holding a slot while they
        # do could deadlock the concurrency limit
        if plugin.runs_nested_stacks:
            return _NullLimit()
        return self._semaphore()

    async def _create(self, op: _Op, name: str, rec: ResourceState | None,
                      rdef: ResourceDefinition, plugin: ResourcePlugin, props: dict[str, Any],
                      metadata: dict[str, Any], policy: dict[str, Any], *,
                      adopt: bool) -> None:
        state = op.state
        async with self._limit(plugin):
            if rec is None:
                rec = self._new_record(state, name, rdef)
            rec.type = rdef.type
            rec.properties = props
            rec.metadata = metadata
            rec.requires = sorted(op.requires.get(name, rdef.dependencies))
            rec.deletion_policy = rdef.deletion_policy
            rec.created_time = rec.created_time or now()
            if rec.uid is None:
                rec.uid = new_id()
            self._set(state, name, rec, CREATE, IN_PROGRESS)
            ctx = self._ctx(state, name, rec, op, metadata=metadata, update_policy=policy)
            with self._recording_failure(state, name, rec, CREATE):
                created = await self._make(op, name, rec, plugin, ctx, props,
                                           adopt or op.resuming)
            # record the physical id the moment we have it
            rec.physical_id = created.physical_id
            rec.data = dict(created.data)
            self._save(state, name)
            ctx.physical_id, ctx.data = rec.physical_id, rec.data
            with self._recording_failure(state, name, rec, CREATE):
                attrs = await self._transient(
                    op, name, rec, CREATE, lambda: self._created_attrs(plugin, ctx, props))
            rec.attributes = attrs
            self._set(state, name, rec, CREATE, COMPLETE)

    async def _external(self, op: _Op, name: str, rdef: ResourceDefinition,
                        plugin: ResourcePlugin, props: dict[str, Any],
                        metadata: dict[str, Any]) -> None:
        """``external_id``: the resource exists outside the stack; record it, never delete."""
        state = op.state
        rec = state.resources.get(name)
        external = str(rdef.external_id)
        if rec is not None and rec.physical_id == external and rec.status == COMPLETE:
            return
        if rec is None:
            rec = self._new_record(state, name, rdef)
        rec.physical_id, rec.properties, rec.metadata = external, props, metadata
        rec.deletion_policy = "Retain"
        ctx = self._ctx(state, name, rec, op, metadata=metadata)
        try:
            observed = await plugin.read(ctx, props)
            if observed is None:
                raise ResourceFailure(f"The Resource ({external}) could not be found.")
            rec.attributes = {**observed.attributes,
                              **(await plugin.attribute_values(ctx, props))}
        except Exception as exc:
            reason = failure_reason(exc, name)
            self._set(state, name, rec, CREATE, FAILED, reason)
            raise _ResourceFailed(CREATE, reason) from None
        self._set(state, name, rec, CREATE, COMPLETE)

    async def _update(self, op: _Op, name: str, rec: ResourceState, rdef: ResourceDefinition,
                      plugin: ResourcePlugin, props: dict[str, Any], metadata: dict[str, Any],
                      policy: dict[str, Any], decision: Decision) -> None:
        state = op.state
        async with self._limit(plugin):
            self._set(state, name, rec, UPDATE, IN_PROGRESS)
            ctx = self._ctx(state, name, rec, op, metadata=metadata, update_policy=policy)
            try:
                if decision.error:
                    raise ResourceFailure(decision.error)
                old = dict(rec.properties)
                data = await self._transient(
                    op, name, rec, UPDATE,
                    lambda: plugin.update(ctx, old, props, decision.changed))
                if data is not None:
                    rec.data = dict(data)
                    ctx.data = rec.data
                attrs = await self._transient(
                    op, name, rec, UPDATE, lambda: plugin.attribute_values(ctx, props))
            except asyncio.CancelledError as exc:
                self._set(state, name, rec, UPDATE, FAILED, _aborted(UPDATE, exc))
                raise
            except Exception as exc:
                reason = failure_reason(exc, name)
                if decision.error:
                    reason = f"NotSupported: resources.{name}: {decision.error}"
                self._set(state, name, rec, UPDATE, FAILED, reason)
                raise _ResourceFailed(UPDATE, reason) from None
            rec.properties = props
            rec.metadata = metadata
            rec.attributes = attrs
            rec.requires = sorted(op.requires.get(name, rdef.dependencies))
            rec.deletion_policy = rdef.deletion_policy
            rec.updated_time = now()
            self._set(state, name, rec, UPDATE, COMPLETE)

    async def _delete_entry(self, op: _Op, key: str, *,
                            plugin: ResourcePlugin | None = None) -> None:
        """Delete one recorded resource (honouring its deletion policy) and forget it."""
        state = op.state
        rec = state.resources.get(key)
        if rec is None:
            return
        if plugin is None:
            plugin = self._plugin_of_record(rec, None)
        if rec.action == DELETE and rec.status == COMPLETE:
            self._forget(op, key)
            return
        if rec.action == INIT and rec.physical_id is None and not rec.nested:
            self._forget(op, key)         # recorded, never acted on
            return
        async with self._limit(plugin):
            self._set(state, key, rec, DELETE, IN_PROGRESS)
            ctx = self._ctx(state, key, rec, op)
            with self._recording_failure(state, key, rec, DELETE):
                policy = rec.deletion_policy
                if policy == "Snapshot" and plugin.supports_snapshot \
                        and rec.physical_id is not None:
                    await plugin.snapshot(ctx, rec.properties)
                    policy = "Delete"
                if policy == "Delete":
                    if rec.physical_id is None:
                        found = await self._transient(
                            op, key, rec, DELETE,
                            lambda: plugin.find_existing(ctx, rec.properties))
                        if found is not None and found.physical_id not in ctx.exclude_ids:
                            ctx.physical_id, ctx.data = found.physical_id, dict(found.data)
                            rec.physical_id = found.physical_id
                    if ctx.physical_id is not None or rec.nested:
                        await self._transient(op, key, rec, DELETE,
                                              lambda: plugin.delete(ctx, rec.properties))
                    if rec.nested:
                        nested = ctx.nested
                        assert nested is not None
                        for child in list(rec.nested):
                            await nested.delete(child)
            self._set(state, key, rec, DELETE, COMPLETE)
            self._forget(op, key)

    def _forget(self, op: _Op, key: str) -> None:
        op.state.resources.pop(key, None)
        if REPLACED_SEP in key:
            keys = op.replaced.get(base_name(key))
            if keys and key in keys:
                keys.remove(key)
        self._save(op.state, key)

    # -- delete and check -------------------------------------------------------------------
    async def _delete_stack(self, state: StackState, deadline: float | None = None
                            ) -> StackState:
        if deadline is None and state.timeout_minutes:
            deadline = time.monotonic() + state.timeout_minutes * 60
        op = _Op(self, state, DELETE, deadline)
        self._running[state.id] = op
        try:
            self._stack_status(state, DELETE, IN_PROGRESS, f"Stack {DELETE} started")
            failure = await self._cleanup(op, list(state.resources))
            if failure is not None:
                self._stack_status(state, DELETE, FAILED, failure)
                return state
            state.outputs, state.output_errors = {}, {}
            self._stack_status(state, DELETE, COMPLETE,
                               f"Stack {DELETE} completed successfully")
            self._loaded.pop(state.id, None)
            try:
                self.store.delete(state.id)
            except Exception as exc:
                raise StateSaveError(f"deleting stack {state.id} failed: {exc}") from exc
            return state
        finally:
            self._running.pop(state.id, None)

    async def _check_stack(self, state: StackState) -> CheckResult:
        op = _Op(self, state, CHECK, None)
        result = CheckResult(state)
        self._running[state.id] = op
        try:
            self._stack_status(state, CHECK, IN_PROGRESS, f"Stack {CHECK} started")
            keys = list(state.resources)
            for key in keys:
                self._set(state, key, state.resources[key], CHECK, IN_PROGRESS)
            seen = await self._observe(state, [k for k in keys
                                               if state.resources[k].physical_id is not None])

            def one(key: str) -> None:
                rec = state.resources[key]
                check = ResourceCheck(key, "", "")
                observed: Observed | None
                found = seen.get(key)
                if rec.physical_id is None:
                    check.reason = failure_reason(
                        ResourceFailure("The resource was never created"), key)
                    observed = Observed(failed=check.reason)
                elif isinstance(found, BaseException):
                    check.reason = failure_reason(found, key)
                    observed = Observed(failed=check.reason)
                else:
                    observed = found
                if observed is None:
                    check.missing = True
                    check.reason = (f"NotFound: resources.{key}: The resource is missing "
                                    "in the cloud")
                elif observed.failed:
                    check.reason = check.reason or (
                        f"ResourceInError: resources.{key}: {observed.failed}")
                else:
                    check.drift = {k: (rec.properties.get(k), v)
                                   for k, v in observed.properties.items()
                                   if rec.properties.get(k) != v}
                    if check.drift:
                        check.reason = (f"Drift: resources.{key}: properties differ from "
                                        f"the applied values: {', '.join(sorted(check.drift))}")
                    if observed.attributes:
                        rec.attributes = {**rec.attributes, **observed.attributes}
                status = FAILED if check.reason else COMPLETE
                check.status = f"{CHECK}_{status}"
                self._set(state, key, rec, CHECK, status, check.reason or "state changed")
                result.resources[key] = check

            for key in keys:
                one(key)
            failed = [f"{k}: {c.reason}" for k, c in sorted(result.resources.items())
                      if c.status.endswith(FAILED)]
            if failed:
                self._stack_status(state, CHECK, FAILED,
                                   f"Resource {CHECK} failed: " + "; ".join(failed))
            else:
                self._stack_status(state, CHECK, COMPLETE,
                                   f"Stack {CHECK} completed successfully")
            return result
        finally:
            self._running.pop(state.id, None)

    # -- nested stacks (used by engine.nested) ----------------------------------------------
    async def run_child(self, request: StackRequest, stack_id: str, parent: StackState, *,
                        deadline: float | None, facade: Mapping[str, Any] | None,
                        depth: int) -> StackState:
        existing = self._load(stack_id)
        if existing is None or (existing.action in (INIT, CREATE)
                                and existing.status != COMPLETE):
            state = existing or StackState(id=stack_id, name=request.name)
            state.parent = parent.id
            return await self._operate(state, CREATE, request, patch=False, facade=facade,
                                       deadline=deadline, depth=depth)
        existing.parent = parent.id
        return await self._operate(existing, UPDATE, request, patch=False, facade=facade,
                                   deadline=deadline, depth=depth)

    async def delete_child(self, stack_id: str, deadline: float | None) -> StackState | None:
        state = self._load(stack_id)
        if state is None:
            return None
        return await self._delete_stack(state, deadline)


class _NullLimit:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


def _output_values(defn: StackDefinition, resolver: _LiveResolver
                   ) -> tuple[dict[str, Any], dict[str, str]]:
    """Every output's value (None and an error for the failing ones)."""
    outputs: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in defn.outputs:
        try:
            outputs[name] = defn.output_value(name, resolver)
        except TemplateError as exc:
            outputs[name] = None
            errors[name] = str(exc)
    return outputs, errors


def _short(value: Any, limit: int = 200) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."


__all__ = [
    "CheckResult",
    "Engine",
    "EngineError",
    "ResourceCheck",
    "StackRequest",
    "StateSaveError",
    "failure_reason",
]

"""The executor: runs stack operations by walking the resource graph with asyncio.

:class:`Engine` creates, updates, deletes, checks, signals and cancels stacks described by a
:class:`~kubeheat.engine.request.StackRequest`. Every resource action starts the moment the
resources it depends on are done; its properties are evaluated just before, with the physical
ids and attributes of the resources already finished, then checked against the type's schema.
What to do with each resource (create, update in place, replace, adopt, nothing) is decided at
that moment with the same rules the planner previews (:func:`kubeheat.engine.decide.decide`).

State is saved after every step: before a handler is called (the resource is recorded
``IN_PROGRESS`` first), the moment a create returns a physical id, and at every status change.
A run interrupted anywhere (task cancelled, process killed, store failing) is resumed by the next
run, which adopts what the interrupted one created (``find_existing`` with the resource's tags)
instead of creating it twice. A create interrupted after its physical id was recorded is
*finished* by the next run (read, then ``check_create_complete`` polled again), not replaced;
only a resource the cloud reports failed (or gone) is replaced (or made again). An interrupted
update is applied again.

Rollback follows Heat's convergence engine: a failed create deletes what it made; a failed
update converges back to the previous template (replaced resources are restored, not rebuilt).

The engine keeps the public operations and the walk over the graph; its collaborators each own
one concern: :mod:`~kubeheat.engine.recorder` (saves, events, every status transition),
:mod:`~kubeheat.engine.plugins` (which plugin handles a resource),
:mod:`~kubeheat.engine.definition` (request to checked definition),
:mod:`~kubeheat.engine.runtime` (contexts, limits, the thread pool, signals),
:mod:`~kubeheat.engine.actions` (create, update, delete of one resource),
:mod:`~kubeheat.engine.live` (live attributes) and :mod:`~kubeheat.engine.check` (observation
and checks). The graph walked is the template's plus the implicit dependencies of its types
(:mod:`kubeheat.engine.deps`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping, Sequence
from typing import Any

from kubeheat.engine.actions import ResourceActions
from kubeheat.engine.check import Checker
from kubeheat.engine.decide import (
    P_ADOPT,
    P_CREATE,
    P_NOOP,
    P_REPLACE,
    P_UPDATE,
    definition_of,
    written_keys,
)
from kubeheat.engine.decide import decide as decide_action
from kubeheat.engine.definition import Definitions
from kubeheat.engine.deps import stack_requires
from kubeheat.engine.events import EventSink
from kubeheat.engine.external import recorded_external
from kubeheat.engine.external import verify as verify_externals
from kubeheat.engine.live import LiveResolver, Refresher, output_values
from kubeheat.engine.model import (
    CHECK,
    COMPLETE,
    CREATE,
    DELETE,
    FAILED,
    IN_PROGRESS,
    REPLACED_SEP,
    ROLLBACK,
    UPDATE,
    Action,
    StackState,
    new_id,
    now,
)
from kubeheat.engine.native import MemoryNativeStore
from kubeheat.engine.nested import root_id
from kubeheat.engine.operation import LiveMarks, Operation, TreeSize
from kubeheat.engine.plan import Plan, plan, removal_order
from kubeheat.engine.plugins import Plugins
from kubeheat.engine.recorder import Recorder
from kubeheat.engine.request import (
    CheckResult,
    EngineError,
    ResourceCheck,
    StackRequest,
    StateSaveError,
    failure_reason,
)
from kubeheat.engine.runtime import Runtime
from kubeheat.engine.sizes import EvaluatedSize
from kubeheat.engine.stores import StateStore
from kubeheat.engine.walk import GraphWalk
from kubeheat.resources import (
    NativeStore,
    Observed,
    PluginRegistry,
    ResourceFailure,
    load_builtin_plugins,
)
from kubeheat.template import (
    DEFAULT_CONSTRAINTS,
    ConstraintRegistry,
    StackDefinition,
    TemplateError,
)

#: the stack timeout of a request that gives none (Heat's ``stack_action_timeout``: 60 min)
DEFAULT_TIMEOUT_MINUTES = 60.0


class Engine:
    """Runs stack operations against a state store and an event sink.

    ``default_timeout_minutes`` bounds every operation whose request gives no timeout (None:
    unbounded). ``offload_evaluation`` evaluates templates (definitions, validation, each
    resource's properties) in the engine's thread pool, so a slow template never holds up the
    event loop other stacks run on (the operator's choice; the CLI evaluates in line)."""

    def __init__(self, store: StateStore, events: EventSink, *,
                 registry: PluginRegistry | None = None, native: NativeStore | None = None,
                 cloud: Any = None, concurrency: int = 64, threads: int = 16,
                 constraints: ConstraintRegistry = DEFAULT_CONSTRAINTS,
                 default_timeout_minutes: float | None = DEFAULT_TIMEOUT_MINUTES,
                 offload_evaluation: bool = False) -> None:
        self.store = store
        self.events = events
        self.registry = registry if registry is not None else load_builtin_plugins()
        self.native: NativeStore = native if native is not None else MemoryNativeStore()
        self.cloud = cloud
        if cloud is not None and constraints is DEFAULT_CONSTRAINTS:
            # a cloud: custom constraints (nova.flavor, neutron.network ...) ask it
            from kubeheat.resources import cloud_constraints

            constraints = cloud_constraints(cloud)
        self.constraints = constraints
        self.recorder = Recorder(store, events)
        self.plugins = Plugins(self.registry)
        self.runtime = Runtime(self.recorder, self.plugins, self, native=self.native,
                               cloud=cloud, concurrency=concurrency, threads=threads)
        self.concurrency = self.runtime.concurrency
        self.default_timeout_minutes = default_timeout_minutes
        self.offload_evaluation = offload_evaluation
        self.definitions = Definitions(self.plugins, constraints, self.runtime.run_sync,
                                       offload=offload_evaluation,
                                       project_id=self._cloud_project)
        self.runtime.project_id = self.definitions.project_id
        self.actions = ResourceActions(self.runtime)
        self.refresher = Refresher(self.runtime)
        self.checker = Checker(self.runtime)
        self._running: dict[str, Operation] = {}

    def _cloud_project(self) -> str | None:
        """The cloud's project id, when the cloud can say (a session's ``project_id``)."""
        found = getattr(self.cloud, "project_id", None)
        return found if isinstance(found, str) and found else None

    def close(self) -> None:
        self.runtime.close()

    @property
    def transient_attempts(self) -> int:
        """How often a step failing transiently is tried, in all."""
        return self.actions.attempts

    @transient_attempts.setter
    def transient_attempts(self, value: int) -> None:
        self.actions.attempts = value

    @property
    def transient_backoff(self) -> tuple[float, float]:
        """The first and the longest pause between attempts (seconds)."""
        return self.actions.backoff

    @transient_backoff.setter
    def transient_backoff(self, value: tuple[float, float]) -> None:
        self.actions.backoff = value

    # -- public operations ----------------------------------------------------------------
    async def create(self, request: StackRequest, stack_id: str | None = None) -> StackState:
        """Create a stack (or resume a create that was interrupted)."""
        existing = self._load(stack_id) if stack_id else None
        if existing is not None and not existing.create_unfinished:
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
        if existing is None or existing.resumes_create:
            return await self.create(request, stack_id)
        return await self.update(existing.id, request)

    async def delete(self, stack_id: str) -> StackState:
        """Delete every resource (reverse dependency order) and then the stack record. An
        operation in progress on the stack is cancelled first (without rollback), as Heat's
        delete supersedes a create or update; a delete in progress is waited for."""
        running = self._running.get(stack_id)
        while running is not None:
            if running.action == DELETE:
                await running.finished.wait()
                return running.state
            running.cancel(rollback=False)
            await running.finished.wait()
            running = self._running.get(stack_id)
        state = self._require(stack_id)
        return await self._delete_stack(state)

    async def check(self, stack_id: str) -> CheckResult:
        """Read every resource; report the missing, the failed and the drifted properties."""
        state = self._require(stack_id)
        op = Operation(state, CHECK, None, constraints=self.constraints)
        self._running[state.id] = op
        try:
            return await self.checker.check(op)
        finally:
            self._running.pop(state.id, None)
            op.finished.set()

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
            await self.runtime.deliver_signal(state, resource_name, rec, op, details)
        except ResourceFailure as exc:
            raise EngineError(str(exc), "ResourceFailure") from None
        if op is None:
            # a signal may change attributes outputs show (a group scaled): outputs are
            # computed again, here and in the stacks above, as Heat shows them live
            self._signal_outputs(state)
        return state

    async def cancel(self, stack_id: str, *, rollback: bool = True) -> bool:
        """Cancel the update in progress on ``stack_id`` (then roll back, unless
        ``rollback=False``). False when nothing is running."""
        op = self._running.get(stack_id)
        if op is None or op.action not in (UPDATE, CREATE):
            return False
        op.cancel(rollback=rollback)
        return True

    async def plan(self, request: StackRequest, stack_id: str | None = None, *,
                   observe: bool = True, patch: bool = False) -> Plan:
        """What :meth:`apply` would do, without changing anything. ``observe`` reads every
        recorded resource so drift and resources missing in the cloud show up."""
        recorded = self._load(stack_id) if stack_id else None
        state = recorded.copy() if recorded is not None else StackState(
            id=stack_id or new_id(), name=request.name)
        template, params, env_docs, files = Definitions.merge_request(state, request, patch)
        defn = await self.definitions.checked(state, template, params, env_docs, files,
                                              self.definitions.for_operation())
        if recorded is not None and not recorded.resumes_create and not (
                recorded.action == UPDATE and recorded.status == IN_PROGRESS):
            self.definitions.check_immutable(recorded, defn)
        observed: dict[str, Observed | None] = {}
        if recorded is not None and observe:
            keys = [n for n, r in recorded.resources.items()
                    if r.physical_id is not None and REPLACED_SEP not in n]
            found = await self.checker.observe(recorded, keys,
                                               self.plugins.for_definitions(defn))
            for key in keys:
                seen = found[key]
                if isinstance(seen, BaseException):  # a read failing is shown, not fatal
                    observed[key] = Observed(failed=f"read failed: {seen}")
                else:
                    observed[key] = seen
        live = LiveResolver(self.runtime, recorded, None) if recorded is not None else None
        return plan(defn, recorded, observed, self.plugins, attributes=live,
                    requires=stack_requires(defn, self.plugins))

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
        return op.state if op is not None else self.recorder.load_cached(stack_id)

    def child_attribute(self, state: StackState, name: str, attribute: str | None,
                        path: Sequence[Any]) -> Any:
        """``get_attr: [name, attribute, *path]`` evaluated in the (child) stack ``state``."""
        op = self._running.get(state.id)
        return LiveResolver(self.runtime, state, op).attribute(name, attribute, path)

    # -- nested stacks (the StackRunner protocol of engine.nested) --------------------------
    async def run_child(self, request: StackRequest, stack_id: str, parent: StackState, *,
                        deadline: float | None, facade: Mapping[str, Any] | None,
                        depth: int) -> StackState:
        existing = self._load(stack_id)
        # a child whose create failed is created again: its parent resource is being
        # created again (Heat replaces a failed nested stack resource with a new stack)
        if existing is None or existing.create_unfinished:
            state = existing or StackState(id=stack_id, name=request.name)
            state.parent, state.region = parent.id, request.region or parent.region
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

    # -- loading ----------------------------------------------------------------------------
    def _load(self, stack_id: str | None) -> StackState | None:
        if not self._running:
            self.recorder.forget_cache()  # another process may have changed the store
        if not stack_id:
            return None
        return self.recorder.load(stack_id)

    def _require(self, stack_id: str) -> StackState:
        if stack_id in self._running:
            raise EngineError(f"Stack {stack_id} has an operation in progress",
                              "ActionInProgress")
        state = self._load(stack_id)
        if state is None:
            raise EngineError(f"The Stack ({stack_id}) could not be found.", "EntityNotFound")
        return state

    def _deadline(self, minutes: float | None) -> float | None:
        """The monotonic deadline of an operation bounded by ``minutes`` (None: the engine's
        default timeout)."""
        minutes = minutes or self.default_timeout_minutes
        return time.monotonic() + minutes * 60 if minutes else None

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
                defn = self.definitions.define(current, current.template, current.parameters,
                                               env, current.files, patch_params=True)
            except TemplateError:
                return
            values = output_values(defn, LiveResolver(self.runtime, current, None))
            if values != (current.outputs, current.output_errors):
                current.outputs, current.output_errors = values
                self.recorder.save(current)
            current = self._load(current.parent) if current.parent else None

    # -- running an operation ---------------------------------------------------------------
    async def _operate(self, state: StackState, action: Action, request: StackRequest, *,
                       patch: bool, facade: Mapping[str, Any] | None = None,
                       deadline: float | None = None, depth: int = 0) -> StackState:
        if state.id in self._running:
            raise EngineError(f"Stack {state.name} has an operation in progress",
                              "ActionInProgress")
        template, params, env_docs, files = Definitions.merge_request(state, request, patch)
        constraints = self.definitions.for_operation()
        defn = await self.definitions.checked(state, template, params, env_docs, files,
                                              constraints, facade=facade, depth=depth,
                                              patch_params=patch)
        resuming = state.action == action and state.status == IN_PROGRESS
        if not resuming:
            await verify_externals(self.runtime, self.plugins, state, defn)
        if action == UPDATE and not resuming:
            self.definitions.check_immutable(state, defn)
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
        if deadline is None:
            deadline = self._deadline(request.timeout_minutes)
        op = Operation(state, action, deadline, depth, constraints=constraints)
        op.resolver = LiveResolver(self.runtime, state, op)
        op.resuming = resuming or (parent_op is not None and parent_op.resuming)
        tree = parent_op.tree if parent_op is not None else None
        if tree is None:
            tree = TreeSize(root_id(state, self.load_cached),
                            defn.template.limits.max_resources_per_stack)
        if state.parent:
            tree.set(state.id, len(defn.resources))
        op.tree = tree
        op.definition = defn
        self._running[state.id] = op
        recorder = self.recorder
        try:
            recorder.stack_transition(state, action, IN_PROGRESS, f"Stack {action} started")
            failure = await self._converge(op, defn)
            await self.refresher.before_outputs(op, defn)
            state.outputs, state.output_errors = output_values(defn, op.resolver, op.evaluated)
            failure = failure or op.evaluated.failure
            if failure is None:
                recorder.stack_transition(state, action, COMPLETE,
                                          f"Stack {action} completed successfully")
                state.previous = None if action == CREATE else state.previous
                return state
            recorder.stack_transition(state, action, FAILED, failure)
            rollback = (op.cancel_requested and op.cancel_rollback) or (
                not op.cancel_requested and not request.disable_rollback)
            if rollback and action in (CREATE, UPDATE):
                await self._rollback(op, action, request.timeout_minutes)
            return state
        finally:
            self._running.pop(state.id, None)
            op.finished.set()

    async def _converge(self, op: Operation, defn: StackDefinition) -> str | None:
        """Bring every resource of ``defn`` to its definition, then delete the removed and
        replaced ones. Returns the stack's failure reason, or None."""
        op.definition = defn
        op.evaluated = EvaluatedSize(defn.template.limits.max_evaluated_bytes)
        op.plugins = self.plugins.for_definitions(defn)
        op.requires = stack_requires(defn, self.plugins)
        op.marks = LiveMarks(n for n, p in op.plugins.items()
                             if p.live_attributes and not p.dynamic_attributes)
        self.actions.record_new(op, defn)
        walk = GraphWalk(op.requires, functools.partial(self._converge_resource, op, defn))
        failure = await self._run_walk(op, walk)
        if failure is not None:
            return failure
        return await self._cleanup(op, [k for k in op.state.resources
                                        if k not in defn.resources])

    async def _run_walk(self, op: Operation, walk: GraphWalk) -> str | None:
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

    async def _cleanup(self, op: Operation, keys: list[str]) -> str | None:
        if not keys:
            return None
        order = removal_order(op.state.resources, keys)
        walk = GraphWalk(order, functools.partial(self.actions.delete, op))
        return await self._run_walk(op, walk)

    async def _rollback(self, op: Operation, failed_action: Action,
                        timeout: float | None) -> None:
        state = op.state
        recorder = self.recorder
        op.cancel_requested = False
        op.deadline = self._deadline(timeout)
        self._running[state.id] = op
        op.action = ROLLBACK
        recorder.stack_transition(state, ROLLBACK, IN_PROGRESS, f"Stack {ROLLBACK} started")
        defn: StackDefinition | None = None
        if failed_action == CREATE or not state.previous:
            failure = await self._cleanup(op, list(state.resources))
        else:
            prev = state.previous
            try:
                defn = self.definitions.define(
                    state, prev["template"], prev["parameters"],
                    [prev["environment"]] if prev["environment"] else [], prev["files"],
                    depth=op.depth, constraints=op.constraints)
            except TemplateError as exc:
                recorder.stack_transition(state, ROLLBACK, FAILED, str(exc))
                return
            failure = await self._converge(op, defn)
            if failure is None:
                state.template, state.parameters = prev["template"], prev["parameters"]
                state.environment, state.files = prev["environment"], prev["files"]
                state.previous = None
        if failure is not None:
            recorder.stack_transition(state, ROLLBACK, FAILED, failure)
            return
        if defn is not None:
            assert op.resolver is not None
            await self.refresher.before_outputs(op, defn)
            state.outputs, state.output_errors = output_values(defn, op.resolver)
        else:
            state.outputs, state.output_errors = {}, {}
        recorder.stack_transition(state, ROLLBACK, COMPLETE,
                                  f"Stack {ROLLBACK} completed successfully")

    async def _delete_stack(self, state: StackState, deadline: float | None = None
                            ) -> StackState:
        if deadline is None:
            deadline = self._deadline(state.timeout_minutes)
        op = Operation(state, DELETE, deadline, constraints=self.constraints)
        parent_op = self._running.get(state.parent) if state.parent else None
        if parent_op is not None:
            op.tree = parent_op.tree
        self._running[state.id] = op
        recorder = self.recorder
        try:
            recorder.stack_transition(state, DELETE, IN_PROGRESS, f"Stack {DELETE} started")
            failure = await self._cleanup(op, list(state.resources))
            if failure is not None:
                recorder.stack_transition(state, DELETE, FAILED, failure)
                return state
            state.outputs, state.output_errors = {}, {}
            recorder.stack_transition(state, DELETE, COMPLETE,
                                      f"Stack {DELETE} completed successfully")
            recorder.delete(state.id)
            if op.tree is not None:
                op.tree.forget(state.id)
            return state
        finally:
            self._running.pop(state.id, None)
            op.finished.set()

    # -- one resource -----------------------------------------------------------------------
    async def _converge_resource(self, op: Operation, defn: StackDefinition, name: str) -> None:
        """Bring resource ``name`` to its definition (one node of the graph walk)."""
        rdef = defn.resources[name]
        plugin = op.plugins[name]
        await self.refresher.before_resolving(op, rdef)
        props, metadata, policy, raw = await self.actions.resolved(
            op, defn, name, plugin, self.definitions.needs_cloud_checks(type(plugin)))
        given = definition_of(raw, rdef.depends_on, rdef.deletion_policy, policy,
                              rdef.condition, written_keys(defn, rdef))
        op.given[name] = given
        rec = op.state.resources.get(name)
        if rdef.external_id is not None or recorded_external(rec, None) is not None:
            await self.actions.external(op, name, rdef, plugin, props, metadata)
            return
        if rec is not None and op.replaced.get(name):
            rec = self.actions.restore(op, name, rdef, props) or rec
        observed = await self.actions.carry_on(op, name, rec, plugin, rdef.type, metadata,
                                               policy)
        decision = decide_action(plugin, rec, rdef.type, props, observed=observed,
                                 metadata=metadata, deletion_policy=rdef.deletion_policy,
                                 given=given)
        if decision.action == P_NOOP:
            assert rec is not None
            self.actions.record_unchanged(op, name, rec, props, decision.changed)
            return
        actions = self.actions
        if decision.action == P_UPDATE:
            assert rec is not None
            await actions.update(op, name, rec, rdef, plugin, props, metadata, policy,
                                 decision.changed, decision.error)
        else:
            if decision.action == P_REPLACE:
                assert rec is not None
                if decision.tried_update:
                    actions.requires_replacement(op, name, rec, plugin)
                old_key = actions.retire(op, name)
                if not plugin.can_coexist:
                    old = op.state.resources[old_key]
                    old_plugin = self.plugins.of_record(old) if old.type != rdef.type \
                        else plugin
                    await actions.delete(op, old_key, plugin=old_plugin)
                rec = None
            elif decision.action == P_CREATE and rec is not None:
                # gone from the cloud: forget the old physical resource
                rec.physical_id = None
                rec.data = {}
            await actions.create(op, name, rec, rdef, plugin, props, metadata, policy,
                                 adopt=decision.action == P_ADOPT)
        op.marks.acted(name, op.requires.get(name, ()))


__all__ = [
    "CheckResult",
    "Engine",
    "EngineError",
    "ResourceCheck",
    "StackRequest",
    "StateSaveError",
    "failure_reason",
]

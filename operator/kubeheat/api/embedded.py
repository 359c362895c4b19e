"""The embedded backend: the engine of ``kubeheat run`` in the API's own process, its stacks
in a state file under a local directory, and the embedded sandbox cloud (started on first use)
when no cloud is configured."""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from pathlib import Path
from typing import Any

from kubeheat.engine import (
    Action,
    Engine,
    EngineError,
    Event,
    FileNativeStore,
    JsonFileStateStore,
    ListEventSink,
    StackRequest,
    StackState,
    Status,
    new_id,
    now,
)
from kubeheat.template import (
    Environment,
    Template,
    format_parameter_groups,
    format_validate_parameters,
    hidden_parameter_names,
    merge_environments,
    parse_environment,
)

STATE_FILE = "stacks.json"
EVENTS_SECTION = "api_events"
#: Heat's rule for stack names (engine/service.py)
STACK_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_.-]{0,254}$")
#: events kept per stack (Heat purges past about 1000)
MAX_EVENTS = 1000


SANDBOX_SECTION = "sandbox"


class SandboxCloud:
    """The embedded sandbox cloud, started on the first use of :attr:`conn`; its contents are
    restored from and saved into the state file's ``sandbox`` section, as ``kubeheat run``
    keeps them."""

    def __init__(self, store: JsonFileStateStore | None = None) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._session: Any = None
        self._sandbox: Any = None
        self._cm: contextlib.AbstractContextManager[Any] | None = None

    @property
    def conn(self) -> Any:
        with self._lock:
            if self._session is None:
                from kubeheat.cloud import connect
                from kubeheat.sandbox import run_sandbox

                self._cm = run_sandbox()
                sandbox = self._cm.__enter__()
                saved = self.store.extra(SANDBOX_SECTION) if self.store is not None else None
                if isinstance(saved, dict):
                    sandbox.restore(saved)
                self._sandbox = sandbox
                self._session = connect(sandbox.clouds, sandbox.config.cloud_name)
            return self._session.conn

    @property
    def project_id(self) -> str | None:
        return None

    def close(self) -> None:
        with self._lock:
            if self._session is not None:
                with contextlib.suppress(Exception):
                    self._session.close()
            if self._sandbox is not None and self.store is not None:
                self.store.set_extra(SANDBOX_SECTION, self._sandbox.snapshot())
            if self._cm is not None:
                self._cm.__exit__(None, None, None)
            self._session = self._cm = self._sandbox = None


class _Sink(ListEventSink):
    """The engine's events; the stack-level "started" event of an operation ends its pending
    status (:attr:`EmbeddedBackend.pending`)."""

    def __init__(self, pending: dict[str, tuple[Action, str]]) -> None:
        super().__init__()
        self.pending = pending

    def emit(self, event: Event) -> None:
        super().emit(event)
        if event.is_stack_event and event.resource_status == Status.IN_PROGRESS:
            self.pending.pop(event.stack_id, None)


class EmbeddedBackend:
    """Stacks run by an in-process engine, recorded in ``STATE_DIR/stacks.json``.

    ``cloud`` is what resource plugins use (an object with ``conn``); None: the sandbox."""

    def __init__(self, state_dir: Path, cloud: Any = None) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.store = JsonFileStateStore(state_dir / STATE_FILE)
        #: operations accepted whose engine run has not recorded its start yet: the stack is
        #: shown ``<ACTION>_IN_PROGRESS`` at once, as Heat shows it
        self.pending: dict[str, tuple[Action, str]] = {}
        self.sink = _Sink(self.pending)
        saved = self.store.extra(EVENTS_SECTION)
        self._saved_events = 0
        self._own_cloud = cloud is None
        self.cloud = cloud if cloud is not None else SandboxCloud(self.store)
        self.engine = Engine(self.store, self.sink, native=FileNativeStore(self.store),
                             cloud=self.cloud)
        self._old_events = [Event(**{k: v for k, v in e.items() if k != "logical_resource_id"})
                            for e in saved] if isinstance(saved, list) else []
        self._deleted: dict[str, StackState] = {}
        self._deletion_times: dict[str, str] = {}
        self._fail_interrupted()
        self._tasks: dict[str, asyncio.Task[Any]] = {}

    def _fail_interrupted(self) -> None:
        """A stack left ``IN_PROGRESS`` by a process that ended is ``FAILED``, as Heat's
        engine marks the stacks of an engine that went down (applying it again resumes)."""
        for stack_id in self.store.list():
            state = self.store.load(stack_id)
            if state is not None and state.parent is None and \
                    state.status == Status.IN_PROGRESS:
                state.status = Status.FAILED
                state.status_reason = f"Engine went down during stack {state.action}"
                self.store.save(state)

    # -- reading --------------------------------------------------------------------------
    def stacks(self) -> list[StackState]:
        found = [s for s in (self.get(i) for i in self.store.list()
                             if i not in self._deleted)
                 if s is not None and s.parent is None]
        return found + list(self._deleted.values())

    def get(self, stack_id: str) -> StackState | None:
        state = self._deleted.get(stack_id) or self.engine.load(stack_id)
        pending = self.pending.get(stack_id)
        if state is not None and pending is not None:
            state.action, state.status = pending[0], Status.IN_PROGRESS
            state.status_reason, state.updated_time = f"Stack {pending[0]} started", pending[1]
        return state

    def find(self, name_or_id: str) -> StackState | None:
        by_id = self.get(name_or_id)
        if by_id is not None:
            return by_id
        return next((s for s in self.stacks()
                     if s.name == name_or_id and s.id not in self._deleted), None)

    def events(self, stack_id: str) -> list[Event]:
        return [e for e in [*self._old_events, *self.sink.events] if e.stack_id == stack_id]

    def deletion_time(self, stack_id: str) -> str | None:
        return self._deletion_times.get(stack_id)

    def resource_types(self) -> list[str]:
        return self.engine.registry.names()

    # -- changing -------------------------------------------------------------------------
    async def create(self, request: StackRequest) -> StackState:
        if not STACK_NAME.match(request.name):
            raise EngineError(
                f'Invalid stack name {request.name} must contain only alphanumeric or "_-." '
                "characters, must start with alpha and must be 255 characters or less.",
                "StackValidationFailed")
        if self.find(request.name) is not None and request.name not in self._deleted:
            live = [s for s in self.stacks() if s.name == request.name
                    and s.id not in self._deleted]
            if live:
                raise EngineError(f"The Stack ({request.name}) already exists.", "StackExists")
        await self.engine.plan(request)          # refuses a bad request before storing it
        state = StackState(id=new_id(), name=request.name, action=Action.CREATE,
                           status=Status.IN_PROGRESS, status_reason="Stack CREATE started",
                           created_time=now(), disable_rollback=request.disable_rollback,
                           timeout_minutes=request.timeout_minutes)
        self.store.save(state)
        self._start(state.id, self.engine.create(request, state.id))
        return state

    async def update(self, stack_id: str, request: StackRequest, *, patch: bool) -> None:
        self._require_idle(stack_id)
        await self.engine.plan(request, stack_id, observe=False, patch=patch)
        self.pending[stack_id] = (Action.UPDATE, now())
        self._start(stack_id, self.engine.update(stack_id, request, patch=patch))

    async def check(self, stack_id: str) -> None:
        state = self._require_idle(stack_id)
        self.pending[stack_id] = (Action.CHECK, state.updated_time or "")
        self._start(stack_id, self.engine.check(stack_id))

    async def cancel(self, stack_id: str, *, rollback: bool) -> None:
        state = self.get(stack_id)
        if state is None:
            raise EngineError(f"The Stack ({stack_id}) could not be found.", "EntityNotFound")
        if not await self.engine.cancel(stack_id, rollback=rollback):
            raise EngineError(f"Cancelling update when stack is {state.state} is not "
                              "supported.", "NotSupported")

    async def signal(self, stack_id: str, resource: str, details: Any) -> None:
        from kubeheat.resources import ResourcePlugin

        state = self.engine.load(stack_id)
        rec = state.resources.get(resource) if state is not None else None
        plugin = self.engine.registry.get(rec.type) if rec is not None else None
        if plugin is not None and plugin.signal is ResourcePlugin.signal:
            # the type has no signal handler: Heat refuses before the resource is asked
            raise EngineError("signal is not supported for resource.",
                              "ResourceActionNotSupported")
        await self.engine.signal(stack_id, resource, details)
        self._persist_events()

    def _require_idle(self, stack_id: str) -> StackState:
        state = self.engine.load(stack_id)
        if state is None:
            raise EngineError(f"The Stack ({stack_id}) could not be found.", "EntityNotFound")
        if stack_id in self._tasks or state.status == Status.IN_PROGRESS:
            raise EngineError(f"Stack {state.name} already has an action ({state.action}) in "
                              "progress.", "ActionInProgress")
        return state

    async def delete(self, stack_id: str) -> None:
        state = self.engine.load(stack_id)
        if state is None:
            raise EngineError(f"The Stack ({stack_id}) could not be found.", "EntityNotFound")
        started = now()
        state.action, state.status = Action.DELETE, Status.IN_PROGRESS
        state.status_reason, state.updated_time = "Stack DELETE started", started
        if stack_id not in self._tasks:
            self.store.save(state)

        async def go() -> StackState:
            result = await self.engine.delete(stack_id)
            if result.status == Status.COMPLETE:
                # as Heat keeps it: readable by id, updated when the delete started
                result.status_reason = "Stack DELETE completed successfully"
                result.updated_time = started
                self._deletion_times[stack_id] = now()
                self._deleted[stack_id] = result
            return result

        self._start(stack_id, go())

    def _start(self, stack_id: str, work: Any) -> None:
        previous = self._tasks.get(stack_id)

        async def run() -> None:
            if previous is not None:
                with contextlib.suppress(BaseException):
                    await previous
            try:
                await work
            except Exception as exc:   # recorded as the stack's failure by the engine
                failed = self.engine.load(stack_id)
                if failed is not None and failed.status == Status.IN_PROGRESS:
                    failed.status, failed.status_reason = Status.FAILED, str(exc)
                    self.store.save(failed)
            finally:
                self.pending.pop(stack_id, None)
                self._persist_events()
                if self._tasks.get(stack_id) is task:
                    del self._tasks[stack_id]

        task = asyncio.get_running_loop().create_task(run())
        self._tasks[stack_id] = task

    def _persist_events(self) -> None:
        new = self.sink.events[self._saved_events:]
        if not new:
            return
        kept = [e.to_dict() for e in [*self._old_events, *self.sink.events]][-MAX_EVENTS * 50:]
        self.store.set_extra(EVENTS_SECTION, kept)
        self._saved_events = len(self.sink.events)

    async def validate(self, request: StackRequest) -> dict[str, Any]:
        template = Template.load(request.template or {}, files=request.files)
        envs = [parse_environment(e) for e in request.environments]
        environment = merge_environments(envs) if envs else None
        defn = template.define(request.parameters, environment, strict=False)
        await self.engine.plan(request)      # unknown types and the engine's other checks
        result: dict[str, Any] = {
            "Description": template.description,
            "Parameters": format_validate_parameters(template.parameter_schemas,
                                                     defn.parameters),
        }
        if template.parameter_groups:
            result["ParameterGroups"] = format_parameter_groups(template.parameter_groups)
        result["Environment"] = _environment(environment, request.parameters,
                                             hidden_parameter_names(template))
        return result

    async def close(self) -> None:
        for task in list(self._tasks.values()):
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(task), 30)
        self._persist_events()
        self.engine.close()
        if self._own_cloud:
            self.cloud.close()
        self.store.close()


def _environment(environment: Environment | None, params: dict[str, Any],
                 hidden: set[str]) -> dict[str, Any]:
    """Validate's ``Environment``: the user's sections, the given values in ``parameters``."""
    from kubeheat.template import (
        EVENT_SINKS,
        MASK,
        PARAMETER_DEFAULTS,
        PARAMETERS,
        RESOURCE_REGISTRY,
    )

    env = (environment or Environment()).as_dict()
    env[PARAMETERS] = {**env[PARAMETERS], **params}
    env[RESOURCE_REGISTRY].setdefault("resources", {})
    for section in (PARAMETERS, PARAMETER_DEFAULTS):
        env[section] = {k: (MASK if k in hidden else v) for k, v in env[section].items()}
    return {s: env[s] for s in (RESOURCE_REGISTRY, PARAMETERS, PARAMETER_DEFAULTS, EVENT_SINKS)}

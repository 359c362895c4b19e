"""What every handler of the Stack works with (:class:`StackRuns`, the base of
:class:`~kubeheat.controller.handlers.Controller`): the operator's options, the Kubernetes
client, the per-Stack locks and the fair slots, one cloud session per credentials Secret, and
one :class:`StackRun` per operation (its state Secret, Events and engine); and the status:
patches that send only what changed, the conditions of a phase, ``Stalled`` with its Warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import kopf

from kubeheat.cloud import CloudConfigError, CloudSession, connect
from kubeheat.controller.crd import GROUP, PLURAL, VERSION
from kubeheat.controller.errors import SpecError
from kubeheat.controller.events import EventCollector, KubeEvents
from kubeheat.controller.kube import KubeClient, KubeError
from kubeheat.controller.metrics import Metrics
from kubeheat.controller.scheduling import (
    Admission,
    DeletionWatch,
    FairSlots,
    default_namespace_share,
)
from kubeheat.controller.spec import Resolved
from kubeheat.controller.status import conditions_for, summary
from kubeheat.controller.statusfit import fit_fields, send_status
from kubeheat.controller.store import SecretStateStore
from kubeheat.engine import Engine, StackState
from kubeheat.template import Redactor, values_of

MAX_BACKOFF = 300.0


@dataclass
class Options:
    """What ``kubeheat operator`` was told."""

    concurrency: int = 16
    #: slots one namespace may hold (None: a quarter of ``concurrency``; see scheduling)
    namespace_concurrency: int | None = None
    #: the timeout of an operation whose Stack sets no spec.timeoutMinutes (None: unbounded)
    default_timeout_minutes: float | None = 60.0
    deletion_poll_interval: float = 2.0       # the deletion watch's pause after an error
    #: resource actions in flight at once within one stack
    resource_concurrency: int = 32
    #: seconds between two writes of a Stack's state Secret and status
    state_write_interval: float = 0.3
    default_drift_interval: float = 600.0


def backoff(retry: int) -> float:
    return float(min(MAX_BACKOFF, 5 * 2 ** min(retry, 10)))


@dataclass
class StackRun:
    """One operation on one Stack: its store, events and engine."""

    store: SecretStateStore
    events: EventCollector
    engine: Engine
    redactor: Redactor


@dataclass
class StackRuns:
    """The operator's shared state and what its handlers share (see the module)."""

    options: Options = field(default_factory=Options)
    metrics: Metrics = field(init=False)
    client: KubeClient | None = None
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    admission: Admission = field(init=False)
    _sessions: dict[tuple[str, str, str], tuple[str, CloudSession]] = field(
        default_factory=dict)
    _last_status: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.metrics = Metrics(lambda: [s for _, s in self._sessions.values()])
        opts = self.options
        share = opts.namespace_concurrency or default_namespace_share(opts.concurrency)
        self.admission = Admission(
            FairSlots(opts.concurrency, share, queued=self.metrics.queue_depth,
                      running=self.metrics.in_flight),
            DeletionWatch(lambda: self.kube, opts.deletion_poll_interval, GROUP, VERSION,
                          PLURAL))

    # -- plumbing --------------------------------------------------------------------------
    @property
    def kube(self) -> KubeClient:
        if self.client is None:
            raise kopf.TemporaryError("not logged in to Kubernetes yet", delay=5)
        return self.client

    def _lock(self, uid: str) -> asyncio.Lock:
        lock = self._locks.get(uid)
        if lock is None:
            lock = self._locks[uid] = asyncio.Lock()
        return lock

    def _cloud(self, namespace: str, resolved: Resolved) -> CloudSession | None:
        if resolved.cloud is None or resolved.clouds_yaml is None:
            return None
        key = (namespace, resolved.cloud.secret, resolved.cloud.cloud_name)
        digest = hashlib.sha256(resolved.clouds_yaml.encode()).hexdigest()
        found = self._sessions.get(key)
        if found is not None and found[0] == digest:
            return found[1]
        try:
            session = connect(resolved.clouds_yaml, resolved.cloud.cloud_name)
        except CloudConfigError as exc:
            raise SpecError("InvalidCredentials",
                            f"spec.cloud: Secret {namespace}/{resolved.cloud.secret}: "
                            f"{exc}") from None
        if found is not None:
            self.metrics.cloud.retire(found[1])
            with contextlib.suppress(Exception):
                found[1].close()
        self._sessions[key] = (digest, session)
        return session

    def _engine(self, store: SecretStateStore, events: EventCollector,
                cloud: CloudSession | None) -> Engine:
        return Engine(store, events, native=store.native, cloud=cloud,
                      concurrency=self.options.resource_concurrency, threads=8,
                      default_timeout_minutes=self.options.default_timeout_minutes,
                      offload_evaluation=True)

    async def _open(self, body: kopf.Body, resolved: Resolved | None, redactor: Redactor
                    ) -> StackRun:
        meta = body["metadata"]
        namespace, name = str(meta["namespace"]), str(meta["name"])
        store = SecretStateStore(self.kube, namespace, body,
                                 min_interval=self.options.state_write_interval)
        try:
            await store.load_all()
        except KubeError as exc:
            raise kopf.TemporaryError(f"reading the state Secret failed: {exc}",
                                      delay=10) from None
        except ValueError as exc:
            raise SpecError("StateUnreadable", str(exc)) from None
        state = store.root_state()
        if state is not None:
            redactor.update(values_of(state.hidden, [state.parameters]))
        cloud = self._cloud(namespace, resolved) if resolved is not None else None
        collector = EventCollector(KubeEvents(self.kube, body), redactor, name)
        run = StackRun(store, collector, self._engine(store, collector, cloud), redactor)
        store.listeners.append(lambda: self._after_write(body, run))
        return run

    async def _after_write(self, body: kopf.Body, run: StackRun) -> None:
        """After each state write: the status summary, the Events, the metrics."""
        state = run.store.root_state()
        if state is not None:
            await self.patch_status(body, summary(state, run.redactor))
            self.metrics.set_stack_status(stack_key(body), state.state)
        await run.events.drain()
        results, run.events.resource_results = run.events.resource_results, []
        for type_, action, result in results:
            self.metrics.resource_actions.labels(type_, action, result).inc()

    async def patch_status(self, body: kopf.Body, fields: Mapping[str, Any]) -> None:
        """Merge ``fields`` into the Stack's status (outputs removed since the last write are
        removed; nothing is sent when nothing changed)."""
        uid = str(body["metadata"]["uid"])
        last = self._last_status.setdefault(uid, copy.deepcopy(dict(body.get("status") or {})))
        patch: dict[str, Any] = {}
        for key, value in fit_fields(fields).items():
            if last.get(key) == value:
                continue
            if key in ("outputs", "outputErrors") and isinstance(last.get(key), dict) \
                    and isinstance(value, dict):
                patch[key] = {**dict.fromkeys(set(last[key]) - set(value)), **value}
            else:
                patch[key] = value
        if not patch:
            return
        applied = await send_status(self.kube, body, patch, last)   # review M3: sizes
        if applied is None:
            return
        last.update(copy.deepcopy(dict(applied)))
        for key in ("outputs", "outputErrors"):
            if isinstance(last.get(key), dict):
                last[key] = {k: v for k, v in last[key].items() if v is not None}

    async def set_phase(self, body: kopf.Body, *, ready: bool | None, reconciling: bool,
                        stalled: bool, reason: str, message: str,
                        extra: Mapping[str, Any] | None = None) -> None:
        uid = str(body["metadata"]["uid"])
        current = self._last_status.get(uid, body.get("status") or {}).get("conditions")
        conds = conditions_for(list(current or []), body["metadata"].get("generation"),
                               ready=ready, reconciling=reconciling, stalled=stalled,
                               reason=reason, message=message)
        await self.patch_status(body, {"conditions": conds, **(extra or {})})

    async def stalled(self, body: kopf.Body, reason: str, message: str,
                      events: KubeEvents | None = None) -> None:
        await self.set_phase(body, ready=False, reconciling=False, stalled=True, reason=reason,
                             message=message,
                             extra={"observedGeneration": body["metadata"].get("generation")})
        poster = events or KubeEvents(self.kube, body)
        await poster.post("Warning", reason, message)
    async def _report_done(self, body: kopf.Body, run: StackRun, state: StackState,
                           requested: str | None) -> None:
        extra: dict[str, Any] = dict(summary(state, run.redactor))
        extra["observedGeneration"] = body["metadata"].get("generation")
        if requested is not None:
            extra["lastHandledReconcileAt"] = requested
        await self.set_phase(body, ready=True, reconciling=False, stalled=False,
                             reason="Succeeded", message=f"Stack {state.state}", extra=extra)
        self.metrics.set_stack_status(stack_key(body), state.state)


def stack_key(body: Mapping[str, Any]) -> str:
    meta = body["metadata"]
    return f"{meta.get('namespace')}/{meta.get('name')}"


async def close_run(run: StackRun) -> None:
    try:
        await run.store.close()
    finally:
        run.engine.close()


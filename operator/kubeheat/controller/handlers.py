"""The kopf handlers of the Stack resource and the reconcile logic behind them.

``create``/``update``/``resume`` all reconcile: resolve the spec, plan (template, parameter and
credential errors stop here: ``Stalled``, nothing in the cloud touched), then apply with the
engine and report. ``update`` fires only when the spec or the ``kubeheat.io/reconcile-requested-at``
annotation changes: kopf's diff base is a digest of those two in ``status.kopf.digest``
(:class:`DigestDiffBaseStorage`), and its handler progress lives in ``status.kopf.progress``, so
no annotation ever holds a copy of the spec (a 500 KiB template works). A daemon per Stack checks
drift every ``spec.drift.interval``; ``delete`` removes the cloud resources (unless
``deletionPolicy: Retain``) before kopf drops the ``kubeheat.io/stack-cleanup`` finalizer.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import kopf

from kubeheat.controller.crd import GROUP, PLURAL, VERSION
from kubeheat.controller.diffbase import RECONCILE_ANNOTATION, DigestDiffBaseStorage
from kubeheat.controller.errors import SpecError
from kubeheat.controller.events import KubeEvents
from kubeheat.controller.kube import KubeClient, KubeError
from kubeheat.controller.limits import drift_interval
from kubeheat.controller.outputs import OutputsError, write_outputs
from kubeheat.controller.runs import StackRun, StackRuns, backoff, close_run, stack_key
from kubeheat.controller.scheduling import StackDeleted, Ticket
from kubeheat.controller.spec import Resolved, resolve
from kubeheat.controller.status import DRIFTED, RECONCILING, condition, merge_conditions, timestamp
from kubeheat.controller.store import SecretStateStore, StateTooLarge
from kubeheat.engine import Action, CheckResult, EngineError, StackState, StateSaveError, Status
from kubeheat.template import KubeheatError, Redactor

LOG = logging.getLogger("kubeheat.controller")

FINALIZER = "kubeheat.io/stack-cleanup"
DRIFT_IGNORE_POLL = 30.0


@dataclass
class Controller(StackRuns):
    """The Stack's kopf handlers; :meth:`register` puts them in a kopf registry."""

    # -- reconcile -------------------------------------------------------------------------
    async def reconcile(self, body: kopf.Body, retry: int, cause: str) -> None:
        meta = body["metadata"]
        spec = body.get("spec") or {}
        status = body.get("status") or {}
        generation = meta.get("generation")
        requested = (meta.get("annotations") or {}).get(RECONCILE_ANNOTATION)
        if spec.get("suspend"):
            current = self._last_status.get(str(meta["uid"]), status).get("conditions")
            cond = condition(current, RECONCILING, False, "Suspended",
                             "spec.suspend is true: reconciliation is paused", generation)
            await self.patch_status(body, {"conditions": merge_conditions(
                list(current or []), [cond])})
            return
        uid = str(meta["uid"])
        async with self.admission.admit(str(meta["namespace"]), uid, self._lock(uid)) as ticket:
            if ticket.deleted:
                return      # deleted while queued: kopf runs the delete next
            began = time.monotonic()
            outcome = "error"
            operation = "apply"
            try:
                operation, outcome = await self._reconcile(body, spec, status, generation,
                                                           requested, retry, ticket)
            except StackDeleted:
                outcome = "cancelled"
            except StateTooLarge as exc:     # review M2: Stalled and a Warning, no traceback
                await self.stalled(body, "StateTooLarge", str(exc))
                raise kopf.PermanentError(f"StateTooLarge: {exc}") from None
            finally:
                self.metrics.reconcile_duration.labels(operation, outcome).observe(
                    time.monotonic() - began)

    async def _reconcile(self, body: kopf.Body, spec: Mapping[str, Any],
                         status: Mapping[str, Any], generation: int | None,
                         requested: str | None, retry: int, ticket: Ticket
                         ) -> tuple[str, str]:
        meta = body["metadata"]
        namespace, name = str(meta["namespace"]), str(meta["name"])
        try:
            resolved = await resolve(self.kube, namespace, name, spec)
        except SpecError as exc:
            await self.stalled(body, exc.reason, exc.message)
            raise kopf.PermanentError(f"{exc.reason}: {exc.message}") from None
        except KubeError as exc:
            raise kopf.TemporaryError(f"reading the Stack's inputs failed: {exc}",
                                      delay=backoff(retry)) from None
        try:
            run = await self._open(body, resolved, resolved.redactor)
        except SpecError as exc:
            await self.stalled(body, exc.reason, resolved.redactor.text(exc.message))
            raise kopf.PermanentError(f"{exc.reason}: {exc.message}") from None
        redact = run.redactor
        store, engine = run.store, run.engine
        try:
            state = store.root_state()
            acknowledged = requested is None or requested == status.get("lastHandledReconcileAt")
            if state is not None and state.is_settled and acknowledged \
                    and store.meta.get("digest") == resolved.digest \
                    and status.get("observedGeneration") == generation:
                await self._report_done(body, run, state, requested)
                return "noop", "success"
            try:
                plan = await ticket.guard(engine.plan(resolved.request, store.root,
                                                      observe=False))
            except KubeheatError as exc:
                message = redact.text(f"{exc}")
                await self.stalled(body, "InvalidTemplate", message, run.events.poster)
                raise kopf.PermanentError(f"InvalidTemplate: {message}") from None
            await self._write_outputs(body, spec, run, None, retry)   # may it write them?
            operation = "create" if state is None or state.resumes_create else "update"
            last_plan = {"generation": generation, "time": timestamp(),
                         "operation": operation.upper(), "summary": plan.counts(),
                         "resources": [{"name": r.name, "type": r.type, "action": r.action,
                                        "reason": redact.text(r.reason)[:500]}
                                       for r in plan.resources.values()]}
            await self.set_phase(body, ready=None, reconciling=True, stalled=False,
                                 reason="Progressing",
                                 message=f"{operation} of the stack in progress",
                                 extra={"observedGeneration": generation,
                                        "lastPlan": last_plan})
            if requested is not None and requested != status.get("lastHandledReconcileAt"):
                await run.events.poster.post("Normal", "ReconcileRequested",
                                             f"reconcile requested at {requested}")
            try:
                result = await ticket.guard(engine.apply(resolved.request, store.root),
                                            lambda: engine.cancel(store.root or "",
                                                                  rollback=False))
            except StateSaveError as exc:
                if isinstance(store.error, StateTooLarge):
                    await self.stalled(body, "StateTooLarge", str(store.error),
                                       run.events.poster)
                    raise kopf.PermanentError(str(store.error)) from None
                raise kopf.TemporaryError(redact.text(str(exc)), delay=backoff(retry)) from None
            except KubeheatError as exc:
                if isinstance(exc, EngineError):
                    raise kopf.TemporaryError(redact.text(str(exc)),
                                              delay=backoff(retry)) from None
                message = redact.text(str(exc))
                await store.flush()
                await self.stalled(body, "InvalidTemplate", message, run.events.poster)
                raise kopf.PermanentError(f"InvalidTemplate: {message}") from None
            await store.flush()
            if ticket.deleted:
                return operation, "cancelled"     # kopf runs the delete next
            if result.is_good:
                await self._write_outputs(body, spec, run, result, retry)
                store.set_meta(digest=resolved.digest, generation=generation)
                await store.flush()
                await self._report_done(body, run, result, requested)
                return operation, "success"
            reason = "RolledBack" if result.action == Action.ROLLBACK else "StackFailed"
            message = redact.text(f"{result.state}: {result.status_reason}")
            if run.events.last_failure and run.events.last_failure not in message:
                message += f" (after {run.events.last_failure})"
            delay = backoff(retry)
            await self.set_phase(body, ready=False, reconciling=True, stalled=False,
                                 reason=reason, message=f"{message} (retrying in {delay:.0f}s)")
            raise kopf.TemporaryError(message, delay=delay)
        finally:
            await close_run(run)

    async def _write_outputs(self, body: kopf.Body, spec: Mapping[str, Any],
                             run: StackRun, state: StackState | None, retry: int) -> None:
        try:
            await write_outputs(self.kube, body, spec, state, run.redactor)
        except OutputsError as exc:     # review H2/M4: Stalled, retried, never Ready
            message = run.redactor.text(exc.message)
            await self.stalled(body, exc.reason, message, run.events.poster)
            raise kopf.TemporaryError(f"{exc.reason}: {message}",
                                      delay=backoff(retry)) from None

    # -- drift -----------------------------------------------------------------------------
    async def drift_loop(self, body: kopf.Body, stopped: Any) -> None:
        """Check drift every ``spec.drift.interval`` (``stopped``: kopf's async flag)."""
        last = time.monotonic()
        while not stopped:
            drift = (body.get("spec") or {}).get("drift") or {}
            policy = str(drift.get("policy") or "Ignore")
            interval = drift_interval(body.get("spec") or {}, self.options.default_drift_interval)
            if policy == "Ignore":
                await stopped.wait(DRIFT_IGNORE_POLL)
                last = time.monotonic()
                continue
            remaining = last + interval - time.monotonic()
            if remaining > 0:
                await stopped.wait(min(remaining, 5.0))
                continue
            last = time.monotonic()
            if stopped or (body.get("spec") or {}).get("suspend") or \
                    body.get("metadata", {}).get("deletionTimestamp"):
                continue
            try:
                await self.check_drift(body, policy)
            except (kopf.TemporaryError, kopf.PermanentError, SpecError, KubeError) as exc:
                LOG.info("drift check of %s skipped: %s", stack_key(body), exc)
            except asyncio.CancelledError:
                raise
            except Exception:
                LOG.exception("drift check of %s failed", stack_key(body))

    async def check_drift(self, body: kopf.Body, policy: str) -> CheckResult | None:
        body_now = _snapshot(body)
        meta = body_now["metadata"]
        status = body_now.get("status") or {}
        if status.get("observedGeneration") != meta.get("generation") or \
                _ready_of(status) is not True:
            return None      # busy, failed or stalled: the reconcile owns the stack now
        async with self._lock(str(meta["uid"])), \
                self.admission.slots.hold(str(meta["namespace"])):
            resolved = await resolve(self.kube, str(meta["namespace"]), str(meta["name"]),
                                     body_now.get("spec") or {})
            run = await self._open(body_now, resolved, resolved.redactor)
            try:
                if run.store.root is None:
                    return None
                began = time.monotonic()
                result = await run.engine.check(run.store.root)
                await run.store.flush()
                self.metrics.drift_checks.inc()
                drifted = {n: r for n, r in result.resources.items() if r.drift or r.missing}
                items: list[dict[str, Any]] = [
                    {"name": n, "missing": r.missing, "properties": sorted(r.drift),
                     "reason": run.redactor.text(r.reason)[:500]}
                    for n, r in sorted(drifted.items())]
                drift_status = {"lastCheckTime": timestamp(), "resources": items}
                gen = meta.get("generation")
                current = self._last_status.get(str(meta["uid"]), status).get("conditions")
                if not drifted:
                    cond = condition(current, DRIFTED, False, "NoDrift",
                                     "the cloud matches the applied stack", gen)
                    await self.patch_status(body_now, {
                        "drift": drift_status,
                        "conditions": merge_conditions(list(current or []), [cond])})
                    self.metrics.reconcile_duration.labels("check", "success").observe(
                        time.monotonic() - began)
                    return result
                self.metrics.drift_detections.labels(policy).inc()
                text = "; ".join(
                    f"{i['name']}: " + ("missing" if i["missing"] else
                                        "changed " + ", ".join(i["properties"]))
                    for i in items)
                cond = condition(current, DRIFTED, True, "DriftDetected", text, gen)
                await self.patch_status(body_now, {
                    "drift": drift_status,
                    "conditions": merge_conditions(list(current or []), [cond])})
                await run.events.poster.post("Warning", "DriftDetected", text)
                if policy != "Correct":
                    return result
                await self.set_phase(body_now, ready=True, reconciling=True, stalled=False,
                                     reason="CorrectingDrift", message=text)
                repaired = await run.engine.apply(resolved.request, run.store.root)
                await run.store.flush()
                if repaired.is_good:
                    current = self._last_status.get(str(meta["uid"]), status).get("conditions")
                    cond = condition(current, DRIFTED, False, "DriftCorrected",
                                     f"repaired: {text}", gen)
                    await self.patch_status(body_now, {"conditions": merge_conditions(
                        list(current or []), [cond])})
                    await run.events.poster.post("Normal", "DriftCorrected",
                                                 f"repaired: {text}")
                    await self._report_done(body_now, run, repaired,
                                            status.get("lastHandledReconcileAt"))
                else:
                    await self.set_phase(body_now, ready=False, reconciling=True,
                                         stalled=False, reason="StackFailed",
                                         message=run.redactor.text(repaired.status_reason))
                return result
            finally:
                await close_run(run)

    # -- delete ----------------------------------------------------------------------------
    async def delete(self, body: kopf.Body, retry: int) -> None:
        meta = body["metadata"]
        spec = body.get("spec") or {}
        namespace, name = str(meta["namespace"]), str(meta["name"])
        async with self._lock(str(meta["uid"])):       # no slot: see scheduling
            began = time.monotonic()
            outcome = "error"
            try:
                outcome = await self._delete(body, spec, namespace, name, retry)
            finally:
                self.metrics.reconcile_duration.labels("delete", outcome).observe(
                    time.monotonic() - began)
        self._locks.pop(str(meta["uid"]), None)
        self._last_status.pop(str(meta["uid"]), None)
        self.metrics.set_stack_status(stack_key(body), None)

    async def _delete(self, body: kopf.Body, spec: Mapping[str, Any], namespace: str,
                      name: str, retry: int) -> str:
        events = KubeEvents(self.kube, body)
        if spec.get("deletionPolicy") == "Retain":
            await events.post("Normal", "Retained",
                              "deletionPolicy is Retain: the cloud resources are kept")
            return "retained"
        probe = SecretStateStore(self.kube, namespace, body)
        try:
            found = await probe.load_all()
        except KubeError as exc:
            raise kopf.TemporaryError(f"reading the state Secret failed: {exc}",
                                      delay=10) from None
        if not found or probe.root is None:
            return "nothing"
        resolved: Resolved | None
        try:
            resolved = await resolve(self.kube, namespace, name, spec)
        except SpecError as exc:
            if exc.reason == "CredentialsNotFound":
                message = (f"cannot delete the cloud resources: {exc.message}; the finalizer "
                           f"{FINALIZER} stays until the credentials are back")
                await self.stalled(body, exc.reason, message, events)
                raise kopf.TemporaryError(message, delay=min(60.0, backoff(retry))) from None
            resolved = await self._credentials_only(namespace, spec, body, events, retry)
        except KubeError as exc:
            raise kopf.TemporaryError(str(exc), delay=backoff(retry)) from None
        redactor = resolved.redactor if resolved is not None else Redactor()
        try:
            run = await self._open(body, resolved, redactor)
        except SpecError as exc:
            await self.stalled(body, exc.reason, redactor.text(exc.message), events)
            raise kopf.TemporaryError(exc.message, delay=min(60.0, backoff(retry))) from None
        try:
            if run.store.root is None:
                return "nothing"
            await self.set_phase(body, ready=False, reconciling=True, stalled=False,
                                 reason="Deleting", message="deleting the cloud resources")
            try:
                result = await run.engine.delete(run.store.root)
            except EngineError as exc:
                raise kopf.TemporaryError(run.redactor.text(str(exc)),
                                          delay=backoff(retry)) from None
            await run.store.flush()
            if result.status != Status.COMPLETE:
                message = run.redactor.text(f"{result.state}: {result.status_reason}")
                await self.set_phase(body, ready=False, reconciling=True, stalled=False,
                                     reason="DeleteFailed", message=message)
                raise kopf.TemporaryError(message, delay=backoff(retry))
            await run.store.remove()
            return "success"
        finally:
            await close_run(run)

    async def _credentials_only(self, namespace: str, spec: Mapping[str, Any],
                                body: kopf.Body, events: KubeEvents, retry: int
                                ) -> Resolved | None:
        """For deleting a Stack whose spec no longer resolves: only the cloud matters."""
        if not spec.get("cloud"):
            return None
        minimal = {"template": {"heat_template_version": "2021-04-16"},
                   "cloud": spec["cloud"]}
        try:
            return await resolve(self.kube, namespace, "delete", minimal)
        except SpecError as exc:
            message = f"cannot delete the cloud resources: {exc.message}"
            await self.stalled(body, exc.reason, message, events)
            raise kopf.TemporaryError(message, delay=min(60.0, backoff(retry))) from None

    # -- registration ----------------------------------------------------------------------
    def register(self, registry: kopf.OperatorRegistry) -> None:
        res = (GROUP, VERSION, PLURAL)

        @kopf.on.startup(registry=registry)
        async def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
            settings.persistence.finalizer = FINALIZER
            settings.persistence.progress_storage = kopf.StatusProgressStorage(
                field="status.kopf.progress", touch_field="status.kopf.dummy")
            settings.persistence.diffbase_storage = DigestDiffBaseStorage()
            settings.posting.enabled = False
            settings.watching.server_timeout = 300
            settings.watching.client_timeout = 330
            settings.networking.request_timeout = 60

        @kopf.on.login(registry=registry)
        def login(settings: kopf.OperatorSettings, **_: Any) -> kopf.ConnectionInfo | None:
            info = kopf.login_with_service_account(settings=settings) or \
                kopf.login_with_kubeconfig(settings=settings)
            if info is not None:
                self.client = KubeClient(info)
            return info

        @kopf.on.cleanup(registry=registry)
        async def cleanup(**_: Any) -> None:
            self.admission.deletions.close()
            if self.client is not None:
                await self.client.close()
            for _digest, session in self._sessions.values():
                with contextlib.suppress(Exception):
                    session.close()

        @kopf.on.probe(id="stacks", registry=registry)
        def probe(**_: Any) -> dict[str, Any]:
            return {"locks": len(self._locks), "sessions": len(self._sessions)}

        @kopf.on.create(*res, registry=registry)
        async def on_create(body: kopf.Body, retry: int, **_: Any) -> None:
            await self.reconcile(body, retry, "create")

        @kopf.on.update(*res, registry=registry)
        async def on_update(body: kopf.Body, retry: int, **_: Any) -> None:
            await self.reconcile(body, retry, "update")

        @kopf.on.resume(*res, registry=registry)
        async def on_resume(body: kopf.Body, retry: int, **_: Any) -> None:
            await self.reconcile(body, retry, "resume")

        @kopf.on.delete(*res, registry=registry)
        async def on_delete(body: kopf.Body, retry: int, **_: Any) -> None:
            await self.delete(body, retry)

        @kopf.daemon(*res, registry=registry, cancellation_timeout=5.0,
                     initial_delay=1.0)
        async def drift(body: kopf.Body, stopped: Any, **_: Any) -> None:
            await self.drift_loop(body, stopped)


# -- helpers -------------------------------------------------------------------------------
def _ready_of(status: Mapping[str, Any]) -> bool | None:
    for cond in status.get("conditions") or ():
        if cond.get("type") == "Ready":
            return {"True": True, "False": False}.get(str(cond.get("status")))
    return None


def _snapshot(body: kopf.Body) -> kopf.Body:
    """A frozen copy of a live body (daemons see the object change under them)."""
    return kopf.Body(cast(kopf.RawBody, copy.deepcopy(dict(body))))

"""Observing recorded resources in the cloud: Heat's stack check, with drift.

:meth:`Checker.observe` reads what the cloud holds for recorded resources, one listing per type
for the types that observe in batches (``batch_observe``) and one read each for the rest, in
parallel within the engine's concurrency limit; ``plan(observe=True)`` and :meth:`Checker.check`
use it. A check records ``CHECK_COMPLETE`` or ``CHECK_FAILED`` per resource (missing, failed in
the cloud, or its observable properties drifted from the applied values) and for the stack.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from kubeheat.engine.model import CHECK, COMPLETE, FAILED, IN_PROGRESS, StackState
from kubeheat.engine.operation import Operation
from kubeheat.engine.request import CheckResult, ResourceCheck, failure_reason
from kubeheat.engine.runtime import Runtime
from kubeheat.resources import Observed, ResourceFailure, ResourcePlugin


class Checker:
    """Observation and checks for one engine."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.recorder = runtime.recorder

    async def observe(self, state: StackState, keys: Sequence[str],
                      plugins: Mapping[str, ResourcePlugin] | None = None
                      ) -> dict[str, Observed | BaseException | None]:
        """What the cloud holds for the recorded resources ``keys`` (each with a physical
        id): types with :meth:`ResourcePlugin.read_many` are observed in one batch per type,
        the rest (and what a batch left out) one read each, in parallel with the engine's
        concurrency limit. A failed read gives its exception."""
        runtime = self.runtime
        out: dict[str, Observed | BaseException | None] = {}
        batches: dict[type[ResourcePlugin], list[str]] = {}
        chosen: dict[str, ResourcePlugin] = {}
        for key in keys:
            rec = state.resources[key]
            plugin = (plugins or {}).get(key) or runtime.plugin_of(rec, None)
            chosen[key] = plugin
            if plugin.batch_observe and rec.external_id is None:
                batches.setdefault(type(plugin), []).append(key)

        async def batch(cls: type[ResourcePlugin], names: list[str]) -> None:
            items = [(runtime.context(state, k, state.resources[k], None),
                      state.resources[k].properties) for k in names]
            try:
                async with runtime.semaphore():
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
                ctx = runtime.context(state, key, rec, None)
                async with runtime.limit(plugin):
                    # an adopted resource (external_id) is looked at as it was adopted
                    out[key] = await (plugin.adopt_external if rec.external_id is not None
                                      else plugin.read)(ctx, rec.properties)
            except Exception as exc:
                out[key] = exc

        await asyncio.gather(*(one(k) for k in keys if k not in out))
        return out

    async def check(self, op: Operation) -> CheckResult:
        """Heat's stack check on ``op``'s stack (see the module)."""
        state = op.state
        recorder = self.recorder
        result = CheckResult(state)
        recorder.stack_transition(state, CHECK, IN_PROGRESS, f"Stack {CHECK} started")
        keys = list(state.resources)
        for key in keys:
            recorder.transition(state, key, state.resources[key], CHECK, IN_PROGRESS)
        seen = await self.observe(state, [k for k in keys
                                          if state.resources[k].physical_id is not None])
        for key in keys:
            result.resources[key] = self._check_one(state, key, seen.get(key))
        failed = [f"{k}: {c.reason}" for k, c in sorted(result.resources.items())
                  if c.status.endswith(FAILED)]
        if failed:
            recorder.stack_transition(state, CHECK, FAILED,
                                      f"Resource {CHECK} failed: " + "; ".join(failed))
        else:
            recorder.stack_transition(state, CHECK, COMPLETE,
                                      f"Stack {CHECK} completed successfully")
        return result

    def _check_one(self, state: StackState, key: str,
                   found: Observed | BaseException | None) -> ResourceCheck:
        rec = state.resources[key]
        check = ResourceCheck(key, "", "")
        observed: Observed | None
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
        self.recorder.transition(state, key, rec, CHECK, status,
                                 check.reason or "state changed")
        return check


__all__ = ["Checker"]

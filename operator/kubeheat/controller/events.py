"""The engine's events as Kubernetes Events on the Stack, aggregated.

Resource ``IN_PROGRESS`` steps and drift-check reads are not posted; the resources that complete
together are posted as one Event (``Create``: ``CREATE_COMPLETE: net, subnet, port``); failures
are one Warning each, with the resource name and the (redacted) reason; the stack's own
transitions are one Event each. An Event repeated within ten minutes bumps the ``count`` of the
first one instead of making another, as client-go's event correlator does.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from kubeheat.controller.crd import API_VERSION, KIND
from kubeheat.controller.kube import KubeClient, KubeError
from kubeheat.controller.status import timestamp
from kubeheat.engine import Action, Event, Status
from kubeheat.template import Redactor

LOG = logging.getLogger("kubeheat.controller.events")

COMPONENT = "kubeheat-operator"
REPORTING_COMPONENT = "kubeheat.io/operator"
AGGREGATE_WINDOW = 600.0
MAX_MESSAGE = 1000
SKIPPED_ACTIONS = {Action.CHECK}


def reason_for(action: str, status: str = "") -> str:
    """``CREATE`` -> ``Create``; failures get ``Failed`` (``CreateFailed``)."""
    word = "".join(part.capitalize() for part in action.split("_"))
    return word + ("Failed" if status == Status.FAILED else "")


class KubeEvents:
    """Posts Events about one Stack (shared by every sink of that Stack)."""

    #: (namespace, stack uid, reason, message) -> (event name, count, first seen)
    _seen: dict[tuple[str, str, str, str], tuple[str, int, float, str]] = {}

    def __init__(self, client: KubeClient, stack: Mapping[str, Any]) -> None:
        self.client = client
        meta = stack["metadata"]
        self.namespace = str(meta["namespace"])
        self.name = str(meta["name"])
        self.uid = str(meta["uid"])
        self.instance = os.environ.get("HOSTNAME") or "kubeheat-operator"
        self.posted = 0

    async def post(self, type_: str, reason: str, message: str) -> None:
        message = message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE - 3] + "..."
        key = (self.namespace, self.uid, reason, message)
        now = time.monotonic()
        stamp = timestamp()
        seen = self._seen.get(key)
        try:
            if seen is not None and now - seen[2] < AGGREGATE_WINDOW:
                name, count, first, _ = seen
                await self.client.patch(self.namespace, "events", name, {
                    "count": count + 1, "lastTimestamp": stamp})
                self._seen[key] = (name, count + 1, first, stamp)
                self.posted += 1
                return
        except KubeError as exc:
            if exc.status != 404:
                LOG.warning("patching an Event of %s/%s failed: %s", self.namespace,
                            self.name, exc)
                return
        digest = hashlib.sha1(f"{self.uid}{reason}{message}{now}".encode()).hexdigest()[:12]
        name = f"{self.name[:200]}.{digest}"
        body = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": self.namespace},
            "involvedObject": {"apiVersion": API_VERSION, "kind": KIND, "name": self.name,
                               "namespace": self.namespace, "uid": self.uid},
            "type": type_, "reason": reason, "message": message,
            "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1,
            "source": {"component": COMPONENT},
            "reportingComponent": REPORTING_COMPONENT, "reportingInstance": self.instance,
        }
        try:
            await self.client.create(self.namespace, "events", body)
        except KubeError as exc:
            LOG.warning("posting an Event on %s/%s failed: %s", self.namespace, self.name, exc)
            return
        self.posted += 1
        if len(self._seen) > 10000:
            self._seen.clear()
        self._seen[key] = (name, 1, now, stamp)


class EventCollector:
    """An engine :class:`~kubeheat.engine.events.EventSink` that buffers the engine's events
    and posts them aggregated when :meth:`drain` is called (after each state write)."""

    def __init__(self, poster: KubeEvents, redact: Redactor, stack_name: str) -> None:
        self.poster = poster
        self.redact = redact
        self.stack_name = stack_name
        self.pending: list[Event] = []
        #: every event seen (for metrics): (type, action, status)
        self.resource_results: list[tuple[str, str, str]] = []
        #: the last resource failure (redacted), for the status when the stack rolled back
        self.last_failure: str | None = None

    def emit(self, event: Event) -> None:
        if event.resource_status == Status.FAILED and not event.is_stack_event:
            self.last_failure = self.redact.text(
                f"{event.resource_name}: {event.resource_status_reason}")
        if event.resource_status != Status.IN_PROGRESS and not event.is_stack_event:
            self.resource_results.append((event.resource_type, event.resource_action,
                                          event.resource_status))
        if event.resource_action in SKIPPED_ACTIONS:
            return
        if event.resource_status == Status.IN_PROGRESS and not event.is_stack_event:
            return
        self.pending.append(event)

    async def drain(self) -> None:
        events, self.pending = self.pending, []
        done: dict[tuple[str, str], list[str]] = {}

        async def post_done() -> None:
            for (action, status), names in done.items():
                more = f" ({len(names)} resources)" if len(names) > 1 else ""
                await self.poster.post("Normal", reason_for(action),
                                       f"{action}_{status}: {', '.join(names)}{more}")
            done.clear()

        for event in events:
            if event.is_stack_event:
                if event.stack_name != self.stack_name:
                    continue    # nested stacks: their resources are reported by the parent
                await post_done()
                kind = "Warning" if event.resource_status == Status.FAILED else "Normal"
                text = self.redact.text(event.resource_status_reason)
                await self.poster.post(
                    kind, reason_for(event.resource_action, event.resource_status),
                    f"Stack {event.resource_action}_{event.resource_status}: {text}")
            elif event.resource_status == Status.FAILED:
                await post_done()
                text = self.redact.text(event.resource_status_reason)
                await self.poster.post(
                    "Warning", reason_for(event.resource_action, Status.FAILED),
                    f"{event.resource_name} ({event.resource_type}): "
                    f"{event.resource_action}_FAILED: {text}")
            else:
                names = done.setdefault((event.resource_action, event.resource_status), [])
                if event.resource_name not in names:
                    names.append(event.resource_name)
        await post_done()

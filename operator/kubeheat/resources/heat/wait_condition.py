"""``OS::Heat::WaitConditionHandle`` and ``OS::Heat::WaitCondition``.

The handle receives signals (``kubeheat signal STACK HANDLE --data '{"status": "SUCCESS"}'``)
and keeps them, by id, in its native record: ``{"token": ..., "signals": {id: {"status",
"reason", "data"}}}``. The condition names the handle (``handle: {get_resource: h}``: the
handle's physical id) and polls that record until ``count`` SUCCESS signals are there, failing
at the first FAILURE signal or after ``timeout`` seconds. Signals sent before the condition
started count, as in Heat. Deleting the condition clears the handle's signals.

Signal bodies follow Heat: ``{"status": "SUCCESS"|"FAILURE", "reason": ..., "data": ...,
"id": ...}``, every key optional (status SUCCESS, reason ``Signal N received``, data null, id N
by default) and no other key allowed. A signal with an id already received replaces it.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

from kubeheat.resources.base import (
    INTEGER,
    NUMBER,
    STRING,
    Attribute,
    Created,
    Property,
    ResourceContext,
    ResourceFailure,
    register,
)
from kubeheat.resources.heat._common import NativeResource, store
from kubeheat.template import AllowedValuesConstraint, RangeConstraint

HANDLE_KIND = "OS::Heat::WaitConditionHandle"
CONDITION_KIND = "OS::Heat::WaitCondition"
SUCCESS, FAILURE = "SUCCESS", "FAILURE"
SIGNAL_KEYS = frozenset({"data", "reason", "status", "id"})
SIGNAL_TRANSPORTS = ("CFN_SIGNAL", "TEMP_URL_SIGNAL", "HEAT_SIGNAL", "NO_SIGNAL",
                     "ZAQAR_SIGNAL", "TOKEN_SIGNAL")
#: seconds between two looks at the handle's record while waiting
POLL_INTERVAL = 0.05


class WaitConditionFailure(Exception):
    """A FAILURE signal arrived: the message is the failure reasons joined by ``;``."""


class WaitConditionTimeout(Exception):
    """Too few SUCCESS signals within the timeout: ``N of COUNT received[ - reasons]``."""


def signal_command(ctx: ResourceContext) -> str:
    """The command that signals this handle; append ``--data JSON``."""
    return f"kubeheat signal {ctx.stack_name} {ctx.name}"


def normalise_signal(details: Any, received: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Heat's defaults and checks for a signal body: (id, entry without the id)."""
    number = len(received) + 1
    if details is None:
        details = {}
    if not isinstance(details, Mapping):
        raise ValueError("Metadata format invalid")
    body = dict(details)
    body.setdefault("reason", f"Signal {number} received")
    body.setdefault("data", None)
    body.setdefault("id", number)
    body.setdefault("status", SUCCESS)
    if set(body) != SIGNAL_KEYS or body["status"] not in (SUCCESS, FAILURE):
        raise ValueError("Metadata format invalid")
    signal_id = str(body.pop("id"))
    return signal_id, body


@register
class WaitConditionHandle(NativeResource):
    type_name = HANDLE_KIND
    show_is_none = True  # Heat: no API object to show
    id_form = "user"  # Heat: the id of the Keystone user it makes
    description = ("Receives the signals a WaitCondition waits for. Signal it with "
                   "`kubeheat signal STACK RESOURCE --data '{\"status\": \"SUCCESS\"}'` "
                   "(keys status, reason, data and id, all optional).")
    signalable = True
    properties = {
        "signal_transport": Property(
            STRING, "How signals would reach the handle in Heat. kubeheat accepts every "
                    "value and always takes signals through `kubeheat signal`.",
            default="TOKEN_SIGNAL",
            constraints=(AllowedValuesConstraint(allowed=SIGNAL_TRANSPORTS),)),
    }
    attributes = {
        "token": Attribute("A random token identifying this handle (kubeheat does not need "
                           "it to signal).", type=STRING),
        "endpoint": Attribute("The path naming this handle's signal endpoint: "
                              "/stacks/STACK/STACK_ID/resources/RESOURCE/signal.",
                              type=STRING),
        "curl_cli": Attribute("The command prefix that signals this handle: `kubeheat signal "
                              "STACK RESOURCE`; append --data '{\"status\": \"SUCCESS\"}' "
                              "or --data '{\"status\": \"FAILURE\"}'.", type=STRING),
        "signal": Attribute("JSON map of what a client needs to signal the handle: "
                            "endpoint, token and command.", type=STRING),
    }

    def build(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        return {"token": secrets.token_urlsafe(24), "signals": {}}

    def attrs_from(self, ctx: ResourceContext, record: Mapping[str, Any],
                   props: Mapping[str, Any]) -> dict[str, Any]:
        endpoint = f"/stacks/{ctx.stack_name}/{ctx.stack_id}/resources/{ctx.name}/signal"
        command = signal_command(ctx)
        token = record.get("token")
        return {
            "token": token,
            "endpoint": endpoint,
            "curl_cli": command,
            "signal": json.dumps({"endpoint": endpoint, "token": token, "command": command}),
        }

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        return None

    async def signal(self, ctx: ResourceContext, props: dict[str, Any], details: Any
                     ) -> dict[str, Any] | None:
        """Record one signal; returns ``ctx.data`` plus ``signal_reason`` (Heat's event text
        ``status:SUCCESS reason:Signal 1 received``)."""
        found = self.require_record(ctx)
        received: dict[str, Any] = dict(found.get("signals") or {})
        signal_id, entry = normalise_signal(details, received)
        received[signal_id] = entry
        found["signals"] = received
        assert ctx.physical_id is not None
        store(ctx).update(self.kind, ctx.physical_id, found)
        return {**ctx.data,
                "signal_reason": f"status:{entry['status']} reason:{entry['reason']}"}


def handle_signals(ctx: ResourceContext, handle_id: str) -> dict[str, Any] | None:
    """The signals received by the handle ``handle_id``; None when there is no such handle."""
    found = store(ctx).get(HANDLE_KIND, handle_id)
    if found is None:
        return None
    signals = found.get("signals")
    return dict(signals) if isinstance(signals, Mapping) else {}


def reasons(signals: Mapping[str, Any], status: str) -> list[str]:
    return [str(s.get("reason")) for s in signals.values() if s.get("status") == status]


@register
class WaitCondition(NativeResource):
    type_name = CONDITION_KIND
    description = ("Stays in progress until its handle has received count SUCCESS signals; "
                   "fails on a FAILURE signal or when timeout seconds pass first.")
    properties = {
        "handle": Property(STRING, "The handle whose signals to wait for "
                                   "(get_resource of an OS::Heat::WaitConditionHandle).",
                           required=True),
        "timeout": Property(NUMBER, "Seconds to wait for the signals.", required=True,
                            constraints=(RangeConstraint(min=1, max=43200),)),
        "count": Property(INTEGER, "How many SUCCESS signals to wait for.", default=1,
                          update_allowed=True, constraints=(RangeConstraint(min=1),)),
    }
    attributes = {
        "data": Attribute("JSON map from each signal's id to its data.", type=STRING),
    }

    def build(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        return {"handle": props.get("handle"), "started_at": time.time(), "name": ctx.name}

    def reference_from(self, record_id: str, record: Mapping[str, Any]) -> str:
        """Heat never sets a physical id on this type, so ``get_resource`` is its name."""
        return str(record.get("name"))

    def created(self, record_id: str, record: Mapping[str, Any]) -> Created:
        out = super().created(record_id, record)
        out.data["started_at"] = record.get("started_at")
        return out

    def reference(self, ctx: ResourceContext) -> str | None:
        return ctx.name

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        handle = str(props.get("handle"))
        if handle_signals(ctx, handle) is None:
            raise ValueError(f"{handle} is not a valid wait condition handle.")
        return await super().create(ctx, props)

    async def _wait(self, ctx: ResourceContext, props: Mapping[str, Any],
                    started_at: float) -> None:
        handle = str(props.get("handle"))
        count = int(props.get("count") or 1)
        timeout = float(props.get("timeout") or 0)
        while True:
            signals = handle_signals(ctx, handle)
            if signals is None:
                raise ValueError(f"{handle} is not a valid wait condition handle.")
            if time.time() - started_at > timeout:
                good = reasons(signals, SUCCESS)
                message = f"{len(good)} of {count} received"
                if good:
                    message += " - " + ";".join(good)
                raise WaitConditionTimeout(message)
            if any(s.get("status") != SUCCESS for s in signals.values()):
                raise WaitConditionFailure(";".join(reasons(signals, FAILURE)))
            if len(signals) >= count:
                return
            remaining = ctx.remaining()
            if remaining is not None and remaining <= 0:
                raise ResourceFailure("Timed out")
            pause = POLL_INTERVAL if remaining is None else min(POLL_INTERVAL, remaining)
            await asyncio.sleep(max(pause, 0.0))

    async def check_create_complete(self, ctx: ResourceContext, props: dict[str, Any]) -> bool:
        started = ctx.data.get("started_at")
        if not isinstance(started, int | float):
            record = self.record(ctx) or {}
            started = record.get("started_at")
        if not isinstance(started, int | float):
            started = time.time()
        await self._wait(ctx, props, float(started))
        return True

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        # like Heat: wait again, from now, for the (new) count among the signals received
        await self._wait(ctx, new, time.time())
        return None

    async def delete(self, ctx: ResourceContext, props: dict[str, Any]) -> None:
        handle = str(props.get("handle"))
        native = store(ctx)
        found = native.get(HANDLE_KIND, handle)
        if found is not None:
            found["signals"] = {}
            native.update(HANDLE_KIND, handle, found)
        await super().delete(ctx, props)

    def attrs_from(self, ctx: ResourceContext, record: Mapping[str, Any],
                   props: Mapping[str, Any]) -> dict[str, Any]:
        signals = handle_signals(ctx, str(props.get("handle") or record.get("handle")))
        if signals is None:
            return {"data": ""}
        return {"data": json.dumps({k: v.get("data") for k, v in signals.items()})}

"""Events: one per resource (or stack) status change, with Heat's event fields.

An :class:`EventSink` receives them; the CLI prints and stores them, the controller turns them
into Kubernetes Events. A stack's own events use the stack name as ``resource_name`` and the
stack id as ``physical_resource_id``, as Heat does.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from kubeheat.engine.model import new_id, now

_COUNTER = itertools.count(1)


@dataclass(frozen=True)
class Event:
    stack_id: str
    stack_name: str
    resource_name: str            # Heat's logical_resource_id
    physical_resource_id: str | None
    resource_type: str
    resource_action: str
    resource_status: str
    resource_status_reason: str
    event_time: str = field(default_factory=now)
    id: str = field(default_factory=new_id)
    #: ordering within one process (events may share a timestamp)
    sequence: int = field(default_factory=lambda: next(_COUNTER))

    @property
    def is_stack_event(self) -> bool:
        return self.resource_type == "OS::Heat::Stack" and self.physical_resource_id == \
            self.stack_id

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["logical_resource_id"] = self.resource_name
        return out


class EventSink(Protocol):
    def emit(self, event: Event) -> None: ...


class ListEventSink:
    """Keeps every event in order (tests, CLI)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)


class NullEventSink:
    def emit(self, event: Event) -> None:
        return None


class FanOutEventSink:
    """Sends each event to several sinks."""

    def __init__(self, *sinks: EventSink) -> None:
        self.sinks = list(sinks)

    def emit(self, event: Event) -> None:
        for sink in self.sinks:
            sink.emit(event)

"""Engine layer: turns a resolved template, recorded and observed state into a plan, and runs it.

It owns the stack and resource state model (Heat's actions and statuses, and the predicates
every front end asks of a state), planning (create, update in place, replace, delete, adopt,
no-op), the asyncio executor that walks the dependency graph, nested stacks, and the
state-store and event-sink interfaces. It knows nothing of Kubernetes or the CLI.

Other layers import the names below from this package; each is imported from its module on
first use, so importing the package costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeheat._lazy import lazy_exports

if TYPE_CHECKING:
    from kubeheat.engine.decide import PlanAction
    from kubeheat.engine.events import (
        Event,
        EventSink,
        FanOutEventSink,
        ListEventSink,
        NullEventSink,
    )
    from kubeheat.engine.executor import Engine
    from kubeheat.engine.model import (
        REPLACED_SEP,
        Action,
        ResourceState,
        StackState,
        Status,
        base_name,
        clone,
        new_id,
        now,
    )
    from kubeheat.engine.native import FileNativeStore, MemoryNativeStore
    from kubeheat.engine.plan import Plan, ResourcePlan
    from kubeheat.engine.request import (
        CheckResult,
        EngineError,
        ResourceCheck,
        StackRequest,
        StateSaveError,
        failure_reason,
    )
    from kubeheat.engine.stores import JsonFileStateStore, MemoryStateStore, StateStore

#: the module of each public name, imported on first use of one of its names
_EXPORTS = {
    "kubeheat.engine.events": (
        "Event", "EventSink", "FanOutEventSink", "ListEventSink", "NullEventSink",
    ),
    "kubeheat.engine.executor": ("Engine",),
    "kubeheat.engine.model": (
        "REPLACED_SEP", "Action", "ResourceState", "StackState", "Status", "base_name", "clone",
        "new_id", "now",
    ),
    "kubeheat.engine.native": ("FileNativeStore", "MemoryNativeStore"),
    "kubeheat.engine.decide": ("PlanAction",),
    "kubeheat.engine.plan": ("Plan", "ResourcePlan"),
    "kubeheat.engine.request": (
        "CheckResult", "EngineError", "ResourceCheck", "StackRequest", "StateSaveError",
        "failure_reason",
    ),
    "kubeheat.engine.stores": ("JsonFileStateStore", "MemoryStateStore", "StateStore"),
}
__all__ = [
    "REPLACED_SEP",
    "Action",
    "CheckResult",
    "Engine",
    "EngineError",
    "Event",
    "EventSink",
    "FanOutEventSink",
    "FileNativeStore",
    "JsonFileStateStore",
    "ListEventSink",
    "MemoryNativeStore",
    "MemoryStateStore",
    "NullEventSink",
    "Plan",
    "PlanAction",
    "ResourceCheck",
    "ResourcePlan",
    "ResourceState",
    "StackRequest",
    "StackState",
    "StateSaveError",
    "StateStore",
    "Status",
    "base_name",
    "clone",
    "failure_reason",
    "new_id",
    "now",
]

if not TYPE_CHECKING:
    __getattr__ = lazy_exports(__name__, _EXPORTS)

"""Engine layer: turns a resolved template, recorded and observed state into a plan, and runs it.

It owns the stack and resource state model (Heat's actions and statuses, and the predicates
every front end asks of a state), planning (create, update in place, replace, delete, adopt,
no-op), the asyncio executor that walks the dependency graph, nested stacks, and the
state-store and event-sink interfaces. It knows nothing of Kubernetes or the CLI. Other layers
import the names below from here; the modules behind them are the engine's own.
"""

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
from kubeheat.engine.plan import Plan, PlanAction, ResourcePlan
from kubeheat.engine.request import (
    CheckResult,
    EngineError,
    ResourceCheck,
    StackRequest,
    StateSaveError,
)
from kubeheat.engine.stores import JsonFileStateStore, MemoryStateStore, StateStore

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
    "new_id",
    "now",
]

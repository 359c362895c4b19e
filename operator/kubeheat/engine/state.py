"""The engine's state model and stores, as they were imported before they moved to
:mod:`kubeheat.engine.model` and :mod:`kubeheat.engine.stores` (kept for callers not yet
moved)."""

from kubeheat.engine.model import (
    ACTIONS,
    ADOPT,
    CHECK,
    COMPLETE,
    CREATE,
    DELETE,
    FAILED,
    IN_PROGRESS,
    INIT,
    RESUME,
    ROLLBACK,
    STATUSES,
    SUSPEND,
    UPDATE,
    ResourceState,
    StackState,
    clone,
    new_id,
    now,
    status_word,
)
from kubeheat.engine.stores import JsonFileStateStore, MemoryStateStore, StateStore

__all__ = [
    "ACTIONS",
    "ADOPT",
    "CHECK",
    "COMPLETE",
    "CREATE",
    "DELETE",
    "FAILED",
    "INIT",
    "IN_PROGRESS",
    "RESUME",
    "ROLLBACK",
    "STATUSES",
    "SUSPEND",
    "UPDATE",
    "JsonFileStateStore",
    "MemoryStateStore",
    "ResourceState",
    "StackState",
    "StateStore",
    "clone",
    "new_id",
    "now",
    "status_word",
]

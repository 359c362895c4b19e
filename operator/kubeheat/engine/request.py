"""What callers hand the engine and what it answers besides states: the request to create or
update a stack, the result of a check, and the errors the engine raises.

Used by every front end (CLI, controller, API) and by :mod:`kubeheat.engine.nested`, which
builds requests for child stacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubeheat.engine.model import COMPLETE, StackState
from kubeheat.errors import KubeheatError
from kubeheat.resources import ResourceFailure
from kubeheat.template import TemplateError


class EngineError(KubeheatError):
    """A request the engine refuses (unknown stack, stack busy, nothing to roll back ...)."""

    code = "HeatException"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class StateSaveError(KubeheatError):
    """The state store failed: the operation stops at once (nothing more can be recorded)."""


class ResourceFailed(Exception):
    """A resource action failed and was recorded so; ``reason`` is its status reason. Raised
    by the resource actions, it stops the graph walk (other exceptions are crashes)."""

    def __init__(self, action: str, reason: str) -> None:
        super().__init__(reason)
        self.action = action
        self.reason = reason


@dataclass
class StackRequest:
    """What to create or update a stack with.

    ``template`` None (PATCH only) keeps the previous template. ``environments`` are
    environment documents (mappings or YAML/JSON text), merged in order.
    """

    name: str
    template: dict[str, Any] | None = None
    files: dict[str, str] = field(default_factory=dict)
    environments: list[dict[str, Any] | str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    timeout_minutes: float | None = None
    disable_rollback: bool = False
    #: PATCH: parameters to drop from the previous values
    clear_parameters: list[str] = field(default_factory=list)
    #: a child stack's cloud region (None: its parent's)
    region: str | None = None


@dataclass
class ResourceCheck:
    """What ``check`` found for one resource."""

    name: str
    status: str                                   # CHECK_COMPLETE / CHECK_FAILED
    reason: str
    #: property -> (applied value, observed value)
    drift: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    missing: bool = False


@dataclass
class CheckResult:
    state: StackState
    resources: dict[str, ResourceCheck] = field(default_factory=dict)

    @property
    def drifted(self) -> dict[str, dict[str, tuple[Any, Any]]]:
        return {n: r.drift for n, r in self.resources.items() if r.drift}

    @property
    def ok(self) -> bool:
        return self.state.status == COMPLETE

    def to_dict(self) -> dict[str, Any]:
        return {"stack_status": self.state.state,
                "stack_status_reason": self.state.status_reason,
                "resources": {n: {"status": r.status, "reason": r.reason, "missing": r.missing,
                                  "drift": {k: {"applied": a, "observed": o}
                                            for k, (a, o) in r.drift.items()}}
                              for n, r in self.resources.items()}}


def failure_reason(exc: BaseException, name: str) -> str:
    """A resource's status reason for a failed action, as Heat words it:
    ``<ExceptionType>: resources.<name>: <message>``."""
    if isinstance(exc, TemplateError):
        text = str(exc)
        if not text.startswith("resources."):
            text = f"resources.{name}: {text}"
        return f"{exc.code}: {text}"
    kind = "Error" if isinstance(exc, ResourceFailure) else type(exc).__name__
    return f"{kind}: resources.{name}: {exc}"


__all__ = [
    "CheckResult",
    "EngineError",
    "ResourceCheck",
    "ResourceFailed",
    "StackRequest",
    "StateSaveError",
    "failure_reason",
]

"""The interface of the stack storage behind the API: what a backend (embedded, later
Kubernetes) answers, in the engine's own types; the API shapes them as Heat does."""

from __future__ import annotations

from typing import Any, Protocol

from kubeheat.engine import Event, StackRequest, StackState


class StackBackend(Protocol):
    """Stacks of one installation. Operations that change a stack return once it is
    recorded ``IN_PROGRESS`` and go on in the background; bad input raises a
    :class:`~kubeheat.errors.KubeheatError` (with Heat's exception name in ``code``) before
    anything is stored."""

    async def create(self, request: StackRequest) -> StackState: ...

    async def update(self, stack_id: str, request: StackRequest, *, patch: bool) -> None:
        """Heat's PUT (``patch`` False) or PATCH of a stack; 409 while it is busy."""
        ...

    async def check(self, stack_id: str) -> None:
        """Heat's check action, in the background."""
        ...

    async def cancel(self, stack_id: str, *, rollback: bool) -> None:
        """Cancel the create or update in progress; ``NotSupported`` when there is none."""
        ...

    async def signal(self, stack_id: str, resource: str, details: Any) -> None: ...

    async def delete(self, stack_id: str) -> None: ...

    def stacks(self) -> list[StackState]:
        """The top-level stacks, live and recently deleted."""
        ...

    def get(self, stack_id: str) -> StackState | None: ...

    def find(self, name_or_id: str) -> StackState | None:
        """A stack by id (even a deleted one) or by name (live ones only), as Heat looks up."""
        ...

    def events(self, stack_id: str) -> list[Event]: ...

    def deletion_time(self, stack_id: str) -> str | None:
        """When the stack's delete completed (None: it is not deleted)."""
        ...

    async def validate(self, request: StackRequest) -> dict[str, Any]:
        """Heat's template-validate result for the request."""
        ...

    def resource_types(self) -> list[str]: ...

    async def close(self) -> None: ...

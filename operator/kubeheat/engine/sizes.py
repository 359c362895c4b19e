"""The total size of what one operation evaluates for a stack, bounded.

Each function's result is bounded on its own (``list_join``, ``repeat`` ...), but a template can
still multiply results: many outputs or resources each holding a 16 MiB ``list_join``. Every
resource's evaluated properties and metadata, and every output's value, are counted here (as
the bytes of their compact JSON form) for one operation on one stack, and the total is held to
``Limits.max_evaluated_bytes``, so the stored state and the status built from it stay bounded.

Values are measured by a walk that stops as soon as the limit is passed, so a value sharing
sub-objects many times costs no more than the limit to refuse.
"""

from __future__ import annotations

from typing import Any

from kubeheat.template import Path, TemplateLimitError, json_size


class EvaluatedSize:
    """The running total for one stack in one operation (see the module). ``failure`` holds the
    first refusal of an output (outputs are evaluated after the resources, and their refusal
    fails the stack)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.sizes: dict[tuple[str, str], int] = {}
        self.total = 0
        self.failure: str | None = None

    def admit(self, key: tuple[str, str], value: Any, path: Path) -> None:
        """Count ``value`` under ``key`` (replacing what the key held); raise
        ``TemplateLimitError`` at ``path`` when the stack's total would pass the limit."""
        if self.limit < 0:
            return
        held = self.sizes.get(key, 0)
        size = json_size(value, self.limit - (self.total - held))
        total = self.total - held + size
        if total > self.limit:
            raise TemplateLimitError(
                f"The evaluated properties, metadata and outputs of the stack would take more "
                f"than {self.limit} bytes (limit max_evaluated_bytes)", path)
        self.sizes[key] = size
        self.total = total


__all__ = ["EvaluatedSize", "json_size"]

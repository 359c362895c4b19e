"""The error of a Stack spec that cannot be acted on, shared by the spec reader and the spec
bounds (:mod:`kubeheat.controller.spec`, :mod:`kubeheat.controller.limits`)."""

from __future__ import annotations


class SpecError(Exception):
    """The spec cannot be acted on until the user changes it (or creates what it names);
    ``reason`` is the Stalled condition's reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

"""Resource resolvers: how evaluation reaches resources.

The template layer never knows real resources. Evaluation asks a :class:`ResourceResolver` for
references and attributes; :class:`PlaceholderResources` answers as Heat does before anything is
created (the logical name for a reference, None for an attribute), and :class:`StaticResources`
answers from plain dicts (used by validation with known values, by tests and by the engine's
simple paths).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class ResourceResolver(Protocol):
    def reference(self, name: str) -> Any:
        """The physical id of ``name`` (``get_resource``/``Ref``)."""

    def attribute(self, name: str, attribute: str | None, path: Sequence[Any]) -> Any:
        """Attribute ``attribute`` of ``name`` walked along ``path`` (see :func:`walk_path`);
        None when absent.
        ``attribute`` None: all attributes of the resource as a dict (``show`` excluded)."""


def walk_path(value: Any, path: Sequence[Any]) -> Any:
    """Follow an attribute path into ``value`` the way Heat selects from an attribute value.

    Each component indexes the current value directly: a string or integer key into a
    mapping, an integer index into a sequence (strings and tuples included; negative indexes
    count from the end). There is no conversion, so the string ``"0"`` does not index a list
    (unlike ``get_param`` paths). Any miss yields None rather than an error: a missing key or
    index, a component that is neither a string nor an integer, or a value that is neither a
    mapping nor a sequence. (This is ``select_from_attribute`` in Heat's
    ``heat/engine/attributes.py``.)
    """
    for key in path:
        if not isinstance(value, Mapping | Sequence) or not isinstance(key, str | int):
            return None
        container: Any = value  # a str key on a sequence is a TypeError, caught below
        try:
            value = container[key]
        except (KeyError, IndexError, TypeError):
            return None
    return value


class PlaceholderResources:
    """Resources that do not exist yet: references are logical names, attributes None."""

    def reference(self, name: str) -> Any:
        return name

    def attribute(self, name: str, attribute: str | None, path: Sequence[Any]) -> Any:
        return None


class StaticResources:
    """Resources answered from dicts: ``refs[name]`` and ``attrs[name][attribute]``."""

    def __init__(self, refs: Mapping[str, Any] | None = None,
                 attrs: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.refs = dict(refs or {})
        self.attrs = {k: dict(v) for k, v in (attrs or {}).items()}

    def reference(self, name: str) -> Any:
        return self.refs.get(name, name)

    def attribute(self, name: str, attribute: str | None, path: Sequence[Any]) -> Any:
        values = self.attrs.get(name, {})
        if attribute is None:
            return {k: v for k, v in values.items() if k != "show"}
        if attribute not in values:
            return None
        return walk_path(values[attribute], path)

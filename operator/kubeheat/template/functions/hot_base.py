"""What the HOT functions share: the result bounds, small helpers for arguments and messages,
and :class:`HotFunction`, the base of every HOT function class (see :mod:`.hot`)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from kubeheat.template.errors import (
    FunctionError,
    Path,
    TemplateLimitError,
    format_path,
)
from kubeheat.template.functions.base import (
    ABSENT,
    Function,
    Scope,
    is_static,
    resolve,
)
from kubeheat.template.functions.substitute import MAX_RESULT_SIZE as _MAX_SUBSTITUTED

#: kubeheat's guard (Heat has none): the largest string, in characters, that ``str_replace`` or
#: ``list_join`` may build, and the largest total size ``repeat`` may expand to (defined with
#: the substitution, which Fn::Replace shares).
MAX_RESULT_SIZE = _MAX_SUBSTITUTED
#: kubeheat's guard: the most items one ``repeat`` or ``str_split`` may produce.
MAX_RESULT_ITEMS = 100_000



# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------

def _is_fn(value: Any) -> bool:
    return isinstance(value, Function)


#: how Heat names the sections of a resource in "The specified reference ... (in X)"
_HEAT_SECTION_NAMES = {"properties": "Properties", "metadata": "Metadata"}


def _reference_location(path: Path) -> str:
    """The ``X`` of Heat's "The specified reference ... (in X)" for a reference at ``path``:
    ``<resource>.Properties.<path inside>`` (or ``Metadata``) in a resource, ``unknown`` in an
    output (Heat 27.0.1 finds those while validating, where it knows no path)."""
    inner = path[1:-1]
    if path[:1] == ("resources",) and len(inner) >= 2:
        section = _HEAT_SECTION_NAMES.get(str(inner[1]), inner[1])
        return format_path((inner[0], section, *inner[2:]))
    if path[:1] == ("outputs",) or not inner:
        return "unknown"
    return format_path(inner)


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple)


def _plain(value: Any) -> Any:
    """A value removed by a two-argument ``if`` reads as null when used as an argument."""
    return None if value is ABSENT else value


def _arg(snippet: Any, scope: Scope) -> Any:
    return _plain(resolve(snippet, scope))


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _type(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."


def _short_json(value: Any) -> str:
    """``value`` as JSON (Heat's form in some messages), cut as :func:`_short` does."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."


class HotFunction(Function):
    """Base of the HOT functions: error helpers and parse-time static evaluation."""

    def fail(self, message: str) -> FunctionError:
        """An error at this call's path whose message names the function itself."""
        return FunctionError(message, self.path)

    def bad_value(self, message: str) -> FunctionError:
        """An error in the values the call was given, which Heat only finds when it evaluates
        the call (deferrable: in an output, the output's error at create)."""
        return FunctionError(message, self.path, deferrable=True)

    def too_large(self, size: int, limit: int, what: str) -> TemplateLimitError:
        """kubeheat's guard against results that would exhaust memory."""
        return TemplateLimitError(
            f'"{self.name}" would produce {size} {what}; the limit is {limit}', self.path)

    def static(self, snippet: Any) -> tuple[bool, Any]:
        """``(True, value)`` when ``snippet`` refers to no resource and can be evaluated while
        parsing (parameters, files and literals only); ``(False, None)`` otherwise."""
        if not is_static(snippet):
            return False, None
        if not isinstance(snippet, Function | dict | list):
            return True, _plain(snippet)
        return True, _arg(snippet, self.ctx.static_scope())


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _leaves(v)
    else:
        yield value

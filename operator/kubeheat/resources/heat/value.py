"""``OS::Heat::Value``: exposes an expression as the ``value`` attribute.

When ``type`` is given, ``value`` is checked and converted as a property of that parameter type
would be (``string``, ``number``, ``comma_delimited_list`` as a list, ``json`` as a map,
``boolean``). Both properties update in place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubeheat.resources.base import (
    ANY,
    STRING,
    Attribute,
    Property,
    ResourceContext,
    ResourceFailure,
    register,
)
from kubeheat.resources.heat._common import NativeResource
from kubeheat.template import AllowedValuesConstraint

VALUE_TYPES = ("string", "number", "comma_delimited_list", "json", "boolean")

_TRUE = frozenset({"1", "t", "true", "on", "y", "yes"})
_FALSE = frozenset({"0", "f", "false", "off", "n", "no"})


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError(f"Value '{value}' is not a number")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                pass
    raise ValueError(f"Value '{value}' is not a number")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"Unrecognized value '{value}', acceptable values are: "
                     + ", ".join(sorted(_TRUE | _FALSE)))


def convert(value: Any, value_type: str | None) -> Any:
    """``value`` as a property of the schema type that ``value_type`` maps to."""
    if value_type is None or value_type not in VALUE_TYPES:
        return value
    if value_type == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, bool | int):
            return str(value)
        raise ValueError(f"Value must be a string; got {value!r}")
    if value_type == "number":
        return _number(value)
    if value_type == "comma_delimited_list":
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise TypeError(f'"{value!r}" is not a list')
        return list(value)
    if value_type == "json":
        if not isinstance(value, Mapping):
            raise TypeError(f'"{value}" is not a map')
        return dict(value)
    return _boolean(value)


@register
class Value(NativeResource):
    type_name = "OS::Heat::Value"
    id_form = "name"  # Heat: physical id <stack>-<resource>-<short id>
    description = ("Makes the result of an expression (typically built from parameters and "
                   "other resources' attributes) available as this resource's value attribute.")
    properties = {
        "value": Property(ANY, "The expression whose result becomes the value attribute.",
                          required=True, update_allowed=True),
        "type": Property(STRING, "The parameter type the value is checked against and "
                                 "converted to.",
                         update_allowed=True,
                         constraints=(AllowedValuesConstraint(allowed=VALUE_TYPES),)),
    }
    attributes = {
        "value": Attribute("The value property's result, of the type given by the type "
                           "property."),
    }

    def _converted(self, ctx: ResourceContext, props: Mapping[str, Any]) -> Any:
        try:
            return convert(props.get("value"), props.get("type"))
        except (TypeError, ValueError) as exc:
            raise ResourceFailure(
                f"Property error: resources.{ctx.name}.properties.value: {exc}") from None

    def build(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        return {"value": self._converted(ctx, props), "type": props.get("type")}

    def attrs_from(self, ctx: ResourceContext, record: Mapping[str, Any],
                   props: Mapping[str, Any]) -> dict[str, Any]:
        return {"value": record.get("value")}

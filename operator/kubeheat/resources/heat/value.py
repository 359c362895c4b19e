"""``OS::Heat::Value``: exposes an expression as the ``value`` attribute.

When ``type`` is given, ``value`` is checked as a property of that parameter type would be
(``string``, ``number``, ``comma_delimited_list`` as a list, ``json`` as a map, ``boolean``), with
Heat's messages, but the attribute is the value as given: Heat 27.0.1 does not convert it
(``"007"`` of type number stays ``"007"``, ``"False"`` of type boolean stays ``"False"``). Both
properties update in place.
"""

from __future__ import annotations

import numbers
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


def _check_number(value: Any) -> None:
    if isinstance(value, numbers.Number):     # a boolean is one too, as Heat lets it pass
        return
    # Heat tries int then float and reports Python's own message when both fail
    try:
        int(value)
    except ValueError:
        float(value)


def _check_boolean(value: Any) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, str):
        if value.lower() not in ("true", "false"):
            raise ValueError(f'"{value.lower()}" is not a valid boolean')
        return
    raise TypeError(f'"{value}" is not a valid boolean')


def check(value: Any, value_type: str | None) -> None:
    """Raise (TypeError or ValueError, with Heat's message) when ``value`` is not of the
    parameter type ``value_type``; no type (or an unknown one, refused by the ``type``
    property's own constraint) accepts anything. The value itself is never converted: Heat
    returns it as given (``"007"`` of type number stays ``"007"``)."""
    if value_type == "string":
        if not isinstance(value, str | bool | int):
            raise ValueError(f"Value must be a string; got {value!r}")
    elif value_type == "number":
        _check_number(value)
    elif value_type == "comma_delimited_list":
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise TypeError(f'"{value!r}" is not a list')
    elif value_type == "json":
        if not isinstance(value, Mapping):
            raise TypeError(f'"{value}" is not a map')
    elif value_type == "boolean":
        _check_boolean(value)


@register
class Value(NativeResource):
    type_name = "OS::Heat::Value"
    show_is_none = True  # Heat: no API object to show
    id_form = "name"  # Heat: physical id <stack>-<resource>-<short id>
    description = ("Makes the result of an expression (typically built from parameters and "
                   "other resources' attributes) available as this resource's value attribute.")
    properties = {
        "value": Property(ANY, "The expression whose result becomes the value attribute.",
                          required=True, update_allowed=True),
        "type": Property(STRING, "The parameter type the value is checked "
                                 "against.",
                         update_allowed=True,
                         constraints=(AllowedValuesConstraint(allowed=VALUE_TYPES),)),
    }
    attributes = {
        "value": Attribute("The value property's result, as given (the type property "
                           "checks it, Heat does not convert it)."),
    }

    @classmethod
    def check_values(cls, values: Mapping[str, Any]) -> tuple[str, str] | None:
        value = values.get("value")
        if value is None:
            return None
        try:
            check(value, values.get("type"))
        except (TypeError, ValueError) as exc:
            return "value", str(exc)
        return None

    def build(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        problem = self.check_values(props)
        if problem is not None:
            raise ResourceFailure(
                f"Property error: resources.{ctx.name}.properties.{problem[0]}: {problem[1]}")
        return {"value": props.get("value"), "type": props.get("type")}

    def external_record(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {"value": props.get("value")}    # Heat reads the value from the properties

    def attrs_from(self, ctx: ResourceContext, record: Mapping[str, Any],
                   props: Mapping[str, Any]) -> dict[str, Any]:
        return {"value": record.get("value")}

"""How many resources the child stack of a group type will hold, from the group's properties,
known before the child's template is built (review H7).

ResourceGroup holds ``count`` members, AutoScalingGroup ``desired_capacity`` (else
``min_size``) when it is created, ResourceChain one member per entry of ``resources``. Heat
builds the whole member template before it counts its resources against
``max_resources_per_stack``, so ``count: 10000000`` takes gigabytes before it fails; here the
count is held to the limit first: by validation (where the value is known then), and by the
plugins before each build. The facts are here, in the template layer, because ``kubeheat
validate`` checks them without loading the plugins (the resource layer's group types use the
same functions).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kubeheat.template.errors import TemplateError
from kubeheat.template.functions.base import ABSENT, is_static
from kubeheat.template.scope import PlaceholderResources
from kubeheat.template.stack import ResourceDefinition, StackDefinition


def _number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _group(props: Mapping[str, Any]) -> int | None:
    return _number(props.get("count", 1))


def _scaling(props: Mapping[str, Any]) -> int | None:
    desired = props.get("desired_capacity")
    return _number(desired) if desired is not None else _number(props.get("min_size"))


def _chain(props: Mapping[str, Any]) -> int | None:
    types = props.get("resources")
    return len(types) if isinstance(types, list) else None


#: type name -> (the properties the size depends on, the size from their values)
SIZES: dict[str, tuple[tuple[str, ...], Callable[[Mapping[str, Any]], int | None]]] = {
    "OS::Heat::ResourceGroup": (("count",), _group),
    "OS::Heat::AutoScalingGroup": (("desired_capacity", "min_size"), _scaling),
    "OS::Heat::ResourceChain": (("resources",), _chain),
}


def child_resources(type_name: str, props: Mapping[str, Any]) -> int | None:
    """The resources the child stack of a ``type_name`` resource with the (evaluated)
    properties ``props`` will hold; None when the type has no such count or it is not known."""
    found = SIZES.get(type_name)
    return found[1](props) if found is not None else None


def static_child_resources(defn: StackDefinition, rdef: ResourceDefinition,
                           type_name: str) -> int | None:
    """:func:`child_resources` of a resource before anything is created: the properties the
    size depends on are evaluated when they refer to no resource (None otherwise)."""
    found = SIZES.get(type_name)
    if found is None:
        return None
    keys, size = found
    values: dict[str, Any] = {}
    for key in keys:
        snippet = rdef.properties.get(key, ABSENT)
        if snippet is ABSENT:
            continue
        if not is_static(snippet):
            return None
        try:
            value = defn.resolve(snippet, PlaceholderResources())
        except TemplateError:
            return None         # the property checks report it
        if value is not ABSENT:
            values[key] = value
    return size(values)


__all__ = ["SIZES", "child_resources", "static_child_resources"]

"""Before a stack is created or updated: member attributes of a ResourceGroup that its member
type does not have are refused, as Heat 27.0.1 refuses them.

Heat builds the group's nested template with one output per attribute the parent asks of the
group (``[g, x]``, ``[g, resource.0.x]``, ``[g, attributes, x]``), and validates that nested
template when the stack is created, so a name the member type lacks fails the create (not
``validate``) with the nested output's location, e.g. ``resources.g<nested_stack>.outputs.x,
k.Value[0].get_attr: The Referenced Attribute (0 x) is incorrect.``. Only members of a known
type with a fixed attribute list are checked (provider templates and types that answer any
name decide when asked), and only when the count and the member type are literal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from kubeheat.resources import ResourcePlugin
from kubeheat.template import StackDefinition, TemplateError, dependencies

GROUP_TYPE = "OS::Heat::ResourceGroup"
#: the group's own attributes, never asked of members
GROUP_ATTRIBUTES = frozenset({"refs", "refs_map", "removed_rsrc_list"})

ClassFor = Callable[[str, str | None], "type[ResourcePlugin] | None"]


def _asked(defn: StackDefinition, group: str) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """(attribute, path) of every literal ``get_attr`` on ``group`` in resources and outputs."""
    snippets: list[Any] = []
    for rdef in defn.resources.values():
        snippets += [rdef.properties, rdef.metadata]
    snippets += [out.value for out in defn.outputs.values() if out.enabled]
    for snippet in snippets:
        for dep in dependencies(snippet):
            if dep.resource == group and dep.attribute not in (None, "*"):
                yield str(dep.attribute), tuple(dep.path)


def _members(props: Mapping[str, Any]) -> list[str] | None:
    """The group's member names, when the count and removals are literal."""
    count = props.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        return None
    removed: set[str] = set()
    for policy in props.get("removal_policies") or []:
        listed = policy.get("resource_list") if isinstance(policy, Mapping) else None
        if not isinstance(listed, list) or not all(isinstance(n, str | int) for n in listed):
            return None
        removed |= {str(n) for n in listed}
    names: list[str] = []
    index = 0
    while len(names) < count:
        if str(index) not in removed:
            names.append(str(index))
        index += 1
    return names


def _problem(key: str, path: tuple[Any, ...], names: list[str]
             ) -> tuple[str, str, str, str] | None:
    """(member name, member attribute, nested output name, value location) of a member
    attribute the group's nested template would hold for ``[g, key, *path]``."""
    output = ", ".join(str(p) for p in (key, *path))
    first = names[0]
    if key in GROUP_ATTRIBUTES:
        return None
    if key == "attributes":
        return (first, str(path[0]), output, f"value[{first}]") if path else None
    if key.startswith("resource."):
        parts = key.split(".", 2)
        if parts[1] not in names:
            return None           # no such member: the nested output has no value
        if len(parts) == 3:
            return parts[1], parts[2], output, "value"
        return (parts[1], str(path[0]), output, "value") if path else None
    return first, key, output, "Value[0]"


def check_group_member_attributes(defn: StackDefinition, class_for: ClassFor) -> None:
    """Raise Heat's create-time error for the first member attribute a group's member type
    lacks (see the module)."""
    for name, rdef in defn.resources.items():
        cls = class_for(rdef.type, rdef.implementation)
        if cls is None or cls.type_name != GROUP_TYPE:
            continue
        props = rdef.properties
        resource_def = props.get("resource_def")
        member_type = resource_def.get("type") if isinstance(resource_def, Mapping) else None
        names = _members(props)
        if not isinstance(member_type, str) or not names:
            continue
        member_cls = class_for(member_type, None)
        if member_cls is None or member_cls.dynamic_attributes or member_cls.any_attribute:
            continue
        for key, path in _asked(defn, name):
            found = _problem(key, path, names)
            if found is None:
                continue
            member, attribute, output, where = found
            if attribute == "show" or attribute in member_cls.attributes:
                continue
            raise TemplateError(
                f"resources.{name}<nested_stack>.outputs.{output}.{where}.get_attr: "
                f"The Referenced Attribute ({member} {attribute}) is incorrect.",
                code="StackValidationFailed")


__all__ = ["check_group_member_attributes"]

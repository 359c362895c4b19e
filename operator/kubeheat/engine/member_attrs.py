"""Before a stack is created or updated: member attributes of a ResourceGroup or ResourceChain
that the member types do not have are refused, as Heat 27.0.1 refuses them.

Heat builds the group's nested template with one output per attribute the parent asks of the
group (``[g, x]``, ``[g, resource.0.x]``, ``[g, attributes, x]``), and validates that nested
template when the stack is created, so a name a member type lacks fails the create (not
``validate``) with the nested output's location, e.g. ``resources.g<nested_stack>.outputs.x,
k.Value[0].get_attr: The Referenced Attribute (0 x) is incorrect.``. Only members of a known
type with a fixed attribute list are checked (provider templates and types that answer any
name decide when asked), and only when the members are literal (the count, the removal
policies, the chain's type list).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from kubeheat.resources import ResourcePlugin
from kubeheat.template import StackDefinition, TemplateError, dependencies

GROUP_TYPE = "OS::Heat::ResourceGroup"
CHAIN_TYPE = "OS::Heat::ResourceChain"
#: the groups' own attributes, never asked of members
GROUP_ATTRIBUTES = frozenset({"refs", "refs_map", "removed_rsrc_list"})

ClassFor = Callable[[str, str | None], "type[ResourcePlugin] | None"]
#: member name -> its type name, in the group's order
Members = list[tuple[str, str]]


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


def _group_members(props: Mapping[str, Any]) -> Members | None:
    """A ResourceGroup's members, when the count, removals and member type are literal."""
    resource_def = props.get("resource_def")
    member_type = resource_def.get("type") if isinstance(resource_def, Mapping) else None
    count = props.get("count", 1)
    if (not isinstance(member_type, str) or not isinstance(count, int)
            or isinstance(count, bool)):
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
    return [(n, member_type) for n in names]


def _chain_members(props: Mapping[str, Any]) -> Members | None:
    types = props.get("resources")
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        return None
    return [(str(i), t) for i, t in enumerate(types)]


def _targets(key: str, path: tuple[Any, ...], members: Members
             ) -> Iterator[tuple[str, str, str, str]]:
    """(member name, its type, member attribute, value location) of each member attribute
    the nested output for ``[g, key, *path]`` holds."""
    if key in GROUP_ATTRIBUTES:
        return
    if key == "attributes":
        if path:
            yield from ((n, t, str(path[0]), f"value[{n}]") for n, t in members)
        return
    if key.startswith("resource."):
        parts = key.split(".", 2)
        found = dict(members).get(parts[1])
        if found is None:
            return                # no such member: the nested output has no value
        if len(parts) == 3:
            yield parts[1], found, parts[2], "value"
        elif path:
            yield parts[1], found, str(path[0]), "value"
        return
    yield from ((n, t, key, f"Value[{i}]") for i, (n, t) in enumerate(members))


def check_group_member_attributes(defn: StackDefinition, class_for: ClassFor) -> None:
    """Raise Heat's create-time error for the first member attribute a group's member type
    lacks (see the module)."""
    for name, rdef in defn.resources.items():
        cls = class_for(rdef.type, rdef.implementation)
        kind = cls.type_name if cls is not None else None
        if kind == GROUP_TYPE:
            members = _group_members(rdef.properties)
        elif kind == CHAIN_TYPE:
            members = _chain_members(rdef.properties)
        else:
            continue
        if not members:
            continue
        for key, path in _asked(defn, name):
            output = ", ".join(str(p) for p in (key, *path))
            for member, member_type, attribute, where in _targets(key, path, members):
                member_cls = class_for(member_type, None)
                if (member_cls is None or member_cls.dynamic_attributes
                        or member_cls.any_attribute or attribute == "show"
                        or attribute in member_cls.attributes):
                    continue
                raise TemplateError(
                    f"resources.{name}<nested_stack>.outputs.{output}.{where}.get_attr: "
                    f"The Referenced Attribute ({member} {attribute}) is incorrect.",
                    code="StackValidationFailed")


__all__ = ["check_group_member_attributes"]

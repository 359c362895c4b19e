"""Old property names Heat still accepts: how a plugin declares them, and what ``validate`` says.

Heat keeps renamed properties working through translation rules. kubeheat declares them in the
schema itself: the old name is a :class:`~kubeheat.resources.base.Property` with
``support=HIDDEN`` (or ``DEPRECATED``) and ``replaced_by`` naming its sibling, the current
name (:func:`renamed` builds one). This works at any depth: a nested map schema (the items of
``fixed_ips``, of ``networks``) declares its old keys the same way.

:func:`kubeheat.resources.properties.translate` applies Heat's REPLACE rule to one level of
values before the schema check: the old name's value, when it is not null, becomes the new
name's value (so a required new name given by its old one is present, and the new name's type
and constraints apply); the old name is then unset (null, as Heat shows it). When the new name
is a list and the old one a single value, the value becomes the list's one item (Heat's ADD
rule followed by DELETE of the old name: ``l3_agent_id`` into ``l3_agent_ids``). Both given (both
non-empty) is Heat's error ``Cannot define the following properties at the same time: <new>,
<old>`` (dotted schema paths), located at the new name. What Heat then does with the value (its
RESOLVE rules turn names into ids) kubeheat's plugins do when they call the cloud, for old and
new names alike, since the value is the new name's by then.

A hidden or deprecated property without ``replaced_by`` is accepted and checked like any other
(``admin_user``, ``personality``); its ``support_message`` says what became of it. Hidden
properties are left out of ``resource-types show`` and the generated reference, at every depth.

:func:`deprecation_warnings` finds every deprecated or hidden property a template uses (in the
unevaluated property trees, so each is located where it is written):
``resources.port.properties.network_id: deprecated, use network``.
:func:`translated_snippets` renames the old names of an unevaluated tree, for what reads the
trees before values are known (implicit dependencies).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubeheat.resources.base import HIDDEN, LIST, MAP, STRING, SUPPORTED, Property
from kubeheat.template import Constraint, Path, TemplateError


def renamed(new: str, type: str = STRING, *, constraints: tuple[Constraint, ...] = (),
            update_allowed: bool = False, support: str = HIDDEN) -> Property:
    """The old name of the property ``new`` (a sibling in the same schema)."""
    return Property(type, f"Deprecated: use {new}.", update_allowed=update_allowed,
                    constraints=constraints, support=support, replaced_by=new)


def warning(prop: Property) -> str:
    """What ``validate`` says about a deprecated or hidden property."""
    if prop.replaced_by is not None:
        return f"deprecated, use {prop.replaced_by}"
    return f"deprecated: {prop.support_message}" if prop.support_message else "deprecated"


def deprecation_warnings(schema: Mapping[str, Property], snippet: Any, path: Path
                         ) -> list[str]:
    """``<path>: deprecated, use <new>`` for every deprecated or hidden property in the
    unevaluated property tree ``snippet`` of a resource whose schema is ``schema`` (maps and
    lists written in the template are followed; values computed by functions are not known
    here)."""
    found: list[str] = []
    _walk(schema, snippet, path, found)
    return found


def _walk(schema: Mapping[str, Property], snippet: Any, path: Path, found: list[str]) -> None:
    if not isinstance(snippet, Mapping):
        return
    for key, value in snippet.items():
        prop = schema.get(key)
        if prop is None:
            continue
        where = (*path, key)
        if prop.support != SUPPORTED:
            found.append(str(TemplateError(warning(prop), where)))
        nested = nested_schema(prop)
        if nested is None:
            continue
        if prop.type == MAP:
            _walk(nested, value, where, found)
        elif prop.type == LIST and isinstance(value, Sequence) and not isinstance(value, str):
            for i, item in enumerate(value):
                _walk(nested, item, (*where, i), found)


def nested_schema(prop: Property) -> Mapping[str, Property] | None:
    """The schema of a map property's keys, or of a list property's items (None: none)."""
    if prop.type == LIST and prop.item is not None:
        return prop.item.schema
    return prop.schema


def translated_snippets(schema: Mapping[str, Property], snippet: Any) -> Any:
    """An unevaluated property tree with old names replaced by the current ones (as far as
    maps and lists are written in the template). Where both are given the old name's value is
    kept, as Heat's REPLACE rule keeps it (the conflict itself fails the property check)."""
    if not isinstance(snippet, Mapping):
        return snippet
    out = dict(snippet)
    for key, prop in schema.items():
        if prop.replaced_by is not None and key in out:
            value = out.pop(key)
            target = schema.get(prop.replaced_by)
            if value is not None and target is not None and target.type == LIST \
                    and prop.type != LIST:
                value = [value]
            if value is not None or prop.replaced_by not in out:
                out[prop.replaced_by] = value
    for key, value in out.items():
        sub = schema.get(key)
        nested = nested_schema(sub) if sub is not None else None
        if sub is None or nested is None:
            continue
        if sub.type == MAP:
            out[key] = translated_snippets(nested, value)
        elif sub.type == LIST and isinstance(value, list):
            out[key] = [translated_snippets(nested, item) for item in value]
    return out


__all__ = ["deprecation_warnings", "nested_schema", "renamed", "translated_snippets", "warning"]

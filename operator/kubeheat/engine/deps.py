"""Implicit dependencies: the edges resource types add to the template's dependency graph.

The template layer builds :attr:`StackDefinition.graph` from what the template says (references
and ``depends_on``). Some types must also wait for resources they do not refer to, as Heat's
``add_dependencies`` makes them (a Neutron port for the subnets of its network ...): each type
says so in :meth:`ResourcePlugin.implicit_dependencies`, looking at the unresolved properties
of the whole stack through :class:`StackDependencyView`. :func:`stack_requires` merges those
edges into the template's, skipping any edge that would close a cycle (as Heat does), in a
deterministic order. A stack whose types add nothing costs one dictionary walk.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeheat.engine.plugins import Plugins
from kubeheat.resources import ResourcePlugin, ResourceSnippet, translated_snippets
from kubeheat.template import (
    ABSENT,
    Function,
    StackDefinition,
    TemplateError,
    dependencies,
    is_static,
)


class StackDependencyView:
    """:class:`~kubeheat.resources.base.DependencyView` over a stack definition."""

    def __init__(self, defn: StackDefinition,
                 classes: Mapping[str, type[ResourcePlugin]]) -> None:
        self._defn = defn
        self.resources: dict[str, ResourceSnippet] = {
            name: ResourceSnippet(name=name, type=cls.type_name if cls else rdef.type,
                                  properties=properties_of(rdef.properties, cls),
                                  dependencies=rdef.dependencies)
            for name, rdef in defn.resources.items()
            for cls in (classes.get(name),)}
        self._by_type: dict[str, list[ResourceSnippet]] = {}
        for snip in sorted(self.resources.values(), key=lambda r: r.name):
            self._by_type.setdefault(snip.type, []).append(snip)

    def of_type(self, *types: str) -> list[ResourceSnippet]:
        out: list[ResourceSnippet] = []
        for name in types:
            out.extend(self._by_type.get(name, ()))
        return sorted(out, key=lambda r: r.name) if len(types) > 1 else out

    def reference(self, snippet: Any) -> str | None:
        if not isinstance(snippet, Function) or snippet.name not in ("get_resource", "Ref"):
            return None
        deps = [d for d in dependencies(snippet) if d.attribute is None]
        if len(deps) != 1 or deps[0].resource not in self.resources:
            return None
        return deps[0].resource

    def _value(self, snippet: Any) -> Any:
        try:
            return self._defn.resolve(snippet)
        except TemplateError:
            return ABSENT

    def same(self, a: Any, b: Any) -> bool:
        if a is None or b is None or a is ABSENT or b is ABSENT:
            return False
        ref_a, ref_b = self.reference(a), self.reference(b)
        if ref_a is not None or ref_b is not None:
            return ref_a == ref_b
        if is_static(a) and is_static(b):
            va, vb = self._value(a), self._value(b)
            return va is not ABSENT and va is not None and va == vb
        return bool(a == b)


def properties_of(properties: Mapping[str, Any], cls: type[ResourcePlugin] | None
                  ) -> Mapping[str, Any]:
    """A resource's unresolved properties, the old property names Heat still accepts replaced
    by the current ones (the hooks read the current names only)."""
    if cls is None or cls.accepts_any_properties:
        return properties
    translated: Mapping[str, Any] = translated_snippets(cls.properties, properties)
    return translated


def stack_requires(defn: StackDefinition, plugins: Plugins) -> dict[str, frozenset[str]]:
    """The stack's dependency graph (``name -> what it requires``): the template's edges plus
    the implicit ones of its types, without cycles."""
    base = defn.graph.requires
    hooks: list[tuple[str, type[ResourcePlugin]]] = []
    classes: dict[str, type[ResourcePlugin]] = {}
    for name, rdef in defn.resources.items():
        cls = plugins.class_for(rdef.type, rdef.implementation)
        if cls is None:
            continue
        classes[name] = cls
        if rdef.external_id is None and cls.adds_dependencies:
            hooks.append((name, cls))
    if not hooks:
        return base
    view = StackDependencyView(defn, classes)
    requires: dict[str, set[str]] = {n: set(d) for n, d in base.items()}
    for name, cls in sorted(hooks):
        try:
            extra = cls.implicit_dependencies(name, view.resources[name].properties, view)
        except Exception:   # a hook must never break the stack: it only orders
            continue
        for dep in sorted(extra):
            if dep == name or dep not in requires or dep in requires[name]:
                continue
            if _reaches(requires, dep, name):
                continue            # would close a cycle: skipped, as Heat does
            requires[name].add(dep)
    return {n: frozenset(d) for n, d in requires.items()}


def _reaches(requires: Mapping[str, set[str]], start: str, target: str) -> bool:
    """True when ``start`` (transitively) requires ``target``."""
    seen = {start}
    todo = [start]
    while todo:
        node = todo.pop()
        for dep in requires[node]:
            if dep == target:
                return True
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return False


__all__ = ["StackDependencyView", "stack_requires"]

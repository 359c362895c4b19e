"""Validation of the attribute names ``get_attr`` / ``Fn::GetAtt`` ask for.

Heat's validation refuses an attribute a resource's type does not have, located at the innermost
function naming it (``outputs.o.value.get_attr: The Referenced Attribute (web foo) is
incorrect.``). Which names a type has is the caller's knowledge: the engine asks the plugins,
``kubeheat validate`` its table of Heat's own types.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kubeheat.template.errors import Path, TemplateError
from kubeheat.template.functions.base import Dependency, dependencies, functions_in

if TYPE_CHECKING:
    from kubeheat.template.stack import StackDefinition


def check_attribute_references(defn: StackDefinition,
                               refused: Callable[[str, str], bool]) -> None:
    """Raise Heat's ``InvalidTemplateAttribute`` for the first ``get_attr`` of ``defn`` (in a
    resource's properties, metadata or update policy, or an enabled output) whose attribute
    ``refused(resource, attribute)`` says the resource's type does not have. ``show`` and
    whole-resource forms are never refused."""

    def bad(dep: Dependency) -> bool:
        if dep.attribute is None or dep.attribute == "*" or dep.attribute == "show":
            return False
        return refused(dep.resource, dep.attribute)

    checks: list[tuple[Any, Path]] = []
    for rdef in defn.resources.values():
        if any(bad(dep) for dep in rdef.references):
            checks.extend(((rdef.properties, rdef.key_path("properties")),
                           (rdef.metadata, rdef.key_path("metadata")),
                           (rdef.update_policy, rdef.key_path("update_policy"))))
    for name, out in defn.outputs.items():
        if out.enabled and any(bad(dep) for dep in dependencies(out.value)):
            checks.append((out.value, ("outputs", name)))
    for snippet, where in checks:
        for fn in functions_in(snippet):
            inner = set(dependencies(fn.args))
            for dep in fn.dependencies():
                if dep not in inner and bad(dep):
                    raise _invalid(dep, fn.path)
        for dep in dependencies(snippet):
            if bad(dep):
                raise _invalid(dep, where)


def _invalid(dep: Dependency, path: Path) -> TemplateError:
    return TemplateError(f"The Referenced Attribute ({dep.resource} {dep.attribute}) is "
                         "incorrect.", path, code="InvalidTemplateAttribute")

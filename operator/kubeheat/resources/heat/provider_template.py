"""Provider templates: a resource whose type is a template file.

A resource whose type names a template file (``type: app.yaml``), or that the environment's
``resource_registry`` maps to one, is a nested stack: its properties are the template's
parameters and the template's outputs are its attributes (a path selects into the value);
``get_resource`` gives the template's ``OS::stack_id`` output when it has one, else the nested
stack's ARN, and so does ``get_attr: [p, OS::stack_id]``. ``resource.<name>`` gives a resource
of the template (its reference; ``resource.<name>.<attr>`` or a further path item an
attribute). There is no ``show``: it and any other name are Heat's invalid attribute. Every
property change is passed down to the nested stack, whose own resources decide what changes.

The plugin is not registered under a type name: the engine builds one per resource
(:class:`kubeheat.engine.plugins.Plugins`) with the template file from the stack's files map.
Facts follow Heat's ``template_resource.py``; the code is kubeheat's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from kubeheat.resources.base import (
    Created,
    NestedStackResult,
    Observed,
    ResourceContext,
    ResourceFailure,
)
from kubeheat.resources.heat._common import REFERENCE
from kubeheat.resources.heat._nested import (
    FINISHED,
    NestedStackResource,
    child_result,
    invalid_attribute,
    member_not_found,
    nested_stacks,
)
from kubeheat.template import load_mapping, walk_path


class TemplateResource(NestedStackResource):
    """A provider template run as a nested stack (see the module)."""

    type_name = "<provider template>"
    description = "A resource implemented by a template (a nested stack)."
    update_all_in_place: ClassVar[bool] = True
    accepts_any_properties: ClassVar[bool] = True
    #: outputs, ``resource.<name>...`` and ``OS::stack_id`` are answered by get_attribute
    dynamic_attributes: ClassVar[bool] = True
    #: no ``show`` attribute (Heat's template resources have none)
    has_show: ClassVar[bool] = False
    sees_deletion_policy: ClassVar[bool] = True
    #: the child id kubeheat 0.1.0 gave provider templates (kept: it names the recorded child)
    child_id: ClassVar[str] = "stack"

    @classmethod
    def takes_over(cls, old_type: str, old_nested: Mapping[str, str]) -> bool:
        """A provider template resource whose type names another template is updated in
        place, its nested stack updated to the new template, as Heat updates one template
        resource by another (both are its TemplateResource): the CLI naming templates by
        their ``file://`` URL, as heatclient does, must not replace what older runs recorded
        under a relative name."""
        return cls.child_id in old_nested

    def __init__(self, template_name: str, template_text: str | None,
                 environment: Mapping[str, Any] | None) -> None:
        self.template_name = template_name
        self.template_text = template_text
        self.environment = dict(environment) if environment is not None else None

    def _template(self) -> dict[str, Any]:
        if self.template_text is None:
            raise ResourceFailure(
                f'Could not fetch remote template "{self.template_name}": it is not in the '
                "files map")
        # 'Template "name"': a parse error names the file as Heat's does
        return load_mapping(self.template_text, what=f'Template "{self.template_name}"')

    async def _apply(self, ctx: ResourceContext, props: Mapping[str, Any]
                     ) -> NestedStackResult:
        params = {k: v for k, v in props.items() if v is not None}
        facade = {"metadata": dict(ctx.metadata), "update_policy": dict(ctx.update_policy),
                  "deletion_policy": ctx.deletion_policy}
        return await nested_stacks(ctx).create_or_update(
            self.child_id, self._template(), params, environment=self.environment,
            facade=facade)

    @staticmethod
    def _created(ctx: ResourceContext, result: NestedStackResult) -> Created:
        """The child stack's id is the physical id; ``get_resource`` gives the template's
        ``OS::stack_id`` output when it has one, else (as in Heat) the child stack's ARN,
        ``arn:openstack:heat::<project>:stacks/<child name>/<child id>``."""
        ref = result.outputs.get("OS::stack_id")
        if not (isinstance(ref, str) and ref):
            ref = (f"arn:openstack:heat::{ctx.project_id}:stacks/{result.stack_name}/"
                   f"{result.stack_id}")
        return Created(physical_id=result.stack_id, data={REFERENCE: ref})

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        return self._created(ctx, await self._apply(ctx, props))

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        """The child stack, when a previous run finished it. A child left unfinished
        (interrupted, failed, rolled back or deleted) is not adopted as it is: ``create``
        runs it again, which resumes it (adopting it would record the resource complete
        over a child whose resources were never made)."""
        found = child_result(ctx, self.child_id)
        if found is None or found.status not in FINISHED:
            return None
        return self._created(ctx, found)

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        result = await self._apply(ctx, new)
        return self._created(ctx, result).data

    async def read(self, ctx: ResourceContext, props: dict[str, Any]) -> Observed | None:
        found = child_result(ctx, self.child_id)
        if found is None:
            return None
        failed = found.status_reason if found.status.endswith("FAILED") else None
        return Observed(properties={}, attributes=dict(found.outputs), failed=failed)

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        found = child_result(ctx, self.child_id)
        if found is None:
            return {}
        return {k: v for k, v in found.outputs.items() if k not in found.output_errors}

    def attribute_names(self, ctx: ResourceContext, props: Mapping[str, Any]) -> list[str]:
        """The template's outputs are the attributes (``get_attr: [p]`` gives them)."""
        found = child_result(ctx, self.child_id)
        return [] if found is None else [k for k in found.outputs if k not in found.output_errors]

    def get_attribute(self, ctx: ResourceContext, props: Mapping[str, Any], key: str,
                      path: Sequence[Any]) -> Any:
        """``get_attr: [p, key, *path]``: an output of the template with the path applied,
        ``resource.<name>[.<attr>]`` of a resource in it, or ``OS::stack_id``; any other
        name (``show`` too: a template resource has none) is an invalid attribute."""
        found = child_result(ctx, self.child_id)
        if found is None:
            return None
        if key.startswith("resource."):
            return self._nested_resource(ctx, found, key, path)
        if key in found.output_errors:
            raise ResourceFailure(f"Error in {ctx.name} output {key}: "
                                  f"{found.output_errors[key]}")
        if key in found.outputs:
            return walk_path(found.outputs[key], path)
        if key == "OS::stack_id":
            return walk_path(ctx.data.get(REFERENCE) or self._created(ctx, found).data[REFERENCE],
                             path)
        raise invalid_attribute(ctx, key, path)

    @staticmethod
    def _nested_resource(ctx: ResourceContext, found: NestedStackResult, key: str,
                         path: Sequence[Any]) -> Any:
        """``resource.<name>`` (its reference) or ``resource.<name>.<attr>`` / ``resource.
        <name>`` with the attribute as the first path item, of the template's resource."""
        parts = key.split(".", 2)
        rest = parts[2:] + list(path)
        if parts[1] not in found.resource_ids():
            raise member_not_found(ctx, parts[1])
        if not rest:
            return found.resource_reference(parts[1])
        return found.resource_attribute(parts[1], str(rest[0]), rest[1:])


__all__ = ["TemplateResource"]

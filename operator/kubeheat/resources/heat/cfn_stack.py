"""``AWS::CloudFormation::Stack``: a child stack from the template named by ``TemplateURL``.

``Parameters`` are the child's parameters and ``TimeoutInMinutes`` bounds its create and
update. Its attributes are the child's outputs as ``Outputs.<name>`` (a path selects into the
value); any other name, and an output the child does not have, is refused with Heat's
``The Referenced Attribute (<name> <key>) is incorrect.``. ``get_resource`` gives the child
stack's ARN, as for provider templates.

kubeheat never fetches URLs: the template is taken from the stack's files map, where it is
keyed by the ``TemplateURL`` text exactly as written (Heat 27.0.1 fetches it over http(s) and
refuses any other scheme). Facts follow Heat's ``aws/cfn/stack.py``; the code is kubeheat's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from kubeheat.resources.base import (
    INTEGER,
    MAP,
    STRING,
    Created,
    NestedStackResult,
    Property,
    ResourceContext,
    ResourceFailure,
    register,
)
from kubeheat.resources.heat._common import REFERENCE
from kubeheat.resources.heat._nested import (
    NestedStackResource,
    child_result,
    invalid_attribute,
    nested_stacks,
    run_child,
)
from kubeheat.template import KubeheatError, load_mapping, walk_path

OUTPUTS_PREFIX = "Outputs."


def stack_arn(result: NestedStackResult) -> str:
    """The child stack's ARN (no project part, as for provider templates)."""
    return f"arn:openstack:heat:::stacks/{result.stack_name}/{result.stack_id}"


@register
class CloudFormationStack(NestedStackResource):
    type_name = "AWS::CloudFormation::Stack"
    description = ("A child stack whose template is named by TemplateURL (taken from the "
                   "stack's files map; kubeheat fetches nothing).")
    properties = {
        "TemplateURL": Property(STRING, "The URL of a template that specifies the stack to be "
                                "created as a resource (kubeheat: its key in the files map).",
                                required=True, update_allowed=True),
        "TimeoutInMinutes": Property(INTEGER, "The length of time, in minutes, to wait for the "
                                     "nested stack creation.", update_allowed=True),
        "Parameters": Property(MAP, "The set of parameters passed to this nested stack.",
                               update_allowed=True),
    }
    #: every change goes to the child stack
    update_all_in_place: ClassVar[bool] = True
    #: ``Outputs.<name>`` are answered by get_attribute
    dynamic_attributes: ClassVar[bool] = True

    @staticmethod
    def _template(ctx: ResourceContext, url: Any) -> dict[str, Any]:
        text = nested_stacks(ctx).file(str(url))
        if text is None:
            raise ResourceFailure(
                f"Could not fetch remote template '{url}': kubeheat takes it from the files "
                "map, which does not hold it")
        try:
            return load_mapping(text, what="Template")
        except KubeheatError as exc:
            raise ResourceFailure(f"TemplateURL {url}: {exc}") from None

    async def _apply(self, ctx: ResourceContext, props: Mapping[str, Any]) -> Created:
        minutes = props.get("TimeoutInMinutes")
        result = await run_child(ctx, self._template(ctx, props.get("TemplateURL")),
                                 dict(props.get("Parameters") or {}),
                                 timeout=None if minutes is None else float(minutes) * 60.0)
        return Created(physical_id=result.stack_id, data={REFERENCE: stack_arn(result)})

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        return await self._apply(ctx, props)

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        return (await self._apply(ctx, new)).data

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        found = await super().find_existing(ctx, props)
        child = child_result(ctx)
        if found is not None and child is not None:
            found.data[REFERENCE] = stack_arn(child)
        return found

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        child = child_result(ctx)
        if child is None:
            return {}
        return {OUTPUTS_PREFIX + k: v for k, v in child.outputs.items()
                if k not in child.output_errors}

    def get_attribute(self, ctx: ResourceContext, props: Mapping[str, Any], key: str,
                      path: Sequence[Any]) -> Any:
        """``get_attr: [s, Outputs.<name>, *path]``."""
        child = child_result(ctx)
        if not key.startswith(OUTPUTS_PREFIX):
            raise invalid_attribute(ctx, key)
        if child is None:
            return None
        name = key[len(OUTPUTS_PREFIX):]
        if name in child.output_errors:
            raise ResourceFailure(f"Error in {ctx.name} output {name}: "
                                  f"{child.output_errors[name]}")
        if name not in child.outputs:
            raise invalid_attribute(ctx, key)
        return walk_path(child.outputs[name], path)


__all__ = ["CloudFormationStack"]

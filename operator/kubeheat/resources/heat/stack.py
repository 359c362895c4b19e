"""``OS::Heat::Stack``: a whole stack (template + parameters) as one resource.

The child stack runs in the same engine as its parent, with the parent's files and
environment. Every update is passed down to the child, whose own resources decide what changes
(Heat's behaviour), except a change of ``context.region_name``, which replaces the resource.

Attributes: ``stack_name``, ``outputs`` (``get_attr: [res, outputs, NAME]``) and, as for nested
stacks, each output by its own name (``get_attr: [res, NAME]``).

``context.region_name`` names the cloud region the child stack's resources are made in
(Heat's remote stack in another region of the same cloud): kubeheat runs the child itself,
through an openstacksdk connection for that region (unset, or the stack's own region: the
parent's connection). A region the cloud's catalog does not have refuses the stack before
anything is made, with Heat's message located at ``...properties.context.region_name``.
``credential_secret_id`` (a Barbican secret holding another cloud's credentials) is refused:
kubeheat has no Barbican client. ``template`` may be given as a string (JSON or YAML, as in
Heat) or already as a mapping.

Facts follow Heat's ``remote_stack.py``; the code is kubeheat's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from kubeheat.resources.base import (
    ANY,
    BOOLEAN,
    INTEGER,
    MAP,
    STRING,
    Attribute,
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
    run_child,
    select_path,
)
from kubeheat.template import KubeheatError, TemplateError, load_mapping


def parse_template(value: Any) -> dict[str, Any]:
    """The child template from the ``template`` property (a JSON/YAML string or a mapping)."""
    if isinstance(value, Mapping):
        return dict(value)
    if not isinstance(value, str):
        raise ResourceFailure(
            f"template: expected a template as a string or a map, not {type(value).__name__}")
    try:
        return load_mapping(value, what="Template")
    except KubeheatError as exc:
        raise ResourceFailure(f"template: {exc}") from None


def no_endpoint(region: str) -> str:
    """Heat 27.0.1's refusal of a region its cloud does not have."""
    return (f'Cannot establish connection to Heat endpoint at region "{region}" due to '
            f'"public endpoint for orchestration service in {region} region not found"')


def region_of(ctx: ResourceContext, context: Mapping[str, Any] | None) -> str | None:
    """The region the child stack runs in (None: the parent's), after refusing what kubeheat
    cannot do (a credential for another cloud) and a region the cloud does not have."""
    if not context:
        return None
    where = f"resources.{ctx.name}.properties.context"
    if context.get("credential_secret_id"):
        raise ResourceFailure(
            f"{where}.credential_secret_id: remote stacks in another cloud need the "
            "credential kept in Barbican, which kubeheat does not support; use "
            "context.region_name for another region of the same cloud")
    region = context.get("region_name")
    if not region:
        return None
    if ctx.cloud is not None:
        from kubeheat.cloud import CloudConfigError, region_cloud  # openstacksdk: when used

        try:
            region_cloud(ctx.cloud, str(region))
        except CloudConfigError:
            raise ResourceFailure(f"{where}.region_name: {no_endpoint(str(region))}") from None
    return str(region)


@register
class HeatStack(NestedStackResource):
    type_name = "OS::Heat::Stack"
    description = ("A resource representing a stack: the template (with its parameters) is "
                   "created as a child stack, in another region of the same cloud with "
                   "context.region_name.")
    properties = {
        "context": Property(MAP, "Context for this stack.", update_allowed=True, schema={
            "region_name": Property(STRING, "Region name in which this stack will be created "
                                    "(a region of the same cloud)."),
            "credential_secret_id": Property(STRING, "A Barbican secret ID holding a "
                                             "credential for a remote cloud (not supported "
                                             "by kubeheat).", update_allowed=True),
            "ca_cert": Property(STRING, "CA Cert for SSL.", update_allowed=True),
            "insecure": Property(BOOLEAN, "If set, then the server's certificate will not be "
                                 "verified.", default=False, update_allowed=True),
        }),
        # Heat's type is string; a map is accepted as well (kubeheat templates often inline it)
        "template": Property(ANY, "Template that specifies the stack to be created as a "
                             "resource (a string in JSON or YAML, or a map).", required=True,
                             update_allowed=True),
        "timeout": Property(INTEGER, "Number of minutes to wait for this stack creation.",
                            update_allowed=True),
        "parameters": Property(MAP, "Set of parameters passed to this stack.", default={},
                               update_allowed=True),
    }
    attributes = {
        "stack_name": Attribute("Name of the stack.", STRING),
        "outputs": Attribute("A dict of key-value pairs output from the stack.", MAP),
    }
    #: every change goes to the child stack (see needs_replacement for the exception)
    update_all_in_place: ClassVar[bool] = True
    #: output names are attributes too: the engine asks get_attribute for undeclared names
    dynamic_attributes: ClassVar[bool] = True

    def needs_replacement(self, old: Mapping[str, Any], new: Mapping[str, Any],
                          changed: frozenset[str]) -> frozenset[str]:
        if "context" in changed:
            before = (old.get("context") or {}).get("region_name")
            after = (new.get("context") or {}).get("region_name")
            if before != after:
                return frozenset({"context"})
        return frozenset()

    async def preflight(self, ctx: ResourceContext, snippets: Mapping[str, Any],
                        path: Sequence[str | int]) -> None:
        """Heat's validation connects to the region (or the credential's cloud) first: a
        region the cloud does not have, or a credential, refuses the request."""
        context = snippets.get("context")
        if not isinstance(context, Mapping):
            return
        where = (*path, "context")
        if context.get("credential_secret_id") is not None:
            raise TemplateError(
                "remote stacks in another cloud need the credential kept in Barbican, which "
                "kubeheat does not support; use context.region_name for another region of "
                "the same cloud", (*where, "credential_secret_id"))
        region = context.get("region_name")
        if not isinstance(region, str) or not region or ctx.cloud is None:
            return          # unset, or known only once evaluated: checked at create
        from kubeheat.cloud import CloudConfigError, region_cloud  # openstacksdk: when used

        try:
            await ctx.call(region_cloud, ctx.cloud, region)
        except CloudConfigError:
            raise TemplateError(no_endpoint(region), (*where, "region_name")) from None

    async def _apply(self, ctx: ResourceContext, props: Mapping[str, Any]
                     ) -> NestedStackResult:
        region = await ctx.call(region_of, ctx, props.get("context"))
        template = parse_template(props.get("template"))
        minutes = props.get("timeout")
        timeout = None if minutes is None else float(minutes) * 60.0
        return await run_child(ctx, template, dict(props.get("parameters") or {}),
                               timeout=timeout, region=region)

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        result = await self._apply(ctx, props)
        return Created(physical_id=result.stack_id,
                       data={REFERENCE: result.stack_id, "stack_name": result.stack_name})

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        result = await self._apply(ctx, new)
        data = dict(ctx.data)
        data[REFERENCE] = result.stack_id
        data["stack_name"] = result.stack_name
        return data

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        found = await super().find_existing(ctx, props)
        if found is not None:
            child = child_result(ctx)
            found.data["stack_name"] = (child.stack_name if child is not None
                                        else ctx.physical_name())
        return found

    # -- attributes -----------------------------------------------------------------------------
    @staticmethod
    def _outputs(ctx: ResourceContext) -> dict[str, Any]:
        found = child_result(ctx)
        return dict(found.outputs) if found is not None else {}

    @staticmethod
    def _stack_name(ctx: ResourceContext) -> str:
        name = ctx.data.get("stack_name")
        if isinstance(name, str):
            return name
        child = child_result(ctx)
        return child.stack_name if child is not None else ctx.physical_name()

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        outputs = self._outputs(ctx)
        out: dict[str, Any] = {k: v for k, v in outputs.items() if k not in self.attributes}
        out["stack_name"] = self._stack_name(ctx)
        out["outputs"] = outputs
        return out

    def get_attribute(self, ctx: ResourceContext, props: Mapping[str, Any], key: str,
                      path: Sequence[Any]) -> Any:
        """The value of ``get_attr: [stack, key, *path]`` (the whole path applied)."""
        if key == "stack_name":
            return select_path(self._stack_name(ctx), path)
        outputs = self._outputs(ctx)
        if key == "outputs":
            return select_path(outputs, path)
        if key in outputs:
            return select_path(outputs[key], path)
        raise invalid_attribute(ctx, key)

"""From a request to a checked stack definition: merging a PATCH with what was applied, the
environment, the template layer's definition, and validation against the resource types
before anything is created (unknown types, property errors, attributes no type has).

Custom constraints that ask the cloud (``nova.flavor`` ...) make checking blocking: then
definitions are checked in the engine's thread pool, and each operation gets its own
:class:`OperationConstraints`, which answer each value once for the operation's duration.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar

from kubeheat.engine.member_attrs import check_group_member_attributes
from kubeheat.engine.model import StackState
from kubeheat.engine.plugins import Plugins
from kubeheat.engine.request import EngineError, StackRequest
from kubeheat.resources import Property, ResourcePlugin, check_properties
from kubeheat.template import (
    ABSENT,
    DEFAULT_LIMITS,
    SANDBOX_PROJECT_ID,
    ConstraintRegistry,
    ConstraintViolation,
    CustomConstraint,
    CustomConstraintRef,
    Environment,
    PlaceholderResources,
    StackDefinition,
    StackIdentity,
    Template,
    TemplateError,
    check_attribute_references,
    check_immutable,
    is_static,
    merge_environments,
    parse_environment,
    resolve_parameters,
    static_child_resources,
)

#: the limits of a nested stack's template (see :meth:`Definitions.define`)
NESTED_LIMITS = dataclasses.replace(
    DEFAULT_LIMITS, max_expanded_bytes=DEFAULT_LIMITS.max_evaluated_bytes)


class _CachedConstraint(CustomConstraint):
    """A cloud constraint whose answers (pass or violation) are kept for one operation."""

    name: ClassVar[str] = ""
    needs_cloud: ClassVar[bool] = True

    def __init__(self, inner: CustomConstraint,
                 cache: dict[tuple[str, str], ConstraintViolation | None]) -> None:
        self.inner = inner
        self.cache = cache

    def check(self, value: Any) -> None:
        key = (self.inner.name, repr(value))
        if key in self.cache:
            found = self.cache[key]
            if found is not None:
                raise found
            return
        try:
            self.inner.check(value)
        except ConstraintViolation as exc:
            self.cache[key] = exc
            raise
        self.cache[key] = None


class OperationConstraints(ConstraintRegistry):
    """The engine's constraints for one operation: cloud constraints answer each value once
    (the cloud is asked again by the next operation)."""

    def __init__(self, parent: ConstraintRegistry) -> None:
        super().__init__(parent=parent)
        self._cache: dict[tuple[str, str], ConstraintViolation | None] = {}
        self._wrapped: dict[str, CustomConstraint] = {}

    def get(self, name: str) -> CustomConstraint | None:
        found = self._wrapped.get(name)
        if found is not None:
            return found
        inner = super().get(name)
        if inner is None or not inner.needs_cloud:
            return inner
        cls = type(f"Cached{type(inner).__name__}", (_CachedConstraint,), {
            "name": inner.name, "description": inner.description, "message": inner.message})
        wrapped: CustomConstraint = cls(inner, self._cache)
        self._wrapped[name] = wrapped
        return wrapped


def _cloud_checked(prop: Property, constraints: ConstraintRegistry) -> bool:
    for c in prop.constraints:
        if isinstance(c, CustomConstraintRef):
            found = constraints.get(c.constraint)
            if found is not None and found.needs_cloud:
                return True
    if prop.schema is not None and any(_cloud_checked(p, constraints)
                                       for p in prop.schema.values()):
        return True
    return prop.item is not None and _cloud_checked(prop.item, constraints)


class Definitions:
    """Builds and checks stack definitions for one engine."""

    def __init__(self, plugins: Plugins, constraints: ConstraintRegistry,
                 run_sync: Callable[[Callable[[], StackDefinition]],
                                    Awaitable[StackDefinition]], *,
                 offload: bool = False,
                 project_id: Callable[[], str | None] | None = None) -> None:
        self.plugins = plugins
        #: the project the stacks live in (``OS::project_id``, ``AWS::StackId``): the
        #: cloud's, when it can say; else :data:`SANDBOX_PROJECT_ID`
        self._project_of = project_id
        self._project_id: str | None = None
        self.constraints = constraints
        self.run_sync = run_sync
        #: definitions are always built in the thread pool (not only for cloud checks)
        self.offload = offload
        #: some constraints ask the cloud: checks that may use them run in the thread pool
        self.cloud_checks = any(c.needs_cloud for c in constraints)
        self._cloud_props: dict[type[ResourcePlugin], bool] = {}

    def project_id(self) -> str:
        """The stacks' project id, asked of the cloud once it answers (never empty)."""
        if self._project_id is None and self._project_of is not None:
            self._project_id = self._project_of() or None
        return self._project_id or SANDBOX_PROJECT_ID

    def for_operation(self) -> ConstraintRegistry:
        """The constraints of one operation (cloud answers cached for its duration)."""
        return OperationConstraints(self.constraints) if self.cloud_checks else self.constraints

    @staticmethod
    def merge_request(state: StackState, request: StackRequest, patch: bool
                      ) -> tuple[dict[str, Any], dict[str, Any], list[Any], dict[str, str]]:
        """The template, parameters, environment documents and files an operation applies:
        the request's, or (``patch``, Heat's PATCH) the recorded ones with the request's
        changes."""
        if not patch:
            if request.template is None:
                raise EngineError("A template is required", "StackValidationFailed")
            return (dict(request.template), dict(request.parameters),
                    list(request.environments), dict(request.files))
        template = dict(request.template) if request.template is not None else dict(
            state.template)
        params = {**state.parameters, **request.parameters}
        env_docs: list[Any] = []
        if state.environment:
            previous = copy.deepcopy(state.environment)
            if isinstance(previous.get("parameters"), dict):
                for key in request.clear_parameters:
                    previous["parameters"].pop(key, None)
            env_docs.append(previous)
        env_docs.extend(request.environments)
        for key in request.clear_parameters:
            params.pop(key, None)
        files = {**state.files, **request.files}
        return template, params, env_docs, files

    @staticmethod
    def _environment(template: Template, env_docs: list[Any]) -> Environment | None:
        if not env_docs:
            return None
        envs = [parse_environment(doc, name=f"environment {i + 1}" if len(env_docs) > 1
                                  else "environment")
                for i, doc in enumerate(env_docs)]
        types = {name: s.type for name, s in template.parameter_schemas.items()}
        return merge_environments(envs, types)

    def define(self, state: StackState, template_doc: Mapping[str, Any],
               params: Mapping[str, Any], env_docs: list[Any], files: Mapping[str, str], *,
               facade: Mapping[str, Any] | None = None, depth: int = 0,
               patch_params: bool = False,
               constraints: ConstraintRegistry | None = None) -> StackDefinition:
        """The template layer's definition of ``template_doc`` for ``state``'s stack
        (``patch_params``: parameters the template does not declare are dropped). A nested
        stack's template, built by its parent, may expand to what its resources may evaluate
        to (see ``Limits.max_evaluated_bytes``)."""
        template = Template.load(template_doc, files=files,
                                 limits=NESTED_LIMITS if state.parent else DEFAULT_LIMITS)
        env = self._environment(template, env_docs)
        values = dict(params)
        if patch_params:
            values = {k: v for k, v in values.items() if k in template.parameter_schemas}
        identity = StackIdentity(name=state.name, id=state.id, project_id=self.project_id())
        return template.define(values, env, identity=identity,
                               constraints=constraints or self.constraints,
                               facade=facade, depth=depth)

    async def checked(self, state: StackState, template: Mapping[str, Any],
                      params: Mapping[str, Any], env_docs: list[Any],
                      files: Mapping[str, str], constraints: ConstraintRegistry,
                      **kwargs: Any) -> StackDefinition:
        """:meth:`define` and :meth:`validate`; in the thread pool when some custom
        constraint asks the cloud (its answers are cached in ``constraints``) or the engine
        offloads evaluation."""
        def work() -> StackDefinition:
            defn = self.define(state, template, params, env_docs, files,
                               constraints=constraints, **kwargs)
            self.validate(defn, constraints)
            return defn

        if self.cloud_checks or self.offload:
            return await self.run_sync(work)
        return work()

    def check_immutable(self, state: StackState, defn: StackDefinition) -> None:
        """Heat's guard on update: a parameter the new template declares ``immutable: true``
        may not take another value than the stack has (given or default) when the applied
        template declares it too; the update is refused (``ImmutableParameterModified``, at
        ``parameters.<name>``) before anything changes. Values are compared typed, so giving
        a number again as text is no change. An applied template that cannot be read again
        has nothing to compare with."""
        if not state.template or not any(
                s.immutable for s in defn.template.parameter_schemas.values()):
            return
        try:
            previous = Template.load(state.template, files=state.files,
                                     limits=NESTED_LIMITS if state.parent else DEFAULT_LIMITS)
            env = self._environment(previous, [state.environment] if state.environment
                                    else [])
            values = {**(env.parameters if env is not None else {}), **state.parameters}
            old = resolve_parameters(
                previous.parameter_schemas, values, strict=False, skip_cloud=True,
                defaults=env.parameter_defaults if env is not None else None,
                limits=previous.limits)
        except TemplateError:
            return
        check_immutable(old, defn.parameters)

    def needs_cloud_checks(self, cls: type[ResourcePlugin]) -> bool:
        """True when some property of ``cls`` has a constraint that asks the cloud."""
        found = self._cloud_props.get(cls)
        if found is None:
            found = self.cloud_checks and any(
                _cloud_checked(p, self.constraints) for p in cls.properties.values())
            self._cloud_props[cls] = found
        return found

    def validate(self, defn: StackDefinition,
                 constraints: ConstraintRegistry | None = None) -> None:
        """Unknown types, property errors and attributes no type has, found before anything
        is created."""
        placeholders = PlaceholderResources()
        classes: dict[str, type[ResourcePlugin]] = {}
        for name, rdef in defn.resources.items():
            cls = self.plugins.class_for(rdef.type, rdef.implementation)
            if cls is None:
                if name in defn.nested:
                    try:
                        self.validate(defn.nested[name], constraints)
                    except TemplateError as exc:   # located inside the provider template
                        raise exc.at(*rdef.key_path("type"),
                                     rdef.provider_template or rdef.type) from None
                    continue
                raise TemplateError(f"The Resource Type ({rdef.type}) could not be found.",
                                    rdef.key_path("type"), code="ResourceTypeNotFound")
            classes[name] = cls
            if rdef.external_id is not None:
                continue        # adopted as it is: Heat checks none of its properties
            values: dict[str, Any] = {}
            deferred: list[str] = []
            any_props = cls.accepts_any_properties
            for key, snippet in rdef.properties.items():
                static = is_static(snippet)
                if any_props and not static:
                    continue          # nothing to check before the value is known
                try:
                    value = defn.resolve(snippet, placeholders)
                except TemplateError:
                    if static:
                        raise
                    value = None
                if not static:
                    deferred.append(key)
                if value is not ABSENT:
                    values[key] = value
            check_properties(cls, values, rdef.key_path("properties"),
                             constraints=constraints or self.constraints, strict=False,
                             deferred=deferred)
            members = static_child_resources(defn, rdef, cls.type_name)
            if members is not None:   # a group: its child stack counts in the tree
                defn.tree.add(members, rdef.path)
        _validate_attributes(defn, classes)
        check_group_member_attributes(defn, self.plugins.class_for)


def _validate_attributes(defn: StackDefinition,
                         classes: Mapping[str, type[ResourcePlugin]]) -> None:
    """Every ``get_attr`` / ``Fn::GetAtt`` naming an attribute its resource's type does not
    have fails, as Heat's validation does (types with dynamic attributes, those accepting
    any attribute and provider templates decide when asked)."""

    def refused(resource: str, attribute: str) -> bool:
        cls = classes.get(resource)
        return not (cls is None or cls.dynamic_attributes or cls.any_attribute
                    or attribute in cls.attributes)

    check_attribute_references(defn, refused)


__all__ = ["Definitions", "OperationConstraints"]

"""Templates and stack definitions: the template layer's public entry points.

:class:`Template` is a loaded document checked against its version's sections and keys, with its
parameter schemas parsed. :meth:`Template.define` binds it to parameter values and an environment
and yields a :class:`StackDefinition`: conditions evaluated, the active resources with their
properties parsed into unevaluated function trees, outputs, and the dependency graph. Values are
computed only when asked for, through :meth:`StackDefinition.resolve` with a resource resolver.
"""

from __future__ import annotations

import copy
import dataclasses
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from kubeheat.template import formats
from kubeheat.template.constraints import DEFAULT_CONSTRAINTS, ConstraintRegistry
from kubeheat.template.environment import (
    Environment,
    RegistryMatch,
    is_template_reference,
)
from kubeheat.template.errors import (
    FunctionError,
    Path,
    ReferenceError_,
    TemplateError,
    TemplateLimitError,
    TemplateSectionError,
)
from kubeheat.template.functions.base import (
    ABSENT,
    Dependency,
    Function,
    Scope,
    dependencies,
    is_static,
    parse,
    resolve,
)
from kubeheat.template.graph import DependencyGraph
from kubeheat.template.limits import DEFAULT_LIMITS, Limits, ResourceCount
from kubeheat.template.loader import check_structure, load_mapping
from kubeheat.template.parameters import (
    NO_DEFAULT,
    ParameterGroup,
    Parameters,
    ParameterSchema,
    parse_parameter_groups,
    parse_parameter_schemas,
    resolve_parameters,
)
from kubeheat.template.patterns import match_budget
from kubeheat.template.scope import PlaceholderResources, ResourceResolver
from kubeheat.template.versions import ResourceKeyNames, VersionSpec

DEFAULT_REGION = "ap-southeast-1"
#: the project of a stack whose engine knows no cloud (``OS::project_id``, the account in
#: ``AWS::StackId``): the sandbox cloud's own project id, so stacks agree with it whether or
#: not the sandbox was started
SANDBOX_PROJECT_ID = "b2d0c0ffee5a4db0a1e5cafe0f5a11d0"


def _nested_environment(env: Environment | None, resource_name: str,
                        match: RegistryMatch | None) -> Environment | None:
    """The environment of the nested stack behind resource ``resource_name``, as Heat builds a
    child environment: the registry keeps its top-level entries and the per-resource overrides
    given for that resource become those of the nested stack's resources; the registry entry
    that named the provider template is dropped (so a template registered for ``OS::X`` may use
    the real ``OS::X``). ``parameter_defaults`` carry over; the top-level ``parameters`` do not
    (the nested stack's parameters are the resource's properties)."""
    if env is None:
        return None
    remove = match.template_entry if match is not None else None
    registry = env.resource_registry.nested(resource_name, remove=remove)
    return dataclasses.replace(env, parameters={}, resource_registry=registry)


class _ParentSnippet:
    """A facade value (``resource_facade``) of a provider template that refers to resources of
    the parent stack: it is resolved when the nested template asks for it, against the parent
    definition's resource resolver (placeholders until the resources exist)."""

    def __init__(self, parent: StackDefinition, snippet: Any) -> None:
        self.parent = parent
        self.snippet = snippet

    def value(self) -> Any:
        return self.parent.resolve(self.snippet)

    def __repr__(self) -> str:
        return f"<unresolved {self.snippet!r}>"


def _show(value: Any) -> str:
    """A value as condition error messages quote it (Heat prints the Python value)."""
    text = str(value)
    return text if len(text) <= 200 else text[:200] + "..."


@dataclass(frozen=True)
class StackIdentity:
    """Who the stack is: feeds the pseudo-parameters (``OS::stack_id``, ``AWS::StackName`` ...)."""

    name: str = "stack"
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    project_id: str = SANDBOX_PROJECT_ID
    region: str = DEFAULT_REGION
    availability_zones: tuple[str, ...] = ("nova",)

    def pseudo_parameters(self, spec: VersionSpec) -> dict[str, Any]:
        if spec.family == "cfn":
            arn = f"arn:openstack:heat::{self.project_id}:stacks/{self.name}/{self.id}"
            return {"AWS::StackId": arn, "AWS::StackName": self.name,
                    "AWS::Region": self.region}
        return {"OS::stack_id": self.id, "OS::stack_name": self.name,
                "OS::project_id": self.project_id}


class _Conditions(dict[str, bool]):
    """The named conditions' values; asking for one that failed raises its error."""

    def __init__(self, errors: Mapping[str, TemplateError]) -> None:
        super().__init__()
        self._errors = errors

    def __missing__(self, name: str) -> bool:
        if name in self._errors:
            raise copy.copy(self._errors[name])
        raise KeyError(name)


#: the start of Heat's messages about a condition's definition
_CONDITION_ERROR = "Condition validation error"


def _mapping_section(doc: Mapping[str, Any], name: str | None) -> dict[str, Any]:
    if name is None or (doc.get(name) is None and name not in ("conditions", "Conditions")):
        return {}
    value = doc.get(name)
    if value is None and name not in doc:
        return {}
    # a conditions section written empty (null) is refused, as Heat refuses it
    if not isinstance(value, Mapping) and name in ("conditions", "Conditions"):
        raise TemplateSectionError(      # Heat's words
            "Conditions validation error: Condition definitions must be a map. Found a "
            f"{type(value).__name__} instead", (name,))
    if not isinstance(value, Mapping):
        raise TemplateSectionError(
            f"The {name} section must be a mapping, not {type(value).__name__}", (name,))
    return dict(value)


class Template:
    """A loaded, structurally checked template (no parameter values yet)."""

    def __init__(self, document: Mapping[str, Any], *, files: Mapping[str, str] | None = None,
                 limits: Limits = DEFAULT_LIMITS) -> None:
        self.document = dict(document)
        self.files: dict[str, str] = dict(files or {})
        self.limits = limits
        self.version: VersionSpec = formats.detect(self.document)
        spec = self.version
        names = spec.sections
        unknown = sorted((k for k in self.document if k not in spec.allowed_sections), key=str)
        if unknown:
            raise TemplateSectionError(
                f'The template section is invalid: {unknown[0]} (allowed in {spec.label}: '
                f'{", ".join(sorted(spec.allowed_sections))})', (str(unknown[0]),))
        desc = self.document.get(names.description)
        if desc is not None and not isinstance(desc, str):
            raise TemplateSectionError("The description must be a string", (names.description,))
        self.description: str = desc if desc is not None else "No description"
        self.resource_snippets = _mapping_section(self.document, names.resources)
        self.output_snippets = _mapping_section(self.document, names.outputs)
        self.condition_snippets = _mapping_section(self.document, names.conditions)
        self.mappings = _mapping_section(self.document, names.mappings)
        if 0 <= limits.max_resources_per_stack < len(self.resource_snippets):
            raise TemplateLimitError(
                f"The template has {len(self.resource_snippets)} resources; the maximum per "
                f"stack is {limits.max_resources_per_stack}", (names.resources,))
        self.parameter_schemas: dict[str, ParameterSchema] = parse_parameter_schemas(
            self.document.get(names.parameters), spec, (names.parameters,))
        self.parameter_groups: list[ParameterGroup] = []
        if names.parameter_groups is not None:
            self.parameter_groups = parse_parameter_groups(
                self.document.get(names.parameter_groups), self.parameter_schemas,
                (names.parameter_groups,))
        for rname, rsnippet in self.resource_snippets.items():
            self._check_resource(rname, rsnippet)
        for oname, osnippet in self.output_snippets.items():
            self._check_output(oname, osnippet)

    @classmethod
    def load(cls, source: str | bytes | Mapping[str, Any], *,
             files: Mapping[str, str] | None = None,
             limits: Limits = DEFAULT_LIMITS) -> Template:
        """Load from YAML/JSON text or an already-loaded mapping."""
        if isinstance(source, str | bytes):
            doc = load_mapping(source, limits=limits, what="Template")
        else:
            if not isinstance(source, Mapping):
                raise TemplateSectionError("The template must be a mapping")
            check_structure(source, limits, "Template")
            doc = dict(source)
        return cls(doc, files=files, limits=limits)

    # -- structure checks ---------------------------------------------------------------------
    def _check_resource(self, name: str, snippet: Any) -> None:
        spec = self.version
        keys = spec.resource_keys
        path: Path = (spec.sections.resources, str(name))
        if not isinstance(name, str) or not name:
            raise TemplateSectionError("Resource names must be non-empty strings", path)
        if "/" in name:
            raise TemplateSectionError(
                f'Resource name may not contain "/": "{name}"', path)
        if not isinstance(snippet, Mapping):
            raise TemplateSectionError(
                f'Resource "{name}" must be a mapping with a "{keys.type}" key', path)
        if keys.type not in snippet:
            raise TemplateSectionError(f"Each resource must contain a {keys.type} key.", path)
        if spec.strict_resource_keys:
            bad = sorted(str(k) for k in snippet if k not in spec.allowed_resource_keys)
            if bad:
                raise TemplateSectionError(
                    "Invalid keyword(s) inside a resource definition: " + ", ".join(bad), path)
        for key in (keys.properties, keys.metadata, keys.update_policy):
            value = snippet.get(key)
            if value is not None and not isinstance(value, Mapping):
                # A function call is a mapping too, so this only rejects scalars and lists.
                raise TemplateSectionError(
                    f'"{key}" must be a mapping, not {type(value).__name__}', (*path, key))
        deps = snippet.get(keys.depends_on)
        if deps is not None and not (isinstance(deps, str) or (
                isinstance(deps, list) and all(isinstance(d, str) for d in deps))):
            raise TemplateSectionError(
                f'"{keys.depends_on}" must be a resource name or a list of names',
                (*path, keys.depends_on))
        external = snippet.get(keys.external_id) if keys.external_id else None
        if external is not None and deps:
            # Heat's message names the type and the id (as written, when not a plain string)
            raise TemplateSectionError(
                f"Invalid dependency with external {snippet[keys.type]} resource: {external}",
                path)

    def _check_output(self, name: str, snippet: Any) -> None:
        spec = self.version
        path: Path = (spec.sections.outputs, str(name))
        if not isinstance(name, str):
            # YAML reads `1:` or `~:` as a number or null; Heat 27.0.1 refuses such a name
            # with a bare HTTP 400
            raise TemplateSectionError(f"Output names must be strings, not {name!r}", path)
        value_key = "Value" if spec.family == "cfn" else "value"
        if not isinstance(snippet, Mapping):
            raise TemplateSectionError("Output definitions must be a map. Found a "
                                       f"{type(snippet).__name__} instead", path)
        bad = sorted(str(k) for k in snippet if k not in spec.output_keys)
        if bad:
            raise TemplateSectionError(
                "Invalid keyword(s) inside an output definition: " + ", ".join(bad), path)
        if value_key not in snippet:
            raise TemplateSectionError(
                f"Each output definition must contain a {value_key} key.", path)

    # -- binding ------------------------------------------------------------------------------
    def define(self, params: Mapping[str, Any] | None = None,
               environment: Environment | None = None, *, strict: bool = True,
               resources: ResourceResolver | None = None,
               identity: StackIdentity | None = None,
               constraints: ConstraintRegistry = DEFAULT_CONSTRAINTS,
               facade: Mapping[str, Any] | None = None, depth: int = 0,
               tree: ResourceCount | None = None) -> StackDefinition:
        """Bind parameter values (``params`` override the environment's ``parameters``) and
        build the stack definition. ``strict=False`` lets required parameters be missing
        (their value is None), as template validation does. ``tree`` is the count of the tree
        of nested stacks this one belongs to (None: a new tree, this stack its root)."""
        identity = identity or StackIdentity()
        values: dict[str, Any] = {}
        defaults: dict[str, Any] = {}
        if environment is not None:
            values.update(environment.parameters)
            defaults.update(environment.parameter_defaults)
        values.update(params or {})
        with match_budget():            # every regex of the binding, together (H4)
            parameters = resolve_parameters(
                self.parameter_schemas, values, defaults=defaults, strict=strict,
                constraints=constraints, limits=self.limits,
                pseudo=identity.pseudo_parameters(self.version))
            defn = StackDefinition(self, parameters, environment, identity,
                                   resources or PlaceholderResources(), dict(facade or {}),
                                   depth, tree)
        _check_duplicate_names(self, defn)
        return defn


def _check_duplicate_names(template: Template, defn: StackDefinition) -> None:
    """A parameter and an (enabled) resource may not share a name, as in Heat."""
    dup = sorted(set(template.parameter_schemas) & set(defn.resources))
    if dup:
        names = "{" + ", ".join(repr(n) for n in dup) + "}"
        raise TemplateSectionError(f"Duplicate names {names}",
                                   (template.version.sections.resources, dup[0]))


@dataclass
class ResourceDefinition:
    """One active resource: its snippets parsed (unevaluated) and its dependencies."""

    name: str
    type: str
    properties: dict[str, Any]
    metadata: dict[str, Any]
    depends_on: list[str]
    deletion_policy: str
    update_policy: dict[str, Any]
    external_id: Any
    description: str
    condition: Any
    dependencies: frozenset[str]
    references: tuple[Dependency, ...]
    hooks: frozenset[str] = frozenset()
    implementation: str | None = None
    #: the resources section as the template spells it (``resources`` / ``Resources``)
    section: str = "resources"
    #: how the environment's registry resolved the type (None without an environment)
    registry_match: RegistryMatch | None = None
    #: the provider template (a key of the files map) behind the resource, if any
    provider_template: str | None = None
    #: the template's spelling of the resource keys (None: HOT's)
    keys: ResourceKeyNames | None = None

    @property
    def path(self) -> Path:
        """Where the resource sits in its template, in the template's own spelling."""
        return (self.section, self.name)

    def key_path(self, key: str) -> Path:
        """The path of one of the resource's keys, named as in HOT (``"type"``,
        ``"properties"``, ``"metadata"``, ``"depends_on"`` ...) and spelled as the template
        spells it: ``key_path("properties")`` is ``("Resources", name, "Properties")`` in a
        CloudFormation template."""
        spelled = getattr(self.keys, key, None) if self.keys is not None else None
        return (*self.path, spelled if isinstance(spelled, str) else key)


@dataclass
class OutputDefinition:
    name: str
    value: Any            # parsed tree; None when the output's condition is false
    description: str
    enabled: bool


class _Context:
    """The ParseContext handed to functions while parsing one stack definition."""

    def __init__(self, defn: StackDefinition) -> None:
        self._defn = defn
        tmpl = defn.template
        self.version = tmpl.version
        self.resource_names = frozenset(tmpl.resource_snippets)
        self.active_resource_names: frozenset[str] = frozenset()
        self.parameter_names = frozenset(defn.parameters)
        self.mappings = tmpl.mappings
        self.defer_value_errors = False

    def condition_value(self, name_or_expr: Any, path: Path) -> bool:
        return self._defn._condition_arg(name_or_expr, path)

    def static_scope(self) -> Scope:
        return self._defn.scope()


class _StackScope:
    """Evaluation scope of a stack definition, with a pluggable resource resolver."""

    def __init__(self, defn: StackDefinition, resources: ResourceResolver) -> None:
        self._defn = defn
        self._resources = resources

    def get_param(self, name: str, path: Path) -> Any:
        params = self._defn.parameters
        if name not in params:
            raise ReferenceError_(f"The Parameter ({name}) was not provided.", path,
                                  code="UserParameterMissing")
        return params[name]

    def get_file(self, key: str, path: Path) -> str:
        files = self._defn.template.files
        if key not in files:
            raise FunctionError(
                f'No content found in the "files" section for get_file path: {key}', path)
        return files[key]

    def resource_ref(self, name: str, path: Path) -> Any:
        return self._resources.reference(name)

    def resource_attr(self, name: str, attribute: str | None, attr_path: Sequence[Any],
                      path: Path) -> Any:
        return self._resources.attribute(name, attribute, attr_path)

    def condition(self, name: str, path: Path) -> bool:
        return self._defn.condition(name, path)

    def facade(self, key: str, path: Path) -> Any:
        return self._defn.facade_value(key, path)

    def availability_zones(self) -> list[str]:
        return list(self._defn.identity.availability_zones)


class StackDefinition:
    """A template bound to parameter values: conditions decided, resources and outputs parsed."""

    def __init__(self, template: Template, parameters: Parameters,
                 environment: Environment | None, identity: StackIdentity,
                 resources: ResourceResolver, facade: dict[str, Any], depth: int = 0,
                 tree: ResourceCount | None = None) -> None:
        self.template = template
        self.depth = depth
        #: the resources of the nested stacks below the root of this tree (see ResourceCount)
        self.tree = tree if tree is not None else ResourceCount(
            template.limits.max_resources_per_stack)
        self.parameters = parameters
        self.environment = environment
        self.identity = identity
        #: the parent resource's data for ``resource_facade`` (provider templates only); a
        #: value may still refer to the parent's resources: read it with :meth:`facade_value`
        self.facade = facade
        self._resources = resources
        self._ctx = _Context(self)
        self._conditions: dict[str, bool] = {}
        self._resolving: list[str] = []
        #: as in Heat, a condition that fails only when evaluated (it names an undefined
        #: condition, is circular, or its value is no boolean) is an error where it is used
        self._condition_errors: dict[str, TemplateError] = {}
        self.conditions: dict[str, bool] = _Conditions(self._condition_errors)
        for name in template.condition_snippets:
            try:
                self.conditions[name] = self.condition(name, (self._conditions_section, name))
            except TemplateError as exc:
                if not exc.deferrable:
                    raise
                self._condition_errors[name] = exc
        snippets = template.resource_snippets
        active = {name for name, snip in snippets.items() if self._resource_enabled(name, snip)}
        self._ctx.active_resource_names = frozenset(active)
        self.resources: dict[str, ResourceDefinition] = {
            name: self._define_resource(name, snippets[name]) for name in snippets
            if name in active
        }
        self.outputs: dict[str, OutputDefinition] = {
            name: self._define_output(name, snip)
            for name, snip in template.output_snippets.items()
        }
        self.graph = DependencyGraph.build(
            {name: r.dependencies for name, r in self.resources.items()})
        if tree is not None:           # a nested stack: its resources count in the tree
            self.tree.add(len(self.resources))
        self.nested: dict[str, StackDefinition] = {
            name: self._define_nested(res) for name, res in self.resources.items()
            if res.provider_template is not None
        }

    @property
    def _conditions_section(self) -> str:
        spec = self.template.version
        if spec.sections.conditions is not None:
            return spec.sections.conditions
        return "Conditions" if spec.family == "cfn" else "conditions"

    # -- evaluation ---------------------------------------------------------------------------
    def scope(self, resources: ResourceResolver | None = None) -> Scope:
        return _StackScope(self, resources or self._resources)

    def resolve(self, snippet: Any, resources: ResourceResolver | None = None) -> Any:
        """Evaluate a parsed snippet; never raises anything but a TemplateError."""
        try:
            with match_budget():        # every regex of the evaluation, together (H4)
                return resolve(snippet, self.scope(resources))
        except TemplateError:
            raise
        except RecursionError:
            raise TemplateLimitError("Evaluation nests too deeply") from None

    def resolve_properties(self, name: str, resources: ResourceResolver | None = None
                           ) -> dict[str, Any]:
        value = self.resolve(self.resources[name].properties, resources)
        return value if isinstance(value, dict) else {}

    def output_value(self, name: str, resources: ResourceResolver | None = None) -> Any:
        out = self.outputs[name]
        if not out.enabled:
            return None
        return self.resolve(out.value, resources)

    def facade_value(self, key: str, path: Path = ()) -> Any:
        """``resource_facade``: ``metadata``, ``deletion_policy`` or ``update_policy`` of the
        resource this (provider) template implements. Values that refer to the parent's
        resources are resolved now, against the parent's resource resolver."""
        if key not in self.facade:
            raise FunctionError(
                "resource_facade is only available in a template used as a provider "
                "(nested) template", path)
        value = self.facade[key]
        return value.value() if isinstance(value, _ParentSnippet) else value

    # -- conditions ---------------------------------------------------------------------------
    def condition(self, name: str, path: Path) -> bool:
        """The value of named condition ``name``; lazily evaluated, cycles detected."""
        if name in self._conditions:
            return self._conditions[name]
        if name in self._condition_errors:
            self._failed_condition(name, path)
        snippets = self.template.condition_snippets
        section = self._conditions_section
        if name not in snippets:
            raise ReferenceError_(f'Invalid condition "{name}"', path, deferrable=True)
        if name in self._resolving:
            cycle = " -> ".join([*self._resolving[self._resolving.index(name):], name])
            raise TemplateError(f'{_CONDITION_ERROR}: Circular definition for condition '
                                f'"{name}": {cycle}', (section, name), deferrable=True)
        self._resolving.append(name)
        try:
            value = self._evaluate_definition(name, snippets[name], (section, name))
        finally:
            self._resolving.pop()
        self._conditions[name] = value
        return value

    def _failed_condition(self, name: str, path: Path) -> NoReturn:
        """Raise the error of condition ``name`` where it is used: at ``path`` (Heat's place
        for "Invalid condition ..."), or where it is defined for Heat's "Condition validation
        error" (a cycle, a value that is no boolean)."""
        error = copy.copy(self._condition_errors[name])
        if not error.message.startswith(_CONDITION_ERROR):
            error.path = path
        raise error

    def _evaluate_definition(self, name: str, expr: Any, path: Path) -> bool:
        """The value of the definition of named condition ``name``.

        As in Heat (``heat/engine/conditions.py``), a definition is a boolean or a condition
        function whose value is a boolean. Anything else is invalid, a plain string too: a
        definition cannot just name another condition (a function's *argument* can)."""
        if isinstance(expr, bool):
            return expr
        parsed = parse(self._ctx, expr, path, condition=True)
        if not isinstance(parsed, Function):
            raise TemplateError(f'{_CONDITION_ERROR}: The definition of condition "{name}" is '
                                f"invalid: {_show(expr)}", path)
        value = resolve(parsed, self.scope())
        if not isinstance(value, bool):
            raise TemplateError(f'{_CONDITION_ERROR}: The definition of condition "{name}" is '
                                f"invalid: {_show(value)}", path, deferrable=True)
        return value

    def _condition_arg(self, arg: Any, path: Path) -> bool:
        """An ``if`` / resource / output condition: a boolean, the name of a condition, or an
        inline condition function whose value is a boolean or (as in Heat) a string naming a
        condition."""
        if isinstance(arg, bool):
            return arg
        if isinstance(arg, str):
            return self.condition(arg, path)
        parsed = parse(self._ctx, arg, path, condition=True)
        value = resolve(parsed, self.scope()) if isinstance(parsed, Function) else parsed
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and isinstance(parsed, Function):
            return self.condition(value, path)
        raise FunctionError(f'Invalid condition "{_show(value)}"', path)

    # -- resources and outputs ----------------------------------------------------------------
    def _resource_enabled(self, name: str, snippet: Mapping[str, Any]) -> bool:
        spec = self.template.version
        key = spec.resource_keys.condition
        if key is None or key not in snippet or snippet[key] is None:
            return True
        return self._condition_arg(snippet[key], (spec.sections.resources, name, key))

    def _static(self, snippet: Any, path: Path) -> Any:
        """Parse and evaluate a snippet that may only use parameters (type, policies)."""
        parsed = parse(self._ctx, snippet, path)
        if next(iter(dependencies(parsed)), None) is not None:
            raise FunctionError("may not refer to resources here", path)
        return resolve(parsed, self.scope())

    def _define_resource(self, name: str, snippet: Mapping[str, Any]) -> ResourceDefinition:
        spec = self.template.version
        keys = spec.resource_keys
        section = spec.sections.resources
        path: Path = (section, name)
        rtype = self._static(snippet[keys.type], (*path, keys.type))
        if not isinstance(rtype, str) or not rtype:
            raise TemplateSectionError(
                f'Resource "{name}" type must be a non-empty string', (*path, keys.type))
        properties = parse(self._ctx, snippet.get(keys.properties) or {},
                           (*path, keys.properties))
        metadata = parse(self._ctx, snippet.get(keys.metadata) or {}, (*path, keys.metadata))
        update_policy = parse(self._ctx, snippet.get(keys.update_policy) or {},
                              (*path, keys.update_policy))
        policy = snippet.get(keys.deletion_policy)
        deletion_policy = "Delete"
        if policy is not None:
            value = self._static(policy, (*path, keys.deletion_policy))
            if value not in spec.deletion_policies:
                raise TemplateSectionError(
                    f'Invalid deletion policy "{value}"; expected one of '
                    + ", ".join(sorted(spec.deletion_policies)), (*path, keys.deletion_policy))
            deletion_policy = str(value).capitalize()
        external_id = None
        if keys.external_id and snippet.get(keys.external_id) is not None:
            external_id = self._static(snippet[keys.external_id], (*path, keys.external_id))
        raw_deps = snippet.get(keys.depends_on) or []
        depends_on = [raw_deps] if isinstance(raw_deps, str) else list(raw_deps)
        for i, dep in enumerate(depends_on):
            if dep not in self.template.resource_snippets:
                where = (*path, keys.depends_on) if isinstance(raw_deps, str) else (
                    *path, keys.depends_on, i)
                raise ReferenceError_(
                    f'The specified reference "{dep}" (in {name}) is incorrect.', where)
        depends_on = [d for d in depends_on if d in self._ctx.active_resource_names]
        refs = tuple(dependencies([properties, metadata, update_policy]))
        for ref in refs:
            if ref.resource == name:
                raise ReferenceError_(f'Resource "{name}" refers to itself', path)
        deps = frozenset(depends_on) | {r.resource for r in refs}
        description = snippet.get(keys.description) or ""
        implementation = None
        match: RegistryMatch | None = None
        hooks: frozenset[str] = frozenset()
        if self.environment is not None:
            registry = self.environment.resource_registry
            match = registry.resolve(rtype, name)
            implementation = match.target
            hooks = registry.hooks_for(name)
            provider = match.template
        else:
            provider = rtype if is_template_reference(rtype) else None
        return ResourceDefinition(
            name=name, type=rtype, properties=properties if isinstance(properties, dict) else {},
            metadata=metadata if isinstance(metadata, dict) else {}, depends_on=depends_on,
            deletion_policy=deletion_policy,
            update_policy=update_policy if isinstance(update_policy, dict) else {},
            external_id=external_id, description=str(description),
            condition=snippet.get(keys.condition) if keys.condition else None,
            dependencies=frozenset(d for d in deps if d != name) if external_id is None
            else frozenset(),
            references=refs, hooks=hooks, implementation=implementation, section=section,
            registry_match=match, provider_template=provider, keys=keys)

    def _define_output(self, name: str, snippet: Mapping[str, Any]) -> OutputDefinition:
        spec = self.template.version
        value_key, desc_key, cond_key = (
            ("Value", "Description", "Condition") if spec.family == "cfn"
            else ("value", "description", "condition"))
        path: Path = (spec.sections.outputs, name)
        enabled = True
        if cond_key in spec.output_keys and snippet.get(cond_key) is not None:
            enabled = self._condition_arg(snippet[cond_key], (*path, cond_key))
        value = None
        if enabled:
            # as Heat, an output whose functions get bad values fails when it is evaluated
            self._ctx.defer_value_errors = True
            try:
                value = parse(self._ctx, snippet[value_key], (*path, value_key))
            finally:
                self._ctx.defer_value_errors = False
        if value is ABSENT:
            value = None
        return OutputDefinition(name, value, str(snippet.get(desc_key) or ""), enabled)

    # -- provider templates -------------------------------------------------------------------
    def _define_nested(self, res: ResourceDefinition) -> StackDefinition:
        """Load and check the provider template behind ``res``: its parameters are the
        resource's properties, its outputs its attributes."""
        key = res.provider_template or res.type
        path = res.key_path("type")
        depth = self.depth + 1
        limit = self.template.limits.max_nested_depth
        if depth > limit:
            raise TemplateLimitError(
                f'Recursion depth exceeds {limit}: provider template "{key}" nests too deeply',
                path)
        files = self.template.files
        if key not in files:
            raise ReferenceError_(
                f'Could not fetch remote template "{key}": it is not in the files map', path)
        # errors inside the provider template are located below the resource's type; the
        # checks of the resource against it are the parent's, at the resource's own paths
        try:
            nested = Template.load(files[key], files=files, limits=self.template.limits)
        except TemplateError as exc:
            raise exc.at(*path, key) from None
        schemas = nested.parameter_schemas
        for prop in res.properties:
            if prop not in schemas:
                raise TemplateError(f'Unknown Property {prop}',
                                    (*res.key_path("properties"), prop))
        defaults = self.environment.parameter_defaults if self.environment else {}
        missing = [n for n, s in schemas.items()
                   if s.default is NO_DEFAULT and n not in res.properties
                   and n not in defaults]
        if missing:
            raise TemplateError(f'Property {missing[0]} not assigned',
                                res.key_path("properties"))
        # a template resource has no update policy schema: Heat refuses every key
        policy = self.resolve(res.update_policy) if is_static(res.update_policy) \
            else res.update_policy
        if isinstance(policy, Mapping) and policy:
            raise TemplateError(f"Unknown Property {next(iter(policy))}",
                                res.key_path("update_policy"))
        facade = {"metadata": self._facade_data(res.metadata),
                  "deletion_policy": res.deletion_policy,
                  "update_policy": self._facade_data(res.update_policy)}
        try:
            return nested.define(
                {}, _nested_environment(self.environment, res.name, res.registry_match),
                strict=False, identity=self.identity, facade=facade, depth=depth,
                tree=self.tree)
        except TemplateError as exc:
            raise exc.at(*path, key) from None

    def _facade_data(self, snippet: Any) -> Any:
        """A parent resource's metadata / update_policy as its provider template sees it:
        resolved now when it refers to no resource (errors are the parent's, at its path),
        else resolved when the nested template asks (see :meth:`facade_value`)."""
        if is_static(snippet):
            return self.resolve(snippet)
        return _ParentSnippet(self, snippet)

    def iter_references(self) -> Iterator[tuple[str, Dependency]]:
        for name, res in self.resources.items():
            for ref in res.references:
                yield name, ref

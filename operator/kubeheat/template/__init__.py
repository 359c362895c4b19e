"""Template layer: everything about reading a Heat template without touching the outside world.

It owns parsing HOT and CloudFormation documents (YAML or JSON) under size and alias limits, the
per-version tables of sections, keys and intrinsic functions, parameter schemas and constraints,
environments and the resource registry, the unevaluated function trees that properties stay as
until the engine asks for their values, conditions, and the resource dependency graph. It does no
I/O: files arrive as a map from the caller, and anything that needs a cloud (resource attributes,
custom constraints) comes in through resolver and registry interfaces.

Its public names are importable from this package (``from kubeheat.template import Template``);
each is imported from its module on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeheat._lazy import lazy_exports

if TYPE_CHECKING:
    from kubeheat.template.attribute_refs import check_attribute_references
    from kubeheat.template.constraints import (
        DEFAULT_CONSTRAINTS,
        AllowedPatternConstraint,
        AllowedValuesConstraint,
        Constraint,
        ConstraintRegistry,
        ConstraintViolation,
        CustomConstraint,
        CustomConstraintRef,
        LengthConstraint,
        RangeConstraint,
        to_number,
    )
    from kubeheat.template.data_keys import data_function_warnings
    from kubeheat.template.environment import (
        EVENT_SINKS,
        PARAMETER_DEFAULTS,
        PARAMETERS,
        RESOURCE_REGISTRY,
        EntryKind,
        Environment,
        is_template_reference,
        merge_environments,
        parse_environment,
    )
    from kubeheat.template.errors import (
        EnvironmentFormatError,
        FunctionError,
        KubeheatError,
        ParameterError,
        Path,
        PathPart,
        TemplateError,
        TemplateLimitError,
        TemplateSyntaxError,
        TemplateVersionError,
    )
    from kubeheat.template.formats import all_versions, find_version
    from kubeheat.template.functions.base import (
        ABSENT,
        Function,
        dependencies,
        functions_in,
        is_static,
    )
    from kubeheat.template.graph import DependencyGraph
    from kubeheat.template.group_sizes import child_resources, static_child_resources
    from kubeheat.template.limits import (
        DEFAULT_LIMITS,
        TOO_MANY_RESOURCES,
        Limits,
        ResourceCount,
        json_size,
    )
    from kubeheat.template.loader import (
        check_structure,
        duplicate_key_warnings,
        json_key,
        load_mapping,
    )
    from kubeheat.template.parameters import (
        Parameters,
        ParameterSchema,
        check_immutable,
        format_parameter_groups,
        format_validate_parameters,
        resolve_parameters,
    )
    from kubeheat.template.scope import (
        PlaceholderResources,
        ResourceResolver,
        StaticResources,
        walk_path,
    )
    from kubeheat.template.secrets import (
        MASK,
        Redactor,
        hidden_parameter_names,
        hidden_values,
        values_of,
    )
    from kubeheat.template.stack import (
        SANDBOX_PROJECT_ID,
        ResourceDefinition,
        StackDefinition,
        StackIdentity,
        Template,
    )
    from kubeheat.template.versions import VersionSpec

#: the module of each public name, imported on first use of one of its names
_EXPORTS = {
    "kubeheat.template.attribute_refs": ("check_attribute_references",),
    "kubeheat.template.constraints": (
        "DEFAULT_CONSTRAINTS", "AllowedPatternConstraint", "AllowedValuesConstraint", "Constraint",
        "ConstraintRegistry", "ConstraintViolation", "CustomConstraint", "CustomConstraintRef",
        "LengthConstraint", "RangeConstraint", "to_number",
    ),
    "kubeheat.template.data_keys": ("data_function_warnings",),
    "kubeheat.template.environment": (
        "EVENT_SINKS", "PARAMETERS", "PARAMETER_DEFAULTS", "RESOURCE_REGISTRY", "EntryKind",
        "Environment", "is_template_reference", "merge_environments", "parse_environment",
    ),
    "kubeheat.template.errors": (
        "EnvironmentFormatError", "FunctionError", "KubeheatError", "ParameterError", "Path",
        "PathPart", "TemplateError", "TemplateLimitError", "TemplateSyntaxError",
        "TemplateVersionError",
    ),
    "kubeheat.template.formats": ("all_versions", "find_version"),
    "kubeheat.template.functions.base": (
        "ABSENT", "Function", "dependencies", "functions_in", "is_static",
    ),
    "kubeheat.template.graph": ("DependencyGraph",),
    "kubeheat.template.group_sizes": ("child_resources", "static_child_resources"),
    "kubeheat.template.limits": ("DEFAULT_LIMITS", "Limits", "ResourceCount",
                                 "TOO_MANY_RESOURCES", "json_size"),
    "kubeheat.template.loader": ("check_structure", "duplicate_key_warnings", "json_key",
                                 "load_mapping"),
    "kubeheat.template.parameters": (
        "ParameterSchema", "Parameters", "format_parameter_groups", "format_validate_parameters",
        "check_immutable", "resolve_parameters",
    ),
    "kubeheat.template.scope": (
        "PlaceholderResources", "ResourceResolver", "StaticResources", "walk_path",
    ),
    "kubeheat.template.secrets": (
        "MASK", "Redactor", "hidden_parameter_names", "hidden_values", "values_of",
    ),
    "kubeheat.template.stack": (
        "SANDBOX_PROJECT_ID", "ResourceDefinition", "StackDefinition", "StackIdentity",
        "Template",
    ),
    "kubeheat.template.versions": ("VersionSpec",),
}
__all__ = [
    "ABSENT",
    "DEFAULT_CONSTRAINTS",
    "DEFAULT_LIMITS",
    "EVENT_SINKS",
    "MASK",
    "PARAMETERS",
    "PARAMETER_DEFAULTS",
    "RESOURCE_REGISTRY",
    "SANDBOX_PROJECT_ID",
    "TOO_MANY_RESOURCES",
    "AllowedPatternConstraint",
    "AllowedValuesConstraint",
    "Constraint",
    "ConstraintRegistry",
    "ConstraintViolation",
    "CustomConstraint",
    "CustomConstraintRef",
    "DependencyGraph",
    "EntryKind",
    "Environment",
    "EnvironmentFormatError",
    "Function",
    "FunctionError",
    "KubeheatError",
    "LengthConstraint",
    "Limits",
    "ParameterError",
    "ParameterSchema",
    "Parameters",
    "Path",
    "PathPart",
    "PlaceholderResources",
    "RangeConstraint",
    "Redactor",
    "ResourceCount",
    "ResourceDefinition",
    "ResourceResolver",
    "StackDefinition",
    "StackIdentity",
    "StaticResources",
    "Template",
    "TemplateError",
    "TemplateLimitError",
    "TemplateSyntaxError",
    "TemplateVersionError",
    "VersionSpec",
    "all_versions",
    "check_attribute_references",
    "check_immutable",
    "check_structure",
    "child_resources",
    "data_function_warnings",
    "dependencies",
    "duplicate_key_warnings",
    "find_version",
    "format_parameter_groups",
    "format_validate_parameters",
    "functions_in",
    "hidden_parameter_names",
    "hidden_values",
    "is_static",
    "is_template_reference",
    "json_key",
    "json_size",
    "load_mapping",
    "merge_environments",
    "parse_environment",
    "resolve_parameters",
    "static_child_resources",
    "to_number",
    "values_of",
    "walk_path",
]

if not TYPE_CHECKING:
    __getattr__ = lazy_exports(__name__, _EXPORTS)

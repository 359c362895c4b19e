"""``kubeheat validate``: check a template with its environments and parameters, and print the
result in the shape of Heat's template-validate response.

The result has Heat's keys ``Description``, ``Parameters``, ``ParameterGroups`` (when the template
has groups) and ``Environment`` (the user's environment after merging the ``-e`` files, with the
``-P`` / ``--parameter-file`` values in its ``parameters``, as Heat returns it), plus kubeheat's
``UncheckedConstraints``: the custom constraints that could not be checked here. Unlike Heat, the
value of every hidden parameter (``hidden: true`` / ``NoEcho: true`` in the template or in a
provider template it uses) is shown as ``******`` in ``Environment`` as everywhere else, and is
masked in error messages too (they may quote values computed from parameters). As in Heat, a
resource whose type is neither known nor a provider template fails validation (exit 1), and so
does, for Heat's own simple types, an unknown property or update policy key, or a ``get_attr``
of an attribute the type does not have (property values are not checked, as in Heat). A
one-key map whose key is a function of a later template version only is data, as in Heat; each
one gets a ``WARNING:`` line on stderr (the exit code is unchanged), as does each key written
twice in one mapping of the template or an environment file (Heat keeps the last value silently)
and every deprecated or hidden property name Heat still accepts
(:mod:`kubeheat.cli.deprecations`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from kubeheat.cli.args import UsageError, add_command, add_template_arguments, parse_parameters
from kubeheat.cli.output import FORMATS, error, render

if TYPE_CHECKING:
    from kubeheat.template import Environment, ResourceDefinition, StackDefinition


def register(sub: Any) -> None:
    add_command(sub, "validate", _arguments,
                help="Validate a template, its environments and parameters.",
                description="Validate a template and print Heat's template-validate result: "
                            "Description, Parameters, ParameterGroups, Environment (hidden "
                            "values shown as ******).")


def _arguments(p: argparse.ArgumentParser) -> None:
    add_template_arguments(p)
    p.add_argument("--format", choices=FORMATS, default="yaml")
    p.set_defaults(handler=run)


def environment_result(environment: Environment | None, params: Mapping[str, Any],
                       hidden: set[str]) -> dict[str, Any]:
    """The ``Environment`` of the result: Heat's user environment sections of the merged
    environment, the command-line values added to its ``parameters``, hidden values masked."""
    from kubeheat.template import (
        EVENT_SINKS,
        MASK,
        PARAMETER_DEFAULTS,
        PARAMETERS,
        RESOURCE_REGISTRY,
        Environment,
    )

    # the sections of Heat's user environment (``Environment.user_env_as_dict``), in its order
    sections = (RESOURCE_REGISTRY, PARAMETERS, PARAMETER_DEFAULTS, EVENT_SINKS)
    env = (environment or Environment()).as_dict()
    env[PARAMETERS] = {**env[PARAMETERS], **params}
    env[RESOURCE_REGISTRY].setdefault("resources", {})
    for section in (PARAMETERS, PARAMETER_DEFAULTS):
        env[section] = {k: (MASK if k in hidden else v) for k, v in env[section].items()}
    return {section: env[section] for section in sections}


def validate_result(defn: StackDefinition, params: Mapping[str, Any] | None = None
                    ) -> dict[str, Any]:
    """Heat's template-validate response for a stack definition (bound with ``strict=False``)
    and the command-line parameter values it was given."""
    from kubeheat.template import (
        format_parameter_groups,
        format_validate_parameters,
        hidden_parameter_names,
    )

    template = defn.template
    result: dict[str, Any] = {
        "Description": template.description,
        "Parameters": format_validate_parameters(template.parameter_schemas, defn.parameters),
    }
    if template.parameter_groups:
        result["ParameterGroups"] = format_parameter_groups(template.parameter_groups)
    unchecked = defn.parameters.unchecked_constraints
    if unchecked:
        result["UncheckedConstraints"] = unchecked
    result["Environment"] = environment_result(defn.environment, params or {},
                                               hidden_parameter_names(template))
    return result


def check_resource_types(defn: StackDefinition) -> None:
    """Raise Heat's ``The Resource Type (X) could not be found.`` for the first resource of
    ``defn`` (or of a provider template it uses) whose type, after the environment's
    resource registry, is neither a type the engine knows nor a provider template, as
    ``plan``/``run`` (the engine's validation) and Heat's validate do. For Heat's own simple
    types, also refuse (as Heat's validate does) an unknown top-level property, any update
    policy key, and a ``get_attr`` of an attribute the type does not have; for the OpenStack
    types, an unknown top-level property or update policy key."""
    from kubeheat.cli.type_names import HEAT_ATTRIBUTE_NAMES, RESOURCE_TYPE_NAMES
    from kubeheat.template import (
        TemplateError,
        check_attribute_references,
        is_template_reference,
        static_child_resources,
    )

    known: dict[str, str] = {}   # resource -> its type, for the attribute check
    for name, rdef in defn.resources.items():
        impl = rdef.implementation or rdef.type
        if not is_template_reference(impl) and (
                impl in RESOURCE_TYPE_NAMES or rdef.type in RESOURCE_TYPE_NAMES):
            known[name] = impl if impl in RESOURCE_TYPE_NAMES else rdef.type
            _check_property_names(rdef, known[name])
            members = static_child_resources(
                defn, rdef, impl if impl in RESOURCE_TYPE_NAMES else rdef.type)
            if members is not None:   # a group: its child stack counts in the tree
                defn.tree.add(members, rdef.path)
            continue
        if name in defn.nested:
            try:
                check_resource_types(defn.nested[name])
            except TemplateError as exc:   # located inside the provider template
                raise exc.at(*rdef.key_path("type"),
                             rdef.provider_template or rdef.type) from None
            continue
        raise TemplateError(f"The Resource Type ({rdef.type}) could not be found.",
                            rdef.key_path("type"), code="ResourceTypeNotFound")

    def refused(resource: str, attribute: str) -> bool:
        names = HEAT_ATTRIBUTE_NAMES.get(known.get(resource, ""))
        return names is not None and attribute not in names

    check_attribute_references(defn, refused)


def _check_property_names(rdef: ResourceDefinition, type_name: str) -> None:
    """Heat's validate refuses a top-level property the type does not have (values are not
    checked yet), and any update policy key of a type without one; kubeheat knows the names
    of Heat's own simple types without the plugins."""
    from kubeheat.cli.type_names import HEAT_PROPERTY_NAMES, NO_UPDATE_POLICY
    from kubeheat.template import TemplateError

    if type_name in NO_UPDATE_POLICY and isinstance(rdef.update_policy, Mapping):
        key = next(iter(rdef.update_policy), None)
        if key is not None:
            raise TemplateError(f"Unknown Property {key}", rdef.key_path("update_policy"))
    names: Collection[str] | None = HEAT_PROPERTY_NAMES.get(type_name)
    if names is None and type_name not in NO_UPDATE_POLICY:
        # an OpenStack type: its plugin (imported only for the services the template uses,
        # as for the deprecation warnings) has the property names and update policy schema
        from kubeheat.cli.deprecations import plugin_for

        cls = plugin_for(type_name)
        if cls is None:
            return
        known = cls.update_policy_schema or {}
        if isinstance(rdef.update_policy, Mapping):
            for key in rdef.update_policy:
                if key not in known:
                    raise TemplateError(f"Unknown Property {key}",
                                        rdef.key_path("update_policy"))
        names = None if cls.accepts_any_properties else cls.properties
    if names is None or not isinstance(rdef.properties, Mapping):
        return
    for key in rdef.properties:
        if key not in names:
            raise TemplateError(f"Unknown Property {key}", rdef.key_path("properties"))


def run(args: argparse.Namespace) -> int:
    # the template layer is imported here, not at the top: ``kubeheat --help`` builds the
    # parser of every command and must stay cheap
    from kubeheat.cli.inputs import Inputs, read_inputs, redactor
    from kubeheat.template import KubeheatError

    try:
        inputs = Inputs(parse_parameters(args))
    except UsageError as exc:
        error(str(exc))
        return 2
    try:
        read_inputs(args, inputs)
        assert inputs.template is not None
        defn = inputs.template.define(inputs.params, inputs.environment, strict=False)
        check_resource_types(defn)
    except KubeheatError as exc:
        # Messages may quote values computed from parameters: mask the hidden ones.
        error(redactor(inputs).text(str(exc)))
        return 1
    # later-version functions used as data, keys written twice, deprecated property names:
    # legal (as in Heat) but rarely meant
    from kubeheat.cli.deprecations import deprecation_warnings
    from kubeheat.template import data_function_warnings, duplicate_key_warnings
    duplicates = [w for what, text in inputs.texts for w in duplicate_key_warnings(text, what)]
    warnings = [*duplicates, *data_function_warnings(inputs.template),
                *deprecation_warnings(defn)]
    for warning in warnings:
        print(f"WARNING: {redactor(inputs).text(warning)}", file=sys.stderr)
    print(render(validate_result(defn, inputs.params), args.format), end="")
    return 0

"""Resource layer: schema-first resource type plugins: Heat's own types in ``heat``, the
OpenStack services' in ``openstack`` (one sub-package or module per service).

Each plugin declares its properties, attributes and capabilities, and implements create, read,
update, delete and find-existing handlers against a cloud session (Heat's own types against the
native store, the nested-stack family against child stacks). A registry maps type names to
plugins.

Other layers import the names below from this package; each is imported from its module on
first use, so importing the package costs nothing (the plugins are loaded by
:func:`load_builtin_plugins`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeheat._lazy import lazy_exports

if TYPE_CHECKING:
    from kubeheat.resources.base import (
        ANY,
        BOOLEAN,
        INTEGER,
        LIST,
        MAP,
        NO_DEFAULT,
        NUMBER,
        REGISTRY,
        STRING,
        TAG_RESOURCE,
        TAG_STACK_ID,
        Attribute,
        Created,
        DependencyView,
        NativeStore,
        NestedStackResult,
        NestedStacks,
        Observed,
        PluginRegistry,
        Property,
        ResourceContext,
        ResourceFailure,
        ResourcePlugin,
        ResourceSnippet,
        TransientFailure,
        heat_physical_name,
        load_builtin_plugins,
        register,
        short_id,
    )
    from kubeheat.resources.heat.provider_template import TemplateResource
    from kubeheat.resources.openstack import cloud_constraints
    from kubeheat.resources.properties import (
        PropertyError,
        accepts_any_properties,
        check_properties,
        check_schema,
        translated_names,
    )
    from kubeheat.resources.translation import deprecation_warnings, translated_snippets

#: the module of each public name, imported on first use of one of its names
_EXPORTS = {
    "kubeheat.resources.base": (
        "ANY", "BOOLEAN", "INTEGER", "LIST", "MAP", "NO_DEFAULT", "NUMBER", "REGISTRY", "STRING",
        "TAG_RESOURCE", "TAG_STACK_ID", "Attribute", "Created", "DependencyView", "NativeStore",
        "NestedStackResult", "NestedStacks", "Observed", "PluginRegistry", "Property",
        "ResourceContext", "ResourceFailure", "ResourcePlugin", "ResourceSnippet",
        "TransientFailure", "heat_physical_name", "load_builtin_plugins", "register",
        "short_id",
    ),
    "kubeheat.resources.heat.provider_template": ("TemplateResource",),
    "kubeheat.resources.openstack": ("cloud_constraints",),
    "kubeheat.resources.properties": (
        "PropertyError", "accepts_any_properties", "check_properties", "check_schema",
        "translated_names",
    ),
    "kubeheat.resources.translation": ("deprecation_warnings", "translated_snippets"),
}
__all__ = [
    "ANY",
    "BOOLEAN",
    "INTEGER",
    "LIST",
    "MAP",
    "NO_DEFAULT",
    "NUMBER",
    "REGISTRY",
    "STRING",
    "TAG_RESOURCE",
    "TAG_STACK_ID",
    "Attribute",
    "Created",
    "DependencyView",
    "NativeStore",
    "NestedStackResult",
    "NestedStacks",
    "Observed",
    "PluginRegistry",
    "Property",
    "PropertyError",
    "ResourceContext",
    "ResourceFailure",
    "ResourcePlugin",
    "ResourceSnippet",
    "TemplateResource",
    "TransientFailure",
    "accepts_any_properties",
    "check_properties",
    "check_schema",
    "cloud_constraints",
    "deprecation_warnings",
    "heat_physical_name",
    "load_builtin_plugins",
    "register",
    "short_id",
    "translated_names",
    "translated_snippets",
]

if not TYPE_CHECKING:
    __getattr__ = lazy_exports(__name__, _EXPORTS)

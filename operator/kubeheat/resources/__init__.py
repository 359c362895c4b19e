"""Resource layer: schema-first resource type plugins: Heat's own types in ``heat``, the
OpenStack services' in ``openstack`` (one sub-package or module per service).

Each plugin declares its properties, attributes and capabilities, and implements create, read,
update, delete and find-existing handlers against a cloud session (Heat's own types against the
native store, the nested-stack family against child stacks). A registry maps type names to
plugins. Other layers import the names below from here; ``heat`` and the service packages hold
the types.
"""

from kubeheat.resources.base import (
    ANY,
    BOOLEAN,
    INTEGER,
    LIST,
    MAP,
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
    load_builtin_plugins,
    register,
)
from kubeheat.resources.properties import (
    PropertyError,
    accepts_any_properties,
    check_properties,
    check_schema,
)

__all__ = [
    "ANY",
    "BOOLEAN",
    "INTEGER",
    "LIST",
    "MAP",
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
    "TransientFailure",
    "accepts_any_properties",
    "check_properties",
    "check_schema",
    "load_builtin_plugins",
    "register",
]

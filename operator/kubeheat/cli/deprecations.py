"""The ``WARNING:`` lines ``kubeheat validate`` prints for deprecated and hidden property names
(``resources.port.properties.network_id: deprecated, use network``), in the template and in
the provider templates it uses.

Only the plugin packages of the services that have such names are imported, and only when the
template uses one of their types: validating a template of Heat's own types stays as cheap as
before (``bench/startup.py``). A test holds :data:`SERVICES` complete.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubeheat.resources import ResourcePlugin
    from kubeheat.template import Path, StackDefinition

#: type name prefix -> the plugin package of the service (every OpenStack service kubeheat
#: has types of; a test holds those with old property names in it)
SERVICES: dict[str, str] = {
    "OS::Cinder::": "kubeheat.resources.openstack.cinder",
    "OS::Glance::": "kubeheat.resources.openstack.glance",
    "OS::Neutron::": "kubeheat.resources.openstack.neutron",
    "OS::Nova::": "kubeheat.resources.openstack.nova",
    "OS::Swift::": "kubeheat.resources.openstack.swift",
}


def plugin_for(type_name: str) -> type[ResourcePlugin] | None:
    """The plugin class of an OpenStack type, its service's package imported on first use;
    None for any other type."""
    for prefix, module in SERVICES.items():
        if type_name.startswith(prefix):
            importlib.import_module(module)
            from kubeheat.resources import REGISTRY

            return REGISTRY.get(type_name)
    return None


def deprecation_warnings(defn: StackDefinition, prefix: Path = ()) -> list[str]:
    """Every deprecated or hidden property the resources of ``defn`` (and of the provider
    templates they use, each of those prefixed with its file: ``<file>: resources...``) are
    given, once each."""
    out: list[str] = []
    for name, rdef in defn.resources.items():
        cls = plugin_for(rdef.implementation or rdef.type) or plugin_for(rdef.type)
        if cls is not None:
            from kubeheat.resources import deprecation_warnings as found_in

            out.extend(found_in(cls.properties, rdef.properties,
                                (*prefix, *rdef.key_path("properties"))))
        elif name in defn.nested:
            # named as validate names the other warnings of a provider template: its file first
            where = str(rdef.provider_template or rdef.type).removeprefix("file://")
            out.extend(f"{where}: {line}" for line in deprecation_warnings(defn.nested[name]))
    return list(dict.fromkeys(out))


__all__ = ["SERVICES", "deprecation_warnings", "plugin_for"]

"""Which plugin handles a resource: the one place the engine asks it.

A resource of a definition is handled by its type's registered plugin, or by a
:class:`~kubeheat.resources.heat.provider_template.TemplateResource` when its type (or what
the environment maps it to) is a template file. A recorded resource is handled by the plugin of
its recorded type, which may differ from the definition's when the type changed. Plugin
instances are stateless and shared; one :class:`Plugins` serves one engine.
"""

from __future__ import annotations

from collections.abc import Mapping

from kubeheat.engine.model import ResourceState, base_name
from kubeheat.resources import PluginRegistry, ResourcePlugin, TemplateResource
from kubeheat.template import ResourceDefinition, StackDefinition, is_template_reference


class Plugins:
    """Plugin classes and shared instances from one registry."""

    def __init__(self, registry: PluginRegistry) -> None:
        self.registry = registry
        self._instances: dict[type[ResourcePlugin], ResourcePlugin] = {}

    def class_for(self, type_name: str, implementation: str | None = None
                  ) -> type[ResourcePlugin] | None:
        """The plugin class for a resource type (None: unknown, or a provider template)."""
        impl = implementation or type_name
        if is_template_reference(impl):
            return None
        return self.registry.get(impl) or self.registry.get(type_name)

    def instance(self, cls: type[ResourcePlugin]) -> ResourcePlugin:
        found = self._instances.get(cls)
        if found is None:
            found = self._instances[cls] = cls()
        return found

    def for_definition(self, defn: StackDefinition, rdef: ResourceDefinition
                       ) -> ResourcePlugin:
        """The plugin of a resource of ``defn``; a provider template gets its file and the
        environment of its nested definition."""
        cls = self.class_for(rdef.type, rdef.implementation)
        if cls is not None:
            return self.instance(cls)
        key = rdef.implementation or rdef.type
        nested = defn.nested.get(rdef.name)
        env = nested.environment if nested is not None else None
        return TemplateResource(key, defn.template.files.get(key),
                                env.as_dict() if env is not None else None)

    def for_definitions(self, defn: StackDefinition) -> dict[str, ResourcePlugin]:
        """The plugin of every resource of ``defn``, by name."""
        return {name: self.for_definition(defn, rdef) for name, rdef in defn.resources.items()}

    def classes(self, defn: StackDefinition) -> dict[str, type[ResourcePlugin] | None]:
        """The plugin class of every resource of ``defn`` (None: a provider template)."""
        return {name: self.class_for(rdef.type, rdef.implementation)
                for name, rdef in defn.resources.items()}

    def of_record(self, rec: ResourceState, defn: StackDefinition | None = None,
                  chosen: Mapping[str, ResourcePlugin] | None = None) -> ResourcePlugin:
        """The plugin of a recorded resource: the operation's choice (``chosen``, for
        ``defn``) while the recorded type is still the definition's, else its recorded type's
        (a provider template without its file when the type is not registered)."""
        name = base_name(rec.name)
        if defn is not None and chosen is not None and name in chosen:
            rdef = defn.resources.get(name)
            if rdef is not None and rdef.type == rec.type:
                return chosen[name]
        cls = self.registry.get(rec.type)
        if cls is not None:
            return self.instance(cls)
        return TemplateResource(rec.type, None, None)


__all__ = ["Plugins"]

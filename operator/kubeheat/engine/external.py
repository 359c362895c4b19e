"""Resources naming an existing physical resource (``external_id``, HOT 2016-10-14 and later).

Such a resource is adopted as it is, never created, updated or deleted (its deletion policy
is ``Retain``), as Heat 27.0.1 does:

* before a create or update, every external resource must exist in the cloud, else the
  request is refused: ``Invalid external resource: Resource <id> (<type>) can not be found.``
  (Heat's types without a cloud object, such as ``OS::Heat::None``, always exist);
* its properties are not checked (required ones may be left out): they are only resolved,
  for the types whose attributes come from them (``OS::Heat::Value``);
* adopting it records ``ADOPT_IN_PROGRESS``, ``ADOPT_COMPLETE`` and then a check: for the
  types Heat can check, ``CHECK_IN_PROGRESS`` and ``CHECK_COMPLETE``, for the others only
  ``CHECK_COMPLETE`` with ``CHECK not supported for <type>``;
* its attributes are read from the cloud's object;
* an update keeping the same ``external_id`` changes nothing but the recorded values; one
  adding, changing or removing it fails with ``NotSupported: ... Update to property
  external_id of <name> (<type>) is not supported.`` and leaves the resource as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeheat.engine.model import ResourceState, StackState
from kubeheat.engine.plugins import Plugins
from kubeheat.engine.runtime import Runtime
from kubeheat.resources import NO_DEFAULT, ResourcePlugin
from kubeheat.template import StackDefinition, TemplateError

#: the types whose Heat plugin has a check handler (the others' check is "not supported"):
#: the nested-stack types, Nova servers and key pairs, Cinder volumes, floating IPs and
#: Heat's test resource
CHECKED_TYPES = frozenset(
    {
        "OS::Heat::Stack",
        "OS::Heat::ResourceGroup",
        "OS::Heat::ResourceChain",
        "OS::Heat::AutoScalingGroup",
        "AWS::CloudFormation::Stack",
        "OS::Heat::TestResource",
        "OS::Nova::Server",
        "OS::Nova::KeyPair",
        "OS::Cinder::Volume",
        "OS::Neutron::FloatingIP",
    }
)


def checks(plugin: ResourcePlugin) -> bool:
    """True when Heat checks an adopted resource of this type (a check handler)."""
    return plugin.type_name in CHECKED_TYPES or plugin.runs_nested_stacks


def not_supported(name: str, type_name: str) -> str:
    """The failure of an update adding, changing or removing a resource's external_id."""
    return (
        f"NotSupported: resources.{name}: Update to property external_id of {name} "
        f"({type_name}) is not supported."
    )


def not_found(external_id: str, type_name: str) -> str:
    return f"Invalid external resource: Resource {external_id} ({type_name}) can not be found."


def recorded_external(rec: ResourceState | None, wanted: str | None) -> str | None:
    """The external id ``rec`` was adopted with (None: made by the stack). A record written
    before the field existed has the external id as physical id and the Retain policy."""
    if rec is None:
        return None
    if (
        rec.external_id is None
        and wanted is not None
        and rec.physical_id == wanted
        and (rec.deletion_policy == "Retain")
    ):
        rec.external_id = wanted
    return rec.external_id


def external_properties(cls: type[ResourcePlugin], raw: Mapping[str, Any]) -> dict[str, Any]:
    """An external resource's property values, unchecked: as resolved, the declared ones
    left out taking their default (or None)."""
    out = dict(raw)
    if cls.accepts_any_properties:
        return out
    for key, prop in cls.properties.items():
        if key not in out:
            out[key] = None if prop.default is NO_DEFAULT else prop.default
    return out


async def verify(
    runtime: Runtime, plugins: Plugins, state: StackState, defn: StackDefinition
) -> None:
    """Refuse the operation (as Heat's validation does) when an external resource of
    ``defn`` is not in the cloud, or a type's own check against the cloud
    (:meth:`ResourcePlugin.preflight`) fails."""
    for name, rdef in defn.resources.items():
        if rdef.external_id is None:
            cls = plugins.class_for(rdef.type, rdef.implementation)
            if cls is not None and cls.preflight is not ResourcePlugin.preflight:
                probe = ResourceState(name=name, type=rdef.type)
                await plugins.instance(cls).preflight(
                    runtime.context(state, name, probe, None),
                    rdef.properties,
                    rdef.key_path("properties"),
                )
            continue
        external = str(rdef.external_id)
        plugin = plugins.for_definition(defn, rdef)
        probe = ResourceState(name=name, type=rdef.type, physical_id=external)
        ctx = runtime.context(state, name, probe, None)
        where = rdef.key_path("external_id")
        try:
            found = await plugin.adopt_external(ctx, {})
        except Exception as exc:
            detail = str(exc)
            missing = "not found" in detail.lower() or "could not be found" in detail
            message = not_found(external, rdef.type)
            raise TemplateError(message if missing else f"{message} ({detail})", where) from None
        if found is None:
            raise TemplateError(not_found(external, rdef.type), where)


__all__ = [
    "CHECKED_TYPES",
    "checks",
    "external_properties",
    "not_found",
    "not_supported",
    "recorded_external",
    "verify",
]

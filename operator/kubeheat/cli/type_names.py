"""The names of the resource types the engine knows, for ``kubeheat validate``, which checks
every resource's type as Heat's validate does without loading the plugins (that would cost
more than the rest of the command; see ``bench/startup.py``). ``kubeheat resource-types`` lists
the same names from the plugins themselves, and a test holds the two equal: a new plugin adds
its name here."""

from __future__ import annotations

RESOURCE_TYPE_NAMES: frozenset[str] = frozenset({
    "AWS::CloudFormation::Stack",
    "OS::Cinder::Volume",
    "OS::Cinder::VolumeAttachment",
    "OS::Glance::WebImage",
    "OS::Heat::AutoScalingGroup",
    "OS::Heat::CloudConfig",
    "OS::Heat::Delay",
    "OS::Heat::MultipartMime",
    "OS::Heat::None",
    "OS::Heat::RandomString",
    "OS::Heat::ResourceChain",
    "OS::Heat::ResourceGroup",
    "OS::Heat::ScalingPolicy",
    "OS::Heat::SoftwareConfig",
    "OS::Heat::Stack",
    "OS::Heat::StructuredConfig",
    "OS::Heat::TestResource",
    "OS::Heat::Value",
    "OS::Heat::WaitCondition",
    "OS::Heat::WaitConditionHandle",
    "OS::Neutron::FloatingIP",
    "OS::Neutron::FloatingIPAssociation",
    "OS::Neutron::Net",
    "OS::Neutron::Port",
    "OS::Neutron::Router",
    "OS::Neutron::RouterInterface",
    "OS::Neutron::SecurityGroup",
    "OS::Neutron::SecurityGroupRule",
    "OS::Neutron::Subnet",
    "OS::Nova::Flavor",
    "OS::Nova::KeyPair",
    "OS::Nova::Server",
    "OS::Nova::ServerGroup",
    "OS::Swift::Container",
})

#: the property names of Heat's own simple types, for ``kubeheat validate``, which refuses an
#: unknown top-level property (``resources.r.properties: Unknown Property x``) as Heat's
#: validate does, before any value is known; a test holds them equal to the plugins' schemas
HEAT_PROPERTY_NAMES: dict[str, frozenset[str]] = {
    "OS::Heat::CloudConfig": frozenset({"cloud_config"}),
    "OS::Heat::Delay": frozenset({"actions", "jitter_multiplier", "max_jitter", "min_wait"}),
    "OS::Heat::MultipartMime": frozenset({"group", "parts"}),
    "OS::Heat::RandomString": frozenset({"character_classes", "character_sequences", "length",
                                         "salt", "sequence"}),
    "OS::Heat::SoftwareConfig": frozenset({"config", "group", "inputs", "options", "outputs"}),
    "OS::Heat::StructuredConfig": frozenset({"config", "group", "inputs", "options",
                                             "outputs"}),
    "OS::Heat::TestResource": frozenset({"action_wait_secs", "attr_wait_secs", "client_name",
                                         "constraint_prop_secs", "entity_name", "fail",
                                         "update_replace", "update_replace_value", "value",
                                         "wait_secs"}),
    "OS::Heat::Value": frozenset({"type", "value"}),
    "OS::Heat::WaitCondition": frozenset({"count", "handle", "timeout"}),
    "OS::Heat::WaitConditionHandle": frozenset({"signal_transport"}),
}

#: the attribute names of the same types (``show`` aside), for the check of ``get_attr``
HEAT_ATTRIBUTE_NAMES: dict[str, frozenset[str]] = {
    "OS::Heat::CloudConfig": frozenset({"config"}),
    "OS::Heat::Delay": frozenset(),
    "OS::Heat::MultipartMime": frozenset({"config"}),
    "OS::Heat::RandomString": frozenset({"value"}),
    "OS::Heat::SoftwareConfig": frozenset({"config"}),
    "OS::Heat::StructuredConfig": frozenset({"config"}),
    "OS::Heat::TestResource": frozenset({"output"}),
    "OS::Heat::Value": frozenset({"value"}),
    "OS::Heat::WaitCondition": frozenset({"data"}),
    "OS::Heat::WaitConditionHandle": frozenset({"curl_cli", "endpoint", "signal", "token"}),
}

#: Heat's own types with no update policy at all (any key of one is refused)
NO_UPDATE_POLICY: frozenset[str] = frozenset({"OS::Heat::None", *HEAT_PROPERTY_NAMES})

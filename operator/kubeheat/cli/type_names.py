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

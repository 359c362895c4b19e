"""Neutron resource types, one module per type (or pair of types): networks, subnets, ports,
routers and their interfaces, floating IPs and their associations, security groups and
security group rules.

Every call goes through openstacksdk's network proxy (``ctx.cloud``). Properties, attributes,
defaults, constraints and which properties update in place follow Heat's Neutron plugins;
the code is kubeheat's own.

Crash safety: what supports Neutron tags (nets, subnets, ports, routers, floating IPs, security
groups) is tagged ``kubeheat-stack-id=<stack>`` and ``kubeheat-resource=<name>`` right after it
is created (next to the template's own ``tags``), and :meth:`find_existing` lists by those tags.
An object made by a create interrupted before it was tagged is found by what only that create
gives it: the generated name (when the template sets none), or for a floating IP a marker in
its description. Objects without tags are found by what identifies them in Neutron: a router
interface by its router and subnet/port, a floating IP association by the floating IP's port, a
security group rule by the marker in its description (or the template's description) and its
parameters.

Ordering: Heat's implicit dependencies (:meth:`implicit_dependencies`) make a port wait for the
subnets of its network, a router for the subnets of its gateway network, and a floating IP (or
association) for the router interfaces on its port's subnets and for the routers whose gateway
is its floating network; deletes run in the reverse order, so a router interface is removed
after the floating IPs that need it.

Observation: :meth:`read_many` lists each tagged type once by the stack's tag (``check`` and
``plan``); attributes are re-read by the engine when they may have changed
(``live_attributes``: a network's ``subnets``, a floating IP's ``port_id``).

Drift: :meth:`read` reports the properties that can change in place and were set in the
template, in the template's own form when the cloud agrees with it (names of referenced objects
are compared through the ids they resolved to) and in the cloud's form when it does not, so the
engine's comparison names exactly what moved. Security group rules are compared as a set.

Names or ids are accepted wherever Heat accepts them (``network``, ``subnet``, ``port``,
``router``, security groups ...); the ``neutron.*`` custom constraints check them against the
cloud (see :func:`kubeheat.resources.openstack.cloud_constraints`).

Modules: ``base`` (the constraints, helpers and :class:`~.base.NeutronResource`),
``dependencies`` (the implicit-dependency rules), ``net``, ``subnet``, ``port``, ``router``
(Router, RouterInterface), ``floating_ip`` (FloatingIP, FloatingIPAssociation) and
``security_group`` (SecurityGroup, SecurityGroupRule).
"""

from kubeheat.resources.openstack.neutron.base import (
    NetworkConstraint,
    NeutronResource,
    PortConstraint,
    RouterConstraint,
    SecurityGroupConstraint,
    SegmentConstraint,
    SubnetConstraint,
    SubnetPoolConstraint,
)
from kubeheat.resources.openstack.neutron.floating_ip import FloatingIP, FloatingIPAssociation
from kubeheat.resources.openstack.neutron.net import Net
from kubeheat.resources.openstack.neutron.port import Port
from kubeheat.resources.openstack.neutron.router import Router, RouterInterface
from kubeheat.resources.openstack.neutron.security_group import SecurityGroup, SecurityGroupRule
from kubeheat.resources.openstack.neutron.subnet import Subnet

__all__ = [
    "FloatingIP",
    "FloatingIPAssociation",
    "Net",
    "NetworkConstraint",
    "NeutronResource",
    "Port",
    "PortConstraint",
    "Router",
    "RouterConstraint",
    "RouterInterface",
    "SecurityGroup",
    "SecurityGroupConstraint",
    "SecurityGroupRule",
    "SegmentConstraint",
    "Subnet",
    "SubnetConstraint",
    "SubnetPoolConstraint",
]


"""OpenStack resource types: one sub-package or module per service (``neutron``, ``nova``,
``cinder``, ``glance``, ``swift``), and what they share (``_common``).

This package owns every plugin that reaches an OpenStack cloud, always through openstacksdk,
and the custom constraints answered by the cloud (``nova.flavor``, ``neutron.network`` ...).
The service modules build on the shared plumbing of ``_common`` and never import each other.
openstacksdk and keystoneauth are imported inside the functions that call them: loading these
modules (``kubeheat validate``, a stack of Heat-only types) does not import them.

Outside ``kubeheat.resources`` use the names exported here, chiefly :func:`cloud_constraints`
(the engine builds its constraint registry with it when it has a cloud). A new OpenStack type
subclasses :class:`OpenStackResource` (or :class:`ListedResource` when the stack's objects can
be listed by its tag) and sets the hooks it needs: ``proxy``, ``entity``, ``listing``,
``tagged`` and the ``_observation`` of the object it reads.
"""

from kubeheat.resources.openstack._common import (
    CloudConstraint,
    FinderConstraint,
    ListedResource,
    OpenStackResource,
    as_connection,
    cloud_constraint,
    cloud_constraints,
)

__all__ = [
    "CloudConstraint",
    "FinderConstraint",
    "ListedResource",
    "OpenStackResource",
    "as_connection",
    "cloud_constraint",
    "cloud_constraints",
]

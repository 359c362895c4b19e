"""Nova resource types: ``OS::Nova::Server``, ``KeyPair``, ``Flavor`` and ``ServerGroup``, and
the ``nova.flavor`` / ``nova.keypair`` / ``nova.server`` custom constraints.

Modules: ``base`` (the constraints and the flavor and image lookups), ``boot`` (the server's
create request), ``floating_ips`` (``networks[].floating_ip``), ``internal_ports``
(``networks[].port_extra_properties``), ``server``, ``keypair``, ``flavor`` and
``server_group``.

Properties, attributes, defaults and which properties update in place follow Heat's plugins
(``heat/engine/resources/openstack/nova``); every call goes through openstacksdk's compute
proxy. Differences from Heat on purpose:

- ``networks`` entries are passed to Nova (Nova creates their ports): a ``subnet`` entry boots
  the server on the subnet's network (Heat creates a port on the subnet); only an entry with
  ``port_extra_properties`` gets a port kubeheat makes, as Heat does (:mod:`.internal_ports`).
  A ``floating_ip`` goes to the entry's port, or for a ``subnet`` entry to the server's port
  on that subnet once the server is active (:mod:`.floating_ips`). No ``networks`` at all asks
  Nova for ``auto`` allocation. Changing to or from ``auto``/``none`` replaces the server;
  other changes attach and detach interfaces in place, as in Heat.
- ``user_data_format`` ``HEAT_CFNTOOLS`` (Heat's default) and ``SOFTWARE_CONFIG`` send the user
  data as it is, like ``RAW`` (no cfn-tools or os-collect-config bundle); a user_data naming a
  software config (its id) sends that config, as Heat does for ``RAW`` and ``SOFTWARE_CONFIG``.
- ``image`` changes follow Heat's ``image_update_policy`` (default ``REBUILD``: rebuilt in
  place, the server keeps its id); ``REPLACE`` replaces the server.
- The ``addresses`` attribute's ``subnets`` hold only each subnet's id.
- ``software_config_transport`` and ``deployment_swift_data`` are accepted and change nothing
  (kubeheat runs no software deployments); ``reservation_id`` is accepted and not sent (Nova
  assigns its own); ``console_urls`` is always empty. ``personality`` (deprecated) is refused
  unless empty, as Heat refuses it against any Nova of microversion 2.57 or later.
- ``block_device_mapping`` (Nova's legacy form) is sent as ``block_device_mapping_v2``
  entries: the volume (or a volume from the snapshot) at its device name, ``vda`` booting.
- The server carries the stack's tags both as server tags and as metadata; they are hidden
  from the ``metadata`` property (drift) and the ``tags`` attribute.
"""

from kubeheat.resources.openstack.nova.base import (
    FlavorConstraint,
    KeypairConstraint,
    ServerConstraint,
)
from kubeheat.resources.openstack.nova.flavor import Flavor
from kubeheat.resources.openstack.nova.keypair import KeyPair
from kubeheat.resources.openstack.nova.server import Server
from kubeheat.resources.openstack.nova.server_group import ServerGroup

__all__ = [
    "Flavor",
    "FlavorConstraint",
    "KeyPair",
    "KeypairConstraint",
    "Server",
    "ServerConstraint",
    "ServerGroup",
]

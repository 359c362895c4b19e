"""Sandbox layer: an embedded, in-memory OpenStack-compatible cloud served over HTTP.

It speaks the Keystone, Nova, Neutron, Cinder, Glance and Swift calls that the resource plugins
make, with realistic asynchronous transitions, quotas and fault injection, so that tests and
demos drive the real openstacksdk against it on the loopback interface. Use
:func:`run_sandbox` from synchronous code, or :class:`SandboxCloud` inside an event loop.
"""

from kubeheat.sandbox.config import DEFAULT_QUOTAS, FaultRule, SandboxConfig
from kubeheat.sandbox.server import RequestRecord, SandboxCloud, run_sandbox

__all__ = [
    "DEFAULT_QUOTAS",
    "FaultRule",
    "RequestRecord",
    "SandboxCloud",
    "SandboxConfig",
    "run_sandbox",
]

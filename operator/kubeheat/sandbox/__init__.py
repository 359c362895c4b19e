"""Sandbox layer: an embedded, in-memory OpenStack-compatible cloud served over HTTP.

It speaks the Keystone, Nova, Neutron, Cinder, Glance and Swift calls that the resource plugins
make, with realistic asynchronous transitions and fault injection, so that tests and demos drive
the real openstacksdk against it on the loopback interface.
"""

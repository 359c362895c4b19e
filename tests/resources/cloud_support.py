"""Helpers shared by the OpenStack resource tests (test_nova, test_cinder, test_glance_swift):
running a coroutine, a HOT document, an output, and a network with a subnet."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import openstack.connection

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def hot(resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"heat_template_version": "2018-08-31", "resources": resources}
    if outputs:
        doc["outputs"] = outputs
    return doc


def out(resource: str, attribute: str) -> dict[str, Any]:
    return {"value": {"get_attr": [resource, attribute]}}


def make_network(conn: openstack.connection.Connection, name: str, cidr: str, *,
                 subnet_name: str | None = None) -> Any:
    """A network with one IPv4 subnet (the servers' and attachments' tests boot on it)."""
    net = conn.network.create_network(name=name)
    extra = {"name": subnet_name} if subnet_name else {}
    conn.network.create_subnet(network_id=net.id, cidr=cidr, ip_version=4, **extra)
    return net

"""Configuration of a sandbox cloud: identity, timings, quotas and injected faults."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Quota names and their defaults, as the real services name them (Nova, Neutron, Cinder,
#: Glance's unified limits, and a container count for Swift, which has no such quota).
DEFAULT_QUOTAS: dict[str, int] = {
    # nova
    "instances": 50,
    "cores": 100,
    "ram": 256 * 1024,
    "key_pairs": 100,
    "server_groups": 10,
    "server_group_members": 10,
    "metadata_items": 128,
    # neutron
    "network": 100,
    "subnet": 100,
    "port": 500,
    "router": 10,
    "floatingip": 50,
    "security_group": 10,
    "security_group_rule": 100,
    # cinder
    "volumes": 10,
    "gigabytes": 1000,
    # glance
    "image_count_total": 100,
    # swift
    "containers": 1000,
}


@dataclass
class FaultRule:
    """One injected fault, matched against each request.

    ``method`` is an HTTP method or ``"*"``; ``path`` a regular expression searched in the
    request path (for example ``r"^/compute/v2\\.1/servers$"``). A matching request is delayed
    by ``latency`` seconds and then, with probability ``rate``, answered with ``status`` (when
    set) instead of reaching the service; a 429 or 503 carries ``Retry-After: retry_after``.
    ``times`` bounds how often the rule fires (``None``: unbounded); a rule that has fired
    ``times`` times stops matching. ``skip`` lets that many matching requests through before
    the rule may fire (``skip=2, times=1``: the third matching request fails).

    With ``after`` the request first reaches the service (which carries it out: a POST
    creates its object) and only the answer is replaced by ``status``: the "created, but
    answered 500" a real cloud gives when it fails after doing the work.
    """

    method: str = "*"
    path: str = ".*"
    status: int | None = None
    rate: float = 1.0
    latency: float = 0.0
    retry_after: float | None = None
    times: int | None = None
    after: bool = False
    skip: int = 0
    fired: int = field(default=0, compare=False)
    seen: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        self._regex = re.compile(self.path)
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"FaultRule.rate must be within [0, 1], got {self.rate}")
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError(f"FaultRule.status must be an HTTP error status, got {self.status}")

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if self.method not in ("*", method.upper()):
            return False
        return self._regex.search(path) is not None

    def passes(self) -> bool:
        """Count a matching request; True while it is one of the ``skip`` let through."""
        self.seen += 1
        return self.seen <= self.skip


@dataclass
class SandboxConfig:
    """Everything that shapes one sandbox cloud.

    The delays are the seconds a resource stays in its transitional status (server BUILD and
    RESIZE, volume creating/attaching/detaching/deleting, image importing/saving) before it
    settles. ``server_error_rate`` and ``volume_error_rate`` make that fraction of new servers
    and volumes end in ERROR instead (drawn from ``seed``).
    """

    username: str = "admin"
    password: str = "sandbox-secret"
    project_name: str = "demo"
    #: the project's id: the same in every sandbox, so stacks that never started one
    #: (``OS::project_id``) name the project a started one has
    project_id: str = "b2d0c0ffee5a4db0a1e5cafe0f5a11d0"
    user_domain: str = "Default"
    project_domain: str = "Default"
    region: str = "RegionOne"
    #: more regions of the same cloud: each has its own compute, network, volume, image and
    #: object services (and resources) under ``/regions/<name>/``; identity is shared
    extra_regions: tuple[str, ...] = ("RegionTwo",)
    cloud_name: str = "sandbox"
    host: str = "127.0.0.1"
    port: int = 0
    token_ttl: float = 3600.0
    build_delay: float = 0.5
    volume_delay: float = 0.2
    image_delay: float = 0.2
    server_delete_delay: float = 0.0
    server_error_rate: float = 0.0
    server_error_message: str = (
        "No valid host was found. There are not enough hosts available."
    )
    volume_error_rate: float = 0.0
    quotas: dict[str, int] = field(default_factory=dict)
    faults: list[FaultRule] = field(default_factory=list)
    seed: int | None = 0

    def quota(self, name: str) -> int:
        """The limit for ``name``; -1 means unlimited, as in the real services."""
        return self.quotas.get(name, DEFAULT_QUOTAS[name])

"""The sandbox's in-memory state: identity, resources, quotas and timed transitions.

All access happens under :attr:`CloudState.lock`. Asynchronous transitions (a server leaving
BUILD, a volume becoming available) are timers kept in a heap and applied lazily: every request
first calls :meth:`CloudState.settle`, which runs the timers that are due. Nothing runs in the
background, so a sandbox that is not asked anything does nothing.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubeheat.sandbox.config import SandboxConfig

Record = dict[str, Any]


def new_id() -> str:
    return str(uuid.uuid4())


def iso_now(precise: bool = False) -> str:
    now = datetime.now(UTC)
    if precise:
        return now.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Token:
    id: str
    user_id: str
    project_id: str | None
    domain_id: str | None
    expires: float
    methods: list[str]
    issued_at: str
    expires_at: str
    audit_id: str


class CloudState:
    """Every resource of every service, keyed by kind and id."""

    KINDS = (
        "servers", "flavors", "keypairs", "server_groups",
        "networks", "subnets", "ports", "routers", "floatingips",
        "security_groups", "security_group_rules", "subnetpools", "segments",
        "volumes", "attachments", "images", "containers",
    )

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.rng = random.Random(config.seed)
        self.base_url = ""
        self.domain = {"id": "default", "name": config.user_domain}
        self.project = {
            "id": config.project_id,
            "name": config.project_name,
            "domain_id": "default",
        }
        self.user = {"id": uuid.uuid4().hex, "name": config.username, "domain_id": "default"}
        self.tokens: dict[str, Token] = {}
        self.store: dict[str, dict[str, Record]] = {kind: {} for kind in self.KINDS}
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self.keypair_seq = itertools.count(1)

    def __getitem__(self, kind: str) -> dict[str, Record]:
        return self.store[kind]

    def schedule(self, delay: float, action: Callable[[], None]) -> None:
        """Run ``action`` at the first request at least ``delay`` seconds from now."""
        heapq.heappush(self._timers, (time.monotonic() + delay, next(self._seq), action))

    def settle(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, action = heapq.heappop(self._timers)
            action()

    def fast_forward(self) -> None:
        """Run every scheduled transition now, in order (transitions may schedule more)."""
        for _ in range(10_000):
            if not self._timers:
                return
            _, _, action = heapq.heappop(self._timers)
            action()

    def pending(self) -> int:
        return len(self._timers)

    def chance(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate

    def quota(self, name: str) -> int:
        return self.config.quota(name)

    def count(self, kind: str, pred: Callable[[Record], bool] | None = None) -> int:
        return sum(1 for r in self.store[kind].values() if pred is None or pred(r))

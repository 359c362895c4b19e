"""Helpers shared by the sandbox tests: an sdk connection factory and a bounded poll."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import openstack
import openstack.connection

from kubeheat.sandbox import SandboxCloud

FAST = {"build_delay": 0.05, "volume_delay": 0.05, "image_delay": 0.05}


def sdk(sandbox: SandboxCloud, **overrides: Any) -> openstack.connection.Connection:
    """A plain openstacksdk connection (no kubeheat guard) to the sandbox."""
    config = {**sandbox.cloud_config, **overrides}
    return openstack.connect(load_yaml_config=False, load_envvars=False, **config)


def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll ``check`` until it returns something truthy (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)

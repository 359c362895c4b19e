"""What every OpenStack resource plugin shares: the connection, tags, waiting and errors.

Plugins reach the cloud only through openstacksdk: ``ctx.cloud`` is an
``openstack.connection.Connection`` or a ``kubeheat.cloud.CloudSession`` (whose ``conn`` is
used), and every blocking SDK call goes through :func:`sdk` so it runs in the engine's bounded
thread pool. Cloud errors become :class:`ResourceFailure` with the cloud's own message.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from kubeheat.resources.base import (
    TAG_RESOURCE,
    TAG_STACK_ID,
    ResourceContext,
    ResourceFailure,
    ResourcePlugin,
)
from kubeheat.template.constraints import ConstraintRegistry, CustomConstraint

T = TypeVar("T")

#: first and longest pause between status polls (seconds)
POLL_FIRST, POLL_MAX = 0.05, 2.0


def connection(ctx: ResourceContext) -> Any:
    """The openstacksdk connection of the stack; a clear failure when there is none."""
    cloud = ctx.cloud
    if cloud is None:
        raise ResourceFailure(
            f"{ctx.type} needs a cloud: configure one (clouds.yaml / OS_CLOUD), or run "
            "without one to use the embedded sandbox cloud")
    # a kubeheat.cloud.CloudSession carries the connection as ``conn``
    return getattr(cloud, "conn", cloud)


async def sdk(ctx: ResourceContext, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking openstacksdk call off the event loop; SDK errors become failures."""
    try:
        return await ctx.call(fn, *args, **kwargs)
    except ResourceFailure:
        raise
    except Exception as exc:
        if is_not_found(exc):
            raise
        raise ResourceFailure(cloud_message(exc)) from None


def is_not_found(exc: BaseException) -> bool:
    """True for openstacksdk's NotFoundException (and HTTP 404s)."""
    from openstack import exceptions

    if isinstance(exc, exceptions.NotFoundException):
        return True
    return getattr(exc, "status_code", None) == 404


def cloud_message(exc: BaseException) -> str:
    """The cloud's message for a failed call, as Heat shows it (``Conflict: ...``)."""
    details = getattr(exc, "details", None)
    message = details or str(exc) or type(exc).__name__
    status = getattr(exc, "status_code", None)
    kind = type(exc).__name__
    if status:
        return f"{kind}: {message}" if kind not in str(message) else str(message)
    return str(message)


def tag_list(ctx: ResourceContext) -> list[str]:
    """Tags as a list of ``key=value`` strings (Neutron, Nova server tags)."""
    return [f"{k}={v}" for k, v in sorted(ctx.tags.items())]


def tag_metadata(ctx: ResourceContext) -> dict[str, str]:
    """Tags as metadata entries (Nova metadata, Cinder/Glance properties, Swift headers)."""
    return dict(ctx.tags)


def has_tags(tags: Iterable[str] | None, ctx: ResourceContext) -> bool:
    """True when a cloud object's tag list carries this resource's tags."""
    present = set(tags or ())
    return all(t in present for t in tag_list(ctx))


def has_metadata(metadata: Mapping[str, Any] | None, ctx: ResourceContext) -> bool:
    meta = metadata or {}
    return meta.get(TAG_STACK_ID) == ctx.stack_id and meta.get(TAG_RESOURCE) == ctx.name


def pick_existing(candidates: Iterable[Any], ctx: ResourceContext) -> Any | None:
    """The first candidate (SDK object with ``id``) not excluded by a replacement."""
    for item in candidates:
        if item is not None and getattr(item, "id", None) not in ctx.exclude_ids:
            return item
    return None


async def wait_for(ctx: ResourceContext, read: Callable[[], Any], *, done: Iterable[str],
                   failed: Iterable[str] = ("ERROR",), what: str = "resource",
                   status_of: Callable[[Any], str | None] | None = None,
                   fault_of: Callable[[Any], str | None] | None = None,
                   gone_ok: bool = False) -> Any:
    """Poll ``read`` (a blocking SDK getter) with backoff until the status is in ``done``.

    A status in ``failed`` fails the resource with the cloud's fault message; the stack's
    deadline bounds the wait ("Timed out"). ``gone_ok`` makes a 404 a success (deletes).
    """
    done_set, failed_set = {s.upper() for s in done}, {s.upper() for s in failed}
    delay = POLL_FIRST
    while True:
        try:
            obj = await ctx.call(read)
        except Exception as exc:
            if is_not_found(exc):
                if gone_ok:
                    return None
                raise ResourceFailure(f"The {what} disappeared while being created") from None
            raise ResourceFailure(cloud_message(exc)) from None
        status = (status_of(obj) if status_of else getattr(obj, "status", None)) or ""
        status = str(status).upper()
        if status in done_set:
            return obj
        if status in failed_set:
            fault = fault_of(obj) if fault_of else None
            raise ResourceFailure(
                f"Went to status {status} due to \"{fault or 'Unknown'}\"")
        remaining = ctx.remaining()
        if remaining is not None and remaining <= 0:
            raise ResourceFailure("Timed out")
        pause = delay if remaining is None else min(delay, max(remaining, 0.0))
        await asyncio.sleep(pause)
        delay = min(delay * 1.5, POLL_MAX)


async def delete_quietly(ctx: ResourceContext, fn: Callable[..., Any], *args: Any,
                         **kwargs: Any) -> bool:
    """Delete through ``fn``; already gone is success. Returns False when it was gone."""
    try:
        await ctx.call(fn, *args, **kwargs)
    except Exception as exc:
        if is_not_found(exc):
            return False
        raise ResourceFailure(cloud_message(exc)) from None
    return True


class OpenStackPlugin(ResourcePlugin):
    """Base of the OpenStack types; ``service`` names the openstacksdk proxy (for listings)."""

    service: str = ""


# -- custom constraints checked against the cloud ------------------------------------------------

#: constraint classes that ask the cloud (``needs_cloud = True``); each is built with a cloud
#: (a Connection or a CloudSession) by :func:`cloud_constraints`
CLOUD_CONSTRAINTS: list[type[CloudConstraint]] = []


class CloudConstraint(CustomConstraint):
    """A custom constraint answered by the cloud (``nova.flavor``, ``glance.image`` ...).

    An instance is bound to one cloud; :meth:`lookup` returns True when the value names
    something that exists, False when the cloud says it does not. "Exists" answers are cached
    for ``ttl`` seconds, so validating a template that names the same flavor many times asks
    once; "missing" is never cached (the next check may come after it was created).
    A cloud that cannot be reached (or any error but "not found") leaves the value unchecked:
    validation must not fail because the cloud had a hiccup; the create will say what is wrong.
    """

    needs_cloud = True
    #: what is looked up, for the message ("Error validating value 'x': The Flavor (x) could
    #: not be found.")
    entity: str = "Resource"
    ttl: float = 30.0

    def __init__(self, cloud: Any = None) -> None:
        self.cloud = cloud
        self._cache: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def lookup(self, conn: Any, value: str) -> bool:
        raise NotImplementedError

    def check(self, value: Any) -> None:
        if self.cloud is None or value is None or value == "":
            return
        key = str(value)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and now - cached[0] < self.ttl:
            found = cached[1]
        else:
            conn = getattr(self.cloud, "conn", self.cloud)
            try:
                found = bool(self.lookup(conn, key))
            except Exception as exc:
                if not is_not_found(exc):
                    return
                found = False
            if found:
                with self._lock:
                    self._cache[key] = (now, found)
        if not found:
            raise self.fail(f"The {self.entity} ({key}) could not be found.")


def cloud_constraint(cls: type[CloudConstraint]) -> type[CloudConstraint]:
    """Class decorator: list a cloud constraint for :func:`cloud_constraints`."""
    if cls not in CLOUD_CONSTRAINTS:
        CLOUD_CONSTRAINTS.append(cls)
    return cls


def cloud_constraints(cloud: Any, parent: ConstraintRegistry | None = None
                      ) -> ConstraintRegistry:
    """A registry over ``parent`` (default: the cloud-free built-ins) holding every cloud
    constraint of the loaded plugin modules, bound to ``cloud``. The engine and ``validate``
    use it when they have a cloud: ``Engine(..., cloud=c, constraints=cloud_constraints(c))``."""
    from kubeheat.resources.base import load_builtin_plugins
    from kubeheat.template.constraints import DEFAULT_CONSTRAINTS

    load_builtin_plugins()
    registry = (parent if parent is not None else DEFAULT_CONSTRAINTS).child()
    for cls in CLOUD_CONSTRAINTS:
        registry.register(cls(cloud), replace=True)
    return registry

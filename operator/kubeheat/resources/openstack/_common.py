"""What every OpenStack resource plugin shares: the connection, errors, tags, waiting, per-cloud
caches, the :class:`OpenStackResource` and :class:`ListedResource` bases, and the custom
constraints answered by the cloud (:func:`cloud_constraints`).

Plugins reach the cloud only through openstacksdk: ``ctx.cloud`` is an
``openstack.connection.Connection`` or a ``kubeheat.cloud.CloudSession`` (whose ``conn`` is
used), and every blocking SDK call goes through :func:`sdk` so it runs in the engine's bounded
thread pool. Cloud errors become :class:`ResourceFailure` with the cloud's own message, or
:class:`TransientFailure` when the cloud may answer differently next time (5xx, 429, no
answer): the engine then adopts what the call may have made, or tries again.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from kubeheat.resources.base import (
    TAG_RESOURCE,
    TAG_STACK_ID,
    Created,
    Observed,
    ResourceContext,
    ResourceFailure,
    ResourcePlugin,
    TransientFailure,
)
from kubeheat.template import (
    AllowedValuesConstraint,
    ConstraintRegistry,
    CustomConstraint,
    CustomConstraintRef,
)

if TYPE_CHECKING:        # openstacksdk is imported only where a call needs it
    from openstack.connection import Connection

T = TypeVar("T")

#: first and longest pause between status polls (seconds)
POLL_FIRST, POLL_MAX = 0.05, 2.0
#: transient read failures in a row a status poll rides out before failing (transiently)
WAIT_HICCUPS = 5


def as_connection(cloud: Any) -> Connection:
    """The openstacksdk connection of ``cloud``: a ``Connection``, or a
    ``kubeheat.cloud.CloudSession`` carrying one as ``conn``."""
    conn: Connection = getattr(cloud, "conn", cloud)
    return conn


def connection(ctx: ResourceContext) -> Connection:
    """The openstacksdk connection of the stack; a clear failure when there is none."""
    cloud = ctx.cloud
    if cloud is None:
        raise ResourceFailure(
            f"{ctx.type} needs a cloud: configure one (clouds.yaml / OS_CLOUD), or run "
            "without one to use the embedded sandbox cloud")
    return as_connection(cloud)


async def sdk(ctx: ResourceContext, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking openstacksdk call off the event loop; SDK errors become failures."""
    try:
        return await ctx.call(fn, *args, **kwargs)
    except ResourceFailure:
        raise
    except Exception as exc:
        if is_not_found(exc):
            raise
        raise failure(exc) from None


def http_status(exc: BaseException) -> int | None:
    """The HTTP status of a failed SDK call (openstacksdk's ``status_code``, keystoneauth's
    ``http_status``), or None."""
    for attr in ("status_code", "http_status"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    return None


def is_transient(exc: BaseException) -> bool:
    """True when the cloud may answer differently next time: a 5xx or 429 status, or no
    answer at all (connection error, timeout)."""
    status = http_status(exc)
    if status is not None:
        return status >= 500 or status == 429
    import requests
    from keystoneauth1 import exceptions as ksa

    return isinstance(exc, (requests.ConnectionError, requests.Timeout, ksa.ConnectionError,
                            ConnectionError, TimeoutError))


def failure(exc: BaseException, message: str | None = None) -> ResourceFailure:
    """The failure to raise for a failed cloud call: :class:`TransientFailure` when
    :func:`is_transient`, else :class:`ResourceFailure`; the cloud's message unless
    ``message`` is given."""
    if isinstance(exc, ResourceFailure):
        return exc
    text = cloud_message(exc) if message is None else message
    return TransientFailure(text) if is_transient(exc) else ResourceFailure(text)


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
    status = http_status(exc)
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
    hiccups = 0
    while True:
        try:
            obj = await ctx.call(read)
        except Exception as exc:
            if is_not_found(exc):
                if gone_ok:
                    return None
                raise ResourceFailure(f"The {what} disappeared while being created") from None
            hiccups += 1
            if not is_transient(exc) or hiccups > WAIT_HICCUPS:
                raise failure(exc) from None
            obj = None
        status = ""
        if obj is not None:
            hiccups = 0
            status = str((status_of(obj) if status_of else getattr(obj, "status", None))
                         or "").upper()
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
        raise failure(exc) from None
    return True


# -- per-cloud caches ----------------------------------------------------------------------------

#: seconds a name -> id answer (image, flavor, network ...) is reused
LOOKUP_TTL = 60.0
#: seconds a listing made for observation is shared with other types observing at once
LISTING_TTL = 2.0


class _CloudCache:
    """What one connection remembers: name -> id answers, and recent listings."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: dict[tuple[str, str], tuple[float, str]] = {}
        self.listings: dict[tuple[Any, ...], tuple[asyncio.AbstractEventLoop, float,
                                                   asyncio.Future[list[Any]]]] = {}


_CACHES: weakref.WeakKeyDictionary[Any, _CloudCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _cache(ctx: ResourceContext) -> _CloudCache:
    conn = connection(ctx)
    with _CACHES_LOCK:
        found = _CACHES.get(conn)
        if found is None:
            found = _CACHES[conn] = _CloudCache()
        return found


async def cached_id(ctx: ResourceContext, kind: str, ref: str,
                    find: Callable[[], Any]) -> str | None:
    """The id of the ``kind`` (``image``, ``flavor`` ...) named or identified by ``ref``:
    ``find()`` (a blocking SDK finder returning the object or None) asked once per cloud
    within :data:`LOOKUP_TTL`, so 200 servers booting one image ask Glance once. "Not found"
    is never cached (it may be created meanwhile)."""
    cache = _cache(ctx)
    key = (kind, ref)
    now = time.monotonic()
    with cache.lock:
        hit = cache.ids.get(key)
    if hit is not None and now - hit[0] < LOOKUP_TTL:
        return hit[1]
    found = await sdk(ctx, find)
    if found is None:
        return None
    ident = str(found.id)
    with cache.lock:
        cache.ids[key] = (time.monotonic(), ident)
    return ident


async def shared_listing(ctx: ResourceContext, key: tuple[Any, ...],
                         fetch: Callable[[], list[Any]]) -> list[Any]:
    """``fetch()`` (a blocking SDK listing), shared by the callers asking for the same
    ``key`` on this cloud at once or within :data:`LISTING_TTL`: observing volumes and their
    attachments lists the stack's volumes once. For observation only (``read_many``)."""
    cache = _cache(ctx)
    loop = asyncio.get_running_loop()
    now = time.monotonic()
    with cache.lock:
        for old in [k for k, (lp, at, fut) in cache.listings.items()
                    if fut.done() and now - at >= LISTING_TTL]:
            del cache.listings[old]
        hit = cache.listings.get(key)
        if hit is not None and hit[0] is loop:
            future = hit[2]
            mine = False
        else:
            future = loop.create_future()
            cache.listings[key] = (loop, now, future)
            mine = True
    if not mine:
        return list(await asyncio.shield(future))
    try:
        result = list(await sdk(ctx, fetch))
    except BaseException as exc:
        with cache.lock:
            cache.listings.pop(key, None)
        future.set_exception(exc)
        future.exception()          # retrieved: no "never retrieved" warning
        raise
    with cache.lock:
        cache.listings[key] = (loop, time.monotonic(), future)
    future.set_result(result)
    return result


def by_stack(items: Sequence[tuple[ResourceContext, dict[str, Any]]]
             ) -> dict[str, list[tuple[ResourceContext, dict[str, Any]]]]:
    """``read_many``'s items grouped by stack id."""
    stacks: dict[str, list[tuple[ResourceContext, dict[str, Any]]]] = {}
    for ctx, props in items:
        stacks.setdefault(ctx.stack_id, []).append((ctx, props))
    return stacks


#: the tag keys kubeheat writes (hidden from the user's metadata)
TAG_KEYS = frozenset({TAG_STACK_ID, TAG_RESOURCE})


def custom(name: str) -> CustomConstraintRef:
    """A property constraint naming a custom constraint (``nova.flavor``, ...)."""
    return CustomConstraintRef(constraint=name)


def allowed(*values: str) -> AllowedValuesConstraint:
    return AllowedValuesConstraint(allowed=values)


def meta_value(value: Any) -> str:
    """Heat's ``meta_serialize``: non-string metadata values become JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def user_metadata(meta: Mapping[str, Any] | None) -> dict[str, Any]:
    """Metadata without kubeheat's tags."""
    return {k: v for k, v in (meta or {}).items() if k not in TAG_KEYS}


async def replace_metadata(ctx: ResourceContext, ident: str, current: Mapping[str, Any] | None,
                           wanted: Mapping[str, Any] | None, delete: Callable[..., Any],
                           set_: Callable[..., Any]) -> None:
    """Make an object's metadata the template's ``wanted`` (values as :func:`meta_value`) plus
    this resource's tags: ``delete(ident, keys)`` the keys of ``current`` no longer wanted,
    then ``set_(ident, **metadata)`` (Nova server and Cinder volume metadata)."""
    values = {k: meta_value(v) for k, v in (wanted or {}).items()}
    stale = [k for k in user_metadata(current) if k not in values]
    if stale:
        await sdk(ctx, delete, ident, stale)
    await sdk(ctx, set_, ident, **{**values, **tag_metadata(ctx)})


async def get_or_none(ctx: ResourceContext, fn: Callable[..., Any], *args: Any,
                      wrap_errors: bool = False, **kwargs: Any) -> Any | None:
    """A blocking SDK getter run off the loop; None when the cloud says it does not exist.
    Other errors are raised as they are, or with ``wrap_errors`` as :func:`failure` (the
    cloud's message)."""
    try:
        return await ctx.call(fn, *args, **kwargs)
    except Exception as exc:
        if is_not_found(exc):
            return None
        if wrap_errors:
            raise failure(exc) from None
        raise


# -- the base of the OpenStack types -------------------------------------------------------------


class OpenStackResource(ResourcePlugin):
    """Base of the OpenStack types: one object of one openstacksdk proxy, reached by the SDK's
    naming of its calls (``get_<entity>``, ``delete_<entity>``, the ``<listing>``).

    The default handlers: :meth:`read` gets the object (gone: None) and reports what
    :meth:`_observation` makes of it; :meth:`delete` deletes it (already gone is success);
    :meth:`find_existing`, for a ``tagged`` type, lists the objects carrying this resource's
    tags (:meth:`_candidates`) and adopts the first one :meth:`_adoptable` accepts and no
    replacement excludes (:meth:`_adopt`), else what :meth:`_untagged` finds.
    """

    #: the openstacksdk proxy the type's calls go through (``network``, ``compute`` ...)
    proxy: ClassVar[str] = ""
    #: openstacksdk's name of the object in its calls (``get_<entity>``, ``delete_<entity>``)
    entity: ClassVar[str] = ""
    #: openstacksdk's listing of the objects (``networks``, ``servers`` ...); empty: none
    listing: ClassVar[str] = ""
    #: the object carries this resource's tags (as tags, metadata or properties), by which
    #: :meth:`find_existing` finds it after a crash
    tagged: ClassVar[bool] = False
    #: a read failing otherwise than "not found" fails with the cloud's message
    #: (:func:`failure`) instead of raising the SDK's error
    wrap_read_errors: ClassVar[bool] = False
    #: the longest generated name (:meth:`_name`) the cloud accepts
    name_length: ClassVar[int] = 255

    # -- SDK plumbing ------------------------------------------------------------------------
    def _proxy(self, ctx: ResourceContext) -> Any:
        """The openstacksdk proxy of the stack's cloud the type's calls go through."""
        return getattr(connection(ctx), self.proxy)

    def _call(self, ctx: ResourceContext, verb: str) -> Callable[..., Any]:
        """The SDK call ``<verb>_<entity>`` (``get_network``, ``delete_server`` ...)."""
        fn: Callable[..., Any] = getattr(self._proxy(ctx), f"{verb}_{self.entity}")
        return fn

    async def _fetch(self, ctx: ResourceContext) -> Any | None:
        """The object, or None when it is gone (or was never made)."""
        if ctx.physical_id is None:
            return None
        return await get_or_none(ctx, self._call(ctx, "get"), ctx.physical_id,
                                 wrap_errors=self.wrap_read_errors)

    async def _list(self, ctx: ResourceContext, **query: Any) -> list[Any]:
        """The type's listing filtered by ``query``."""
        lister = getattr(self._proxy(ctx), self.listing)
        found: list[Any] = await sdk(ctx, lambda: list(lister(**query)))
        return found

    def _name(self, ctx: ResourceContext, props: Mapping[str, Any]) -> str:
        """The object's name: the template's, else the one generated when it was made."""
        return str(props.get("name") or ctx.data.get("name")
                   or ctx.physical_name(self.name_length))

    # -- handlers ----------------------------------------------------------------------------
    async def read(self, ctx: ResourceContext, props: dict[str, Any]) -> Observed | None:
        obj = await self._fetch(ctx)
        return None if obj is None else await self._observation(ctx, props, obj)

    async def _observation(self, ctx: ResourceContext, props: Mapping[str, Any], obj: Any, *,
                           batch: bool = False) -> Observed | None:
        """What the cloud's ``obj`` says of the resource (None: as good as gone); ``batch``:
        ``obj`` comes from a listing (:meth:`ListedResource.read_many`)."""
        return Observed()

    async def delete(self, ctx: ResourceContext, props: dict[str, Any]) -> None:
        if ctx.physical_id is None:
            return
        await delete_quietly(ctx, self._call(ctx, "delete"), ctx.physical_id,
                             ignore_missing=False)

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        if not self.tagged:
            return None
        found = pick_existing((obj for obj in await self._candidates(ctx, props)
                               if self._adoptable(ctx, obj)), ctx)
        if found is None:
            found = await self._untagged(ctx, props)
        return None if found is None else await self._adopt(ctx, props, found)

    # -- adoption hooks ----------------------------------------------------------------------
    def _tag_filter(self, ctx: ResourceContext) -> dict[str, Any]:
        """The listing filter for this resource's tags."""
        return {"tags": ",".join(tag_list(ctx))}

    async def _candidates(self, ctx: ResourceContext, props: Mapping[str, Any]) -> list[Any]:
        """The objects that may be this resource's: the listing by its tags."""
        return await self._list(ctx, **self._tag_filter(ctx))

    def _adoptable(self, ctx: ResourceContext, obj: Any) -> bool:
        """Whether a candidate is this resource's object, alive."""
        return True

    async def _untagged(self, ctx: ResourceContext, props: Mapping[str, Any]) -> Any | None:
        """This resource's object made by a create interrupted before it was tagged."""
        return None

    async def _adopt(self, ctx: ResourceContext, props: Mapping[str, Any], obj: Any
                     ) -> Created:
        """The found object as the create's result."""
        return Created(str(obj.id))


class ListedResource(OpenStackResource):
    """An OpenStack type whose objects carry the stack's tag: :meth:`read_many` observes a
    stack's resources of the type from one listing (:meth:`_stack_listing`) instead of one
    read each."""

    batch_observe: ClassVar[bool] = True

    @classmethod
    async def read_many(cls, items: Sequence[tuple[ResourceContext, dict[str, Any]]]
                        ) -> dict[str, Observed | None]:
        """One listing per stack by its tag; what it does not show (untagged, or gone) is
        left to :meth:`read`."""
        out: dict[str, Observed | None] = {}
        if not (cls.tagged and cls.listing) or not items:
            return out
        plugin = cls()
        for group in by_stack(items).values():
            listed = {str(obj.id): obj for obj in await plugin._stack_listing(group[0][0])}
            for ctx, props in group:
                obj = listed.get(str(ctx.physical_id))
                if obj is not None:
                    out[str(ctx.physical_id)] = await plugin._observation(ctx, props, obj,
                                                                          batch=True)
        return out

    async def _stack_listing(self, ctx: ResourceContext) -> list[Any]:
        """The objects of ``ctx``'s stack (for :meth:`read_many`)."""
        return await self._list(ctx, tags=f"{TAG_STACK_ID}={ctx.stack_id}")


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

    def lookup(self, conn: Connection, value: str) -> bool:
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
            try:
                found = bool(self.lookup(as_connection(self.cloud), key))
            except Exception as exc:
                if not is_not_found(exc):
                    return
                found = False
            if found:
                with self._lock:
                    self._cache[key] = (now, found)
        if not found:
            raise self.fail(f"The {self.entity} ({key}) could not be found.")


class FinderConstraint(CloudConstraint):
    """A cloud constraint answered by an openstacksdk ``find_*`` call: ``finder`` names it as
    ``"<proxy>.<method>"`` (``"compute.find_flavor"``)."""

    finder: str = ""
    #: a name several objects carry counts as found (and is cached so); otherwise the value is
    #: left unchecked, as for any error but "not found"
    ambiguous_is_found: bool = False

    def lookup(self, conn: Connection, value: str) -> bool:
        from openstack import exceptions

        proxy, method = self.finder.split(".", 1)
        try:   # "not found" propagates: :meth:`CloudConstraint.check` says so
            found = getattr(getattr(conn, proxy), method)(value, ignore_missing=False)
        except exceptions.DuplicateResource:
            if self.ambiguous_is_found:
                return True          # it exists; which one is for the resource to say
            raise
        return found is not None


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
    from kubeheat.template import DEFAULT_CONSTRAINTS

    load_builtin_plugins()
    registry = (parent if parent is not None else DEFAULT_CONSTRAINTS).child()
    for cls in CLOUD_CONSTRAINTS:
        registry.register(cls(cloud), replace=True)
    return registry

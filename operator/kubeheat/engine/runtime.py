"""What the engine's collaborators share to call plugins: the :class:`ResourceContext` handed to
every handler, the concurrency limit, the bounded thread pool for blocking calls, and signals
and dynamic attributes (plugin calls made outside a resource action).

One :class:`Runtime` serves one engine; it reaches the engine only through the
:class:`~kubeheat.engine.nested.StackRunner` protocol (for the nested stacks a context offers).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from kubeheat.engine.model import (
    COMPLETE,
    REPLACED_SEP,
    SIGNAL,
    ResourceState,
    StackState,
    base_name,
)
from kubeheat.engine.nested import EngineNestedStacks, StackRunner
from kubeheat.engine.operation import Operation
from kubeheat.engine.plugins import Plugins
from kubeheat.engine.recorder import Recorder
from kubeheat.resources import NativeStore, ResourceContext, ResourceFailure, ResourcePlugin
from kubeheat.template import TemplateError

T = TypeVar("T")


class Runtime:
    """Contexts, limits, the thread pool and plugin calls for one engine."""

    def __init__(self, recorder: Recorder, plugins: Plugins, runner: StackRunner, *,
                 native: NativeStore, cloud: Any, concurrency: int, threads: int) -> None:
        self.recorder = recorder
        self.plugins = plugins
        self.runner = runner
        self.native = native
        self.cloud = cloud
        self._region_clouds: dict[str, Any] = {}
        self.concurrency = max(1, concurrency)
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads),
                                        thread_name_prefix="kubeheat-engine")
        self._sem: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        #: the stacks' project id (set by the engine once its definitions know it)
        self.project_id: Callable[[], str] = str

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._region_clouds:
            from kubeheat.cloud import CloudSession  # loaded only when regions were used

            if not isinstance(self.cloud, CloudSession):   # a session closes its own
                for other in self._region_clouds.values():
                    if other is not self.cloud:
                        other.close()

    # -- limits and blocking calls ----------------------------------------------------------
    def semaphore(self) -> asyncio.Semaphore:
        """The engine's concurrency limit (one per event loop)."""
        loop = asyncio.get_running_loop()
        if self._sem is None or self._sem[0] is not loop:
            self._sem = (loop, asyncio.Semaphore(self.concurrency))
        return self._sem[1]

    def limit(self, plugin: ResourcePlugin) -> contextlib.AbstractAsyncContextManager[Any]:
        """``async with`` it to hold a slot of the concurrency limit while acting on a
        resource of ``plugin``'s type; types that run nested stacks take none (their children
        need the slots)."""
        if plugin.runs_nested_stacks:
            return _NO_LIMIT
        return self.semaphore()

    async def run_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking call in the engine's bounded thread pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    # -- contexts ---------------------------------------------------------------------------
    def cloud_for(self, state: StackState) -> Any:
        """The cloud connection the resources of ``state`` use: the engine's, or the one of
        the stack's region (a remote stack's), made once per region."""
        region = state.region
        if region is None or self.cloud is None:
            return self.cloud
        found = self._region_clouds.get(region)
        if found is None:
            from kubeheat.cloud import region_cloud  # openstacksdk: loaded when needed

            found = self._region_clouds[region] = region_cloud(self.cloud, region)
        return found

    def context(self, state: StackState, key: str, rec: ResourceState, op: Operation | None, *,
                metadata: dict[str, Any] | None = None,
                update_policy: dict[str, Any] | None = None,
                deletion_policy: str | None = None) -> ResourceContext:
        """What a handler is given about resource entry ``key`` of ``state``."""
        name = base_name(key)
        return ResourceContext(
            stack_id=state.id, stack_name=state.name, name=name, type=rec.type,
            physical_id=rec.physical_id, data=rec.data,
            metadata=metadata if metadata is not None else rec.metadata,
            update_policy=update_policy or {},
            deletion_policy=deletion_policy or rec.deletion_policy,
            deadline=op.deadline if op is not None else None, native=self.native,
            nested=EngineNestedStacks(self.runner, self.recorder, state, key, op),
            cloud=self.cloud_for(state), run_sync=self.run_sync,
            exclude_ids=op.exclude_ids(name) if op is not None else frozenset(),
            signal_resource=functools.partial(self.signal_resource, state, op),
            project_of=self.project_id)

    def plugin_of(self, rec: ResourceState, op: Operation | None) -> ResourcePlugin:
        """The plugin of a recorded resource (the operation's choice while it runs)."""
        if op is None:
            return self.plugins.of_record(rec)
        return self.plugins.of_record(rec, op.definition, op.plugins)

    # -- plugin calls outside actions -------------------------------------------------------
    async def deliver_signal(self, state: StackState, key: str, rec: ResourceState,
                             op: Operation | None, details: Any) -> dict[str, Any] | None:
        """Signal one resource of a live stack state: its plugin's data and attributes are
        updated in ``state``, saved, and the signal event is emitted. Returns the data the
        plugin returned."""
        plugin = self.plugin_of(rec, op)
        name = base_name(key)
        if not plugin.signalable:
            raise ResourceFailure(f"Signal resource during {name} is not supported")
        ctx = self.context(state, key, rec, op)
        data = await plugin.signal(ctx, rec.properties, details)
        if data is not None:
            rec.data = data
            ctx.data = data
        if rec.physical_id is not None and rec.status == COMPLETE:
            attrs = await plugin.attribute_values(ctx, rec.properties)
            if attrs:
                rec.attributes = attrs
        self.recorder.save(state, key)
        text = "Signal: " + ("signal received" if details is None else _short(details))
        self.recorder.emit(state, key, rec, SIGNAL, COMPLETE, text)
        return data

    async def signal_resource(self, state: StackState, op: Operation | None, ref: str,
                              details: Any) -> dict[str, Any] | None:
        """``ResourceContext.signal_resource``: signal the resource of ``state`` whose logical
        name, reference id or physical id is ``ref``, on the same live state."""
        key: str | None = ref if ref in state.resources and REPLACED_SEP not in ref else None
        if key is None:
            for name, rec in state.resources.items():
                if REPLACED_SEP in name:
                    continue
                if ref == rec.physical_id or ref == rec.data.get("reference"):
                    key = name
                    break
        if key is None:
            raise LookupError(f"The Resource ({ref}) could not be found.")
        return await self.deliver_signal(state, key, state.resources[key], op, details)

    def dynamic_attribute(self, state: StackState, name: str, rec: ResourceState,
                          op: Operation | None, plugin: ResourcePlugin, attribute: str,
                          path: Sequence[Any]) -> Any:
        """``get_attr`` answered by a plugin with dynamic attributes; its failures become
        template errors (the resolving property or output fails, not the engine)."""
        ctx = self.context(state, name, rec, op)
        try:
            return plugin.get_attribute(ctx, rec.properties, attribute, list(path or ()))
        except (TemplateError, ResourceFailure) as exc:
            text = str(exc)
            if isinstance(exc, TemplateError) and (
                    exc.code != "InvalidTemplateAttribute"
                    or not text.startswith(_INVALID_ATTRIBUTE)):
                raise
            if text.startswith(_INVALID_ATTRIBUTE):
                # as Heat: an attribute that failed as invalid anywhere below (a member's, a
                # nested stack's) is this resource's attribute, path included, that is invalid
                key = repr((attribute, *path)) if path else attribute
                text = f"{_INVALID_ATTRIBUTE}{base_name(name)} {key}) is incorrect."
            raise TemplateError(text, code="InvalidTemplateAttribute") from None
        except Exception as exc:
            raise TemplateError(f"{type(exc).__name__}: attribute {attribute} of {name}: "
                                f"{exc}") from None


    def all_dynamic_attributes(self, state: StackState, name: str, rec: ResourceState,
                               op: Operation | None, plugin: ResourcePlugin) -> dict[str, Any]:
        """``get_attr: [name]`` of a type with dynamic attributes: each of its attribute
        names but ``show`` asked without a path; those that fail are left out (as Heat
        leaves out what it could not compute, e.g. a group's ``attributes``)."""
        ctx = self.context(state, name, rec, op)
        out: dict[str, Any] = {}
        for key in plugin.attribute_names(ctx, rec.properties):
            if key == "show":
                continue
            try:
                out[key] = plugin.get_attribute(ctx, rec.properties, key, [])
            except (TemplateError, ResourceFailure):
                continue
        return out


#: how Heat's InvalidTemplateAttribute message begins
_INVALID_ATTRIBUTE = "The Referenced Attribute ("


class _NoLimit(contextlib.AbstractAsyncContextManager[None]):
    async def __aexit__(self, *exc: object) -> None:
        return None


_NO_LIMIT = _NoLimit()


def _short(value: Any, limit: int = 200) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."


__all__ = ["Runtime"]

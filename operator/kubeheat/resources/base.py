"""The resource plugin model: schema-first resource types and what the engine hands them.

A resource type is a subclass of :class:`ResourcePlugin` that declares its ``properties``
(:class:`Property`: type, required, default, constraints, whether an update may change it in
place), its ``attributes`` (:class:`Attribute`) and implements async handlers. The engine calls
the handlers with a :class:`ResourceContext` (who the resource is, where its private data lives,
how to run blocking calls, nested stacks, the backing store of Heat's native types) and with
property values already resolved and checked against the schema.

Handlers (all ``async``):

- :meth:`ResourcePlugin.create` makes the resource and returns its physical id; the engine
  records it at once. :meth:`check_create_complete` is then polled until True (async clouds).
- :meth:`read` returns the :class:`Observed` state, or None when the resource is gone.
- :meth:`update` changes in-place-updatable properties; a change to any other property makes the
  planner replace the resource instead.
- :meth:`delete` removes it; gone already is success.
- :meth:`find_existing` finds a resource this stack created before a crash (by the tags in
  :attr:`ResourceContext.tags`) so the engine adopts it instead of creating a duplicate.
- :meth:`attribute_values` computes attribute values (cached in the state); :meth:`signal`
  takes a signal.
- :meth:`get_attribute` (optional, for types with ``dynamic_attributes``) answers one
  ``get_attr`` with its whole path, for attributes whose value depends on the path or whose
  names are not all declared (groups, nested stacks).

A handler may deliver a signal to another resource of its stack through
:attr:`ResourceContext.signal_resource` (ScalingPolicy adjusting its group).

Optional class-level hooks (all additive; the defaults change nothing):

- :meth:`ResourcePlugin.implicit_dependencies` (Heat's ``add_dependencies``, with
  :attr:`ResourcePlugin.adds_dependencies`): resources of the
  stack this one must wait for although the template does not refer to them, found on the
  *unresolved* property trees of the whole stack (:class:`DependencyView`) before anything is
  created. The engine adds these edges to the template's graph (an edge that would close a
  cycle is skipped, as Heat skips it); they order create, update and delete.
- :attr:`ResourcePlugin.live_attributes`: the type's attribute values can change after its
  own create/update (another resource of the stack, or the cloud, changes them: a network's
  ``subnets``, a floating IP's ``port_id``). The engine re-reads them
  (:meth:`ResourcePlugin.attribute_values`) before a later ``get_attr`` on them and before
  computing outputs, when they may have changed.
- :meth:`ResourcePlugin.read_many` (with :attr:`ResourcePlugin.batch_observe`): observe many
  resources of one type at once (one listing filtered by the stack's tag instead of one read
  per resource), used by ``check`` and ``plan(observe=True)``.

Plugins never see the template, the state store or the event sink.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

from kubeheat.template import Constraint

T = TypeVar("T")

#: Property value types (Heat's schema types).
STRING, INTEGER, NUMBER, BOOLEAN, LIST, MAP, ANY = (
    "string", "integer", "number", "boolean", "list", "map", "any")
PROPERTY_TYPES = frozenset({STRING, INTEGER, NUMBER, BOOLEAN, LIST, MAP, ANY})

#: Support statuses of a property (Heat's ``SupportStatus``): a DEPRECATED one is listed and
#: warned about, a HIDDEN one is accepted (and warned about) but never listed.
SUPPORTED, DEPRECATED, HIDDEN = "SUPPORTED", "DEPRECATED", "HIDDEN"

#: Tag keys written on everything the engine creates (crash safety: find_existing).
TAG_STACK_ID = "kubeheat-stack-id"
TAG_RESOURCE = "kubeheat-resource"


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


@dataclass(frozen=True)
class Property:
    """One property of a resource type.

    ``schema`` describes the keys of a ``map`` property (or of each item of a ``list`` whose
    ``item`` is a map), ``item`` the items of a ``list``. ``update_allowed`` says an update may
    change it in place; otherwise a change replaces the resource. ``immutable`` properties may
    never change (the update fails).

    ``support`` is the property's support status; ``replaced_by`` names the sibling property
    whose value this old name gives (Heat's REPLACE translation rule, see
    :mod:`kubeheat.resources.translation`), ``support_message`` what ``validate`` says about a
    deprecated or hidden property without a replacement.
    """

    type: str
    description: str = ""
    required: bool = False
    default: Any = NO_DEFAULT
    update_allowed: bool = False
    immutable: bool = False
    constraints: tuple[Constraint, ...] = ()
    schema: Mapping[str, Property] | None = None
    item: Property | None = None
    support: str = SUPPORTED
    replaced_by: str | None = None
    support_message: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The schema as ``resource-types show`` prints it (Heat's property schema shape)."""
        out: dict[str, Any] = {"type": self.type, "description": self.description,
                               "required": self.required,
                               "update_allowed": self.update_allowed,
                               "immutable": self.immutable}
        if self.default is not NO_DEFAULT:
            out["default"] = self.default
        if self.constraints:
            out["constraints"] = [c.as_dict() for c in self.constraints]
        if self.schema is not None:
            out["schema"] = {k: v.as_dict() for k, v in self.schema.items()
                             if v.support != HIDDEN}
        if self.item is not None:
            out["schema"] = {"*": self.item.as_dict()}
        return out


@dataclass(frozen=True)
class Attribute:
    """One attribute a resource exposes to ``get_attr``."""

    description: str
    type: str = ANY

    def as_dict(self) -> dict[str, Any]:
        return {"description": self.description, "type": self.type}


@dataclass
class Observed:
    """What :meth:`ResourcePlugin.read` saw in the cloud: the properties it can observe (only
    those keys are compared for drift) and fresh attribute values."""

    properties: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    status: str = "OK"          # the cloud's own status word, for display
    failed: str | None = None   # a fault message when the cloud reports the resource failed


@dataclass
class Created:
    """Result of :meth:`ResourcePlugin.create` and :meth:`ResourcePlugin.find_existing`."""

    physical_id: str
    data: dict[str, Any] = field(default_factory=dict)


class ResourceFailure(Exception):
    """A handler's way of failing the resource with a message shown to users
    (``CREATE_FAILED: <message>``). Any other exception is reported with its type name."""


class TransientFailure(ResourceFailure):
    """A failure the cloud may not repeat: it answered 5xx or 429 (after the session's own
    retries), or did not answer at all. The call may or may not have taken effect (a POST
    answered 500 may have created its object), so the engine does not fail the resource at
    once: a create looks for the object by its tags (:meth:`ResourcePlugin.find_existing`)
    and adopts it, or creates again; an update or delete is tried again. Attempts are bounded
    in number and by the stack's timeout."""


class NestedStackResult(Protocol):
    """A nested stack as the parent's plugin sees it after an operation."""

    stack_id: str
    stack_name: str
    status: str            # e.g. CREATE_COMPLETE
    status_reason: str
    outputs: dict[str, Any]
    #: output name -> error of the outputs that failed (their value in ``outputs`` is None)
    output_errors: dict[str, str]

    def resource_ids(self) -> dict[str, str | None]:
        """Logical name -> physical id of the nested stack's resources."""

    def resource_attribute(self, name: str, attribute: str | None, path: Sequence[Any]) -> Any:
        """An attribute of one of the nested stack's resources."""

    def resource_reference(self, name: str) -> Any:
        """What ``get_resource`` of one of the nested stack's resources gives (None when
        there is no such resource)."""


class NestedStacks(Protocol):
    """How a plugin (OS::Heat::Stack, provider templates, ResourceGroup, AutoScalingGroup ...)
    runs child stacks with the same engine, state store and event sink as its parent."""

    async def create_or_update(self, child_id: str, template: Mapping[str, Any],
                               parameters: Mapping[str, Any], *,
                               files: Mapping[str, str] | None = None,
                               timeout: float | None = None,
                               environment: Mapping[str, Any] | None = None,
                               facade: Mapping[str, Any] | None = None,
                               region: str | None = None) -> NestedStackResult:
        """Create the child stack ``child_id`` (unique within the parent resource), or update
        it to ``template``/``parameters`` when it exists. ``files`` default to the parent's,
        ``environment`` to the parent's without its parameters; ``facade`` is what
        ``resource_facade`` gives in the child (the parent resource's ``metadata``,
        ``update_policy`` and ``deletion_policy``); ``region`` the cloud region its
        resources are made in (default: the parent's). Raises ResourceFailure when the child
        ends FAILED (after its own rollback, if any)."""

    def reserve(self, child_id: str, resources: int) -> None:
        """Raise ``TemplateLimitError`` when the child stack ``child_id`` may not hold
        ``resources`` resources (Heat's ``max_resources_per_stack`` over the whole tree of
        nested stacks); the group types call it before they build the child's template."""

    async def delete(self, child_id: str) -> None:
        """Delete the child stack and all its resources; absent is success."""

    def file(self, name: str) -> str | None:
        """The text the parent stack's files map holds under ``name`` (None: none)."""

    def get(self, child_id: str) -> NestedStackResult | None:
        """The child's last recorded result, without touching anything."""

    async def signal(self, child_id: str, resource: str, details: Any) -> None:
        """Deliver a signal to a resource of a child stack."""


#: Heat's longest physical resource name (``Resource.physical_resource_name_limit``)
PHYSICAL_NAME_LIMIT = 255


def short_id(source: str | None = None) -> str:
    """Twelve characters of base32 (``[a-z2-7]``), Heat's short id: from the uuid ``source``
    (the same uuid always gives the same id), or from a new random uuid."""
    bits = (uuid.UUID(source) if source is not None else uuid.uuid4()).time  # 60 bits
    return base64.b32encode((bits << 4).to_bytes(8, "big")).decode("ascii")[:12].lower()


def heat_physical_name(stack_name: str, name: str, short: str,
                       limit: int = PHYSICAL_NAME_LIMIT) -> str:
    """Heat's ``<stack>-<resource>-<short id>``; longer than ``limit``, it keeps the first two
    characters, a hyphen and the end of the name (so the short id survives)."""
    full = f"{stack_name}-{name}-{short}"
    if len(full) <= limit:
        return full
    return f"{full[:2]}-{full[len(full) - (limit - 3):]}"


class NativeStore(Protocol):
    """Where Heat's own resource types keep their "physical" objects: a tiny cloud of records,
    tagged like cloud resources so crash recovery works the same way. Implementations: in
    memory, and a JSON file next to the CLI's state file."""

    def put(self, kind: str, tags: Mapping[str, str], data: Mapping[str, Any],
            record_id: str | None = None) -> str:
        """Store a new record under ``record_id`` (default: a new uuid); returns its id."""

    def get(self, kind: str, record_id: str) -> dict[str, Any] | None:
        """The record's data, or None when it is gone."""

    def update(self, kind: str, record_id: str, data: Mapping[str, Any]) -> None:
        """Replace the record's data (missing: KeyError)."""

    def delete(self, kind: str, record_id: str) -> bool:
        """Remove the record; False when it was already gone."""

    def find(self, kind: str, tags: Mapping[str, str]) -> list[str]:
        """Ids of records of ``kind`` carrying all of ``tags``."""


SignalResource = Callable[[str, Any], Awaitable[dict[str, Any] | None]]
"""``ResourceContext.signal_resource``: ``(ref, details) -> the data the target returned``."""


@dataclass
class ResourceContext:
    """What a handler knows about the resource it acts on."""

    stack_id: str
    stack_name: str
    name: str                       # the logical name
    type: str
    physical_id: str | None = None
    #: plugin-private data persisted with the resource (returned by create/update/signal)
    data: dict[str, Any] = field(default_factory=dict)
    #: the resource's metadata section, resolved
    metadata: dict[str, Any] = field(default_factory=dict)
    update_policy: dict[str, Any] = field(default_factory=dict)
    #: the resource's deletion_policy (Delete, Retain or Snapshot)
    deletion_policy: str = "Delete"
    #: monotonic time by which the stack operation must end (None: no timeout)
    deadline: float | None = None
    native: NativeStore | None = None
    nested: NestedStacks | None = None
    #: the cloud connection (an openstack.connection.Connection) when the stack has one
    cloud: Any = None
    #: run a blocking call in the engine's bounded thread pool
    run_sync: Callable[..., Awaitable[Any]] | None = None
    #: physical ids that :meth:`ResourcePlugin.find_existing` must not return: resources of the
    #: same logical name already recorded (the one this resource replaces), which carry the
    #: same tags
    exclude_ids: frozenset[str] = frozenset()
    #: deliver a signal to another resource of the same stack, set by the engine:
    #: ``await ctx.signal_resource(ref, details)`` finds the resource whose reference id
    #: (``get_resource``), physical id or logical name is ``ref``, calls its plugin's
    #: :meth:`ResourcePlugin.signal`, records the data it returns (and the attributes
    #: recomputed from it) on the live stack state, saves it, emits the signal event and
    #: returns that data. Raises LookupError when no resource matches. None: the engine
    #: cannot (a plugin tested on its own).
    signal_resource: SignalResource | None = None
    #: the project (tenant) the stack lives in, as Heat's ARNs name it (asked only when
    #: needed: a cloud may have to be asked; empty: not known)
    project_of: Callable[[], str] = str

    @property
    def project_id(self) -> str:
        """The stack's project id (see ``project_of``)."""
        return self.project_of()

    @property
    def tags(self) -> dict[str, str]:
        """Tags that identify this resource in the cloud after a crash."""
        return {TAG_STACK_ID: self.stack_id, TAG_RESOURCE: self.name}

    def physical_name(self, max_length: int | None = None) -> str:
        """A name for the cloud resource like Heat's ``<stack>-<resource>-<short id>``, the
        short id taken from the physical id (else the stack id), shortened as Heat does when
        longer than ``max_length`` (default: Heat's limit, 255)."""
        source = self.physical_id or self.stack_id
        try:
            short = short_id(source)
        except ValueError:  # not a uuid
            short = source.replace("-", "")[:12]
        return heat_physical_name(self.stack_name, self.name, short,
                                  PHYSICAL_NAME_LIMIT if max_length is None else max_length)

    def remaining(self) -> float | None:
        """Seconds left before the stack timeout; None when unbounded."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking (SDK) call off the event loop."""
        if self.run_sync is not None:
            result: T = await self.run_sync(fn, *args, **kwargs)
            return result
        return await asyncio.to_thread(fn, *args, **kwargs)


class ResourcePlugin:
    """Base class of every resource type; subclasses are found through the registry."""

    type_name: ClassVar[str]
    description: ClassVar[str] = ""
    properties: ClassVar[Mapping[str, Property]] = {}
    attributes: ClassVar[Mapping[str, Attribute]] = {}
    # -- capabilities: every switch the engine reads, each off by default --------------------
    #: replacement may create the new resource before deleting the old one
    can_coexist: ClassVar[bool] = True
    #: deletion_policy Snapshot calls :meth:`snapshot` before delete (else it keeps the
    #: resource, as Retain)
    supports_snapshot: ClassVar[bool] = False
    #: the type takes signals (:meth:`signal`: WaitConditionHandle, ScalingPolicy ...); the
    #: engine refuses a signal to any other type without calling it
    signalable: ClassVar[bool] = False
    #: every property change is an in-place update (:meth:`needs_replacement` decides alone)
    update_all_in_place: ClassVar[bool] = False
    #: the handlers run child stacks through :attr:`ResourceContext.nested` and wait for their
    #: resources (ResourceGroup, ResourceChain, AutoScalingGroup, OS::Heat::Stack, provider
    #: templates): the engine never holds a concurrency slot for such a resource (its
    #: children need the slots), and its create records the children itself
    runs_nested_stacks: ClassVar[bool] = False
    #: the resource is never updated: new property values are recorded and nothing is called
    #: (``OS::Heat::None``)
    never_updates: ClassVar[bool] = False
    #: any properties are accepted as given, with no schema check (``OS::Heat::None``,
    #: provider templates)
    accepts_any_properties: ClassVar[bool] = False
    #: ``get_attr`` on this type is answered by :meth:`get_attribute` (with the whole path),
    #: not from the cached :meth:`attribute_values`; names outside ``attributes`` are not
    #: refused at validation time (the type decides when asked)
    dynamic_attributes: ClassVar[bool] = False
    #: the type has Heat's ``show`` attribute (the engine gives it from the cached values);
    #: when not, ``show`` goes to :meth:`get_attribute` like any name of a dynamic type
    has_show: ClassVar[bool] = True
    #: any attribute name is accepted and answered from the cache (None when absent), as
    #: ``OS::Heat::None`` does
    any_attribute: ClassVar[bool] = False
    #: the ``show`` attribute is None, as Heat gives it for its own types that have no API
    #: object to show (None, Value, TestResource, RandomString, Delay, WaitConditionHandle);
    #: else it is the physical id and the attribute values
    show_is_none: ClassVar[bool] = False
    #: the attribute values can change after the resource's own create/update (other
    #: resources of the stack, or the cloud, change them): the engine re-reads them with
    #: :meth:`attribute_values` (one call per resource) before a later ``get_attr`` on them
    #: when a resource depending on this one acted since they were read, and before computing
    #: outputs. Heat reads attributes live; False (Heat's own types) costs nothing.
    live_attributes: ClassVar[bool] = False
    #: the type shows its own ``deletion_policy`` (a provider template's ``resource_facade``):
    #: a change of the policy alone is an update, so the nested stack sees the new one
    sees_deletion_policy: ClassVar[bool] = False
    #: :meth:`read_many` observes many resources of the type at once (the engine calls it
    #: only when this is set)
    batch_observe: ClassVar[bool] = False
    #: :meth:`implicit_dependencies` adds edges to the dependency graph (the engine calls it
    #: only when this is set)
    adds_dependencies: ClassVar[bool] = False
    #: the ``update_policy`` keys the type takes, each with its schema (Heat's
    #: ``update_policy_schema``); a type without any refuses every key at validation
    update_policy_schema: ClassVar[Mapping[str, Mapping[str, Property]]] = {}

    @classmethod
    def takes_over(cls, old_type: str, old_nested: Mapping[str, str]) -> bool:
        """Whether a resource recorded as ``old_type`` (running the child stacks
        ``old_nested``) becomes this type by an update in place when the template changes its
        type; by default a type change replaces the resource, as in Heat."""
        return False

    # -- handlers ---------------------------------------------------------------------------
    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        raise NotImplementedError

    async def check_create_complete(self, ctx: ResourceContext, props: dict[str, Any]) -> bool:
        return True

    async def read(self, ctx: ResourceContext, props: dict[str, Any]) -> Observed | None:
        """Observed state; the default says the resource exists as last applied."""
        return Observed(properties={}, attributes={})

    async def preflight(self, ctx: ResourceContext, snippets: Mapping[str, Any],
                        path: Sequence[str | int]) -> None:
        """Optional: what Heat's validation checks against the cloud before a stack's create
        or update starts (no resource exists yet). ``snippets`` are the template's property
        values (functions unresolved), ``path`` the properties' location; raise a
        ``TemplateError`` located under it to refuse the request."""

    async def adopt_external(self, ctx: ResourceContext, props: dict[str, Any]
                             ) -> Observed | None:
        """The existing resource ``ctx.physical_id`` names (a template's ``external_id``),
        with its attributes; None when the cloud does not have it. ``props`` are the
        template's values, unchecked. Default: :meth:`read` and :meth:`attribute_values`."""
        found = await self.read(ctx, props)
        if found is None:
            return None
        return Observed(properties=found.properties, status=found.status, failed=found.failed,
                        attributes={**found.attributes,
                                    **(await self.attribute_values(ctx, props))})

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        """Apply in-place changes; may return new private data (else ctx.data is kept)."""
        return None

    async def delete(self, ctx: ResourceContext, props: dict[str, Any]) -> None:
        return None

    async def snapshot(self, ctx: ResourceContext, props: dict[str, Any]) -> dict[str, Any]:
        """Take a snapshot before delete (deletion_policy: Snapshot)."""
        raise NotImplementedError

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        """The resource this stack created before a crash, found by ``ctx.tags``."""
        return None

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        """Values of the declared attributes after create/update (cached in the state).
        ``show`` is added by the engine when the plugin does not give it."""
        return {}

    async def signal(self, ctx: ResourceContext, props: dict[str, Any], details: Any
                     ) -> dict[str, Any] | None:
        raise ResourceFailure(f"Signal resource during {ctx.name} is not supported")

    def get_attribute(self, ctx: ResourceContext, props: Mapping[str, Any], key: str,
                      path: Sequence[Any]) -> Any:
        """The value of ``get_attr: [<resource>, key, *path]``, the whole path applied
        (optional hook, called only for types declaring ``dynamic_attributes``).

        ``ctx`` carries the recorded physical id and data; child stacks are read through
        ``ctx.nested`` (this may run in a later process than the one that created the
        resource, so nothing may be kept in memory between calls). ``props`` are the applied
        properties. Runs on the event loop: it must not block. An unknown ``key`` raises
        :class:`ResourceFailure` with Heat's ``The Referenced Attribute (<name> <key>) is
        incorrect.``"""
        raise ResourceFailure(f"The Referenced Attribute ({ctx.name} {key}) is incorrect.")

    def attribute_names(self, ctx: ResourceContext, props: Mapping[str, Any]) -> list[str]:
        """The names ``get_attr: [<resource>]`` (all attributes) gives, for types declaring
        ``dynamic_attributes``: the declared ones (the engine leaves out those that fail
        without a path)."""
        return list(self.attributes)

    @classmethod
    async def read_many(cls, items: Sequence[tuple[ResourceContext, dict[str, Any]]]
                        ) -> dict[str, Observed | None]:
        """Observe many resources of this type at once (optional hook).

        ``items`` are ``(ctx, applied properties)`` of resources of this type with a physical
        id, all of one stack. Returns :class:`Observed` (or None: gone) keyed by **physical
        id**; a resource left out of the result is read on its own with :meth:`read` (do so
        for anything the batch could not see, e.g. an untagged ``external_id`` resource).
        OpenStack types list their objects once, filtered by the stack's tag
        (``kubeheat-stack-id=<stack id>``), instead of one GET per resource. Values that would
        need more calls per resource may be left out of ``Observed.attributes`` (the cached
        ones are kept). Called only when the type sets :attr:`batch_observe`."""
        return {}

    # -- planning hooks ---------------------------------------------------------------------
    @classmethod
    def implicit_dependencies(cls, name: str, properties: Mapping[str, Any],
                              stack: DependencyView) -> set[str]:
        """Resources of ``stack`` that resource ``name`` (of this type, with the unresolved
        ``properties``) must come after, beyond the template's own references (Heat's
        ``add_dependencies``). Called once per operation before anything is created; must not
        do I/O. Names that are not resources of the stack, or that would close a cycle, are
        ignored. Examples (Heat's rules): a Neutron port waits for the subnets of its network;
        a floating IP for the router interfaces on its port's subnets and for the routers
        whose gateway is its floating network; ``OS::Nova::Server`` should wait for the
        subnets of the networks in its ``networks`` property (``network`` of each item equal,
        by :meth:`DependencyView.same`, to a subnet's ``network``). Called only when the type
        sets :attr:`adds_dependencies`."""
        return set()

    @classmethod
    def check_values(cls, values: Mapping[str, Any]) -> tuple[str, str] | None:
        """A problem the schema alone cannot see, found once the checked ``values`` are known
        (``OS::Heat::Value`` checks ``value`` against its ``type``): ``(property, message)``,
        or None when the values are fine. Values still None are not known yet (placeholders
        at validation time). Must not do I/O."""
        return None

    def needs_replacement(self, old: Mapping[str, Any], new: Mapping[str, Any],
                          changed: frozenset[str]) -> frozenset[str]:
        """The changed properties that force replacement (default: those not
        ``update_allowed``)."""
        if self.update_all_in_place:
            return frozenset()
        return frozenset(n for n in changed
                         if n not in self.properties or not self.properties[n].update_allowed)

    # -- schema -----------------------------------------------------------------------------
    @classmethod
    def schema(cls) -> dict[str, Any]:
        """The type's schema as ``resource-types show`` prints it."""
        return {
            "resource_type": cls.type_name,
            "description": cls.description,
            "properties": {k: v.as_dict() for k, v in cls.properties.items()
                           if v.support != HIDDEN},
            "attributes": {k: v.as_dict() for k, v in cls.attributes.items()},
            "support_status": {"status": "SUPPORTED"},
        }


@dataclass(frozen=True)
class ResourceSnippet:
    """One resource of a stack as :meth:`ResourcePlugin.implicit_dependencies` sees it: its
    type and its property trees *unresolved* (intrinsic functions are still function nodes;
    compare them with :meth:`DependencyView.same`, follow references with
    :meth:`DependencyView.reference`)."""

    name: str
    #: the type the plugin implements (an environment alias is resolved to it)
    type: str
    properties: Mapping[str, Any]
    #: the resources the template itself makes it depend on (references and depends_on)
    dependencies: frozenset[str]


class DependencyView(Protocol):
    """The whole stack, for :meth:`ResourcePlugin.implicit_dependencies` (no I/O)."""

    @property
    def resources(self) -> Mapping[str, ResourceSnippet]:
        """Every resource of the stack by logical name."""

    def of_type(self, *types: str) -> list[ResourceSnippet]:
        """The resources implementing one of ``types`` (sorted by name)."""

    def reference(self, snippet: Any) -> str | None:
        """The logical name when ``snippet`` is exactly a reference to a resource of the stack
        (``get_resource: x`` / ``Ref: x``), else None."""

    def same(self, a: Any, b: Any) -> bool:
        """True when two unresolved values certainly name the same thing: references to the
        same resource, values that need no resource and are equal once evaluated (parameters
        included), or identical function trees. Unset values (None) are never the same."""


class PluginRegistry:
    """Resource types by name."""

    def __init__(self) -> None:
        self._types: dict[str, type[ResourcePlugin]] = {}

    def register(self, cls: type[ResourcePlugin]) -> type[ResourcePlugin]:
        if cls.type_name in self._types and self._types[cls.type_name] is not cls:
            raise ValueError(f"resource type {cls.type_name!r} is already registered")
        self._types[cls.type_name] = cls
        return cls

    def get(self, type_name: str) -> type[ResourcePlugin] | None:
        return self._types.get(type_name)

    def names(self) -> list[str]:
        return sorted(self._types)

    def __contains__(self, name: object) -> bool:
        return name in self._types


#: The registry every built-in plugin registers into (``@register`` decorator).
REGISTRY = PluginRegistry()


def register(cls: type[ResourcePlugin]) -> type[ResourcePlugin]:
    """Class decorator adding a plugin to :data:`REGISTRY`."""
    return REGISTRY.register(cls)


_LOADED = False


def load_builtin_plugins() -> PluginRegistry:
    """Import every plugin module (each registers itself) and return :data:`REGISTRY`."""
    global _LOADED
    if not _LOADED:
        import importlib
        import pkgutil
        from pathlib import Path

        package = __name__.rpartition(".")[0]        # kubeheat.resources, walked on disk
        for info in pkgutil.walk_packages([str(Path(__file__).parent)], package + "."):
            if info.name.rsplit(".", 1)[-1].startswith("_") or info.name.endswith(".base"):
                continue
            importlib.import_module(info.name)
        _LOADED = True
    return REGISTRY

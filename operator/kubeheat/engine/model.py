"""The stack and resource state model: Heat's actions and statuses, what the engine records of
each stack and resource, and the questions every layer asks of a recorded state.

A :class:`StackState` holds what the engine last applied: the template, parameters, environment
and files, and per resource a :class:`ResourceState` (physical id, applied properties, cached
attributes, plugin data, status). :class:`Action` and :class:`Status` are string enums whose
values are Heat's words (``CREATE``, ``IN_PROGRESS`` ...), so stored states, events and API
answers carry exactly those strings. Whether a resource's last action was interrupted (not
refused by the cloud) is the recorded flag :attr:`ResourceState.interrupted`, never read back
from the reason text; the predicates (:attr:`StackState.is_good`,
:attr:`ResourceState.create_unfinished` ...) are the one definition the engine, the controller
and the CLI use. The engine's :class:`~kubeheat.engine.recorder.Recorder` is the only writer of
actions and statuses.

Also here: the separator of the entries kept for replaced resources (``web~1``), and the small
value helpers the model is built with (ids, timestamps, copies of JSON-like data).
"""

from __future__ import annotations

import copy
import os
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    """What a stack or resource was last doing (Heat's actions; SIGNAL only in events)."""

    INIT = "INIT"
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    ROLLBACK = "ROLLBACK"
    CHECK = "CHECK"
    ADOPT = "ADOPT"
    SUSPEND = "SUSPEND"
    RESUME = "RESUME"
    SIGNAL = "SIGNAL"


class Status(StrEnum):
    """How that action stands."""

    IN_PROGRESS = "IN_PROGRESS"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"


INIT, CREATE, UPDATE, DELETE, ROLLBACK = (Action.INIT, Action.CREATE, Action.UPDATE,
                                          Action.DELETE, Action.ROLLBACK)
CHECK, ADOPT, SUSPEND, RESUME, SIGNAL = (Action.CHECK, Action.ADOPT, Action.SUSPEND,
                                         Action.RESUME, Action.SIGNAL)
ACTIONS = (INIT, CREATE, UPDATE, DELETE, ROLLBACK, CHECK, ADOPT, SUSPEND, RESUME)
IN_PROGRESS, COMPLETE, FAILED = Status.IN_PROGRESS, Status.COMPLETE, Status.FAILED
STATUSES = tuple(Status)

#: actions that leave a stack matching its last applied template once COMPLETE
_GOOD_ACTIONS = frozenset({CREATE, UPDATE, CHECK, ADOPT, RESUME})
#: a resource's action that may be finished after a crash (its object may exist)
_CREATING = frozenset({CREATE, ADOPT, INIT})

#: separator of the entries kept for replaced resources (``web~1``)
REPLACED_SEP = "~"


def base_name(key: str) -> str:
    """The logical name of a state entry (``web~2`` -> ``web``)."""
    return key.split(REPLACED_SEP, 1)[0]


def status_word(action: str, status: str) -> str:
    """``CREATE`` + ``COMPLETE`` -> ``CREATE_COMPLETE``."""
    return f"{action}_{status}"


def aborted_reason(action: str, detail: str = "") -> str:
    """The status reason of an action interrupted (cancelled, timed out, the stack failing
    elsewhere): ``<ACTION> aborted`` and what stopped it."""
    return f"{action} aborted" + (f" ({detail})" if detail else "")


# -- value helpers ------------------------------------------------------------------------------
_NOW: tuple[int, str] = (0, "")


def now() -> str:
    """UTC timestamp as Heat prints it (``2026-11-30T07:29:07Z``)."""
    global _NOW
    second = int(time.time())
    if _NOW[0] != second:
        _NOW = (second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second)))
    return _NOW[1]


_RNG = random.Random()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_RNG.seed)

_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)


def new_id() -> str:
    """A random (version 4) UUID as a string, several times cheaper than
    ``str(uuid.uuid4())``; from a private generator seeded from the OS, so seeding the global
    ``random`` cannot repeat ids. Not for secrets."""
    bits = (_RNG.getrandbits(128) & _UUID_CLEAR) | _UUID_SET
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_SCALARS = frozenset({str, int, float, bool, type(None), Action, Status})


def clone(value: Any) -> Any:
    """A deep copy of JSON-like data (dicts, lists, scalars), several times faster than
    ``copy.deepcopy``; anything else falls back to ``copy.deepcopy``."""
    kind = type(value)
    if kind is dict:
        if not value:
            return {}
        return {k: v if type(v) in _SCALARS else clone(v) for k, v in value.items()}
    if kind in _SCALARS:
        return value
    if kind is list:
        return [v if type(v) in _SCALARS else clone(v) for v in value]
    if kind is tuple:
        return tuple(clone(v) for v in value)
    return copy.deepcopy(value)


# -- the records ----------------------------------------------------------------------------
_RESOURCE_CONTAINERS = ("properties", "attributes", "data", "metadata", "requires", "nested",
                        "given")


@dataclass
class ResourceState:
    """What the engine recorded of one resource."""

    name: str
    type: str
    action: Action = INIT
    status: Status = COMPLETE
    status_reason: str = ""
    physical_id: str | None = None
    #: properties as last applied (resolved values)
    properties: dict[str, Any] = field(default_factory=dict)
    #: attribute values cached after the last create/update/read
    attributes: dict[str, Any] = field(default_factory=dict)
    #: plugin-private data
    data: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    #: resources this one depended on when applied (orders the delete of removed resources)
    requires: list[str] = field(default_factory=list)
    deletion_policy: str = "Delete"
    created_time: str | None = None
    updated_time: str | None = None
    #: a replaced resource waiting to be deleted keeps its entry under ``<name>~<n>``
    replaced_by: str | None = None
    #: unique id of this incarnation of the resource (a replacement gets a new one); names
    #: the child stacks a nested-stack resource runs, so a rerun after a crash finds them
    uid: str | None = None
    #: child stacks this resource runs (NestedStacks): child id -> stack id
    nested: dict[str, str] = field(default_factory=dict)
    #: the last action FAILED because it was interrupted (cancelled, timed out, the stack
    #: failing elsewhere), not because the cloud refused it
    interrupted: bool = False
    #: the template's ``external_id``: an existing physical resource adopted, never deleted
    external_id: str | None = None
    #: the definition last applied as Heat compares it on update (``decide.definition_of``:
    #: the properties as given, without defaults, depends_on, deletion_policy,
    #: update_policy, condition); None when recorded before kubeheat kept it
    given: dict[str, Any] | None = None

    @property
    def state(self) -> str:
        return status_word(self.action, self.status)

    @property
    def was_interrupted(self) -> bool:
        """The last action failed by interruption: the next operation carries it on."""
        return self.interrupted and self.status == FAILED

    @property
    def create_unfinished(self) -> bool:
        """A create that did not finish although its physical resource was recorded: the next
        operation finishes it (waits for it to be ready) instead of replacing it."""
        return self.physical_id is not None and self.action in _CREATING and (
            self.status == IN_PROGRESS or self.was_interrupted)

    @property
    def update_unfinished(self) -> bool:
        """An update that did not finish (in progress when the process stopped, or
        interrupted): the next operation applies it again."""
        return self.action == UPDATE and (self.status == IN_PROGRESS or self.was_interrupted)

    def to_dict(self) -> dict[str, Any]:
        values = dict(self.__dict__)
        for name in _RESOURCE_CONTAINERS:
            values[name] = clone(values[name])
        values["action"], values["status"] = str(self.action), str(self.status)
        return values

    def copy(self) -> ResourceState:
        out = object.__new__(ResourceState)
        values = dict(self.__dict__)
        for name in _RESOURCE_CONTAINERS:
            values[name] = clone(values[name])
        out.__dict__.update(values)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResourceState:
        values = {k: v for k, v in data.items() if k in _RESOURCE_FIELDS}
        action = values["action"] = Action(values.get("action", INIT))
        values["status"] = Status(values.get("status", COMPLETE))
        if "interrupted" not in values:
            # written before the flag existed: the reason said it
            values["interrupted"] = values["status"] == FAILED and str(
                values.get("status_reason") or "").startswith(aborted_reason(action))
        return cls(**values)


_RESOURCE_FIELDS = frozenset(ResourceState.__dataclass_fields__)


@dataclass
class StackState:
    """What the engine recorded of one stack."""

    id: str = field(default_factory=new_id)
    name: str = "stack"
    action: Action = INIT
    status: Status = COMPLETE
    status_reason: str = ""
    #: the applied template document, parameters (user-given values), environment and files
    #: (the documents are values: replaced as a whole, never changed in place)
    template: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    #: names of parameters whose values must never be shown (hidden)
    hidden: list[str] = field(default_factory=list)
    resources: dict[str, ResourceState] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    #: output errors (output name -> message), as Heat's output_error
    output_errors: dict[str, str] = field(default_factory=dict)
    created_time: str | None = None
    updated_time: str | None = None
    disable_rollback: bool = False
    timeout_minutes: float | None = None
    #: child stacks run by nested-stack resources: child stack id -> parent resource name
    parent: str | None = None
    #: the cloud region the stack's resources are made in (None: the cloud's own); a remote
    #: stack (``OS::Heat::Stack`` with ``context.region_name``) and the stacks below it
    region: str | None = None
    #: the previous applied template (what a rollback restores)
    previous: dict[str, Any] | None = None

    @property
    def state(self) -> str:
        return status_word(self.action, self.status)

    @property
    def create_unfinished(self) -> bool:
        """The stack's create has not completed (never run, interrupted or failed): applying
        it again resumes the create rather than updating."""
        return self.action in (INIT, CREATE) and self.status != COMPLETE

    @property
    def resumes_create(self) -> bool:
        """Applying a template to the stack goes on with its create (never run, or stopped
        while in progress); after a create that failed it is an update, as in Heat (the
        failed resources are replaced, the missing ones created)."""
        return self.action == INIT or (self.action == CREATE and self.status == IN_PROGRESS)

    @property
    def is_good(self) -> bool:
        """The stack matches its last applied template (create/update/check complete)."""
        return self.status == COMPLETE and self.action in _GOOD_ACTIONS

    @property
    def is_failed(self) -> bool:
        """The last operation failed (rolled back or not)."""
        return self.status == FAILED or self.action == ROLLBACK

    @property
    def is_settled(self) -> bool:
        """Nothing left to do for the same inputs (a drift check's result counts as
        settled)."""
        return self.is_good or (self.action == CHECK and self.status != IN_PROGRESS)

    @property
    def completed(self) -> bool:
        """The requested operation completed; a failure rolled back (``ROLLBACK_COMPLETE``)
        did not, as ``openstack stack create --wait`` reports it."""
        return self.status == COMPLETE and self.action != ROLLBACK

    def to_dict(self) -> dict[str, Any]:
        out = {k: clone(v) for k, v in self.__dict__.items() if k != "resources"}
        out["action"], out["status"] = str(self.action), str(self.status)
        out["resources"] = {k: v.to_dict() for k, v in self.resources.items()}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StackState:
        values = {k: v for k, v in data.items() if k in _STACK_FIELDS}
        values["action"] = Action(values.get("action", INIT))
        values["status"] = Status(values.get("status", COMPLETE))
        values["resources"] = {k: ResourceState.from_dict(v)
                               for k, v in (data.get("resources") or {}).items()}
        return cls(**values)

    def copy(self) -> StackState:
        """A copy that later changes to this state cannot reach. The applied documents
        (``template``, ``environment``, ``files``, ``previous``) are shared, not copied: they
        are values, replaced as a whole and never changed in place."""
        out = copy.copy(self)
        for name in ("parameters", "hidden", "outputs", "output_errors"):
            setattr(out, name, clone(getattr(self, name)))
        out.resources = {k: v.copy() for k, v in self.resources.items()}
        return out


_STACK_FIELDS = frozenset(StackState.__dataclass_fields__)


__all__ = [
    "ACTIONS",
    "ADOPT",
    "CHECK",
    "COMPLETE",
    "CREATE",
    "DELETE",
    "FAILED",
    "INIT",
    "IN_PROGRESS",
    "REPLACED_SEP",
    "RESUME",
    "ROLLBACK",
    "SIGNAL",
    "STATUSES",
    "SUSPEND",
    "UPDATE",
    "Action",
    "ResourceState",
    "StackState",
    "Status",
    "aborted_reason",
    "base_name",
    "clone",
    "new_id",
    "now",
    "status_word",
]

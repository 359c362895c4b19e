"""Writing a Stack's outputs into the Secret and/or ConfigMap named by ``spec.outputsTo``.

A Stack may only write an object that

- does not exist yet: it is created, controlled by the Stack (the garbage collector removes it
  with the Stack);
- is controlled by this Stack (an ownerReference with ``controller: true`` and its uid);
- carries the annotation ``kubeheat.io/outputs-from: <stack name>``, put there by whoever owns
  it to accept the outputs: its ``data`` becomes the outputs, and its type, metadata and owners
  stay as they are (the Stack does not take it over).

Anything else (another Stack's template or state, the namespace's credentials) is left untouched
and :class:`OutputsError` says why (reason ``OutputsTargetConflict``). The targets are checked
before the stack is applied, and both again before either is written, so a conflict writes
nothing, in the cloud or in Kubernetes. A write the API server refuses raises
:class:`OutputsError` with reason ``OutputsWriteFailed``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubeheat.controller.kube import Conflict, KubeClient, KubeError
from kubeheat.controller.store import owner_reference, secret_name
from kubeheat.engine import StackState
from kubeheat.template import Redactor

OUTPUTS_FROM_ANNOTATION = "kubeheat.io/outputs-from"
#: attempts when the target changes between reading and writing it (409)
ATTEMPTS = 3


class OutputsError(Exception):
    """The outputs cannot be written (``reason``: OutputsTargetConflict/OutputsWriteFailed)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass
class _Target:
    field: str          # spec.outputsTo.secretName / configMapName
    plural: str         # secrets / configmaps
    kind: str           # Secret / ConfigMap
    name: str
    data: dict[str, str]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _targets(spec: Mapping[str, Any], state: StackState | None, redact: Redactor
             ) -> list[_Target]:
    target = spec.get("outputsTo") or {}
    values = {k: v for k, v in (state.outputs if state is not None else {}).items()
              if v is not None}
    out: list[_Target] = []
    if target.get("secretName"):
        out.append(_Target("spec.outputsTo.secretName", "secrets", "Secret",
                           str(target["secretName"]), {k: _text(v) for k, v in values.items()}))
    if target.get("configMapName"):
        out.append(_Target("spec.outputsTo.configMapName", "configmaps", "ConfigMap",
                           str(target["configMapName"]),
                           {k: _text(redact.data(v)) for k, v in values.items()}))
    return out


def controlled_by(obj: Mapping[str, Any], uid: str) -> bool:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or ()
    return any(r.get("controller") is True and r.get("uid") == uid for r in refs)


def accepts(obj: Mapping[str, Any], stack: str) -> bool:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return annotations.get(OUTPUTS_FROM_ANNOTATION) == stack


def _conflict(t: _Target, namespace: str, stack: str, why: str) -> OutputsError:
    return OutputsError(
        "OutputsTargetConflict",
        f"{t.field}: {t.kind} {namespace}/{t.name} {why}; it was left untouched (to let "
        f"this Stack write its outputs there, annotate it "
        f"{OUTPUTS_FROM_ANNOTATION}={stack}, or name another object)")


def _check(t: _Target, existing: Mapping[str, Any] | None, namespace: str, stack: str,
           uid: str) -> str:
    """``create``, ``own`` or ``accepted``; raises OutputsError for anything else."""
    if t.plural == "secrets" and t.name == secret_name(stack):
        raise _conflict(t, namespace, stack, "holds this Stack's engine state")
    if existing is None:
        return "create"
    if controlled_by(existing, uid):
        return "own"
    if accepts(existing, stack):
        return "accepted"
    raise _conflict(t, namespace, stack, "exists and is not controlled by this Stack")


def _body(t: _Target, existing: Mapping[str, Any] | None, how: str, body: Mapping[str, Any]
          ) -> dict[str, Any]:
    meta = body["metadata"]
    namespace, stack = str(meta["namespace"]), str(meta["name"])
    data_field = "stringData" if t.plural == "secrets" else "data"
    if how == "accepted":
        assert existing is not None
        out = {k: v for k, v in existing.items() if k not in ("data", "stringData",
                                                               "binaryData")}
        if t.plural == "secrets":
            out["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in t.data.items()}
        else:
            out["data"] = dict(t.data)
        return out
    new_meta: dict[str, Any] = {
        "name": t.name, "namespace": namespace, "ownerReferences": [owner_reference(body)],
        "labels": {"app.kubernetes.io/managed-by": "kubeheat",
                   "kubeheat.io/stack": stack[:63]}}
    if existing is not None:
        old = existing.get("metadata") or {}
        new_meta["resourceVersion"] = old.get("resourceVersion")
        if old.get("annotations"):
            new_meta["annotations"] = old["annotations"]
    out = {"apiVersion": "v1", "kind": t.kind, "metadata": new_meta, data_field: dict(t.data)}
    if t.plural == "secrets":
        out["type"] = (existing or {}).get("type") or "Opaque"
    return out


async def write_outputs(kube: KubeClient, body: Mapping[str, Any], spec: Mapping[str, Any],
                        state: StackState | None, redact: Redactor) -> None:
    """Write the outputs where ``spec.outputsTo`` says (see the module); raises
    :class:`OutputsError`. With ``state`` None, only check that the targets may be written
    (before anything is applied)."""
    targets = _targets(spec, state, redact)
    if not targets:
        return
    meta = body["metadata"]
    namespace, stack, uid = str(meta["namespace"]), str(meta["name"]), str(meta["uid"])

    async def read(t: _Target) -> dict[str, Any] | None:
        try:
            return await kube.get(namespace, t.plural, t.name)
        except KubeError as exc:
            raise OutputsError("OutputsWriteFailed",
                               f"{t.field}: reading {t.kind} {namespace}/{t.name} failed: "
                               f"{exc}") from None

    found = [await read(t) for t in targets]
    for t, existing in zip(targets, found, strict=True):   # every target, before any write
        _check(t, existing, namespace, stack, uid)
    if state is None:
        return
    for t, existing in zip(targets, found, strict=True):
        for attempt in range(ATTEMPTS):
            how = _check(t, existing, namespace, stack, uid)
            try:
                if how == "create":
                    await kube.create(namespace, t.plural, _body(t, None, how, body))
                else:
                    assert existing is not None
                    await kube.replace(namespace, t.plural, t.name,
                                       _body(t, existing, how, body))
                break
            except Conflict as exc:   # created or changed since it was read: look again
                if attempt == ATTEMPTS - 1:
                    raise OutputsError("OutputsWriteFailed",
                                       f"{t.field}: writing {t.kind} {namespace}/{t.name} "
                                       f"failed: {exc}") from None
                existing = await read(t)
            except KubeError as exc:
                raise OutputsError("OutputsWriteFailed",
                                   f"{t.field}: writing {t.kind} {namespace}/{t.name} failed: "
                                   f"{exc}") from None

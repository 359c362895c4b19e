"""Keeping the Stack's status within what the apiserver stores (review 2026-12 M3).

A stack's outputs can be far larger than a Kubernetes object may be (the apiserver refuses a
request over 3 MiB, etcd an object over 1.5 MiB). So:

- :func:`fit_outputs` leaves out of ``status.outputs`` every output whose JSON form is over
  :data:`MAX_OUTPUT_BYTES`, and those that would take the total over
  :data:`MAX_OUTPUTS_BYTES`; each one omitted is named in ``status.outputErrors`` with its size
  (the value stays in the engine state and in ``outputsTo``);
- :func:`fallback` is the status sent when the apiserver still refuses a status patch for its
  size: the outputs, resources and plan left out, and ``Stalled`` with reason
  ``StatusTooLarge`` (never ``Progressing`` forever).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from kubeheat.controller.crd import GROUP, PLURAL, VERSION
from kubeheat.controller.events import KubeEvents
from kubeheat.controller.kube import KubeClient, KubeError
from kubeheat.controller.status import conditions_for

LOG = logging.getLogger("kubeheat.controller")

#: bytes of one output's JSON form in status
MAX_OUTPUT_BYTES = 64 * 1024
#: bytes of all the outputs in status
MAX_OUTPUTS_BYTES = 512 * 1024
STATUS_TOO_LARGE = "StatusTooLarge"


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False,
                          default=str).encode())


def fit_outputs(outputs: Mapping[str, Any], errors: Mapping[str, str]
                ) -> tuple[dict[str, Any], dict[str, str]]:
    """``outputs`` within the budgets, and ``errors`` with a line for each one left out."""
    kept: dict[str, Any] = {}
    notes: dict[str, str] = dict(errors)
    total = 0
    for key in sorted(outputs):
        value = outputs[key]
        size = _size(value)
        if size > MAX_OUTPUT_BYTES:
            notes[key] = (f"omitted from status: {size} bytes, more than the "
                          f"{MAX_OUTPUT_BYTES} an output may take there")
        elif total + size > MAX_OUTPUTS_BYTES:
            notes[key] = (f"omitted from status: {size} bytes, the outputs before it already "
                          f"take {total} of the {MAX_OUTPUTS_BYTES} all outputs may take there")
        else:
            kept[key] = value
            total += size
    return kept, notes


def too_large(exc: KubeError) -> bool:
    """Whether the apiserver refused a request for its size."""
    text = exc.message.lower()
    return exc.status == 413 or (exc.status >= 400 and any(
        words in text for words in ("too long", "too large")))


def fallback(last: Mapping[str, Any], generation: int | None, exc: KubeError
             ) -> dict[str, Any]:
    """The status patch sent when a patch was refused for its size (see the module)."""
    message = (f"the Stack's status does not fit in the object ({exc}); its outputs, "
               "resources and last plan are left out of status (the engine state and "
               "outputsTo keep the outputs)")
    conditions = conditions_for(list(last.get("conditions") or []), generation, ready=False,
                                reconciling=False, stalled=True, reason=STATUS_TOO_LARGE,
                                message=message)
    return {"conditions": conditions, "outputs": None, "outputErrors": None,
            "resources": None, "lastPlan": None, "observedGeneration": generation}


def fit_fields(fields: Mapping[str, Any]) -> Mapping[str, Any]:
    """Status ``fields`` with ``outputs`` (and ``outputErrors``) within the budgets."""
    outputs = fields.get("outputs")
    if not isinstance(outputs, Mapping):
        return fields
    errors = fields.get("outputErrors")
    kept, notes = fit_outputs(outputs, errors if isinstance(errors, Mapping) else {})
    out = {**fields, "outputs": kept}
    if notes or "outputErrors" in fields:
        out["outputErrors"] = notes
    return out


async def send_status(kube: KubeClient, body: Mapping[str, Any], patch: Mapping[str, Any],
                      last: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Merge-patch the Stack's status; when the apiserver refuses it for its size, send
    :func:`fallback` instead and post a Warning. The patch applied, or None."""
    meta = body["metadata"]
    namespace, name = str(meta["namespace"]), str(meta["name"])
    try:
        await kube.patch_status(GROUP, VERSION, PLURAL, namespace, name, patch)
        return patch
    except KubeError as exc:
        if not too_large(exc):
            LOG.warning("patching the status of %s/%s failed: %s", namespace, name, exc)
            return None
        smaller = fallback(last, meta.get("generation"), exc)
    try:
        await kube.patch_status(GROUP, VERSION, PLURAL, namespace, name, smaller)
    except KubeError as exc:
        LOG.warning("patching the status of %s/%s failed: %s", namespace, name, exc)
        return None
    stalled = next(c for c in smaller["conditions"] if c["type"] == "Stalled")
    await KubeEvents(kube, body).post("Warning", STATUS_TOO_LARGE, stalled["message"])
    return smaller

"""kopf's diff base of a Stack kept as a digest in its status (no copy of the spec anywhere)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any, cast

import kopf

from kubeheat.controller.spec import spec_digest

RECONCILE_ANNOTATION = "kubeheat.io/reconcile-requested-at"


class DigestDiffBaseStorage(kopf.DiffBaseStorage):
    """kopf's "last handled" essence kept as a digest in ``status.kopf.digest``.

    The essence is the spec and the reconcile-request annotation only, so labels and other
    annotations never trigger an update. ``fetch`` returns the current essence when its digest
    matches the stored one (nothing changed) and a different marker otherwise (an update)."""

    FIELD = ("status", "kopf", "digest")

    def build(self, *, body: kopf.Body,
              extra_fields: Iterable[Any] | None = None) -> kopf.BodyEssence:
        essence: dict[str, Any] = {"spec": copy.deepcopy(dict(body.get("spec") or {}))}
        annotations = body.get("metadata", {}).get("annotations") or {}
        if RECONCILE_ANNOTATION in annotations:
            essence["metadata"] = {"annotations": {
                RECONCILE_ANNOTATION: annotations[RECONCILE_ANNOTATION]}}
        return cast(kopf.BodyEssence, essence)

    @staticmethod
    def digest(essence: Mapping[str, Any]) -> str:
        return spec_digest(essence)

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        stored = (body.get("status") or {}).get("kopf", {}).get("digest")
        if not stored:
            return None
        current = self.build(body=body)
        if self.digest(current) == stored:
            return current
        return cast(kopf.BodyEssence, {"digest": stored})

    def store(self, *, body: kopf.Body, patch: kopf.Patch,
              essence: kopf.BodyEssence) -> None:
        raw = cast(dict[str, Any], patch)
        raw.setdefault("status", {}).setdefault("kopf", {})["digest"] = self.digest(
            cast(Mapping[str, Any], essence))

"""The status budgets of :mod:`kubeheat.controller.statusfit` (review 2026-12 M3), without a
cluster (the operator test is in test_operator_limits.py)."""

from __future__ import annotations

from kubeheat.controller.kube import KubeError
from kubeheat.controller.statusfit import (
    MAX_OUTPUT_BYTES,
    MAX_OUTPUTS_BYTES,
    fallback,
    fit_fields,
    fit_outputs,
    too_large,
)


def test_outputs_over_the_budgets_are_omitted_and_named() -> None:
    big = "x" * (MAX_OUTPUT_BYTES + 1)
    kept, notes = fit_outputs({"small": "a", "big": big, "n": 3}, {"bad": "it failed"})
    assert kept == {"small": "a", "n": 3}
    assert notes["bad"] == "it failed"
    assert notes["big"].startswith(f"omitted from status: {MAX_OUTPUT_BYTES + 3} bytes")
    chunk = "y" * (MAX_OUTPUT_BYTES - 10)
    many = {f"o{i:02d}": chunk for i in range(MAX_OUTPUTS_BYTES // MAX_OUTPUT_BYTES + 2)}
    kept, notes = fit_outputs(many, {})
    assert 0 < len(kept) < len(many)
    assert sorted(kept) + sorted(notes) == sorted(many)      # the first ones are kept
    assert all("all outputs may take there" in n for n in notes.values())


def test_fit_fields_touches_only_outputs() -> None:
    fields = {"stackStatus": "CREATE_COMPLETE", "outputs": {"a": "x" * (MAX_OUTPUT_BYTES + 5)}}
    fitted = fit_fields(fields)
    assert fitted["stackStatus"] == "CREATE_COMPLETE"
    assert fitted["outputs"] == {}
    assert list(fitted["outputErrors"]) == ["a"]
    assert fit_fields({"conditions": []}) == {"conditions": []}


def test_a_refusal_for_size_turns_into_stalled() -> None:
    assert too_large(KubeError(413, "Request entity too large: limit is 3145728"))
    assert too_large(KubeError(500, "etcdserver: request is too large"))
    assert too_large(KubeError(422, "status.outputs: Too long: must have at most 10 bytes"))
    assert not too_large(KubeError(422, "spec.x: Invalid value"))
    assert not too_large(KubeError(0, "ClientConnectorError"))
    patch = fallback({"conditions": []}, 4, KubeError(413, "limit is 3145728"))
    assert patch["outputs"] is None and patch["resources"] is None
    conds = {c["type"]: c for c in patch["conditions"]}
    assert conds["Stalled"]["status"] == "True"
    assert conds["Stalled"]["reason"] == "StatusTooLarge"
    assert conds["Ready"]["status"] == "False"
    assert conds["Reconciling"]["status"] == "False"
    assert "limit is 3145728" in conds["Stalled"]["message"]

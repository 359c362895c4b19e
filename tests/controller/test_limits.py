"""The bounds of :mod:`kubeheat.controller.limits` (review 2026-12 H3, M1, M2), without a
cluster: the spec checks, the drift interval and the deep-stack runner."""

from __future__ import annotations

import asyncio
import json
import sys
import threading

import kopf
import pytest

from kubeheat.controller.errors import SpecError
from kubeheat.controller.kube import KubeClient
from kubeheat.controller.limits import (
    APISERVER_MAX_DEPTH,
    MIN_DRIFT_INTERVAL,
    check_spec,
    drift_interval,
    parse_duration,
    run_deep,
)
from kubeheat.controller.spec import resolve

TEMPLATE = {"heat_template_version": "2016-10-14"}


def _nested(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_a_drift_interval_under_30s_is_refused() -> None:
    for text in ("1ms", "29s", "0.4m", "10s500ms"):
        with pytest.raises(SpecError) as err:
            check_spec({"template": TEMPLATE, "drift": {"policy": "Detect", "interval": text}})
        assert err.value.reason == "InvalidSpec"
        assert err.value.message == (f"spec.drift.interval: {text} is shorter than the "
                                     "minimum of 30s")
    for text in ("30s", "0.5m", "1h30m", "0s", "0ms", "", None):
        check_spec({"template": TEMPLATE, "drift": {"policy": "Detect", "interval": text}})
    check_spec({"template": TEMPLATE})


def test_the_drift_loop_never_waits_less_than_the_minimum() -> None:
    assert drift_interval({"drift": {"interval": "1ms"}}, 600.0) == MIN_DRIFT_INTERVAL
    assert drift_interval({"drift": {"interval": "0s"}}, 600.0) == 600.0
    assert drift_interval({}, 600.0) == 600.0
    assert drift_interval({"drift": {"interval": "2m"}}, 600.0) == 120.0
    assert parse_duration("1h30m", 1.0) == 5400.0
    assert parse_duration("bogus", 7.0) == 7.0


def test_deep_free_form_fields_are_refused_by_name() -> None:
    deep = _nested(990)
    with pytest.raises(SpecError) as err:
        check_spec({"template": TEMPLATE, "parameters": {"ok": [[1]], "x": deep}})
    assert err.value.reason == "InvalidSpec"
    assert err.value.message == "spec.parameters.x: the value nests deeper than 128 levels"
    with pytest.raises(SpecError) as err:
        check_spec({"template": {**TEMPLATE, "description": _nested(3000)}})
    assert err.value.reason == "InvalidTemplate"
    assert err.value.message == "spec.template: Template nests deeper than 128 levels"
    with pytest.raises(SpecError) as err:
        check_spec({"template": TEMPLATE,
                    "environment": [{"inline": {}}, {"inline": {"parameters": deep}}]})
    assert err.value.message == "spec.environment[1].inline: Environment nests deeper than " \
                                "128 levels"
    check_spec({"template": TEMPLATE, "parameters": {"x": _nested(100)}})


def _client() -> KubeClient:
    """A client that is never called: the checks fail before anything is read."""
    return KubeClient(kopf.ConnectionInfo(server="https://127.0.0.1:1"))


def test_an_object_template_has_the_text_templates_limits() -> None:
    """big15.json: a 1.5 MB description in an object template gets the message of the same
    template given as text (review M2)."""
    big = {**TEMPLATE, "description": "x" * 1_500_000}

    async def stalled(template: object) -> SpecError:
        client = _client()
        try:
            with pytest.raises(SpecError) as err:
                await resolve(client, "ns", "big", {"template": template})
        finally:
            await client.close()
        return err.value

    as_object = asyncio.run(stalled(big))
    as_text = asyncio.run(stalled(json.dumps(big, separators=(",", ":"))))
    assert as_object.reason == as_text.reason == "InvalidTemplate"
    assert as_object.message == as_text.message
    assert as_object.message.startswith("spec.template: Request limit exceeded: Template size "
                                        "(1500")
    deep = asyncio.run(stalled({**TEMPLATE, "parameters": {"p": {"default": _nested(200)}}}))
    assert deep.message == "spec.template: Template nests deeper than 128 levels"


def test_run_deep_decodes_what_the_apiserver_may_serve() -> None:
    text = "[" * APISERVER_MAX_DEPTH + "]" * APISERVER_MAX_DEPTH
    seen: list[object] = []

    def target(stop: threading.Event) -> None:
        value = json.loads(text)
        assert json.dumps(value) == text
        seen.append(stop.is_set())

    def failing(stop: threading.Event) -> None:
        raise ValueError("boom")

    limit = sys.getrecursionlimit()
    try:
        run_deep(target)
        assert seen == [False]
        with pytest.raises(ValueError, match="boom"):
            run_deep(failing)
    finally:
        sys.setrecursionlimit(limit)

"""Engine: create, update, delete, rollback, replace vs update, conditions, parallelism,
deletion policies, timeout, cancel, check, signals, validation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from engine_plugins import (
    KIND,
    Thing,
    hot,
    make_engine,
    resource_events,
    stack_events,
    things,
)

from kubeheat.engine import Engine, EngineError, StackRequest, StackState
from kubeheat.template import TemplateError


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def thing(label: Any = "x", size: Any = 1, **extra: Any) -> dict[str, Any]:
    return {"type": "Test::Thing", "properties": {"label": label, "size": size}, **extra}


def test_create_update_delete_with_outputs() -> None:
    engine, store, events, native = make_engine()
    tmpl = hot({"a": thing("one"),
                "b": thing({"get_attr": ["a", "label"]}, extra := 2)},
               outputs={"b_label": {"get_attr": ["b", "label"]},
                        "a_id": {"get_resource": "a"}})
    del extra

    async def go() -> tuple[StackState, StackState, StackState]:
        created = await engine.create(StackRequest("s", tmpl))
        first = created.copy()
        tmpl2 = hot({"a": thing("two"), "b": thing({"get_attr": ["a", "label"]}, 2)},
                    outputs={"b_label": {"get_attr": ["b", "label"]}})
        updated = (await engine.update(created.id, StackRequest("s", tmpl2))).copy()
        deleted = await engine.delete(created.id)
        return first, updated, deleted

    first, updated, deleted = run(go())
    assert first.state == "CREATE_COMPLETE"
    assert first.status_reason == "Stack CREATE completed successfully"
    assert first.outputs == {"b_label": "one", "a_id": first.resources["a"].physical_id}
    assert updated.state == "UPDATE_COMPLETE"
    assert updated.outputs == {"b_label": "two"}
    # label updates in place: same physical ids
    assert updated.resources["a"].physical_id == first.resources["a"].physical_id
    assert updated.resources["b"].physical_id == first.resources["b"].physical_id
    assert deleted.state == "DELETE_COMPLETE"
    assert native.count() == 0
    assert store.load(first.id) is None
    evs = resource_events(events.events)
    assert evs[:4] == [("a", "CREATE_IN_PROGRESS"), ("a", "CREATE_COMPLETE"),
                       ("b", "CREATE_IN_PROGRESS"), ("b", "CREATE_COMPLETE")]
    # delete in reverse dependency order
    deletes = [n for n, s in evs if s == "DELETE_IN_PROGRESS"]
    assert deletes == ["b", "a"]
    assert all(e.resource_status_reason == "state changed" for e in events.events
               if not e.is_stack_event)


def test_replace_vs_update_and_create_before_delete() -> None:
    engine, _store, events, native = make_engine()
    tmpl = hot({"a": thing("l", 1), "user": thing({"get_resource": "a"})})

    async def go() -> tuple[StackState, StackState]:
        s = await engine.create(StackRequest("s", tmpl))
        before = s.copy()
        # size is not update_allowed: replace; the user's label refers to a, so it updates
        events.events.clear()
        s = await engine.update(s.id, StackRequest(
            "s", hot({"a": thing("l", 2), "user": thing({"get_resource": "a"})})))
        return before, s

    before, after = run(go())
    assert after.state == "UPDATE_COMPLETE"
    assert after.resources["a"].physical_id != before.resources["a"].physical_id
    assert after.resources["user"].physical_id == before.resources["user"].physical_id
    assert after.resources["user"].properties["label"] == after.resources["a"].physical_id
    assert set(after.resources) == {"a", "user"}
    evs = resource_events(events.events)
    # as in Heat, the update that finds the replacement is recorded on the old resource
    assert evs == [("a", "UPDATE_IN_PROGRESS"), ("a", "UPDATE_COMPLETE"),
                   ("a", "CREATE_IN_PROGRESS"), ("a", "CREATE_COMPLETE"),
                   ("user", "UPDATE_IN_PROGRESS"), ("user", "UPDATE_COMPLETE"),
                   ("a", "DELETE_IN_PROGRESS"), ("a", "DELETE_COMPLETE")]
    assert [r["size"] for r in things(native)["a"]] == [2]


def test_replacement_that_cannot_coexist_deletes_first() -> None:
    engine, _store, events, native = make_engine()

    def tmpl(size: int) -> dict[str, Any]:
        return hot({"x": {"type": "Test::Exclusive", "properties": {"size": size}}})

    async def go() -> StackState:
        s = await engine.create(StackRequest("s", tmpl(1)))
        events.events.clear()
        return await engine.update(s.id, StackRequest("s", tmpl(2)))

    s = run(go())
    assert s.state == "UPDATE_COMPLETE"
    assert resource_events(events.events) == [
        ("x", "UPDATE_IN_PROGRESS"), ("x", "UPDATE_COMPLETE"),
        ("x", "DELETE_IN_PROGRESS"), ("x", "DELETE_COMPLETE"),
        ("x", "CREATE_IN_PROGRESS"), ("x", "CREATE_COMPLETE")]
    assert native.count(KIND) == 1


def test_test_resource_update_replace() -> None:
    engine, *_ = make_engine()

    def tmpl(value: str, replace: bool) -> dict[str, Any]:
        return hot({"t": {"type": "OS::Heat::TestResource",
                          "properties": {"value": value, "update_replace": replace}}},
                   outputs={"o": {"get_attr": ["t", "output"]}})

    async def go() -> list[tuple[str | None, Any]]:
        s = await engine.create(StackRequest("s", tmpl("a", False)))
        out = [(s.resources["t"].physical_id, s.outputs["o"])]
        s = await engine.update(s.id, StackRequest("s", tmpl("b", False)))
        out.append((s.resources["t"].physical_id, s.outputs["o"]))
        s = await engine.update(s.id, StackRequest("s", tmpl("c", True)))
        out.append((s.resources["t"].physical_id, s.outputs["o"]))
        return out

    (p1, o1), (p2, o2), (p3, o3) = run(go())
    assert (o1, o2, o3) == ("a", "b", "c")
    assert p1 == p2 != p3


def test_create_failure_rolls_back() -> None:
    engine, _store, events, native = make_engine()
    tmpl = hot({"ok": thing(), "bad": {"type": "OS::Heat::TestResource",
                                       "properties": {"fail": True}},
                "after": thing(depends_on=["bad"])})
    s = run(engine.create(StackRequest("s", tmpl)))
    assert s.state == "ROLLBACK_COMPLETE"
    assert s.status_reason == "Stack ROLLBACK completed successfully"
    assert s.resources == {}
    assert native.count() == 0
    reasons = stack_events(events.events, s)
    assert reasons[1] == ("CREATE_FAILED", "Resource CREATE failed: ValueError: "
                                           "resources.bad: Test Resource failed bad")
    bad = [e for e in events.events if e.resource_name == "bad"
           and e.resource_status == "FAILED"]
    assert bad[0].resource_status_reason == "ValueError: resources.bad: Test Resource failed bad"
    assert "after" not in {e.resource_name for e in events.events}


def test_create_failure_without_rollback() -> None:
    engine, _store, _events, _native = make_engine()
    tmpl = hot({"ok": thing(), "bad": {"type": "OS::Heat::TestResource",
                                       "properties": {"fail": True}}})
    s = run(engine.create(StackRequest("s", tmpl, disable_rollback=True)))
    assert s.state == "CREATE_FAILED"
    assert s.resources["bad"].state == "CREATE_FAILED"
    assert s.resources["ok"].state == "CREATE_COMPLETE"
    # a retry (update with a fixed template) replaces the failed resource
    fixed = hot({"ok": thing(), "bad": {"type": "OS::Heat::TestResource"}})
    s2 = run(engine.update(s.id, StackRequest("s", fixed)))
    assert s2.state == "UPDATE_COMPLETE"
    assert s2.resources["bad"].state == "CREATE_COMPLETE"


def test_update_failure_rolls_back_to_previous_template() -> None:
    engine, _store, events, native = make_engine()
    tmpl = hot({"a": thing("v1", 1), "keep": thing("k")},
               outputs={"o": {"get_attr": ["a", "label"]}})
    broken = hot({"a": thing("v2", 2),
                  "new": {"type": "OS::Heat::TestResource", "properties": {"fail": True},
                          "depends_on": ["a"]}},
                 outputs={"o": {"get_attr": ["a", "label"]}})

    async def go() -> tuple[StackState, StackState]:
        s = await engine.create(StackRequest("s", tmpl))
        before = s.copy()
        s = await engine.update(s.id, StackRequest("s", broken))
        return before, s

    before, after = run(go())
    assert after.state == "ROLLBACK_COMPLETE"
    assert after.template == tmpl
    assert set(after.resources) == {"a", "keep"}
    # the replaced resource is restored, not rebuilt
    assert after.resources["a"].physical_id == before.resources["a"].physical_id
    assert after.outputs == {"o": "v1"}
    assert {n: [r["size"] for r in rs] for n, rs in things(native).items()} == {
        "a": [1], "keep": [1]}
    states = [s for s, _ in stack_events(events.events, after)]
    assert states[-4:] == ["UPDATE_IN_PROGRESS", "UPDATE_FAILED", "ROLLBACK_IN_PROGRESS",
                           "ROLLBACK_COMPLETE"]


def test_conditions_changing_on_update_add_and_remove_resources() -> None:
    engine, _store, events, native = make_engine()
    tmpl = hot({"base": thing("b"),
                "extra": thing({"get_resource": "base"}, condition="want"),
                "user": thing({"if": ["want", {"get_resource": "extra"}, "none"]})},
               parameters={"on": {"type": "boolean", "default": False}},
               conditions={"want": {"get_param": "on"}})

    async def go() -> list[StackState]:
        out = []
        s = await engine.create(StackRequest("s", tmpl))
        out.append(s.copy())
        s = await engine.update(s.id, StackRequest("s", tmpl, parameters={"on": True}))
        out.append(s.copy())
        events.events.clear()
        s = await engine.update(s.id, StackRequest("s", tmpl, parameters={"on": False}))
        out.append(s.copy())
        return out

    s1, s2, s3 = run(go())
    assert set(s1.resources) == {"base", "user"}
    assert s1.resources["user"].properties["label"] == "none"
    assert set(s2.resources) == {"base", "extra", "user"}
    assert s2.resources["user"].properties["label"] == s2.resources["extra"].physical_id
    assert set(s3.resources) == {"base", "user"}
    # the removed resource is deleted only after the resource that used it was updated
    evs = resource_events(events.events)
    assert evs.index(("user", "UPDATE_COMPLETE")) < evs.index(("extra", "DELETE_IN_PROGRESS"))
    assert set(things(native)) == {"base", "user"}


def test_parallel_create_follows_the_critical_path() -> None:
    engine, _store, events, _native = make_engine()
    unit = 0.15

    def slow(secs: float, deps: list[str]) -> dict[str, Any]:
        res: dict[str, Any] = {"type": "OS::Heat::TestResource",
                               "properties": {"action_wait_secs": {"create": secs * unit}}}
        if deps:
            res["depends_on"] = deps
        return res

    durations = {"a": 1, "d": 2.5, "b": 3, "e": 2, "c": 1.5}
    deps = {"a": [], "d": [], "b": ["a"], "e": ["d"], "c": ["b", "e"]}
    tmpl = hot({n: slow(durations[n], deps[n]) for n in durations})
    s = run(engine.create(StackRequest("s", tmpl)))
    assert s.state == "CREATE_COMPLETE"
    # ideal schedule: every resource starts when its last dependency finishes
    start: dict[str, float] = {}
    finish: dict[str, float] = {}
    for n in ["a", "d", "b", "e", "c"]:
        start[n] = max((finish[d] for d in deps[n]), default=0.0)
        finish[n] = start[n] + durations[n]
    ideal = sorted([(start[n], 0, n, "CREATE_IN_PROGRESS") for n in durations]
                   + [(finish[n], -1, n, "CREATE_COMPLETE") for n in durations])
    expected = [(n, st) for _, _, n, st in ideal]
    got = resource_events(events.events)
    # equal times: a finish precedes the starts it triggers; compare as sets per time
    assert sorted(got[:2]) == sorted(expected[:2])
    assert got[2:] == expected[2:]
    from kubeheat.template import Template
    path, total = Template.load(tmpl).define().graph.critical_path(durations)
    assert path == ["d", "e", "c"] and total == 6.0
    assert got[-1] == ("c", "CREATE_COMPLETE")


def test_concurrency_limit() -> None:
    engine, _store, events, _native = make_engine(concurrency=2)
    tmpl = hot({f"r{i}": {"type": "OS::Heat::TestResource",
                          "properties": {"wait_secs": 0.02}} for i in range(6)})
    s = run(engine.create(StackRequest("s", tmpl)))
    assert s.state == "CREATE_COMPLETE"
    active = peak = 0
    for _, st in resource_events(events.events):
        active += 1 if st.endswith("IN_PROGRESS") else -1
        peak = max(peak, active)
    assert peak == 2


def test_deletion_policies() -> None:
    Thing.snapshots.clear()
    engine, _store, _events, native = make_engine()
    tmpl = hot({"keep": thing("k", deletion_policy="Retain"),
                "snap": thing("s", deletion_policy="Snapshot"),
                "nosnap": {"type": "Test::Exclusive", "properties": {"label": "n"},
                           "deletion_policy": "Snapshot"},
                "gone": thing("g")})

    async def go() -> None:
        s = await engine.create(StackRequest("s", tmpl))
        await engine.delete(s.id)

    run(go())
    assert Thing.snapshots == ["snap"]
    # Retain keeps it, Snapshot without snapshot support falls back to Retain
    assert sorted(things(native)) == ["keep", "nosnap"]


def test_removed_resource_with_retain_policy_is_kept() -> None:
    engine, _store, _events, native = make_engine()

    async def go() -> StackState:
        s = await engine.create(StackRequest("s", hot({"a": thing(deletion_policy="Retain"),
                                                       "b": thing()})))
        return await engine.update(s.id, StackRequest("s", hot({"b": thing()})))

    s = run(go())
    assert set(s.resources) == {"b"}
    assert sorted(things(native)) == ["a", "b"]


def test_timeout() -> None:
    engine, _store, events, _native = make_engine()
    tmpl = hot({"quick": thing(),
                "slow": {"type": "OS::Heat::TestResource",
                         "properties": {"action_wait_secs": {"create": 30}}}})
    s = run(engine.create(StackRequest("s", tmpl, timeout_minutes=0.3 / 60,
                                       disable_rollback=True)))
    assert s.state == "CREATE_FAILED"
    assert s.status_reason == "Timed out"
    assert s.resources["slow"].status == "FAILED"
    s2 = run(engine.create(StackRequest("t", tmpl, timeout_minutes=0.3 / 60)))
    assert s2.state == "ROLLBACK_COMPLETE"
    assert [st for st, _ in stack_events(events.events, s2)] == [
        "CREATE_IN_PROGRESS", "CREATE_FAILED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"]
    assert stack_events(events.events, s2)[1][1] == "Timed out"


def test_cancel_update_rolls_back() -> None:
    engine, _store, events, native = make_engine()
    tmpl = hot({"a": thing("v1")})
    slow = hot({"a": thing("v2"),
                "slow": {"type": "OS::Heat::TestResource",
                         "properties": {"action_wait_secs": {"create": 30}}}})

    async def go() -> StackState:
        s = await engine.create(StackRequest("s", tmpl))
        task = asyncio.create_task(engine.update(s.id, StackRequest("s", slow)))
        while not any(e.resource_name == "slow" for e in events.events):
            await asyncio.sleep(0.01)
        assert await engine.cancel(s.id)
        return await task

    s = run(go())
    assert s.state == "ROLLBACK_COMPLETE"
    states = stack_events(events.events, s)
    assert ("UPDATE_FAILED", "Stack UPDATE cancelled") in states
    assert set(s.resources) == {"a"}
    assert s.resources["a"].properties["label"] == "v1"
    assert sorted(things(native)) == ["a"]
    assert native.count("OS::Heat::TestResource") == 0


def test_check_reports_drift_and_update_repairs_it() -> None:
    engine, _store, _events, native = make_engine()
    tmpl = hot({"a": thing("good"), "b": thing("fine")})

    async def go() -> tuple[Any, StackState, Any]:
        s = await engine.create(StackRequest("s", tmpl))
        ok = await engine.check(s.id)
        assert ok.state.state == "CHECK_COMPLETE"
        assert ok.state.status_reason == "Stack CHECK completed successfully"
        pid = s.resources["a"].physical_id
        rec = native.get(KIND, pid)
        rec["label"] = "tampered"
        native.update(KIND, pid, rec)
        result = await engine.check(s.id)
        repaired = await engine.update(s.id, StackRequest("s", tmpl))
        return result, repaired, pid

    result, repaired, pid = run(go())
    assert result.state.state == "CHECK_FAILED"
    assert result.drifted == {"a": {"label": ("good", "tampered")}}
    assert result.state.status_reason.startswith("Resource CHECK failed: a: ")
    assert result.resources["b"].status == "CHECK_COMPLETE"
    assert repaired.state == "UPDATE_COMPLETE"
    assert repaired.resources["a"].physical_id == pid
    assert native.get(KIND, pid)["label"] == "good"


def test_missing_in_the_cloud_is_recreated() -> None:
    engine, _store, _events, native = make_engine()
    tmpl = hot({"a": thing("x")})

    async def go() -> tuple[Any, StackState, str]:
        s = await engine.create(StackRequest("s", tmpl))
        pid = s.resources["a"].physical_id
        native.delete(KIND, pid)
        p = await engine.plan(StackRequest("s", tmpl), s.id)
        result = await engine.check(s.id)
        assert result.resources["a"].missing
        return p, await engine.update(s.id, StackRequest("s", tmpl)), pid

    p, s, old = run(go())
    assert p.resources["a"].action == "create"
    assert p.resources["a"].reason == "missing in the cloud"
    assert s.state == "UPDATE_COMPLETE"
    assert s.resources["a"].physical_id != old
    assert len(things(native)["a"]) == 1


def test_signal() -> None:
    engine, store, events, _native = make_engine()

    async def go() -> StackState:
        s = await engine.create(StackRequest("s", hot({"a": thing()})))
        await engine.signal(s.id, "a", {"x": 1})
        return await engine.signal(s.id, "a", {"x": 2})

    s = run(go())
    assert s.resources["a"].data["signals"] == [{"x": 1}, {"x": 2}]
    assert store.load(s.id).resources["a"].data["signals"] == [{"x": 1}, {"x": 2}]
    sig = [e for e in events.events if e.resource_action == "SIGNAL"]
    assert len(sig) == 2
    with pytest.raises(EngineError, match="could not be found"):
        run(engine.signal(s.id, "nope", None))


def test_patch_update_keeps_template_and_merges_parameters() -> None:
    engine, *_ = make_engine()
    tmpl = hot({"a": thing({"get_param": "l"}, {"get_param": "n"})},
               parameters={"l": {"type": "string"}, "n": {"type": "number", "default": 1}})

    async def go() -> StackState:
        s = await engine.create(StackRequest("s", tmpl, parameters={"l": "one", "n": 3}))
        return await engine.update(s.id, StackRequest("s", None, parameters={"l": "two"}),
                                   patch=True)

    s = run(go())
    assert s.state == "UPDATE_COMPLETE"
    assert s.parameters == {"l": "two", "n": 3}
    assert s.resources["a"].properties["label"] == "two"
    assert s.resources["a"].properties["size"] == 3


def test_validation_errors_before_anything_is_created() -> None:
    engine, store, events, native = make_engine()
    with pytest.raises(TemplateError) as err:
        run(engine.create(StackRequest("s", hot({"a": thing(), "x": {"type": "Foo::Bar"}}))))
    assert str(err.value) == "resources.x.type: The Resource Type (Foo::Bar) could not be found."
    with pytest.raises(TemplateError) as err:
        run(engine.create(StackRequest("s", hot({"a": {"type": "Test::Thing",
                                                       "properties": {"size": "big"}}}))))
    assert str(err.value) == "resources.a.properties.size: Value 'big' is not an integer"
    with pytest.raises(TemplateError) as err:
        run(engine.create(StackRequest("s", hot({"a": {"type": "Test::Thing",
                                                       "properties": {"colour": "red"}}}))))
    assert str(err.value) == "resources.a.properties: Unknown Property colour"
    assert store.list() == [] and native.count() == 0 and events.events == []


def test_runtime_property_error_fails_the_resource() -> None:
    engine, *_ = make_engine()
    tmpl = hot({"a": thing("x"),
                "b": {"type": "Test::Thing",
                      "properties": {"size": {"get_attr": ["a", "label"]}}}})
    s = run(engine.create(StackRequest("s", tmpl, disable_rollback=True)))
    assert s.state == "CREATE_FAILED"
    assert s.resources["b"].status_reason == (
        "StackValidationFailed: resources.b.properties.size: Value 'x' is not an integer")
    assert s.status_reason.startswith("Resource CREATE failed: StackValidationFailed")


def test_apply_creates_then_updates_and_none_never_updates() -> None:
    engine, *_ = make_engine()

    def tmpl(v: str) -> dict[str, Any]:
        return hot({"n": {"type": "OS::Heat::None", "properties": {"anything": v}}})

    async def go() -> tuple[StackState, StackState]:
        s = await engine.apply(StackRequest("s", tmpl("a")))
        first = s.copy()
        s = await engine.apply(StackRequest("s", tmpl("b")), s.id)
        return first, s

    first, second = run(go())
    assert first.state == "CREATE_COMPLETE" and second.state == "UPDATE_COMPLETE"
    assert second.resources["n"].physical_id == first.resources["n"].physical_id
    assert second.resources["n"].properties == {"anything": "b"}


def test_engine_refuses_busy_and_unknown_stacks() -> None:
    engine, *_ = make_engine()
    with pytest.raises(EngineError, match="could not be found"):
        run(engine.delete("nope"))

    async def go() -> None:
        s = await engine.create(StackRequest("s", hot({"a": thing()})))
        with pytest.raises(EngineError, match="already exists"):
            await engine.create(StackRequest("s", hot({"a": thing()})), s.id)

    run(go())


def _unused(e: Engine) -> None:  # keep the import used for type checkers
    del e

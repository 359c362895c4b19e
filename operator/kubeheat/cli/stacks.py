"""The work of the stack commands (``run``, ``plan``, ``delete``, ``events``, ``output``,
``signal``; their arguments are in :mod:`kubeheat.cli.stack_cmds`): the engine run in-process
on a state file's stores, progress on stderr, the result on stdout, hidden values masked.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from kubeheat.cli.args import UsageError, parse_parameters
from kubeheat.cli.cloudopt import LazyCloud
from kubeheat.cli.files import collect_files
from kubeheat.cli.inputs import CLI_MIN_PARTIAL, Inputs, given_redactor, redactor
from kubeheat.cli.output import error, render, table
from kubeheat.engine import (
    REPLACED_SEP,
    Engine,
    EngineError,
    Event,
    FileNativeStore,
    JsonFileStateStore,
    ListEventSink,
    MemoryNativeStore,
    MemoryStateStore,
    StackRequest,
    StackState,
    StateStore,
    Status,
)
from kubeheat.template import KubeheatError, Redactor, Template, parse_environment, values_of

EVENTS_SECTION = "events"
SIGNAL_POLL_SECONDS = 0.2


# -- shared helpers ---------------------------------------------------------------------------
class Session:
    """The stores one command works with."""

    def __init__(self, state_path: Path | None, args: argparse.Namespace | None = None
                 ) -> None:
        self.path = state_path
        self.file: JsonFileStateStore | None = None
        store: StateStore
        if state_path is not None:
            self.file = JsonFileStateStore(state_path)
            store = self.file
            self.native: MemoryNativeStore = FileNativeStore(self.file)
        else:
            store = MemoryStateStore()
            self.native = MemoryNativeStore()
        self.store = store
        self.events = ListEventSink()
        self.saved_events = 0
        self.cloud = LazyCloud(args or argparse.Namespace(), self.file)

    @property
    def root(self) -> str | None:
        return self.file.root if self.file is not None else None

    def engine(self, concurrency: int = 64) -> Engine:
        return Engine(self.store, self.events, native=self.native, cloud=self.cloud,
                      concurrency=concurrency)

    def close(self) -> None:
        self.persist_events()
        self.cloud.close()
        if self.file is not None:
            self.file.close()

    def persist_events(self) -> None:
        if self.file is None or self.saved_events == len(self.events.events):
            return
        old = self.file.extra(EVENTS_SECTION) or []
        new = [e.to_dict() for e in self.events.events[self.saved_events:]]
        self.file.set_extra(EVENTS_SECTION, [*old, *new])
        self.saved_events = len(self.events.events)


def _require_state(path: Path, args: argparse.Namespace | None = None
                   ) -> tuple[Session, str]:
    if not path.exists():
        raise UsageError(f"state file {path} does not exist")
    try:
        session = Session(path, args)
    except (ValueError, OSError) as exc:
        raise UsageError(str(exc)) from None
    root = session.root
    if root is None or session.store.load(root) is None:
        raise UsageError(f"state file {path} holds no stack")
    return session, root


def _summary(state: StackState) -> dict[str, Any]:
    return {
        "stack_name": state.name,
        "id": state.id,
        "stack_status": state.state,
        "stack_status_reason": state.status_reason,
        "outputs": dict(state.outputs),
        "resources": [{"name": r.name, "type": r.type, "status": r.state,
                       "physical_id": r.physical_id}
                      for r in sorted(state.resources.values(), key=lambda r: r.name)
                      if REPLACED_SEP not in r.name],
    }


def _redactor(state: StackState) -> Redactor:
    """What masks the stack's hidden values: given ones and the templates' defaults."""
    try:
        template = Template.load(state.template, files=state.files)
    except KubeheatError:
        template = None
    inputs = Inputs(dict(state.parameters), template=template)
    if template is not None:
        with contextlib.suppress(KubeheatError):
            inputs.environments = [parse_environment(state.environment)]
        return redactor(inputs)
    return Redactor(values_of(state.hidden, [state.parameters]), min_partial=CLI_MIN_PARTIAL)


def _print_summary(summary: dict[str, Any], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        out.write(render(summary, "json"))
        return
    rows = [[r["name"], r["type"], r["status"], r["physical_id"] or ""]
            for r in summary["resources"]]
    out.write(f"{summary['stack_name']}: {summary['stack_status']}"
              + (f" ({summary['stack_status_reason']})" if summary["stack_status_reason"] else "")
              + "\n")
    if rows:
        out.write(table(rows, ["Resource", "Type", "Status", "Physical ID"]))
    if summary["outputs"]:
        out.write(render({"outputs": summary["outputs"]}, "yaml"))


class Progress:
    """Shows resource status changes as they happen: plain lines, or a live table on a
    terminal."""

    def __init__(self, stream: TextIO, redact: Redactor) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self.redact = redact
        self.rows: dict[str, list[str]] = {}
        self.drawn = 0

    def __call__(self, event: Event) -> None:
        reason = self.redact.text(event.resource_status_reason)
        if not self.live:
            self.stream.write(f"{event.event_time} [{event.resource_name}]: "
                              f"{event.resource_action}_{event.resource_status}  {reason}\n")
            self.stream.flush()
            return
        self.rows[event.resource_name] = [
            event.resource_name, event.resource_type,
            f"{event.resource_action}_{event.resource_status}", reason[:60]]
        text = table(list(self.rows.values()), ["Resource", "Type", "Status", "Reason"])
        if self.drawn:
            self.stream.write(f"\x1b[{self.drawn}F\x1b[J")
        self.stream.write(text)
        self.stream.flush()
        self.drawn = text.count("\n")


class _ProgressSink(ListEventSink):
    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress

    def emit(self, event: Event) -> None:
        super().emit(event)
        self.progress(event)


def _request(args: argparse.Namespace, params: dict[str, Any]) -> tuple[StackRequest, Template]:
    bundle = collect_files(args.template, args.environment)
    # the document collect_files loaded and checked: not parsed or walked a second time
    document = bundle.template_document
    template = Template(document, files=bundle.files)
    name = args.name or args.template.stem
    request = StackRequest(name=name, template=dict(document), files=dict(bundle.files),
                           environments=list(bundle.environment_texts), parameters=params)
    return request, template


@contextlib.contextmanager
def _lock(path: Path | None) -> Iterator[None]:
    """Hold ``FILE.lock`` (our pid) while a run works on a state file."""
    if path is None:
        yield
        return
    lock = path.with_name(path.name + ".lock")
    if lock.exists() and _alive(_read_pid(lock)):
        raise UsageError(f"{path} is in use by process {_read_pid(lock)}")
    lock.write_text(str(os.getpid()), encoding="utf-8")
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def _read_pid(lock: Path) -> int:
    try:
        return int(lock.read_text(encoding="utf-8").strip() or 0)
    except (OSError, ValueError):
        return 0


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _inbox(path: Path) -> Path:
    return path.with_name(path.name + ".signals")


async def _deliver_signals(engine: Engine, path: Path, stack_id: str) -> None:
    """Deliver signals that ``kubeheat signal`` dropped into the inbox, until cancelled."""
    inbox = _inbox(path)
    while True:
        for item in sorted(inbox.glob("*.json")) if inbox.is_dir() else []:
            try:
                message = json.loads(item.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                item.unlink(missing_ok=True)
                continue
            item.unlink(missing_ok=True)
            target = _find_stack(engine, stack_id, message.get("stack", ""))
            with contextlib.suppress(KubeheatError):
                await engine.signal(target or stack_id, str(message.get("resource")),
                                    message.get("details"))
        await asyncio.sleep(SIGNAL_POLL_SECONDS)


def _find_stack(engine: Engine, root: str, wanted: str) -> str | None:
    """The id of the stack named or identified ``wanted`` (the root or one of its children)."""
    for stack_id in engine.store.list():
        state = engine.load(stack_id)
        if state is not None and wanted in (state.id, state.name):
            return state.id
    return root if wanted in ("", root) else None


def _exit_code(state: StackState) -> int:
    """0 when the requested operation completed (:attr:`StackState.completed`); 1 when it
    failed, including a failure that was rolled back (``ROLLBACK_COMPLETE``), as
    ``openstack stack create --wait`` reports it."""
    return 0 if state.completed else 1


# -- commands ---------------------------------------------------------------------------------
def run_cmd(args: argparse.Namespace) -> int:
    try:
        params = parse_parameters(args)
        session = Session(args.state, args)
    except (UsageError, ValueError) as exc:
        error(str(exc))
        return 2
    try:
        request, template = _request(args, params)
    except KubeheatError as exc:
        error(given_redactor(params).text(str(exc)))
        return 2
    request.timeout_minutes = args.timeout
    request.disable_rollback = args.disable_rollback
    inputs = Inputs(params, template=template)
    with contextlib.suppress(KubeheatError):
        inputs.environments = [parse_environment(text, name=str(path)) for path, text in
                               zip(args.environment, request.environments, strict=True)]
    redact = redactor(inputs)
    progress = Progress(sys.stderr, redact)
    session.events = _ProgressSink(progress)
    try:
        with _lock(args.state):
            state = asyncio.run(_run(session, request, args))
    except UsageError as exc:
        error(str(exc))
        return 2
    except EngineError as exc:
        error(redact.text(str(exc)))
        return 1
    except KubeheatError as exc:
        error(redact.text(str(exc)))
        return 2
    finally:
        session.close()
    summary = redact.data(_summary(state))
    _print_summary(summary, args.format, sys.stdout)
    return _exit_code(state)


async def _run(session: Session, request: StackRequest, args: argparse.Namespace
               ) -> StackState:
    engine = session.engine(args.concurrency)
    root = session.root
    stack_id = root or str(uuid.uuid4())
    if session.file is not None and root is None:
        session.file.set_root(stack_id)
    poller: asyncio.Task[None] | None = None
    if args.state is not None:
        poller = asyncio.create_task(_deliver_signals(engine, args.state, stack_id))
    try:
        state = await engine.apply(request, stack_id)
        if args.delete:
            session.persist_events()
            deleted = await engine.delete(stack_id)
            if deleted.status == Status.FAILED:
                return deleted
            state.action, state.status = deleted.action, deleted.status
            state.status_reason = deleted.status_reason
            state.resources = deleted.resources
        return state
    finally:
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
        engine.close()


def plan_cmd(args: argparse.Namespace) -> int:
    try:
        params = parse_parameters(args)
        if args.state is not None and not args.state.exists():
            raise UsageError(f"state file {args.state} does not exist")
        session = Session(args.state, args)
    except (UsageError, ValueError) as exc:
        error(str(exc))
        return 2
    try:
        request, _ = _request(args, params)
        engine = session.engine()
        try:
            result = asyncio.run(engine.plan(request, session.root))
        finally:
            engine.close()
            session.close()
    except KubeheatError as exc:
        error(given_redactor(params).text(str(exc)))
        return 2
    data = result.to_dict()
    text = result.table()
    print(render(data, args.format, text if text.endswith("\n") else text + "\n"), end="")
    return 0


def delete_cmd(args: argparse.Namespace) -> int:
    try:
        session, root = _require_state(args.state, args)
    except UsageError as exc:
        error(str(exc))
        return 2
    before = session.store.load(root)
    redact = _redactor(before) if before is not None else Redactor()
    session.events = _ProgressSink(Progress(sys.stderr, redact))

    async def go() -> StackState:
        engine = session.engine()
        try:
            return await engine.delete(root)
        finally:
            engine.close()

    try:
        with _lock(args.state):
            state = asyncio.run(go())
    except (UsageError, KubeheatError) as exc:
        error(str(exc))
        return 1
    finally:
        session.close()
    _print_summary(redact.data(_summary(state)), args.format, sys.stdout)
    return _exit_code(state)


def events_cmd(args: argparse.Namespace) -> int:
    try:
        session, root = _require_state(args.state)
    except UsageError as exc:
        error(str(exc))
        return 2
    state = session.store.load(root)
    redact = _redactor(state) if state is not None else Redactor()
    assert session.file is not None
    events = [e for e in session.file.extra(EVENTS_SECTION) or []
              if args.resource in (None, e.get("resource_name"))]
    events = redact.data(events)
    rows = [[e["event_time"], e["resource_name"],
             f"{e['resource_action']}_{e['resource_status']}", e["resource_status_reason"]]
            for e in events]
    print(render(events, args.format,
                 table(rows, ["Time", "Resource", "Status", "Reason"])), end="")
    return 0


def _recorded(args: argparse.Namespace) -> StackState | None:
    """The stack recorded in ``--state`` (None, with the error printed, when there is none)."""
    try:
        session, root = _require_state(args.state)
    except UsageError as exc:
        error(str(exc))
        return None
    return session.store.load(root)


def output_show_cmd(args: argparse.Namespace) -> int:
    state = _recorded(args)
    if state is None:
        return 2
    outputs = _redactor(state).data(dict(state.outputs))
    errors = dict(state.output_errors)
    if args.name is not None:
        if args.name not in outputs and args.name not in errors:
            error(f"Output {args.name} not found.")
            return 1
        entry: dict[str, Any] = {"output_key": args.name, "output_value": outputs.get(args.name)}
        if args.name in errors:
            entry["output_error"] = errors[args.name]
        print(render(entry, args.format, table([[args.name, json.dumps(
            entry["output_value"], default=str)]], ["Output", "Value"])), end="")
        return 0
    rows = [[k, json.dumps(v, default=str)] for k, v in outputs.items()]
    print(render(outputs, args.format, table(rows, ["Output", "Value"])), end="")
    return 0


def output_list_cmd(args: argparse.Namespace) -> int:
    state = _recorded(args)
    if state is None:
        return 2
    descriptions: dict[str, str] = {}
    try:
        tmpl = Template.load(state.template, files=state.files)
        for name, snippet in tmpl.output_snippets.items():
            if isinstance(snippet, dict):
                descriptions[name] = str(snippet.get("description")
                                         or snippet.get("Description") or "")
    except KubeheatError:
        pass
    names = sorted(set(state.outputs) | set(state.output_errors))
    data = [{"output_key": n, "description": descriptions.get(n, "")} for n in names]
    rows = [[d["output_key"], d["description"]] for d in data]
    print(render(data, args.format, table(rows, ["Output", "Description"])), end="")
    return 0


def signal_cmd(args: argparse.Namespace) -> int:
    details: Any = None
    if args.data is not None:
        try:
            details = json.loads(args.data)
        except ValueError as exc:
            error(f"--data is not valid JSON: {exc}")
            return 2
    try:
        if not args.state.exists():
            raise UsageError(f"state file {args.state} does not exist")
    except UsageError as exc:
        error(str(exc))
        return 2
    lock = args.state.with_name(args.state.name + ".lock")
    if lock.exists() and _alive(_read_pid(lock)):
        inbox = _inbox(args.state)
        inbox.mkdir(exist_ok=True)
        item = inbox / f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.json"
        tmp = item.with_suffix(".tmp")
        tmp.write_text(json.dumps({"stack": args.stack, "resource": args.resource,
                                   "details": details}), encoding="utf-8")
        tmp.replace(item)
        print(f"Signal queued for {args.stack}/{args.resource} (delivered by process "
              f"{_read_pid(lock)})")
        return 0
    try:
        session, root = _require_state(args.state, args)
    except UsageError as exc:
        error(str(exc))
        return 2

    async def go() -> None:
        engine = session.engine()
        try:
            target = _find_stack(engine, root, args.stack)
            if target is None:
                raise EngineError(f"The Stack ({args.stack}) could not be found.")
            await engine.signal(target, args.resource, details)
        finally:
            engine.close()

    try:
        asyncio.run(go())
    except KubeheatError as exc:
        error(str(exc))
        return 1
    finally:
        session.close()
    print(f"Signal sent to {args.stack}/{args.resource}")
    return 0


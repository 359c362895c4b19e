"""The work of the stack commands (``run``, ``plan``, ``delete``, ``signal``; their arguments are
in :mod:`kubeheat.cli.stack_cmds`, the reading commands in :mod:`kubeheat.cli.records`): the
engine run in-process on a state file's stores (:mod:`kubeheat.cli.statefile`), progress on
stderr, the result on stdout, hidden values masked.

What is printed is masked by structure: outputs as data, reasons and messages as text, and
identifiers (stack and resource ids, physical ids, times) only where they are a secret as a
whole, so that masking never garbles them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from kubeheat.cli.args import UsageError, parse_parameters
from kubeheat.cli.files import collect_files, source_stem
from kubeheat.cli.inputs import Inputs, given_redactor, redactor
from kubeheat.cli.output import error, printable, render, table
from kubeheat.cli.statefile import Session, StateInUse, StateLock, require_state
from kubeheat.engine import (
    REPLACED_SEP,
    Engine,
    EngineError,
    Event,
    ListEventSink,
    StackRequest,
    StackState,
    Status,
)
from kubeheat.template import KubeheatError, Redactor, Template, parse_environment, values_of

SIGNAL_POLL_SECONDS = 0.2


# -- shared helpers ---------------------------------------------------------------------------
@contextlib.contextmanager
def _locked(path: Path | None) -> Iterator[None]:
    """Hold the state file's lock (nothing without ``--state``)."""
    if path is None:
        yield
        return
    with StateLock(path):
        yield


def interrupted(state: Path | None) -> int:
    """Ctrl-C: one line saying what is left, exit status 130 (as a shell reports SIGINT)."""
    if state is None:
        error("interrupted (without --state nothing was recorded)")
    else:
        error(f"interrupted: {state} records what was done; run the command again to go on, "
              f"or `kubeheat delete --state {state}` to remove the stack")
    return 130


def summary(state: StackState, redact: Redactor) -> dict[str, Any]:
    """The result of a command on a stack, masked (see the module); ``output_errors`` (output
    name -> message, as Heat's ``output_error``) only when an output could not be computed."""
    result = {
        "stack_name": state.name,
        "id": state.id,
        "stack_status": state.state,
        "stack_status_reason": redact.text(state.status_reason),
        # as Heat lists them: a failing output has its error instead of a value
        "outputs": redact.data({k: v for k, v in state.outputs.items()
                                if k not in state.output_errors}),
        **({"output_errors": {k: redact.text(v) for k, v in state.output_errors.items()}}
           if state.output_errors else {}),
        "resources": [{"name": r.name, "type": r.type, "status": r.state,
                       "physical_id": redact.whole(r.physical_id)}
                      for r in sorted(state.resources.values(), key=lambda r: r.name)
                      if REPLACED_SEP not in r.name],
    }
    if state.output_errors:
        result["output_errors"] = {k: redact.text(v) for k, v in state.output_errors.items()}
    return result


def stack_redactor(state: StackState) -> Redactor:
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
    return Redactor(values_of(state.hidden, [state.parameters]))


def _print_summary(summary: dict[str, Any], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        out.write(render(summary, "json"))
        return
    rows = [[r["name"], r["type"], r["status"], r["physical_id"] or ""]
            for r in summary["resources"]]
    reason = summary["stack_status_reason"]
    out.write(printable(f"{summary['stack_name']}: {summary['stack_status']}"
                        + (f" ({reason})" if reason else ""), lines=False) + "\n")
    if rows:
        out.write(table(rows, ["Resource", "Type", "Status", "Physical ID"]))
    if summary["outputs"]:
        out.write(render({"outputs": summary["outputs"]}, "yaml"))
    if summary.get("output_errors"):
        out.write(render({"output_errors": summary["output_errors"]}, "yaml"))


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
            line = (f"{event.event_time} [{event.resource_name}]: "
                    f"{event.resource_action}_{event.resource_status}  {reason}")
            self.stream.write(printable(line, lines=False) + "\n")
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


def _request(args: argparse.Namespace, params: dict[str, Any]
             ) -> tuple[StackRequest, Redactor]:
    """The request of ``run``/``plan``, and what masks its hidden values."""
    try:
        bundle = collect_files(args.template, args.environment)
    except KubeheatError as exc:
        # no template to tell which values are hidden: every value given is masked
        raise KubeheatError(given_redactor(params).text(str(exc))) from None
    # the document collect_files loaded and checked: not parsed or walked a second time
    document = bundle.template_document
    inputs = Inputs(params, template=Template(document, files=bundle.files))
    with contextlib.suppress(KubeheatError):
        inputs.environments = [parse_environment(text, name=str(path)) for path, text in
                               zip(args.environment, bundle.environment_texts, strict=True)]
    name = args.name or source_stem(args.template)
    request = StackRequest(name=name, template=dict(document), files=dict(bundle.files),
                           environments=list(bundle.environment_texts), parameters=params)
    return request, redactor(inputs)


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
        # the lock first: what the state file says is read once no other command can change it
        with _locked(args.state):
            return _run_locked(args, params)
    except UsageError as exc:
        error(str(exc))
        return 2
    except KeyboardInterrupt:
        return interrupted(args.state)


def _run_locked(args: argparse.Namespace, params: dict[str, Any]) -> int:
    try:
        request, redact = _request(args, params)
    except KubeheatError as exc:
        error(str(exc))
        return 2
    request.timeout_minutes = args.timeout
    request.disable_rollback = args.disable_rollback
    session = Session(args.state, args)
    session.events = _ProgressSink(Progress(sys.stderr, redact))
    try:
        state = asyncio.run(_run(session, request, args))
    except EngineError as exc:
        error(redact.text(str(exc)))
        return 1
    except KubeheatError as exc:
        error(redact.text(str(exc)))
        return 2
    finally:
        session.close()
    _print_summary(summary(state, redact), args.format, sys.stdout)
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
        session = Session(args.state, args, readonly=True)
    except UsageError as exc:
        error(str(exc))
        return 2
    redact = given_redactor(params)
    try:
        request, redact = _request(args, params)
        engine = session.engine()
        try:
            result = asyncio.run(engine.plan(request, session.root))
        finally:
            engine.close()
    except KubeheatError as exc:
        error(redact.text(str(exc)))
        return 2
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    finally:
        session.close()
    data = result.to_dict()
    for entry in data.get("resources") or []:
        entry["reason"] = redact.text(str(entry.get("reason") or ""))
        entry["physical_id"] = redact.whole(entry.get("physical_id"))
    text = redact.text(result.table())
    print(render(data, args.format, printable(text if text.endswith("\n") else text + "\n")),
          end="")
    return 0


def delete_cmd(args: argparse.Namespace) -> int:
    try:
        if not args.state.exists():
            raise UsageError(f"state file {args.state} does not exist")
        with StateLock(args.state):
            return _delete_locked(args)
    except UsageError as exc:
        error(str(exc))
        return 2
    except KeyboardInterrupt:
        return interrupted(args.state)


def _delete_locked(args: argparse.Namespace) -> int:
    session, root = require_state(args.state, args)
    redact = Redactor()
    try:
        before = session.store.load(root)
        assert before is not None
        redact = stack_redactor(before)
        session.events = _ProgressSink(Progress(sys.stderr, redact))
        if args.timeout is not None:
            # the stack's timeout, which Heat applies to a delete too
            before.timeout_minutes = args.timeout
            session.store.save(before)

        async def go() -> StackState:
            engine = session.engine()
            try:
                return await engine.delete(root)
            finally:
                engine.close()

        state = asyncio.run(go())
    except KubeheatError as exc:
        error(redact.text(str(exc)))
        return 1
    finally:
        session.close()
    _print_summary(summary(state, redact), args.format, sys.stdout)
    return _exit_code(state)


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
        with StateLock(args.state):
            return _signal_locked(args, details)
    except StateInUse as exc:
        return _queue_signal(args, details, exc.pid)
    except UsageError as exc:
        error(str(exc))
        return 2


def _queue_signal(args: argparse.Namespace, details: Any, pid: int) -> int:
    """Leave the signal for the command working on the stack (it holds the lock)."""
    inbox = _inbox(args.state)
    inbox.mkdir(exist_ok=True)
    item = inbox / f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.json"
    tmp = item.with_suffix(".tmp")
    tmp.write_text(json.dumps({"stack": args.stack, "resource": args.resource,
                               "details": details}), encoding="utf-8")
    tmp.replace(item)
    print(printable(f"Signal queued for {args.stack}/{args.resource} (delivered by "
                    f"{f'process {pid}' if pid else 'the running command'})", lines=False))
    return 0


def _signal_locked(args: argparse.Namespace, details: Any) -> int:
    session, root = require_state(args.state, args)

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
        state = session.store.load(root)
        error(stack_redactor(state).text(str(exc)) if state is not None else str(exc))
        return 1
    finally:
        session.close()
    print(printable(f"Signal sent to {args.stack}/{args.resource}", lines=False))
    return 0

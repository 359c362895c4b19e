"""Running the operator in-process: logging, the metrics endpoint and kopf's main loop."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import kopf

from kubeheat.controller.handlers import Controller
from kubeheat.controller.limits import run_deep
from kubeheat.controller.runs import Options
from kubeheat.controller.scheduling import default_namespace_share

#: the name prefix of the engines' pool threads (kubeheat.engine's Runtime)
ENGINE_THREADS = "kubeheat-engine"

#: things that look like credentials in log text, masked whatever logs them
_SECRETISH = re.compile(r"(?i)((?:password|secret|token|authorization)[\"']?\s*[:=]\s*[\"']?)"
                        r"([^\s\"',}]+)")


class _Redacting(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and not record.args:
            record.msg = _SECRETISH.sub(r"\1******", record.msg)
        elif record.args:
            try:
                text = record.getMessage()
            except Exception:
                return True
            record.msg, record.args = _SECRETISH.sub(r"\1******", text), ()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message (+ object, exception)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "logger": record.name,
            "message": record.getMessage()}
        ref = getattr(record, "k8s_ref", None)
        if isinstance(ref, dict):
            out["object"] = {k: ref.get(k) for k in ("namespace", "name", "uid") if ref.get(k)}
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def configure_logging(level: str, fmt: str) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(
            "[%(asctime)s] %(name)-24.24s [%(levelname)-7.7s] %(message)s"))
    handler.addFilter(_Redacting())
    root.addHandler(handler)
    root.setLevel(level.upper())
    # kopf's per-object debug chatter and aiohttp's access logs stay quiet unless debugging
    if level.upper() != "DEBUG":
        logging.getLogger("kopf").setLevel(max(logging.INFO, root.level))
        logging.getLogger("kopf.objects").setLevel(max(logging.WARNING, root.level))
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    for noisy in ("openstack", "keystoneauth", "urllib3", "stevedore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


@dataclass
class OperatorConfig:
    namespaces: Sequence[str] = ()
    all_namespaces: bool = False
    options: Options = field(default_factory=Options)
    log_level: str = "info"
    log_format: str = "text"
    metrics_port: int | None = 8080
    health_port: int | None = 8081
    bind: str = "0.0.0.0"
    peering: str | None = None
    priority: int = 0
    standalone: bool = True


def run(config: OperatorConfig) -> int:
    """Run until SIGINT/SIGTERM; returns the exit code."""
    configure_logging(config.log_level, config.log_format)
    controller = Controller(config.options)
    registry = kopf.OperatorRegistry()
    controller.register(registry)
    if config.metrics_port is not None:
        controller.metrics.serve(config.metrics_port, config.bind)
    liveness = (f"http://{config.bind}:{config.health_port}/healthz"
                if config.health_port is not None else None)
    clusterwide = config.all_namespaces or not config.namespaces
    logging.getLogger("kubeheat.controller").info(
        "kubeheat operator starting: %s, concurrency %d (%d a namespace), default stack "
        "timeout %s, %s",
        "all namespaces" if clusterwide else "namespaces " + ", ".join(config.namespaces),
        config.options.concurrency, config.options.namespace_concurrency
        or default_namespace_share(config.options.concurrency),
        f"{config.options.default_timeout_minutes:g} min"
        if config.options.default_timeout_minutes else "none",
        f"peering {config.peering} priority {config.priority}" if not config.standalone
        else "standalone")
    run_deep(lambda stop: kopf.run(   # review H3: any depth the apiserver serves decodes
        registry=registry, standalone=config.standalone, priority=config.priority,
        peering_name=config.peering, liveness_endpoint=liveness, clusterwide=clusterwide,
        namespaces=[] if clusterwide else list(config.namespaces), stop_flag=stop))
    _exit_now_if_busy()
    return 0


def _exit_now_if_busy() -> None:
    """kopf has stopped. A template evaluation still running in an engine thread cannot be
    interrupted, and Python would wait for it at exit (its pool's threads are joined), so
    the process ends here at once instead: there is nothing left to save, the state of every
    operation is written as it goes, and a restarted operator resumes."""
    # the engines' pool threads are joined at exit even as daemons (which they are when
    # started from run_deep's daemon thread): count them by name, with every non-daemon thread
    busy = [t.name for t in threading.enumerate()
            if t is not threading.current_thread() and t.is_alive()
            and (not t.daemon or t.name.startswith(ENGINE_THREADS))]
    if not busy:
        return
    logging.getLogger("kubeheat.controller").warning(
        "kubeheat operator stopped; not waiting for %d busy thread(s): %s", len(busy),
        ", ".join(sorted(busy)[:5]))
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)

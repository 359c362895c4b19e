"""Prometheus metrics of the operator, served on ``/metrics`` (prometheus-client).

The OpenStack API call counters come from the cloud sessions' own counters
(:meth:`kubeheat.cloud.session.CloudSession.metrics`), collected at scrape time, so they are
exact and cost nothing between scrapes.
"""

from __future__ import annotations

import threading
from collections import Counter as TallyCounter
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from kubeheat.controller.kube import API_REQUESTS

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)


class _CloudCollector(Collector):
    """OpenStack API calls by service, method and status, from every cloud session."""

    def __init__(self, sessions: Callable[[], list[Any]]) -> None:
        self._sessions = sessions
        self._lock = threading.Lock()
        #: totals of sessions that were closed (so counters never go down)
        self.retired: TallyCounter[tuple[str, str, str]] = TallyCounter()

    def retire(self, session: Any) -> None:
        with self._lock:
            self.retired.update(dict(session.metrics().calls))

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        calls = CounterMetricFamily("kubeheat_openstack_api_calls",
                                    "OpenStack API calls made (every attempt)",
                                    labels=["service", "method", "status"])
        total: TallyCounter[tuple[str, str, str]] = TallyCounter()
        with self._lock:
            total.update(self.retired)
        for session in self._sessions():
            try:
                total.update(dict(session.metrics().calls))
            except Exception:  # pragma: no cover - a closing session
                continue
        for (service, method, status), n in sorted(total.items()):
            calls.add_metric([service, method, status], n)
        yield calls
        kube = CounterMetricFamily("kubeheat_kubernetes_api_requests",
                                   "Kubernetes API requests made by the controller (not kopf)",
                                   labels=["verb", "resource"])
        for (verb, resource), n in sorted(API_REQUESTS.items()):
            kube.add_metric([verb, resource], n)
        yield kube


class Metrics:
    """Every metric the operator exports, on its own registry."""

    def __init__(self, sessions: Callable[[], list[Any]] | None = None) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.reconcile_duration = Histogram(
            "kubeheat_reconcile_duration_seconds", "Duration of Stack reconciles by outcome",
            ["operation", "outcome"], buckets=BUCKETS, registry=r)
        self.stacks = Gauge("kubeheat_stacks", "Stacks by stackStatus", ["stack_status"],
                            registry=r)
        self.resource_actions = Counter(
            "kubeheat_resource_actions", "Resource actions by type, action and result",
            ["type", "action", "result"], registry=r)
        self.drift_detections = Counter(
            "kubeheat_drift_detections", "Drift checks that found drift", ["policy"],
            registry=r)
        self.drift_checks = Counter("kubeheat_drift_checks", "Drift checks run", registry=r)
        self.queue_depth = Gauge("kubeheat_reconcile_queue_depth",
                                 "Stack operations waiting for a free worker", registry=r)
        self.in_flight = Gauge("kubeheat_reconciles_in_flight",
                               "Stack operations running", registry=r)
        self.cloud = _CloudCollector(sessions or list)
        r.register(self.cloud)
        self._status: dict[str, str] = {}
        self._lock = threading.Lock()

    def set_stack_status(self, key: str, status: str | None) -> None:
        """Track one Stack's stackStatus (None: the Stack is gone)."""
        with self._lock:
            old = self._status.pop(key, None)
            if old is not None:
                self.stacks.labels(old).dec()
            if status is not None:
                self._status[key] = status
                self.stacks.labels(status).inc()

    def serve(self, port: int, addr: str = "0.0.0.0") -> None:
        start_http_server(port, addr=addr, registry=self.registry)

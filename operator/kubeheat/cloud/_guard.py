"""The HTTP-level guard every OpenStack call of a session passes through.

:class:`GuardedAdapter` is a requests transport adapter mounted on the keystoneauth session
that openstacksdk uses, so every call (token requests, version discovery, API calls) goes
through one place for: retries with backoff, a rate limit, a concurrency limit, default
timeouts, call counters, and scrubbing of credentials from error bodies.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import re
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter

LOG = logging.getLogger(__name__)

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_SERVICE_ALIASES = {"volumev3": "block-storage", "volumev2": "block-storage",
                    "volume": "block-storage", "block-store": "block-storage"}
_VERSION_TAIL = re.compile(r"/v\d+(\.\d+)?(/.*)?$")
REDACTED = "<redacted>"


@dataclass(frozen=True)
class RetryPolicy:
    """When and how often a failed call is tried again.

    Idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS) are retried on ``statuses`` and on
    connection errors and timeouts. Other methods (POST, PATCH) are retried only on
    ``unsafe_statuses`` -- answers that say the request was not carried out (409 conflict,
    429 too many requests, 503 unavailable) -- and on failures to connect, because a 500 or a
    read timeout after a POST may hide a resource that was created.
    """

    max_retries: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 60.0
    jitter: float = 0.2
    statuses: frozenset[int] = frozenset({409, 429, 500, 502, 503, 504})
    unsafe_statuses: frozenset[int] = frozenset({409, 429, 503})

    def backoff(self, attempt: int, rng: random.Random) -> float:
        delay = min(self.backoff_max, self.backoff_base * 2.0 ** attempt)
        return float(delay * (1.0 + self.jitter * rng.random()))


@dataclass(frozen=True)
class SessionOptions:
    """Limits and timeouts of one cloud session.

    ``rate_limit`` is in requests per second (``None``: unlimited) with bursts of up to
    ``burst``; ``max_concurrency`` bounds the requests in flight at once. ``sleep`` is what
    waiting uses (tests pass a recorder so that nothing waits on the wall clock).
    """

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    rate_limit: float | None = None
    burst: int = 10
    max_concurrency: int = 16
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    seed: int | None = None


@dataclass(frozen=True)
class CloudMetrics:
    """A snapshot of a session's counters.

    ``calls`` counts HTTP calls (every attempt, retries included) by (service, method,
    status); the status is the HTTP status code as a string, or ``"error"`` for a call that got
    no answer (connection error or timeout).
    """

    calls: Mapping[tuple[str, str, str], int]
    retries: int
    throttled: int
    throttle_wait: float
    max_in_flight: int

    def total(self, service: str | None = None, method: str | None = None,
              status: str | int | None = None) -> int:
        return sum(n for (svc, meth, code), n in self.calls.items()
                   if (service is None or svc == service)
                   and (method is None or meth == method.upper())
                   and (status is None or code == str(status)))

    def by_service(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for (svc, _, _), n in self.calls.items():
            out[svc] += n
        return dict(out)


class Secrets:
    """The credential strings of one session, redacted from logs and error bodies."""

    MAX_TOKENS = 64

    def __init__(self, initial: list[str]) -> None:
        self._lock = threading.Lock()
        self._fixed = [s for s in initial if s and len(s) >= 4]
        self._tokens: list[str] = []

    def add_token(self, token: str | None) -> None:
        if not token or len(token) < 8:
            return
        with self._lock:
            if token in self._tokens:
                return
            self._tokens.append(token)
            del self._tokens[: -self.MAX_TOKENS]

    def values(self) -> list[str]:
        with self._lock:
            return sorted({*self._fixed, *self._tokens}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.values():
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


_ALL_SECRETS: weakref.WeakSet[Secrets] = weakref.WeakSet()
_FACTORY_LOCK = threading.Lock()
_factory_installed = False


def _install_log_redaction() -> None:
    """Wrap the logging record factory once so that no record carries a live credential."""
    global _factory_installed
    with _FACTORY_LOCK:
        if _factory_installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            secrets = list(_ALL_SECRETS)
            if not secrets:
                return record
            try:
                message = record.getMessage()
            except Exception:  # a broken format string: leave it to logging to report
                return record
            clean = message
            for holder in secrets:
                clean = holder.redact(clean)
            if clean != message:
                record.msg = clean
                record.args = None
            return record

        logging.setLogRecordFactory(factory)
        _factory_installed = True


def register_secrets(secrets: Secrets) -> None:
    _install_log_redaction()
    _ALL_SECRETS.add(secrets)


class _RateLimiter:
    """A token bucket by reservation: each request learns how long it must wait."""

    def __init__(self, rate: float | None, burst: int) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.tokens = float(self.burst)
        self.last = time.monotonic()
        self.lock = threading.Lock()

    def reserve(self) -> float:
        if self.rate is None or self.rate <= 0:
            return 0.0
        with self.lock:
            now = time.monotonic()
            self.tokens = min(float(self.burst), self.tokens + (now - self.last) * self.rate)
            self.last = now
            self.tokens -= 1.0
            return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class Guard:
    """Counters, limits and the service map of one session (shared by its adapters)."""

    def __init__(self, options: SessionOptions, secrets: Secrets, auth_url: str | None) -> None:
        self.options = options
        self.secrets = secrets
        self.rng = random.Random(options.seed)
        self._lock = threading.Lock()
        self._calls: Counter[tuple[str, str, str]] = Counter()
        self._retries = 0
        self._throttled = 0
        self._throttle_wait = 0.0
        self._in_flight = 0
        self._max_in_flight = 0
        self._slots = threading.BoundedSemaphore(max(1, options.max_concurrency))
        self._limiter = _RateLimiter(options.rate_limit, options.burst)
        self._prefixes: list[tuple[str, str]] = []
        if auth_url:
            self._learn("identity", auth_url)

    # -- service map -------------------------------------------------------------------------

    def _learn(self, service: str, url: str) -> None:
        service = _SERVICE_ALIASES.get(service, service)
        roots = {url.rstrip("/"), _VERSION_TAIL.sub("", url.rstrip("/"))}
        with self._lock:
            for root in roots:
                if root and all(p != root for p, _ in self._prefixes):
                    self._prefixes.append((root, service))
            self._prefixes.sort(key=lambda p: -len(p[0]))

    def learn_catalog(self, body: Any) -> None:
        token = body.get("token") if isinstance(body, dict) else None
        catalog = token.get("catalog") if isinstance(token, dict) else None
        if not isinstance(catalog, list):
            return
        for entry in catalog:
            if not isinstance(entry, dict):
                continue
            for endpoint in entry.get("endpoints") or []:
                if isinstance(endpoint, dict) and endpoint.get("url"):
                    self._learn(str(entry.get("type", "unknown")), str(endpoint["url"]))

    def service_of(self, url: str) -> str:
        base = url.split("?", 1)[0]
        with self._lock:
            for prefix, service in self._prefixes:
                if base == prefix or base.startswith(prefix + "/"):
                    return service
        return "unknown"

    # -- limits and counters -----------------------------------------------------------------

    @contextmanager
    def slot(self) -> Iterator[None]:
        wait = self._limiter.reserve()
        if wait > 0:
            with self._lock:
                self._throttled += 1
                self._throttle_wait += wait
            self.options.sleep(wait)
        with self._slots:
            with self._lock:
                self._in_flight += 1
                self._max_in_flight = max(self._max_in_flight, self._in_flight)
            try:
                yield
            finally:
                with self._lock:
                    self._in_flight -= 1

    def count(self, service: str, method: str, status: str) -> None:
        with self._lock:
            self._calls[(service, method, status)] += 1

    def count_retry(self) -> None:
        with self._lock:
            self._retries += 1

    def metrics(self) -> CloudMetrics:
        with self._lock:
            return CloudMetrics(dict(self._calls), self._retries, self._throttled,
                                self._throttle_wait, self._max_in_flight)


def _retry_after(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _replayable(request: requests.PreparedRequest) -> bool:
    return request.body is None or isinstance(request.body, bytes | str)


class GuardedAdapter(HTTPAdapter):
    """A requests adapter that retries, limits, times out, counts and scrubs."""

    def __init__(self, guard: Guard) -> None:
        super().__init__()
        self.guard = guard

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        guard = self.guard
        policy = guard.options.retry
        method = (request.method or "GET").upper()
        service = guard.service_of(request.url or "")
        if timeout is None:
            timeout = (guard.options.connect_timeout, guard.options.read_timeout)
        token = request.headers.get("X-Auth-Token")
        if isinstance(token, str):
            guard.secrets.add_token(token)
        attempt = 0
        while True:
            try:
                with guard.slot():
                    resp = super().send(request, stream=stream, timeout=timeout, verify=verify,
                                        cert=cert, proxies=dict(proxies or {}) or None)
            except (requests.ConnectionError, requests.Timeout) as exc:
                guard.count(service, method, "error")
                connect_failed = isinstance(exc, requests.ConnectTimeout) or (
                    isinstance(exc, requests.ConnectionError)
                    and not isinstance(exc, requests.ReadTimeout)
                    and "NewConnectionError" in repr(exc)
                )
                may_retry = method in IDEMPOTENT or connect_failed
                if attempt >= policy.max_retries or not may_retry or not _replayable(request):
                    raise
                delay = policy.backoff(attempt, guard.rng)
                LOG.info("%s %s %s failed (%s); retry %d in %.2fs", service, method,
                         _path(request.url), type(exc).__name__, attempt + 1, delay)
            else:
                status = resp.status_code
                guard.count(service, method, str(status))
                allowed = policy.statuses if method in IDEMPOTENT else policy.unsafe_statuses
                if (status not in allowed or attempt >= policy.max_retries
                        or not _replayable(request)):
                    return self._finish(resp, method, status)
                delay = policy.backoff(attempt, guard.rng)
                hinted = _retry_after(resp)
                if hinted is not None:
                    delay = max(delay, min(hinted, policy.retry_after_max))
                LOG.info("%s %s %s answered %d; retry %d in %.2fs", service, method,
                         _path(request.url), status, attempt + 1, delay)
                resp.close()
            attempt += 1
            guard.count_retry()
            guard.options.sleep(delay)

    def _finish(self, resp: requests.Response, method: str, status: int) -> requests.Response:
        guard = self.guard
        subject = resp.headers.get("X-Subject-Token")
        if subject:
            guard.secrets.add_token(subject)
        if method == "POST" and status == 201 and subject:
            with contextlib.suppress(ValueError):
                guard.learn_catalog(json.loads(resp.content))
        if status >= 400 and resp.content:
            text = resp.content.decode(resp.encoding or "utf-8", errors="replace")
            clean = guard.secrets.redact(text)
            if clean != text:
                resp._content = clean.encode()
        return resp


def _path(url: str | None) -> str:
    if not url:
        return ""
    return re.sub(r"^[a-z]+://[^/]+", "", url).split("?", 1)[0]

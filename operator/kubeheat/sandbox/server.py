"""The sandbox's HTTP server: routing to services, auth, fault injection and a request log."""

from __future__ import annotations

import asyncio
import base64
import copy
import logging
import socket
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from kubeheat.sandbox._http import ApiError, Req, Resp
from kubeheat.sandbox._service import Service
from kubeheat.sandbox.cinder import Cinder
from kubeheat.sandbox.config import FaultRule, SandboxConfig
from kubeheat.sandbox.glance import Glance
from kubeheat.sandbox.keystone import UNAUTHORIZED, Keystone, region_prefix
from kubeheat.sandbox.neutron import Neutron
from kubeheat.sandbox.nova import Nova
from kubeheat.sandbox.state import CloudState
from kubeheat.sandbox.swift import Swift

LOG = logging.getLogger(__name__)

_FAULT_MESSAGES = {
    409: "There was a conflict when trying to complete your request.",
    429: "Rate limit exceeded, please retry later.",
    500: "An unexpected error prevented the server from fulfilling your request.",
    502: "Bad gateway.",
    503: "The server is currently unavailable. Please try again at a later time.",
    504: "The gateway timed out.",
}


def _to_json(value: Any) -> Any:
    """A deep copy with bytes (object and image data) as ``{"__bytes__": base64}``."""
    if isinstance(value, bytes):
        return {"__bytes__": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    return copy.copy(value)


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__bytes__"}:
            return base64.b64decode(value["__bytes__"])
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


@dataclass(frozen=True)
class RequestRecord:
    """One request the sandbox answered (``injected``: by a fault rule, not the service)."""

    service: str
    method: str
    path: str
    query: str
    status: int
    injected: bool = False


class SandboxCloud:
    """An in-memory OpenStack cloud served over HTTP on the loopback interface.

    Start it with ``await cloud.start()`` inside a running event loop, or from synchronous
    code with :func:`run_sandbox`, which runs it in a background thread.
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        if not self.config.host.startswith("127.") and self.config.host != "localhost":
            raise ValueError("the sandbox only listens on the loopback interface")
        self.state = CloudState(self.config)
        self.keystone = Keystone(self.state)
        self.nova = Nova(self.state)
        self.neutron = Neutron(self.state)
        self.cinder = Cinder(self.state)
        self.glance = Glance(self.state)
        self.swift = Swift(self.state)
        self.nova.neutron = self.neutron
        self.nova.cinder = self.cinder
        self.services: list[Service] = sorted(
            [self.keystone, self.nova, self.neutron, self.cinder, self.glance, self.swift],
            key=lambda s: -len(s.prefix),
        )
        self._faults: list[FaultRule] = list(self.config.faults)
        self._log: list[RequestRecord] = []
        self._runner: web.AppRunner | None = None
        self._port = 0
        self.neutron.seed_defaults()
        self.nova.seed_defaults()
        self.glance.seed_defaults()
        #: the other regions: their own state (sharing the identity and the lock) and services
        self.regions: dict[str, _Region] = {
            name: _Region(self.state, name) for name in self.config.extra_regions}

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on ``config.host``:``config.port`` (0 picks a free port)."""
        if self._runner is not None:
            raise RuntimeError("sandbox already started")
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.config.host, self.config.port))
        self._port = sock.getsockname()[1]
        self.state.base_url = f"http://{self.config.host}:{self._port}"
        for region in self.regions.values():
            region.state.base_url = self.state.base_url + region_prefix(region.name)
        site = web.SockSite(runner, sock)
        await site.start()
        self._runner = runner
        LOG.info("sandbox cloud listening on %s", self.state.base_url)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- where it is -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if not self.state.base_url:
            raise RuntimeError("sandbox not started")
        return self.state.base_url

    @property
    def port(self) -> int:
        return self._port

    @property
    def auth_url(self) -> str:
        return f"{self.url}/identity"

    @property
    def project_id(self) -> str:
        return str(self.state.project["id"])

    @property
    def cloud_config(self) -> dict[str, Any]:
        """The clouds.yaml entry of this cloud (with its password)."""
        cfg = self.config
        return {
            "auth": {
                "auth_url": self.auth_url,
                "username": cfg.username,
                "password": cfg.password,
                "project_name": cfg.project_name,
                "user_domain_name": cfg.user_domain,
                "project_domain_name": cfg.project_domain,
            },
            "auth_type": "password",
            "region_name": cfg.region,
            "identity_api_version": 3,
            "interface": "public",
        }

    @property
    def clouds(self) -> dict[str, Any]:
        """The whole clouds.yaml document as a dict."""
        return {"clouds": {self.config.cloud_name: self.cloud_config}}

    @property
    def clouds_yaml(self) -> str:
        """The clouds.yaml document as text."""
        return yaml.safe_dump(self.clouds, sort_keys=False)

    def write_clouds_yaml(self, path: str | Path) -> Path:
        target = Path(path)
        target.write_text(self.clouds_yaml)
        target.chmod(0o600)
        return target

    # -- faults and inspection ---------------------------------------------------------------

    def add_fault(self, rule: FaultRule) -> FaultRule:
        with self.state.lock:
            self._faults.append(rule)
        return rule

    def remove_fault(self, rule: FaultRule) -> None:
        with self.state.lock:
            self._faults = [r for r in self._faults if r is not rule]

    def clear_faults(self) -> None:
        with self.state.lock:
            self._faults = []

    @property
    def faults(self) -> list[FaultRule]:
        with self.state.lock:
            return list(self._faults)

    def request_log(self, service: str | None = None) -> list[RequestRecord]:
        with self.state.lock:
            return [r for r in self._log if service is None or r.service == service]

    def clear_request_log(self) -> None:
        with self.state.lock:
            self._log.clear()

    def fail_server(self, server_id: str, message: str = "Injected failure") -> None:
        """Put a server into ERROR with a fault carrying ``message``."""
        with self.state.lock:
            self.state.settle()
            self.nova.set_error(server_id, message)

    def fail_volume(self, volume_id: str) -> None:
        """Put a volume into ``error``."""
        with self.state.lock:
            self.state.settle()
            self.cinder.set_error(volume_id)

    def vanish(self, kind: str, ident: str) -> None:
        """Remove a resource out of band, as if someone deleted it behind our back.

        ``kind`` is one of :attr:`CloudState.KINDS` (``servers``, ``ports``, ...); for
        ``containers`` the id is the container's name.
        """
        with self.state.lock:
            self.state.settle()
            if ident not in self.state[kind]:
                raise KeyError(f"no {kind} {ident}")
            for service in self.services:
                if service.vanish(kind, ident):
                    return
            del self.state[kind][ident]

    def resources(self, kind: str, region: str | None = None) -> list[dict[str, Any]]:
        """A snapshot of the raw records of ``kind`` in ``region`` (default: the first), for
        assertions in tests."""
        state = self.state if region in (None, self.config.region) else \
            self.regions[str(region)].state
        with self.state.lock:
            state.settle()
            return [dict(r) for r in state[kind].values()]

    # -- persistence -------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything the cloud holds, as JSON-able data (pending transitions are completed
        first), so a CLI run can keep its sandbox cloud between invocations."""
        with self.state.lock:
            self.state.fast_forward()
            data: dict[str, Any] = _to_json({
                "version": 1,
                "project": self.state.project,
                "user": self.state.user,
                "store": self.state.store,
            })
            regions = {}
            for name, region in self.regions.items():
                region.state.fast_forward()
                regions[name] = _to_json(region.state.store)
            data["regions"] = regions
            return data

    def restore(self, snapshot: Mapping[str, Any]) -> None:
        """Load what :meth:`snapshot` returned, replacing the current contents."""
        if snapshot.get("version") != 1:
            raise ValueError("not a sandbox snapshot")
        with self.state.lock:
            self.state.project = dict(snapshot["project"])
            self.state.user = dict(snapshot["user"])
            store = _from_json(dict(snapshot["store"]))
            self.state.store = {kind: dict(store.get(kind, {})) for kind in self.state.KINDS}
            self.state.tokens.clear()
            for name, saved in dict(snapshot.get("regions") or {}).items():
                region = self.regions.get(name)
                if region is not None:      # a region this sandbox no longer has is dropped
                    region.restore(_from_json(dict(saved)))
            for region in self.regions.values():
                region.share_identity()

    # -- dispatch ----------------------------------------------------------------------------

    def _service_for(self, path: str) -> tuple[Service | None, str]:
        """The service serving ``path`` (None: none) and the path within the region."""
        services = self.services
        if path.startswith("/regions/"):
            name, _, rest = path[len("/regions/"):].partition("/")
            region = self.regions.get(name)
            if region is None:
                return None, path
            services, path = region.services, "/" + rest
        for service in services:
            if path == service.prefix or path.startswith(service.prefix + "/"):
                return service, path
        return None, path

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        service, path = self._service_for(request.path)
        name = service.name if service is not None else "unknown"
        method = request.method.upper()
        delay = 0.0
        injected: Resp | None = None
        after = False
        with self.state.lock:
            for rule in self._faults:
                if not rule.matches(method, path):
                    continue
                delay += rule.latency
                if rule.status is not None:
                    if rule.passes() or not self.state.chance(rule.rate):
                        continue
                    rule.fired += 1
                    injected = self._fault_response(service, rule)
                    after = rule.after
                    break
                rule.fired += 1
        if delay > 0:
            await asyncio.sleep(delay)
        body = await request.read()
        if injected is not None and not after:
            resp = injected
        elif service is None:
            resp = Resp(404, "404 Not Found", content_type="text/plain")
        else:
            resp = self._handle(service, request, path, body)
            if injected is not None:        # carried out, then answered with the fault
                resp = injected
        with self.state.lock:
            self._log.append(
                RequestRecord(name, method, path, request.query_string, resp.status,
                              injected is not None)
            )
        headers = dict(resp.headers)
        request_id = f"req-{uuid.uuid4()}"
        headers.setdefault("X-Openstack-Request-Id", request_id)
        if name == "compute":
            headers.setdefault("X-Compute-Request-Id", request_id)
        content = resp.encoded()
        if content or resp.status not in (204, 304):
            headers.setdefault("Content-Type", resp.content_type)
        return web.Response(status=resp.status, body=content or None, headers=headers)

    def _fault_response(self, service: Service | None, rule: FaultRule) -> Resp:
        status = rule.status or 500
        message = _FAULT_MESSAGES.get(status, "Injected fault.")
        if service is None:
            resp = Resp(status, message, content_type="text/plain")
        else:
            resp = service.error(status, message).response
        if rule.retry_after is not None and status in (413, 429, 503):
            resp.headers["Retry-After"] = f"{rule.retry_after:g}"
        return resp

    def _handle(self, service: Service, request: web.Request, path: str, body: bytes) -> Resp:
        sub = path[len(service.prefix):] or "/"
        method = request.method.upper()
        route, params, known = service.router.match(method, sub)
        if route is None:
            if known:
                return Resp(405, "405 Method Not Allowed", content_type="text/plain")
            return service.error(404, "The resource could not be found.").response
        req = Req(
            method=method,
            path=sub,
            params=params,
            query=request.rel_url.query,
            headers=request.headers,
            body=body,
            base_url=service.state.base_url,
        )
        with self.state.lock:
            service.state.settle()
            if not route.public:
                token = self.keystone.token_for(request.headers.get("X-Auth-Token"))
                if token is None or (token.project_id is None and service is not self.keystone):
                    return self.keystone.error(401, UNAUTHORIZED).response
                req.project_id = token.project_id or ""
                req.user_id = token.user_id
            try:
                return route.handler(req)
            except ApiError as exc:
                return exc.response
            except Exception:  # a sandbox bug: answer like a service would, and say so
                LOG.exception("sandbox %s handler failed for %s %s", service.name, method, path)
                return service.error(500, _FAULT_MESSAGES[500]).response


class _Region:
    """A region other than the first: its own resources and services (no identity of its
    own: tokens, project and user are the first region's, as is the lock)."""

    def __init__(self, primary: CloudState, name: str) -> None:
        self.name = name
        self.primary = primary
        self.state = CloudState(primary.config)
        self.state.lock = primary.lock
        self.share_identity()
        nova, neutron, cinder = Nova(self.state), Neutron(self.state), Cinder(self.state)
        glance, swift = Glance(self.state), Swift(self.state)
        nova.neutron, nova.cinder = neutron, cinder
        self.services: list[Service] = sorted(
            [nova, neutron, cinder, glance, swift], key=lambda s: -len(s.prefix))
        neutron.seed_defaults()
        nova.seed_defaults()
        glance.seed_defaults()

    def share_identity(self) -> None:
        self.state.tokens = self.primary.tokens
        self.state.project, self.state.user = self.primary.project, self.primary.user
        self.state.domain = self.primary.domain

    def restore(self, store: Mapping[str, Any]) -> None:
        self.state.store = {kind: dict(store.get(kind, {})) for kind in self.state.KINDS}


class _Thread:
    def __init__(self, cloud: SandboxCloud) -> None:
        self.cloud = cloud
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="kubeheat-sandbox", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.cloud.start())
        except BaseException as exc:
            self.failure = exc
            self.ready.set()
            self.loop.close()
            return
        self.ready.set()
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(self.cloud.stop())
            self.loop.close()

    def start(self, timeout: float) -> None:
        self.thread.start()
        if not self.ready.wait(timeout):
            raise TimeoutError("sandbox did not start in time")
        if self.failure is not None:
            raise RuntimeError("sandbox failed to start") from self.failure

    def stop(self, timeout: float) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout)


@contextmanager
def run_sandbox(
    config: SandboxConfig | None = None, *, timeout: float = 10.0, **overrides: Any
) -> Iterator[SandboxCloud]:
    """Run a sandbox cloud in a background thread for the duration of the ``with`` block.

    Keyword overrides replace fields of ``config`` (or of the default configuration), e.g.
    ``run_sandbox(build_delay=0.05)``.
    """
    cfg = replace(config or SandboxConfig(), **overrides)
    cloud = SandboxCloud(cfg)
    runner = _Thread(cloud)
    runner.start(timeout)
    try:
        yield cloud
    finally:
        runner.stop(timeout)

"""A small asynchronous Kubernetes API client for what kopf does not do for us.

It reads Secrets and ConfigMaps, writes the state and outputs Secrets/ConfigMaps, patches the
Stack's status and posts Events. It uses aiohttp (which kopf already brings) with the same
credentials kopf logged in with (:class:`kopf.ConnectionInfo`), so there is no second client
library and no second login. Every request counts in :data:`API_REQUESTS`.
"""

from __future__ import annotations

import base64
import json
import ssl
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import kopf


class KubeError(Exception):
    """The API server refused a request (``status`` is the HTTP status, 0 without answer)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}" if status else message)
        self.status = status
        self.message = message


class NotFound(KubeError):
    pass


class Conflict(KubeError):
    pass


#: requests made by this process's clients, by (verb, resource)
API_REQUESTS: Counter[tuple[str, str]] = Counter()


def _ssl_context(info: kopf.ConnectionInfo) -> ssl.SSLContext | bool:
    if info.insecure:
        return False
    ctx = ssl.create_default_context()
    if info.ca_path:
        ctx.load_verify_locations(cafile=str(info.ca_path))
    if info.ca_data:
        data = info.ca_data.decode() if isinstance(info.ca_data, bytes) else info.ca_data
        if "BEGIN CERTIFICATE" not in data:
            data = base64.b64decode(data).decode()
        ctx.load_verify_locations(cadata=data)
    cert, key = info.certificate_path, info.private_key_path
    if info.certificate_data or info.private_key_data:
        tmp = Path(tempfile.mkdtemp(prefix="kubeheat-tls-"))
        for attr, name in (("certificate_data", "tls.crt"), ("private_key_data", "tls.key")):
            value = getattr(info, attr)
            if value:
                raw = value if isinstance(value, bytes) else value.encode()
                if b"-----BEGIN" not in raw:
                    raw = base64.b64decode(raw)
                (tmp / name).write_bytes(raw)
                (tmp / name).chmod(0o600)
        cert, key = tmp / "tls.crt", tmp / "tls.key"
    if cert:
        ctx.load_cert_chain(str(cert), str(key) if key else None)
    return ctx


class KubeClient:
    """Namespaced core/v1 and Stack status calls over one aiohttp session."""

    def __init__(self, info: kopf.ConnectionInfo, *, timeout: float = 30.0) -> None:
        self.info = info
        self.server = info.server.rstrip("/")
        headers = {"User-Agent": "kubeheat-operator"}
        if info.token:
            headers["Authorization"] = f"{info.scheme or 'Bearer'} {info.token}"
        self._headers = headers
        self._auth = aiohttp.BasicAuth(info.username, info.password or "") \
            if info.username and not info.token else None
        self._ssl = _ssl_context(info)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _sess(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers=self._headers, auth=self._auth, timeout=self._timeout,
                connector=aiohttp.TCPConnector(ssl=self._ssl, limit=32))
        return self._session

    async def request(self, method: str, path: str, body: Any = None, *,
                      content_type: str = "application/json", accept: str | None = None
                      ) -> Any:
        resource = path.split("?")[0].rstrip("/").split("/")
        kind = resource[-1] if len(resource) % 2 == 0 else resource[-2]
        if resource[-1] == "status":
            kind = resource[-3] + "/status"
        API_REQUESTS[(method, kind)] += 1
        data = None if body is None else json.dumps(body, separators=(",", ":"))
        headers = {"Content-Type": content_type} if data is not None else {}
        if accept:
            headers["Accept"] = accept
        try:
            async with self._sess().request(method, self.server + path, data=data,
                                            headers=headers) as resp:
                text = await resp.text()
                if resp.status >= 400:
                    try:
                        message = str(json.loads(text).get("message", text))
                    except (ValueError, AttributeError):
                        message = text[:500]
                    cls = NotFound if resp.status == 404 else (
                        Conflict if resp.status == 409 else KubeError)
                    raise cls(resp.status, message)
                return json.loads(text) if text else None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise KubeError(0, f"{type(exc).__name__}: {exc}") from None

    # -- core/v1 -------------------------------------------------------------------------
    @staticmethod
    def _path(namespace: str, plural: str, name: str | None = None) -> str:
        base = f"/api/v1/namespaces/{namespace}/{plural}"
        return f"{base}/{name}" if name else base

    async def get(self, namespace: str, plural: str, name: str) -> dict[str, Any] | None:
        """A Secret or ConfigMap (``plural``: secrets, configmaps), or None."""
        try:
            found = await self.request("GET", self._path(namespace, plural, name))
        except NotFound:
            return None
        return dict(found)

    async def create(self, namespace: str, plural: str, body: Mapping[str, Any]
                     ) -> dict[str, Any]:
        return dict(await self.request("POST", self._path(namespace, plural), dict(body)))

    async def replace(self, namespace: str, plural: str, name: str, body: Mapping[str, Any]
                      ) -> dict[str, Any]:
        return dict(await self.request("PUT", self._path(namespace, plural, name), dict(body)))

    async def patch(self, namespace: str, plural: str, name: str, body: Mapping[str, Any]
                    ) -> dict[str, Any]:
        return dict(await self.request("PATCH", self._path(namespace, plural, name), dict(body),
                                       content_type="application/merge-patch+json"))

    async def delete(self, namespace: str, plural: str, name: str) -> None:
        try:
            await self.request("DELETE", self._path(namespace, plural, name))
        except NotFound:
            return

    async def upsert(self, namespace: str, plural: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create the object, or replace the existing one (keeping its resourceVersion
        unchecked: the controller is the only writer)."""
        name = body["metadata"]["name"]
        try:
            return await self.replace(namespace, plural, name, body)
        except NotFound:
            try:
                return await self.create(namespace, plural, body)
            except Conflict:
                return await self.replace(namespace, plural, name, body)

    # -- the Stack's status ------------------------------------------------------------------
    async def patch_status(self, group: str, version: str, plural: str, namespace: str,
                           name: str, status: Mapping[str, Any]) -> dict[str, Any] | None:
        path = f"/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}/status"
        try:
            found = await self.request("PATCH", path, {"status": dict(status)},
                                       content_type="application/merge-patch+json")
        except NotFound:
            return None
        return dict(found)

    async def get_custom(self, group: str, version: str, plural: str, namespace: str,
                         name: str) -> dict[str, Any] | None:
        path = f"/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}"
        try:
            return dict(await self.request("GET", path))
        except NotFound:
            return None

    async def list_metadata(self, group: str, version: str, plural: str, namespace: str
                            ) -> tuple[list[dict[str, Any]], str]:
        """The metadata of every object of a custom resource in ``namespace`` (only the
        metadata travels: no spec, no status), and the list's resourceVersion."""
        path = f"/apis/{group}/{version}/namespaces/{namespace}/{plural}"
        found = await self.request("GET", path, accept=_METADATA_LIST) or {}
        items = [dict(item.get("metadata") or {}) for item in found.get("items") or ()]
        return items, str((found.get("metadata") or {}).get("resourceVersion") or "")

    async def watch_metadata(self, group: str, version: str, plural: str, namespace: str,
                             resource_version: str, timeout: int = 120
                             ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """The changes after ``resource_version`` of the objects' metadata, as (event type,
        metadata; for ``ERROR`` the Status) pairs, until the API server ends the watch
        (after ``timeout`` seconds at most)."""
        path = (f"/apis/{group}/{version}/namespaces/{namespace}/{plural}?watch=1"
                f"&allowWatchBookmarks=true&timeoutSeconds={timeout}"
                f"&resourceVersion={resource_version}")
        API_REQUESTS[("WATCH", plural)] += 1
        try:
            async with self._sess().get(
                    self.server + path, headers={"Accept": _METADATA_ONE},
                    timeout=aiohttp.ClientTimeout(total=None, sock_read=timeout + 30)) as resp:
                if resp.status >= 400:
                    raise KubeError(resp.status, (await resp.text())[:500])
                buffer = b""
                async for chunk in resp.content.iter_any():
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        if line.strip():
                            event = json.loads(line)
                            obj = event.get("object") or {}
                            kind = str(event.get("type"))
                            yield kind, dict(obj if kind == "ERROR" else
                                             obj.get("metadata") or {})
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise KubeError(0, f"{type(exc).__name__}: {exc}") from None


_METADATA_LIST = ("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,"
                  "application/json")
_METADATA_ONE = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"


def secret_data(secret: Mapping[str, Any]) -> dict[str, str]:
    """A Secret's values, decoded (binary values as latin-1 text)."""
    out: dict[str, str] = {}
    for key, value in (secret.get("data") or {}).items():
        raw = base64.b64decode(value)
        try:
            out[key] = raw.decode("utf-8")
        except UnicodeDecodeError:
            out[key] = raw.decode("latin-1")
    for key, value in (secret.get("stringData") or {}).items():
        out[key] = str(value)
    return out


def configmap_data(cm: Mapping[str, Any]) -> dict[str, str]:
    out = {k: str(v) for k, v in (cm.get("data") or {}).items()}
    for key, value in (cm.get("binaryData") or {}).items():
        out[key] = base64.b64decode(value).decode("utf-8", "replace")
    return out

"""Request/response plumbing shared by the sandbox's service handlers.

Handlers are plain synchronous functions that take a :class:`Req` and return a :class:`Resp`
(or raise :class:`ApiError`); the server wraps them so that they run under the state lock with
the body already read and parsed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from multidict import CIMultiDictProxy, MultiDictProxy

JSONDict = dict[str, Any]


@dataclass
class Req:
    """A parsed request as handlers see it."""

    method: str
    path: str
    params: dict[str, str]
    query: MultiDictProxy[str]
    headers: CIMultiDictProxy[str]
    body: bytes
    base_url: str
    microversion: tuple[int, int] = (0, 0)
    project_id: str = ""
    user_id: str = ""
    _json: Any = None

    def json(self, error: Callable[[int, str], ApiError]) -> Any:
        """The JSON body; a malformed or missing body raises the service's 400."""
        if self._json is None:
            if not self.body:
                raise error(400, "The request body is missing or is not valid JSON.")
            try:
                self._json = json.loads(self.body)
            except ValueError as exc:
                raise error(400, f"Malformed request body: {exc}") from None
        return self._json

    def query_list(self, name: str) -> list[str]:
        """All values of a query parameter, comma-separated values split."""
        out: list[str] = []
        for value in self.query.getall(name, []):
            out.extend(v for v in value.split(",") if v)
        return out


@dataclass
class Resp:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


class ApiError(Exception):
    """An error response in the shape of the service that raises it."""

    def __init__(
        self,
        status: int,
        body: Any,
        *,
        headers: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        super().__init__(f"HTTP {status}")
        self.response = Resp(status, body, dict(headers or {}), content_type)


Handler = Callable[[Req], Resp]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    public: bool = False


class Router:
    """A tiny regex router: ``{name}`` matches one path segment."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler, *, public: bool = False) -> None:
        regex = re.sub(r"\{(\w+):path\}", r"(?P<\1>.+)", template.rstrip("/"))
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
        self.routes.append(
            Route(method.upper(), re.compile(f"^{regex}/?$"), handler, public=public)
        )

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, params, path_known); path_known tells 405 from 404."""
        known = False
        for route in self.routes:
            m = route.pattern.match(path)
            if m is None:
                continue
            known = True
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route, m.groupdict(), True
        return None, {}, known

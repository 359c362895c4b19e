"""The base of every sandbox service: a router, the shared state and the error shape."""

from __future__ import annotations

from typing import Any

from kubeheat.sandbox._http import ApiError, Req, Router
from kubeheat.sandbox.state import CloudState, Record


class Service:
    """One OpenStack service mounted under ``prefix`` of the sandbox's URL space."""

    name = ""
    prefix = ""

    def __init__(self, state: CloudState) -> None:
        self.state = state
        self.router = Router()
        self.register()

    def register(self) -> None:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return self.state.base_url + self.prefix

    def error(self, status: int, message: str, kind: str | None = None) -> ApiError:
        """An error response in this service's shape."""
        raise NotImplementedError

    def get(self, kind: str, ident: str, what: str) -> Record:
        record = self.state[kind].get(ident)
        if record is None:
            raise self.error(404, f"{what} {ident} could not be found.")
        return record

    def body_of(self, req: Req, key: str) -> dict[str, Any]:
        body = req.json(self.error)
        if not isinstance(body, dict) or not isinstance(body.get(key), dict):
            raise self.error(400, f"Malformed request body: missing '{key}' object")
        inner: dict[str, Any] = body[key]
        return inner

    def vanish(self, kind: str, ident: str) -> bool:
        """Remove a resource out of band; False when this service does not own ``kind``."""
        return False

    def seed_defaults(self) -> None:
        """Create what a fresh cloud of this kind already has (flavors, images, networks)."""

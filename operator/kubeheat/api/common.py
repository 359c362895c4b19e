"""What the route handlers share: the base URL of a request's project, its backend, and the
stack an identified-stack path (``stacks/{name}/{id}``) names."""

from __future__ import annotations

from aiohttp import web

from kubeheat.api.backend import StackBackend
from kubeheat.api.faults import BACKEND, ApiFault, not_found
from kubeheat.engine import StackState


def base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}/v1/{request.match_info['project']}"


def backend_of(request: web.Request) -> StackBackend:
    backend: StackBackend = request.app[BACKEND]
    return backend


def stack_not_found(name: str) -> ApiFault:
    return not_found("EntityNotFound", f"The Stack ({name}) could not be found.")


def identified(request: web.Request) -> StackState:
    """The stack of an ``S`` path: its id must exist and its name match."""
    name, stack_id = request.match_info["name"], request.match_info["id"]
    state = backend_of(request).get(stack_id)
    if state is None or state.name != name:
        raise stack_not_found(name)
    return state

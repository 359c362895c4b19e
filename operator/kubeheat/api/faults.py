"""What every route shares: request ids, Heat's JSON body rules, its fault body and the mapping
of kubeheat's errors to Heat's statuses (heat/api/middleware/fault.py), as aiohttp middleware."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from kubeheat.errors import KubeheatError

#: Heat's ``max_json_body_size``
MAX_JSON_BODY_SIZE = 1048576
BACKEND: web.AppKey[Any] = web.AppKey("backend", object)

_TITLES = {400: ("Bad Request", "The server could not comply with the request since it is "
                 "either malformed or otherwise incorrect."),
           403: ("Forbidden", "Access was denied to this resource."),
           404: ("Not Found", "The resource could not be found."),
           405: ("Method Not Allowed", "The server could not comply with the request since it "
                 "is either malformed or otherwise incorrect."),
           409: ("Conflict", "There was a conflict when trying to complete your request."),
           500: ("Internal Server Error", "The server has either erred or is incapable of "
                 "performing the requested operation.")}

#: Heat's exception names by the status its fault middleware gives them
_STATUS_OF = {
    **dict.fromkeys((
        "AttributeError", "ValueError", "ResourceActionNotSupported", "StackValidationFailed",
        "InvalidSchemaError", "InvalidTemplateReference", "InvalidTemplateVersion",
        "InvalidTemplateSection", "UnknownUserParameter", "NotSupported",
        "UserParameterMissing", "RequestLimitExceeded", "Invalid", "ResourcePropertyConflict",
        "PropertyUnspecifiedError", "ResourceTypeUnavailable", "ImmutableParameterModified",
        "CircularDependencyException", "HTTPBadRequest"), 400),
    **dict.fromkeys(("InvalidTenant", "Forbidden", "NotAuthorized"), 403),
    **dict.fromkeys(("EntityNotFound", "ResourceNotFound", "NotFound", "ResourceNotAvailable",
                     "HTTPNotFound"), 404),
    **dict.fromkeys(("ActionInProgress", "StackExists"), 409),
}


class ApiFault(Exception):
    """An error answered with Heat's fault body: ``kind`` is Heat's exception name."""

    def __init__(self, status: int, kind: str, message: str | None) -> None:
        super().__init__(message or kind)
        self.status, self.kind, self.message = status, kind, message


def fault_of(exc: KubeheatError) -> ApiFault:
    """Heat's status and type for a kubeheat error (templates' errors are Heat's
    ``StackValidationFailed`` unless they name another exception; unmapped ones are 500)."""
    from kubeheat.template import TemplateError

    kind = str(getattr(exc, "code", None) or "StackValidationFailed")
    if kind == "HeatException" or (kind not in _STATUS_OF and isinstance(exc, TemplateError)):
        # Heat wraps what its validation finds (an unknown type, a bad attribute) in this one
        kind = "StackValidationFailed"
    return ApiFault(_STATUS_OF.get(kind, 500), kind, str(exc))


def not_found(kind: str, message: str) -> ApiFault:
    return ApiFault(404, kind, message)


def bad_request(message: str | None, kind: str = "HTTPBadRequest") -> ApiFault:
    return ApiFault(400, kind, message)


def query_bool(query: Mapping[str, str], name: str, default: bool = False) -> bool:
    """A ``true``/``false`` query parameter (any case), refused in Heat's words otherwise."""
    text = query.get(name)
    if text is None:
        return default
    if text.lower() not in ("true", "false"):
        raise bad_request(f'Unrecognized value "{text}" for "{name}", acceptable values are: '
                          "true, false.")
    return text.lower() == "true"


def query_int(query: Mapping[str, str], name: str) -> int | None:
    """A non-negative integer query parameter, refused in Heat's words
    (heat/common/param_utils.py)."""
    text = query.get(name)
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise bad_request(f"Only integer is acceptable by '{name}'.") from None
    if value < 0:
        raise bad_request(f"Value '{text}' is invalid for '{name}' which only accepts "
                          "non-negative integer.")
    return value


def fault_response(fault: ApiFault) -> web.Response:
    title, explanation = _TITLES.get(fault.status, _TITLES[500])
    # Heat gives the message of its own exceptions only (a bare ValueError has none)
    error: dict[str, Any] = {"type": fault.kind, "traceback": None}
    if fault.message is not None:
        error["message"] = fault.message
    body = {"code": fault.status, "title": title, "explanation": explanation, "error": error}
    return web.json_response(body, status=fault.status)


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object as Heat reads it: only with a body, a JSON, plain-text or
    absent content type, and a first byte ``{``; at most :data:`MAX_JSON_BODY_SIZE` bytes."""
    raw = await request.read()
    ctype = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if not raw or ctype not in ("", "application/json", "text/plain") \
            or not raw.lstrip().startswith(b"{"):
        raise bad_request("The server could not comply with the request since it is either "
                          "malformed or otherwise incorrect.")
    if len(raw) > MAX_JSON_BODY_SIZE:
        raise bad_request(
            f"Request limit exceeded: JSON body size ({len(raw)} bytes) exceeds maximum "
            f"allowed size ({MAX_JSON_BODY_SIZE} bytes).", "RequestLimitExceeded")
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = f"req-{uuid.uuid4()}"
    try:
        response = await handler(request)
    except ApiFault as fault:
        response = fault_response(fault)
    except KubeheatError as exc:
        response = fault_response(fault_of(exc))
    except web.HTTPMethodNotAllowed as exc:
        allow = ",".join(sorted(exc.allowed_methods))
        if request.method == "OPTIONS":     # every routed path answers it, as Heat's router
            response = web.Response(status=204, headers={"Allow": allow})
        else:   # a method the route does not take: Heat's fault body
            response = fault_response(ApiFault(405, "HTTPMethodNotAllowed", _TITLES[405][1]))
            response.headers["Allow"] = allow
    except web.HTTPException as exc:
        response = _webob_response(request, exc)
    response.headers["x-openstack-request-id"] = request_id
    return response


def _webob_response(request: web.Request, exc: web.HTTPException) -> web.Response:
    """A redirect or an unrouted path as webob words it (JSON when the client accepts it)."""
    status = f"{exc.status} {exc.reason}"
    if exc.status in (301, 302, 303, 305, 307):
        location = exc.headers.get("Location", "")
        message = (f'The resource was found at <a href="{location}">{location}</a>;\n'
                   "you should be redirected automatically.\n\n")
    else:
        message = "The resource could not be found.<br /><br />\n\n\n" \
            if exc.status == 404 else exc.reason
    headers = {k: v for k, v in exc.headers.items() if k.lower() in ("location", "allow")}
    if "json" in request.headers.get("Accept", ""):
        return web.json_response({"message": message, "code": status, "title": exc.reason},
                                 status=exc.status, headers=headers)
    return web.Response(text=f"{status}\n\n{message}", status=exc.status, headers=headers)

"""The routes under a stack's resources, events and actions: the resource list (filters,
detail), one resource, its metadata, a signal to it, the event list (order, marker, limit,
filters), and the check and cancel actions."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from kubeheat.api import views
from kubeheat.api.common import backend_of, base_url, identified
from kubeheat.api.faults import bad_request, json_body, not_found, query_bool, query_int
from kubeheat.engine import REPLACED_SEP, ResourceState, StackState

#: the ``GET S/events`` filters served (exact match, repeatable)
EVENT_FILTERS = ("resource_status", "resource_action", "resource_name", "resource_type")
#: the ``GET S/resources`` filters; any other query key is refused, as Heat does
RESOURCE_FILTERS = ("type", "name", "status", "action", "id", "physical_resource_id")
RESOURCE_OPTIONS = ("nested_depth", "with_detail")
#: the keys of an actions body
ACTIONS = ("suspend", "resume", "check", "cancel_update", "cancel_without_rollback")


def _resource_matches(res: ResourceState, key: str, values: list[str]) -> bool:
    if key == "type":                 # a substring of the type name
        return any(v in res.type for v in values)
    if key == "name":
        return res.name in values
    if key == "status":
        return any(v in (str(res.status), res.state) for v in values)
    if key == "action":
        return str(res.action) in values
    if key == "id":
        return (res.uid or "") in values
    return (res.physical_id or "") in values


async def list_resources(request: web.Request) -> web.Response:
    state = identified(request)
    unknown = [k for k in request.query if k not in (*RESOURCE_FILTERS, *RESOURCE_OPTIONS)]
    if unknown:
        raise bad_request(f"Invalid filter parameters {sorted(set(unknown))}")
    query_int(request.query, "nested_depth")
    detail = query_bool(request.query, "with_detail")
    found = views.resources(base_url(request), state)
    wanted = {k: request.query.getall(k) for k in RESOURCE_FILTERS if k in request.query}
    kept = []
    for item in found:
        res = state.resources[item["resource_name"]]
        if all(_resource_matches(res, k, v) for k, v in wanted.items()):
            if detail:
                item.update(_detail(state, res))
            kept.append(item)
    return web.json_response({"resources": kept})


def _detail(state: StackState, res: ResourceState, extra: list[str] | None = None
            ) -> dict[str, object]:
    """``description`` (the template's) and ``attributes``: the values recorded (``show``
    left out, as Heat lists it), and ``with_attr`` names (None when unknown)."""
    doc = (state.template.get("resources") or state.template.get("Resources") or {})
    rdoc = doc.get(res.name) if isinstance(doc, dict) else None
    text = rdoc.get("description", rdoc.get("Description", "")) if isinstance(rdoc, dict) \
        else ""
    attributes = {k: v for k, v in res.attributes.items() if k != "show"}
    for name in extra or []:
        attributes.setdefault(name, None)
    return {"description": str(text or ""), "attributes": attributes}


def _resource(request: web.Request) -> tuple[StackState, ResourceState]:
    state = identified(request)
    name = request.match_info["resource"]
    res = state.resources.get(name) if REPLACED_SEP not in name else None
    if res is None:
        res = next((r for r in state.resources.values()
                    if r.physical_id == name and REPLACED_SEP not in r.name), None)
    if res is None:
        raise not_found("ResourceNotFound",
                        f"The Resource ({name}) could not be found in Stack {state.name}.")
    return state, res


async def show_resource(request: web.Request) -> web.Response:
    state, res = _resource(request)
    listed = {r["resource_name"]: r for r in views.resources(base_url(request), state)}
    item = listed[res.name]
    item.update(_detail(state, res, request.query.getall("with_attr", [])))
    return web.json_response({"resource": item})


async def resource_metadata(request: web.Request) -> web.Response:
    _, res = _resource(request)
    return web.json_response({"metadata": res.metadata})


async def list_events(request: web.Request) -> web.Response:
    """Events oldest first with ``sort_dir=asc`` (newest first by default), after ``marker``
    (an unknown one is ignored, as Heat does), at most ``limit``, filtered exactly by
    :data:`EVENT_FILTERS` (``resource_status`` is the status part only)."""
    state = identified(request)
    query = request.query
    found = list(backend_of(request).events(state.id))
    resource = request.match_info.get("resource")
    if resource is not None:
        found = [e for e in found if e.resource_name == resource]
        if not found:
            raise not_found("HTTPNotFound", f"No events found for resource {resource}")
    direction = query.get("sort_dir", "desc").lower()
    if direction not in ("asc", "desc"):
        raise bad_request(None, "ValueError")   # Heat's fault has no message for it
    limit = query_int(query, "limit")
    for key in EVENT_FILTERS:
        wanted = query.getall(key, [])
        if wanted:
            found = [e for e in found if str(getattr(e, key)) in wanted]
    keys = [k for k in query.getall("sort_keys", []) if k in ("event_time", "resource_type")]
    order = sorted(range(len(found)), key=lambda i: (*(getattr(found[i], k) for k in keys), i))
    found = [found[i] for i in order]
    if direction == "desc":
        found.reverse()
    marker = query.get("marker")
    ids = [e.id for e in found]
    if marker in ids:
        found = found[ids.index(marker) + 1:]
    if limit is not None:
        found = found[:limit]
    base = base_url(request)
    return web.json_response({"events": [views.event(base, state, e) for e in found]})


async def signal(request: web.Request) -> web.Response:
    """``POST R/signal``: the body (any JSON, or none) is the signal's details; 200 ``null``."""
    state, res = _resource(request)
    raw = await request.read()
    details = None
    if raw.strip():
        try:
            details = json.loads(raw)
        except ValueError as exc:
            raise bad_request(str(exc)) from None
    await backend_of(request).signal(state.id, res.name, details)
    return web.json_response(None)


async def actions(request: web.Request) -> web.Response:
    """``POST S/actions``: exactly one of :data:`ACTIONS`; 200 ``null``. Suspend and resume
    are refused: the engine has no such operation yet."""
    state = identified(request)
    body = await json_body(request)
    if not body:
        raise bad_request("No action specified")
    if len(body) > 1:
        raise bad_request("Multiple actions specified")
    (action,) = body
    if action not in ACTIONS:
        raise bad_request(f"Invalid action {action} specified")
    backend = backend_of(request)
    if action == "check":
        await backend.check(state.id)
    elif action in ("cancel_update", "cancel_without_rollback"):
        await backend.cancel(state.id, rollback=action == "cancel_update")
    else:
        raise bad_request(f"{action} is not supported by kubeheat yet.", "NotSupported")
    return web.json_response(None)


async def show_event(request: web.Request) -> web.Response:
    """``GET R/events/{event}``: the summary, the resource's type, and its properties (as
    recorded now: kubeheat's events do not keep them)."""
    state = identified(request)
    resource, event_id = request.match_info["resource"], request.match_info["event"]
    found = next((e for e in backend_of(request).events(state.id)
                  if e.id == event_id and e.resource_name == resource), None)
    if found is None:
        raise not_found("HTTPNotFound", f"No event {event_id} found")
    body = views.event(base_url(request), state, found)
    rec = state.resources.get(resource)
    body["resource_type"] = found.resource_type
    # as Heat shows them: the properties that have a value
    body["resource_properties"] = {k: v for k, v in (rec.properties if rec else {}).items()
                                   if v is not None}
    return web.json_response({"event": body})


async def not_supported(request: web.Request) -> web.Response:
    """Abandon and export: disabled, as Heat's ``enable_stack_abandon`` is by default."""
    identified(request)
    raise bad_request("Stack Abandon is not supported.", "NotSupported")


def _get(app: web.Application, path: str, handler: Any) -> None:
    app.router.add_get(path, handler, allow_head=False)


def add_resource_routes(app: web.Application, stack_path: str) -> None:
    """The routes below ``stack_path`` (``…/stacks/{name}/{id}``)."""
    _get(app, stack_path + "/resources", list_resources)
    _get(app, stack_path + "/resources/{resource}", show_resource)
    _get(app, stack_path + "/resources/{resource}/metadata", resource_metadata)
    app.router.add_post(stack_path + "/resources/{resource}/signal", signal)
    _get(app, stack_path + "/events", list_events)
    _get(app, stack_path + "/resources/{resource}/events", list_events)
    _get(app, stack_path + "/resources/{resource}/events/{event}", show_event)
    app.router.add_post(stack_path + "/actions", actions)
    app.router.add_delete(stack_path + "/abandon", not_supported)
    _get(app, stack_path + "/export", not_supported)

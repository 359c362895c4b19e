"""The routes of heat-api v1 served so far (see :func:`add_routes`) and the handlers of
versions, stacks (create, list, lookup, show, delete), template, environment, files, outputs,
validate, resource types, template versions and build info; resources and events are in
:mod:`kubeheat.api.resource_routes`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from kubeheat.api import views
from kubeheat.api.common import backend_of, base_url, identified, stack_not_found
from kubeheat.api.faults import ApiFault, bad_request, json_body, not_found, query_bool, query_int
from kubeheat.api.resource_routes import add_resource_routes
from kubeheat.engine import StackRequest, StackState
from kubeheat.template import all_versions, load_mapping

#: sub-paths of ``stacks/{name}/…`` that are a lookup of the stack by name (Heat's row 13)
LOOKUP_SUBPATHS = ("resources", "events", "template", "actions", "environment", "files")
#: the ``GET T/stacks`` sort keys and the stack field each sorts by
SORT_KEYS = {"stack_name": "name", "stack_status": "state", "creation_time": "created_time",
             "updated_time": "updated_time"}
#: the ``GET T/stacks`` filters served, by the stack field they compare
LIST_FILTERS = ("id", "name", "stack_name", "status", "stack_status", "action",
                "stack_action")


async def versions(request: web.Request) -> web.Response:
    href = f"{request.scheme}://{request.host}/v1/"
    return web.json_response({"versions": [{"id": "v1.0", "status": "CURRENT",
                                            "links": [{"rel": "self", "href": href}]}]},
                             status=300)


# -- stacks -----------------------------------------------------------------------------------
def _template_of(value: Any, where: str) -> dict[str, Any]:
    if isinstance(value, str):
        return dict(load_mapping(value, what="Template"))
    if isinstance(value, Mapping):
        return dict(value)
    raise bad_request(f"{where}: the template must be an object or a string")


def stack_request(body: Mapping[str, Any], *, template_required: bool = True
                  ) -> StackRequest:
    """The engine request of a create or update body (Heat's ``InstantiationData``)."""
    name = body.get("stack_name")
    if not name:
        raise bad_request("No stack name specified")
    if not isinstance(name, str):
        raise bad_request("stack_name: must be a string")
    if body.get("template") is None and template_required:
        raise bad_request("No template specified")
    template = _template_of(body["template"], "template") \
        if body.get("template") is not None else None
    files = body.get("files") or {}
    if not isinstance(files, Mapping) or not all(isinstance(v, str) for v in files.values()):
        raise bad_request("files: must be an object of file name to content string")
    params = body.get("parameters") or {}
    if not isinstance(params, Mapping):
        raise bad_request("parameters: must be an object")
    environment = body.get("environment")
    environments: list[dict[str, Any] | str] = []
    if isinstance(environment, Mapping):
        environments.append(dict(environment))
    elif isinstance(environment, str) and environment.strip():
        environments.append(environment)
    elif environment is not None:
        raise bad_request("environment: must be an object or a string")
    env_files = body.get("environment_files") or []
    if env_files:
        environments = [files[f] for f in env_files if f in files]
    timeout = body.get("timeout_mins")
    if timeout is not None and (isinstance(timeout, bool) or not _is_int(timeout)):
        raise bad_request("Only integer is acceptable by 'timeout_mins'.")
    if timeout is not None and int(timeout) <= 0:
        raise bad_request("timeout_mins: must be greater than 0")
    rollback = body.get("disable_rollback", True)
    if isinstance(rollback, str):
        rollback = rollback.lower() == "true"
    return StackRequest(name=name, template=template, files=dict(files),
                        environments=environments, parameters=dict(params),
                        timeout_minutes=float(timeout) if timeout is not None else None,
                        disable_rollback=bool(rollback))


def _is_int(value: Any) -> bool:
    try:
        int(value)
    except (TypeError, ValueError):
        return False
    return True


async def create(request: web.Request) -> web.Response:
    body = await json_body(request)
    if "adopt_stack_data" in body:
        # Heat's enable_stack_adopt is off by default
        raise bad_request("Stack Adopt is not supported.", "NotSupported")
    state = await backend_of(request).create(stack_request(body))
    url = views.stack_url(base_url(request), state)
    return web.json_response({"stack": {"id": state.id, "links": [{"href": url,
                                                                   "rel": "self"}]}},
                             status=201, headers={"Location": url})


async def index(request: web.Request) -> web.Response:
    """``GET T/stacks``: filters (:data:`LIST_FILTERS`), ``sort_keys`` (:data:`SORT_KEYS`,
    others ignored) and ``sort_dir`` (default: newest first), ``marker`` (a stack id; an
    unknown one is ignored) and ``limit`` (a ``next`` link when the page is full), and
    ``with_count``."""
    project = request.match_info["project"]
    query = request.query
    direction = query.get("sort_dir", "desc").lower()
    if direction not in ("asc", "desc"):
        raise bad_request(None, "ValueError")   # Heat's fault has no message for it
    limit = query_int(query, "limit")
    with_count = query_bool(query, "with_count")
    wanted = {key: query.getall(key) for key in LIST_FILTERS if key in query}
    found = [s for s in backend_of(request).stacks() if s.state != "DELETE_COMPLETE"
             and all(_matches(s, key, values) for key, values in wanted.items())]
    keys = [k for k in query.getall("sort_keys", []) if k in SORT_KEYS] or ["creation_time"]
    found.sort(key=lambda s: (*(str(getattr(s, SORT_KEYS[k]) or "") for k in keys), s.id),
               reverse=direction == "desc")
    total = len(found)
    ids = [s.id for s in found]
    marker = query.get("marker")
    if marker in ids:
        found = found[ids.index(marker) + 1:]
    if limit is not None:
        found = found[:limit]
    body: dict[str, Any] = {"stacks": [views.summary(base_url(request), s, project)
                                       for s in found]}
    if limit and len(found) == limit:
        rest = "&".join(f"{k}={v}" for k, v in query.items() if k != "marker")
        href = f"{base_url(request)}/stacks?{rest}&marker={found[-1].id}"
        body["links"] = [{"rel": "next", "href": href}]
    if with_count:
        body["count"] = total
    return web.json_response(body)


async def detail(request: web.Request) -> web.Response:
    """``GET T/stacks/detail``: the list's items, never with ``project``, no filters."""
    found = [s for s in backend_of(request).stacks() if s.state != "DELETE_COMPLETE"]
    found.sort(key=lambda s: (s.created_time or "", s.id), reverse=True)
    items = [views.summary(base_url(request), s, request.match_info["project"])
             for s in found]
    for item in items:
        del item["project"]
    return web.json_response({"stacks": items})


async def build_info(request: web.Request) -> web.Response:
    return web.json_response({"api": {"revision": "unknown"},
                              "engine": {"revision": "unknown"}})


def _matches(state: StackState, key: str, values: list[str]) -> bool:
    if key == "id":
        return state.id in values
    if key in ("name", "stack_name"):
        return state.name in values
    if key in ("action", "stack_action"):
        return str(state.action) in values
    return any(v in (str(state.status), state.state) for v in values)


async def lookup(request: web.Request) -> web.Response:
    return _redirect(request, None)


def _redirect(request: web.Request, sub: str | None) -> web.Response:
    name = request.match_info["name"]
    state = backend_of(request).find(name)
    if state is None:
        raise stack_not_found(name)
    location = views.stack_url(base_url(request), state)
    if sub:
        location += f"/{sub}"
    if request.query_string:
        location += f"?{request.query_string}"
    raise web.HTTPFound(location)


async def show_or_lookup(request: web.Request) -> web.Response:
    """``stacks/{name}/{id}``: a lookup when ``id`` is one of :data:`LOOKUP_SUBPATHS` (as
    Heat routes them first), else the stack."""
    if request.match_info["id"] in LOOKUP_SUBPATHS:
        return _redirect(request, request.match_info["id"])
    if request.method != "GET":
        raise web.HTTPMethodNotAllowed(request.method, ["GET", "PUT", "PATCH", "DELETE"])
    state = identified(request)
    resolve = request.query.get("resolve_outputs", "true").lower() != "false"
    return web.json_response({"stack": views.show(
        base_url(request), state, request.match_info["project"], resolve_outputs=resolve,
        deleted=backend_of(request).deletion_time(state.id))})


async def delete(request: web.Request) -> web.Response:
    state = identified(request)
    if state.state == "DELETE_COMPLETE":
        raise stack_not_found(state.name)
    await backend_of(request).delete(state.id)
    return web.Response(status=204)


async def update(request: web.Request) -> web.Response:
    """``PUT S`` (a whole new template) and ``PATCH S`` (changes to the current one);
    ``timeout_mins`` and ``disable_rollback`` default to the stack's."""
    state = identified(request)
    patch = request.method == "PATCH"
    body = await json_body(request)
    if not patch and body.get("template") is None:
        raise bad_request("No template specified")
    fields = {"disable_rollback": state.disable_rollback,
              **({"timeout_mins": int(state.timeout_minutes)} if state.timeout_minutes
                 else {}), **body, "stack_name": state.name}
    req = stack_request(fields, template_required=not patch)
    clear = body.get("clear_parameters") or []
    if not isinstance(clear, list) or not all(isinstance(c, str) for c in clear):
        raise bad_request("clear_parameters: must be a list of parameter names")
    req.clear_parameters = list(clear)
    await backend_of(request).update(state.id, req, patch=patch)
    return web.json_response(
        {"message": "The request is accepted for processing.<br /><br />\n\n\n",
         "code": "202 Accepted", "title": "Accepted"}, status=202)


async def template(request: web.Request) -> web.Response:
    return web.json_response(identified(request).template)


async def environment(request: web.Request) -> web.Response:
    env = dict(identified(request).environment)
    for key, default in (("parameters", {}), ("parameter_defaults", {}),
                         ("resource_registry", {"resources": {}}), ("event_sinks", []),
                         ("encrypted_param_names", [])):
        env.setdefault(key, default)
    return web.json_response(env)


async def files(request: web.Request) -> web.Response:
    return web.json_response(identified(request).files)


async def list_outputs(request: web.Request) -> web.Response:
    state = identified(request)
    return web.json_response({"outputs": [
        {"output_key": k, "description": views.output_description(state, k)}
        for k in views.output_keys(state)]})


async def show_output(request: web.Request) -> web.Response:
    state = identified(request)
    key = request.match_info["key"]
    found = next((o for o in views.outputs(state) if o["output_key"] == key), None)
    if found is None:
        # Heat's message, with its placeholder left unformatted
        raise not_found("NotFound", "Specified output key {} not found.")
    return web.json_response({"output": found})


# -- templates --------------------------------------------------------------------------------
async def validate(request: web.Request) -> web.Response:
    body = await json_body(request)
    if body.get("template") is None:
        raise bad_request("No template specified")
    req = stack_request({**body, "stack_name": "validate", "template": body["template"]})
    try:
        result = await backend_of(request).validate(req)
    except ApiFault:
        raise
    except Exception as exc:
        from kubeheat.errors import KubeheatError

        if isinstance(exc, KubeheatError):
            raise bad_request(str(exc)) from None   # Heat reports every one as HTTPBadRequest
        raise
    return web.json_response(result)


async def resource_types(request: web.Request) -> web.Response:
    names = backend_of(request).resource_types()
    pattern = request.query.get("name")
    if pattern:
        try:
            matcher = re.compile(pattern)
        except re.error as exc:
            raise bad_request(f"name: not a regular expression: {exc}") from None
        names = [n for n in names if matcher.match(n)]
    return web.json_response({"resource_types": names})


async def resource_schema(request: web.Request) -> web.Response:
    """``GET T/resource_types/{type}``: the schema generated from the type's plugin, in
    Heat's shape (``description`` only with ``with_description=true``; a ``show`` attribute,
    which every type has)."""
    from kubeheat.resources import load_builtin_plugins

    name = request.match_info["type"]
    plugin = load_builtin_plugins().get(name)
    if plugin is None or name not in backend_of(request).resource_types():
        raise not_found("EntityNotFound", f"The Resource Type ({name}) could not be found.")
    schema = dict(plugin.schema())
    description = schema.pop("description", "")
    attributes = dict(schema.get("attributes") or {})
    attributes.setdefault("show", {"description": "Every attribute of the resource, as a "
                                                  "map.", "type": "map"})
    support = {"message": None, "version": None, "previous_status": None,
               **(schema.get("support_status") or {"status": "SUPPORTED"})}
    body: dict[str, Any] = {"resource_type": name, "properties": schema.get("properties", {}),
                            "attributes": attributes, "support_status": support}
    if request.query.get("with_description", "false").lower() == "true":
        body["description"] = description
    return web.json_response(body)


async def template_versions(request: web.Request) -> web.Response:
    found = [{"version": f"{spec.key}.{spec.version}", "type": spec.family,
              "aliases": [f"{spec.key}.{a}" for a in spec.aliases]} for spec in all_versions()]
    found.sort(key=lambda v: str(v["version"]))     # Heat's order: cfn keys sort first
    return web.json_response({"template_versions": found})


async def template_functions(request: web.Request) -> web.Response:
    """The functions of a version (``heat_template_version.2018-08-31`` or an alias such as
    ``heat_template_version.rocky``), described by the first line of kubeheat's own
    docstrings; condition functions only with ``with_condition_func=true``."""
    key, _, value = request.match_info["version"].partition(".")
    spec = next((s for s in all_versions() if s.key == key
                 and value in (s.version, *s.aliases)), None)
    if spec is None:
        # Heat's message, with its placeholder left unformatted
        raise not_found("NotFound", "Template with version {} not found")
    names: dict[str, Any] = dict(spec.functions)
    if request.query.get("with_condition_func", "false").lower() == "true":
        names.update(spec.condition_functions)
    found = [{"functions": name, "description": _first_line(cls.__doc__)}
             for name, cls in names.items()]
    return web.json_response({"template_functions": found})


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().split("\n", 1)[0].strip()


def _get(app: web.Application, path: str, handler: Any) -> None:
    """A GET route; HEAD is not routed, so it gets 405 as in Heat."""
    app.router.add_get(path, handler, allow_head=False)


def add_routes(app: web.Application) -> None:
    t = "/v1/{project}"
    s = t + "/stacks/{name}/{id}"
    _get(app, "/", versions)
    _get(app, "/versions", versions)
    app.router.add_post(t + "/validate", validate)
    _get(app, t + "/resource_types", resource_types)
    _get(app, t + "/resource_types/{type}", resource_schema)
    _get(app, t + "/template_versions", template_versions)
    _get(app, t + "/template_versions/{version}/functions", template_functions)
    _get(app, t + "/build_info", build_info)
    _get(app, t + "/stacks", index)
    _get(app, t + "/stacks/detail", detail)
    app.router.add_post(t + "/stacks", create)
    app.router.add_route("*", t + "/stacks/{name}", lookup)
    app.router.add_delete(s, delete)
    app.router.add_put(s, update)
    app.router.add_patch(s, update)
    app.router.add_route("*", s, show_or_lookup)
    _get(app, s + "/template", template)
    _get(app, s + "/environment", environment)
    _get(app, s + "/files", files)
    _get(app, s + "/outputs", list_outputs)
    _get(app, s + "/outputs/{key}", show_output)
    add_resource_routes(app, s)

"""Heat's HTTP rules, byte for byte where clients read them: the fault body of bad requests
(malformed JSON, a wrong timeout, a bad name, a name clash), 405 with ``Allow``, webob's body
of a redirect and of an unrouted path, the list's status filter. Expected values are what real
Heat 27.0.1 answered to the same requests."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from api_support import ApiServer

EXPLANATION = ("The server could not comply with the request since it is either malformed or "
               "otherwise incorrect.")
NONE = {"heat_template_version": "2018-08-31", "resources": {"n": {"type": "OS::Heat::None"}}}


def _request(url: str, method: str = "GET", data: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"X-Auth-Token": "x", **(headers or {})})
    try:
        with urllib.request.build_opener(NoRedirect).open(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _post(url: str, body: Any) -> tuple[int, Any]:
    status, _, raw = _request(url, "POST", json.dumps(body).encode(),
                              {"Content-Type": "application/json"})
    return status, json.loads(raw)


def _fault(code: int, title: str, explanation: str, kind: str, message: str) -> dict[str, Any]:
    return {"code": code, "title": title, "explanation": explanation,
            "error": {"type": kind, "traceback": None, "message": message}}


def _wait_complete(api: ApiServer, name: str) -> str:
    deadline = time.monotonic() + 30
    while True:
        _, headers, _ = _request(f"{api.endpoint}/stacks/{name}")
        _, _, raw = _request(headers["Location"])
        stack = json.loads(raw)["stack"]
        if stack["stack_status"] == "CREATE_COMPLETE":
            return str(stack["id"])
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_bad_bodies(api: ApiServer) -> None:
    url = f"{api.endpoint}/stacks"
    status, _, raw = _request(url, "POST", b'{"stack_name": ', {"Content-Type":
                                                                  "application/json"})
    assert (status, json.loads(raw)) == (400, _fault(
        400, "Bad Request", EXPLANATION, "HTTPBadRequest",
        "Expecting value: line 1 column 16 (char 15)"))
    assert _post(url, {"stack_name": "api_to", "timeout_mins": "x", "template": NONE}) == (
        400, _fault(400, "Bad Request", EXPLANATION, "HTTPBadRequest",
                    "Only integer is acceptable by 'timeout_mins'."))
    assert _post(url, {"stack_name": "1bad", "template": NONE}) == (400, _fault(
        400, "Bad Request", EXPLANATION, "StackValidationFailed",
        'Invalid stack name 1bad must contain only alphanumeric or "_-." characters, must '
        "start with alpha and must be 255 characters or less."))
    assert _post(url, {"stack_name": "api_nt"}) == (400, _fault(
        400, "Bad Request", EXPLANATION, "HTTPBadRequest", "No template specified"))


def test_name_clash_is_409(api: ApiServer) -> None:
    url = f"{api.endpoint}/stacks"
    assert _post(url, {"stack_name": "api_dup", "template": NONE})[0] == 201
    assert _post(url, {"stack_name": "api_dup", "template": NONE}) == (409, _fault(
        409, "Conflict", "There was a conflict when trying to complete your request.",
        "StackExists", "The Stack (api_dup) already exists."))


def test_redirect_unrouted_and_method_bodies(api: ApiServer) -> None:
    _post(f"{api.endpoint}/stacks", {"stack_name": "api_redir", "template": NONE})
    stack_id = _wait_complete(api, "api_redir")
    location = f"{api.endpoint}/stacks/api_redir/{stack_id}"
    status, headers, raw = _request(f"{api.endpoint}/stacks/api_redir",
                                    headers={"Accept": "application/json"})
    assert (status, headers["Location"]) == (302, location)
    assert json.loads(raw) == {
        "message": f'The resource was found at <a href="{location}">{location}</a>;\n'
                   "you should be redirected automatically.\n\n",
        "code": "302 Found", "title": "Found"}
    status, _, raw = _request(f"{api.endpoint}/nothing", headers={"Accept": "application/json"})
    assert (status, json.loads(raw)) == (404, {
        "message": "The resource could not be found.<br /><br />\n\n\n",
        "code": "404 Not Found", "title": "Not Found"})
    status, headers, raw = _request(f"{api.endpoint}/stacks", "PUT",
                                    headers={"Accept": "application/json"})
    assert status == 405 and "GET" in headers["Allow"] and "POST" in headers["Allow"]
    assert json.loads(raw) == _fault(405, "Method Not Allowed", EXPLANATION,
                                     "HTTPMethodNotAllowed", EXPLANATION)


def test_list_status_filter(api: ApiServer) -> None:
    _post(f"{api.endpoint}/stacks", {"stack_name": "api_filt", "template": NONE})
    _wait_complete(api, "api_filt")

    def names(query: str) -> list[str]:
        _, _, raw = _request(f"{api.endpoint}/stacks?{query}")
        return [s["stack_name"] for s in json.loads(raw)["stacks"]]

    # a status alone or ACTION_STATUS matches; an action given as the status does not
    assert names("status=COMPLETE") == ["api_filt"]
    assert names("status=CREATE_COMPLETE") == ["api_filt"]
    assert names("status=CREATE") == []
    assert names("name=other") == []


def test_event_list_order_marker_limit_and_filters(api: ApiServer) -> None:
    """What ``--wait`` polls with (``sort_dir=asc`` after a ``marker``) and the filters, with
    the answers real Heat gave for a one-resource stack."""
    _post(f"{api.endpoint}/stacks", {"stack_name": "api_ev", "template": NONE})
    stack_id = _wait_complete(api, "api_ev")
    url = f"{api.endpoint}/stacks/api_ev/{stack_id}/events"

    def events(query: str) -> list[tuple[str, str]]:
        _, _, raw = _request(f"{url}?{query}")
        return [(e["resource_name"], e["resource_status"]) for e in json.loads(raw)["events"]]

    def first_id() -> str:
        _, _, raw = _request(f"{url}?sort_dir=asc")
        return str(json.loads(raw)["events"][0]["id"])

    started, created = ("api_ev", "CREATE_IN_PROGRESS"), ("api_ev", "CREATE_COMPLETE")
    n_started, n_created = ("n", "CREATE_IN_PROGRESS"), ("n", "CREATE_COMPLETE")
    assert events("sort_dir=asc") == [started, n_started, n_created, created]
    assert events("") == [created, n_created, n_started, started]
    assert events("sort_dir=desc&limit=1") == [created]
    assert events(f"sort_dir=asc&marker={first_id()}") == [n_started, n_created, created]
    assert events("marker=nosuch") == [created, n_created, n_started, started]
    assert events("resource_status=COMPLETE") == [created, n_created]
    assert events("resource_action=CREATE&resource_name=n") == [n_created, n_started]
    assert events("resource_type=OS::Heat::None") == [n_created, n_started]
    assert events("bogus=1") == [created, n_created, n_started, started]
    status, _, raw = _request(f"{url}?sort_dir=up")
    assert (status, json.loads(raw)["error"]) == (400, {"type": "ValueError", "traceback": None})
    status, _, raw = _request(f"{url}?limit=-1")
    assert json.loads(raw)["error"]["message"] == (
        "Value '-1' is invalid for 'limit' which only accepts non-negative integer.")
    status, _, raw = _request(f"{url}?limit=x")
    assert (status, json.loads(raw)["error"]["message"]) == (
        400, "Only integer is acceptable by 'limit'.")


VALUE = {"heat_template_version": "2018-08-31",
         "resources": {"value": {"type": "OS::Heat::Value", "properties": {"value": "hello"}},
                       "none": {"type": "OS::Heat::None"}}}


def test_resource_show_metadata_filters_and_detail(api: ApiServer) -> None:
    _post(f"{api.endpoint}/stacks", {"stack_name": "api_res", "template": VALUE})
    stack_id = _wait_complete(api, "api_res")
    base = f"{api.endpoint}/stacks/api_res/{stack_id}"

    def get(path: str) -> tuple[int, Any]:
        status, _, raw = _request(f"{base}{path}")
        return status, json.loads(raw)

    status, body = get("/resources/value")
    assert status == 200 and list(body["resource"]) == [
        "updated_time", "creation_time", "logical_resource_id", "resource_name",
        "physical_resource_id", "resource_status", "resource_status_reason", "resource_type",
        "links", "required_by", "description", "attributes"]
    assert body["resource"]["attributes"] == {"value": "hello"}
    assert body["resource"]["description"] == ""
    assert get("/resources/value?with_attr=zz")[1]["resource"]["attributes"] == {
        "value": "hello", "zz": None}
    assert get("/resources/nope") == (404, _fault(
        404, "Not Found", "The resource could not be found.", "ResourceNotFound",
        "The Resource (nope) could not be found in Stack api_res."))
    assert get("/resources/value/metadata") == (200, {"metadata": {}})
    assert get("/resources?bogus=1") == (400, _fault(
        400, "Bad Request", EXPLANATION, "HTTPBadRequest",
        "Invalid filter parameters ['bogus']"))
    assert [r["resource_name"] for r in get("/resources?type=Value")[1]["resources"]] == [
        "value"]
    detailed = get("/resources?with_detail=true")[1]["resources"]
    assert {r["resource_name"]: r["attributes"] for r in detailed} == {
        "value": {"value": "hello"}, "none": {}}


def test_stacks_detail_and_build_info(api: ApiServer) -> None:
    _post(f"{api.endpoint}/stacks", {"stack_name": "api_det", "template": NONE})
    _wait_complete(api, "api_det")
    _, _, raw = _request(f"{api.endpoint}/stacks/detail")
    items = json.loads(raw)["stacks"]
    assert [s["stack_name"] for s in items] == ["api_det"] and "project" not in items[0]
    _, _, raw = _request(f"{api.endpoint}/build_info")
    assert json.loads(raw) == {"api": {"revision": "unknown"}, "engine": {"revision": "unknown"}}


def test_actions_and_signal(api: ApiServer) -> None:
    _post(f"{api.endpoint}/stacks", {"stack_name": "api_act", "template": NONE})
    stack_id = _wait_complete(api, "api_act")
    base = f"{api.endpoint}/stacks/api_act/{stack_id}"

    def act(body: Any) -> tuple[int, Any]:
        return _post(f"{base}/actions", body)

    def bad(message: str, kind: str = "HTTPBadRequest") -> tuple[int, Any]:
        return 400, _fault(400, "Bad Request", EXPLANATION, kind, message)

    assert act({}) == bad("No action specified")
    assert act({"a": 1, "b": 2}) == bad("Multiple actions specified")
    assert act({"nope": None}) == bad("Invalid action nope specified")
    assert act({"cancel_update": None}) == bad(
        "Cancelling update when stack is CREATE_COMPLETE is not supported.", "NotSupported")
    assert act({"check": None}) == (200, None)
    deadline = time.monotonic() + 30
    while True:
        _, _, raw = _request(base)
        stack = json.loads(raw)["stack"]
        if stack["stack_status"] == "CHECK_COMPLETE":
            break
        assert stack["stack_status"] in ("CHECK_IN_PROGRESS", "CREATE_COMPLETE")
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert _post(f"{base}/resources/n/signal", {}) == bad(
        "signal is not supported for resource.", "ResourceActionNotSupported")


def test_template_functions(api: ApiServer) -> None:
    def get(version: str, query: str = "") -> tuple[int, Any]:
        status, _, raw = _request(f"{api.endpoint}/template_versions/{version}/functions"
                                  f"{query}")
        return status, json.loads(raw)

    status, body = get("heat_template_version.2013-05-23")
    names = [f["functions"] for f in body["template_functions"]]
    # the functions Heat 27.0.1 lists for 2013-05-23 (its order differs)
    assert status == 200 and sorted(names) == sorted([
        "Fn::GetAZs", "get_param", "get_resource", "Ref", "get_attr", "Fn::Select", "Fn::Join",
        "list_join", "Fn::Split", "str_replace", "Fn::Replace", "Fn::Base64",
        "Fn::MemberListToMap", "resource_facade", "Fn::ResourceFacade", "get_file"])
    assert all(f["description"] for f in body["template_functions"])
    status, body = get("heat_template_version.rocky")
    assert status == 200 and "get_attr" in [f["functions"] for f in body["template_functions"]]
    plain = {f["functions"] for f in get("heat_template_version.2018-08-31")[1][
        "template_functions"]}
    with_conditions = {f["functions"] for f in get(
        "heat_template_version.2018-08-31", "?with_condition_func=true")[1]["template_functions"]}
    assert "equals" not in plain and {"equals", "not", "and", "or"} <= with_conditions
    assert get("nope") == (404, _fault(404, "Not Found", "The resource could not be found.",
                                       "NotFound", "Template with version {} not found"))


def test_resource_type_schema(api: ApiServer) -> None:
    status, _, raw = _request(f"{api.endpoint}/resource_types/OS::Heat::Value")
    body = json.loads(raw)
    # Heat's keys and property schema shape for OS::Heat::Value (descriptions are kubeheat's)
    assert status == 200 and list(body) == ["resource_type", "properties", "attributes",
                                            "support_status"]
    assert {k: {f: v for f, v in p.items() if f != "description"}
            for k, p in body["properties"].items()} == {
        "value": {"type": "any", "required": True, "update_allowed": True,
                  "immutable": False},
        "type": {"type": "string", "required": False, "update_allowed": True,
                 "immutable": False, "constraints": [{"allowed_values": [
                     "string", "number", "comma_delimited_list", "json", "boolean"]}]}}
    assert set(body["attributes"]) == {"value", "show"}
    assert body["attributes"]["show"]["type"] == "map"
    assert set(body["support_status"]) == {"status", "message", "version", "previous_status"}
    assert body["support_status"]["status"] == "SUPPORTED"
    status, _, raw = _request(f"{api.endpoint}/resource_types/OS::Nope")
    assert (status, json.loads(raw)) == (404, _fault(
        404, "Not Found", "The resource could not be found.", "EntityNotFound",
        "The Resource Type (OS::Nope) could not be found."))


def test_options_and_head(api: ApiServer) -> None:
    status, headers, raw = _request(f"{api.endpoint}/stacks", "OPTIONS")
    # Heat answered Allow: GET,POST for this path
    assert (status, headers["Allow"], raw) == (204, "GET,POST", b"")
    status, _, _ = _request(f"{api.endpoint}/stacks", "HEAD")
    assert status == 405


def test_list_sort_paging_and_count(api: ApiServer) -> None:
    for name in ("api_pb", "api_pa", "api_pc"):
        _post(f"{api.endpoint}/stacks", {"stack_name": name, "template": NONE})
        _wait_complete(api, name)

    def listed(query: str) -> tuple[int, Any]:
        status, _, raw = _request(f"{api.endpoint}/stacks?{query}")
        return status, json.loads(raw)

    _, body = listed("sort_keys=stack_name&sort_dir=asc")
    assert [s["stack_name"] for s in body["stacks"]] == ["api_pa", "api_pb", "api_pc"]
    assert set(body) == {"stacks"}
    _, body = listed("limit=1&with_count=true&sort_keys=stack_name&sort_dir=asc")
    first = body["stacks"][0]
    assert [s["stack_name"] for s in body["stacks"]] == ["api_pa"]
    # Heat's next link: the same query, then the marker
    assert list(body) == ["stacks", "links", "count"] and body["count"] == 3
    assert body["links"] == [{"rel": "next", "href": (
        f"{api.endpoint}/stacks?limit=1&with_count=true&sort_keys=stack_name&sort_dir=asc"
        f"&marker={first['id']}")}]
    _, body = listed(f"sort_keys=stack_name&sort_dir=asc&marker={first['id']}")
    assert [s["stack_name"] for s in body["stacks"]] == ["api_pb", "api_pc"]
    _, body = listed("sort_keys=bogus&sort_dir=asc&marker=nosuch")
    assert len(body["stacks"]) == 3
    assert listed("limit=x")[1]["error"]["message"] == "Only integer is acceptable by 'limit'."
    assert listed("sort_dir=up") == (400, {
        "code": 400, "title": "Bad Request", "explanation": EXPLANATION,
        "error": {"type": "ValueError", "traceback": None}})
    assert listed("with_count=maybe")[1]["error"]["message"] == (
        'Unrecognized value "maybe" for "with_count", acceptable values are: true, false.')


def test_resource_events_event_show_abandon_adopt(api: ApiServer) -> None:
    _post(f"{api.endpoint}/stacks", {"stack_name": "api_evs", "template": VALUE})
    stack_id = _wait_complete(api, "api_evs")
    base = f"{api.endpoint}/stacks/api_evs/{stack_id}"

    def get(path: str, method: str = "GET") -> tuple[int, Any]:
        status, _, raw = _request(f"{base}{path}", method)
        return status, json.loads(raw)

    status, body = get("/resources/value/events?sort_dir=asc")
    assert status == 200 and [(e["resource_name"], e["resource_status"])
                              for e in body["events"]] == [
        ("value", "CREATE_IN_PROGRESS"), ("value", "CREATE_COMPLETE")]
    first = body["events"][0]
    status, shown = get(f"/resources/value/events/{first['id']}")
    assert status == 200 and list(shown["event"]) == [*list(first), "resource_type",
                                                      "resource_properties"]
    assert shown["event"]["resource_type"] == "OS::Heat::Value"
    assert shown["event"]["resource_properties"] == {"value": "hello"}
    not_found = "The resource could not be found."
    assert get("/resources/value/events/nope") == (404, _fault(
        404, "Not Found", not_found, "HTTPNotFound", "No event nope found"))
    assert get("/resources/nores/events") == (404, _fault(
        404, "Not Found", not_found, "HTTPNotFound", "No events found for resource nores"))
    abandon = _fault(400, "Bad Request", EXPLANATION, "NotSupported",
                     "Stack Abandon is not supported.")
    assert get("/abandon", "DELETE") == (400, abandon)
    assert get("/export") == (400, abandon)
    assert _post(f"{api.endpoint}/stacks", {"stack_name": "api_ad", "adopt_stack_data": "{}",
                                            "template": NONE}) == (400, _fault(
        400, "Bad Request", EXPLANATION, "NotSupported", "Stack Adopt is not supported."))

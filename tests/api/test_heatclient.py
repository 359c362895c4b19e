"""The real python-heatclient against the API's embedded backend: a stack of Heat's own types
created, listed, shown, looked up, its resources, events, outputs and template read, validated
and deleted; the shapes expected are the ones real Heat 27.0.1 answered for the same template."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from api_support import TEMPLATE, ApiServer
from heatclient import client as heat_client
from heatclient import exc as heat_exc

#: the keys and their order of ``GET S``'s stack, as Heat answered
SHOW_KEYS = ["stack_name", "id", "links", "creation_time", "updated_time", "deletion_time",
             "notification_topics", "parameters", "description", "template_description",
             "capabilities", "disable_rollback", "timeout_mins", "stack_owner", "parent",
             "stack_user_project_id", "tags", "stack_status", "stack_status_reason", "outputs"]
#: the keys of a list item (Heat, as admin: with ``project``)
LIST_KEYS = ["id", "links", "project", "stack_name", "description", "stack_status",
             "stack_status_reason", "creation_time", "updated_time", "deletion_time",
             "stack_owner", "parent", "stack_user_project_id", "tags"]
RESOURCE_KEYS = ["updated_time", "creation_time", "logical_resource_id", "resource_name",
                 "physical_resource_id", "resource_status", "resource_status_reason",
                 "resource_type", "links", "required_by"]
EVENT_KEYS = ["id", "links", "event_time", "logical_resource_id", "resource_name",
              "physical_resource_id", "resource_status", "resource_status_reason"]
FAULT_KEYS = ["code", "title", "explanation", "error"]


def _client(api: ApiServer) -> Any:
    return heat_client.Client("1", endpoint=api.endpoint, token="x")


def _wait(hc: Any, name: str, status: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        stack = hc.stacks.get(name)
        if stack.stack_status == status:
            return stack
        assert time.monotonic() < deadline, f"{name} is {stack.stack_status}, not {status}"
        time.sleep(0.1)


def _raw(url: str, method: str = "GET", body: Any = None) -> tuple[int, dict[str, str], Any]:
    """A request that does not follow redirects: status, headers, decoded JSON body."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json",
                                          "X-Auth-Token": "x"})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as resp:
            raw = resp.read()
            return resp.status, dict(resp.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            decoded = json.loads(raw) if raw else None
        except ValueError:
            decoded = raw.decode()
        return err.code, dict(err.headers), decoded


def test_stack_lifecycle(api: ApiServer) -> None:
    hc = _client(api)
    created = hc.stacks.create(stack_name="api_life", template=TEMPLATE,
                               parameters={"greeting": "hi"})
    stack_id = created["stack"]["id"]
    assert created["stack"]["links"] == [
        {"href": f"{api.endpoint}/stacks/api_life/{stack_id}", "rel": "self"}]
    # visible at once, in progress or done
    assert hc.stacks.get(stack_id).stack_status in ("CREATE_IN_PROGRESS", "CREATE_COMPLETE")
    stack = _wait(hc, "api_life", "CREATE_COMPLETE")
    shown = stack.to_dict()
    assert list(shown) == SHOW_KEYS
    assert shown["stack_status_reason"] == "Stack CREATE completed successfully"
    assert shown["parameters"] == {"OS::stack_id": stack_id, "OS::project_id": "admin",
                                   "OS::stack_name": "api_life", "greeting": "hi"}
    assert shown["outputs"] == [{"output_key": "out", "description": "the value",
                                 "output_value": "hi"}]
    assert shown["description"] == shown["template_description"] == "api test"
    assert shown["disable_rollback"] is True and shown["tags"] == []

    listed = [s.to_dict() for s in hc.stacks.list()]
    assert [s["stack_name"] for s in listed] == ["api_life"]
    assert list(listed[0]) == LIST_KEYS and listed[0]["tags"] is None
    assert [s.stack_name for s in hc.stacks.list(filters={"name": "nope"})] == []

    assert hc.stacks.output_list(stack_id) == {
        "outputs": [{"output_key": "out", "description": "the value"}]}
    assert hc.stacks.output_show(stack_id, "out") == {
        "output": {"output_key": "out", "description": "the value", "output_value": "hi"}}

    resources = [r.to_dict() for r in hc.resources.list("api_life")]
    assert sorted(r["resource_name"] for r in resources) == ["none", "rand", "value"]
    assert all(list(r) == RESOURCE_KEYS for r in resources)
    assert {r["resource_status"] for r in resources} == {"CREATE_COMPLETE"}
    assert {r["resource_status_reason"] for r in resources} == {"state changed"}

    events = [e.to_dict() for e in hc.events.list("api_life")]
    assert all(list(e)[:len(EVENT_KEYS)] == EVENT_KEYS for e in events)
    # newest first; the stack's own events first and last
    assert (events[0]["resource_name"], events[0]["resource_status"],
            events[0]["resource_status_reason"]) == (
        "api_life", "CREATE_COMPLETE", "Stack CREATE completed successfully")
    assert (events[-1]["resource_name"], events[-1]["resource_status"],
            events[-1]["resource_status_reason"]) == (
        "api_life", "CREATE_IN_PROGRESS", "Stack CREATE started")
    assert events[0]["physical_resource_id"] == stack_id

    template = hc.stacks.template(stack_id)
    assert template["heat_template_version"] == "2018-08-31"
    assert template["resources"]["value"]["properties"] == {"value": {"get_param": "greeting"}}

    hc.stacks.delete(stack_id)
    deadline = time.monotonic() + 30
    while [s for s in hc.stacks.list()]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    # still readable by id, as Heat keeps it
    assert hc.stacks.get(stack_id).stack_status == "DELETE_COMPLETE"


def test_lookup_redirects_with_absolute_location(api: ApiServer) -> None:
    hc = _client(api)
    stack_id = hc.stacks.create(stack_name="api_look", template=TEMPLATE)["stack"]["id"]
    _wait(hc, "api_look", "CREATE_COMPLETE")
    status, headers, _ = _raw(f"{api.endpoint}/stacks/api_look")
    assert status == 302
    assert headers["Location"] == f"{api.endpoint}/stacks/api_look/{stack_id}"
    assert headers["x-openstack-request-id"].startswith("req-")
    status, headers, _ = _raw(f"{api.endpoint}/stacks/api_look/resources?x=y")
    assert (status, headers["Location"]) == (
        302, f"{api.endpoint}/stacks/api_look/{stack_id}/resources?x=y")
    status, _, body = _raw(f"{api.endpoint}/stacks/nosuch")
    assert status == 404 and list(body) == FAULT_KEYS
    assert body["error"] == {"type": "EntityNotFound", "traceback": None,
                             "message": "The Stack (nosuch) could not be found."}
    # a wrong name for the id
    status, _, body = _raw(f"{api.endpoint}/stacks/other/{stack_id}")
    assert status == 404 and body["error"]["message"] == "The Stack (other) could not be found."


def test_validate_good_and_bad(api: ApiServer) -> None:
    hc = _client(api)
    assert hc.stacks.validate(template=TEMPLATE) == {
        "Description": "api test",
        "Parameters": {"greeting": {"Type": "String", "Description": "", "NoEcho": "false",
                                    "Label": "greeting", "Default": "hello"}},
        "Environment": {"resource_registry": {"resources": {}}, "parameters": {},
                        "parameter_defaults": {}, "event_sinks": []}}
    bad = {"heat_template_version": "2018-08-31",
           "resources": {"x": {"type": "OS::Nope"}}}
    status, _, body = _raw(f"{api.endpoint}/validate", "POST", {"template": bad})
    assert status == 400
    assert body == {"code": 400, "title": "Bad Request",
                    "explanation": "The server could not comply with the request since it is "
                                   "either malformed or otherwise incorrect.",
                    "error": {"type": "HTTPBadRequest", "traceback": None,
                              "message": body["error"]["message"]}}
    assert "The Resource Type (OS::Nope) could not be found." in body["error"]["message"]
    with pytest.raises(heat_exc.HTTPBadRequest):
        hc.stacks.validate(template=bad)


def test_bad_create_requests(api: ApiServer) -> None:
    status, _, body = _raw(f"{api.endpoint}/stacks", "POST", {"template": {}})
    assert status == 400 and body["error"] == {
        "type": "HTTPBadRequest", "traceback": None, "message": "No stack name specified"}
    bad = {"heat_template_version": "2018-08-31", "resources": {"x": {"type": "OS::Nope"}}}
    status, _, body = _raw(f"{api.endpoint}/stacks", "POST",
                           {"stack_name": "api_bad", "template": bad})
    assert status == 400 and body["error"]["type"] == "StackValidationFailed"
    assert body["error"]["message"].endswith("The Resource Type (OS::Nope) could not be found.")
    assert _client(api).stacks.list() is not None
    assert [s for s in _client(api).stacks.list()] == []
    status, _, body = _raw(f"{api.endpoint}/stacks", "POST",
                           {"stack_name": "api_big", "template": {"x": "y" * 1048576}})
    assert status == 400 and body["error"]["type"] == "RequestLimitExceeded"


def test_versions_types_and_template_versions(api: ApiServer) -> None:
    status, _, body = _raw(f"{api.root}/")
    assert status == 300 and body == {"versions": [
        {"id": "v1.0", "status": "CURRENT",
         "links": [{"rel": "self", "href": f"{api.root}/v1/"}]}]}
    hc = _client(api)
    names = [t.resource_type for t in hc.resource_types.list(filters={"name": "OS::Heat::Test"})]
    assert names == ["OS::Heat::TestResource"]
    versions = [v.to_dict() for v in hc.template_versions.list()]
    assert versions[0] == {"version": "AWSTemplateFormatVersion.2010-09-09", "type": "cfn",
                           "aliases": []}
    assert {"version": "heat_template_version.2018-08-31", "type": "hot",
            "aliases": ["heat_template_version.rocky"]} in versions
    assert len(versions) == 13


SLOW = """heat_template_version: 2018-08-31
resources:
  slow:
    type: OS::Heat::TestResource
    properties:
      value: v
      action_wait_secs: {create: 2, delete: 1}
outputs:
  o:
    value: {get_attr: [slow, output]}
"""


def test_operations_run_in_the_background(api: ApiServer) -> None:
    """As Heat: the stack is ``CREATE_IN_PROGRESS`` ("Stack CREATE started") as soon as the
    create is answered, then ``DELETE_IN_PROGRESS`` ("Stack DELETE started", ``updated_time``
    set) once the delete is; a deleted stack stays readable by id, without outputs, with its
    ``deletion_time``, and deleting it again or looking it up by name is Heat's 404."""
    hc = _client(api)
    stack_id = hc.stacks.create(stack_name="api_slow", template=SLOW)["stack"]["id"]
    stack = hc.stacks.get(stack_id).to_dict()
    assert (stack["stack_status"], stack["stack_status_reason"]) == (
        "CREATE_IN_PROGRESS", "Stack CREATE started")
    assert stack["updated_time"] is None
    _wait(hc, stack_id, "CREATE_COMPLETE")
    hc.stacks.delete(stack_id)
    stack = hc.stacks.get(stack_id).to_dict()
    assert (stack["stack_status"], stack["stack_status_reason"]) == (
        "DELETE_IN_PROGRESS", "Stack DELETE started")
    assert stack["updated_time"] is not None and stack["deletion_time"] is None
    stack = _wait(hc, stack_id, "DELETE_COMPLETE").to_dict()
    assert stack["stack_status_reason"] == "Stack DELETE completed successfully"
    assert "outputs" not in stack and stack["deletion_time"] is not None
    status, _, body = _raw(f"{api.endpoint}/stacks/api_slow/{stack_id}", "DELETE")
    assert status == 404 and body["error"]["message"] == "The Stack (api_slow) could not be found."
    status, _, body = _raw(f"{api.endpoint}/stacks/api_slow")
    assert status == 404 and body["error"]["type"] == "EntityNotFound"


def test_outputs_environment_and_files(api: ApiServer) -> None:
    hc = _client(api)
    stack_id = hc.stacks.create(stack_name="api_files", template=TEMPLATE,
                                files={"extra.txt": "text"})["stack"]["id"]
    _wait(hc, stack_id, "CREATE_COMPLETE")
    base = f"{api.endpoint}/stacks/api_files/{stack_id}"
    status, _, body = _raw(f"{base}/outputs/nope")
    # Heat's message, its placeholder unformatted
    assert status == 404 and body["error"] == {
        "type": "NotFound", "traceback": None, "message": "Specified output key {} not found."}
    assert _raw(f"{base}/files")[2] == {"extra.txt": "text"}
    env = _raw(f"{base}/environment")[2]
    assert set(env) >= {"parameters", "parameter_defaults", "resource_registry",
                        "event_sinks", "encrypted_param_names"}
    # outputs is not a lookup sub-path in Heat: /stacks/{name}/outputs is a show of id "outputs"
    status, _, body = _raw(f"{api.endpoint}/stacks/api_files/outputs")
    assert status == 404 and body["error"]["message"] == "The Stack (api_files) could not be found."


PARAMS = """heat_template_version: 2018-08-31
parameters:
  n: {type: number, default: 8}
  f: {type: number, default: 1.5}
  b: {type: boolean, default: true}
  l: {type: comma_delimited_list, default: "a,b"}
  j: {type: json, default: {"k": [1, 2]}}
  s: {type: string, hidden: true, default: secret}
  e: {type: string, default: ""}
resources:
  none: {type: OS::Heat::None}
"""


@pytest.mark.parametrize(("given", "shown"), [
    ({}, {"n": "8", "f": "1.5", "b": "True", "l": "a,b", "j": '{"k": [1, 2]}', "s": "******",
          "e": ""}),
    ({"n": "3", "b": "false", "l": "x,y,z", "j": {"a": 1}},
     {"n": "3", "f": "1.5", "b": "False", "l": "x,y,z", "j": '{"a": 1}', "s": "******",
      "e": ""}),
])
def test_parameters_are_shown_as_heat_renders_them(api: ApiServer, given: dict[str, Any],
                                                   shown: dict[str, str]) -> None:
    hc = _client(api)
    stack_id = hc.stacks.create(stack_name="api_params", template=PARAMS,
                                parameters=given)["stack"]["id"]
    stack = _wait(hc, stack_id, "CREATE_COMPLETE").to_dict()
    assert stack["parameters"] == {"OS::stack_id": stack_id, "OS::project_id": "admin",
                                   "OS::stack_name": "api_params", **shown}


def test_unknown_parameter_is_refused(api: ApiServer) -> None:
    status, _, body = _raw(f"{api.endpoint}/stacks", "POST",
                           {"stack_name": "api_zz", "template": PARAMS, "parameters": {"zz": 1}})
    assert status == 400 and body["error"]["type"] == "UnknownUserParameter"
    assert body["error"]["message"].endswith("The Parameter (zz) was not defined in template.")
    assert _client(api).stacks.list() is not None and not list(_client(api).stacks.list())


def test_update_put_and_patch(api: ApiServer) -> None:
    """As Heat: 202 with webob's body, ``UPDATE_IN_PROGRESS`` ("Stack UPDATE started",
    ``updated_time`` set) at once; PUT needs a template; PATCH keeps the template and the
    other parameters; an update while the stack is busy is 409 ActionInProgress (kubeheat
    refuses it where Heat's convergence engine would start it)."""
    hc = _client(api)
    stack_id = hc.stacks.create(stack_name="api_upd", template=SLOW)["stack"]["id"]
    status, _, body = _raw(f"{api.endpoint}/stacks/api_upd/{stack_id}", "PUT",
                           {"template": TEMPLATE})
    assert status == 409 and body["error"]["type"] == "ActionInProgress"
    _wait(hc, stack_id, "CREATE_COMPLETE")
    status, _, body = _raw(f"{api.endpoint}/stacks/api_upd/{stack_id}", "PUT",
                           {"parameters": {}})
    assert status == 400 and body["error"]["message"] == "No template specified"
    status, _, body = _raw(f"{api.endpoint}/stacks/api_upd/{stack_id}", "PUT",
                           {"template": TEMPLATE, "parameters": {"greeting": "yo"}})
    assert (status, body) == (202, {
        "message": "The request is accepted for processing.<br /><br />\n\n\n",
        "code": "202 Accepted", "title": "Accepted"})
    stack = hc.stacks.get(stack_id).to_dict()
    assert (stack["stack_status"], stack["stack_status_reason"]) == (
        "UPDATE_IN_PROGRESS", "Stack UPDATE started")
    assert stack["updated_time"] is not None
    stack = _wait(hc, stack_id, "UPDATE_COMPLETE").to_dict()
    assert stack["stack_status_reason"] == "Stack UPDATE completed successfully"
    assert stack["outputs"][0]["output_value"] == "yo"
    # heatclient's PATCH (stack update --existing): template null, only the changes
    hc.stacks.update(stack_id, existing=True, parameters={"greeting": "patched"})
    stack = _wait(hc, stack_id, "UPDATE_COMPLETE").to_dict()
    deadline = time.monotonic() + 30
    while stack["outputs"][0]["output_value"] != "patched":
        assert time.monotonic() < deadline
        time.sleep(0.1)
        stack = _wait(hc, stack_id, "UPDATE_COMPLETE").to_dict()
    assert sorted(stack["parameters"]) == ["OS::project_id", "OS::stack_id", "OS::stack_name",
                                           "greeting"]


def test_cloud_resources_use_the_embedded_sandbox(api: ApiServer) -> None:
    """With no cloud configured, a resource that needs one is made in the embedded sandbox
    cloud, started on first use."""
    template = {"heat_template_version": "2018-08-31",
                "resources": {"net": {"type": "OS::Neutron::Net",
                                      "properties": {"name": "api-net"}}},
                "outputs": {"name": {"value": {"get_attr": ["net", "name"]}}}}
    hc = _client(api)
    stack_id = hc.stacks.create(stack_name="api_net", template=template)["stack"]["id"]
    stack = _wait(hc, stack_id, "CREATE_COMPLETE", timeout=60).to_dict()
    assert stack["outputs"][0]["output_value"] == "api-net"
    (net,) = hc.resources.list(stack_id)
    assert net.resource_type == "OS::Neutron::Net" and net.physical_resource_id
    hc.stacks.delete(stack_id)
    _wait(hc, stack_id, "DELETE_COMPLETE", timeout=60)

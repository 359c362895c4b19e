"""How the API shapes the engine's records as Heat's API does: stacks (show and list items),
outputs, resources and events, with their absolute ``links``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kubeheat.engine import REPLACED_SEP, Event, ResourceState, StackState

MASK = "******"
#: the user of every stack while the API has no authentication
OWNER = "admin"


def stack_url(base: str, state: StackState) -> str:
    """``base`` is ``http://host/v1/{project}``."""
    return f"{base}/stacks/{state.name}/{state.id}"


def _links(href: str, rel: str = "self") -> dict[str, str]:
    return {"href": href, "rel": rel}


def _description(state: StackState) -> str:
    doc = state.template
    text = doc.get("description", doc.get("Description"))
    return str(text) if text is not None else "No description"


def _parameter_text(value: Any, kind: str) -> str:
    """A parameter's value as Heat shows it: Python's ``str`` of the value of its type."""
    kind = kind.lower()
    if kind == "boolean":
        flag = value.strip().lower() in ("true", "t", "on", "yes", "y", "1") \
            if isinstance(value, str) else bool(value)
        return str(flag)
    if kind == "json":
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return str(value)
        return json.dumps(value)
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def parameters(state: StackState, project: str) -> dict[str, str]:
    """Every parameter's value as text (hidden ones masked), after Heat's pseudo parameters."""
    doc = state.template
    cfn = "AWSTemplateFormatVersion" in doc or "HeatTemplateFormatVersion" in doc
    out: dict[str, str] = ({"AWS::StackId": f"arn:openstack:heat::{project}:stacks/"
                                            f"{state.name}/{state.id}",
                            "AWS::StackName": state.name, "AWS::Region": "ap-southeast-1"}
                           if cfn else {"OS::stack_id": state.id, "OS::project_id": project,
                                        "OS::stack_name": state.name})
    schemas = doc.get("Parameters" if cfn else "parameters") or {}
    for name, schema in schemas.items() if isinstance(schemas, Mapping) else ():
        given = state.parameters.get(name)
        if given is None and isinstance(schema, Mapping):
            given = schema.get("Default" if cfn else "default")
        hidden = name in state.hidden or (isinstance(schema, Mapping) and (
            schema.get("hidden") is True or str(schema.get("NoEcho", "")).lower() == "true"))
        kind = str(schema.get("Type" if cfn else "type", "")) if isinstance(schema, Mapping) \
            else ""
        out[name] = MASK if hidden else ("" if given is None else _parameter_text(given, kind))
    return out


def outputs(state: StackState) -> list[dict[str, Any]]:
    """The outputs with values (``output_error`` for one that failed), sorted by key."""
    found = []
    for key in sorted(_output_docs(state)):
        item: dict[str, Any] = {"output_key": key, "description": output_description(state, key)}
        if key in state.output_errors:
            item["output_value"] = None
            item["output_error"] = state.output_errors[key]
        else:
            item["output_value"] = state.outputs.get(key)
        found.append(item)
    return found


def _output_docs(state: StackState) -> Mapping[str, Any]:
    docs = state.template.get("outputs", state.template.get("Outputs")) or {}
    return docs if isinstance(docs, Mapping) else {}


def output_description(state: StackState, key: str) -> str:
    doc = _output_docs(state).get(key)
    text = doc.get("description", doc.get("Description")) if isinstance(doc, Mapping) else None
    return str(text) if text is not None else "No description given"


def output_keys(state: StackState) -> list[str]:
    return sorted(_output_docs(state))


def summary(base: str, state: StackState, project: str, deleted: str | None = None
            ) -> dict[str, Any]:
    """An item of the stack list."""
    return {"id": state.id, "links": [_links(stack_url(base, state))], "project": project,
            "stack_name": state.name, "description": "", "stack_status": state.state,
            "stack_status_reason": state.status_reason, "creation_time": state.created_time,
            "updated_time": state.updated_time, "deletion_time": deleted,
            "stack_owner": OWNER, "parent": state.parent, "stack_user_project_id": project,
            "tags": None}


def show(base: str, state: StackState, project: str, *, resolve_outputs: bool = True,
         deleted: str | None = None) -> dict[str, Any]:
    """``GET S``'s stack, in Heat's key order (``deleted``: when its delete completed).
    During an operation the outputs are the values last computed (None before any)."""
    description = _description(state)
    body: dict[str, Any] = {
        "stack_name": state.name, "id": state.id, "links": [_links(stack_url(base, state))],
        "creation_time": state.created_time, "updated_time": state.updated_time,
        "deletion_time": deleted, "notification_topics": [],
        "parameters": parameters(state, project), "description": description,
        "template_description": description, "capabilities": [],
        "disable_rollback": state.disable_rollback,
        "timeout_mins": int(state.timeout_minutes) if state.timeout_minutes else None,
        "stack_owner": OWNER, "parent": state.parent, "stack_user_project_id": project,
        "tags": [], "stack_status": state.state, "stack_status_reason": state.status_reason,
    }
    if resolve_outputs and state.state != "DELETE_COMPLETE":
        body["outputs"] = outputs(state)
    return body


def resources(base: str, state: StackState) -> list[dict[str, Any]]:
    """The stack's resources as ``GET S/resources`` lists them."""
    live = {n: r for n, r in state.resources.items() if REPLACED_SEP not in n}
    required_by: dict[str, list[str]] = {n: [] for n in live}
    for name, res in live.items():
        for needed in res.requires:
            if needed in required_by:
                required_by[needed].append(name)
    return [resource(base, state, res, sorted(required_by[name]))
            for name, res in sorted(live.items())]


def resource(base: str, state: StackState, res: ResourceState, required_by: list[str]
             ) -> dict[str, Any]:
    url = stack_url(base, state)
    return {"updated_time": res.updated_time or res.created_time,
            "creation_time": res.created_time, "logical_resource_id": res.name,
            "resource_name": res.name, "physical_resource_id": res.physical_id or "",
            "resource_status": res.state, "resource_status_reason": res.status_reason,
            "resource_type": res.type,
            "links": [_links(f"{url}/resources/{res.name}"), _links(url, "stack")],
            "required_by": required_by}


def event(base: str, state: StackState, item: Event) -> dict[str, Any]:
    """An item of ``GET S/events``."""
    url = stack_url(base, state)
    res_url = f"{url}/resources/{item.resource_name}"
    return {"id": item.id,
            "links": [_links(f"{res_url}/events/{item.id}"), _links(res_url, "resource"),
                      _links(url, "stack")],
            "event_time": item.event_time, "logical_resource_id": item.resource_name,
            "resource_name": item.resource_name,
            "physical_resource_id": item.physical_resource_id or "",
            "resource_status": f"{item.resource_action}_{item.resource_status}",
            "resource_status_reason": item.resource_status_reason}

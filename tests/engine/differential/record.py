"""Record what real Heat gives for differential cases (a developer's tool, not a test).

Run it with the Python of the Heat peer's virtualenv while the peer is running::

    /tmp/heatpeer-venv/bin/python tests/engine/differential/record.py CASE.yaml [CASE.yaml ...]
    /tmp/heatpeer-venv/bin/python tests/engine/differential/record.py --all

For each case it sends the case's template *text* (so Heat's own template parser reads it),
its files and parameters to heat-api: first ``POST /validate``, then, when the case does not say
``create: false``, a stack create, an optional update, and a delete. What Heat answered is
written next to the case as ``<case>.heat.json``. The tests compare kubeheat with those files;
they never need the peer.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time
from typing import Any

import requests
import yaml

HERE = pathlib.Path(__file__).resolve().parent
CASES = HERE / "cases"
URL = "http://127.0.0.1:8004/v1/admin"
HEADERS = {
    "X-Auth-Token": "heatpeer",
    "Content-Type": "application/json",
    "Accept": "application/json",
}
HEAT_VERSION = "27.0.1"

_http = requests.Session()
_http.headers.update(HEADERS)


def _json(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return {"raw": resp.text}


def _error(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message", ""))
    if isinstance(body, dict) and "explanation" in body:
        return str(body["explanation"])
    return json.dumps(body)[:2000]


def _body(case: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "template": step.get("template", case["template"]),
        "files": dict(case.get("files") or {}, **(step.get("files") or {})),
        "parameters": {k: str(v) for k, v in (step.get("parameters") or {}).items()},
    }
    env = step.get("environment", case.get("environment"))
    if env:
        body["environment"] = yaml.safe_load(env) if isinstance(env, str) else env
    return body


def _wait(sid: str, action: str, timeout: float = 120.0) -> str:
    deadline = time.time() + timeout
    while True:
        stacks = _http.get(URL + "/stacks", params={"id": sid}, timeout=60).json()["stacks"]
        if not stacks:
            return "DELETE_COMPLETE" if action == "DELETE" else "GONE"
        status = stacks[0]["stack_status"]
        if status.startswith(action + "_") and not status.endswith("IN_PROGRESS"):
            return str(status)
        if time.time() > deadline:
            return "TIMEOUT(" + status + ")"
        time.sleep(0.1)


def _summary(name: str, sid: str) -> dict[str, Any]:
    stack = _http.get(f"{URL}/stacks/{name}/{sid}", timeout=60).json()["stack"]
    outputs: dict[str, Any] = {}
    output_errors: dict[str, str] = {}
    for out in stack.get("outputs") or []:
        if "output_error" in out:
            output_errors[out["output_key"]] = out["output_error"]
        else:
            outputs[out["output_key"]] = out.get("output_value")
    listed = _http.get(f"{URL}/stacks/{name}/{sid}/resources", timeout=60).json()["resources"]
    resources = {
        r["resource_name"]: {
            "type": r["resource_type"],
            "status": r["resource_status"],
            "reason": r.get("resource_status_reason"),
            "physical_id": r.get("physical_resource_id") or "",
        }
        for r in listed
    }
    return {
        "status": stack["stack_status"],
        "reason": stack.get("stack_status_reason"),
        "outputs": outputs,
        "output_errors": output_errors,
        "resources": dict(sorted(resources.items())),
    }


def _delete_existing(name: str) -> None:
    resp = _http.get(f"{URL}/stacks/{name}", allow_redirects=False, timeout=60)
    if resp.status_code in (301, 302, 303, 307):
        sid = resp.headers["Location"].rstrip("/").split("/")[-1]
        _http.delete(f"{URL}/stacks/{name}/{sid}", timeout=60)
        _wait(sid, "DELETE")


def record(path: pathlib.Path) -> dict[str, Any]:
    case = yaml.safe_load(path.read_text())
    name = path.stem
    result: dict[str, Any] = {"heat": HEAT_VERSION}
    first = {k: case[k] for k in ("parameters", "environment") if k in case}
    resp = _http.post(URL + "/validate", json=_body(case, first), timeout=60)
    body = _json(resp)
    result["validate"] = body if resp.ok else {"error": _error(body), "http": resp.status_code}
    if case.get("create", True):
        _delete_existing(name)
        create = dict(_body(case, first), stack_name=name, disable_rollback=True)
        resp = _http.post(URL + "/stacks", json=create, timeout=60)
        if not resp.ok:
            result["create"] = {"error": _error(_json(resp)), "http": resp.status_code}
        else:
            sid = resp.json()["stack"]["id"]
            _wait(sid, "CREATE")
            result["create"] = _summary(name, sid)
            if "update" in case:
                resp = _http.put(
                    f"{URL}/stacks/{name}/{sid}",
                    json=dict(_body(case, case["update"]), disable_rollback=True),
                    timeout=60,
                )
                if not resp.ok:
                    result["update"] = {"error": _error(_json(resp)), "http": resp.status_code}
                else:
                    _wait(sid, "UPDATE")
                    result["update"] = _summary(name, sid)
            _http.delete(f"{URL}/stacks/{name}/{sid}", timeout=60)
            result["delete"] = _wait(sid, "DELETE")
    out = path.with_name(name + ".heat.json")
    out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", type=pathlib.Path)
    parser.add_argument("--all", action="store_true", help="every case under cases/")
    parser.add_argument("--missing", action="store_true", help="cases with no .heat.json yet")
    args = parser.parse_args(argv)
    paths = list(args.cases)
    if args.all or args.missing:
        paths += sorted(p for p in CASES.rglob("*.yaml"))
    if args.missing:
        paths = [p for p in paths if not p.with_name(p.stem + ".heat.json").exists()]
    for path in paths:
        res = record(path)
        made = res.get("create", {})
        print(
            path.name,
            "validate:",
            "error" if "error" in res["validate"] else "ok",
            "create:",
            made.get("status", made.get("error", "-")),
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

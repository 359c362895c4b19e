"""Keystone v3 through the real openstacksdk/keystoneauth: password, token, scoping."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import openstack.exceptions
import pytest
from sandbox_support import sdk

from kubeheat.sandbox import SandboxCloud


def _get(url: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_version_documents(cloud: SandboxCloud) -> None:
    status, body = _get(cloud.auth_url + "/v3")
    assert status == 200
    assert body["version"]["id"].startswith("v3")
    status, body = _get(cloud.auth_url)
    assert status == 300
    assert body["versions"]["values"][0]["status"] == "stable"


def test_password_auth_and_catalog(cloud: SandboxCloud) -> None:
    conn = sdk(cloud)
    conn.authorize()
    access = conn.session.auth.get_access(conn.session)
    assert access.project_id == cloud.project_id
    types = {entry["type"] for entry in access.service_catalog.catalog}
    assert {"identity", "compute", "network", "volumev3", "block-storage", "image",
            "object-store"} <= types
    assert conn.compute.get_endpoint().startswith(cloud.url)


def test_project_scope_by_id_and_domain_id(cloud: SandboxCloud) -> None:
    conn = sdk(cloud, auth={**cloud.cloud_config["auth"], "project_name": None,
                            "project_domain_name": None, "project_id": cloud.project_id,
                            "user_domain_name": None, "user_domain_id": "default"})
    assert conn.current_project_id == cloud.project_id


def test_domain_scoped_token_has_no_project(cloud: SandboxCloud) -> None:
    auth = dict(cloud.cloud_config["auth"])
    del auth["project_name"], auth["project_domain_name"]
    auth["domain_name"] = "Default"
    conn = sdk(cloud, auth=auth)
    access = conn.session.auth.get_access(conn.session)
    assert access.domain_id == "default"
    assert access.project_id is None


def test_token_method(cloud: SandboxCloud) -> None:
    first = sdk(cloud)
    token = first.auth_token
    auth = {"auth_url": cloud.auth_url, "token": token, "project_id": cloud.project_id}
    second = sdk(cloud, auth=auth, auth_type="v3token")
    assert second.current_project_id == cloud.project_id
    assert [f.name for f in second.compute.flavors()]


def test_wrong_password_and_wrong_project_are_401(cloud: SandboxCloud) -> None:
    bad = sdk(cloud, auth={**cloud.cloud_config["auth"], "password": "nope"})
    with pytest.raises(openstack.exceptions.SDKException, match=r"HTTP 401"):
        bad.authorize()
    other = sdk(cloud, auth={**cloud.cloud_config["auth"], "project_name": "elsewhere"})
    with pytest.raises(openstack.exceptions.SDKException, match=r"HTTP 401"):
        other.authorize()


def test_api_without_token_is_401(cloud: SandboxCloud) -> None:
    status, body = _get(f"{cloud.url}/compute/v2.1/servers")
    assert status == 401
    assert body["error"]["code"] == 401

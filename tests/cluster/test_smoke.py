"""Smoke tests of the real test cluster: storage round-trips, authentication and RBAC."""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import KubeCluster

pytestmark = pytest.mark.cluster


def test_server_is_the_pinned_release(kube_cluster: KubeCluster) -> None:
    server = kube_cluster.kubectl_json("version")["serverVersion"]
    assert server["gitVersion"].startswith("v1.")
    assert server["gitTreeState"] == "clean"


def test_namespace_and_configmap_round_trip(kube_cluster: KubeCluster) -> None:
    namespace = f"smoke-{secrets.token_hex(4)}"
    kube_cluster.kubectl("create", "namespace", namespace)
    ns = kube_cluster.kubectl_json("get", "namespace", namespace)
    assert ns["metadata"]["name"] == namespace
    assert ns["status"]["phase"] == "Active"

    data = {
        "plain": "hello",
        "multiline": "first line\nsecond line\n",
        "unicode": "héllo wörld ✓",
        "json": json.dumps({"a": [1, 2, 3]}),
    }
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "smoke", "namespace": namespace, "labels": {"app": "kubeheat"}},
        "data": data,
    }
    kube_cluster.kubectl("apply", "-f", "-", stdin=json.dumps(manifest))

    read = kube_cluster.kubectl_json("get", "configmap", "smoke", "-n", namespace)
    assert read["data"] == data
    assert read["metadata"]["labels"] == {"app": "kubeheat"}
    assert read["metadata"]["uid"]

    listed = kube_cluster.kubectl_json("get", "configmaps", "-n", namespace, "-l", "app=kubeheat")
    assert [item["metadata"]["name"] for item in listed["items"]] == ["smoke"]


def test_token_authentication(kube_cluster: KubeCluster) -> None:
    user = kube_cluster.kubectl_json("auth", "whoami", context=kube_cluster.user_context)
    assert user["status"]["userInfo"]["username"] == kube_cluster.user_name

    admin = kube_cluster.kubectl_json("auth", "whoami")
    assert "system:masters" in admin["status"]["userInfo"]["groups"]


def test_rbac_denies_an_unprivileged_user(kube_cluster: KubeCluster) -> None:
    user = kube_cluster.user_context
    allowed = kube_cluster.kubectl("auth", "can-i", "create", "configmaps", "-n", "default")
    assert allowed.stdout.strip() == "yes"

    denied = kube_cluster.kubectl(
        "auth", "can-i", "create", "configmaps", "-n", "default", context=user, check=False
    )
    assert denied.returncode == 1
    assert denied.stdout.strip() == "no"

    forbidden = kube_cluster.kubectl(
        "get", "configmaps", "-n", "default", context=user, check=False
    )
    assert forbidden.returncode != 0
    assert "forbidden" in forbidden.stderr.lower()

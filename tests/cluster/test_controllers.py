"""The test cluster's kube-controller-manager: namespace deletion, ownerReference garbage
collection and the per-namespace objects real clusters have."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import KubeCluster

pytestmark = pytest.mark.cluster


@pytest.fixture
def namespace(kube_cluster: KubeCluster) -> Iterator[str]:
    name = f"ctrl-{secrets.token_hex(4)}"
    kube_cluster.kubectl("create", "namespace", name)
    yield name
    kube_cluster.kubectl("delete", "namespace", name, "--ignore-not-found", "--wait=false")


def configmap(namespace: str, name: str, owner: dict[str, Any] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if owner is not None:
        metadata["ownerReferences"] = [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
            }
        ]
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": {"k": name}}


def create(kube_cluster: KubeCluster, manifest: dict[str, Any]) -> dict[str, Any]:
    result = kube_cluster.kubectl("create", "-f", "-", "-o", "json", stdin=json.dumps(manifest))
    created = json.loads(result.stdout)
    assert isinstance(created, dict)
    return created


def test_deleted_namespace_goes_away_with_its_contents(kube_cluster: KubeCluster) -> None:
    name = f"doomed-{secrets.token_hex(4)}"
    kube_cluster.kubectl("create", "namespace", name)
    create(kube_cluster, configmap(name, "content"))
    kube_cluster.kubectl("create", "secret", "generic", "s", "-n", name, "--from-literal=a=b")

    kube_cluster.kubectl("delete", "namespace", name, "--wait=false")
    # Without the namespace controller it would stay Terminating (its `kubernetes` finalizer).
    kube_cluster.wait_deleted("namespace", name)
    assert kube_cluster.get("configmap", "content", name) is None


def test_garbage_collector_deletes_dependents_in_the_background(
    kube_cluster: KubeCluster, namespace: str
) -> None:
    owner = create(kube_cluster, configmap(namespace, "owner"))
    dependent = create(kube_cluster, configmap(namespace, "dependent", owner=owner))
    bystander = create(kube_cluster, configmap(namespace, "bystander"))
    assert dependent["metadata"]["ownerReferences"][0]["uid"] == owner["metadata"]["uid"]

    # kubectl's default cascade is "background": the owner goes at once, the GC then deletes the
    # dependent.
    kube_cluster.kubectl("delete", "configmap", "owner", "-n", namespace)
    kube_cluster.wait_deleted("configmap", "dependent", namespace)
    kept = kube_cluster.kubectl_json("get", "configmap", "bystander", "-n", namespace)
    assert kept["metadata"]["uid"] == bystander["metadata"]["uid"]


def test_garbage_collector_handles_foreground_deletion(
    kube_cluster: KubeCluster, namespace: str
) -> None:
    owner = create(kube_cluster, configmap(namespace, "owner"))
    create(kube_cluster, configmap(namespace, "dependent", owner=owner))

    # Foreground: the owner keeps a foregroundDeletion finalizer that only the GC removes, after
    # deleting the dependent.
    kube_cluster.kubectl(
        "delete", "configmap", "owner", "-n", namespace, "--cascade=foreground", "--wait=false"
    )
    kube_cluster.wait_deleted("configmap", "owner", namespace)
    kube_cluster.wait_deleted("configmap", "dependent", namespace)


def test_orphaned_dependents_are_kept(kube_cluster: KubeCluster, namespace: str) -> None:
    owner = create(kube_cluster, configmap(namespace, "owner"))
    create(kube_cluster, configmap(namespace, "dependent", owner=owner))

    # Orphan: the GC removes the dependent's ownerReference, then the owner's orphan finalizer.
    kube_cluster.kubectl("delete", "configmap", "owner", "-n", namespace, "--cascade=orphan")
    kube_cluster.wait_deleted("configmap", "owner", namespace)
    dependent = kube_cluster.get("configmap", "dependent", namespace)
    assert dependent is not None
    assert not dependent["metadata"].get("ownerReferences")


def test_new_namespaces_get_a_default_service_account_and_the_root_ca(
    kube_cluster: KubeCluster, namespace: str
) -> None:
    kube_cluster.wait_until(
        lambda: kube_cluster.get("serviceaccount", "default", namespace),
        f"the default ServiceAccount in {namespace}",
    )
    ca = kube_cluster.wait_until(
        lambda: kube_cluster.get("configmap", "kube-root-ca.crt", namespace),
        f"the kube-root-ca.crt ConfigMap in {namespace}",
    )
    assert ca["data"]["ca.crt"].startswith("-----BEGIN CERTIFICATE-----")

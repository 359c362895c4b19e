"""The helm built with the test cluster: rendering and installing a tiny chart made here."""

from __future__ import annotations

import json
import re
import secrets
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

if TYPE_CHECKING:
    from conftest import KubeCluster

pytestmark = pytest.mark.cluster

HELM_GO_MOD = Path(__file__).resolve().parents[2] / "tools" / "helm" / "go.mod"

CHART = {
    "Chart.yaml": """\
        apiVersion: v2
        name: tiny
        description: A chart made by kubeheat's tests
        type: application
        version: 0.1.0
        appVersion: "1.0"
        """,
    "values.yaml": """\
        message: hello
        """,
    "templates/configmap.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {{ .Release.Name }}-tiny
          labels:
            app.kubernetes.io/managed-by: {{ .Release.Service }}
            app.kubernetes.io/instance: {{ .Release.Name }}
        data:
          message: {{ .Values.message | quote }}
          kubeVersion: {{ .Capabilities.KubeVersion.Version | quote }}
        """,
}


def pinned_helm_version() -> str:
    match = re.search(r"^\s*helm\.sh/helm/v3 (v\S+)", HELM_GO_MOD.read_text(), re.MULTILINE)
    assert match, f"helm.sh/helm/v3 not required in {HELM_GO_MOD}"
    return match.group(1)


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    root = tmp_path / "tiny"
    for name, text in CHART.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


@pytest.fixture
def namespace(kube_cluster: KubeCluster) -> Iterator[str]:
    name = f"helm-{secrets.token_hex(4)}"
    yield name
    kube_cluster.kubectl("delete", "namespace", name, "--ignore-not-found", "--wait=false")


def test_helm_version(kube_cluster: KubeCluster) -> None:
    want = pinned_helm_version()
    assert kube_cluster.helm("version", "--template", "{{.Version}}").stdout == want
    short = kube_cluster.helm("version", "--short").stdout.strip()
    assert short == want


def test_helm_template_renders_the_chart(kube_cluster: KubeCluster, chart: Path) -> None:
    lint = kube_cluster.helm("lint", str(chart))
    assert "1 chart(s) linted, 0 chart(s) failed" in lint.stdout

    out = kube_cluster.helm(
        "template", "demo", str(chart), "--namespace", "somewhere", "--set", "message=hi there"
    ).stdout
    documents = [doc for doc in yaml.safe_load_all(out) if doc]
    assert len(documents) == 1
    (config_map,) = documents
    assert config_map["kind"] == "ConfigMap"
    assert config_map["metadata"]["name"] == "demo-tiny"
    assert config_map["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    assert config_map["data"]["message"] == "hi there"
    # Without a cluster, .Capabilities.KubeVersion is the one stamped at build time from the
    # client-go helm is built with (v0.34.x -> v1.34.0), not helm's v1.20 fallback.
    assert config_map["data"]["kubeVersion"].startswith("v1.34.")


def test_helm_install_upgrade_and_uninstall(
    kube_cluster: KubeCluster, chart: Path, namespace: str
) -> None:
    release = "demo"
    kube_cluster.helm(
        "install",
        release,
        str(chart),
        "--namespace",
        namespace,
        "--create-namespace",
        "--wait",
        "--timeout",
        "60s",
    )
    (listed,) = json.loads(kube_cluster.helm("list", "--namespace", namespace, "-o", "json").stdout)
    assert listed["name"] == release
    assert listed["status"] == "deployed"
    assert listed["revision"] == "1"
    # Installed into the real API server: the object, and helm's release record.
    config_map = kube_cluster.get("configmap", f"{release}-tiny", namespace)
    assert config_map is not None
    assert config_map["data"]["message"] == "hello"
    # Against the cluster, .Capabilities.KubeVersion is the API server's own version.
    server = kube_cluster.kubectl_json("version")["serverVersion"]["gitVersion"]
    assert config_map["data"]["kubeVersion"] == server
    assert kube_cluster.get("secret", f"sh.helm.release.v1.{release}.v1", namespace) is not None

    kube_cluster.helm(
        "upgrade",
        release,
        str(chart),
        "--namespace",
        namespace,
        "--set",
        "message=bye",
        "--wait",
        "--timeout",
        "60s",
    )
    config_map = kube_cluster.get("configmap", f"{release}-tiny", namespace)
    assert config_map is not None
    assert config_map["data"]["message"] == "bye"
    history = json.loads(
        kube_cluster.helm("history", release, "--namespace", namespace, "-o", "json").stdout
    )
    assert [entry["revision"] for entry in history] == [1, 2]

    kube_cluster.helm("uninstall", release, "--namespace", namespace, "--wait", "--timeout", "60s")
    assert kube_cluster.get("configmap", f"{release}-tiny", namespace) is None
    records = kube_cluster.kubectl_json(
        "get", "secrets", "--namespace", namespace, "-l", f"owner=helm,name={release}"
    )
    assert records["items"] == []
    remaining = kube_cluster.helm("list", "--namespace", namespace, "-o", "json").stdout
    assert json.loads(remaining) == []


def test_helm_honours_rbac(kube_cluster: KubeCluster, chart: Path) -> None:
    denied = kube_cluster.helm(
        "install",
        "denied",
        str(chart),
        "--namespace",
        "default",
        context=kube_cluster.user_context,
        check=False,
    )
    assert denied.returncode != 0
    assert "forbidden" in denied.stderr.lower()
    assert kube_cluster.get("configmap", "denied-tiny", "default") is None

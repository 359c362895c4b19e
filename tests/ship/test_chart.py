"""The Helm chart (charts/kubeheat): `helm lint`, `helm template` with the main value sets, its
RBAC against controller/rbac.py's RULES, its CRDs against crds/, and (marker `cluster`) a real
`helm install` whose permissions `kubectl auth can-i` checks, then `helm uninstall`.

helm is the one tools/testcluster/build.sh builds (`make test` builds it first); without it these
tests skip, saying so.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from kubeheat.cli.operator_cmd import register
from kubeheat.controller import RULES
from kubeheat.controller.crd import CRD_NAME, PEERING_CRD_FILE, STACK_CRD_FILE

if TYPE_CHECKING:
    from tests_cluster_conftest import KubeCluster

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "kubeheat"
BIN_ENV = "KUBEHEAT_TESTCLUSTER_BIN"

# The real-cluster fixture lives in tests/cluster/conftest.py; load it under its own name so this
# module can use `kube_cluster` too.
_spec = importlib.util.spec_from_file_location(
    "tests_cluster_conftest", REPO / "tests" / "cluster" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_cluster = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
if not hasattr(_cluster, "kube_cluster"):
    _spec.loader.exec_module(_cluster)
kube_cluster = _cluster.kube_cluster

#: the cluster-scoped resources among RULES (every resource in RULES must be classified here)
CLUSTER_SCOPED = {
    ("", "namespaces"),
    ("apiextensions.k8s.io", "customresourcedefinitions"),
    ("kopf.dev", "clusterkopfpeerings"),
}
NAMESPACED = {
    ("kubeheat.io", "stacks"),
    ("kubeheat.io", "stacks/status"),
    ("", "configmaps"),
    ("", "secrets"),
    ("", "events"),
    ("events.k8s.io", "events"),
    ("kopf.dev", "kopfpeerings"),
}

Triple = tuple[str, str, str]  # (apiGroup, resource, verb)


def triples(rules: Iterable[dict[str, Any]]) -> set[Triple]:
    out: set[Triple] = set()
    for rule in rules:
        assert set(rule) <= {"apiGroups", "resources", "verbs"}, rule  # no names, no URLs
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    assert "*" not in (group, resource, verb), rule
                    out.add((group, resource, verb))
    return out


WANTED = triples(RULES)
WANTED_CLUSTER = {t for t in WANTED if (t[0], t[1]) in CLUSTER_SCOPED}
WANTED_NAMESPACED = {t for t in WANTED if (t[0], t[1]) in NAMESPACED}


def helm_path() -> Path:
    env = os.environ.get(BIN_ENV)
    path = (Path(env) if env else REPO / ".cache" / "bin") / "helm"
    if not os.access(path, os.X_OK):
        pytest.skip(f"helm is not built yet ({path}): `make cluster-bin` builds it")
    return path


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    home = Path(tempfile.gettempdir()) / "kubeheat-helm-test"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELM_") and k != "KUBECONFIG"}
    env.update(
        HELM_CONFIG_HOME=str(home / "config"),
        HELM_CACHE_HOME=str(home / "cache"),
        HELM_DATA_HOME=str(home / "data"),
        KUBECONFIG=str(home / "no-kubeconfig"),
    )
    result = subprocess.run(
        [str(helm_path()), *args], env=env, capture_output=True, text=True, timeout=120
    )
    if check and result.returncode != 0:
        pytest.fail(f"helm {' '.join(args)}: {result.stderr}{result.stdout}", pytrace=False)
    return result


def render(*values: str, namespace: str = "kubeheat") -> list[dict[str, Any]]:
    """`helm template kh charts/kubeheat --set ...` (each of `values` is one --set), parsed."""
    sets = [arg for value in values for arg in ("--set", value)]
    out = helm("template", "kh", str(CHART), "--namespace", namespace, *sets).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def only(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [doc for doc in docs if doc["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind}s"
    return found[0]


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (c,) = only(docs, "StatefulSet")["spec"]["template"]["spec"]["containers"]
    return c


def operator_args(argv: list[str], pod_index: str = "1") -> argparse.Namespace:
    """The container's args parsed by `kubeheat operator`'s own parser ($(POD_INDEX) filled in
    as Kubernetes would)."""
    parser = argparse.ArgumentParser(prog="kubeheat", exit_on_error=False)
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["operator", *(a.replace("$(POD_INDEX)", pod_index) for a in argv)])


def operator_defaults() -> argparse.Namespace:
    return operator_args([])


# ---------------------------------------------------------------------------------- lint, schema


def test_rules_are_all_classified_by_scope() -> None:
    # a new resource in RULES must be placed in the chart's namespaced or cluster-wide rules
    assert {(g, r) for g, r, _ in WANTED} <= CLUSTER_SCOPED | NAMESPACED
    assert WANTED == WANTED_CLUSTER | WANTED_NAMESPACED


@pytest.mark.parametrize(
    "values",
    [
        [],
        ["replicaCount=2"],
        ["watchNamespaces={team-a,team-b}"],
        ["watchNamespaces={team-a}", "replicaCount=3"],
        ["serviceMonitor.enabled=true", "logFormat=text", "logLevel=debug"],
    ],
    ids=["defaults", "replicas-2", "watch-namespaces", "namespaced-ha", "service-monitor"],
)
def test_helm_lint(values: list[str]) -> None:
    sets = [arg for value in values for arg in ("--set", value)]
    out = helm("lint", "--strict", str(CHART), *sets).stdout
    assert "1 chart(s) linted, 0 chart(s) failed" in out


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("logFormat=xml", "logFormat"),
        ("logLevel=trace", "logLevel"),
        ("concurrency=0", "concurrency"),
        ("namespaceConcurrency=0", "namespaceConcurrency"),
        ("defaultStackTimeout=-1", "defaultStackTimeout"),
        ("replicaCount=-1", "replicaCount"),
        ("watchNamespaces={Not_A_Namespace}", "watchNamespaces"),
        ("imagee.tag=1", "imagee"),
    ],
)
def test_schema_rejects_bad_values(value: str, complaint: str) -> None:
    result = helm("template", "kh", str(CHART), "--set", value, check=False)
    assert result.returncode != 0
    assert complaint in result.stderr


# ---------------------------------------------------------------------------------- defaults


def test_default_render_objects() -> None:
    docs = render()
    kinds = sorted(doc["kind"] for doc in docs)
    assert kinds == sorted(
        ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Service", "StatefulSet"]
    )
    for doc in docs:
        labels = doc["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "kubeheat"
        assert labels["app.kubernetes.io/instance"] == "kh"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        if doc["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
            assert doc["metadata"]["namespace"] == "kubeheat"


def test_operator_runs_non_root_and_locked_down() -> None:
    docs = render()
    pod = only(docs, "StatefulSet")["spec"]["template"]["spec"]
    c = container(docs)
    psc, sc = pod["securityContext"], c["securityContext"]
    assert psc["runAsNonRoot"] is True and sc["runAsNonRoot"] is True
    assert psc["runAsUser"] == 10001 and psc["runAsUser"] != 0
    assert psc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert "privileged" not in sc and "add" not in sc["capabilities"]
    # the only writable place: an emptyDir on /tmp (HOME points there)
    (mount,) = c["volumeMounts"]
    assert mount["mountPath"] == "/tmp"
    (volume,) = pod["volumes"]
    assert volume["name"] == mount["name"] and "emptyDir" in volume
    assert {"name": "HOME", "value": "/tmp"} in c["env"]
    assert set(c["resources"]) == {"requests", "limits"}
    assert {"cpu", "memory"} <= set(c["resources"]["requests"])
    assert "memory" in c["resources"]["limits"]
    assert pod["serviceAccountName"] == only(docs, "ServiceAccount")["metadata"]["name"]


def test_operator_image_command_and_args() -> None:
    docs = render()
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    c = container(docs)
    assert c["image"] == f"ghcr.io/kubeheat/kubeheat:{chart['appVersion']}"
    assert chart["apiVersion"] == "v2" and chart["appVersion"] == "0.1.0"
    assert "command" not in c  # the image's ENTRYPOINT: kubeheat operator
    args = operator_args(c["args"])
    assert args.all_namespaces is True and args.namespace == []
    assert args.standalone is True and args.peering is None
    assert (args.log_format, args.log_level) == ("json", "info")
    assert (args.concurrency, args.resource_concurrency) == (16, 32)
    assert (args.namespace_concurrency, args.default_stack_timeout) == (None, 60.0)
    assert only(docs, "StatefulSet")["spec"]["replicas"] == 1


def test_ports_and_probes_match_the_operator_defaults() -> None:
    docs = render()
    defaults = operator_defaults()
    c = container(docs)
    args = operator_args(c["args"])
    assert (args.metrics_port, args.health_port) == (defaults.metrics_port, defaults.health_port)
    assert (args.metrics_port, args.health_port) == (8080, 8081)
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports == {"metrics": 8080, "health": 8081}
    for probe in ("livenessProbe", "readinessProbe"):
        assert c[probe]["httpGet"] == {"path": "/healthz", "port": "health"}
    service = only(docs, "Service")
    (port,) = service["spec"]["ports"]
    assert (port["name"], port["port"], port["targetPort"]) == ("metrics", 8080, "metrics")
    pod_labels = only(docs, "StatefulSet")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    statefulset = only(docs, "StatefulSet")
    assert statefulset["spec"]["selector"]["matchLabels"] == service["spec"]["selector"]
    assert statefulset["spec"]["serviceName"] == service["metadata"]["name"]
    assert not of_kind(docs, "ServiceMonitor")


def test_values_reach_the_pod() -> None:
    docs = render(
        "image.repository=registry.example/kubeheat",
        "image.tag=1.2.3",
        "image.pullPolicy=Always",
        "logFormat=text",
        "logLevel=debug",
        "concurrency=4",
        "resourceConcurrency=8",
        "namespaceConcurrency=2",
        "defaultStackTimeout=90",
        "metrics.port=9100",
        "health.port=9101",
        "nodeSelector.disktype=ssd",
        "tolerations[0].key=dedicated",
        "tolerations[0].operator=Exists",
        "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        ".nodeSelectorTerms[0].matchExpressions[0].key=zone",
        "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        ".nodeSelectorTerms[0].matchExpressions[0].operator=Exists",
        "resources.limits.memory=2Gi",
        "extraEnv[0].name=OS_CLOUD",
        "extraEnv[0].value=mine",
        "extraArgs[0]=--state-write-interval=1",
    )
    pod = only(docs, "StatefulSet")["spec"]["template"]["spec"]
    c = container(docs)
    assert c["image"] == "registry.example/kubeheat:1.2.3"
    assert c["imagePullPolicy"] == "Always"
    args = operator_args(c["args"])
    assert (args.log_format, args.log_level) == ("text", "debug")
    assert (args.concurrency, args.resource_concurrency) == (4, 8)
    assert (args.namespace_concurrency, args.default_stack_timeout) == (2, 90.0)
    assert (args.metrics_port, args.health_port) == (9100, 9101)
    assert args.state_write_interval == 1.0
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"metrics": 9100, "health": 9101}
    assert only(docs, "Service")["spec"]["ports"][0]["port"] == 9100
    assert pod["nodeSelector"] == {"disktype": "ssd"}
    assert pod["tolerations"] == [{"key": "dedicated", "operator": "Exists"}]
    assert "nodeAffinity" in pod["affinity"]
    assert c["resources"]["limits"]["memory"] == "2Gi"
    assert {"name": "OS_CLOUD", "value": "mine"} in c["env"]


# ---------------------------------------------------------------------------------- RBAC


def test_cluster_role_grants_exactly_the_operators_rules() -> None:
    docs = render()
    role = only(docs, "ClusterRole")
    assert triples(role["rules"]) == WANTED
    binding = only(docs, "ClusterRoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": role["metadata"]["name"],
    }
    sa = only(docs, "ServiceAccount")["metadata"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": sa["name"], "namespace": sa["namespace"]}
    ]
    assert not of_kind(docs, "Role") and not of_kind(docs, "RoleBinding")


def test_watch_namespaces_uses_roles_per_namespace() -> None:
    docs = render("watchNamespaces={team-a,team-b}")
    args = operator_args(container(docs)["args"])
    assert args.namespace == ["team-a", "team-b"] and not args.all_namespaces
    cluster_role = only(docs, "ClusterRole")
    # cluster-wide: only what is cluster-scoped, and no cluster peering (kopf then uses
    # KopfPeerings in the namespaces)
    assert triples(cluster_role["rules"]) == {
        t for t in WANTED_CLUSTER if t[1] != "clusterkopfpeerings"
    }
    assert all(verb in ("get", "list", "watch") for _, _, verb in triples(cluster_role["rules"]))
    roles = {r["metadata"]["namespace"]: r for r in of_kind(docs, "Role")}
    bindings = {b["metadata"]["namespace"]: b for b in of_kind(docs, "RoleBinding")}
    assert set(roles) == set(bindings) == {"team-a", "team-b"}
    sa = only(docs, "ServiceAccount")["metadata"]
    for ns, role in roles.items():
        assert triples(role["rules"]) == WANTED_NAMESPACED
        assert bindings[ns]["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": role["metadata"]["name"],
        }
        assert bindings[ns]["subjects"] == [
            {"kind": "ServiceAccount", "name": sa["name"], "namespace": "kubeheat"}
        ]
    # together: RULES, less the cluster peering only
    granted = triples(cluster_role["rules"]) | WANTED_NAMESPACED
    assert WANTED - granted == {t for t in WANTED if t[1] == "clusterkopfpeerings"}
    assert granted <= WANTED


def test_rbac_can_be_left_out() -> None:
    docs = render("rbac.create=false", "serviceAccount.create=false", "serviceAccount.name=mine")
    kinds = {doc["kind"] for doc in docs}
    assert not kinds & {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
    assert "ServiceAccount" not in kinds
    pod = only(docs, "StatefulSet")["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "mine"


# ---------------------------------------------------------------------------------- peering


def test_one_replica_is_standalone_without_peering_objects() -> None:
    docs = render()
    assert not of_kind(docs, "ClusterKopfPeering") and not of_kind(docs, "KopfPeering")
    env = {e["name"] for e in container(docs)["env"]}
    assert "POD_INDEX" not in env


def test_replicas_share_a_peering_with_distinct_priorities() -> None:
    docs = render("replicaCount=2")
    statefulset = only(docs, "StatefulSet")
    assert statefulset["spec"]["replicas"] == 2
    c = container(docs)
    args = operator_args(c["args"])
    peering = only(docs, "ClusterKopfPeering")
    assert peering["apiVersion"] == "kopf.dev/v1"
    assert args.peering == peering["metadata"]["name"] and not args.standalone
    # the priority is the pod's StatefulSet ordinal, read from its pod-index label at run time
    assert "--priority=$(POD_INDEX)" in c["args"]
    env = {e["name"]: e for e in c["env"]}
    assert env["POD_INDEX"]["valueFrom"]["fieldRef"]["fieldPath"] == (
        "metadata.labels['apps.kubernetes.io/pod-index']"
    )
    # each ordinal gives its own priority; kopf names each peer after its pod
    assert [operator_args(c["args"], str(i)).priority for i in range(3)] == [0, 1, 2]
    assert env["POD_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    # the env var is defined before the args use it (Kubernetes only expands defined ones)
    assert "value" not in env["POD_INDEX"]
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["kubeVersion"] == ">=1.28.0-0"  # the pod-index label is on by default from 1.28


def test_peering_can_be_enabled_with_one_replica() -> None:
    docs = render("peering.enabled=true", "peering.name=ops")
    args = operator_args(container(docs)["args"])
    assert args.peering == "ops"
    assert only(docs, "ClusterKopfPeering")["metadata"]["name"] == "ops"


def test_namespaced_replicas_peer_in_each_namespace() -> None:
    docs = render("replicaCount=2", "watchNamespaces={team-a,team-b}")
    assert not of_kind(docs, "ClusterKopfPeering")
    peerings = of_kind(docs, "KopfPeering")
    assert {p["metadata"]["namespace"] for p in peerings} == {"team-a", "team-b"}
    args = operator_args(container(docs)["args"])
    assert {p["metadata"]["name"] for p in peerings} == {args.peering}


# ---------------------------------------------------------------------------------- monitoring


def test_service_monitor() -> None:
    docs = render("serviceMonitor.enabled=true", "serviceMonitor.labels.release=prom")
    monitor = only(docs, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prom"
    service = only(docs, "Service")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= (
        service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["kubeheat"]}
    (endpoint,) = monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("metrics", "/metrics")


# ---------------------------------------------------------------------------------- CRDs, docs


def test_chart_crds_are_copies_of_the_generated_ones() -> None:
    chart_crds = sorted(p.name for p in (CHART / "crds").iterdir())
    assert chart_crds == sorted([STACK_CRD_FILE, PEERING_CRD_FILE])
    for name in chart_crds:
        assert (CHART / "crds" / name).read_bytes() == (REPO / "crds" / name).read_bytes(), (
            f"charts/kubeheat/crds/{name} differs from crds/{name}: cp crds/{name} "
            "charts/kubeheat/crds/"
        )
    (crd,) = yaml.safe_load_all((CHART / "crds" / STACK_CRD_FILE).read_text())
    assert crd["metadata"]["name"] == CRD_NAME


def test_crd_upgrades_are_documented() -> None:
    for doc in (CHART / "README.md", CHART / "templates" / "NOTES.txt"):
        text = doc.read_text()
        assert "kubectl apply --server-side" in text and "crds/" in text, doc


# ---------------------------------------------------------------------------------- real install


def api_resource(group: str, resource: str) -> tuple[str, list[str]]:
    """`kubectl auth can-i`'s resource argument (and --subresource) for a rule's entry."""
    base, _, sub = resource.partition("/")
    name = f"{base}.{group}" if group else base
    return name, ([f"--subresource={sub}"] if sub else [])


def can_i(
    cluster: KubeCluster, sa: str, verb: str, group: str, resource: str, namespace: str | None
) -> bool:
    name, extra = api_resource(group, resource)
    scope = ["--namespace", namespace] if namespace else ["--all-namespaces"]
    result = cluster.kubectl("auth", "can-i", verb, name, *extra, *scope, f"--as={sa}",
                             check=False)
    answer = result.stdout.strip()
    assert answer in ("yes", "no"), f"can-i {verb} {name}: {result.stderr}{result.stdout}"
    return answer == "yes"


def can_i_all(
    cluster: KubeCluster, sa: str, checks: list[tuple[str, str, str, str | None]]
) -> dict[tuple[str, str, str, str | None], bool]:
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = pool.map(lambda c: can_i(cluster, sa, *c), checks)
        return dict(zip(checks, answers, strict=True))


#: what the operator must never be able to do (verb, group, resource, namespace or None=all)
FORBIDDEN: list[tuple[str, str, str, str | None]] = [
    ("delete", "", "namespaces", None),
    ("create", "", "namespaces", None),
    ("create", "", "pods", "default"),
    ("get", "", "pods", "default"),
    ("create", "apps", "deployments", "default"),
    ("list", "", "secrets", None),
    ("watch", "", "secrets", None),
    ("list", "", "configmaps", None),
    ("patch", "rbac.authorization.k8s.io", "clusterroles", None),
    ("create", "rbac.authorization.k8s.io", "clusterrolebindings", None),
    ("create", "rbac.authorization.k8s.io", "rolebindings", "default"),
    ("delete", "apiextensions.k8s.io", "customresourcedefinitions", None),
    ("patch", "apiextensions.k8s.io", "customresourcedefinitions", None),
    ("create", "kubeheat.io", "stacks", "default"),
    ("delete", "kubeheat.io", "stacks", "default"),
    ("update", "kubeheat.io", "stacks/status", "default"),
    ("create", "", "serviceaccounts/token", "default"),
    ("get", "", "nodes", None),
    ("impersonate", "", "users", None),
    ("delete", "", "events", "default"),
]


@pytest.fixture
def namespaces(kube_cluster: KubeCluster) -> Iterator[list[str]]:
    """A release namespace, two namespaces to watch and one not to; removed afterwards."""
    base = f"kh-{secrets.token_hex(3)}"
    names = [base, f"{base}-a", f"{base}-b", f"{base}-other"]
    for name in names[1:]:
        kube_cluster.kubectl("create", "namespace", name)
    yield names
    for name in names:
        kube_cluster.kubectl("delete", "namespace", name, "--ignore-not-found", "--wait=false")


def install(cluster: KubeCluster, release: str, namespace: str, *values: str) -> str:
    """`helm install`; returns the NOTES it printed."""
    sets = [arg for value in values for arg in ("--set", value)]
    # no --wait: the test cluster has no scheduler or kubelet, so pods never run
    out = cluster.helm("install", release, str(CHART), "--namespace", namespace,
                       "--create-namespace", *sets).stdout
    (listed,) = json.loads(cluster.helm("list", "--namespace", namespace, "-o", "json").stdout)
    assert (listed["name"], listed["status"]) == (release, "deployed")
    return out.split("NOTES:", 1)[1]


def uninstall(cluster: KubeCluster, release: str, namespace: str) -> None:
    cluster.helm("uninstall", release, "--namespace", namespace, "--wait", "--timeout", "60s")
    assert json.loads(cluster.helm("list", "--namespace", namespace, "-o", "json").stdout) == []


@pytest.mark.cluster
def test_install_grants_exactly_the_operators_rules(
    kube_cluster: KubeCluster, namespaces: list[str]
) -> None:
    ns, watched_a, _, _ = namespaces
    release = "kh"
    fullname = f"{release}-kubeheat"
    sa = f"system:serviceaccount:{ns}:{fullname}"
    notes = install(kube_cluster, release, ns, "replicaCount=2")
    assert "every namespace" in notes and f"statefulset/{fullname}" in notes
    assert "kopf peering" in notes and "kubectl apply --server-side" in notes

    # crds/ went in first; the templates' objects exist in the real API server
    for crd in (CRD_NAME, "kopfpeerings.kopf.dev", "clusterkopfpeerings.kopf.dev"):
        assert kube_cluster.get("crd", crd) is not None, crd
    statefulset = kube_cluster.get("statefulset", fullname, ns)
    assert statefulset is not None and statefulset["spec"]["replicas"] == 2
    assert kube_cluster.get("serviceaccount", fullname, ns) is not None
    assert kube_cluster.get("service", fullname, ns) is not None
    assert kube_cluster.get("clusterkopfpeering", fullname) is not None

    # every rule: granted, cluster-scoped ones cluster-wide, namespaced ones in any namespace
    checks = [(verb, group, resource, None if (group, resource) in CLUSTER_SCOPED else watched_a)
              for group, resource, verb in sorted(WANTED)]
    answers = can_i_all(kube_cluster, sa, checks + FORBIDDEN)
    assert [c for c in checks if not answers[c]] == []
    assert [c for c in FORBIDDEN if answers[c]] == []

    uninstall(kube_cluster, release, ns)
    for kind, name, namespace in [
        ("statefulset", fullname, ns),
        ("serviceaccount", fullname, ns),
        ("service", fullname, ns),
        ("clusterrole", fullname, None),
        ("clusterrolebinding", fullname, None),
        ("clusterkopfpeering", fullname, None),
    ]:
        assert kube_cluster.get(kind, name, namespace) is None, (kind, name)
    assert not can_i(kube_cluster, sa, "get", "", "secrets", watched_a)
    # Helm never deletes what crds/ installed: the Stacks survive an uninstall
    assert kube_cluster.get("crd", CRD_NAME) is not None


@pytest.mark.cluster
def test_install_watching_namespaces_grants_only_those(
    kube_cluster: KubeCluster, namespaces: list[str]
) -> None:
    ns, watched_a, watched_b, other = namespaces
    release = "khns"
    fullname = f"{release}-kubeheat"
    sa = f"system:serviceaccount:{ns}:{fullname}"
    notes = install(kube_cluster, release, ns,
                    f"watchNamespaces={{{watched_a},{watched_b}}}", "replicaCount=2")
    assert f"the namespaces {watched_a}, {watched_b}" in notes
    for watched in (watched_a, watched_b):
        assert kube_cluster.get("role", fullname, watched) is not None
        assert kube_cluster.get("rolebinding", fullname, watched) is not None
        assert kube_cluster.get("kopfpeering", fullname, watched) is not None

    namespaced = sorted(WANTED_NAMESPACED)
    # one verb per namespaced resource, for the namespaces sampled more lightly
    sample = sorted({(g, r): (g, r, v) for g, r, v in namespaced}.values())
    granted = [(verb, g, r, watched_a) for g, r, verb in namespaced]
    granted += [(verb, g, r, watched_b) for g, r, verb in sample]
    granted += [(verb, g, r, None) for g, r, verb in sorted(WANTED_CLUSTER)
                if r != "clusterkopfpeerings"]
    # nothing namespaced outside the watched namespaces (not even the operator's own), nor
    # across all namespaces, nor the cluster peering
    denied = [(verb, g, r, other) for g, r, verb in namespaced]
    denied += [(verb, g, r, ns) for g, r, verb in sample]
    denied += [(verb, g, r, None) for g, r, verb in sample]
    denied += [(verb, "kopf.dev", "clusterkopfpeerings", None) for verb in ("get", "patch")]
    answers = can_i_all(kube_cluster, sa, granted + denied + FORBIDDEN)
    assert [c for c in granted if not answers[c]] == []
    assert [c for c in denied + FORBIDDEN if answers[c]] == []

    uninstall(kube_cluster, release, ns)
    for watched in (watched_a, watched_b):
        assert kube_cluster.get("role", fullname, watched) is None
        assert kube_cluster.get("rolebinding", fullname, watched) is None
        assert kube_cluster.get("kopfpeering", fullname, watched) is None
    assert kube_cluster.get("clusterrole", fullname) is None
    assert not can_i(kube_cluster, sa, "get", "", "secrets", watched_a)

"""The Kubernetes permissions ``kubeheat operator`` needs, as data (one place).

The Helm chart's ClusterRole must grant exactly these rules (a test checks it); the operator's
own tests run it with a user bound to a ClusterRole made from :func:`cluster_role`.
"""

from __future__ import annotations

from typing import Any

from kubeheat.controller.crd import GROUP, PLURAL

#: the rules of the operator's ClusterRole, with the verbs actually used
RULES: list[dict[str, list[str]]] = [
    # the Stacks: watched by kopf, patched for finalizers, status written through /status
    {"apiGroups": [GROUP], "resources": [PLURAL], "verbs": ["get", "list", "watch", "patch"]},
    {"apiGroups": [GROUP], "resources": [f"{PLURAL}/status"], "verbs": ["get", "patch"]},
    # templateFrom, filesFrom, parametersFrom, environment (read); outputsTo (written)
    {"apiGroups": [""], "resources": ["configmaps"],
     "verbs": ["get", "create", "update", "patch", "delete"]},
    # credentials and parametersFrom (read); the engine state and outputsTo (written)
    {"apiGroups": [""], "resources": ["secrets"],
     "verbs": ["get", "create", "update", "patch", "delete"]},
    # progress and errors as Events on the Stack (aggregated: patched when repeated)
    {"apiGroups": ["", "events.k8s.io"], "resources": ["events"],
     "verbs": ["create", "patch"]},
    # kopf watches namespaces when told to serve several or all of them
    {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch"]},
    # kopf discovers the custom resources it serves
    {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"],
     "verbs": ["get", "list", "watch"]},
    # kopf peering (one active replica): only with --peering
    {"apiGroups": ["kopf.dev"], "resources": ["clusterkopfpeerings", "kopfpeerings"],
     "verbs": ["get", "list", "watch", "patch"]},
]

CLUSTER_ROLE_NAME = "kubeheat-operator"


def cluster_role(name: str = CLUSTER_ROLE_NAME) -> dict[str, Any]:
    """A ClusterRole manifest with :data:`RULES`."""
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": name},
            "rules": [{k: list(v) for k, v in rule.items()} for rule in RULES]}

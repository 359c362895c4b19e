"""Controller layer: the Kubernetes side, run by ``kubeheat operator``: the Stack CRD generated from
one schema (``crd``), the operator's RBAC rules as data (``rbac``), the kopf handlers and reconcile
logic (``handlers``, on what every handler shares in ``runs``, with kopf's diff base in
``diffbase``), the spec's error (``errors``), fair slots across namespaces and deletes that cancel
what runs (``scheduling``), the engine state kept in a compressed Secret owned by each Stack with a
sanitized summary in its status (``store``, ``status``), aggregated Kubernetes Events (``events``),
Prometheus metrics (``metrics``) and the process runner (``runner``).

Other layers import the names below from this package; each is imported from its module on
first use, so importing the package costs nothing (the CLI's ``--help`` loads no kopf).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeheat._lazy import lazy_exports

if TYPE_CHECKING:
    from kubeheat.controller.crd import (
        API_VERSION,
        GROUP,
        KIND,
        PLURAL,
        SHORT_NAMES,
        VERSION,
        render,
        stack_crd,
    )
    from kubeheat.controller.handlers import Controller
    from kubeheat.controller.rbac import CLUSTER_ROLE_NAME, RULES, cluster_role
    from kubeheat.controller.runner import OperatorConfig, run
    from kubeheat.controller.runs import Options
    from kubeheat.controller.store import SecretStateStore

#: the module of each public name, imported on first use of one of its names
_EXPORTS = {
    "kubeheat.controller.crd": (
        "API_VERSION", "GROUP", "KIND", "PLURAL", "SHORT_NAMES", "VERSION", "render", "stack_crd",
    ),
    "kubeheat.controller.handlers": ("Controller",),
    "kubeheat.controller.rbac": ("CLUSTER_ROLE_NAME", "RULES", "cluster_role"),
    "kubeheat.controller.runner": ("OperatorConfig", "run"),
    "kubeheat.controller.runs": ("Options",),
    "kubeheat.controller.store": ("SecretStateStore",),
}
__all__ = [
    "API_VERSION",
    "CLUSTER_ROLE_NAME",
    "GROUP",
    "KIND",
    "PLURAL",
    "RULES",
    "SHORT_NAMES",
    "VERSION",
    "Controller",
    "OperatorConfig",
    "Options",
    "SecretStateStore",
    "cluster_role",
    "render",
    "run",
    "stack_crd",
]

if not TYPE_CHECKING:
    __getattr__ = lazy_exports(__name__, _EXPORTS)

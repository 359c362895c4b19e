"""The Stack custom resource definition, generated from the schema below (the one source).

``kubeheat operator crd`` and ``python -m kubeheat.controller.crd`` print it; ``crds/`` holds the
generated files (a test keeps them equal to :func:`render`). The schema is structural: every field
is typed, and only the free-form parts of a Heat stack (the inline template, environments,
parameters, outputs) keep unknown fields; CEL rules cannot see those, so the controller checks
them (``template`` xor ``templateFrom``).
"""

from __future__ import annotations

import sys
from typing import Any

import yaml

GROUP = "kubeheat.io"
VERSION = "v1alpha1"
KIND = "Stack"
PLURAL = "stacks"
SINGULAR = "stack"
SHORT_NAMES = ["hst"]
CATEGORIES = ["kubeheat", "openstack"]
API_VERSION = f"{GROUP}/{VERSION}"
CRD_NAME = f"{PLURAL}.{GROUP}"

#: the generated files under ``crds/`` and their documents
STACK_CRD_FILE = "kubeheat.io_stacks.yaml"
PEERING_CRD_FILE = "kopf.dev_peerings.yaml"

DNS_NAME = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
CONFIG_KEY = r"^[-._a-zA-Z0-9]+$"
DURATION = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"


def _s(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def _obj(description: str, properties: dict[str, Any], required: list[str] | None = None,
         rules: list[dict[str, str]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "description": description,
                           "properties": properties}
    if required:
        out["required"] = required
    if rules:
        out["x-kubernetes-validations"] = rules
    return out


def _free(description: str) -> dict[str, Any]:
    """Any JSON value (a template or environment given inline as text or as an object)."""
    return {"description": description, "x-kubernetes-preserve-unknown-fields": True}


def _key_ref(what: str) -> dict[str, Any]:
    return _obj(f"A key of a {what} in the Stack's namespace.", {
        "name": _s(f"The {what}'s name.", pattern=DNS_NAME, maxLength=253),
        "key": _s(f"The key in the {what}.", pattern=CONFIG_KEY, maxLength=253),
        "optional": {"type": "boolean", "description": f"No error when the {what} or key is "
                                                      "missing."},
    }, ["name", "key"])


def _ref(what: str) -> dict[str, Any]:
    return _obj(f"A {what} in the Stack's namespace; every key is used.", {
        "name": _s(f"The {what}'s name.", pattern=DNS_NAME, maxLength=253),
        "optional": {"type": "boolean", "description": f"No error when the {what} is missing."},
    }, ["name"])


def _one_of_refs(*fields: str) -> dict[str, Any]:
    count = " + ".join(f"(has(self.{f}) ? 1 : 0)" for f in fields)
    return {"rule": f"{count} == 1",
            "message": f"exactly one of {', '.join(fields)} must be set"}


SPEC_SCHEMA: dict[str, Any] = _obj(
    "The desired stack: a Heat (HOT or CloudFormation) template, its inputs and the cloud it "
    "runs in.",
    {
        "template": _free("The template inline, as YAML/JSON text or as an object."),
        "templateFrom": _obj("Read the template from a ConfigMap key.", {
            "configMapKeyRef": _key_ref("ConfigMap")}, ["configMapKeyRef"]),
        "files": {"type": "object", "description": "Files for get_file and provider templates, "
                                                   "by the name the template uses.",
                  "additionalProperties": {"type": "string"}},
        "filesFrom": {
            "type": "array", "description": "Files read from ConfigMaps.",
            "items": _obj("A ConfigMap (every key a file) or one key of one.", {
                "configMapRef": _ref("ConfigMap"),
                "configMapKeyRef": _key_ref("ConfigMap"),
                "path": _s("The file's name for the template (with configMapKeyRef; default: "
                           "the key)."),
            }, rules=[_one_of_refs("configMapRef", "configMapKeyRef")]),
        },
        "parameters": {"type": "object", "description": "Parameter values by name.",
                       "x-kubernetes-preserve-unknown-fields": True},
        "parametersFrom": {
            "type": "array",
            "description": "Parameter values read from Secrets (never shown in status or "
                           "Events) or ConfigMaps; later entries win, spec.parameters is "
                           "overridden.",
            "items": _obj("A Secret or ConfigMap (every key a parameter) or one key of one.", {
                "secretKeyRef": _key_ref("Secret"),
                "configMapKeyRef": _key_ref("ConfigMap"),
                "secretRef": _ref("Secret"),
                "configMapRef": _ref("ConfigMap"),
                "name": _s("The parameter's name (with a key reference; default: the key)."),
            }, rules=[_one_of_refs("secretKeyRef", "configMapKeyRef", "secretRef",
                                   "configMapRef")]),
        },
        "environment": {
            "type": "array", "description": "Heat environments, merged in order.",
            "items": _obj("An environment inline or from a ConfigMap key.", {
                "inline": _free("The environment as YAML/JSON text or as an object."),
                "configMapKeyRef": _key_ref("ConfigMap"),
            }),
        },
        "cloud": _obj("The OpenStack cloud (omit for templates of Heat's own types only).", {
            "credentialsSecretRef": _obj("A Secret in the Stack's namespace holding "
                                         "clouds.yaml.", {
                "name": _s("The Secret's name.", pattern=DNS_NAME, maxLength=253),
                "key": _s("The key holding clouds.yaml.", pattern=CONFIG_KEY,
                          default="clouds.yaml"),
            }, ["name"]),
            "cloudName": _s("The cloud's name in clouds.yaml.", default="openstack",
                            minLength=1),
        }, ["credentialsSecretRef"]),
        "timeoutMinutes": {"type": "integer", "minimum": 1, "maximum": 10080,
                           "description": "Stack operation timeout."},
        "disableRollback": {"type": "boolean", "default": False,
                            "description": "Keep what a failed operation did instead of "
                                           "rolling back."},
        "deletionPolicy": _s("Delete the cloud resources with the Stack, or keep them.",
                             enum=["Delete", "Retain"], default="Delete"),
        "drift": _obj("Periodic comparison of the cloud with the applied stack.", {
            "policy": _s("Ignore: no checks; Detect: report drift (condition Drifted, an "
                         "Event); Correct: also repair it.", enum=["Ignore", "Detect",
                                                                   "Correct"],
                         default="Ignore"),
            "interval": _s("How often to check (Go duration, e.g. 5m, 1h30m); at least 30s "
                           "(0s: the default, 10m).", pattern=DURATION, default="10m",
                           maxLength=64, **{"x-kubernetes-validations": [{
                               "rule": "duration(self) == duration('0s') || "
                                       "duration(self) >= duration('30s')",
                               "message": "must be at least 30s (or 0s for the default)"}]}),
        }),
        "suspend": {"type": "boolean", "default": False,
                    "description": "Pause reconciliation (and drift checks); deletion still "
                                   "cleans up."},
        "outputsTo": _obj("Write the stack's outputs into a Secret and/or ConfigMap (hidden "
                          "values are masked in the ConfigMap). An object that does not exist "
                          "is created, owned by the Stack; an existing one is written only if "
                          "this Stack controls it, or if it carries the annotation "
                          "kubeheat.io/outputs-from: <stack name> (its data becomes the "
                          "outputs; it is not taken over). Anything else is left untouched and "
                          "the Stack is Stalled (OutputsTargetConflict).", {
            "secretName": _s("The Secret's name.", pattern=DNS_NAME, maxLength=253),
            "configMapName": _s("The ConfigMap's name.", pattern=DNS_NAME, maxLength=253),
        }),
    },
)

_CONDITION = _obj("A condition (Kubernetes API conventions).", {
    "type": _s("Ready, Reconciling, Stalled or Drifted.", maxLength=316),
    "status": _s("True, False or Unknown.", enum=["True", "False", "Unknown"]),
    "reason": _s("CamelCase reason.", maxLength=1024),
    "message": _s("Human-readable details.", maxLength=32768),
    "observedGeneration": {"type": "integer", "format": "int64", "minimum": 0},
    "lastTransitionTime": _s("When status last changed.", format="date-time"),
}, ["type", "status", "lastTransitionTime", "reason", "message"])

_PROGRESS_RECORD = _obj("kopf's record of one handler.", {
    "started": {"type": "string", "nullable": True},
    "stopped": {"type": "string", "nullable": True},
    "delayed": {"type": "string", "nullable": True},
    "purpose": {"type": "string", "nullable": True},
    "retries": {"type": "integer", "nullable": True},
    "success": {"type": "boolean", "nullable": True},
    "failure": {"type": "boolean", "nullable": True},
    "message": {"type": "string", "nullable": True},
    "subrefs": {"type": "array", "nullable": True, "items": {"type": "string"}},
})

STATUS_SCHEMA: dict[str, Any] = _obj(
    "What the controller observed and did.",
    {
        "stackID": _s("The engine's id of the stack."),
        "stackStatus": _s("Heat's status word, e.g. CREATE_COMPLETE."),
        "stackStatusReason": _s("Heat's status reason."),
        "observedGeneration": {"type": "integer", "format": "int64",
                               "description": "The generation last acted on."},
        "lastHandledReconcileAt": _s("The kubeheat.io/reconcile-requested-at value last "
                                     "acted on."),
        "conditions": {"type": "array", "items": _CONDITION,
                       "x-kubernetes-list-type": "map",
                       "x-kubernetes-list-map-keys": ["type"]},
        "resources": {"type": "array", "description": "The stack's resources.",
                      "items": _obj("One resource.", {
                          "name": _s("Logical name."),
                          "type": _s("Resource type."),
                          "physicalID": _s("The cloud's id."),
                          "status": _s("Heat's status word."),
                          "reason": _s("Heat's status reason."),
                      }, ["name", "type"])},
        "outputs": {"type": "object", "description": "The stack's outputs (hidden values "
                                                    "masked).",
                    "x-kubernetes-preserve-unknown-fields": True},
        "outputErrors": {"type": "object", "additionalProperties": {"type": "string"}},
        "lastPlan": _obj("What the last reconcile did.", {
            "generation": {"type": "integer", "format": "int64"},
            "time": _s("When it was planned.", format="date-time"),
            "operation": _s("CREATE, UPDATE, CHECK or DELETE."),
            "summary": {"type": "object", "additionalProperties": {"type": "integer"}},
            "resources": {"type": "array", "items": _obj("One resource's planned action.", {
                "name": _s("Logical name."),
                "type": _s("Resource type."),
                "action": _s("create, update, replace, delete, adopt or noop."),
                "reason": _s("Why."),
            }, ["name", "action"])},
        }),
        "drift": _obj("The last drift check.", {
            "lastCheckTime": _s("When.", format="date-time"),
            "resources": {"type": "array", "items": _obj("A drifted resource.", {
                "name": _s("Logical name."),
                "missing": {"type": "boolean"},
                "properties": {"type": "array", "items": {"type": "string"}},
                "reason": _s("Details."),
            }, ["name"])},
        }),
        "kopf": _obj("The kopf framework's bookkeeping (handler progress, spec digest).", {
            "progress": {"type": "object", "additionalProperties": _PROGRESS_RECORD},
            "dummy": {"type": "string", "nullable": True},
            "digest": _s("Digest of the last handled spec (kopf's diff base)."),
        }),
    },
)

PRINTER_COLUMNS: list[dict[str, Any]] = [
    {"name": "Status", "type": "string", "jsonPath": ".status.stackStatus"},
    {"name": "Ready", "type": "string",
     "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
    {"name": "Reason", "type": "string",
     "jsonPath": ".status.conditions[?(@.type==\"Ready\")].reason"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


def stack_crd() -> dict[str, Any]:
    """The Stack CustomResourceDefinition."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME, "labels": {"app.kubernetes.io/name": "kubeheat"}},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"kind": KIND, "listKind": f"{KIND}List", "plural": PLURAL,
                      "singular": SINGULAR, "shortNames": list(SHORT_NAMES),
                      "categories": list(CATEGORIES)},
            "versions": [{
                "name": VERSION,
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": PRINTER_COLUMNS,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "description": "A Heat stack, created and kept in the cloud by kubeheat.",
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "metadata": {"type": "object"},
                        "spec": SPEC_SCHEMA,
                        "status": STATUS_SCHEMA,
                    },
                    "required": ["spec"],
                }},
            }],
        },
    }


def peering_crds() -> list[dict[str, Any]]:
    """kopf's peering resources (only needed for ``kubeheat operator --peering``)."""
    peers = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    out = []
    for scope, kind, plural in (("Cluster", "ClusterKopfPeering", "clusterkopfpeerings"),
                                ("Namespaced", "KopfPeering", "kopfpeerings")):
        out.append({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.kopf.dev"},
            "spec": {
                "group": "kopf.dev", "scope": scope,
                "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
                "versions": [{"name": "v1", "served": True, "storage": True,
                              "schema": {"openAPIV3Schema": {
                                  "type": "object",
                                  "properties": {"status": peers}}}}],
            },
        })
    return out


def _dump(docs: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False, width=100)


def render(which: str = "stack") -> str:
    """The YAML of the generated file ``which`` (``stack`` or ``peering``)."""
    header = ("# Generated by `kubeheat operator crd` from kubeheat/controller/crd.py: "
              "do not edit.\n")
    if which == "peering":
        return header + _dump(peering_crds())
    return header + _dump([stack_crd()])


def files() -> dict[str, str]:
    """Every generated file under ``crds/`` by name."""
    return {STACK_CRD_FILE: render("stack"), PEERING_CRD_FILE: render("peering")}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    which = args[0] if args else "stack"
    if which not in ("stack", "peering"):
        print("usage: python -m kubeheat.controller.crd [stack|peering]", file=sys.stderr)
        return 2
    sys.stdout.write(render(which))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

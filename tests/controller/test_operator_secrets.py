"""Hidden ``json`` and ``comma_delimited_list`` parameters read from a Secret never show in the
Stack's status, its Events, the operator's log or the outputs ConfigMap (review 2026-12 H5): the
controller masks with :class:`kubeheat.template.secrets.Redactor`, which knows every leaf of
such values. The outputs Secret keeps the values in clear, as for hidden strings."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from operator_support import Cluster, Namespace, Operator

pytestmark = pytest.mark.cluster

SECRETS = ("OpSECRETpw1", "OpSECRETjson2", "OpSECRETtok3")
PARAMETERS = {"pw": {"type": "string", "hidden": True},
              "creds": {"type": "json", "hidden": True},
              "tokens": {"type": "comma_delimited_list", "hidden": True}}


def _secret_in(ns: Namespace) -> None:
    ns.cluster.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sec-in"},
                      "stringData": {
                          "pw": "OpSECRETpw1",
                          "creds": '{"user": "admin", "password": "OpSECRETjson2"}',
                          "tokens": "aaa,OpSECRETtok3"}}, ns.name)


def _stack(name: str, template: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "kubeheat.io/v1alpha1", "kind": "Stack", "metadata": {"name": name},
            "spec": {"template": {"heat_template_version": "2016-10-14", **template},
                     "parametersFrom": [{"secretRef": {"name": "sec-in"}}], **spec}}


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def test_hidden_json_and_list_values_never_show(cluster: Cluster, ns: Namespace,
                                                operator: Operator) -> None:
    _secret_in(ns)
    cluster.apply(_stack("secop", {
        "parameters": PARAMETERS,
        "outputs": {"p": {"value": {"get_param": "pw"}},
                    "jp": {"value": {"get_param": ["creds", "password"]}},
                    "t": {"value": {"get_param": "tokens"}}}},
        outputsTo={"configMapName": "secop-out", "secretName": "secop-out"}), ns.name)
    obj = cluster.wait_condition("secop", ns.name, "Ready")
    assert obj["status"]["outputs"]["jp"] == "******"
    assert _leaks(json.dumps(obj["status"])) == []
    described = cluster.kubectl("describe", "stack", "secop", "-n", ns.name).stdout
    assert _leaks(described) == []
    assert _leaks(json.dumps(cluster.events(ns.name, "secop"))) == []
    configmap = cluster.get("configmap", "secop-out", ns.name)
    assert configmap is not None and _leaks(json.dumps(configmap["data"])) == []
    secret = cluster.get("secret", "secop-out", ns.name)
    assert secret is not None
    clear = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert "OpSECRETjson2" in clear["jp"]                           # kept, as intended
    assert _leaks(operator.log.read_text(encoding="utf-8", errors="replace")) == []


def test_an_error_quoting_a_hidden_json_leaf_is_masked(cluster: Cluster, ns: Namespace,
                                                       operator: Operator) -> None:
    _secret_in(ns)
    cluster.apply(_stack("secop-err", {
        "parameters": PARAMETERS,
        "resources": {"r": {"type": "OS::Heat::RandomString",
                            "properties": {"length": {"get_param": ["creds", "password"]}}}}}),
        ns.name)
    obj = cluster.wait_condition("secop-err", ns.name, "Ready", "False")
    ready = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
    assert "Value '******' is not an integer" in ready["message"], ready
    assert _leaks(json.dumps(obj["status"])) == []
    assert _leaks(json.dumps(cluster.events(ns.name, "secop-err"))) == []
    assert _leaks(operator.log.read_text(encoding="utf-8", errors="replace")) == []

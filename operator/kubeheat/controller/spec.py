"""A Stack's spec turned into an engine :class:`~kubeheat.engine.executor.StackRequest`.

Referenced Secrets and ConfigMaps are read from the Stack's own namespace only. Every value that
comes from a Secret, and every value given to a hidden parameter, goes into the
:class:`~kubeheat.template.secrets.Redactor` that masks status and Events. Problems the user
must fix in the spec (a bad template, a missing Secret or key) raise :class:`SpecError`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubeheat.controller.errors import SpecError
from kubeheat.controller.kube import KubeClient, configmap_data, secret_data
from kubeheat.controller.limits import check_spec
from kubeheat.engine import StackRequest
from kubeheat.template import (
    Environment,
    KubeheatError,
    Redactor,
    Template,
    hidden_parameter_names,
    hidden_values,
    load_mapping,
    parse_environment,
)

DEFAULT_CLOUDS_KEY = "clouds.yaml"


@dataclass
class CloudRef:
    secret: str
    key: str
    cloud_name: str


@dataclass
class Resolved:
    request: StackRequest
    redactor: Redactor
    cloud: CloudRef | None
    #: clouds.yaml text (None without spec.cloud)
    clouds_yaml: str | None = None
    #: digest of everything the stack is made from (spec and referenced data)
    digest: str = ""
    hidden: set[str] = field(default_factory=set)


def spec_digest(spec: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True, separators=(",", ":"),
                                     default=str).encode()).hexdigest()


class _Reader:
    """Reads Secrets and ConfigMaps of one namespace, each once per resolve."""

    def __init__(self, client: KubeClient, namespace: str, redactor: Redactor) -> None:
        self.client = client
        self.namespace = namespace
        self.redactor = redactor
        self._cache: dict[tuple[str, str], dict[str, str] | None] = {}

    async def all(self, plural: str, name: str, optional: bool = False) -> dict[str, str]:
        key = (plural, name)
        if key not in self._cache:
            obj = await self.client.get(self.namespace, plural, name)
            if obj is None:
                self._cache[key] = None
            else:
                data = secret_data(obj) if plural == "secrets" else configmap_data(obj)
                if plural == "secrets":
                    for value in data.values():
                        self.redactor.add(value)
                self._cache[key] = data
        found = self._cache[key]
        if found is None:
            if optional:
                return {}
            kind = "Secret" if plural == "secrets" else "ConfigMap"
            raise SpecError(f"{kind}NotFound",
                            f"{kind} {self.namespace}/{name} not found")
        return found

    async def key(self, plural: str, ref: Mapping[str, Any]) -> str | None:
        optional = bool(ref.get("optional"))
        data = await self.all(plural, str(ref["name"]), optional)
        key = str(ref["key"])
        if key not in data:
            if optional:
                return None
            kind = "Secret" if plural == "secrets" else "ConfigMap"
            raise SpecError("KeyNotFound",
                            f"{kind} {self.namespace}/{ref['name']} has no key {key!r}")
        return data[key]


def _document(value: Any, what: str, path: str) -> dict[str, Any]:
    try:
        if isinstance(value, str):
            return load_mapping(value, what=what)
        if isinstance(value, Mapping):   # the same size and structure checks as text
            # JSON text, read as JSON even for an environment (YAML would misread 1e+100)
            return load_mapping(json.dumps(value, separators=(",", ":"),
                                                ensure_ascii=False), what=what, json_first=True)
    except KubeheatError as exc:
        raise SpecError("InvalidTemplate" if what == "Template" else "InvalidEnvironment",
                        f"{path}: {exc}") from None
    raise SpecError("InvalidSpec", f"{path}: must be YAML/JSON text or an object")


async def _template(reader: _Reader, spec: Mapping[str, Any]) -> dict[str, Any]:
    if spec.get("templateFrom"):
        ref = spec["templateFrom"]["configMapKeyRef"]
        text = await reader.key("configmaps", ref)
        if text is None:
            raise SpecError("InvalidSpec", "spec.templateFrom: the ConfigMap key is missing")
        return _document(text, "Template", "spec.templateFrom")
    if spec.get("template") is not None:
        return _document(spec["template"], "Template", "spec.template")
    raise SpecError("InvalidSpec", "spec: one of template and templateFrom is required")


async def _files(reader: _Reader, spec: Mapping[str, Any]) -> dict[str, str]:
    files: dict[str, str] = {str(k): str(v) for k, v in (spec.get("files") or {}).items()}
    for i, item in enumerate(spec.get("filesFrom") or []):
        if item.get("configMapRef"):
            ref = item["configMapRef"]
            files.update(await reader.all("configmaps", str(ref["name"]),
                                          bool(ref.get("optional"))))
        elif item.get("configMapKeyRef"):
            ref = item["configMapKeyRef"]
            text = await reader.key("configmaps", ref)
            if text is not None:
                files[str(item.get("path") or ref["key"])] = text
        else:
            raise SpecError("InvalidSpec", f"spec.filesFrom[{i}]: no ConfigMap named")
    return files


async def _parameters(reader: _Reader, spec: Mapping[str, Any]) -> dict[str, Any]:
    parameters: dict[str, Any] = dict(spec.get("parameters") or {})
    for i, item in enumerate(spec.get("parametersFrom") or []):
        for kind, plural in (("secretKeyRef", "secrets"), ("configMapKeyRef", "configmaps")):
            if item.get(kind):
                value = await reader.key(plural, item[kind])
                if value is not None:
                    parameters[str(item.get("name") or item[kind]["key"])] = value
                break
        else:
            for kind, plural in (("secretRef", "secrets"), ("configMapRef", "configmaps")):
                if item.get(kind):
                    ref = item[kind]
                    parameters.update(await reader.all(plural, str(ref["name"]),
                                                       bool(ref.get("optional"))))
                    break
            else:
                raise SpecError("InvalidSpec", f"spec.parametersFrom[{i}]: no source named")
    return parameters


async def _environments(reader: _Reader, spec: Mapping[str, Any]
                        ) -> tuple[list[dict[str, Any] | str], list[Environment]]:
    """The environment documents, and each parsed (checked before anything is applied)."""
    environments: list[dict[str, Any] | str] = []
    parsed: list[Environment] = []
    for i, item in enumerate(spec.get("environment") or []):
        if item.get("configMapKeyRef"):
            text = await reader.key("configmaps", item["configMapKeyRef"])
            if text is None:
                continue
            doc = _document(text, "Environment", f"spec.environment[{i}]")
        elif "inline" in item:
            doc = _document(item["inline"], "Environment", f"spec.environment[{i}]")
        else:
            raise SpecError("InvalidSpec", f"spec.environment[{i}]: empty")
        try:
            parsed.append(parse_environment(doc))
        except KubeheatError as exc:
            raise SpecError("InvalidEnvironment", f"spec.environment[{i}]: {exc}") from None
        environments.append(doc)
    return environments, parsed


async def resolve(client: KubeClient, namespace: str, name: str, spec: Mapping[str, Any]
                  ) -> Resolved:
    """Read everything ``spec`` names and build the engine request (see the module)."""
    check_spec(spec)       # before any work (review H3, M1)
    redactor = Redactor()
    reader = _Reader(client, namespace, redactor)
    template = await _template(reader, spec)
    files = await _files(reader, spec)
    parameters = await _parameters(reader, spec)
    environments, parsed = await _environments(reader, spec)

    # hidden parameters: their values never show (template errors surface in the plan)
    try:
        loaded = Template.load(template, files=files)
    except KubeheatError as exc:
        raise SpecError("InvalidTemplate", f"spec.template: {exc}") from None
    hidden = hidden_parameter_names(loaded)
    redactor.update(hidden_values(loaded, parameters, parsed))

    cloud: CloudRef | None = None
    clouds_yaml: str | None = None
    if spec.get("cloud"):
        ref = spec["cloud"]["credentialsSecretRef"]
        cloud = CloudRef(str(ref["name"]), str(ref.get("key") or DEFAULT_CLOUDS_KEY),
                         str(spec["cloud"].get("cloudName") or "openstack"))
        try:
            clouds_yaml = await reader.key("secrets", {"name": cloud.secret, "key": cloud.key})
        except SpecError as exc:
            raise SpecError("CredentialsNotFound",
                            f"spec.cloud.credentialsSecretRef: {exc.message}") from None

    timeout = spec.get("timeoutMinutes")
    request = StackRequest(name=name, template=template, files=files,
                           environments=environments, parameters=parameters,
                           timeout_minutes=float(timeout) if timeout else None,
                           disable_rollback=bool(spec.get("disableRollback")))
    digest_input = {"spec": spec, "files": files, "parameters": parameters,
                    "environments": environments, "template": template,
                    "clouds": hashlib.sha256((clouds_yaml or "").encode()).hexdigest()}
    return Resolved(request=request, redactor=redactor, cloud=cloud, clouds_yaml=clouds_yaml,
                    digest=spec_digest(digest_input), hidden=hidden)

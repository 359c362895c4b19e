"""Software configurations: ``OS::Heat::SoftwareConfig``, ``OS::Heat::CloudConfig``,
``OS::Heat::MultipartMime`` and ``OS::Heat::StructuredConfig``.

Each keeps an immutable config record (Heat's software-config API object) in the native store;
any property change replaces it. The physical id is the config id, which is also what
``get_resource`` returns and what config-aware properties (a MultipartMime part's ``config``,
a server's ``user_data``) accept in place of the config text. Attribute ``config`` is the
stored config (a string, or a map for StructuredConfig).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import yaml

from kubeheat.resources.base import (
    ANY,
    BOOLEAN,
    LIST,
    MAP,
    STRING,
    Attribute,
    NativeStore,
    Property,
    ResourceContext,
    register,
)
from kubeheat.resources.config_records import (
    CLOUD_CONFIG,
    MULTIPART_MIME,
    SOFTWARE_CONFIG,
    STRUCTURED_CONFIG,
    find_config,
    is_uuid_like,
)

if TYPE_CHECKING:
    from email.message import Message
    from email.mime.text import MIMEText
from kubeheat.resources.heat._common import NativeResource, store
from kubeheat.template import AllowedValuesConstraint

UNGROUPED = "Heat::Ungrouped"
IO_TYPES = ("String", "Number", "CommaDelimitedList", "Json", "Boolean")


INPUT_SCHEMA: dict[str, Property] = {
    "name": Property(STRING, "The input's name.", required=True),
    "description": Property(STRING, "What the input is for."),
    "type": Property(STRING, "The type of the input's value.", default="String",
                     constraints=(AllowedValuesConstraint(allowed=IO_TYPES),)),
    "default": Property(ANY, "The value used when a deployment gives none."),
    "replace_on_change": Property(BOOLEAN, "A deployment is replaced rather than updated "
                                           "when this input's value changes.",
                                  default=False),
}
OUTPUT_SCHEMA: dict[str, Property] = {
    "name": Property(STRING, "The output's name.", required=True),
    "description": Property(STRING, "What the output is."),
    "type": Property(STRING, "The type of the output's value.", default="String",
                     constraints=(AllowedValuesConstraint(allowed=IO_TYPES),)),
    "error_output": Property(BOOLEAN, "A value for this output means the deployment "
                                      "failed.",
                             default=False),
}

GROUP = Property(STRING, "The namespace the config is grouped by when delivered to a server, "
                         "usually naming the tool that applies it.", default=UNGROUPED)
OPTIONS = Property(MAP, "Options for the configuration tool.")
INPUTS = Property(LIST, "The inputs the config expects.",
                  item=Property(MAP, schema=INPUT_SCHEMA))
OUTPUTS = Property(LIST, "The outputs the config produces.",
                   item=Property(MAP, schema=OUTPUT_SCHEMA))


class _ConfigBase(NativeResource):
    """A software config record: ``{name, group, config, options, inputs, outputs}``."""

    attributes = {
        "config": Attribute("The stored configuration.", type=STRING),
    }

    def config_text(self, ctx: ResourceContext, props: Mapping[str, Any]) -> Any:
        return props.get("config")

    def build(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "name": ctx.physical_name(),
            "group": props.get("group") or UNGROUPED,
            "config": self.config_text(ctx, props),
            "options": props.get("options") or {},
            "inputs": list(props.get("inputs") or []),
            "outputs": list(props.get("outputs") or []),
            "creation_time": _now(),
        }

    def attrs_from(self, ctx: ResourceContext, record: Mapping[str, Any],
                   props: Mapping[str, Any]) -> dict[str, Any]:
        return {"config": record.get("config"), "show": show_config(ctx.physical_id, record)}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def show_config(config_id: str | None, record: Mapping[str, Any]) -> dict[str, Any]:
    """The ``show`` attribute: the config as Heat's API shows it (Heat 27.0.1), its inputs and
    outputs as Heat stores them: unset descriptions and input defaults as ``""``, an input's
    ``replace_on_change`` only when true, an output's ``error_output`` always."""

    def io(item: Any, output: bool) -> Any:
        if not isinstance(item, Mapping):
            return item
        shown = {"name": item.get("name"), "type": item.get("type") or "String",
                 "description": item.get("description") or ""}
        if output:
            shown["error_output"] = bool(item.get("error_output"))
        else:
            shown["default"] = "" if item.get("default") is None else item["default"]
            if item.get("replace_on_change"):
                shown["replace_on_change"] = True
        return shown

    return {
        "id": config_id,
        "name": record.get("name"),
        "group": record.get("group") or UNGROUPED,
        "config": record.get("config"),
        "options": record.get("options") or {},
        "inputs": [io(i, False) for i in record.get("inputs") or []],
        "outputs": [io(o, True) for o in record.get("outputs") or []],
        "creation_time": record.get("creation_time"),
    }


@register
class SoftwareConfig(_ConfigBase):
    type_name = SOFTWARE_CONFIG
    description = ("Stores a configuration script or manifest, with the inputs it expects and "
                   "the outputs it produces, for servers and deployments to use. Configs are "
                   "immutable: any change makes a new one.")
    properties = {
        "group": GROUP,
        "config": Property(STRING, "The configuration script or manifest."),
        "options": OPTIONS,
        "inputs": INPUTS,
        "outputs": OUTPUTS,
    }


@register
class StructuredConfig(_ConfigBase):
    type_name = STRUCTURED_CONFIG
    description = ("Like OS::Heat::SoftwareConfig, but the config is a map, for tools whose "
                   "configuration is YAML or JSON data.")
    properties = {
        "group": GROUP,
        "options": OPTIONS,
        "inputs": INPUTS,
        "outputs": OUTPUTS,
        "config": Property(MAP, "The configuration data structure (kept as data, serialised "
                                "as JSON when delivered)."),
    }


def cloud_config_text(data: Any) -> str:
    """``#cloud-config`` followed by the map as block YAML, keys sorted (as Heat dumps it)."""
    return "#cloud-config\n" + str(yaml.safe_dump(data, default_flow_style=False))


@register
class CloudConfig(_ConfigBase):
    type_name = CLOUD_CONFIG
    description = ("Stores cloud-init cloud-config data, given as a map and stored as a "
                   "'#cloud-config' YAML document, for a server's user_data or a "
                   "MultipartMime part.")
    properties = {
        "cloud_config": Property(MAP, "The cloud-config data structure, written out as "
                                      "YAML."),
    }

    def config_text(self, ctx: ResourceContext, props: Mapping[str, Any]) -> Any:
        return cloud_config_text(props.get("cloud_config"))

    def build(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        return {"name": ctx.physical_name(), "group": UNGROUPED,
                "config": self.config_text(ctx, props), "options": {}, "inputs": [],
                "outputs": [], "creation_time": _now()}


def _text_part(content: Any, subtype: str | None, filename: str | None) -> MIMEText:
    # email is imported where a message is built: it costs more than all plugin modules
    from email.mime.text import MIMEText

    text = content if isinstance(content, str) else json.dumps(content)
    if not subtype and filename:
        subtype = os.path.splitext(filename)[0]  # Heat's rule, kept as is
    try:
        text.encode("us-ascii")
        charset = "us-ascii"
    except UnicodeEncodeError:
        charset = "utf-8"
    part = MIMEText(text, _subtype=subtype, _charset=charset) if subtype else \
        MIMEText(text, _charset=charset)
    if filename:
        part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def _split_multipart(content: Any) -> list[MIMEText]:
    if not isinstance(content, str):
        return []
    import email
    from email.message import Message

    parsed = email.message_from_string(content)
    if not parsed.is_multipart():
        return []
    out: list[MIMEText] = []
    for sub in parsed.get_payload():
        if isinstance(sub, Message):
            payload = sub.get_payload()
            out.append(_text_part(payload if isinstance(payload, str) else str(payload),
                                  sub.get_content_subtype(), sub.get_filename()))
    return out


def build_message(parts: Sequence[Mapping[str, Any]], native: NativeStore | None) -> str:
    """The multipart/mixed message of ``parts``; a part's config that is the id of a stored
    software config is replaced by that config (an unknown id is used as text)."""
    from email.mime.multipart import MIMEMultipart

    subparts: list[Message] = []
    for item in parts:
        content: Any = item.get("config")
        if native is not None and is_uuid_like(content):
            found = find_config(native, str(content))
            if found is not None:
                content = found.get("config")
        if (item.get("type") or "text") == "multipart":
            subparts.extend(_split_multipart(content))
        else:
            subparts.append(_text_part(content, item.get("subtype") or "",
                                       item.get("filename") or ""))
    return MIMEMultipart(_subparts=subparts).as_string()


@register
class MultipartMime(_ConfigBase):
    type_name = MULTIPART_MIME
    description = ("Assembles configs (inline text or the ids of other config resources) into "
                   "one multipart MIME message, typically a server's cloud-init user_data. A "
                   "part of type multipart has its own parts appended instead.")
    properties = {
        "group": Property(STRING, "The namespace the message is grouped by when delivered to "
                                  "a server (the configuration tool).", default=UNGROUPED),
        "parts": Property(LIST, "The message's parts.", default=[],
                          item=Property(MAP, schema={
                              "config": Property(STRING, "The part's content: text, or the "
                                                         "id of a config resource.",
                                                 required=True),
                              "filename": Property(STRING, "A file name for the part."),
                              "type": Property(STRING, "text, or multipart to merge the "
                                                       "parts of a multipart message.",
                                               default="text",
                                               constraints=(AllowedValuesConstraint(
                                                   allowed=("text", "multipart")),)),
                              "subtype": Property(STRING, "The MIME subtype of a text part."),
                          })),
    }

    def build(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        parts = [p for p in props.get("parts") or [] if isinstance(p, Mapping)]
        return {"name": ctx.physical_name(), "group": props.get("group") or UNGROUPED,
                "config": build_message(parts, store(ctx)), "options": {}, "inputs": [],
                "outputs": [], "creation_time": _now()}

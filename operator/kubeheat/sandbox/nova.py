"""Nova v2.1 (microversions up to 2.96): servers with BUILD->ACTIVE, actions, tags and
metadata, flavors, keypairs, server groups and volume attachments; addresses come from the
Neutron ports bound to each server."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any, Protocol

from kubeheat.sandbox._http import ApiError, Req, Resp
from kubeheat.sandbox._service import Service
from kubeheat.sandbox.state import Record, iso_now, new_id

MIN_VERSION = (2, 1)
MAX_VERSION = (2, 96)
_ERROR_KEYS = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
               405: "badMethod", 409: "conflictingRequest", 413: "overLimit", 415: "badMediaType",
               429: "overLimit", 501: "notImplemented", 503: "serviceUnavailable"}
_TAG_STATES = {"active", "paused", "rescued", "resized", "shelved", "shelved_offloaded",
               "stopped", "suspended"}
_KEYPAIR_NAME = re.compile(r"^[a-zA-Z0-9 _.@-]{1,255}$")

DEFAULT_FLAVORS = (
    ("1", "m1.tiny", 512, 1, 1),
    ("2", "m1.small", 2048, 1, 20),
    ("3", "m1.medium", 4096, 2, 40),
    ("4", "m1.large", 8192, 4, 80),
    ("5", "m1.xlarge", 16384, 8, 160),
    ("42", "m1.nano", 128, 1, 1),
    ("84", "m1.micro", 192, 1, 1),
)


def _version(req: Req) -> tuple[int, int]:
    raw = req.headers.get("OpenStack-API-Version", "")
    text = ""
    if raw.lower().startswith("compute "):
        text = raw.split(None, 1)[1].strip()
    text = text or req.headers.get("X-OpenStack-Nova-API-Version", "")
    if not text:
        return MIN_VERSION
    if text == "latest":
        return MAX_VERSION
    try:
        major, minor = (int(p) for p in text.split("."))
    except ValueError:
        raise ApiError(400, {"badRequest": {"code": 400, "message":
                                            f"Invalid API version request: {text}"}}) from None
    if not MIN_VERSION <= (major, minor) <= MAX_VERSION:
        raise ApiError(406, {"computeFault": {"code": 406, "message":
                       f"Version {text} is not supported by the API. Minimum is 2.1 and"
                       " maximum is 2.96."}})
    return major, minor


class Ports(Protocol):
    """What Nova asks of the network service (the sandbox's Neutron, which never calls Nova) for
    the ports of its servers."""

    def ports_of(self, device_id: str) -> list[Record]: ...

    def floating_ips_of(self, port_id: str) -> list[Record]: ...

    def create_port(self, body: dict[str, Any], project_id: str) -> Record: ...

    def bind_status(self, port: Record) -> None:
        """Set the port's status and binding from its device id and owner."""

    def visible(self, coll: str, record: Record, project_id: str) -> bool:
        """Whether the project may use ``record`` of collection ``coll``."""

    def drop_port(self, record: Record) -> None:
        """Remove the port and what refers to it (floating IP associations, router
        interfaces)."""


class Volumes(Protocol):
    """What Nova asks of the block storage service (the sandbox's Cinder, which never calls
    Nova) for boot volumes and attachments."""

    def make_volume(self, body: dict[str, Any], project_id: str, delay: float) -> Record:
        """A new volume from a Cinder-style create body."""

    def attached(self, volume_id: str, server_id: str, device: str, immediate: bool) -> str:
        """Record the volume attached to the server; the attachment id."""

    def detached(self, volume_id: str, server_id: str, immediate: bool = False) -> None:
        """Record the volume detached from the server."""


class Nova(Service):
    name = "compute"
    prefix = "/compute"
    neutron: Ports
    cinder: Volumes

    def register(self) -> None:
        r = self.router
        r.add("GET", "/", self.versions, public=True)
        r.add("GET", "/v2.1", self.version_doc, public=True)
        v = "/v2.1"
        for method, path, fn in (
            ("GET", "/servers", self.list_servers),
            ("GET", "/servers/detail", self.list_servers_detail),
            ("POST", "/servers", self.create_server),
            ("GET", "/servers/{id}", self.show_server),
            ("PUT", "/servers/{id}", self.update_server),
            ("DELETE", "/servers/{id}", self.delete_server),
            ("POST", "/servers/{id}/action", self.server_action),
            ("GET", "/servers/{id}/tags", self.get_tags),
            ("PUT", "/servers/{id}/tags", self.put_tags),
            ("DELETE", "/servers/{id}/tags", self.clear_tags),
            ("GET", "/servers/{id}/tags/{tag}", self.check_tag),
            ("PUT", "/servers/{id}/tags/{tag}", self.add_tag),
            ("DELETE", "/servers/{id}/tags/{tag}", self.remove_tag),
            ("GET", "/servers/{id}/metadata", self.get_metadata),
            ("POST", "/servers/{id}/metadata", self.merge_metadata),
            ("PUT", "/servers/{id}/metadata", self.replace_metadata),
            ("GET", "/servers/{id}/metadata/{key}", self.get_meta_item),
            ("PUT", "/servers/{id}/metadata/{key}", self.put_meta_item),
            ("DELETE", "/servers/{id}/metadata/{key}", self.delete_meta_item),
            ("GET", "/servers/{id}/ips", self.server_ips),
            ("GET", "/servers/{id}/os-volume_attachments", self.list_attachments),
            ("POST", "/servers/{id}/os-volume_attachments", self.attach_volume),
            ("GET", "/servers/{id}/os-volume_attachments/{volume_id}", self.show_attachment),
            ("DELETE", "/servers/{id}/os-volume_attachments/{volume_id}", self.detach_volume),
            ("GET", "/servers/{id}/os-interface", self.list_interfaces),
            ("POST", "/servers/{id}/os-interface", self.attach_interface),
            ("GET", "/servers/{id}/os-interface/{port_id}", self.show_interface),
            ("DELETE", "/servers/{id}/os-interface/{port_id}", self.detach_interface),
            ("GET", "/flavors", self.list_flavors),
            ("GET", "/flavors/detail", self.list_flavors_detail),
            ("POST", "/flavors", self.create_flavor),
            ("GET", "/flavors/{id}", self.show_flavor),
            ("PUT", "/flavors/{id}", self.update_flavor),
            ("DELETE", "/flavors/{id}", self.delete_flavor),
            ("GET", "/flavors/{id}/os-extra_specs", self.get_extra_specs),
            ("POST", "/flavors/{id}/os-extra_specs", self.set_extra_specs),
            ("GET", "/flavors/{id}/os-extra_specs/{key}", self.get_extra_spec),
            ("PUT", "/flavors/{id}/os-extra_specs/{key}", self.put_extra_spec),
            ("DELETE", "/flavors/{id}/os-extra_specs/{key}", self.delete_extra_spec),
            ("GET", "/flavors/{id}/os-flavor-access", self.list_flavor_access),
            ("POST", "/flavors/{id}/action", self.flavor_action),
            ("GET", "/os-keypairs", self.list_keypairs),
            ("POST", "/os-keypairs", self.create_keypair),
            ("GET", "/os-keypairs/{id}", self.show_keypair),
            ("DELETE", "/os-keypairs/{id}", self.delete_keypair),
            ("GET", "/os-server-groups", self.list_groups),
            ("POST", "/os-server-groups", self.create_group),
            ("GET", "/os-server-groups/{id}", self.show_group),
            ("DELETE", "/os-server-groups/{id}", self.delete_group),
            ("GET", "/limits", self.limits),
        ):
            r.add(method, v + path, self._versioned(fn))

    def _versioned(self, fn: Any) -> Any:
        def wrapper(req: Req) -> Resp:
            version = _version(req)
            req.microversion = version
            resp: Resp = fn(req)
            text = f"{version[0]}.{version[1]}"
            resp.headers.update({"OpenStack-API-Version": f"compute {text}",
                                 "X-OpenStack-Nova-API-Version": text,
                                 "Vary": "OpenStack-API-Version, X-OpenStack-Nova-API-Version"})
            return resp
        return wrapper

    @staticmethod
    def mv(req: Req) -> tuple[int, int]:
        return req.microversion if req.microversion != (0, 0) else MIN_VERSION

    def error(self, status: int, message: str, kind: str | None = None) -> ApiError:
        key = kind or _ERROR_KEYS.get(status, "computeFault")
        return ApiError(status, {key: {"code": status, "message": message}})

    def _conflict(self, server: Record, action: str) -> ApiError:
        return self.error(409, f"Cannot '{action}' instance {server['id']} while it is in"
                          f" vm_state {server['OS-EXT-STS:vm_state']}")

    # -- discovery ---------------------------------------------------------------------------

    def _version_entry(self) -> dict[str, Any]:
        return {"id": "v2.1", "status": "CURRENT", "version": "2.96", "min_version": "2.1",
                "updated": "2013-07-23T11:33:21Z",
                "links": [{"rel": "self", "href": f"{self.url}/v2.1/"}],
                "media-types": [{"base": "application/json",
                                 "type": "application/vnd.openstack.compute+json;version=2.1"}]}

    def versions(self, req: Req) -> Resp:
        return Resp(200, {"versions": [self._version_entry()]})

    def version_doc(self, req: Req) -> Resp:
        return Resp(200, {"version": self._version_entry()})

    # -- helpers -----------------------------------------------------------------------------

    def _link(self, kind: str, ident: str, project_id: str) -> list[dict[str, str]]:
        return [{"rel": "self", "href": f"{self.url}/v2.1/{kind}/{ident}"},
                {"rel": "bookmark", "href": f"{self.url}/{kind}/{ident}"}]

    def server(self, req: Req, ident: str | None = None) -> Record:
        ident = ident or req.params["id"]
        record = self.state["servers"].get(ident)
        if record is None or record["tenant_id"] != req.project_id:
            raise self.error(404, f"Instance {ident} could not be found.")
        return record

    def _flavor(self, ref: Any) -> Record:
        ident = str(ref).rstrip("/").rsplit("/", 1)[-1]
        flavor = self.state["flavors"].get(ident)
        if flavor is None:
            raise self.error(400, f"Flavor {ident} could not be found.")
        return flavor

    def _quota(self, name: str, requested: int, used: int) -> None:
        limit = self.state.quota(name)
        if limit >= 0 and used + requested > limit:
            raise self.error(403, f"Quota exceeded for {name}: Requested {requested}, but"
                             f" already used {used} of {limit} {name}")

    def _check_metadata(self, metadata: Any) -> dict[str, str]:
        if not isinstance(metadata, dict):
            raise self.error(400, "Invalid input for field/attribute metadata.")
        for key, value in metadata.items():
            if not isinstance(value, str) or not key or len(key) > 255 or len(value) > 255:
                raise self.error(400, f"Invalid input for field/attribute metadata. Value:"
                                 f" {key}.")
        limit = self.state.quota("metadata_items")
        if limit >= 0 and len(metadata) > limit:
            raise self.error(403, f"Quota exceeded for metadata_items: Requested"
                             f" {len(metadata)}, but already used 0 of {limit} metadata_items")
        return dict(metadata)

    # -- servers: rendering ------------------------------------------------------------------

    def addresses(self, server_id: str) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for port in self.neutron.ports_of(server_id):
            net = self.state["networks"].get(port["network_id"])
            name = net["name"] if net else port["network_id"]
            entries = out.setdefault(name, [])
            for ip in port["fixed_ips"]:
                entries.append({"version": 6 if ":" in ip["ip_address"] else 4,
                                "addr": ip["ip_address"], "OS-EXT-IPS:type": "fixed",
                                "OS-EXT-IPS-MAC:mac_addr": port["mac_address"]})
            for fip in self.neutron.floating_ips_of(port["id"]):
                entries.append({"version": 4, "addr": fip["floating_ip_address"],
                                "OS-EXT-IPS:type": "floating",
                                "OS-EXT-IPS-MAC:mac_addr": port["mac_address"]})
        return out

    def render_server(self, server: Record, version: tuple[int, int]) -> Record:
        flavor = server["_flavor"]
        out = {k: v for k, v in server.items() if not k.startswith("_")}
        if version >= (2, 47):
            out["flavor"] = {"vcpus": flavor["vcpus"], "ram": flavor["ram"],
                             "disk": flavor["disk"],
                             "ephemeral": flavor["OS-FLV-EXT-DATA:ephemeral"],
                             "swap": flavor["swap"], "original_name": flavor["name"],
                             "extra_specs": dict(flavor.get("extra_specs", {}))}
        else:
            out["flavor"] = {"id": flavor["id"], "links": [
                {"rel": "bookmark", "href": f"{self.url}/flavors/{flavor['id']}"}]}
        out["addresses"] = self.addresses(server["id"])
        out["os-extended-volumes:volumes_attached"] = [
            {"id": a["volumeId"], "delete_on_termination": a["delete_on_termination"]}
            for a in server["_attachments"]]
        out["links"] = self._link("servers", server["id"], server["tenant_id"])
        if version < (2, 26):
            out.pop("tags", None)
        if version < (2, 19):
            out.pop("description", None)
        if server["status"] not in ("ERROR", "DELETED"):
            out.pop("fault", None)
        out["server_groups"] = [g["id"] for g in self.state["server_groups"].values()
                                if server["id"] in g["members"]]
        return out

    # -- servers: CRUD -----------------------------------------------------------------------

    def _filtered(self, req: Req) -> list[Record]:
        items = [s for s in self.state["servers"].values() if s["tenant_id"] == req.project_id]
        q = req.query
        if "name" in q:
            try:
                pattern = re.compile(q["name"])
            except re.error:
                pattern = re.compile(re.escape(q["name"]))
            items = [s for s in items if pattern.search(s["name"])]
        for key, field in (("status", "status"), ("flavor", None), ("image", None),
                           ("key_name", "key_name"), ("availability_zone",
                                                      "OS-EXT-AZ:availability_zone")):
            if key not in q:
                continue
            values = q.getall(key)
            if key == "flavor":
                items = [s for s in items if s["_flavor"]["id"] in values]
            elif key == "image":
                items = [s for s in items if isinstance(s["image"], dict)
                         and s["image"]["id"] in values]
            else:
                attr = str(field)
                upper = [v.upper() for v in values]
                items = [s for s in items if str(s.get(attr)).upper() in upper]
        if "ip" in q:
            pattern = re.compile(q["ip"])
            items = [s for s in items if any(
                pattern.search(a["addr"]) for lst in self.addresses(s["id"]).values()
                for a in lst)]
        for key, want_all, negate in (("tags", True, False), ("tags-any", False, False),
                                      ("not-tags", True, True), ("not-tags-any", False, True)):
            wanted = set(req.query_list(key))
            if not wanted:
                continue

            def hit(s: Record, wanted: set[str] = wanted, want_all: bool = want_all) -> bool:
                tags = set(s["tags"])
                return wanted <= tags if want_all else bool(wanted & tags)

            items = [s for s in items if hit(s) != negate]
        items.sort(key=lambda s: (s["created"], s["id"]), reverse=True)
        marker = q.get("marker")
        if marker:
            ids = [s["id"] for s in items]
            if marker not in ids:
                raise self.error(400, f"marker [{marker}] not found")
            items = items[ids.index(marker) + 1:]
        return items

    def _page(self, req: Req, items: list[Record], key: str) -> tuple[list[Record], Any]:
        limit = req.query.get("limit")
        if limit and limit.isdigit() and len(items) > int(limit):
            items = items[: int(limit)]
            return items, [{"rel": "next", "href": f"{self.url}/v2.1/{key}?limit={limit}"
                            f"&marker={items[-1]['id']}"}]
        return items, None

    def list_servers(self, req: Req) -> Resp:
        items, links = self._page(req, self._filtered(req), "servers")
        body: dict[str, Any] = {"servers": [
            {"id": s["id"], "name": s["name"], "links": self._link("servers", s["id"], "")}
            for s in items]}
        if links:
            body["servers_links"] = links
        return Resp(200, body)

    def list_servers_detail(self, req: Req) -> Resp:
        items, links = self._page(req, self._filtered(req), "servers/detail")
        body: dict[str, Any] = {"servers": [self.render_server(s, self.mv(req)) for s in items]}
        if links:
            body["servers_links"] = links
        return Resp(200, body)

    def show_server(self, req: Req) -> Resp:
        return Resp(200, {"server": self.render_server(self.server(req), self.mv(req))})

    def create_server(self, req: Req) -> Resp:  # noqa: C901
        body = self.body_of(req, "server")
        hints = req.json(self.error).get("os:scheduler_hints") or req.json(self.error).get(
            "OS-SCH-HNT:scheduler_hints") or {}
        version = self.mv(req)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise self.error(400, "Invalid input for field/attribute name.")
        flavor = self._flavor(body.get("flavorRef", ""))
        bdms = body.get("block_device_mapping_v2") or []
        image_ref = body.get("imageRef") or ""
        image: Record | None = None
        if image_ref:
            image = self.state["images"].get(str(image_ref).rsplit("/", 1)[-1])
            if image is None:
                raise self.error(400, "Can not find requested image")
            if image["status"] != "active":
                raise self.error(400, f"Image {image['id']} is not active.")
        elif not any(str(b.get("boot_index")) == "0" for b in bdms if isinstance(b, dict)):
            raise self.error(400, "Block Device Mapping is Invalid: Boot sequence for the"
                             " instance and image/block device mapping combination is not valid.")
        key_name = body.get("key_name")
        if key_name is not None and (str(key_name), req.user_id) not in {
            (k["name"], k["user_id"]) for k in self.state["keypairs"].values()
        }:
            raise self.error(400, "Invalid key_name provided.")
        metadata = self._check_metadata(body.get("metadata", {}))
        user_data = body.get("user_data")
        if user_data is not None:
            try:
                base64.b64decode(user_data, validate=True)
            except (binascii.Error, TypeError, ValueError):
                raise self.error(400, "User data needs to be valid base 64.") from None
            if len(user_data) > 65535:
                raise self.error(400, "User data too large. User data must be no larger than"
                                 " 65535 bytes once base64 encoded.")
        tags = body.get("tags", [])
        self._validate_tags(tags)
        networks = body.get("networks")
        if networks is None and version >= (2, 37):
            raise self.error(400, "Invalid input for field/attribute server. Value: ... "
                             "'networks' is a required property")
        mine = [s for s in self.state["servers"].values() if s["tenant_id"] == req.project_id]
        self._quota("instances", 1, len(mine))
        self._quota("cores", flavor["vcpus"], sum(s["_flavor"]["vcpus"] for s in mine))
        self._quota("ram", flavor["ram"], sum(s["_flavor"]["ram"] for s in mine))
        group = None
        if isinstance(hints, dict) and hints.get("group"):
            group = self.state["server_groups"].get(str(hints["group"]))
            if group is None:
                raise self.error(404, f"Instance group {hints['group']} could not be found.")
            limit = self.state.quota("server_group_members")
            if limit >= 0 and len(group["members"]) + 1 > limit:
                raise self.error(403, "Quota exceeded, too many servers in group")
        sg_names = [g.get("name") for g in body.get("security_groups", [{"name": "default"}])
                    if isinstance(g, dict)]
        sg_ids = [self._security_group(str(n), req.project_id) for n in sg_names]
        server_id = new_id()
        created_ports, bound_ports = self._plug(networks, server_id, sg_ids, req.project_id)
        now = iso_now()
        server: Record = {
            "id": server_id, "name": name, "status": "BUILD", "tenant_id": req.project_id,
            "user_id": req.user_id, "metadata": metadata,
            "hostId": hashlib.sha224((req.project_id + "sandbox-compute").encode()).hexdigest(),
            "image": {"id": image["id"], "links": [{"rel": "bookmark",
                      "href": f"{self.url}/images/{image['id']}"}]} if image else "",
            "created": now, "updated": now, "accessIPv4": body.get("accessIPv4", ""),
            "accessIPv6": body.get("accessIPv6", ""),
            "OS-DCF:diskConfig": body.get("OS-DCF:diskConfig", "MANUAL"), "progress": 0,
            "OS-EXT-AZ:availability_zone": body.get("availability_zone") or "nova",
            "config_drive": "True" if body.get("config_drive") else "",
            "key_name": key_name, "OS-SRV-USG:launched_at": None,
            "OS-SRV-USG:terminated_at": None,
            "security_groups": [{"name": n} for n in sg_names],
            "OS-EXT-STS:task_state": "scheduling", "OS-EXT-STS:vm_state": "building",
            "OS-EXT-STS:power_state": 0, "locked": False, "locked_reason": None,
            "description": body.get("description"), "tags": sorted(set(tags)),
            "trusted_image_certificates": None, "pinned_availability_zone": None,
            "_flavor": dict(flavor), "_created_ports": created_ports,
            "_bound_ports": bound_ports, "_attachments": [], "_user_data": user_data,
        }
        self.state["servers"][server_id] = server
        if group is not None:
            group["members"].append(server_id)
        for index, bdm in enumerate(bdms):
            self._boot_volume(server, bdm, index, req.project_id)
        if self.state.chance(self.state.config.server_error_rate):
            message = self.state.config.server_error_message
            self.state.schedule(self.state.config.build_delay,
                                lambda: self._settle_error(server_id, message))
        else:
            self.state.schedule(self.state.config.build_delay,
                                lambda: self._settle_active(server_id, "BUILD"))
        admin_pass = body.get("adminPass") or base64.b32encode(
            self.state.rng.randbytes(10)).decode()[:12]
        server["_admin_pass"] = admin_pass
        return Resp(202, {"server": {
            "id": server_id, "links": self._link("servers", server_id, req.project_id),
            "OS-DCF:diskConfig": server["OS-DCF:diskConfig"],
            "security_groups": server["security_groups"], "adminPass": admin_pass}},
            {"Location": f"{self.url}/v2.1/servers/{server_id}"})

    def _security_group(self, name: str, project_id: str) -> str:
        for sg in self.state["security_groups"].values():
            if sg["project_id"] == project_id and name in (sg["name"], sg["id"]):
                return str(sg["id"])
        raise self.error(400, f"Security group {name} not found for project {project_id}.")

    def _plug(self, networks: Any, server_id: str, sg_ids: list[str],
              project_id: str) -> tuple[list[str], list[str]]:
        if networks in (None, "none"):
            return [], []
        if networks == "auto":
            mine = [n for n in self.state["networks"].values()
                    if n["project_id"] == project_id and n["subnets"]]
            if len(mine) != 1:
                raise self.error(400, "Unable to automatically allocate a network for project"
                                 f" {project_id}")
            networks = [{"uuid": mine[0]["id"]}]
        if not isinstance(networks, list):
            raise self.error(400, "Invalid input for field/attribute networks.")
        created: list[str] = []
        bound: list[str] = []
        try:
            for item in networks:
                if not isinstance(item, dict):
                    raise self.error(400, "Invalid input for field/attribute networks.")
                if item.get("port"):
                    port = self.state["ports"].get(str(item["port"]))
                    if port is None or port["project_id"] != project_id:
                        raise self.error(400, f"Port id {item['port']} could not be found.")
                    if port["device_id"]:
                        raise self.error(409, f"Port {port['id']} is still in use.")
                    port["device_id"] = server_id
                    port["device_owner"] = "compute:nova"
                    self.neutron.bind_status(port)
                    bound.append(port["id"])
                    continue
                net_id = str(item.get("uuid", ""))
                net = self.state["networks"].get(net_id)
                if net is None or not self.neutron.visible("networks", net, project_id):
                    raise self.error(400, f"Network {net_id} could not be found.")
                fixed = [{"ip_address": item["fixed_ip"]}] if item.get("fixed_ip") else None
                try:
                    port = self.neutron.create_port({
                        "network_id": net_id, "device_id": server_id,
                        "device_owner": "compute:nova", "fixed_ips": fixed,
                        "security_groups": sg_ids}, project_id)
                except ApiError as exc:
                    status = exc.response.status
                    detail = exc.response.body.get("NeutronError", {}).get("message", "")
                    raise self.error(409 if status == 409 else 400, detail) from None
                created.append(port["id"])
        except ApiError:
            self._unplug(created, bound)
            raise
        return created, bound

    def _unplug(self, created: list[str], bound: list[str]) -> None:
        for pid in created:
            port = self.state["ports"].get(pid)
            if port is not None:
                self.neutron.drop_port(port)
        for pid in bound:
            port = self.state["ports"].get(pid)
            if port is not None:
                port["device_id"] = ""
                port["device_owner"] = ""
                self.neutron.bind_status(port)

    def _boot_volume(self, server: Record, bdm: Any, index: int, project_id: str) -> None:
        if not isinstance(bdm, dict):
            raise self.error(400, "Block Device Mapping is Invalid.")
        source = bdm.get("source_type")
        dest = bdm.get("destination_type", "volume")
        if dest != "volume" or source not in ("volume", "image", "blank"):
            return
        if source == "volume":
            volume = self.state["volumes"].get(str(bdm.get("uuid")))
            if volume is None:
                raise self.error(400, f"Block Device Mapping is Invalid: failed to get volume"
                                 f" {bdm.get('uuid')}.")
            if volume["status"] != "available":
                raise self.error(400, f"Block Device Mapping is Invalid: Volume {volume['id']}"
                                 " status must be available")
        else:
            volume = self.cinder.make_volume(
                {"size": int(bdm.get("volume_size") or 1),
                 "imageRef": bdm.get("uuid") if source == "image" else None,
                 "volume_type": bdm.get("volume_type"), "name": ""}, project_id, delay=0.0)
            volume["status"] = "available"
        device = bdm.get("device_name") or f"/dev/vd{chr(ord('a') + index)}"
        self._attach(server, volume, device, bool(bdm.get("delete_on_termination", False)),
                     bdm.get("tag"), immediate=True)

    def _settle_active(self, server_id: str, expected: str) -> None:
        server = self.state["servers"].get(server_id)
        if server is None or server["status"] != expected:
            return
        server.update({"status": "ACTIVE", "OS-EXT-STS:vm_state": "active",
                       "OS-EXT-STS:task_state": None, "OS-EXT-STS:power_state": 1,
                       "updated": iso_now()})
        if expected == "BUILD":
            server["OS-SRV-USG:launched_at"] = iso_now(precise=True)

    def _settle_error(self, server_id: str, message: str) -> None:
        if server_id in self.state["servers"]:
            self.set_error(server_id, message)

    def set_error(self, server_id: str, message: str) -> None:
        server = self.state["servers"][server_id]
        if server["status"] == "BUILD":
            self._unplug(server["_created_ports"], server["_bound_ports"])
            server["_created_ports"], server["_bound_ports"] = [], []
        server.update({"status": "ERROR", "OS-EXT-STS:vm_state": "error",
                       "OS-EXT-STS:task_state": None, "updated": iso_now(),
                       "fault": {"code": 500, "created": iso_now(), "message": message}})

    def update_server(self, req: Req) -> Resp:
        server = self.server(req)
        body = self.body_of(req, "server")
        allowed = {"name", "description", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig",
                   "hostname"}
        if set(body) - allowed:
            extra = sorted(set(body) - allowed)[0]
            raise self.error(400, f"Invalid input for field/attribute server. Value: {body}."
                             f" Additional properties are not allowed ('{extra}' was unexpected)")
        if "name" in body and (not isinstance(body["name"], str) or not body["name"].strip()):
            raise self.error(400, "Invalid input for field/attribute name.")
        server.update(body)
        server["updated"] = iso_now()
        return Resp(200, {"server": self.render_server(server, self.mv(req))})

    def delete_server(self, req: Req) -> Resp:
        server = self.server(req)
        if server["locked"]:
            raise self.error(409, f"Instance {server['id']} is locked")
        delay = self.state.config.server_delete_delay
        if delay > 0:
            server["OS-EXT-STS:task_state"] = "deleting"
            self.state.schedule(delay, lambda: self._destroy(server["id"]))
        else:
            self._destroy(server["id"])
        return Resp(204)

    def _destroy(self, server_id: str) -> None:
        server = self.state["servers"].pop(server_id, None)
        if server is None:
            return
        self._unplug(server["_created_ports"], server["_bound_ports"])
        for port in self.neutron.ports_of(server_id):
            port["device_id"] = ""
            port["device_owner"] = ""
            self.neutron.bind_status(port)
        for att in server["_attachments"]:
            self.cinder.detached(att["volumeId"], server_id, immediate=True)
            if att["delete_on_termination"]:
                self.state["volumes"].pop(att["volumeId"], None)
        for group in self.state["server_groups"].values():
            if server_id in group["members"]:
                group["members"].remove(server_id)

    def vanish(self, kind: str, ident: str) -> bool:
        if kind == "servers":
            self._destroy(ident)
            return True
        return False

    # -- server actions ----------------------------------------------------------------------

    def server_action(self, req: Req) -> Resp:  # noqa: C901
        server = self.server(req)
        body = req.json(self.error)
        if not isinstance(body, dict) or len(body) != 1:
            raise self.error(400, "There is no such action: None")
        action, args = next(iter(body.items()))
        vm_state = server["OS-EXT-STS:vm_state"]
        busy = server["OS-EXT-STS:task_state"] is not None
        delay = self.state.config.build_delay
        if action == "resize":
            if vm_state not in ("active", "stopped") or busy:
                raise self._conflict(server, "resize")
            flavor = self._flavor((args or {}).get("flavorRef", ""))
            if flavor["id"] == server["_flavor"]["id"]:
                raise self.error(400, "No valid host was found. Resize to the same flavor is"
                                 " not allowed.")
            server.update({"status": "RESIZE", "OS-EXT-STS:task_state": "resize_prep",
                           "_old_flavor": server["_flavor"], "_flavor": dict(flavor)})

            def resized() -> None:
                if server.get("status") == "RESIZE":
                    server.update({"status": "VERIFY_RESIZE", "OS-EXT-STS:vm_state": "resized",
                                   "OS-EXT-STS:task_state": None})
            self.state.schedule(delay, resized)
        elif action == "confirmResize":
            if vm_state != "resized":
                raise self.error(409, "Instance has not been resized.")
            server.pop("_old_flavor", None)
            self._settle_to(server, "ACTIVE")
        elif action == "revertResize":
            if vm_state != "resized":
                raise self.error(409, "Instance has not been resized.")
            server["_flavor"] = server.pop("_old_flavor")
            server.update({"status": "REVERT_RESIZE", "OS-EXT-STS:task_state": "resize_reverting"})
            self.state.schedule(delay, lambda: self._settle_active(server["id"], "REVERT_RESIZE"))
        elif action == "os-stop":
            if vm_state not in ("active", "error") or busy:
                raise self._conflict(server, "stop")
            server.update({"status": "SHUTOFF", "OS-EXT-STS:vm_state": "stopped",
                           "OS-EXT-STS:power_state": 4})
        elif action == "os-start":
            if vm_state != "stopped" or busy:
                raise self._conflict(server, "start")
            self._settle_to(server, "ACTIVE")
        elif action == "reboot":
            if vm_state not in ("active", "stopped", "error") or busy:
                raise self._conflict(server, "reboot")
            kind = str((args or {}).get("type", "SOFT")).upper()
            status = "HARD_REBOOT" if kind == "HARD" else "REBOOT"
            server.update({"status": status, "OS-EXT-STS:task_state": "rebooting"})
            self.state.schedule(delay, lambda: self._settle_active(server["id"], status))
        elif action == "rebuild":
            if vm_state not in ("active", "stopped", "error") or busy:
                raise self._conflict(server, "rebuild")
            image = self.state["images"].get(str((args or {}).get("imageRef", "")))
            if image is None:
                raise self.error(400, "Cannot find requested image")
            server.update({"status": "REBUILD", "OS-EXT-STS:task_state": "rebuilding",
                           "image": {"id": image["id"], "links": []}})
            if "name" in args:
                server["name"] = args["name"]
            if args.get("adminPass"):
                server["_admin_pass"] = str(args["adminPass"])
            self.state.schedule(delay, lambda: self._settle_active(server["id"], "REBUILD"))
            return Resp(202, {"server": self.render_server(server, self.mv(req))})
        elif action == "changePassword":
            if vm_state != "active" or busy:
                raise self._conflict(server, "changePassword")
            password = (args or {}).get("adminPass")
            if not isinstance(password, str):
                raise self.error(400, "Invalid input for field/attribute adminPass.")
            server["_admin_pass"] = password
        elif action in ("addSecurityGroup", "removeSecurityGroup"):
            name = str((args or {}).get("name", ""))
            sg_id = self._security_group(name, req.project_id)
            for port in self.neutron.ports_of(server["id"]):
                groups = [g for g in port["security_groups"] if g != sg_id]
                if action == "addSecurityGroup":
                    groups.append(sg_id)
                port["security_groups"] = groups
            names = [g["name"] for g in server["security_groups"] if g["name"] != name]
            if action == "addSecurityGroup":
                names.append(name)
            server["security_groups"] = [{"name": n} for n in names]
        else:
            raise self.error(400, f"There is no such action: {action}")
        server["updated"] = iso_now()
        return Resp(202)

    def _settle_to(self, server: Record, status: str) -> None:
        server.update({"status": status, "OS-EXT-STS:vm_state": "active",
                       "OS-EXT-STS:task_state": None, "OS-EXT-STS:power_state": 1})

    # -- tags --------------------------------------------------------------------------------

    def _validate_tags(self, tags: Any) -> list[str]:
        if not isinstance(tags, list):
            raise self.error(400, "Invalid input for field/attribute tags.")
        if len(tags) > 50:
            raise self.error(400, "The number of tags exceeded the per-server limit 50")
        for tag in tags:
            self._valid_tag(tag)
        return [str(t) for t in tags]

    def _valid_tag(self, tag: Any) -> str:
        if not isinstance(tag, str) or not tag or len(tag) > 60 or "," in tag or "/" in tag:
            raise self.error(400, f"Invalid input for field/attribute tags. Value: {tag}.")
        return tag

    def _taggable(self, req: Req) -> Record:
        server = self.server(req)
        if server["OS-EXT-STS:vm_state"] not in _TAG_STATES:
            raise self._conflict(server, "update tags")
        return server

    def get_tags(self, req: Req) -> Resp:
        return Resp(200, {"tags": list(self.server(req)["tags"])})

    def put_tags(self, req: Req) -> Resp:
        server = self._taggable(req)
        body = req.json(self.error)
        server["tags"] = sorted(set(self._validate_tags(body.get("tags")
                                                        if isinstance(body, dict) else None)))
        return Resp(200, {"tags": list(server["tags"])})

    def clear_tags(self, req: Req) -> Resp:
        self._taggable(req)["tags"] = []
        return Resp(204)

    def check_tag(self, req: Req) -> Resp:
        if req.params["tag"] not in self.server(req)["tags"]:
            raise self.error(404, f"Tag '{req.params['tag']}' could not be found.")
        return Resp(204)

    def add_tag(self, req: Req) -> Resp:
        server = self._taggable(req)
        tag = self._valid_tag(req.params["tag"])
        if tag in server["tags"]:
            return Resp(204)
        if len(server["tags"]) >= 50:
            raise self.error(400, "The number of tags exceeded the per-server limit 50")
        server["tags"] = sorted([*server["tags"], tag])
        return Resp(201, None, {"Location": f"{self.url}/v2.1/servers/{server['id']}/tags/{tag}"})

    def remove_tag(self, req: Req) -> Resp:
        server = self._taggable(req)
        if req.params["tag"] not in server["tags"]:
            raise self.error(404, f"Tag '{req.params['tag']}' could not be found.")
        server["tags"] = [t for t in server["tags"] if t != req.params["tag"]]
        return Resp(204)

    # -- metadata ----------------------------------------------------------------------------

    def _meta_writable(self, req: Req) -> Record:
        server = self.server(req)
        if server["OS-EXT-STS:vm_state"] not in ("active", "paused", "suspended", "stopped") or (
            server["OS-EXT-STS:task_state"] is not None
        ):
            raise self._conflict(server, "update metadata")
        return server

    def get_metadata(self, req: Req) -> Resp:
        return Resp(200, {"metadata": dict(self.server(req)["metadata"])})

    def merge_metadata(self, req: Req) -> Resp:
        server = self._meta_writable(req)
        body = req.json(self.error)
        metadata = self._check_metadata({**server["metadata"], **(body.get("metadata") or {})})
        server["metadata"] = metadata
        return Resp(200, {"metadata": dict(metadata)})

    def replace_metadata(self, req: Req) -> Resp:
        server = self._meta_writable(req)
        body = req.json(self.error)
        server["metadata"] = self._check_metadata(body.get("metadata"))
        return Resp(200, {"metadata": dict(server["metadata"])})

    def get_meta_item(self, req: Req) -> Resp:
        server = self.server(req)
        key = req.params["key"]
        if key not in server["metadata"]:
            raise self.error(404, "Metadata item was not found")
        return Resp(200, {"meta": {key: server["metadata"][key]}})

    def put_meta_item(self, req: Req) -> Resp:
        server = self._meta_writable(req)
        body = req.json(self.error)
        meta = body.get("meta") if isinstance(body, dict) else None
        key = req.params["key"]
        if not isinstance(meta, dict) or list(meta) != [key]:
            raise self.error(400, "Request body and URI mismatch")
        server["metadata"] = self._check_metadata({**server["metadata"], **meta})
        return Resp(200, {"meta": dict(meta)})

    def delete_meta_item(self, req: Req) -> Resp:
        server = self._meta_writable(req)
        if req.params["key"] not in server["metadata"]:
            raise self.error(404, "Metadata item was not found")
        del server["metadata"][req.params["key"]]
        return Resp(204)

    def server_ips(self, req: Req) -> Resp:
        server = self.server(req)
        return Resp(200, {"addresses": {
            net: [{"version": a["version"], "addr": a["addr"]} for a in entries]
            for net, entries in self.addresses(server["id"]).items()}})

    @staticmethod
    def _render_interface(port: Record) -> Record:
        return {"port_id": port["id"], "net_id": port["network_id"],
                "mac_addr": port["mac_address"], "port_state": port["status"],
                "fixed_ips": port["fixed_ips"], "tag": None}

    def attach_interface(self, req: Req) -> Resp:
        server = self.server(req)
        body = self.body_of(req, "interfaceAttachment")
        if server["OS-EXT-STS:vm_state"] not in ("active", "stopped", "paused", "suspended"):
            raise self._conflict(server, "attach_interface")
        if body.get("port_id") and body.get("net_id"):
            raise self.error(400, "Must not input both network_id and port_id")
        if body.get("port_id"):
            nics: list[dict[str, Any]] = [{"port": body["port_id"]}]
        elif body.get("net_id"):
            fixed = body.get("fixed_ips") or []
            nic: dict[str, Any] = {"uuid": body["net_id"]}
            if fixed and isinstance(fixed[0], dict) and fixed[0].get("ip_address"):
                nic["fixed_ip"] = fixed[0]["ip_address"]
            nics = [nic]
        else:
            raise self.error(400, "Invalid input for field/attribute interfaceAttachment: "
                             "one of port_id or net_id is required.")
        groups = [g["name"] for g in server["security_groups"]] or ["default"]
        sg_ids = [self._security_group(str(n), req.project_id) for n in groups]
        created, bound = self._plug(nics, server["id"], sg_ids, req.project_id)
        server["_created_ports"] = [*server["_created_ports"], *created]
        server["_bound_ports"] = [*server["_bound_ports"], *bound]
        port = self.state["ports"][(created or bound)[0]]
        server["updated"] = iso_now()
        return Resp(200, {"interfaceAttachment": self._render_interface(port)})

    def _interface(self, req: Req) -> tuple[Record, Record]:
        server = self.server(req)
        for port in self.neutron.ports_of(server["id"]):
            if port["id"] == req.params["port_id"]:
                return server, port
        raise self.error(404, f"Port {req.params['port_id']} is not attached")

    def show_interface(self, req: Req) -> Resp:
        _, port = self._interface(req)
        return Resp(200, {"interfaceAttachment": self._render_interface(port)})

    def detach_interface(self, req: Req) -> Resp:
        server, port = self._interface(req)
        if server["OS-EXT-STS:task_state"] is not None:
            raise self._conflict(server, "detach_interface")
        created = port["id"] in server["_created_ports"]
        server["_created_ports"] = [p for p in server["_created_ports"] if p != port["id"]]
        server["_bound_ports"] = [p for p in server["_bound_ports"] if p != port["id"]]
        if created:
            self._unplug([port["id"]], [])
        else:
            self._unplug([], [port["id"]])
        server["updated"] = iso_now()
        return Resp(202)

    def list_interfaces(self, req: Req) -> Resp:
        server = self.server(req)
        return Resp(200, {"interfaceAttachments": [
            {"port_id": p["id"], "net_id": p["network_id"], "mac_addr": p["mac_address"],
             "port_state": p["status"], "fixed_ips": p["fixed_ips"], "tag": None}
            for p in self.neutron.ports_of(server["id"])]})

    # -- volume attachments ------------------------------------------------------------------

    def _render_attachment(self, att: Record, version: tuple[int, int]) -> Record:
        out = {"device": att["device"], "serverId": att["serverId"],
               "volumeId": att["volumeId"]}
        if version < (2, 89):
            out["id"] = att["volumeId"]
        if version >= (2, 70):
            out["tag"] = att["tag"]
        if version >= (2, 79):
            out["delete_on_termination"] = att["delete_on_termination"]
        if version >= (2, 89):
            out["attachment_id"] = att["attachment_id"]
            out["bdm_uuid"] = att["bdm_uuid"]
        return out

    def list_attachments(self, req: Req) -> Resp:
        server = self.server(req)
        return Resp(200, {"volumeAttachments": [
            self._render_attachment(a, self.mv(req)) for a in server["_attachments"]]})

    def show_attachment(self, req: Req) -> Resp:
        server = self.server(req)
        for att in server["_attachments"]:
            if att["volumeId"] == req.params["volume_id"]:
                return Resp(200, {"volumeAttachment": self._render_attachment(att,
                                                                              self.mv(req))})
        raise self.error(404, f"volume_id not found: {req.params['volume_id']}")

    def attach_volume(self, req: Req) -> Resp:
        server = self.server(req)
        body = self.body_of(req, "volumeAttachment")
        if server["OS-EXT-STS:vm_state"] not in ("active", "stopped", "paused", "suspended",
                                                 "resized", "shelved", "shelved_offloaded"):
            raise self._conflict(server, "attach_volume")
        volume_id = str(body.get("volumeId", ""))
        volume = self.state["volumes"].get(volume_id)
        if volume is None or volume["os-vol-tenant-attr:tenant_id"] != req.project_id:
            raise self.error(404, f"Volume {volume_id} could not be found.")
        if any(a["volumeId"] == volume_id for a in server["_attachments"]):
            raise self.error(409, f"Volume {volume_id} is already attached to the instance")
        if volume["status"] != "available" and not (
            volume["multiattach"] and volume["status"] == "in-use"
        ):
            raise self.error(400, f"Invalid input received: Invalid volume: Volume {volume_id}"
                             " status must be available or downloading to reserve, but the"
                             f" current status is {volume['status']}. (HTTP 400)")
        used = {a["device"] for a in server["_attachments"]}
        device = body.get("device")
        if not device:
            letter = "b"
            while f"/dev/vd{letter}" in used:
                letter = chr(ord(letter) + 1)
            device = f"/dev/vd{letter}"
        att = self._attach(server, volume, device, bool(body.get("delete_on_termination",
                                                                  False)), body.get("tag"))
        return Resp(200, {"volumeAttachment": self._render_attachment(att, self.mv(req))})

    def _attach(self, server: Record, volume: Record, device: str, delete_on_termination: bool,
                tag: Any, immediate: bool = False) -> Record:
        attachment_id = self.cinder.attached(volume["id"], server["id"], device, immediate)
        att = {"device": device, "serverId": server["id"], "volumeId": volume["id"],
               "tag": tag, "delete_on_termination": delete_on_termination,
               "attachment_id": attachment_id, "bdm_uuid": new_id()}
        server["_attachments"].append(att)
        return att

    def detach_volume(self, req: Req) -> Resp:
        server = self.server(req)
        volume_id = req.params["volume_id"]
        for att in server["_attachments"]:
            if att["volumeId"] == volume_id:
                break
        else:
            raise self.error(404, f"Volume {volume_id} is not attached to instance"
                             f" {server['id']}")
        if server["OS-EXT-STS:task_state"] is not None:
            raise self._conflict(server, "detach_volume")
        server["_attachments"].remove(att)
        self.cinder.detached(volume_id, server["id"])
        return Resp(202)

    # -- flavors -----------------------------------------------------------------------------

    def render_flavor(self, flavor: Record, version: tuple[int, int], full: bool) -> Record:
        links = self._link("flavors", flavor["id"], "")
        if not full:
            out: Record = {"id": flavor["id"], "name": flavor["name"], "links": links}
            if version >= (2, 55):
                out["description"] = flavor["description"]
            return out
        out = {k: v for k, v in flavor.items() if not k.startswith("_")}
        out["links"] = links
        if version < (2, 75) and out["swap"] == 0:
            out["swap"] = ""
        if version < (2, 61):
            out.pop("extra_specs", None)
        if version < (2, 55):
            out.pop("description", None)
        return out

    def _flavor_or_404(self, ident: str) -> Record:
        flavor = self.state["flavors"].get(ident)
        if flavor is None:
            raise self.error(404, f"Flavor {ident} could not be found.")
        return flavor

    def _flavors(self, req: Req) -> list[Record]:
        items = sorted(self.state["flavors"].values(), key=lambda f: (f["_seq"], f["id"]))
        q = req.query
        public = q.get("is_public", "true").lower()
        if public in ("true", "1", "yes"):
            items = [f for f in items if f["os-flavor-access:is_public"]]
        elif public in ("false", "0", "no"):
            items = [f for f in items if not f["os-flavor-access:is_public"]]
        if "minRam" in q:
            items = [f for f in items if f["ram"] >= int(q["minRam"])]
        if "minDisk" in q:
            items = [f for f in items if f["disk"] >= int(q["minDisk"])]
        if q.get("marker"):
            ids = [f["id"] for f in items]
            if q["marker"] not in ids:
                raise self.error(400, f"marker [{q['marker']}] not found")
            items = items[ids.index(q["marker"]) + 1:]
        return items

    def list_flavors(self, req: Req) -> Resp:
        items, links = self._page(req, self._flavors(req), "flavors")
        body: dict[str, Any] = {"flavors": [self.render_flavor(f, self.mv(req), False)
                                            for f in items]}
        if links:
            body["flavors_links"] = links
        return Resp(200, body)

    def list_flavors_detail(self, req: Req) -> Resp:
        items, links = self._page(req, self._flavors(req), "flavors/detail")
        body: dict[str, Any] = {"flavors": [self.render_flavor(f, self.mv(req), True)
                                            for f in items]}
        if links:
            body["flavors_links"] = links
        return Resp(200, body)

    def show_flavor(self, req: Req) -> Resp:
        flavor = self._flavor_or_404(req.params["id"])
        return Resp(200, {"flavor": self.render_flavor(flavor, self.mv(req), True)})

    def make_flavor(self, body: dict[str, Any]) -> Record:
        ident = str(body.get("id") or new_id())
        flavor: Record = {
            "id": ident, "name": body["name"], "ram": int(body["ram"]),
            "vcpus": int(body["vcpus"]), "disk": int(body["disk"]),
            "swap": int(body.get("swap") or 0),
            "OS-FLV-EXT-DATA:ephemeral": int(body.get("OS-FLV-EXT-DATA:ephemeral", 0)),
            "OS-FLV-DISABLED:disabled": False,
            "os-flavor-access:is_public": bool(body.get("os-flavor-access:is_public", True)),
            "rxtx_factor": float(body.get("rxtx_factor", 1.0)),
            "description": body.get("description"), "extra_specs": {},
            "_seq": len(self.state["flavors"]),
        }
        self.state["flavors"][ident] = flavor
        return flavor

    def create_flavor(self, req: Req) -> Resp:
        body = self.body_of(req, "flavor")
        for key in ("name", "ram", "vcpus", "disk"):
            if key not in body:
                raise self.error(400, f"Invalid input for field/attribute flavor. Value: {body}."
                                 f" '{key}' is a required property")
        try:
            ram, vcpus, disk = int(body["ram"]), int(body["vcpus"]), int(body["disk"])
        except (TypeError, ValueError):
            raise self.error(400, "Invalid input for field/attribute flavor.") from None
        if ram < 1 or vcpus < 1 or disk < 0:
            raise self.error(400, "Invalid input for field/attribute flavor.")
        if body.get("id") is not None and str(body["id"]) in self.state["flavors"]:
            raise self.error(409, f"Flavor with ID {body['id']} already exists.")
        if any(f["name"] == body["name"] for f in self.state["flavors"].values()):
            raise self.error(409, f"Flavor with name {body['name']} already exists.")
        flavor = self.make_flavor(body)
        return Resp(200, {"flavor": self.render_flavor(flavor, self.mv(req), True)})

    def update_flavor(self, req: Req) -> Resp:
        flavor = self._flavor_or_404(req.params["id"])
        body = self.body_of(req, "flavor")
        if set(body) - {"description"}:
            raise self.error(400, "Invalid input for field/attribute flavor.")
        flavor["description"] = body.get("description")
        return Resp(200, {"flavor": self.render_flavor(flavor, self.mv(req), True)})

    def delete_flavor(self, req: Req) -> Resp:
        flavor = self._flavor_or_404(req.params["id"])
        del self.state["flavors"][flavor["id"]]
        return Resp(202)

    def get_extra_specs(self, req: Req) -> Resp:
        flavor = self._flavor_or_404(req.params["id"])
        return Resp(200, {"extra_specs": dict(flavor["extra_specs"])})

    def set_extra_specs(self, req: Req) -> Resp:
        flavor = self._flavor_or_404(req.params["id"])
        body = req.json(self.error)
        specs = body.get("extra_specs") if isinstance(body, dict) else None
        if not isinstance(specs, dict):
            raise self.error(400, "Invalid input for field/attribute extra_specs.")
        flavor["extra_specs"].update({str(k): str(v) for k, v in specs.items()})
        return Resp(200, {"extra_specs": dict(flavor["extra_specs"])})

    def get_extra_spec(self, req: Req) -> Resp:
        flavor = self._flavor_or_404(req.params["id"])
        key = req.params["key"]
        if key not in flavor["extra_specs"]:
            raise self.error(404, f"Flavor {flavor['id']} has no extra specs with key {key}.")
        return Resp(200, {key: flavor["extra_specs"][key]})

    def put_extra_spec(self, req: Req) -> Resp:
        flavor = self._flavor_or_404(req.params["id"])
        body = req.json(self.error)
        key = req.params["key"]
        if not isinstance(body, dict) or list(body) != [key]:
            raise self.error(400, "Request body and URI mismatch")
        flavor["extra_specs"][key] = str(body[key])
        return Resp(200, {key: flavor["extra_specs"][key]})

    def delete_extra_spec(self, req: Req) -> Resp:
        flavor = self._flavor_or_404(req.params["id"])
        key = req.params["key"]
        if key not in flavor["extra_specs"]:
            raise self.error(404, f"Flavor {flavor['id']} has no extra specs with key {key}.")
        del flavor["extra_specs"][key]
        return Resp(202)

    @staticmethod
    def _access_list(flavor: Record) -> list[dict[str, str]]:
        return [{"flavor_id": flavor["id"], "tenant_id": t}
                for t in flavor.get("_access", [])]

    def list_flavor_access(self, req: Req) -> Resp:
        flavor = self._flavor_or_404(req.params["id"])
        if flavor["os-flavor-access:is_public"]:
            raise self.error(404, "Access list not available for public flavors.")
        return Resp(200, {"flavor_access": self._access_list(flavor)})

    def flavor_action(self, req: Req) -> Resp:
        flavor = self._flavor_or_404(req.params["id"])
        body = req.json(self.error)
        if not isinstance(body, dict) or len(body) != 1:
            raise self.error(400, "There is no such action: None")
        action, args = next(iter(body.items()))
        if action not in ("addTenantAccess", "removeTenantAccess"):
            raise self.error(400, f"There is no such action: {action}")
        tenant = (args or {}).get("tenant") if isinstance(args, dict) else None
        if not isinstance(tenant, str) or not tenant:
            raise self.error(400, f"Invalid input for field/attribute {action}.")
        access: list[str] = flavor.setdefault("_access", [])
        if action == "addTenantAccess":
            if flavor["os-flavor-access:is_public"]:
                raise self.error(409, "Can not add access to a public flavor.")
            if tenant in access:
                raise self.error(409, f"Flavor access already exists for flavor"
                                 f" {flavor['id']} and project {tenant} combination.")
            access.append(tenant)
        else:
            if tenant not in access:
                raise self.error(404, f"Flavor access not found for {flavor['id']} /"
                                 f" {tenant} combination.")
            access.remove(tenant)
        return Resp(200, {"flavor_access": self._access_list(flavor)})

    # -- keypairs ----------------------------------------------------------------------------

    def _keypair(self, req: Req) -> Record:
        user = req.query.get("user_id", req.user_id)
        for kp in self.state["keypairs"].values():
            if kp["name"] == req.params["id"] and kp["user_id"] == user:
                return kp
        raise self.error(404, f"Keypair {req.params['id']} not found for user {user}")

    def _render_keypair(self, kp: Record, version: tuple[int, int], detail: bool) -> Record:
        out = {"name": kp["name"], "public_key": kp["public_key"],
               "fingerprint": kp["fingerprint"]}
        if version >= (2, 2):
            out["type"] = kp["type"]
        if detail:
            out.update({"user_id": kp["user_id"], "id": kp["_seq"],
                        "created_at": kp["created_at"], "updated_at": None, "deleted": False,
                        "deleted_at": None})
        return out

    def list_keypairs(self, req: Req) -> Resp:
        user = req.query.get("user_id", req.user_id)
        items = [k for k in self.state["keypairs"].values() if k["user_id"] == user]
        items.sort(key=lambda k: k["name"])
        return Resp(200, {"keypairs": [{"keypair": self._render_keypair(k, self.mv(req), False)}
                                       for k in items]})

    def show_keypair(self, req: Req) -> Resp:
        return Resp(200, {"keypair": self._render_keypair(self._keypair(req), self.mv(req),
                                                          True)})

    def create_keypair(self, req: Req) -> Resp:
        body = self.body_of(req, "keypair")
        version = self.mv(req)
        name = body.get("name")
        if not isinstance(name, str) or not _KEYPAIR_NAME.match(name):
            raise self.error(400, "Keypair data is invalid: Keypair name contains unsafe"
                             " characters")
        user = req.user_id
        mine = [k for k in self.state["keypairs"].values() if k["user_id"] == user]
        if any(k["name"] == name for k in mine):
            raise self.error(409, f"Key pair '{name}' already exists.")
        limit = self.state.quota("key_pairs")
        if limit >= 0 and len(mine) + 1 > limit:
            raise self.error(403, "Quota exceeded, too many key pairs.")
        kp_type = body.get("type", "ssh")
        public = body.get("public_key")
        private = None
        if public is None:
            if version >= (2, 92):
                raise self.error(400, "Invalid input for field/attribute keypair."
                                 " 'public_key' is a required property")
            blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + self.state.rng.randbytes(32)
            public = f"ssh-ed25519 {base64.b64encode(blob).decode()} Generated-by-Nova"
            private = ("-----BEGIN OPENSSH PRIVATE KEY-----\n"
                       + base64.b64encode(self.state.rng.randbytes(96)).decode()
                       + "\n-----END OPENSSH PRIVATE KEY-----\n")
        parts = str(public).split()
        try:
            if len(parts) < 2:
                raise ValueError
            raw = base64.b64decode(parts[1], validate=True)
        except (binascii.Error, ValueError):
            raise self.error(400, "Keypair data is invalid: failed to generate fingerprint"
                             ) from None
        fingerprint = ":".join(f"{b:02x}" for b in hashlib.md5(raw).digest())
        kp = {"name": name, "public_key": str(public), "fingerprint": fingerprint,
              "type": kp_type, "user_id": user, "created_at": iso_now(precise=True),
              "_seq": next(self.state.keypair_seq)}
        self.state["keypairs"][f"{user}/{name}"] = kp
        out = self._render_keypair(kp, version, False)
        out["user_id"] = user
        if private is not None:
            out["private_key"] = private
        return Resp(201 if version >= (2, 2) else 200, {"keypair": out})

    def delete_keypair(self, req: Req) -> Resp:
        kp = self._keypair(req)
        del self.state["keypairs"][f"{kp['user_id']}/{kp['name']}"]
        return Resp(204 if self.mv(req) >= (2, 2) else 202)

    # -- server groups -----------------------------------------------------------------------

    def _render_group(self, group: Record, version: tuple[int, int]) -> Record:
        out = {"id": group["id"], "name": group["name"], "members": list(group["members"]),
               "project_id": group["project_id"], "user_id": group["user_id"]}
        if version >= (2, 64):
            out["policy"] = group["policy"]
            out["rules"] = dict(group["rules"])
        else:
            out["policies"] = [group["policy"]]
            out["metadata"] = {}
        return out

    def _group(self, req: Req) -> Record:
        group = self.state["server_groups"].get(req.params["id"])
        if group is None or group["project_id"] != req.project_id:
            raise self.error(404, f"Instance group {req.params['id']} could not be found.")
        return group

    def list_groups(self, req: Req) -> Resp:
        items = [g for g in self.state["server_groups"].values()
                 if g["project_id"] == req.project_id]
        return Resp(200, {"server_groups": [self._render_group(g, self.mv(req)) for g in items]})

    def show_group(self, req: Req) -> Resp:
        return Resp(200, {"server_group": self._render_group(self._group(req), self.mv(req))})

    def create_group(self, req: Req) -> Resp:
        body = self.body_of(req, "server_group")
        version = self.mv(req)
        if version >= (2, 64):
            policy = body.get("policy")
            rules = body.get("rules", {})
        else:
            policies = body.get("policies")
            policy = policies[0] if isinstance(policies, list) and len(policies) == 1 else None
            rules = {}
        if policy not in ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity"):
            raise self.error(400, f"Invalid input for field/attribute policy. Value: {policy}.")
        if not isinstance(body.get("name"), str) or not body["name"]:
            raise self.error(400, "Invalid input for field/attribute name.")
        mine = [g for g in self.state["server_groups"].values()
                if g["project_id"] == req.project_id]
        limit = self.state.quota("server_groups")
        if limit >= 0 and len(mine) + 1 > limit:
            raise self.error(403, "Quota exceeded, too many server groups.")
        group = {"id": new_id(), "name": body["name"], "policy": policy,
                 "rules": rules or {}, "members": [], "project_id": req.project_id,
                 "user_id": req.user_id}
        self.state["server_groups"][group["id"]] = group
        return Resp(200, {"server_group": self._render_group(group, version)})

    def delete_group(self, req: Req) -> Resp:
        del self.state["server_groups"][self._group(req)["id"]]
        return Resp(204)

    def limits(self, req: Req) -> Resp:
        mine = [s for s in self.state["servers"].values() if s["tenant_id"] == req.project_id]
        q = self.state.quota
        return Resp(200, {"limits": {"rate": [], "absolute": {
            "maxTotalInstances": q("instances"), "maxTotalCores": q("cores"),
            "maxTotalRAMSize": q("ram"), "maxTotalKeypairs": q("key_pairs"),
            "maxServerMeta": q("metadata_items"), "maxServerGroups": q("server_groups"),
            "maxServerGroupMembers": q("server_group_members"),
            "totalInstancesUsed": len(mine),
            "totalCoresUsed": sum(s["_flavor"]["vcpus"] for s in mine),
            "totalRAMUsed": sum(s["_flavor"]["ram"] for s in mine),
            "totalServerGroupsUsed": sum(1 for g in self.state["server_groups"].values()
                                         if g["project_id"] == req.project_id)}}})

    # -- what a fresh cloud has --------------------------------------------------------------

    def seed_defaults(self) -> None:
        for ident, name, ram, vcpus, disk in DEFAULT_FLAVORS:
            self.make_flavor({"id": ident, "name": name, "ram": ram, "vcpus": vcpus,
                              "disk": disk})

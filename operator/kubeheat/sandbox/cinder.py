"""Cinder v3 (microversions up to 3.71): volumes with creating->available, attaching->in-use
and detaching->available, metadata, extend, volume types and the attachments API."""

from __future__ import annotations

import ast
import json
from typing import Any

from kubeheat.sandbox._http import ApiError, Req, Resp
from kubeheat.sandbox._service import Service
from kubeheat.sandbox.state import Record, iso_now, new_id

MAX_VERSION = (3, 71)
_ERROR_KEYS = {400: "badRequest", 403: "forbidden", 404: "itemNotFound", 409: "conflict",
               413: "overLimit", 429: "overLimit", 503: "serviceUnavailable"}
_DELETABLE = ("available", "error", "error_restoring", "error_extending", "error_managing")
DEFAULT_TYPE = {"id": "6a8c3a8e-3a1b-4c4d-9a8e-1c8c2f0b7d11", "name": "lvmdriver-1",
                "is_public": True, "description": None, "extra_specs": {},
                "os-volume-type-access:is_public": True, "qos_specs_id": None}


class Cinder(Service):
    name = "block-storage"
    prefix = "/volume"

    def register(self) -> None:
        r = self.router
        r.add("GET", "/", self.versions, public=True)
        r.add("GET", "/v3", self.versions_ok, public=True)
        p = "/v3/{project}"
        for method, path, fn in (
            ("GET", "/volumes", self.list_volumes),
            ("GET", "/volumes/detail", self.list_volumes_detail),
            ("POST", "/volumes", self.create_volume),
            ("GET", "/volumes/{id}", self.show_volume),
            ("PUT", "/volumes/{id}", self.update_volume),
            ("DELETE", "/volumes/{id}", self.delete_volume),
            ("POST", "/volumes/{id}/action", self.volume_action),
            ("GET", "/volumes/{id}/metadata", self.get_metadata),
            ("POST", "/volumes/{id}/metadata", self.merge_metadata),
            ("PUT", "/volumes/{id}/metadata", self.replace_metadata),
            ("GET", "/volumes/{id}/metadata/{key}", self.get_meta_item),
            ("PUT", "/volumes/{id}/metadata/{key}", self.put_meta_item),
            ("DELETE", "/volumes/{id}/metadata/{key}", self.delete_meta_item),
            ("GET", "/types", self.list_types),
            ("GET", "/types/{id}", self.show_type),
            ("GET", "/attachments", self.list_attachments),
            ("GET", "/attachments/detail", self.list_attachments),
            ("POST", "/attachments", self.create_attachment),
            ("GET", "/attachments/{id}", self.show_attachment),
            ("DELETE", "/attachments/{id}", self.delete_attachment),
            ("POST", "/attachments/{id}/action", self.attachment_action),
            ("GET", "/limits", self.limits),
        ):
            r.add(method, p + path, self._scoped(fn))

    def _scoped(self, fn: Any) -> Any:
        def wrapper(req: Req) -> Resp:
            if req.params.get("project") != req.project_id:
                raise self.error(403, "Policy doesn't allow this operation to be performed.")
            raw = req.headers.get("OpenStack-API-Version", "")
            version = (3, 0)
            if raw.lower().startswith("volume "):
                text = raw.split(None, 1)[1].strip()
                if text == "latest":
                    version = MAX_VERSION
                else:
                    try:
                        major, minor = (int(x) for x in text.split("."))
                    except ValueError:
                        raise self.error(400, f"Invalid API version request: {text}") from None
                    version = (major, minor)
                    if not (3, 0) <= version <= MAX_VERSION:
                        raise self.error(406, f"Version {text} is not supported by the API."
                                         " Minimum is 3.0 and maximum is 3.71.")
            req.microversion = version
            resp: Resp = fn(req)
            resp.headers["OpenStack-API-Version"] = f"volume {version[0]}.{version[1]}"
            resp.headers["Vary"] = "OpenStack-API-Version"
            return resp
        return wrapper

    def error(self, status: int, message: str, kind: str | None = None) -> ApiError:
        body: dict[str, Any] = {"code": status, "message": message}
        if status == 413:
            body["retryAfter"] = "0"
        return ApiError(status, {kind or _ERROR_KEYS.get(status, "computeFault"): body})

    # -- discovery ---------------------------------------------------------------------------

    def _versions(self) -> dict[str, Any]:
        return {"versions": [{
            "id": "v3.0", "status": "CURRENT", "version": "3.71", "min_version": "3.0",
            "updated": "2023-08-31T00:00:00Z",
            "links": [{"rel": "self", "href": f"{self.url}/v3/"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.volume+json;version=3"}]}]}

    def versions(self, req: Req) -> Resp:
        return Resp(300, self._versions())

    def versions_ok(self, req: Req) -> Resp:
        return Resp(200, self._versions())

    # -- volumes -----------------------------------------------------------------------------

    def volume(self, req: Req, ident: str | None = None) -> Record:
        ident = ident or req.params["id"]
        record = self.state["volumes"].get(ident)
        if record is None or record["os-vol-tenant-attr:tenant_id"] != req.project_id:
            raise self.error(404, f"Volume {ident} could not be found.")
        return record

    def render(self, volume: Record) -> Record:
        out = {k: v for k, v in volume.items() if not k.startswith("_")}
        out["links"] = [{"rel": "self", "href": f"{self.url}/v3/{volume['_project']}/volumes/"
                         f"{volume['id']}"}]
        out["attachments"] = [dict(a) for a in volume["_attachments"]]
        return out

    def _filtered(self, req: Req) -> list[Record]:
        items = [v for v in self.state["volumes"].values()
                 if v["os-vol-tenant-attr:tenant_id"] == req.project_id]
        q = req.query
        if "name" in q:
            items = [v for v in items if v["name"] == q["name"]]
        if "status" in q:
            items = [v for v in items if v["status"] == q["status"]]
        if "metadata" in q:
            try:
                wanted = json.loads(q["metadata"])
            except ValueError:
                try:
                    wanted = ast.literal_eval(q["metadata"])
                except (ValueError, SyntaxError):
                    raise self.error(400, "Invalid filter metadata") from None
            if not isinstance(wanted, dict):
                raise self.error(400, "Invalid filter metadata")
            items = [v for v in items
                     if all(v["metadata"].get(k) == val for k, val in wanted.items())]
        items.sort(key=lambda v: (v["created_at"], v["id"]), reverse=True)
        if q.get("marker"):
            ids = [v["id"] for v in items]
            if q["marker"] not in ids:
                raise self.error(404, f"Marker {q['marker']} could not be found.")
            items = items[ids.index(q["marker"]) + 1:]
        return items

    def _list(self, req: Req, detail: bool) -> Resp:
        items = self._filtered(req)
        body: dict[str, Any] = {}
        limit = req.query.get("limit")
        if limit and limit.isdigit() and len(items) > int(limit):
            items = items[: int(limit)]
            body["volumes_links"] = [{"rel": "next", "href": (
                f"{self.url}/v3/{req.project_id}/volumes{'/detail' if detail else ''}"
                f"?limit={limit}&marker={items[-1]['id']}")}]
        if detail:
            body["volumes"] = [self.render(v) for v in items]
        else:
            body["volumes"] = [{"id": v["id"], "name": v["name"],
                                "links": self.render(v)["links"]} for v in items]
        return Resp(200, body)

    def list_volumes(self, req: Req) -> Resp:
        return self._list(req, False)

    def list_volumes_detail(self, req: Req) -> Resp:
        return self._list(req, True)

    def show_volume(self, req: Req) -> Resp:
        return Resp(200, {"volume": self.render(self.volume(req))})

    def _check_quota(self, project_id: str, count: int, size: int) -> None:
        mine = [v for v in self.state["volumes"].values()
                if v["os-vol-tenant-attr:tenant_id"] == project_id]
        limit = self.state.quota("volumes")
        if count and limit >= 0 and len(mine) + count > limit:
            raise self.error(413, f"VolumeLimitExceeded: Maximum number of volumes allowed"
                             f" ({limit}) exceeded for quota 'volumes'.")
        gig = self.state.quota("gigabytes")
        used = sum(int(v["size"]) for v in mine)
        if gig >= 0 and used + size > gig:
            raise self.error(413, f"VolumeSizeExceedsAvailableQuota: Requested volume or"
                             f" snapshot exceeds allowed gigabytes quota. Requested {size}G,"
                             f" quota is {gig}G and {used}G has been consumed.")

    def make_volume(self, body: dict[str, Any], project_id: str, delay: float) -> Record:
        size = body.get("size")
        image_id = body.get("imageRef")
        image = None
        if image_id:
            image = self.state["images"].get(str(image_id))
            if image is None or image["status"] != "active":
                raise self.error(400, "Invalid image identifier or unable to access requested"
                                 " image.")
        source = None
        if body.get("source_volid"):
            source = self.state["volumes"].get(str(body["source_volid"]))
            if source is None:
                raise self.error(404, f"Volume {body['source_volid']} could not be found.")
            size = size or source["size"]
        if body.get("snapshot_id"):
            raise self.error(404, f"Snapshot {body['snapshot_id']} could not be found.")
        try:
            size = int(size)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise self.error(400, f"Invalid input received: 'size' parameter must be an integer"
                             f" and greater than 0. (size={size})") from None
        if size < 1:
            raise self.error(400, "Invalid input received: 'size' parameter must be an integer"
                             f" and greater than 0. (size={size})")
        type_name = body.get("volume_type") or DEFAULT_TYPE["name"]
        if type_name not in (DEFAULT_TYPE["name"], DEFAULT_TYPE["id"]):
            raise self.error(404, f"Volume type with name {type_name} could not be found.")
        metadata = body.get("metadata") or {}
        if not isinstance(metadata, dict) or not all(
            isinstance(v, str) for v in metadata.values()
        ):
            raise self.error(400, "Invalid input received: Metadata property value must be a"
                             " string.")
        self._check_quota(project_id, 1, size)
        now = iso_now(precise=True)
        volume: Record = {
            "id": new_id(), "name": body.get("name"), "description": body.get("description"),
            "status": "creating", "size": size,
            "availability_zone": body.get("availability_zone") or "nova",
            "created_at": now, "updated_at": None, "volume_type": DEFAULT_TYPE["name"],
            "volume_type_id": DEFAULT_TYPE["id"], "snapshot_id": None,
            "source_volid": body.get("source_volid"), "metadata": dict(metadata),
            "user_id": self.state.user["id"], "bootable": "true" if image else "false",
            "encrypted": False, "replication_status": None, "consistencygroup_id": None,
            "multiattach": bool(body.get("multiattach", False)), "migration_status": None,
            "group_id": None, "provider_id": None, "service_uuid": None,
            "shared_targets": False, "cluster_name": None, "consumes_quota": True,
            "os-vol-tenant-attr:tenant_id": project_id, "os-vol-host-attr:host": None,
            "os-vol-mig-status-attr:migstat": None, "os-vol-mig-status-attr:name_id": None,
            "_project": project_id, "_attachments": [],
        }
        if image is not None:
            volume["volume_image_metadata"] = {
                "image_id": image["id"], "image_name": image["name"],
                "disk_format": image["disk_format"],
                "container_format": image["container_format"],
                "checksum": image["checksum"], "min_disk": str(image["min_disk"]),
                "min_ram": str(image["min_ram"]), "size": str(image["size"])}
        self.state["volumes"][volume["id"]] = volume
        fail = self.state.chance(self.state.config.volume_error_rate)
        vid = volume["id"]

        def settle() -> None:
            vol = self.state["volumes"].get(vid)
            if vol is not None and vol["status"] == "creating":
                vol["status"] = "error" if fail else "available"
                vol["updated_at"] = iso_now(precise=True)
                if not fail:
                    vol["os-vol-host-attr:host"] = "sandbox@lvmdriver-1#lvmdriver-1"
        self.state.schedule(delay, settle)
        return volume

    def create_volume(self, req: Req) -> Resp:
        body = self.body_of(req, "volume")
        volume = self.make_volume(body, req.project_id, self.state.config.volume_delay)
        return Resp(202, {"volume": self.render(volume)})

    def update_volume(self, req: Req) -> Resp:
        volume = self.volume(req)
        body = self.body_of(req, "volume")
        extra = set(body) - {"name", "description", "metadata", "display_name",
                             "display_description"}
        if extra:
            raise self.error(400, f"Invalid input for field/attribute volume. Additional"
                             f" properties are not allowed ('{sorted(extra)[0]}' was"
                             " unexpected)")
        if "metadata" in body:
            volume["metadata"] = self._check_metadata(body["metadata"])
        for key in ("name", "description"):
            if key in body:
                volume[key] = body[key]
        volume["updated_at"] = iso_now(precise=True)
        return Resp(200, {"volume": self.render(volume)})

    def delete_volume(self, req: Req) -> Resp:
        volume = self.volume(req)
        if volume["status"] not in _DELETABLE or volume["_attachments"]:
            raise self.error(400, "Invalid volume: Volume status must be available or error or"
                             " error_restoring or error_extending or error_managing and must"
                             " not be migrating, attached, belong to a group, have snapshots,"
                             " awaiting a transfer, or be disassociated from snapshots after"
                             " volume transfer.")
        volume["status"] = "deleting"
        vid = volume["id"]

        def gone() -> None:
            self.state["volumes"].pop(vid, None)
        self.state.schedule(self.state.config.volume_delay, gone)
        return Resp(202)

    def vanish(self, kind: str, ident: str) -> bool:
        if kind != "volumes":
            return False
        volume = self.state["volumes"].pop(ident)
        for server_id in {a["server_id"] for a in volume["_attachments"]}:
            server = self.state["servers"].get(server_id)
            if server is not None:
                server["_attachments"] = [a for a in server["_attachments"]
                                          if a["volumeId"] != ident]
        return True

    def set_error(self, volume_id: str) -> None:
        volume = self.state["volumes"][volume_id]
        volume["status"] = "error"
        volume["updated_at"] = iso_now(precise=True)

    def volume_action(self, req: Req) -> Resp:  # noqa: C901
        volume = self.volume(req)
        body = req.json(self.error)
        if not isinstance(body, dict) or len(body) != 1:
            raise self.error(400, "Invalid request body")
        action, args = next(iter(body.items()))
        args = args or {}
        if action == "os-extend":
            try:
                new_size = int(args["new_size"])
            except (KeyError, TypeError, ValueError):
                raise self.error(400, "New size for extend must be specified as an"
                                 " integer.") from None
            if volume["status"] != "available":
                raise self.error(400, f"Invalid volume: Volume {volume['id']} status must be"
                                 f" available to extend, but current status is:"
                                 f" {volume['status']}.")
            if new_size <= volume["size"]:
                raise self.error(400, f"Invalid input received: New size for extend must be"
                                 f" greater than current size. (current: {volume['size']},"
                                 f" extended: {new_size}).")
            self._check_quota(req.project_id, 0, new_size - volume["size"])
            volume["status"] = "extending"
            vid = volume["id"]

            def extended() -> None:
                vol = self.state["volumes"].get(vid)
                if vol is not None and vol["status"] == "extending":
                    vol.update(status="available", size=new_size)
            self.state.schedule(self.state.config.volume_delay, extended)
        elif action == "os-reset_status":
            if "status" in args:
                volume["status"] = args["status"]
        elif action == "os-update_readonly_flag":
            if volume["status"] not in ("available", "in-use"):
                raise self.error(400, f"Invalid volume: Volume {volume['id']} status must be"
                                 f" available or in-use, but current status is:"
                                 f" {volume['status']}.")
            flag = args.get("readonly")
            if not isinstance(flag, bool):
                raise self.error(400, "Invalid value for 'readonly': it must be a boolean.")
            volume["_readonly"] = flag
        elif action == "os-retype":
            new_type = args.get("new_type")
            if new_type not in (DEFAULT_TYPE["name"], DEFAULT_TYPE["id"]):
                raise self.error(404, f"Volume type with name {new_type} could not be found.")
            if volume["status"] not in ("available", "in-use"):
                raise self.error(400, f"Invalid volume: Volume {volume['id']} status must be"
                                 f" available or in-use, but current status is:"
                                 f" {volume['status']}.")
            volume["volume_type"] = DEFAULT_TYPE["name"]
        elif action == "os-set_bootable":
            volume["bootable"] = "true" if str(args.get("bootable")).lower() in (
                "true", "1") else "false"
        else:
            raise self.error(400, f"There is no such action: {action}")
        volume["updated_at"] = iso_now(precise=True)
        return Resp(202)

    # -- attachments (called by Nova, and the attachments API) -------------------------------

    def attached(self, volume_id: str, server_id: str, device: str, immediate: bool) -> str:
        volume = self.state["volumes"][volume_id]
        attachment_id = new_id()
        volume["_attachments"].append({
            "id": volume_id, "attachment_id": attachment_id, "volume_id": volume_id,
            "server_id": server_id, "host_name": "sandbox-compute", "device": device,
            "attached_at": iso_now(precise=True)})
        self.state["attachments"][attachment_id] = {
            "id": attachment_id, "volume_id": volume_id, "instance": server_id,
            "status": "attached", "attach_mode": "rw", "attached_at": iso_now(precise=True),
            "detached_at": None, "connection_info": {"driver_volume_type": "iscsi"},
            "_project": volume["_project"]}
        if immediate:
            volume["status"] = "in-use"
            return attachment_id
        volume["status"] = "attaching"

        def done() -> None:
            vol = self.state["volumes"].get(volume_id)
            if vol is not None and vol["status"] == "attaching":
                vol["status"] = "in-use"
        self.state.schedule(self.state.config.volume_delay, done)
        return attachment_id

    def detached(self, volume_id: str, server_id: str, immediate: bool = False) -> None:
        volume = self.state["volumes"].get(volume_id)
        if volume is None:
            return
        for att in [a for a in volume["_attachments"] if a["server_id"] == server_id]:
            self.state["attachments"].pop(att["attachment_id"], None)
        volume["_attachments"] = [a for a in volume["_attachments"]
                                  if a["server_id"] != server_id]
        if volume["_attachments"]:
            return
        if immediate:
            volume["status"] = "available"
            return
        volume["status"] = "detaching"

        def done() -> None:
            vol = self.state["volumes"].get(volume_id)
            if vol is not None and vol["status"] == "detaching":
                vol["status"] = "available"
        self.state.schedule(self.state.config.volume_delay, done)

    def _attachment(self, req: Req) -> Record:
        att = self.state["attachments"].get(req.params["id"])
        if att is None or att["_project"] != req.project_id:
            raise self.error(404, f"VolumeAttachment {req.params['id']} could not be found.")
        return att

    @staticmethod
    def _render_attachment(att: Record) -> Record:
        return {k: v for k, v in att.items() if not k.startswith("_")}

    def list_attachments(self, req: Req) -> Resp:
        items = [a for a in self.state["attachments"].values() if a["_project"] == req.project_id]
        if "volume_id" in req.query:
            items = [a for a in items if a["volume_id"] == req.query["volume_id"]]
        if "instance_id" in req.query:
            items = [a for a in items if a["instance"] == req.query["instance_id"]]
        return Resp(200, {"attachments": [self._render_attachment(a) for a in items]})

    def show_attachment(self, req: Req) -> Resp:
        return Resp(200, {"attachment": self._render_attachment(self._attachment(req))})

    def create_attachment(self, req: Req) -> Resp:
        if req.microversion < (3, 27):
            raise self.error(404, "The resource could not be found.")
        body = self.body_of(req, "attachment")
        volume = self.volume(req, str(body.get("volume_uuid", "")))
        if volume["status"] not in ("available", "reserved") and not volume["multiattach"]:
            raise self.error(400, f"Invalid volume: Volume {volume['id']} status must be"
                             f" available or downloading to reserve, but the current status is"
                             f" {volume['status']}.")
        server_id = body.get("instance_uuid")
        attachment_id = new_id()
        att = {"id": attachment_id, "volume_id": volume["id"], "instance": server_id,
               "status": "reserved", "attach_mode": body.get("mode", "rw"),
               "attached_at": None, "detached_at": None, "connection_info": {},
               "_project": req.project_id}
        if body.get("connector"):
            att["status"] = "attaching"
            att["connection_info"] = {"driver_volume_type": "iscsi"}
        self.state["attachments"][attachment_id] = att
        volume["status"] = "reserved" if att["status"] == "reserved" else "attaching"
        volume["_attachments"].append({
            "id": volume["id"], "attachment_id": attachment_id, "volume_id": volume["id"],
            "server_id": server_id, "host_name": None, "device": None, "attached_at": None})
        return Resp(200, {"attachment": self._render_attachment(att)})

    def attachment_action(self, req: Req) -> Resp:
        att = self._attachment(req)
        body = req.json(self.error)
        if not isinstance(body, dict) or "os-complete" not in body:
            raise self.error(400, "Invalid request body")
        att["status"] = "attached"
        att["attached_at"] = iso_now(precise=True)
        volume = self.state["volumes"].get(att["volume_id"])
        if volume is not None:
            volume["status"] = "in-use"
            for entry in volume["_attachments"]:
                if entry["attachment_id"] == att["id"]:
                    entry["attached_at"] = att["attached_at"]
        return Resp(204)

    def delete_attachment(self, req: Req) -> Resp:
        att = self._attachment(req)
        del self.state["attachments"][att["id"]]
        volume = self.state["volumes"].get(att["volume_id"])
        if volume is not None:
            volume["_attachments"] = [a for a in volume["_attachments"]
                                      if a["attachment_id"] != att["id"]]
            if not volume["_attachments"]:
                volume["status"] = "available"
        return Resp(200, {"attachments": []})

    # -- metadata ----------------------------------------------------------------------------

    def _check_metadata(self, metadata: Any) -> dict[str, str]:
        if not isinstance(metadata, dict):
            raise self.error(400, "Malformed request body: metadata must be an object")
        for key, value in metadata.items():
            if not key or len(key) > 255:
                raise self.error(400, "Invalid input received: Metadata property key blank.")
            if not isinstance(value, str) or len(value) > 255:
                raise self.error(400, "Invalid input received: Metadata property value must be"
                                 " a string of at most 255 characters.")
        return dict(metadata)

    def get_metadata(self, req: Req) -> Resp:
        return Resp(200, {"metadata": dict(self.volume(req)["metadata"])})

    def merge_metadata(self, req: Req) -> Resp:
        volume = self.volume(req)
        body = req.json(self.error)
        volume["metadata"] = self._check_metadata(
            {**volume["metadata"], **(body.get("metadata") or {})})
        return Resp(200, {"metadata": dict(volume["metadata"])})

    def replace_metadata(self, req: Req) -> Resp:
        volume = self.volume(req)
        body = req.json(self.error)
        volume["metadata"] = self._check_metadata(body.get("metadata"))
        return Resp(200, {"metadata": dict(volume["metadata"])})

    def get_meta_item(self, req: Req) -> Resp:
        volume = self.volume(req)
        if req.params["key"] not in volume["metadata"]:
            raise self.error(404, f"Volume {volume['id']} has no metadata with key"
                             f" {req.params['key']}.")
        return Resp(200, {"meta": {req.params["key"]: volume["metadata"][req.params["key"]]}})

    def put_meta_item(self, req: Req) -> Resp:
        volume = self.volume(req)
        body = req.json(self.error)
        meta = body.get("meta") if isinstance(body, dict) else None
        if not isinstance(meta, dict) or list(meta) != [req.params["key"]]:
            raise self.error(400, "Request body and URI mismatch")
        volume["metadata"] = self._check_metadata({**volume["metadata"], **meta})
        return Resp(200, {"meta": dict(meta)})

    def delete_meta_item(self, req: Req) -> Resp:
        volume = self.volume(req)
        if req.params["key"] not in volume["metadata"]:
            raise self.error(404, f"Volume {volume['id']} has no metadata with key"
                             f" {req.params['key']}.")
        del volume["metadata"][req.params["key"]]
        return Resp(200)

    # -- types and limits --------------------------------------------------------------------

    def list_types(self, req: Req) -> Resp:
        return Resp(200, {"volume_types": [dict(DEFAULT_TYPE)]})

    def show_type(self, req: Req) -> Resp:
        if req.params["id"] not in (DEFAULT_TYPE["id"], DEFAULT_TYPE["name"]):
            raise self.error(404, f"Volume type {req.params['id']} could not be found.")
        return Resp(200, {"volume_type": dict(DEFAULT_TYPE)})

    def limits(self, req: Req) -> Resp:
        mine = [v for v in self.state["volumes"].values()
                if v["os-vol-tenant-attr:tenant_id"] == req.project_id]
        return Resp(200, {"limits": {"rate": [], "absolute": {
            "maxTotalVolumes": self.state.quota("volumes"),
            "maxTotalVolumeGigabytes": self.state.quota("gigabytes"),
            "totalVolumesUsed": len(mine),
            "totalGigabytesUsed": sum(int(v["size"]) for v in mine)}}})

"""Glance v2: images (queued -> active by upload, or importing -> active by the web-download
and glance-direct import methods), JSON-patch updates, tags and list filters."""

from __future__ import annotations

import hashlib
import html
from typing import Any
from urllib.parse import urlencode, urlparse

from kubeheat.sandbox._http import ApiError, Req, Resp
from kubeheat.sandbox._service import Service
from kubeheat.sandbox.state import Record, iso_now, new_id

DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso",
                "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
IMPORT_METHODS = ("glance-direct", "web-download", "copy-image")
READ_ONLY = ("status", "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value",
             "created_at", "updated_at", "file", "self", "schema", "direct_url", "owner",
             "locations")
_BASE_KEYS = {"id", "name", "status", "visibility", "protected", "os_hidden", "checksum",
              "os_hash_algo", "os_hash_value", "size", "virtual_size", "disk_format",
              "container_format", "min_disk", "min_ram", "owner", "created_at", "updated_at",
              "tags", "self", "file", "schema"}
_TITLES = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
           413: "Request Entity Too Large", 415: "Unsupported Media Type",
           429: "Too Many Requests", 500: "Internal Server Error",
           503: "Service Unavailable"}
CIRROS_ID = "9a5e7f6c-1c6f-4a51-9d7e-0b6c1f3e2a10"


class Glance(Service):
    name = "image"
    prefix = "/image"

    def register(self) -> None:
        r = self.router
        r.add("GET", "/", self.versions, public=True)
        r.add("GET", "/versions", self.versions_ok, public=True)
        for method, path, fn in (
            ("GET", "/v2/images", self.list_images),
            ("POST", "/v2/images", self.create_image),
            ("GET", "/v2/images/{id}", self.show_image),
            ("PATCH", "/v2/images/{id}", self.patch_image),
            ("DELETE", "/v2/images/{id}", self.delete_image),
            ("PUT", "/v2/images/{id}/file", self.upload),
            ("GET", "/v2/images/{id}/file", self.download),
            ("PUT", "/v2/images/{id}/stage", self.stage),
            ("POST", "/v2/images/{id}/import", self.import_image),
            ("PUT", "/v2/images/{id}/tags/{tag}", self.add_tag),
            ("POST", "/v2/images/{id}/actions/deactivate", self.deactivate),
            ("POST", "/v2/images/{id}/actions/reactivate", self.reactivate),
            ("GET", "/v2/images/{id}/members", self.list_members),
            ("POST", "/v2/images/{id}/members", self.add_member),
            ("DELETE", "/v2/images/{id}/members/{member}", self.remove_member),
            ("DELETE", "/v2/images/{id}/tags/{tag}", self.remove_tag),
            ("GET", "/v2/info/import", self.import_info),
            ("GET", "/v2/info/stores", self.stores_info),
        ):
            r.add(method, path, fn)

    def error(self, status: int, message: str, kind: str | None = None) -> ApiError:
        title = f"{status} {_TITLES.get(status, 'Error')}"
        body = (f"<html>\n <head>\n  <title>{title}</title>\n </head>\n <body>\n"
                f"  <h1>{title}</h1>\n  {html.escape(message)}<br /><br />\n\n\n\n"
                " </body>\n</html>")
        return ApiError(status, body, content_type="text/html")

    def _versions(self) -> dict[str, Any]:
        return {"versions": [
            {"id": f"v2.{minor}", "status": "CURRENT" if minor == 16 else "SUPPORTED",
             "links": [{"rel": "self", "href": f"{self.url}/v2/"}]}
            for minor in range(16, 8, -1)]}

    def versions(self, req: Req) -> Resp:
        return Resp(300, self._versions())

    def versions_ok(self, req: Req) -> Resp:
        return Resp(200, self._versions())

    # -- images ------------------------------------------------------------------------------

    def _visible(self, image: Record, project_id: str) -> bool:
        return image["visibility"] in ("public", "community") or image["owner"] == project_id

    def image(self, req: Req) -> Record:
        image = self.state["images"].get(req.params["id"])
        if image is None or not self._visible(image, req.project_id):
            raise self.error(404, f"No image found with ID {req.params['id']}")
        return image

    def render(self, image: Record) -> Record:
        out = {k: v for k, v in image.items() if not k.startswith("_")}
        out["self"] = f"/v2/images/{image['id']}"
        out["file"] = f"/v2/images/{image['id']}/file"
        out["schema"] = "/v2/schemas/image"
        return out

    def make_image(self, body: dict[str, Any], owner: str) -> Record:
        now = iso_now()
        image: Record = {
            "id": body.get("id") or new_id(), "name": body.get("name"), "status": "queued",
            "visibility": body.get("visibility", "shared"),
            "protected": bool(body.get("protected", False)),
            "os_hidden": bool(body.get("os_hidden", False)), "checksum": None,
            "os_hash_algo": None, "os_hash_value": None, "size": None, "virtual_size": None,
            "disk_format": body.get("disk_format"),
            "container_format": body.get("container_format"),
            "min_disk": int(body.get("min_disk", 0)), "min_ram": int(body.get("min_ram", 0)),
            "owner": owner, "created_at": now, "updated_at": now,
            "tags": sorted(set(body.get("tags", []))),
        }
        for key, value in body.items():
            if key not in _BASE_KEYS:
                image[key] = value
        self.state["images"][image["id"]] = image
        return image

    def _validate(self, body: dict[str, Any]) -> None:
        for key in READ_ONLY:
            if key in body:
                raise self.error(403, f"Attribute '{key}' is read-only.")
        if body.get("visibility", "shared") not in ("public", "private", "shared",
                                                    "community"):
            raise self.error(400, f"Invalid value '{body['visibility']}' for parameter"
                             " 'visibility'")
        if body.get("disk_format") is not None and body["disk_format"] not in DISK_FORMATS:
            raise self.error(400, f"Provided object does not match schema 'image':"
                             f" '{body['disk_format']}' is not one of {list(DISK_FORMATS)}")
        if body.get("container_format") is not None and (
            body["container_format"] not in CONTAINER_FORMATS
        ):
            raise self.error(400, f"Provided object does not match schema 'image':"
                             f" '{body['container_format']}' is not one of"
                             f" {list(CONTAINER_FORMATS)}")
        if "tags" in body and (not isinstance(body["tags"], list) or not all(
            isinstance(t, str) and 0 < len(t) <= 255 for t in body["tags"]
        )):
            raise self.error(400, "Provided object does not match schema 'image': tags")

    def create_image(self, req: Req) -> Resp:
        body = req.json(self.error)
        if not isinstance(body, dict):
            raise self.error(400, "Body expected in request.")
        self._validate(body)
        if body.get("id") and body["id"] in self.state["images"]:
            raise self.error(409, f"Image with identifier {body['id']} already exists!")
        limit = self.state.quota("image_count_total")
        mine = self.state.count("images", lambda i: i["owner"] == req.project_id)
        if limit >= 0 and mine + 1 > limit:
            raise self.error(413, f"Maximum number of images exceeded: Resource"
                             f" image_count_total is over limit of {limit} due to current"
                             f" usage {mine} and delta 1")
        image = self.make_image(body, req.project_id)
        return Resp(201, self.render(image),
                    {"Location": f"{self.url}/v2/images/{image['id']}"})

    def show_image(self, req: Req) -> Resp:
        return Resp(200, self.render(self.image(req)))

    def list_images(self, req: Req) -> Resp:
        q = req.query
        items = [i for i in self.state["images"].values() if self._visible(i, req.project_id)]
        if "visibility" in q and q["visibility"] != "all":
            items = [i for i in items if i["visibility"] == q["visibility"]]
        elif "visibility" not in q:
            items = [i for i in items if i["visibility"] != "community"]
        if q.get("os_hidden", "false").lower() != "true":
            items = [i for i in items if not i["os_hidden"]]
        for key in q:
            if key in ("visibility", "limit", "marker", "sort_key", "sort_dir", "sort",
                       "os_hidden", "member_status", "tag", "size_min", "size_max"):
                continue
            values = q.getall(key)
            wanted = [v[3:] if v.startswith("in:") else v for v in values]
            wanted = [w for v in wanted for w in v.split(",")] if any(
                v.startswith("in:") for v in values) else wanted
            items = [i for i in items if str(i.get(key)) in wanted]
        for tag in q.getall("tag", []):
            items = [i for i in items if tag in i["tags"]]
        reverse = q.get("sort_dir", "desc") == "desc"
        key = q.get("sort_key", "created_at")
        items.sort(key=lambda i: (str(i.get(key) or ""), i["id"]), reverse=reverse)
        if q.get("marker"):
            ids = [i["id"] for i in items]
            if q["marker"] not in ids:
                raise self.error(400, f"marker {q['marker']} not found")
            items = items[ids.index(q["marker"]) + 1:]
        body: dict[str, Any] = {"first": "/v2/images", "schema": "/v2/schemas/images"}
        limit = q.get("limit")
        if limit and limit.isdigit() and len(items) > int(limit):
            items = items[: int(limit)]
            params = [(k, v) for k, v in q.items() if k != "marker"]
            params.append(("marker", items[-1]["id"]))
            body["next"] = "/v2/images?" + urlencode(params)
        body["images"] = [self.render(i) for i in items]
        return Resp(200, body)

    def patch_image(self, req: Req) -> Resp:
        image = self.image(req)
        ctype = req.headers.get("Content-Type", "")
        if not ctype.startswith("application/openstack-images-v2.1-json-patch"):
            raise self.error(415, f"Unsupported Content-Type {ctype}")
        ops = req.json(self.error)
        if not isinstance(ops, list):
            raise self.error(400, "Request body must be a JSON array of operation objects.")
        if image["owner"] != req.project_id:
            raise self.error(403, "You are not permitted to modify this image.")
        updated = dict(image)
        for op in ops:
            if not isinstance(op, dict) or op.get("op") not in ("add", "replace", "remove"):
                raise self.error(400, "Operation objects must contain exactly one member named"
                                 ' "add", "remove", or "replace".')
            path = str(op.get("path", "")).lstrip("/")
            if not path or "/" in path:
                raise self.error(400, f"Invalid JSON pointer for this resource: '/{path}'")
            if path in READ_ONLY or path == "id":
                raise self.error(403, f"Attribute '{path}' is read-only.")
            if op["op"] == "remove":
                if path in _BASE_KEYS:
                    raise self.error(403, f"Attribute '{path}' is reserved.")
                if path not in updated:
                    raise self.error(409, f"Property {path} does not exist.")
                del updated[path]
            else:
                if op["op"] == "replace" and path not in updated:
                    raise self.error(409, f"Property {path} does not exist.")
                self._validate({path: op.get("value")})
                updated[path] = op.get("value")
        image.clear()
        image.update(updated)
        image["updated_at"] = iso_now()
        return Resp(200, self.render(image))

    def deactivate(self, req: Req) -> Resp:
        image = self.image(req)
        if image["status"] not in ("active", "deactivated"):
            raise self.error(403, f"Not allowed to deactivate image in status "
                             f"'{image['status']}'")
        image.update(status="deactivated", updated_at=iso_now())
        return Resp(204)

    def reactivate(self, req: Req) -> Resp:
        image = self.image(req)
        if image["status"] not in ("active", "deactivated"):
            raise self.error(403, f"Not allowed to reactivate image in status "
                             f"'{image['status']}'")
        image.update(status="active", updated_at=iso_now())
        return Resp(204)

    def _member(self, image: Record, member: str) -> Record:
        return {"image_id": image["id"], "member_id": member, "status": "pending",
                "created_at": image["created_at"], "updated_at": image["updated_at"],
                "schema": "/v2/schemas/member"}

    def list_members(self, req: Req) -> Resp:
        image = self.image(req)
        return Resp(200, {"members": [self._member(image, m)
                                      for m in image.get("_members", [])],
                          "schema": "/v2/schemas/members"})

    def add_member(self, req: Req) -> Resp:
        image = self.image(req)
        body = req.json(self.error)
        member = body.get("member") if isinstance(body, dict) else None
        if not isinstance(member, str) or not member:
            raise self.error(400, "Provided object does not match schema 'member'")
        if image["visibility"] != "shared":
            raise self.error(403, f"Image {image['id']} is not a shared image.")
        members = image.setdefault("_members", [])
        if member in members:
            raise self.error(409, f"Member {member} already associated with the image "
                             f"{image['id']}")
        members.append(member)
        return Resp(200, self._member(image, member))

    def remove_member(self, req: Req) -> Resp:
        image = self.image(req)
        members = image.get("_members", [])
        if req.params["member"] not in members:
            raise self.error(404, f"{req.params['member']} not found in the member list of "
                             f"the image {image['id']}.")
        members.remove(req.params["member"])
        return Resp(204)

    def delete_image(self, req: Req) -> Resp:
        image = self.image(req)
        if image["owner"] != req.project_id:
            raise self.error(403, "You are not permitted to delete this image.")
        if image["protected"]:
            raise self.error(403, f"Image {image['id']} is protected and cannot be deleted.")
        del self.state["images"][image["id"]]
        return Resp(204)

    def vanish(self, kind: str, ident: str) -> bool:
        if kind != "images":
            return False
        del self.state["images"][ident]
        return True

    def _activate(self, image: Record, data: bytes) -> None:
        image.update(status="active", size=len(data), virtual_size=None,
                     checksum=hashlib.md5(data).hexdigest(), os_hash_algo="sha512",
                     os_hash_value=hashlib.sha512(data).hexdigest(), updated_at=iso_now())
        image["_data"] = data

    def upload(self, req: Req) -> Resp:
        image = self.image(req)
        if image["status"] != "queued":
            raise self.error(409, f"Image status transition from {image['status']} to saving"
                             " is not allowed")
        if not image.get("disk_format") or not image.get("container_format"):
            raise self.error(400, "Properties disk_format, container_format must be set prior"
                             " to saving data.")
        self._activate(image, req.body)
        return Resp(204)

    def download(self, req: Req) -> Resp:
        image = self.image(req)
        if image["status"] != "active":
            return Resp(204)
        return Resp(200, image.get("_data", b""), content_type="application/octet-stream")

    def stage(self, req: Req) -> Resp:
        image = self.image(req)
        if image["status"] != "queued":
            raise self.error(409, f"Image status transition from {image['status']} to"
                             " uploading is not allowed")
        image["status"] = "uploading"
        image["_staged"] = req.body
        return Resp(204)

    def import_image(self, req: Req) -> Resp:
        image = self.image(req)
        body = req.json(self.error)
        method = (body.get("method") or {}) if isinstance(body, dict) else {}
        name = method.get("name")
        if name not in IMPORT_METHODS:
            raise self.error(400, f"Import method {name} is not valid.")
        if not image.get("disk_format") or not image.get("container_format"):
            raise self.error(400, "'disk_format' needs to be set before import")
        if name == "web-download":
            if image["status"] != "queued":
                raise self.error(409, f"Image status transition from {image['status']} to"
                                 " importing is not allowed")
            uri = str(method.get("uri", ""))
            if urlparse(uri).scheme not in ("http", "https") or not urlparse(uri).netloc:
                raise self.error(400, f"URI for web-download does not pass filtering: {uri}")
            data = f"web-download:{uri}".encode()
            image["os_glance_import_task"] = new_id()
        elif name == "glance-direct":
            if image["status"] != "uploading":
                raise self.error(409, f"Image {image['id']} is not in uploading state.")
            data = image.pop("_staged", b"")
        else:
            raise self.error(409, f"Image {image['id']} is not active.")
        image["status"] = "importing"
        image_id = image["id"]

        def done() -> None:
            img = self.state["images"].get(image_id)
            if img is not None and img["status"] == "importing":
                self._activate(img, data)
                img.pop("os_glance_import_task", None)
        self.state.schedule(self.state.config.image_delay, done)
        return Resp(202)

    def add_tag(self, req: Req) -> Resp:
        image = self.image(req)
        self._validate({"tags": [req.params["tag"]]})
        if req.params["tag"] not in image["tags"]:
            image["tags"] = sorted([*image["tags"], req.params["tag"]])
        return Resp(204)

    def remove_tag(self, req: Req) -> Resp:
        image = self.image(req)
        if req.params["tag"] not in image["tags"]:
            raise self.error(404, f"Tag {req.params['tag']} not found")
        image["tags"] = [t for t in image["tags"] if t != req.params["tag"]]
        return Resp(204)

    def import_info(self, req: Req) -> Resp:
        return Resp(200, {"import-methods": {
            "description": "Import methods available.", "type": "array",
            "value": list(IMPORT_METHODS)}})

    def stores_info(self, req: Req) -> Resp:
        return Resp(200, {"stores": [{"id": "file", "default": True,
                                      "description": "sandbox memory store"}]})

    def seed_defaults(self) -> None:
        image = self.make_image({"id": CIRROS_ID, "name": "cirros-0.6.2-x86_64-disk",
                                 "visibility": "public", "disk_format": "qcow2",
                                 "container_format": "bare", "hw_rng_model": "virtio"},
                                "admin-project")
        self._activate(image, b"cirros")
        image["_data"] = b""

"""Swift v1: the account, containers with metadata headers, and plain objects."""

from __future__ import annotations

import hashlib
import time
from email.utils import formatdate
from typing import Any

from kubeheat.sandbox._http import ApiError, Req, Resp
from kubeheat.sandbox._service import Service
from kubeheat.sandbox.state import Record

_TEXT = {400: ("Bad Request", "The server could not comply with the request since it is either"
               " malformed or otherwise incorrect."),
         401: ("Unauthorized", "This server could not verify that you are authorized to access"
               " the document you requested."),
         403: ("Forbidden", "Access was denied to this resource."),
         404: ("Not Found", "The resource could not be found."),
         409: ("Conflict", "There was a conflict when trying to complete your request."),
         413: ("Request Entity Too Large", "The body of your request was too large for this"
               " server."),
         429: ("Too Many Requests", "Too many requests."),
         500: ("Internal Error", "An unexpected error occurred."),
         503: ("Service Unavailable", "The server is currently unavailable.")}
_META_PREFIXES = ("x-container-meta-",)
_SYSTEM_HEADERS = ("x-container-read", "x-container-write", "x-versions-location",
                   "x-history-location", "x-container-sync-to", "x-container-sync-key")


def _http_date(ts: float) -> str:
    return formatdate(ts, usegmt=True)


class Swift(Service):
    name = "object-store"
    prefix = "/object-store"

    def register(self) -> None:
        r = self.router
        r.add("GET", "/info", self.info, public=True)
        r.add("GET", "/v1/{account}", self.account_get)
        r.add("POST", "/v1/{account}", self.account_post)
        r.add("PUT", "/v1/{account}/{container}", self.container_put)
        r.add("GET", "/v1/{account}/{container}", self.container_get)
        r.add("POST", "/v1/{account}/{container}", self.container_post)
        r.add("DELETE", "/v1/{account}/{container}", self.container_delete)
        r.add("PUT", "/v1/{account}/{container}/{obj:path}", self.object_put)
        r.add("GET", "/v1/{account}/{container}/{obj:path}", self.object_get)
        r.add("DELETE", "/v1/{account}/{container}/{obj:path}", self.object_delete)

    def error(self, status: int, message: str, kind: str | None = None) -> ApiError:
        title, text = _TEXT.get(status, ("Error", message))
        return ApiError(status, f"<html><h1>{title}</h1><p>{text}</p></html>",
                        content_type="text/html")

    def info(self, req: Req) -> Resp:
        return Resp(200, {"swift": {"version": "2.33.0", "max_container_name_length": 256,
                                    "container_listing_limit": 10000}})

    def _account(self, req: Req) -> str:
        if req.params["account"] != f"AUTH_{req.project_id}":
            raise self.error(403, "")
        return req.project_id

    def _key(self, req: Req) -> str:
        return f"{self._account(req)}/{req.params['container']}"

    def _container(self, req: Req) -> Record:
        container = self.state["containers"].get(self._key(req))
        if container is None:
            raise self.error(404, "")
        return container

    def _apply_headers(self, container: Record, req: Req) -> None:
        for name, value in req.headers.items():
            low = name.lower()
            if low.startswith("x-remove-container-meta-"):
                container["meta"].pop(low[len("x-remove-container-meta-"):], None)
            elif low.startswith(_META_PREFIXES):
                key = low[len("x-container-meta-"):]
                if value:
                    container["meta"][key] = value
                else:
                    container["meta"].pop(key, None)
            elif low in _SYSTEM_HEADERS:
                if value:
                    container["sys"][low] = value
                else:
                    container["sys"].pop(low, None)
            elif low.startswith("x-remove-") and low[len("x-remove-"):] in _SYSTEM_HEADERS:
                container["sys"].pop(low[len("x-remove-"):], None)
        container["put_timestamp"] = time.time()

    def _container_headers(self, container: Record) -> dict[str, str]:
        headers = {
            "X-Container-Object-Count": str(len(container["objects"])),
            "X-Container-Bytes-Used": str(sum(len(o["data"])
                                              for o in container["objects"].values())),
            "X-Timestamp": f"{container['created']:.5f}",
            "X-Put-Timestamp": f"{container['put_timestamp']:.5f}",
            "X-Storage-Policy": "Policy-0",
            "Last-Modified": _http_date(container["put_timestamp"]),
            "Accept-Ranges": "bytes",
        }
        for key, value in container["meta"].items():
            headers[f"X-Container-Meta-{key.title()}"] = value
        for key, value in container["sys"].items():
            headers["-".join(p.title() for p in key.split("-"))] = value
        return headers

    # -- account -----------------------------------------------------------------------------

    def account_get(self, req: Req) -> Resp:
        project = self._account(req)
        items = sorted((c for c in self.state["containers"].values()
                        if c["project"] == project), key=lambda c: c["name"])
        q = req.query
        if q.get("prefix"):
            items = [c for c in items if c["name"].startswith(q["prefix"])]
        if q.get("marker"):
            items = [c for c in items if c["name"] > q["marker"]]
        if q.get("end_marker"):
            items = [c for c in items if c["name"] < q["end_marker"]]
        if q.get("limit", "").isdigit():
            items = items[: int(q["limit"])]
        headers = {
            "X-Account-Container-Count": str(len(items)),
            "X-Account-Object-Count": str(sum(len(c["objects"]) for c in items)),
            "X-Account-Bytes-Used": str(sum(len(o["data"]) for c in items
                                            for o in c["objects"].values())),
            "X-Timestamp": "1700000000.00000",
        }
        if req.method == "HEAD":
            return Resp(204, None, headers)
        listing: list[dict[str, Any]] = [
            {"name": c["name"], "count": len(c["objects"]),
             "bytes": sum(len(o["data"]) for o in c["objects"].values()),
             "last_modified": time.strftime("%Y-%m-%dT%H:%M:%S.000000",
                                            time.gmtime(c["put_timestamp"]))}
            for c in items]
        if q.get("format") == "json" or "json" in req.headers.get("Accept", ""):
            return Resp(200, listing, headers, "application/json; charset=utf-8")
        if not listing:
            return Resp(204, None, headers)
        text = "".join(c["name"] + "\n" for c in listing)
        return Resp(200, text, headers, "text/plain; charset=utf-8")

    def account_post(self, req: Req) -> Resp:
        self._account(req)
        return Resp(204)

    # -- containers --------------------------------------------------------------------------

    def container_put(self, req: Req) -> Resp:
        project = self._account(req)
        name = req.params["container"]
        if len(name) > 256:
            raise self.error(400, "")
        key = self._key(req)
        container = self.state["containers"].get(key)
        status = 202
        if container is None:
            limit = self.state.quota("containers")
            if limit >= 0 and self.state.count("containers",
                                               lambda c: c["project"] == project) + 1 > limit:
                raise self.error(413, "")
            now = time.time()
            container = {"name": name, "project": project, "meta": {}, "sys": {},
                         "objects": {}, "created": now, "put_timestamp": now}
            self.state["containers"][key] = container
            status = 201
        self._apply_headers(container, req)
        return Resp(status, None, {"Content-Type": "text/html; charset=UTF-8"})

    def container_get(self, req: Req) -> Resp:
        container = self._container(req)
        headers = self._container_headers(container)
        if req.method == "HEAD":
            return Resp(204, None, headers)
        objects = sorted(container["objects"].values(), key=lambda o: o["name"])
        q = req.query
        if q.get("prefix"):
            objects = [o for o in objects if o["name"].startswith(q["prefix"])]
        if q.get("marker"):
            objects = [o for o in objects if o["name"] > q["marker"]]
        if q.get("limit", "").isdigit():
            objects = objects[: int(q["limit"])]
        listing = [{"name": o["name"], "bytes": len(o["data"]), "hash": o["etag"],
                    "content_type": o["content_type"],
                    "last_modified": time.strftime("%Y-%m-%dT%H:%M:%S.000000",
                                                   time.gmtime(o["modified"]))}
                   for o in objects]
        if q.get("format") == "json" or "json" in req.headers.get("Accept", ""):
            return Resp(200, listing, headers, "application/json; charset=utf-8")
        if not listing:
            return Resp(204, None, headers)
        return Resp(200, "".join(o["name"] + "\n" for o in listing), headers,
                    "text/plain; charset=utf-8")

    def container_post(self, req: Req) -> Resp:
        container = self._container(req)
        self._apply_headers(container, req)
        return Resp(204)

    def container_delete(self, req: Req) -> Resp:
        container = self._container(req)
        if container["objects"]:
            raise self.error(409, "")
        del self.state["containers"][self._key(req)]
        return Resp(204)

    def vanish(self, kind: str, ident: str) -> bool:
        return False

    # -- objects -----------------------------------------------------------------------------

    def object_put(self, req: Req) -> Resp:
        container = self._container(req)
        etag = hashlib.md5(req.body).hexdigest()
        container["objects"][req.params["obj"]] = {
            "name": req.params["obj"], "data": req.body, "etag": etag,
            "content_type": req.headers.get("Content-Type", "application/octet-stream"),
            "modified": time.time()}
        return Resp(201, None, {"Etag": etag})

    def object_get(self, req: Req) -> Resp:
        container = self._container(req)
        obj = container["objects"].get(req.params["obj"])
        if obj is None:
            raise self.error(404, "")
        headers = {"Etag": obj["etag"], "Last-Modified": _http_date(obj["modified"]),
                   "X-Timestamp": f"{obj['modified']:.5f}"}
        if req.method == "HEAD":
            return Resp(200, None, headers, obj["content_type"])
        return Resp(200, obj["data"], headers, obj["content_type"])

    def object_delete(self, req: Req) -> Resp:
        container = self._container(req)
        if container["objects"].pop(req.params["obj"], None) is None:
            raise self.error(404, "")
        return Resp(204)

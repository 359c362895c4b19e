"""Keystone v3: password and token authentication, scoping, and a catalog of the sandbox."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from kubeheat.sandbox._http import ApiError, Req, Resp
from kubeheat.sandbox._service import Service
from kubeheat.sandbox.state import Token

UNAUTHORIZED = "The request you have made requires authentication."

#: (service type, service name, path under the sandbox's URL); {project} is the project id.
CATALOG = (
    ("identity", "keystone", "/identity"),
    ("compute", "nova", "/compute/v2.1"),
    ("network", "neutron", "/networking"),
    ("volumev3", "cinderv3", "/volume/v3/{project}"),
    ("block-storage", "cinder", "/volume/v3/{project}"),
    ("image", "glance", "/image"),
    ("object-store", "swift", "/object-store/v1/AUTH_{project}"),
)


def region_prefix(region: str) -> str:
    """Where a region other than the first serves its services in the sandbox's URL space."""
    return f"/regions/{region}"


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


class Keystone(Service):
    name = "identity"
    prefix = "/identity"

    def register(self) -> None:
        r = self.router
        r.add("GET", "/", self.versions, public=True)
        r.add("GET", "/v3", self.version, public=True)
        r.add("POST", "/v3/auth/tokens", self.issue, public=True)
        r.add("GET", "/v3/auth/tokens", self.validate)
        r.add("DELETE", "/v3/auth/tokens", self.revoke)

    def error(self, status: int, message: str, kind: str | None = None) -> ApiError:
        titles = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                  409: "Conflict"}
        headers = {}
        if status == 401:
            headers["WWW-Authenticate"] = f'Keystone uri="{self.url}/v3"'
        return ApiError(
            status,
            {"error": {"code": status, "message": message, "title": titles.get(status, "Error")}},
            headers=headers,
        )

    def _version_doc(self) -> dict[str, Any]:
        return {
            "id": "v3.14",
            "status": "stable",
            "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": f"{self.url}/v3/"}],
            "media-types": [
                {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
            ],
        }

    def versions(self, req: Req) -> Resp:
        return Resp(300, {"versions": {"values": [self._version_doc()]}})

    def version(self, req: Req) -> Resp:
        return Resp(200, {"version": self._version_doc()})

    # -- tokens -----------------------------------------------------------------------------

    def token_for(self, token_id: str | None) -> Token | None:
        """The live token with this id, or None."""
        if not token_id:
            return None
        token = self.state.tokens.get(token_id)
        if token is None or token.expires < time.monotonic():
            return None
        return token

    def _matches_domain(self, ref: Any) -> bool:
        if not isinstance(ref, dict):
            return False
        dom = self.state.domain
        return ref.get("id") == dom["id"] or (
            "name" in ref and str(ref["name"]).lower() == dom["name"].lower()
        )

    def _user(self, user: Any) -> bool:
        if not isinstance(user, dict):
            return False
        me = self.state.user
        if "id" in user:
            ok = user["id"] == me["id"]
        else:
            ok = user.get("name") == me["name"] and self._matches_domain(user.get("domain"))
        return ok and user.get("password") == self.state.config.password

    def issue(self, req: Req) -> Resp:
        body = req.json(self.error)
        try:
            auth = body["auth"]
            identity = auth["identity"]
            methods = list(identity["methods"])
        except (KeyError, TypeError):
            raise self.error(400, "Expecting to find identity in auth.") from None
        user_id: str | None = None
        inherited: Token | None = None
        if "password" in methods:
            if not self._user(identity.get("password", {}).get("user")):
                raise self.error(401, UNAUTHORIZED)
            user_id = self.state.user["id"]
        elif "token" in methods:
            inherited = self.token_for(identity.get("token", {}).get("id"))
            if inherited is None:
                raise self.error(401, UNAUTHORIZED)
            user_id = inherited.user_id
        else:
            raise self.error(401, UNAUTHORIZED)
        project_id, domain_id = self._scope(auth.get("scope"), inherited)
        now = datetime.now(UTC)
        if inherited is not None:
            expires_mono = inherited.expires
            expires_at = inherited.expires_at
        else:
            expires_mono = time.monotonic() + self.state.config.token_ttl
            expires_at = _iso(now + timedelta(seconds=self.state.config.token_ttl))
        token = Token(
            id=uuid.uuid4().hex + uuid.uuid4().hex,
            user_id=user_id,
            project_id=project_id,
            domain_id=domain_id,
            expires=expires_mono,
            methods=methods,
            issued_at=_iso(now),
            expires_at=expires_at,
            audit_id=uuid.uuid4().hex[:22],
        )
        self.state.tokens[token.id] = token
        return Resp(201, {"token": self._token_body(token)}, {"X-Subject-Token": token.id})

    def _scope(self, scope: Any, inherited: Token | None) -> tuple[str | None, str | None]:
        if scope is None:
            if inherited is not None:
                return inherited.project_id, inherited.domain_id
            return None, None
        if scope == "unscoped":
            return None, None
        if not isinstance(scope, dict):
            raise self.error(400, "Invalid scope.")
        project = self.state.project
        if "project" in scope:
            ref = scope["project"]
            if not isinstance(ref, dict):
                raise self.error(400, "Invalid scope.")
            if "id" in ref:
                ok = ref["id"] == project["id"]
            else:
                ok = ref.get("name") == project["name"] and self._matches_domain(
                    ref.get("domain")
                )
            if not ok:
                raise self.error(401, UNAUTHORIZED)
            return project["id"], None
        if "domain" in scope:
            if not self._matches_domain(scope["domain"]):
                raise self.error(401, UNAUTHORIZED)
            return None, self.state.domain["id"]
        if "system" in scope:
            raise self.error(401, UNAUTHORIZED)
        raise self.error(400, "Invalid scope.")

    def _token_body(self, token: Token) -> dict[str, Any]:
        dom = self.state.domain
        body: dict[str, Any] = {
            "methods": token.methods,
            "user": {
                "id": token.user_id,
                "name": self.state.user["name"],
                "domain": {"id": dom["id"], "name": dom["name"]},
                "password_expires_at": None,
            },
            "audit_ids": [token.audit_id],
            "expires_at": token.expires_at,
            "issued_at": token.issued_at,
        }
        roles = [
            {"id": uuid.uuid5(uuid.NAMESPACE_DNS, name).hex, "name": name}
            for name in ("admin", "member", "reader")
        ]
        if token.project_id is not None:
            project = self.state.project
            body["project"] = {
                "id": project["id"],
                "name": project["name"],
                "domain": {"id": dom["id"], "name": dom["name"]},
            }
            body["is_domain"] = False
            body["roles"] = roles
            body["catalog"] = self.catalog(project["id"])
        elif token.domain_id is not None:
            body["domain"] = {"id": dom["id"], "name": dom["name"]}
            body["roles"] = roles
            body["catalog"] = self.catalog(None)
        return body

    def catalog(self, project_id: str | None) -> list[dict[str, Any]]:
        """Every service with its endpoints in each region (the first region's under the
        root URL, each other's under ``/regions/<name>``; identity is the same in all)."""
        config = self.state.config
        regions = [(config.region, "")] + [(r, region_prefix(r)) for r in config.extra_regions]
        out = []
        for stype, sname, path in CATALOG:
            if "{project}" in path and project_id is None:
                continue
            url = self.state.base_url + path.format(project=project_id)
            endpoints = []
            for region, prefix in regions:
                where = url if stype == "identity" else (
                    self.state.base_url + prefix + path.format(project=project_id))
                endpoints += [
                    {
                        "id": uuid.uuid5(uuid.NAMESPACE_URL, f"{where}#{iface}#{region}").hex,
                        "interface": iface,
                        "region": region,
                        "region_id": region,
                        "url": where,
                    }
                    for iface in ("public", "internal", "admin")
                ]
            out.append({
                "endpoints": endpoints,
                "id": uuid.uuid5(uuid.NAMESPACE_URL, f"{stype}:{url}").hex,
                "type": stype,
                "name": sname,
            })
        return out

    def validate(self, req: Req) -> Resp:
        token = self.token_for(req.headers.get("X-Subject-Token"))
        if token is None:
            raise self.error(404, f"Could not find token: {self._mask(req)}.")
        return Resp(200, {"token": self._token_body(token)},
                    {"X-Subject-Token": token.id})

    def revoke(self, req: Req) -> Resp:
        token = self.token_for(req.headers.get("X-Subject-Token"))
        if token is None:
            raise self.error(404, f"Could not find token: {self._mask(req)}.")
        del self.state.tokens[token.id]
        return Resp(204)

    @staticmethod
    def _mask(req: Req) -> str:
        # Keystone echoes the token id here; the sandbox echoes only a prefix of it.
        return (req.headers.get("X-Subject-Token") or "")[:8] + "..."

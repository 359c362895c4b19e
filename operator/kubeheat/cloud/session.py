"""Cloud sessions: openstacksdk connections with kubeheat's guard on their HTTP traffic."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import openstack
import openstack.config
import openstack.connection
import yaml

from kubeheat.cloud._guard import (
    CloudMetrics,
    Guard,
    GuardedAdapter,
    Secrets,
    SessionOptions,
    register_secrets,
)

T = TypeVar("T")

_SECRET_KEYS = ("password", "secret", "token", "key")
_CLOUDS_YAML_PATHS = (
    Path("clouds.yaml"),
    Path.home() / ".config" / "openstack" / "clouds.yaml",
    Path("/etc/openstack/clouds.yaml"),
)


class CloudError(Exception):
    """An OpenStack call failed; the message never carries credentials.

    ``status_code`` is the HTTP status when the cloud answered, ``None`` otherwise.
    """

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class CloudConfigError(CloudError):
    """The cloud configuration is missing, unreadable or names no such cloud."""


def _secrets_of(config: Mapping[str, Any]) -> list[str]:
    found: list[str] = []

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, Mapping):
            for k, v in node.items():
                walk(v, str(k).lower())
        elif isinstance(node, str) and any(word in key for word in _SECRET_KEYS) and (
            not key.endswith(("_id", "_name", "_url", "_type", "_file"))
        ):
            found.append(node)

    walk(config)
    return found


def _load_clouds(source: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(source, Mapping):
        return dict(source)
    if isinstance(source, os.PathLike) or (
        "\n" not in source and source.strip() and Path(source).is_file()
    ):
        path = Path(source)
        try:
            text = path.read_text()
        except OSError as exc:
            raise CloudConfigError(f"cannot read clouds.yaml {path}: {exc.strerror}") from None
    else:
        text = source
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise CloudConfigError(f"clouds.yaml is not valid YAML{where}") from None
    if not isinstance(doc, dict):
        raise CloudConfigError("clouds.yaml must be a mapping")
    return doc


def _cloud_entry(doc: Mapping[str, Any], cloud_name: str) -> dict[str, Any]:
    clouds = doc.get("clouds")
    if clouds is None:
        if "auth" in doc or "auth_type" in doc:
            return dict(doc)
        raise CloudConfigError("clouds.yaml has no 'clouds' mapping")
    if not isinstance(clouds, Mapping):
        raise CloudConfigError("clouds.yaml 'clouds' must be a mapping")
    entry = clouds.get(cloud_name)
    if not isinstance(entry, Mapping):
        names = ", ".join(sorted(str(k) for k in clouds)) or "none"
        raise CloudConfigError(f"cloud {cloud_name!r} not found in clouds.yaml (has: {names})")
    return dict(entry)


def _status_of(exc: BaseException) -> int | None:
    """The HTTP status behind an openstacksdk or keystoneauth exception, if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for attr in ("status_code", "http_status"):
            value = getattr(current, attr, None)
            if isinstance(value, int):
                return value
        current = current.__cause__ or current.__context__
    return None


class CloudSession:
    """One authenticated cloud: an openstacksdk ``Connection`` behind kubeheat's guard.

    Use :attr:`conn` exactly like any openstacksdk connection; every HTTP call it makes is
    retried, rate limited, bounded in concurrency, timed out and counted here.
    """

    def __init__(self, name: str, config: Mapping[str, Any],
                 options: SessionOptions | None = None) -> None:
        self.name = name
        self.options = options or SessionOptions()
        self._secrets = Secrets(_secrets_of(config))
        register_secrets(self._secrets)
        auth = config.get("auth") if isinstance(config.get("auth"), Mapping) else {}
        auth_url = str(auth.get("auth_url")) if auth and auth.get("auth_url") else None
        self._guard = Guard(self.options, self._secrets, auth_url)
        configured = auth.get("project_id") if auth else None
        self._project_id: str | None = str(configured) if configured else None
        self._config = dict(config)
        self._regions: dict[str, CloudSession] = {}
        kwargs = dict(config)
        kwargs.setdefault("connect_retries", 0)
        kwargs.setdefault("status_code_retries", 0)
        try:
            region = openstack.config.get_cloud_region(
                load_yaml_config=False, load_envvars=False, **kwargs)
            ks_session = region.get_session()
        except Exception as exc:
            raise CloudConfigError(
                f"invalid configuration for cloud {name!r}: {self.redact(str(exc))}") from None
        adapter = GuardedAdapter(self._guard)
        ks_session.session.mount("http://", adapter)
        ks_session.session.mount("https://", adapter)
        self.conn = openstack.connection.Connection(config=region)

    def metrics(self) -> CloudMetrics:
        return self._guard.metrics()

    def redact(self, text: str) -> str:
        """``text`` with every credential of this session replaced."""
        return self._secrets.redact(text)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)``; a failure becomes a :class:`CloudError` whose message
        is redacted (the original exception is not chained, so its text cannot leak)."""
        try:
            return fn(*args, **kwargs)
        except CloudError:
            raise
        except Exception as exc:
            message = f"{type(exc).__name__}: {self.redact(str(exc))}"
            raise CloudError(message, _status_of(exc)) from None

    @property
    def project_id(self) -> str | None:
        """The id of the project the session works in: the configured one, else the one
        Keystone scoped the token to (authenticating once); None when it cannot be known."""
        if self._project_id is None:
            try:
                found = self.call(lambda: self.conn.current_project_id)
            except CloudError:
                return None
            self._project_id = str(found) if found else None
        return self._project_id

    @property
    def region_name(self) -> str | None:
        """The region this session works in (None: the cloud's only one)."""
        return self.conn.config.get_region_name() or None

    def regions(self) -> list[str]:
        """The regions of the cloud's service catalog (authenticating once)."""
        return self.call(catalog_regions, self.conn)

    def for_region(self, region: str) -> CloudSession:
        """A session for ``region`` of the same cloud (this one for its own region), with the
        same credentials and options; :class:`CloudConfigError` when the catalog has no such
        region."""
        if region == self.region_name:
            return self
        found = self._regions.get(region)
        if found is None:
            known = self.regions()
            if region not in known:
                raise CloudConfigError(no_region(region, known))
            found = CloudSession(self.name, {**self._config, "region_name": region},
                                 self.options)
            self._regions[region] = found
        return found

    def authorize(self) -> None:
        """Authenticate now (rather than on the first call); raises :class:`CloudError`."""
        self.call(self.conn.authorize)

    def close(self) -> None:
        for other in self._regions.values():
            other.close()
        self.conn.close()

    def __enter__(self) -> CloudSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"CloudSession(name={self.name!r})"


def catalog_regions(conn: openstack.connection.Connection) -> list[str]:
    """The regions named by the endpoints of ``conn``'s service catalog, sorted."""
    auth: Any = conn.session.auth
    access = auth.get_access(conn.session)
    found = {str(endpoint.get("region_id") or endpoint.get("region"))
             for service in access.service_catalog.catalog or []
             for endpoint in service.get("endpoints") or []
             if endpoint.get("region_id") or endpoint.get("region")}
    return sorted(found)


def no_region(region: str, known: list[str]) -> str:
    return (f"the cloud has no region {region!r} (its catalog has: "
            f"{', '.join(known) or 'none'})")


def region_cloud(cloud: Any, region: str) -> Any:
    """``cloud`` (a :class:`CloudSession`, a plain openstacksdk ``Connection``, or an object
    carrying either as ``session`` / ``conn``) for
    ``region`` of the same cloud: ``cloud`` itself for its own region, else a new one with the
    same configuration; :class:`CloudConfigError` when the catalog has no such region."""
    if isinstance(cloud, CloudSession):
        return cloud.for_region(region)
    if not isinstance(cloud, openstack.connection.Connection):
        # a wrapper that connects on first use (the CLI's), giving a session
        session = getattr(cloud, "session", None)
        if isinstance(session, CloudSession):
            return session.for_region(region)
        cloud = getattr(cloud, "conn", cloud)
    conn: openstack.connection.Connection = cloud
    if region == (conn.config.get_region_name() or None):
        return conn
    try:
        known = catalog_regions(conn)
    except Exception as exc:
        raise CloudConfigError(f"cannot read the cloud's catalog: {exc}") from None
    if region not in known:
        raise CloudConfigError(no_region(region, known))
    config = openstack.config.get_cloud_region(
        load_yaml_config=False, load_envvars=False,
        **{**conn.config.config, "region_name": region})
    return openstack.connection.Connection(config=config)


def connect(
    clouds_yaml: str | os.PathLike[str] | Mapping[str, Any],
    cloud_name: str,
    options: SessionOptions | None = None,
) -> CloudSession:
    """A session for ``cloud_name`` of a clouds.yaml given as a path, its text, or a dict.

    A dict may be the whole document (with ``clouds``) or one cloud's entry.
    """
    entry = _cloud_entry(_load_clouds(clouds_yaml), cloud_name)
    return CloudSession(cloud_name, entry, options)


_ENV_AUTH = {
    "OS_AUTH_URL": "auth_url", "OS_USERNAME": "username", "OS_USER_ID": "user_id",
    "OS_PASSWORD": "password", "OS_PROJECT_NAME": "project_name",
    "OS_TENANT_NAME": "project_name", "OS_PROJECT_ID": "project_id",
    "OS_TENANT_ID": "project_id", "OS_USER_DOMAIN_NAME": "user_domain_name",
    "OS_USER_DOMAIN_ID": "user_domain_id", "OS_PROJECT_DOMAIN_NAME": "project_domain_name",
    "OS_PROJECT_DOMAIN_ID": "project_domain_id", "OS_DOMAIN_NAME": "domain_name",
    "OS_DOMAIN_ID": "domain_id", "OS_TOKEN": "token",
    "OS_APPLICATION_CREDENTIAL_ID": "application_credential_id",
    "OS_APPLICATION_CREDENTIAL_NAME": "application_credential_name",
    "OS_APPLICATION_CREDENTIAL_SECRET": "application_credential_secret",
    "OS_SYSTEM_SCOPE": "system_scope",
}
_ENV_TOP = {"OS_REGION_NAME": "region_name", "OS_INTERFACE": "interface",
            "OS_IDENTITY_API_VERSION": "identity_api_version", "OS_AUTH_TYPE": "auth_type",
            "OS_CACERT": "cacert", "OS_CERT": "cert", "OS_KEY": "key",
            "OS_API_TIMEOUT": "api_timeout"}


def from_env(environ: Mapping[str, str] | None = None,
             options: SessionOptions | None = None) -> CloudSession:
    """A session from ``OS_CLOUD`` (with ``OS_CLIENT_CONFIG_FILE`` or the usual clouds.yaml
    places) or, without it, from the ``OS_*`` variables."""
    env = os.environ if environ is None else environ
    name = env.get("OS_CLOUD")
    if name:
        candidates = [Path(env["OS_CLIENT_CONFIG_FILE"])] if env.get(
            "OS_CLIENT_CONFIG_FILE") else list(_CLOUDS_YAML_PATHS)
        for path in candidates:
            if path.is_file():
                return connect(path, name, options)
        raise CloudConfigError(f"OS_CLOUD={name} but no clouds.yaml found")
    auth = {key: env[var] for var, key in _ENV_AUTH.items() if env.get(var)}
    if "auth_url" not in auth:
        raise CloudConfigError("neither OS_CLOUD nor OS_AUTH_URL is set")
    config: dict[str, Any] = {"auth": auth}
    config.update({key: env[var] for var, key in _ENV_TOP.items() if env.get(var)})
    if "auth_type" not in config:
        config["auth_type"] = "token" if "token" in auth and "password" not in auth else (
            "v3applicationcredential" if "application_credential_secret" in auth
            else "password")
    if config["auth_type"] == "password":
        auth.pop("token", None)
    return CloudSession("envvars", config, options)

"""kubeheat.cloud against the sandbox: configuration sources, retries with backoff,
Retry-After, limits and counters, and credentials kept out of errors and logs."""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path

import openstack.exceptions
import pytest

from kubeheat.cloud import (
    CloudConfigError,
    CloudError,
    RetryPolicy,
    SessionOptions,
    connect,
    from_env,
)
from kubeheat.sandbox import FaultRule, SandboxCloud


class Sleeps(list[float]):
    """Records waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def options(**kw: object) -> tuple[SessionOptions, Sleeps]:
    sleeps = Sleeps()
    return SessionOptions(sleep=sleeps, seed=1, **kw), sleeps  # type: ignore[arg-type]


def test_connect_from_text_path_and_dict(cloud: SandboxCloud, tmp_path: Path) -> None:
    path = cloud.write_clouds_yaml(tmp_path / "clouds.yaml")
    for source in (cloud.clouds_yaml, path, str(path), cloud.clouds, cloud.cloud_config):
        with connect(source, "sandbox") as session:
            assert "m1.tiny" in {f.name for f in session.conn.compute.flavors()}


def test_config_errors_name_the_problem(cloud: SandboxCloud) -> None:
    with pytest.raises(CloudConfigError, match=r"'nope' not found.*sandbox"):
        connect(cloud.clouds_yaml, "nope")
    with pytest.raises(CloudConfigError, match="not valid YAML"):
        connect("clouds: [\n", "x")
    with pytest.raises(CloudConfigError, match="OS_AUTH_URL"):
        from_env({})


def test_from_env_variables_and_os_cloud(cloud: SandboxCloud, tmp_path: Path) -> None:
    auth = cloud.cloud_config["auth"]
    env = {"OS_AUTH_URL": auth["auth_url"], "OS_USERNAME": auth["username"],
           "OS_PASSWORD": auth["password"], "OS_PROJECT_NAME": auth["project_name"],
           "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
           "OS_REGION_NAME": "RegionOne"}
    with from_env(env) as session:
        assert session.conn.current_project_id == cloud.project_id
    path = cloud.write_clouds_yaml(tmp_path / "clouds.yaml")
    with from_env({"OS_CLOUD": "sandbox", "OS_CLIENT_CONFIG_FILE": str(path)}) as session:
        assert session.name == "sandbox"
        assert session.conn.current_project_id == cloud.project_id


def test_retries_5xx_and_429_with_retry_after(cloud: SandboxCloud) -> None:
    opts, sleeps = options(retry=RetryPolicy(backoff_base=0.01))
    with connect(cloud.clouds, "sandbox", opts) as session:
        session.authorize()
        cloud.add_fault(FaultRule("GET", r"/flavors/detail", status=500, times=2))
        cloud.add_fault(FaultRule("GET", r"/flavors/detail", status=429, retry_after=3,
                                  times=1))
        names = [f.name for f in session.conn.compute.flavors()]
        assert "m1.small" in names
        metrics = session.metrics()
        assert metrics.calls[("compute", "GET", "500")] == 2
        assert metrics.calls[("compute", "GET", "429")] == 1
        assert metrics.retries == 3
        assert len(sleeps) == 3 and sleeps[2] >= 3.0  # Retry-After honoured
        assert sleeps[0] < sleeps[1] < 1.0  # exponential backoff


def test_post_not_retried_on_500_but_retried_on_503_and_409(cloud: SandboxCloud) -> None:
    opts, _ = options(retry=RetryPolicy(backoff_base=0.01))
    with connect(cloud.clouds, "sandbox", opts) as session:
        session.authorize()
        cloud.add_fault(FaultRule("POST", r"/networking/v2\.0/networks$", status=500, times=1))
        with pytest.raises(openstack.exceptions.HttpException):
            session.conn.network.create_network(name="once")
        cloud.add_fault(FaultRule("POST", r"/networking/v2\.0/networks$", status=503, times=1))
        cloud.add_fault(FaultRule("POST", r"/networking/v2\.0/networks$", status=409, times=1))
        net = session.conn.network.create_network(name="twice")
        made = [n for n in cloud.resources("networks") if n["name"] in ("once", "twice")]
        assert [n["id"] for n in made] == [net.id]  # nothing created twice
        m = session.metrics()
        assert m.total("network", "POST", 500) == 1 and m.total("network", "POST", 201) == 1


def test_gives_up_after_max_retries(cloud: SandboxCloud) -> None:
    opts, sleeps = options(retry=RetryPolicy(max_retries=2, backoff_base=0.01))
    with connect(cloud.clouds, "sandbox", opts) as session:
        session.authorize()
        cloud.add_fault(FaultRule("GET", r"/v2\.0/networks$", status=503))
        with pytest.raises(CloudError) as info:
            session.call(lambda: list(session.conn.network.networks()))
        assert info.value.status_code == 503
        assert session.metrics().total("network", "GET", 503) == 3
        assert len(sleeps) == 2


def test_connection_errors_are_retried_then_raised() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = {"auth": {"auth_url": f"http://127.0.0.1:{port}/identity", "username": "u",
                       "password": "p4ssw0rd-secret", "project_name": "p",
                       "user_domain_name": "Default", "project_domain_name": "Default"},
              "auth_type": "password"}
    opts, sleeps = options(retry=RetryPolicy(max_retries=2, backoff_base=0.01))
    session = connect(config, "dead", opts)
    with pytest.raises(CloudError) as info:
        session.authorize()
    assert "p4ssw0rd-secret" not in str(info.value)
    assert session.metrics().total("identity", status="error") == 3
    assert len(sleeps) == 2


def test_rate_limit_is_counted(cloud: SandboxCloud) -> None:
    opts, sleeps = options(rate_limit=5.0, burst=2)
    with connect(cloud.clouds, "sandbox", opts) as session:
        for _ in range(6):
            list(session.conn.compute.flavors())
        metrics = session.metrics()
        assert metrics.throttled >= 1
        assert metrics.throttle_wait == pytest.approx(sum(sleeps))


def test_concurrency_limit_bounds_in_flight(cloud: SandboxCloud) -> None:
    opts, _ = options(max_concurrency=2)
    with connect(cloud.clouds, "sandbox", opts) as session:
        session.authorize()
        list(session.conn.compute.flavors())
        cloud.add_fault(FaultRule("GET", r"/flavors/detail", latency=0.05))
        threads = [threading.Thread(target=lambda: list(session.conn.compute.flavors()))
                   for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        metrics = session.metrics()
        assert metrics.max_in_flight == 2
        assert metrics.total("compute", "GET", 200) >= 7


def test_metrics_by_service(cloud: SandboxCloud) -> None:
    with connect(cloud.clouds, "sandbox") as session:
        list(session.conn.compute.flavors())
        list(session.conn.network.networks())
        list(session.conn.block_storage.volumes())
        list(session.conn.image.images())
        list(session.conn.object_store.containers())
        by_service = session.metrics().by_service()
        assert {"identity", "compute", "network", "block-storage", "image",
                "object-store"} <= set(by_service)
        assert "unknown" not in by_service


def test_credentials_never_in_errors_or_logs(cloud: SandboxCloud,
                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    password = cloud.config.password
    bad = {**cloud.cloud_config, "auth": {**cloud.cloud_config["auth"],
                                          "password": "wrong-" + password}}
    with pytest.raises(CloudError) as auth_failure:
        connect(bad, "bad").authorize()
    assert auth_failure.value.status_code == 401
    opts, _ = options(retry=RetryPolicy(max_retries=1, backoff_base=0.01))
    with connect(cloud.clouds, "sandbox", opts) as session:
        session.authorize()
        token = session.conn.auth_token
        cloud.add_fault(FaultRule("GET", r"/servers/detail", status=500))
        with pytest.raises(CloudError) as server_error:
            session.call(lambda: list(session.conn.compute.servers()))
        assert server_error.value.status_code == 500
        logging.getLogger("kubeheat.test").warning("leak attempt %s %s", password, token)
    texts = [str(auth_failure.value), str(server_error.value), caplog.text]
    for text in texts:
        assert password not in text
        assert token not in text
    assert "<redacted>" in caplog.text


def test_project_id_is_the_tokens_scope_or_the_configured_one(cloud: SandboxCloud) -> None:
    # OS::project_id comes from here: the project Keystone scoped the session to
    session = connect(cloud.clouds, cloud.config.cloud_name)
    try:
        assert session.project_id == cloud.project_id
    finally:
        session.close()
    entry = cloud.cloud_config
    configured = connect({**entry, "auth": {**entry["auth"], "project_id": "given-id"}},
                         cloud.config.cloud_name)
    try:
        assert configured.project_id == "given-id"      # no need to authenticate
    finally:
        configured.close()


def test_project_id_is_none_when_the_cloud_cannot_say() -> None:
    session = connect({"auth_type": "password",
                       "auth": {"auth_url": "http://127.0.0.1:9/v3", "username": "u",
                                "password": "p", "project_name": "x",
                                "user_domain_name": "Default",
                                "project_domain_name": "Default"}}, "nowhere",
                      SessionOptions(retry=RetryPolicy(max_retries=0), connect_timeout=2.0))
    try:
        assert session.project_id is None
    finally:
        session.close()

#!/usr/bin/env python3
"""Start and stop a real single-node Kubernetes control plane (etcd, kube-apiserver and
kube-controller-manager) on 127.0.0.1.

Usage:
    cluster.py up DIR [--bin BINDIR] [--timeout SECONDS] [--no-controller-manager]
    cluster.py down DIR
    cluster.py status DIR
    cluster.py kubeconfig DIR

`up` starts etcd, kube-apiserver and kube-controller-manager from BINDIR (default:
$KUBEHEAT_TESTCLUSTER_BIN, else the `.cache/bin` directory made by build.sh), on free loopback
ports, with fresh credentials, and waits for the API server's /readyz and the controller manager's
/healthz. Everything lives in DIR: the kubeconfigs, the logs (*.log), the PID files (*.pid) and
cluster.json (ports, tokens and PIDs, for test fixtures). `down` stops the processes (TERM, then
KILL). `status` prints each component's PID and state, and exits 0 only when all that `up`
started are running.

The controller manager runs only what a cluster without nodes needs: ownerReference garbage
collection, namespace deletion, default ServiceAccounts and their tokens, the kube-root-ca.crt
ConfigMaps and ClusterRole aggregation (see CONTROLLERS). There is no scheduler or kubelet, so pods
are stored but never run. With --no-controller-manager nothing reconciles at all (namespaces being
deleted stay Terminating, dependents of deleted owners stay).

Only the Python standard library and the `openssl` command are needed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO / ".cache" / "bin"
BIN_ENV = "KUBEHEAT_TESTCLUSTER_BIN"
HOST = "127.0.0.1"
CONTROLLER_MANAGER = "kube-controller-manager"
# Stopped in this order: the clients first, so that they do not log errors about their servers.
COMPONENTS = (CONTROLLER_MANAGER, "kube-apiserver", "etcd")
ADMIN_USER = "kubeheat-admin"
PLAIN_USER = "kubeheat-user"
# The controller manager's own identity: the bootstrap RBAC policy binds the
# system:kube-controller-manager ClusterRole to this user. Each controller then runs as its own
# ServiceAccount in kube-system (--use-service-account-credentials), as in a real cluster.
CONTROLLER_MANAGER_USER = "system:kube-controller-manager"
CONTROLLERS = (
    "garbage-collector-controller",  # deletes dependents whose ownerReferences are all gone
    "namespace-controller",  # empties and then removes namespaces being deleted
    "serviceaccount-controller",  # the `default` ServiceAccount in every namespace
    "serviceaccount-token-controller",  # fills in kubernetes.io/service-account-token Secrets
    "root-ca-certificate-publisher-controller",  # the kube-root-ca.crt ConfigMap in every namespace
    "clusterrole-aggregation-controller",  # fills in admin/edit/view from aggregate-to-* roles
)
TERM_WAIT = 10.0
KILL_WAIT = 5.0

OPENSSL_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[serving]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = @alt
authorityKeyIdentifier = keyid
[alt]
IP.1 = 127.0.0.1
IP.2 = 10.0.0.1
DNS.1 = localhost
DNS.2 = kubernetes
DNS.3 = kubernetes.default
DNS.4 = kubernetes.default.svc
"""


class ClusterError(Exception):
    """A failure to report to the user without a traceback."""


def log(message: str) -> None:
    print(f"testcluster: {message}", file=sys.stderr, flush=True)


def free_ports(count: int) -> list[int]:
    """Distinct free TCP ports on the loopback address (held open together so they differ)."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((HOST, 0))
            sockets.append(sock)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def run_openssl(command: str, cwd: Path) -> None:
    """Runs `openssl COMMAND` (arguments separated by single spaces, none containing one)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise ClusterError("the openssl command is required to make the cluster's keys")
    args = [openssl, *command.split(" ")]
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ClusterError(f"openssl {command} failed:\n{result.stderr}")


def make_pki(pki: Path) -> None:
    """A CA, serving certificates for 127.0.0.1 signed by it (the API server's and the controller
    manager's), and a service-account RSA key."""
    pki.mkdir(parents=True, exist_ok=True)
    (pki / "openssl.cnf").write_text(OPENSSL_CONFIG)
    new_key = "-config openssl.cnf -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
    days = "-days 3650 -sha256"
    subject = "-subj /CN=kubeheat-testcluster-ca"
    run_openssl(
        f"req -x509 {new_key} {days} -extensions ca {subject} -keyout ca.key -out ca.crt", pki
    )
    for name in ("apiserver", "controller-manager"):
        subject = f"-subj /CN=kubeheat-{name}"
        run_openssl(f"req -new {new_key} {subject} -keyout {name}.key -out {name}.csr", pki)
        run_openssl(
            f"x509 -req -in {name}.csr -CA ca.crt -CAkey ca.key -CAcreateserial {days}"
            f" -extfile openssl.cnf -extensions serving -out {name}.crt",
            pki,
        )
    run_openssl(
        "genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out service-account.key", pki
    )
    for key in pki.glob("*.key"):
        key.chmod(0o600)


def kubeconfig(server: str, ca_file: Path, tokens: dict[str, str]) -> dict[str, object]:
    """A context per user, named after it; the first user's is the current one."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "kubeheat",
                "cluster": {"server": server, "certificate-authority": str(ca_file)},
            }
        ],
        "users": [{"name": user, "user": {"token": token}} for user, token in tokens.items()],
        "contexts": [
            {"name": user, "context": {"cluster": "kubeheat", "user": user}} for user in tokens
        ],
        "current-context": next(iter(tokens)),
    }


def pid_file(directory: Path, component: str) -> Path:
    return directory / f"{component}.pid"


def process_state(pid: int) -> str | None:
    """The /proc state letter of pid, or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name in parentheses may contain spaces; the state follows the last ')'.
    return stat.rsplit(")", 1)[1].split()[0]


def is_alive(pid: int) -> bool:
    state = process_state(pid)
    return state is not None and state not in ("Z", "X")


def is_ours(pid: int, directory: Path) -> bool:
    """Guards against PID reuse: our processes carry DIR in their command line."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    return f"{directory}/" in cmdline


def read_pid(directory: Path, component: str) -> int | None:
    try:
        return int(pid_file(directory, component).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # Reaps it when it is our own child (a failed `up`); otherwise init does.
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        if not is_alive(pid):
            return True
        time.sleep(0.05)
    return not is_alive(pid)


def stop(directory: Path, component: str) -> None:
    pid = read_pid(directory, component)
    if pid is not None and is_alive(pid) and is_ours(pid, directory):
        for sig, wait in ((signal.SIGTERM, TERM_WAIT), (signal.SIGKILL, KILL_WAIT)):
            try:
                # Each component leads its own process group (start_new_session).
                os.killpg(pid, sig)
            except ProcessLookupError:
                break
            if wait_gone(pid, wait):
                break
            log(f"{component} (pid {pid}) still running after {sig.name}")
        else:
            raise ClusterError(f"could not stop {component} (pid {pid})")
        log(f"stopped {component} (pid {pid})")
    pid_file(directory, component).unlink(missing_ok=True)


def down(directory: Path) -> None:
    errors: list[str] = []
    for component in COMPONENTS:
        try:
            stop(directory, component)
        except ClusterError as err:
            errors.append(str(err))
    if errors:
        raise ClusterError("; ".join(errors))


def status(directory: Path) -> bool:
    """Prints each component's state; True when every component `up` started is running."""
    try:
        started = list(json.loads((directory / "cluster.json").read_text())["pids"])
    except (FileNotFoundError, ValueError, KeyError):
        started = []
    running = 0
    for component in COMPONENTS:
        pid = read_pid(directory, component)
        if pid is not None and is_alive(pid) and is_ours(pid, directory):
            print(f"{component}: running (pid {pid})")
            running += 1
        elif component in started:
            print(f"{component}: stopped")
    if not started:
        print(f"no cluster was started in {directory}")
    return bool(started) and running == len(started)


def tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return f"({path} does not exist)"
    return "\n".join(text[-lines:])


def start(directory: Path, component: str, argv: list[str]) -> None:
    with (directory / f"{component}.log").open("wb") as out:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=directory,
            start_new_session=True,
        )
    pid_file(directory, component).write_text(f"{process.pid}\n")


def find_bin(bin_dir: Path | None, components: Sequence[str]) -> Path:
    if bin_dir is None:
        env = os.environ.get(BIN_ENV)
        bin_dir = Path(env) if env else DEFAULT_BIN
    missing = [name for name in components if not os.access(bin_dir / name, os.X_OK)]
    if missing:
        raise ClusterError(
            f"{', '.join(missing)} not found in {bin_dir}: run tools/testcluster/build.sh"
        )
    return bin_dir.resolve()


def wait_ready(
    directory: Path,
    components: Sequence[str],
    url: str,
    token: str | None,
    ca_file: Path,
    deadline: float,
) -> None:
    """Polls url until it answers 200, while all components stay alive, until deadline
    (a time.monotonic() value)."""
    context = ssl.create_default_context(cafile=str(ca_file))
    # No proxy: an *_proxy variable in the environment must not divert loopback traffic.
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)
    began = time.monotonic()
    last = "no answer yet"
    while time.monotonic() < deadline:
        for component in components:
            pid = read_pid(directory, component)
            if pid is None or not is_alive(pid):
                raise ClusterError(f"{component} exited during start-up")
        try:
            with opener.open(request, timeout=2) as response:
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as err:
            last = f"HTTP {err.code}: {err.read().decode(errors='replace')[-300:]}"
        except (urllib.error.URLError, OSError) as err:
            last = str(err)
        time.sleep(0.2)
    raise ClusterError(f"{url} not ready after {time.monotonic() - began:.0f}s (last: {last})")


def write_kubeconfig(path: Path, server: str, ca_file: Path, tokens: dict[str, str]) -> None:
    path.write_text(json.dumps(kubeconfig(server, ca_file, tokens), indent=2) + "\n")
    path.chmod(0o600)


def up(
    directory: Path, bin_dir: Path | None, timeout: float, controller_manager: bool = True
) -> Path:
    components = COMPONENTS if controller_manager else COMPONENTS[1:]
    bins = find_bin(bin_dir, components)
    directory.mkdir(parents=True, exist_ok=True)
    directory = directory.resolve()
    for component in COMPONENTS:
        pid = read_pid(directory, component)
        if pid is not None and is_alive(pid) and is_ours(pid, directory):
            raise ClusterError(f"{component} already running in {directory}: run down first")
    down(directory)  # clears stale PID files

    began = time.monotonic()
    deadline = began + timeout
    pki = directory / "pki"
    make_pki(pki)
    tokens = {
        ADMIN_USER: secrets.token_hex(16),
        PLAIN_USER: secrets.token_hex(16),
        CONTROLLER_MANAGER_USER: secrets.token_hex(16),
    }
    token_file = directory / "tokens.csv"
    token_file.write_text(
        f'{tokens[ADMIN_USER]},{ADMIN_USER},{ADMIN_USER},"system:masters"\n'
        f"{tokens[PLAIN_USER]},{PLAIN_USER},{PLAIN_USER}\n"
        f"{tokens[CONTROLLER_MANAGER_USER]},{CONTROLLER_MANAGER_USER},{CONTROLLER_MANAGER_USER}\n"
    )
    token_file.chmod(0o600)

    etcd_data = directory / "etcd-data"
    shutil.rmtree(etcd_data, ignore_errors=True)
    client_port, peer_port, api_port, kcm_port = free_ports(4)
    etcd_client = f"http://{HOST}:{client_port}"
    etcd_peer = f"http://{HOST}:{peer_port}"
    server = f"https://{HOST}:{api_port}"
    kcm_url = f"https://{HOST}:{kcm_port}" if controller_manager else None
    ca_file = pki / "ca.crt"
    kcm_config = directory / "controller-manager.kubeconfig"
    try:
        start(
            directory,
            "etcd",
            [
                str(bins / "etcd"),
                "--name=kubeheat",
                f"--data-dir={etcd_data}",
                f"--listen-client-urls={etcd_client}",
                f"--advertise-client-urls={etcd_client}",
                f"--listen-peer-urls={etcd_peer}",
                f"--initial-advertise-peer-urls={etcd_peer}",
                f"--initial-cluster=kubeheat={etcd_peer}",
                "--initial-cluster-state=new",
                "--unsafe-no-fsync",  # throw-away data: skip fsync for speed
                "--log-level=warn",
            ],
        )
        # The API server retries etcd by itself, so both start at once.
        start(
            directory,
            "kube-apiserver",
            [
                str(bins / "kube-apiserver"),
                f"--bind-address={HOST}",
                f"--advertise-address={HOST}",
                f"--secure-port={api_port}",
                f"--cert-dir={pki}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--token-auth-file={token_file}",
                "--authorization-mode=RBAC",
                "--service-account-issuer=https://kubernetes.default.svc",
                f"--service-account-key-file={pki / 'service-account.key'}",
                f"--service-account-signing-key-file={pki / 'service-account.key'}",
                "--service-cluster-ip-range=10.0.0.0/24",
                f"--etcd-servers={etcd_client}",
                # Pods never run here, so they need no ServiceAccount token volume; and this plugin
                # would reject pods made before the controller manager makes their namespace's
                # `default` ServiceAccount (or always, with --no-controller-manager).
                "--disable-admission-plugins=ServiceAccount",
                # Endpoints may not hold loopback addresses, so the `kubernetes` Service gets none.
                "--endpoint-reconciler-type=none",
                "--profiling=false",
            ],
        )
        wait_ready(
            directory,
            components[1:],
            f"{server}/readyz",
            tokens[ADMIN_USER],
            ca_file,
            deadline,
        )
        if kcm_url is not None:
            # Started only now: it gives up when the API server is not healthy within 10 s.
            write_kubeconfig(
                kcm_config,
                server,
                ca_file,
                {CONTROLLER_MANAGER_USER: tokens[CONTROLLER_MANAGER_USER]},
            )
            start(
                directory,
                CONTROLLER_MANAGER,
                [
                    str(bins / CONTROLLER_MANAGER),
                    f"--kubeconfig={kcm_config}",
                    # Authenticates and authorizes callers of its own endpoints (/metrics) through
                    # the API server; /healthz, /readyz and /livez are always allowed.
                    f"--authentication-kubeconfig={kcm_config}",
                    f"--authorization-kubeconfig={kcm_config}",
                    "--authentication-skip-lookup",  # no request-header client CA to look up
                    f"--bind-address={HOST}",
                    f"--secure-port={kcm_port}",
                    f"--tls-cert-file={pki / 'controller-manager.crt'}",
                    f"--tls-private-key-file={pki / 'controller-manager.key'}",
                    f"--controllers={','.join(CONTROLLERS)}",
                    "--use-service-account-credentials",
                    f"--service-account-private-key-file={pki / 'service-account.key'}",
                    f"--root-ca-file={ca_file}",
                    "--leader-elect=false",
                    "--profiling=false",
                ],
            )
            wait_ready(directory, components, f"{kcm_url}/healthz", None, ca_file, deadline)
            # /healthz answers before the controllers run; the `default` ServiceAccount shows
            # that they do (the garbage collector starts with them, its informers sync later).
            wait_ready(
                directory,
                components,
                f"{server}/api/v1/namespaces/default/serviceaccounts/default",
                tokens[ADMIN_USER],
                ca_file,
                deadline,
            )
    except BaseException as err:
        logs = "\n".join(
            f"--- last lines of {directory / (c + '.log')} ---\n{tail(directory / (c + '.log'))}"
            for c in components
        )
        try:
            down(directory)
        except ClusterError as stop_err:
            log(f"cleanup failed: {stop_err}")
        if isinstance(err, ClusterError):
            raise ClusterError(f"{err}\n{logs}") from err
        raise

    config = directory / "kubeconfig"
    write_kubeconfig(
        config, server, ca_file, {ADMIN_USER: tokens[ADMIN_USER], PLAIN_USER: tokens[PLAIN_USER]}
    )
    info = {
        "server": server,
        "kubeconfig": str(config),
        "ca_file": str(ca_file),
        "etcd": etcd_client,
        "bin": str(bins),
        "admin": {"user": ADMIN_USER, "token": tokens[ADMIN_USER]},
        "user": {"user": PLAIN_USER, "token": tokens[PLAIN_USER]},
        "controller_manager": (
            {"url": kcm_url, "controllers": list(CONTROLLERS)} if kcm_url is not None else None
        ),
        "pids": {c: read_pid(directory, c) for c in components},
    }
    (directory / "cluster.json").write_text(json.dumps(info, indent=2) + "\n")
    log(f"up in {time.monotonic() - began:.1f}s: {server} (kubeconfig {config})")
    return config


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    up_cmd = commands.add_parser(
        "up", help="start etcd, kube-apiserver and kube-controller-manager, wait until ready"
    )
    up_cmd.add_argument("dir", type=Path)
    up_cmd.add_argument("--bin", type=Path, default=None, help=f"default: ${BIN_ENV} or .cache/bin")
    up_cmd.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait until ready (default 60)"
    )
    up_cmd.add_argument(
        "--no-controller-manager",
        dest="controller_manager",
        action="store_false",
        help="start only etcd and kube-apiserver: nothing reconciles",
    )
    down_cmd = commands.add_parser("down", help="stop the cluster's processes")
    down_cmd.add_argument("dir", type=Path)
    status_cmd = commands.add_parser("status", help="print the processes' states")
    status_cmd.add_argument("dir", type=Path)
    config_cmd = commands.add_parser("kubeconfig", help="print the kubeconfig path")
    config_cmd.add_argument("dir", type=Path)
    args = parser.parse_args(argv)

    directory: Path = args.dir.resolve()
    try:
        if args.command == "up":
            print(up(directory, args.bin, args.timeout, args.controller_manager))
        elif args.command == "down":
            down(directory)
        elif args.command == "status":
            return 0 if status(directory) else 1
        else:
            config = directory / "kubeconfig"
            if not config.is_file():
                raise ClusterError(f"no kubeconfig in {directory}: run up first")
            print(config)
    except ClusterError as err:
        log(f"ERROR: {err}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

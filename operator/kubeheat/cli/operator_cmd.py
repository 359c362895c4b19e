"""``kubeheat operator``: run the Stack controller (and ``kubeheat operator crd|rbac``: print
the CustomResourceDefinitions and the ClusterRole it needs)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kubeheat.cli.args import add_command


def register(sub: Any) -> None:
    add_command(sub, "operator", _arguments,
                help="Run the Kubernetes operator for Stack resources.",
                description="Watch Stack resources and keep their stacks in OpenStack as "
                            "declared. Credentials: in a pod its ServiceAccount, else "
                            "$KUBECONFIG (current context).")


def _arguments(p: argparse.ArgumentParser) -> None:
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--namespace", "-n", action="append", default=[], metavar="NS",
                       help="a namespace to watch (repeatable; default: all namespaces)")
    scope.add_argument("--all-namespaces", "-A", action="store_true",
                       help="watch every namespace (the default)")
    p.add_argument("--concurrency", type=int, default=16, metavar="N",
                   help="Stacks reconciled at once (default 16)")
    p.add_argument("--namespace-concurrency", type=int, default=None, metavar="N",
                   help="slots one namespace may hold, so that slow Stacks in one namespace "
                        "leave the others room (default: a quarter of --concurrency, at "
                        "least 1)")
    p.add_argument("--default-stack-timeout", type=float, default=60.0, metavar="MINUTES",
                   help="timeout of a Stack operation when spec.timeoutMinutes is not set "
                        "(Heat's stack_action_timeout; default 60; 0: none)")
    p.add_argument("--resource-concurrency", type=int, default=32, metavar="N",
                   help="resource actions in flight within one Stack (default 32)")
    p.add_argument("--state-write-interval", type=float, default=0.3, metavar="SECONDS",
                   help="least time between two writes of a Stack's state and status "
                        "(default 0.3)")
    p.add_argument("--log-level", default="info",
                   choices=("debug", "info", "warning", "error"))
    p.add_argument("--log-format", default="text", choices=("text", "json"))
    p.add_argument("--metrics-port", type=int, default=8080, metavar="PORT",
                   help="serve Prometheus metrics on /metrics here (0: off; default 8080)")
    p.add_argument("--health-port", type=int, default=8081, metavar="PORT",
                   help="serve the liveness probe on /healthz here (0: off; default 8081)")
    p.add_argument("--bind", default="0.0.0.0", metavar="ADDR",
                   help="address of the metrics and health endpoints")
    peering = p.add_mutually_exclusive_group()
    peering.add_argument("--peering", metavar="NAME",
                         help="join kopf peering NAME (HA: the replica with the highest "
                              "priority is active; give each replica its own --priority)")
    peering.add_argument("--standalone", action="store_true",
                         help="no peering (the default)")
    p.add_argument("--priority", type=int, default=0, metavar="N",
                   help="this replica's peering priority (distinct per replica)")
    p.set_defaults(handler=operator_cmd)

    osub = p.add_subparsers(dest="operator_command", metavar="COMMAND")
    pc = osub.add_parser("crd", help="Print the CustomResourceDefinitions (YAML).")
    pc.add_argument("which", nargs="?", choices=("stack", "peering"), default="stack")
    pc.set_defaults(handler=crd_cmd)
    pr = osub.add_parser("rbac", help="Print the ClusterRole the operator needs (YAML).")
    pr.add_argument("--name", default=None, help="the ClusterRole's name")
    pr.set_defaults(handler=rbac_cmd)


def crd_cmd(args: argparse.Namespace) -> int:
    from kubeheat.controller import render

    sys.stdout.write(render(args.which))
    return 0


def rbac_cmd(args: argparse.Namespace) -> int:
    import yaml

    from kubeheat.controller import CLUSTER_ROLE_NAME, cluster_role

    sys.stdout.write(yaml.safe_dump(cluster_role(args.name or CLUSTER_ROLE_NAME),
                                    sort_keys=False))
    return 0


def operator_cmd(args: argparse.Namespace) -> int:
    from kubeheat.controller import OperatorConfig, Options, run

    if args.concurrency < 1 or args.resource_concurrency < 1:
        print("kubeheat operator: --concurrency must be at least 1", file=sys.stderr)
        return 2
    if args.namespace_concurrency is not None and args.namespace_concurrency < 1:
        print("kubeheat operator: --namespace-concurrency must be at least 1",
              file=sys.stderr)
        return 2
    if not args.default_stack_timeout >= 0:
        print("kubeheat operator: --default-stack-timeout must be 0 or more minutes",
              file=sys.stderr)
        return 2
    if args.peering and args.priority == 0:
        print("kubeheat operator: note: replicas of equal --priority all pause; give each "
              "one its own", file=sys.stderr)
    config = OperatorConfig(
        namespaces=list(args.namespace), all_namespaces=args.all_namespaces,
        options=Options(concurrency=args.concurrency,
                        namespace_concurrency=args.namespace_concurrency,
                        default_timeout_minutes=args.default_stack_timeout or None,
                        resource_concurrency=args.resource_concurrency,
                        state_write_interval=args.state_write_interval),
        log_level=args.log_level, log_format=args.log_format,
        metrics_port=args.metrics_port or None, health_port=args.health_port or None,
        bind=args.bind, peering=args.peering, priority=args.priority,
        standalone=not args.peering)
    return run(config)

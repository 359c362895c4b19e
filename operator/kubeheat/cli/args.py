"""Arguments that several commands share, and reading them into plain values.

This module (like every module ``kubeheat.cli.main`` imports to build its parser) stays cheap to
import: argument definitions and parsing only, no template, engine or cloud code, so that
``kubeheat --help`` and every command pay only for what they use.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

#: adds a command's arguments (and subcommands) to its parser
Fill = Callable[[argparse.ArgumentParser], None]

if TYPE_CHECKING:
    _SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:  # not subscriptable at run time
    _SubParsers = argparse._SubParsersAction


class LazyCommands(_SubParsers):
    """The ``kubeheat COMMAND`` action: each command's arguments are added to its parser when
    that command is the one given (``kubeheat --help`` needs only the names and help lines), so
    a command does not pay for building the parsers of all the others."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fills: dict[str, Fill] = {}

    def fill(self, name: str) -> None:
        fill = self.fills.pop(name, None)
        if fill is not None:
            fill(self._name_parser_map[name])

    def fill_all(self) -> None:
        for name in list(self.fills):
            self.fill(name)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: str | Sequence[Any] | None, option_string: str | None = None) -> None:
        if values and isinstance(values, Sequence) and not isinstance(values, str):
            self.fill(str(values[0]))
        super().__call__(parser, namespace, values, option_string)


def add_command(sub: Any, name: str, fill: Fill, **kwargs: Any) -> argparse.ArgumentParser:
    """Add the command ``name`` (``kwargs``: ``help``, ``description`` ...) to the subcommands
    ``sub``; its arguments are added by ``fill``: when the command is used under a
    :class:`LazyCommands`, at once under any other subcommands action."""
    parser: argparse.ArgumentParser = sub.add_parser(name, **kwargs)
    if isinstance(sub, LazyCommands):
        sub.fills[name] = fill
    else:
        fill(parser)
    return parser


class UsageError(Exception):
    """A command-line argument is malformed (exit status 2)."""


_URL_SCHEMES = ("file://", "http://", "https://")


def template_source(value: str) -> Path | str:
    """A template or environment argument: a ``file://``/``http(s)://`` URL is kept as
    written (as python-heatclient takes it), anything else is a path."""
    return value if value.lower().startswith(_URL_SCHEMES) else Path(value)


def add_template_arguments(parser: argparse.ArgumentParser) -> None:
    """The inputs shared by validate, plan and run."""
    parser.add_argument("-t", "--template", required=True, type=template_source,
                        help="path or file/http(s) URL of the HOT or CloudFormation template "
                             "(YAML or JSON)")
    parser.add_argument("-e", "--environment", action="append", default=[],
                        type=template_source, metavar="ENV",
                        help="environment file (path or URL); repeat to merge several in order")
    parser.add_argument("-P", "--parameter", action="append", default=[], metavar="KEY=VALUE",
                        help="parameter value; repeatable")
    parser.add_argument("--parameter-file", action="append", default=[], metavar="KEY=PATH",
                        help="parameter whose value is the content of a file; repeatable")


def parse_parameters(args: argparse.Namespace) -> dict[str, Any]:
    """The ``-P KEY=VALUE`` and ``--parameter-file KEY=PATH`` values (:class:`UsageError` when
    one is malformed or its file cannot be read)."""
    values: dict[str, Any] = {}
    for item in args.parameter:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f'-P expects KEY=VALUE, got "{item.split("=")[0]}..."'
                             if "=" in item else f'-P expects KEY=VALUE, got "{item}"')
        values[key] = value
    for item in args.parameter_file:
        key, sep, path = item.partition("=")
        if not sep or not key or not path:
            raise UsageError(f'--parameter-file expects KEY=PATH, got "{item}"')
        try:
            values[key] = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f'--parameter-file {key}: cannot read "{path}": {exc}') from None
    return values


def minutes(text: str) -> float:
    """An argparse type: a timeout in minutes, a finite number above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of minutes: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"must be a finite number of minutes above 0, not {text!r}")
    return value


def add_cloud_arguments(parser: argparse.ArgumentParser) -> None:
    """``--cloud NAME`` / ``--sandbox`` (see :mod:`kubeheat.cli.cloudopt`)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--cloud", metavar="NAME",
                       help="cloud name in clouds.yaml (default: $OS_CLOUD; with no cloud "
                            "configured the embedded sandbox cloud is used)")
    group.add_argument("--sandbox", action="store_true",
                       help="use the embedded sandbox cloud even when a cloud is configured")


def wants_real_cloud(args: argparse.Namespace, environ: Mapping[str, str]) -> bool:
    """Whether the command names a cloud (``--cloud``, ``OS_CLOUD`` or ``OS_AUTH_URL``) rather
    than the embedded sandbox."""
    if getattr(args, "sandbox", False):
        return False
    return bool(getattr(args, "cloud", None) or environ.get("OS_CLOUD")
                or environ.get("OS_AUTH_URL"))

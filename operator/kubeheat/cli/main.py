"""The ``kubeheat`` console script: argument parsing and dispatch to subcommands.

Exit codes: 0 success, 1 the input is invalid or the operation failed (message on stderr),
2 usage errors (argparse's own convention), 130 interrupted (Ctrl-C: one line, no traceback).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kubeheat import __version__

# Each command module only defines its parser and imports what the command uses when its
# handler runs: building the parser (every command, for ``--help``) costs no template, engine,
# cloud or operator imports (tests/cli/test_cli_startup.py holds that), and only the command given
# gets its arguments (tests/cli/test_cli_help.py checks the help is the same).
from kubeheat.cli import (
    api_cmd,
    docs_cmd,
    operator_cmd,
    resource_types,
    sandbox_cmd,
    stack_cmds,
    template_cmds,
    validate,
)
from kubeheat.cli.args import LazyCommands


def build_parser(*, lazy: bool = True) -> argparse.ArgumentParser:
    """The ``kubeheat`` parser. ``lazy``: a command's own arguments are added when it is the
    one parsed (what ``main`` does); with ``lazy=False`` every parser is complete at once (for
    code that inspects them)."""
    parser = argparse.ArgumentParser(
        prog="kubeheat",
        description="OpenStack Heat template orchestration, as a Kubernetes controller and a CLI.",
    )
    parser.add_argument("--version", action="version", version=f"kubeheat {__version__}")
    parser.register("action", "parsers", LazyCommands)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    assert isinstance(sub, LazyCommands)
    validate.register(sub)
    template_cmds.register(sub)
    resource_types.register(sub)
    stack_cmds.register(sub)
    sandbox_cmd.register(sub)
    docs_cmd.register(sub)
    operator_cmd.register(sub)
    api_cmd.register(sub)
    if not lazy:
        sub.fill_all()
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = args.handler
    try:
        code: int = handler(args)
    except KeyboardInterrupt:
        # commands that leave something to clean up say so themselves (kubeheat.cli.stacks)
        from kubeheat.cli.output import error

        error("interrupted")
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Command-line layer: the ``kubeheat`` console script.

It owns argument parsing, reading template, environment and parameter files from disk into the
pure template layer's inputs, and rendering results as tables, JSON or YAML with Heat's shapes.

The console script's entry point is :func:`kubeheat.cli.main.main` (``kubeheat.cli.main`` is
that module, so it is not re-exported here). The other public names are importable from this
package, each imported on first use: importing the package costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeheat._lazy import lazy_exports

if TYPE_CHECKING:
    from kubeheat.cli.args import UsageError
    from kubeheat.cli.files import FileBundle, FileCollectionError, collect_files
    from kubeheat.cli.main import build_parser

#: the module of each public name, imported on first use of one of its names
_EXPORTS = {
    "kubeheat.cli.args": ("UsageError",),
    "kubeheat.cli.files": ("FileBundle", "FileCollectionError", "collect_files"),
    "kubeheat.cli.main": ("build_parser",),
}
__all__ = ["FileBundle", "FileCollectionError", "UsageError", "build_parser", "collect_files"]

if not TYPE_CHECKING:
    __getattr__ = lazy_exports(__name__, _EXPORTS)

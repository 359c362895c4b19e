"""Lazy re-exports (PEP 562) for a layer's package ``__init__``: the package names its public API
without importing it, so importing one module of a layer never costs the imports of all the
others (``kubeheat --help`` imports no template code; tests/cli/test_cli_startup.py holds that)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, Iterable[str]]
                 ) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``, whose public names are ``exports`` (module ->
    the names it defines): a name is imported from its module on first use, then kept in the
    package."""
    modules = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__

"""The layers' package facades (``kubeheat.template``, ``kubeheat.cli``, ``kubeheat.engine``,
``kubeheat.resources``, ``kubeheat.controller``): every public name resolves to the object its
module defines, and importing a package costs none of its modules (each name is imported on
first use). The import contracts in pyproject.toml hold the other layers to these names."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys

import pytest

PACKAGES = ("kubeheat.template", "kubeheat.cli", "kubeheat.engine", "kubeheat.resources",
            "kubeheat.controller")


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_resolves_to_its_module(package: str) -> None:
    pkg = importlib.import_module(package)
    exports: dict[str, tuple[str, ...]] = pkg._EXPORTS
    assert sorted(pkg.__all__) == sorted(n for names in exports.values() for n in names)
    for module, names in exports.items():
        for name in names:
            assert getattr(pkg, name) is getattr(importlib.import_module(module), name)
    # a name equal to a module's would be replaced by that module once it is imported
    modules = {info.name for info in pkgutil.iter_modules(pkg.__path__)}
    assert modules.isdisjoint(pkg.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = pkg.nothing_here


@pytest.mark.parametrize("package", PACKAGES)
def test_importing_a_package_imports_none_of_its_modules(package: str) -> None:
    code = (f"import json, sys, {package}\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('kubeheat'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert json.loads(done.stdout) == ["kubeheat", "kubeheat._lazy", package]

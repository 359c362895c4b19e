"""The plugin contract: every capability a plugin sets is declared on ``ResourcePlugin``, and
the optional hooks the engine calls only on request are requested by the types that have them.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from kubeheat.resources import ResourcePlugin, load_builtin_plugins

PLUGINS = [load_builtin_plugins().get(n) for n in load_builtin_plugins().names()]

#: the nested-stack family: their handlers run child stacks
NESTED = {"OS::Heat::ResourceGroup", "OS::Heat::ResourceChain", "OS::Heat::AutoScalingGroup",
          "OS::Heat::Stack", "AWS::CloudFormation::Stack"}


def _classes() -> list[type[ResourcePlugin]]:
    return [c for c in PLUGINS if c is not None]


def _overrides(cls: type[ResourcePlugin], name: str) -> bool:
    return any(name in klass.__dict__ for klass in cls.__mro__
               if klass is not ResourcePlugin and issubclass(klass, ResourcePlugin))


@pytest.mark.parametrize("cls", _classes(), ids=lambda c: c.type_name)
def test_every_flag_is_declared_on_a_base(cls: type[ResourcePlugin]) -> None:
    """A switch a type sets is declared (with its doc) on ``ResourcePlugin`` or on the
    service base that reads it, never invented by the type."""
    registered = set(_classes())
    for klass in cls.__mro__:
        if klass is ResourcePlugin or not issubclass(klass, ResourcePlugin):
            continue
        if klass not in registered:
            continue                # a base class: declares the switches it reads
        for name, value in vars(klass).items():
            if isinstance(value, bool) and not name.startswith("__"):
                assert any(name in vars(base) for base in klass.__mro__[1:]), (
                    f"{klass.__name__}.{name} is not declared on a base class")


@pytest.mark.parametrize("cls", _classes(), ids=lambda c: c.type_name)
def test_optional_hooks_are_requested(cls: type[ResourcePlugin]) -> None:
    assert cls.batch_observe == _overrides(cls, "read_many"), cls.type_name
    assert cls.adds_dependencies == _overrides(cls, "implicit_dependencies"), cls.type_name
    assert cls.signalable == _overrides(cls, "signal"), cls.type_name


def test_the_nested_family_runs_nested_stacks() -> None:
    running = {c.type_name for c in _classes() if c.runs_nested_stacks}
    assert running == NESTED


def test_loading_the_plugins_imports_no_cloud_library() -> None:
    """``kubeheat validate`` and Heat-only stacks never pay for openstacksdk: the plugin
    modules import it (and keystoneauth) inside the functions that call the cloud."""
    code = ("import sys\n"
            "from kubeheat.resources.base import load_builtin_plugins\n"
            "from kubeheat.resources.openstack import cloud_constraints\n"
            "assert len(load_builtin_plugins().names()) > 30\n"
            "print(sorted(m for m in sys.modules\n"
            "             if m.split('.')[0] in ('openstack', 'keystoneauth1')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]", done.stdout

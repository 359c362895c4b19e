"""The differential table: small templates run through kubeheat, compared with real Heat.

Each case is ``differential/cases/<class>/<name>.yaml``; what Heat 27.0.1 answered for it is
``<name>.heat.json`` beside it, written by ``differential/record.py`` against the Heat peer.
This test needs neither the peer nor ``../shared``: it only reads those files.

A case file holds::

    about: what the case checks (one line)
    template: |            # the template text, passed byte for byte
      heat_template_version: 2018-08-31
      ...
    files: {name: text}    # optional: child templates and get_file targets, by relative name
    environment: |         # optional: an environment file's text
    parameters: {k: v}     # optional: -P values
    create: false          # optional: validate only
    update:                # optional: a second run on the same state
      template: |          #   (default: the same template)
      parameters: {k: v}
    ignore: [create.outputs.x, validate.Parameters]   # optional: paths not compared, with a
    why_ignored: ...                                   # reason (e.g. random values)

Comparison rules: validate accepted or refused as Heat did (a refusal must contain Heat's
message); Description, Parameters and ParameterGroups equal; the stack status, status reason,
outputs and each resource's type, status and physical id equal. A string from Heat that holds
generated parts (UUIDs, the 12-character random suffix of Heat's physical names) matches any
string of the same shape.
"""

from __future__ import annotations

import contextlib
import io
import json
import pathlib
import re
from typing import Any

import pytest
import yaml

from kubeheat.cli.main import main as kubeheat

CASES = pathlib.Path(__file__).parent / "differential" / "cases"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_UUID_RE = re.compile(UUID)
_SUFFIX_RE = re.compile(r"(?<=-)[a-z0-9]{12}(?=-|$)")


def _case_paths() -> list[pathlib.Path]:
    return sorted(p for p in CASES.rglob("*.yaml") if p.with_name(p.stem + ".heat.json").exists())


def _shape(text: str) -> re.Pattern[str]:
    """A pattern matching ``text`` with its generated parts (UUIDs, random suffixes) free."""
    parts: list[str] = []
    pos = 0
    marks = sorted(
        [(m.start(), m.end(), UUID) for m in _UUID_RE.finditer(text)]
        + [(m.start(), m.end(), "[a-z0-9]{12}") for m in _SUFFIX_RE.finditer(text)]
    )
    for start, end, pattern in marks:
        if start < pos:
            continue
        parts.append(re.escape(text[pos:start]))
        parts.append(pattern)
        pos = end
    parts.append(re.escape(text[pos:]))
    return re.compile("".join(parts))


def same(heat: Any, kube: Any) -> bool:
    if isinstance(heat, str) and isinstance(kube, str):
        return heat == kube or _shape(heat).fullmatch(kube) is not None
    if isinstance(heat, dict) and isinstance(kube, dict):
        return heat.keys() == kube.keys() and all(same(heat[k], kube[k]) for k in heat)
    if isinstance(heat, list) and isinstance(kube, list):
        return len(heat) == len(kube) and all(same(h, k) for h, k in zip(heat, kube, strict=True))
    return type(heat) is type(kube) and bool(heat == kube)


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = kubeheat(list(argv))
    return code, out.getvalue(), err.getvalue()


def _write(tmp: pathlib.Path, case: dict[str, Any], step: dict[str, Any], tag: str) -> list[str]:
    """Write the step's template, files and environment; return the CLI's input options."""
    for rel, text in {**(case.get("files") or {}), **(step.get("files") or {})}.items():
        target = tmp / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    template = tmp / f"template-{tag}.yaml"
    template.write_text(step.get("template", case["template"]))
    argv = ["-t", str(template)]
    env = step.get("environment", case.get("environment"))
    if env:
        env_path = tmp / f"env-{tag}.yaml"
        env_path.write_text(env if isinstance(env, str) else json.dumps(env))
        argv += ["-e", str(env_path)]
    for key, value in (step.get("parameters") or {}).items():
        argv += ["-P", f"{key}={value}"]
    return argv


class Diff:
    def __init__(self, ignored: set[str]) -> None:
        self.ignored = ignored
        self.found: list[str] = []

    def check(self, path: str, heat: Any, kube: Any) -> None:
        if path in self.ignored or any(path.startswith(i + ".") for i in self.ignored):
            return
        if not same(heat, kube):
            self.found.append(f"{path}: Heat {heat!r}, kubeheat {kube!r}")


def _compare_validate(diff: Diff, heat: dict[str, Any], code: int, out: str, err: str) -> None:
    if "error" in heat:
        if code == 0:
            diff.check("validate", {"refused": heat["error"]}, {"accepted": out[:300]})
        elif heat["error"] and heat["error"] not in err + out:
            diff.check("validate.error", heat["error"], (err + out).strip())
        return
    if code != 0:
        diff.check("validate", {"accepted": True}, {"refused": (err + out).strip()})
        return
    got = json.loads(out)
    for key in ("Description", "Parameters", "ParameterGroups"):
        diff.check(f"validate.{key}", heat.get(key), got.get(key))


def _compare_run(diff: Diff, tag: str, heat: dict[str, Any], code: int, out: str, err: str) -> None:
    if "error" in heat:
        # Heat refused the request itself (HTTP 400): kubeheat must refuse it too
        if code == 0 and out.strip():
            made = json.loads(out)["stack_status"]
            diff.check(tag, {"refused": heat["error"]}, {"accepted": made})
        elif heat["error"] and heat["error"] not in err + out:
            diff.check(f"{tag}.error", heat["error"], (err + out).strip())
        return
    if not out.strip():
        diff.check(tag, {"status": heat["status"]}, {"refused": err.strip()})
        return
    got = json.loads(out)
    diff.check(f"{tag}.status", heat["status"], got["stack_status"])
    diff.check(f"{tag}.reason", heat["reason"], got["stack_status_reason"])
    diff.check(f"{tag}.outputs", heat["outputs"], got.get("outputs", {}))
    mine = {r["name"]: r for r in got.get("resources", [])}
    diff.check(f"{tag}.resources", sorted(heat["resources"]), sorted(mine))
    for name, res in heat["resources"].items():
        if name in mine:
            diff.check(f"{tag}.resources.{name}.type", res["type"], mine[name]["type"])
            diff.check(f"{tag}.resources.{name}.status", res["status"], mine[name]["status"])
            diff.check(
                f"{tag}.resources.{name}.physical_id",
                res["physical_id"],
                mine[name].get("physical_id") or "",
            )


@pytest.mark.parametrize("path", _case_paths(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_case_matches_heat(path: pathlib.Path, tmp_path: pathlib.Path) -> None:
    case = yaml.safe_load(path.read_text())
    heat = json.loads(path.with_name(path.stem + ".heat.json").read_text())
    diff = Diff(set(case.get("ignore") or []))
    first = {k: case[k] for k in ("parameters", "environment") if k in case}
    argv = _write(tmp_path, case, first, "create")
    _compare_validate(diff, heat["validate"], *_cli("validate", *argv, "--format", "json"))
    if "create" in heat:
        state = str(tmp_path / "state.json")
        # the recorder creates and updates with disable_rollback: so does the CLI here
        common = ["--sandbox", "--state", state, "--name", path.stem, "--format", "json",
                  "--disable-rollback"]
        _compare_run(diff, "create", heat["create"], *_cli("run", *argv, *common))
        if "update" in heat:
            argv = _write(tmp_path, case, case["update"], "update")
            _compare_run(diff, "update", heat["update"], *_cli("run", *argv, *common))
        if pathlib.Path(state).exists():
            _cli("delete", "--sandbox", "--state", state)
    assert not diff.found, "kubeheat differs from Heat 27.0.1:\n  " + "\n  ".join(diff.found)


def test_the_table_is_big_enough() -> None:
    assert len(_case_paths()) >= 1  # raised to the 150 once the table is filled

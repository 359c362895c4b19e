"""The operator never reads the local disk for ``get_file`` or provider templates: a Stack's
files are its ``spec.files`` (and ``filesFrom`` ConfigMaps) only, whatever the references
look like (relative, ``..``, absolute paths, ``file://`` URLs). Only the CLI reads files
(``kubeheat.cli.files``); here each reference names a file that exists on disk, and the
request fails as Heat's API does for a reference missing from the files map."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import kopf
import pytest

from kubeheat.controller.kube import KubeClient
from kubeheat.controller.spec import resolve
from kubeheat.engine import Engine, ListEventSink, MemoryStateStore
from kubeheat.errors import KubeheatError
from kubeheat.template import DEFAULT_CONSTRAINTS

SECRET = "local-disk-secret-7f3a"
HOT = "2018-08-31"


@pytest.fixture
def disk(tmp_path: Path) -> Path:
    (tmp_path / "sub").mkdir()
    (tmp_path / "data.txt").write_text(SECRET)
    (tmp_path / "child.yaml").write_text(
        f"heat_template_version: {HOT}\noutputs:\n  o: {{value: {SECRET}}}\n"
    )
    return tmp_path


def _create(template: dict[str, Any]) -> tuple[dict[str, str], str]:
    """The files map the spec resolves to, and the engine's error for it."""

    async def go() -> tuple[dict[str, str], str]:
        # never called: a spec without ConfigMaps or Secrets reads nothing from the cluster
        client = KubeClient(kopf.ConnectionInfo(server="https://127.0.0.1:1"))
        try:
            resolved = await resolve(client, "ns", "nodisk", {"template": template})
        finally:
            await client.close()
        engine = Engine(MemoryStateStore(), ListEventSink(), constraints=DEFAULT_CONSTRAINTS)
        try:
            with pytest.raises(KubeheatError) as info:
                await engine.create(resolved.request)
        finally:
            engine.close()
        return resolved.request.files, str(info.value)

    return asyncio.run(go())


@pytest.mark.parametrize("kind", ["relative", "dotdot", "absolute", "file-url"])
def test_get_file_never_reads_local_paths(disk: Path, kind: str) -> None:
    ref = {
        "relative": "data.txt",
        "dotdot": "sub/../data.txt",
        "absolute": str(disk / "data.txt"),
        "file-url": (disk / "data.txt").as_uri(),
    }[kind]
    files, error = _create(
        {
            "heat_template_version": HOT,
            "resources": {
                "v": {"type": "OS::Heat::Value", "properties": {"value": {"get_file": ref}}}
            },
        }
    )
    assert files == {}
    assert error == (
        'resources.v.properties.value.get_file: No content found in the "files" '
        f"section for get_file path: {ref}"
    )


@pytest.mark.parametrize("kind", ["absolute", "file-url"])
def test_provider_templates_are_never_read_from_local_paths(disk: Path, kind: str) -> None:
    ref = str(disk / "child.yaml") if kind == "absolute" else (disk / "child.yaml").as_uri()
    files, error = _create({"heat_template_version": HOT, "resources": {"p": {"type": ref}}})
    assert files == {}
    assert error == (
        f'resources.p.type: Could not fetch remote template "{ref}": it is not in the files map'
    )
    assert SECRET not in error

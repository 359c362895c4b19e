"""The reference docs and the README's support table are generated from the code and current."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kubeheat.cli.docs_cmd import README_BEGIN, README_END, pages, readme_section
from kubeheat.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


def test_reference_pages_are_current(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["docs", "check", "docs/reference"]) == 0, \
        "run `kubeheat docs generate` and commit the result"


def test_pages_name_every_resource_type_and_version() -> None:
    from kubeheat.resources import load_builtin_plugins

    text = pages()["resource-types.md"]
    for name in load_builtin_plugins().names():
        assert f"## {name}\n" in text
    assert "`2021-04-16`" in readme_section()


def test_readme_has_the_generated_section() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert README_BEGIN in readme and README_END in readme
    assert os.path.isfile(ROOT / "docs" / "reference" / "stack-api.md")

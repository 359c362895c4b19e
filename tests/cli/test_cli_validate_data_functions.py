"""``kubeheat validate`` warns (stderr, exit code unchanged) about each one-key map whose key is a
function of a later template version only: Heat 27.0.1 keeps such a map as plain data."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeheat.cli.main import main

NEWTON = """heat_template_version: 2016-10-14
conditions:
  c: {equals: [1, 1]}
resources:
  v:
    type: OS::Heat::Value
    condition: c
    properties:
      value: {filter: [[null], [1, null]]}
outputs:
  o:
    value: {list_concat: [[1], [2]]}
  p:
    value: [{x: {make_url: {host: h}}}]
"""


def run(capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str) -> tuple[int, str, str]:
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    code = main(["validate", "-t", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def test_each_later_function_is_a_warning_naming_path_and_first_version(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, tmp_path, NEWTON)
    assert code == 0
    assert out.startswith("Description: No description\n")
    assert err.splitlines() == [
        "WARNING: resources.v.properties.value: 'filter' is not a function in "
        "heat_template_version 2016-10-14 (it is one from 2017-02-24); it is used as data",
        "WARNING: outputs.o.value: 'list_concat' is not a function in heat_template_version "
        "2016-10-14 (it is one from 2017-09-01); it is used as data",
        "WARNING: outputs.p.value[0].x: 'make_url' is not a function in heat_template_version "
        "2016-10-14 (it is one from 2017-09-01); it is used as data",
    ]


def test_release_name_alias_reports_the_canonical_version(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, tmp_path, "heat_template_version: ocata\noutputs:\n"
                                         "  o: {value: {contains: [a, [a]]}}\n")
    assert code == 0
    assert err == ("WARNING: outputs.o.value: 'contains' is not a function in "
                   "heat_template_version 2017-02-24 (it is one from 2017-09-01); it is used "
                   "as data\n")


def test_cfn_if_in_heat_template_format_version(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, tmp_path, "HeatTemplateFormatVersion: '2012-12-12'\nOutputs:\n"
                                         "  o: {Value: {'Fn::If': [c, 1, 2]}}\n")
    assert code == 0
    assert err == ("WARNING: Outputs.o.Value: 'Fn::If' is not a function in "
                   "HeatTemplateFormatVersion 2012-12-12 (it is one in "
                   "AWSTemplateFormatVersion: 2010-09-09); it is used as data\n")


@pytest.mark.parametrize("text", [
    # functions of the version itself, and multi-key maps, are no warning
    "heat_template_version: 2017-09-01\noutputs:\n  o: {value: {list_concat: [[1], [2]]}}\n",
    "heat_template_version: 2016-10-14\noutputs:\n  o: {value: {list_concat: 1, b: 2}}\n",
    # a name no version knows is data without a warning
    "heat_template_version: 2016-10-14\noutputs:\n  o: {value: {my_key: 1}}\n",
])
def test_no_warning(capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str) -> None:
    code, _, err = run(capsys, tmp_path, text)
    assert (code, err) == (0, "")


def test_removed_function_is_still_an_error_without_warning(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, tmp_path, "heat_template_version: 2014-10-16\noutputs:\n"
                                         "  o: {value: {'Fn::GetAZs': ''}}\n")
    assert code == 1
    assert "WARNING" not in err
    assert ("outputs.o.value.Fn::GetAZs: The template version is invalid: The function "
            "Fn::GetAZs is not supported in this version of HOT.") in err


def test_provider_and_nested_templates_are_looked_into(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A provider template (by type and through the environment) and an OS::Heat::Stack's
    get_file'd template are checked too; each warning names the file, then the path."""
    nested = tmp_path / "nested"
    nested.mkdir()
    (nested / "prov.yaml").write_text("heat_template_version: 2016-10-14\noutputs:\n"
                                      "  o: {value: {list_concat: [[1], [2]]}}\n")
    (nested / "mapped.yaml").write_text("heat_template_version: 2016-10-14\nresources:\n"
                                        "  v: {type: OS::Heat::Value, properties: "
                                        "{value: {filter: [[null], [1]]}}}\n")
    (nested / "child.yaml").write_text("heat_template_version: 2016-10-14\noutputs:\n"
                                       "  c: {value: {contains: [a, [a]]}}\n")
    (tmp_path / "env.yaml").write_text("resource_registry: {My::Mapped: nested/mapped.yaml}\n")
    path = tmp_path / "t.yaml"
    path.write_text("heat_template_version: 2018-08-31\nresources:\n"
                    "  p: {type: nested/prov.yaml}\n"
                    "  m: {type: My::Mapped}\n"
                    "  s: {type: OS::Heat::Stack, properties: "
                    "{template: {get_file: nested/child.yaml}}}\n", encoding="utf-8")
    code = main(["validate", "-t", str(path), "-e", str(tmp_path / "env.yaml")])
    _, err = capsys.readouterr()
    assert code == 0, err
    real = nested.resolve()
    assert err.splitlines() == [
        f"WARNING: {real / 'prov.yaml'}: outputs.o.value: 'list_concat' is not a function in "
        "heat_template_version 2016-10-14 (it is one from 2017-09-01); it is used as data",
        f"WARNING: {real / 'child.yaml'}: outputs.c.value: 'contains' is not a function in "
        "heat_template_version 2016-10-14 (it is one from 2017-09-01); it is used as data",
        f"WARNING: {real / 'mapped.yaml'}: resources.v.properties.value: 'filter' is not a "
        "function in heat_template_version 2016-10-14 (it is one from 2017-02-24); it is used "
        "as data",
    ]


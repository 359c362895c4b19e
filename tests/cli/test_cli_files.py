"""collect_files: gathering get_file targets and provider templates from disk, keyed by their
``file://`` URLs as python-heatclient keys them (``test_cli_get_file.py`` has the heatclient
facts: ``..``, absolute paths, URLs, base_url, the rewritten documents)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from kubeheat.cli import FileCollectionError, collect_files
from kubeheat.template import EnvironmentFormatError, Limits, TemplateSyntaxError

HOT = "heat_template_version: 2018-08-31\n"


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def get_file_template(ref: str) -> str:
    return HOT + f"""resources:
  cfg:
    type: OS::Heat::SoftwareConfig
    properties:
      config: {{get_file: "{ref}"}}
"""


def url(path: Path) -> str:
    return path.resolve().as_uri()


def refusal(tmp: Path, template: str, *, envs: tuple[Path, ...] = ()) -> FileCollectionError:
    path = write(tmp / "tpl" / "main.yaml", template)
    with pytest.raises(FileCollectionError) as info:
        collect_files(path, envs)
    return info.value


# -- what gets collected ------------------------------------------------------------------------


def test_template_without_references(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", HOT + "resources: {}\n")
    bundle = collect_files(path)
    assert bundle.template_text == HOT + "resources: {}\n"
    assert bundle.environment_texts == []
    assert bundle.files == {}


def test_relative_get_file_keyed_by_url(tmp_path: Path) -> None:
    boot = write(tmp_path / "scripts" / "boot.sh", "#!/bin/sh\necho hi\n")
    path = write(tmp_path / "t.yaml", get_file_template("scripts/boot.sh"))
    bundle = collect_files(path)
    assert bundle.files == {url(boot): "#!/bin/sh\necho hi\n"}
    assert bundle.template_document["resources"]["cfg"]["properties"]["config"] == {
        "get_file": url(boot)}


def test_dot_slash_and_inner_dotdot_name_one_file(tmp_path: Path) -> None:
    write(tmp_path / "a.sh", "A")
    write(tmp_path / "sub" / "x.txt", "X")
    path = write(tmp_path / "t.yaml", HOT + """resources:
  one: {type: OS::Heat::Value, properties: {value: {get_file: ./a.sh}}}
  two: {type: OS::Heat::Value, properties: {value: {get_file: sub/../a.sh}}}
""")
    assert collect_files(path).files == {url(tmp_path / "a.sh"): "A"}


def test_non_literal_get_file_is_left_alone(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", HOT + """parameters: {f: {type: string}}
resources:
  one: {type: OS::Heat::Value, properties: {value: {get_file: {get_param: f}}}}
""")
    assert collect_files(path).files == {}


def test_nested_provider_templates_and_their_files(tmp_path: Path) -> None:
    write(tmp_path / "nested" / "server.yaml", HOT + """resources:
  cfg: {type: OS::Heat::Value, properties: {value: {get_file: cloud-init.txt}}}
  port: {type: ../common/port.yaml}
""")
    write(tmp_path / "nested" / "cloud-init.txt", "#cloud-config\n")
    write(tmp_path / "common" / "port.yaml", HOT + "resources: {}\n")
    path = write(tmp_path / "t.yaml", HOT + """resources:
  group:
    type: OS::Heat::ResourceGroup
    properties:
      resource_def: {type: nested/server.yaml}
""")
    files = collect_files(path).files
    assert set(files) == {url(tmp_path / n) for n in (
        "nested/server.yaml", "nested/cloud-init.txt", "common/port.yaml")}
    assert files[url(tmp_path / "nested" / "cloud-init.txt")] == "#cloud-config\n"


def test_cfn_type_and_template_suffix(tmp_path: Path) -> None:
    write(tmp_path / "db.template", '{"AWSTemplateFormatVersion": "2010-09-09"}')
    path = write(tmp_path / "t.json", """{"AWSTemplateFormatVersion": "2010-09-09",
      "Resources": {"db": {"Type": "db.template"}}}""")
    assert collect_files(path).files == {url(tmp_path / "db.template"):
                                         '{"AWSTemplateFormatVersion": "2010-09-09"}'}


def test_get_file_of_a_template_is_followed(tmp_path: Path) -> None:
    write(tmp_path / "child.yaml", HOT + "resources:\n  c: {type: grandchild.yaml}\n")
    write(tmp_path / "grandchild.yaml", HOT + "resources: {}\n")
    write(tmp_path / "data.yaml", "just: data\n")
    path = write(tmp_path / "t.yaml", HOT + """resources:
  stack:
    type: OS::Heat::Stack
    properties: {template: {get_file: child.yaml}}
  data: {type: OS::Heat::Value, properties: {value: {get_file: data.yaml}}}
""")
    assert set(collect_files(path).files) == {
        url(tmp_path / n) for n in ("child.yaml", "grandchild.yaml", "data.yaml")}


def test_environment_provider_templates(tmp_path: Path) -> None:
    write(tmp_path / "env" / "templates" / "server.yaml",
          HOT + "resources:\n  c: {type: OS::Heat::Value, properties: "
          "{value: {get_file: ../files/motd}}}\n")
    write(tmp_path / "env" / "files" / "motd", "hello\n")
    write(tmp_path / "env" / "web.yaml", HOT + "resources: {}\n")
    env = write(tmp_path / "env" / "env.yaml", """
parameters: {a: 1}
resource_registry:
  My::Server: templates/server.yaml
  OS::Networking::*: OS::Neutron::*
  resources:
    web:
      OS::Nova::Server: web.yaml
      hooks: pre-create
""")
    path = write(tmp_path / "t.yaml", HOT + "resources: {s: {type: My::Server}}\n")
    bundle = collect_files(path, [env])
    assert set(bundle.files) == {url(tmp_path / "env" / n) for n in (
        "templates/server.yaml", "files/motd", "web.yaml")}
    registry = json.loads(bundle.environment_texts[0])["resource_registry"]
    assert registry["My::Server"] == url(tmp_path / "env" / "templates" / "server.yaml")
    assert registry["OS::Networking::*"] == "OS::Neutron::*"
    assert registry["resources"]["web"] == {"OS::Nova::Server": url(tmp_path / "env" / "web.yaml"),
                                            "hooks": "pre-create"}


def test_environment_errors_name_the_file(tmp_path: Path) -> None:
    env = write(tmp_path / "bad.yaml", "resources: {}\n")
    path = write(tmp_path / "t.yaml", HOT)
    with pytest.raises(EnvironmentFormatError, match=r"bad\.yaml has wrong section"):
        collect_files(path, [env])


def test_same_file_from_template_and_environment(tmp_path: Path) -> None:
    write(tmp_path / "n.yaml", HOT + "resources: {}\n")
    env = write(tmp_path / "env.yaml", "resource_registry: {My::N: n.yaml}\n")
    path = write(tmp_path / "t.yaml", HOT + "resources: {a: {type: n.yaml}}\n")
    assert list(collect_files(path, [env]).files) == [url(tmp_path / "n.yaml")]


# -- cycles and depth -----------------------------------------------------------------------------


def test_provider_template_cycle_is_collected_once(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", HOT + "resources: {b: {type: b.yaml}}\n")
    write(tmp_path / "b.yaml", HOT + "resources: {a: {type: a.yaml}}\n")
    path = write(tmp_path / "t.yaml", HOT + "resources: {a: {type: a.yaml}}\n")
    assert set(collect_files(path).files) == {url(tmp_path / "a.yaml"), url(tmp_path / "b.yaml")}


def test_template_referring_to_itself(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", HOT + "resources: {me: {type: t.yaml}}\n")
    files = collect_files(path).files
    assert set(files) == {url(path)}
    assert json.loads(files[url(path)])["resources"]["me"]["type"] == url(path)


def test_nesting_depth_is_bounded(tmp_path: Path) -> None:
    for i in range(4):
        write(tmp_path / f"n{i}.yaml", HOT + f"resources: {{r: {{type: n{i + 1}.yaml}}}}\n")
    write(tmp_path / "n4.yaml", HOT + "resources: {}\n")
    path = write(tmp_path / "t.yaml", HOT + "resources: {r: {type: n0.yaml}}\n")
    assert len(collect_files(path, limits=Limits(max_nested_depth=5)).files) == 5
    with pytest.raises(FileCollectionError, match="nest more than 3 levels") as info:
        collect_files(path, limits=Limits(max_nested_depth=3))
    assert info.value.location == "resources.r.type"


# -- unreadable files -----------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    err = refusal(tmp_path, get_file_template("nope.sh"))
    assert err.location == "resources.cfg.properties.config.get_file"
    assert str(err) == (f'resources.cfg.properties.config.get_file: cannot read "nope.sh" in '
                        f'{tmp_path / "tpl" / "main.yaml"}: no such file '
                        f'{tmp_path / "tpl" / "nope.sh"}')


def test_missing_template(tmp_path: Path) -> None:
    with pytest.raises(FileCollectionError, match=r"cannot read template file .*no such file"):
        collect_files(tmp_path / "missing.yaml")


def test_missing_environment(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", HOT)
    with pytest.raises(FileCollectionError, match="cannot read environment file"):
        collect_files(path, [tmp_path / "env.yaml"])


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "tpl" / "dir").mkdir(parents=True)
    err = refusal(tmp_path, get_file_template("dir"))
    assert "not a regular file" in err.message


def test_fifo_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "tpl").mkdir()
    os.mkfifo(tmp_path / "tpl" / "pipe")
    err = refusal(tmp_path, get_file_template("pipe"))
    assert "not a regular file" in err.message


def test_non_utf8_file_is_sent_base64_encoded(tmp_path: Path) -> None:
    # heatclient's read_url_content: content that is not UTF-8 goes base64.encodebytes'd
    data = bytes(range(256)) * 2
    write(tmp_path / "tpl" / "bin.dat", data)
    path = write(tmp_path / "tpl" / "main.yaml", get_file_template("bin.dat"))
    text = collect_files(path).files[url(tmp_path / "tpl" / "bin.dat")]
    assert text == base64.encodebytes(data).decode("ascii")
    assert base64.b64decode(text) == data


def test_non_utf8_template(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", b"heat_template_version: \xff\n")
    with pytest.raises(FileCollectionError, match="not UTF-8"):
        collect_files(path)


def test_total_size_bounded(tmp_path: Path) -> None:
    write(tmp_path / "tpl" / "a.txt", "a" * 600)
    write(tmp_path / "tpl" / "b.txt", "b" * 600)
    path = write(tmp_path / "tpl" / "main.yaml", HOT + """resources:
  a: {type: OS::Heat::Value, properties: {value: {get_file: a.txt}}}
  b: {type: OS::Heat::Value, properties: {value: {get_file: b.txt}}}
""")
    assert len(collect_files(path, max_total_bytes=2000).files) == 2
    with pytest.raises(FileCollectionError, match="exceed 1000 bytes in total") as info:
        collect_files(path, max_total_bytes=1000)
    assert info.value.location == "resources.b.properties.value.get_file"


def test_broken_provider_template(tmp_path: Path) -> None:
    write(tmp_path / "tpl" / "n.yaml", HOT + "resources: [\n")
    err = refusal(tmp_path, HOT + "resources: {n: {type: n.yaml}}\n")
    assert err.location == "resources.n.type"
    assert 'provider template "n.yaml"' in err.message
    assert "Error parsing template n.yaml" in err.message


def test_broken_top_template(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", "resources: [\n")
    with pytest.raises(TemplateSyntaxError):
        collect_files(path)

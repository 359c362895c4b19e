"""collect_files: gathering get_file targets and provider templates from disk, confined to the
template's (or environment's) directory tree."""

from __future__ import annotations

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


def test_relative_get_file_keyed_as_written(tmp_path: Path) -> None:
    write(tmp_path / "scripts" / "boot.sh", "#!/bin/sh\necho hi\n")
    path = write(tmp_path / "t.yaml", get_file_template("scripts/boot.sh"))
    assert collect_files(path).files == {"scripts/boot.sh": "#!/bin/sh\necho hi\n"}


def test_dot_slash_and_inner_dotdot_stay_inside(tmp_path: Path) -> None:
    write(tmp_path / "a.sh", "A")
    write(tmp_path / "sub" / "x.txt", "X")
    path = write(tmp_path / "t.yaml", HOT + """resources:
  one: {type: OS::Heat::Value, properties: {value: {get_file: ./a.sh}}}
  two: {type: OS::Heat::Value, properties: {value: {get_file: sub/../a.sh}}}
""")
    assert collect_files(path).files == {"./a.sh": "A", "sub/../a.sh": "A"}


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
    assert set(files) == {"nested/server.yaml", "cloud-init.txt", "../common/port.yaml"}
    assert files["cloud-init.txt"] == "#cloud-config\n"


def test_cfn_type_and_template_suffix(tmp_path: Path) -> None:
    write(tmp_path / "db.template", '{"AWSTemplateFormatVersion": "2010-09-09"}')
    path = write(tmp_path / "t.json", """{"AWSTemplateFormatVersion": "2010-09-09",
      "Resources": {"db": {"Type": "db.template"}}}""")
    assert collect_files(path).files == {"db.template":
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
    assert set(collect_files(path).files) == {"child.yaml", "grandchild.yaml", "data.yaml"}


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
    assert bundle.environment_texts == [env.read_text()]
    assert set(bundle.files) == {"templates/server.yaml", "../files/motd", "web.yaml"}


def test_environment_errors_name_the_file(tmp_path: Path) -> None:
    env = write(tmp_path / "bad.yaml", "resources: {}\n")
    path = write(tmp_path / "t.yaml", HOT)
    with pytest.raises(EnvironmentFormatError, match=r"bad\.yaml has wrong section"):
        collect_files(path, [env])


def test_same_file_from_template_and_environment(tmp_path: Path) -> None:
    write(tmp_path / "n.yaml", HOT + "resources: {}\n")
    env = write(tmp_path / "env.yaml", "resource_registry: {My::N: n.yaml}\n")
    path = write(tmp_path / "t.yaml", HOT + "resources: {a: {type: n.yaml}}\n")
    assert list(collect_files(path, [env]).files) == ["n.yaml"]


# -- cycles and depth -----------------------------------------------------------------------------


def test_provider_template_cycle_is_collected_once(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", HOT + "resources: {b: {type: b.yaml}}\n")
    write(tmp_path / "b.yaml", HOT + "resources: {a: {type: a.yaml}}\n")
    path = write(tmp_path / "t.yaml", HOT + "resources: {a: {type: a.yaml}}\n")
    assert set(collect_files(path).files) == {"a.yaml", "b.yaml"}


def test_template_referring_to_itself(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", HOT + "resources: {me: {type: t.yaml}}\n")
    assert set(collect_files(path).files) == {"t.yaml"}


def test_nesting_depth_is_bounded(tmp_path: Path) -> None:
    for i in range(4):
        write(tmp_path / f"n{i}.yaml", HOT + f"resources: {{r: {{type: n{i + 1}.yaml}}}}\n")
    write(tmp_path / "n4.yaml", HOT + "resources: {}\n")
    path = write(tmp_path / "t.yaml", HOT + "resources: {r: {type: n0.yaml}}\n")
    assert len(collect_files(path, limits=Limits(max_nested_depth=5)).files) == 5
    with pytest.raises(FileCollectionError, match="nest more than 3 levels") as info:
        collect_files(path, limits=Limits(max_nested_depth=3))
    assert info.value.location == "resources.r.type"


# -- confinement --------------------------------------------------------------------------------


def test_dotdot_escape_refused(tmp_path: Path) -> None:
    write(tmp_path / "secret", "s3cret")
    err = refusal(tmp_path, get_file_template("../secret"))
    tpl = tmp_path / "tpl"
    assert str(err) == (f'resources.cfg.properties.config.get_file: refusing "../secret" in '
                        f"{tpl / 'main.yaml'}: outside the template directory {tpl}")


def test_deep_dotdot_escape_refused(tmp_path: Path) -> None:
    err = refusal(tmp_path, get_file_template("../../etc/passwd"))
    assert "outside the template directory" in err.message


def test_nested_template_cannot_escape_the_root(tmp_path: Path) -> None:
    write(tmp_path / "tpl" / "sub" / "n.yaml", HOT + "resources:\n  x: {type: OS::Heat::Value, "
          "properties: {value: {get_file: ../../outside.txt}}}\n")
    write(tmp_path / "outside.txt", "no")
    err = refusal(tmp_path, HOT + "resources: {n: {type: sub/n.yaml}}\n")
    assert err.location == "resources.x.properties.value.get_file"
    assert str(tmp_path / "tpl" / "sub" / "n.yaml") in err.message


@pytest.mark.parametrize("ref", ["/etc/passwd", "\\\\server\\share\\x", "C:\\x.txt"])
def test_absolute_paths_refused(tmp_path: Path, ref: str) -> None:
    err = refusal(tmp_path, get_file_template(ref.replace("\\", "\\\\")))
    assert "absolute paths are not allowed" in err.message


def test_absolute_path_inside_root_still_refused(tmp_path: Path) -> None:
    inside = write(tmp_path / "tpl" / "x.sh", "x")
    err = refusal(tmp_path, get_file_template(str(inside)))
    assert "absolute paths are not allowed" in err.message


def test_symlink_escape_refused(tmp_path: Path) -> None:
    write(tmp_path / "outside" / "secret", "s3cret")
    (tmp_path / "tpl").mkdir()
    os.symlink(tmp_path / "outside" / "secret", tmp_path / "tpl" / "link.txt")
    err = refusal(tmp_path, get_file_template("link.txt"))
    assert "symbolic link" in err.message and "outside the template directory" in err.message


def test_symlinked_directory_escape_refused(tmp_path: Path) -> None:
    write(tmp_path / "outside" / "x.yaml", HOT)
    (tmp_path / "tpl").mkdir()
    os.symlink(tmp_path / "outside", tmp_path / "tpl" / "dir")
    err = refusal(tmp_path, HOT + "resources: {n: {type: dir/x.yaml}}\n")
    assert err.location == "resources.n.type"
    assert "symbolic link" in err.message


def test_symlink_inside_the_tree_is_fine(tmp_path: Path) -> None:
    write(tmp_path / "tpl" / "real" / "x.sh", "x")
    os.symlink(tmp_path / "tpl" / "real" / "x.sh", tmp_path / "tpl" / "alias.sh")
    path = write(tmp_path / "tpl" / "main.yaml", get_file_template("alias.sh"))
    assert collect_files(path).files == {"alias.sh": "x"}


@pytest.mark.parametrize("ref", ["http://example.com/x.sh", "https://example.com/x.yaml",
                                 "file:///etc/passwd", "ftp://host/x"])
def test_urls_refused(tmp_path: Path, ref: str) -> None:
    err = refusal(tmp_path, get_file_template(ref))
    assert "kubeheat never fetches URLs" in err.message
    assert f'refusing "{ref}"' in err.message


def test_url_provider_type_refused(tmp_path: Path) -> None:
    err = refusal(tmp_path, HOT + "resources: {n: {type: 'https://example.com/n.yaml'}}\n")
    assert err.location == "resources.n.type"
    assert "never fetches URLs" in err.message


def test_environment_url_refused(tmp_path: Path) -> None:
    env = write(tmp_path / "env.yaml", "resource_registry:\n  resources:\n    web:\n"
                "      My::T: http://example.com/t.yaml\n")
    err = refusal(tmp_path, HOT, envs=(env,))
    assert err.location == "resource_registry.resources.web.My::T"
    assert str(env) in err.message


def test_environment_escape_refused(tmp_path: Path) -> None:
    write(tmp_path / "t.yaml", HOT)
    env = write(tmp_path / "envs" / "env.yaml", "resource_registry: {My::T: ../t.yaml}\n")
    err = refusal(tmp_path, HOT, envs=(env,))
    assert f"outside the environment directory {tmp_path / 'envs'}" in err.message


def test_explicit_root_widens_the_tree(tmp_path: Path) -> None:
    write(tmp_path / "templates" / "t.yaml", HOT)
    env = write(tmp_path / "envs" / "env.yaml", "resource_registry: {My::T: ../templates/t.yaml}\n")
    main = write(tmp_path / "main.yaml", HOT)
    bundle = collect_files(main, [env], root=tmp_path)
    assert set(bundle.files) == {"../templates/t.yaml"}


def test_ambiguous_name_refused(tmp_path: Path) -> None:
    write(tmp_path / "tpl" / "cfg.sh", "top")
    write(tmp_path / "tpl" / "sub" / "cfg.sh", "nested")
    write(tmp_path / "tpl" / "sub" / "n.yaml", HOT + "resources:\n  x: {type: OS::Heat::Value, "
          "properties: {value: {get_file: cfg.sh}}}\n")
    err = refusal(tmp_path, HOT + """resources:
  a: {type: OS::Heat::Value, properties: {value: {get_file: cfg.sh}}}
  n: {type: sub/n.yaml}
""")
    assert "ambiguous" in err.message


# -- unreadable files -----------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    err = refusal(tmp_path, get_file_template("nope.sh"))
    assert err.location == "resources.cfg.properties.config.get_file"
    assert 'cannot read "nope.sh"' in err.message and "no such file" in err.message


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


def test_non_utf8_file(tmp_path: Path) -> None:
    write(tmp_path / "tpl" / "bin.dat", b"\xff\xfe\x00binary")
    err = refusal(tmp_path, get_file_template("bin.dat"))
    assert "is not UTF-8 text" in err.message


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
    write(tmp_path / "tpl" / "n.yaml", "resources: [\n")
    err = refusal(tmp_path, HOT + "resources: {n: {type: n.yaml}}\n")
    assert err.location == "resources.n.type"
    assert 'provider template "n.yaml"' in err.message
    assert "Error parsing template n.yaml" in err.message


def test_broken_top_template(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", "resources: [\n")
    with pytest.raises(TemplateSyntaxError):
        collect_files(path)

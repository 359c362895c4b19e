"""The CLI reads the files python-heatclient reads (``heatclient/common/template_utils.py``).

Facts from heatclient 4.x (installed with the Heat peer), checked by running its
``get_template_contents`` and ``process_multiple_environments_and_files`` on the same trees:

- the template and environment paths become ``file://`` URLs of their real paths; each
  reference is ``urljoin``'ed to the URL of the directory of the file naming it, so ``..``,
  absolute paths, ``file://`` and ``http(s)://`` URLs all work;
- in a template, every ``get_file`` with a string argument and every ``type`` ending in
  ``.yaml``/``.template`` is read; a non-string ``get_file`` (``{get_param: f}``) is left alone;
- in an environment's ``resource_registry`` (top level and each ``resources.<name>``) every
  string without ``::`` is read, except ``base_url``, ``hooks`` and ``restricted_actions``;
  ``base_url`` (registry or per resource) replaces the environment's directory;
- the files map is keyed by those URLs, and the template, the environment and every nested
  template are rewritten to name them; a file that is a template is followed and sent as the
  JSON of its rewritten document;
- a missing file is ``Could not fetch contents for file:///...`` (kubeheat names the reference,
  the referencing file and the path).

kubeheat adds bounds: one size budget for everything read, a download timeout, regular files
only, no other URL schemes (http servers here are on 127.0.0.1).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kubeheat.cli import FileCollectionError, collect_files
from kubeheat.cli.main import main as kubeheat

HOT = "heat_template_version: 2014-10-16\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def url(path: Path) -> str:
    return path.resolve().as_uri()


# -- a tree like the heat-templates and heat-agents repositories -------------------------------

BOOT = "heat-templates/hot/software-config/boot-config"
EXAMPLES = "heat-templates/hot/software-config/example-templates"
AGENT = (
    HOT
    + """resources:
  install_config_agent:
    type: OS::Heat::SoftwareConfig
    properties:
      group: ungrouped
      config: {get_file: ../../../../../heat-agents/heat-config/install.sh}
  configure:
    type: OS::Heat::Value
    properties:
      value: {get_file: fragments/configure.sh}
outputs:
  config:
    value: {get_attr: [install_config_agent, config]}
  configure:
    value: {get_attr: [configure, value]}
"""
)
EXAMPLE = (
    HOT
    + """resources:
  boot:
    type: Heat::InstallConfigAgent
  hook:
    type: OS::Heat::Value
    properties:
      value: {get_file: ../../../../heat-agents/heat-config-script/install.sh}
  configure:
    type: OS::Heat::Value
    properties:
      value: {get_file: fragments/configure.sh}
outputs:
  boot: {value: {get_attr: [boot, config]}}
  boot_configure: {value: {get_attr: [boot, configure]}}
  hook: {value: {get_attr: [hook, value]}}
  configure: {value: {get_attr: [configure, value]}}
"""
)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    write(tmp_path / "heat-agents/heat-config/install.sh", "#!/bin/sh\necho install\n")
    write(tmp_path / "heat-agents/heat-config-script/install.sh", "#!/bin/sh\necho hook\n")
    write(tmp_path / BOOT / "templates/fragments/configure.sh", "echo boot\n")
    write(tmp_path / EXAMPLES / "fragments/configure.sh", "echo example\n")
    write(
        tmp_path / BOOT / "centos7_rdo_env.yaml",
        "resource_registry:\n"
        '  "Heat::InstallConfigAgent": "templates/install_config_agent_centos_rdo.yaml"\n'
        '  "Heat::Other": OS::Heat::None\n',
    )
    write(tmp_path / BOOT / "templates/install_config_agent_centos_rdo.yaml", AGENT)
    write(tmp_path / EXAMPLES / "example.yaml", EXAMPLE)
    return tmp_path


def test_the_heat_templates_tree_as_heatclient_sends_it(tree: Path) -> None:
    bundle = collect_files(tree / EXAMPLES / "example.yaml", [tree / BOOT / "centos7_rdo_env.yaml"])
    agent = tree / BOOT / "templates/install_config_agent_centos_rdo.yaml"
    install = url(tree / "heat-agents/heat-config/install.sh")
    boot_cfg = url(tree / BOOT / "templates/fragments/configure.sh")
    assert bundle.files == {
        url(tree / "heat-agents/heat-config-script/install.sh"): "#!/bin/sh\necho hook\n",
        url(tree / EXAMPLES / "fragments/configure.sh"): "echo example\n",
        install: "#!/bin/sh\necho install\n",
        boot_cfg: "echo boot\n",
        # a provider template: the JSON of the template with its references rewritten
        url(agent): json.dumps(
            {
                "heat_template_version": "2014-10-16",
                "resources": {
                    "install_config_agent": {
                        "type": "OS::Heat::SoftwareConfig",
                        "properties": {"group": "ungrouped", "config": {"get_file": install}},
                    },
                    "configure": {
                        "type": "OS::Heat::Value",
                        "properties": {"value": {"get_file": boot_cfg}},
                    },
                },
                "outputs": {
                    "config": {"value": {"get_attr": ["install_config_agent", "config"]}},
                    "configure": {"value": {"get_attr": ["configure", "value"]}},
                },
            }
        ),
    }
    resources = bundle.template_document["resources"]
    assert resources["hook"]["properties"]["value"] == {
        "get_file": url(tree / "heat-agents/heat-config-script/install.sh")
    }
    assert json.loads(bundle.environment_texts[0]) == {
        "resource_registry": {
            "Heat::InstallConfigAgent": url(agent),
            "Heat::Other": "OS::Heat::None",
        }
    }


def test_the_tree_runs(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = kubeheat(
        [
            "run",
            "-t",
            str(tree / EXAMPLES / "example.yaml"),
            "-e",
            str(tree / BOOT / "centos7_rdo_env.yaml"),
            "--sandbox",
            "--state",
            str(tree / "state.json"),
            "--format",
            "json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0, out
    assert out["stack_status"] == "CREATE_COMPLETE"
    assert out["outputs"] == {
        "boot": "#!/bin/sh\necho install\n",
        "boot_configure": "echo boot\n",
        "hook": "#!/bin/sh\necho hook\n",
        "configure": "echo example\n",
    }
    assert kubeheat(["delete", "--sandbox", "--state", str(tree / "state.json")]) == 0


def test_the_same_name_in_two_directories_names_two_files(tmp_path: Path) -> None:
    write(tmp_path / "cfg.sh", "top")
    write(tmp_path / "sub" / "cfg.sh", "nested")
    write(
        tmp_path / "sub" / "n.yaml",
        HOT + "resources:\n  x: {type: OS::Heat::Value, properties: {value: {get_file: cfg.sh}}}\n",
    )
    path = write(
        tmp_path / "t.yaml",
        HOT
        + """resources:
  a: {type: OS::Heat::Value, properties: {value: {get_file: cfg.sh}}}
  n: {type: sub/n.yaml}
""",
    )
    files = collect_files(path).files
    assert files[url(tmp_path / "cfg.sh")] == "top"
    assert files[url(tmp_path / "sub" / "cfg.sh")] == "nested"


def test_absolute_paths_and_file_urls(tmp_path: Path) -> None:
    a = write(tmp_path / "elsewhere" / "a.txt", "A")
    b = write(tmp_path / "elsewhere" / "b.txt", "B")
    c = write(tmp_path / "elsewhere" / "c.yaml", HOT + "resources: {}\n")
    path = write(
        tmp_path / "tpl" / "t.yaml",
        HOT
        + f"""resources:
  a: {{type: OS::Heat::Value, properties: {{value: {{get_file: "{a}"}}}}}}
  b: {{type: OS::Heat::Value, properties: {{value: {{get_file: "{url(b)}"}}}}}}
  c: {{type: "{c}"}}
""",
    )
    bundle = collect_files(path)
    assert bundle.files == {
        url(a): "A",
        url(b): "B",
        url(c): '{"heat_template_version": "2014-10-16", "resources": {}}',
    }
    assert bundle.template_document["resources"]["c"]["type"] == url(c)


def test_only_template_types_and_literal_get_file(tmp_path: Path) -> None:
    path = write(
        tmp_path / "t.yaml",
        HOT
        + """parameters:
  f: {type: string, default: x.txt}
resources:
  a: {type: OS::Heat::Value, properties: {value: {get_file: {get_param: f}}}}
  b: {type: OS::Heat::None}
""",
    )
    bundle = collect_files(path)
    assert bundle.files == {}
    assert bundle.template_document["resources"]["a"]["properties"]["value"] == {
        "get_file": {"get_param": "f"}
    }


def test_a_provider_file_that_is_not_a_template_is_sent_as_it_is(tmp_path: Path) -> None:
    write(tmp_path / "n.yaml", "resources: {}\n")  # no version: not a template
    path = write(tmp_path / "t.yaml", HOT + "resources: {n: {type: n.yaml}}\n")
    assert collect_files(path).files == {url(tmp_path / "n.yaml"): "resources: {}\n"}


def test_a_symlinked_template_resolves_from_its_real_directory(tmp_path: Path) -> None:
    write(tmp_path / "real" / "data.txt", "real")
    write(
        tmp_path / "real" / "t.yaml",
        HOT + "resources:\n  a: {type: OS::Heat::Value, "
        "properties: {value: {get_file: data.txt}}}\n",
    )
    (tmp_path / "links").mkdir()
    (tmp_path / "links" / "t.yaml").symlink_to(tmp_path / "real" / "t.yaml")
    assert collect_files(tmp_path / "links" / "t.yaml").files == {
        url(tmp_path / "real" / "data.txt"): "real"
    }


# -- environments: base_url -------------------------------------------------------------------


def test_environment_base_url(tmp_path: Path) -> None:
    write(tmp_path / "lib" / "a.yaml", HOT)
    write(tmp_path / "other" / "b.yaml", HOT)
    write(tmp_path / "env" / "rel" / "c.yaml", HOT)
    env = write(
        tmp_path / "env" / "env.yaml",
        f"""resource_registry:
  base_url: {url(tmp_path / "lib")}
  My::A: a.yaml
  resources:
    r1: {{base_url: "{url(tmp_path / "other")}/", My::B: b.yaml}}
    r2: {{base_url: rel, My::C: c.yaml, hooks: pre-create}}
""",
    )
    path = write(tmp_path / "t.yaml", HOT)
    bundle = collect_files(path, [env])
    registry = json.loads(bundle.environment_texts[0])["resource_registry"]
    assert registry == {
        "My::A": url(tmp_path / "lib" / "a.yaml"),
        "resources": {
            "r1": {"My::B": url(tmp_path / "other" / "b.yaml")},
            "r2": {"My::C": url(tmp_path / "env" / "rel" / "c.yaml"), "hooks": "pre-create"},
        },
    }
    assert len(bundle.files) == 3


def test_an_environment_without_files_is_kept_as_written(tmp_path: Path) -> None:
    env = write(
        tmp_path / "env.yaml",
        "# mine\nparameters: {a: 1}\nresource_registry: {My::A: OS::Heat::None}\n",
    )
    bundle = collect_files(write(tmp_path / "t.yaml", HOT), [env])
    assert bundle.environment_texts == [env.read_text()]


# -- missing and refused ----------------------------------------------------------------------


def test_missing_relative_file_names_the_reference_the_file_and_the_path(tree: Path) -> None:
    (tree / "heat-agents/heat-config/install.sh").unlink()
    with pytest.raises(FileCollectionError) as info:
        collect_files(tree / EXAMPLES / "example.yaml", [tree / BOOT / "centos7_rdo_env.yaml"])
    agent = tree / BOOT / "templates/install_config_agent_centos_rdo.yaml"
    assert str(info.value) == (
        "resources.install_config_agent.properties.config.get_file: cannot read "
        f'"../../../../../heat-agents/heat-config/install.sh" in {agent}: no such file '
        f"{tree / 'heat-agents/heat-config/install.sh'}"
    )


def test_missing_environment_provider(tmp_path: Path) -> None:
    env = write(
        tmp_path / "env.yaml",
        "resource_registry:\n  resources:\n    web:\n      My::T: gone.yaml\n",
    )
    with pytest.raises(FileCollectionError) as info:
        collect_files(write(tmp_path / "t.yaml", HOT), [env])
    assert info.value.location == "resource_registry.resources.web.My::T"
    assert f'cannot read "gone.yaml" in {env}: no such file {tmp_path / "gone.yaml"}' in str(
        info.value
    )


def test_missing_absolute_path_and_file_url(tmp_path: Path) -> None:
    for ref in (str(tmp_path / "nope.txt"), url(tmp_path) + "/nope.txt"):
        path = write(
            tmp_path / "t.yaml",
            HOT + "resources:\n  a: {type: OS::Heat::Value, "
            f'properties: {{value: {{get_file: "{ref}"}}}}}}\n',
        )
        with pytest.raises(FileCollectionError, match=f"no such file {tmp_path / 'nope.txt'}"):
            collect_files(path)


@pytest.mark.parametrize("ref", ["ftp://127.0.0.1/x", "data:text/plain,hi"])
def test_other_url_schemes_are_refused(tmp_path: Path, ref: str) -> None:
    path = write(
        tmp_path / "t.yaml",
        HOT + "resources:\n  a: {type: OS::Heat::Value, "
        f'properties: {{value: {{get_file: "{ref}"}}}}}}\n',
    )
    with pytest.raises(FileCollectionError, match="reads only file://, http:// and https://"):
        collect_files(path)


# -- http -------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, bytes] = {}

    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(2)
        if self.path == "/drip":  # no Content-Length, a byte every 50 ms for 3 s
            self.send_response(200)
            self.end_headers()
            with contextlib.suppress(OSError):
                for _ in range(60):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.05)
            return
        body = self.routes.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client may hang up (size limit, timeout)
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web() -> Iterator[str]:
    _Handler.routes = {
        "/t/child.yaml": (
            HOT + "resources:\n  c: {type: OS::Heat::Value, properties: "
            "{value: {get_file: ../data/motd}}}\noutputs:\n  o: {value: {get_attr: [c, value]}}\n"
        ).encode(),
        "/data/motd": b"hello from the web\n",
        "/big": b"x" * 5000,
        "/slow": b"late",
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _web_template(tmp: Path, ref: str, key: str = "get_file") -> Path:
    if key == "type":
        return write(tmp / "t.yaml", HOT + f'resources:\n  n: {{type: "{ref}"}}\n')
    return write(
        tmp / "t.yaml",
        HOT + "resources:\n  a: {type: OS::Heat::Value, "
        f'properties: {{value: {{get_file: "{ref}"}}}}}}\n',
    )


def test_http_provider_and_its_relative_files(tmp_path: Path, web: str) -> None:
    bundle = collect_files(_web_template(tmp_path, f"{web}/t/child.yaml", "type"))
    assert bundle.files[f"{web}/data/motd"] == "hello from the web\n"
    child = json.loads(bundle.files[f"{web}/t/child.yaml"])
    assert child["resources"]["c"]["properties"]["value"] == {"get_file": f"{web}/data/motd"}


def test_http_size_limit(tmp_path: Path, web: str) -> None:
    path = _web_template(tmp_path, f"{web}/big")
    assert len(collect_files(path, max_total_bytes=10_000).files[f"{web}/big"]) == 5000
    with pytest.raises(FileCollectionError, match="exceed 2000 bytes in total") as info:
        collect_files(path, max_total_bytes=2000)
    assert info.value.location == "resources.a.properties.value.get_file"


def test_http_timeout(tmp_path: Path, web: str) -> None:
    started = time.monotonic()
    with pytest.raises(
        FileCollectionError, match=f"could not fetch {web}/slow: timed out after 0.3 seconds"
    ):
        collect_files(_web_template(tmp_path, f"{web}/slow"), timeout=0.3)
    assert time.monotonic() - started < 1.5


def test_http_timeout_bounds_the_whole_download(tmp_path: Path, web: str) -> None:
    started = time.monotonic()
    with pytest.raises(FileCollectionError, match=r"timed out after 0\.5 seconds"):
        collect_files(_web_template(tmp_path, f"{web}/drip"), timeout=0.5)
    assert time.monotonic() - started < 1.5


def test_http_error(tmp_path: Path, web: str) -> None:
    with pytest.raises(FileCollectionError) as info:
        collect_files(_web_template(tmp_path, f"{web}/missing.sh"))
    assert str(info.value) == (
        f'resources.a.properties.value.get_file: cannot read "{web}/missing.sh" in '
        f"{tmp_path / 't.yaml'}: could not fetch {web}/missing.sh: HTTP 404 Not Found"
    )


def test_nothing_listening(tmp_path: Path, web: str) -> None:
    closed = "http://127.0.0.1:1/x.sh"
    with pytest.raises(FileCollectionError, match=re.escape(f"could not fetch {closed}")):
        collect_files(_web_template(tmp_path, closed))


def test_validate_reports_a_missing_file_with_its_place(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tree / EXAMPLES / "fragments/configure.sh").unlink()
    code = kubeheat(
        [
            "validate",
            "-t",
            str(tree / EXAMPLES / "example.yaml"),
            "-e",
            str(tree / BOOT / "centos7_rdo_env.yaml"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert err == (
        'ERROR: resources.configure.properties.value.get_file: cannot read "fragments/'
        f'configure.sh" in {tree / EXAMPLES / "example.yaml"}: no such file '
        f"{tree / EXAMPLES / 'fragments/configure.sh'}\n"
    )


def test_validate_and_run_with_http_files(
    tmp_path: Path, web: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path / "t.yaml",
        HOT
        + f"""resources:
  n: {{type: "{web}/t/child.yaml"}}
  m: {{type: OS::Heat::Value, properties: {{value: {{get_file: "{web}/data/motd"}}}}}}
outputs:
  motd: {{value: {{get_attr: [m, value]}}}}
  nested: {{value: {{get_attr: [n, o]}}}}
""",
    )
    assert kubeheat(["validate", "-t", str(path)]) == 0
    capsys.readouterr()
    state = str(tmp_path / "state.json")
    code = kubeheat(["run", "-t", str(path), "--sandbox", "--state", state, "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0, out
    assert out["outputs"] == {"motd": "hello from the web\n", "nested": "hello from the web\n"}
    assert {r["name"]: r["type"] for r in out["resources"]}["n"] == f"{web}/t/child.yaml"
    assert kubeheat(["delete", "--sandbox", "--state", state]) == 0


def test_template_and_environment_given_as_urls(
    tmp_path: Path, web: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """heatclient takes a URL for the template and the environments too; their references
    resolve against those URLs."""
    _Handler.routes["/t/main.yaml"] = (
        HOT + "resources:\n  c: {type: My::Child}\noutputs:\n  o: {value: {get_attr: [c, o]}}\n"
    ).encode()
    _Handler.routes["/env/env.yaml"] = b"resource_registry:\n  My::Child: ../t/child.yaml\n"
    bundle = collect_files(f"{web}/t/main.yaml", [f"{web}/env/env.yaml"])
    assert set(bundle.files) == {f"{web}/t/child.yaml", f"{web}/data/motd"}
    assert json.loads(bundle.environment_texts[0]) == {
        "resource_registry": {"My::Child": f"{web}/t/child.yaml"}
    }
    local_env = write(
        tmp_path / "env.yaml", f"resource_registry:\n  My::Child: {web}/t/child.yaml\n"
    )
    state = str(tmp_path / "state.json")
    code = kubeheat(
        [
            "run",
            "-t",
            f"{web}/t/main.yaml",
            "-e",
            str(local_env),
            "--sandbox",
            "--state",
            state,
            "--format",
            "json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0, out
    assert out["stack_name"] == "main"
    assert out["outputs"] == {"o": "hello from the web\n"}
    assert kubeheat(["delete", "--sandbox", "--state", state]) == 0

"""The CLI on templates that cost CPU time (review H4, L4, L7): ``validate`` and ``run`` end
promptly with exit 1 and an error naming the parameter or the template, never hang.

Each command runs as a separate process bounded by a timeout (a hang fails the test instead of
freezing the suite: Python's re holds the GIL, so an in-process bound could not fire)."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import finish, spawn

RE_YAML = """\
heat_template_version: 2016-10-14
parameters:
  p: {type: string, constraints: [{allowed_pattern: "(a|aa)+$"}]}
resources: {}
"""
#: the review's own re.yaml (H4)
REVIEW_RE_YAML = RE_YAML.replace("(a|aa)+$", "(a+)+$")
EVIL_VALUE = "a" * 40 + "!"


def kubeheat(*argv: str, timeout: float = 120) -> tuple[int, str, str]:
    return finish(spawn(*argv), timeout)


def test_validate_refuses_a_backtracking_allowed_pattern(tmp_path: Path) -> None:
    tpl = tmp_path / "re.yaml"
    tpl.write_text(RE_YAML, encoding="utf-8")
    code, out, err = kubeheat("validate", "-t", str(tpl), "-P", f"p={EVIL_VALUE}")
    assert code == 1
    assert err.strip() == ("ERROR: parameters.p: Parameter 'p' is invalid: allowed_pattern "
                           '"(a|aa)+$" took too long to match (more than 1 s); simplify the '
                           "pattern")
    assert out == ""


def test_validate_answers_the_reviews_re_yaml(tmp_path: Path) -> None:
    tpl = tmp_path / "re.yaml"
    tpl.write_text(REVIEW_RE_YAML, encoding="utf-8")
    code, _, err = kubeheat("validate", "-t", str(tpl), "-P", f"p={EVIL_VALUE}")
    assert code == 1
    assert err.strip() == (f"ERROR: parameters.p: Parameter 'p' is invalid: \"{EVIL_VALUE}\" "
                           'does not match pattern "(a+)+$"')


def test_run_with_a_backtracking_pattern_ends_with_the_parameter_error(tmp_path: Path) -> None:
    tpl = tmp_path / "re.yaml"
    tpl.write_text(RE_YAML, encoding="utf-8")
    state = tmp_path / "s.json"
    code, _, err = kubeheat("run", "-t", str(tpl), "--state", str(state), "--timeout", "1",
                            "-P", f"p={EVIL_VALUE}")
    assert code == 2                             # as for any invalid parameter value
    assert "parameters.p: Parameter 'p' is invalid: allowed_pattern" in err
    assert "took too long to match" in err


YAQL_YAML = """\
heat_template_version: 2016-10-14
parameters:
  d: {type: string}
resources:
  r:
    type: OS::Heat::Value
    properties:
      value: {yaql: {expression: "regex('(a|aa)+$').matches($.data)", data: {get_param: d}}}
"""


def test_validate_and_run_end_on_a_backtracking_yaql_regex(tmp_path: Path) -> None:
    tpl = tmp_path / "y.yaml"
    tpl.write_text(YAQL_YAML, encoding="utf-8")
    code, _, err = kubeheat("validate", "-t", str(tpl), "-P", f"d={EVIL_VALUE}")
    assert code == 0, err                 # validate does not evaluate properties (as Heat)
    code, _, err = kubeheat("run", "-t", str(tpl), "--state", str(tmp_path / "s.json"),
                            "--timeout", "1", "-P", f"d={EVIL_VALUE}")
    assert code == 2                      # refused before anything is created
    assert ('resources.r.properties.value.yaql: Evaluating the yaql expression failed: the '
            'pattern "(a|aa)+$" took too long to match') in err


STR_REPLACE_YAML = """\
heat_template_version: 2018-08-31
parameters:
  text: {type: string}
  params: {type: json}
resources:
  v:
    type: OS::Heat::Value
    properties:
      value: {str_replace: {template: {get_param: text}, params: {get_param: params}}}
outputs:
  middle: {value: {str_split: [" ", {get_attr: [v, value]}, 12345]}}
  tail: {value: {str_split: [" ", {get_attr: [v, value]}, 29999]}}
"""


def test_run_with_thirty_thousand_str_replace_params_ends(tmp_path: Path) -> None:
    """Quadratic before (the review: 8000 params took 25 s, 15000 more than 60): bounded by the
    command's timeout, this would hang for many minutes."""
    params = {f"<{i:x}>": f"{i:x}" for i in range(30000)}      # under the 512 KB value limit
    (tmp_path / "text.txt").write_text(" ".join(params), encoding="utf-8")
    (tmp_path / "params.json").write_text(json.dumps(params, separators=(",", ":")),
                                          encoding="utf-8")
    tpl = tmp_path / "sr.yaml"
    tpl.write_text(STR_REPLACE_YAML, encoding="utf-8")
    code, out, err = kubeheat("run", "-t", str(tpl), "--state", str(tmp_path / "s.json"),
                              "--format", "json",
                              "--parameter-file", f"text={tmp_path / 'text.txt'}",
                              "--parameter-file", f"params={tmp_path / 'params.json'}",
                              timeout=60)
    assert code == 0, err
    outputs = json.loads(out)["outputs"]
    assert outputs["tail"] == f"{29999:x}"
    assert outputs["middle"] == f"{12345:x}"


JSON_YAML = """\
heat_template_version: 2016-10-14
parameters:
  j: {type: json}
resources:
  r: {type: OS::Heat::None}
outputs:
  o: {value: {get_param: j}}
"""


def test_a_json_parameter_file_nested_900_deep_is_refused_before_anything_runs(
        tmp_path: Path) -> None:
    """Before: CREATE_IN_PROGRESS was recorded, then saving the stack failed with 'maximum
    recursion depth exceeded'."""
    tpl = tmp_path / "j.yaml"
    tpl.write_text(JSON_YAML, encoding="utf-8")
    deep = tmp_path / "jd900.txt"
    deep.write_text("[" * 900 + "]" * 900, encoding="utf-8")
    expected = ("ERROR: parameters.j: Parameter 'j' is invalid: the value nests deeper than 128 "
                "levels")
    code, _, err = kubeheat("validate", "-t", str(tpl), "--parameter-file", f"j={deep}")
    assert (code, err.strip()) == (1, expected)
    state = tmp_path / "s.json"
    code, out, err = kubeheat("run", "-t", str(tpl), "--state", str(state),
                              "--parameter-file", f"j={deep}")
    assert (code, err.strip()) == (2, expected)
    assert "recursion" not in out + err
    assert not state.exists() or json.loads(state.read_text())["stacks"] == {}


def test_validate_of_a_json_template_nested_100000_deep(tmp_path: Path) -> None:
    """Before: '... is not valid YAML at line 1 ...', JSON's RecursionError falling through to
    the YAML parser."""
    tpl = tmp_path / "deepj.json"
    tpl.write_text('{"heat_template_version": "2016-10-14", "description": '
                   + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    code, _, err = kubeheat("validate", "-t", str(tpl))
    assert (code, err.strip()) == (1, f"ERROR: Template {tpl} nests too deeply to be parsed")

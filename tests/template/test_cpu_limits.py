"""Template evaluation bounded in CPU time (review H4, L4, L7): a backtracking regex in
``allowed_pattern`` or yaql ends in a clear error instead of running for hours and holding the
GIL, ``str_replace`` is linear in its params, and deep json values and templates are refused
with an error naming where they are.

No test measures speed: each asserts an outcome (the error, its path) or an order of events
(another thread ran while a match was in progress)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeheat.template import patterns
from kubeheat.template.errors import TemplateError
from kubeheat.template.patterns import (
    MATCH_TIMEOUT,
    PatternTimeout,
    compile_pattern,
    full_match,
    match_budget,
)
from kubeheat.template.stack import StackDefinition, Template

HOT = "heat_template_version: 2016-10-14\n"
AWS = "AWSTemplateFormatVersion: '2010-09-09'\n"
#: backtracks exponentially in Python's re and in the regex package alike
EVIL = "(a|aa)+$"
EVIL_VALUE = "a" * 40 + "!"


def define(source: str, params: dict[str, Any] | None = None) -> StackDefinition:
    return Template.load(source).define(params)


def error(source: str, params: dict[str, Any] | None = None) -> TemplateError:
    with pytest.raises(TemplateError) as info:
        define(source, params)
    return info.value


# -- H4: allowed_pattern -----------------------------------------------------------------------
def test_a_backtracking_allowed_pattern_is_refused_with_the_parameter_path() -> None:
    source = HOT + ("parameters:\n  p: {type: string, constraints: "
                    f'[{{allowed_pattern: "{EVIL}"}}]}}\n')
    exc = error(source, {"p": EVIL_VALUE})
    assert str(exc) == (
        f"parameters.p: Parameter 'p' is invalid: allowed_pattern \"{EVIL}\" took too long to "
        f"match (more than {MATCH_TIMEOUT:g} s); simplify the pattern")


def test_the_review_pattern_gives_heats_verdict() -> None:
    source = HOT + 'parameters:\n  p: {type: string, constraints: [{allowed_pattern: "(a+)+$"}]}\n'
    exc = error(source, {"p": EVIL_VALUE})
    assert str(exc) == (f"parameters.p: Parameter 'p' is invalid: \"{EVIL_VALUE}\" does not "
                        'match pattern "(a+)+$"')
    define(source, {"p": "a" * 40})


def test_the_timeout_wins_over_the_templates_description_and_hides_nothing() -> None:
    source = HOT + ("parameters:\n  p:\n    type: string\n    hidden: true\n    constraints:\n"
                    f'      - {{allowed_pattern: "{EVIL}", description: only letters a}}\n')
    message = str(error(source, {"p": EVIL_VALUE}))
    assert "took too long to match" in message
    assert EVIL_VALUE not in message


def test_a_cfn_allowed_pattern_is_bounded_too() -> None:
    source = AWS + f'Parameters:\n  P: {{Type: String, AllowedPattern: "{EVIL}"}}\n'
    exc = error(source, {"P": EVIL_VALUE})
    assert str(exc).startswith("parameters.P: Parameter 'P' is invalid: ")
    assert "took too long to match" in str(exc)


def test_a_backtracking_default_is_refused_as_an_invalid_schema() -> None:
    source = HOT + ("parameters:\n  p: {type: string, "
                    f'default: "{EVIL_VALUE}", constraints: [{{allowed_pattern: "{EVIL}"}}]}}\n')
    exc = error(source)
    assert str(exc).startswith("parameters.p: ")
    assert "took too long to match" in str(exc)


@pytest.mark.parametrize(("pattern", "value", "matches"), [
    ("a|ab", "ab", False),          # match + end check, as Heat: not fullmatch
    ("a|ab", "a", True),
    ("[0-9]*", "", True),
    ("[a-z]+", "abc1", False),
    ("(?i)ABC", "abc", True),
    ("\\d+", "\u0661\u0662", True),  # Unicode digits, as Python's re
    ("x$", "x\n", False),           # $ may match before a final newline; the end check refuses
])
def test_full_match_keeps_heats_semantics(pattern: str, value: str, matches: bool) -> None:
    assert full_match(pattern, value) is matches


def test_an_invalid_pattern_keeps_pythons_message() -> None:
    source = HOT + 'parameters:\n  p: {type: string, constraints: [{allowed_pattern: "(a"}]}\n'
    assert str(error(source)) == (
        "parameters.p.constraints[0].allowed_pattern: Invalid AllowedPattern \"(a\": missing ), "
        "unterminated subpattern at position 0")


def test_matching_releases_the_gil() -> None:
    """While one thread is stuck in a backtracking match, another keeps running (Python's re
    would hold the GIL for the whole match, so the counter could not move)."""
    pattern = compile_pattern(EVIL)
    outcome: list[str] = []
    started = threading.Event()

    def stuck() -> None:
        started.set()
        try:
            pattern.match(EVIL_VALUE)
            outcome.append("matched")
        except PatternTimeout:
            outcome.append("timed out")

    worker = threading.Thread(target=stuck)
    worker.start()
    started.wait(30)
    ticks = 0
    while worker.is_alive() and ticks < 20:
        threading.Event().wait(0.005)
        ticks += 1
    seen_alive = worker.is_alive()
    worker.join(60)
    assert ticks == 20 and seen_alive          # this thread ran 20 times during the match
    assert outcome == ["timed out"]


def test_matches_in_one_scope_share_a_budget() -> None:
    """Many matches each under the timeout cannot add up without end: inside a scope, once the
    budget is spent, the next match is refused."""
    pattern = compile_pattern(EVIL)
    budgets: list[float | None] = []
    with match_budget(1.5):
        for _ in range(3):
            with pytest.raises(PatternTimeout) as info:
                pattern.match(EVIL_VALUE)
            budgets.append(info.value.budget)
    assert budgets == [None, 1.5, 1.5]      # the first hit the per-match timeout
    assert "took more than 1.5 s in total" in str(info.value)


def test_binding_and_evaluation_each_run_in_a_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(patterns, "MATCH_BUDGET", 0.0)
    assert compile_pattern("a").match("a") is not None        # no scope: no budget
    source = HOT + 'parameters:\n  p: {type: string, constraints: [{allowed_pattern: "a"}]}\n'
    assert str(error(source, {"p": "a"})) == (
        "parameters.p: Parameter 'p' is invalid: allowed_pattern \"a\" took too long to match "
        "(the regular expressions here took more than 0 s in total); simplify the pattern")
    with pytest.raises(TemplateError, match="took more than 0 s in total"):
        yaql_output("regex('a').matches($.data)", "a")


# -- H4: yaql's regex functions ----------------------------------------------------------------
def yaql_output(expression: str, data: Any) -> Any:
    doc = {"heat_template_version": "2016-10-14",
           "outputs": {"o": {"value": {"yaql": {"expression": expression, "data": data}}}}}
    return Template.load(doc).define().output_value("o")


def stock_yaql(expression: str, data: Any) -> Any:
    """``expression`` evaluated by yaql with its own regex library (Python's re)."""
    import yaql

    from kubeheat.template.functions.hot_other import Yaql, _yaql_output

    engine = Yaql.engine()
    value = engine(expression).evaluate({"data": data}, yaql.create_context())
    return _yaql_output(value)


SAME_AS_YAQL = [
    ("regex('a.c').matches($.data)", "xabc"),
    ("regex('A.c', ignoreCase => true).matches($.data)", "abc"),
    ("regex('^b', multiLine => true).matches($.data)", "a\nb"),
    ("regex('a.b', dotAll => true).matches($.data)", "a\nb"),
    ("regex('a.b').matches($.data)", "a\nb"),
    ("$.data.matches('a.c')", "zabc"),
    ("$.data =~ 'a.c'", "abc"),
    ("$.data =~ regex('a.c')", "abd"),
    ("$.data !~ 'a.c'", "abc"),
    ("$.data !~ regex('a.c')", "abd"),
    ("regex('a.c').search($.data)", "cabcadc"),
    ("regex('a.c').search($.data, $)", "cabc"),
    ("regex('a.c').search($.data, $.start)", "cabc"),
    ("regex('(a)(.)c').search($.data, [$1, $2, $3])", "cabc"),
    ("regex('a.c').search($.data)", "zzz"),
    ("regex('a.c').searchAll($.data)", "abcadc"),
    ("regex('a.c').searchAll($.data, $.end)", "abcadc"),
    ("regex('a.').split($.data)", "abcadc"),
    ("regex('a.').split($.data, maxSplit => 1)", "abcadc"),
    ("$.data.split(regex('a.'))", "abcadc"),
    ("$.data.split(',')", "a,b"),
    ("regex('a.').replace($.data, 'xx')", "abcadc"),
    ("regex('a.').replace($.data, 'xx', count => 1)", "abcadc"),
    ("regex('(a)').replace($.data, '<\\\\1>')", "xax"),
    ("$.data.replace(regex('a.'), 'xx')", "abcadc"),
    ("$.data.replace('a', 'xx')", "abcadc"),
    ("regex('a.c').replaceBy($.data, switch($.value = 'abc' => x, $.value = 'adc' => y))",
     "abcadc"),
    ("$.data.replaceBy(regex('a.c'), $.value + '!', count => 1)", "abcadc"),
    ("escapeRegex($.data)", "a.b*"),
    ("isRegex(regex('a'))", None),
    ("isRegex($.data)", "a"),
    ("regex('a') = regex('a')", None),
    ("$.data.where($.matches('^a')).len()", ["ab", "ba", "ac"]),
]


@pytest.mark.parametrize(("expression", "data"), SAME_AS_YAQL, ids=[c[0] for c in SAME_AS_YAQL])
def test_bounded_regex_functions_give_yaqls_results(expression: str, data: Any) -> None:
    assert yaql_output(expression, data) == stock_yaql(expression, data)


@pytest.mark.parametrize("expression", [
    f"regex('{EVIL}').matches($.data)",
    f"$.data.matches('{EVIL}')",
    f"$.data =~ '{EVIL}'",
    f"$.data !~ regex('{EVIL}')",
    f"regex('{EVIL}').search($.data)",
    f"regex('{EVIL}').searchAll($.data)",
    f"regex('{EVIL}').split($.data)",
    f"$.data.split(regex('{EVIL}'))",
    f"regex('{EVIL}').replace($.data, 'x')",
    f"regex('{EVIL}').replaceBy($.data, $.value)",
])
def test_a_backtracking_yaql_regex_is_refused_with_its_path(expression: str) -> None:
    with pytest.raises(TemplateError) as info:
        yaql_output(expression, EVIL_VALUE)
    assert str(info.value) == (
        f'outputs.o.value.yaql: Evaluating the yaql expression failed: the pattern "{EVIL}" '
        f"took too long to match (more than {MATCH_TIMEOUT:g} s); simplify the pattern")


def test_the_reviews_yaql_case_gives_yaqls_answer() -> None:
    assert yaql_output("regex('(a+)+$').matches($.data)", EVIL_VALUE) is False


def test_an_invalid_yaql_regex_is_named() -> None:
    with pytest.raises(TemplateError) as info:
        yaql_output("regex('(').matches($.data)", "a")
    assert str(info.value) == (
        "outputs.o.value.yaql: Evaluating the yaql expression failed: invalid regular "
        "expression: missing ), unterminated subpattern at position 0")


def test_a_named_group_is_published_by_name() -> None:
    # yaql's own library fails on any named group (ValueError)
    assert yaql_output("regex('(?P<n>a)b').search($.data, $n.start)", "zab") == 1


# -- H4: str_replace in linear time, with Heat's semantics -------------------------------------
def heats_str_replace(template: str, params: dict[str, str]) -> tuple[str, set[str]]:
    """The reference: Heat's rule written as it states it, splitting the template by one key
    after the other (longest first, equal lengths alphabetically), each remaining piece of the
    template searched by the keys after, inserted values never searched (quadratic)."""
    found: set[str] = set()
    pieces: list[tuple[bool, str]] = [(True, template)]     # (a piece of the template, text)
    for key in sorted(sorted(params), key=len, reverse=True):
        out: list[tuple[bool, str]] = []
        for searchable, text in pieces:
            if not searchable:
                out.append((False, text))
                continue
            parts = text.split(key)
            if len(parts) > 1:
                found.add(key)
            for i, part in enumerate(parts):
                if i:
                    out.append((False, params[key]))
                out.append((True, part))
        pieces = out
    return "".join(text for _, text in pieces), found


def str_replace(template: str, params: dict[str, Any], fn: str = "str_replace") -> Any:
    doc = {"heat_template_version": "2018-08-31",
           "outputs": {"o": {"value": {fn: {"template": template, "params": params}}}}}
    return Template.load(doc).define().output_value("o")


@pytest.mark.parametrize(("template", "params", "expected"), [
    # a longer key wins over a shorter one that starts earlier and overlaps it
    ("abcd", {"bcd": "X", "ab": "Y"}, "aX"),
    # equal lengths: the alphabetically first wins
    ("abc", {"bc": "X", "ab": "Y"}, "Yc"),
    ("abc", {"ab": "Y", "bc": "X"}, "Yc"),
    # a value holding another key is not searched again
    ("$a $b", {"$a": "$b", "$b": "B"}, "$b B"),
    ("%long% %l%", {"%long%": "%l%", "%l%": "short"}, "%l% short"),
    # non-overlapping, leftmost first
    ("aaaaa", {"aa": "X"}, "XXa"),
    # a shorter key is found between and around the longer one's occurrences
    ("xaby-xy", {"xaby": "1", "x": "2", "y": "3"}, "1-23"),
    # a shorter key spanning a replaced occurrence is not found
    ("abcab", {"bca": "X", "ab": "Y"}, "aXb"),
    # non-string values
    ("n=N b=B l=L m=M z=Z", {"N": 1, "B": True, "L": [1, "a"], "M": {"k": None}, "Z": None},
     'n=1 b=True l=[1, "a"] m={"k": null} z='),
])
def test_str_replace_keeps_heats_order_and_never_rescans(template: str, params: dict[str, Any],
                                                         expected: str) -> None:
    assert str_replace(template, params) == expected


def test_many_keys_use_one_scan_with_the_same_result() -> None:
    params = {f"%p{i}%": f"<{i}%p{i + 1}%>" for i in range(1000)}
    template = " ".join(params) + " %p1%%p10%%p100%"
    assert str_replace(template, params) == heats_str_replace(template, params)[0]


def test_scanned_keys_mixed_with_long_and_prefix_keys() -> None:
    """Short keys no other key extends are scanned; long ones and prefixes of others are
    searched one by one: all in Heat's order."""
    params = {f"<{i}>": f"[{i}]" for i in range(40)}
    params |= {"<1": "P", "<": "Q", "<3><4>" * 20: "LONG", "4><5><6": "MID", ">": "G"}
    template = ("<1><2><3><4>" + "<3><4>" * 21 + "<5><6><7><1<<"
                + "".join(f"<{i}>" for i in range(40)))
    assert str_replace(template, params) == heats_str_replace(template, params)[0]


@pytest.mark.parametrize("depth", [30, 120])      # within the scanner's depth, and beyond it
def test_keys_nested_as_prefixes(depth: int) -> None:
    params = {"a" * n: str(n) for n in range(1, depth)}    # each key a prefix of the next
    template = "a" * 500 + "b" + "a" * 7 + "ba"
    assert str_replace(template, params) == heats_str_replace(template, params)[0]


@pytest.mark.parametrize("fn", ["str_replace_strict", "str_replace_vstrict"])
def test_strict_variants_name_the_missing_keys_in_heats_order(fn: str) -> None:
    params = {f"k{i}": "v" for i in range(40)} | {"long_missing": "v", "zz": "v"}
    template = " ".join(f"k{i}" for i in range(40))
    with pytest.raises(TemplateError) as info:
        str_replace(template, params, fn)
    assert str(info.value) == (f"outputs.o.value.{fn}: The following params were not found in "
                               "the template: long_missing,zz")


def test_vstrict_refuses_an_empty_value_among_many() -> None:
    params = {f"k{i}": "v" for i in range(40)} | {"k7": ""}
    with pytest.raises(TemplateError) as info:
        str_replace(" ".join(params), params, "str_replace_vstrict")
    assert str(info.value) == (
        "outputs.o.value.str_replace_vstrict: str_replace_vstrict has an undefined or empty "
        "value for param k7, must be a defined non-empty value")


@settings(max_examples=300, deadline=None)
@given(template=st.text(alphabet="abc$", max_size=40),
       params=st.dictionaries(st.text(alphabet="abc$", min_size=1, max_size=5),
                              st.text(alphabet="abcX$", max_size=4), max_size=12))
def test_str_replace_of_few_keys_equals_heats_splitting(template: str,
                                                         params: dict[str, str]) -> None:
    check_equals_heats_splitting(template, params)


@settings(max_examples=300, deadline=None)
@given(template=st.text(alphabet="abc$", max_size=60),
       params=st.dictionaries(st.text(alphabet="abc$", min_size=1, max_size=5),
                              st.text(alphabet="abcX$", max_size=4), min_size=17, max_size=40))
def test_str_replace_of_many_keys_equals_heats_splitting(template: str,
                                                          params: dict[str, str]) -> None:
    check_equals_heats_splitting(template, params)


def check_equals_heats_splitting(template: str, params: dict[str, str]) -> None:
    expected, found = heats_str_replace(template, params)
    assert str_replace(template, params) == expected
    if found != set(params):
        with pytest.raises(TemplateError, match="were not found in the template"):
            str_replace(template, params, "str_replace_strict")
    else:
        assert str_replace(template, params, "str_replace_strict") == expected


# -- L4: json parameter values nest no deeper than templates -----------------------------------
JSON_PARAM = HOT + "parameters:\n  j: {type: json}\noutputs:\n  o: {value: {get_param: j}}\n"


def nested(levels: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(levels - 1):
        value = [value]
    return value


@pytest.mark.parametrize("given", ["text", "data"])
def test_a_json_value_nesting_deeper_than_templates_may_is_refused(given: str) -> None:
    value: Any = nested(900)
    if given == "text":
        value = "[" * 900 + "]" * 900
    exc = error(JSON_PARAM, {"j": value})
    assert str(exc) == ("parameters.j: Parameter 'j' is invalid: the value nests deeper than "
                        "128 levels")


def test_a_json_value_too_deep_for_the_json_parser_is_refused() -> None:
    exc = error(JSON_PARAM, {"j": "[" * 100_000 + "]" * 100_000})
    assert str(exc) == ("parameters.j: Parameter 'j' is invalid: Value must be valid JSON: the "
                        "value nests too deeply to be parsed")


def test_a_json_value_at_the_depth_limit_is_accepted() -> None:
    assert define(JSON_PARAM, {"j": "[" * 128 + "]" * 128}).output_value("o") == nested(128)
    assert str(error(JSON_PARAM, {"j": nested(129)})).endswith("nests deeper than 128 levels")


def test_a_deep_value_for_a_string_parameter_is_refused_too() -> None:
    source = HOT + "parameters:\n  s: {type: string}\n"
    assert str(error(source, {"s": nested(900)})) == (
        "parameters.s: Parameter 's' is invalid: the value nests deeper than 128 levels")


# -- L7: a document nested too deeply to parse says so -----------------------------------------
@pytest.mark.parametrize("source", [
    '{"heat_template_version": "2016-10-14", "description": ' + "[" * 100_000 + "]" * 100_000
    + "}",
    HOT + "description: " + "[" * 100_000 + "]" * 100_000 + "\n",
], ids=["json", "yaml"])
def test_a_template_nested_too_deeply_to_parse_says_so(source: str) -> None:
    from kubeheat.template.errors import TemplateLimitError

    with pytest.raises(TemplateLimitError) as info:
        Template.load(source)
    assert str(info.value) == "Template nests too deeply to be parsed"


def test_a_json_template_a_little_too_deep_gives_the_depth_limit() -> None:
    source = '{"heat_template_version": "2016-10-14", "description": ' + "[" * 200 + "]" * 200 + "}"
    assert str(error(source)) == "Template nests deeper than 128 levels"


# -- CloudFormation's Fn::Replace shares the substitution ----------------------------------------
def fn_replace(params: dict[str, Any], template: str) -> Any:
    doc = {"AWSTemplateFormatVersion": "2010-09-09",
           "Outputs": {"o": {"Value": {"Fn::Replace": [params, template]}}}}
    return Template.load(doc).define().output_value("o")


def test_fn_replace_takes_thousands_of_params() -> None:
    """Before: one recursion level per param, 'Evaluation nests too deeply' past ~1000."""
    params = {f"%p{i}%": f"<{i}%p{i + 1}%>" for i in range(3000)}
    template = " ".join(params)
    assert fn_replace(params, template) == " ".join(params.values())
    small = dict(list(params.items())[:100])
    assert fn_replace(small, template) == heats_str_replace(template, small)[0]


def test_fn_replace_result_size_is_bounded() -> None:
    with pytest.raises(TemplateError) as info:
        fn_replace({"a": "b" * 20000}, "a" * 1000)
    assert str(info.value) == ('Outputs.o.Value.Fn::Replace: "Fn::Replace" would produce '
                               "20000000 characters; the limit is 16777216")


# -- H4: patterns that would take the regex package long to compile ----------------------------
@pytest.mark.parametrize(("pattern", "reason"), [
    ("(?:(?:a{1000}){1000}){1000}",
     "the pattern is too large once its repeats are counted (more than 1000000 items)"),
    ("a{4294967294}",
     "the pattern is too large once its repeats are counted (more than 1000000 items)"),
    ("(" * 5000 + ")" * 5000, "the pattern nests too deeply"),
])
def test_a_pattern_too_large_to_compile_is_refused(pattern: str, reason: str) -> None:
    source = HOT + ("parameters:\n  p:\n    type: string\n    constraints:\n"
                    f"      - allowed_pattern: '{pattern}'\n")
    exc = error(source)
    assert str(exc) == (f'parameters.p.constraints[0].allowed_pattern: Invalid AllowedPattern '
                        f'"{pattern}": {reason}')


def test_counted_repeats_within_the_limit_compile() -> None:
    assert full_match("(?:a{300}){300}", "a" * 90_000)
    assert full_match("(?:[0-9]{1,3}\\.){3}[0-9]{1,3}", "10.0.0.1")

"""Environments: sections and their errors, the resource registry, and merging in order."""

from __future__ import annotations

from typing import Any

import pytest

from kubeheat.template import (
    EnvironmentFormatError,
    Limits,
    TemplateError,
    TemplateLimitError,
    TemplateSyntaxError,
)
from kubeheat.template.environment import (
    EntryKind,
    Environment,
    EventSink,
    ResourceRegistry,
    merge_environments,
    parse_environment,
)


def registry(data: dict[str, Any]) -> ResourceRegistry:
    return parse_environment({"resource_registry": data}).resource_registry


def fails(source: Any, **kwargs: Any) -> EnvironmentFormatError:
    with pytest.raises(EnvironmentFormatError) as info:
        parse_environment(source, **kwargs)
    return info.value


# -- sections ---------------------------------------------------------------------------------


def test_all_sections_parse() -> None:
    env = parse_environment("""
parameters: {flavor: m1.small, count: 3}
parameter_defaults: {image: cirros}
resource_registry: {"My::Server": "OS::Nova::Server"}
event_sinks: [{type: zaqar-queue, target: q1, ttl: 120}]
parameter_merge_strategies: {default: merge, flavor: overwrite}
encrypted_param_names: [password]
""", name="prod.yaml")
    assert env.parameters == {"flavor": "m1.small", "count": 3}
    assert env.parameter_defaults == {"image": "cirros"}
    assert env.resource_registry.resolve("My::Server").target == "OS::Nova::Server"
    assert env.event_sinks == [EventSink(target="q1", ttl=120)]
    assert env.parameter_merge_strategies == {"default": "merge", "flavor": "overwrite"}
    assert env.encrypted_param_names == ["password"]
    assert env.name == "prod.yaml"


@pytest.mark.parametrize("source", ["", "{}", b"{}", {}])
def test_empty_environment(source: Any) -> None:
    assert parse_environment(source) == Environment()


def test_json_environment() -> None:
    env = parse_environment('{"parameters": {"a": "b"}}')
    assert env.parameters == {"a": "b"}


def test_wrong_section() -> None:
    err = fails("parameters: {}\nresources: {}\n")
    assert str(err) == 'resources: environment has wrong section "resources"'


def test_wrong_section_names_the_file() -> None:
    err = fails("bogus: 1\n", name="env.yaml")
    assert err.message == 'environment env.yaml has wrong section "bogus"'


@pytest.mark.parametrize("section", ["parameters", "resource_registry", "event_sinks",
                                     "parameter_defaults", "encrypted_param_names",
                                     "parameter_merge_strategies"])
def test_empty_section(section: str) -> None:
    err = fails(f"{section}:\n")
    assert str(err) == f'{section}: environment has empty section "{section}"'


@pytest.mark.parametrize(("source", "path"), [
    ("parameters: [a, b]", "parameters"),
    ("parameter_defaults: text", "parameter_defaults"),
    ("resource_registry: [a]", "resource_registry"),
    ("event_sinks: {type: zaqar-queue}", "event_sinks"),
    ("encrypted_param_names: a", "encrypted_param_names"),
    ("encrypted_param_names: [a, 1]", "encrypted_param_names[1]"),
    ("parameter_merge_strategies: [merge]", "parameter_merge_strategies"),
    ("parameter_merge_strategies: {a: append}", "parameter_merge_strategies.a"),
    ("parameters: {1: x}", "parameters.1"),
])
def test_section_types(source: str, path: str) -> None:
    assert fails(source).location == path


def test_not_a_mapping() -> None:
    with pytest.raises(TemplateSyntaxError,
                       match="The environment is not a valid YAML mapping data type"):
        parse_environment("[1, 2]")


def test_invalid_yaml_is_a_syntax_error() -> None:
    with pytest.raises(TemplateSyntaxError, match="Environment not in valid format: while parsing"):
        parse_environment("parameters: {a: [}")


def test_size_limit() -> None:
    with pytest.raises(TemplateLimitError):
        parse_environment("parameters: {a: " + "x" * 200 + "}", limits=Limits(
            max_template_size=100))


def test_alias_bomb_in_mapping_source_is_bounded() -> None:
    inner: list[Any] = ["x"] * 10
    for _ in range(8):
        inner = [inner] * 10
    with pytest.raises(TemplateLimitError):
        parse_environment({"parameters": {"a": inner}})


def test_mapping_source_is_copied() -> None:
    source: dict[str, Any] = {"parameters": {"a": [1]}}
    env = parse_environment(source)
    source["parameters"]["a"].append(2)
    assert env.parameters == {"a": [1]}


# -- event sinks ------------------------------------------------------------------------------


def test_event_sink_without_ttl() -> None:
    env = parse_environment({"event_sinks": [{"type": "zaqar-queue", "target": "q"}]})
    assert env.event_sinks == [EventSink("q")]
    assert env.event_sinks[0].as_dict() == {"type": "zaqar-queue", "target": "q"}


@pytest.mark.parametrize(("sink", "path"), [
    ({"type": "kafka", "target": "q"}, "event_sinks[0].type"),
    ({"target": "q"}, "event_sinks[0].type"),
    ({"type": "zaqar-queue"}, "event_sinks[0].target"),
    ({"type": "zaqar-queue", "target": ""}, "event_sinks[0].target"),
    ({"type": "zaqar-queue", "target": "q", "ttl": "10"}, "event_sinks[0].ttl"),
    ({"type": "zaqar-queue", "target": "q", "ttl": -1}, "event_sinks[0].ttl"),
    ({"type": "zaqar-queue", "target": "q", "ttl": True}, "event_sinks[0].ttl"),
    ({"type": "zaqar-queue", "target": "q", "queue": "x"}, "event_sinks[0].queue"),
    ("zaqar-queue", "event_sinks[0]"),
])
def test_event_sink_errors(sink: Any, path: str) -> None:
    assert fails({"event_sinks": [sink]}).location == path


# -- registry: aliases, globs, templates --------------------------------------------------------


def test_unmapped_type_resolves_to_itself() -> None:
    match = registry({}).resolve("OS::Nova::Server")
    assert (match.target, match.is_template, match.entry) == ("OS::Nova::Server", False, None)


def test_alias_chain() -> None:
    reg = registry({"A::X": "B::X", "B::X": "C::X"})
    match = reg.resolve("A::X")
    assert match.target == "C::X"
    assert [e.key for e in match.entries] == ["A::X", "B::X"]
    assert match.entry is not None and match.entry.kind is EntryKind.ALIAS


def test_prefix_glob_substitutes_suffix() -> None:
    reg = registry({"OS::Networking::*": "OS::Neutron::*"})
    assert reg.resolve("OS::Networking::FloatingIP").target == "OS::Neutron::FloatingIP"
    assert reg.resolve("OS::Nova::Server").target == "OS::Nova::Server"


def test_many_to_one_glob_does_not_match_its_target() -> None:
    reg = registry({"OS::*": "OS::Heat::None"})
    assert reg.resolve("OS::Nova::Server").target == "OS::Heat::None"
    match = reg.resolve("OS::Heat::None")
    assert match.target == "OS::Heat::None" and match.entries == ()


def test_exact_entry_beats_glob_and_longer_glob_beats_shorter() -> None:
    reg = registry({"OS::*": "OS::Heat::None", "OS::Neutron::*": "Fake::*",
                    "OS::Neutron::Port": "My::Port"})
    assert reg.resolve("OS::Neutron::Port").target == "My::Port"
    assert reg.resolve("OS::Neutron::Net").target == "Fake::Net"
    assert reg.resolve("OS::Nova::Server").target == "OS::Heat::None"


@pytest.mark.parametrize("value", ["nested.yaml", "sub/dir/x.template", "file:///t/x.yaml",
                                   "https://example.com/x", "http://example.com/x.yaml"])
def test_provider_template_values(value: str) -> None:
    match = registry({"My::Thing": value}).resolve("My::Thing")
    assert (match.target, match.is_template, match.template) == (value, True, value)
    assert match.template_entry is not None and match.template_entry.key == "My::Thing"


def test_alias_to_a_template_type() -> None:
    match = registry({"My::A": "My::B", "My::B": "b.yaml"}).resolve("My::A")
    assert match.template == "b.yaml"
    assert [e.key for e in match.entries] == ["My::A", "My::B"]


def test_template_file_used_as_type() -> None:
    match = registry({}).resolve("nested.yaml")
    assert (match.target, match.is_template) == ("nested.yaml", True)


def test_template_key_maps_to_itself() -> None:
    reg = registry({"a.yaml": "b.yaml"})
    assert reg.resolve("a.yaml").target == "a.yaml"
    assert reg.as_dict() == {"a.yaml": "a.yaml"}


def test_provider_templates_lists_every_file() -> None:
    reg = registry({"A::B": "a.yaml", "C::D": "OS::X",
                    "resources": {"web": {"OS::Nova::Server": "web.template",
                                          "inner": {"X::Y": "deep.yaml"}}}})
    assert reg.provider_templates() == {"a.yaml", "web.template", "deep.yaml"}


# -- registry: loops and errors ---------------------------------------------------------------


def test_alias_loop_is_an_error() -> None:
    reg = registry({"A::A": "B::B", "B::B": "C::C", "C::C": "A::A"})
    with pytest.raises(EnvironmentFormatError) as info:
        reg.resolve("A::A")
    assert str(info.value) == "resource_registry.C::C: resource type mapping loop: " \
        "A::A -> B::B -> C::C -> A::A"
    assert info.value.code == "ResourceTypeLoop"


def test_self_alias_is_a_loop() -> None:
    with pytest.raises(EnvironmentFormatError, match="loop: X::Y -> X::Y"):
        registry({"X::Y": "X::Y"}).resolve("X::Y")


def test_glob_loop_is_an_error() -> None:
    with pytest.raises(EnvironmentFormatError, match="loop"):
        registry({"A::*": "B::*", "B::*": "A::*"}).resolve("A::x")


def test_runaway_glob_is_an_error() -> None:
    with pytest.raises(EnvironmentFormatError, match="does not terminate"):
        registry({"OS::*": "OS::X*"}).resolve("OS::a")


@pytest.mark.parametrize(("data", "path"), [
    ({"A::B": 3}, "resource_registry.A::B"),
    ({"A::B": ""}, "resource_registry.A::B"),
    ({"A::B": ["x"]}, "resource_registry.A::B"),
    ({"A::B": {"C": "D"}}, "resource_registry.A::B"),
    ({"OS::*": "x.yaml"}, "resource_registry.OS::*"),
    ({"hooks": "pre-create"}, "resource_registry.hooks"),
    ({"base_url": "file:///tmp/"}, "resource_registry.base_url"),
    ({"resources": ["web"]}, "resource_registry.resources"),
    ({"resources": {"web": "OS::X"}}, "resource_registry.resources.web"),
    ({"resources": {"web": {"OS::*": "OS::Heat::None"}}}, "resource_registry.resources.web.OS::*"),
    ({"resources": {"web": {"X::Y": 1}}}, "resource_registry.resources.web.X::Y"),
])
def test_registry_format_errors(data: dict[str, Any], path: str) -> None:
    assert fails({"resource_registry": data}).location == path


def test_not_found_with_is_known() -> None:
    reg = registry({"My::X": "Nowhere::Y"})
    with pytest.raises(TemplateError, match=r"The Resource Type \(My::X\) could not be found"):
        reg.resolve("My::X", is_known=lambda t: t.startswith("OS::"))


def test_is_known_falls_back_to_next_candidate() -> None:
    known = {"OS::Nova::Server", "OS::Heat::None"}
    reg = registry({"OS::Nova::Server": "Rackspace::Server", "OS::N*": "OS::Heat::None"})
    # The exact alias leads nowhere known: Heat skips it and tries the wildcard.
    assert reg.resolve("OS::Nova::Server", is_known=known.__contains__).target == \
        "OS::Heat::None"
    # Without is_known the first entry always wins.
    assert reg.resolve("OS::Nova::Server").target == "Rackspace::Server"


def test_is_known_keeps_a_known_type_whose_aliases_fail() -> None:
    reg = registry({"OS::Nova::Server": "Missing::Server"})
    match = reg.resolve("OS::Nova::Server", is_known={"OS::Nova::Server"}.__contains__)
    assert match.target == "OS::Nova::Server" and match.entries == ()


def test_resolve_rejects_empty_type() -> None:
    with pytest.raises(TemplateError):
        registry({}).resolve("")


# -- registry: nulls --------------------------------------------------------------------------


def test_null_type_is_not_registered() -> None:
    reg = registry({"A::B": None, "E::F": "G::H"})
    assert reg.resolve("A::B").target == "A::B"
    assert reg.as_dict() == {"E::F": "G::H"}


def test_null_glob_unregisters_earlier_entries_in_same_document() -> None:
    reg = parse_environment("""
resource_registry:
  OS::A: a.yaml
  OS::B: OS::C
  AWS::D: d.yaml
  OS::*: null
  OS::E: e.yaml
""").resource_registry
    assert reg.as_dict() == {"AWS::D": "d.yaml", "OS::E": "e.yaml"}


def test_null_in_later_environment_unregisters() -> None:
    first = parse_environment({"resource_registry": {"A::B": "C::D", "OS::X": "x.yaml"}})
    second = parse_environment({"resource_registry": {"A::B": None}})
    merged = merge_environments([first, second]).resource_registry
    assert merged.resolve("A::B").target == "A::B"
    assert merged.resolve("OS::X").target == "x.yaml"


def test_null_glob_unregisters_every_prefixed_entry() -> None:
    first = parse_environment({"resource_registry": {
        "OS::A": "a.yaml", "OS::B": "b.yaml", "AWS::C": "c.yaml"}})
    second = parse_environment({"resource_registry": {"OS::*": None}})
    merged = merge_environments([first, second]).resource_registry
    assert merged.as_dict() == {"AWS::C": "c.yaml"}


def test_null_removes_per_resource_override_and_hooks() -> None:
    first = parse_environment({"resource_registry": {"resources": {
        "web": {"hooks": "pre-create", "OS::X": "x.yaml"}, "db": {"hooks": "pre-delete"}}}})
    second = parse_environment({"resource_registry": {"resources": {
        "web": {"hooks": None}, "db": None}}})
    merged = merge_environments([first, second]).resource_registry
    assert merged.hooks_for("web") == frozenset()
    assert merged.hooks_for("db") == frozenset()
    assert merged.resolve("OS::X", "web").target == "x.yaml"


# -- registry: per-resource overrides, nested maps, layering ---------------------------------


def test_per_resource_override_applies_to_that_resource_only() -> None:
    reg = registry({"OS::Nova::Server": "Global::Server",
                    "resources": {"web": {"OS::Nova::Server": "web.yaml"}}})
    assert reg.resolve("OS::Nova::Server", "web").target == "web.yaml"
    assert reg.resolve("OS::Nova::Server", "db").target == "Global::Server"
    assert reg.resolve("OS::Nova::Server").target == "Global::Server"


def test_per_resource_override_is_by_exact_name() -> None:
    # Heat matches type overrides by exact resource name; wildcards serve hooks and nesting.
    reg = registry({"resources": {"web*": {"OS::Nova::Server": "web.yaml"}}})
    assert reg.resolve("OS::Nova::Server", "web1").target == "OS::Nova::Server"


def test_per_resource_override_applies_along_alias_chain() -> None:
    reg = registry({"My::Server": "OS::Nova::Server",
                    "resources": {"web": {"OS::Nova::Server": "OS::Heat::None"}}})
    assert reg.resolve("My::Server", "web").target == "OS::Heat::None"


def test_nested_maps_reach_resources_of_nested_stacks() -> None:
    reg = registry({"resources": {"group": {"server": {
        "OS::Nova::Server": "OS::Heat::None", "hooks": "pre-create"}}}})
    assert reg.resolve("OS::Nova::Server", "server", ["group"]).target == "OS::Heat::None"
    assert reg.resolve("OS::Nova::Server", "server").target == "OS::Nova::Server"
    assert reg.hooks_for("server", ["group"]) == {"pre-create"}
    assert reg.hooks_for("server") == frozenset()


def test_nested_maps_with_wildcards_and_depth() -> None:
    reg = registry({"resources": {"grp*": {"*": {"leaf": {"hooks": ["post-create"]}}}}})
    assert reg.hooks_for("leaf", ["grp1", "0"]) == {"post-create"}
    assert reg.hooks_for("leaf", ["other", "0"]) == frozenset()


def test_nested_registry_drops_the_template_entry() -> None:
    reg = registry({"OS::Nova::Server": "server.yaml",
                    "resources": {"web": {"inner": {"hooks": "pre-update"}}}})
    match = reg.resolve("OS::Nova::Server", "web")
    child = reg.nested("web", remove=match.template_entry)
    assert child.resolve("OS::Nova::Server").target == "OS::Nova::Server"
    assert child.hooks_for("inner") == {"pre-update"}
    assert reg.nested("web").resolve("OS::Nova::Server").target == "server.yaml"


def test_user_layer_overrides_global() -> None:
    global_reg = registry({"OS::Networking::*": "OS::Neutron::*", "My::A": "Global::A"})
    user = registry({"My::A": "User::A"})
    layered = global_reg.layer(user)
    assert layered.resolve("My::A").target == "User::A"
    assert layered.resolve("OS::Networking::Port").target == "OS::Neutron::Port"
    # An alias followed from the user layer can land on a global mapping.
    assert global_reg.layer(registry({"My::P": "OS::Networking::Net"})).resolve(
        "My::P").target == "OS::Neutron::Net"
    assert layered.as_dict() == {"My::A": "User::A"}


def test_user_top_level_beats_global_per_resource() -> None:
    global_reg = registry({"resources": {"web": {"X::Y": "Global::Y"}}})
    layered = global_reg.layer(registry({"X::Y": "User::Y"}))
    assert layered.resolve("X::Y", "web").target == "User::Y"


# -- hooks and restricted actions ------------------------------------------------------------


def test_hooks_recorded_with_wildcards() -> None:
    reg = registry({"resources": {
        "web": {"hooks": ["pre-create", "pre-update"]},
        "*_server": {"hooks": "pre-delete"},
        "we?": {"hooks": "post-create"}}})
    assert reg.hooks_for("web") == {"pre-create", "pre-update", "post-create"}
    assert reg.hooks_for("db_server") == {"pre-delete"}
    assert reg.has_hook("web", "pre-update")
    assert not reg.has_hook("db", "pre-create")


def test_restricted_actions_recorded() -> None:
    reg = registry({"resources": {"db": {"restricted_actions": ["update", "replace"]},
                                  "d*": {"restricted_actions": "replace"}}})
    assert reg.restricted_actions_for("db") == {"update", "replace"}
    assert reg.restricted_actions_for("dx") == {"replace"}
    assert reg.restricted_actions_for("web") == frozenset()


@pytest.mark.parametrize(("key", "value", "code"), [
    ("hooks", "pre-dance", "InvalidBreakPointHook"),
    ("hooks", ["pre-create", "nope"], "InvalidBreakPointHook"),
    ("hooks", {"a": 1}, "InvalidBreakPointHook"),
    ("hooks", 3, "InvalidBreakPointHook"),
    ("restricted_actions", "delete", "InvalidRestrictedAction"),
    ("restricted_actions", ["update", 1], "InvalidRestrictedAction"),
])
def test_invalid_hooks_and_actions(key: str, value: Any, code: str) -> None:
    err = fails({"resource_registry": {"resources": {"web": {key: value}}}})
    assert err.location == f"resource_registry.resources.web.{key}"
    assert err.code == code


def test_hook_error_message_lists_valid_types() -> None:
    err = fails({"resource_registry": {"resources": {"web": {"hooks": "pre-dance"}}}})
    assert 'Invalid hook type "pre-dance"' in err.message
    assert "pre-create, pre-update, pre-delete, post-create, post-update, post-delete" \
        in err.message


# -- round trip -------------------------------------------------------------------------------


def test_as_dict_round_trip() -> None:
    source = {
        "parameters": {"a": [1, 2]},
        "parameter_defaults": {"b": {"c": "d"}},
        "resource_registry": {
            "OS::Net*": "OS::Neutron*", "My::T": "t.yaml",
            "resources": {"web": {"hooks": ["pre-create"], "restricted_actions": ["update"],
                                  "OS::X": "x.yaml", "inner": {"hooks": ["post-delete"]}}}},
        "event_sinks": [{"type": "zaqar-queue", "target": "q", "ttl": 5}],
        "parameter_merge_strategies": {"a": "merge"},
        "encrypted_param_names": ["secret"],
    }
    env = parse_environment(source)
    assert env.as_dict() == source
    assert parse_environment(env.as_dict()) == env


def test_hook_string_round_trips_as_list() -> None:
    reg = registry({"resources": {"web": {"hooks": "pre-create"}}})
    assert reg.as_dict() == {"resources": {"web": {"hooks": ["pre-create"]}}}
    assert registry(reg.as_dict()) == reg


# -- merging ----------------------------------------------------------------------------------


def env(data: dict[str, Any], name: str = "environment") -> Environment:
    return parse_environment(data, name=name)


TYPES = {"s": "string", "n": "number", "l": "comma_delimited_list", "j": "json",
         "b": "boolean"}


def test_merge_later_wins_by_default() -> None:
    merged = merge_environments([
        env({"parameters": {"a": 1, "b": "x"}, "parameter_defaults": {"c": [1]}}),
        env({"parameters": {"a": 2}, "parameter_defaults": {"c": [2]}}),
    ])
    assert merged.parameters == {"a": 2, "b": "x"}
    assert merged.parameter_defaults == {"c": [2]}
    assert merged.parameter_merge_strategies == {}


def test_merge_of_nothing_and_of_one() -> None:
    assert merge_environments([]) == Environment()
    one = env({"parameters": {"a": 1}}, "one.yaml")
    merged = merge_environments([one])
    assert merged == one and merged.name == "one.yaml"


def test_merge_ignores_later_nulls() -> None:
    merged = merge_environments([env({"parameters": {"a": 1}}),
                                 env({"parameters": {"a": None, "b": 2}})])
    assert merged.parameters == {"a": 1, "b": 2}


def test_merge_does_not_mutate_inputs() -> None:
    first = env({"parameters": {"l": [1], "j": {"k": [1]}},
                 "parameter_merge_strategies": {"default": "deep_merge"}})
    second = env({"parameters": {"l": [2], "j": {"k": [2]}},
                  "parameter_merge_strategies": {"default": "deep_merge"}})
    merged = merge_environments([first, second], TYPES)
    assert merged.parameters == {"l": [1, 2], "j": {"k": [1, 2]}}
    assert first.parameters == {"l": [1], "j": {"k": [1]}}
    assert second.parameters == {"l": [2], "j": {"k": [2]}}


def merged_params(values: list[dict[str, Any]], strategy: str,
                  types: dict[str, str] | None = None) -> dict[str, Any]:
    """Merge ``values`` in order, every file asking for ``strategy`` by default."""
    envs = [env({"parameters": v, "parameter_merge_strategies": {"default": strategy}})
            for v in values]
    return merge_environments(envs, TYPES if types is None else types).parameters


@pytest.mark.parametrize(("old", "new", "expected"), [
    ({"s": "ab"}, {"s": "cd"}, "abcd"),
    ({"n": 1}, {"n": 2}, 3),
    ({"n": "1.5"}, {"n": 2}, 3.5),
    ({"l": "1,2"}, {"l": "3,4"}, "1,2,3,4"),
    ({"l": [1, 2]}, {"l": [3]}, [1, 2, 3]),
    ({"l": "a,b"}, {"l": ["c"]}, ["a", "b", "c"]),
    ({"l": ""}, {"l": "x"}, "x"),
    ({"j": {"a": 1, "n": {"x": 1}}}, {"j": {"b": 2, "n": {"y": 2}}},
     {"a": 1, "b": 2, "n": {"y": 2}}),
    ({"j": '{"a": 1}'}, {"j": '{"b": 2}'}, {"a": 1, "b": 2}),
])
def test_merge_strategy_merge(old: dict[str, Any], new: dict[str, Any], expected: Any) -> None:
    (key,) = old
    assert merged_params([old, new], "merge")[key] == expected


def test_merge_strategy_deep_merge_recurses_into_json() -> None:
    result = merged_params([
        {"j": {"n": {"x": 1, "l": [1], "s": "a"}, "keep": True}},
        {"j": {"n": {"y": 2, "l": [2], "s": "b"}, "keep": None}},
    ], "deep_merge")
    assert result["j"] == {"n": {"x": 1, "y": 2, "l": [1, 2], "s": "ab"}, "keep": True}


def test_deep_merge_on_other_types_acts_like_merge() -> None:
    assert merged_params([{"l": [1]}, {"l": [2]}], "deep_merge")["l"] == [1, 2]
    assert merged_params([{"s": "a"}, {"s": "b"}], "deep_merge")["s"] == "ab"


def test_merge_strategy_overwrite() -> None:
    assert merged_params([{"j": {"a": 1}}, {"j": {"b": 2}}], "overwrite")["j"] == {"b": 2}


@pytest.mark.parametrize("strategy", ["merge", "deep_merge"])
def test_merge_of_boolean_is_an_error(strategy: str) -> None:
    with pytest.raises(EnvironmentFormatError) as info:
        merged_params([{"b": True}, {"b": False}], strategy)
    assert info.value.code == "InvalidMergeStrategyForParam"
    assert info.value.location == "parameters.b"


def test_merge_types_guessed_without_declarations() -> None:
    result = merged_params([{"x": [1], "y": 2, "z": "a", "w": {"a": 1}},
                            {"x": [2], "y": 3, "z": "b", "w": {"b": 2}}], "merge", types={})
    assert result == {"x": [1, 2], "y": 5, "z": "ab", "w": {"a": 1, "b": 2}}


def test_merge_cfn_type_names() -> None:
    types = {"a": "CommaDelimitedList", "b": "Json", "c": "AWS::EC2::KeyPair::KeyName"}
    result = merged_params([{"a": "x", "b": {"p": 1}, "c": "k"},
                            {"a": "y", "b": {"q": 2}, "c": "2"}], "merge", types=types)
    assert result == {"a": "x,y", "b": {"p": 1, "q": 2}, "c": "k2"}


@pytest.mark.parametrize(("old", "new"), [
    ({"n": "abc"}, {"n": 1}),
    ({"s": "a"}, {"s": ["b"]}),
    ({"j": {"a": 1}}, {"j": "[1, 2]"}),
    ({"j": {"a": 1}}, {"j": "{not json"}),
    ({"l": [1]}, {"l": 5}),
])
def test_merge_of_bad_values_is_an_error(old: dict[str, Any], new: dict[str, Any]) -> None:
    with pytest.raises(EnvironmentFormatError):
        merged_params([old, new], "merge")


def test_per_parameter_strategies() -> None:
    merged = merge_environments([
        env({"parameters": {"l": [1], "s": "a"},
             "parameter_merge_strategies": {"l": "merge"}}),
        env({"parameters": {"l": [2], "s": "b"},
             "parameter_merge_strategies": {"l": "merge"}}),
    ], TYPES)
    assert merged.parameters == {"l": [1, 2], "s": "b"}
    assert merged.parameter_merge_strategies == {"l": "merge"}


def test_first_file_fixes_strategy_and_later_default_does_not_change_it() -> None:
    merged = merge_environments([
        env({"parameters": {"l": [1]}, "parameter_merge_strategies": {"default": "merge"}}),
        env({"parameters": {"l": [2]}}),  # no strategies: l keeps "merge"
        env({"parameters": {"l": [3]}, "parameter_merge_strategies": {"default": "overwrite"}}),
    ], TYPES)
    assert merged.parameters == {"l": [1, 2, 3]}


def test_conflicting_strategies_between_files() -> None:
    with pytest.raises(EnvironmentFormatError) as info:
        merge_environments([
            env({"parameters": {"l": [1]}}, "one.yaml"),
            env({"parameters": {"l": [2]}, "parameter_merge_strategies": {"l": "merge"}},
                "two.yaml"),
        ], TYPES)
    err = info.value
    assert err.code == "ConflictingMergeStrategyForParam"
    assert err.location == "parameter_merge_strategies.l"
    assert "Conflicting merge strategy 'merge' for parameter 'l' in file 'two.yaml'" \
        in err.message


def test_strategy_conflict_spans_parameters_and_defaults() -> None:
    with pytest.raises(EnvironmentFormatError, match="Conflicting"):
        merge_environments([
            env({"parameter_defaults": {"l": [1]},
                 "parameter_merge_strategies": {"l": "deep_merge"}}),
            env({"parameters": {"l": [2]}, "parameter_merge_strategies": {"l": "merge"}}),
        ], TYPES)


def test_merge_strategies_apply_to_parameter_defaults() -> None:
    merged = merge_environments([
        env({"parameter_defaults": {"l": [1]}, "parameter_merge_strategies": {"l": "merge"}}),
        env({"parameter_defaults": {"l": [2]}, "parameter_merge_strategies": {"l": "merge"}}),
    ], TYPES)
    assert merged.parameter_defaults == {"l": [1, 2]}


def test_merge_resource_registry_in_order() -> None:
    merged = merge_environments([
        env({"resource_registry": {"test::R1": "OS::Heat::RandomString", "test::R2": "BROKEN",
                                   "resources": {"r1": {"hooks": "pre-create"}}}}),
        env({"resource_registry": {"test::R2": "OS::Heat::None",
                                   "resources": {"r2": {"hooks": "pre-delete"},
                                                 "r1": {"restricted_actions": "replace"}}}}),
    ]).resource_registry
    assert merged.resolve("test::R1").target == "OS::Heat::RandomString"
    assert merged.resolve("test::R2").target == "OS::Heat::None"
    assert merged.hooks_for("r1") == {"pre-create"}
    assert merged.restricted_actions_for("r1") == {"replace"}
    assert merged.hooks_for("r2") == {"pre-delete"}


def test_merge_event_sinks_and_encrypted_names_accumulate() -> None:
    merged = merge_environments([
        env({"event_sinks": [{"type": "zaqar-queue", "target": "a"}],
             "encrypted_param_names": ["x", "y"]}),
        env({"event_sinks": [{"type": "zaqar-queue", "target": "b"}],
             "encrypted_param_names": ["y", "z"]}),
    ])
    assert [s.target for s in merged.event_sinks] == ["a", "b"]
    assert merged.encrypted_param_names == ["x", "y", "z"]


def test_merged_environment_round_trips() -> None:
    merged = merge_environments([
        env({"parameters": {"l": [1]}, "parameter_merge_strategies": {"l": "merge"},
             "resource_registry": {"A::B": "c.yaml"}}),
        env({"parameters": {"l": [2]}, "resource_registry": {"D::E": "F::G"}}),
    ], TYPES)
    again = parse_environment(merged.as_dict())
    assert again == merged


def test_base_url_rejected_inside_resources_but_not_as_a_resource_name() -> None:
    err = fails({"resource_registry": {"resources": {"web": {"base_url": "file:///x/"}}}})
    assert err.location == "resource_registry.resources.web.base_url"
    reg = registry({"resources": {"base_url": {"hooks": "pre-create"}}})
    assert reg.hooks_for("base_url") == {"pre-create"}


def test_later_child_map_replaces_type_of_same_key() -> None:
    merged = merge_environments([
        env({"resource_registry": {"resources": {"web": {"X": "Y::Z"}}}}),
        env({"resource_registry": {"resources": {"web": {"X": {"hooks": "pre-create"}}}}}),
    ]).resource_registry
    assert merged.as_dict() == {"resources": {"web": {"X": {"hooks": ["pre-create"]}}}}
    assert merged.resolve("X", "web").target == "X"

"""Stack definitions (kubeheat.template.stack): paths in the template's own spelling, named
conditions and condition arguments, provider templates with their environment and facade, and
what a dependency's path means."""

from __future__ import annotations

from typing import Any

import pytest

from kubeheat.template import StaticResources, parse_environment
from kubeheat.template.environment import is_template_reference
from kubeheat.template.errors import (
    FunctionError,
    ReferenceError_,
    TemplateError,
    TemplateLimitError,
    TemplateSectionError,
)
from kubeheat.template.functions.base import Dependency, dependencies
from kubeheat.template.stack import StackDefinition, Template

HOT = "heat_template_version: 2018-08-31\n"
OLD_HOT = "heat_template_version: 2013-05-23\n"
AWS = "AWSTemplateFormatVersion: '2010-09-09'\n"


def define(source: str | dict[str, Any], *, files: dict[str, str] | None = None,
           env: str | None = None, params: dict[str, Any] | None = None) -> StackDefinition:
    environment = parse_environment(env) if env is not None else None
    return Template.load(source, files=files).define(params, environment)


def error(source: str | dict[str, Any], **kw: Any) -> TemplateError:
    with pytest.raises(TemplateError) as info:
        define(source, **kw)
    return info.value


# ------------------------------------------------------------------------------------------------
# Paths use the template's own section and key names
# ------------------------------------------------------------------------------------------------

def test_resource_path_is_spelled_like_the_template() -> None:
    hot = define(HOT + "resources:\n  a: {type: OS::Heat::None}\n").resources["a"]
    cfn = define(AWS + "Resources:\n  a: {Type: OS::Heat::None}\n").resources["a"]
    assert hot.path == ("resources", "a")
    assert cfn.path == ("Resources", "a")
    assert hot.key_path("properties") == ("resources", "a", "properties")
    assert cfn.key_path("properties") == ("Resources", "a", "Properties")
    assert cfn.key_path("type") == ("Resources", "a", "Type")
    assert cfn.key_path("depends_on") == ("Resources", "a", "DependsOn")
    assert cfn.key_path("external_id") == ("Resources", "a", "external_id")  # not a CFN key


@pytest.mark.parametrize(("source", "kind", "message"), [
    (AWS + "Resources:\n  a: {Type: OS::Heat::None, Condition: nope}\n", ReferenceError_,
     'Resources.a.Condition: Invalid condition "nope"'),
    (HOT + "resources:\n  a: {type: OS::Heat::None, condition: nope}\n", ReferenceError_,
     'resources.a.condition: Invalid condition "nope"'),
    (AWS + "Resources:\n  a: {Type: OS::Heat::None, Condition: [x]}\n", FunctionError,
     "Resources.a.Condition: Invalid condition \"['x']\""),
    (AWS + "Resources: nope\n", TemplateSectionError,
     "Resources: The Resources section must be a mapping, not str"),
    (HOT + "outputs: [1]\n", TemplateSectionError,
     "outputs: The outputs section must be a mapping, not list"),
    (AWS + "Mappings: 3\n", TemplateSectionError,
     "Mappings: The Mappings section must be a mapping, not int"),
    (AWS + "Resources:\n  a: {Type: child.yaml}\n", ReferenceError_,
     'Resources.a.Type: Could not fetch remote template "child.yaml": it is not in the files '
     "map"),
])
def test_errors_name_the_path_as_the_template_spells_it(
        source: str, kind: type[TemplateError], message: str) -> None:
    err = error(source)
    assert type(err) is kind, repr(err)
    assert str(err) == message


CFN_CHILD = AWS + """Parameters:
  Size: {Type: Number}
  Name: {Type: String, Default: n}
Outputs:
  Meta: {Value: {'Fn::ResourceFacade': Metadata}}
  Policy: {Value: {'Fn::ResourceFacade': UpdatePolicy}}
  Deletion: {Value: {'Fn::ResourceFacade': DeletionPolicy}}
"""


@pytest.mark.parametrize(("properties", "message"), [
    ("{Size: 1, Colour: red}", "Resources.inner.Properties.Colour: Unknown Property Colour"),
    ("{Name: x}", "Resources.inner.Properties: Property Size not assigned"),
])
def test_provider_template_property_errors_in_cfn_spelling(properties: str,
                                                          message: str) -> None:
    parent = AWS + f"Resources:\n  inner: {{Type: child.yaml, Properties: {properties}}}\n"
    assert str(error(parent, files={"child.yaml": CFN_CHILD})) == message


def test_errors_inside_a_provider_template_are_prefixed_with_the_parent_path() -> None:
    child = AWS + "Outputs:\n  o: {Value: {Ref: nope}}\n"
    parent = AWS + "Resources:\n  inner: {Type: child.yaml}\n"
    assert str(error(parent, files={"child.yaml": child})) == (
        'Resources.inner.Type.child.yaml.Outputs.o.Value.Ref: The specified reference "nope" '
        "(in o.Value) is incorrect.")


# ------------------------------------------------------------------------------------------------
# Named conditions: a definition is a boolean or a condition function
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("definition", "shown"), [
    ("enabled", "enabled"),                # a plain string, even one naming a condition
    ("missing", "missing"),
    ("3", "3"),
    ("null", "None"),
    ("[enabled]", "['enabled']"),
    ("{a: 1, b: 2}", "{'a': 1, 'b': 2}"),  # a mapping that is not a function call
])
def test_condition_definition_must_be_a_boolean_or_a_function(definition: str,
                                                               shown: str) -> None:
    source = HOT + f"conditions:\n  enabled: true\n  c: {definition}\n"
    err = error(source)
    assert type(err) is TemplateError
    assert err.code == "StackValidationFailed"
    assert str(err) == (f'conditions.c: Condition validation error: The definition of condition '
                        f'"c" is invalid: {shown}')


def test_cfn_condition_definition_must_not_be_a_string() -> None:
    err = error(AWS + "Conditions:\n  Enabled: true\n  C: Enabled\n")
    assert str(err) == ('Conditions.C: Condition validation error: The definition of condition '
                        '"C" is invalid: Enabled')


def test_condition_definition_whose_value_is_a_string_is_invalid() -> None:
    # As in Heat, the *value* of a definition must be a boolean: a string does not name a
    # condition there. Heat 27.0.1 finds it when the condition is used (unused, it is fine).
    source = HOT + """parameters:
  which: {type: string, default: enabled}
conditions:
  enabled: true
  c: {get_param: which}
"""
    define(source)
    used = source + "resources:\n  r: {type: OS::Heat::None, condition: c}\n"
    assert str(error(used)) == ('conditions.c: Condition validation error: The definition of '
                                'condition "c" is invalid: enabled')


def test_condition_definitions_that_are_booleans_or_functions() -> None:
    source = HOT + """parameters:
  flag: {type: boolean, default: true}
  env: {type: string, default: prod}
conditions:
  literal: false
  from_param: {get_param: flag}
  prod: {equals: [{get_param: env}, prod]}
  named: {not: literal}
"""
    assert define(source).conditions == {
        "literal": False, "from_param": True, "prod": True, "named": True}


# ------------------------------------------------------------------------------------------------
# Condition arguments: a string names a condition, also when a function computes it
# ------------------------------------------------------------------------------------------------

CONDITIONAL = HOT + """parameters:
  which: {type: string, default: enabled}
conditions:
  enabled: true
  disabled: false
resources:
  r:
    type: OS::Heat::None
    condition: {get_param: which}
outputs:
  chosen:
    value: {if: [{get_param: which}, T, F]}
  shown:
    value: here
    condition: {get_param: which}
  negated:
    value: {if: [{not: {get_param: which}}, T, F]}
"""


@pytest.mark.parametrize(("which", "enabled"), [("enabled", True), ("disabled", False)])
def test_function_results_name_conditions_in_arguments(which: str, enabled: bool) -> None:
    defn = define(CONDITIONAL, params={"which": which})
    assert ("r" in defn.resources) is enabled
    assert defn.output_value("chosen") == ("T" if enabled else "F")
    assert defn.outputs["shown"].enabled is enabled
    assert defn.output_value("negated") == ("F" if enabled else "T")


def test_function_result_naming_an_unknown_condition() -> None:
    err = error(CONDITIONAL, params={"which": "nope"})
    assert type(err) is ReferenceError_
    assert str(err) == 'resources.r.condition: Invalid condition "nope"'


def test_function_result_that_is_neither_a_boolean_nor_a_name() -> None:
    source = HOT + """parameters:
  n: {type: number, default: 3}
outputs:
  o: {value: {if: [{get_param: n}, a, b]}}
"""
    err = error(source)
    assert type(err) is FunctionError
    assert str(err) == 'outputs.o.value.if[0]: Invalid condition "3"'


def test_if_with_a_null_condition_is_an_error() -> None:
    # Deliberate difference: Heat takes a null ``if`` condition as true.
    err = error(HOT + "outputs:\n  o: {value: {if: [null, a, b]}}\n")
    assert str(err) == 'outputs.o.value.if[0]: Invalid condition "None"'


def test_literal_names_and_booleans_as_arguments() -> None:
    source = HOT + """conditions:
  enabled: true
resources:
  a: {type: OS::Heat::None, condition: enabled}
  b: {type: OS::Heat::None, condition: false}
outputs:
  o: {value: {if: [true, {if: [enabled, x, y]}, z]}}
"""
    defn = define(source)
    assert sorted(defn.resources) == ["a"]
    assert defn.output_value("o") == "x"


def test_condition_cycle_through_a_function_result() -> None:
    source = HOT + """parameters:
  name: {type: string, default: a}
conditions:
  a: {not: {get_param: name}}
"""
    define(source)                 # Heat 27.0.1: an unused cycle is no error
    used = source + "outputs:\n  o: {value: {if: [a, x, y]}}\n"
    assert str(error(used)) == ('conditions.a: Condition validation error: Circular definition '
                                'for condition "a": a -> a')


def test_cfn_condition_arguments() -> None:
    source = AWS + """Parameters:
  Which: {Type: String, Default: Enabled}
Conditions:
  Enabled: true
  Disabled: {'Fn::Not': [{Ref: Which}]}
Resources:
  R: {Type: OS::Heat::None, Condition: Disabled}
Outputs:
  O: {Value: {'Fn::If': [Enabled, T, F]}, Condition: Enabled}
"""
    defn = define(source)
    assert defn.conditions == {"Enabled": True, "Disabled": False}
    assert defn.resources == {}
    assert defn.output_value("O") == "T"


# ------------------------------------------------------------------------------------------------
# Provider templates
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "expected"), [
    ("nested.yaml", True),
    ("dir/sub/nested.template", True),
    ("https://example.com/t/nested.yaml", True),
    ("file:///t/nested.template", True),
    ("http://example.com/t/nested", True),   # refused later: kubeheat never fetches URLs
    ("nested.yml", False),
    ("nested.json", False),
    ("nested.yaml.bak", False),
    ("OS::Nova::Server", False),
])
def test_is_provider_template(name: str, expected: bool) -> None:
    assert is_template_reference(name) is expected


@pytest.mark.parametrize("type_name", ["nested.yml", "nested.json"])
def test_other_suffixes_are_resource_types(type_name: str) -> None:
    defn = define(HOT + f"resources:\n  a: {{type: {type_name}}}\n",
                  files={type_name: HOT})
    assert defn.nested == {}
    assert defn.resources["a"].provider_template is None


def test_provider_template_from_the_type_and_from_the_registry() -> None:
    child = HOT + "outputs:\n  o: {value: child}\n"
    source = HOT + "resources:\n  a: {type: child.yaml}\n  b: {type: My::Thing}\n"
    files = {"child.yaml": child, "thing.template": child}
    defn = define(source, files=files, env="resource_registry:\n  My::Thing: thing.template\n")
    assert sorted(defn.nested) == ["a", "b"]
    assert defn.resources["a"].provider_template == "child.yaml"
    assert defn.resources["b"].provider_template == "thing.template"
    assert defn.resources["b"].implementation == "thing.template"
    assert defn.nested["b"].output_value("o") == "child"
    without_env = define(source, files=files)
    assert sorted(without_env.nested) == ["a"]


SERVER = HOT + """resources:
  inner: {type: OS::Heat::None}
  other: {type: OS::Heat::None}
  real: {type: My::Server}
"""

REGISTRY_ENV = """
parameters:
  top: only for the top-level stack
parameter_defaults:
  shared: everywhere
resource_registry:
  My::Server: server.yaml
  resources:
    web:
      inner:
        hooks: pre-create
        OS::Heat::None: OS::Heat::TestResource
"""


def test_nested_stacks_get_the_per_resource_registry() -> None:
    parent = HOT + """parameters:
  top: {type: string}
resources:
  web: {type: My::Server}
  db: {type: My::Server}
"""
    defn = define(parent, files={"server.yaml": SERVER}, env=REGISTRY_ENV)
    web, db = defn.nested["web"], defn.nested["db"]
    # Overrides given under resources.web apply to the resources of web's nested stack only.
    assert web.resources["inner"].hooks == {"pre-create"}
    assert web.resources["inner"].implementation == "OS::Heat::TestResource"
    assert web.resources["other"].hooks == frozenset()
    assert web.resources["other"].implementation == "OS::Heat::None"
    assert db.resources["inner"].hooks == frozenset()
    assert db.resources["inner"].implementation == "OS::Heat::None"
    # The entry that made web a provider template is dropped inside it: no recursion.
    assert web.resources["real"].implementation == "My::Server"
    assert web.resources["real"].provider_template is None
    assert web.nested == {}
    # parameter_defaults carry over, parameters do not.
    assert web.environment is not None
    assert web.environment.parameters == {}
    assert web.environment.parameter_defaults == {"shared": "everywhere"}


def test_recursive_provider_template_hits_the_depth_limit() -> None:
    looped = HOT + "resources:\n  again: {type: loop.yaml}\n"
    err = error(HOT + "resources:\n  a: {type: loop.yaml}\n", files={"loop.yaml": looped})
    assert type(err) is TemplateLimitError


FACADE_CHILD = HOT + """outputs:
  metadata: {value: {resource_facade: metadata}}
  update_policy: {value: {resource_facade: update_policy}}
  deletion_policy: {value: {resource_facade: deletion_policy}}
"""


def test_facade_values_resolved_from_parameters() -> None:
    parent = HOT + """parameters:
  role: {type: string, default: web}
resources:
  inner:
    type: child.yaml
    metadata: {role: {get_param: role}, tags: [a, b]}
    update_policy: {}
    deletion_policy: retain
"""
    child = define(parent, files={"child.yaml": FACADE_CHILD},
                   params={"role": "db"}).nested["inner"]
    assert child.facade["metadata"] == {"role": "db", "tags": ["a", "b"]}
    assert child.output_value("metadata") == {"role": "db", "tags": ["a", "b"]}
    assert child.output_value("update_policy") == {}
    assert child.output_value("deletion_policy") == "Retain"
    # Heat 27.0.1 refuses any update_policy key on a template resource (checked on the peer)
    with pytest.raises(TemplateError, match=r"^resources\.inner\.update_policy: Unknown "
                                            r"Property batch$"):
        define(parent.replace("update_policy: {}",
                              "update_policy: {batch: {str_split: [',', '2,3', 0]}}"),
               files={"child.yaml": FACADE_CHILD})


def test_facade_values_that_refer_to_parent_resources() -> None:
    parent = HOT + """resources:
  peer: {type: OS::Heat::None}
  inner:
    type: child.yaml
    metadata: {peer: {get_resource: peer}, ip: {get_attr: [peer, addr]}}
"""
    child = define(parent, files={"child.yaml": FACADE_CHILD}).nested["inner"]
    # Before the parent's resources exist: the logical name and None, as Heat shows them.
    assert child.facade_value("metadata") == {"peer": "peer", "ip": None}
    assert child.output_value("metadata") == {"peer": "peer", "ip": None}
    assert child.output_value("update_policy") == {}


def test_facade_values_follow_the_parents_resolver() -> None:
    parent = HOT + """resources:
  peer: {type: OS::Heat::None}
  inner:
    type: child.yaml
    metadata: {ip: {get_attr: [peer, addr]}}
"""
    running = StaticResources(refs={"peer": "p-1"}, attrs={"peer": {"addr": "10.0.0.5"}})
    defn = Template.load(parent, files={"child.yaml": FACADE_CHILD}).define(resources=running)
    assert defn.nested["inner"].output_value("metadata") == {"ip": "10.0.0.5"}


def test_cfn_facade_values() -> None:
    parent = AWS + """Resources:
  inner:
    Type: child.yaml
    Properties: {Size: 2}
    Metadata: {Name: {Ref: 'AWS::StackName'}}
    DeletionPolicy: Retain
"""
    child = define(parent, files={"child.yaml": CFN_CHILD}).nested["inner"]
    assert child.output_value("Meta") == {"Name": "stack"}
    assert child.output_value("Policy") == {}
    assert child.output_value("Deletion") == "Retain"
    # Heat 27.0.1: "Resources.inner.UpdatePolicy: Unknown Property Pause" (checked on the peer)
    with pytest.raises(TemplateError, match=r"^Resources\.inner\.UpdatePolicy: Unknown "
                                            r"Property Pause$"):
        define(parent.replace("    DeletionPolicy", "    UpdatePolicy: {Pause: PT1M}\n"
                                                     "    DeletionPolicy"),
               files={"child.yaml": CFN_CHILD})


def test_facade_outside_a_provider_template() -> None:
    defn = define(FACADE_CHILD)
    with pytest.raises(FunctionError, match="only available in a template used as a provider"):
        defn.output_value("metadata")


# ------------------------------------------------------------------------------------------------
# Dependency.path is the attribute path
# ------------------------------------------------------------------------------------------------

def output_dependencies(source: str) -> list[Dependency]:
    return list(dependencies(define(source).outputs["o"].value))


def test_dependency_path_is_the_attribute_path() -> None:
    res = "resources:\n  web: {type: OS::Heat::None}\n"
    assert output_dependencies(
        HOT + res + "outputs:\n  o: {value: {get_attr: [web, nets, private, 0]}}\n"
    ) == [Dependency("web", "nets", ("private", 0))]
    assert output_dependencies(
        HOT + res + "outputs:\n  o: {value: {get_attr: [web, nets]}}\n"
    ) == [Dependency("web", "nets", ())]
    # 2013-05-23 fetches the whole attribute and walks the path itself.
    assert output_dependencies(
        OLD_HOT + res + "outputs:\n  o: {value: {get_attr: [web, nets, private]}}\n"
    ) == [Dependency("web", "nets", ())]
    assert output_dependencies(
        HOT + res + "outputs:\n  o: {value: {get_resource: web}}\n") == [Dependency("web")]
    cfn = AWS + "Resources:\n  web: {Type: OS::Heat::None}\n"
    assert output_dependencies(
        cfn + "Outputs:\n  o: {Value: {'Fn::GetAtt': [web, nets]}}\n"
    ) == [Dependency("web", "nets", ())]
    assert output_dependencies(
        cfn + "Outputs:\n  o: {Value: {Ref: web}}\n") == [Dependency("web", None, ())]


def test_resource_references_carry_attribute_paths() -> None:
    source = HOT + """resources:
  web: {type: OS::Heat::None}
  app:
    type: OS::Heat::None
    properties:
      ip: {get_attr: [web, first_address]}
      net: {get_attr: [web, networks, private, 0]}
"""
    refs = define(source).resources["app"].references
    assert refs == (Dependency("web", "first_address"),
                    Dependency("web", "networks", ("private", 0)))

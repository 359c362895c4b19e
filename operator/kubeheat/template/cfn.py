"""The CloudFormation-compatible template versions.

``AWSTemplateFormatVersion: 2010-09-09`` is CloudFormation's format as Heat implements it,
conditions included. ``HeatTemplateFormatVersion: 2012-12-12`` is Heat's original spelling of the
same format, frozen before conditions existed: no ``Conditions`` section, no ``Condition`` key on
resources or outputs, no ``Fn::If``. Both accept unknown keys inside a resource (Heat ignores
them), and both provide the pseudo-parameters ``AWS::StackId``, ``AWS::StackName`` and
``AWS::Region`` (see ``heat/engine/cfn/template.py`` and ``cfn/parameters.py``).
"""

from __future__ import annotations

from collections.abc import Mapping

from kubeheat.template.functions import cfn as fn
from kubeheat.template.functions.base import FunctionClass
from kubeheat.template.versions import ResourceKeyNames, SectionNames, VersionSpec

PSEUDO_PARAMETERS = ("AWS::StackId", "AWS::StackName", "AWS::Region")

_BASE_FUNCTIONS: dict[str, FunctionClass] = {
    "Fn::FindInMap": fn.FindInMap,
    "Fn::GetAZs": fn.GetAZs,
    "Ref": fn.Ref,
    "Fn::GetAtt": fn.CfnGetAtt,
    "Fn::Select": fn.Select,
    "Fn::Join": fn.CfnJoin,
    "Fn::Split": fn.CfnSplit,
    "Fn::Replace": fn.CfnReplace,
    "Fn::Base64": fn.Base64,
    "Fn::MemberListToMap": fn.MemberListToMap,
    "Fn::ResourceFacade": fn.CfnResourceFacade,
}

AWS_FUNCTIONS: dict[str, FunctionClass] = {**_BASE_FUNCTIONS, "Fn::If": fn.CfnIf}
HEAT_FUNCTIONS: dict[str, FunctionClass] = dict(_BASE_FUNCTIONS)

AWS_CONDITION_FUNCTIONS: dict[str, FunctionClass] = {
    "Fn::Equals": fn.CfnEquals,
    "Ref": fn.CfnConditionRef,
    "Fn::FindInMap": fn.FindInMap,
    "Fn::Not": fn.CfnNot,
    "Fn::And": fn.CfnAnd,
    "Fn::Or": fn.CfnOr,
}

_AWS_LABEL = "AWSTemplateFormatVersion: 2010-09-09"
_HEAT_LABEL = "HeatTemplateFormatVersion: 2012-12-12"

#: every CFN function -> the versions (labelled with their key, as the keys differ) that have it
FAMILY_FUNCTIONS: dict[str, tuple[str, ...]] = {
    name: tuple(label for label, table in ((_AWS_LABEL, AWS_FUNCTIONS),
                                           (_HEAT_LABEL, HEAT_FUNCTIONS)) if name in table)
    for name in AWS_FUNCTIONS
}


def _sections(version_key: str, conditions: bool) -> SectionNames:
    return SectionNames(
        version=version_key, description="Description", parameters="Parameters",
        parameter_groups=None, resources="Resources", outputs="Outputs",
        conditions="Conditions" if conditions else None, mappings="Mappings")


def _resource_keys(conditions: bool) -> ResourceKeyNames:
    return ResourceKeyNames(
        type="Type", properties="Properties", metadata="Metadata", depends_on="DependsOn",
        deletion_policy="DeletionPolicy", update_policy="UpdatePolicy",
        description="Description", condition="Condition" if conditions else None,
        external_id=None)


AWS_2010_09_09 = VersionSpec(
    family="cfn",
    key="AWSTemplateFormatVersion",
    version="2010-09-09",
    aliases=(),
    sections=_sections("AWSTemplateFormatVersion", conditions=True),
    resource_keys=_resource_keys(conditions=True),
    output_keys=frozenset({"Value", "Description", "Condition"}),
    functions=AWS_FUNCTIONS,
    condition_functions=AWS_CONDITION_FUNCTIONS,
    strict_resource_keys=False,
    pseudo_parameters=PSEUDO_PARAMETERS,
    family_functions=FAMILY_FUNCTIONS,
)

HEAT_2012_12_12 = VersionSpec(
    family="cfn",
    key="HeatTemplateFormatVersion",
    version="2012-12-12",
    aliases=(),
    sections=_sections("HeatTemplateFormatVersion", conditions=False),
    resource_keys=_resource_keys(conditions=False),
    output_keys=frozenset({"Value", "Description"}),
    functions=HEAT_FUNCTIONS,
    condition_functions={},
    strict_resource_keys=False,
    pseudo_parameters=PSEUDO_PARAMETERS,
    family_functions=FAMILY_FUNCTIONS,
)

#: version label (``key: version``) -> spec, every CloudFormation-compatible version
SPECS: Mapping[str, VersionSpec] = {spec.label: spec for spec in (AWS_2010_09_09, HEAT_2012_12_12)}

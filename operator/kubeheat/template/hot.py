"""The HOT template versions (``heat_template_version``), 2013-05-23 to 2021-04-16.

Every version's tables come from the declarative tables below: for each function name, the class
it maps to from a given version on (``REMOVED`` from the version that dropped it), and the
versions where sections, keys and parameter features appear. :func:`build_spec` derives one
:class:`~kubeheat.template.versions.VersionSpec` per version, all of them in :data:`SPECS`.
"""

from __future__ import annotations

from collections.abc import Mapping

from kubeheat.template.functions import conditions as cond
from kubeheat.template.functions import hot as fn
from kubeheat.template.functions.base import FunctionClass
from kubeheat.template.versions import ResourceKeyNames, SectionNames, VersionSpec

#: every HOT version, oldest first, with its release-name alias
VERSIONS: tuple[tuple[str, str | None], ...] = (
    ("2013-05-23", None),
    ("2014-10-16", None),
    ("2015-04-30", None),
    ("2015-10-15", None),
    ("2016-04-08", None),
    ("2016-10-14", "newton"),
    ("2017-02-24", "ocata"),
    ("2017-09-01", "pike"),
    ("2018-03-02", "queens"),
    ("2018-08-31", "rocky"),
    ("2021-04-16", "wallaby"),
)

#: marks the version from which a function is removed ("not supported in this version")
REMOVED = None

Row = Mapping[str, FunctionClass | None]

#: function name -> {first version: class (or REMOVED) from then on}
FUNCTIONS: Mapping[str, Row] = {
    "get_param": {"2013-05-23": fn.GetParam},
    "get_resource": {"2013-05-23": fn.GetResource},
    "get_attr": {"2013-05-23": fn.GetAttThenSelect, "2014-10-16": fn.GetAtt,
                 "2015-10-15": fn.GetAttAllAttributes},
    "get_file": {"2013-05-23": fn.GetFile},
    "list_join": {"2013-05-23": fn.Join, "2015-10-15": fn.JoinMultiple},
    "str_replace": {"2013-05-23": fn.Replace, "2015-10-15": fn.ReplaceJson},
    "resource_facade": {"2013-05-23": fn.ResourceFacade},
    "repeat": {"2015-04-30": fn.Repeat, "2016-10-14": fn.RepeatWithMap,
               "2017-09-01": fn.RepeatWithNestedLoop},
    "digest": {"2015-04-30": fn.Digest},
    "str_split": {"2015-10-15": fn.StrSplit},
    "map_merge": {"2016-04-08": fn.MapMerge},
    "yaql": {"2016-10-14": fn.Yaql},
    "map_replace": {"2016-10-14": fn.MapReplace},
    "if": {"2016-10-14": fn.If, "2021-04-16": fn.IfNullable},
    "filter": {"2017-02-24": fn.Filter},
    "str_replace_strict": {"2017-02-24": fn.ReplaceJsonStrict},
    "make_url": {"2017-09-01": fn.MakeURL},
    "list_concat": {"2017-09-01": fn.ListConcat},
    "list_concat_unique": {"2017-09-01": fn.ListConcatUnique},
    "str_replace_vstrict": {"2017-09-01": fn.ReplaceJsonVeryStrict},
    "contains": {"2017-09-01": fn.Contains},
    # CloudFormation functions kept by 2013-05-23 only (Fn::Select until 2015-04-30)
    "Fn::Select": {"2013-05-23": fn.Select, "2015-10-15": REMOVED},
    "Fn::GetAZs": {"2013-05-23": fn.GetAZs, "2014-10-16": REMOVED},
    "Fn::Join": {"2013-05-23": fn.CfnJoin, "2014-10-16": REMOVED},
    "Fn::Split": {"2013-05-23": fn.CfnSplit, "2014-10-16": REMOVED},
    "Fn::Replace": {"2013-05-23": fn.CfnReplace, "2014-10-16": REMOVED},
    "Fn::Base64": {"2013-05-23": fn.Base64, "2014-10-16": REMOVED},
    "Fn::MemberListToMap": {"2013-05-23": fn.MemberListToMap, "2014-10-16": REMOVED},
    "Fn::ResourceFacade": {"2013-05-23": fn.CfnResourceFacade, "2014-10-16": REMOVED},
    "Ref": {"2013-05-23": fn.Ref, "2014-10-16": REMOVED},
}

#: condition function name -> {first version: class}
CONDITION_FUNCTIONS: Mapping[str, Row] = {
    "get_param": {"2016-10-14": cond.GetParam},
    "equals": {"2016-10-14": cond.Equals},
    "not": {"2016-10-14": cond.Not},
    "and": {"2016-10-14": cond.And},
    "or": {"2016-10-14": cond.Or},
    "yaql": {"2017-09-01": cond.Yaql},
    "contains": {"2017-09-01": cond.Contains},
}

#: first version with the conditions section, resource keys condition / external_id, output key
#: condition and lower-case deletion policies
CONDITIONS_FROM = "2016-10-14"
#: first version of each parameter-schema feature
PARAM_FEATURES_FROM: Mapping[str, str] = {"modulo": "2017-02-24", "tags": "2018-03-02"}

PSEUDO_PARAMETERS = ("OS::stack_id", "OS::stack_name", "OS::project_id")
DELETION_POLICIES = ("Delete", "Retain", "Snapshot")


def _at(row: Row, version: str) -> tuple[bool, FunctionClass | None]:
    """``(present, class)``: whether ``row`` says anything by ``version``, and what."""
    since = [v for v in row if v <= version]
    if not since:
        return False, None
    return True, row[max(since)]


def _table(rows: Mapping[str, Row], version: str) -> tuple[dict[str, FunctionClass], set[str]]:
    live: dict[str, FunctionClass] = {}
    removed: set[str] = set()
    for name, row in rows.items():
        present, cls = _at(row, version)
        if cls is not None:
            live[name] = cls
        elif present:
            removed.add(name)
    return live, removed


def _family_functions() -> dict[str, tuple[str, ...]]:
    versions = [v for v, _ in VERSIONS]
    return {name: tuple(v for v in versions if _at(row, v)[1] is not None)
            for name, row in FUNCTIONS.items()}


def build_spec(version: str, alias: str | None,
               family_functions: Mapping[str, tuple[str, ...]]) -> VersionSpec:
    """The spec of HOT ``version``, derived from the tables above."""
    functions, removed = _table(FUNCTIONS, version)
    condition_functions, _ = _table(CONDITION_FUNCTIONS, version)
    has_conditions = version >= CONDITIONS_FROM
    policies = DELETION_POLICIES + (
        tuple(p.lower() for p in DELETION_POLICIES) if has_conditions else ())
    return VersionSpec(
        family="hot",
        key="heat_template_version",
        version=version,
        aliases=(alias,) if alias else (),
        sections=SectionNames(
            version="heat_template_version", description="description",
            parameters="parameters", parameter_groups="parameter_groups",
            resources="resources", outputs="outputs",
            conditions="conditions" if has_conditions else None, mappings=None),
        resource_keys=ResourceKeyNames(
            type="type", properties="properties", metadata="metadata",
            depends_on="depends_on", deletion_policy="deletion_policy",
            update_policy="update_policy", description="description",
            condition="condition" if has_conditions else None,
            external_id="external_id" if has_conditions else None),
        output_keys=frozenset({"description", "value"} | ({"condition"} if has_conditions
                                                         else set())),
        functions=functions,
        condition_functions=condition_functions,
        removed_functions=frozenset(removed),
        param_features=frozenset(f for f, since in PARAM_FEATURES_FROM.items()
                                 if version >= since),
        deletion_policies=frozenset(policies),
        strict_resource_keys=True,
        pseudo_parameters=PSEUDO_PARAMETERS,
        family_functions=family_functions,
    )


def _build_all() -> dict[str, VersionSpec]:
    family = _family_functions()
    return {version: build_spec(version, alias, family) for version, alias in VERSIONS}


#: version -> spec, every HOT version
SPECS: Mapping[str, VersionSpec] = _build_all()

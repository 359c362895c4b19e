"""``OS::Heat::None``: a stand-in that does nothing.

Mapped over another type in an environment's ``resource_registry`` it disables that resource:
it takes whatever properties it is given without checking them, answers every attribute with
None, and is never updated or replaced whatever changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from kubeheat.resources.base import register
from kubeheat.resources.heat._common import NativeResource


@register
class NoneResource(NativeResource):
    type_name = "OS::Heat::None"
    show_is_none = True  # Heat: no API object to show
    description = ("Does nothing. Accepts any properties and returns None for any attribute, "
                   "so it can stand in for another type through the resource_registry.")
    properties = {}
    attributes = {}
    #: the engine must not check properties against the (empty) schema
    accepts_any_properties: ClassVar[bool] = True
    #: the engine must answer any get_attr with None instead of failing
    any_attribute: ClassVar[bool] = True
    #: Heat never updates it: a changed definition is recorded without calling any handler
    never_updates: ClassVar[bool] = True

    def needs_replacement(self, old: Mapping[str, Any], new: Mapping[str, Any],
                          changed: frozenset[str]) -> frozenset[str]:
        return frozenset()

"""``OS::Heat::RandomString``: a random string, e.g. for passwords.

Characters come from the union of ``character_classes`` (named sets) and
``character_sequences`` (literal sets), with at least ``min`` characters from each entry;
generated with :mod:`secrets`. Every property change replaces the resource, so a new string is
made (``salt`` exists only to force that). ``get_resource`` returns the string itself.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kubeheat.resources.base import (
    INTEGER,
    LIST,
    MAP,
    STRING,
    Attribute,
    Property,
    ResourceContext,
    ResourceFailure,
    register,
)
from kubeheat.resources.heat._common import NativeResource
from kubeheat.template import AllowedValuesConstraint, RangeConstraint

CHARACTER_CLASSES: dict[str, str] = {
    "lettersdigits": string.ascii_letters + string.digits,
    "letters": string.ascii_letters,
    "lowercase": string.ascii_lowercase,
    "uppercase": string.ascii_uppercase,
    "digits": string.digits,
    "hexdigits": string.digits + "ABCDEF",
    "octdigits": string.octdigits,
}
CLASS_NAMES = tuple(CHARACTER_CLASSES)
DEFAULT_CLASSES: list[dict[str, Any]] = [{"class": "lettersdigits", "min": 1}]


def generate(length: int, pools: Iterable[tuple[str, int]]) -> str:
    """A string of ``length`` characters drawn from the union of the pools, with at least
    ``minimum`` characters from each ``(characters, minimum)`` pool, in random order."""
    rng = secrets.SystemRandom()
    chosen: list[str] = []
    union: set[str] = set()
    for chars, minimum in pools:
        allowed = sorted(set(chars))
        union.update(allowed)
        chosen.extend(rng.choice(allowed) for _ in range(minimum))
    everything = sorted(union)
    while len(chosen) < length:
        chosen.append(rng.choice(everything))
    rng.shuffle(chosen)
    return "".join(chosen[:length])


def _entries(value: Any) -> list[Mapping[str, Any]]:
    if not value:
        return []
    if not isinstance(value, Sequence) or isinstance(value, str):
        return []
    return [e for e in value if isinstance(e, Mapping)]


@register
class RandomString(NativeResource):
    type_name = "OS::Heat::RandomString"
    show_is_none = True  # Heat: no API object to show
    id_form = "name"  # Heat: physical id <stack>-<resource>-<short id>
    description = ("Generates a random string, typically a password or a secret. Referencing "
                   "the resource gives the string.")
    properties = {
        "length": Property(INTEGER, "How many characters to generate.", default=32,
                           constraints=(RangeConstraint(min=1, max=512),)),
        "sequence": Property(
            STRING, "Deprecated (hidden in Heat): a character class name; use "
                    "character_classes instead.",
            constraints=(AllowedValuesConstraint(allowed=CLASS_NAMES),)),
        "character_classes": Property(
            LIST, "Named character classes to draw from, each with a minimum count.",
            default=DEFAULT_CLASSES,
            item=Property(MAP, schema={
                "class": Property(STRING, "A named class of characters.",
                                  default="lettersdigits",
                                  constraints=(AllowedValuesConstraint(allowed=CLASS_NAMES),)),
                "min": Property(INTEGER, "At least this many characters of the string come "
                                         "from the class.",
                                default=1, constraints=(RangeConstraint(min=1, max=512),)),
            })),
        "character_sequences": Property(
            LIST, "Literal sets of characters to draw from, each with a minimum count.",
            item=Property(MAP, schema={
                "sequence": Property(STRING, "The characters of the set.", required=True),
                "min": Property(INTEGER, "At least this many characters of the string come "
                                         "from the set.",
                                default=1, constraints=(RangeConstraint(min=1, max=512),)),
            })),
        "salt": Property(STRING, "Ignored by the generator; changing it on an update makes a "
                                 "new string."),
    }
    attributes = {
        "value": Attribute("The generated string (get_resource gives it too).", type=STRING),
    }

    @staticmethod
    def classes(props: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The character classes after Heat's translation of the deprecated ``sequence``."""
        given = props.get("character_classes")
        out = [{"class": e.get("class") or "lettersdigits",
                "min": 1 if e.get("min") is None else int(e["min"])}
               for e in _entries(DEFAULT_CLASSES if given is None else given)]
        sequence = props.get("sequence")
        if sequence:
            if given is None or given == DEFAULT_CLASSES:
                out = []
            out.append({"class": sequence, "min": 1})
        return out

    @staticmethod
    def sequences(props: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [{"sequence": str(e.get("sequence") or ""),
                 "min": 1 if e.get("min") is None else int(e["min"])}
                for e in _entries(props.get("character_sequences"))]

    def check(self, props: Mapping[str, Any]) -> tuple[int, list[tuple[str, int]]]:
        """The length and pools, or Heat's validation failure."""
        length = int(props.get("length") or 32)
        classes = self.classes(props)
        sequences = self.sequences(props)
        for entry in classes:
            if entry["class"] not in CHARACTER_CLASSES:
                raise ResourceFailure(
                    f'"{entry["class"]}" is not an allowed value [{", ".join(CLASS_NAMES)}]')
        for entry in sequences:
            if not entry["sequence"]:
                raise ResourceFailure("Property sequence not assigned")
        if sum(e["min"] for e in classes) + sum(e["min"] for e in sequences) > length:
            raise ResourceFailure("Length property cannot be smaller than combined character "
                                  "class and character sequence minimums")
        pools = [(e["sequence"], e["min"]) for e in sequences]
        pools += [(CHARACTER_CLASSES[e["class"]], e["min"]) for e in classes]
        if not pools:
            pools = [(CHARACTER_CLASSES["lettersdigits"], 0)]
        return length, pools

    def build(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        length, pools = self.check(props)
        return {"value": generate(length, pools)}

    def attrs_from(self, ctx: ResourceContext, record: Mapping[str, Any],
                   props: Mapping[str, Any]) -> dict[str, Any]:
        return {"value": record.get("value")}

    def reference_from(self, record_id: str, record: Mapping[str, Any]) -> str:
        return str(record.get("value"))

"""``str_replace``'s substitution in time linear in the template (review H4).

Heat's rule: params are taken longest first (equal lengths in alphabetical order); each one
replaces its non-overlapping occurrences, leftmost first, in the text no earlier param has
replaced, and the text a value inserts is never searched again. Heat implements it by splitting
the template by one key after the other, which costs the number of keys times the number of
pieces (8000 params took 25 s).

Here the occurrences are found in one scan of the template: a regex built from the keys' trie
reports, at each position, the key starting there (the keys that are prefixes of others, and
long ones, are few and are searched one by one). Then, in Heat's
key order, each occurrence is taken unless it overlaps one already taken (a mask of the
template's characters says which are), and the result is assembled once. Same result as Heat's
splitting, in time proportional to the template and the keys, and memory to the template.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

#: kubeheat's guard (Heat has none): the largest string, in characters, a substitution
#: (``str_replace``, ``Fn::Replace``) or ``list_join`` may build
MAX_RESULT_SIZE = 16 * 1024 * 1024
#: up to this many keys, searching them one by one is faster than building the scanner
FEW_KEYS = 16
#: keys longer than this are searched one by one (the scan costs, at each position, the length
#: of the key prefix found there)
MAX_SCANNED_KEY = 64

_END = ""   # the trie's end-of-key mark (never a character)


def _trie(keys: Sequence[str]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key in keys:
        node = root
        for char in key:
            node = node.setdefault(char, {})
        node[_END] = key
    return root


def _pattern(node: dict[str, Any]) -> str:
    """A regex matching, from ``node``, the key that continues there (in a trie where no key
    is a prefix of another, so at most one can)."""
    literal: list[str] = []
    while len(node) == 1 and _END not in node:      # a chain: one literal, no group
        (char, node), = node.items()
        literal.append(char)
    head = re.escape("".join(literal))
    branches = [re.escape(char) + _pattern(child) for char, child in node.items() if char != _END]
    if len(branches) > 1:
        return head + "(?:" + "|".join(branches) + ")"
    return head + "".join(branches)


def _scan(template: str, keys: Sequence[str]) -> dict[str, array[int]] | None:
    """Every start of every key that is short and that no other key extends (none of those
    overlaps another at its start, so one regex finds them all in one pass). ``None`` when a
    scan would not pay."""
    full = _trie(keys)
    scanned = [key for key in keys if len(key) <= MAX_SCANNED_KEY and len(_node(full, key)) == 1]
    if len(scanned) <= FEW_KEYS:
        return None
    try:
        scanner = re.compile("(?=(" + _pattern(_trie(scanned)) + "))", re.DOTALL)
    except (RecursionError, re.error, OverflowError):
        return None
    starts: dict[str, array[int]] = {key: array("q") for key in scanned}
    for match in scanner.finditer(template):
        starts[match.group(1)].append(match.start())
    return starts


def _node(trie: dict[str, Any], key: str) -> dict[str, Any]:
    node = trie
    for char in key:
        node = node[char]
    return node


class _Placer:
    """Takes occurrences in Heat's order: one not overlapping a taken one, leftmost first."""

    def __init__(self, template: str) -> None:
        self.template = template
        self.taken = bytearray(len(template))
        self.replaced: list[tuple[int, str]] = []

    def clash(self, at: int, end: int) -> int:
        """The first taken position in ``[at, end)``, or -1."""
        return self.taken.find(1, at, end)

    def take(self, at: int, key: str) -> None:
        self.taken[at:at + len(key)] = b"\x01" * len(key)
        self.replaced.append((at, key))

    def place_listed(self, key: str, starts: Iterable[int]) -> int:
        """Take ``key`` at the listed ``starts`` (increasing) where it fits; how many taken."""
        width, count, free_from = len(key), 0, 0
        for at in starts:
            if at < free_from:
                continue
            clash = self.clash(at, at + width)
            if clash >= 0:
                free_from = clash + 1            # every start up to the clash overlaps it
                continue
            self.take(at, key)
            count += 1
            free_from = at + width
        return count

    def place_found(self, key: str) -> int:
        """Search ``key`` in the template and take it where it fits; how many taken."""
        width, count, at = len(key), 0, self.template.find(key)
        while at >= 0:
            clash = self.clash(at, at + width)
            if clash >= 0:
                free = self.taken.find(0, clash)    # past the taken run holding the clash
                if free < 0:
                    break
                at = self.template.find(key, free)
                continue
            self.take(at, key)
            count += 1
            at = self.template.find(key, at + width)
        return count

    def result(self, values: Mapping[str, str]) -> str:
        self.replaced.sort()
        out: list[str] = []
        done = 0
        for at, key in self.replaced:
            out.append(self.template[done:at])
            out.append(values[key])
            done = at + len(key)
        out.append(self.template[done:])
        return "".join(out)


def substitute(template: str, keys: Sequence[str], values: Mapping[str, str], max_size: int,
               too_large: Callable[[int], Exception]) -> tuple[str, set[str]]:
    """``template`` with ``keys`` (in Heat's order) replaced by their ``values``, and the keys
    found. Raises ``too_large(size)`` once a key makes the result pass ``max_size`` (nothing is
    built before all keys are placed)."""
    scanned = _scan(template, keys)
    placer = _Placer(template)
    found: set[str] = set()
    size = len(template)
    for key in keys:
        listed = None if scanned is None else scanned.get(key)
        count = placer.place_found(key) if listed is None else placer.place_listed(key, listed)
        if count:
            found.add(key)
            size += count * (len(values[key]) - len(key))
            if size > max_size:    # checked per key: the message gives the key's whole size
                raise too_large(size)
    return placer.result(values), found


__all__ = ["FEW_KEYS", "MAX_RESULT_SIZE", "MAX_SCANNED_KEY", "substitute"]

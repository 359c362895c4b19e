"""``str_replace``'s substitution in time linear in the template (review H4).

Heat's rule: params are taken longest first (equal lengths in alphabetical order); each one
replaces its non-overlapping occurrences, leftmost first, in the text no earlier param has
replaced, and the text a value inserts is never searched again. Heat implements it by splitting
the template by one key after the other, which costs the number of keys times the number of
pieces (8000 params took 25 s).

Here every occurrence of every key is found in one scan of the template: a regex built from the
keys' trie reports, at each position, the longest key starting there, and the keys that are
prefixes of it start there too. Then, in Heat's key order, each occurrence is taken unless it
overlaps one already taken (a mask of the template's characters says which are), and the result
is assembled once. Same result as Heat's splitting, in time proportional to the template, the
keys and their occurrences.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

#: a trie deeper than this many branching points (keys that are prefixes of prefixes of ...)
#: would make a regex too deeply nested to compile: such keys are searched one by one instead
MAX_TRIE_DEPTH = 40
#: up to this many keys, searching them one by one is faster than building the scanner
FEW_KEYS = 16

_END = ""   # the trie's end-of-key mark (never a character)


class _TooDeep(Exception):
    pass


def _trie(keys: Sequence[str]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key in keys:
        node = root
        for char in key:
            node = node.setdefault(char, {})
        node[_END] = key
    return root


def _pattern(node: dict[str, Any], depth: int) -> str:
    """A regex matching, from ``node``, the longest key that continues there."""
    if depth > MAX_TRIE_DEPTH:
        raise _TooDeep
    literal: list[str] = []
    while len(node) == 1 and _END not in node:      # a chain: one literal, no group
        (char, node), = node.items()
        literal.append(char)
    head = re.escape("".join(literal))
    branches = [re.escape(char) + _pattern(child, depth + 1)
                for char, child in node.items() if char != _END]
    if not branches:
        return head
    group = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if _END in node:                                # a key ends here: the rest is optional
        return head + ("(?:" + group + ")?" if len(branches) == 1 else group + "?")
    return head + group


def _prefix_keys(trie: dict[str, Any], key: str) -> list[str]:
    """The keys that are ``key`` or a prefix of it."""
    found: list[str] = []
    node = trie
    for char in key:
        node = node[char]
        if _END in node:
            found.append(node[_END])
    return found


def _occurrences(template: str, keys: Sequence[str]) -> dict[str, list[int]]:
    """Every start of every key in ``template`` (overlapping ones too), in increasing order."""
    trie = _trie(keys)
    try:
        if len(keys) <= FEW_KEYS:
            raise _TooDeep
        scanner = re.compile("(?=(" + _pattern(trie, 0) + "))", re.DOTALL)
    except (_TooDeep, RecursionError, re.error, OverflowError):
        return _occurrences_one_by_one(template, keys)
    starts: dict[str, list[int]] = {}
    prefixes: dict[str, list[str]] = {}
    for match in scanner.finditer(template):
        longest = match.group(1)
        if longest not in prefixes:
            prefixes[longest] = _prefix_keys(trie, longest)
        at = match.start()
        for key in prefixes[longest]:
            starts.setdefault(key, []).append(at)
    return starts


def _occurrences_one_by_one(template: str, keys: Sequence[str]) -> dict[str, list[int]]:
    starts: dict[str, list[int]] = {}
    for key in keys:
        at = template.find(key)
        while at >= 0:
            starts.setdefault(key, []).append(at)
            at = template.find(key, at + 1)
    return starts


def substitute(template: str, keys: Sequence[str], values: Mapping[str, str], max_size: int,
               too_large: Callable[[int], Exception]) -> tuple[str, set[str]]:
    """``template`` with ``keys`` (in Heat's order) replaced by their ``values``, and the keys
    found. Raises ``too_large(size)`` once a key makes the result pass ``max_size`` (nothing is
    built before all keys are placed)."""
    starts = _occurrences(template, keys)
    taken = bytearray(len(template))
    replaced: list[tuple[int, str]] = []
    size = len(template)
    for key in keys:
        width = len(key)
        grow = len(values[key]) - width
        free_from = 0
        for at in starts.get(key, ()):
            end = at + width
            if at < free_from or taken.find(1, at, end) >= 0:
                continue
            taken[at:end] = b"\x01" * width
            free_from = end
            replaced.append((at, key))
            size += grow
        if size > max_size:        # checked per key: the message gives the key's whole size
            raise too_large(size)
    replaced.sort()
    out: list[str] = []
    done = 0
    for at, key in replaced:
        out.append(template[done:at])
        out.append(values[key])
        done = at + len(key)
    out.append(template[done:])
    return "".join(out), {key for _, key in replaced}


__all__ = ["MAX_TRIE_DEPTH", "substitute"]

"""Example strings for simple regular expressions, for the JSON Schema ``pattern`` keyword.

Understood: literal characters and escapes, ``.``, character classes (negated ones too)
and ``\\d \\w \\s`` with their negations, groups ``(...)``/``(?:...)`` with ``|`` (the
first branch is used), the quantifiers ``? * + {n} {n,} {n,m}`` (lazy forms too) and the
anchors ``^ $``. Anything else (lookaround, backreferences, ``\\b``, flags) has no example,
and neither has a pattern whose example fails to match it after all (``re.search``, as
``jsonschema`` checks it).
"""

from __future__ import annotations

import re
import string
from typing import TypeAlias

# Characters tried, in order, for a class or a wildcard.
_POOL = string.ascii_letters + string.digits + string.punctuation + " "
_CONTROL = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "0": "\0"}
_UNBOUNDED = 1 << 30

# An atom is one character, or a group: its branches, each a sequence of repeated atoms.
Atom: TypeAlias = str | list[list[tuple["Atom", int, int]]]


class _NoExample(Exception):
    pass


def example(pattern: str, min_length: int = 0, max_length: int | None = None) -> str | None:
    """A string that ``pattern`` matches, within the length bounds; None if none is found."""
    try:
        parser = _Parser(pattern)
        branches = parser.alternatives()
        if parser.pos != len(pattern):
            return None
        compiled = re.compile(pattern)
    except (_NoExample, re.error):
        return None
    shortest = _render(branches, [0])
    shortfall = max(0, min_length - len(shortest))
    candidates = [shortest, _render(branches, [shortfall]), shortest + "x" * shortfall]
    for candidate in candidates:
        fits = min_length <= len(candidate) <= (max_length if max_length is not None else 1e18)
        if fits and compiled.search(candidate):
            return candidate
    return None


def _render(branches: list[list[tuple[Atom, int, int]]], extra: list[int]) -> str:
    """The first branch, each atom repeated its minimum; ``extra[0]`` more single characters
    are spread over open-ended repeats (to reach a minimum length)."""
    pieces: list[str] = []
    for atom, low, high in branches[0]:
        count = low
        if isinstance(atom, str) and high > low and extra[0] > 0:
            more = min(high - low, extra[0])
            count, extra[0] = count + more, extra[0] - more
        if count:
            pieces.append((atom if isinstance(atom, str) else _render(atom, extra)) * count)
    return "".join(pieces)


def _pick(regex: str) -> str:
    compiled = re.compile(regex)
    for char in _POOL:
        if compiled.fullmatch(char):
            return char
    raise _NoExample


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.pos = 0

    def alternatives(self) -> list[list[tuple[Atom, int, int]]]:
        branches = [self._sequence()]
        while self.text.startswith("|", self.pos):
            self.pos += 1
            branches.append(self._sequence())
        return branches

    def _sequence(self) -> list[tuple[Atom, int, int]]:
        items: list[tuple[Atom, int, int]] = []
        while self.pos < len(self.text) and self.text[self.pos] not in "|)":
            atom = self._atom()
            if atom is not None:
                low, high = self._quantifier()
                items.append((atom, low, high))
        return items

    def _atom(self) -> Atom | None:
        char = self.text[self.pos]
        self.pos += 1
        if char in "^$":
            return None
        if char == ".":
            return _pick(".")
        if char == "(":
            if self.text.startswith("?:", self.pos):
                self.pos += 2
            elif self.text.startswith("?", self.pos):
                raise _NoExample
            branches = self.alternatives()
            if not self.text.startswith(")", self.pos):
                raise _NoExample
            self.pos += 1
            return branches
        if char == "[":
            return self._class()
        if char == "\\":
            return self._escape()
        if char in "*+?{}]":
            raise _NoExample
        return char

    def _class(self) -> str:
        start = self.pos - 1
        if self.text.startswith("^", self.pos):
            self.pos += 1
        if self.text.startswith("]", self.pos):
            self.pos += 1
        while self.pos < len(self.text) and self.text[self.pos] != "]":
            self.pos += 2 if self.text[self.pos] == "\\" else 1
        if self.pos >= len(self.text):
            raise _NoExample
        self.pos += 1
        return _pick(self.text[start : self.pos])

    def _escape(self) -> str:
        if self.pos >= len(self.text):
            raise _NoExample
        char = self.text[self.pos]
        self.pos += 1
        if char in "dDwWsS":
            return _pick("\\" + char)
        if char in _CONTROL:
            return _CONTROL[char]
        if char in "xu":
            width = 2 if char == "x" else 4
            digits = self.text[self.pos : self.pos + width]
            if len(digits) != width or not all(d in string.hexdigits for d in digits):
                raise _NoExample
            self.pos += width
            return chr(int(digits, 16))
        if char.isalnum():  # \b, \B, backreferences and the like
            raise _NoExample
        return char

    def _quantifier(self) -> tuple[int, int]:
        text, pos = self.text, self.pos
        if pos >= len(text) or text[pos] not in "?*+{":
            return 1, 1
        if text[pos] == "{":
            end = text.find("}", pos)
            low, comma, high = text[pos + 1 : end].partition(",") if end > 0 else ("", "", "")
            if not low.isdigit() or (high and not high.isdigit()):
                raise _NoExample
            bounds = int(low), (int(high) if high else _UNBOUNDED if comma else int(low))
            self.pos = end + 1
        else:
            bounds = {"?": (0, 1), "*": (0, _UNBOUNDED), "+": (1, _UNBOUNDED)}[text[pos]]
            self.pos = pos + 1
        if text.startswith("?", self.pos):  # lazy: the same strings match
            self.pos += 1
        return bounds

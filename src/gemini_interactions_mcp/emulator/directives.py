"""Prompt directives: ``[[name args]]`` markers that script what the emulated model does.

The meaning of each directive is documented in :mod:`.scripted`: ``call``, ``search``,
``code``, ``url``, ``mcp``, ``toolsearch``, ``think``, ``chars``, ``delay``, ``error``,
``fail``, ``drop``, ``continue`` and ``idle``. This module only finds them, checks their
arguments and removes them from the text that the model echoes.
A ``[[word ...]]`` whose word is not a directive stays in the text untouched; a known
directive with bad arguments is a 400 ``invalid_request``, so test typos fail loudly.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import invalid

NAMES = frozenset(
    {
        "call",
        "search",
        "code",
        "url",
        "mcp",
        "think",
        "chars",
        "delay",
        "error",
        "fail",
        "drop",
        "continue",
        "toolsearch",
        "idle",
    }
)
_HEAD = re.compile(r"\[\[([a-z]+)\b")
_SPACES = re.compile(r"\s+")
_NAME = re.compile(r"\s*([A-Za-z_][\w.\-]*)")
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class Directive:
    name: str
    arg: str = ""
    data: Any = None


@dataclass
class Script:
    """The directives found in one user text, plus that text with them removed."""

    text: str
    directives: list[Directive] = field(default_factory=list)

    def first(self, name: str) -> Directive | None:
        return next((d for d in self.directives if d.name == name), None)

    def all(self, name: str) -> list[Directive]:
        return [d for d in self.directives if d.name == name]

    def number(self, name: str) -> float | None:
        found = self.first(name)
        return None if found is None else float(found.data)


def parse(text: str) -> Script:
    """Find every directive in ``text``; the rest, whitespace collapsed, is the echo text."""
    kept: list[str] = []
    found: list[Directive] = []
    pos = 0
    while (start := text.find("[[", pos)) >= 0:
        head = _HEAD.match(text, start)
        if head is None or head.group(1) not in NAMES:
            kept.append(text[pos : start + 2])
            pos = start + 2
            continue
        kept.append(text[pos:start])
        directive, pos = _parse_one(text, head.group(1), head.end())
        found.append(directive)
    kept.append(text[pos:])
    return Script(_SPACES.sub(" ", "".join(kept)).strip(), found)


def _parse_one(text: str, name: str, pos: int) -> tuple[Directive, int]:
    if name == "call":
        return _parse_call(text, pos)
    end = text.find("]]", pos)
    if end < 0:
        raise invalid(f"Directive [[{name} ...]] is not closed with ']]'.")
    arg = text[pos:end].strip()
    return _checked(name, arg), end + 2


def _parse_call(text: str, pos: int) -> tuple[Directive, int]:
    named = _NAME.match(text, pos)
    if named is None:
        raise invalid("Directive [[call NAME {json}]] needs a function name.")
    pos = named.end()
    while pos < len(text) and text[pos].isspace():
        pos += 1
    arguments: Any = {}
    if text.startswith("{", pos):
        try:
            arguments, pos = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise invalid(f"Directive [[call]] has invalid JSON arguments: {exc.msg}.") from exc
    end = text.find("]]", pos)
    if end < 0 or text[pos:end].strip():
        raise invalid("Directive [[call NAME {json}]] is malformed.")
    return Directive("call", named.group(1), arguments), end + 2


def _checked(name: str, arg: str) -> Directive:
    if name in ("think", "continue", "idle"):
        if arg:
            raise invalid(f"Directive [[{name}]] takes no arguments.")
        return Directive(name)
    if name in ("chars", "drop", "error"):
        if not arg.isdigit():
            raise invalid(f"Directive [[{name} N]] needs a whole number, got '{arg}'.")
        value = int(arg)
        if name == "error" and not 400 <= value <= 599:
            raise invalid("Directive [[error STATUS]] needs a status from 400 to 599.")
        if name == "drop" and value < 1:
            # A cut before interaction.created leaves the client no id to resume with.
            raise invalid(
                "Directive [[drop K]] needs K >= 1: a cut before any event cannot resume."
            )
        return Directive(name, arg, value)
    if name == "delay":
        try:
            delay = float(arg)
        except ValueError:
            delay = -1.0
        if delay < 0:
            raise invalid(f"Directive [[delay MS]] needs a number of milliseconds, got '{arg}'.")
        return Directive(name, arg, delay)
    if not arg:
        raise invalid(f"Directive [[{name} ...]] needs an argument.")
    if name == "mcp":
        parts = arg.split()
        if len(parts) != 2:
            raise invalid("Directive [[mcp SERVER TOOL]] needs a server and a tool name.")
        return Directive(name, arg, tuple(parts))
    if name == "toolsearch":
        return Directive(name, arg, tuple(arg.split()))
    return Directive(name, arg, arg)

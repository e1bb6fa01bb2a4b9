"""Compact JSON Schemas for ``tools/list``: every byte there is read by a model.

Pydantic's schemas repeat a ``title`` for every field and spell an optional value as
``anyOf: [X, {"type": "null"}]`` with ``default: null``. Optional is already said by a
field's absence from ``required``, so those go; arguments are still validated by the
pydantic models, not by this advertised schema.
"""

from __future__ import annotations

from typing import Any

_NAME_MAPS = frozenset({"properties", "$defs", "definitions", "patternProperties"})
_NULL = {"type": "null"}


def compact(node: Any) -> Any:
    """A smaller schema meaning the same to a client (titles and nullable noise removed)."""
    if isinstance(node, list):
        return [compact(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in ("maxLength", "maximum") and isinstance(value, int) and value >= 100_000:
            # Huge caps say nothing useful to a caller; the server still enforces them.
            continue
        if key == "minLength" and value == 1:
            # "Not empty" goes without saying; an empty value still gets a clear error.
            continue
        if key == "default" and (value is None or value in (False, "", 0)):
            # Leaving a flag out means false, a text empty, a count zero: said by omission.
            continue
        if key == "additionalProperties" and isinstance(value, bool):
            # True is JSON Schema's default; with False, extra keys are still refused by the
            # server-side models, with a clear message.
            continue
        if key in _NAME_MAPS and isinstance(value, dict):
            out[key] = {name: compact(sub) for name, sub in value.items()}
        else:
            out[key] = compact(value)
    options = out.get("anyOf")
    if isinstance(options, list) and _NULL in options:
        rest = [option for option in options if option != _NULL]
        if len(rest) == 1 and isinstance(rest[0], dict):
            siblings = {k: v for k, v in out.items() if k != "anyOf"}
            return {**rest[0], **siblings}
        out["anyOf"] = rest
    return out

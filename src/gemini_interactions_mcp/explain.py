"""Validation errors as sentences a person or a model can act on: which argument (or setting),
what is wrong, what is allowed. No validator's wording, codes or links reach the reader.

Used for tool arguments and for the server's own configuration alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

__all__ = ["explain", "unknown_arguments"]

_MAX_SENTENCES = 3
# Union branches show up in an error's location as a type name, not as an argument or field.
_TYPE_NAMES = frozenset({"str", "int", "float", "bool", "dict", "list", "none", "bytes"})


def unknown_arguments(tool: str, given: Iterable[str], known: Sequence[str]) -> str | None:
    """A sentence refusing arguments the tool does not take (a typo does nothing otherwise)."""
    unknown = sorted(set(given) - set(known))
    if not unknown:
        return None
    names = ", ".join(unknown)
    noun = "argument" if len(unknown) == 1 else "arguments"
    return f"{tool} takes no {noun} {names}; it takes: {', '.join(known)}."


def explain(error: ValidationError, name: Callable[[str], str] = str) -> str:
    """One sentence per invalid argument (at most three, then how many more); `name` says how
    to call an argument by its path (a setting by its variable, say)."""
    by_path: dict[str, list[tuple[str, ErrorDetails]]] = {}
    for detail in error.errors(include_url=False):
        path, branch = _path(detail["loc"])
        path = name(path)
        by_path.setdefault(path, []).append((branch, detail))
    # Errors about where the input went wrong inside a branch win over the branches the input
    # did not resemble at all (a dict given where a name or an object was allowed).
    deeper = {p for p in by_path if any(q != p and _under(q, p) for q in by_path)}
    sentences = []
    for path, details in by_path.items():
        if path in deeper:
            continue
        sentences.append(_sentence(path, _best(details)))
    shown = sentences[:_MAX_SENTENCES]
    if len(sentences) > _MAX_SENTENCES:
        shown.append(f"({len(sentences) - _MAX_SENTENCES} more arguments are invalid too.)")
    return " ".join(shown)


def _under(path: str, prefix: str) -> bool:
    return path.startswith((prefix + ".", prefix + "["))


def _path(loc: Sequence[int | str]) -> tuple[str, str]:
    """The argument path (``tools[0].type``) and the union branch it was checked against."""
    path, branch = "", ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif "[" in part or part[:1].isupper() or part in _TYPE_NAMES:
            branch = part
        else:
            path += f".{part}" if path else part
    return path or "the arguments", branch


def _best(details: list[tuple[str, ErrorDetails]]) -> ErrorDetails:
    """Of the errors at one path, the one that says most about what is allowed."""
    for _, detail in details:
        if detail["type"] not in ("model_type", "dict_type", "model_attributes_type"):
            return detail
    return details[0][1]


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _sentence(path: str, detail: ErrorDetails) -> str:
    kind = detail["type"]
    ctx: Mapping[str, Any] = detail.get("ctx") or {}
    if kind == "missing":
        return f"{path} is required."
    if kind == "extra_forbidden":
        parent, _, field = path.rpartition(".")
        where = parent or "the arguments"
        return f"{where} has no field {field!r}; remove it."
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return f"{path} must not be empty."
        return f"{path} needs at least {ctx.get('min_length')} characters."
    if kind == "string_too_long":
        return f"{path} is longer than the {ctx.get('max_length'):,} characters allowed."
    if kind == "too_long":
        return f"{path} has more than the {ctx.get('max_length')} items allowed."
    if kind == "too_short":
        return f"{path} needs at least {ctx.get('min_length')} items."
    if kind == "string_pattern_mismatch":
        return f"{path} has characters that are not allowed (it must match {ctx.get('pattern')})."
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"{path} must be {words} {_number(ctx.get(key))}."
    if kind in ("literal_error", "enum"):
        return f"{path} must be one of {ctx.get('expected')}."
    types = {
        "bool_type": "true or false (a JSON boolean)",
        "bool_parsing": "true or false (a JSON boolean)",
        "int_type": "a whole number",
        "int_parsing": "a whole number",
        "int_from_float": "a whole number",
        "float_type": "a number",
        "float_parsing": "a number",
        "string_type": "text (a string)",
        "list_type": "a list",
        "dict_type": "an object",
        "model_type": "an object",
        "model_attributes_type": "an object",
    }
    if kind in types:
        return f"{path} must be {types[kind]}."
    message = str(detail.get("msg", "is not valid")).removeprefix("Value error, ")
    return f"{path}: {message.rstrip('.')}."

"""Answers that follow a JSON ``response_format``: a value built from the schema.

The builder understands ``type`` (also a list; ``null`` is avoided), ``properties`` (all
are filled), ``required``, ``additionalProperties``, ``minProperties``/``maxProperties``,
``items``, ``prefixItems``, ``minItems``/``maxItems``, ``uniqueItems``, ``enum``,
``const``, ``minimum``/``maximum`` (and the exclusive forms), ``multipleOf``,
``minLength``/``maxLength``, ``pattern`` (simple regexes, see :mod:`.patterns`),
``format`` (date, date-time, time, email, uri, uuid), ``anyOf``/``oneOf`` (the first
branch that fits), ``allOf`` (merged) and local ``$ref``. The user's text goes into the
first plain string.

Every value is checked against the schema with ``jsonschema`` (formats included) before
it is answered. A schema the builder cannot satisfy (``not``, ``if``, a lookahead
``pattern``, contradictory bounds, ...) makes the create a 400 ``invalid_request`` that
names the keyword: an answer never breaks its schema.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, TypeGuard

from jsonschema.exceptions import SchemaError, best_match
from jsonschema.protocols import Validator
from jsonschema.validators import Draft202012Validator, validator_for
from referencing.exceptions import Unresolvable

from . import patterns
from .errors import ApiError, invalid

_FORMATS = {
    "date": "2026-01-01",
    "date-time": "2026-01-01T00:00:00Z",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://www.example.com/",
    "url": "https://www.example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
}
# Below this depth optional members are filled; beyond it only what the schema requires
# (recursive schemas end there). Deeper than the limit, the schema is refused.
_SHALLOW = 8
_MAX_DEPTH = 40
# Multiples tried for multipleOf before giving up (float quotients can miss by an ulp).
_TRIES = 64
_LOWER = ("minimum", "minLength", "minItems", "minProperties")
_UPPER = ("maximum", "maxLength", "maxItems", "maxProperties")
_OBJECT_KEYS = ("properties", "required", "additionalProperties", "minProperties")
_ARRAY_KEYS = ("items", "prefixItems", "minItems", "maxItems", "uniqueItems")
_NUMBER_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")


def json_format(body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON text format of a create body, if it asks for one."""
    formats = body.get("response_format")
    candidates = formats if isinstance(formats, list) else [formats]
    for candidate in candidates:
        if (
            isinstance(candidate, dict)
            and candidate.get("type", "text") == "text"
            and candidate.get("mime_type") == "application/json"
        ):
            return candidate
    if body.get("response_mime_type") == "application/json":
        return {"type": "text", "mime_type": "application/json"}
    return None


def value_for(schema: Any, text: str) -> Any:
    """A JSON value valid against ``schema`` that carries ``text``.

    Raises a 400 :class:`ApiError` naming the keyword when no valid value can be built.
    """
    if schema is None or schema is True or schema == {}:
        return {"text": text}
    if schema is False:
        raise _refusal("false", "")
    if not isinstance(schema, dict):
        raise invalid("Invalid response_format schema: expected a JSON Schema object.")
    cls = validator_for(schema, default=Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        raise invalid(f"Invalid response_format schema: {exc.message}") from None
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    where = ""
    try:
        value = _Builder(schema, text, validator).build(schema)
        error = best_match(validator.iter_errors(value))
    except _CannotBuild as exc:
        keyword = exc.keyword
    except (Unresolvable, RecursionError):  # a remote or endlessly self-referencing $ref
        keyword = "$ref"
    else:
        if error is None:
            return value
        keyword, where = str(error.validator or "false"), f" at {error.json_path}"
    raise _refusal(keyword, where)


def _refusal(keyword: str, where: str) -> ApiError:
    return invalid(
        f"The emulator cannot build an answer for this response_format schema: keyword "
        f"'{keyword}'{where} is not supported here or cannot be satisfied."
    )


class _CannotBuild(Exception):
    def __init__(self, keyword: str) -> None:
        super().__init__(keyword)
        self.keyword = keyword


class _Builder:
    def __init__(self, root: Any, text: str, validator: Validator) -> None:
        self.root = root
        self.text: str | None = text
        self.validator = validator

    def fits(self, value: Any, schema: Any) -> bool:
        try:
            return bool(self.validator.evolve(schema=schema).is_valid(value))
        except (Unresolvable, RecursionError):
            return False

    def build(self, schema: Any, name: str = "value", depth: int = 0, nth: int = 0) -> Any:
        """A value for ``schema``; ``nth`` asks for a variant (for ``uniqueItems``)."""
        if depth > _MAX_DEPTH:
            raise _CannotBuild("$ref")
        schema = self._resolve(schema)
        if schema is False:
            raise _CannotBuild("false")
        if not isinstance(schema, dict):
            schema = {}
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list):
            rest = {k: v for k, v in schema.items() if k != "enum"}
            fitting = [v for v in schema["enum"] if self.fits(v, rest)]
            if not fitting:
                raise _CannotBuild("enum")
            return fitting[nth % len(fitting)]
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list):
                return self._first_fitting(schema, key, name, depth, nth)
        if isinstance(schema.get("allOf"), list):
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                merged = _merge(merged, self._resolve(part))
            return self.build(merged, name, depth + 1, nth)
        failure = _CannotBuild("type")
        for kind in _types(schema):
            saved = self.text
            try:
                return self._of_type(kind, schema, name, depth, nth)
            except _CannotBuild as exc:
                self.text, failure = saved, exc
        raise failure

    def _first_fitting(
        self, schema: dict[str, Any], key: str, name: str, depth: int, nth: int
    ) -> Any:
        rest = {k: v for k, v in schema.items() if k != key}
        for branch in schema[key]:
            saved = self.text
            try:
                candidate = self.build(_merge(rest, self._resolve(branch)), name, depth + 1, nth)
            except _CannotBuild:
                pass
            else:
                if self.fits(candidate, schema):
                    return candidate
            self.text = saved
        raise _CannotBuild(key)

    def _of_type(self, kind: str, schema: dict[str, Any], name: str, depth: int, nth: int) -> Any:
        if kind == "object":
            return self._object(schema, depth, nth)
        if kind == "array":
            return self._array(schema, name, depth, nth)
        if kind in ("number", "integer"):
            return self._number(schema, kind == "integer", nth)
        if kind == "boolean":
            return nth % 2 == 0
        if kind == "null":
            return None
        return self._string(schema, name, nth)

    def _resolve(self, schema: Any) -> Any:
        """Follow local ``$ref``s; keywords beside a ``$ref`` apply too (merged in)."""
        for _ in range(32):
            if not (isinstance(schema, dict) and isinstance(schema.get("$ref"), str)):
                return schema
            ref: str = schema["$ref"]
            if not ref.startswith("#"):
                raise _CannotBuild("$ref")
            target: Any = self.root
            for part in ref[1:].strip("/").split("/"):
                if not part:
                    continue
                part = part.replace("~1", "/").replace("~0", "~")
                if isinstance(target, dict) and part in target:
                    target = target[part]
                elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                    target = target[int(part)]
                else:
                    raise _CannotBuild("$ref")
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            schema = _merge(target, siblings) if siblings else target
        raise _CannotBuild("$ref")

    def _object(self, schema: dict[str, Any], depth: int, nth: int) -> dict[str, Any]:
        properties: dict[str, Any] = schema.get("properties", {})
        required = [n for n in schema.get("required", []) if isinstance(n, str)]
        names = list(properties) + [n for n in required if n not in properties]
        if depth >= _SHALLOW:
            names = [n for n in names if n in required]
        most = schema.get("maxProperties")
        if isinstance(most, int) and len(names) > most:
            optional = [n for n in names if n not in required]
            keep = set(required + optional[: max(0, most - len(required))])
            names = [n for n in names if n in keep]
        extra = schema.get("additionalProperties", True)
        extra_schema = {"type": "string"} if extra is True else extra
        least = schema.get("minProperties", 0)
        names += [f"extra_{i}" for i in range(1, max(0, least - len(names)) + 1)]
        if extra is False and any(n not in properties for n in names):
            raise _CannotBuild("additionalProperties")
        return {n: self.build(properties.get(n, extra_schema), n, depth + 1, nth) for n in names}

    def _array(self, schema: dict[str, Any], name: str, depth: int, nth: int) -> list[Any]:
        items = schema.get("items", {})
        prefix = schema.get("prefixItems", [])
        if isinstance(items, list):  # the tuple form of drafts before 2020-12
            prefix, items = items, {}
        count = max(schema.get("minItems", 1 if depth < _SHALLOW else 0), len(prefix))
        if "maxItems" in schema:
            count = min(count, schema["maxItems"])
        unique = schema.get("uniqueItems") is True
        return [
            self.build(
                prefix[i] if i < len(prefix) else items,
                f"{name} {i + 1}",
                depth + 1,
                i if unique else nth,
            )
            for i in range(count)
        ]

    def _number(self, schema: dict[str, Any], integer: bool, nth: int) -> int | float:
        low, low_open, high, high_open = _bounds(schema)
        step: Fraction | None = Fraction(1) if integer else None
        multiple = schema.get("multipleOf")
        if _is_number(multiple) and multiple > 0:
            exact = Fraction(str(multiple)) if isinstance(multiple, float) else Fraction(multiple)
            # An integer that is a multiple of p/q (lowest terms) is a multiple of p.
            step = Fraction(exact.numerator) if integer else exact
        if step is None:
            return _continuous(low, low_open, high, high_open, nth)
        if low is not None:
            k = math.ceil(Fraction(low) / step)
            k += 1 if low_open and k * step == low else 0
            direction = 1
        else:
            k = max(1, math.ceil(1 / step))
            if high is not None:
                top = math.floor(Fraction(high) / step)
                top -= 1 if high_open and top * step == high else 0
                k = min(k, top)
            direction = -1 if high is not None else 1
        k += direction * nth
        numeric = {key: v for key, v in schema.items() if key in _NUMBER_KEYS}
        for _ in range(_TRIES):
            exact_value = k * step
            if high is not None and (exact_value > high or (high_open and exact_value == high)):
                break
            if low is not None and (exact_value < low or (low_open and exact_value == low)):
                break
            value: int | float = (
                int(exact_value) if exact_value.denominator == 1 and integer else float(exact_value)
            )
            if self.fits(value, numeric):
                return value
            k += direction
        raise _CannotBuild("multipleOf" if "multipleOf" in schema else "maximum")

    def _string(self, schema: dict[str, Any], name: str, nth: int) -> str:
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        if isinstance(schema.get("pattern"), str):
            found = patterns.example(schema["pattern"], low, high)
            if found is None:
                raise _CannotBuild("pattern")
            return found
        if schema.get("format") in _FORMATS:
            value = _FORMATS[schema["format"]]
            if len(value) < low or (high is not None and len(value) > high):
                raise _CannotBuild("format")
            return value
        if self.text is not None:
            value, self.text = self.text, None
        else:
            value = f"example {name}" + (f" {nth + 1}" if nth else "")
        if len(value) < low:
            value += "." * (low - len(value))
        return value if high is None else value[:high]


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bounds(schema: dict[str, Any]) -> tuple[Any, bool, Any, bool]:
    """(low, low is exclusive, high, high is exclusive); draft-4 boolean forms too."""
    result: list[Any] = []
    for inclusive, exclusive, tighter in (
        ("minimum", "exclusiveMinimum", max),
        ("maximum", "exclusiveMaximum", min),
    ):
        bound = schema.get(inclusive) if _is_number(schema.get(inclusive)) else None
        other = schema.get(exclusive)
        is_open = other is True and bound is not None
        if _is_number(other) and (bound is None or tighter(bound, other) == other):
            bound, is_open = other, True
        result += [bound, is_open]
    return result[0], result[1], result[2], result[3]


def _continuous(low: Any, low_open: bool, high: Any, high_open: bool, nth: int) -> float | int:
    def inside(v: float) -> bool:
        above = low is None or v > low or (v == low and not low_open)
        below = high is None or v < high or (v == high and not high_open)
        return above and below

    choices = [1 + nth]
    if low is not None:
        choices.insert(0, low + nth + (1 if low_open else 0))
    if high is not None:
        choices.append(high - nth - (1 if high_open else 0))
    if low is not None and high is not None:
        choices.append((low + high) / 2)
    for choice in choices:
        if inside(choice):
            return choice
    raise _CannotBuild("maximum")


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, list):
        return [k for k in kind if k != "null"] + [k for k in kind if k == "null"]
    if isinstance(kind, str):
        return [kind]
    if any(k in schema for k in _OBJECT_KEYS):
        return ["object"]
    if any(k in schema for k in _ARRAY_KEYS):
        return ["array"]
    if any(k in schema for k in _NUMBER_KEYS):
        return ["number"]
    return ["string"]


def _merge(first: Any, second: Any) -> Any:
    """Two schemas as one, for ``allOf`` and branch siblings; the validator has the last word."""
    if second is True or second == {}:
        return first
    if first is True or first == {}:
        return second
    if not isinstance(first, dict) or not isinstance(second, dict):
        return False
    merged = dict(first)
    for key, value in second.items():
        if key not in merged:
            merged[key] = value
        elif key == "properties" and isinstance(value, dict):
            mine = merged[key]
            merged[key] = {
                **mine,
                **{n: _merge(mine[n], s) if n in mine else s for n, s in value.items()},
            }
        elif key == "required" and isinstance(value, list):
            merged[key] = list(dict.fromkeys([*merged[key], *value]))
        elif key in _LOWER and _is_number(value) and _is_number(merged[key]):
            merged[key] = max(merged[key], value)
        elif key in _UPPER and _is_number(value) and _is_number(merged[key]):
            merged[key] = min(merged[key], value)
        elif key in ("anyOf", "oneOf", "allOf"):
            merged["allOf"] = [*merged.get("allOf", []), {key: value}]
        else:
            merged[key] = value
    return merged

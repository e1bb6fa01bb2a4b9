"""Answers that follow a JSON ``response_format``: a value built from the schema.

Supported keywords: ``type`` (also a list; ``null`` is avoided), ``properties`` (all are
filled), ``required``, ``items``, ``prefixItems``, ``minItems``/``maxItems``, ``enum``,
``const``, ``minimum``/``maximum`` (and the exclusive forms), ``minLength``/``maxLength``,
``format`` (date, date-time, email, uri), ``anyOf``/``oneOf`` (first branch), ``allOf``
(merged) and local ``$ref``. The user's text goes into the first plain string.
"""

from __future__ import annotations

from typing import Any

_FORMATS = {
    "date": "2026-01-01",
    "date-time": "2026-01-01T00:00:00Z",
    "time": "00:00:00",
    "email": "user@example.com",
    "uri": "https://www.example.com/",
    "url": "https://www.example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


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
    """A JSON value valid against ``schema`` that carries ``text``."""
    if not isinstance(schema, dict) or not schema:
        return {"text": text}
    return _Builder(schema, text).build(schema)


class _Builder:
    def __init__(self, root: dict[str, Any], text: str) -> None:
        self.root = root
        self.text: str | None = text

    def build(self, schema: Any, name: str = "value") -> Any:
        schema = self._resolve(schema)
        if not isinstance(schema, dict):
            return self._string({}, name)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return schema["enum"][0]
        for key in ("anyOf", "oneOf"):
            if schema.get(key):
                return self.build(schema[key][0], name)
        if schema.get("allOf"):
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                part = self._resolve(part)
                merged["properties"] = {
                    **merged.get("properties", {}),
                    **part.get("properties", {}),
                }
                merged.update({k: v for k, v in part.items() if k != "properties"})
            return self.build(merged, name)
        kind = self._type(schema)
        if kind == "object":
            return self._object(schema)
        if kind == "array":
            return self._array(schema, name)
        if kind in ("number", "integer"):
            return self._number(schema, kind == "integer")
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return self._string(schema, name)

    def _resolve(self, schema: Any) -> Any:
        seen = 0
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and seen < 32:
            target: Any = self.root
            for part in schema["$ref"].lstrip("#").strip("/").split("/"):
                if part:
                    target = target.get(part.replace("~1", "/").replace("~0", "~"), {})
            schema, seen = target, seen + 1
        return schema

    @staticmethod
    def _type(schema: dict[str, Any]) -> str:
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            if "properties" in schema:
                return "object"
            if "items" in schema:
                return "array"
            return "string"
        return str(kind)

    def _object(self, schema: dict[str, Any]) -> dict[str, Any]:
        properties = schema.get("properties", {})
        names = list(properties) + [n for n in schema.get("required", []) if n not in properties]
        return {n: self.build(properties.get(n, {"type": "string"}), n) for n in names}

    def _array(self, schema: dict[str, Any], name: str) -> list[Any]:
        prefix = schema.get("prefixItems", [])
        count = max(schema.get("minItems", 1), len(prefix))
        if "maxItems" in schema:
            count = min(count, schema["maxItems"])
        items = schema.get("items", {})
        return [
            self.build(prefix[i] if i < len(prefix) else items, f"{name} {i + 1}")
            for i in range(count)
        ]

    @staticmethod
    def _number(schema: dict[str, Any], integer: bool) -> int | float:
        low, high = schema.get("minimum"), schema.get("maximum")
        if "exclusiveMinimum" in schema:
            low = schema["exclusiveMinimum"] + (1 if integer else 0.5)
        if "exclusiveMaximum" in schema:
            high = schema["exclusiveMaximum"] - (1 if integer else 0.5)
        value: float = 1 if low is None else low
        if high is not None and value > high:
            value = high
        if integer:
            return int(value) if float(value).is_integer() else int(value) + 1
        return value

    def _string(self, schema: dict[str, Any], name: str) -> str:
        if "format" in schema and schema["format"] in _FORMATS:
            value = _FORMATS[schema["format"]]
        elif self.text is not None:
            value, self.text = self.text, None
        else:
            value = f"example {name}"
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        if len(value) < low:
            value += "." * (low - len(value))
        return value if high is None else value[:high]

"""Answers to a JSON response_format are valid against the schema."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import jsonschema
import pytest

from gemini_interactions_mcp.emulator.schemas import value_for

from .conftest import URL, create, read_sse, rebuild, reply_text

SCHEMAS: list[dict[str, Any]] = [
    {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]},
    {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 200},
            "score": {"type": "number", "minimum": 2.5, "maximum": 9},
            "count": {"type": "integer", "exclusiveMinimum": 3},
            "ok": {"type": "boolean"},
            "kind": {"type": "string", "enum": ["a", "b"]},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 3, "maxItems": 4},
            "nested": {
                "type": "object",
                "properties": {"when": {"type": "string", "format": "date-time"}},
                "required": ["when", "extra"],
            },
            "maybe": {"type": ["null", "integer"]},
        },
        "required": ["title", "score", "count", "ok", "kind", "tags", "nested"],
        "additionalProperties": False,
    },
    {
        "type": "array",
        "items": {"$ref": "#/$defs/item"},
        "minItems": 2,
        "$defs": {
            "item": {"type": "object", "properties": {"name": {"type": "string", "minLength": 40}}}
        },
    },
    {"anyOf": [{"type": "integer", "maximum": -5}, {"type": "string"}]},
    {
        "allOf": [
            {"properties": {"a": {"type": "string"}}},
            {"properties": {"b": {"const": 3}}, "required": ["b"]},
        ]
    },
    {"type": "array", "prefixItems": [{"type": "boolean"}, {"type": "null"}], "maxItems": 2},
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_generated_values_validate_against_their_schema(schema: dict[str, Any]) -> None:
    jsonschema.validate(value_for(schema, "user words"), schema)


def test_the_user_text_lands_in_the_first_plain_string_field() -> None:
    value = value_for(SCHEMAS[1], "user words")
    assert value["title"] == "user words"
    assert value["tags"] == ["example tags 1", "example tags 2", "example tags 3"]


@pytest.mark.anyio
async def test_a_json_response_format_yields_a_json_reply_valid_against_the_schema(
    client: httpx2.AsyncClient,
) -> None:
    schema = SCHEMAS[1]
    fmt = {"type": "text", "mime_type": "application/json", "schema": schema}
    created = await create(
        client, input="summarise [[chars 5]]", response_format=fmt, system_instruction="s"
    )
    value = json.loads(reply_text(created))
    jsonschema.validate(value, schema)
    assert value["title"] == "summarise"


@pytest.mark.anyio
async def test_a_streamed_json_reply_concatenates_to_valid_json(client: httpx2.AsyncClient) -> None:
    schema = SCHEMAS[2]
    body = {
        "model": "gemini-3-flash-preview",
        "input": "items",
        "response_format": [{"type": "text", "mime_type": "application/json", "schema": schema}],
        "stream": True,
    }
    events, _ = await read_sse(client, "POST", URL, json=body)
    (output,) = rebuild(events)
    jsonschema.validate(json.loads(output["content"][0]["text"]), schema)


@pytest.mark.anyio
async def test_json_without_a_schema_answers_an_object_with_the_text(
    client: httpx2.AsyncClient,
) -> None:
    created = await create(client, input="hi", response_mime_type="application/json")
    assert json.loads(reply_text(created)) == {"text": "hi"}

"""Answers to a JSON response_format are valid against the schema."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import jsonschema
import pytest

from gemini_interactions_mcp.emulator.schemas import value_for

from .helpers import MODEL, URL, create, read_sse, rebuild, reply_text

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


# Schemas with keywords that are easy to get subtly wrong; every answer must validate.
TRICKY_SCHEMAS: list[dict[str, Any]] = [
    {"type": "integer", "exclusiveMinimum": 3, "multipleOf": 5},
    {"type": "integer", "multipleOf": 2.5, "exclusiveMaximum": 0},
    {"type": "number", "multipleOf": 0.1, "minimum": 0.25, "maximum": 1},
    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.5},
    {"type": "integer", "minimum": 10, "maximum": 10},
    {"type": "string", "pattern": "^[0-9]{3}$"},
    {"type": "string", "pattern": "^[a-z]+(-[a-z]+)*$", "minLength": 8, "maxLength": 12},
    {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+\\.(com|org)$"},
    {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"},
    {"type": "string", "format": "date-time"},
    {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": 4},
        "minItems": 4,
        "uniqueItems": True,
    },
    {"type": "array", "items": {"enum": ["red", "green", 3]}, "minItems": 3, "uniqueItems": True},
    {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                },
                "required": ["name"],
            }
        },
        "$ref": "#/$defs/node",
    },
    {
        "type": "object",
        "properties": {"id": {"type": "string"}},
        "oneOf": [
            {"required": ["count"], "properties": {"count": {"type": "integer", "minimum": 7}}},
            {"required": ["label"]},
        ],
        "minProperties": 2,
        "maxProperties": 2,
    },
    {"allOf": [{"type": "integer", "minimum": 3}, {"maximum": 10, "multipleOf": 4}]},
    {"type": ["integer", "string"], "minimum": 3, "maximum": 2},
]


@pytest.mark.anyio
@pytest.mark.parametrize("schema", TRICKY_SCHEMAS)
async def test_json_answers_validate_against_tricky_schemas(
    client: httpx2.AsyncClient, schema: dict[str, Any]
) -> None:
    fmt = {"type": "text", "mime_type": "application/json", "schema": schema}
    created = await create(client, input="user words", response_format=fmt)
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    jsonschema.validate(json.loads(reply_text(created)), schema, format_checker=checker)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("schema", "keyword"),
    [
        ({"type": "string", "pattern": "^(?=.*[A-Z])\\w{8}$"}, "pattern"),
        ({"type": "string", "pattern": "^(a)\\1$"}, "pattern"),
        ({"not": {"type": "string"}}, "not"),
        ({"type": "integer", "minimum": 5, "maximum": 3}, "maximum"),
        ({"type": "integer", "multipleOf": 7, "minimum": 1, "maximum": 6}, "multipleOf"),
        (
            {"type": "object", "required": ["x"], "additionalProperties": False},
            "additionalProperties",
        ),
        ({"$ref": "https://schemas.example.com/thing.json"}, "$ref"),
    ],
)
async def test_a_schema_the_emulator_cannot_satisfy_is_400_naming_the_keyword(
    client: httpx2.AsyncClient, schema: dict[str, Any], keyword: str
) -> None:
    fmt = {"type": "text", "mime_type": "application/json", "schema": schema}
    for stream in (False, True):
        body = {"model": MODEL, "input": "x", "response_format": fmt, "stream": stream}
        response = await client.post(URL, json=body)
        assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_request")
        assert f"'{keyword}'" in response.json()["error"]["message"]


@pytest.mark.anyio
async def test_an_invalid_schema_is_400(client: httpx2.AsyncClient) -> None:
    fmt = {"type": "text", "mime_type": "application/json", "schema": {"type": "integr"}}
    response = await client.post(URL, json={"model": MODEL, "input": "x", "response_format": fmt})
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_request")
    assert "Invalid response_format schema" in response.json()["error"]["message"]


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

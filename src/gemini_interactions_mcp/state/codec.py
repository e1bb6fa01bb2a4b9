"""Records to and from their stored JSON: the one place where stored data is parsed."""

from __future__ import annotations

import pydantic_core

from .legacy import upgrade_v1
from .records import ConversationRecord

__all__ = ["dump_record", "is_first_schema", "parse_record"]


def dump_record(record: ConversationRecord) -> str:
    """The record as compact JSON."""
    return record.model_dump_json()


def parse_record(body: str | bytes) -> ConversationRecord:
    """A record from its stored JSON, validated; one of the first schema is upgraded."""
    raw = pydantic_core.from_json(body)
    if _first_schema(raw):
        return upgrade_v1(raw)
    return ConversationRecord.model_validate(raw)


def is_first_schema(body: str | bytes) -> bool:
    """True for the JSON of a record written by the first schema."""
    return _first_schema(pydantic_core.from_json(body))


def _first_schema(raw: object) -> bool:
    # Only the first schema had an untyped "data" object; today's records have no such key.
    return isinstance(raw, dict) and "data" in raw

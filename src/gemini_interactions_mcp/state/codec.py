"""Records to and from their stored JSON: the one place where stored data is parsed."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import pydantic_core

from .base import CorruptRecordError, Listing
from .legacy import upgrade_v1
from .records import ConversationRecord

__all__ = ["dump_record", "is_first_schema", "parse_record", "read_listing", "read_record"]

logger = logging.getLogger(__name__)
# Unreadable records are logged once per process, not on every listing.
_reported: set[str] = set()


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


def read_record(id: str, body: str | bytes) -> ConversationRecord:
    """The stored record `id`; `CorruptRecordError` (naming it) if it cannot be parsed."""
    try:
        return parse_record(body)
    except ValueError as exc:
        reason = type(exc).__name__ if not str(exc) else str(exc).splitlines()[0]
        raise CorruptRecordError(id, reason) from exc


def read_listing(rows: Iterable[tuple[str, str | bytes]]) -> Listing:
    """Records from (id, body) rows; unreadable ones are left out, named and logged once."""
    listing = Listing()
    for id, body in rows:
        try:
            listing.append(read_record(id, body))
        except CorruptRecordError as exc:
            listing.unreadable.append(id)
            if id not in _reported:
                _reported.add(id)
                logger.warning("%s", exc)
    return listing

"""Token usage (reference §3.4) and how usages of several hops add up."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import Field

from ._base import WireModel

__all__ = ["GroundingToolCount", "ModalityTokens", "Usage", "sum_usage"]


class ModalityTokens(WireModel):
    """Tokens of one modality (text, image, audio, video, document)."""

    modality: str | None = None
    tokens: int | None = None


class GroundingToolCount(WireModel):
    """How often a grounding tool (google_search, google_maps, retrieval) was used."""

    type: str | None = None
    count: int | None = None


class Usage(WireModel):
    """Token counts of an interaction; every field is optional."""

    total_input_tokens: int | None = None
    total_output_tokens: int | None = None
    total_thought_tokens: int | None = None
    total_cached_tokens: int | None = None
    total_tool_use_tokens: int | None = None
    total_tokens: int | None = None
    initial_input_tokens: int | None = None
    input_tokens_by_modality: list[ModalityTokens] = Field(default_factory=list)
    output_tokens_by_modality: list[ModalityTokens] = Field(default_factory=list)
    cached_tokens_by_modality: list[ModalityTokens] = Field(default_factory=list)
    tool_use_tokens_by_modality: list[ModalityTokens] = Field(default_factory=list)
    grounding_tool_count: list[GroundingToolCount] = Field(default_factory=list)


# Keys that identify an entry of a per-modality / per-tool list.
_ITEM_KEYS = ("modality", "type")


def sum_usage(usages: Iterable[Usage | None]) -> Usage | None:
    """Add up usages: ints are summed, lists are merged by modality or tool type.

    `initial_input_tokens` is what the first usage saw (the prompt), not a sum.
    None when no usage was given at all.
    """
    present = [u for u in usages if u is not None]
    if not present:
        return None
    total: dict[str, Any] = {}
    for usage in present:
        _add_into(total, usage.model_dump(mode="json", exclude_none=True))
    first = present[0]
    initial = first.initial_input_tokens
    if initial is None:
        initial = first.total_input_tokens
    total.pop("initial_input_tokens", None)
    if initial is not None:
        total["initial_input_tokens"] = initial
    return Usage.model_validate(total)


def _add_into(total: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        current = total.get(key)
        if _is_int(value) and (current is None or _is_int(current)):
            total[key] = (current or 0) + value
        elif isinstance(value, list) and isinstance(current, list):
            total[key] = _merge_items(current, value)
        elif isinstance(value, list):
            total[key] = [dict(item) if isinstance(item, dict) else item for item in value]
        else:
            total[key] = value


def _merge_items(current: list[Any], extra: list[Any]) -> list[Any]:
    merged = [dict(item) if isinstance(item, dict) else item for item in current]
    index = {_item_key(item): pos for pos, item in enumerate(merged) if _item_key(item)}
    for item in extra:
        key = _item_key(item)
        if key is not None and key in index:
            _add_into(merged[index[key]], {k: v for k, v in item.items() if k not in _ITEM_KEYS})
        else:
            if key is not None:
                index[key] = len(merged)
            merged.append(dict(item) if isinstance(item, dict) else item)
    return merged


def _item_key(item: Any) -> tuple[str, Any] | None:
    if not isinstance(item, dict):
        return None
    for name in _ITEM_KEYS:
        if name in item:
            return name, item[name]
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)

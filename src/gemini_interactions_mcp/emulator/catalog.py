"""The model listing: ``GET /{v}/models?pageSize=N&pageToken=T`` (Gemini API only).

The catalogue is every model id the emulator serves, sorted, each described the way the
real listing does (camelCase): ``name`` (``models/{id}``), ``baseModelId``, ``version``,
``displayName``, ``description``, ``inputTokenLimit``, ``outputTokenLimit``,
``supportedGenerationMethods``, ``thinking``, ``temperature``, ``maxTemperature``,
``topP``, ``topK``. The numbers are plausible, not Google's.

Pages hold ``pageSize`` models (50 when unset or 0, at most 1000, as the real API
documents); ``nextPageToken`` is set while more follow and is only valid here. A
negative or non-numeric ``pageSize`` or a page token this emulator did not issue is a
400 ``invalid_request``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from typing import Any

from .errors import invalid

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
_TOKEN_PREFIX = "models:"
_VERSION = re.compile(r"\d+(\.\d+)?")
_GENERATE = ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"]


def entry(model_id: str) -> dict[str, Any]:
    """How the listing describes one model."""
    media = any(word in model_id for word in ("image", "tts", "lyria", "banana", "transcribe"))
    if model_id.startswith("gemma"):
        limits = (131_072, 8_192)
    elif media:
        limits = (65_536, 32_768)
    else:
        limits = (1_048_576, 65_536)
    version = _VERSION.search(model_id)
    return {
        "name": f"models/{model_id}",
        "baseModelId": model_id,
        "version": version.group(0) if version else "latest",
        "displayName": " ".join(part.capitalize() for part in model_id.split("-")),
        "description": f"{model_id}, as served by the emulator.",
        "inputTokenLimit": limits[0],
        "outputTokenLimit": limits[1],
        "supportedGenerationMethods": _GENERATE[:2] if media else list(_GENERATE),
        "thinking": model_id.startswith("gemini") and not media,
        "temperature": 1.0,
        "maxTemperature": 2.0,
        "topP": 0.95,
        "topK": 64,
    }


def page(model_ids: Iterable[str], query: dict[str, str]) -> dict[str, Any]:
    """One page of the listing for the query parameters of the request."""
    raw_size = query.get("pageSize", "")
    if raw_size and not raw_size.lstrip("-").isdigit():
        raise invalid(f"Invalid value at 'page_size' (TYPE_INT32), \"{raw_size}\".")
    size = int(raw_size or 0)
    if size < 0:
        raise invalid("page_size must not be negative.")
    size = min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    ordered = sorted(model_ids)
    start = _offset(query.get("pageToken", ""), len(ordered))
    body: dict[str, Any] = {"models": [entry(m) for m in ordered[start : start + size]]}
    if start + size < len(ordered):
        body["nextPageToken"] = _token(start + size)
    return body


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_TOKEN_PREFIX}{offset}".encode()).decode()


def _offset(token: str, total: int) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
    except ValueError:
        text = ""
    number = text.removeprefix(_TOKEN_PREFIX)
    if not text.startswith(_TOKEN_PREFIX) or not number.isdigit() or int(number) > total:
        raise invalid("The page token is not valid; start again without pageToken.")
    return int(number)

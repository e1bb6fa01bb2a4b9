"""Lines on stdin that are not JSON-RPC messages still get an answer.

The SDK's stdio reader drops a line it cannot parse, so a client that sent a request with an
id waits for its own timeout. Here each line is checked first: a good one passes unchanged; a
bad one whose id can be found becomes a request for a private method answered with a JSON-RPC
parse error (-32700) under that id; one without any id is logged on stderr and dropped.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from mcp import MCPError
from mcp.types import RequestParams, jsonrpc_message_adapter

__all__ = ["PARSE_ERROR", "PARSE_ERROR_METHOD", "ParseErrorParams", "checked_lines", "refuse"]

logger = logging.getLogger(__name__)

PARSE_ERROR = -32700
PARSE_ERROR_METHOD = "gemini-interactions-mcp/unparseable-line"
# The first "id" member of a line that is not valid JSON: a best effort, and only a guess.
_ID = re.compile(r'"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")')


class ParseErrorParams(RequestParams):
    """Why a line could not be read."""

    problem: str


async def refuse(ctx: Any, params: ParseErrorParams) -> None:
    """The answer to a line that could not be read: a parse error under its id."""
    raise MCPError(PARSE_ERROR, f"Parse error: {params.problem}")


async def checked_lines(lines: AsyncIterable[str]) -> AsyncIterator[str]:
    """`lines` with each unreadable one turned into a parse-error request (or dropped)."""
    async for line in lines:
        if not line.strip():
            continue
        try:
            jsonrpc_message_adapter.validate_json(line, by_name=False)
        except ValueError:
            pass
        else:
            yield line
            continue
        problem, ids = _diagnose(line)
        if not ids:
            logger.warning("dropped a line on stdin with no id to answer: %s", problem)
        for request_id in ids:
            yield (
                json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "id": request_id,
                        "method": PARSE_ERROR_METHOD,
                        "params": {"problem": problem},
                    }
                )
                + "\n"
            )


def _diagnose(line: str) -> tuple[str, list[int | str]]:
    """What is wrong with a line, and the ids of the requests it carried (if any)."""
    try:
        value = json.loads(line)
    except RecursionError:
        return "the message is nested too deeply", _guessed_id(line)
    except ValueError:
        return "the line is not valid JSON", _guessed_id(line)
    if isinstance(value, list):
        ids = [item["id"] for item in value if isinstance(item, dict) and _is_id(item.get("id"))]
        return "batches are not supported; send one message per line", ids
    if not isinstance(value, dict):
        return "a message must be a JSON object", []
    request_id = value.get("id")
    ids = [request_id] if _is_id(request_id) else []
    if "\\ud8" in line.lower() or "\\udc" in line.lower():
        return "the message contains text that is not valid Unicode (a lone surrogate)", ids
    return "the line is not a valid JSON-RPC message", ids


def _is_id(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


def _guessed_id(line: str) -> list[int | str]:
    found = _ID.search(line)
    if found is None:
        return []
    text = found.group(1)
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return [value] if _is_id(value) else []

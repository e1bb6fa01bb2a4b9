"""Server-sent events: frames, event shapes and how a finished step is streamed.

Frame: ``event: <event_type>\\ndata: <json>\\n\\n``. The JSON always carries
``event_type`` and ``event_id`` because the SDK reads only the data line.

``event_id`` is ``"<interaction id>.<n>"`` with ``n`` counting that interaction's events
from 1; ``GET ...?stream=true&last_event_id=<event_id>`` replays the events after it.

Each step goes out as ``step.start`` (a shell) → ``step.delta``* → ``step.stop``, with
``index`` = the step's position among the model-generated steps (the ``steps`` a POST
returns). To rebuild a step from its events, start from the shell and apply deltas:

* ``text``: append to the text content; ``text_annotation_delta``: add its ``annotations``
  to that text content;
* ``thought_summary``: append ``content`` to ``summary``; ``thought_signature``: set
  ``signature``;
* ``arguments_delta`` (function_call): concatenate the strings, then parse them as JSON
  into ``arguments``;
* any other delta type equals the step type; merge its fields (``arguments``, ``result``,
  ...) into the step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

TEXT_CHUNK = 12
ARGUMENTS_CHUNK = 16
MAX_TEXT_DELTAS = 400
_SHELL_KEYS = ("type", "id", "call_id", "name", "server_name")


def frame(event: dict[str, Any]) -> bytes:
    """One SSE frame for an event."""
    data = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    return f"event: {event['event_type']}\ndata: {data}\n\n".encode()


def chunk(text: str, size: int = TEXT_CHUNK) -> list[str]:
    """Split text into deltas; long texts get bigger pieces to bound the event count."""
    size = max(size, -(-len(text) // MAX_TEXT_DELTAS))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


@dataclass(frozen=True)
class PlannedStep:
    """A step as stored, and the events that stream it."""

    step: dict[str, Any]
    shell: dict[str, Any]
    deltas: list[dict[str, Any]]


def plan(step: dict[str, Any], *, text_chunk: int = TEXT_CHUNK) -> PlannedStep:
    """How a finished step is streamed (see the module docstring for the reverse)."""
    kind = step["type"]
    if kind == "model_output":
        return PlannedStep(step, {"type": kind}, _content_deltas(step, text_chunk))
    if kind == "thought":
        deltas = [{"type": "thought_summary", "content": c} for c in step.get("summary", [])]
        if "signature" in step:
            deltas.append({"type": "thought_signature", "signature": step["signature"]})
        return PlannedStep(step, {"type": kind}, deltas)
    shell = {k: step[k] for k in _SHELL_KEYS if k in step}
    if kind == "function_call":
        arguments = json.dumps(step["arguments"], separators=(",", ":"), ensure_ascii=False)
        pieces = [
            arguments[i : i + ARGUMENTS_CHUNK] for i in range(0, len(arguments), ARGUMENTS_CHUNK)
        ]
        return PlannedStep(
            step, shell, [{"type": "arguments_delta", "arguments": p} for p in pieces]
        )
    payload = {k: v for k, v in step.items() if k not in ("type", "id", "call_id")}
    return PlannedStep(step, shell, [{"type": kind, **payload}] if payload else [])


def _content_deltas(step: dict[str, Any], text_chunk: int) -> list[dict[str, Any]]:
    deltas: list[dict[str, Any]] = []
    for block in step.get("content", []):
        if block["type"] == "text":
            deltas += [
                {"type": "text", "text": piece} for piece in chunk(block["text"], text_chunk)
            ]
            if block.get("annotations"):
                deltas.append(
                    {"type": "text_annotation_delta", "annotations": block["annotations"]}
                )
        else:
            deltas.append(dict(block))
    return deltas


def created(interaction: dict[str, Any]) -> dict[str, Any]:
    return {"event_type": "interaction.created", "interaction": summary(interaction)}


def status_update(interaction: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_type": "interaction.status_update",
        "interaction_id": interaction["id"],
        "status": interaction["status"],
    }


def completed(interaction: dict[str, Any]) -> dict[str, Any]:
    return {"event_type": "interaction.completed", "interaction": summary(interaction)}


def error(code: str, message: str) -> dict[str, Any]:
    return {"event_type": "error", "error": {"code": code, "message": message}}


def summary(interaction: dict[str, Any]) -> dict[str, Any]:
    """The interaction without its steps or input, as lifecycle events carry it."""
    return {k: v for k, v in interaction.items() if k not in ("steps", "input")}

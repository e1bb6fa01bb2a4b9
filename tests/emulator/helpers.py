"""Helpers of the emulator tests: constants, request builders, SSE readers."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx2

MODEL = "gemini-3-flash-preview"


AGENT = "deep-research-preview-04-2026"


KEY = {"x-goog-api-key": "k"}


URL = "/v1beta/interactions"


async def create(client: httpx2.AsyncClient, **body: Any) -> dict[str, Any]:
    """POST a create that must succeed; the model defaults to MODEL."""
    if "agent" not in body:
        body.setdefault("model", MODEL)
    response = await client.post(URL, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def reply_text(interaction: dict[str, Any]) -> str:
    """The text of the last model_output step."""
    outputs = [s for s in interaction["steps"] if s["type"] == "model_output"]
    return "".join(b["text"] for b in outputs[-1]["content"] if b["type"] == "text")


async def get(client: httpx2.AsyncClient, interaction_id: str) -> dict[str, Any]:
    response = await client.get(f"{URL}/{interaction_id}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def wait_status(
    client: httpx2.AsyncClient, interaction_id: str, *statuses: str, within: float = 5
) -> dict[str, Any]:
    """Poll GET in tiny steps until the status is one of ``statuses``."""
    with anyio.fail_after(within):
        while True:
            interaction = await get(client, interaction_id)
            if interaction["status"] in statuses:
                return interaction
            await anyio.sleep(0.005)


async def read_sse(
    client: httpx2.AsyncClient, method: str, url: str, **kwargs: Any
) -> tuple[list[dict[str, Any]], bool]:
    """Read an SSE response; returns its events and whether the connection was cut."""
    events: list[dict[str, Any]] = []
    try:
        async with client.stream(method, url, **kwargs) as response:
            assert response.status_code == 200, await response.aread()
            async for sse in httpx2.EventSource(response):
                data = json.loads(sse.data)
                assert sse.event == data["event_type"]
                events.append(data)
    except httpx2.TransportError:
        return events, True
    return events, False


def step_types(interaction: dict[str, Any]) -> list[str]:
    return [s["type"] for s in interaction["steps"]]


def rebuild(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Steps rebuilt from step events with the rules documented in emulator.sse."""
    steps: dict[int, dict[str, Any]] = {}
    arguments: dict[int, str] = {}
    for event in events:
        if event["event_type"] == "step.start":
            steps[event["index"]] = json.loads(json.dumps(event["step"]))
        elif event["event_type"] == "step.delta":
            step, delta = steps[event["index"]], event["delta"]
            kind = delta["type"]
            if kind == "text":
                content = step.setdefault("content", [])
                if content and content[-1]["type"] == "text":
                    content[-1]["text"] += delta["text"]
                else:
                    content.append({"type": "text", "text": delta["text"]})
            elif kind == "text_annotation_delta":
                step["content"][-1].setdefault("annotations", []).extend(delta["annotations"])
            elif kind == "thought_summary":
                step.setdefault("summary", []).append(delta["content"])
            elif kind == "thought_signature":
                step["signature"] = delta["signature"]
            elif kind == "arguments_delta":
                arguments[event["index"]] = arguments.get(event["index"], "") + delta["arguments"]
            else:
                step.update({k: v for k, v in delta.items() if k != "type"})
    for index, text in arguments.items():
        steps[index]["arguments"] = json.loads(text)
    return [steps[i] for i in sorted(steps)]

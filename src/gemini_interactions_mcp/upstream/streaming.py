"""Server-sent events into typed events, and typed events into an Interaction.

The SSE framing is httpx2's; like the official SDK, only the JSON `data` decides what
an event is. The `event:` and `id:` lines only fill in a payload that lacks
`event_type` / `event_id`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any, cast

import httpx2

from .wire import (
    ArgumentsDelta,
    AudioDelta,
    DocumentDelta,
    ErrorEvent,
    ImageDelta,
    Interaction,
    InteractionCompletedEvent,
    InteractionCreatedEvent,
    InteractionStatusUpdateEvent,
    StepDeltaEvent,
    StepStartEvent,
    StepStopEvent,
    StreamEvent,
    TextAnnotationDelta,
    TextDelta,
    ThoughtSignatureDelta,
    ThoughtSummaryDelta,
    UnknownDelta,
    VideoDelta,
    parse_event,
)

__all__ = ["InteractionAssembler", "iter_events"]

_log = logging.getLogger(__name__)

_DONE = "[DONE]"
# httpx2 caps one event at 1 MiB; a delta carrying a generated image or audio clip as
# inline base64 can be far larger, so allow more while still bounding memory.
MAX_EVENT_BYTES = 64 * 1024 * 1024
# The step a delta belongs to when its step.start was never seen (following mid-stream).
_STEP_OF_DELTA = {
    "text": "model_output",
    "image": "model_output",
    "audio": "model_output",
    "video": "model_output",
    "document": "model_output",
    "text_annotation_delta": "model_output",
    "thought_summary": "thought",
    "thought_signature": "thought",
    "arguments_delta": "function_call",
}
_MEDIA_DELTAS = (ImageDelta, AudioDelta, VideoDelta, DocumentDelta)


async def iter_events(response: httpx2.Response) -> AsyncGenerator[StreamEvent, None]:
    """Yield the typed events of an open SSE response until it ends or sends `[DONE]`.

    Transport failures (a dropped connection, a read timeout) propagate as httpx2
    exceptions so the caller can decide to resume.
    """
    # EventSource iterates with an async generator; close it even when we stop early.
    source = cast(
        AsyncGenerator[httpx2.ServerSentEvent, None],
        aiter(httpx2.EventSource(response, max_event_size=MAX_EVENT_BYTES)),
    )
    async with aclosing(source) as frames:
        async for frame in frames:
            data = frame.data.strip()
            if not data:
                continue
            if data == _DONE:
                return
            try:
                payload: Any = json.loads(data)
            except ValueError:
                _log.warning("skipping an SSE frame whose data is not JSON (%d chars)", len(data))
                continue
            if isinstance(payload, dict):
                _fill_from_frame(payload, frame.event, frame.id)
            yield parse_event(payload)


def _fill_from_frame(payload: dict[str, Any], event: str, event_id: str) -> None:
    if "event_type" not in payload:
        if event and event != "message":
            payload["event_type"] = event
        elif "error" in payload:
            # A bare error object sent without framing is still an error, not data.
            payload["event_type"] = "error"
    if "event_id" not in payload and event_id:
        payload["event_id"] = event_id


class InteractionAssembler:
    """Builds the Interaction of one hop from its events, in order.

    Steps are kept as wire dicts while they grow and validated once in `result()`.
    """

    def __init__(self, interaction_id: str | None = None) -> None:
        self._fields: dict[str, Any] = {"id": interaction_id} if interaction_id else {}
        self._steps: dict[int, dict[str, Any]] = {}
        self._argument_parts: dict[int, list[str]] = {}
        self.completed = False
        self.errors: list[ErrorEvent] = []

    @property
    def interaction_id(self) -> str | None:
        """The id, once an event has named it."""
        value = self._fields.get("id")
        return value if isinstance(value, str) and value else None

    @property
    def status(self) -> str | None:
        """The latest status seen."""
        value = self._fields.get("status")
        return value if isinstance(value, str) and value else None

    def update(self, interaction: Interaction) -> None:
        """Take the top-level fields (not the steps) of a fetched Interaction."""
        fields = interaction.model_dump(mode="json", exclude_unset=True)
        fields.pop("steps", None)
        self._fields.update(fields)

    def feed(self, event: StreamEvent) -> None:
        """Apply one event."""
        if isinstance(event, InteractionCreatedEvent):
            self._take_interaction(event.interaction)
        elif isinstance(event, InteractionStatusUpdateEvent):
            if event.interaction_id:
                self._fields.setdefault("id", event.interaction_id)
            if event.status:
                self._fields["status"] = event.status
            if event.continuation_token:
                self._fields["continuation_token"] = event.continuation_token
            if event.usage is not None:
                self._fields["usage"] = event.usage.to_wire()
        elif isinstance(event, StepStartEvent):
            shell = event.step.to_wire() if event.step is not None else {}
            self._steps.setdefault(event.index, {}).update(shell)
        elif isinstance(event, StepDeltaEvent):
            if event.delta is not None:
                self._apply_delta(event.index, event.delta)
            if event.metadata is not None and event.metadata.total_usage is not None:
                self._fields["usage"] = event.metadata.total_usage.to_wire()
        elif isinstance(event, StepStopEvent):
            self._finish_arguments(event.index)
            if event.usage is not None:
                self._fields["usage"] = event.usage.to_wire()
        elif isinstance(event, InteractionCompletedEvent):
            self._take_interaction(event.interaction)
            # The token on completion is authoritative: none there means none at all.
            self._fields["continuation_token"] = event.interaction.continuation_token
            self.completed = True
        elif isinstance(event, ErrorEvent):
            self.errors.append(event)
            self._fields.setdefault("errors", []).append(event.error.to_wire())

    def result(self) -> Interaction:
        """The Interaction as assembled so far."""
        for index in list(self._argument_parts):
            self._finish_arguments(index)
        steps = [self._steps[index] for index in sorted(self._steps)]
        return Interaction.model_validate({**self._fields, "steps": steps})

    def _take_interaction(self, interaction: Interaction) -> None:
        fields = interaction.model_dump(mode="json", exclude_unset=True)
        steps = fields.pop("steps", None)
        self._fields.update(fields)
        # Completion events normally omit the steps; when a server does send them,
        # they are the full and authoritative list.
        if steps:
            self._steps = dict(enumerate(steps))
            self._argument_parts.clear()

    def _apply_delta(self, index: int, delta: Any) -> None:
        step = self._steps.setdefault(index, {})
        if isinstance(delta, UnknownDelta):
            self._keep_unknown(step, delta)
            return
        step.setdefault("type", _STEP_OF_DELTA.get(delta.type, delta.type))
        if isinstance(delta, TextDelta):
            content = step.setdefault("content", [])
            if content and content[-1].get("type") == "text":
                content[-1]["text"] = content[-1].get("text", "") + delta.text
            else:
                content.append({"type": "text", "text": delta.text})
        elif isinstance(delta, _MEDIA_DELTAS):
            step.setdefault("content", []).append(delta.to_wire())
        elif isinstance(delta, TextAnnotationDelta):
            content = step.setdefault("content", [])
            if not content or content[-1].get("type") != "text":
                content.append({"type": "text", "text": ""})
            annotations = content[-1].setdefault("annotations", [])
            annotations.extend(a.to_wire() for a in delta.annotations)
        elif isinstance(delta, ThoughtSummaryDelta):
            if delta.content is not None:
                _append_summary(step.setdefault("summary", []), delta.content.to_wire())
        elif isinstance(delta, ThoughtSignatureDelta):
            if delta.signature is not None:
                step["signature"] = delta.signature
        elif isinstance(delta, ArgumentsDelta):
            if isinstance(delta.arguments, str):
                self._argument_parts.setdefault(index, []).append(delta.arguments)
            elif delta.arguments is not None:
                step["arguments"] = delta.arguments
        else:
            # Built-in tool and function-result deltas carry the step's own fields.
            fields = delta.to_wire()
            fields.pop("type", None)
            step.update(fields)

    @staticmethod
    def _keep_unknown(step: dict[str, Any], delta: UnknownDelta) -> None:
        """Keep a delta of a type this client does not know, so its content is not lost."""
        raw = delta.raw
        kind = raw.get("type")
        if isinstance(kind, str) and kind and step.get("type", kind) == kind:
            # A newer step type streamed the way built-in tools are: the delta has the
            # step's type and carries the step's fields.
            step.setdefault("type", kind)
            step.update({k: v for k, v in raw.items() if k != "type"})
        else:
            _log.debug("keeping a delta of unknown type %r on its step", kind)
            step.setdefault("unknown_deltas", []).append(raw)

    def _finish_arguments(self, index: int) -> None:
        parts = self._argument_parts.pop(index, None)
        if parts is None:
            return
        text = "".join(parts)
        step = self._steps.setdefault(index, {"type": "function_call"})
        try:
            arguments = json.loads(text) if text.strip() else {}
        except ValueError:
            arguments = None
        if isinstance(arguments, dict):
            step["arguments"] = arguments
        else:
            # Keep what arrived so nothing is lost; the typed field stays a dict.
            step["partial_arguments"] = text


def _append_summary(summary: list[dict[str, Any]], item: dict[str, Any]) -> None:
    # Summary text streams in fragments; one readable block is what callers want.
    if item.get("type") == "text" and summary and summary[-1].get("type") == "text":
        summary[-1]["text"] = summary[-1].get("text", "") + item.get("text", "")
    else:
        summary.append(item)

"""One interaction as the emulator keeps it: its dict, its event log, its live state.

The interaction dict is the full timeline (input steps, then model steps), exactly what
``GET`` returns. Every event the interaction ever streamed is kept in ``events`` so a
stream can be replayed from any ``event_id``; waiters are woken as events arrive.
"""

from __future__ import annotations

import copy
import math
from datetime import UTC, datetime
from typing import Any

import anyio

from . import sse

# Statuses that end a run (nothing more streams); idle and requires_action wait for input.
TERMINAL = frozenset(
    {
        "completed",
        "failed",
        "cancelled",
        "requires_action",
        "requires_continuation",
        "incomplete",
        "idle",
    }
)


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Record:
    """A stored (or store:false, in-flight) interaction."""

    def __init__(
        self,
        interaction: dict[str, Any],
        *,
        input_steps: list[dict[str, Any]],
        raw_input: Any,
        stored: bool,
        background: bool,
        turns: int,
        context_chars: int,
    ) -> None:
        self.interaction = interaction
        self.input_steps = input_steps
        self.raw_input = raw_input
        self.stored = stored
        self.background = background
        # The Vertex AI parent it was made under ("" on the Gemini API and express mode).
        self.parent = ""
        self.turns = turns
        self.context_chars = context_chars
        self.model_steps: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.done = False
        self.drop_after: int | None = None
        self.drop_used = False
        self.scope: anyio.CancelScope | None = None
        self.input_tokens = 0
        # Deep Research bookkeeping, carried along the previous_interaction_id chain.
        self.research_query: str | None = None
        self.research_kind: str | None = None
        self._changed = anyio.Event()
        self._finished = anyio.Event()
        interaction["steps"] = [*input_steps]

    @property
    def id(self) -> str:
        return str(self.interaction["id"])

    @property
    def status(self) -> str:
        return str(self.interaction["status"])

    def emit(self, event: dict[str, Any]) -> None:
        """Append an event (with its event_id) and wake every waiter."""
        if self.done:
            return
        event["event_id"] = f"{self.id}.{len(self.events) + 1}"
        self.events.append(event)
        self._wake()

    def add_step(self, step: dict[str, Any]) -> None:
        self.model_steps.append(step)
        self.interaction["steps"].append(step)

    def finish(self, status: str, *, fields: dict[str, Any] | None = None) -> None:
        """Settle the interaction and emit its closing event(s)."""
        if self.done:
            return
        self.interaction.update(fields or {})
        self.interaction["status"] = status
        self.interaction["updated"] = now_iso()
        self.interaction["usage"] = usage(self.input_tokens, self.model_steps)
        if status == "failed":
            self.emit(sse.status_update(self.interaction))
            first = self.interaction["errors"][0]
            self.emit(sse.error(first["code"], first["message"]))
        else:
            if status in ("cancelled", "idle"):
                self.emit(sse.status_update(self.interaction))
            self.emit(sse.completed(self.interaction))
        self.done = True
        self._finished.set()
        self._wake()

    def stop(self) -> None:
        """End the record without a closing event (server shutdown): waiters return."""
        self.done = True
        self._finished.set()
        self._wake()
        if self.scope is not None:
            self.scope.cancel()

    async def wait_finished(self) -> None:
        await self._finished.wait()

    async def wait_beyond(self, count: int) -> None:
        """Return once there are more than ``count`` events or the record is done."""
        while len(self.events) <= count and not self.done:
            await self._changed.wait()

    def event_index(self, event_id: str) -> int | None:
        """How many events precede the one after ``event_id``; None if it is not ours."""
        prefix, _, number = event_id.rpartition(".")
        if prefix != self.id or not number.isdigit() or int(number) > len(self.events):
            return None
        return int(number)

    def view(self, *, full: bool, include_input: bool = False) -> dict[str, Any]:
        """A copy for a response: POST shows model steps only, GET the whole timeline."""
        shown = copy.deepcopy(self.interaction)
        if not full:
            shown["steps"] = shown["steps"][len(self.input_steps) :]
        if include_input and self.raw_input is not None:
            shown["input"] = copy.deepcopy(self.raw_input)
        return shown

    def _wake(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()


def tokens(chars: int) -> int:
    return math.ceil(chars / 4)


def usage(input_tokens: int, steps: list[dict[str, Any]]) -> dict[str, Any]:
    """Token usage, roughly a token per four characters."""
    output = thought = 0
    searches = 0
    for step in steps:
        kind = step["type"]
        if kind == "thought":
            summary = sum(len(c.get("text", "")) for c in step.get("summary", []))
            thought += 16 + tokens(summary)
        elif kind == "model_output":
            output += tokens(sum(len(c.get("text", "")) for c in step.get("content", [])))
        elif kind.endswith("_call"):
            output += tokens(len(str(step.get("arguments", ""))))
            searches += kind == "google_search_call"
    result: dict[str, Any] = {
        "total_input_tokens": input_tokens,
        "total_output_tokens": output,
        "total_thought_tokens": thought,
        "total_cached_tokens": 0,
        "total_tool_use_tokens": 0,
        "total_tokens": input_tokens + output + thought,
        "input_tokens_by_modality": [{"modality": "text", "tokens": input_tokens}],
        "output_tokens_by_modality": [{"modality": "text", "tokens": output}],
    }
    if searches:
        result["grounding_tool_count"] = [{"type": "google_search", "count": searches}]
    return result

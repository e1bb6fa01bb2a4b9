"""Server-sent events of a streamed interaction (reference §4.2).

`event_type` and `event_id` live in the JSON payload, not in the SSE framing.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, Tag, TypeAdapter

from ._base import UNKNOWN, UnknownModel, WireModel, fallback, open_tag
from .deltas import Delta
from .interaction import Interaction
from .steps import Step
from .usage import Usage

__all__ = [
    "DeltaMetadata",
    "ErrorEvent",
    "InteractionCompletedEvent",
    "InteractionCreatedEvent",
    "InteractionStatusUpdateEvent",
    "StepDeltaEvent",
    "StepStartEvent",
    "StepStopEvent",
    "StreamErrorInfo",
    "StreamEvent",
    "UnknownEvent",
    "parse_event",
]


class _Event(WireModel):
    event_id: str | None = None


class InteractionCreatedEvent(_Event):
    """The interaction exists (first event of a hop); carries a partial Interaction."""

    event_type: Literal["interaction.created"] = "interaction.created"
    interaction: Interaction = Field(default_factory=Interaction)


class InteractionStatusUpdateEvent(_Event):
    """The status changed; may carry a mid-hop continuation checkpoint and usage."""

    event_type: Literal["interaction.status_update"] = "interaction.status_update"
    interaction_id: str = ""
    status: str = ""
    continuation_token: str | None = None
    usage: Usage | None = None


class StepStartEvent(_Event):
    """A step begins at position `index`; `step` is its shell (type, ids)."""

    event_type: Literal["step.start"] = "step.start"
    index: int = 0
    step: Step | None = None


class DeltaMetadata(WireModel):
    """Extra data on a delta, such as running usage."""

    total_usage: Usage | None = None


class StepDeltaEvent(_Event):
    """An increment for the step at `index`."""

    event_type: Literal["step.delta"] = "step.delta"
    index: int = 0
    delta: Delta | None = None
    metadata: DeltaMetadata | None = None


class StepStopEvent(_Event):
    """The step at `index` is complete."""

    event_type: Literal["step.stop"] = "step.stop"
    index: int = 0
    usage: Usage | None = None
    step_usage: Usage | None = None


class InteractionCompletedEvent(_Event):
    """The hop ended; the Interaction usually comes without its output steps."""

    event_type: Literal["interaction.completed"] = "interaction.completed"
    interaction: Interaction = Field(default_factory=Interaction)


class StreamErrorInfo(WireModel):
    """The error carried by an `error` event."""

    code: str | int | None = None
    message: str | None = None


class ErrorEvent(_Event):
    """The interaction failed while streaming."""

    event_type: Literal["error"] = "error"
    error: StreamErrorInfo = Field(default_factory=StreamErrorInfo)


class UnknownEvent(UnknownModel):
    """An event type this client does not know; `raw` keeps it."""

    event_type: Any = None
    event_id: Any = None


StreamEvent = Annotated[
    Annotated[InteractionCreatedEvent, Tag("interaction.created")]
    | Annotated[InteractionStatusUpdateEvent, Tag("interaction.status_update")]
    | Annotated[StepStartEvent, Tag("step.start")]
    | Annotated[StepDeltaEvent, Tag("step.delta")]
    | Annotated[StepStopEvent, Tag("step.stop")]
    | Annotated[InteractionCompletedEvent, Tag("interaction.completed")]
    | Annotated[ErrorEvent, Tag("error")]
    | Annotated[UnknownEvent, Tag(UNKNOWN)],
    open_tag("event_type", UnknownEvent),
    fallback(UnknownEvent),
]


_EVENTS: TypeAdapter[StreamEvent] = TypeAdapter(StreamEvent)


def parse_event(data: Any) -> StreamEvent:
    """Parse one event payload; anything unrecognised becomes an UnknownEvent."""
    return _EVENTS.validate_python(data)

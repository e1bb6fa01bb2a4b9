"""Runs a scripted plan: streams its steps into a record, paced, cancellable."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anyio

from .record import Record
from .sse import PlannedStep


@dataclass
class RunPlan:
    """What one interaction will produce, decided before it starts."""

    steps: list[PlannedStep]
    status: str = "completed"
    fields: dict[str, Any] = field(default_factory=dict)
    """Extra interaction fields set at the end (continuation_token, errors)."""
    pause_s: float = 0.0
    """Pause before each delta (and each step.start when ``pace_starts``)."""
    pace_starts: bool = False


async def run(record: Record, plan: RunPlan) -> None:
    """Emit the plan's step events into ``record``, then settle it."""
    with anyio.CancelScope() as scope:
        record.scope = scope
        for index, planned in enumerate(plan.steps):
            if plan.pace_starts:
                await _pause(plan.pause_s)
            record.emit({"event_type": "step.start", "index": index, "step": planned.shell})
            for delta in planned.deltas:
                await _pause(plan.pause_s)
                record.emit({"event_type": "step.delta", "index": index, "delta": delta})
            record.emit({"event_type": "step.stop", "index": index})
            record.add_step(planned.step)
        if plan.pace_starts:
            await _pause(plan.pause_s)
        record.finish(plan.status, fields=plan.fields)


async def _pause(seconds: float) -> None:
    if seconds > 0:
        await anyio.sleep(seconds)
    else:
        # Still yield, so tailing readers interleave with the producer.
        await anyio.lowlevel.checkpoint()

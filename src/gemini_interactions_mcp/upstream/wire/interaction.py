"""The Interaction resource (reference §3) and the merging of continuation hops."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from pydantic import Field

from ...statuses import RUNNING
from ._base import WireModel
from .content import TextContent
from .steps import FunctionCallStep, ModelOutputStep, Step, ThoughtStep, UserInputStep
from .tools import Tool
from .usage import Usage, sum_usage

__all__ = [
    "NEEDS_INPUT_STATUSES",
    "RUNNING_STATUSES",
    "Environment",
    "EnvironmentSource",
    "Interaction",
    "InteractionErrorInfo",
    "Status",
    "is_running",
    "merge_hops",
    "needs_input",
]


class Status(StrEnum):
    """The statuses this client knows; `Interaction.status` stays a plain str (open set).

    Three kinds (see `is_running` and `needs_input`):

    * running: `queued`, `in_progress` — work goes on upstream; wait, poll or follow.
    * waiting for input: `requires_action` (answer the `function_call` steps) and
      `idle` (paused until the next input; added in google-genai 3.6.1). Nothing runs
      upstream and nothing will until a new create carries the input, chained with
      `previous_interaction_id`. Neither is terminal.
    * stopped: `completed`, `failed`, `cancelled`, `incomplete`, `budget_exceeded`,
      and `requires_continuation` (this client sends the next hop itself).
    """

    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    REQUIRES_ACTION = "requires_action"
    IDLE = "idle"
    REQUIRES_CONTINUATION = "requires_continuation"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INCOMPLETE = "incomplete"
    BUDGET_EXCEEDED = "budget_exceeded"


# Only these mean "work is still going on upstream"; any other status, including one
# this client has never heard of, means the interaction stopped.
RUNNING_STATUSES = RUNNING

# The interaction waits for the caller: function results, or the next input.
NEEDS_INPUT_STATUSES = frozenset({Status.REQUIRES_ACTION.value, Status.IDLE.value})


def is_running(status: str | None) -> bool:
    """True while the interaction is queued or in progress (or its status is not known yet).

    False for `idle` and `requires_action`: nothing runs upstream while it waits for input.
    """
    return not status or status in RUNNING_STATUSES


def needs_input(status: str | None) -> bool:
    """True when the interaction waits for the caller (`requires_action` or `idle`).

    Not running and not terminal: the turn goes on only when a new create chained with
    `previous_interaction_id` brings function results (`requires_action`) or the next
    input (`idle`).
    """
    return status in NEEDS_INPUT_STATUSES


class InteractionErrorInfo(WireModel):
    """A diagnostic fault reported on an interaction."""

    code: str | int | None = None
    message: str | None = None


class EnvironmentSource(WireModel):
    """Something copied into a managed environment (a bucket, inline files, a repository)."""

    type: str | None = None
    source: str | None = None
    target: str | None = None
    content: str | None = None
    encoding: str | None = None


class Environment(WireModel):
    """The sandbox a managed agent runs in.

    `mode` (google-genai 3.6.1) is its compute lifecycle: `on_demand` or `self_hosted`;
    `custom_config` is passed through to a self-hosted environment's poller.
    """

    type: str | None = "remote"
    environment_id: str | None = None
    sources: list[EnvironmentSource] | None = None
    # Values are strings or {value | credential} objects; network is "disabled" or an allowlist.
    env: dict[str, Any] | None = None
    network: Any = None
    mode: str | None = None
    custom_config: dict[str, Any] | None = None


class Interaction(WireModel):
    """One interaction (one turn, or one hop of a continued turn)."""

    id: str = ""
    status: str = ""
    object: str | None = None
    model: str | None = None
    agent: str | None = None
    created: str | None = None
    updated: str | None = None
    steps: list[Step] = Field(default_factory=list)
    usage: Usage | None = None
    previous_interaction_id: str | None = None
    continuation_token: str | None = None
    errors: list[InteractionErrorInfo] = Field(default_factory=list)
    input: Any = None
    environment_id: str | None = None
    # An environment id, or the environment as configured.
    environment: Environment | str | None = None
    system_instruction: str | None = None
    tools: list[Tool] | None = None
    # Echoes of the request: kept loose, they are the caller's own data.
    generation_config: Any = None
    response_format: Any = None
    agent_config: Any = None
    service_tier: str | None = None
    # Filled in by this client when it merged continuation hops: every hop's id, in order.
    continuation_ids: list[str] = Field(default_factory=list)

    @property
    def output_steps(self) -> list[Step]:
        """The steps after the last `user_input` step (what this turn produced)."""
        for pos in range(len(self.steps) - 1, -1, -1):
            if isinstance(self.steps[pos], UserInputStep):
                return self.steps[pos + 1 :]
        return list(self.steps)

    @property
    def output_text(self) -> str:
        """The answer text: the trailing run of text blocks of the model output.

        Walks back from the end, skipping thoughts and anything before the first text
        found, and stops at the first non-text block or step after that (so narration
        before a tool call does not leak into the answer) or at the last user input.
        """
        parts: list[str] = []
        collecting = False
        for step in reversed(self.output_steps):
            if isinstance(step, ThoughtStep):
                continue
            if not isinstance(step, ModelOutputStep):
                if collecting:
                    break
                continue
            for block in reversed(step.content):
                if isinstance(block, TextContent):
                    collecting = True
                    parts.append(block.text)
                elif collecting:
                    return "".join(reversed(parts))
        return "".join(reversed(parts))

    @property
    def function_calls(self) -> list[FunctionCallStep]:
        """Calls the client must answer (meaningful when status is `requires_action`)."""
        return [s for s in self.output_steps if isinstance(s, FunctionCallStep)]

    @property
    def is_running(self) -> bool:
        """True while the interaction is queued or in progress."""
        return is_running(self.status)

    @property
    def needs_input(self) -> bool:
        """True when it waits for function results (`requires_action`) or input (`idle`)."""
        return needs_input(self.status)


def merge_hops(hops: Sequence[Interaction]) -> Interaction:
    """Merge the hops of a continued turn into one Interaction.

    The last hop gives id, status and token; the first gives `created`,
    `previous_interaction_id` and `input`; steps are concatenated (a later hop's
    leading `user_input` echo dropped) and usage is summed.
    """
    if not hops:
        raise ValueError("merge_hops needs at least one hop")
    if len(hops) == 1:
        return hops[0]
    first, last = hops[0], hops[-1]
    steps: list[Step] = list(first.steps)
    for hop in hops[1:]:
        later = list(hop.steps)
        while later and isinstance(later[0], UserInputStep):
            later.pop(0)
        steps.extend(later)
    ids: list[str] = []
    for hop in hops:
        for hop_id in hop.continuation_ids or [hop.id]:
            if hop_id and hop_id not in ids:
                ids.append(hop_id)
    return last.model_copy(
        update={
            "steps": steps,
            "usage": sum_usage(hop.usage for hop in hops),
            "continuation_ids": ids,
            "created": first.created,
            "previous_interaction_id": first.previous_interaction_id,
            "input": first.input if first.input is not None else last.input,
        }
    )

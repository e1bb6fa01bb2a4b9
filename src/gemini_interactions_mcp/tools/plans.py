"""A research plan put to the person through elicitation (form mode, both protocol eras).

On a handshake-era session the question is sent mid-call (``elicitation/create``) and the
answer comes back in the same call. From 2026-07-28 the call returns an
``InputRequiredResult`` carrying the question and, as request state, the research it is about;
the client asks the person and calls again with the answer (the SDK seals the state).
"""

from __future__ import annotations

import json
from typing import Any

from mcp.server.elicitation import render_elicitation_schema
from mcp.types import ElicitRequest, ElicitRequestFormParams, ElicitResult, InputRequiredResult
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import BaseModel, Field, ValidationError

from ..core.errors import ToolError
from ..core.results import Research

__all__ = ["PlanReply", "Reply", "asks_in_call", "can_ask", "question", "reply_of", "state_of"]

# The key of the plan question in input requests and responses.
_KEY = "plan"


class PlanReply(BaseModel):
    """What the person answers about the proposed plan."""

    approve: bool = Field(default=True, description="Run the research on this plan")
    changes: str = Field(
        default="", description="Changes you want (leave empty to run the plan as proposed)"
    )


class Reply(BaseModel):
    """The outcome: `approved` and `changes` as given, or `dismissed` without an answer."""

    approved: bool = False
    changes: str | None = None
    dismissed: bool = False


def can_ask(ctx: Any) -> bool:
    """True when the client declared form elicitation (a bare ``elicitation: {}`` counts)."""
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def asks_in_call(ctx: Any) -> bool:
    """True on a handshake-era session, where the question is a request inside the call."""
    return ctx.protocol_version in HANDSHAKE_PROTOCOL_VERSIONS


def _message(research: Research) -> str:
    return (
        f"Deep Research proposes this plan:\n\n{research.plan}\n\n"
        "Approve it to start the research (it takes minutes and is billed), write the changes "
        "you want, or decline to cancel it."
    )


async def ask_now(ctx: Any, research: Research) -> Reply:
    """Ask over the session's back-channel and wait for the answer."""
    outcome = await ctx.elicit(_message(research), PlanReply)
    if outcome.action == "accept":
        return _accepted(outcome.data)
    return Reply(dismissed=outcome.action == "cancel")


def question(research: Research) -> InputRequiredResult:
    """The plan as a question for the client to put to the person and answer on retry."""
    request = ElicitRequest(
        params=ElicitRequestFormParams(
            message=_message(research), requested_schema=render_elicitation_schema(PlanReply)
        )
    )
    return InputRequiredResult(
        input_requests={_KEY: request},
        request_state=json.dumps({"research_id": research.research_id}),
    )


def state_of(ctx: Any) -> str | None:
    """The research a retried call answers the plan of, or None on a first call."""
    state = ctx.request_state
    if state is None:
        return None
    try:
        research_id = json.loads(state)["research_id"]
    except (ValueError, KeyError, TypeError):
        research_id = None
    if not isinstance(research_id, str) or not research_id:
        raise ToolError("This retry carries no research to answer; start the research again.")
    return research_id


def reply_of(ctx: Any) -> Reply:
    """The person's answer in a retried call."""
    answer = (ctx.input_responses or {}).get(_KEY)
    if not isinstance(answer, ElicitResult):
        raise ToolError(
            "The retry carries no answer to the plan question; answer it, or confirm the plan "
            "with gemini_continue."
        )
    if answer.action != "accept":
        return Reply(dismissed=answer.action == "cancel")
    try:
        return _accepted(PlanReply.model_validate(answer.content or {}))
    except ValidationError:
        raise ToolError(
            "The answer to the plan question does not fit its form (approve: true or false, "
            "changes: text); answer it again."
        ) from None


def _accepted(reply: PlanReply | None) -> Reply:
    if reply is None:
        return Reply(approved=True)
    changes = reply.changes.strip() or None
    return Reply(approved=reply.approve, changes=changes)

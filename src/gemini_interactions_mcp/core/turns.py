"""Conversation turns: one turn = one upstream interaction chained by previous_interaction_id.

The record keeps the chain's head and the interaction config upstream does not carry over, so
every turn re-sends it. A turn holds the conversation (``lease``), so two turns never fork it.

A stored turn is one request when nothing breaks: a streaming create that also runs in the
background. Its first event names the interaction, which is recorded as pending before the
stream is read any further; the answer is assembled from the events. If the call's budget runs
out, the caller goes away or the connection fails, the turn keeps running upstream and a later
collect finds it (a broken stream is first resumed from its last event): paid work is never
dropped. A turn that fails upstream leaves the conversation as it was, so the prompt can be
sent again.

The same runner serves a research's follow-up questions: they are turns of the research's own
chain, run by its agent, and never touch the research's report.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio

from ..state.records import ConversationRecord, InteractionConfig, PendingTurn
from ..statuses import ABANDONED
from ..upstream import errors as up
from ..upstream.wire import (
    Interaction,
    InteractionCompletedEvent,
    InteractionCreatedEvent,
    InteractionStatusUpdateEvent,
    Status,
    StreamEvent,
)
from . import mapping
from .call import Call
from .context import ServerContext
from .costs import add_to, charge, priced, with_total
from .errors import ToolError
from .failures import turn_failed
from .inputs import parse_json_answer
from .lease import INTERRUPTED, TAKEN_OVER_UNRECORDED, Held, hold, hold_new
from .paging import cut
from .results import Answer

__all__ = ["Turn", "TurnRunner"]

logger = logging.getLogger(__name__)


Guard = Callable[[ConversationRecord], None]

# Seconds of a call's budget kept for one plain GET after a stream that did not end in time.
GET_RESERVE = 2.0
# At most this many usable models are named in a "model not found" error.
_LISTED = 20


@dataclass
class Turn:
    """What one turn sends: its input, and the model and config it runs with (`config` as
    sent, `stored` as the store may keep it: without credentials)."""

    input: str | list[dict[str, Any]]
    model: str
    config: InteractionConfig
    stored: InteractionConfig
    notes: list[str] = field(default_factory=list)

    @property
    def answers_calls(self) -> bool:
        return isinstance(self.input, list) and all(
            step.get("type") == "function_result" for step in self.input
        )

    def pending(self, interaction_id: str) -> PendingTurn:
        return PendingTurn(interaction_id=interaction_id, model=self.model, config=self.stored)


class TurnRunner:
    """Starts, continues and collects the turns of one caller's conversations."""

    def __init__(self, server: ServerContext, call: Call) -> None:
        self.server = server
        self.call = call
        self.narrator = mapping.Narrator()

    # -- entry points ----------------------------------------------------------------------

    async def start(self, record: ConversationRecord, turn: Turn) -> Answer:
        """Store a new conversation and run its first turn."""
        async with hold_new(self.server, self.call, record) as held:
            try:
                return await self._run(held, turn)
            except BaseException:
                # A first turn that never got going leaves no conversation behind (it would
                # otherwise become the caller's "latest" and swallow the next continue).
                chain = held.record.chain
                if chain.head is None and chain.pending is None and not held.lost:
                    with anyio.CancelScope(shield=True):
                        await held.store.delete(held.record.owner, held.id)
                raise

    async def next(
        self, record: ConversationRecord, turn: Turn, guard: Guard | None = None
    ) -> Answer:
        """The next turn of an existing conversation; `guard` may refuse it once it is held."""
        async with hold(self.server, self.call, record) as held:
            current = held.record
            chain = current.chain
            if chain.pending is not None:
                raise ToolError(
                    f"The previous answer in {current.id} is still being generated; call "
                    "gemini_continue with this conversation_id and no prompt to collect it first."
                )
            if not chain.stored_upstream:
                raise ToolError(
                    "This conversation was started with store=false, so Gemini kept no state to "
                    "continue from; start a new conversation (store=true to continue later)."
                )
            # Owed calls outlive a failed attempt at answering them (it did not advance the chain).
            if chain.owed_calls and not turn.answers_calls:
                calls = ", ".join(sorted(chain.owed_calls))
                raise ToolError(
                    f"Gemini is waiting for function results ({calls}); pass function_results."
                )
            if guard is not None:
                guard(current)
            return await self._run(held, turn)

    async def collect(self, record: ConversationRecord) -> Answer:
        """Wait (within the call's budget) for a turn left running upstream and return it."""
        async with hold(self.server, self.call, record) as held:
            pending = held.record.chain.pending
            if pending is None:
                return self.latest(held.record, offset=0)
            return await self._await(held, pending, [])

    def latest(self, record: ConversationRecord, *, offset: int) -> Answer:
        """The latest answer again, from a character offset (paging long answers)."""
        chain = record.chain
        answer = Answer(
            conversation_id=record.id,
            interaction_id=chain.head,
            status=chain.status,
            model=record.model,
        )
        if chain.status == INTERRUPTED:
            answer.notes.append(
                "The server stopped before Gemini confirmed the last turn, so it was not "
                "recorded (Gemini may have run it). The conversation is as it was before that "
                "turn: send the prompt again."
            )
            return answer
        return self.page(answer, chain.text, offset)

    def page(self, answer: Answer, text: str, offset: int) -> Answer:
        """`answer` with the page of `text` at `offset`, and a note on where the rest is."""
        chunk, following = cut(text, offset, self.server.settings.max_text_chars)
        answer.text = chunk
        if following is not None:
            answer.next_offset = following
            answer.notes.append(
                f"Text cut at character {following} of {len(text)}; call gemini_continue with "
                f"conversation_id={answer.conversation_id!r} and offset={following} for the rest."
            )
        return answer

    # -- one turn --------------------------------------------------------------------------

    def _body(self, record: ConversationRecord, turn: Turn) -> dict[str, Any]:
        who = "agent" if record.kind == "research" else "model"
        body: dict[str, Any] = {who: turn.model, "input": turn.input}
        body.update(turn.config.request_fields())
        if record.chain.head:
            body["previous_interaction_id"] = record.chain.head
        return body

    async def _run(self, held: Held, turn: Turn) -> Answer:
        body = self._body(held.record, turn)
        if not held.record.chain.stored_upstream:
            return await self._run_unstored(held, {**body, "store": False}, turn)
        client = await self.server.client()
        pending: PendingTurn | None = None
        # Until the turn is recorded as pending the caller going away does not stop the stream
        # (without its id the turn could never be collected); only the call's budget does.
        scope = self.call.within(shield=True)

        async def on_event(event: StreamEvent) -> None:
            nonlocal pending
            if pending is None:
                interaction_id = _interaction_id(event)
                if interaction_id:
                    recorded = turn.pending(interaction_id)
                    await held.write(_pending(recorded), taken_over=TAKEN_OVER_UNRECORDED)
                    pending = recorded  # only once the store has it: then it can be collected
                    scope.shield = False
                    scope.deadline = self._stream_deadline()
            await self._on_event(event)

        # One request: the create streams the answer, and runs on upstream in the background
        # if the stream breaks (the client resumes it by last_event_id).
        body = {**body, "background": True}
        try:
            return await self._follow(
                held,
                lambda: client.create_stream(body, on_event=on_event),
                scope,
                lambda: pending,
                turn.notes,
            )
        except up.ModelNotFoundError:
            raise ToolError(await model_not_found(self.server, turn.model)) from None

    async def _run_unstored(self, held: Held, body: dict[str, Any], turn: Turn) -> Answer:
        """store=false: nothing upstream to come back to, so the answer is streamed in full."""
        client = await self.server.client()
        result: Interaction | None = None
        try:
            with self.call.within():
                result = await client.create_stream(body, on_event=self._on_event)
        except up.StreamError as exc:
            raise ToolError(turn_failed(f"{exc.code}: {exc.message}")) from None
        if result is None and self.call.stopping:
            raise ToolError(
                "This server is shutting down, and with store=false an answer cannot be "
                "collected later; ask again in a moment (with store=true to make it collectable)."
            )
        if result is None:
            raise ToolError(
                f"The answer took longer than the {self.server.settings.call_budget:g} s call "
                "budget, and with store=false it cannot be collected later; ask again with "
                "store=true."
            )
        return await self._finish(held, result, turn.notes, turn.pending(result.id))

    async def _await(self, held: Held, pending: PendingTurn, notes: list[str]) -> Answer:
        """Follow a turn already running upstream until it ends or the budget runs out."""
        client = await self.server.client()
        return await self._follow(
            held,
            lambda: client.follow(pending.interaction_id, on_event=self._on_event),
            self.call.within(self._stream_deadline()),
            lambda: pending,
            notes,
        )

    async def _follow(
        self,
        held: Held,
        stream: Callable[[], Awaitable[Interaction]],
        scope: anyio.CancelScope,
        pending_of: Callable[[], PendingTurn | None],
        notes: list[str],
    ) -> Answer:
        """Read a turn's stream until it ends or `scope` gives up, and record the outcome."""
        done: Interaction | None = None
        try:
            with scope:
                done = await stream()
        except up.StreamError as exc:
            # The turn failed upstream: record its final state, then say so.
            pending = pending_of()
            final = await self._final_state(pending.interaction_id) if pending else None
            if pending is not None and final is not None and not final.is_running:
                await self._finish(held, final, notes, pending)
            else:
                await held.write(_abandon, release=True)
            raise ToolError(turn_failed(f"{exc.code}: {exc.message}")) from None
        except up.NotFoundError:
            if pending_of() is None:
                raise  # the create itself was refused (an unknown model, a lost chain)
            await held.write(_abandon, release=True)
            raise ToolError(
                "Gemini no longer has this answer (deleted or expired); the conversation is as "
                "it was before this turn, so send the prompt again."
            ) from None
        except (up.APIConnectionError, up.StreamInterruptedError, up.ServerError) as exc:
            pending = pending_of()
            if pending is None and not isinstance(exc, up.StreamInterruptedError):
                raise  # the create failed before its answer began: described as it is
            if pending is None:
                raise ToolError(
                    "The connection to Gemini broke before the turn was confirmed, so it may not "
                    "have started; send the prompt again in a moment."
                ) from None
            # The stream could not be read to its end; the interaction itself may well have
            # ended: a plain GET tells (and is all a collect needs then).
            final = await self._final_state(pending.interaction_id)
            if final is not None and not final.is_running:
                done = final
            else:
                return self._still_running(
                    held.record, pending, [*notes, "The connection to Gemini dropped."]
                )
        pending = pending_of()
        if pending is None:
            if scope.cancelled_caught:
                raise ToolError(
                    f"Gemini did not confirm the turn within the "
                    f"{self.server.settings.call_budget:g} s call "
                    "budget (it may be busy or rate limiting, or it may have started the turn "
                    "anyway, which then cannot be collected); nothing was recorded, so send "
                    "the prompt again in a moment."
                )
            # Only a stream that produced no event at all ends like this.
            raise ToolError("Gemini answered without starting the turn; send the prompt again.")
        if done is None:
            # The stream did not end within the budget (or could not be opened again): the
            # interaction may have ended anyway, which a plain GET tells.
            final = await self._final_state(pending.interaction_id)
            done = final if final is not None and not final.is_running else None
        # Anything but running ends the call: done, failed, or waiting for the caller
        # (function results, or an interaction idle until its next input).
        if done is None or done.is_running:
            return self._still_running(held.record, pending, notes)
        answer = await self._finish(held, done, notes, pending)
        if done.status == Status.FAILED:
            reasons = "; ".join(f"{e.code}: {e.message}" for e in done.errors) or "no reason given"
            raise ToolError(turn_failed(reasons))
        return answer

    def _stream_deadline(self) -> float:
        """When to stop reading a stream: a little before the budget ends, to leave time for
        one plain GET of the interaction."""
        return self.call.deadline - min(GET_RESERVE, self.call.budget / 4)

    async def _final_state(self, interaction_id: str) -> Interaction | None:
        """The interaction as upstream has it now, if that can be had within the budget."""
        client = await self.server.client()
        with self.call.within():
            try:
                return await client.get(interaction_id)
            except up.GeminiError:
                return None
        return None

    async def _on_event(self, event: StreamEvent) -> None:
        message = self.narrator.message(event)
        if message is None:
            return
        kind, text = message
        if kind == "text":
            await self.call.progress.text(text)
        else:
            await self.call.progress.report(text)

    async def _finish(
        self, held: Held, result: Interaction, notes: list[str], used: PendingTurn
    ) -> Answer:
        """Record a finished turn (releasing the lease in the same write) and map its answer."""
        answer = mapping.answer(result, conversation_id=held.id, model=used.model)
        answer.notes = [*notes, *answer.notes]
        schema = (used.config.response_format or {}).get("schema")
        if schema is not None and result.status == Status.COMPLETED:
            answer.parsed, problem = parse_json_answer(answer.text, schema)
            if problem:
                answer.notes.append(problem)
        calls = {c.call_id: c.name for c in answer.function_calls or []}
        advanced = result.status not in ABANDONED
        # Priced as the model that answered (upstream reroutes retired ids).
        usage = priced(self.server, answer.model, answer.usage)

        def change(current: ConversationRecord) -> ConversationRecord:
            add_to(current, usage)  # what a turn cost counts even when it failed
            chain = current.chain
            chain.status = result.status
            chain.pending = None
            if advanced:
                chain.head = result.id
                chain.turns += 1
                chain.owed_calls = calls
                chain.text = answer.text
                # What this turn used becomes the conversation's config from now on.
                current.config = used.config
                current.model = used.model
            if result.id not in current.interaction_ids:
                current.interaction_ids.append(result.id)
            return current

        # Shielded: a caller going away now must not lose a turn that has finished.
        with anyio.CancelScope(shield=True):
            stored = await held.write(change, release=True)
            await charge(self.server, held.record.owner, usage)
        answer.usage = with_total(usage, stored)
        if stored is None:
            answer.notes.append("This conversation was forgotten while the answer was generated.")
        elif not advanced:
            answer.notes.append("The conversation is as it was before this turn.")
        return self.page(answer, answer.text, 0)

    def _still_running(
        self, record: ConversationRecord, pending: PendingTurn, notes: list[str]
    ) -> Answer:
        return Answer(
            conversation_id=record.id,
            interaction_id=pending.interaction_id,
            status="in_progress",
            model=pending.model,
            notes=[
                *notes,
                f"Still running after {self.call.elapsed():.0f} s; Gemini keeps working. "
                f"Call gemini_continue with conversation_id={record.id!r} and no prompt to "
                "collect the answer.",
                *([self.call.stopping] if self.call.stopping else []),
            ],
        )


async def model_not_found(server: ServerContext, model: str) -> str:
    """Why `model` was refused, with what can be used instead (the key's own list if known)."""
    usable = await server.catalog.usable_ids()
    if usable:
        return (
            f"Model {model!r} is not available to this server's key. It can use: "
            f"{', '.join(usable[:_LISTED])}{' …' if len(usable) > _LISTED else ''}. "
            f"{server.registry.choices()}"
        )
    return f"Model {model!r} is not available at Gemini. {server.registry.choices()}"


def _interaction_id(event: StreamEvent) -> str | None:
    """The interaction id an event names (the first event of a stream carries it)."""
    if isinstance(event, InteractionCreatedEvent | InteractionCompletedEvent):
        return event.interaction.id or None
    if isinstance(event, InteractionStatusUpdateEvent):
        return event.interaction_id or None
    return None


def _pending(pending: PendingTurn) -> Callable[[ConversationRecord], ConversationRecord]:
    def record(current: ConversationRecord) -> ConversationRecord:
        current.chain.status = "in_progress"
        current.chain.pending = pending
        return current

    return record


def _abandon(record: ConversationRecord) -> ConversationRecord:
    """The pending turn is gone or failed without a final state: the chain stays as it was."""
    record.chain.status = Status.FAILED.value
    record.chain.pending = None
    return record

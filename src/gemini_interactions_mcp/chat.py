"""Conversations: one turn = one upstream interaction chained by previous_interaction_id.

The store keeps, per owner and conversation, the latest interaction id and the
interaction-scoped settings (system instruction, tools, generation config, response format)
that upstream does not carry over, so every turn re-sends them. A turn first takes a lease on
the conversation by compare-and-set, so two turns can never fork the chain: in one process the
second waits its turn; across processes it gets "conversation busy".

Turns with ``store`` on are created upstream in the background (the create returns the
interaction id at once, and it is recorded as pending before anything else), then followed
as a stream. If the call's budget runs out, the client goes away or the connection fails, the
turn keeps running upstream and a later ``gemini_continue`` without a prompt collects it: paid
work is never dropped. One deadline covers the whole call, waiting for the conversation included.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio

from . import mapping
from .app import AppState
from .errors import ConversationBusy, ToolError
from .inputs import parse_json_answer
from .progress import Progress
from .results import Answer
from .state.base import ConversationRecord, mutate, new_handle
from .upstream import errors as up
from .upstream.wire import Interaction

logger = logging.getLogger(__name__)

DAY = 86_400.0
_LEASE_MARGIN = 30.0
_TITLE_CHARS = 60
TERMINAL = frozenset({"completed", "failed", "cancelled", "incomplete", "budget_exceeded"})
ABANDONED = frozenset({"failed", "cancelled"})


@dataclass
class Turn:
    """What one turn sends upstream, besides the conversation's stored settings."""

    input: Any
    settings: dict[str, Any] = field(default_factory=dict)
    model: str | None = None
    notes: list[str] = field(default_factory=list)


class Conversations:
    """Starts, continues and collects conversation turns for one owner."""

    def __init__(self, app: AppState, owner: str, progress: Progress) -> None:
        self.app = app
        self.owner = owner
        self.progress = progress
        self.narrator = mapping.Narrator()
        self.deadline = anyio.current_time() + app.settings.call_budget
        # The record as this call last wrote it, and its lease: each write of a turn starts
        # from it instead of reading the store again (a stale copy only costs a retry).
        self._latest: ConversationRecord | None = None
        self._lease_token: str | None = None

    def remaining(self) -> float:
        """Seconds left of this call's budget."""
        return max(0.0, self.deadline - anyio.current_time())

    # -- lookups ---------------------------------------------------------------------------

    async def find(
        self, conversation_id: str | None, *, kind: str | None = None
    ) -> ConversationRecord:
        """The caller's conversation (latest when no id); unknown and foreign look the same."""
        store = await self.app.store()
        if conversation_id:
            rec = await store.get(self.owner, conversation_id)
            if rec is None or (kind is not None and rec.kind != kind):
                raise ToolError(
                    f"Unknown conversation_id {conversation_id!r}; "
                    "gemini_conversations lists yours."
                )
        else:
            rec = await store.latest(self.owner, kind=kind or "chat")
            if rec is None:
                raise ToolError("You have no conversation yet; start one with gemini_ask.")
        if self.expired(rec):
            raise ToolError(
                f"Conversation {rec.id} is older than the {self.app.settings.retention_days:g}-day "
                "upstream retention and has expired; start a new one with gemini_ask."
            )
        return rec

    def expired(self, rec: ConversationRecord) -> bool:
        return self.app.clock() - rec.updated_at > self.app.settings.retention_days * DAY

    # -- turns -----------------------------------------------------------------------------

    async def start(
        self, *, model: str, settings: dict[str, Any], title: str, turn: Turn, store_upstream: bool
    ) -> Answer:
        """A new conversation and its first turn."""
        store = await self.app.store()
        now = self.app.clock()
        rec = ConversationRecord(
            id=new_handle("c_"),
            owner=self.owner,
            kind="chat",
            title=title,
            model=model,
            status="in_progress",
            settings=settings,
            data={"store": store_upstream, "interaction_ids": []},
            created_at=now,
            updated_at=now,
        )
        await store.insert(rec)
        try:
            async with self.lease(rec.id) as rec:
                return await self._run(rec, turn, first=True)
        except BaseException:
            # A first turn that never got going leaves no conversation behind (it would
            # otherwise become the caller's "latest" and swallow the next continue).
            with anyio.CancelScope(shield=True):
                current = await store.get(self.owner, rec.id)
                if current is not None and not (
                    current.last_interaction_id or current.data.get("pending")
                ):
                    await store.delete(self.owner, rec.id)
            raise

    async def continue_(self, rec: ConversationRecord, turn: Turn) -> Answer:
        """The next turn of an existing conversation."""
        async with self.lease(rec.id) as rec:
            if rec.data.get("pending"):
                raise ToolError(
                    f"The previous answer in {rec.id} is still being generated; call "
                    "gemini_continue with this conversation_id and no prompt to collect it first."
                )
            if not rec.data.get("store", True):
                raise ToolError(
                    "This conversation was started with store=false, so Gemini kept no state to "
                    "continue from; start a new conversation (store=true to continue later)."
                )
            # Owed calls outlive a failed attempt at answering them (it did not advance the chain).
            owed = rec.data.get("pending_calls") or {}
            if owed and not _is_function_results(turn.input):
                calls = ", ".join(sorted(owed))
                raise ToolError(
                    f"Gemini is waiting for function results ({calls}); pass function_results."
                )
            return await self._run(rec, turn, first=False)

    async def collect(self, rec: ConversationRecord) -> Answer:
        """Wait (within the call's budget) for a turn left running upstream and return it."""
        async with self.lease(rec.id) as rec:
            pending = rec.data.get("pending")
            if not pending:
                return self.last_answer(rec, offset=0)
            return await self._await(rec, pending, [], rec.data.get("pending_turn"))

    def last_answer(self, rec: ConversationRecord, *, offset: int) -> Answer:
        """The latest answer again, from a character offset (paging long answers)."""
        text = rec.data.get("last_text", "")
        if offset > len(text):
            raise ToolError(
                f"offset {offset} is past the end of the answer ({len(text)} characters)."
            )
        answer = Answer(
            conversation_id=rec.id,
            interaction_id=rec.last_interaction_id,
            status=rec.status,
            model=rec.model,
        )
        return self._page(answer, text, offset)

    # -- internals -------------------------------------------------------------------------

    @asynccontextmanager
    async def lease(self, conversation_id: str) -> AsyncIterator[ConversationRecord]:
        """Hold the conversation for one turn (in-process lock, then a CAS lease in the store)."""
        lock = self.app.conversation_lock(conversation_id)
        with anyio.move_on_after(self.remaining()) as waited:
            await lock.acquire()
        if waited.cancelled_caught:
            raise ConversationBusy(_busy(conversation_id))
        try:
            token = secrets.token_hex(8)
            store = await self.app.store()
            now = self.app.clock()

            def take(rec: ConversationRecord) -> ConversationRecord:
                lease = rec.data.get("lease")
                if lease and lease["until"] > now and lease["token"] != token:
                    raise ConversationBusy(_busy(conversation_id))
                rec.data["lease"] = {
                    "token": token,
                    "until": now + self.app.settings.call_budget + _LEASE_MARGIN,
                }
                return rec

            rec = await mutate(store, self.owner, conversation_id, take, clock=None)
            if rec is None:
                raise ToolError(f"Unknown conversation_id {conversation_id!r}.")
            self._latest, self._lease_token = rec, token
            try:
                yield rec
            finally:
                # _finish releases the lease with its own write; otherwise release it here.
                if self._lease_token is not None:
                    with anyio.CancelScope(shield=True):
                        await mutate(
                            store,
                            self.owner,
                            conversation_id,
                            _release(token),
                            clock=None,
                            known=self._latest,
                        )
                self._latest = self._lease_token = None
        finally:
            lock.release()

    async def _run(self, rec: ConversationRecord, turn: Turn, *, first: bool) -> Answer:
        settings = {**rec.settings, **turn.settings}
        model = turn.model or rec.model
        # What this turn used becomes the conversation's settings once the turn succeeds.
        effective = {"settings": settings, "model": model}
        body: dict[str, Any] = {"model": model, "input": turn.input, **settings}
        if rec.last_interaction_id and not first:
            body["previous_interaction_id"] = rec.last_interaction_id
        client = await self.app.client()
        try:
            if not rec.data.get("store", True):
                return await self._run_unstored(rec, {**body, "store": False}, turn, effective)
            created = await client.create({**body, "background": True})
        except up.ModelNotFoundError:
            raise ToolError(
                f"Model {model!r} is not available at Gemini. {self.app.registry.choices()}"
            ) from None
        # Recorded before anything else can go wrong: from here the turn is always collectable.
        with anyio.CancelScope(shield=True):
            rec = await self._mark(rec.id, status="in_progress", pending=created.id, turn=effective)
        return await self._await(rec, created.id, turn.notes, effective)

    async def _run_unstored(
        self, rec: ConversationRecord, body: dict[str, Any], turn: Turn, effective: Any
    ) -> Answer:
        """store=false: nothing upstream to come back to, so the answer is streamed in full."""
        client = await self.app.client()
        result: Interaction | None = None
        try:
            with anyio.move_on_after(self.remaining()):
                result = await client.create_stream(body, on_event=self._on_event)
        except up.StreamError as exc:
            raise ToolError(f"Gemini stopped with an error ({exc.code}: {exc.message}).") from None
        if result is None:
            raise ToolError(
                f"The answer took longer than the {self.app.settings.call_budget:g} s call budget, "
                "and with store=false it cannot be collected later; ask again with store=true."
            )
        return await self._finish(rec, result, turn.notes, effective)

    async def _await(
        self, rec: ConversationRecord, interaction_id: str, notes: list[str], effective: Any
    ) -> Answer:
        """Follow a turn running upstream until it ends or the call's budget runs out."""
        client = await self.app.client()
        done: Interaction | None = None
        try:
            with anyio.move_on_after(self.remaining()):
                done = await client.follow(interaction_id, on_event=self._on_event)
        except up.StreamError as exc:
            # The turn failed upstream: record its final state, then say so.
            final = await self._final_state(interaction_id)
            if final is not None and not final.is_running:
                await self._finish(rec, final, notes, effective)
            else:
                await self._mark(rec.id, status="failed", pending=None)
            raise ToolError(_failed(f"{exc.code}: {exc.message}")) from None
        except up.NotFoundError:
            await self._mark(rec.id, status="failed", pending=None)
            raise ToolError(
                "Gemini no longer has this answer (deleted or expired); the conversation is as "
                "it was before this turn, so send the prompt again."
            ) from None
        except (up.APIConnectionError, up.StreamInterruptedError, up.ServerError):
            return self._still_running(
                rec, interaction_id, [*notes, "The connection to Gemini dropped."]
            )
        if done is None or done.status not in TERMINAL | {"requires_action"}:
            return self._still_running(rec, interaction_id, notes)
        answer = await self._finish(rec, done, notes, effective)
        if done.status == "failed":
            reasons = "; ".join(f"{e.code}: {e.message}" for e in done.errors) or "no reason given"
            raise ToolError(_failed(reasons))
        return answer

    async def _final_state(self, interaction_id: str) -> Interaction | None:
        client = await self.app.client()
        try:
            return await client.get(interaction_id)
        except up.GeminiError:
            return None

    async def _on_event(self, event: Any) -> None:
        message = self.narrator.message(event)
        if message is None:
            return
        kind, text = message
        if kind == "text":
            await self.progress.text(text)
        else:
            await self.progress.report(text)

    async def _mark(
        self, cid: str, *, status: str, pending: str | None, turn: Any = None
    ) -> ConversationRecord:
        store = await self.app.store()

        def change(rec: ConversationRecord) -> ConversationRecord:
            rec.status = status
            if pending:
                rec.data["pending"] = pending
                rec.data["pending_turn"] = turn
            else:
                rec.data.pop("pending", None)
                rec.data.pop("pending_turn", None)
            return rec

        rec = await mutate(
            store, self.owner, cid, change, clock=self.app.clock, known=self._known(cid)
        )
        assert rec is not None
        self._latest = rec
        return rec

    def _known(self, cid: str) -> ConversationRecord | None:
        latest = self._latest
        return latest if latest is not None and latest.id == cid else None

    async def _finish(
        self, rec: ConversationRecord, result: Interaction, notes: list[str], effective: Any
    ) -> Answer:
        answer = mapping.answer(result, conversation_id=rec.id, model=rec.model)
        answer.notes = [*notes, *answer.notes]
        effective = effective or {"settings": rec.settings, "model": rec.model}
        schema = (effective["settings"].get("response_format") or {}).get("schema")
        if schema is not None and result.status == "completed":
            answer.parsed, problem = parse_json_answer(answer.text, schema)
            if problem:
                answer.notes.append(problem)
        store = await self.app.store()
        calls = {c.call_id: c.name for c in answer.function_calls or []}
        advanced = result.status not in ABANDONED
        token = self._lease_token

        def change(cur: ConversationRecord) -> ConversationRecord:
            cur.status = result.status
            cur.data.pop("pending", None)
            cur.data.pop("pending_turn", None)
            if advanced:
                # A failed or cancelled turn is not part of the conversation: the next turn
                # chains on the last good one.
                cur.last_interaction_id = result.id
                cur.turns += 1
                cur.settings = effective["settings"]
                cur.model = effective["model"]
                cur.data["pending_calls"] = calls
                cur.data["last_text"] = answer.text
            cur.data.setdefault("interaction_ids", []).append(result.id)
            lease = cur.data.get("lease")
            if lease and lease.get("token") == token:
                del cur.data["lease"]
            return cur

        # Shielded: a client going away now must not lose a turn that has finished.
        with anyio.CancelScope(shield=True):
            stored = await mutate(
                store, self.owner, rec.id, change, clock=self.app.clock, known=self._known(rec.id)
            )
        if stored is not None:
            self._latest = stored
            if token is not None and "lease" not in stored.data:
                self._lease_token = None  # released by this write
        if stored is None:
            answer.notes.append("This conversation was forgotten while the answer was generated.")
        elif not advanced:
            answer.notes.append("The conversation is as it was before this turn.")
        return self._page(answer, answer.text, 0)

    def _still_running(
        self, rec: ConversationRecord, pending: str, notes: list[str] | None = None
    ) -> Answer:
        return Answer(
            conversation_id=rec.id,
            interaction_id=pending,
            status="in_progress",
            model=rec.model,
            notes=[
                *(notes or []),
                f"Still running after {self.app.settings.call_budget:g} s; Gemini keeps working. "
                f"Call gemini_continue with conversation_id={rec.id!r} and no prompt to collect "
                "the answer.",
            ],
        )

    def _page(self, answer: Answer, text: str, offset: int) -> Answer:
        limit = self.app.settings.max_text_chars
        chunk = text[offset : offset + limit]
        answer.text = chunk
        end = offset + len(chunk)
        if end < len(text):
            answer.next_offset = end
            answer.notes.append(
                f"Text cut at character {end} of {len(text)}; call gemini_continue with "
                f"conversation_id={answer.conversation_id!r} and offset={end} for the rest."
            )
        return answer


def _failed(reason: str) -> str:
    return (
        f"Gemini stopped with an error ({reason}); the conversation is as it was before this "
        "turn, so the prompt can be sent again."
    )


def _busy(conversation_id: str) -> str:
    return f"Conversation {conversation_id} is busy with another turn; try again shortly."


def _release(token: str) -> Any:
    def change(rec: ConversationRecord) -> ConversationRecord | None:
        lease = rec.data.get("lease")
        if not lease or lease.get("token") != token:
            return None
        del rec.data["lease"]
        return rec

    return change


def _is_function_results(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(s, dict) and s.get("type") == "function_result" for s in value)
    )


def title_from(prompt: str | None) -> str:
    """A short title from the first prompt."""
    words = " ".join((prompt or "").split())
    return words if len(words) <= _TITLE_CHARS else words[: _TITLE_CHARS - 1].rstrip() + "…"

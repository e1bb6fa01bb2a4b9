"""What each tool asks of the core, one method per tool, for one call.

This is where a request is dispatched: a chat turn, a collect, a page of the latest answer, a
research follow-up or a plan confirmation. The tools above only turn arguments into requests
and results into MCP content; this module and the ones it calls hold every rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ..state.base import CorruptRecordError, Store, new_handle
from ..state.records import Chain, ConversationRecord, InteractionConfig
from ..upstream import errors as up
from . import interaction_config
from .arguments import Attachment
from .call import Call
from .context import ServerContext
from .costs import Budget, periods
from .errors import ToolError, UnknownHandle, elsewhere
from .inputs import build_input, function_result_steps
from .lease import INTERRUPTED, abandoned, start_cut_short
from .limits import check_running_research
from .mapping import TITLE_CHARS, short
from .registry import Resolution
from .requests import AskRequest, ContinueRequest, ResearchRequest
from .research import ResearchService
from .results import Answer, ConversationInfo, ConversationList, Research, SpendSummary
from .turns import Turn, TurnRunner

__all__ = ["GeminiService"]


class GeminiService:
    """The core, as one tool call sees it."""

    def __init__(self, server: ServerContext, call: Call) -> None:
        self.server = server
        self.call = call
        self.turns = TurnRunner(server, call)
        self.budget = Budget(server, call.owner)

    async def _research(self) -> ResearchService:
        return ResearchService(self.server, await self.server.monitor(), self.call)

    # -- conversations ---------------------------------------------------------------------

    async def ask(self, request: AskRequest) -> Answer:
        """A new conversation and its first turn."""
        model = self._chat_model(request.model or self.server.settings.default_model)
        if request.config.functions and not request.store:
            raise ToolError(
                "functions need store=true: answering a function call continues the "
                "conversation, and with store=false Gemini keeps nothing to continue from."
            )
        self._check_thinking(model.id, request.config.thinking_level)
        warnings = await self.budget.check()
        config = interaction_config.apply(request.config)
        record_id = new_handle("c_")
        stored = self.server.vault.stored(record_id, config)
        turn = Turn(
            input=self._input(request.prompt, request.attachments),
            model=model.id,
            config=config,
            stored=stored,
            notes=[*([model.note] if model.note else []), *warnings],
        )
        now = self.server.clock()
        record = ConversationRecord(
            id=record_id,
            owner=self.call.owner,
            title=request.title or short(request.prompt, TITLE_CHARS),
            model=model.id,
            upstream=await self.server.upstream(),
            config=stored,
            chain=Chain(status="in_progress", stored_upstream=request.store),
            created_at=now,
            updated_at=now,
        )
        return await self.turns.start(record, turn)

    async def continue_(self, request: ContinueRequest) -> Answer:
        """The next turn, a collect, or a page of the latest answer."""
        record = await self._find(request.conversation_id)
        if record.research is not None:
            return await self._continue_research(record, request)
        if not request.sends_a_turn:
            settings = [
                name for name in request.chat_only_arguments() if name != "function_results"
            ]
            if settings:
                verb = "applies" if len(settings) == 1 else "apply"
                raise ToolError(
                    f"{', '.join(settings)} {verb} to a new turn; give a prompt (or "
                    "function_results) too."
                )
            if request.offset is not None:
                return self.turns.latest(record, offset=request.offset)
            return await self.turns.collect(record)
        if request.prompt is not None and request.function_results:
            raise ToolError("Give either a prompt or function_results, not both.")
        notes: list[str] = []
        model = record.model
        if request.model is not None:
            resolved = self._chat_model(request.model)
            model, notes = resolved.id, [resolved.note] if resolved.note else []
        turn_input: str | list[dict[str, Any]]
        if request.function_results:
            turn_input = function_result_steps(request.function_results, record.chain.owed_calls)
        else:
            turn_input = self._input(request.prompt, request.attachments)
        config = interaction_config.apply(request.config, record.config)
        self._check_thinking(model, config.generation_config.get("thinking_level"))
        notes.extend(await self.budget.check())
        turn = self._turn(record, turn_input, model, config, notes)
        return await self.turns.next(record, turn)

    def _turn(
        self,
        record: ConversationRecord,
        turn_input: str | list[dict[str, Any]],
        model: str,
        config: InteractionConfig,
        notes: list[str] | None = None,
    ) -> Turn:
        """A turn of `record` with `config` (as stored: credentials are put back to send)."""
        vault = self.server.vault
        usable = vault.usable(record.id, config)
        return Turn(
            input=turn_input,
            model=model,
            config=usable,
            stored=vault.stored(record.id, usable),
            notes=notes or [],
        )

    async def _continue_research(
        self, record: ConversationRecord, request: ContinueRequest
    ) -> Answer:
        """On a research: a follow-up question, a plan confirmation, or its latest answer."""
        extras = request.chat_only_arguments()
        if extras:
            raise ToolError(
                "A research takes only a prompt as a follow-up; drop " + ", ".join(extras) + "."
            )
        research = await self._research()
        state = record.research
        assert state is not None
        if request.prompt is None:
            if record.chain.pending is not None:
                return await self.turns.collect(record)
            if state.active and request.offset is None:
                outcome = await research.wait_for_report(record)
            elif record.chain.turns:
                return self.turns.latest(record, offset=request.offset or 0)
            else:
                outcome = research.outcome(record)
            return self.turns.page(outcome, outcome.text, request.offset or 0)
        warnings = await self.budget.check()
        if state.status == "awaiting_plan_confirmation":
            confirmed = await research.confirm_plan(record, request.prompt)
            confirmed.notes.extend(warnings)
            return confirmed
        config = interaction_config.for_follow_up(record.config)
        turn = self._turn(record, request.prompt, record.model, config, warnings)
        return await self.turns.next(record, turn, guard=_follow_up_allowed)

    async def conversations(
        self, *, limit: int, forget: str | None, delete_upstream: bool
    ) -> ConversationList:
        """The caller's conversations and research, newest first; optionally forget one."""
        store = await self.server.store()
        notes: list[str] = []
        if forget:
            try:
                record = await store.get(self.call.owner, forget)
            except CorruptRecordError:
                record = None  # unreadable: nothing to stop or delete upstream, only forget
                if not await store.delete(self.call.owner, forget):
                    raise
            else:
                if record is None:
                    raise UnknownHandle(
                        f"Unknown conversation_id {forget!r}; nothing was forgotten."
                    )
                notes.extend(await self._forget(store, record, delete_upstream=delete_upstream))
        records = await store.list(self.call.owner, limit=limit, kind=None)
        if records.unreadable:
            notes.append(
                f"{len(records.unreadable)} stored record(s) could not be read and are left out: "
                f"{', '.join(records.unreadable)}; forget them by id."
            )
        items = [self._info(r) for r in records]
        today, month = await store.spend(self.call.owner, periods=periods(self.server.clock()))
        spend = SpendSummary(today_usd=round(today, 4), month_usd=round(month, 4))
        return ConversationList(
            conversations=items, forgotten=forget or None, spend=spend, notes=notes
        )

    async def _forget(
        self, store: Store, record: ConversationRecord, *, delete_upstream: bool
    ) -> list[str]:
        notes = await self._stop_running(record)
        if delete_upstream:
            ids = list(record.interaction_ids)
            pending = record.chain.pending
            if pending is not None and pending.interaction_id not in ids:
                ids.append(pending.interaction_id)
            notes.extend(await self._delete_upstream(ids))
        await store.delete(self.call.owner, record.id)
        self.server.vault.forget(record.id)
        return notes

    def _info(self, record: ConversationRecord) -> ConversationInfo:
        research = record.research is not None
        return ConversationInfo(
            conversation_id=record.id,
            kind=record.kind,
            title=record.title,
            model=record.model,
            # A research is its own first turn; its follow-ups are the turns after it.
            turns=record.chain.turns + 1 if research else record.chain.turns,
            follow_ups=record.chain.turns if research else None,
            status=self._status(record),
            updated=datetime.fromtimestamp(record.updated_at, UTC).isoformat(timespec="seconds"),
            cost_usd=round(record.spend.usd, 4) if not record.spend.unpriced else None,
        )

    def _status(self, record: ConversationRecord) -> str:
        if self.server.expired(record.updated_at):
            return "expired"
        chain = record.chain
        stuck = record.research is None and chain.pending is None and chain.status == "in_progress"
        if stuck and abandoned(record.lease, self.server, self.server.clock()):
            return INTERRUPTED  # what the next call on it will record
        if start_cut_short(record, self.server, self.server.clock()):
            return "failed"  # what the next look at it will record
        return record.status

    # -- research --------------------------------------------------------------------------

    async def research_start(self, request: ResearchRequest) -> Research:
        agent = self.server.registry.resolve_agent(
            "deep-research-max" if request.max else "deep-research"
        )
        warnings = await self.budget.check()
        await check_running_research(self.server, self.call.owner)
        started = await (await self._research()).start(request, agent)
        started.notes.extend(warnings)
        return started

    async def research_status(
        self, research_id: str, *, wait_seconds: float, offset: int, max_chars: int | None
    ) -> Research:
        return await (await self._research()).status(
            research_id, wait_seconds=wait_seconds, offset=offset, max_chars=max_chars
        )

    async def research_plan(self, research_id: str) -> Research:
        """The research once its plan is there to confirm (within the call's budget)."""
        return await (await self._research()).wait_for_plan(research_id)

    async def research_plan_reply(
        self, research_id: str, *, approved: bool, changes: str | None
    ) -> Research:
        """Run the proposed plan (with `changes`), or cancel when it was turned down."""
        warnings = await self.budget.check() if approved or changes else []
        replied = await (await self._research()).reply_to_plan(
            research_id, approved=approved, changes=changes
        )
        replied.notes.extend(warnings)
        return replied

    async def research_cancel(self, research_id: str) -> Research:
        return await (await self._research()).cancel(research_id)

    async def research_report(self, research_id: str) -> str:
        return await (await self._research()).report_text(research_id)

    # -- internals -------------------------------------------------------------------------

    async def _find(self, conversation_id: str | None) -> ConversationRecord:
        """The caller's conversation (latest chat when no id); unknown and foreign look alike."""
        store = await self.server.store()
        if conversation_id:
            record = await store.get(self.call.owner, conversation_id)
            if record is None:
                raise UnknownHandle(
                    f"Unknown conversation_id {conversation_id!r}; "
                    "gemini_conversations lists yours."
                )
        else:
            record = await store.latest(self.call.owner, kind="chat")
            if record is None:
                raise ToolError("You have no conversation yet; start one with gemini_ask.")
        if await self.server.other_upstream(record.upstream):
            raise ToolError(elsewhere(record, await self.server.upstream()))
        if self.server.expired(record.updated_at):
            raise ToolError(
                f"Conversation {record.id} is older than the "
                f"{self.server.settings.retention_days:g}-day upstream retention and has "
                "expired; start a new one with gemini_ask."
            )
        return record

    def _check_thinking(self, model: str, level: str | None) -> None:
        """Refuse, before anything is sent, a thinking level the model is known to reject."""
        problem = self.server.registry.check_thinking(model, level)
        if problem is not None:
            raise ToolError(problem)

    def _chat_model(self, name: str | None) -> Resolution:
        """A model for a conversation (aliases, deprecations resolved); agents are refused."""
        resolved = self.server.registry.resolve(name)
        if resolved.is_agent:
            raise ToolError(
                f"{resolved.id} is an agent; use deep_research_start for Deep Research."
            )
        return resolved

    def _input(
        self, prompt: str | None, attachments: Sequence[Attachment] | None
    ) -> str | list[dict[str, Any]]:
        settings = self.server.settings
        return build_input(
            prompt,
            attachments,
            allowed_dirs=settings.attachment_dirs,
            max_bytes=settings.max_attachment_bytes,
            local_files=self.call.local_files,
        )

    async def _stop_running(self, record: ConversationRecord) -> list[str]:
        """Forgetting a running research cancels it: nobody could follow or cancel it after."""
        state = record.research
        if state is None or not state.active:
            return []
        if self.server.started_monitor is not None:
            self.server.started_monitor.stop(record.id)
        if not state.interaction_id:
            return []
        client = await self.server.client()
        try:
            await client.cancel(state.interaction_id)
        except up.GeminiError:
            return ["The running research could not be cancelled at Gemini."]
        return ["The running research was cancelled at Gemini."]

    async def _delete_upstream(self, interaction_ids: list[str]) -> list[str]:
        client = await self.server.client()
        failed = 0
        for interaction_id in interaction_ids:
            try:
                await client.delete(interaction_id)
            except up.NotFoundError:
                continue
            except up.GeminiError:
                failed += 1
        if failed:
            return [
                f"{failed} of {len(interaction_ids)} upstream interactions could not be deleted."
            ]
        return [f"Deleted {len(interaction_ids)} interactions at Gemini."]


def _follow_up_allowed(record: ConversationRecord) -> None:
    """A follow-up question needs a research that ended with something to follow up on."""
    state = record.research
    assert state is not None
    if state.active:
        raise ToolError(
            f"Research {record.id} is still running; wait for it with deep_research_status "
            "before asking a follow-up."
        )
    if state.status == "awaiting_plan_confirmation":
        raise ToolError(
            f"Research {record.id} is waiting for its plan to be confirmed; send the "
            "confirmation first."
        )
    if record.chain.head is None:
        raise ToolError(
            f"Research {record.id} ended as {state.status} with nothing to follow up on; "
            "start a new one with deep_research_start."
        )

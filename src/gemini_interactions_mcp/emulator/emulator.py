"""The emulator's state and operations, independent of HTTP.

:class:`Emulator` owns the stored interactions, the recorded requests, injected faults,
the rate-limit window and continuation tokens. The HTTP layer (:mod:`.app`) calls it.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import logging
import math
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import TaskGroup

from . import engine, sse
from .config import EmulatorConfig
from .errors import ApiError, code_for_status, invalid, not_found
from .record import Record, now_iso, tokens
from .research import script_research
from .scripted import continuation_plan, script_model
from .validation import ECHO_FIELDS, CreateRequest, count_turns, input_chars, parse_create

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the emulator saw it; API keys are redacted."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any


@dataclass
class Fault:
    """A failure injected with :meth:`Emulator.fail_next`."""

    status: int
    remaining: int
    methods: frozenset[str]
    retry_after: float | None = None
    retry_after_ms: int | None = None
    drop_after_headers: bool = False
    streams_only: bool = False

    def error(self) -> ApiError:
        headers: dict[str, str] = {}
        if self.retry_after is not None:
            headers["Retry-After"] = f"{self.retry_after:g}"
        if self.retry_after_ms is not None:
            headers["retry-after-ms"] = str(self.retry_after_ms)
        code = code_for_status(self.status)
        return ApiError(self.status, code, f"Injected fault ({self.status}).", headers=headers)


@dataclass
class _Ticket:
    """What a continuation token resumes."""

    owner: str
    parent: str
    rest: str
    status: str
    turns: int
    context_chars: int
    input_digest: str
    """Of the original input, which a store:false continuation must send again."""


@dataclass
class Created:
    """The outcome of a create, for the HTTP layer to answer."""

    record: Record
    request: CreateRequest
    unary_error: ApiError | None = None


@dataclass
class _State:
    requests: list[RecordedRequest] = field(default_factory=list)
    records: dict[str, Record] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    window: deque[float] = field(default_factory=deque)
    tickets: dict[str, _Ticket] = field(default_factory=dict)


class Emulator:
    """Inspectable state of one emulated Interactions API."""

    def __init__(
        self, config: EmulatorConfig, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self.clock = clock
        self._state = _State()
        self._task_group: TaskGroup | None = None
        self._orphans: set[asyncio.Task[None]] = set()
        self._closing = False

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, oldest first."""
        return self._state.requests

    @property
    def interactions(self) -> dict[str, dict[str, Any]]:
        """Stored interactions by id (the live dicts, full timeline, incl. status)."""
        return {rid: rec.interaction for rid, rec in self._state.records.items()}

    def fail_next(
        self,
        status: int,
        *,
        count: int = 1,
        retry_after: float | None = None,
        retry_after_ms: int | None = None,
        methods: tuple[str, ...] = ("POST",),
        drop_after_headers: bool = False,
        streams_only: bool = False,
    ) -> None:
        """Make the next ``count`` requests with one of ``methods`` fail.

        With ``drop_after_headers`` the request is served (work starts, an interaction
        may be created), then the connection is cut after the 200 headers; ``status``
        is not used then. With ``streams_only`` only requests for an event stream count
        (``?stream=true`` or ``"stream": true``).
        """
        self._state.faults.append(
            Fault(
                status=status,
                remaining=count,
                methods=frozenset(m.upper() for m in methods),
                retry_after=retry_after,
                retry_after_ms=retry_after_ms,
                drop_after_headers=drop_after_headers,
                streams_only=streams_only,
            )
        )

    def reset(self) -> None:
        """Forget everything: requests, interactions, faults, tokens, rate window."""
        for record in self._state.records.values():
            record.stop()
        self._state = _State()

    # -- used by the HTTP layer ---------------------------------------------------------

    def record_request(self, request: RecordedRequest) -> None:
        self._state.requests.append(request)

    def take_fault(self, method: str, *, stream: bool = False) -> Fault | None:
        for fault in self._state.faults:
            if fault.streams_only and not stream:
                continue
            if method in fault.methods and fault.remaining > 0:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._state.faults.remove(fault)
                return fault
        return None

    def check_credentials(self, key: str | None, token: str | None) -> None:
        """An API key or a bearer access token must be present and, if configured, match."""
        if key:
            if self.config.api_key is not None and key != self.config.api_key:
                raise ApiError(401, "authentication", "API key not valid. Pass a valid API key.")
        elif token:
            if self.config.access_token is not None and token != self.config.access_token:
                raise ApiError(
                    401,
                    "authentication",
                    "Request had invalid authentication credentials; refresh the access token.",
                )
        else:
            raise ApiError(
                401,
                "authentication",
                "API key missing. Pass x-goog-api-key or an Authorization bearer token.",
            )

    def check_rate(self) -> None:
        limit = self.config.requests_per_minute
        if limit is None:
            return
        now, window = self.clock(), self._state.window
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) >= limit:
            wait = max(1, math.ceil(60 - (now - window[0])))
            raise ApiError(
                429,
                "rate_limit_exceeded",
                f"Rate limit of {limit} requests per minute exceeded; retry in {wait} s.",
                headers={"Retry-After": str(wait)},
            )
        window.append(now)

    def lookup(self, interaction_id: str, *, parent: str = "") -> Record:
        """A stored interaction under ``parent`` (a Vertex AI parent, or "" for the others)."""
        record = self._state.records.get(interaction_id)
        if record is None or record.parent != parent:
            raise not_found(f"Interaction '{interaction_id}' was not found.")
        return record

    async def create(self, body: Any, *, parent: str = "") -> Created:
        request = parse_create(body, self.config)
        if self.config.latency_ms > 0:
            await anyio.sleep(self.config.latency_ms / 1000)
        previous = None
        if request.previous_interaction_id is not None:
            previous = self.lookup(request.previous_interaction_id, parent=parent)
            if not previous.done:
                raise invalid(
                    f"Interaction '{previous.id}' is still {previous.status}.",
                    code="failed_precondition",
                )
        if request.continuation_token is not None:
            return self._continue(request, parent)
        call_names = self._check_results(request, previous)
        turns = (previous.turns if previous else 0) + count_turns(request.input_steps)
        context = input_chars(request.input_steps)
        if previous is not None:
            context += previous.context_chars + _output_chars(previous)
        if request.agent is not None:
            research = script_research(request, turns=turns, previous=previous, config=self.config)
            record = self._new_record(request, turns, context, parent)
            record.research_query = research.query
            record.research_kind = research.kind
            record.drop_after = research.drop_after
            self._start(record, research.plan)
            return Created(record, request)
        scripted = script_model(request, turns=turns, call_names=call_names, config=self.config)
        record = self._new_record(request, turns, context, parent)
        record.drop_after = scripted.drop_after
        if scripted.rest is not None:
            token = scripted.plan.fields["continuation_token"]
            self._state.tickets[token] = _Ticket(
                record.id,
                parent,
                scripted.rest,
                scripted.rest_status,
                turns,
                context,
                _digest(request.body.get("input")),
            )
        self._start(record, scripted.plan)
        return Created(record, request, scripted.unary_error)

    def cancel(self, interaction_id: str, *, parent: str = "") -> dict[str, Any]:
        record = self.lookup(interaction_id, parent=parent)
        if not record.background or record.done:
            raise invalid(
                "Only a running background interaction can be cancelled; "
                f"'{record.id}' is {record.status}"
                f"{'' if record.background else ' and not a background interaction'}.",
                code="failed_precondition",
            )
        record.finish("cancelled")
        if record.scope is not None:
            record.scope.cancel()
        return record.view(full=True)

    def delete(self, interaction_id: str, *, parent: str = "") -> None:
        record = self.lookup(interaction_id, parent=parent)
        del self._state.records[interaction_id]
        if not record.done:
            record.stop()

    async def tail(self, record: Record, after: int) -> AsyncIterator[dict[str, Any]]:
        """The events after the first ``after``, then live ones until the record is done."""
        index = after
        while True:
            while index < len(record.events):
                yield record.events[index]
                index += 1
            if record.done or self._closing:
                return
            await record.wait_beyond(index)

    # -- task management ------------------------------------------------------------------

    def attach(self, task_group: TaskGroup) -> None:
        """Run interactions on ``task_group`` (the app lifespan's)."""
        self._task_group = task_group
        self._closing = False

    def shutdown(self) -> None:
        """Stop all work and end every open stream."""
        self._closing = True
        for record in self._state.records.values():
            if not record.done:
                record.stop()
        self._task_group = None

    def _spawn(self, func: Callable[[], Coroutine[Any, Any, None]]) -> None:
        if self._task_group is not None:
            self._task_group.start_soon(func)
            return
        # In-process use without a lifespan (ASGITransport does not run one).
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError("Run the app's lifespan to serve interactions here.") from None
        task = loop.create_task(func())
        self._orphans.add(task)
        task.add_done_callback(self._orphans.discard)

    def _start(self, record: Record, plan: engine.RunPlan) -> None:
        record.emit(sse.created(record.interaction))
        record.emit(sse.status_update(record.interaction))

        async def work() -> None:
            try:
                await engine.run(record, plan)
            except Exception:  # the outermost boundary of a run: never kill the server
                logger.exception("emulated run of %s crashed", record.id)
                record.finish(
                    "failed",
                    fields={"errors": [{"code": "api_error", "message": "Emulator crashed."}]},
                )

        self._spawn(work)

    def _new_record(self, request: CreateRequest, turns: int, context: int, parent: str) -> Record:
        body = request.body
        stamp = now_iso()
        interaction: dict[str, Any] = {
            "id": "v1_" + secrets.token_hex(12),
            "object": "interaction",
            "status": "in_progress",
        }
        if request.model is not None:
            interaction["model"] = request.model
        else:
            interaction["agent"] = request.agent
        interaction.update(created=stamp, updated=stamp)
        if request.previous_interaction_id is not None:
            interaction["previous_interaction_id"] = request.previous_interaction_id
        for name in ECHO_FIELDS:
            if name in body:
                interaction[name] = copy.deepcopy(body[name])
        record = Record(
            interaction,
            input_steps=copy.deepcopy(request.input_steps),
            raw_input=copy.deepcopy(body.get("input")),
            stored=request.store,
            background=request.background,
            turns=turns,
            context_chars=context,
        )
        record.parent = parent
        record.input_tokens = max(1, tokens(context + len(request.system_instruction or "")))
        if request.store:
            self._state.records[record.id] = record
        return record

    def _continue(self, request: CreateRequest, parent: str) -> Created:
        token = request.continuation_token or ""
        ticket = self._state.tickets.get(token)
        if ticket is None or ticket.parent != parent:
            raise invalid("The continuation_token is not valid or has already been used.")
        owner = request.previous_interaction_id
        if owner is not None and owner != ticket.owner:
            raise invalid(f"The continuation_token does not belong to interaction '{owner}'.")
        if request.has_input and _digest(request.body["input"]) != ticket.input_digest:
            raise invalid("The continuation_token was issued for a different input.")
        del self._state.tickets[token]  # a token resumes once
        request.input_steps = []
        record = self._new_record(request, ticket.turns, ticket.context_chars, parent)
        record.raw_input = None
        self._start(record, continuation_plan(ticket.rest, self.config, ticket.status))
        return Created(record, request)

    @staticmethod
    def _check_results(request: CreateRequest, previous: Record | None) -> dict[str, str]:
        """Names of the calls function results may answer; unknown call ids are a 400."""
        calls = [s for s in request.input_steps if s["type"] == "function_call"]
        if previous is not None:
            calls += [s for s in previous.model_steps if s["type"] == "function_call"]
        names = {str(c.get("id")): str(c.get("name")) for c in calls}
        for step in request.input_steps:
            if step["type"] == "function_result" and step["call_id"] not in names:
                raise invalid(
                    f"function_result call_id '{step['call_id']}' does not match any "
                    "function_call of this conversation."
                )
        return names


def _digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _output_chars(record: Record) -> int:
    return sum(
        len(block.get("text", ""))
        for step in record.model_steps
        for block in step.get("content", [])
        if isinstance(block, dict)
    )

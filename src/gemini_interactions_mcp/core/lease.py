"""Holding a conversation for one turn, so two turns can never fork its chain.

In one process a second turn waits for the first (a lock per conversation); across processes
sharing a store, a lease in the record, taken by compare-and-set, makes the second one "busy".
While held, each write of the turn starts from the copy this call last wrote, and the turn's
last write releases the lease with it (one store round trip fewer).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio

from ..state.base import Store, StoreLockedError, mutate
from ..state.records import ConversationRecord, Lease
from .call import STOPPING, Call
from .errors import ConversationBusy, ToolError, UnknownHandle

if TYPE_CHECKING:
    # Only a type here: the context's limits use this module.
    from .context import ServerContext

__all__ = [
    "INTERRUPTED",
    "ORPHAN_GRACE",
    "Held",
    "abandoned",
    "hold",
    "hold_new",
    "recover",
    "start_cut_short",
]

# A lease outlives its call's budget by this much, so a slow final write still finds it held.
LEASE_MARGIN = 30.0
# A write of a turn under way records work Gemini is doing (or did): when another process holds
# the store locked it is tried again, every so often, for this long.
PERSIST_SECONDS = 20.0
_PERSIST_PAUSE = 0.25
TAKEN_OVER = (
    "Another server took this conversation's turn over (it found this one unresponsive); "
    "collect the answer with gemini_continue and no prompt."
)
TAKEN_OVER_UNRECORDED = (
    "Another server took this conversation over (it found this one unresponsive) before this "
    "prompt was recorded; collect what that server recorded with gemini_continue and no "
    "prompt, then send the prompt again."
)

Change = Callable[[ConversationRecord], ConversationRecord | None]


class Held:
    """A record this call holds: the copy it last wrote, and writes that keep it current."""

    def __init__(self, store: Store, record: ConversationRecord, token: str, server: ServerContext):
        self.store = store
        self.record = record
        self.token = token
        self.released = False
        self.lost = False  # another process took the record over
        self._clock = server.clock

    @property
    def id(self) -> str:
        return self.record.id

    async def write(
        self, change: Change, *, release: bool = False, taken_over: str = TAKEN_OVER
    ) -> ConversationRecord | None:
        """Apply `change` (compare-and-set); with `release`, drop this call's lease in the same
        write. Returns the stored record, or None if it was forgotten meanwhile. Refused with
        `taken_over` when another process holds the record now."""
        token = self.token
        lost = False

        def apply(current: ConversationRecord) -> ConversationRecord | None:
            nonlocal lost
            # Only while this call still holds the turn: another process may have taken it
            # over (believing this one gone), and its writes must not be undone.
            lost = not _holds(current, token)
            if lost:
                return None
            changed = change(current)
            if release and changed is not None:
                changed.lease = None
            return changed

        stored = await _persisting(
            lambda: mutate(
                self.store, self.record.owner, self.id, apply, clock=self._clock, known=self.record
            )
        )
        if lost:
            self.released = self.lost = True
            raise ToolError(taken_over)
        if stored is not None:
            self.record = stored
            if release and stored.lease is None:
                self.released = True
        return stored

    async def release(self) -> None:
        """Drop the lease if a final write has not already (shielded: it must happen)."""
        if self.released:
            return
        token = self.token

        def drop(current: ConversationRecord) -> ConversationRecord | None:
            if not _holds(current, token):
                return None
            current.lease = None
            return current

        with anyio.CancelScope(shield=True):
            await _persisting(
                lambda: mutate(
                    self.store, self.record.owner, self.id, drop, clock=None, known=self.record
                )
            )
        self.released = True


async def _persisting(
    write: Callable[[], Awaitable[ConversationRecord | None]],
) -> ConversationRecord | None:
    """`write`, tried again while the store is locked by another process (for a while)."""
    give_up = anyio.current_time() + PERSIST_SECONDS
    while True:
        try:
            return await write()
        except StoreLockedError:
            if anyio.current_time() >= give_up:
                raise
            await anyio.sleep(_PERSIST_PAUSE)


def _holds(record: ConversationRecord, token: str) -> bool:
    return record.lease is not None and record.lease.token == token


def _lease(server: ServerContext, token: str) -> Lease:
    return Lease(
        token=token,
        until=server.clock() + server.settings.call_budget + LEASE_MARGIN,
        holder=server.holder,
    )


def abandoned(lease: Lease | None, server: ServerContext, now: float) -> bool:
    """True for a lease nobody holds any more: expired, or its process is gone."""
    return lease is not None and (lease.until <= now or server.holder_gone(lease.holder))


# How long a research start may take before a record with no upstream id counts as lost.
ORPHAN_GRACE = 300.0


def start_cut_short(record: ConversationRecord, server: ServerContext, now: float) -> bool:
    """True for a research whose start was cut short (its server died, say) before Gemini's
    answer was recorded: it has no run to follow and never will."""
    state = record.research
    if state is None or state.interaction_id is not None or not state.active:
        return False
    if record.lease is not None:
        return abandoned(record.lease, server, now)
    return now - record.created_at >= ORPHAN_GRACE  # an older release kept no lease


#: The status of a turn whose server stopped before Gemini confirmed it.
INTERRUPTED = "interrupted"


def recover(record: ConversationRecord) -> None:
    """A turn whose call stopped holding the record (its server died): one that Gemini had
    confirmed stays pending and can be collected; one it had not is marked interrupted."""
    chain = record.chain
    if chain.pending is None and chain.status == "in_progress":
        chain.status = INTERRUPTED


def busy(conversation_id: str) -> ConversationBusy:
    return ConversationBusy(
        f"Conversation {conversation_id} is busy with another turn; try again shortly."
    )


@asynccontextmanager
async def _locked(server: ServerContext, call: Call, conversation_id: str) -> AsyncIterator[None]:
    lock = server.conversation_lock(conversation_id)
    with call.within() as waited:
        await lock.acquire()
    if waited.cancelled_caught:
        # Nothing was sent for this call yet: when the server stops, it is simply refused.
        raise ToolError(STOPPING) if call.stopping else busy(conversation_id)
    try:
        yield
    finally:
        lock.release()


@asynccontextmanager
async def hold(
    server: ServerContext, call: Call, record: ConversationRecord
) -> AsyncIterator[Held]:
    """Hold an existing conversation for one turn (`record` as the caller last read it)."""
    async with _locked(server, call, record.id):
        store = await server.store()
        token = secrets.token_hex(8)
        now = server.clock()

        def take(current: ConversationRecord) -> ConversationRecord:
            lease = current.lease
            if lease is not None and lease.token != token:
                if not abandoned(lease, server, now):
                    raise busy(current.id)
                recover(current)
            current.lease = _lease(server, token)
            return current

        taken = await mutate(store, call.owner, record.id, take, clock=None, known=record)
        if taken is None:
            raise UnknownHandle(f"Unknown conversation_id {record.id!r}.")
        held = Held(store, taken, token, server)
        try:
            yield held
        finally:
            await held.release()


@asynccontextmanager
async def hold_new(
    server: ServerContext, call: Call, record: ConversationRecord
) -> AsyncIterator[Held]:
    """Store a new record already held by this call (one write instead of two)."""
    async with _locked(server, call, record.id):
        store = await server.store()
        token = secrets.token_hex(8)
        leased = record.model_copy(update={"lease": _lease(server, token)})
        await store.insert(leased)
        held = Held(store, leased, token, server)
        try:
            yield held
        finally:
            await held.release()

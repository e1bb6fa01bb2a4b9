"""The store contract every backend honours, and helpers.

Exceptions::

    StoreError                  the store cannot do what was asked (not open, I/O, bad spec)
    ├── DuplicateHandleError    insert() of an id that already exists, for any owner
    ├── CorruptRecordError      a stored record cannot be read (it can still be deleted)
    └── StoreConflictError      mutate() lost the compare-and-set race too many times
"""

from __future__ import annotations

import builtins
import random
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import anyio

from .records import ConversationRecord, Kind

__all__ = [
    "SERVER",
    "CorruptRecordError",
    "DuplicateHandleError",
    "Listing",
    "Store",
    "StoreConflictError",
    "StoreError",
    "mutate",
    "new_handle",
]


#: The owner under which spend of the whole server is counted.
SERVER = "*"


class StoreError(Exception):
    """The store cannot do what was asked."""


class DuplicateHandleError(StoreError):
    """A record with this id already exists."""


class CorruptRecordError(StoreError):
    """A stored record cannot be read; deleting it by id still works."""

    def __init__(self, id: str, reason: str) -> None:
        super().__init__(
            f"the stored record {id} cannot be read ({reason}); forget it with "
            f"gemini_conversations(forget={id!r})"
        )
        self.id = id


class Listing(builtins.list[ConversationRecord]):
    """Records in order, and the ids of the stored ones that could not be read (left out)."""

    def __init__(
        self,
        records: Iterable[ConversationRecord] = (),
        unreadable: Iterable[str] = (),
    ) -> None:
        super().__init__(records)
        self.unreadable = builtins.list(unreadable)


class StoreLockedError(StoreError):
    """Another process holds the store's write lock longer than the store waits for it; the
    same write may well go through a moment later."""


class StoreConflictError(StoreError):
    """A record kept changing under `mutate` until it gave up."""


class Store(Protocol):
    """Async persistence of conversation records, scoped by owner.

    A record of another owner is indistinguishable from a missing one, so a handle
    leaked to someone else reveals nothing.
    """

    async def open(self) -> None:
        """Acquire resources (files, connections); call once before use."""
        ...

    async def close(self) -> None:
        """Release resources; safe to call twice."""
        ...

    async def insert(self, record: ConversationRecord) -> None:
        """Store a new record; `DuplicateHandleError` if its id exists for any owner."""
        ...

    async def get(self, owner: str, id: str) -> ConversationRecord | None:
        """The record, or None when unknown or owned by someone else; `CorruptRecordError`
        when it is stored but cannot be read."""
        ...

    async def update(
        self, record: ConversationRecord, *, expected_version: int
    ) -> ConversationRecord | None:
        """Compare-and-set: store `record` with version `expected_version + 1`.

        Returns the stored record, or None if the stored version differs or the
        record is gone.
        """
        ...

    async def delete(self, owner: str, id: str) -> bool:
        """Forget a record; False if there was nothing (visible) to delete."""
        ...

    async def list(self, owner: str, *, limit: int = 20, kind: Kind | None = None) -> Listing:
        """The owner's records, most recently updated first (ties: higher id first); stored
        records that cannot be read are left out and named in `Listing.unreadable`."""
        ...

    async def latest(self, owner: str, *, kind: Kind | None = "chat") -> ConversationRecord | None:
        """The owner's most recently updated record of `kind` (any kind if None)."""
        ...

    async def active_research(self) -> builtins.list[ConversationRecord]:
        """Research records still queued or running, for every owner, oldest first."""
        ...

    async def purge(self, *, older_than: float) -> int:
        """Delete records last updated before `older_than`; return how many."""
        ...

    async def add_spend(self, owner: str, usd: float, *, periods: Sequence[str]) -> None:
        """Add `usd` to the owner's and the whole server's totals of each period (atomic)."""
        ...

    async def spend(self, owner: str, *, periods: Sequence[str]) -> builtins.list[float]:
        """The owner's totals of `periods` (owner ``*``: the whole server's), in order."""
        ...


def new_handle(prefix: str) -> str:
    """A fresh unguessable handle such as ``c_…`` (192 random bits)."""
    return prefix + secrets.token_urlsafe(24)


async def mutate(
    store: Store,
    owner: str,
    id: str,
    change: Callable[[ConversationRecord], ConversationRecord | None],
    *,
    attempts: int = 20,
    clock: Callable[[], float] | None = time.time,
    known: ConversationRecord | None = None,
) -> ConversationRecord | None:
    """Apply `change` to a record atomically, retrying when another writer got there first.

    `change` receives a private copy and returns the new record, or None to leave it as
    it is. It may run several times, so it must not have side effects. Unless `clock` is
    None, the new record's `updated_at` is stamped with `clock()`. Returns the stored
    record, None if the record does not exist (for this owner). `known`, a copy the
    caller believes current, saves the first read; a stale one only costs a retry.
    """
    for attempt in range(attempts):
        if attempt:
            # Random, growing pauses spread out writers that keep colliding, so one
            # of them gets through instead of all retrying in lockstep.
            await anyio.sleep(random.uniform(0, min(0.001 * 2**attempt, 0.05)))
        current = known if attempt == 0 and known is not None else await store.get(owner, id)
        if current is None:
            return None
        changed = change(current.model_copy(deep=True))
        if changed is None:
            return current
        if (changed.owner, changed.id) != (owner, id):
            raise ValueError("a change passed to mutate() may not alter the owner or id")
        if clock is not None:
            changed.updated_at = clock()
        stored = await store.update(changed, expected_version=current.version)
        if stored is not None:
            return stored
    raise StoreConflictError(f"conversation {id} kept changing; gave up after {attempts} attempts")

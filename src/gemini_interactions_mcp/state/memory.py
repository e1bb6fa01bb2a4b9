"""In-process store: nothing survives the process; for tests and throwaway runs."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

import anyio

from .base import SERVER, DuplicateHandleError, Listing, StoreError
from .codec import dump_record, parse_record
from .records import ConversationRecord, Kind

__all__ = ["MemoryStore"]


def _copy(record: ConversationRecord) -> ConversationRecord:
    # A JSON round trip, not model_copy: callers cannot alias stored state, and values
    # that a persistent backend could not store fail here too, so the backends agree.
    return parse_record(dump_record(record))


def _recency(record: ConversationRecord) -> tuple[float, str]:
    return (record.updated_at, record.id)


class MemoryStore:
    """A dict of records behind a lock."""

    def __init__(self) -> None:
        self._records: dict[str, ConversationRecord] = {}
        self._spend: dict[tuple[str, str], float] = {}
        self._lock = anyio.Lock()
        self._open = False

    async def open(self) -> None:
        """Make the store usable."""
        self._open = True

    async def close(self) -> None:
        """Refuse further use; the records stay for a later `open`."""
        self._open = False

    def _check_open(self) -> None:
        if not self._open:
            raise StoreError("the memory store is not open")

    async def insert(self, record: ConversationRecord) -> None:
        """Store a new record; `DuplicateHandleError` if its id exists."""
        self._check_open()
        async with self._lock:
            if record.id in self._records:
                raise DuplicateHandleError(f"a conversation with id {record.id} already exists")
            self._records[record.id] = _copy(record)

    async def get(self, owner: str, id: str) -> ConversationRecord | None:
        """The owner's record, or None."""
        self._check_open()
        async with self._lock:
            found = self._records.get(id)
            return _copy(found) if found is not None and found.owner == owner else None

    async def update(
        self, record: ConversationRecord, *, expected_version: int
    ) -> ConversationRecord | None:
        """Compare-and-set on (owner, id, version)."""
        self._check_open()
        async with self._lock:
            found = self._records.get(record.id)
            if found is None or found.owner != record.owner or found.version != expected_version:
                return None
            stored = _copy(record)
            stored.version = expected_version + 1
            self._records[record.id] = stored
            return _copy(stored)

    async def delete(self, owner: str, id: str) -> bool:
        """Forget the owner's record."""
        self._check_open()
        async with self._lock:
            found = self._records.get(id)
            if found is None or found.owner != owner:
                return False
            del self._records[id]
            return True

    async def list(self, owner: str, *, limit: int = 20, kind: Kind | None = None) -> Listing:
        """The owner's records, most recently updated first."""
        self._check_open()
        async with self._lock:
            mine = [
                r
                for r in self._records.values()
                if r.owner == owner and (kind is None or r.kind == kind)
            ]
            mine.sort(key=_recency, reverse=True)
            return Listing(_copy(r) for r in mine[: max(limit, 0)])

    async def latest(self, owner: str, *, kind: Kind | None = "chat") -> ConversationRecord | None:
        """The owner's most recently updated record of `kind`."""
        found = await self.list(owner, limit=1, kind=kind)
        return found[0] if found else None

    async def active_research(self) -> builtins.list[ConversationRecord]:
        """Queued or running research of every owner, oldest first."""
        self._check_open()
        async with self._lock:
            active = [r for r in self._records.values() if r.is_active_research]
            active.sort(key=lambda r: (r.created_at, r.id))
            return [_copy(r) for r in active]

    async def purge(self, *, older_than: float) -> int:
        """Delete records last updated before `older_than`."""
        self._check_open()
        async with self._lock:
            stale = [id for id, r in self._records.items() if r.updated_at < older_than]
            for id in stale:
                del self._records[id]
            return len(stale)

    async def add_spend(self, owner: str, usd: float, *, periods: Sequence[str]) -> None:
        """Add to the owner's and the server's totals."""
        self._check_open()
        async with self._lock:
            for who in {owner, SERVER}:
                for period in periods:
                    self._spend[(who, period)] = self._spend.get((who, period), 0.0) + usd

    async def spend(self, owner: str, *, periods: Sequence[str]) -> builtins.list[float]:
        """The owner's totals of `periods`."""
        self._check_open()
        async with self._lock:
            return [self._spend.get((owner, period), 0.0) for period in periods]

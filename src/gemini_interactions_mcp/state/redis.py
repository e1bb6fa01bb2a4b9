"""Redis store: shared state for several HTTP replicas of the server.

Layout (every key starts with the prefix, which holds a hash tag so that all keys share
one cluster slot and the Lua scripts may touch them together)::

    rec:<id>                    hash: owner, kind, version, body (the record as JSON)
    owner:<owner>               sorted set of the owner's ids by updated_at
    kind:<kind>:owner:<owner>   the same, for one kind
    updated                     sorted set of every id by updated_at (for purge)
    active                      set of ids of queued or running research
    schema                      the layout version (absent: the first one)
    spend:<owner>               hash: period -> estimated USD (owner * is the whole server)

Each write is one Lua script, so the record and its indexes change atomically and the
compare-and-set on the version cannot interleave with another writer. Opening the store
upgrades bodies of the first schema in place (each with a compare-and-set, so replicas that
open together do no harm); a body of the first schema still reads correctly meanwhile.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from .base import SERVER, DuplicateHandleError, Listing, StoreError
from .codec import dump_record, is_first_schema, parse_record, read_listing, read_record
from .records import ConversationRecord, Kind

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

__all__ = ["DEFAULT_PREFIX", "SCHEMA_VERSION", "RedisStore"]

DEFAULT_PREFIX = "{gemini-interactions-mcp}:"
SCHEMA_VERSION = 2
_PURGE_BATCH = 500  # ids per purge script run, so one run never blocks Redis for long

# ARGV: prefix, id, owner, kind, version, updated_at, body, active
_INSERT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local p, id, owner, kind = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call('HSET', KEYS[1], 'owner', owner, 'kind', kind, 'version', ARGV[5], 'body', ARGV[7])
redis.call('ZADD', p .. 'owner:' .. owner, ARGV[6], id)
redis.call('ZADD', p .. 'kind:' .. kind .. ':owner:' .. owner, ARGV[6], id)
redis.call('ZADD', p .. 'updated', ARGV[6], id)
if ARGV[8] == '1' then redis.call('SADD', p .. 'active', id) end
return 1
"""

# ARGV: prefix, id, owner, kind, expected_version, new_version, updated_at, body, active
_UPDATE = """
local p, id, owner, kind = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cur = redis.call('HMGET', KEYS[1], 'owner', 'version', 'kind')
if cur[1] ~= owner or cur[2] ~= ARGV[5] then return 0 end
if cur[3] ~= kind then redis.call('ZREM', p .. 'kind:' .. cur[3] .. ':owner:' .. owner, id) end
redis.call('HSET', KEYS[1], 'kind', kind, 'version', ARGV[6], 'body', ARGV[8])
redis.call('ZADD', p .. 'owner:' .. owner, ARGV[7], id)
redis.call('ZADD', p .. 'kind:' .. kind .. ':owner:' .. owner, ARGV[7], id)
redis.call('ZADD', p .. 'updated', ARGV[7], id)
if ARGV[9] == '1' then
  redis.call('SADD', p .. 'active', id)
else
  redis.call('SREM', p .. 'active', id)
end
return 1
"""

# ARGV: prefix, id, owner
_DELETE = """
local p, id, owner = ARGV[1], ARGV[2], ARGV[3]
local cur = redis.call('HMGET', KEYS[1], 'owner', 'kind')
if cur[1] ~= owner then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', p .. 'owner:' .. owner, id)
redis.call('ZREM', p .. 'kind:' .. cur[2] .. ':owner:' .. owner, id)
redis.call('ZREM', p .. 'updated', id)
redis.call('SREM', p .. 'active', id)
return 1
"""

# ARGV: expected version, new body (the version does not change: the record means the same)
_REWRITE = """
if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'body', ARGV[2])
return 1
"""

# ARGV: prefix, older_than, batch size
_PURGE = """
local p = ARGV[1]
local ids = redis.call('ZRANGEBYSCORE', p .. 'updated', '-inf', '(' .. ARGV[2], 'LIMIT', 0, ARGV[3])
for _, id in ipairs(ids) do
  local key = p .. 'rec:' .. id
  local cur = redis.call('HMGET', key, 'owner', 'kind')
  redis.call('DEL', key)
  if cur[1] then
    redis.call('ZREM', p .. 'owner:' .. cur[1], id)
    redis.call('ZREM', p .. 'kind:' .. cur[2] .. ':owner:' .. cur[1], id)
  end
  redis.call('ZREM', p .. 'updated', id)
  redis.call('SREM', p .. 'active', id)
end
return #ids
"""


def _is_active(record: ConversationRecord) -> str:
    return "1" if record.is_active_research else "0"


@contextmanager
def _translated(url: str) -> Iterator[None]:
    from redis.exceptions import RedisError

    try:
        yield
    except RedisError as exc:
        raise StoreError(f"state store {url}: {exc}") from exc


class RedisStore:
    """Records in Redis, shared by every replica that uses the same URL and prefix."""

    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX) -> None:
        self.url = url
        self.prefix = prefix
        self._client: Redis | None = None
        self._scripts: dict[str, AsyncScript] = {}

    async def open(self) -> None:
        """Connect and check that the server answers."""
        if self._client is not None:
            return
        try:
            from redis.asyncio import Redis
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise StoreError(
                "the Redis store needs the redis package: install the server with its redis "
                "extra (from a checkout: pip install '.[redis]')"
            ) from exc
        from redis.exceptions import RedisError

        try:
            client = Redis.from_url(self.url, decode_responses=True)
        except ValueError as exc:
            raise StoreError(f"the Redis URL {self.url} is not valid: {exc}") from exc
        try:
            await client.ping()
        except RedisError as exc:
            await client.aclose()
            raise StoreError(
                f"cannot reach the Redis state store at {self.url} ({exc}); check that Redis "
                "runs there and the URL is right"
            ) from exc
        except BaseException:
            await client.aclose()
            raise
        self._client = client
        self._scripts = {
            name: client.register_script(source)
            for name, source in (
                ("insert", _INSERT),
                ("update", _UPDATE),
                ("delete", _DELETE),
                ("purge", _PURGE),
                ("rewrite", _REWRITE),
            )
        }
        try:
            await self._migrate()
        except BaseException:
            await self.close()
            raise

    async def _migrate(self) -> None:
        """Bring bodies written by the first schema up to today's, then record the version."""
        client = self._connected()
        with _translated(self.url):
            found = await client.get(self.prefix + "schema")
        version = int(found) if found else 1
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.url} was written by a newer gemini-interactions-mcp (schema {version}, "
                f"this one knows {SCHEMA_VERSION}); upgrade, or use another key prefix"
            )
        if version == SCHEMA_VERSION:
            return
        start = 0
        while True:
            with _translated(self.url):
                ids = cast(
                    "list[str]",
                    await client.zrange(self.prefix + "updated", start, start + _PURGE_BATCH - 1),
                )
            for id in ids:
                await self._upgrade(id)
            if len(ids) < _PURGE_BATCH:
                break
            start += _PURGE_BATCH
        with _translated(self.url):
            await client.set(self.prefix + "schema", SCHEMA_VERSION)

    async def _upgrade(self, id: str) -> None:
        client = self._connected()
        while True:
            with _translated(self.url):
                version, body = await client.hmget(self._key(id), ["version", "body"])
            if body is None or not is_first_schema(body):
                return
            try:
                record = parse_record(body)
            except ValueError:
                # Left as it is: listings leave it out and name it, and it can be forgotten.
                return
            if await self._script(
                "rewrite", self._key(id), [version, dump_record(record)], raw=True
            ):
                return

    async def close(self) -> None:
        """Disconnect; safe to call twice."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def _connected(self) -> Redis:
        if self._client is None:
            raise StoreError(f"the state store {self.url} is not open")
        return self._client

    async def _script(
        self, name: str, key: str, args: builtins.list[Any], *, raw: bool = False
    ) -> int:
        self._connected()
        # Most scripts take the prefix first; `raw` ones only their own arguments.
        argv = args if raw else [self.prefix, *args]
        with _translated(self.url):
            return int(await self._scripts[name](keys=[key], args=argv))

    def _key(self, id: str) -> str:
        return f"{self.prefix}rec:{id}"

    async def _bodies(self, ids: builtins.list[str]) -> Listing:
        client = self._connected()
        if not ids:
            return Listing()
        with _translated(self.url):
            async with client.pipeline(transaction=False) as pipe:
                for id in ids:
                    pipe.hget(self._key(id), "body")
                bodies = await pipe.execute()
        # A record deleted between reading the index and its body is simply skipped.
        return read_listing((id, body) for id, body in zip(ids, bodies, strict=True) if body)

    async def insert(self, record: ConversationRecord) -> None:
        """Store a new record; `DuplicateHandleError` if its id exists."""
        args = [
            record.id,
            record.owner,
            record.kind,
            record.version,
            repr(record.updated_at),
            dump_record(record),
            _is_active(record),
        ]
        if not await self._script("insert", self._key(record.id), args):
            raise DuplicateHandleError(f"a conversation with id {record.id} already exists")

    async def get(self, owner: str, id: str) -> ConversationRecord | None:
        """The owner's record, or None."""
        client = self._connected()
        with _translated(self.url):
            stored_owner, body = await client.hmget(self._key(id), ["owner", "body"])
        if stored_owner != owner or body is None:
            return None
        return read_record(id, body)

    async def update(
        self, record: ConversationRecord, *, expected_version: int
    ) -> ConversationRecord | None:
        """Compare-and-set on (owner, id, version)."""
        stored = record.model_copy(update={"version": expected_version + 1}, deep=True)
        args = [
            record.id,
            record.owner,
            record.kind,
            expected_version,
            stored.version,
            repr(record.updated_at),
            dump_record(stored),
            _is_active(record),
        ]
        return stored if await self._script("update", self._key(record.id), args) else None

    async def delete(self, owner: str, id: str) -> bool:
        """Forget the owner's record."""
        return bool(await self._script("delete", self._key(id), [id, owner]))

    async def list(self, owner: str, *, limit: int = 20, kind: Kind | None = None) -> Listing:
        """The owner's records, most recently updated first."""
        client = self._connected()
        if limit <= 0:
            return Listing()
        index = f"owner:{owner}" if kind is None else f"kind:{kind}:owner:{owner}"
        with _translated(self.url):
            # decode_responses=True: members come back as str, not bytes.
            ids = cast("list[str]", await client.zrevrange(self.prefix + index, 0, limit - 1))
        return await self._bodies(ids)

    async def latest(self, owner: str, *, kind: Kind | None = "chat") -> ConversationRecord | None:
        """The owner's most recently updated record of `kind`."""
        found = await self.list(owner, limit=1, kind=kind)
        return found[0] if found else None

    async def active_research(self) -> builtins.list[ConversationRecord]:
        """Queued or running research of every owner, oldest first."""
        client = self._connected()
        with _translated(self.url):
            ids = cast("set[str]", await client.smembers(self.prefix + "active"))
        records = await self._bodies(sorted(ids))
        return Listing(sorted(records, key=lambda r: (r.created_at, r.id)), records.unreadable)

    async def purge(self, *, older_than: float) -> int:
        """Delete records last updated before `older_than`."""
        total = 0
        while True:
            deleted = await self._script(
                "purge", self.prefix + "updated", [repr(older_than), _PURGE_BATCH]
            )
            total += deleted
            if deleted < _PURGE_BATCH:
                return total

    async def add_spend(self, owner: str, usd: float, *, periods: Sequence[str]) -> None:
        """Add to the owner's and the server's totals (one atomic transaction)."""
        client = self._connected()
        with _translated(self.url):
            async with client.pipeline(transaction=True) as pipe:
                for who in {owner, SERVER}:
                    for period in periods:
                        pipe.hincrbyfloat(f"{self.prefix}spend:{who}", period, usd)
                await pipe.execute()

    async def spend(self, owner: str, *, periods: Sequence[str]) -> builtins.list[float]:
        """The owner's totals of `periods`."""
        client = self._connected()
        with _translated(self.url):
            found = await client.hmget(f"{self.prefix}spend:{owner}", list(periods))
        return [float(value) if value is not None else 0.0 for value in found]

"""What only the Redis backend needs to prove: sharing a server, connection failures."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from gemini_interactions_mcp.state import redis as redis_backend
from gemini_interactions_mcp.state.base import StoreError
from gemini_interactions_mcp.state.codec import is_first_schema
from gemini_interactions_mcp.state.redis import RedisStore

from .helpers import V1_LINES, check_first_schema_records, make_record

pytestmark = pytest.mark.anyio

_prefixes = itertools.count()


@pytest.fixture
def prefix() -> str:
    return f"{{redis-test-{next(_prefixes)}}}:"


async def test_two_stores_on_one_server_respect_compare_and_set(
    redis_url: str, prefix: str
) -> None:
    left, right = RedisStore(redis_url, prefix=prefix), RedisStore(redis_url, prefix=prefix)
    await left.open()
    await right.open()
    await right.open()  # a second open is a no-op
    try:
        await left.insert(make_record("c_1"))
        assert await right.update(make_record("c_1", title="right"), expected_version=0)
        assert await left.update(make_record("c_1", title="left"), expected_version=0) is None
        stored = await left.get("alice", "c_1")
        assert stored is not None and stored.title == "right"
    finally:
        await left.close()
        await right.close()


async def test_purge_works_through_many_batches(
    redis_url: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_backend, "_PURGE_BATCH", 2)
    store = RedisStore(redis_url, prefix=prefix)
    await store.open()
    try:
        for i in range(5):
            await store.insert(make_record(f"c_{i}", at=float(i)))
        assert await store.purge(older_than=4.0) == 4
        assert [r.id for r in await store.list("alice")] == ["c_4"]
    finally:
        await store.close()


async def test_an_unreachable_server_raises_store_error(tmp_path: Path) -> None:
    store = RedisStore(f"unix://{tmp_path / 'nobody.sock'}")
    with pytest.raises(StoreError, match=r"nobody\.sock"):
        await store.open()
    await store.close()


async def _write_first_schema(redis_url: str, prefix: str) -> None:
    """The first schema's layout: each record's JSON body beside its indexes, no version key."""
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url, decode_responses=True)
    try:
        for line in V1_LINES.read_text().splitlines():
            raw = json.loads(line)
            id, owner, kind = raw["id"], raw["owner"], raw["kind"]
            await client.hset(
                f"{prefix}rec:{id}",
                mapping={"owner": owner, "kind": kind, "version": raw["version"], "body": line},
            )
            await client.zadd(f"{prefix}owner:{owner}", {id: raw["updated_at"]})
            await client.zadd(f"{prefix}kind:{kind}:owner:{owner}", {id: raw["updated_at"]})
            await client.zadd(f"{prefix}updated", {id: raw["updated_at"]})
    finally:
        await client.aclose()


async def test_records_of_the_first_schema_are_upgraded_on_open(
    redis_url: str, prefix: str
) -> None:
    await _write_first_schema(redis_url, prefix)
    store = RedisStore(redis_url, prefix=prefix)
    await store.open()
    try:
        records = {r.id: r for r in await store.list("local", limit=50)}
        check_first_schema_records(records)
        client = store._connected()
        assert await client.get(prefix + "schema") == str(redis_backend.SCHEMA_VERSION)
        for id in records:
            body = await client.hget(f"{prefix}rec:{id}", "body")
            assert body is not None and not is_first_schema(body)
    finally:
        await store.close()


async def test_a_store_written_by_a_newer_release_is_refused(redis_url: str, prefix: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url, decode_responses=True)
    await client.set(prefix + "schema", redis_backend.SCHEMA_VERSION + 1)
    await client.aclose()
    store = RedisStore(redis_url, prefix=prefix)
    with pytest.raises(StoreError, match="newer"):
        await store.open()

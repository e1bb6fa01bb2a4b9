"""What only the Redis backend needs to prove: sharing a server, connection failures."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from gemini_interactions_mcp.state import RedisStore, StoreError
from gemini_interactions_mcp.state import redis as redis_backend
from tests.state.conftest import make_record

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

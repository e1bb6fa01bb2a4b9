"""With a Redis store every server process beats: a turn held by a replica on another host whose
heartbeat stopped is taken over at once, while a beating (or unknown) one is still waited for."""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest
from mcp import Client

from gemini_interactions_mcp.core.context import ServerContext
from gemini_interactions_mcp.core.liveness import Liveness
from gemini_interactions_mcp.server import build_server
from gemini_interactions_mcp.state.heartbeats import RedisHeartbeats
from gemini_interactions_mcp.state.records import Chain, ConversationRecord, Lease
from gemini_interactions_mcp.state.redis import RedisStore
from tests.reliability import fault

from .helpers import error, ok

pytestmark = pytest.mark.anyio

DEAD = "elsewhere.example/101/0123456789ab"
BEATING = "elsewhere.example/102/0123456789ab"
UNHEARD = "elsewhere.example/103/0123456789ab"


def held_by(holder: str, now: float) -> ConversationRecord:
    return ConversationRecord(
        id=f"c_{holder.split('/')[1]}",
        owner="local",
        title="held elsewhere",
        model="gemini-3-flash-preview",
        chain=Chain(status="in_progress"),
        lease=Lease(token="t", until=now + 3600, holder=holder),
        created_at=now,
        updated_at=now,
    )


async def heard_of(beats: RedisHeartbeats, holder: str) -> dict[str, float]:
    """Every process's heartbeat, once `holder`'s is among them."""
    while True:
        # A beat of a process long gone (zero) only to read the set; it names no real holder.
        heard = await beats.beat("reader/0/0", 0.0, forget_before=-1.0) or {}
        if holder in heard:
            return heard
        await anyio.sleep(0.1)


@fault(
    "process",
    "a replica on another host dies holding a turn (Redis store)",
    sees=(
        "within 20 s of its last heartbeat the next call takes the turn over (reported as "
        "interrupted); a replica that still beats keeps its turn (busy)"
    ),
    kept="the conversation; its next prompt continues it",
)
async def test_a_turn_of_a_replica_whose_heartbeat_stopped_is_taken_over_at_once(
    make_settings: Any, redis_url: str
) -> None:
    url = f"{redis_url}?db=6"
    now = time.time()
    store = RedisStore(url)
    await store.open()
    beats = RedisHeartbeats(url)
    try:
        for holder in (DEAD, BEATING, UNHEARD):
            await store.insert(held_by(holder, now))
        await beats.beat(DEAD, now - 1, forget_before=0.0)
        await beats.beat(BEATING, now + 3600, forget_before=0.0)
        server = build_server(make_settings(state=url))
        async with Client(server) as client:
            assert server.running is not None
            with anyio.fail_after(30):
                heard = await heard_of(beats, server.running.holder)
            assert heard[server.running.holder] > time.time()  # it beats while it serves
            taken = ok(
                await client.call_tool(
                    "gemini_continue", {"conversation_id": "c_101", "prompt": "carry on"}
                )
            )
            busy = [
                error(
                    await client.call_tool(
                        "gemini_continue", {"conversation_id": cid, "prompt": "me too"}
                    )
                )
                for cid in ("c_102", "c_103")
            ]
            me = server.running.holder
        # Stopped cleanly: its heartbeat says at once that it is gone.
        with anyio.fail_after(30):
            after = await heard_of(beats, me)
        assert after[me] <= time.time()
    finally:
        await beats.aclose()
        await store.close()
    assert taken["status"] == "completed" and "carry on" in taken["text"]
    assert all("busy with another turn" in message for message in busy)


class Heard:
    """Heartbeats as Redis would return them: one process silent, one beating."""

    def __init__(self, now: float) -> None:
        self.now = now

    async def beat(self, holder: str, until: float, *, forget_before: float) -> dict[str, float]:
        return {DEAD: self.now - 1, BEATING: self.now + 10, holder: until}

    async def aclose(self) -> None:
        pass


async def test_heartbeats_read_long_ago_make_no_one_gone(make_settings: Any) -> None:
    """A process whose beats stopped getting through (Redis unreachable) trusts every lease
    rather than taking a live replica's turns over."""
    now = [1_000_000.0]
    context = ServerContext(settings=make_settings(), clock=lambda: now[0])
    liveness = Liveness(context)
    async with anyio.create_task_group() as tg:
        await tg.start(liveness.run, Heard(now[0]))
        tg.cancel_scope.cancel()
    now[0] += 9  # the beating process's time has passed by now, not when it was read
    assert liveness.gone(DEAD) and not liveness.gone(BEATING) and not liveness.gone(UNHEARD)
    now[0] += 2  # past two beats without news
    assert not liveness.gone(DEAD)

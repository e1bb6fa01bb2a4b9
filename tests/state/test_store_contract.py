"""The behaviour every store backend promises (run once per backend)."""

from __future__ import annotations

import anyio
import pytest

from gemini_interactions_mcp.state.base import (
    SERVER,
    DuplicateHandleError,
    Store,
    StoreError,
    mutate,
)
from gemini_interactions_mcp.state.records import (
    Chain,
    InteractionConfig,
    Lease,
    Report,
    ResearchState,
)
from gemini_interactions_mcp.state.values import Source

from .helpers import make_record

pytestmark = pytest.mark.anyio


async def test_inserted_record_reads_back_equal(store: Store) -> None:
    record = make_record(
        "c_1",
        kind="research",
        title="Solar ünïcode ✓",
        model="deep-research-preview-04-2026",
        config=InteractionConfig(
            system_instruction="be brief",
            tools=[{"type": "google_search", "nested": {"a": [1, 2.5, None, True]}}],
            agent_config={"type": "deep-research"},
        ),
        chain=Chain(head="i_9", turns=3, text="ünïcode ✓", owed_calls={"c1": "f"}),
        research=ResearchState(
            query="solar",
            status="completed",
            interaction_id="i_9",
            started_at=1.5,
            report=Report(interaction_id="i_9", text="# r", sources=[Source(url="https://x")]),
        ),
        lease=Lease(token="t", until=9.0),
        interaction_ids=["i_1", "i_9"],
        version=4,
    )
    await store.insert(record)
    assert await store.get("alice", "c_1") == record


async def test_insert_of_existing_id_fails_even_for_another_owner(store: Store) -> None:
    await store.insert(make_record("c_1", "alice"))
    with pytest.raises(DuplicateHandleError):
        await store.insert(make_record("c_1", "alice"))
    with pytest.raises(DuplicateHandleError):
        await store.insert(make_record("c_1", "bob"))
    assert await store.get("bob", "c_1") is None


async def test_unknown_id_reads_as_none(store: Store) -> None:
    assert await store.get("alice", "c_missing") is None


async def test_foreign_id_looks_unknown_to_every_method(store: Store) -> None:
    mine = make_record("c_1", "alice", title="mine")
    await store.insert(mine)

    assert await store.get("bob", "c_1") is None
    assert await store.update(make_record("c_1", "bob", title="theirs"), expected_version=0) is None
    assert await store.delete("bob", "c_1") is False
    assert await store.list("bob") == []
    assert await store.latest("bob") is None
    assert await store.get("alice", "c_1") == mine


async def test_update_stores_changes_and_bumps_version(store: Store) -> None:
    await store.insert(make_record("c_1"))
    changed = make_record("c_1", at=2000.0, turns=1, status="completed", interaction_ids=["i"])

    stored = await store.update(changed, expected_version=0)

    assert stored is not None
    assert stored.version == 1
    assert stored.model_dump(exclude={"version"}) == changed.model_dump(exclude={"version"})
    assert await store.get("alice", "c_1") == stored


async def test_update_from_a_stale_version_is_refused(store: Store) -> None:
    await store.insert(make_record("c_1"))
    first = await store.update(make_record("c_1", title="one"), expected_version=0)
    assert first is not None

    assert await store.update(make_record("c_1", title="two"), expected_version=0) is None
    assert await store.get("alice", "c_1") == first


async def test_two_updates_from_the_same_version_exactly_one_wins(store: Store) -> None:
    await store.insert(make_record("c_1"))
    results: dict[str, object] = {}

    async def write(title: str) -> None:
        results[title] = await store.update(make_record("c_1", title=title), expected_version=0)

    async with anyio.create_task_group() as tg:
        tg.start_soon(write, "left")
        tg.start_soon(write, "right")

    winners = [title for title, stored in results.items() if stored is not None]
    assert len(winners) == 1
    stored = await store.get("alice", "c_1")
    assert stored is not None
    assert (stored.title, stored.version) == (winners[0], 1)


async def test_update_of_a_deleted_record_is_refused(store: Store) -> None:
    await store.insert(make_record("c_1"))
    assert await store.delete("alice", "c_1") is True
    assert await store.update(make_record("c_1"), expected_version=0) is None
    assert await store.get("alice", "c_1") is None


async def test_delete_reports_whether_a_record_was_there(store: Store) -> None:
    await store.insert(make_record("c_1"))
    assert await store.delete("alice", "c_1") is True
    assert await store.delete("alice", "c_1") is False


async def test_list_is_newest_first_and_honours_limit_and_kind(store: Store) -> None:
    for i, kind in enumerate(["chat", "research", "chat", "research", "chat"]):
        await store.insert(make_record(f"c_{i}", at=100.0 + i, kind=kind))
    await store.insert(make_record("c_other", "bob", at=999.0))

    assert [r.id for r in await store.list("alice")] == ["c_4", "c_3", "c_2", "c_1", "c_0"]
    assert [r.id for r in await store.list("alice", limit=2)] == ["c_4", "c_3"]
    assert [r.id for r in await store.list("alice", kind="chat")] == ["c_4", "c_2", "c_0"]
    assert [r.id for r in await store.list("alice", kind="research", limit=1)] == ["c_3"]
    assert await store.list("alice", limit=0) == []


async def test_list_follows_updates(store: Store) -> None:
    await store.insert(make_record("c_old", at=100.0))
    await store.insert(make_record("c_new", at=200.0))
    await store.update(make_record("c_old", at=100.0, updated_at=300.0), expected_version=0)

    assert [r.id for r in await store.list("alice")] == ["c_old", "c_new"]


async def test_latest_is_the_newest_of_a_kind(store: Store) -> None:
    assert await store.latest("alice") is None
    await store.insert(make_record("c_chat", at=100.0))
    await store.insert(make_record("r_research", at=200.0, kind="research"))

    latest_chat = await store.latest("alice")
    latest_any = await store.latest("alice", kind=None)
    latest_research = await store.latest("alice", kind="research")

    assert latest_chat is not None and latest_chat.id == "c_chat"
    assert latest_any is not None and latest_any.id == "r_research"
    assert latest_research is not None and latest_research.id == "r_research"


async def test_active_research_spans_owners_and_skips_the_rest(store: Store) -> None:
    await store.insert(make_record("r_a", "alice", at=1.0, kind="research", status="queued"))
    await store.insert(make_record("r_b", "bob", at=2.0, kind="research", status="in_progress"))
    await store.insert(make_record("r_done", "bob", at=3.0, kind="research", status="completed"))
    await store.insert(make_record("c_chat", "carol", at=4.0, kind="chat", status="in_progress"))

    assert [r.id for r in await store.active_research()] == ["r_a", "r_b"]


async def test_purge_deletes_only_records_last_updated_before_the_cutoff(store: Store) -> None:
    await store.insert(make_record("c_old", "alice", at=100.0))
    await store.insert(make_record("c_older", "bob", at=50.0))
    await store.insert(make_record("c_edge", "alice", at=200.0))
    await store.insert(make_record("c_new", "alice", at=300.0))

    assert await store.purge(older_than=200.0) == 2
    assert [r.id for r in await store.list("alice")] == ["c_new", "c_edge"]
    assert await store.list("bob") == []
    assert await store.purge(older_than=200.0) == 0


async def test_mutate_applies_the_change_and_stamps_the_time(store: Store) -> None:
    await store.insert(make_record("c_1"))

    def add_turn(record):
        record.chain.turns += 1
        record.interaction_ids.append("turn")
        return record

    stored = await mutate(store, "alice", "c_1", add_turn, clock=lambda: 5000.0)

    assert stored is not None
    assert (stored.chain.turns, stored.interaction_ids, stored.updated_at, stored.version) == (
        1,
        ["turn"],
        5000.0,
        1,
    )
    assert await store.get("alice", "c_1") == stored


async def test_mutate_returning_none_changes_nothing(store: Store) -> None:
    original = make_record("c_1")
    await store.insert(original)

    assert await mutate(store, "alice", "c_1", lambda record: None) == original
    assert await store.get("alice", "c_1") == original


async def test_mutate_of_an_unknown_or_foreign_record_returns_none(store: Store) -> None:
    await store.insert(make_record("c_1", "alice"))
    assert await mutate(store, "alice", "c_missing", lambda record: record) is None
    assert await mutate(store, "bob", "c_1", lambda record: record) is None


async def test_concurrent_mutates_lose_no_increment(store: Store) -> None:
    await store.insert(make_record("c_1"))

    def increment(record):
        record.chain.turns += 1
        return record

    async def bump() -> None:
        await mutate(store, "alice", "c_1", increment, attempts=1000)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for _ in range(40):
                tg.start_soon(bump)

    stored = await store.get("alice", "c_1")
    assert stored is not None
    assert (stored.chain.turns, stored.version) == (40, 40)


async def test_a_closed_store_refuses_to_work(store: Store) -> None:
    await store.close()
    with pytest.raises(StoreError, match="not open"):
        await store.get("alice", "c_1")
    await store.close()  # closing twice is harmless
    await store.open()  # and the fixture's own close still works
    assert await store.get("alice", "c_1") is None


async def test_changing_kind_moves_the_record_between_kind_listings(store: Store) -> None:
    await store.insert(make_record("x_1", kind="chat"))
    await store.update(
        make_record("x_1", kind="research", status="in_progress"), expected_version=0
    )

    assert await store.list("alice", kind="chat") == []
    assert [r.id for r in await store.list("alice", kind="research")] == ["x_1"]
    assert [r.id for r in await store.active_research()] == ["x_1"]

    await store.update(make_record("x_1", kind="research", status="completed"), expected_version=1)
    assert await store.active_research() == []


async def test_a_research_follow_up_never_makes_it_active_again(store: Store) -> None:
    """The research's status is the run's; a follow-up's status lives in its chain."""
    done = make_record("r_1", kind="research", status="completed")
    await store.insert(done)
    following = done.model_copy(deep=True)
    following.chain.status = "in_progress"
    await store.update(following, expected_version=0)

    assert await store.active_research() == []
    stored = await store.get("alice", "r_1")
    assert stored is not None and stored.status == "completed"


async def test_spend_adds_up_per_owner_and_for_the_whole_server(store: Store) -> None:
    periods = ["2026-12-02", "2026-12"]
    assert await store.spend("alice", periods=periods) == [0.0, 0.0]
    await store.add_spend("alice", 0.25, periods=periods)
    await store.add_spend("alice", 0.5, periods=["2026-12-03", "2026-12"])
    await store.add_spend("bob", 1.0, periods=periods)
    assert await store.spend("alice", periods=periods) == [0.25, 0.75]
    assert await store.spend("bob", periods=periods) == [1.0, 1.0]
    assert await store.spend(SERVER, periods=periods) == [1.25, 1.75]


async def test_concurrent_spend_loses_no_increment(store: Store) -> None:
    async with anyio.create_task_group() as tg:
        for _ in range(40):
            tg.start_soon(lambda: store.add_spend("alice", 0.5, periods=["2026-12"]))
    assert await store.spend("alice", periods=["2026-12"]) == [20.0]
    assert await store.spend(SERVER, periods=["2026-12"]) == [20.0]

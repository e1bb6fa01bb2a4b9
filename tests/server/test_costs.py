"""Cost you can see and cap: estimates from the published rates, running totals, budgets."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any

import pytest

from gemini_interactions_mcp.core.registry import ModelRegistry
from gemini_interactions_mcp.state.memory import MemoryStore

from .helpers import connect, error, ok, text_of

pytestmark = pytest.mark.anyio

DAY = 86_400.0


def expected_cost(model: str, usage: dict[str, Any], on: date) -> float:
    """The cost from the published per-million rates, computed here on its own."""
    price = ModelRegistry.load().price(model, on=on)
    assert price is not None and price.input and price.output
    fresh = usage["input_tokens"] - usage["cached_tokens"]
    billed_output = usage["output_tokens"] + usage["thought_tokens"]
    return float(fresh * price.input + billed_output * price.output) / 1_000_000


async def test_every_turn_carries_its_estimated_cost_and_the_running_total(
    make_settings: Any,
) -> None:
    now = time.time()
    today = datetime.fromtimestamp(now, UTC).date()
    async with connect(make_settings(), clock=lambda: now) as client:
        first = ok(await client.call_tool("gemini_ask", {"prompt": "price me [[think]]"}))
        second = ok(await client.call_tool("gemini_continue", {"prompt": "and me"}))
        listing = ok(await client.call_tool("gemini_conversations", {}))
        shown = text_of(await client.call_tool("gemini_continue", {"offset": 0}))
    one, two = first["usage"], second["usage"]
    assert first["model"] == "gemini-3.8-flash"
    assert one["cost_usd"] == pytest.approx(expected_cost(first["model"], one, today), abs=1e-6)
    assert two["cost_usd"] == pytest.approx(expected_cost(first["model"], two, today), abs=1e-6)
    assert "gemini-3.8-flash" in one["cost_basis"] and "input $" in one["cost_basis"]
    assert one["total_cost_usd"] == pytest.approx(one["cost_usd"])
    assert two["total_cost_usd"] == pytest.approx(one["cost_usd"] + two["cost_usd"])
    (item,) = listing["conversations"]
    assert item["cost_usd"] == pytest.approx(two["total_cost_usd"], abs=1e-4)
    assert listing["spend"]["today_usd"] == pytest.approx(two["total_cost_usd"], abs=1e-4)
    assert listing["spend"]["month_usd"] == listing["spend"]["today_usd"]
    assert "Spent (estimated)" not in shown  # paging shows the answer, not the listing


async def test_a_model_without_a_known_price_says_its_cost_is_unknown(
    make_settings: Any,
) -> None:
    async with connect(make_settings()) as client:
        result = await client.call_tool(
            "gemini_ask", {"prompt": "x", "model": "gemini-3.1-flash-lite"}
        )
        listing = ok(await client.call_tool("gemini_conversations", {}))
    answer = ok(result)
    assert "cost_usd" not in answer["usage"] and "unknown" in answer["usage"]["cost_basis"]
    assert "cost unknown" in text_of(result)
    assert "cost_usd" not in listing["conversations"][0]
    assert listing["spend"]["today_usd"] == 0


async def test_a_budget_refuses_new_work_and_resets_with_the_day(make_settings: Any) -> None:
    now = [time.time()]
    store = MemoryStore()
    await store.open()
    async with connect(make_settings(), store=store, clock=lambda: now[0]) as free:
        cost = ok(await free.call_tool("gemini_ask", {"prompt": "spend"}))["usage"]["cost_usd"]
        assert cost > 0
        near = make_settings(budget_daily_usd=cost / 0.9)
        over = make_settings(budget_daily_usd=cost)
        async with (
            connect(near, store=store, clock=lambda: now[0]) as warned,
            connect(over, store=store, clock=lambda: now[0]) as capped,
        ):
            noted = ok(await warned.call_tool("gemini_ask", {"prompt": "close to it"}))
            refused = error(await capped.call_tool("gemini_ask", {"prompt": "over it"}))
            research = error(await capped.call_tool("deep_research_start", {"query": "q"}))
            now[0] += DAY
            tomorrow = ok(await capped.call_tool("gemini_ask", {"prompt": "a new day"}))
    assert any("spend limit is used" in n for n in noted["notes"])
    assert refused.startswith("This would run over your daily spend limit: $")
    assert "resets at 00:00 UTC on" in refused and "Nothing was sent" in refused
    assert research == refused
    assert tomorrow["status"] == "completed"


async def test_replicas_on_one_redis_store_share_their_spend(
    make_settings: Any, redis_url: str
) -> None:
    from redis.asyncio import Redis

    # A database of its own: spend counts what every test on the server spent otherwise.
    url = f"{redis_url}?db=7"
    client = Redis.from_url(url)
    await client.flushdb()
    await client.aclose()
    async with connect(make_settings(state=url, server_budget_monthly_usd=1e-9)) as one:
        first = await one.call_tool("gemini_ask", {"prompt": "first"})
        assert not first.is_error  # nothing was spent yet
    async with connect(make_settings(state=url, server_budget_monthly_usd=1e-9)) as two:
        message = error(await two.call_tool("gemini_ask", {"prompt": "second"}))
    assert message.startswith("This would run over the server's monthly spend limit")

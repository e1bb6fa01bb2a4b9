"""What calls cost: estimates from the registry's prices, running totals, and budgets.

Estimates come from the usage upstream reports and the published rates in the model
registry; where a rate is unknown the estimate says so (and counts as unpriced). Spend is
kept per owner and for the whole server, per UTC day and month, in the state store (atomic
increments, shared by replicas). A budget refuses new paid work once the spend so far has
reached it; work already running is never stopped (it was already paid for), so a call that
starts below a limit may end above it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ..state.base import SERVER, Store
from ..state.records import ConversationRecord
from ..state.values import Usage
from .errors import ToolError
from .pricing import estimate_cost

if TYPE_CHECKING:
    from .context import ServerContext

__all__ = ["Budget", "charge", "periods", "priced"]

# A warning in the result's notes once the spend passes this share of a limit.
WARN_AT = 0.8


def periods(now: float) -> tuple[str, str]:
    """The UTC day and month `now` falls in (``2026-12-02``, ``2026-12``)."""
    moment = datetime.fromtimestamp(now, UTC)
    return moment.strftime("%Y-%m-%d"), moment.strftime("%Y-%m")


def priced(server: ServerContext, model: str, usage: Usage | None) -> Usage | None:
    """`usage` with its estimated cost at `model`'s rates (in force today)."""
    if usage is None:
        return None
    when = datetime.fromtimestamp(server.clock(), UTC).date()
    price = server.registry.price(model, on=when)
    if price is None:
        return usage.model_copy(
            update={"cost_basis": f"no published price for {model} is known; cost unknown."}
        )
    estimate = estimate_cost(
        price,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        thought_tokens=usage.thought_tokens,
        cached_tokens=usage.cached_tokens,
        searches=usage.searches,
    )
    return usage.model_copy(
        update={
            "cost_usd": round(estimate.usd, 6) if estimate.complete else None,
            "cost_basis": estimate.basis
            if estimate.complete
            else f"at least ${estimate.usd:.4f}; {estimate.basis}",
        }
    )


def add_to(record: ConversationRecord, usage: Usage | None) -> None:
    """Count a turn's estimated cost into the record's running total."""
    if usage is None:
        return
    if usage.cost_usd is None:
        record.spend.unpriced += 1
    else:
        record.spend.usd = round(record.spend.usd + usage.cost_usd, 6)


def with_total(usage: Usage | None, record: ConversationRecord | None) -> Usage | None:
    """`usage` with the running total of `record` (this turn included)."""
    if usage is None or record is None:
        return usage
    return usage.model_copy(update={"total_cost_usd": record.spend.usd})


async def charge(server: ServerContext, owner: str, usage: Usage | None) -> None:
    """Count a turn's known cost into the owner's and the server's totals."""
    if usage is None or not usage.cost_usd:
        return
    store = await server.store()
    await store.add_spend(owner, usage.cost_usd, periods=periods(server.clock()))


class Budget:
    """The spend limits that apply to one owner's calls."""

    def __init__(self, server: ServerContext, owner: str) -> None:
        self.server = server
        self.owner = owner

    async def check(self) -> list[str]:
        """Refuse new paid work over a limit (one sentence); notes for limits nearly reached."""
        settings = self.server.settings
        limits = [
            ("your daily", self.owner, 0, settings.budget_daily_usd),
            ("your monthly", self.owner, 1, settings.budget_monthly_usd),
            ("the server's monthly", SERVER, 1, settings.server_budget_monthly_usd),
        ]
        if all(limit is None for *_, limit in limits):
            return []
        store: Store = await self.server.store()
        now = self.server.clock()
        day, month = periods(now)
        spent = {who: await store.spend(who, periods=[day, month]) for who in {self.owner, SERVER}}
        notes = []
        for name, who, which, limit in limits:
            if limit is None:
                continue
            so_far = spent[who][which]
            resets = _resets(now, monthly=which == 1)
            if so_far >= limit:
                raise ToolError(
                    f"This would run over {name} spend limit: ${so_far:.2f} of ${limit:.2f} "
                    f"spent (estimated); it resets {resets}. Nothing was sent."
                )
            if so_far >= WARN_AT * limit:
                notes.append(
                    f"${so_far:.2f} of {name} ${limit:.2f} spend limit is used (estimated); "
                    f"it resets {resets}."
                )
        return notes


def _resets(now: float, *, monthly: bool) -> str:
    moment = datetime.fromtimestamp(now, UTC)
    if not monthly:
        nxt = (moment + timedelta(days=1)).strftime("%Y-%m-%d")
        return f"at 00:00 UTC on {nxt}"
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return f"at 00:00 UTC on {year:04d}-{month:02d}-01"

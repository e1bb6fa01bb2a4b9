"""Prices of models and agents, and what a turn cost.

Rates are USD per million tokens, read from the ``[prices]`` tables of the model registry.
A rate nobody could confirm is ``None`` ("unknown" in the file), never a guess; an estimate
says which of its parts it could not price.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

__all__ = ["CostEstimate", "Price", "check_price", "describe_rates", "estimate_cost", "price_from"]

UNKNOWN = "unknown"
_RATES = ("input", "output", "cached_input", "input_long", "output_long", "cached_input_long")
_TEXTS = ("search_free", "note", "source")
_CHOICES = {"thinking": ("output",), "search_unit": ("query", "prompt")}
_SEARCH_UNITS = {"query": "search queries", "prompt": "grounded prompts"}
_KEYS = frozenset(
    {*_RATES, *_TEXTS, *_CHOICES, "search_per_1000", "long_context_above"}
    | {"since", "until", "checked", "next"}
)


@dataclass(frozen=True)
class Price:
    """Published rates of one model or agent; ``None`` where nothing confirms a rate."""

    id: str
    input: float | None
    output: float | None
    cached_input: float | None
    long_context_above: int | None = None
    """Prompts of more input tokens than this are billed at the ``*_long`` rates."""
    input_long: float | None = None
    output_long: float | None = None
    cached_input_long: float | None = None
    thinking: str | None = None
    """How thinking tokens are billed: "output" (at the output rate), or None if unknown."""
    search_per_1000: float | None = None
    search_unit: str | None = None
    """What a search charge counts: "query" (each search) or "prompt" (each grounded turn)."""
    search_free: str | None = None
    since: date | None = None
    until: date | None = None
    note: str | None = None
    source: str | None = None
    checked: date | None = None


@dataclass(frozen=True)
class CostEstimate:
    """What a turn cost in USD, as far as the known rates tell."""

    usd: float
    """The sum of every part that could be priced; a lower bound when not complete."""
    complete: bool
    basis: str
    """One short text: the rates used, and what is unknown."""


def check_price(entry: object, where: str, *, nested: bool = False) -> dict[str, Any]:
    """The price table `entry` (at `where`, e.g. ``[prices."x"]``) with its shape checked.

    Raises ValueError with a sentence naming the key that is wrong.
    """
    if not isinstance(entry, dict):
        raise ValueError(f"{where} must be a table")
    allowed = _KEYS - {"next"} if nested else _KEYS
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise ValueError(
            f"{where} has unknown key(s) {', '.join(unknown)}; expected some of "
            f"{', '.join(sorted(allowed))}"
        )
    for key, value in entry.items():
        _check_value(key, value, where)
    if "next" in entry:
        check_price(entry["next"], f"{where}.next", nested=True)
        if not isinstance(entry["next"].get("since"), date):
            raise ValueError(f"{where}.next needs 'since', the first day its rates apply")
    return dict(entry)


def _check_value(key: str, value: object, where: str) -> None:
    def bad(what: str) -> ValueError:
        return ValueError(f"{where} {key} must be {what}")

    if key in _RATES or key == "search_per_1000":
        if value != UNKNOWN and (
            isinstance(value, bool) or not isinstance(value, int | float) or value < 0
        ):
            raise bad(f'a number of USD (0 or more) or "{UNKNOWN}"')
    elif key == "long_context_above":
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise bad("a positive number of tokens")
    elif key in _CHOICES:
        if value != UNKNOWN and value not in _CHOICES[key]:
            raise bad(" or ".join(f'"{choice}"' for choice in (*_CHOICES[key], UNKNOWN)))
    elif key in ("since", "until", "checked"):
        if not isinstance(value, date):
            raise bad("a date like 2026-12-02 (without quotes)")
    elif key in _TEXTS and not isinstance(value, str):
        raise bad("a string")


def price_from(id: str, entry: dict[str, Any], *, on: date) -> Price:
    """The rates of a checked price table that apply on the day `on`."""

    def known(key: str) -> Any:
        value = entry.get(key)
        return None if value == UNKNOWN else value

    price = Price(
        id=id,
        input=known("input"),
        output=known("output"),
        cached_input=known("cached_input"),
        long_context_above=known("long_context_above"),
        input_long=known("input_long"),
        output_long=known("output_long"),
        cached_input_long=known("cached_input_long"),
        thinking=known("thinking"),
        search_per_1000=known("search_per_1000"),
        search_unit=known("search_unit"),
        search_free=known("search_free"),
        since=known("since"),
        until=known("until"),
        note=known("note"),
        source=known("source"),
        checked=known("checked"),
    )
    later = entry.get("next")
    if isinstance(later, dict) and on >= later["since"]:
        # A scheduled change keeps what it does not restate, except the end of the old rates.
        kept = {key: value for key, value in entry.items() if key not in ("next", "until")}
        return price_from(id, {**kept, **later}, on=on)
    return price


def _usd(tokens: int, rate: float) -> float:
    return tokens * rate / 1_000_000


def _rate(value: float | None) -> str:
    if value is None:
        return UNKNOWN
    text = f"{value:.4f}".rstrip("0")
    return text + "0" * (2 - len(text.split(".")[1]))


def describe_rates(id: str, entry: dict[str, Any]) -> str:
    """The rates of a checked price table in one line, with any scheduled change."""

    def line(price: Price) -> str:
        rates = (price.input, price.output, price.cached_input)
        text = " / ".join(_rate(rate) for rate in rates)
        if price.long_context_above is not None:
            long = (price.input_long, price.output_long, price.cached_input_long)
            text += f"; above {price.long_context_above:,} input tokens " + " / ".join(
                _rate(rate) for rate in long
            )
        return text

    first = price_from(id, entry, on=date.min)
    text = line(first)
    if first.since is not None:
        text += f" from {first.since.isoformat()}"
    if first.until is not None:
        text += f" until {first.until.isoformat()}"
    later = entry.get("next")
    if isinstance(later, dict):
        since: date = later["since"]
        text += f", from {since.isoformat()} " + line(price_from(id, entry, on=since))
    return text


def estimate_cost(
    price: Price,
    *,
    input_tokens: int,
    output_tokens: int,
    thought_tokens: int,
    cached_tokens: int = 0,
    searches: int = 0,
) -> CostEstimate:
    """What a turn cost at `price`.

    `input_tokens` counts the whole prompt, `cached_tokens` of which came from the cache (as
    the API reports them); `output_tokens` excludes `thought_tokens`; `searches` counts the
    search queries run. Free allowances (such as monthly free searches) are not deducted.
    """
    long = price.long_context_above is not None and input_tokens > price.long_context_above
    tier = f"above {price.long_context_above:,} input tokens" if long else "standard"
    rates = {
        "input": price.input_long if long else price.input,
        "output": price.output_long if long else price.output,
        "cached input": price.cached_input_long if long else price.cached_input,
    }
    counts = {
        "input": max(input_tokens - cached_tokens, 0),
        "output": output_tokens,
        "cached input": min(cached_tokens, input_tokens),
    }
    total = 0.0
    used: list[str] = []
    unknown: list[str] = []
    for part, tokens in counts.items():
        rate = rates[part]
        if not tokens:
            continue
        if rate is None:
            unknown.append(f"{part} rate")
        else:
            total += _usd(tokens, rate)
            used.append(f"{part} ${_rate(rate)}")
    if thought_tokens:
        rate = rates["output"]
        if price.thinking == "output" and rate is not None:
            total += _usd(thought_tokens, rate)
            used.append("thinking billed as output")
        else:
            unknown.append("thinking rate")
    if searches:
        billed = searches if price.search_unit == "query" else 1
        if price.search_per_1000 is None or price.search_unit is None:
            unknown.append("search charge")
        else:
            total += billed * price.search_per_1000 / 1000
            counted = _SEARCH_UNITS[price.search_unit]
            used.append(f"search ${_rate(price.search_per_1000)} per 1,000 {counted}")
    basis = f"{price.id} {tier} rates per 1M tokens: " + (", ".join(used) or "none")
    if price.until is not None:
        basis += f" (valid until {price.until.isoformat()})"
    if unknown:
        basis += f"; unknown: {', '.join(unknown)}"
    return CostEstimate(usd=total, complete=not unknown, basis=basis + ".")

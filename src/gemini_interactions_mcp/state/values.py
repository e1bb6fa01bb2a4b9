"""Small values kept in records and shown in results alike: cited sources, token usage."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Source", "Usage"]

# Built on first use, not at import: the tools import these types at start-up.
_LAZY = ConfigDict(defer_build=True)


class Source(BaseModel):
    """A cited web page."""

    model_config = _LAZY

    url: str
    title: str | None = None


class Usage(BaseModel):
    """Token counts as upstream reported them, and what they are estimated to cost."""

    model_config = _LAZY

    input_tokens: int = 0
    output_tokens: int = 0
    thought_tokens: int = 0
    cached_tokens: int = 0
    total_tokens: int = 0
    searches: int = 0
    cost_usd: float | None = None
    cost_basis: str | None = None
    total_cost_usd: float | None = None
    """The conversation's (or research's) estimated cost so far, this turn included."""

"""Interaction statuses, grouped by what they mean to this server (one place for each group).

Upstream's set is open: a status not named here means the interaction stopped.
"""

from __future__ import annotations

__all__ = ["ABANDONED", "RUNNING"]

#: Work is still going on upstream (and, for a research, still being paid for).
RUNNING = frozenset({"queued", "in_progress"})

#: The turn is not part of the conversation: the next turn chains on the last good one.
ABANDONED = frozenset({"failed", "cancelled"})

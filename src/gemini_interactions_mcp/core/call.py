"""One tool call as the core sees it: who calls, where progress goes, and when it must end."""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio

from .progress import Progress

__all__ = ["Call"]


@dataclass
class Call:
    """The caller of one tool call; `budget` seconds bound everything the call waits for."""

    owner: str
    progress: Progress
    budget: float
    local_files: bool = False
    started: float = field(default_factory=anyio.current_time)

    @property
    def deadline(self) -> float:
        """When the call's budget runs out (on anyio's clock)."""
        return self.started + self.budget

    def remaining(self) -> float:
        """Seconds left of this call's budget."""
        return max(0.0, self.deadline - anyio.current_time())

    def elapsed(self) -> float:
        return anyio.current_time() - self.started

"""What happens once a research run has ended and been recorded (by whichever server
recorded it): its cost is counted, its report is written to disk if the operator asked, and
whoever listens for it (on any replica) is told."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import anyio.to_thread

from ..state.records import ConversationRecord
from ..state.values import Usage
from .costs import charge
from .reports import write_report

if TYPE_CHECKING:
    from .context import ServerContext

__all__ = ["research_ended"]

logger = logging.getLogger(__name__)


async def research_ended(
    server: ServerContext, record: ConversationRecord, usage: Usage | None
) -> None:
    """Count what the run cost and keep its report where the operator wants it."""
    await charge(server, record.owner, usage)
    directory = server.settings.reports_dir
    research = record.research
    if directory is not None and research is not None and research.report is not None:
        try:
            path = await anyio.to_thread.run_sync(write_report, directory, record)
        except OSError as exc:
            # The report stays in the store either way; the file is a copy.
            logger.warning("could not write the report of %s to %s: %s", record.id, directory, exc)
        else:
            logger.info("wrote the report of %s to %s", record.id, path)
    await server.announce(record.id)

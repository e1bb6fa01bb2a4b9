"""Finished research reports as markdown files, for an operator who wants them on disk.

One file per research in the reports directory, named so a person can find it
(``2026-12-02-how-glaciers-shape-valleys-r_AbC123.md``): the query, the date, the agent,
the report and its numbered sources. Written atomically (a temporary file renamed into
place), and never outside that directory whatever the query says.
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from ..state.records import ConversationRecord

__all__ = ["report_markdown", "write_report"]

_SLUG_CHARS = 60


def report_markdown(record: ConversationRecord) -> str:
    """The file's content: a header, the report, and its sources."""
    research = record.research
    assert research is not None and research.report is not None
    report = research.report
    finished = datetime.fromtimestamp(research.finished_at or record.updated_at, UTC)
    lines = [
        f"# {' '.join(research.query.split())}",
        "",
        f"- Date: {finished.isoformat(timespec='seconds')}",
        f"- Agent: {record.model}",
        f"- Research id: {record.id}",
        "",
        report.text.rstrip(),
        "",
    ]
    if report.sources:
        lines += ["## Sources", ""]
        lines += [f"{n}. [{s.title or s.url}]({s.url})" for n, s in enumerate(report.sources, 1)]
        lines.append("")
    return "\n".join(lines)


def write_report(directory: Path, record: ConversationRecord) -> Path:
    """Write the research's report into `directory`; return the file's path."""
    research = record.research
    assert research is not None
    root = directory.expanduser().resolve()
    day = datetime.fromtimestamp(research.finished_at or record.updated_at, UTC).date()
    slug = re.sub(r"[^a-z0-9]+", "-", research.query.lower()).strip("-")[:_SLUG_CHARS]
    name = f"{day.isoformat()}-{slug.strip('-') or 'research'}-{record.id}.md"
    target = (root / name).resolve()
    if target.parent != root:  # the name is built to stay inside; this keeps it so
        raise OSError(f"refusing to write the report outside {root}")
    handle, temporary = tempfile.mkstemp(dir=root, prefix=".report-", suffix=".md")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(report_markdown(record))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target

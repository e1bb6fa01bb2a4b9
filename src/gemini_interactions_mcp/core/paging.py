"""Long texts are returned in pages: a chunk from an offset, and where the next one starts."""

from __future__ import annotations

from .errors import ToolError

__all__ = ["cut"]


def cut(text: str, offset: int, limit: int, *, what: str = "answer") -> tuple[str, int | None]:
    """The chunk of `text` at `offset` (at most `limit` characters) and the next offset, if any."""
    if offset > len(text):
        raise ToolError(f"offset {offset} is past the end of the {what} ({len(text)} characters).")
    chunk = text[offset : offset + limit]
    end = offset + len(chunk)
    return chunk, (end if end < len(text) else None)

"""Upstream: a thin async client for the Gemini Interactions API (knows nothing of MCP)."""

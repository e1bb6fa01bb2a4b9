"""Configuration of the emulator, with its named defaults in one place."""

from __future__ import annotations

from dataclasses import dataclass

# The SDK's open `Model` enum (google-genai 3.6.1): every id the emulator serves by default.
CURRENT_MODELS: frozenset[str] = frozenset(
    {
        "gemma-4-26b-a4b-it",
        "gemma-4-31b-it",
        "gemini-flash-latest",
        "gemini-flash-lite-latest",
        "gemini-pro-latest",
        "gemini-2.5-flash",
        "gemini-2.5-pro",
        "gemini-2.5-flash-lite",
        "gemini-3.5-flash-lite",
        "gemini-2.5-flash-image",
        "gemini-3-flash-preview",
        "gemini-3.1-pro-preview",
        "gemini-3.1-pro-preview-customtools",
        "gemini-3.1-flash-lite",
        "gemini-3.1-flash-lite-image",
        "gemini-3-pro-image",
        "nano-banana-pro-preview",
        "gemini-3.1-flash-image",
        "gemini-nano-banana-2.1",
        "gemini-3.1-flash-tts-preview",
        "gemini-3.5-flash",
        "gemini-3.6-flash",
        "gemini-3.7-flash",
        "gemini-3.8-flash",
        "gemini-4-argon",
        "gemini-4-carbon",
        "gemini-4-hydrogen",
        "gemini-4-neon",
        "gemini-3.8-flash-tts",
        "gemini-3.8-flash-lite-tts",
        "gemini-3.5-transcribe",
        "lyria-3-clip-preview",
        "lyria-3-pro-preview",
        "gemini-robotics-er-1.6-preview",
        "gemini-robotics-er-2-preview",
        "lyria-3.5",
        "gemini-omni-1.2-flash",
        "gemini-omni-1.1-flash",
        "gemini-omni-flash-preview",
    }
)

# Ids the real service has shut down; they answer 404 model_not_found like unknown ids.
RETIRED_MODELS: frozenset[str] = frozenset(
    {
        "gemini-2.0-flash",
        "gemini-2.0-flash-001",
        "gemini-2.0-flash-lite",
        "gemini-2.0-flash-lite-001",
        "gemini-2.5-pro-preview-03-25",
        "gemini-2.5-pro-preview-05-06",
        "gemini-2.5-pro-preview-06-05",
        "gemini-3-pro-preview",
        "gemini-3.1-flash-image-preview",
        "gemini-3-pro-image-preview",
    }
)

DEEP_RESEARCH_AGENTS: frozenset[str] = frozenset(
    {"deep-research-preview-04-2026", "deep-research-max-preview-04-2026"}
)

# Agent ids the real service has shut down; they answer 404 model_not_found like unknown ids.
RETIRED_AGENTS: frozenset[str] = frozenset({"deep-research-pro-preview-12-2025"})

DEFAULT_RESEARCH_SECONDS = 4.0
# Background model runs pause at least this long between events, so that a client
# tailing with GET ?stream=true sees live events rather than a finished replay.
BACKGROUND_MIN_PAUSE_S = 0.001
# How long a graceful shutdown may wait for open connections before they are cut.
SHUTDOWN_GRACE_S = 1


@dataclass(frozen=True, kw_only=True)
class EmulatorConfig:
    """How the emulator behaves; every field has a default that suits tests."""

    api_key: str | None = None
    """None: any non-empty key is accepted; otherwise the key must match exactly."""
    access_token: str | None = None
    """For ``Authorization: Bearer``: None accepts any non-empty token, else it must match."""
    models: frozenset[str] = CURRENT_MODELS
    retired_models: frozenset[str] = RETIRED_MODELS
    agents: frozenset[str] = DEEP_RESEARCH_AGENTS
    retired_agents: frozenset[str] = RETIRED_AGENTS
    research_seconds: float = DEFAULT_RESEARCH_SECONDS
    """Wall-clock length of one Deep Research run."""
    latency_ms: float = 0.0
    """Added before answering each create."""
    delta_delay_ms: float = 0.0
    """Pause between streamed deltas (a prompt's [[delay MS]] overrides it)."""
    requests_per_minute: int | None = None
    """Over this many requests in a sliding minute: 429 rate_limit_exceeded."""
    reject_unknown_fields: bool = True
    """400 parameter_unknown for unknown top-level create fields."""

"""A wire-faithful emulator of Google's Gemini Interactions API, for tests and demos.

It stands alone (it imports nothing else from this package) and works on plain dicts::

    from gemini_interactions_mcp.emulator import EmulatorConfig, create_app, serve_in_background

    app = create_app(EmulatorConfig(research_seconds=0.3))   # in-process, via ASGITransport
    emu = app.state.emulator                                  # requests, interactions, faults

    async with serve_in_background(EmulatorConfig()) as base_url:   # a real loopback port
        ...

What the scripted model answers, and its prompt directives, are documented in
:mod:`.scripted`; the Deep Research agent in :mod:`.research`; event ids and streaming in
:mod:`.sse`; routes (Gemini API and Vertex AI paths) and credentials in :mod:`.app`;
the model listing in :mod:`.catalog`.
"""

from .app import create_app
from .config import EmulatorConfig
from .emulator import Emulator, RecordedRequest
from .server import serve, serve_in_background

__all__ = [
    "Emulator",
    "EmulatorConfig",
    "RecordedRequest",
    "create_app",
    "serve",
    "serve_in_background",
]

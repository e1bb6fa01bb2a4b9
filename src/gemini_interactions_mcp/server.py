"""The MCP server factory. Nothing starts at import time; the CLI picks the transport."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

import anyio
from mcp.server import MCPServer
from mcp.server.request_state import RequestStateSecurity
from pydantic import SecretStr

from . import __version__, health, tools
from .core.context import ServerContext
from .settings import Settings
from .tools.surface import GeminiMCPServer

if TYPE_CHECKING:
    import httpx2

    from .auth.setup import HttpAccess
    from .state.base import Store
    from .upstream.auth import TokenSource

DEMO_RESEARCH_SECONDS = 2.0
# The monitor re-attaches to running research this long after start-up, once the first
# requests (initialize, tools/list) are answered.
MONITOR_DELAY = 1.0
# How long the person has to answer a question a tool asks (a plan to confirm) before the
# client's retry is refused (the plan can still be confirmed with gemini_continue).
QUESTION_TTL = 3600.0

INSTRUCTIONS = (
    "Gemini through the Interactions API. gemini_ask starts a conversation and returns a "
    "conversation_id; gemini_continue carries it on (state is kept server-side). "
    "deep_research_start runs Google's Deep Research agent in the background: poll "
    "deep_research_status with the research_id. Long answers return status in_progress; "
    "collect them with gemini_continue and no prompt."
)


def build_server(
    settings: Settings,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
    store: Store | None = None,
    clock: Callable[[], float] = time.time,
    on_fatal: Callable[[str], None] | None = None,
    token_source: TokenSource | None = None,
    http_access: HttpAccess | None = None,
) -> GeminiMCPServer[ServerContext]:
    """An MCPServer for `settings`; `transport` and `store` replace the real ones in tests.

    `token_source` replaces Application Default Credentials on Vertex AI (tests).
    `on_fatal` is told, in one sentence, when the server finds it cannot run as configured
    (the CLI exits with it); without it such a failure is raised as `StartupError`.
    `http_access` makes HTTP callers authenticate (see `auth.setup.http_access`).
    """
    if settings.emulator:
        # The emulator accepts any key; never send a real one to it. Its conversations die
        # with it, so unless a state file is named they are kept in memory, apart from the
        # real API's.
        updates: dict[str, object] = {"api_key": SecretStr("emulator")}
        if not settings.state.strip():
            updates["state"] = "memory"
        settings = settings.model_copy(update=updates)

    live: list[ServerContext] = []  # the running lifespan's context, for /readyz

    @asynccontextmanager
    async def lifespan(_: MCPServer[ServerContext]) -> AsyncIterator[ServerContext]:
        async with AsyncExitStack() as stack:
            base_url = settings.base_url
            if settings.emulator:
                base_url = await stack.enter_async_context(_emulator())
            context = ServerContext(
                settings=settings,
                base_url=base_url,
                transport=transport,
                token_source=token_source,
                clock=clock,
                on_fatal=on_fatal,
            )
            if store is not None:
                context.use_store(store)
            stack.push_async_callback(context.aclose)
            server.notifier.attach(context)
            if http_access is not None:
                stack.push_async_callback(http_access.aclose)
            live.append(context)
            stack.callback(live.remove, context)
            server.running = context
            stack.callback(setattr, server, "running", None)
            tasks = await stack.enter_async_context(anyio.create_task_group())
            context.run_tasks_in(tasks)
            tasks.start_soon(context.start_monitor_after, MONITOR_DELAY)
            # Unwinds before the client and store close: watchers stop first.
            stack.callback(tasks.cancel_scope.cancel)
            yield context

    server: GeminiMCPServer[ServerContext] = GeminiMCPServer(
        "gemini-interactions-mcp",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        log_level="DEBUG" if settings.verbose else "WARNING",
        request_state_security=_request_state_security(settings),
        **(http_access.server_options() if http_access is not None else {}),
    )
    tools.register(server)
    health.register(server, lambda: live[-1] if live else None)
    return server


def _request_state_security(settings: Settings) -> RequestStateSecurity:
    """How the state of a question a tool asks (a plan to confirm) is sealed for the client's
    retry: with the operator's key, any replica sharing it can take the answer."""
    key = settings.request_state_key
    if key is None:
        return RequestStateSecurity.ephemeral(ttl=QUESTION_TTL)
    return RequestStateSecurity(keys=[key.get_secret_value()], ttl=QUESTION_TTL)


@asynccontextmanager
async def _emulator() -> AsyncIterator[str]:
    """The built-in emulator on an ephemeral loopback port, in this process."""
    from .emulator import EmulatorConfig, serve_in_background

    # Research runs short here: the emulator stands in for minutes of real work.
    config = EmulatorConfig(research_seconds=DEMO_RESEARCH_SECONDS)
    async with serve_in_background(config, host="127.0.0.1", port=0) as url:
        yield url

"""The server's long-lived state: settings, model registry, and the lazily opened client and store.

One `ServerContext` lives in the MCP server's lifespan and is what every tool call reaches.
The upstream client, the store and the registry are opened on first use, not at start-up: a
stdio host spawns the server and asks for ``tools/list`` first, and that must stay as fast as
a bare MCP server. These three openers are the core's seams to the layers below.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio
from anyio.abc import TaskGroup

from ..settings import Settings
from .call import InFlight
from .errors import StartupError
from .holders import new_holder

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    import httpx2

    from ..state.base import Store
    from ..state.events import RedisEvents
    from ..upstream.auth import TokenSource
    from ..upstream.client import InteractionsClient
    from .catalog import ModelCatalog
    from .limits import CallRate
    from .liveness import Liveness
    from .monitor import ResearchMonitor
    from .registry import ModelRegistry
    from .secrets import Vault

__all__ = ["ServerContext"]


@dataclass
class ServerContext:
    """What every tool call reaches: configuration, and the shared client, store and monitor."""

    settings: Settings
    # None: the backend's own (the Gemini API's, or Vertex AI's for the location).
    base_url: str | None = None
    transport: httpx2.AsyncBaseTransport | None = None
    # Bearer tokens for Vertex AI; None loads Application Default Credentials when needed.
    token_source: TokenSource | None = None
    clock: Callable[[], float] = time.time
    # What to do when the server cannot run as configured; None raises StartupError.
    on_fatal: Callable[[str], None] | None = None
    # This server incarnation, as the leases it takes name it.
    holder: str = field(default_factory=new_holder)
    _tasks: TaskGroup | None = None
    _monitor: ResearchMonitor | None = None
    _client: InteractionsClient | None = None
    _store: Store | None = None
    _registry: ModelRegistry | None = None
    _vault: Vault | None = None
    _catalog: ModelCatalog | None = None
    _call_rate: CallRate | None = None
    # The tool calls being answered, which a stop (SIGTERM over HTTP) ends in time.
    in_flight: InFlight = field(default_factory=InFlight)
    _liveness: Liveness | None = None
    _listeners: list[Callable[[str], Awaitable[None]]] = field(default_factory=list)
    _events: RedisEvents | None = None
    _store_adopted: bool = False
    _open_lock: anyio.Lock = field(default_factory=anyio.Lock)
    _conversation_locks: weakref.WeakValueDictionary[str, anyio.Lock] = field(
        default_factory=weakref.WeakValueDictionary
    )

    @property
    def catalog(self) -> ModelCatalog:
        """The models the key can use, as upstream lists them (fetched on first use)."""
        if self._catalog is None:
            from .catalog import ModelCatalog

            self._catalog = ModelCatalog(self)
        return self._catalog

    @property
    def liveness(self) -> Liveness:
        """Which server processes still run (their leases are trusted, no one else's)."""
        if self._liveness is None:
            from .liveness import Liveness

            self._liveness = Liveness(self)
        return self._liveness

    def holder_gone(self, holder: str) -> bool:
        """True when the process `holder` names is known not to run any more (its leases are
        nobody's)."""
        return self.liveness.gone(holder)

    @property
    def call_rate(self) -> CallRate:
        """Each caller's tool calls over the last minute, in this process."""
        if self._call_rate is None:
            from .limits import CallRate

            self._call_rate = CallRate(self)
        return self._call_rate

    @property
    def vault(self) -> Vault:
        """Header values of remote MCP servers, kept in this process only."""
        if self._vault is None:
            from .secrets import Vault

            self._vault = Vault()
        return self._vault

    async def upstream(self) -> str:
        """Which upstream this server talks to, as records remember it: the emulator, or
        the endpoint (with its Vertex AI project and location)."""
        if self.settings.emulator:
            return "emulator"
        endpoint = (await self.client()).endpoint
        where = endpoint.root.rstrip("/")
        return f"{where}/{endpoint.parent}" if endpoint.parent else where

    @property
    def address(self) -> str:
        """The upstream's URL as far as it is known yet (for messages)."""
        if self._client is not None:
            return self._client.endpoint.root.rstrip("/")
        return self.base_url or ""

    async def other_upstream(self, record_upstream: str) -> bool:
        """True for a record made on another upstream (which cannot be continued here)."""
        return bool(record_upstream) and record_upstream != await self.upstream()

    @property
    def registry(self) -> ModelRegistry:
        """The model registry, read on first use."""
        if self._registry is None:
            from .registry import ModelRegistry

            self._registry = ModelRegistry.load(self.settings.models_file)
        return self._registry

    async def client(self) -> InteractionsClient:
        """The upstream client, created on first use (loading credentials if it needs any)."""
        if self._client is None:
            async with self._open_lock:
                if self._client is None:
                    from .upstream_access import open_client

                    self._client = await open_client(self)
        return self._client

    async def store(self) -> Store:
        """The conversation store, opened on first use."""
        if self._store is None:
            async with self._open_lock:
                if self._store is None:
                    from ..state import open_store

                    store = open_store(self.settings.state)
                    await store.open()
                    self._store = store
        return self._store

    def run_tasks_in(self, tasks: TaskGroup) -> None:
        """Where background work (the research monitor) runs: the server's lifespan."""
        self._tasks = tasks

    async def monitor(self) -> ResearchMonitor:
        """The research monitor, started in the server's task group on first use."""
        if self._monitor is None:
            async with self._open_lock:
                if self._monitor is None:
                    if self._tasks is None:
                        raise RuntimeError("the server context has no task group to run in")
                    from .monitor import ResearchMonitor

                    monitor = ResearchMonitor(self)
                    await self._tasks.start(monitor.run)
                    self._monitor = monitor
        return self._monitor

    @property
    def started_monitor(self) -> ResearchMonitor | None:
        """The research monitor if it runs already (nothing to stop otherwise)."""
        return self._monitor

    async def start_monitor_after(self, delay: float) -> None:
        """Once start-up is over, open the store (a store that cannot be used stops the server
        with the reason) and start the monitor, which re-attaches to running research. Both
        wait: loading them is work the first requests (initialize, tools/list) must not wait
        for."""
        from ..state.base import StoreError

        await anyio.sleep(delay)
        try:
            await self.store()
        except StoreError as exc:
            message = f"The state store cannot be used: {exc}."
            if self.on_fatal is not None:
                self.on_fatal(message)
            raise StartupError(message) from None
        await self.share_with_replicas()
        await self.monitor()

    def on_research_update(self, listener: Callable[[str], Awaitable[None]]) -> None:
        """Call `listener` with a research's id whenever one ends or waits for its plan to be
        confirmed (on any replica sharing a Redis store)."""
        self._listeners.append(listener)

    async def announce(self, research_id: str) -> None:
        """Tell every listener of every replica that a research ended (or needs its plan)."""
        if self._events is not None:
            await self._events.publish(research_id)  # heard by this replica too
        else:
            await self._deliver(research_id)

    async def _deliver(self, research_id: str) -> None:
        for listener in list(self._listeners):
            try:
                await listener(research_id)
            except Exception:
                logger.exception("a research update listener failed for %s", research_id)

    async def share_with_replicas(self) -> None:
        """With a Redis store, hear the research updates every replica announces, and beat
        for this process while hearing whose heartbeat stopped."""
        from ..state import is_redis

        url = self.settings.state.strip()
        if not is_redis(url):
            return
        if self._tasks is None:
            raise RuntimeError("the server context has no task group to run in")
        from ..state.events import RedisEvents
        from ..state.heartbeats import RedisHeartbeats

        events = RedisEvents(url)
        await self._tasks.start(events.run, self._deliver)
        self._events = events
        await self._tasks.start(self.liveness.run, RedisHeartbeats(url))

    def use_monitor(self, monitor: ResearchMonitor) -> None:
        """Adopt a monitor already running (tests)."""
        self._monitor = monitor

    def use_store(self, store: Store) -> None:
        """Adopt an already open store (tests, or a store shared by several servers); whoever
        opened it closes it."""
        self._store = store
        self._store_adopted = True

    def use_client(self, client: InteractionsClient) -> None:
        """Adopt an already built upstream client (tests that tune its retries)."""
        self._client = client

    def conversation_lock(self, conversation_id: str) -> anyio.Lock:
        """One lock per conversation in this process: a second turn waits for the first."""
        lock = self._conversation_locks.get(conversation_id)
        if lock is None:
            lock = anyio.Lock()
            self._conversation_locks[conversation_id] = lock
        return lock

    def expired(self, updated_at: float) -> bool:
        """True for a record last updated longer ago than upstream keeps interactions."""
        return self.clock() - updated_at > self.settings.retention_days * DAY

    async def aclose(self) -> None:
        if self._events is not None:
            await self._events.aclose()
            self._events = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._store is not None:
            if not self._store_adopted:
                await self._store.close()
            self._store = None


DAY = 86_400.0

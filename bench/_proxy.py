"""A loopback TCP proxy that adds a round-trip time: each direction is late by half of it.

Bytes keep their order and pace (a stream of small events stays a stream, shifted in time),
and a new connection pays one extra round trip before its first bytes go through, as a TCP
handshake would. Used by ``bench/latency.py``; it can also run on its own::

    python bench/_proxy.py 127.0.0.1:8765 a=0 b=100 c=100

opens one port per ``NAME=RTT_MS`` and prints a JSON line mapping each name to its port, then
proxies until stdin closes; it then prints a JSON line with the number of connections each
port accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time

CHUNK = 64 * 1024


async def _pump(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    delay: float,
    not_before: float,
) -> None:
    """Copy `reader` to `writer`, each chunk `delay` seconds after it arrived."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def read() -> None:
        while True:
            try:
                data = await reader.read(CHUNK)
            except ConnectionError:
                data = b""
            due = max(time.monotonic(), not_before) + delay
            await queue.put((due, data))
            if not data:
                return

    async def write() -> None:
        while True:
            due, data = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                with contextlib.suppress(OSError):
                    if writer.can_write_eof():
                        writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    reading = asyncio.create_task(read())
    try:
        await write()
    finally:
        reading.cancel()


async def _connection(
    client_reader: asyncio.StreamReader,
    client_writer: asyncio.StreamWriter,
    target: tuple[str, int],
    rtt: float,
) -> None:
    accepted = time.monotonic()
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection(*target)
    except OSError:
        client_writer.close()
        return
    half = rtt / 2
    # The client's first bytes could not leave before a handshake round trip.
    outbound = _pump(client_reader, upstream_writer, half, accepted + rtt)
    inbound = _pump(upstream_reader, client_writer, half, accepted)
    try:
        async with asyncio.TaskGroup() as both:
            both.create_task(outbound)
            both.create_task(inbound)
    except* (ConnectionError, OSError):
        pass  # one side went away; the other is closed below
    finally:
        for writer in (client_writer, upstream_writer):
            writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await writer.wait_closed()


class Proxy:
    """A proxy to `target` adding `rtt_ms` per round trip; counts the connections it accepts."""

    def __init__(self, target: tuple[str, int], rtt_ms: float) -> None:
        self.target = target
        self.rtt = rtt_ms / 1000
        self.connections = 0

    async def start(self, host: str = "127.0.0.1") -> asyncio.Server:
        """Listen on an ephemeral port of `host`."""
        return await asyncio.start_server(self._handle, host, 0)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        # Connections still open at shutdown are cancelled; asyncio 3.11 would print each one.
        with contextlib.suppress(asyncio.CancelledError):
            await _connection(reader, writer, self.target, self.rtt)


async def _main(target: tuple[str, int], specs: list[str]) -> None:
    proxies: dict[str, Proxy] = {}
    servers: dict[str, asyncio.Server] = {}
    for spec in specs:
        name, _, rtt = spec.partition("=")
        proxies[name] = Proxy(target, float(rtt))
        servers[name] = await proxies[name].start()
    ports = {name: s.sockets[0].getsockname()[1] for name, s in servers.items()}
    sys.stdout.write(json.dumps(ports) + "\n")
    sys.stdout.flush()
    # Serve until the parent closes our stdin.
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    for server in servers.values():
        server.close()
    counts = {name: p.connections for name, p in proxies.items()}
    sys.stdout.write(json.dumps(counts) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    host, _, port = sys.argv[1].rpartition(":")
    asyncio.run(_main((host, int(port)), sys.argv[2:]))

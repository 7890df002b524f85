"""A TCP proxy on 127.0.0.1 that can cut, stall or slow a service, for fault tests.

The real PostgreSQL and Redis are shared with other people's tests, so they are never stopped: the
assistant under test reaches them through this proxy, and the proxy plays the fault.

- ``up``: forwards bytes both ways;
- ``down``: closes every connection and refuses new ones (a stopped server);
- ``slow``: forwards each chunk after ``delay`` seconds (a slow or overloaded server);
- ``stall``: accepts and reads, forwards nothing (a hung server or a network black hole).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Optional, Set


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.mode = "up"
        self.delay = 0.0
        self.loop = asyncio.new_event_loop()
        self._server: Optional[asyncio.base_events.Server] = None
        self._writers: Set[asyncio.StreamWriter] = set()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True, name=f"proxy-{self.port}")

    def __enter__(self) -> "TcpProxy":
        self._thread.start()
        self._call(self._listen())
        return self

    def __exit__(self, *exc) -> None:
        self._call(self._close_all(stop_listening=True))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)

    def _call(self, coroutine, timeout: float = 10.0):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    # ------------------------------------------------------------------ modes (called from tests)
    def up(self) -> None:
        self.mode, self.delay = "up", 0.0
        self._call(self._listen())

    def down(self) -> None:
        self.mode = "down"
        self._call(self._close_all(stop_listening=True))

    def slow(self, delay: float) -> None:
        self.mode, self.delay = "slow", delay
        self._call(self._listen())

    def stall(self) -> None:
        self.mode = "stall"
        self._call(self._listen())

    # ------------------------------------------------------------------------------- internals
    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)

    async def _close_all(self, stop_listening: bool) -> None:
        if stop_listening and self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "down":
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer),
                             return_exceptions=True)
        for w in (writer, up_writer):
            self._writers.discard(w)
            w.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            data = await reader.read(65536)
            if not data:
                writer.transport.abort()
                return
            while self.mode == "stall":
                await asyncio.sleep(0.05)
            if self.mode == "slow" and self.delay:
                await asyncio.sleep(self.delay)
            if self.mode == "down":
                return
            writer.write(data)
            await writer.drain()

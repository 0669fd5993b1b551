"""A loopback TCP proxy that makes every network round trip cost ``rtt`` seconds.

Each direction delays every chunk by ``rtt / 2`` (latency, not bandwidth: order is kept
and chunks overlap in flight). The TCP handshake is simulated too: the upstream
connection opens ``1.5 * rtt`` after the client's, so that, as on a real network, the
server's greeting reaches the client two round trips after it began to connect.

A delay inside the server would hide what pipelining saves; this one does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from typing import Self


class DelayProxy:
    """``with DelayProxy(("127.0.0.1", port), rtt=0.05) as proxy: proxy.port``."""

    def __init__(self, upstream: tuple[str, int], *, rtt: float) -> None:
        self.upstream = upstream
        self.rtt = rtt
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self.connections = 0

    def __enter__(self) -> Self:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _handle(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        half = self.rtt / 2
        opened = time.monotonic()
        up_queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        reader_task = asyncio.create_task(_collect(c_reader, up_queue, half))
        await asyncio.sleep(max(0.0, opened + 1.5 * self.rtt - time.monotonic()))
        try:
            u_reader, u_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            c_writer.close()
            reader_task.cancel()
            return
        with contextlib.suppress(OSError):
            u_writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            c_writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        down_queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        tasks = [
            reader_task,
            asyncio.create_task(_deliver(up_queue, u_writer)),
            asyncio.create_task(_collect(u_reader, down_queue, half)),
            asyncio.create_task(_deliver(down_queue, c_writer)),
        ]
        try:
            await asyncio.gather(*tasks)
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            for task in tasks:
                task.cancel()
            c_writer.close()
            u_writer.close()


async def _collect(
    reader: asyncio.StreamReader, queue: asyncio.Queue[tuple[float, bytes]], delay: float
) -> None:
    while True:
        data = await reader.read(65536)
        await queue.put((time.monotonic() + delay, data))
        if not data:
            return


async def _deliver(queue: asyncio.Queue[tuple[float, bytes]], writer: asyncio.StreamWriter) -> None:
    while True:
        at, data = await queue.get()
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        if not data:
            with contextlib.suppress(OSError):
                writer.write_eof()
            return
        writer.write(data)
        await writer.drain()

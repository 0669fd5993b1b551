"""The blocking twin's thread bridge: the bulk engine in a thread with its own loop.

:func:`iterate` starts the engine in a daemon thread running its own event loop and
hands its results to the caller's thread through a queue. Stopping the iterator early
(``break``, ``close()``, an exception such as KeyboardInterrupt) cancels the engine and
waits a bounded time for its thread to end; the engine's connections close with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass

from smtpcheck._address import Address
from smtpcheck._engine import Engine
from smtpcheck._memory_store import Memory
from smtpcheck._policy import Policy
from smtpcheck._resolver import AsyncMailHostResolver
from smtpcheck._result import Result

__all__ = ["iterate"]

#: Seconds the blocking iterator waits for the engine to stop when it is closed.
_STOP_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class _Done:
    """The engine thread's last word: the error that ended it, if any."""

    error: BaseException | None


class _Control:
    """The consumer's handle on the engine thread's loop, task and engine."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._engine: Engine | None = None
        self._stopped = False

    def attach(
        self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[None], engine: Engine
    ) -> bool:
        """Called by the engine thread; False when the consumer already stopped."""
        with self._lock:
            self._loop, self._task, self._engine = loop, task, engine
            return not self._stopped

    def _call(self, callback: Callable[[], object]) -> None:
        if self._loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has already closed
            self._loop.call_soon_threadsafe(callback)

    def release(self) -> None:
        """The consumer took a result: make room for another input."""
        with self._lock:
            if self._engine is not None:
                self._call(self._engine.release)

    def stop(self) -> None:
        """Cancel the engine, whenever it runs."""
        with self._lock:
            self._stopped = True
            if self._task is not None:
                self._call(self._task.cancel)


def iterate(
    addresses: Iterable[str | Address],
    policy: Policy,
    resolver: AsyncMailHostResolver,
    *,
    memory: Memory | None = None,
    fresh: bool = False,
) -> Generator[Result, None, None]:
    """Run the engine over ``addresses`` in a thread of its own; yield its results."""
    handover: queue.SimpleQueue[Result | _Done] = queue.SimpleQueue()
    control = _Control()
    thread = threading.Thread(
        target=_engine_thread,
        args=(addresses, policy, resolver, handover, control),
        kwargs={"memory": memory, "fresh": fresh},
        name="smtpcheck-verify-many",
        daemon=True,
    )
    thread.start()
    try:
        while True:
            item = handover.get()  # the engine thread always ends with a _Done
            if isinstance(item, _Done):
                if item.error is not None:
                    raise item.error
                return
            control.release()
            yield item
    finally:
        control.stop()
        thread.join(_STOP_TIMEOUT)


def _engine_thread(
    addresses: Iterable[str | Address],
    policy: Policy,
    resolver: AsyncMailHostResolver,
    handover: queue.SimpleQueue[Result | _Done],
    control: _Control,
    *,
    memory: Memory | None = None,
    fresh: bool = False,
) -> None:
    async def main() -> None:
        engine = Engine(policy, resolver, handover.put, memory=memory, fresh=fresh)
        task = asyncio.current_task()
        assert task is not None  # noqa: S101 - asyncio.run runs a task
        if control.attach(asyncio.get_running_loop(), task, engine):
            await engine.run(addresses)

    error: BaseException | None = None
    try:
        asyncio.run(main())
    except asyncio.CancelledError:
        pass  # the consumer stopped
    except BaseException as exc:  # noqa: BLE001 - handed to the consumer's thread
        error = exc
    handover.put(_Done(error))

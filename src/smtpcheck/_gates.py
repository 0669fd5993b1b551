"""Connection gates: admission services that hold slots and back off.

Two flavours of one service (see :mod:`smtpcheck._admission`), for the asyncio driver
and for blocking drivers in threads:

- ``policy.host_concurrency`` connections at once per mail host (its IP address and
  port), ``policy.concurrency`` overall;
- a host whose session was rate-limited (:attr:`Lesson.rate_limited
  <smtpcheck._admission.Lesson.rate_limited>`) is left alone for
  ``policy.rate_limit_delay``, doubled for each such session in a row up to eight times
  that; a clean session ends the back-off.

A slot is taken per host first, then overall, so that connections waiting for a busy
host do not hold overall slots that other hosts could use.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable

from smtpcheck._admission import Admit, Admitted, BackoffBook, HostKey, Release
from smtpcheck._policy import Policy

__all__ = ["Gates", "ThreadGates"]


class _AsyncSlots:
    __slots__ = ("semaphore", "users")

    def __init__(self, size: int) -> None:
        self.semaphore = asyncio.Semaphore(size)
        self.users = 0  # holding or waiting for a slot


class Gates:
    """The asyncio gates: bulk runs' per-host and overall limits, and back-off.

    Args:
        policy: Gives ``concurrency``, ``host_concurrency`` and ``rate_limit_delay``.
        clock: Monotonic seconds.
        sleep: Waits a number of seconds (the back-off).
    """

    def __init__(
        self,
        policy: Policy,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.host_size = policy.host_concurrency
        self.overall = asyncio.Semaphore(policy.concurrency)
        self.hosts: dict[HostKey, _AsyncSlots] = {}
        self.book = BackoffBook(policy.rate_limit_delay, clock)
        self.clock = clock
        self.sleep = sleep

    async def admit(self, request: Admit) -> Admitted:
        """Wait for a slot to the host (and for its back-off to end), then overall."""
        started = self.clock()
        key = request.key
        slots = self.hosts.get(key)
        if slots is None:
            slots = self.hosts[key] = _AsyncSlots(self.host_size)
        slots.users += 1
        try:
            await slots.semaphore.acquire()
            try:
                while (delay := self.book.wait(key)) > 0:
                    await self.sleep(delay)
                await self.overall.acquire()
            except BaseException:
                slots.semaphore.release()
                raise
        except BaseException:
            self._leave(key, slots)
            raise
        return Admitted(waited=max(0.0, self.clock() - started))

    async def release(self, request: Release) -> None:
        """Give both slots back; a rate-limited session starts (or extends) a back-off."""
        key = request.admit.key
        self.book.learn(key, request.lesson)
        self.overall.release()
        slots = self.hosts[key]
        slots.semaphore.release()
        self._leave(key, slots)

    def _leave(self, key: HostKey, slots: _AsyncSlots) -> None:
        slots.users -= 1
        if slots.users == 0:
            del self.hosts[key]


class _ThreadSlots:
    __slots__ = ("semaphore", "users")

    def __init__(self, size: int) -> None:
        self.semaphore = threading.Semaphore(size)
        self.users = 0


class ThreadGates:
    """The threading twin of :class:`Gates`, for blocking verifications in many threads.

    Args:
        policy: Gives ``concurrency``, ``host_concurrency`` and ``rate_limit_delay``.
        clock: Monotonic seconds.
        sleep: Waits a number of seconds (the back-off).
    """

    def __init__(
        self,
        policy: Policy,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.host_size = policy.host_concurrency
        self.overall = threading.Semaphore(policy.concurrency)
        self.hosts: dict[HostKey, _ThreadSlots] = {}
        self.book = BackoffBook(policy.rate_limit_delay, clock)
        self.clock = clock
        self.sleep = sleep
        self.lock = threading.Lock()

    def admit(self, request: Admit) -> Admitted:
        """Wait for a slot to the host (and for its back-off to end), then overall."""
        started = self.clock()
        key = request.key
        with self.lock:
            slots = self.hosts.get(key)
            if slots is None:
                slots = self.hosts[key] = _ThreadSlots(self.host_size)
            slots.users += 1
        try:
            slots.semaphore.acquire()
            try:
                while True:
                    with self.lock:
                        delay = self.book.wait(key)
                    if delay <= 0:
                        break
                    self.sleep(delay)
                self.overall.acquire()
            except BaseException:
                slots.semaphore.release()
                raise
        except BaseException:
            self._leave(key, slots)
            raise
        return Admitted(waited=max(0.0, self.clock() - started))

    def release(self, request: Release) -> None:
        """Give both slots back; a rate-limited session starts (or extends) a back-off."""
        key = request.admit.key
        with self.lock:
            self.book.learn(key, request.lesson)
            slots = self.hosts[key]
        self.overall.release()
        slots.semaphore.release()
        self._leave(key, slots)

    def _leave(self, key: HostKey, slots: _ThreadSlots) -> None:
        with self.lock:
            slots.users -= 1
            if slots.users == 0:
                del self.hosts[key]

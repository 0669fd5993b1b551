"""Admission across a cluster: per-host limits that hold for all of a cluster's workers.

Two egress modes, two answers to the plan's ``Admit``, each
wrapping the run's own ``Gates`` (the per-run gates of a bulk run) (overall limit, per-host limit
of the run, back-off from hosts that rate-limit us):

- shared egress (the workers share one public IP): :class:`ClusterAdmission` takes a
  lease of a :class:`distributed.Semaphore` per mail host (its IP address and port)
  with ``policy.host_concurrency`` leases, so that the whole cluster never has more
  connections open to one host. A worker that dies holds its leases until the
  scheduler's lease timeout (``distributed.scheduler.locks.lease-timeout``, 30 s by
  default) gives them back.
- egress of their own (each worker has its IP): :class:`WorkerAdmission` holds the
  per-host slots of this worker process, shared by all the partitions it runs at once,
  so that each worker keeps its own limits whatever its number of threads.

Both also share the back-off from a host that rate-limited a session among all the runs
of the worker process (a partition's own gates know only its own sessions).

The slots are blocking (a Dask semaphore is used from a thread that is not the worker's
event loop), so they are taken in threads of the admission's own; the run's gates are
asked first, so that at most ``policy.concurrency`` such threads wait at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from smtpcheck._admission import (
    Admit,
    Admitted,
    AsyncAdmission,
    BackoffBook,
    HostKey,
    Lesson,
    Refused,
    Release,
)
from smtpcheck._gates import Gates
from smtpcheck._policy import Policy

__all__ = ["ClusterAdmission", "WorkerAdmission"]


class _Slots(Protocol):
    """Blocking per-host slots."""

    def acquire(self, key: HostKey) -> None: ...

    def release(self, key: HostKey) -> None: ...


class _SharedBook:
    """A :class:`~smtpcheck._admission.BackoffBook` for every run of this process."""

    _lock = threading.Lock()
    _books: dict[float, BackoffBook] = {}  # noqa: RUF012 - one per process, on purpose

    def __init__(self, base: float) -> None:
        with self._lock:
            self.book = self._books.setdefault(base, BackoffBook(base, time.monotonic))

    def wait(self, key: HostKey) -> float:
        with self._lock:
            return self.book.wait(key)

    def learn(self, key: HostKey, lesson: Lesson) -> None:
        with self._lock:
            self.book.learn(key, lesson)


class _Layered:
    """The process's back-off, the inner admission, then a slot of ``slots`` for the host.

    The back-off from a host that rate-limited a session is shared by every run of the
    process (the partitions a worker verifies at once), not only by the run that met it.
    """

    def __init__(self, policy: Policy, slots: _Slots, inner: AsyncAdmission | None) -> None:
        self.inner: AsyncAdmission = inner if inner is not None else Gates(policy)
        self.slots = slots
        self.book = _SharedBook(policy.rate_limit_delay)
        self.threads = concurrent.futures.ThreadPoolExecutor(
            max_workers=policy.concurrency, thread_name_prefix="smtpcheck-admission"
        )
        # Slots go back through a thread of their own, never queued behind waiting ones.
        self.returns = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="smtpcheck-admission-release"
        )

    async def admit(self, request: Admit) -> Admitted | Refused:
        """Wait out the process's back-off, ask the inner admission, wait for the slot."""
        started = time.monotonic()
        while (delay := self.book.wait(request.key)) > 0:
            await asyncio.sleep(delay)
        first = await self.inner.admit(request)
        if isinstance(first, Refused):
            return first
        taking = self.threads.submit(self.slots.acquire, request.key)
        try:
            await asyncio.wrap_future(taking)
        except BaseException:
            # Cancelled while waiting: the slot, once taken, goes back at once.
            taking.add_done_callback(lambda done: self._undo(done, request.key))
            await self.inner.release(Release(request, _EMPTY_LESSON))
            raise
        return Admitted(waited=time.monotonic() - started)

    def _undo(self, done: concurrent.futures.Future[None], key: HostKey) -> None:
        if not done.cancelled() and done.exception() is None:
            self.slots.release(key)

    async def release(self, request: Release) -> None:
        """Take the lesson; give the host's slot back (even if cancelled), then the inner."""
        self.book.learn(request.admit.key, request.lesson)
        giving = self.returns.submit(self.slots.release, request.admit.key)
        try:
            await asyncio.shield(asyncio.wrap_future(giving))  # cancelled, it still goes back
        finally:
            await self.inner.release(request)

    def close(self) -> None:
        """Stop the admission's threads (after the run); slots being given back still are."""
        self.threads.shutdown(wait=False, cancel_futures=True)
        self.returns.shutdown(wait=False)


_EMPTY_LESSON = Lesson()


class _Shared:
    """Per-host slot objects of this process, kept while in use (and a few more).

    ``users`` counts the connections holding or waiting for a host's slot; a host that
    has none is forgotten once more than :data:`_KEPT` hosts are known, so that a run
    over millions of hosts keeps a bounded number of objects.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.slots: dict[Any, Any] = {}
        self.users: dict[Any, int] = {}

    def enter(self, name: Any, make: Callable[[], Any]) -> Any:
        with self.lock:
            slot = self.slots.get(name)
            if slot is None:
                slot = self.slots[name] = make()
            self.users[name] = self.users.get(name, 0) + 1
            return slot

    def leave(self, name: Any, forget: Callable[[Any], object]) -> None:
        with self.lock:
            self.users[name] -= 1
            if self.users[name] == 0:
                del self.users[name]
                if len(self.slots) > _KEPT:
                    forget(self.slots.pop(name))


#: Hosts whose slot objects a process keeps when no connection uses them.
_KEPT = 1024
_CLUSTER = _Shared()
_PROCESS = _Shared()


def _stop_refreshing(semaphore: Any) -> None:
    callback = getattr(semaphore, "refresh_callback", None)
    if callback is not None:
        callback.stop()


class _ClusterSlots:
    """A :class:`distributed.Semaphore` per host, one object per host in this process."""

    def __init__(self, size: int, prefix: str) -> None:
        from distributed import get_client, get_worker  # noqa: PLC0415 - on the worker

        self.size = size
        self.prefix = prefix
        # Found now, in the task's thread: the admission's own threads are not a task's.
        try:
            worker = get_worker()
            self.scheduler, self.loop = worker.scheduler, worker.loop
        except ValueError:  # a client's process, not a worker's
            client = get_client()
            self.scheduler, self.loop = client.scheduler, client.loop

    def _name(self, key: HostKey) -> str:
        # The number of leases is in the name: a semaphore's size is fixed once made.
        return f"{self.prefix}:{key[0]}:{key[1]}:{self.size}"

    def _make(self, name: str) -> Any:
        from distributed import Semaphore  # noqa: PLC0415 - on the worker, when first needed

        return Semaphore(
            max_leases=self.size, name=name, scheduler_rpc=self.scheduler, loop=self.loop
        )

    def acquire(self, key: HostKey) -> None:
        name = self._name(key)
        semaphore = _CLUSTER.enter(name, lambda: self._make(name))
        try:
            semaphore.acquire()
        except BaseException:
            _CLUSTER.leave(name, _stop_refreshing)
            raise

    def release(self, key: HostKey) -> None:
        name = self._name(key)
        try:
            _CLUSTER.slots[name].release()
        finally:
            _CLUSTER.leave(name, _stop_refreshing)


class _ProcessSlots:
    """A threading semaphore per host, shared by every run of this process."""

    def __init__(self, size: int) -> None:
        self.size = size

    def acquire(self, key: HostKey) -> None:
        name = (key, self.size)
        semaphore = _PROCESS.enter(name, lambda: threading.Semaphore(self.size))
        try:
            semaphore.acquire()
        except BaseException:
            _PROCESS.leave(name, lambda _: None)
            raise

    def release(self, key: HostKey) -> None:
        name = (key, self.size)
        try:
            _PROCESS.slots[name].release()
        finally:
            _PROCESS.leave(name, lambda _: None)


class ClusterAdmission(_Layered):
    """Admission for workers that share one public IP: per-host limits cluster-wide.

    An asyncio admission service (it answers the plan's ``Admit`` and ``Release``):
    the run's own gates first (``inner``), then a lease of a
    :class:`distributed.Semaphore` named after the mail host's IP address and port, with
    ``policy.host_concurrency`` leases, so that the whole cluster never has more than
    that many connections open to one mail host. It is used on the workers, inside a
    Dask task (it reaches the scheduler through the worker).

    Args:
        policy: Gives ``host_concurrency`` (and the inner gates' limits).
        inner: The admission asked first; the policy's ``Gates`` (the per-run gates of a bulk run)
            when None.
        prefix: The start of the semaphores' names, to keep runs with other limits
            apart.
    """

    def __init__(
        self, policy: Policy, *, inner: AsyncAdmission | None = None, prefix: str = "smtpcheck"
    ) -> None:
        super().__init__(policy, _ClusterSlots(policy.host_concurrency, prefix), inner)


class WorkerAdmission(_Layered):
    """Admission for workers with IPs of their own: per-host limits per worker process.

    Like :class:`ClusterAdmission`, with slots shared by every partition this worker
    process verifies at once instead of by the cluster.

    Args:
        policy: Gives ``host_concurrency`` (and the inner gates' limits).
        inner: The admission asked first; the policy's ``Gates`` (the per-run gates of a bulk run)
            when None.
    """

    def __init__(self, policy: Policy, *, inner: AsyncAdmission | None = None) -> None:
        super().__init__(policy, _ProcessSlots(policy.host_concurrency), inner)

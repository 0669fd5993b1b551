"""Verify many addresses politely: :func:`verify_many` and :func:`averify_many`.

One asyncio engine does the work; the blocking twin runs it in a thread of its own.

- The input is read lazily. At most ``_WINDOW`` addresses are in the engine at once
  (read, and not yet taken by the caller): a slow caller pauses the reading.
- Each address is parsed; an invalid one is answered at once. The others wait in a
  bucket per domain, which goes out as a batch (one SMTP session: the addresses and
  the catch-all probe, ``policy.max_recipients`` RCPT TO at most) when it is full, when
  it has waited ``_LINGER`` seconds, when buckets hold half the window and it is full
  (the largest buckets first), or at the end of the input.
- A domain's first batch runs alone and learns the reply to the catch-all probe; the
  later batches reuse it (the probe is asked once per domain) and run side by side.
  Different domains run concurrently.
- Every connection passes a gate: ``policy.host_concurrency`` at once per mail host
  (IP address and port), ``policy.concurrency`` overall. Time spent waiting at the gate
  does not count against a batch's ``policy.timeout``.
- Back-off: when a batch has an address answered ``RATE_LIMITED`` or
  ``TEMPORARY_FAILURE``, new connections to the hosts it used wait
  ``policy.rate_limit_delay``, doubled for each such batch in a row up to eight times
  that; a batch without them ends the back-off. ``RATE_LIMITED`` and
  ``TEMPORARY_FAILURE`` addresses are asked again after it (``policy.rate_limit_retries``
  times: Postfix's postscreen answers a new client ``450 4.3.2`` once, then lets it
  through), ``GREYLISTED`` ones after
  ``policy.greylist_delay`` (``policy.greylist_retries`` times). They keep their place in
  the window while they wait.
- An unexpected error in a batch gives each of its addresses an ``unknown`` result
  (reason ``protocol_error``, the error in ``detail``); the run carries on.

Memory stays flat however long the input: the engine holds the window, one small
record per domain and per mail host in use, and the catch-all replies of the last
``_REMEMBERED_DOMAINS`` domains.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass

from smtpcheck import _async
from smtpcheck._address import Address
from smtpcheck._api import _resolver
from smtpcheck._drivers import helo_name
from smtpcheck._errors import InvalidAddress
from smtpcheck._policy import Policy
from smtpcheck._resolver import ResolverProtocol
from smtpcheck._result import Reason, Result, Verdict
from smtpcheck._verifier import invalid, parse, plan_domain
from smtpcheck.protocol import Reply

__all__ = ["averify_many", "verify_many"]

_DEFAULT_POLICY = Policy()

#: Addresses read and not yet taken by the caller, at most.
_WINDOW = 4096
#: Seconds an incomplete bucket waits for more addresses of its domain.
_LINGER = 0.2
#: The longest back-off, in multiples of ``policy.rate_limit_delay``.
_MAX_BACKOFF = 8
#: Domains whose catch-all reply is remembered after their last address has gone.
_REMEMBERED_DOMAINS = 4096
#: Addresses read between two yields to the event loop.
_READ_SLICE = 64
#: Seconds the blocking iterator waits for the engine to stop when it is closed.
_STOP_TIMEOUT = 10.0

_BACKOFF_REASONS = frozenset({Reason.RATE_LIMITED, Reason.TEMPORARY_FAILURE})


def verify_many(
    addresses: Iterable[str | Address],
    /,
    *,
    policy: Policy | None = None,
    resolver: ResolverProtocol | None = None,
) -> Iterator[Result]:
    """Verify many addresses; yield each :class:`Result` as soon as it is known.

    Addresses of one domain share SMTP sessions (several ``RCPT TO`` in each, the
    catch-all probe asked once per domain), domains are verified concurrently, and the
    policy's politeness limits hold: ``concurrency``, ``host_concurrency``, the back-off
    from hosts that rate-limit, and the greylisting retries (see :class:`Policy`).

    Every input gets exactly one result, duplicates included, with the text given in
    :attr:`Result.address`; results come in the order they complete, not the input's.
    The input is read lazily (a generator of a million lines is fine) from a thread of
    the run's own, at most a few thousand addresses ahead of the caller.

    It works from any thread, including one that runs an event loop: the work runs in a
    background thread with its own event loop. Stopping early (``break``, closing the
    iterator, an exception such as KeyboardInterrupt) stops that thread and closes its
    connections.

    Args:
        addresses: The addresses, as a person typed them, or :class:`Address` objects.
        policy: What to do; the default :class:`Policy` when None.
        resolver: Where to look up mail hosts; a shared :class:`Resolver` using the
            system's DNS configuration when None.

    Returns:
        An iterator of results, one per input.

    Raises:
        TypeError: When ``addresses`` is a single string.

    Errors raised by the input iterable itself are raised by the iterator after the
    results of the addresses read before it.

    Example:
        >>> results = verify_many(["not an address", "@nowhere"],
        ...                       policy=Policy(helo_name="client.example"))
        >>> sorted(r.reason.value for r in results)
        ['invalid_syntax', 'invalid_syntax']
    """
    _check_input(addresses)
    return _iterate(addresses, policy or _DEFAULT_POLICY, _resolver(resolver))


async def averify_many(
    addresses: Iterable[str | Address] | AsyncIterable[str | Address],
    /,
    *,
    policy: Policy | None = None,
    resolver: ResolverProtocol | None = None,
) -> AsyncIterator[Result]:
    """The asyncio twin of :func:`verify_many`; also takes an async iterable.

    A plain iterable is read in the event loop's thread, so it must not block (a list,
    a file); pass an async iterable for a source that waits. Leaving the ``async for``
    early and closing the generator (``aclose()``) stops the work.

    Args:
        addresses: The addresses, as a person typed them, or :class:`Address` objects.
        policy: What to do; the default :class:`Policy` when None.
        resolver: Where to look up mail hosts; a shared :class:`Resolver` using the
            system's DNS configuration when None.

    Yields:
        One result per input, as each completes.

    Raises:
        TypeError: When ``addresses`` is a single string.

    Example:
        >>> import asyncio
        >>> async def main():
        ...     policy = Policy(helo_name="client.example")
        ...     return [r.verdict.value async for r in averify_many(["nope"], policy=policy)]
        >>> asyncio.run(main())
        ['undeliverable']
    """
    _check_input(addresses)
    policy = policy or _DEFAULT_POLICY
    results: asyncio.Queue[Result | None] = asyncio.Queue()
    engine = _Engine(policy, _resolver(resolver), results.put_nowait)
    task = asyncio.create_task(engine.run(addresses))
    task.add_done_callback(lambda _: results.put_nowait(None))
    try:
        while (result := await results.get()) is not None:
            engine.release()
            yield result
        task.result()  # the input's own error, if it raised one
    finally:
        if not task.done():
            task.cancel()
            await asyncio.wait([task])


def _check_input(addresses: object) -> None:
    if isinstance(addresses, str | bytes | Address):
        raise TypeError("verify_many takes an iterable of addresses; for one, use verify()")


# -- the blocking iterator -------------------------------------------------------------


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
        self._engine: _Engine | None = None
        self._stopped = False

    def attach(
        self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[None], engine: _Engine
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


def _iterate(
    addresses: Iterable[str | Address], policy: Policy, resolver: ResolverProtocol
) -> Iterator[Result]:
    handover: queue.SimpleQueue[Result | _Done] = queue.SimpleQueue()
    control = _Control()
    thread = threading.Thread(
        target=_engine_thread,
        args=(addresses, policy, resolver, handover, control),
        name="smtpcheck-verify-many",
        daemon=True,
    )
    thread.start()
    try:
        while True:
            try:
                item = handover.get(timeout=0.5)
            except queue.Empty:
                if thread.is_alive():
                    continue
                try:  # it may have said its last word just before it ended
                    item = handover.get_nowait()
                except queue.Empty:  # pragma: no cover - the thread always says it
                    raise RuntimeError("the verify_many engine stopped unexpectedly") from None
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
    resolver: ResolverProtocol,
    handover: queue.SimpleQueue[Result | _Done],
    control: _Control,
) -> None:
    async def main() -> None:
        engine = _Engine(policy, resolver, handover.put)
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


# -- the engine ------------------------------------------------------------------------


@dataclass(slots=True)
class _Item:
    """One input in flight, with the retries it has had."""

    given: str
    address: Address
    greylisted: int = 0
    limited: int = 0


class _Domain:
    """The addresses of one domain in the window, and what the run learned of it."""

    __slots__ = (
        "born",
        "bucket",
        "lock",
        "name",
        "pending",
        "random_reply",
        "tried",
    )

    def __init__(self, name: str, random_reply: Reply | None) -> None:
        self.name = name
        self.bucket: list[_Item] = []
        self.born = 0.0
        self.pending = 0  # read and not yet answered, bucket included
        self.random_reply = random_reply
        self.tried = random_reply is not None  # a batch has asked the catch-all probe
        self.lock = asyncio.Lock()


class _Host:
    """One mail host (IP address and port): its connection slots and its back-off."""

    __slots__ = ("resume_at", "slots", "strikes", "users")

    def __init__(self, slots: int) -> None:
        self.slots = asyncio.Semaphore(slots)
        self.users = 0  # holding or waiting for a slot
        self.strikes = 0  # batches in a row that met rate limits
        self.resume_at = 0.0


class _Gates:
    """The connection caps (per host and overall) and the hosts' back-off."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.overall = asyncio.Semaphore(policy.concurrency)
        self.hosts: dict[tuple[str, int], _Host] = {}

    def _host(self, key: tuple[str, int]) -> _Host:
        host = self.hosts.get(key)
        if host is None:
            host = self.hosts[key] = _Host(self.policy.host_concurrency)
        return host

    def _forget(self, key: tuple[str, int], host: _Host) -> None:
        if host.users == 0 and host.strikes == 0:
            self.hosts.pop(key, None)

    @contextlib.asynccontextmanager
    async def enter(self, batch: _Batch, ip: str, port: int) -> AsyncIterator[None]:
        """Hold a connection slot for ``batch`` (its clock stops while it waits)."""
        key = (ip, port)
        batch.hosts.add(key)
        host = self._host(key)
        host.users += 1
        waited_from = time.monotonic()
        try:
            async with host.slots:
                delay = host.resume_at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                async with self.overall:
                    batch.paused += time.monotonic() - waited_from
                    yield
        finally:
            host.users -= 1
            self._forget(key, host)

    def record(self, hosts: Iterable[tuple[str, int]], *, limited: bool) -> None:
        """After a batch: back off from its hosts when it met rate limits, else forgive."""
        base = self.policy.rate_limit_delay
        for key in hosts:
            host = self._host(key)
            if limited:
                host.strikes += 1
                delay = min(base * 2 ** (host.strikes - 1), base * _MAX_BACKOFF)
                host.resume_at = max(host.resume_at, time.monotonic() + delay)
            else:
                host.strikes = 0
            self._forget(key, host)


class _Batch:
    """One batch's view of time: a clock that stops while it waits at the gate."""

    __slots__ = ("hosts", "paused")

    def __init__(self) -> None:
        self.paused = 0.0
        self.hosts: set[tuple[str, int]] = set()

    def clock(self) -> float:
        return time.monotonic() - self.paused


class _Engine:
    """Reads the input, groups it by domain, runs the batches, emits the results."""

    def __init__(
        self, policy: Policy, resolver: ResolverProtocol, emit: Callable[[Result], object]
    ) -> None:
        self.policy = policy
        self.resolver = resolver
        self.emit = emit
        self.window = asyncio.Semaphore(_WINDOW)
        self.gates = _Gates(policy)
        self.domains: dict[str, _Domain] = {}
        self.open: dict[str, _Domain] = {}  # domains with a non-empty bucket
        self.waiting = 0  # addresses in buckets
        self.learned: OrderedDict[str, Reply] = OrderedDict()
        self.helo: str | None = None
        self.group: asyncio.TaskGroup | None = None

    def release(self) -> None:
        """The caller took a result: one more address may be read."""
        self.window.release()

    async def run(self, source: Iterable[str | Address] | AsyncIterable[str | Address]) -> None:
        """Verify every address of ``source``; return when each result was emitted."""
        self.helo = await asyncio.to_thread(helo_name, self.policy.helo_name)
        failure: Exception | None = None
        async with asyncio.TaskGroup() as group:
            self.group = group
            lingering = group.create_task(self._linger())
            try:
                await self._read(source)
            except Exception as exc:  # noqa: BLE001 - the input's error, raised at the end
                failure = exc
            lingering.cancel()
            for domain in list(self.open.values()):
                self._dispatch(domain)
        if failure is not None:
            raise failure

    # -- reading and grouping

    async def _read(self, source: Iterable[str | Address] | AsyncIterable[str | Address]) -> None:
        count = 0
        if isinstance(source, AsyncIterable):
            async for item in source:
                await self._take(item)
                count += 1
                if count % _READ_SLICE == 0:
                    await asyncio.sleep(0)
        else:
            for item in source:
                await self._take(item)
                count += 1
                if count % _READ_SLICE == 0:
                    await asyncio.sleep(0)

    async def _take(self, item: str | Address) -> None:
        if self.window.locked() and self.waiting >= _WINDOW // 2:
            self._flush_largest()
        await self.window.acquire()
        given = item if isinstance(item, str) else item.normalized
        parsed = parse(item, self.policy)
        if isinstance(parsed, InvalidAddress):
            self.emit(invalid(given, parsed))
            return
        key = parsed.ascii_domain
        domain = self.domains.get(key)
        if domain is None:
            domain = self.domains[key] = _Domain(key, self.learned.pop(key, None))
        domain.pending += 1
        if not domain.bucket:
            domain.born = time.monotonic()
            self.open[key] = domain
        domain.bucket.append(_Item(given, parsed))
        self.waiting += 1
        if len(domain.bucket) >= self._capacity(domain):
            self._dispatch(domain)

    def _capacity(self, domain: _Domain) -> int:
        probe = self.policy.catch_all_probe and domain.random_reply is None
        return max(1, self.policy.max_recipients - probe)

    def _flush_largest(self) -> None:
        """Send out the largest buckets until they hold a quarter of the window."""
        for domain in sorted(self.open.values(), key=lambda d: len(d.bucket), reverse=True):
            if self.waiting < _WINDOW // 4:
                break
            self._dispatch(domain)

    async def _linger(self) -> None:
        while True:
            await asyncio.sleep(_LINGER / 2)
            old = time.monotonic() - _LINGER
            for domain in [d for d in self.open.values() if d.born <= old]:
                self._dispatch(domain)

    def _dispatch(self, domain: _Domain) -> None:
        items, domain.bucket = domain.bucket, []
        self.open.pop(domain.name, None)
        self.waiting -= len(items)
        if items:
            self._start(domain, items, delay=0.0)

    def _start(self, domain: _Domain, items: list[_Item], *, delay: float) -> None:
        assert self.group is not None  # noqa: S101 - set by run
        self.group.create_task(self._batch(domain, items, delay))

    # -- running a batch

    async def _batch(self, domain: _Domain, items: list[_Item], delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        batch = _Batch()
        try:
            results = await self._ask(domain, items, batch)
        except Exception as exc:  # noqa: BLE001 - a crash must not lose the inputs
            results = [_crashed(item, exc) for item in items]
        self._settle(domain, items, results, batch)

    async def _ask(self, domain: _Domain, items: list[_Item], batch: _Batch) -> list[Result]:
        if self.policy.catch_all_probe and not domain.tried:
            # The first batch of a domain runs alone, to ask the catch-all probe once.
            async with domain.lock:
                if not domain.tried:
                    try:
                        return await self._plan(domain, items, batch)
                    finally:
                        domain.tried = True
        return await self._plan(domain, items, batch)

    async def _plan(self, domain: _Domain, items: list[_Item], batch: _Batch) -> list[Result]:
        steps = plan_domain(
            [(item.given, item.address) for item in items],
            policy=self.policy,
            helo_name=self.helo,
            clock=batch.clock,
            random_reply=domain.random_reply,
        )
        found = await _async.drive(
            steps,
            policy=self.policy,
            resolver=self.resolver,
            gate=lambda ip, port: self.gates.enter(batch, ip, port),
        )
        if domain.random_reply is None and _definitive(found.random_reply):
            domain.random_reply = found.random_reply
        if len(found.results) != len(items):  # pragma: no cover - plan_domain's contract
            raise RuntimeError(f"{len(found.results)} results for {len(items)} addresses")
        return found.results

    def _settle(
        self, domain: _Domain, items: list[_Item], results: list[Result], batch: _Batch
    ) -> None:
        policy = self.policy
        self.gates.record(batch.hosts, limited=any(r.reason in _BACKOFF_REASONS for r in results))
        greylisted: list[_Item] = []
        limited: list[_Item] = []
        for item, result in zip(items, results, strict=True):
            if result.reason is Reason.GREYLISTED and item.greylisted < policy.greylist_retries:
                item.greylisted += 1
                greylisted.append(item)
            elif result.reason in _BACKOFF_REASONS and item.limited < policy.rate_limit_retries:
                item.limited += 1
                limited.append(item)  # the gate holds it back until the host's back-off ends
            else:
                domain.pending -= 1
                self.emit(result)
        if greylisted:
            self._start(domain, greylisted, delay=policy.greylist_delay)
        if limited:
            self._start(domain, limited, delay=0.0)
        if domain.pending == 0:
            del self.domains[domain.name]
            if domain.random_reply is not None:
                self.learned[domain.name] = domain.random_reply
                if len(self.learned) > _REMEMBERED_DOMAINS:
                    self.learned.popitem(last=False)


def _definitive(reply: Reply | None) -> bool:
    """Whether a reply to the catch-all probe may stand for the rest of the domain.

    A temporary one (greylisting, a rate limit) may not: the next batch asks again.
    """
    return reply is not None and not 400 <= reply.code < 500


def _crashed(item: _Item, exc: Exception) -> Result:
    return Result(
        address=item.given,
        normalized=item.address.normalized,
        verdict=Verdict.UNKNOWN,
        reason=Reason.PROTOCOL_ERROR,
        detail=f"smtpcheck failed while verifying it: {type(exc).__name__}: {exc}",
    )

"""The bulk engine: many addresses, grouped by domain, through the verification plan.

One asyncio engine does the work of :func:`~smtpcheck.verify_many` and
:func:`~smtpcheck.averify_many`:

- The input is read lazily. At most ``WINDOW`` addresses are in the engine at once
  (read, and not yet taken by the caller): a slow caller pauses the reading.
- Each address is parsed; an invalid one is answered at once. Inputs with the same
  normalised address that are in flight together share one verification; each still
  gets its own result, with its own text in :attr:`Result.address`.
- The others wait in a bucket per domain, which goes out as a batch (one plan of
  :func:`~smtpcheck._verifier.plan_domain`: as many addresses as
  :func:`~smtpcheck._verifier.session_capacity` says fit in a session) when it is full,
  when it has waited ``_LINGER`` seconds, when buckets hold half the window and it is
  full (the largest buckets first), or at the end of the input.
- A domain's first batch runs alone and learns the reply to the catch-all probe; the
  later batches reuse it (the probe is asked once per domain) and run side by side.
  Different domains run concurrently.
- Every connection is admitted by the run's gates (:class:`~smtpcheck._gates.Gates`:
  per-host and overall slots, back-off from rate-limiting hosts), a step of the plan.
- ``RATE_LIMITED`` and ``TEMPORARY_FAILURE`` addresses are asked again
  (``policy.rate_limit_retries`` times: Postfix's postscreen answers a new client
  ``450 4.3.2`` once, then lets it through); the gates hold them back until the host's
  back-off ends. ``GREYLISTED`` ones are asked again after ``policy.greylist_delay``
  (``policy.greylist_retries`` times). They keep their place in the window meanwhile.
- A bug in a batch gives each of its addresses an ``internal_error`` result, logged
  with its traceback; the run carries on.

Memory stays flat however long the input: the engine holds the window, one small
record per domain and per mail host in use, and the catch-all replies of the last
``_REMEMBERED_DOMAINS`` domains.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterable, Callable, Iterable
from dataclasses import dataclass

from smtpcheck import _async
from smtpcheck._address import Address
from smtpcheck._admission import AsyncAdmission
from smtpcheck._drivers import helo_name
from smtpcheck._errors import InvalidAddress
from smtpcheck._gates import Gates
from smtpcheck._memory_admission import aremembering
from smtpcheck._memory_store import Memory
from smtpcheck._policy import Policy
from smtpcheck._resolver import AsyncMailHostResolver
from smtpcheck._result import Reason, Result
from smtpcheck._verifier import (
    BACKOFF_REASONS,
    crashed,
    invalid,
    parse,
    plan_domain,
    probe_needed,
    session_capacity,
    settles_catch_all,
)
from smtpcheck.protocol import Reply

__all__ = ["WINDOW", "Engine"]

_log = logging.getLogger("smtpcheck")

#: Addresses read and not yet taken by the caller, at most.
WINDOW = 4096
#: Seconds an incomplete bucket waits for more addresses of its domain.
_LINGER = 0.2
#: Domains whose catch-all reply is remembered after their last address has gone.
_REMEMBERED_DOMAINS = 4096
#: Addresses read between two yields to the event loop.
_READ_SLICE = 64


@dataclass(slots=True)
class _Item:
    """One input in flight, with the retries it has had and the inputs that share it."""

    given: str
    address: Address
    greylisted: int = 0
    limited: int = 0
    twins: list[str] = dataclasses.field(default_factory=list)


class _Domain:
    """The addresses of one domain in the window, and what the run learned of it."""

    __slots__ = (
        "born",
        "bucket",
        "lock",
        "name",
        "pending",
        "random_reply",
        "recipient_limit",
        "tried",
    )

    def __init__(self, name: str, random_reply: Reply | None) -> None:
        self.name = name
        self.bucket: list[_Item] = []
        self.born = 0.0
        self.pending = 0  # read and not yet answered, bucket included
        self.random_reply = random_reply
        self.recipient_limit: int | None = None  # RCPT a transaction, when the host said
        self.tried = random_reply is not None  # a batch has asked the catch-all probe
        self.lock = asyncio.Lock()


class Engine:
    """Reads the input, groups it by domain, runs the batches, emits the results.

    Args:
        policy: What to do.
        resolver: Where to look up mail hosts.
        emit: Called with each result, once per input.
        admission: Admits the connections; the run's own :class:`Gates` when None.
        memory: What earlier runs learned, and where this run's lessons go; wraps the
            admission (:mod:`smtpcheck._memory_admission`). None: no memory.
        fresh: Ask again even for addresses whose definite result is remembered.
    """

    def __init__(
        self,
        policy: Policy,
        resolver: AsyncMailHostResolver,
        emit: Callable[[Result], object],
        admission: AsyncAdmission | None = None,
        *,
        memory: Memory | None = None,
        fresh: bool = False,
    ) -> None:
        self.policy = policy
        self.memory = memory
        self.fresh = fresh
        self.resolver = resolver
        self.emit = emit
        self.admission: AsyncAdmission = admission or Gates(policy)
        self.window = asyncio.Semaphore(WINDOW)
        self.domains: dict[str, _Domain] = {}
        self.open: dict[str, _Domain] = {}  # domains with a non-empty bucket
        self.inflight: dict[str, _Item] = {}  # by normalised address
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
        self.admission = (
            aremembering(self.admission, self.memory, self.policy, self.helo) or self.admission
        )
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
        if self.window.locked() and self.waiting >= WINDOW // 2:
            self._flush_largest()
        await self.window.acquire()
        given = item if isinstance(item, str) else item.normalized
        parsed = parse(item, self.policy)
        if isinstance(parsed, InvalidAddress):
            self.emit(invalid(given, parsed))
            return
        leader = self.inflight.get(parsed.normalized)
        if leader is not None:
            leader.twins.append(given)  # answered with the leader's result
            return
        key = parsed.ascii_domain
        domain = self.domains.get(key)
        if domain is None:
            domain = self.domains[key] = _Domain(key, self.learned.pop(key, None))
        domain.pending += 1
        if not domain.bucket:
            domain.born = time.monotonic()
            self.open[key] = domain
        entry = _Item(given, parsed)
        self.inflight[parsed.normalized] = entry
        domain.bucket.append(entry)
        self.waiting += 1
        if len(domain.bucket) >= session_capacity(self.policy, domain.random_reply):
            self._dispatch(domain)

    def _flush_largest(self) -> None:
        """Send out the largest buckets until they hold a quarter of the window."""
        for domain in sorted(self.open.values(), key=lambda d: len(d.bucket), reverse=True):
            if self.waiting < WINDOW // 4:
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
        try:
            results = await self._ask(domain, items)
        except Exception as exc:  # noqa: BLE001 - a bug must not lose the inputs: logged
            _log.exception("smtpcheck failed while verifying a batch of %s", domain.name)
            results = [crashed(item.given, item.address.normalized, exc) for item in items]
        self._settle(domain, items, results)

    async def _ask(self, domain: _Domain, items: list[_Item]) -> list[Result]:
        if probe_needed(self.policy, domain.random_reply) and not domain.tried:
            # The first batch of a domain runs alone, to ask the catch-all probe once.
            async with domain.lock:
                if not domain.tried:
                    try:
                        return await self._plan(domain, items)
                    finally:
                        domain.tried = True
        return await self._plan(domain, items)

    async def _plan(self, domain: _Domain, items: list[_Item]) -> list[Result]:
        steps = plan_domain(
            [(item.given, item.address) for item in items],
            policy=self.policy,
            helo_name=self.helo,
            clock=time.monotonic,
            random_reply=domain.random_reply,
            recipient_limit=domain.recipient_limit,
            memory=self.memory is not None,
            fresh=self.fresh,
        )
        found = await _async.drive(
            steps,
            policy=self.policy,
            resolver=self.resolver,
            admission=self.admission,
            memory=self.memory,
        )
        if domain.random_reply is None and settles_catch_all(found.random_reply):
            domain.random_reply = found.random_reply
        if found.recipient_limit is not None:
            domain.recipient_limit = found.recipient_limit
        if len(found.results) != len(items):  # pragma: no cover - plan_domain's contract
            raise RuntimeError(f"{len(found.results)} results for {len(items)} addresses")
        return found.results

    def _settle(self, domain: _Domain, items: list[_Item], results: list[Result]) -> None:
        policy = self.policy
        greylisted: list[_Item] = []
        limited: list[_Item] = []
        for item, result in zip(items, results, strict=True):
            if result.reason is Reason.GREYLISTED and item.greylisted < policy.greylist_retries:
                item.greylisted += 1
                greylisted.append(item)
            elif result.reason in BACKOFF_REASONS and item.limited < policy.rate_limit_retries:
                item.limited += 1
                limited.append(item)  # the gates hold it back until the host's back-off ends
            else:
                domain.pending -= 1
                self._emit(item, result)
        if greylisted:
            _log.info(
                "asking %d greylisted addresses of %s again later", len(greylisted), domain.name
            )
            self._start(domain, greylisted, delay=policy.greylist_delay)
        if limited:
            _log.info("asking %d rate-limited addresses of %s again", len(limited), domain.name)
            self._start(domain, limited, delay=0.0)
        if domain.pending == 0:
            del self.domains[domain.name]
            if domain.random_reply is not None:
                self.learned[domain.name] = domain.random_reply
                if len(self.learned) > _REMEMBERED_DOMAINS:
                    self.learned.popitem(last=False)

    def _emit(self, item: _Item, result: Result) -> None:
        """Emit an input's result, and the same answer for each input that shared it."""
        del self.inflight[item.address.normalized]
        self.emit(result)
        for given in item.twins:
            self.emit(dataclasses.replace(result, address=given))

"""Where the memory's facts are kept, and the :class:`Memory` that reads and writes them.

:class:`InProcessStore` keeps them in this process, bounded by entries and bytes: the
default, shared by :func:`~smtpcheck.verify`, :func:`~smtpcheck.averify` and the bulk
runs of a process. :class:`~smtpcheck._memory_sqlite.SQLiteStore` keeps them in a file
shared by threads and processes. A store holds text; :class:`Memory` turns it into the
typed records of :mod:`smtpcheck._memory` and back, and treats a fact it cannot read as
one it does not have.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import idna

from smtpcheck._admission import backoff_delay
from smtpcheck._errors import PolicyError
from smtpcheck._memory import (
    BackOff,
    Fact,
    Greylisting,
    HostFacts,
    Kind,
    Lifetimes,
    MemoryStore,
    Recall,
    Recalled,
    Refusal,
    Remember,
    RememberedResult,
    float_of,
    reply_from,
    reply_json,
)
from smtpcheck._probe import Sent
from smtpcheck._result import Reason, Verdict
from smtpcheck.protocol import Reply

__all__ = ["GREYLIST_GRACE", "InProcessStore", "Memory", "consult"]

#: Seconds before a greylisting's retry time at which a retry counts as due: a bulk run
#: that waits ``greylist_delay`` on its monotonic clock is not turned away by the wall
#: clock's rounding.
GREYLIST_GRACE = 1.0


class InProcessStore:
    """Facts in this process's memory, bounded by entries and by bytes.

    When a new fact would pass a bound, the least recently used facts go first. The
    bytes are an estimate (:meth:`Fact.size`): the text of each fact and a fixed
    overhead.

    Args:
        max_entries: The most facts kept.
        max_bytes: The most bytes kept, about.
    """

    def __init__(self, *, max_entries: int = 100_000, max_bytes: int = 64 * 1024 * 1024) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise PolicyError("an in-process store needs room for at least one fact")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._facts: OrderedDict[tuple[str, str], Fact] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._facts)

    @property
    def bytes(self) -> int:
        """The estimated bytes held now."""
        return self._bytes

    def get(self, kind: str, key: str, now: float) -> Fact | None:
        """The fact of *kind* about *key*, or None when unknown or expired at *now*."""
        with self._lock:
            fact = self._facts.get((kind, key))
            if fact is None:
                return None
            if fact.expires_at <= now:
                self._drop((kind, key))
                return None
            self._facts.move_to_end((kind, key))
            return fact

    def put(self, fact: Fact) -> None:
        """Remember *fact*, dropping the least recently used facts past a bound."""
        size = fact.size()
        if size > self.max_bytes:
            return
        with self._lock:
            self._drop((fact.kind, fact.key))
            self._facts[(fact.kind, fact.key)] = fact
            self._bytes += size
            while len(self._facts) > self.max_entries or self._bytes > self.max_bytes:
                _, oldest = self._facts.popitem(last=False)
                self._bytes -= oldest.size()

    def drop(self, kind: str, key: str) -> None:
        """Forget the fact of *kind* about *key*, if there is one."""
        with self._lock:
            self._drop((kind, key))

    def _drop(self, slot: tuple[str, str]) -> None:
        old = self._facts.pop(slot, None)
        if old is not None:
            self._bytes -= old.size()

    def about(self, name: str, now: float) -> list[Fact]:
        """The unexpired facts about *name*: a host, a domain or an address."""
        with self._lock:
            return [
                fact
                for fact in self._facts.values()
                if name in (fact.subject, fact.key) and fact.expires_at > now
            ]

    def forget(self, name: str) -> int:
        """Forget every fact about *name*; say how many there were."""
        with self._lock:
            slots = [slot for slot, fact in self._facts.items() if name in (fact.subject, fact.key)]
            for slot in slots:
                self._drop(slot)
            return len(slots)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._facts.clear()
            self._bytes = 0

    def close(self) -> None:
        """Nothing to release."""


# -- the memory -----------------------------------------------------------------------


class Memory:
    """What smtpcheck has learned about hosts, domains and addresses, with lifetimes.

    Pass one as ``memory=`` to :func:`~smtpcheck.verify`, :func:`~smtpcheck.averify`,
    :func:`~smtpcheck.verify_many` or :func:`~smtpcheck.averify_many`; without one they
    share a memory of this process. ``Memory()`` keeps the facts in this process,
    bounded (100,000 facts, about 64 MB, the least recently used going first);
    :meth:`Memory.file` keeps them in an SQLite file that threads and processes share.
    What is remembered, and for how long, is in :class:`~smtpcheck.Lifetimes`.

    Every method is safe from several threads and never raises for the store's sake. A
    fact is fresh while both the lifetime it was written with and the reader's policy's
    have not passed.

    Args:
        store: Where the facts are kept; a new in-process store when None.
        clock: Wall-clock seconds (:func:`time.time`); a test can give a clock it moves.

    >>> memory = Memory()
    >>> memory.learn_catch_all("example.com", Reply(550, ("5.1.1 no such user",)), Lifetimes())
    >>> memory.catch_all("example.com", Lifetimes()).code
    550
    """

    def __init__(
        self, store: MemoryStore | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.store: MemoryStore = store if store is not None else InProcessStore()
        self.clock = clock

    @classmethod
    def file(cls, path: str, *, clock: Callable[[], float] = time.time) -> Memory:
        """A memory kept in the SQLite file at *path* (created when missing).

        A file that cannot be opened, read or written gives one warning on the
        ``smtpcheck`` logger, and the memory carries on in this process only.
        """
        from smtpcheck._memory_sqlite import SQLiteStore  # noqa: PLC0415 - sqlite3 on demand

        return cls(SQLiteStore(path, clock=clock), clock=clock)

    def close(self) -> None:
        """Close the file, if the memory has one (later facts stay in this process)."""
        self.store.close()

    @property
    def in_process(self) -> bool:
        """Whether the store is this process's memory (its calls never wait on a file)."""
        return isinstance(self.store, InProcessStore)

    # -- reading and writing facts

    def _read(self, kind: str, key: str, lifetime: float) -> tuple[Fact, Any] | None:
        now = self.clock()
        fact = self.store.get(kind, key, now)
        if fact is None or fact.learned_at + lifetime <= now:
            return None
        try:
            return fact, json.loads(fact.value)
        except ValueError:
            return None

    def _write(
        self,
        kind: str,
        key: str,
        subject: str,
        value: Mapping[str, Any],
        lifetime: float,
        *,
        learned_at: float | None = None,
        expires_at: float | None = None,
    ) -> None:
        if lifetime <= 0:
            return
        now = self.clock() if learned_at is None else learned_at
        until = now + lifetime if expires_at is None else expires_at
        text = json.dumps(value, separators=(",", ":"))
        self.store.put(Fact(kind, key, _ascii(subject), text, now, until))

    # -- hosts

    def refusal(self, host: str, who: str, lifetimes: Lifetimes) -> Refusal | None:
        """The cool-down of *host* for identity *who*, when one is running."""
        found = self._read(Kind.REFUSED, _host_key(host, who), lifetimes.refused)
        if found is None:
            return None
        fact, data = found
        try:
            refusal = Refusal(
                reason=Reason(data["reason"]),
                reply=reply_from(data.get("reply")),
                learned_at=fact.learned_at,
                retry_at=min(fact.expires_at, fact.learned_at + lifetimes.refused),
            )
        except (KeyError, TypeError, ValueError):
            return None
        return refusal

    def backoff(self, host: str, who: str, lifetimes: Lifetimes) -> BackOff | None:
        """The rate-limit back-off of *host* for *who*, when it has strikes."""
        found = self._read(Kind.RATE_LIMITED, _host_key(host, who), lifetimes.rate_limited)
        if found is None:
            return None
        fact, data = found
        try:
            return BackOff(
                strikes=int(data["strikes"]),
                reply=reply_from(data.get("reply")),
                learned_at=fact.learned_at,
                retry_at=float_of(data["retry_at"]),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def host_facts(self, host: str, who: str, lifetimes: Lifetimes) -> HostFacts:
        """What *host* supports, as remembered for identity *who*."""
        key = _host_key(host, who)
        tls = self._read(Kind.TLS_FAILED, key, lifetimes.tls_failed)
        pipelining = self._read(Kind.PIPELINING, key, lifetimes.capabilities)
        limit = self._read(Kind.RECIPIENT_LIMIT, key, lifetimes.capabilities)
        offered = pipelining[1].get("offered") if pipelining else None
        taken = limit[1].get("limit") if limit else None
        return HostFacts(
            tls_failed=tls is not None,
            pipelining=offered if isinstance(offered, bool) else None,
            recipient_limit=taken if isinstance(taken, int) and taken >= 1 else None,
        )

    def learn_host(
        self,
        host: str,
        who: str,
        lifetimes: Lifetimes,
        *,
        refused_us: Reason | None = None,
        rate_limited: bool = False,
        reply: Reply | None = None,
        tls_failed: bool = False,
        pipelining: bool | None = None,
        recipient_limit: int | None = None,
        rate_limit_delay: float = 5.0,
    ) -> None:
        """Record what one session with *host* taught, as identity *who*.

        A refusal of us starts a cool-down; a rate limit adds a strike (the back-off
        doubles per strike, up to eight times *rate_limit_delay*); a session with
        neither forgives the strikes.
        """
        key = _host_key(host, who)
        reply_data = reply_json(reply)
        if refused_us is not None:
            self._write(
                Kind.REFUSED,
                key,
                host,
                {"reason": refused_us.value, "reply": reply_data},
                lifetimes.refused,
            )
        if rate_limited:
            before = self.backoff(host, who, lifetimes)
            strikes = 1 if before is None else before.strikes + 1
            now = self.clock()
            delay = backoff_delay(rate_limit_delay, strikes)
            self._write(
                Kind.RATE_LIMITED,
                key,
                host,
                {"strikes": strikes, "reply": reply_data, "retry_at": now + delay},
                max(lifetimes.rate_limited, delay) if lifetimes.rate_limited else 0.0,
                learned_at=now,
            )
        elif refused_us is None and self.backoff(host, who, lifetimes) is not None:
            self.store.drop(Kind.RATE_LIMITED, key)
        if tls_failed:
            self._write(Kind.TLS_FAILED, key, host, {}, lifetimes.tls_failed)
        if pipelining is not None:
            self._write(Kind.PIPELINING, key, host, {"offered": pipelining}, lifetimes.capabilities)
        if recipient_limit is not None and recipient_limit >= 1:
            self._write(
                Kind.RECIPIENT_LIMIT, key, host, {"limit": recipient_limit}, lifetimes.capabilities
            )

    # -- domains

    def catch_all(self, domain: str, lifetimes: Lifetimes) -> Reply | None:
        """The reply a domain gave to the catch-all probe, while fresh."""
        found = self._read(Kind.CATCH_ALL, domain.lower(), lifetimes.catch_all)
        if found is None:
            return None
        try:
            return reply_from(found[1].get("reply"))
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def learn_catch_all(self, domain: str, reply: Reply, lifetimes: Lifetimes) -> None:
        """Remember the domain's definite (not ``4xx``) answer to the catch-all probe."""
        if reply.is_transient:
            return
        domain = domain.lower()
        self._write(
            Kind.CATCH_ALL, domain, domain, {"reply": reply_json(reply)}, lifetimes.catch_all
        )

    # -- addresses

    def result(
        self, address: str, lifetimes: Lifetimes, *, question: str = ""
    ) -> RememberedResult | None:
        """The last definite result of the (normalised) *address*, while fresh.

        Only a result learned asking the same *question* (port, TLS mode, sender...).
        """
        found = self._read(
            Kind.RESULT, _address_key(address), max(_lifetimes_of_results(lifetimes))
        )
        if found is None:
            return None
        fact, data = found
        if data.get("question", "") != question:
            return None
        try:
            verdict = Verdict(data["verdict"])
            remembered = RememberedResult(
                verdict=verdict,
                reason=Reason(data["reason"]),
                mx=data.get("mx"),
                reply=reply_from(data.get("reply")),
                catch_all=data.get("catch_all"),
                detail=data.get("detail"),
                learned_at=fact.learned_at,
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        if fact.learned_at + lifetimes.for_verdict(verdict) <= self.clock():
            return None
        return remembered

    def learn_result(
        self,
        address: str,
        lifetimes: Lifetimes,
        *,
        verdict: Verdict,
        reason: Reason,
        mx: str | None = None,
        reply: Reply | None = None,
        catch_all: bool | None = None,
        detail: str | None = None,
        question: str = "",
    ) -> None:
        """Remember a definite result of *address*; an ``unknown`` one is not kept."""
        lifetime = lifetimes.for_verdict(verdict)
        address = _address_key(address)
        value = {
            "verdict": verdict.value,
            "reason": reason.value,
            "mx": mx,
            "reply": reply_json(reply),
            "catch_all": catch_all,
            "detail": detail,
            "question": question,
        }
        self._write(Kind.RESULT, address, _domain_of(address), value, lifetime)

    def greylisting(
        self, address: str, lifetimes: Lifetimes, *, retry_after: float | None = None
    ) -> Greylisting | None:
        """When *address* was greylisted, while the retry it calls for is still ahead.

        The retry is due at the time written with it, or *retry_after* seconds after the
        greylisting, whichever comes first.
        """
        found = self._read(Kind.GREYLISTED, _address_key(address), lifetimes.greylisted)
        if found is None:
            return None
        fact, data = found
        try:
            retry_at = float_of(data["retry_at"])
            if retry_after is not None:
                retry_at = min(retry_at, fact.learned_at + retry_after)
            reply = reply_from(data.get("reply"))
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        if retry_at - GREYLIST_GRACE <= self.clock():
            return None
        return Greylisting(reply=reply, learned_at=fact.learned_at, retry_at=retry_at)

    def learn_greylisted(
        self, address: str, lifetimes: Lifetimes, *, reply: Reply | None, retry_after: float
    ) -> None:
        """Remember that *address* was greylisted and is worth asking after *retry_after* s."""
        address = _address_key(address)
        now = self.clock()
        value = {"reply": reply_json(reply), "retry_at": now + retry_after}
        self._write(Kind.GREYLISTED, address, _domain_of(address), value, lifetimes.greylisted)

    def forget_greylisting(self, address: str) -> None:
        """Forget a greylisting once the address has a definite answer."""
        address = _address_key(address)
        self.store.drop(Kind.GREYLISTED, address)

    # -- the plan's actions

    def recall(self, action: Recall) -> Recalled:
        """Answer a plan's :class:`~smtpcheck._memory.Recall`."""
        lifetimes = action.lifetimes
        results = {}
        greylisted = {}
        for address in action.addresses:
            found = self.result(address, lifetimes, question=action.question)
            if found is not None:
                results[address] = found
                continue
            grey = self.greylisting(address, lifetimes, retry_after=action.greylist_delay)
            if grey is not None:
                greylisted[address] = grey
        return Recalled(
            catch_all=self.catch_all(action.domain, lifetimes) if action.domain else None,
            results=results,
            greylisted=greylisted,
            hosts={
                host: self.host_facts(host, action.identity, lifetimes) for host in action.hosts
            },
        )

    def remember(self, action: Remember) -> None:
        """Carry out a plan's :class:`~smtpcheck._memory.Remember`."""
        lifetimes = action.lifetimes
        if action.catch_all is not None:
            self.learn_catch_all(action.domain, action.catch_all, lifetimes)
        for result in action.results:
            if result.normalized is None:
                continue
            if result.reason is Reason.GREYLISTED:
                self.learn_greylisted(
                    result.normalized,
                    lifetimes,
                    reply=result.reply,
                    retry_after=action.greylist_delay,
                )
            elif result.verdict is not Verdict.UNKNOWN:
                self.forget_greylisting(result.normalized)
                self.learn_result(
                    result.normalized,
                    lifetimes,
                    verdict=result.verdict,
                    reason=result.reason,
                    mx=result.mx,
                    reply=result.reply,
                    catch_all=result.catch_all,
                    detail=result.detail,
                    question=action.question,
                )

    # -- showing and forgetting

    def about(self, name: str) -> list[Fact]:
        """Every unexpired fact about *name* (a host, a domain or an address).

        A domain's facts include those of its addresses; a host's, those of every
        identity we used with it. An internationalised domain may be given in either
        form (``exämple.org`` or ``xn--exmple-cua.org``).
        """
        return self.store.about(_name(name), self.clock())

    def forget(self, name: str) -> int:
        """Forget every fact about *name* (as for :meth:`about`); say how many there were."""
        return self.store.forget(_name(name))


def _host_key(host: str, who: str) -> str:
    return f"{host.lower().rstrip('.')}|{who}"


def _address_key(address: str) -> str:
    """An address as a key: the domain lower-cased, the local part as it is (RFC 5321)."""
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def _ascii(domain: str) -> str:
    """A domain or host name, lower-case, in its ASCII (A-label) form when it has one."""
    domain = domain.lower().rstrip(".")
    if domain.isascii():
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        return domain


def _name(name: str) -> str:
    """What a person typed, as the stores key it: an address, or a domain or host."""
    return _address_key(name) if "@" in name else _ascii(name)


def _domain_of(address: str) -> str:
    return _ascii(address.rpartition("@")[2])


def _lifetimes_of_results(lifetimes: Lifetimes) -> Iterable[float]:
    return (lifetimes.deliverable, lifetimes.undeliverable, lifetimes.risky)


def consult(memory: Memory | None, action: Recall | Remember) -> Recalled | Sent:
    """Carry out a plan's memory action; without a memory, recall nothing, keep nothing."""
    if isinstance(action, Recall):
        return Recalled() if memory is None else memory.recall(action)
    if memory is not None:
        memory.remember(action)
    return Sent()

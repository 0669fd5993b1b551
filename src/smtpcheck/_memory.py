"""What smtpcheck remembers between calls, runs and processes, and for how long.

A :class:`Memory` holds *facts*, each learned at a wall-clock time (:func:`time.time`)
and kept for a lifetime that the policy's :class:`Lifetimes` sets:

- per mail host and identity (our source address, proxy and HELO name): it refused
  *us* (a cool-down before it is asked again), it rate-limited us (a back-off), its
  STARTTLS handshake failed, whether it offers PIPELINING, how many recipients it takes
  in one session;
- per domain: the reply to the catch-all probe;
- per address: the last definite result (deliverable, undeliverable, risky), and when
  it was greylisted (so when a retry is worth making).

The facts live in a store: :class:`InProcessStore` (bounded by entries and bytes, the
default, shared by :func:`~smtpcheck.verify`, :func:`~smtpcheck.averify` and the bulk
runs of a process) or :class:`~smtpcheck._memory_sqlite.SQLiteStore` (a file shared by
threads and processes). A store holds text; this module turns it into typed records and
back, and treats a record it cannot read as one it does not have.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Protocol

from smtpcheck._errors import PolicyError
from smtpcheck._result import Reason, Verdict
from smtpcheck.protocol import EnhancedStatus, Reply

__all__ = [
    "DAY",
    "HOUR",
    "BackOff",
    "Fact",
    "Greylisting",
    "HostFacts",
    "InProcessStore",
    "Kind",
    "Lifetimes",
    "Memory",
    "MemoryStore",
    "Refusal",
    "RememberedResult",
    "identity",
]

logger = logging.getLogger("smtpcheck")

#: Seconds in an hour and in a day, for reading lifetimes.
HOUR = 3600.0
DAY = 24 * HOUR

#: The longest rate-limit back-off, in multiples of ``policy.rate_limit_delay``.
MAX_BACKOFF = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class Lifetimes:
    """How long each kind of fact is remembered, in seconds; 0 means "not at all".

    The defaults lean to politeness for what a host said about *us* (a refusal is kept
    for hours: asking again at once makes a blocklisting worse) and to caution for what
    it said about a mailbox (an undeliverable answer is kept for less time than a
    deliverable one: a mailbox may be created, and calling a real one undeliverable is
    the worst mistake smtpcheck can make).

    Attributes:
        refused: A mail host refused *us* (our IP's reputation, reverse DNS, HELO name,
            sender, a policy filter): no new connection to it from the same identity
            for this long. 6 hours.
        rate_limited: How long a host's rate-limit strikes are remembered (each doubles
            the back-off, up to eight times ``policy.rate_limit_delay``). 1 hour.
        tls_failed: A host's STARTTLS handshake failed: in opportunistic mode, go
            plaintext at once for this long. 1 day.
        capabilities: Whether a host offers PIPELINING, and how many recipients it took
            in one session before a ``452``. 7 days.
        catch_all: A domain's answer to the catch-all probe: a domain known not to be
            catch-all is asked one RCPT per address, a known catch-all gives ``risky``
            without the probe. 3 days.
        deliverable: A deliverable result, returned without asking. 14 days.
        undeliverable: An undeliverable result, returned without asking. 3 days.
        risky: A risky result, returned without asking. 3 days.
        greylisted: When an address was greylisted: before ``policy.greylist_delay``
            has passed, it is answered ``greylisted`` without a new connection. 1 day.

    >>> Lifetimes().refused / HOUR
    6.0
    >>> Lifetimes.off().deliverable
    0.0
    """

    refused: float = 6 * HOUR
    rate_limited: float = HOUR
    tls_failed: float = DAY
    capabilities: float = 7 * DAY
    catch_all: float = 3 * DAY
    deliverable: float = 14 * DAY
    undeliverable: float = 3 * DAY
    risky: float = 3 * DAY
    greylisted: float = DAY

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise PolicyError(f"lifetimes.{spec.name} must be a number of seconds")
            if not (value >= 0 and math.isfinite(value)):
                raise PolicyError(f"lifetimes.{spec.name} must be 0 or more seconds, not {value}")

    @classmethod
    def off(cls) -> Lifetimes:
        """Lifetimes that remember nothing: every fact is forgotten at once."""
        return cls(**{spec.name: 0.0 for spec in fields(cls)})

    def for_verdict(self, verdict: Verdict) -> float:
        """The lifetime of a result with *verdict* (0 for ``unknown``: never served)."""
        return {
            Verdict.DELIVERABLE: self.deliverable,
            Verdict.UNDELIVERABLE: self.undeliverable,
            Verdict.RISKY: self.risky,
        }.get(verdict, 0.0)


def identity(*, helo_name: str | None, source_address: str | None, proxy: str | None) -> str:
    """Who we are to a mail host: what a refusal of *us* is about.

    A host that refused one identity may accept another (a different source address,
    proxy or HELO name). A proxy counts by its host and port only: its credentials are
    never remembered.

    >>> identity(helo_name="mx.example.net", source_address=None, proxy=None)
    'helo=mx.example.net'
    >>> identity(helo_name=None, source_address="192.0.2.7",
    ...          proxy="socks5://user:secret@proxy.example:1080")
    'source=192.0.2.7 proxy=proxy.example:1080'
    """
    parts = []
    if helo_name:
        parts.append(f"helo={helo_name.lower()}")
    if source_address:
        parts.append(f"source={source_address}")
    if proxy:
        parts.append(f"proxy={proxy.rsplit('@', 1)[-1].split('://', 1)[-1].rstrip('/')}")
    return " ".join(parts) or "default"


# -- the raw facts and the stores ----------------------------------------------------


class Kind:
    """The kinds of fact, as stored (a store holds them as plain text)."""

    REFUSED = "refused"
    RATE_LIMITED = "rate_limited"
    TLS_FAILED = "tls_failed"
    PIPELINING = "pipelining"
    RECIPIENT_LIMIT = "recipient_limit"
    CATCH_ALL = "catch_all"
    RESULT = "result"
    GREYLISTED = "greylisted"


@dataclass(frozen=True, slots=True)
class Fact:
    """One remembered fact, as a store holds it.

    Attributes:
        kind: What it is about (see :class:`Kind`).
        key: Which one: a host and identity, a domain or an address.
        subject: The host or domain it concerns, to show or forget by name.
        value: The fact itself, as JSON text.
        learned_at: When it was learned (:func:`time.time` seconds).
        expires_at: When it stops being true.
    """

    kind: str
    key: str
    subject: str
    value: str
    learned_at: float
    expires_at: float

    def size(self) -> int:
        """An estimate of the bytes it takes in memory: its text and a fixed overhead."""
        return 200 + len(self.kind) + len(self.key) + len(self.subject) + len(self.value)


class MemoryStore(Protocol):
    """Where facts are kept. Every method is safe to call from several threads.

    A store never raises for a failure of its own medium: it warns once and carries on
    (see :class:`~smtpcheck._memory_sqlite.SQLiteStore`).
    """

    def get(self, kind: str, key: str, now: float) -> Fact | None:
        """The fact of *kind* about *key*, or None when unknown or expired at *now*."""
        ...

    def put(self, fact: Fact) -> None:
        """Remember *fact*, replacing the one of the same kind and key."""
        ...

    def drop(self, kind: str, key: str) -> None:
        """Forget the fact of *kind* about *key*, if there is one."""
        ...

    def about(self, name: str, now: float) -> list[Fact]:
        """The unexpired facts about *name*: a host, a domain or an address."""
        ...

    def forget(self, name: str) -> int:
        """Forget every fact about *name* (a host, a domain or an address); say how many."""
        ...

    def close(self) -> None:
        """Release what the store holds open (a file)."""
        ...


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
            raise ValueError("an in-process store needs room for at least one fact")
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
        name = name.lower()
        with self._lock:
            return [
                fact
                for fact in self._facts.values()
                if name in (fact.subject, fact.key) and fact.expires_at > now
            ]

    def forget(self, name: str) -> int:
        """Forget every fact about *name*; say how many there were."""
        name = name.lower()
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


# -- the typed records ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Refusal:
    """A mail host refused us: it is not asked again before ``retry_at``.

    Attributes:
        reason: Why, as the refusal was classified (``blocked``, ``policy_rejected``...).
        reply: The reply that refused us, when there was one.
        learned_at: When (:func:`time.time` seconds).
        retry_at: When it is worth asking again.
    """

    reason: Reason
    reply: Reply | None
    learned_at: float
    retry_at: float

    def detail(self, host: str) -> str:
        """A sentence for a person: who refused, when we learned it, when we ask again."""
        return (
            f"{host} refused us at {_when(self.learned_at)} (remembered); "
            f"it will be asked again after {_when(self.retry_at)}"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BackOff:
    """A mail host rate-limited us: new connections wait until ``retry_at``.

    Attributes:
        strikes: Sessions in a row that met its rate limit.
        reply: The reply that limited us, when there was one.
        learned_at: When the last strike was learned.
        retry_at: When a new connection is welcome.
    """

    strikes: int
    reply: Reply | None
    learned_at: float
    retry_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class HostFacts:
    """What a mail host supports, as far as we remember.

    Attributes:
        tls_failed: Its STARTTLS handshake failed recently.
        pipelining: Whether it offered PIPELINING; None when unknown.
        recipient_limit: How many RCPT TO it took before ``452`` too many recipients;
            None when unknown.
    """

    tls_failed: bool = False
    pipelining: bool | None = None
    recipient_limit: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RememberedResult:
    """The last definite result of an address, as remembered.

    Attributes:
        verdict: Deliverable, undeliverable or risky.
        reason: Why.
        mx: The mail host that answered.
        reply: The decisive reply.
        catch_all: Whether the domain accepted a random local part.
        detail: The sentence that came with it.
        learned_at: When it was learned.
    """

    verdict: Verdict
    reason: Reason
    mx: str | None
    reply: Reply | None
    catch_all: bool | None
    detail: str | None
    learned_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Greylisting:
    """An address was greylisted: asking again before ``retry_at`` is wasted.

    Attributes:
        reply: The reply that deferred it.
        learned_at: When.
        retry_at: When a retry is worth making.
    """

    reply: Reply | None
    learned_at: float
    retry_at: float


def _when(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(moment))


def _reply_json(reply: Reply | None) -> dict[str, Any] | None:
    if reply is None:
        return None
    return {
        "code": reply.code,
        "lines": list(reply.lines),
        "enhanced": None if reply.enhanced is None else str(reply.enhanced),
    }


def _reply_from(data: Any) -> Reply | None:
    if data is None:
        return None
    enhanced = EnhancedStatus.parse(data["enhanced"]) if data.get("enhanced") else None
    return Reply(int(data["code"]), tuple(str(line) for line in data["lines"]), enhanced)


def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("not a number")
    return float(value)


# -- the memory -----------------------------------------------------------------------


class Memory:
    """What smtpcheck has learned, kept in a store, read and written as typed records.

    Every method is safe from several threads, never raises for the store's sake, and
    takes the policy's :class:`Lifetimes` (a fact is fresh while both the lifetime it
    was written with and the reader's have not passed).

    Args:
        store: Where the facts are kept; a new :class:`InProcessStore` when None.
        clock: Wall-clock seconds (:func:`time.time`); injectable for tests.

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
        """Release the store (close its file)."""
        self.store.close()

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
        self.store.put(Fact(kind, key, subject.lower(), text, now, until))

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
                reply=_reply_from(data.get("reply")),
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
                reply=_reply_from(data.get("reply")),
                learned_at=fact.learned_at,
                retry_at=_float(data["retry_at"]),
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
        reply_data = _reply_json(reply)
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
            delay = min(rate_limit_delay * 2 ** (strikes - 1), rate_limit_delay * MAX_BACKOFF)
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
            return _reply_from(found[1].get("reply"))
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def learn_catch_all(self, domain: str, reply: Reply, lifetimes: Lifetimes) -> None:
        """Remember the domain's definite (not ``4xx``) answer to the catch-all probe."""
        if reply.is_transient:
            return
        domain = domain.lower()
        self._write(
            Kind.CATCH_ALL, domain, domain, {"reply": _reply_json(reply)}, lifetimes.catch_all
        )

    # -- addresses

    def result(self, address: str, lifetimes: Lifetimes) -> RememberedResult | None:
        """The last definite result of the (normalised) *address*, while fresh."""
        found = self._read(Kind.RESULT, address.lower(), max(_lifetimes_of_results(lifetimes)))
        if found is None:
            return None
        fact, data = found
        try:
            verdict = Verdict(data["verdict"])
            remembered = RememberedResult(
                verdict=verdict,
                reason=Reason(data["reason"]),
                mx=data.get("mx"),
                reply=_reply_from(data.get("reply")),
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
    ) -> None:
        """Remember a definite result of *address*; an ``unknown`` one is not kept."""
        lifetime = lifetimes.for_verdict(verdict)
        address = address.lower()
        value = {
            "verdict": verdict.value,
            "reason": reason.value,
            "mx": mx,
            "reply": _reply_json(reply),
            "catch_all": catch_all,
            "detail": detail,
        }
        self._write(Kind.RESULT, address, _domain_of(address), value, lifetime)

    def greylisting(self, address: str, lifetimes: Lifetimes) -> Greylisting | None:
        """When *address* was greylisted, while the retry it calls for is still ahead."""
        found = self._read(Kind.GREYLISTED, address.lower(), lifetimes.greylisted)
        if found is None:
            return None
        fact, data = found
        try:
            retry_at = _float(data["retry_at"])
            reply = _reply_from(data.get("reply"))
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        if retry_at <= self.clock():
            return None
        return Greylisting(reply=reply, learned_at=fact.learned_at, retry_at=retry_at)

    def learn_greylisted(
        self, address: str, lifetimes: Lifetimes, *, reply: Reply | None, retry_after: float
    ) -> None:
        """Remember that *address* was greylisted and is worth asking after *retry_after* s."""
        address = address.lower()
        now = self.clock()
        value = {"reply": _reply_json(reply), "retry_at": now + retry_after}
        self._write(Kind.GREYLISTED, address, _domain_of(address), value, lifetimes.greylisted)

    def forget_greylisting(self, address: str) -> None:
        """Forget a greylisting once the address has a definite answer."""
        address = address.lower()
        self.store.drop(Kind.GREYLISTED, address)

    # -- showing and forgetting

    def about(self, name: str) -> list[Fact]:
        """Every unexpired fact about *name* (a host, a domain or an address)."""
        return self.store.about(name.lower().rstrip("."), self.clock())

    def forget(self, name: str) -> int:
        """Forget every fact about *name* (a host, a domain or an address); say how many."""
        return self.store.forget(name.lower().rstrip("."))


def _host_key(host: str, who: str) -> str:
    return f"{host.lower().rstrip('.')}|{who}"


def _domain_of(address: str) -> str:
    return address.rpartition("@")[2]


def _lifetimes_of_results(lifetimes: Lifetimes) -> Iterable[float]:
    return (lifetimes.deliverable, lifetimes.undeliverable, lifetimes.risky)

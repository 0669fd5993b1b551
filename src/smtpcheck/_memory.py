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

This module is pure: the lifetimes, the facts as a store holds them (:class:`Fact`),
the store's protocol (:class:`MemoryStore`) and the typed records. The stores and the
:class:`~smtpcheck._memory_store.Memory` that reads and writes them live in
:mod:`smtpcheck._memory_store` and :mod:`smtpcheck._memory_sqlite`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

from smtpcheck._errors import PolicyError
from smtpcheck._result import Reason, Result, Verdict
from smtpcheck.protocol import EnhancedStatus, Reply

__all__ = [
    "DAY",
    "HOUR",
    "BackOff",
    "Fact",
    "Greylisting",
    "HostFacts",
    "Kind",
    "Lifetimes",
    "MemoryStore",
    "Recall",
    "Recalled",
    "Refusal",
    "Remember",
    "RememberedResult",
    "float_of",
    "identity",
    "remembers",
    "reply_from",
    "reply_json",
]


#: Seconds in an hour and in a day, for reading lifetimes.
HOUR = 3600.0
DAY = 24 * HOUR


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
        kind: What it is about: ``refused``, ``rate_limited``, ``tls_failed``,
            ``pipelining``, ``recipient_limit`` (a host), ``catch_all`` (a domain),
            ``result``, ``greylisted`` (an address).
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
    (the SQLite store gives up its file and carries on in memory).
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

    def detail(self) -> str:
        """A sentence for a person: when it was greylisted, when to ask again."""
        return (
            f"greylisted at {_when(self.learned_at)} (remembered); "
            f"worth asking again after {_when(self.retry_at)}"
        )


def _when(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(moment))


def reply_json(reply: Reply | None) -> dict[str, Any] | None:
    """A reply as JSON-ready data (None stays None)."""
    if reply is None:
        return None
    return {
        "code": reply.code,
        "lines": list(reply.lines),
        "enhanced": None if reply.enhanced is None else str(reply.enhanced),
    }


def reply_from(data: Any) -> Reply | None:
    """The reply written by :func:`reply_json`; raises on data that is not one."""
    if data is None:
        return None
    enhanced = EnhancedStatus.parse(data["enhanced"]) if data.get("enhanced") else None
    return Reply(int(data["code"]), tuple(str(line) for line in data["lines"]), enhanced)


def float_of(value: Any) -> float:
    """A number read back from JSON; raises TypeError for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("not a number")
    return float(value)


# -- the plan's actions ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Recall:
    """A plan action: what does the memory know about these addresses and hosts?

    The outcome is :class:`Recalled`. A driver without a memory answers an empty one.

    Attributes:
        domain: The addresses' domain (ASCII), for its catch-all answer.
        addresses: Normalised addresses whose results and greylistings are wanted; empty
            when the caller asked for fresh answers.
        hosts: Mail host names whose facts are wanted.
        identity: Who we are to those hosts (see :func:`identity`).
        lifetimes: The policy's lifetimes (a fact older than its lifetime is not recalled).
        question: What was asked (port, TLS mode, sender, probe): a result learned
            asking another question is not recalled.
        greylist_delay: The reader's delay after a greylisting: a retry is due once it
            has passed, or the delay the greylisting was learned with, whichever is first.
    """

    domain: str
    addresses: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    identity: str = "default"
    lifetimes: Lifetimes = Lifetimes()
    question: str = ""
    greylist_delay: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Recalled:
    """The answer to :class:`Recall`: only what is known and fresh.

    Attributes:
        catch_all: The domain's remembered answer to the catch-all probe.
        results: Remembered definite results, by normalised address.
        greylisted: Addresses greylisted so recently that asking again is wasted.
        hosts: What each host supports, by host name.
    """

    catch_all: Reply | None = None
    results: Mapping[str, RememberedResult] = field(default_factory=dict)
    greylisted: Mapping[str, Greylisting] = field(default_factory=dict)
    hosts: Mapping[str, HostFacts] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Remember:
    """A plan action: keep what this verification learned. Its outcome is ``Sent``.

    Attributes:
        domain: The addresses' domain (ASCII).
        results: The results found by asking (never those recalled: recalling does not
            make a fact younger).
        catch_all: The domain's definite answer to the catch-all probe, when asked.
        lifetimes: The policy's lifetimes.
        greylist_delay: How long after a greylisting a retry is worth making.
        question: What was asked (see :attr:`Recall.question`).
    """

    domain: str
    results: tuple[Result, ...] = ()
    catch_all: Reply | None = None
    lifetimes: Lifetimes = Lifetimes()
    greylist_delay: float = 300.0
    question: str = ""


def remembers(lifetimes: Lifetimes) -> bool:
    """Whether *lifetimes* keep anything at all (``Lifetimes.off()`` keeps nothing)."""
    return any(getattr(lifetimes, spec.name) > 0 for spec in fields(lifetimes))

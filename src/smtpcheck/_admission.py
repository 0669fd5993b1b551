"""Admission: may the plan open a connection to this mail host now?

Admission is a step of the verification plan (:mod:`smtpcheck._verifier`). Before each
connection the plan yields :class:`Admit` and is told :class:`Admitted` (after a wait,
perhaps) or :class:`Refused` (with a reason and, where it applies, a time before which
asking again is pointless). After that connection is closed it yields :class:`Release`
with the :class:`Lesson` the session taught about the host.

Who answers is an admission service, chosen by the caller and carried to the driver:

- :class:`OpenAdmission` admits at once: a plain :func:`~smtpcheck.verify`.
- the gates of :mod:`smtpcheck._gates` (asyncio and threading flavours) hold per-host
  and overall connection slots and back off from hosts that rate-limit us: bulk runs.
- services compose as wrappers: remembered host state (a host that blocked us is refused
  without a connection) and cluster-wide limits wrap or replace the gates.

This module is pure: the actions and outcomes, the two small protocols, the back-off
rule. The services that wait live in :mod:`smtpcheck._gates`.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from smtpcheck._result import Reason
from smtpcheck.protocol import Reply

__all__ = [
    "MAX_BACKOFF",
    "Admission",
    "Admit",
    "Admitted",
    "AsyncAdmission",
    "AsyncOpenAdmission",
    "BackoffBook",
    "HostKey",
    "Lesson",
    "OpenAdmission",
    "Refused",
    "Release",
    "backoff_delay",
]

#: The longest back-off from a rate-limiting host, in multiples of the policy's
#: ``rate_limit_delay``.
MAX_BACKOFF = 8

_log = logging.getLogger("smtpcheck")

#: Hosts whose back-off is remembered at most (the oldest is forgotten first).
_BOOK_SIZE = 65536

#: A mail host as admission counts it: its IP address and port.
HostKey = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Admit:
    """A plan action: ask for a connection slot to a mail host.

    Attributes:
        host: The mail host's name (an MX target, or the domain of an implicit MX).
        ip: The address the plan will connect to.
        port: The TCP port.
    """

    host: str
    ip: str
    port: int

    @property
    def key(self) -> HostKey:
        """What admission counts connections by: ``(ip, port)``."""
        return (self.ip, self.port)


@dataclass(frozen=True, slots=True)
class Admitted:
    """The outcome of :class:`Admit`: connect now.

    Attributes:
        waited: Seconds spent waiting for the slot (0 when admitted at once).
    """

    waited: float = 0.0


@dataclass(frozen=True, slots=True)
class Refused:
    """The outcome of :class:`Admit`: do not connect to this host now.

    Attributes:
        reason: Why, as the result's reason would say it (``blocked``,
            ``rate_limited``, ...).
        detail: A sentence for a person: what was learned, when, and when the host
            will be asked again.
        reply: The host's reply that taught it, when there is one.
        retry_at: Wall-clock time (:func:`time.time`) before which asking again is
            pointless, or None.
    """

    reason: Reason
    detail: str
    reply: Reply | None = None
    retry_at: float | None = None


@dataclass(frozen=True, slots=True)
class Lesson:
    """What one session taught about a mail host; the plan computes it.

    Attributes:
        refused_us: A refusal aimed at *us* (``blocked``: our IP or name;
            ``policy_rejected``: our HELO, our sender, a filter), or None.
        rate_limited: The host limited our rate or failed temporarily: back off.
        reply: The reply behind ``refused_us`` or ``rate_limited``.
        tls_failed: The STARTTLS handshake failed.
        pipelining: Whether the host offered PIPELINING (None: it never said).
        recipient_limit: How many RCPT TO it took in one transaction before refusing
            more with ``452 4.5.3`` (None: no limit seen).
    """

    refused_us: Reason | None = None
    rate_limited: bool = False
    reply: Reply | None = None
    tls_failed: bool = False
    pipelining: bool | None = None
    recipient_limit: int | None = None


@dataclass(frozen=True, slots=True)
class Release:
    """A plan action: the connection admitted by an :class:`Admit` is closed.

    Attributes:
        admit: The request that was admitted.
        lesson: What the session taught about the host.
    """

    admit: Admit
    lesson: Lesson


class Admission(Protocol):
    """An admission service for blocking drivers (threads)."""

    def admit(self, request: Admit) -> Admitted | Refused:
        """Wait for a slot to ``request``'s host, or refuse it."""
        ...

    def release(self, request: Release) -> None:
        """Give the slot back and take the lesson."""
        ...


class AsyncAdmission(Protocol):
    """An admission service for the asyncio driver."""

    async def admit(self, request: Admit) -> Admitted | Refused:
        """Wait for a slot to ``request``'s host, or refuse it."""
        ...

    async def release(self, request: Release) -> None:
        """Give the slot back and take the lesson."""
        ...


class OpenAdmission:
    """Admits every connection at once and learns nothing: a plain ``verify()``."""

    def admit(self, request: Admit) -> Admitted:  # noqa: ARG002 - the protocol's shape
        """Admit at once."""
        return Admitted()

    def release(self, request: Release) -> None:
        """Nothing to give back."""


class AsyncOpenAdmission:
    """The asyncio twin of :class:`OpenAdmission`."""

    async def admit(self, request: Admit) -> Admitted:  # noqa: ARG002 - the protocol's shape
        """Admit at once."""
        return Admitted()

    async def release(self, request: Release) -> None:
        """Nothing to give back."""


def backoff_delay(base: float, strikes: int) -> float:
    """How long to leave a host alone after ``strikes`` rate-limited sessions in a row.

    ``base`` doubled for each strike after the first, at most :data:`MAX_BACKOFF` times
    ``base``; no strike, no wait.

    >>> [backoff_delay(5.0, n) for n in range(6)]
    [0.0, 5.0, 10.0, 20.0, 40.0, 40.0]
    """
    if strikes <= 0:
        return 0.0
    return float(min(base * 2 ** (strikes - 1), base * MAX_BACKOFF))


class BackoffBook:
    """The back-off from hosts that rate-limit us, shared by both flavours of gates.

    Only hosts in back-off are kept (a clean session forgets the host), at most
    ``size`` of them, so a run against millions of hosts stays small.

    Args:
        base: The first back-off, in seconds (the policy's ``rate_limit_delay``).
        clock: Monotonic seconds.
        size: How many hosts to remember at most.
    """

    def __init__(self, base: float, clock: Callable[[], float], size: int = _BOOK_SIZE) -> None:
        self.base = base
        self.clock = clock
        self.size = size
        self._hosts: OrderedDict[HostKey, tuple[int, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._hosts)

    def wait(self, key: HostKey) -> float:
        """Seconds to wait before connecting to ``key`` (0 when it is not backed off)."""
        entry = self._hosts.get(key)
        return 0.0 if entry is None else max(0.0, entry[1] - self.clock())

    def learn(self, key: HostKey, lesson: Lesson) -> None:
        """Take a session's lesson: one more strike when it was rate-limited, else none."""
        if not lesson.rate_limited:
            self._hosts.pop(key, None)
            return
        strikes, resume_at = self._hosts.pop(key, (0, 0.0))
        strikes += 1
        delay = backoff_delay(self.base, strikes)
        self._hosts[key] = (strikes, max(resume_at, self.clock() + delay))
        _log.info("backing off from %s:%s for %.1f s (strike %d)", *key, delay, strikes)
        while len(self._hosts) > self.size:
            self._hosts.popitem(last=False)

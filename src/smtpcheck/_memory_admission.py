"""Admission that remembers: hosts that refused us stay refused across calls and runs.

A memory-backed admission service wraps another (see :mod:`smtpcheck._admission`):

- a host that refused *us* (a blocklist, our reverse DNS, our HELO name, our sender) is
  refused again, without a connection, until its cool-down (``policy.lifetimes.refused``)
  has passed: the plan gives its addresses ``unknown`` with the original reason and
  reply, and a detail that says when it was learned and when it will be asked again;
- a host that rate-limited us is left alone for the rest of its remembered back-off
  (the wait is reported, so it does not eat the conversation's budget), in a single
  :func:`~smtpcheck.verify` as in a bulk run;
- otherwise the wrapped service decides (open, or the bulk run's gates);
- on release, the session's :class:`~smtpcheck._admission.Lesson` is remembered, then
  handed to the wrapped service.

Facts are per mail host name and identity (our HELO name, source address, proxy): a
host that refused one identity may accept another.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from smtpcheck._admission import (
    Admission,
    Admit,
    Admitted,
    AsyncAdmission,
    AsyncOpenAdmission,
    OpenAdmission,
    Refused,
    Release,
)
from smtpcheck._memory import identity, remembers
from smtpcheck._memory_store import Memory
from smtpcheck._policy import Policy
from smtpcheck._result import Reason

__all__ = ["AsyncRememberingAdmission", "RememberingAdmission", "aremembering", "remembering"]

_log = logging.getLogger("smtpcheck")

_T = TypeVar("_T")


class _Rules:
    """What both flavours share: the questions to the memory, and the lesson."""

    def __init__(self, memory: Memory, policy: Policy, identity: str) -> None:
        self.memory = memory
        self.policy = policy
        self.identity = identity

    def refusal(self, request: Admit) -> Refused | None:
        """The remembered cool-down of the host, as a refusal, when one is running."""
        found = self.memory.refusal(request.host, self.identity, self.policy.lifetimes)
        if found is None:
            return None
        _log.debug("not connecting to %s: %s", request.host, found.detail(request.host))
        return Refused(
            reason=found.reason,
            detail=found.detail(request.host),
            reply=found.reply,
            retry_at=found.retry_at,
        )

    def wait(self, request: Admit) -> float:
        """Seconds left of the host's remembered rate-limit back-off (0 when none)."""
        found = self.memory.backoff(request.host, self.identity, self.policy.lifetimes)
        if found is None:
            return 0.0
        return max(0.0, found.retry_at - self.memory.clock())

    def too_long(self, request: Admit, delay: float) -> Refused | None:
        """A back-off longer than a whole verification's budget is not waited out.

        The caller (a web request, say) gets ``rate_limited`` at once, with the time the
        host may be asked again, instead of a wait past ``policy.timeout``.
        """
        budget = self.policy.timeout
        if budget is None or delay <= budget:
            return None
        retry_at = self.memory.clock() + delay
        return Refused(
            reason=Reason.RATE_LIMITED,
            detail=(
                f"{request.host} rate-limited us (remembered); it will be asked again in "
                f"{delay:.0f} s, longer than this verification's {budget:g} s budget"
            ),
            retry_at=retry_at,
        )

    def learn(self, request: Release) -> None:
        """Remember the lesson of a session."""
        lesson = request.lesson
        self.memory.learn_host(
            request.admit.host,
            self.identity,
            self.policy.lifetimes,
            refused_us=lesson.refused_us,
            rate_limited=lesson.rate_limited,
            reply=lesson.reply,
            tls_failed=lesson.tls_failed,
            pipelining=lesson.pipelining,
            recipient_limit=lesson.recipient_limit,
            rate_limit_delay=self.policy.rate_limit_delay,
        )


def _waited(admitted: Admitted | Refused, waited: float, request: Admit) -> Admitted | Refused:
    if isinstance(admitted, Refused) or waited <= 0:
        return admitted
    _log.debug("waited %.1f s for %s's remembered back-off", waited, request.host)
    return Admitted(waited=admitted.waited + waited)


class RememberingAdmission:
    """A blocking admission service that remembers hosts (see the module docstring).

    Args:
        inner: The service that decides when the memory does not.
        memory: Where the facts are kept.
        policy: Gives the lifetimes and the rate-limit delay.
        identity: Who we are to the hosts (:func:`~smtpcheck._memory.identity`).
        sleep: Waits a number of seconds (the back-off).
        clock: Monotonic seconds, to measure the wait.
    """

    def __init__(
        self,
        inner: Admission,
        memory: Memory,
        *,
        policy: Policy,
        identity: str,
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.rules = _Rules(memory, policy, identity)
        self.sleep = sleep
        self.clock = clock

    def admit(self, request: Admit) -> Admitted | Refused:
        """Refuse a host in cool-down; wait out a back-off; then ask the wrapped service."""
        refused = self.rules.refusal(request)
        if refused is not None:
            return refused
        waited = 0.0
        if (delay := self.rules.wait(request)) > 0:
            if (refused := self.rules.too_long(request, delay)) is not None:
                return refused
            started = self.clock()
            self.sleep(delay)
            waited = self.clock() - started
        return _waited(self.inner.admit(request), waited, request)

    def release(self, request: Release) -> None:
        """Remember the lesson, then release the slot of the wrapped service."""
        try:
            self.rules.learn(request)
        finally:
            self.inner.release(request)


class AsyncRememberingAdmission:
    """The asyncio twin of :class:`RememberingAdmission`.

    A memory kept in a file is read and written in a worker thread, so that a busy file
    never blocks the event loop.
    """

    def __init__(
        self,
        inner: AsyncAdmission,
        memory: Memory,
        *,
        policy: Policy,
        identity: str,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.rules = _Rules(memory, policy, identity)
        self.in_process = memory.in_process
        self.sleep = sleep
        self.clock = clock

    async def _call(self, function: Callable[[Admit], _T], request: Admit) -> _T:
        if self.in_process:
            return function(request)
        return await asyncio.to_thread(function, request)

    async def admit(self, request: Admit) -> Admitted | Refused:
        """Refuse a host in cool-down; wait out a back-off; then ask the wrapped service."""
        refused = await self._call(self.rules.refusal, request)
        if refused is not None:
            return refused
        waited = 0.0
        if (delay := await self._call(self.rules.wait, request)) > 0:
            if (refused := self.rules.too_long(request, delay)) is not None:
                return refused
            started = self.clock()
            await self.sleep(delay)
            waited = self.clock() - started
        return _waited(await self.inner.admit(request), waited, request)

    async def release(self, request: Release) -> None:
        """Remember the lesson, then release the slot of the wrapped service."""
        try:
            if self.in_process:
                self.rules.learn(request)
            else:
                await asyncio.to_thread(self.rules.learn, request)
        finally:
            await self.inner.release(request)


def _who(policy: Policy, helo: str | None) -> str:
    return identity(helo_name=helo, source_address=policy.source_address, proxy=policy.proxy)


def remembering(
    inner: Admission | None, memory: Memory | None, policy: Policy, helo: str | None
) -> Admission | None:
    """*inner* wrapped in a :class:`RememberingAdmission` when there is a memory to use."""
    if memory is None or not remembers(policy.lifetimes):
        return inner
    return RememberingAdmission(
        inner or OpenAdmission(), memory, policy=policy, identity=_who(policy, helo)
    )


def aremembering(
    inner: AsyncAdmission | None, memory: Memory | None, policy: Policy, helo: str | None
) -> AsyncAdmission | None:
    """The asyncio twin of :func:`remembering`."""
    if memory is None or not remembers(policy.lifetimes):
        return inner
    return AsyncRememberingAdmission(
        inner or AsyncOpenAdmission(), memory, policy=policy, identity=_who(policy, helo)
    )

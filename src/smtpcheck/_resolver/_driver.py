"""The MX plan's two drivers, written once for every resolver that answers its questions.

A resolver subclasses :class:`PlanResolver` and says how to answer one question
(:meth:`~PlanResolver._ask`, and :meth:`~PlanResolver._aask` for asyncio); the loops
that feed the plan, blocking and asyncio, are here. :class:`~smtpcheck.Resolver` answers
from DNS, the sandbox's resolver from a world's records.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Generator
from typing import cast

from smtpcheck._errors import PolicyError
from smtpcheck._mailhosts import MailHosts
from smtpcheck._resolver._plan import Answer, Query, check_domain, plan_mail_hosts

__all__ = ["PlanResolver"]

_Plan = Generator[tuple[Query, ...], tuple[Answer, ...], MailHosts]


class PlanResolver:
    """Finds a domain's mail hosts by driving the MX plan; subclasses answer questions."""

    #: Shuffles MX hosts of equal preference; None keeps the order of their names.
    _rng: random.Random | None = None
    #: Seconds a look-up may take when the call gives no ``lifetime``.
    _timeout: float = 5.0

    def mail_hosts(
        self,
        ascii_domain: str,
        *,
        lifetime: float | None = None,
        prefer_ipv6: bool = False,
        max_hosts: int | None = None,
        spf: bool = False,
        dmarc: bool = False,
    ) -> MailHosts:
        """Return where mail for a domain goes, blocking.

        MX hosts come sorted by preference, equal preferences in random order (RFC 5321
        §5.1), each with its addresses (IPv4 first unless ``prefer_ipv6``). A domain
        without MX records but with an address is its own implicit MX. DNS trouble is
        data: a :class:`~smtpcheck.MailHosts` whose status says what happened, never an
        exception.

        Args:
            ascii_domain: The domain in A-labels (``xn--...``), as the address module
                normalises it; a trailing dot is allowed.
            lifetime: Seconds the whole look-up (all its queries) may take; None for the
                resolver's ``timeout``.
            prefer_ipv6: List each host's IPv6 addresses before its IPv4 ones.
            max_hosts: At most this many hosts in the answer; None for all. MX hosts
                without an address do not count, so a dead first MX hides no live one.
            spf: Also fetch the domain's SPF record.
            dmarc: Also fetch the domain's DMARC record (``_dmarc.<domain>``).

        Returns:
            The domain's mail hosts, or why there are none.

        Raises:
            PolicyError: The domain is not ASCII, not a valid DNS name, or an argument
                is out of range.
        """
        deadline = time.monotonic() + self._lifetime(lifetime)
        plan = self._plan(ascii_domain, prefer_ipv6, max_hosts, spf, dmarc)
        try:
            queries = next(plan)
            while True:
                queries = plan.send(tuple(self._ask(q, deadline) for q in queries))
        except StopIteration as stop:
            return self._finish(cast("MailHosts", stop.value))

    async def amail_hosts(
        self,
        ascii_domain: str,
        *,
        lifetime: float | None = None,
        prefer_ipv6: bool = False,
        max_hosts: int | None = None,
        spf: bool = False,
        dmarc: bool = False,
    ) -> MailHosts:
        """Return where mail for a domain goes, with asyncio.

        The same look-up as :meth:`mail_hosts`; queries that do not depend on each other
        (the A and AAAA records of all MX hosts) run concurrently.
        """
        deadline = time.monotonic() + self._lifetime(lifetime)
        plan = self._plan(ascii_domain, prefer_ipv6, max_hosts, spf, dmarc)
        try:
            queries = next(plan)
            while True:
                answers = await asyncio.gather(*(self._aask(q, deadline) for q in queries))
                queries = plan.send(tuple(answers))
        except StopIteration as stop:
            return self._finish(cast("MailHosts", stop.value))

    def _lifetime(self, lifetime: float | None) -> float:
        if lifetime is None:
            return self._timeout
        if lifetime <= 0:
            raise PolicyError(f"lifetime must be positive, not {lifetime!r}")
        return lifetime

    def _plan(
        self, ascii_domain: str, prefer_ipv6: bool, max_hosts: int | None, spf: bool, dmarc: bool
    ) -> _Plan:
        if max_hosts is not None and max_hosts < 1:
            raise PolicyError(f"max_hosts must be at least 1 or None, not {max_hosts!r}")
        domain = check_domain(ascii_domain)
        self._asked(domain)
        return plan_mail_hosts(
            domain,
            prefer_ipv6=prefer_ipv6,
            max_hosts=max_hosts,
            spf=spf,
            dmarc=dmarc,
            rng=self._rng,
        )

    # -- what a subclass says ------------------------------------------------------------

    def _ask(self, query: Query, deadline: float) -> Answer:
        """Answer one question before ``deadline`` (monotonic seconds), blocking."""
        raise NotImplementedError

    async def _aask(self, query: Query, deadline: float) -> Answer:
        """Answer one question with asyncio; by default, as :meth:`_ask` does."""
        return self._ask(query, deadline)

    def _asked(self, domain: str) -> None:
        """Called with each domain looked up (the sandbox keeps a list)."""

    def _finish(self, hosts: MailHosts) -> MailHosts:
        """The answer as the caller gets it (the sandbox adds its servers' ports)."""
        return hosts

"""The world's resolver: where mail for a world's domain goes, answered in process.

It runs the same plan as :class:`smtpcheck.Resolver` (MX by preference, null MX,
implicit MX), driven by the same loops, answering its questions from the world's
records instead of DNS, and gives each mail host the port of the world's server behind
it.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from smtpcheck._mailhosts import MailHosts
from smtpcheck._resolver._driver import PlanResolver
from smtpcheck._resolver._plan import Answer, Kind, Query

if TYPE_CHECKING:
    from smtpcheck.testing._world import MailWorld

__all__ = ["WorldResolver"]


class WorldResolver(PlanResolver):
    """The world's answer to "where does mail for this domain go?", in process.

    It satisfies smtpcheck's resolver protocols (blocking and asyncio), so
    ``verify(..., resolver=world.resolver)`` reaches the world's servers without DNS.
    Every :class:`~smtpcheck.MailHost` carries the server's port. Domains the world does
    not know are NXDOMAIN. ``lifetime`` is accepted and ignored: the world answers at
    once. Hosts of equal preference keep the order of their names, so that a test sees
    the same answer every time.

    Attributes:
        lookups: The domains asked about, in order (for tests of caching).

    Example:
        >>> from smtpcheck import DomainStatus
        >>> from smtpcheck.testing import MailWorld
        >>> world = MailWorld().add_domain("nomail.test", status=DomainStatus.NULL_MX)
        >>> world.resolver.mail_hosts("nomail.test").status
        <DomainStatus.NULL_MX: 'null_mx'>
    """

    def __init__(self, world: MailWorld) -> None:
        self._world = world
        self.lookups: list[str] = []

    def _asked(self, domain: str) -> None:
        self.lookups.append(domain)

    def _ask(self, query: Query, deadline: float) -> Answer:
        del deadline
        zone, failing = self._world._zone()  # noqa: SLF001 - the world's own resolver
        if query.name in failing:
            return Answer(Kind.FAILURE, detail="the name server answered SERVFAIL.")
        entries = zone.get(query.name)
        if entries is None:
            return Answer(Kind.NXDOMAIN)
        found = tuple(value for kind, value in entries if kind == query.rdtype)
        return Answer(Kind.ANSWER, found) if found else Answer(Kind.NODATA)

    def _finish(self, hosts: MailHosts) -> MailHosts:
        ported = tuple(
            dataclasses.replace(host, port=self._world._mail_port(host))  # noqa: SLF001
            for host in hosts.hosts
        )
        return dataclasses.replace(hosts, hosts=ported)

"""The world's resolver: where mail for a world's domain goes, answered in process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smtpcheck._mailhosts import MailHosts

if TYPE_CHECKING:
    from smtpcheck.testing._world import MailWorld

__all__ = ["WorldResolver"]


class WorldResolver:
    """The world's answer to "where does mail for this domain go?", in process.

    It satisfies smtpcheck's resolver protocol, so ``verify(..., resolver=world.resolver)``
    reaches the world's servers without DNS. Every :class:`~smtpcheck._resolver.MailHost`
    carries the server's port. Domains the world does not know are NXDOMAIN.

    Attributes:
        lookups: The domains asked about, in order (for tests of caching).
    """

    def __init__(self, world: MailWorld) -> None:
        self._world = world
        self.lookups: list[str] = []

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
        """The mail hosts of ``ascii_domain`` in this world.

        ``lifetime`` and ``prefer_ipv6`` are accepted and ignored: the world answers at
        once, over IPv4 loopback.

        Example:
            >>> world = MailWorld().add_domain("nomail.test", status=DomainStatus.NULL_MX)
            >>> world.resolver.mail_hosts("nomail.test").status
            <DomainStatus.NULL_MX: 'null_mx'>
        """
        del lifetime, prefer_ipv6
        domain = ascii_domain.lower().rstrip(".")
        self.lookups.append(domain)
        return self._world._answer(domain, max_hosts=max_hosts, spf=spf, dmarc=dmarc)  # noqa: SLF001

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
        """The async twin of :meth:`mail_hosts`."""
        return self.mail_hosts(
            ascii_domain,
            lifetime=lifetime,
            prefer_ipv6=prefer_ipv6,
            max_hosts=max_hosts,
            spf=spf,
            dmarc=dmarc,
        )

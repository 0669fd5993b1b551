"""What the verifier needs from a resolver: a blocking and an asyncio protocol.

As httpx splits its transports, the blocking calls (:func:`~smtpcheck.verify`) need a
:class:`MailHostResolver`, the asyncio ones (:func:`~smtpcheck.averify`, the bulk calls)
an :class:`AsyncMailHostResolver`. :class:`~smtpcheck.Resolver` and the sandbox's
resolver are both.
"""

from __future__ import annotations

from typing import Protocol

from smtpcheck._mailhosts import MailHosts

__all__ = ["AsyncMailHostResolver", "MailHostResolver"]


class MailHostResolver(Protocol):
    """Finds a domain's mail hosts, blocking; :class:`~smtpcheck.Resolver` is one.

    Any object with this method can be given to :func:`~smtpcheck.verify` (the sandbox's
    resolver is one), so that tests and applications answer from their own data.
    """

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
        """Return where mail for ``ascii_domain`` goes (see :meth:`~smtpcheck.Resolver.mail_hosts`).

        DNS trouble is an answer (a :class:`~smtpcheck.MailHosts` whose status says so),
        not an exception.
        """
        ...


class AsyncMailHostResolver(Protocol):
    """Finds a domain's mail hosts with asyncio; :class:`~smtpcheck.Resolver` is one.

    Any object with this method can be given to :func:`~smtpcheck.averify`,
    :func:`~smtpcheck.verify_many` and :func:`~smtpcheck.averify_many`.
    """

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
        """Return where mail for ``ascii_domain`` goes.

        See :meth:`smtpcheck.Resolver.amail_hosts`.
        """
        ...

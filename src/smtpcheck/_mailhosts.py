"""What a look-up of a domain's mail hosts answers: plain data, no I/O.

:class:`~smtpcheck.Resolver` fills these in from DNS; any resolver that satisfies
:class:`~smtpcheck.MailHostResolver` (such as the sandbox's) answers with them too.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["DomainStatus", "MailHost", "MailHosts"]


class DomainStatus(enum.Enum):
    """What DNS said about a domain's mail."""

    #: One or more MX hosts (or the implicit MX) to try.
    OK = "ok"
    #: The domain does not exist (NXDOMAIN): mail to it bounces.
    NO_SUCH_DOMAIN = "no_such_domain"
    #: The domain publishes a null MX (RFC 7505): it accepts no mail.
    NULL_MX = "null_mx"
    #: The domain exists, with no MX and no A/AAAA record, or only MX hosts that have
    #: no address: there is nowhere to deliver.
    NO_MAIL_SERVER = "no_mail_server"
    #: DNS failed (SERVFAIL, REFUSED, no answer in time): nothing is known.
    DNS_FAILURE = "dns_failure"


@dataclass(frozen=True, slots=True, kw_only=True)
class MailHost:
    """One mail host of a domain, with the addresses to connect to.

    Attributes:
        name: The host name in A-labels, lowercase, without a trailing dot.
        preference: The MX preference (lower is tried first); 0 for an implicit MX.
        addresses: IP addresses to try in order, as strings.
        implicit: True when the domain has no MX and the domain itself is the host
            (RFC 5321 §5.1).
        port: The TCP port to use instead of the policy's, or None. Real DNS never sets
            it; an injected resolver (such as the sandbox's) may.
    """

    name: str
    preference: int
    addresses: tuple[str, ...]
    implicit: bool = False
    port: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MailHosts:
    """The answer to "where does mail for this domain go?".

    Attributes:
        domain: The domain asked about, in A-labels.
        status: What DNS said.
        hosts: The hosts to try, in order (empty unless ``status`` is ``OK``).
        detail: A sentence for a person: what failed, or what was odd.
        problems: Oddities that did not stop the look-up, one sentence each (an MX that
            points to a name with no address, or to an IP literal).
        spf: The domain's SPF record (``v=spf1 ...``) when asked for and found.
        dmarc: The domain's DMARC record (``v=DMARC1; ...``) when asked for and found.
    """

    domain: str
    status: DomainStatus
    hosts: tuple[MailHost, ...] = ()
    detail: str | None = None
    problems: tuple[str, ...] = ()
    spf: str | None = None
    dmarc: str | None = None

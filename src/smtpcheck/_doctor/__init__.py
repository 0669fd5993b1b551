"""The self-audit: is *this host* fit to verify addresses? (``smtpcheck doctor``).

Most wrong answers of a verifier come from the host it runs on, not from its code:
outbound port 25 blocked by the provider, no reverse DNS, a HELO name that does not
resolve back, an IP on a blocklist, a MAIL FROM domain whose SPF does not allow the
host. :func:`audit` checks each of these and returns an :class:`Audit`: one
:class:`Check` per question, passed, warned, failed or "could not be checked", each with
the fix in one sentence.

The checks, in order (their :attr:`Check.name`):

- ``outbound_smtp``: a TCP connection to port 25 of a real mail host (``target``, or
  the first MX of ``domain``) opens in time; refused, filtered (timed out) and
  unreachable are told apart. It then says EHLO and QUIT (never MAIL, RCPT or DATA).
- ``public_ip``: the address the world sees, read from the EHLO reply when the server
  names it (``250-mx.example at your service, [203.0.113.7]``), else the one given.
- ``reverse_dns``: that IP has a PTR record whose name resolves back to it (FCrDNS).
- ``helo_name``: the HELO name is fully qualified, resolves to the IP, matches the PTR.
- ``spf``: the SPF record of the MAIL FROM domain (of the HELO name with the null
  sender ``<>``) authorises the IP, evaluated by spf3, the maintained fork of pyspf (``pip install
  'smtpcheck[doctor]'``; without it the check "could not be checked").
- ``dmarc``: the MAIL FROM domain (or a parent of it) publishes a DMARC record.
- ``blocklist:<zone>``: one per DNS blocklist of ``blocklists``, with their answer
  codes read right: Spamhaus's ``127.255.255.252/254/255`` mean "query refused", not
  "listed".

The doctor is a client of the core, not a driver of its own. The audit is a plan
(:mod:`._audit`) whose checks (:mod:`._checks`, :mod:`._spf`) yield DNS questions, answered
by :class:`~smtpcheck.Resolver` (pointed at ``nameservers`` and ``dns_port`` when given),
and whose one conversation is :func:`smtpcheck._probe.greet`, carried out by the
verifier's blocking or asyncio driver: :func:`audit` and :func:`aaudit` are the two short
loops around it. The report's types live in :mod:`._report`, the blocklists' data in
:mod:`._blocklists`; the ``smtpcheck doctor`` command is in ``smtpcheck._cli._doctor``.
"""

from smtpcheck._doctor._audit import aaudit, audit
from smtpcheck._doctor._blocklists import (
    BARRACUDA,
    DEFAULT_BLOCKLISTS,
    PSBL,
    SPAMCOP,
    SPAMHAUS_ZEN,
    Blocklist,
)
from smtpcheck._doctor._checks import DEFAULT_DOMAIN
from smtpcheck._doctor._report import (
    EXIT_FAILED,
    EXIT_INCOMPLETE,
    EXIT_OK,
    EXIT_USAGE,
    GUIDE_URL,
    Audit,
    Check,
    CheckStatus,
    Target,
    render_text,
)

__all__ = [
    "BARRACUDA",
    "DEFAULT_BLOCKLISTS",
    "DEFAULT_DOMAIN",
    "EXIT_FAILED",
    "EXIT_INCOMPLETE",
    "EXIT_OK",
    "EXIT_USAGE",
    "GUIDE_URL",
    "PSBL",
    "SPAMCOP",
    "SPAMHAUS_ZEN",
    "Audit",
    "Blocklist",
    "Check",
    "CheckStatus",
    "Target",
    "aaudit",
    "audit",
    "render_text",
]

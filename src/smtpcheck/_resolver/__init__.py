"""A domain's mail hosts, from DNS: MX by preference, implicit MX, null MX.

Three parts, one concept each:

- :mod:`._plan`: the rules, as a sans-IO plan of DNS questions (no dnspython object);
- :mod:`._dnspython`: :class:`Resolver`, which asks real DNS the plan's questions;
- :mod:`._protocols`: what an injected resolver must offer, blocking
  (:class:`MailHostResolver`) and asyncio (:class:`AsyncMailHostResolver`).

The answers are the plain data of :mod:`smtpcheck._mailhosts`. Importing this package
imports no dnspython: a :class:`Resolver` loads it when it first asks something.
"""

from smtpcheck._mailhosts import DomainStatus, MailHost, MailHosts
from smtpcheck._resolver._dnspython import Resolver
from smtpcheck._resolver._plan import Answer, Kind, Query
from smtpcheck._resolver._protocols import AsyncMailHostResolver, MailHostResolver

__all__ = [
    "Answer",
    "AsyncMailHostResolver",
    "DomainStatus",
    "Kind",
    "MailHost",
    "MailHostResolver",
    "MailHosts",
    "Query",
    "Resolver",
]

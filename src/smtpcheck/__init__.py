"""smtpcheck tells whether an email address can receive mail, without sending any.

>>> import smtpcheck
>>> smtpcheck.parse_address("Jöhn@Exämple.org").ascii_domain
'xn--exmple-cua.org'
"""

from __future__ import annotations

from smtpcheck._api import averify, verify
from smtpcheck._errors import (
    InvalidAddress,
    LocalProtocolError,
    PolicyError,
    ProtocolError,
    RemoteProtocolError,
    SMTPCheckError,
)
from smtpcheck.address import Address, parse_address
from smtpcheck.bulk import averify_many, verify_many
from smtpcheck.policy import Policy, TLSMode
from smtpcheck.protocol import EnhancedStatus, Reply
from smtpcheck.resolver import DomainStatus, MailHost, MailHosts, Resolver, ResolverProtocol
from smtpcheck.result import Reason, Result, TranscriptLine, Verdict

__version__ = "0.1.0.dev0"

__all__ = [
    "Address",
    "DomainStatus",
    "EnhancedStatus",
    "InvalidAddress",
    "LocalProtocolError",
    "MailHost",
    "MailHosts",
    "Policy",
    "PolicyError",
    "ProtocolError",
    "Reason",
    "RemoteProtocolError",
    "Reply",
    "Resolver",
    "ResolverProtocol",
    "Result",
    "SMTPCheckError",
    "TLSMode",
    "TranscriptLine",
    "Verdict",
    "__version__",
    "averify",
    "averify_many",
    "parse_address",
    "verify",
    "verify_many",
]

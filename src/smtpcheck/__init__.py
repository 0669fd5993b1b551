"""smtpcheck tells whether an email address can receive mail, without sending any.

>>> import smtpcheck
>>> smtpcheck.parse_address("Jöhn@Exämple.org").ascii_domain
'xn--exmple-cua.org'
"""

from smtpcheck._address import Address, parse_address
from smtpcheck._api import averify, verify
from smtpcheck._bulk import averify_many, verify_many
from smtpcheck._doctor import Audit, Check, CheckStatus, aaudit, audit
from smtpcheck._enrich import AddressList, Enrichment
from smtpcheck._errors import (
    InvalidAddress,
    LocalProtocolError,
    PolicyError,
    ProtocolError,
    RemoteProtocolError,
    SMTPCheckError,
)
from smtpcheck._mailhosts import DomainStatus, MailHost, MailHosts
from smtpcheck._memory import Lifetimes
from smtpcheck._memory_store import Memory
from smtpcheck._policy import Policy, TLSMode
from smtpcheck._resolver import AsyncMailHostResolver, MailHostResolver, Resolver
from smtpcheck._result import Reason, Result, TranscriptLine, Verdict
from smtpcheck.protocol import EnhancedStatus, Reply

__version__ = "0.1.0.dev0"

__all__ = [
    "Address",
    "AddressList",
    "AsyncMailHostResolver",
    "Audit",
    "Check",
    "CheckStatus",
    "DomainStatus",
    "EnhancedStatus",
    "Enrichment",
    "InvalidAddress",
    "Lifetimes",
    "LocalProtocolError",
    "MailHost",
    "MailHostResolver",
    "MailHosts",
    "Memory",
    "Policy",
    "PolicyError",
    "ProtocolError",
    "Reason",
    "RemoteProtocolError",
    "Reply",
    "Resolver",
    "Result",
    "SMTPCheckError",
    "TLSMode",
    "TranscriptLine",
    "Verdict",
    "__version__",
    "aaudit",
    "audit",
    "averify",
    "averify_many",
    "parse_address",
    "verify",
    "verify_many",
]

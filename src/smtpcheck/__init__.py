"""smtpcheck tells whether an email address can receive mail, without sending any.

>>> import smtpcheck
>>> smtpcheck.parse_address("Jöhn@Exämple.org").ascii_domain
'xn--exmple-cua.org'

Importing the package is cheap: the value types are imported with it, while the names
that need DNS, asyncio or threads (:func:`verify_many`, :func:`audit`,
:class:`Resolver`...) are imported on first use, and :func:`verify` imports its driver
when first called.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from smtpcheck._address import Address, parse_address
from smtpcheck._api import averify, verify
from smtpcheck._enrich import AddressList, Enrichment, enrich, suggest
from smtpcheck._errors import (
    InvalidAddress,
    LocalProtocolError,
    PolicyError,
    ProtocolError,
    RemoteProtocolError,
    SMTPCheckError,
)
from smtpcheck._mailhosts import DomainStatus, MailHost, MailHosts
from smtpcheck._memory import Fact, Lifetimes, MemoryStore
from smtpcheck._policy import Policy, TLSMode
from smtpcheck._public import publish as _publish
from smtpcheck._result import Reason, Result, TranscriptLine, Verdict
from smtpcheck.protocol import EnhancedStatus, Reply

if TYPE_CHECKING:
    from smtpcheck._bulk import averify_many, verify_many
    from smtpcheck._doctor import Audit, Blocklist, Check, CheckStatus, Target, aaudit, audit
    from smtpcheck._memory_store import Memory
    from smtpcheck._resolver import AsyncMailHostResolver, MailHostResolver, Resolver

__version__ = "0.1.0.dev0"

__all__ = [
    "Address",
    "AddressList",
    "AsyncMailHostResolver",
    "Audit",
    "Blocklist",
    "Check",
    "CheckStatus",
    "DomainStatus",
    "EnhancedStatus",
    "Enrichment",
    "Fact",
    "InvalidAddress",
    "Lifetimes",
    "LocalProtocolError",
    "MailHost",
    "MailHostResolver",
    "MailHosts",
    "Memory",
    "MemoryStore",
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
    "Target",
    "TranscriptLine",
    "Verdict",
    "__version__",
    "aaudit",
    "audit",
    "averify",
    "averify_many",
    "enrich",
    "parse_address",
    "suggest",
    "verify",
    "verify_many",
]

# The names imported on first use, and the private module each lives in: these modules
# import dnspython, asyncio, threads, SQLite or the SMTP plan, which `import smtpcheck`
# does not pay for.
_LAZY = {
    "averify_many": "_bulk",
    "verify_many": "_bulk",
    "Audit": "_doctor",
    "Blocklist": "_doctor",
    "Check": "_doctor",
    "CheckStatus": "_doctor",
    "Target": "_doctor",
    "aaudit": "_doctor",
    "audit": "_doctor",
    "Memory": "_memory_store",
    "AsyncMailHostResolver": "_resolver",
    "MailHostResolver": "_resolver",
    "Resolver": "_resolver",
}


# Hidden from type checkers: they see the names through the TYPE_CHECKING imports above,
# and a module __getattr__ would make any misspelt name (smtpcheck.verfy) type-check.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        """Import a name of ``_LAZY`` from its module on first use, and keep it.

        Every public name of that module is published at once, so that none of its names
        still reports its private module after one of them was asked for.
        """
        home = _LAZY.get(name)
        if home is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        module = importlib.import_module(f"{__name__}.{home}")
        for other, other_home in _LAZY.items():
            if other_home == home:
                globals()[other] = _publish(__name__, getattr(module, other))
        return globals()[name]


# The names report their public home as their module (see smtpcheck._public); the lazy
# names when they are loaded. smtpcheck.protocol publishes its own (Reply stays
# smtpcheck.protocol.Reply).
for _name in __all__:
    if _name not in _LAZY:
        _publish(__name__, globals()[_name])
del _name


def __dir__() -> list[str]:
    """The public names, the module's own dunders and its public submodules once loaded."""
    dunders = {name for name in globals() if name.startswith("__")}
    submodules = {name for name in ("protocol", "testing") if name in globals()}
    return sorted({*__all__, *dunders, *submodules})

"""What a verification found: :class:`Verdict`, :class:`Reason` and :class:`Result`."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from smtpcheck.protocol._reply import Reply

__all__ = ["Reason", "Result", "TranscriptLine", "Verdict"]


class Verdict(enum.Enum):
    """The answer to "can this address receive mail?".

    The cardinal rule: a rejection caused by *us* (our IP, our HELO name, our sender, a
    rate limit, a filter) is :attr:`UNKNOWN`, never :attr:`UNDELIVERABLE`.
    """

    #: The domain's server accepted this mailbox and rejected a random one.
    DELIVERABLE = "deliverable"
    #: Mail to this address will bounce for sure.
    UNDELIVERABLE = "undeliverable"
    #: It may receive mail, but we cannot be sure (catch-all domain, full mailbox).
    RISKY = "risky"
    #: We could not find out; try later or from elsewhere.
    UNKNOWN = "unknown"


class Reason(enum.Enum):
    """Why a :class:`Result` has its :class:`Verdict`."""

    #: The server accepted the mailbox and refused a random one at the same domain.
    ACCEPTED = "accepted"
    #: The text is not a usable mailbox (see :class:`~smtpcheck.InvalidAddress`).
    INVALID_SYNTAX = "invalid_syntax"
    #: The domain does not exist in DNS (NXDOMAIN).
    NO_SUCH_DOMAIN = "no_such_domain"
    #: The domain publishes a null MX (RFC 7505): it accepts no mail.
    NULL_MX = "null_mx"
    #: The domain exists but has no MX and no address to deliver to.
    NO_MAIL_SERVER = "no_mail_server"
    #: The server said this mailbox does not exist.
    MAILBOX_NOT_FOUND = "mailbox_not_found"
    #: The server said this mailbox exists but is disabled or inactive.
    MAILBOX_DISABLED = "mailbox_disabled"
    #: The server accepts any local part, so its "yes" says nothing about this one.
    CATCH_ALL = "catch_all"
    #: The mailbox exists but is over its quota.
    MAILBOX_FULL = "mailbox_full"
    #: The domain belongs to a disposable-address provider.
    DISPOSABLE = "disposable"
    #: The server asked us to come back later (greylisting).
    GREYLISTED = "greylisted"
    #: The server refused *us* (our IP, HELO name, reverse DNS): says nothing of the mailbox.
    BLOCKED = "blocked"
    #: The verification ran out of time.
    TIMEOUT = "timeout"
    #: No mail host could be reached.
    CONNECTION_FAILED = "connection_failed"
    #: TLS was required and could not be set up.
    TLS_FAILED = "tls_failed"
    #: DNS failed (SERVFAIL, REFUSED, no answer in time): the domain may be fine.
    DNS_FAILURE = "dns_failure"
    #: A policy or filter refused the transaction (sender, content rules, relaying).
    POLICY_REJECTED = "policy_rejected"
    #: The address needs SMTPUTF8 and the server does not offer it.
    SMTPUTF8_UNSUPPORTED = "smtputf8_unsupported"
    #: The server limits how fast we may ask (too many connections or recipients).
    RATE_LIMITED = "rate_limited"
    #: The server failed temporarily for a reason of its own.
    TEMPORARY_FAILURE = "temporary_failure"
    #: The server broke the SMTP protocol (garbage, endless or cut replies).
    PROTOCOL_ERROR = "protocol_error"
    #: The server's answer could not be interpreted with confidence.
    UNRECOGNIZED_REPLY = "unrecognized_reply"
    #: smtpcheck itself failed (a bug, logged with its traceback): says nothing of the
    #: address.
    INTERNAL_ERROR = "internal_error"
    #: On the policy's allow list: taken as deliverable without asking.
    ALLOWED = "allowed"
    #: On the policy's deny list: refused without asking.
    DENIED = "denied"


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptLine:
    """One line of a conversation, as it crossed the wire.

    Attributes:
        direction: ``">"`` for what we sent, ``"<"`` for what the server sent, ``"*"``
            for an event such as a connection or a TLS handshake.
        text: The line, without its CRLF.
        at: Seconds since the verification began.
    """

    direction: str
    text: str
    at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """The outcome of verifying one address.

    Attributes:
        address: The address as given.
        normalized: The normalised address, or None when its syntax is invalid.
        verdict: The answer.
        reason: Why.
        mx: The mail host that answered, or None when none did.
        reply: The decisive SMTP reply, or None when no reply decided.
        catch_all: Whether the domain accepted a random local part; None when not probed.
        elapsed: Seconds the verification took.
        detail: A sentence for a person, explaining failures that have no SMTP reply.
        disposable: The domain (or a parent) is a disposable-address provider.
        role_account: The local part names a role (``info``, ``postmaster``), not a
            person.
        free_provider: The domain is a free consumer webmail provider.
        suggestion: The address the person probably meant when the domain looks like a
            typo of a popular one (``gmial.com``), whatever the verdict; else None.
        transcript: The commands and replies exchanged, when the policy asked for them.
        remembered_at: When the answer was learned (:func:`time.time` seconds), for a
            result given from memory without asking again; None for a fresh one.
    """

    address: str
    normalized: str | None
    verdict: Verdict
    reason: Reason
    mx: str | None = None
    reply: Reply | None = None
    catch_all: bool | None = None
    elapsed: float = 0.0
    detail: str | None = None
    disposable: bool = False
    role_account: bool = False
    free_provider: bool = False
    suggestion: str | None = None
    transcript: tuple[TranscriptLine, ...] = field(default=(), repr=False)
    remembered_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-serialisable form that the command line prints.

        >>> r = Result(address="a@b.example", normalized="a@b.example",
        ...            verdict=Verdict.UNKNOWN, reason=Reason.TIMEOUT, elapsed=1.5)
        >>> r.to_dict()["verdict"], r.to_dict()["elapsed_ms"]
        ('unknown', 1500)
        """
        smtp = None
        if self.reply is not None:
            smtp = {
                "code": self.reply.code,
                "enhanced": str(self.reply.enhanced) if self.reply.enhanced else None,
                "message": self.reply.text,
            }
        return {
            "address": self.address,
            "normalized": self.normalized,
            "verdict": self.verdict.value,
            "reason": self.reason.value,
            "mx": self.mx,
            "smtp": smtp,
            "catch_all": self.catch_all,
            "elapsed_ms": round(self.elapsed * 1000),
            "detail": self.detail,
            "disposable": self.disposable,
            "role_account": self.role_account,
            "free_provider": self.free_provider,
            "suggestion": self.suggestion,
            "remembered_at": self.remembered_at,
        }

"""What SMTP replies say about an address: pure functions from replies to a verdict.

A reply is read as a whole: the phase (the command it answered), the basic code, the
RFC 3463 enhanced status code and the text. No single signal is reliable on its own
(Yandex says ``550 5.7.1 No such user!``, AT&T ``550 5.2.1 ... Addressee unknown``), so the
wordings and status codes are data, kept in :mod:`smtpcheck._rules`, and this module only
combines them:

1. A positive reply to ``RCPT TO`` accepts the mailbox; any other positive reply says
   nothing about it.
2. The first text rule that matches, else (for ``MAIL FROM`` and ``RCPT TO``) the first
   status rule, gives a *meaning*: something about us or the server (a
   :class:`~smtpcheck._result.Reason`, verdict ``unknown``), or something about the
   mailbox. Rules about us come first, so they beat a mailbox wording in the same reply.
3. A mailbox meaning counts only in a reply to ``RCPT TO``; before that, every refusal is
   about us (our IP, HELO name, sender or TLS) and never makes an address undeliverable.
4. Only a permanent (5xx) "not found" or "disabled" makes an address ``undeliverable``;
   the same words in a transient (4xx) reply leave it ``unknown``, because Postfix answers
   450 for an unknown user while its administrator is testing a configuration
   (``soft_bounce``, ``unknown_local_recipient_reject_code = 450``) and while
   ``reject_unverified_recipient`` has not finished verifying the address.
5. A full mailbox exists: ``risky``, whatever the class. A mailbox that receives mail too
   fast (Gmail's ``4.2.1``) exists but asks us to come back: ``unknown``, rate limited, so
   that a retry can give a real answer; permanently so (``5.2.1``): ``risky``, full.
6. Anything else: ``unknown``, as unrecognised (5xx at ``RCPT``), a temporary failure
   (4xx), or what the phase implies (a refused banner or HELO: blocked; a refused ``MAIL
   FROM``: policy; a refused ``STARTTLS``: TLS failed).

>>> from smtpcheck.protocol import Reply
>>> classify_reply(Phase.RCPT, Reply(550, ("5.7.1 No such user!",))).reason
<Reason.MAILBOX_NOT_FOUND: 'mailbox_not_found'>
>>> classify_reply(Phase.MAIL, Reply(550, ("5.1.1 User unknown",))).verdict
<Verdict.UNKNOWN: 'unknown'>
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from smtpcheck._result import Reason, Verdict
from smtpcheck._rules import STATUS_RULES, TEXT_RULES, Mailbox, Meaning
from smtpcheck.protocol._reply import Reply

__all__ = ["Classification", "Phase", "classify_recipient", "classify_reply"]


class Phase(enum.Enum):
    """The command a reply answered."""

    #: The server's banner, before any command.
    GREETING = "greeting"
    #: ``EHLO``.
    EHLO = "ehlo"
    #: ``HELO``.
    HELO = "helo"
    #: ``STARTTLS``.
    STARTTLS = "starttls"
    #: ``MAIL FROM``.
    MAIL = "mail"
    #: ``RCPT TO``.
    RCPT = "rcpt"


@dataclass(frozen=True, slots=True)
class Classification:
    """What a reply says about an address.

    Attributes:
        verdict: The answer.
        reason: Why.
    """

    verdict: Verdict
    reason: Reason


_ACCEPTED = Classification(Verdict.DELIVERABLE, Reason.ACCEPTED)
_CATCH_ALL = Classification(Verdict.RISKY, Reason.CATCH_ALL)

#: What an unexplained refusal before RCPT means, as (4xx, 5xx): always something about
#: us or the session, never the mailbox.
_BEFORE_RCPT: Mapping[Phase, tuple[Reason, Reason]] = MappingProxyType(
    {
        Phase.GREETING: (Reason.TEMPORARY_FAILURE, Reason.BLOCKED),
        Phase.EHLO: (Reason.TEMPORARY_FAILURE, Reason.BLOCKED),
        Phase.HELO: (Reason.TEMPORARY_FAILURE, Reason.BLOCKED),
        Phase.STARTTLS: (Reason.TLS_FAILED, Reason.TLS_FAILED),
        Phase.MAIL: (Reason.TEMPORARY_FAILURE, Reason.POLICY_REJECTED),
    }
)

#: A mailbox meaning in a RCPT reply, as (4xx, 5xx).
_MAILBOX: Mapping[Mailbox, tuple[Classification, Classification]] = MappingProxyType(
    {
        Mailbox.NOT_FOUND: (
            Classification(Verdict.UNKNOWN, Reason.TEMPORARY_FAILURE),
            Classification(Verdict.UNDELIVERABLE, Reason.MAILBOX_NOT_FOUND),
        ),
        Mailbox.DISABLED: (
            Classification(Verdict.UNKNOWN, Reason.TEMPORARY_FAILURE),
            Classification(Verdict.UNDELIVERABLE, Reason.MAILBOX_DISABLED),
        ),
        Mailbox.FULL: (
            Classification(Verdict.RISKY, Reason.MAILBOX_FULL),
            Classification(Verdict.RISKY, Reason.MAILBOX_FULL),
        ),
        Mailbox.BUSY: (
            Classification(Verdict.UNKNOWN, Reason.RATE_LIMITED),
            Classification(Verdict.RISKY, Reason.MAILBOX_FULL),
        ),
    }
)

_ENVELOPE = frozenset({Phase.MAIL, Phase.RCPT})

# Addresses echoed in a reply are replaced so that their words trip no rule. The bounds
# (RFC 5321 §4.5.3.1: local part 64, domain 255) keep the search linear in the text.
_ADDRESS = re.compile(r"<[^<>]{0,320}>|[^\s@<>]{1,64}@\S{1,255}")


def classify_reply(phase: Phase, reply: Reply) -> Classification:
    """Say what *reply*, answering the command of *phase*, tells about the address.

    Only a reply to ``RCPT TO`` can make an address deliverable, undeliverable or risky;
    a positive ``RCPT`` reply is :attr:`~smtpcheck._result.Verdict.DELIVERABLE` (whether
    the domain accepts everyone is decided by :func:`classify_recipient`). A refusal aimed
    at us (our IP, HELO name or sender, a rate limit, a filter) is always
    :attr:`~smtpcheck._result.Verdict.UNKNOWN`. This function never raises.

    Args:
        phase: The command the reply answered.
        reply: The server's reply.

    Returns:
        The verdict and its reason.

    >>> from smtpcheck.protocol import Reply
    >>> blocked = Reply(550, ("5.7.1 Service unavailable, Client host [192.0.2.1] "
    ...                       "blocked using Spamhaus.",))
    >>> classify_reply(Phase.RCPT, blocked).reason
    <Reason.BLOCKED: 'blocked'>
    >>> classify_reply(Phase.RCPT, Reply(452, ("4.2.2 The email account that you tried "
    ...                                       "to reach is over quota.",))).verdict
    <Verdict.RISKY: 'risky'>
    """
    if reply.is_positive:
        if reply.code >= 300:
            # No command before DATA is answered with 3xx.
            return Classification(Verdict.UNKNOWN, Reason.PROTOCOL_ERROR)
        if phase is Phase.RCPT:
            return _ACCEPTED
        # The conversation goes on; nothing is known about the mailbox yet.
        return Classification(Verdict.UNKNOWN, Reason.UNRECOGNIZED_REPLY)
    transient = reply.is_transient
    meaning = _meaning(reply, phase)
    if isinstance(meaning, Reason):
        return Classification(Verdict.UNKNOWN, meaning)
    if isinstance(meaning, Mailbox):
        return _MAILBOX[meaning][0 if transient else 1]
    if reply.code == 421:
        # The server is closing the channel: temporary, whatever the command.
        return Classification(Verdict.UNKNOWN, Reason.TEMPORARY_FAILURE)
    if phase is Phase.RCPT:
        # Nothing in the code or the text points at the mailbox: do not guess.
        reason = Reason.TEMPORARY_FAILURE if transient else Reason.UNRECOGNIZED_REPLY
        return Classification(Verdict.UNKNOWN, reason)
    return Classification(Verdict.UNKNOWN, _BEFORE_RCPT[phase][0 if transient else 1])


def classify_recipient(
    real: Reply, random_probe: Reply | None, *, probed: bool
) -> tuple[Classification, bool | None]:
    """Decide what the replies to ``RCPT TO`` say, catch-all probe included.

    The catch-all probe is a ``RCPT TO`` for a random, unguessable local part at the same
    domain, sent after the real one in the same session. The domain is a catch-all when
    it accepts the probe, and is known not to be one only when it refuses the probe
    permanently as a mailbox that does not exist (or is disabled). The rules:

    * the real address refused: :func:`classify_reply` decides, whatever the probe said;
    * the real address accepted and probing turned off: deliverable, catch-all unknown;
    * accepted, probe refused as no such mailbox: deliverable, not a catch-all;
    * accepted, probe accepted: risky, a catch-all;
    * accepted, probe deferred (greylisted, rate limited, a temporary failure): unknown
      with the probe's reason. The server has not yet shown whether it tells mailboxes
      apart; asking again later settles it (a greylisting server greylists the random
      address as a new triple even when it lets the real one through);
    * accepted, but the probe was not answered, or answered with anything else (a
      block, an unrecognised 5xx): risky, catch-all unknown. Calling a catch-all's
      answer deliverable is the second worst error, so without the proof that the server
      tells mailboxes apart the "yes" is not trusted.

    Args:
        real: The reply to ``RCPT TO`` for the address being verified.
        random_probe: The reply to the probe, or None when it was not sent or not
            answered (the server dropped us, or refused a second ``RCPT``).
        probed: False when the policy turned catch-all probing off; *random_probe* is
            None then.

    Returns:
        The classification, and whether the domain is a catch-all (None when not known).

    Raises:
        ValueError: *random_probe* was given although *probed* is False.

    >>> from smtpcheck.protocol import Reply
    >>> ok, nouser = Reply(250, ("2.1.5 OK",)), Reply(550, ("5.1.1 User unknown",))
    >>> classify_recipient(ok, nouser, probed=True)[0].verdict
    <Verdict.DELIVERABLE: 'deliverable'>
    >>> said, catch_all = classify_recipient(ok, ok, probed=True)
    >>> said.reason, catch_all
    (<Reason.CATCH_ALL: 'catch_all'>, True)
    """
    if not probed and random_probe is not None:
        raise ValueError("a catch-all probe reply was given although probed is False")
    classification = classify_reply(Phase.RCPT, real)
    if not probed:
        return classification, None
    catch_all = _catch_all(random_probe)
    if classification != _ACCEPTED or catch_all is False:
        return classification, catch_all
    if catch_all is None and random_probe is not None:
        deferred = classify_reply(Phase.RCPT, random_probe)
        if deferred.reason in _DEFERRALS:
            return deferred, None
    return _CATCH_ALL, catch_all


#: A probe answered with one of these was deferred, not judged: ask again later.
_DEFERRALS = frozenset({Reason.GREYLISTED, Reason.RATE_LIMITED, Reason.TEMPORARY_FAILURE})


def _catch_all(random_probe: Reply | None) -> bool | None:
    """Whether a domain accepts any local part, from the reply to a random one."""
    if random_probe is None:
        return None
    said = classify_reply(Phase.RCPT, random_probe)
    if said == _ACCEPTED:
        return True
    if said.verdict is Verdict.UNDELIVERABLE:
        return False
    return None


# A session's replies are read more than once (the host's lesson, whether to ask again,
# each recipient against the one probe reply): the costly text rules run once each.
@functools.lru_cache(maxsize=1024)
def _meaning(reply: Reply, phase: Phase) -> Meaning | None:
    """The first rule that explains *reply*.

    Mailbox rules count only at RCPT; status rules only for the envelope commands (MAIL,
    RCPT), because before them the command itself says what a refusal is about.
    """
    rcpt = phase is Phase.RCPT
    text = " ".join(_ADDRESS.sub(" <address> ", reply.text.lower()).split())
    for rule in TEXT_RULES:
        if (
            (rcpt or not isinstance(rule.means, Mailbox))
            and (not rule.codes or reply.code in rule.codes)
            and (rule.status is None or rule.status == reply.enhanced)
            and rule.pattern.search(text)
        ):
            return rule.means
    status = reply.enhanced
    if status is None or phase not in _ENVELOPE:
        return None
    for entry in STATUS_RULES:
        if (
            (rcpt or not isinstance(entry.means, Mailbox))
            and entry.klass in (None, status.klass)
            and entry.subject == status.subject
            and entry.detail in (None, status.detail)
        ):
            return entry.means
    return None

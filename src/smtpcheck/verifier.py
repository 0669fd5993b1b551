"""The order of a verification's steps, written once, with no I/O.

syntax -> DNS -> SMTP conversation(s) -> classification -> :class:`~smtpcheck.Result`.

:func:`plan` is a generator: it yields actions (:class:`Resolve`, and the socket actions
of :mod:`smtpcheck.probe`) and is sent their outcomes. The blocking and asyncio drivers
carry the actions out; this module alone decides what happens next.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Generator
from dataclasses import dataclass

from smtpcheck._errors import InvalidAddress
from smtpcheck.address import Address, parse_address
from smtpcheck.classify import Classification, Phase, classify_recipient, classify_reply
from smtpcheck.policy import Policy
from smtpcheck.probe import Action, Outcome, SessionReport, Stop, converse
from smtpcheck.protocol import Reply
from smtpcheck.resolver import DomainStatus, MailHost, MailHosts
from smtpcheck.result import Reason, Result, TranscriptLine, Verdict

__all__ = ["Resolve", "Resolved", "plan", "random_local_part"]


@dataclass(frozen=True, slots=True)
class Resolve:
    """Find the mail hosts of a domain."""

    domain: str
    lifetime: float | None
    prefer_ipv6: bool
    max_hosts: int


@dataclass(frozen=True, slots=True)
class Resolved:
    """The answer to :class:`Resolve` (a failing resolver gives ``DNS_FAILURE``)."""

    hosts: MailHosts


PlanAction = Action | Resolve
PlanOutcome = Outcome | Resolved

_DNS_STATUS: dict[DomainStatus, Classification] = {
    DomainStatus.NO_SUCH_DOMAIN: Classification(Verdict.UNDELIVERABLE, Reason.NO_SUCH_DOMAIN),
    DomainStatus.NULL_MX: Classification(Verdict.UNDELIVERABLE, Reason.NULL_MX),
    DomainStatus.NO_MAIL_SERVER: Classification(Verdict.UNDELIVERABLE, Reason.NO_MAIL_SERVER),
    DomainStatus.DNS_FAILURE: Classification(Verdict.UNKNOWN, Reason.DNS_FAILURE),
}

_STOPS: dict[Stop, Reason] = {
    Stop.CONNECT_FAILED: Reason.CONNECTION_FAILED,
    Stop.TIMEOUT: Reason.TIMEOUT,
    Stop.IO_FAILED: Reason.CONNECTION_FAILED,
    Stop.TLS_FAILED: Reason.TLS_FAILED,
    Stop.TLS_UNAVAILABLE: Reason.TLS_FAILED,
    Stop.PROTOCOL_ERROR: Reason.PROTOCOL_ERROR,
}

_RANDOM_ALPHABET = string.ascii_lowercase + string.digits


def random_local_part() -> str:
    """An unguessable local part for the catch-all probe, such as ``'q7x0m2k9d4w1b8z3'``.

    Sixteen lower-case letters and digits, starting with a letter: plain enough that no
    server refuses it for its shape, random enough that no mailbox has it.
    """
    first = secrets.choice(string.ascii_lowercase)
    return first + "".join(secrets.choice(_RANDOM_ALPHABET) for _ in range(15))


def plan(
    address: str | Address,
    *,
    policy: Policy,
    helo_name: str | None,
    clock: Callable[[], float],
    random_local: Callable[[], str] = random_local_part,
) -> Generator[PlanAction, PlanOutcome, Result]:
    """Plan the verification of one address; the generator returns its :class:`Result`.

    Args:
        address: The address as given, or an :class:`~smtpcheck.Address`.
        policy: What to do.
        helo_name: The EHLO name, or None for our address literal.
        clock: Monotonic seconds.
        random_local: Makes the catch-all probe's local part.
    """
    started = clock()
    deadline = None if policy.timeout is None else started + policy.timeout
    given = address if isinstance(address, str) else address.normalized

    def result(
        verdict: Verdict,
        reason: Reason,
        *,
        parsed: Address | None = None,
        report: SessionReport | None = None,
        reply: Reply | None = None,
        catch_all: bool | None = None,
        detail: str | None = None,
        transcript: tuple[TranscriptLine, ...] = (),
    ) -> Result:
        return Result(
            address=given,
            normalized=parsed.normalized if parsed is not None else None,
            verdict=verdict,
            reason=reason,
            mx=report.host
            if report is not None and report.stop is not Stop.CONNECT_FAILED
            else None,
            reply=reply,
            catch_all=catch_all,
            elapsed=max(0.0, clock() - started),
            detail=detail,
            transcript=transcript,
        )

    # 1. Syntax.
    if isinstance(address, Address):
        parsed = address
    else:
        try:
            parsed = parse_address(
                address,
                allow_domain_literal=policy.allow_domain_literal,
                allow_single_label=policy.allow_single_label,
                allow_special_use=policy.allow_special_use,
            )
        except InvalidAddress as exc:
            return result(Verdict.UNDELIVERABLE, Reason.INVALID_SYNTAX, detail=exc.message)

    # 2. DNS: where does mail for this domain go?
    if parsed.domain_literal is not None:
        ip = str(parsed.domain_literal)
        hosts: tuple[MailHost, ...] = (MailHost(name=ip, preference=0, addresses=(ip,)),)
    else:
        lifetime = policy.dns_timeout
        if deadline is not None:
            left = deadline - clock()
            lifetime = left if lifetime is None else min(lifetime, left)
        outcome = yield Resolve(
            domain=parsed.ascii_domain,
            lifetime=lifetime,
            prefer_ipv6=policy.prefer_ipv6,
            max_hosts=policy.max_mx_hosts,
        )
        assert isinstance(outcome, Resolved)  # noqa: S101 - the drivers' contract
        answer = outcome.hosts
        if answer.status is not DomainStatus.OK or not answer.hosts:
            found = _DNS_STATUS.get(
                answer.status, Classification(Verdict.UNDELIVERABLE, Reason.NO_MAIL_SERVER)
            )
            return result(found.verdict, found.reason, parsed=parsed, detail=answer.detail)
        hosts = answer.hosts[: policy.max_mx_hosts]

    # 3. SMTP: ask the mail hosts in order until one answers the RCPT question.
    probe_local = random_local() if policy.catch_all_probe else None
    transcript: list[TranscriptLine] = []
    report: SessionReport | None = None
    for _round in range(policy.retries + 1):
        for host in hosts:
            for ip in host.addresses:
                use_tls = True
                while True:
                    report = yield from converse(
                        host=host.name,
                        ip=ip,
                        port=host.port or policy.port,
                        recipients=[parsed],
                        random_local_part=probe_local,
                        policy=policy,
                        helo_name=helo_name,
                        clock=clock,
                        started=started,
                        deadline=deadline,
                        use_tls=use_tls,
                    )
                    transcript.extend(report.transcript)
                    # Opportunistic TLS that fails is retried in plaintext, as MTAs do.
                    if report.stop is not Stop.TLS_FAILED or policy.tls != "opportunistic":
                        break
                    if not use_tls:
                        break
                    use_tls = False
                if _settled(report):
                    return _conclude(report, result, parsed, tuple(transcript))
                if report.stop is not Stop.CONNECT_FAILED:
                    break  # this host answered, badly: try the next host
    assert report is not None  # noqa: S101 - hosts and their addresses are never empty
    return _conclude(report, result, parsed, tuple(transcript))


def _settled(report: SessionReport) -> bool:
    """Whether no other host or address should be asked after this conversation."""
    return report.stop is Stop.TIMEOUT or not report.try_next_host


def _conclude(
    report: SessionReport,
    result: Callable[..., Result],
    parsed: Address,
    transcript: tuple[TranscriptLine, ...],
) -> Result:
    """Step 4: classify the deciding conversation into the Result."""
    found, catch_all, reply, detail = _classify(report)
    return result(
        found.verdict,
        found.reason,
        parsed=parsed,
        report=report,
        reply=reply,
        catch_all=catch_all,
        detail=detail,
        transcript=transcript,
    )


def _classify(
    report: SessionReport,
) -> tuple[Classification, bool | None, Reply | None, str | None]:
    """Read a conversation's report: verdict and reason, catch-all, deciding reply, detail."""
    if report.smtputf8_missing:
        found = Classification(Verdict.UNKNOWN, Reason.SMTPUTF8_UNSUPPORTED)
        return found, None, None, report.detail
    if report.stop is Stop.REFUSED and report.reply is not None:
        return classify_reply(Phase(report.phase), report.reply), None, report.reply, report.detail
    if report.stop is not None:
        found = Classification(Verdict.UNKNOWN, _STOPS.get(report.stop, Reason.PROTOCOL_ERROR))
        return found, None, report.reply, report.detail
    real = report.answers.get(0)
    if real is None:
        found = Classification(Verdict.UNKNOWN, Reason.CONNECTION_FAILED)
        return found, None, None, "the server closed the connection before answering RCPT TO"
    found, catch_all = classify_recipient(real, report.random_reply, probed=report.probed)
    return found, catch_all, real, None

"""The order of a verification's steps, written once, with no I/O.

syntax -> DNS -> SMTP conversation(s) -> classification -> :class:`~smtpcheck.Result`.

:func:`plan` is a generator: it yields actions (:class:`Resolve`, and the socket actions
of :mod:`smtpcheck._probe`) and is sent their outcomes. The blocking and asyncio drivers
carry the actions out; this module alone decides what happens next.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass

from smtpcheck._address import Address, parse_address
from smtpcheck._classify import Classification, Phase, classify_recipient, classify_reply
from smtpcheck._enrich import Enrichment, enrich, screen
from smtpcheck._errors import InvalidAddress
from smtpcheck._mailhosts import DomainStatus, MailHost, MailHosts
from smtpcheck._policy import Policy
from smtpcheck._probe import Action, Outcome, SessionReport, Stop, converse
from smtpcheck._result import Reason, Result, TranscriptLine, Verdict
from smtpcheck.protocol import Reply

__all__ = [
    "DomainResults",
    "Resolve",
    "Resolved",
    "invalid",
    "parse",
    "plan",
    "plan_domain",
    "random_local_part",
]


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

_ALLOWED = Classification(Verdict.DELIVERABLE, Reason.ALLOWED)
_DENIED = Classification(Verdict.UNDELIVERABLE, Reason.DENIED)
_DISPOSABLE = Classification(Verdict.UNDELIVERABLE, Reason.DISPOSABLE)

_STOPS: dict[Stop, Reason] = {
    Stop.CONNECT_FAILED: Reason.CONNECTION_FAILED,
    Stop.TIMEOUT: Reason.TIMEOUT,
    Stop.IO_FAILED: Reason.CONNECTION_FAILED,
    Stop.TLS_FAILED: Reason.TLS_FAILED,
    Stop.TLS_UNAVAILABLE: Reason.TLS_FAILED,
    Stop.PROTOCOL_ERROR: Reason.PROTOCOL_ERROR,
}

_RANDOM_ALPHABET = string.ascii_lowercase + string.digits
# Known to this process only: the probe's local part cannot be guessed from outside.
_PROCESS_SECRET = secrets.token_bytes(32)


def random_local_part(domain: str) -> str:
    """The catch-all probe's local part for *domain*, such as ``'q7x0m2k9d4w1b8z3'``.

    Sixteen lower-case letters and digits, starting with a letter: plain enough that no
    server refuses it for its shape, random enough that no mailbox has it. It is drawn
    from a secret made at start-up, so it is unguessable, yet the same for a domain
    throughout the process: a greylisting server that deferred the probe lets it
    through when it is asked again, as it does for the real address.
    """
    digest = hashlib.blake2b(domain.encode(), key=_PROCESS_SECRET, digest_size=16).digest()
    letters = [_RANDOM_ALPHABET[byte % len(_RANDOM_ALPHABET)] for byte in digest]
    letters[0] = string.ascii_lowercase[digest[0] % len(string.ascii_lowercase)]
    return "".join(letters)


def parse(address: str | Address, policy: Policy) -> Address | InvalidAddress:
    """Step 1, syntax: the parsed address, or why it is not one."""
    if isinstance(address, Address):
        return address
    try:
        return parse_address(
            address,
            allow_domain_literal=policy.allow_domain_literal,
            allow_single_label=policy.allow_single_label,
            allow_special_use=policy.allow_special_use,
        )
    except InvalidAddress as exc:
        return exc


def invalid(given: str, error: InvalidAddress) -> Result:
    """The result for an address whose syntax is invalid."""
    return Result(
        address=given,
        normalized=None,
        verdict=Verdict.UNDELIVERABLE,
        reason=Reason.INVALID_SYNTAX,
        detail=error.message,
    )


def plan(
    address: str | Address,
    *,
    policy: Policy,
    helo_name: str | None,
    clock: Callable[[], float],
    random_local: Callable[[str], str] = random_local_part,
) -> Generator[PlanAction, PlanOutcome, Result]:
    """Plan the verification of one address; the generator returns its :class:`Result`.

    Args:
        address: The address as given, or an :class:`~smtpcheck.Address`.
        policy: What to do.
        helo_name: The EHLO name, or None for our address literal.
        clock: Monotonic seconds.
        random_local: Makes the catch-all probe's local part for a domain.
    """
    given = address if isinstance(address, str) else address.normalized
    parsed = parse(address, policy)
    if isinstance(parsed, InvalidAddress):
        return invalid(given, parsed)
    batch = yield from plan_domain(
        [(given, parsed)],
        policy=policy,
        helo_name=helo_name,
        clock=clock,
        random_local=random_local,
    )
    return batch.results[0]


@dataclass(frozen=True, slots=True)
class DomainResults:
    """What :func:`plan_domain` found.

    Attributes:
        results: One result per address, in the order given.
        random_reply: The reply to the catch-all probe, to reuse for the next addresses
            of the same domain (None when it was not asked, not answered, or deferred
            with a ``4xx``).
    """

    results: list[Result]
    random_reply: Reply | None


def plan_domain(
    items: Sequence[tuple[str, Address]],
    *,
    policy: Policy,
    helo_name: str | None,
    clock: Callable[[], float],
    random_local: Callable[[str], str] = random_local_part,
    random_reply: Reply | None = None,
) -> Generator[PlanAction, PlanOutcome, DomainResults]:
    """Plan the verification of addresses of one domain: DNS once, few connections.

    The addresses (each with its text as given) share one domain. They are asked in as
    few sessions as the server allows: up to ``policy.max_recipients`` RCPT TO in each,
    a new session for those a server left unanswered (it dropped us, or said ``452
    4.5.3`` too many recipients), as long as each session answers some. Each attempt
    has the whole ``policy.timeout`` budget, however many hosts it tries.

    Args:
        items: ``(as given, parsed)`` pairs of one domain.
        policy: What to do.
        helo_name: The EHLO name, or None for our address literal.
        clock: Monotonic seconds.
        random_local: Makes the catch-all probe's local part for a domain.
        random_reply: The catch-all probe's reply learned earlier for this domain; the
            probe is not asked again when it is given.
    """
    out = _Collector(items, clock)
    # Offline answers first: the policy's lists, and disposable domains when the policy
    # refuses them. These addresses need neither DNS nor SMTP.
    pending: list[int] = []
    for index, (_, parsed) in enumerate(items):
        offline = _offline(parsed, out.enrichments[index], policy)
        if offline is None:
            pending.append(index)
        else:
            out.finish(index, offline[0], detail=offline[1])
    if not pending:
        return DomainResults(out.done(), random_reply)

    # 2. DNS: where does mail for this domain go?
    first = items[0][1]
    hosts = yield from _find_hosts(first, policy)
    if isinstance(hosts, MailHosts):
        found = _DNS_STATUS.get(
            hosts.status, Classification(Verdict.UNDELIVERABLE, Reason.NO_MAIL_SERVER)
        )
        for index in pending:
            out.finish(index, found, detail=hosts.detail)
        return DomainResults(out.done(), random_reply)

    # 3. SMTP: sessions until every address has its answer or no session makes progress.
    transcripts: dict[int, list[TranscriptLine]] = {i: [] for i in pending}
    last: dict[int, Reply] = {}  # each address's latest RCPT reply
    while pending:
        batch = pending[: max(1, policy.max_recipients - (random_reply is None))]
        probe_local = (
            random_local(first.ascii_domain)
            if policy.catch_all_probe and random_reply is None
            else None
        )
        report = yield from _ask_hosts(
            hosts,
            [items[i][1] for i in batch],
            probe_local=probe_local,
            policy=policy,
            helo_name=helo_name,
            clock=clock,
        )
        for index in batch:
            transcripts[index].extend(report.transcript)
        # This session's probe decides its own answers; only a definitive one (accepted,
        # or refused for good) is kept for the next sessions: a deferred one is asked again.
        probe_reply = report.random_reply or random_reply
        if report.random_reply is not None and not report.random_reply.is_transient:
            random_reply = report.random_reply
        replies = {batch[position]: reply for position, reply in report.answers.items()}
        last.update(replies)
        final = {index: reply for index, reply in replies.items() if not _ask_again(reply)}
        # Another session for the rest only when this one settled some: so every
        # session makes progress, and a lone address never costs a second one.
        settled = batch if not final else list(final)
        for index in settled:
            real = last.get(index)
            if real is None:
                found, reply, detail = _session_failure(report)
                out.finish(
                    index,
                    found,
                    mx=_mx(report),
                    reply=reply,
                    detail=detail,
                    transcript=tuple(transcripts[index]),
                )
                continue
            probed = policy.catch_all_probe
            found, catch_all = classify_recipient(
                real, probe_reply if probed else None, probed=probed
            )
            # An accepted address whose probe was deferred is decided by the probe.
            deferred = real.is_positive and found.verdict is Verdict.UNKNOWN
            out.finish(
                index,
                found,
                mx=report.host,
                reply=probe_reply if deferred else real,
                catch_all=catch_all,
                transcript=tuple(transcripts[index]),
            )
        pending = [index for index in pending if index not in settled]
    return DomainResults(out.done(), random_reply)


class _Collector:
    """The results of one domain's addresses, each with its offline facts."""

    def __init__(self, items: Sequence[tuple[str, Address]], clock: Callable[[], float]) -> None:
        self.items = items
        self.clock = clock
        self.started = clock()
        self.enrichments = [enrich(parsed) for _, parsed in items]
        self.results: list[Result | None] = [None] * len(items)

    def finish(
        self,
        index: int,
        found: Classification,
        *,
        mx: str | None = None,
        reply: Reply | None = None,
        catch_all: bool | None = None,
        detail: str | None = None,
        transcript: tuple[TranscriptLine, ...] = (),
    ) -> None:
        """Record the result of the address at *index*."""
        given, parsed = self.items[index]
        facts = self.enrichments[index]
        if facts.disposable and found.verdict is Verdict.DELIVERABLE:
            # A throw-away mailbox that exists today: not one to keep.
            found = Classification(Verdict.RISKY, Reason.DISPOSABLE)
        self.results[index] = Result(
            address=given,
            normalized=parsed.normalized,
            verdict=found.verdict,
            reason=found.reason,
            mx=mx,
            reply=reply,
            catch_all=catch_all,
            elapsed=max(0.0, self.clock() - self.started),
            detail=detail,
            disposable=facts.disposable,
            role_account=facts.role_account,
            free_provider=facts.free_provider,
            suggestion=facts.suggestion,
            transcript=transcript,
        )

    def done(self) -> list[Result]:
        """Every result, in the order of the items: each address has exactly one."""
        done = [r for r in self.results if r is not None]
        assert len(done) == len(self.results)  # noqa: S101 - exactly one result each
        return done


def _find_hosts(
    first: Address, policy: Policy
) -> Generator[PlanAction, PlanOutcome, tuple[MailHost, ...] | MailHosts]:
    """Step 2: the hosts to ask, or the DNS answer that says there are none."""
    if first.domain_literal is not None:
        ip = str(first.domain_literal)
        return (MailHost(name=ip, preference=0, addresses=(ip,)),)
    lifetime = policy.dns_timeout
    if policy.timeout is not None:
        lifetime = policy.timeout if lifetime is None else min(lifetime, policy.timeout)
    outcome = yield Resolve(
        domain=first.ascii_domain,
        lifetime=lifetime,
        prefer_ipv6=policy.prefer_ipv6,
        max_hosts=policy.max_mx_hosts,
    )
    assert isinstance(outcome, Resolved)  # noqa: S101 - the drivers' contract
    answer = outcome.hosts
    if answer.status is not DomainStatus.OK or not answer.hosts:
        return answer
    return answer.hosts[: policy.max_mx_hosts]


def _offline(
    parsed: Address, facts: Enrichment, policy: Policy
) -> tuple[Classification, str] | None:
    """The answer the policy gives without asking anyone, with its detail, or None."""
    listed = screen(parsed, allow=policy.allow, deny=policy.deny)
    if listed == "allowed":
        return _ALLOWED, "on the policy's allow list"
    if listed == "denied":
        return _DENIED, "on the policy's deny list"
    if facts.disposable and policy.disposable_undeliverable:
        return _DISPOSABLE, "a disposable-address domain"
    return None


def _ask_hosts(
    hosts: Sequence[MailHost],
    recipients: Sequence[Address],
    *,
    probe_local: str | None,
    policy: Policy,
    helo_name: str | None,
    clock: Callable[[], float],
) -> Generator[PlanAction, PlanOutcome, SessionReport]:
    """Ask the mail hosts in order until one answers, within one time budget."""
    started = clock()
    deadline = None if policy.timeout is None else started + policy.timeout
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
                        recipients=recipients,
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
                    retry_plain = (
                        use_tls and report.stop is Stop.TLS_FAILED and policy.tls == "opportunistic"
                    )
                    if not retry_plain:
                        break
                    use_tls = False
                out_of_time = deadline is not None and clock() >= deadline
                if out_of_time or not report.try_next_host:
                    report.transcript = transcript
                    return report
                if report.stop is not Stop.CONNECT_FAILED:
                    break  # this host answered, badly: try the next host
    assert report is not None  # noqa: S101 - hosts and their addresses are never empty
    report.transcript = transcript
    return report


def _ask_again(reply: Reply) -> bool:
    """Whether a recipient's reply asks for another session rather than answering.

    ``452 4.5.3`` too many recipients (RFC 5321 §4.5.3.1.10), ``421`` (the server closes
    this session, as Postfix does after too many errors), and any rate limit (Exim's
    ``550 Too many unknown recipients`` before it drops us): they judge the session,
    not the recipient.
    """
    if reply.code == 421:
        return True
    if reply.code in (451, 452) and (
        (reply.enhanced is not None and str(reply.enhanced) == "4.5.3")
        or "too many recipients" in reply.text.lower()
    ):
        return True
    return classify_reply(Phase.RCPT, reply).reason is Reason.RATE_LIMITED


def _mx(report: SessionReport) -> str | None:
    return None if report.stop is Stop.CONNECT_FAILED else report.host


def _session_failure(report: SessionReport) -> tuple[Classification, Reply | None, str | None]:
    """What a session that answered no recipient says about each of them."""
    if report.smtputf8_missing:
        found = Classification(Verdict.UNKNOWN, Reason.SMTPUTF8_UNSUPPORTED)
        return found, None, report.detail
    if report.stop is Stop.REFUSED and report.reply is not None:
        return classify_reply(Phase(report.phase), report.reply), report.reply, report.detail
    if report.stop is not None:
        found = Classification(Verdict.UNKNOWN, _STOPS.get(report.stop, Reason.PROTOCOL_ERROR))
        return found, report.reply, report.detail
    found = Classification(Verdict.UNKNOWN, Reason.CONNECTION_FAILED)
    return found, None, "the server closed the connection before answering RCPT TO"

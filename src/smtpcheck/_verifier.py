"""The order of a verification's steps, written once, with no I/O.

syntax -> DNS -> SMTP conversation(s) -> classification -> :class:`~smtpcheck.Result`.

:func:`plan` is a generator: it yields actions (:class:`Resolve`, and the socket actions
of :mod:`smtpcheck._probe`) and is sent their outcomes. The blocking and asyncio drivers
carry the actions out; this module alone decides what happens next.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
import string
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass

from smtpcheck._address import Address, parse_address
from smtpcheck._admission import Admit, Admitted, Lesson, Refused, Release
from smtpcheck._classify import Classification, Phase, classify_recipient, classify_reply
from smtpcheck._enrich import Enrichment, enrich, screen
from smtpcheck._errors import InvalidAddress
from smtpcheck._mailhosts import DomainStatus, MailHost, MailHosts
from smtpcheck._memory import Recall, Recalled, Remember, identity, remembers
from smtpcheck._policy import Policy
from smtpcheck._probe import Action, Outcome, Sent, SessionReport, Stop, converse
from smtpcheck._result import Reason, Result, TranscriptLine, Verdict
from smtpcheck.protocol import Reply

__all__ = [
    "DomainResults",
    "PlanAction",
    "PlanOutcome",
    "Resolve",
    "Resolved",
    "crashed",
    "failed_verification",
    "invalid",
    "lesson",
    "parse",
    "plan",
    "plan_domain",
    "probe_needed",
    "random_local_part",
    "session_capacity",
    "settles_catch_all",
]

_log = logging.getLogger("smtpcheck")


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


PlanAction = Action | Resolve | Admit | Release | Recall | Remember
PlanOutcome = Outcome | Resolved | Admitted | Refused | Recalled

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

# Refusals aimed at us: at any phase for a block (our IP, our name), before RCPT for a
# policy refusal (at RCPT a policy may be about one recipient).
_AIMED_AT_US = frozenset({Reason.BLOCKED, Reason.POLICY_REJECTED})
_SESSION_PHASES = frozenset({Phase.GREETING, Phase.EHLO, Phase.HELO, Phase.MAIL})
#: Answers that make a host's gate back off, and bulk runs ask again after it.
BACKOFF_REASONS = frozenset({Reason.RATE_LIMITED, Reason.TEMPORARY_FAILURE})

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


def probe_needed(policy: Policy, random_reply: Reply | None) -> bool:
    """Whether a session must ask the catch-all probe: on, and not answered for good."""
    return policy.catch_all_probe and random_reply is None


def session_capacity(
    policy: Policy, random_reply: Reply | None, recipient_limit: int | None = None
) -> int:
    """How many of a domain's addresses one session asks about.

    ``policy.max_recipients`` RCPT TO in all (fewer when the host was seen to take only
    *recipient_limit* in a transaction), the catch-all probe included when it is asked
    (see :func:`probe_needed`); at least one address. A host that takes one recipient a
    transaction gets one address a session, and the probe a session of its own.
    """
    most = policy.max_recipients
    if recipient_limit is not None:
        most = min(most, recipient_limit)
    return max(1, most - probe_needed(policy, random_reply))


def settles_catch_all(reply: Reply | None) -> bool:
    """Whether a reply to the catch-all probe stands for the domain's next sessions.

    An acceptance or a refusal does; a temporary answer (greylisting, a rate limit) does
    not: the next session asks again.
    """
    return reply is not None and not reply.is_transient


def crashed(given: str, normalized: str | None, error: BaseException) -> Result:
    """The result for an address whose verification hit a bug in smtpcheck itself.

    The bug is logged with its traceback by the caller; the result says so, instead of
    blaming the server.
    """
    return Result(
        address=given,
        normalized=normalized,
        verdict=Verdict.UNKNOWN,
        reason=Reason.INTERNAL_ERROR,
        detail=(
            f"smtpcheck failed while verifying it (a bug, please report it): "
            f"{type(error).__name__}: {error}"
        ),
    )


def failed_verification(address: str | Address, error: BaseException) -> Result:
    """The result of a single verification that hit a bug: logged with its traceback."""
    _log.error("smtpcheck failed while verifying %r", str(address), exc_info=error)
    if isinstance(address, Address):
        return crashed(address.normalized, address.normalized, error)
    return crashed(address, None, error)


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
    memory: bool = False,
    fresh: bool = False,
) -> Generator[PlanAction, PlanOutcome, Result]:
    """Plan the verification of one address; the generator returns its :class:`Result`.

    Args:
        address: The address as given, or an :class:`~smtpcheck.Address`.
        policy: What to do.
        helo_name: The EHLO name, or None for our address literal.
        clock: Monotonic seconds.
        random_local: Makes the catch-all probe's local part for a domain.
        memory: The driver has a memory: ask it (:class:`~smtpcheck._memory.Recall`)
            and tell it (:class:`~smtpcheck._memory.Remember`).
        fresh: Ask again even when a definite result is remembered.
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
        memory=memory,
        fresh=fresh,
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
        recipient_limit: How many RCPT TO the host took in a transaction before ``452
            4.5.3`` too many recipients, when it said so; for the next sessions.
    """

    results: list[Result]
    random_reply: Reply | None
    recipient_limit: int | None = None


def plan_domain(  # noqa: PLR0915 - the sessions of one domain, in order
    items: Sequence[tuple[str, Address]],
    *,
    policy: Policy,
    helo_name: str | None,
    clock: Callable[[], float],
    random_local: Callable[[str], str] = random_local_part,
    random_reply: Reply | None = None,
    recipient_limit: int | None = None,
    memory: bool = False,
    fresh: bool = False,
) -> Generator[PlanAction, PlanOutcome, DomainResults]:
    """Plan the verification of addresses of one domain: DNS once, few connections.

    The addresses (each with its text as given) share one domain. They are asked in as
    few sessions as the server allows: up to ``policy.max_recipients`` RCPT TO in each,
    a new session for those a server left unanswered (it dropped us, or said ``452
    4.5.3`` too many recipients), as long as each session answers some. Each attempt
    has the whole ``policy.timeout`` budget, however many hosts it tries.

    Two shapes of real servers get a prompt second session: Postfix's postscreen, which
    answers ``450 4.3.2`` to every RCPT of a new client that passed its tests and lets it
    through on its next connection (asked again once, at once); and a host that takes
    one recipient a transaction (``452 4.5.3`` to the catch-all probe after the real
    address): the probe is asked in a session of its own, and the limit is kept for the
    domain's other addresses.

    Args:
        items: ``(as given, parsed)`` pairs of one domain.
        policy: What to do.
        helo_name: The EHLO name, or None for our address literal.
        clock: Monotonic seconds.
        random_local: Makes the catch-all probe's local part for a domain.
        random_reply: The catch-all probe's reply learned earlier for this domain; the
            probe is not asked again when it is given.
        recipient_limit: The host's recipients-per-transaction limit learned earlier.
        memory: The driver has a memory. Remembered definite results (and recent
            greylistings) answer their addresses without DNS or SMTP; a remembered
            catch-all answer stands in for the probe; what a host is known for (a
            failing STARTTLS, a recipient limit) shapes the sessions; what was learned
            by asking is remembered at the end.
        fresh: Ask again even when a definite result is remembered.
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
    first = items[0][1]
    memory = memory and remembers(policy.lifetimes)
    if memory and pending:
        # What earlier verifications learned: a remembered answer needs no network.
        pending, probed_before = yield from _recall(out, pending, policy, helo_name, fresh=fresh)
        random_reply = random_reply or probed_before
    if not pending:
        return DomainResults(out.done(), random_reply, recipient_limit)
    asked = list(pending)
    learned: Reply | None = None  # a definite catch-all answer this plan learned

    # 2. DNS: where does mail for this domain go?
    hosts = yield from _find_hosts(first, policy)
    if isinstance(hosts, MailHosts):
        found = _DNS_STATUS.get(
            hosts.status, Classification(Verdict.UNDELIVERABLE, Reason.NO_MAIL_SERVER)
        )
        for index in pending:
            out.finish(index, found, detail=hosts.detail)
        if memory:
            yield from _remember(out, asked, first.ascii_domain, None, policy)
        return DomainResults(out.done(), random_reply, recipient_limit)

    plain, limit = (
        (yield from _recall_hosts(hosts, policy, helo_name)) if memory else (frozenset[str](), None)
    )
    if limit is not None:
        recipient_limit = limit if recipient_limit is None else min(recipient_limit, limit)

    # 3. SMTP: sessions until every address has its answer or no session makes progress.
    transcripts: dict[int, list[TranscriptLine]] = {i: [] for i in pending}
    last: dict[int, Reply] = {}  # each address's latest RCPT reply
    screened = False  # asked again once after postscreen's first-session 450 4.3.2
    alone: Reply | None = None  # the probe's answer in a session of its own
    ask = functools.partial(
        _ask_hosts, hosts, policy=policy, helo_name=helo_name, clock=clock, plain=plain
    )
    while pending:
        batch = pending[: session_capacity(policy, random_reply, recipient_limit)]
        # A host that takes one recipient a transaction is never sent the probe with one.
        with_probe = probe_needed(policy, random_reply) and recipient_limit != 1
        probe_local = random_local(first.ascii_domain) if with_probe else None
        report = yield from ask([items[i][1] for i in batch], probe_local=probe_local)
        for index in batch:
            transcripts[index].extend(report.transcript)
        if not screened and _postscreened(report):
            screened = True
            continue  # postscreen lets a client that passed in on its next connection
        taken = _recipient_limit(report)
        if taken is not None:
            recipient_limit = taken if recipient_limit is None else min(recipient_limit, taken)
        # This session's probe decides its own answers; only a definitive one (accepted,
        # or refused for good) is kept for the next sessions: a deferred one is asked again.
        probe_reply = report.random_reply or random_reply
        if settles_catch_all(report.random_reply):
            random_reply = learned = report.random_reply
        accepted = any(reply.is_positive for reply in report.answers.values())
        if (
            accepted
            and recipient_limit == 1
            and probe_needed(policy, random_reply)
            and (probe_reply is None or _too_many_recipients(probe_reply))
        ):
            # The real address was answered and the probe refused as one too many: ask
            # the probe alone, at once (its answer stands for the rest of this run).
            if alone is None:
                probe = _probe_address(random_local(first.ascii_domain), first)
                solo = yield from ask([probe], probe_local=None)
                for index in batch:
                    transcripts[index].extend(solo.transcript)
                alone = solo.answers.get(0)
            probe_reply = alone or probe_reply
            if settles_catch_all(alone):
                random_reply = learned = alone
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
            _log.debug(
                "%s: %s at %s -> %s/%s",
                items[index][1].normalized,
                real.code,
                report.host,
                found.verdict.value,
                found.reason.value,
            )
            out.finish(
                index,
                found,
                mx=report.host,
                reply=probe_reply if deferred else real,
                catch_all=catch_all,
                transcript=tuple(transcripts[index]),
            )
        pending = [index for index in pending if index not in settled]
    if memory:
        yield from _remember(out, asked, first.ascii_domain, learned, policy)
    return DomainResults(out.done(), random_reply, recipient_limit)


def _identity(policy: Policy, helo_name: str | None) -> str:
    return identity(helo_name=helo_name, source_address=policy.source_address, proxy=policy.proxy)


def _question(policy: Policy) -> str:
    """What the policy asks a server, as far as it may change the answer."""
    return (
        f"port={policy.port} tls={policy.tls} implicit={int(policy.implicit)} "
        f"verify={int(policy.check_certificate)} ca={policy.ca_file or ''} "
        f"from={policy.mail_from} probe={int(policy.catch_all_probe)}"
    )


def _recall(
    out: _Collector, pending: list[int], policy: Policy, helo_name: str | None, *, fresh: bool
) -> Generator[PlanAction, PlanOutcome, tuple[list[int], Reply | None]]:
    """Answer from memory what it can; return the rest, and the catch-all reply known."""
    recalled = yield Recall(
        domain=out.items[0][1].ascii_domain,
        # A transcript is a conversation: asking for one asks the server.
        addresses=()
        if fresh or policy.transcript
        else tuple(out.items[i][1].normalized for i in pending),
        identity=_identity(policy, helo_name),
        lifetimes=policy.lifetimes,
        question=_question(policy),
        greylist_delay=policy.greylist_delay,
    )
    assert isinstance(recalled, Recalled)  # noqa: S101 - the drivers' contract
    left = [index for index in pending if not _recalled(out, index, recalled)]
    return left, recalled.catch_all


def _recalled(out: _Collector, index: int, recalled: Recalled) -> bool:
    """Answer the address at *index* from memory, when it can be; say whether it was."""
    key = out.items[index][1].normalized
    found = recalled.results.get(key)
    if found is not None:
        out.finish(
            index,
            Classification(found.verdict, found.reason),
            mx=found.mx,
            reply=found.reply,
            catch_all=found.catch_all,
            detail=found.detail,
            remembered_at=found.learned_at,
        )
        return True
    grey = recalled.greylisted.get(key)
    if grey is not None:
        out.finish(
            index,
            Classification(Verdict.UNKNOWN, Reason.GREYLISTED),
            reply=grey.reply,
            detail=grey.detail(),
            remembered_at=grey.learned_at,
        )
        return True
    return False


def _recall_hosts(
    hosts: Sequence[MailHost], policy: Policy, helo_name: str | None
) -> Generator[PlanAction, PlanOutcome, tuple[frozenset[str], int | None]]:
    """What the memory knows of the hosts: those to ask in plaintext, a recipient limit.

    In opportunistic mode a host whose STARTTLS handshake failed is asked in plaintext
    at once (it would be after a failed attempt anyway); a host that said ``452`` too
    many recipients after *n* RCPT TO gets sessions of *n* at most.
    """
    known = yield Recall(
        domain="",
        hosts=tuple(h.name for h in hosts),
        identity=_identity(policy, helo_name),
        lifetimes=policy.lifetimes,
    )
    assert isinstance(known, Recalled)  # noqa: S101 - the drivers' contract
    plain = frozenset[str]()
    if policy.tls == "opportunistic":
        plain = frozenset(name for name, facts in known.hosts.items() if facts.tls_failed)
    limits = [f.recipient_limit for f in known.hosts.values() if f.recipient_limit]
    return plain, min(limits, default=None)


def _remember(
    out: _Collector, asked: Sequence[int], domain: str, catch_all: Reply | None, policy: Policy
) -> Generator[PlanAction, PlanOutcome, None]:
    """Tell the memory what asking taught: the results and the catch-all answer."""
    outcome = yield Remember(
        domain=domain,
        results=tuple(r for i in asked if (r := out.results[i]) is not None),
        catch_all=catch_all,
        lifetimes=policy.lifetimes,
        greylist_delay=policy.greylist_delay,
        question=_question(policy),
    )
    assert isinstance(outcome, Sent)  # noqa: S101 - the drivers' contract


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
        remembered_at: float | None = None,
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
            remembered_at=remembered_at,
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
    _log.debug(
        "resolved %s: %s, %s",
        first.ascii_domain,
        answer.status.value,
        ", ".join(host.name for host in answer.hosts) or "no hosts",
    )
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
    plain: frozenset[str] = frozenset(),
) -> Generator[PlanAction, PlanOutcome, SessionReport]:
    """Ask the mail hosts in order until one answers, within one time budget.

    Each connection is admitted first (:class:`~smtpcheck._admission.Admit`). The rule
    for what the wait costs is here and only here: time spent waiting for a slot does
    not count against ``policy.timeout``, so the deadline moves by each wait. A host
    whose admission is refused is passed over like one that cannot be reached.

    The hosts in *plain* are known to fail STARTTLS: they are asked in plaintext at once.
    """
    started = clock()
    deadline = None if policy.timeout is None else started + policy.timeout
    transcript: list[TranscriptLine] = []
    report: SessionReport | None = None
    for _round in range(policy.retries + 1):
        for host in hosts:
            for ip in host.addresses:
                request = Admit(host=host.name, ip=ip, port=host.port or policy.port)
                admission = yield request
                if isinstance(admission, Refused):
                    report = _not_admitted(request, admission)
                    _note(policy, transcript, clock() - started, report.detail or "")
                    continue
                assert isinstance(admission, Admitted)  # noqa: S101 - the drivers' contract
                if admission.waited > 0:
                    if deadline is not None:
                        deadline += admission.waited
                    _note(
                        policy,
                        transcript,
                        clock() - started,
                        f"admitted to {host.name} [{ip}]:{request.port} "
                        f"after waiting {admission.waited:.2f} s",
                    )
                report = yield from _converse_admitted(
                    request,
                    recipients,
                    probe_local=probe_local,
                    policy=policy,
                    helo_name=helo_name,
                    clock=clock,
                    started=started,
                    deadline=deadline,
                    plain=host.name in plain,
                )
                transcript.extend(report.transcript)
                out_of_time = deadline is not None and clock() >= deadline
                if out_of_time or not report.try_next_host:
                    report.transcript = transcript
                    return report
                if report.stop is not Stop.CONNECT_FAILED:
                    break  # this host answered, badly: try the next host
    assert report is not None  # noqa: S101 - hosts and their addresses are never empty
    report.transcript = transcript
    return report


def _converse_admitted(
    request: Admit,
    recipients: Sequence[Address],
    *,
    probe_local: str | None,
    policy: Policy,
    helo_name: str | None,
    clock: Callable[[], float],
    started: float,
    deadline: float | None,
    plain: bool = False,
) -> Generator[PlanAction, PlanOutcome, SessionReport]:
    """The conversation(s) one admission covers, then its release with their lesson.

    Opportunistic TLS that fails is retried in plaintext at once, as MTAs do: the same
    slot covers both connections, one after the other. With *plain* (the host is known
    to fail STARTTLS) the first attempt is in plaintext.
    """
    use_tls = not plain
    transcript: list[TranscriptLine] = []
    tls_failed = False
    while True:
        report = yield from converse(
            host=request.host,
            ip=request.ip,
            port=request.port,
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
        tls_failed = tls_failed or report.stop is Stop.TLS_FAILED
        retry_plain = use_tls and report.stop is Stop.TLS_FAILED and policy.tls == "opportunistic"
        if not retry_plain:
            break
        use_tls = False
    report.transcript = transcript
    taught = lesson(report, tls_failed=tls_failed)
    _log.debug(
        "session with %s [%s]:%s: %s%s",
        request.host,
        request.ip,
        request.port,
        report.stop.value if report.stop is not None else "answered",
        ", over TLS" if report.tls else "",
    )
    yield Release(admit=request, lesson=taught)
    return report


def _note(policy: Policy, transcript: list[TranscriptLine], at: float, text: str) -> None:
    if policy.transcript:
        transcript.append(TranscriptLine(direction="*", text=text, at=at))


def _not_admitted(request: Admit, refused: Refused) -> SessionReport:
    """The report for a host whose admission was refused: no connection was made."""
    return SessionReport(
        host=request.host,
        stop=Stop.NOT_ADMITTED,
        reply=refused.reply,
        detail=refused.detail or f"not admitted to {request.host} [{request.ip}]",
        refusal=refused.reason,
    )


def lesson(report: SessionReport, *, tls_failed: bool = False) -> Lesson:
    """What a session taught about its host, for admission (back-off, memory).

    A refusal aimed at us: ``blocked`` at any phase, ``policy_rejected`` before RCPT (at
    RCPT a policy may concern one recipient). A rate limit or temporary failure at any
    phase, except two that waiting does not cure: ``452 4.5.3`` too many recipients
    (taught as the number of recipients a transaction took) and postscreen's first
    ``450 4.3.2`` to a client that passed its tests (the next connection gets through).
    """
    replies: list[tuple[Phase, Reply]] = []
    if report.stop is Stop.REFUSED and report.reply is not None:
        replies.append((Phase(report.phase), report.reply))
    ordered = _rcpt_order(report)
    replies += [(Phase.RCPT, reply) for reply in ordered]
    refused_us: Reason | None = None
    rate_limited = False
    taught: Reply | None = None
    screened = _postscreened(report)
    for phase, reply in replies:
        reason = classify_reply(phase, reply).reason
        aimed = reason is Reason.BLOCKED or (reason in _AIMED_AT_US and phase in _SESSION_PHASES)
        if aimed and refused_us is None:
            refused_us, taught = reason, reply
        elif (
            reason in BACKOFF_REASONS
            and not rate_limited
            and not screened
            and not _too_many_recipients(reply)
        ):
            rate_limited = True
            taught = taught or reply
    limit = _recipient_limit(report)
    return Lesson(
        refused_us=refused_us,
        rate_limited=rate_limited,
        reply=taught,
        tls_failed=tls_failed,
        pipelining=report.pipelining,
        recipient_limit=limit,
    )


def _recipient_limit(report: SessionReport) -> int | None:
    """How many RCPT TO this session's transaction took before ``452 4.5.3``, or None."""
    ordered = _rcpt_order(report)
    return next((n for n, reply in enumerate(ordered) if _too_many_recipients(reply)), None) or None


def _postscreened(report: SessionReport) -> bool:
    """Whether the session has postscreen's shape for a new client that passed its tests.

    Postfix's postscreen with its deep protocol tests on offers no PIPELINING, plays the
    server itself, and answers every RCPT TO with ``450 4.3.2 Service currently
    unavailable``; the client's next connection goes to the real server.
    """
    replies = list(report.answers.values())
    if report.random_reply is not None:
        replies.append(report.random_reply)
    return (
        report.pipelining is False
        and bool(report.answers)
        and all(
            reply.code == 450 and reply.enhanced is not None and str(reply.enhanced) == "4.3.2"
            for reply in replies
        )
    )


def _probe_address(local: str, first: Address) -> Address:
    """The catch-all probe as an address of its own (for a session of its own)."""
    return parse_address(
        f"{local}@{first.ascii_domain}",
        allow_domain_literal=True,
        allow_single_label=True,
        allow_special_use=True,
    )


def _rcpt_order(report: SessionReport) -> list[Reply]:
    """The RCPT replies in the order they were asked: first recipient, probe, others."""
    answers = [report.answers[i] for i in sorted(report.answers)]
    if report.random_reply is not None:
        answers.insert(min(1, len(answers)), report.random_reply)
    return answers


def _too_many_recipients(reply: Reply) -> bool:
    """``452 4.5.3`` too many recipients (RFC 5321 §4.5.3.1.10), however it is worded."""
    return reply.code in (451, 452) and (
        (reply.enhanced is not None and str(reply.enhanced) == "4.5.3")
        or "too many recipients" in reply.text.lower()
    )


def _ask_again(reply: Reply) -> bool:
    """Whether a recipient's reply asks for another session rather than answering.

    ``452 4.5.3`` too many recipients (RFC 5321 §4.5.3.1.10), ``421`` (the server closes
    this session, as Postfix does after too many errors), and any rate limit (Exim's
    ``550 Too many unknown recipients`` before it drops us): they judge the session,
    not the recipient.
    """
    if reply.code == 421 or _too_many_recipients(reply):
        return True
    return classify_reply(Phase.RCPT, reply).reason is Reason.RATE_LIMITED


def _mx(report: SessionReport) -> str | None:
    return None if report.stop in (Stop.CONNECT_FAILED, Stop.NOT_ADMITTED) else report.host


def _session_failure(report: SessionReport) -> tuple[Classification, Reply | None, str | None]:
    """What a session that answered no recipient says about each of them."""
    if report.smtputf8_missing:
        found = Classification(Verdict.UNKNOWN, Reason.SMTPUTF8_UNSUPPORTED)
        return found, None, report.detail
    if report.stop is Stop.NOT_ADMITTED:
        found = Classification(Verdict.UNKNOWN, report.refusal or Reason.CONNECTION_FAILED)
        return found, report.reply, report.detail
    if report.stop is Stop.REFUSED and report.reply is not None:
        return classify_reply(Phase(report.phase), report.reply), report.reply, report.detail
    if report.stop is not None:
        found = Classification(Verdict.UNKNOWN, _STOPS.get(report.stop, Reason.PROTOCOL_ERROR))
        return found, report.reply, report.detail
    found = Classification(Verdict.UNKNOWN, Reason.CONNECTION_FAILED)
    return found, None, "the server closed the connection before answering RCPT TO"

"""The audit, written once as a plan, and its blocking and asyncio drivers.

The plan yields either a batch of DNS questions (answered by the resolver's
:meth:`~smtpcheck.Resolver.records` or :meth:`~smtpcheck.Resolver.arecords`) or a
:class:`Talk`: the EHLO-only conversation of :func:`smtpcheck._probe.greet`, which the
verifier's own drivers carry out (``_sync.drive`` / ``_async.drive``), so the doctor
connects as a verification does: through the policy's proxy, from its source address,
with its timeouts.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from smtpcheck import _async, _sync
from smtpcheck._doctor._blocklists import DEFAULT_BLOCKLISTS, Blocklist, blocklist
from smtpcheck._doctor._checks import (
    Context,
    DNSPlan,
    check_blocklist,
    check_dmarc,
    check_helo,
    check_outbound,
    check_public_ip,
    check_reverse_dns,
    check_spf,
    find_target,
    ip_in_reply,
)
from smtpcheck._doctor._report import Audit, Check, CheckStatus, Target
from smtpcheck._drivers import default_helo_name, describe_os_error
from smtpcheck._errors import PolicyError
from smtpcheck._policy import Policy
from smtpcheck._probe import Action, Greeted, Outcome, greet
from smtpcheck._resolver import Resolver
from smtpcheck._resolver._plan import Answer, Query
from smtpcheck._verifier import PlanAction, PlanOutcome

__all__ = ["Talk", "aaudit", "audit", "check_source_address", "plan_audit"]

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Talk:
    """A step of the audit: carry out this conversation with a driver, send back its value."""

    steps: Generator[PlanAction, PlanOutcome, Greeted]


AuditStep = tuple[Query, ...] | Talk
AuditOutcome = tuple[Answer, ...] | Greeted
AuditPlan = Generator[AuditStep, AuditOutcome, Audit]
TalkSteps = Generator[PlanAction, PlanOutcome, Greeted]


def _dns(plan: DNSPlan[_T]) -> Generator[AuditStep, AuditOutcome, _T]:
    """Run a check's plan of DNS questions as part of the audit's plan."""
    try:
        queries = next(plan)
        while True:
            answers = yield queries
            assert isinstance(answers, tuple)  # noqa: S101 - the drivers' contract
            queries = plan.send(answers)
    except StopIteration as stop:
        result: _T = stop.value
        return result


def _driven(conversation: Generator[Action, Outcome, Greeted]) -> TalkSteps:
    """The conversation as a plan the verifier's drivers carry out."""
    return (yield from conversation)


def plan_audit(
    policy: Policy,
    *,
    domain: str | None,
    target: str | tuple[str, int] | None,
    public_ip: str | None,
    blocklists: Sequence[Blocklist | str] | None,
    helo_name: str | None,
) -> AuditPlan:
    """The audit's steps, in order (see :func:`smtpcheck.audit` for the arguments).

    Raises:
        PolicyError: ``target`` or ``public_ip`` cannot be read (before the first step).
    """
    if public_ip is not None:
        try:
            public_ip = str(ipaddress.ip_address(public_ip.strip()))
        except ValueError:
            raise PolicyError(f"the public IP must be an IP address, not {public_ip!r}") from None
    zones = [blocklist(b) for b in (DEFAULT_BLOCKLISTS if blocklists is None else blocklists)]
    finding = find_target(policy, domain=domain, target=target)
    return _steps(policy, finding, public_ip, zones, helo_name)


def _steps(
    policy: Policy,
    finding: DNSPlan[tuple[Target | None, Check | None]],
    public_ip: str | None,
    zones: list[Blocklist],
    helo_name: str | None,
) -> AuditPlan:
    ctx = Context(policy=policy, helo=helo_name, mail_from=policy.mail_from)
    found, failed = yield from _dns(finding)
    greeted: Greeted | None = None
    if found is None:
        assert failed is not None  # noqa: S101 - one or the other
        outbound = failed
    else:
        assert found.address is not None  # noqa: S101 - find_target gives one
        conversation = greet(
            host=found.host,
            ip=found.address,
            port=found.port,
            policy=policy,
            helo_name=ctx.helo,
            clock=time.monotonic,
        )
        said = yield Talk(_driven(conversation))
        assert isinstance(said, Greeted)  # noqa: S101 - the drivers' contract
        greeted = said
        outbound = check_outbound(policy, found, greeted)
    seen = ip_in_reply(greeted.ehlo) if greeted else None
    checks = [outbound, check_public_ip(ctx, public_ip, seen)]
    checks.append((yield from _dns(check_reverse_dns(ctx))))
    checks.append((yield from _dns(check_helo(ctx))))
    checks.append((yield from _dns(check_spf(ctx))))
    checks.append((yield from _dns(check_dmarc(ctx))))
    for zone in zones:
        checks.append((yield from _dns(check_blocklist(ctx, zone))))  # noqa: PERF401 - a plan
    return Audit(
        checks=tuple(checks),
        public_ip=ctx.public_ip,
        helo_name=ctx.helo,
        mail_from=policy.mail_from,
        target=found,
    )


def _resolver(policy: Policy, nameservers: Sequence[str] | None, dns_port: int) -> Resolver:
    return Resolver(nameservers=nameservers, port=dns_port, timeout=policy.dns_timeout or 10.0)


def audit(
    *,
    policy: Policy | None = None,
    domain: str | None = None,
    target: str | tuple[str, int] | None = None,
    public_ip: str | None = None,
    blocklists: Sequence[Blocklist | str] | None = None,
    nameservers: Sequence[str] | None = None,
    dns_port: int = 53,
) -> Audit:
    """Audit this host as an SMTP client: port 25, public IP, PTR, HELO, SPF, blocklists.

    Nothing is sent but one EHLO and a QUIT to one mail host, connected to as a
    verification would be (the policy's ``proxy`` and ``source_address`` included). A
    check that cannot be done is reported as :attr:`CheckStatus.UNKNOWN`; this never
    raises for what the network or DNS does.

    Args:
        policy: The policy to audit: its ``helo_name`` (else this machine's name),
            ``mail_from``, ``port``, ``source_address``, ``proxy`` and timeouts
            (``connect_timeout``, ``reply_timeout`` for the whole EHLO conversation,
            ``dns_timeout`` per DNS question).
        domain: Connect to the first MX of this domain (``gmail.com`` when neither
            ``domain`` nor ``target`` is given).
        target: Connect to this host instead: ``"host"``, ``"host:port"``,
            ``"[2001:db8::1]:25"`` or ``(host, port)``; the port defaults to the policy's.
        public_ip: This host's public IP, used when the mail host does not name it.
        blocklists: DNS blocklists, as :class:`~smtpcheck.Blocklist` or zone names
            (known zones keep their answer codes); Spamhaus ZEN, SpamCop, Barracuda and
            PSBL when None, none when empty.
        nameservers: Name servers to ask, or None for the system's.
        dns_port: The name servers' port.

    Returns:
        The report.

    Raises:
        PolicyError: ``target``, ``public_ip`` or a name server cannot be read.
    """
    policy = policy or Policy()
    helo = policy.helo_name or default_helo_name()
    plan = plan_audit(policy, domain=domain, target=target, public_ip=public_ip,
                      blocklists=blocklists, helo_name=helo)  # fmt: skip
    resolver = _resolver(policy, nameservers, dns_port)
    try:
        step = next(plan)
        while True:
            outcome: AuditOutcome
            if isinstance(step, Talk):
                outcome = _sync.drive(step.steps, policy=policy, resolver=resolver)
            else:
                outcome = tuple(resolver.records(q.name, q.rdtype) for q in step)
            step = plan.send(outcome)
    except StopIteration as stop:
        report: Audit = stop.value
        return report


async def aaudit(
    *,
    policy: Policy | None = None,
    domain: str | None = None,
    target: str | tuple[str, int] | None = None,
    public_ip: str | None = None,
    blocklists: Sequence[Blocklist | str] | None = None,
    nameservers: Sequence[str] | None = None,
    dns_port: int = 53,
) -> Audit:
    """The asyncio twin of :func:`audit`, with the same arguments and report.

    The questions that do not depend on each other are asked concurrently.
    """
    policy = policy or Policy()
    helo = policy.helo_name or await asyncio.to_thread(default_helo_name)
    plan = plan_audit(policy, domain=domain, target=target, public_ip=public_ip,
                      blocklists=blocklists, helo_name=helo)  # fmt: skip
    resolver = _resolver(policy, nameservers, dns_port)
    try:
        step = next(plan)
        while True:
            outcome: AuditOutcome
            if isinstance(step, Talk):
                outcome = await _async.drive(step.steps, policy=policy, resolver=resolver)
            else:
                outcome = tuple(
                    await asyncio.gather(*(resolver.arecords(q.name, q.rdtype) for q in step))
                )
            step = plan.send(outcome)
    except StopIteration as stop:
        report: Audit = stop.value
        return report


def check_source_address(address: str) -> Check:
    """Whether ``address`` is an IP address of this host that a socket can bind to.

    A source address that is not local (a typo, another machine's address, an address
    that moved) makes every connection fail, so it fails the check.
    """
    name = "source_address"
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return Check(
            name=name,
            status=CheckStatus.FAIL,
            summary=f"The source address {address!r} is not an IP address.",
            fix="Set source_address to an IPv4 or IPv6 address of this host, or leave it unset.",
        )
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((str(ip), 0))
        except OSError as error:
            return Check(
                name=name,
                status=CheckStatus.FAIL,
                summary=f"The source address {ip} is not an address of this host: "
                f"{describe_os_error(error)}.",
                fix="Set source_address to an address this host has (ip addr shows them), "
                "or leave it unset.",
            )
    return Check(name=name, status=CheckStatus.PASS, summary=f"{ip} is an address of this host.")

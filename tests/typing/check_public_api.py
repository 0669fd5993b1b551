"""The public API as a user writes it, checked by mypy (``mypy --strict src tests``).

Nothing here runs: each function is a piece of application code that must type-check,
with ``assert_type`` pinning what the names give back, and ``# type: ignore[code]`` on
the lines a type checker must refuse (``warn_unused_ignores`` fails the check when one
of them stops being an error). As stamina and aiosmtplib do.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Generator, Iterable
from typing import Any, assert_type

import smtpcheck
from smtpcheck import (
    Address,
    AddressList,
    AsyncMailHostResolver,
    Audit,
    Blocklist,
    Check,
    CheckStatus,
    DomainStatus,
    EnhancedStatus,
    Enrichment,
    InvalidAddress,
    MailHost,
    MailHostResolver,
    MailHosts,
    Policy,
    PolicyError,
    Reason,
    Reply,
    Resolver,
    Result,
    SMTPCheckError,
    Target,
    TranscriptLine,
    Verdict,
)
from smtpcheck.protocol import ClientConnection
from smtpcheck.testing import Behaviour, MailWorld


def check_verify() -> None:
    result = smtpcheck.verify("someone@example.com")
    assert_type(result, Result)
    assert_type(result.verdict, Verdict)
    assert_type(result.reason, Reason)
    assert_type(result.normalized, str | None)
    assert_type(result.mx, str | None)
    assert_type(result.reply, Reply | None)
    assert_type(result.catch_all, bool | None)
    assert_type(result.elapsed, float)
    assert_type(result.suggestion, str | None)
    assert_type(result.transcript, tuple[TranscriptLine, ...])
    assert_type(result.to_dict(), dict[str, Any])
    if result.reply is not None:
        assert_type(result.reply.code, int)
        assert_type(result.reply.enhanced, EnhancedStatus | None)
        assert_type(result.reply.text, str)
    if result.verdict is Verdict.UNDELIVERABLE and result.reason is Reason.MAILBOX_NOT_FOUND:
        pass

    address = smtpcheck.parse_address("Jöhn@exämple.org")
    assert_type(address, Address)
    assert_type(address.ascii_domain, str)
    assert_type(smtpcheck.verify(address, policy=Policy(), resolver=Resolver()), Result)

    smtpcheck.verify(b"someone@example.com")  # type: ignore[arg-type]
    smtpcheck.verify("someone@example.com", Policy())  # type: ignore[call-arg]
    smtpcheck.verify("someone@example.com", policy="strict")  # type: ignore[arg-type]
    smtpcheck.verfy("someone@example.com")  # type: ignore[attr-defined]


async def check_averify() -> None:
    assert_type(await smtpcheck.averify("someone@example.com"), Result)
    results = await asyncio.gather(*(smtpcheck.averify(a) for a in ["a@b.example"]))
    assert_type(results, list[Result])


def check_verify_many(addresses: Iterable[str]) -> None:
    for result in smtpcheck.verify_many(addresses, policy=Policy(max_recipients=10)):
        assert_type(result, Result)
    results = smtpcheck.verify_many([smtpcheck.parse_address("a@b.example"), "c@d.example"])
    results.close()  # stopping early stops the work
    with contextlib.closing(smtpcheck.verify_many(addresses)) as more:
        assert_type(next(more), Result)


async def check_averify_many(addresses: Iterable[str]) -> None:
    async for result in smtpcheck.averify_many(addresses):
        assert_type(result, Result)
    async with contextlib.aclosing(smtpcheck.averify_many(addresses)) as results:
        assert_type(await anext(results), Result)


def check_memory() -> None:
    memory = smtpcheck.Memory()
    assert_type(smtpcheck.verify("a@b.example", memory=memory, fresh=True), Result)
    for result in smtpcheck.verify_many(["a@b.example"], memory=memory):
        assert_type(result.remembered_at, float | None)
    assert_type(Policy(lifetimes=smtpcheck.Lifetimes.off()), Policy)


def check_policy() -> None:
    policy = Policy(
        port=25,
        tls="opportunistic",
        helo_name="verifier.example.net",
        mail_from="",
        timeout=20.0,
        catch_all_probe=True,
        transcript=True,
        allow=AddressList.of(["example.com", "ceo@example.org"]),
    )
    assert_type(policy.replace(timeout=5.0), Policy)
    assert_type(policy.timeout, float | None)
    Policy(tls="sometimes")  # type: ignore[arg-type]
    Policy(25)  # type: ignore[call-arg]


def check_errors(text: str) -> str:
    try:
        smtpcheck.parse_address(text)
    except InvalidAddress as error:
        assert_type(error.reason, str)
        assert_type(error.address, str)
        return error.message
    except (PolicyError, SMTPCheckError) as error:
        return str(error)
    return ""


class TableResolver:
    """An application's own resolver, blocking and asyncio (each protocol has one method)."""

    def mail_hosts(
        self,
        ascii_domain: str,
        *,
        lifetime: float | None = None,
        prefer_ipv6: bool = False,
        max_hosts: int | None = None,
        spf: bool = False,
        dmarc: bool = False,
    ) -> MailHosts:
        host = MailHost(name=f"mx.{ascii_domain}", preference=10, addresses=("192.0.2.1",))
        return MailHosts(domain=ascii_domain, status=DomainStatus.OK, hosts=(host,))

    async def amail_hosts(
        self,
        ascii_domain: str,
        *,
        lifetime: float | None = None,
        prefer_ipv6: bool = False,
        max_hosts: int | None = None,
        spf: bool = False,
        dmarc: bool = False,
    ) -> MailHosts:
        return self.mail_hosts(ascii_domain)


def check_resolvers() -> None:
    resolver: MailHostResolver = TableResolver()
    assert_type(smtpcheck.verify("a@b.example", resolver=resolver), Result)
    aresolver: AsyncMailHostResolver = TableResolver()
    results = smtpcheck.verify_many(["a@b.example"], resolver=aresolver)
    assert_type(results, Generator[Result, None, None])
    smtpcheck.verify("a@b.example", resolver=aresolver)  # type: ignore[arg-type]
    hosts = Resolver(nameservers=["127.0.0.1"], port=5353).mail_hosts("example.com")
    assert_type(hosts, MailHosts)
    assert_type(hosts.status, DomainStatus)
    assert_type(hosts.hosts, tuple[MailHost, ...])
    smtpcheck.verify("a@b.example", resolver=object())  # type: ignore[arg-type]


def check_enrichment() -> None:
    address = smtpcheck.parse_address("info@gmial.com")
    assert_type(smtpcheck.enrich(address), Enrichment)
    assert_type(smtpcheck.enrich(address).disposable, bool)
    assert_type(smtpcheck.suggest(address), str | None)
    smtpcheck.suggest("info@gmial.com")  # type: ignore[arg-type]


def check_audit() -> None:
    report = smtpcheck.audit(policy=Policy(helo_name="verifier.example.net"))
    assert_type(report, Audit)
    for check in report.checks:
        assert_type(check, Check)
        assert_type(check.status, CheckStatus)
        assert_type(check.fix, str | None)
    assert_type(report["port25"], Check)
    assert_type(report.target, Target | None)
    own = Blocklist(zone="bl.example", listed={"127.0.0.2": "spam source"})
    assert_type(smtpcheck.audit(blocklists=[own, "bl.spamcop.net"]), Audit)


def check_protocol() -> None:
    conn = ClientConnection()
    assert_type(conn.send(smtpcheck.protocol.Ehlo("client.example")), bytes)
    assert_type(Reply(550, ("5.1.1 no such user",)).is_permanent, bool)


def check_sandbox() -> None:
    with MailWorld.default() as world:
        policy = Policy(allow_special_use=True)
        result = smtpcheck.verify("alice@ok.test", policy=policy, resolver=world.resolver)
        assert_type(result, Result)
        world.add_server("mx.slow.test", domains=["slow.test"], behaviour=Behaviour())

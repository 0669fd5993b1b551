"""verify() and averify() against the sandbox world: every behaviour, both drivers.

Each test uses the ``mail_world`` fixture, whose teardown fails the test if smtpcheck
sent DATA, BDAT, VRFY or EXPN to any server.
"""

from __future__ import annotations

import asyncio
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import smtpcheck
from smtpcheck import Policy, Reason, Result, Verdict
from smtpcheck.testing import Behaviour, MailWorld, RawScript

V, R = Verdict, Reason
# A refused mailbox's result says whether the domain is a catch-all when the probe was
# answered in the same round trip (pipelining), and None otherwise: either is right.
ANY = object()

POLICY = Policy(allow_special_use=True, helo_name="verifier.example.net", timeout=10.0)


def run_sync(address: str, world: MailWorld, policy: Policy = POLICY) -> Result:
    return smtpcheck.verify(address, policy=policy, resolver=world.resolver)


def run_async(address: str, world: MailWorld, policy: Policy = POLICY) -> Result:
    return asyncio.run(smtpcheck.averify(address, policy=policy, resolver=world.resolver))


DRIVERS = pytest.mark.parametrize("run", [run_sync, run_async], ids=["sync", "async"])
Runner = Callable[..., Result]


@DRIVERS
@pytest.mark.parametrize(
    ("address", "verdict", "reason", "catch_all"),
    [
        ("alice@ok.test", V.DELIVERABLE, R.ACCEPTED, False),
        ("Alice@ok.test", V.DELIVERABLE, R.ACCEPTED, False),
        ("nobody@ok.test", V.UNDELIVERABLE, R.MAILBOX_NOT_FOUND, ANY),
        ("jörg@ok.test", V.DELIVERABLE, R.ACCEPTED, False),
        ("alice@catchall.test", V.RISKY, R.CATCH_ALL, True),
        ("alice@full.test", V.RISKY, R.MAILBOX_FULL, False),
        ("alice@disabled.test", V.UNDELIVERABLE, R.MAILBOX_DISABLED, False),
        ("alice@greylist.test", V.UNKNOWN, R.GREYLISTED, ANY),
        ("alice@blocked.test", V.UNKNOWN, R.BLOCKED, ANY),
        ("alice@blocked-connect.test", V.UNKNOWN, R.BLOCKED, None),
        ("alice@sender-refused.test", V.UNKNOWN, R.POLICY_REJECTED, None),
        ("alice@starttls.test", V.DELIVERABLE, R.ACCEPTED, False),
        ("alice@tls.test", V.DELIVERABLE, R.ACCEPTED, False),
        ("alice@drop.test", V.UNKNOWN, R.CONNECTION_FAILED, None),
        ("alice@busy.test", V.UNKNOWN, R.RATE_LIMITED, None),
        ("alice@limit.test", V.DELIVERABLE, R.ACCEPTED, False),
        ("alice@gmail.test", V.DELIVERABLE, R.ACCEPTED, False),
        ("nobody@gmail.test", V.UNDELIVERABLE, R.MAILBOX_NOT_FOUND, ANY),
        ("nobody@outlook.test", V.UNDELIVERABLE, R.MAILBOX_NOT_FOUND, ANY),
        ("nobody@plain.test", V.UNDELIVERABLE, R.MAILBOX_NOT_FOUND, ANY),
        ("alice@ascii.test", V.DELIVERABLE, R.ACCEPTED, False),
        ("jörg@ascii.test", V.UNKNOWN, R.SMTPUTF8_UNSUPPORTED, None),
        ("alice@implicit.test", V.DELIVERABLE, R.ACCEPTED, False),
        ("alice@backup.test", V.DELIVERABLE, R.ACCEPTED, False),
        ("alice@nullmx.test", V.UNDELIVERABLE, R.NULL_MX, None),
        ("alice@nomail.test", V.UNDELIVERABLE, R.NO_MAIL_SERVER, None),
        ("alice@noaddress.test", V.UNDELIVERABLE, R.NO_MAIL_SERVER, None),
        ("alice@nxdomain.test", V.UNDELIVERABLE, R.NO_SUCH_DOMAIN, None),
        ("alice@servfail.test", V.UNKNOWN, R.DNS_FAILURE, None),
        ("alice@dead.test", V.UNKNOWN, R.CONNECTION_FAILED, None),
        ("alice@garbage.test", V.UNKNOWN, R.PROTOCOL_ERROR, None),
        ("alice@endless.test", V.UNKNOWN, R.PROTOCOL_ERROR, None),
        ("alice@reset.test", V.UNKNOWN, R.CONNECTION_FAILED, None),
        ("not an address", V.UNDELIVERABLE, R.INVALID_SYNTAX, None),
        ("alice@-bad-.test", V.UNDELIVERABLE, R.INVALID_SYNTAX, None),
    ],
)
def test_each_behaviour(  # noqa: PLR0917 - pytest parameters
    mail_world: MailWorld,
    run: Runner,
    address: str,
    verdict: Verdict,
    reason: Reason,
    catch_all: object,
) -> None:
    result = run(address, mail_world)
    assert (result.verdict, result.reason) == (verdict, reason), result
    if catch_all is not ANY:
        assert result.catch_all == catch_all, result
    assert result.address == address
    assert result.elapsed < POLICY.timeout  # type: ignore[operator]


def test_result_carries_the_server_reply_and_host(mail_world: MailWorld) -> None:
    result = run_sync("nobody@ok.test", mail_world)
    assert result.mx == "mx.ok.test"
    assert result.reply is not None
    assert (result.reply.code, str(result.reply.enhanced)) == (550, "5.1.1")
    assert "User unknown" in result.reply.text
    assert result.normalized == "nobody@ok.test"
    data = result.to_dict()
    assert data["smtp"] == {
        "code": 550,
        "enhanced": "5.1.1",
        "message": result.reply.text,
    }


def test_conversation_says_only_what_it_must(mail_world: MailWorld) -> None:
    run_sync("alice@ok.test", mail_world)
    verbs = [c.verb for c in mail_world.commands("mx.ok.test")]
    assert verbs == ["EHLO", "MAIL", "RCPT", "RCPT", "QUIT"]
    lines = [c.line for c in mail_world.commands("mx.ok.test")]
    assert lines[0] == "EHLO verifier.example.net"
    assert lines[1] == "MAIL FROM:<>"
    assert lines[2] == "RCPT TO:<alice@ok.test>"
    # The catch-all probe: a random local part at the same domain, after the real one.
    assert lines[3].startswith("RCPT TO:<")
    assert lines[3].endswith("@ok.test>")
    assert lines[3] != lines[2]
    assert not mail_world.forbidden()


def test_pipelining_sends_the_transaction_in_one_write(mail_world: MailWorld) -> None:
    result = smtpcheck.verify(
        "alice@ok.test", policy=POLICY.replace(transcript=True), resolver=mail_world.resolver
    )
    sent = [line for line in result.transcript if line.direction == ">"]
    assert [line.text.split(":")[0].split()[0] for line in sent] == [
        "EHLO",
        "MAIL",
        "RCPT",
        "RCPT",
        "QUIT",
    ]
    # MAIL, both RCPTs and QUIT went out together: one timestamp for the four.
    assert len({line.at for line in sent[1:]}) == 1


def test_without_pipelining_each_command_waits(mail_world: MailWorld) -> None:
    result = smtpcheck.verify(
        "alice@ascii.test", policy=POLICY.replace(transcript=True), resolver=mail_world.resolver
    )
    sent = [line for line in result.transcript if line.direction == ">"]
    assert len({line.at for line in sent}) == len(sent)


def test_no_catch_all_probe_when_policy_says_so(mail_world: MailWorld) -> None:
    result = run_sync("alice@ok.test", mail_world, POLICY.replace(catch_all_probe=False))
    assert (result.verdict, result.catch_all) == (V.DELIVERABLE, None)
    assert [c.verb for c in mail_world.commands("mx.ok.test")].count("RCPT") == 1


def test_transcript_on_request(mail_world: MailWorld) -> None:
    plain = run_sync("alice@tls.test", mail_world)
    assert plain.transcript == ()
    result = run_sync("alice@tls.test", mail_world, POLICY.replace(transcript=True))
    texts = [line.text for line in result.transcript]
    assert texts[0].startswith("connect mx.tls.test")
    assert "STARTTLS" in texts
    assert "TLS started" in texts
    assert texts.count("EHLO verifier.example.net") == 2
    assert any(t.startswith("250-") for t in texts)  # multi-line replies keep their marker


def test_starttls_required_with_a_verified_certificate(
    mail_world: MailWorld, tmp_path: Path
) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(mail_world.ca_pem)
    policy = POLICY.replace(tls="required", ca_file=str(ca))
    assert run_sync("alice@tls.test", mail_world, policy).verdict is V.DELIVERABLE
    assert run_async("alice@tls.test", mail_world, policy).verdict is V.DELIVERABLE
    # A server that offers no STARTTLS cannot satisfy "required".
    result = run_sync("alice@ascii.test", mail_world, policy)
    assert (result.verdict, result.reason) == (V.UNKNOWN, R.TLS_FAILED)


@DRIVERS
def test_required_tls_with_an_untrusted_certificate_fails(
    mail_world: MailWorld, run: Runner
) -> None:
    result = run("alice@tls.test", mail_world, POLICY.replace(tls="required"))
    assert (result.verdict, result.reason) == (V.UNKNOWN, R.TLS_FAILED)
    assert "MAIL" not in [c.verb for c in mail_world.commands("mx.tls.test")]


@DRIVERS
def test_implicit_tls(mail_world: MailWorld, run: Runner, tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(mail_world.ca_pem)
    result = run(
        "alice@implicit-tls.test", mail_world, POLICY.replace(implicit_tls=True, ca_file=str(ca))
    )
    assert (result.verdict, result.reason) == (V.DELIVERABLE, R.ACCEPTED)
    assert all(c.tls for c in mail_world.commands("mx.implicit-tls.test"))


def test_multi_mx_fallback_uses_the_next_host(mail_world: MailWorld) -> None:
    result = run_sync("alice@backup.test", mail_world)
    assert result.mx == "mx2.backup.test"
    assert result.verdict is V.DELIVERABLE


def test_next_host_after_a_421_greeting() -> None:
    world = (
        MailWorld()
        .add_server(
            "mx1.a.test",
            domains=["a.test"],
            mailboxes=["alice"],
            preference=10,
            behaviour=Behaviour(max_connections=0),
        )
        .add_server("mx2.a.test", domains=["a.test"], mailboxes=["alice"], preference=20)
    )
    with world:
        result = run_sync("alice@a.test", world)
    assert (result.verdict, result.mx) == (V.DELIVERABLE, "mx2.a.test")


def test_no_next_host_after_a_permanent_refusal() -> None:
    from smtpcheck.testing import Block

    world = (
        MailWorld()
        .add_server(
            "mx1.a.test",
            domains=["a.test"],
            mailboxes=["alice"],
            preference=10,
            behaviour=Behaviour(block=Block.CONNECT),
        )
        .add_server("mx2.a.test", domains=["a.test"], mailboxes=["alice"], preference=20)
    )
    with world:
        result = run_sync("alice@a.test", world)
        assert world.stats("mx2.a.test").connections == 0
    assert (result.verdict, result.reason) == (V.UNKNOWN, R.BLOCKED)


@DRIVERS
@pytest.mark.parametrize("domain", ["tarpit.test", "silent.test"])
def test_a_tarpit_costs_at_most_the_budget(mail_world: MailWorld, run: Runner, domain: str) -> None:
    budget = 0.6
    started = time.monotonic()
    result = run(f"alice@{domain}", mail_world, POLICY.replace(timeout=budget))
    took = time.monotonic() - started
    assert (result.verdict, result.reason) == (V.UNKNOWN, R.TIMEOUT)
    assert took < budget + 0.5


def test_greylisting_passes_once_the_server_is_satisfied() -> None:
    from smtpcheck.testing import ManualClock

    clock = ManualClock()
    world = (
        MailWorld(clock=clock)
        .add_server(
            "mx.a.test",
            domains=["a.test"],
            mailboxes=["alice"],
            behaviour=Behaviour(greylist_seconds=60),
        )
        .add_domain("a.test", mx=["mx.a.test"])
    )
    memory = smtpcheck.Memory(clock=clock)  # it remembers the greylisting, on this clock
    with world:
        ask: dict[str, Any] = {
            "policy": POLICY.replace(greylist_delay=60),
            "resolver": world.resolver,
        }
        assert smtpcheck.verify("alice@a.test", **ask, memory=memory).reason is R.GREYLISTED
        clock.advance(61)
        assert smtpcheck.verify("alice@a.test", **ask, memory=memory).verdict is V.DELIVERABLE


@pytest.mark.parametrize("script", ["garbage", "endless_reply", "reset_mid_reply"])
def test_hostile_servers_give_unknown_in_bounded_memory(script: str) -> None:
    world = MailWorld().add_raw_server(
        "mx.evil.test", getattr(RawScript, script)(), domains=["evil.test"]
    )
    with world:
        tracemalloc.start()
        try:
            result = run_sync("alice@evil.test", world)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert result.verdict is V.UNKNOWN
    assert result.reason in (R.PROTOCOL_ERROR, R.CONNECTION_FAILED)
    assert result.detail
    assert peak < 2_000_000


def test_an_endless_line_is_cut_off() -> None:
    world = MailWorld().add_raw_server(
        "mx.evil.test", RawScript.long_line(10_000_000), domains=["evil.test"]
    )
    with world:
        result = run_sync("alice@evil.test", world)
    assert (result.verdict, result.reason) == (V.UNKNOWN, R.PROTOCOL_ERROR)


def test_a_failing_injected_resolver_is_a_dns_failure() -> None:
    class Broken:
        def mail_hosts(self, ascii_domain: str, **_: object) -> smtpcheck.MailHosts:
            raise RuntimeError("boom")

        async def amail_hosts(self, ascii_domain: str, **_: object) -> smtpcheck.MailHosts:
            raise RuntimeError("boom")

    for result in (
        smtpcheck.verify("a@b.test", policy=POLICY, resolver=Broken()),
        asyncio.run(smtpcheck.averify("a@b.test", policy=POLICY, resolver=Broken())),
    ):
        assert (result.verdict, result.reason) == (V.UNKNOWN, R.DNS_FAILURE)
        assert result.detail is not None
        assert "boom" in result.detail


def test_blocking_verify_inside_a_running_event_loop(mail_world: MailWorld) -> None:
    async def main() -> Result:
        return run_sync("alice@ok.test", mail_world)

    assert asyncio.run(main()).verdict is V.DELIVERABLE


def test_verify_from_many_threads(mail_world: MailWorld) -> None:
    results: list[Result] = []
    threads = [
        threading.Thread(target=lambda: results.append(run_sync("alice@ok.test", mail_world)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert [r.verdict for r in results] == [V.DELIVERABLE] * 8


def test_real_dns_path(tmp_path: Path) -> None:
    """The world served through a loopback DNS server and the default Resolver class."""
    with MailWorld.default(shared_port=0) as world, world.dns_server() as dns:
        resolver = smtpcheck.Resolver(nameservers=[dns.host], port=dns.port)
        policy = POLICY.replace(port=world.port)
        assert (
            smtpcheck.verify("alice@ok.test", policy=policy, resolver=resolver).verdict
            is V.DELIVERABLE
        )
        result = smtpcheck.verify("nobody@ok.test", policy=policy, resolver=resolver)
        assert result.reason is R.MAILBOX_NOT_FOUND
        assert (
            smtpcheck.verify("a@nullmx.test", policy=policy, resolver=resolver).reason is R.NULL_MX
        )
        assert (
            smtpcheck.verify("a@nxdomain.test", policy=policy, resolver=resolver).reason
            is R.NO_SUCH_DOMAIN
        )


def test_allow_and_deny_lists_skip_the_probe(mail_world: MailWorld) -> None:
    policy = POLICY.replace(
        allow=smtpcheck.AddressList.of(["nobody@ok.test"]),
        deny=smtpcheck.AddressList.of(["ok.test"]),
    )
    allowed = run_sync("nobody@ok.test", mail_world, policy)
    denied = run_async("alice@ok.test", mail_world, policy)
    assert (allowed.verdict, allowed.reason) == (V.DELIVERABLE, R.ALLOWED)
    assert (denied.verdict, denied.reason) == (V.UNDELIVERABLE, R.DENIED)
    assert mail_world.stats("mx.ok.test").connections == 0
    assert mail_world.resolver.lookups == []


def test_enrichment_flags_on_every_result(mail_world: MailWorld) -> None:
    result = run_sync("Info+news@ok.test", mail_world)
    assert (result.role_account, result.disposable, result.free_provider) == (True, False, False)
    assert result.to_dict()["role_account"] is True
    typo = run_sync("alice@gmial.com", mail_world)  # not in the world: NXDOMAIN
    assert typo.reason is R.NO_SUCH_DOMAIN
    assert typo.suggestion == "alice@gmail.com"
    invalid = run_sync("not an address", mail_world)
    assert (invalid.suggestion, invalid.role_account) == (None, False)


def test_disposable_domains() -> None:
    world = (
        MailWorld()
        .add_server("mx.mailinator.com", domains=["mailinator.com"], mailboxes=["alice"])
        .add_domain("mailinator.com", mx=["mx.mailinator.com"])
    )
    with world:
        risky = run_sync("alice@mailinator.com", world)
        assert (risky.verdict, risky.reason, risky.disposable) == (V.RISKY, R.DISPOSABLE, True)
        refused = run_sync(
            "alice@mailinator.com", world, POLICY.replace(disposable_undeliverable=True)
        )
        assert (refused.verdict, refused.reason) == (V.UNDELIVERABLE, R.DISPOSABLE)
        assert world.stats("mx.mailinator.com").connections == 1  # the first one only
        # A disposable mailbox that does not exist is undeliverable for that reason.
        missing = run_sync("nobody@mailinator.com", world)
        assert missing.reason is R.MAILBOX_NOT_FOUND

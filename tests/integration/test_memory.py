"""The memory against the sandbox: fewer connections, fewer commands, no repeated refusals.

Every count here is the sandbox's own record of what its servers heard
(``world.stats(server).connections``, ``world.commands(server)``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import smtpcheck
from smtpcheck import Lifetimes, Memory, Policy, Reason, Verdict
from smtpcheck._admission import (
    Admit,
    Admitted,
    AsyncOpenAdmission,
    Lesson,
    OpenAdmission,
    Refused,
    Release,
)
from smtpcheck._memory import HOUR, identity
from smtpcheck._memory_admission import AsyncRememberingAdmission, RememberingAdmission
from smtpcheck.testing import Behaviour, MailWorld

POLICY = Policy(allow_special_use=True, helo_name="client.test", timeout=10, reply_timeout=5)
WHO = identity(helo_name="client.test", source_address=None, proxy=None)


class Clock:
    """Wall-clock seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def world() -> Iterator[MailWorld]:
    with MailWorld.default() as started:
        yield started


@pytest.fixture(autouse=True)
def _clean(world: MailWorld) -> None:
    world.reset()


def rcpts(world: MailWorld, server: str) -> list[str]:
    return [c.line for c in world.commands(server) if c.verb == "RCPT"]


def verbs(world: MailWorld, server: str) -> list[str]:
    return [c.verb for c in world.commands(server)]


def test_a_second_run_opens_no_connection_for_remembered_results(world: MailWorld) -> None:
    memory = Memory()
    given = [
        *(f"{local}@ok.test" for local in ("alice", "bob", "nobody", "carol")),
        "alice@catchall.test",
        "alice@full.test",
    ]
    first = {
        r.address: r
        for r in smtpcheck.verify_many(given, policy=POLICY, resolver=world.resolver, memory=memory)
    }
    servers = ("mx.ok.test", "mx.catchall.test", "mx.full.test")
    assert all(world.stats(s).connections > 0 for s in servers)
    assert all(r.remembered_at is None for r in first.values())
    world.reset()
    second = {
        r.address: r
        for r in smtpcheck.verify_many(given, policy=POLICY, resolver=world.resolver, memory=memory)
    }
    assert [world.stats(s).connections for s in servers] == [0, 0, 0]
    for address, result in second.items():
        was = first[address]
        assert (result.verdict, result.reason, result.reply, result.mx, result.catch_all) == (
            was.verdict,
            was.reason,
            was.reply,
            was.mx,
            was.catch_all,
        )
        assert result.remembered_at is not None
        assert result.to_dict()["remembered_at"] == result.remembered_at


def test_fresh_asks_again_and_unknown_is_never_served(world: MailWorld) -> None:
    memory = Memory()
    ask: dict[str, Any] = {"policy": POLICY, "resolver": world.resolver, "memory": memory}
    assert smtpcheck.verify("alice@ok.test", **ask).verdict is Verdict.DELIVERABLE
    assert smtpcheck.verify("alice@drop.test", **ask).verdict is Verdict.UNKNOWN
    world.reset()
    assert smtpcheck.verify("alice@ok.test", **ask).remembered_at is not None
    assert world.stats("mx.ok.test").connections == 0
    fresh = smtpcheck.verify("alice@ok.test", **ask, fresh=True)
    assert (fresh.verdict, fresh.remembered_at) == (Verdict.DELIVERABLE, None)
    assert world.stats("mx.ok.test").connections == 1
    assert smtpcheck.verify("alice@drop.test", **ask).remembered_at is None
    assert world.stats("mx.drop.test").connections >= 1
    # Another question (another port, TLS mode, sender) is asked afresh.
    other = smtpcheck.verify("alice@ok.test", **{**ask, "policy": POLICY.replace(tls="off")})
    assert other.remembered_at is None


def test_a_known_non_catch_all_domain_is_asked_one_rcpt_per_address(world: MailWorld) -> None:
    memory = Memory()
    ask: dict[str, Any] = {"policy": POLICY, "resolver": world.resolver, "memory": memory}
    assert smtpcheck.verify("alice@ok.test", **ask).catch_all is False
    assert len(rcpts(world, "mx.ok.test")) == 2  # the address and the probe
    world.reset()
    for local in ("bob", "nobody", "carol"):
        smtpcheck.verify(f"{local}@ok.test", **ask)
    assert rcpts(world, "mx.ok.test") == [
        "RCPT TO:<bob@ok.test>",
        "RCPT TO:<nobody@ok.test>",
        "RCPT TO:<carol@ok.test>",
    ]
    result = smtpcheck.verify("dave@ok.test", **ask)
    assert (result.verdict, result.reason, result.catch_all) == (
        Verdict.UNDELIVERABLE,
        Reason.MAILBOX_NOT_FOUND,
        False,  # the remembered probe's answer
    )


def test_a_known_catch_all_domain_is_risky_without_the_probe(world: MailWorld) -> None:
    memory = Memory()
    ask: dict[str, Any] = {"policy": POLICY, "resolver": world.resolver, "memory": memory}
    assert smtpcheck.verify("alice@catchall.test", **ask).reason is Reason.CATCH_ALL
    world.reset()
    result = asyncio.run(smtpcheck.averify("zed@catchall.test", **ask))
    assert (result.verdict, result.reason, result.catch_all) == (
        Verdict.RISKY,
        Reason.CATCH_ALL,
        True,
    )
    assert rcpts(world, "mx.catchall.test") == ["RCPT TO:<zed@catchall.test>"]


@pytest.mark.parametrize("domain", ["blocked.test", "blocked-connect.test"])
def test_a_host_that_refused_us_is_left_alone_until_its_cool_down_ends(
    world: MailWorld, domain: str
) -> None:
    clock = Clock()
    memory = Memory(clock=clock)
    ask: dict[str, Any] = {"policy": POLICY, "resolver": world.resolver, "memory": memory}
    first = smtpcheck.verify(f"alice@{domain}", **ask)
    assert (first.verdict, first.reason) == (Verdict.UNKNOWN, Reason.BLOCKED)
    server = f"mx.{domain}"
    assert world.stats(server).connections == 1
    more = [f"user{n}@{domain}" for n in range(100)]
    results = list(smtpcheck.verify_many(more, **ask))
    results.append(asyncio.run(smtpcheck.averify(f"bob@{domain}", **ask)))
    assert world.stats(server).connections == 1  # not one more
    for result in results:
        assert (result.verdict, result.reason, result.reply) == (
            Verdict.UNKNOWN,
            Reason.BLOCKED,
            first.reply,
        )
        assert result.detail is not None
        assert "refused us at" in result.detail
        assert "asked again after" in result.detail
    clock.now += Lifetimes().refused - 1
    smtpcheck.verify(f"carol@{domain}", **ask)
    assert world.stats(server).connections == 1
    clock.now += 1
    smtpcheck.verify(f"carol@{domain}", **ask)
    assert world.stats(server).connections == 2  # the cool-down is over: asked again


def test_another_identity_is_not_refused_for_the_first_one(world: MailWorld) -> None:
    memory = Memory()
    ask: dict[str, Any] = {"resolver": world.resolver, "memory": memory}
    smtpcheck.verify("alice@blocked-connect.test", policy=POLICY, **ask)
    other = POLICY.replace(helo_name="other-client.test")
    smtpcheck.verify("alice@blocked-connect.test", policy=other, **ask)
    assert world.stats("mx.blocked-connect.test").connections == 2


def test_a_failing_starttls_is_skipped_next_time(world: MailWorld) -> None:
    memory = Memory()
    policy = POLICY.replace(verify_certificate=True)  # the sandbox's CA is not trusted
    ask: dict[str, Any] = {"policy": policy, "resolver": world.resolver, "memory": memory}
    first = smtpcheck.verify("alice@tls.test", **ask)
    assert first.verdict is Verdict.DELIVERABLE
    assert "STARTTLS" in verbs(world, "mx.tls.test")
    assert world.stats("mx.tls.test").connections == 2  # TLS failed, then plaintext
    world.reset()
    assert smtpcheck.verify("bob@tls.test", **ask).verdict is Verdict.DELIVERABLE
    assert "STARTTLS" not in verbs(world, "mx.tls.test")
    assert world.stats("mx.tls.test").connections == 1


def test_a_recipient_limit_is_where_the_next_sessions_start() -> None:
    mailboxes = [f"u{n}" for n in range(12)]
    world = (
        MailWorld()
        .add_server(
            "mx.lim.test",
            domains=["lim.test"],
            mailboxes=mailboxes,
            behaviour=Behaviour(max_recipients=2),
        )
        .add_domain("lim.test", mx=["mx.lim.test"])
    )
    memory = Memory()
    # A 452 4.5.3 counts as a rate limit for the back-off today: keep it short.
    policy = POLICY.replace(rate_limit_delay=0.01)
    with world:
        ask: dict[str, Any] = {"policy": policy, "resolver": world.resolver, "memory": memory}
        first = list(smtpcheck.verify_many([f"u{n}@lim.test" for n in range(6)], **ask))
        assert {r.verdict for r in first} == {Verdict.DELIVERABLE}
        assert memory.host_facts("mx.lim.test", WHO, Lifetimes()).recipient_limit == 2
        world.reset()
        again = list(smtpcheck.verify_many([f"u{n}@lim.test" for n in range(6, 12)], **ask))
        assert {r.verdict for r in again} == {Verdict.DELIVERABLE}
        # Sessions of two RCPT from the start (the probe's answer is remembered): three
        # sessions, none cut short by a 452.
        assert world.stats("mx.lim.test").connections == 3
        assert len(rcpts(world, "mx.lim.test")) == 6


def test_a_memory_file_is_shared_by_runs(world: MailWorld, tmp_path: Path) -> None:
    path = str(tmp_path / "memory.sqlite3")
    first = Memory.file(path)
    smtpcheck.verify("alice@ok.test", policy=POLICY, resolver=world.resolver, memory=first)
    smtpcheck.verify("x@blocked-connect.test", policy=POLICY, resolver=world.resolver, memory=first)
    first.close()
    world.reset()
    second = Memory.file(path)
    ask: dict[str, Any] = {"policy": POLICY, "resolver": world.resolver, "memory": second}
    assert smtpcheck.verify("alice@ok.test", **ask).remembered_at is not None
    assert smtpcheck.verify("y@blocked-connect.test", **ask).reason is Reason.BLOCKED
    result = asyncio.run(smtpcheck.averify("z@blocked-connect.test", **ask))
    assert result.reason is Reason.BLOCKED
    assert world.stats("mx.ok.test").connections == 0
    assert world.stats("mx.blocked-connect.test").connections == 0
    second.close()


def test_lifetimes_off_remembers_nothing(world: MailWorld) -> None:
    memory = Memory()
    ask: dict[str, Any] = {
        "policy": POLICY.replace(lifetimes=Lifetimes.off()),
        "resolver": world.resolver,
    }
    for _ in range(2):
        smtpcheck.verify("alice@blocked-connect.test", **ask, memory=memory)
        smtpcheck.verify("alice@ok.test", **ask, memory=memory)
    assert world.stats("mx.blocked-connect.test").connections == 2
    assert len(rcpts(world, "mx.ok.test")) == 4  # the probe each time
    assert memory.about("ok.test") == []


# -- the admission service on its own --------------------------------------------------

REQUEST = Admit(host="mx.example.com", ip="192.0.2.1", port=25)
LIMITED = Lesson(rate_limited=True, reply=smtpcheck.Reply(421, ("4.7.0 slow down",)))


class Sleeps:
    def __init__(self) -> None:
        self.slept: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_a_remembered_back_off_is_waited_out_and_reported() -> None:
    clock = Clock()
    memory = Memory(clock=clock)
    sleeps = Sleeps()
    policy = POLICY.replace(rate_limit_delay=5.0)
    admission = RememberingAdmission(
        OpenAdmission(), memory, policy=policy, identity=WHO, sleep=sleeps, clock=clock
    )
    assert admission.admit(REQUEST) == Admitted()
    admission.release(Release(REQUEST, LIMITED))
    clock.now += 2
    # Another call (a web app's next request) waits out the rest of the back-off.
    again = RememberingAdmission(
        OpenAdmission(), memory, policy=policy, identity=WHO, sleep=sleeps, clock=clock
    )
    assert isinstance(again.admit(REQUEST), Admitted)
    assert sleeps.slept == [3.0]
    again.release(Release(REQUEST, Lesson()))  # a clean session forgives
    assert again.admit(REQUEST) == Admitted()
    assert sleeps.slept == [3.0]


def test_a_back_off_longer_than_the_budget_is_refused_not_waited() -> None:
    # A web request with a 3 s budget is not kept 5 s for a remembered back-off.
    clock = Clock()
    memory = Memory(clock=clock)
    sleeps = Sleeps()
    policy = POLICY.replace(rate_limit_delay=5.0, timeout=3.0)
    admission = RememberingAdmission(
        OpenAdmission(), memory, policy=policy, identity=WHO, sleep=sleeps, clock=clock
    )
    admission.admit(REQUEST)
    admission.release(Release(REQUEST, LIMITED))
    refused = admission.admit(REQUEST)
    assert isinstance(refused, Refused)
    assert refused.reason is Reason.RATE_LIMITED
    assert refused.retry_at == clock.now + 5.0
    assert "3 s budget" in refused.detail
    assert sleeps.slept == []


def test_the_asyncio_flavour_refuses_and_learns_the_same() -> None:
    clock = Clock()
    memory = Memory(clock=clock)
    sleeps = Sleeps()
    admission = AsyncRememberingAdmission(
        AsyncOpenAdmission(), memory, policy=POLICY, identity=WHO, sleep=sleeps.asleep
    )
    blocked = Lesson(refused_us=Reason.BLOCKED, reply=smtpcheck.Reply(554, ("5.7.1 go away",)))

    async def main() -> Admitted | Refused:
        assert isinstance(await admission.admit(REQUEST), Admitted)
        await admission.release(Release(REQUEST, blocked))
        return await admission.admit(REQUEST)

    refused = asyncio.run(main())
    assert isinstance(refused, Refused)
    assert refused.reason is Reason.BLOCKED
    assert refused.reply == blocked.reply
    assert refused.retry_at == clock.now + HOUR * 6

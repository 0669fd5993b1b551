"""The plan with a memory: Recall and Remember are actions, like Resolve; no I/O here."""

from __future__ import annotations

from fakes import FakeServer, Network, host, run_plan
from smtpcheck import Lifetimes, Memory, Policy, Reason, Reply, Result, Verdict
from smtpcheck._memory import Recall, Remember, identity
from smtpcheck._probe import Connect, StartTLSHandshake
from smtpcheck._verifier import Resolve, plan, plan_domain

POLICY = Policy(allow_special_use=True, helo_name="verifier.example.net", timeout=30.0)
WHO = identity(helo_name="verifier.example.net", source_address=None, proxy=None)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def world(server: FakeServer | None = None, memory: Memory | None = None) -> Network:
    return Network(
        servers={"192.0.2.1": server or FakeServer()},
        hosts=(host("mx.example.test"),),
        memory=memory or Memory(clock=Clock()),
    )


def verify(address: str, net: Network, policy: Policy = POLICY, *, fresh: bool = False) -> Result:
    steps = plan(
        address,
        policy=policy,
        helo_name=policy.helo_name,
        clock=net.clock,
        memory=True,
        fresh=fresh,
    )
    return run_plan(steps, net)


def rcpts(server: FakeServer) -> list[str]:
    return [line for line in server.received if line.startswith("RCPT")]


def test_a_plan_without_memory_asks_none() -> None:
    net = world()
    run_plan(plan("alice@example.test", policy=POLICY, helo_name=None, clock=net.clock), net)
    assert not any(isinstance(a, Recall | Remember) for a in net.actions)


def test_what_asking_taught_is_remembered_and_answers_next_time() -> None:
    server = FakeServer()
    net = world(server)
    first = verify("alice@example.test", net)
    kinds = [type(a).__name__ for a in net.actions if isinstance(a, Recall | Remember | Resolve)]
    assert kinds == ["Recall", "Resolve", "Recall", "Remember"]
    remember = next(a for a in net.actions if isinstance(a, Remember))
    assert remember.results == (first,)
    assert remember.catch_all is not None  # the probe's refusal
    net.actions.clear()
    again = verify("alice@example.test", net)
    assert not any(isinstance(a, Resolve | Connect) for a in net.actions)  # no DNS, no SMTP
    assert (again.verdict, again.reason, again.reply) == (first.verdict, first.reason, first.reply)
    assert again.remembered_at is not None
    assert not any(isinstance(a, Remember) for a in net.actions)  # recalling is not learning


def test_a_known_domain_needs_no_probe_and_fresh_asks_again() -> None:
    server = FakeServer()
    net = world(server)
    verify("alice@example.test", net)
    server.received.clear()
    result = verify("nobody@example.test", net)
    assert (result.verdict, result.reason, result.catch_all) == (
        Verdict.UNDELIVERABLE,
        Reason.MAILBOX_NOT_FOUND,
        False,
    )
    assert rcpts(server) == ["RCPT TO:<nobody@example.test>"]
    server.received.clear()
    fresh = verify("alice@example.test", net, fresh=True)
    assert fresh.remembered_at is None
    assert rcpts(server) == ["RCPT TO:<alice@example.test>"]  # the domain is still known


def test_a_known_catch_all_domain_is_risky_after_one_rcpt() -> None:
    server = FakeServer(rcpt=lambda _: b"250 2.1.5 Ok\r\n")
    net = world(server)
    assert verify("anyone@example.test", net).reason is Reason.CATCH_ALL
    server.received.clear()
    result = verify("someone@example.test", net)
    assert (result.verdict, result.reason, result.catch_all) == (
        Verdict.RISKY,
        Reason.CATCH_ALL,
        True,
    )
    assert len(rcpts(server)) == 1


def test_a_recent_greylisting_is_answered_without_a_connection() -> None:
    clock = Clock()
    memory = Memory(clock=clock)
    server = FakeServer(rcpt=lambda _: b"450 4.7.1 Greylisted, come back later\r\n")
    net = world(server, memory)
    policy = POLICY.replace(greylist_delay=300)
    assert verify("alice@example.test", net, policy).reason is Reason.GREYLISTED
    sessions = server.sessions
    again = verify("alice@example.test", net, policy)
    assert (again.reason, server.sessions) == (Reason.GREYLISTED, sessions)
    assert again.detail is not None
    assert "worth asking again after" in again.detail
    assert again.reply == Reply(450, ("4.7.1 Greylisted, come back later",))
    clock.now += 300
    verify("alice@example.test", net, policy)
    assert server.sessions == sessions + 1  # the delay has passed: asked again


def test_known_host_facts_shape_the_session() -> None:
    memory = Memory(clock=Clock())
    memory.learn_host("mx.example.test", WHO, Lifetimes(), tls_failed=True, recipient_limit=2)
    server = FakeServer(
        ehlo=b"250-mx.example.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n", tls_fails=True
    )
    net = world(server, memory)
    items = [(f"u{n}@example.test", f"u{n}@example.test") for n in range(4)]
    from smtpcheck import parse_address

    steps = plan_domain(
        [(given, parse_address(text, allow_special_use=True)) for given, text in items],
        policy=POLICY,
        helo_name=POLICY.helo_name,
        clock=net.clock,
        memory=True,
    )
    found = run_plan(steps, net)
    assert {r.reason for r in found.results} == {Reason.MAILBOX_NOT_FOUND}
    assert not any(isinstance(a, StartTLSHandshake) for a in net.actions)  # plaintext at once
    # Two RCPT a session: the probe and one address first, then two addresses at a time.
    assert server.sessions == 3
    assert len(rcpts(server)) == 5


def test_lifetimes_off_is_no_memory_at_all() -> None:
    net = world()
    verify("alice@example.test", net, POLICY.replace(lifetimes=Lifetimes.off()))
    assert not any(isinstance(a, Recall | Remember) for a in net.actions)

"""Whatever a server sends, the verification returns a Result within its budget.

A chaotic in-process network answers the plan's actions from a Hypothesis-drawn script:
plausible replies, garbage, cut lines, floods, timeouts, resets, failed handshakes. The
properties: the plan always ends with exactly one Result per address, never raises,
never sends DATA/BDAT/VRFY/EXPN, and its (fake) time never exceeds the policy's budget.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TypeVar

from hypothesis import given
from hypothesis import strategies as st

from smtpcheck import Policy, Reason, Result, Verdict
from smtpcheck._address import parse_address
from smtpcheck._admission import Admit, Admitted, Release
from smtpcheck._probe import (
    Close,
    Connect,
    Connected,
    Failed,
    FailureKind,
    Receive,
    Received,
    Send,
    Sent,
    StartTLSHandshake,
    TLSStarted,
)
from smtpcheck._resolver import DomainStatus, MailHost, MailHosts
from smtpcheck._verifier import PlanAction, PlanOutcome, Resolve, Resolved, plan, plan_domain

T = TypeVar("T")

REPLIES = [
    b"220 mx.example.test ESMTP\r\n",
    b"250-mx.example.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 SMTPUTF8\r\n",
    b"250-mx.example.test\r\n250 8BITMIME\r\n",
    b"250 2.1.0 Ok\r\n",
    b"250 2.1.5 Ok\r\n",
    b"220 2.0.0 Ready to start TLS\r\n",
    b"221 2.0.0 Bye\r\n",
    b"421 4.7.0 Error: too many errors\r\n",
    b"450 4.7.1 Greylisted\r\n",
    b"452 4.5.3 Too many recipients\r\n",
    b"500 5.5.1 Command unrecognized\r\n",
    b"550 5.1.1 User unknown\r\n",
    b"550 5.7.1 Client host blocked using zen.spamhaus.org\r\n",
    b"554 5.7.1 Service unavailable\r\n",
    b"250-continued\r\n",
    b"999 not a code\r\n",
    b"garbage\r\n",
    b"\r\n",
    b"250",
    b"x" * 3000,
    b"\xff\xfe\x00\r\n",
]

EVENTS = st.one_of(
    st.sampled_from(REPLIES),
    st.binary(max_size=40),
    st.sampled_from(["timeout", "close", "reset"]),
)
RCPT_REPLIES = st.sampled_from(
    [
        b"250 2.1.5 Ok\r\n",
        b"550 5.1.1 <x@example.test>: Recipient address rejected: User unknown\r\n",
        b"550 5.2.1 Mailbox disabled\r\n",
        b"552 5.2.2 Mailbox full\r\n",
        b"450 4.7.1 Greylisted, see http://postgrey.schweikert.ch/\r\n",
        b"452 4.5.3 Too many recipients\r\n",
        b"421 4.7.0 Error: too many errors\r\n",
        b"554 5.7.1 Client host [192.0.2.9] blocked using zen.spamhaus.org\r\n",
    ]
)


@st.composite
def conversations(draw: st.DrawFn) -> list[bytes | str]:
    """A server's side of a plausible conversation, with a few events swapped for chaos."""
    ehlo = draw(st.sampled_from(REPLIES[1:3]))
    rcpts = draw(st.lists(RCPT_REPLIES, min_size=1, max_size=6))
    script: list[bytes | str] = [REPLIES[0], ehlo, b"250 2.1.0 Ok\r\n", *rcpts, REPLIES[6]]
    for _ in range(draw(st.integers(0, 3))):
        index = draw(st.integers(0, len(script) - 1))
        script[index] = draw(EVENTS)
    if draw(st.booleans()):  # the same bytes, cut anywhere
        data = b"".join(e for e in script if isinstance(e, bytes))
        cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=8)))
        script = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    # A long session: the same conversation again for the sessions that follow.
    return script * draw(st.integers(1, 4))


SCRIPT = st.one_of(conversations(), st.lists(EVENTS, max_size=40))
ADDRESSES = st.lists(
    st.sampled_from(["alice@example.test", "bob@example.test", "jörg@example.test"]),
    min_size=1,
    max_size=5,
)

BUDGET = 20.0
POLICY = Policy(
    allow_special_use=True,
    helo_name="verifier.example.net",
    timeout=BUDGET,
    reply_timeout=7.0,
    connect_timeout=3.0,
    max_recipients=3,
)
HOSTS = (
    MailHost(name="mx1.example.test", preference=10, addresses=("192.0.2.1", "192.0.2.2")),
    MailHost(name="mx2.example.test", preference=20, addresses=("192.0.2.3",)),
)


class Chaos:
    """Answers each action with the next event of the script, whatever was asked."""

    def __init__(self, script: list[bytes | str], refuse: set[int], tls_fails: bool) -> None:
        self.script = list(script)
        self.refuse = refuse
        self.tls_fails = tls_fails
        self.now = 0.0
        self.connects = 0
        self.sent = b""

    def clock(self) -> float:
        return self.now

    def outcome(self, action: PlanAction) -> PlanOutcome:
        if isinstance(action, Resolve):
            return Resolved(MailHosts(domain=action.domain, status=DomainStatus.OK, hosts=HOSTS))
        if isinstance(action, Admit):
            return Admitted()
        if isinstance(action, Release):
            return Sent()
        if isinstance(action, Connect):
            self.connects += 1
            if self.connects in self.refuse:
                return Failed(FailureKind.CONNECT, "refused")
            return Connected("127.0.0.1")
        if isinstance(action, Send):
            self.sent += action.data
            return Sent()
        if isinstance(action, StartTLSHandshake):
            return Failed(FailureKind.TLS, "bad") if self.tls_fails else TLSStarted()
        if isinstance(action, Close):
            return Sent()
        assert isinstance(action, Receive)
        assert action.timeout is None or action.timeout >= 0
        event = self.script.pop(0) if self.script else "close"
        if event == "timeout":
            self.now += action.timeout if action.timeout is not None else 1000.0
            return Failed(FailureKind.TIMEOUT, "no reply in time")
        if event == "close":
            return Received(b"")
        if event == "reset":
            return Failed(FailureKind.IO, "Connection reset by peer")
        assert isinstance(event, bytes)
        return Received(event)

    def run(self, steps: Generator[PlanAction, PlanOutcome, T]) -> T:
        count = 0
        try:
            action = next(steps)
            while True:
                count += 1
                assert count < 5000, "the plan does not end"
                action = steps.send(self.outcome(action))
        except StopIteration as stop:
            value: T = stop.value
            return value


def check_result(result: Result, chaos: Chaos) -> None:
    assert isinstance(result.verdict, Verdict)
    assert isinstance(result.reason, Reason)
    if result.verdict is Verdict.UNDELIVERABLE:
        # Only a mailbox's own refusal at RCPT can make it undeliverable here.
        assert result.reason in (Reason.MAILBOX_NOT_FOUND, Reason.MAILBOX_DISABLED)
        assert result.reply is not None
        assert result.reply.code >= 500
    if result.verdict is Verdict.DELIVERABLE:
        assert result.catch_all is False
    forbidden = (b"DATA", b"BDAT", b"VRFY", b"EXPN")
    assert not any(line.startswith(forbidden) for line in chaos.sent.split(b"\r\n"))


@given(SCRIPT, st.sets(st.integers(1, 4)), st.booleans())
def test_one_address_always_gets_a_result_within_the_budget(
    script: list[bytes | str], refuse: set[int], tls_fails: bool
) -> None:
    chaos = Chaos(script, refuse, tls_fails)
    steps = plan("alice@example.test", policy=POLICY, helo_name=None, clock=chaos.clock)
    result = chaos.run(steps)
    assert isinstance(result, Result)
    check_result(result, chaos)
    # Each host attempt has the one budget; a step may overrun it by at most nothing.
    assert chaos.now <= BUDGET * (POLICY.retries + 1)


@given(SCRIPT, ADDRESSES, st.sets(st.integers(1, 4)), st.booleans())
def test_a_batch_gives_each_address_exactly_one_result(
    script: list[bytes | str], addresses: list[str], refuse: set[int], tls_fails: bool
) -> None:
    chaos = Chaos(script, refuse, tls_fails)
    items = [(a, parse_address(a, allow_special_use=True)) for a in addresses]
    steps = plan_domain(items, policy=POLICY, helo_name="verifier.example.net", clock=chaos.clock)
    batch = chaos.run(steps)
    assert [r.address for r in batch.results] == addresses
    for result in batch.results:
        check_result(result, chaos)
    # Every session makes progress, so a batch costs at most one budget per address.
    assert chaos.now <= BUDGET * len(addresses)

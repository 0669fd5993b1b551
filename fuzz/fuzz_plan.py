"""Fuzz target: the verification plan against a server that sends chaotic bytes.

Run: ``python fuzz/fuzz_plan.py -max_total_time=300`` (see fuzz/README.md).

The fuzz input is the server's side: for each read the plan asks for, a chunk of bytes,
a timeout, a close or a reset; connections, TLS handshakes and admission succeed or fail
as it says. Invariants: the plan ends with exactly one Result per address, never raises,
never sends DATA/BDAT/VRFY/EXPN, stays within its (fake) time budget, calls an address
undeliverable only on a 5xx reply to its RCPT TO, and gives text a caller can print.
"""

from __future__ import annotations

import sys
from collections.abc import Generator
from typing import TypeVar

import atheris

with atheris.instrument_imports():
    from smtpcheck import Policy, Reason, Result, Verdict
    from smtpcheck._address import parse_address
    from smtpcheck._admission import Admit, Admitted, Refused, Release
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
    from smtpcheck._verifier import PlanAction, PlanOutcome, Resolve, Resolved, plan_domain

T = TypeVar("T")
BUDGET = 20.0
POLICY = Policy(
    allow_special_use=True,
    helo_name="verifier.example.net",
    timeout=BUDGET,
    reply_timeout=7.0,
    connect_timeout=3.0,
    max_recipients=3,
    transcript=True,
)
HOSTS = (
    MailHost(name="mx1.example.test", preference=10, addresses=("192.0.2.1", "192.0.2.2")),
    MailHost(name="mx2.example.test", preference=20, addresses=("192.0.2.3",)),
)
ADDRESSES = ["alice@example.test", "bob@example.test", "jörg@example.test", "carol@example.test"]
# Plausible lines, so that the fuzzer reaches the transaction quickly.
LINES = [
    b"220 mx.example.test ESMTP\r\n",
    b"250-mx.example.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 SMTPUTF8\r\n",
    b"250-mx.example.test\r\n250 8BITMIME\r\n",
    b"250 2.1.0 Ok\r\n",
    b"250 2.1.5 Ok\r\n",
    b"550 5.1.1 User unknown\r\n",
    b"452 4.5.3 Too many recipients\r\n",
    b"421 4.7.0 closing\r\n",
    b"221 2.0.0 Bye\r\n",
]


class Chaos:
    """Answers the plan's actions from the fuzz input."""

    def __init__(self, fdp: atheris.FuzzedDataProvider) -> None:
        self.fdp = fdp
        self.now = 0.0
        self.sent = b""

    def clock(self) -> float:
        return self.now

    def outcome(self, action: PlanAction) -> PlanOutcome:
        fdp = self.fdp
        if isinstance(action, Resolve):
            return Resolved(MailHosts(domain=action.domain, status=DomainStatus.OK, hosts=HOSTS))
        if isinstance(action, Admit):  # a slot now, or a host in cool-down
            if fdp.ConsumeIntInRange(0, 7) == 0:
                return Refused(reason=Reason.RATE_LIMITED, detail="in cool-down")
            return Admitted(waited=0.0)
        if isinstance(action, Release):
            return Sent()
        if isinstance(action, Connect):
            return Failed(FailureKind.CONNECT, "refused") if fdp.ConsumeBool() else Connected("")
        if isinstance(action, Send):
            self.sent += action.data
            return Sent()
        if isinstance(action, StartTLSHandshake):
            return Failed(FailureKind.TLS, "bad") if fdp.ConsumeBool() else TLSStarted()
        if isinstance(action, Close):
            return Sent()
        assert isinstance(action, Receive)
        assert action.timeout is None or action.timeout >= 0
        if fdp.remaining_bytes() == 0:
            return Received(b"")
        kind = fdp.ConsumeIntInRange(0, 9)
        if kind == 0:
            self.now += action.timeout if action.timeout is not None else 1000.0
            return Failed(FailureKind.TIMEOUT, "no reply in time")
        if kind == 1:
            return Failed(FailureKind.IO, "Connection reset by peer")
        if kind <= 5:
            return Received(fdp.PickValueInList(LINES))
        return Received(fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 600)) or b"\r\n")

    def run(self, steps: Generator[PlanAction, PlanOutcome, T]) -> T:
        count = 0
        try:
            action = next(steps)
            while True:
                count += 1
                assert count < 10_000, "the plan does not end"
                action = steps.send(self.outcome(action))
        except StopIteration as stop:
            value: T = stop.value
            return value


def check(result: Result) -> None:
    assert isinstance(result.verdict, Verdict)
    assert isinstance(result.reason, Reason)
    if result.verdict is Verdict.UNDELIVERABLE:
        assert result.reason in (Reason.MAILBOX_NOT_FOUND, Reason.MAILBOX_DISABLED)
        assert result.reply is not None
        assert result.reply.code >= 500
    if result.verdict is Verdict.DELIVERABLE:
        assert result.catch_all is False
    str(result.reply).encode("utf-8")
    for line in result.transcript:
        line.text.encode("utf-8")


def test_one_input(data: bytes) -> None:
    """One fuzz input: how many addresses, then the server's side."""
    fdp = atheris.FuzzedDataProvider(data)
    addresses = ADDRESSES[: fdp.ConsumeIntInRange(1, len(ADDRESSES))]
    chaos = Chaos(fdp)
    items = [(a, parse_address(a, allow_special_use=True)) for a in addresses]
    steps = plan_domain(items, policy=POLICY, helo_name=POLICY.helo_name, clock=chaos.clock)
    batch = chaos.run(steps)
    assert [r.address for r in batch.results] == addresses
    for result in batch.results:
        check(result)
    forbidden = (b"DATA", b"BDAT", b"VRFY", b"EXPN")
    assert not any(line.startswith(forbidden) for line in chaos.sent.split(b"\r\n"))
    assert chaos.now <= BUDGET * len(addresses)


def main() -> None:
    """Run the fuzzer (libFuzzer's options on the command line)."""
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

"""The doctor's EHLO-only conversation (probe.greet), bytes in and actions out."""

from __future__ import annotations

import pytest

from fakes import FakeServer, Network, run_plan
from smtpcheck import Policy
from smtpcheck._probe import Close, Connect, Greeted, Send, greet

POLICY = Policy(connect_timeout=5.0, reply_timeout=5.0)


def talk(server: FakeServer | str, *, helo: str | None = "mail.sender.test") -> Greeted:
    net = Network(servers={"192.0.2.1": server})
    steps = greet(
        host="mx.example.test",
        ip="192.0.2.1",
        port=25,
        policy=POLICY,
        helo_name=helo,
        clock=net.clock,
    )
    greeted = run_plan(steps, net)
    assert isinstance(net.actions[0], Connect)
    assert net.actions[0].timeout == POLICY.connect_timeout
    if greeted.failure is None:
        assert isinstance(net.actions[-1], Close)  # never left open
    return greeted


def test_it_says_ehlo_and_quit_and_nothing_else() -> None:
    server = FakeServer()
    greeted = talk(server)
    assert server.received == ["EHLO mail.sender.test", "QUIT"]
    assert greeted.greeting is not None
    assert greeted.greeting.code == 220
    assert greeted.ehlo is not None
    assert greeted.ehlo.code == 250
    assert greeted.local_ip == "127.0.0.1"
    assert greeted.failure is None
    assert greeted.detail is None


def test_without_a_helo_name_it_greets_with_our_address_literal() -> None:
    server = FakeServer()
    talk(server, helo=None)
    assert server.received[0] == "EHLO [127.0.0.1]"


def test_a_refused_greeting_is_answered_with_quit_only() -> None:
    server = FakeServer(greeting=b"554 5.7.1 mx.example.test: your IP is blocklisted\r\n")
    greeted = talk(server)
    assert server.received == ["QUIT"]
    assert greeted.greeting is not None
    assert greeted.greeting.code == 554
    assert greeted.ehlo is None


def test_a_failed_connection_is_handed_back_as_the_drivers_outcome() -> None:
    greeted = talk("refused")
    assert greeted.failure is not None
    assert greeted.failure.message == "Connection refused"
    assert greeted.local_ip is None
    assert greeted.greeting is None


@pytest.mark.parametrize(
    ("server", "words"),
    [
        (FakeServer(silent=True), "no reply in time"),
        (FakeServer(greeting=b"hello, I am not SMTP\r\n"), "broke the SMTP protocol"),
        (FakeServer(ehlo=b""), "no reply in time"),  # EHLO never answered
    ],
)
def test_a_conversation_that_breaks_says_why_and_closes(server: FakeServer, words: str) -> None:
    greeted = talk(server)
    assert greeted.ehlo is None
    assert greeted.detail is not None
    assert words in greeted.detail


def test_it_never_sends_mail_rcpt_or_data() -> None:
    server = FakeServer()
    net = Network(servers={"192.0.2.1": server})
    run_plan(
        greet(
            host="mx.example.test",
            ip="192.0.2.1",
            port=25,
            policy=POLICY,
            helo_name=None,
            clock=net.clock,
        ),
        net,
    )
    sent = b"".join(a.data for a in net.actions if isinstance(a, Send))
    assert b"MAIL" not in sent
    assert b"RCPT" not in sent
    assert b"DATA" not in sent

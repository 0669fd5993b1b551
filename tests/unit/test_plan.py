"""The verification plan (probe + verifier), driven by an in-process fake network.

Bytes in, actions out: no sockets, no sleeps. Each test reads the actions the plan took
(``net.actions``) and the Result it returned.
"""

from __future__ import annotations

import pytest

from fakes import EHLO_PIPELINING, EHLO_PLAIN, FakeServer, Network, default_rcpt, host, run_plan
from smtpcheck import Policy, Reason, Result, Verdict
from smtpcheck._address import parse_address
from smtpcheck._admission import Admit, Refused
from smtpcheck._probe import Close, Connect, Receive, Send, StartTLSHandshake
from smtpcheck._resolver import DomainStatus
from smtpcheck._verifier import (
    Resolve,
    plan,
    plan_domain,
    random_local_part,
    session_capacity,
    settles_catch_all,
)
from smtpcheck.protocol import Reply

V, R = Verdict, Reason
POLICY = Policy(allow_special_use=True, helo_name="verifier.example.net", timeout=30.0)


def verify(address: str, net: Network, policy: Policy = POLICY) -> Result:
    steps = plan(address, policy=policy, helo_name=policy.helo_name, clock=net.clock)
    return run_plan(steps, net)


def one_server(server: FakeServer | None = None) -> tuple[Network, FakeServer]:
    server = server or FakeServer()
    net = Network(servers={"192.0.2.1": server}, hosts=(host("mx.example.test"),))
    return net, server


def sent(net: Network) -> list[bytes]:
    return [a.data for a in net.actions if isinstance(a, Send)]


def test_pipelined_transaction_is_one_write() -> None:
    net, server = one_server()
    result = verify("alice@example.test", net)
    assert (result.verdict, result.reason, result.catch_all) == (V.DELIVERABLE, R.ACCEPTED, False)
    writes = sent(net)
    assert writes[0] == b"EHLO verifier.example.net\r\n"
    probe = random_local_part("example.test")
    assert writes[1] == (
        b"MAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\n"
        + f"RCPT TO:<{probe}@example.test>\r\n".encode()
        + b"QUIT\r\n"
    )
    assert len(writes) == 2
    assert not any(line.startswith(("DATA", "BDAT", "VRFY", "EXPN")) for line in server.received)


def test_without_pipelining_one_command_per_write() -> None:
    net, _ = one_server(FakeServer(ehlo=EHLO_PLAIN))
    result = verify("alice@example.test", net)
    assert result.verdict is V.DELIVERABLE
    assert [w.split(b" ")[0].split(b":")[0] for w in sent(net)] == [
        b"EHLO",
        b"MAIL",
        b"RCPT",
        b"RCPT",
        b"QUIT\r\n",
    ]


def test_without_pipelining_a_refused_lone_address_needs_no_probe() -> None:
    net, server = one_server(FakeServer(ehlo=EHLO_PLAIN))
    result = verify("nobody@example.test", net)
    assert result.reason is R.MAILBOX_NOT_FOUND
    assert [line for line in server.received if line.startswith("RCPT")] == [
        "RCPT TO:<nobody@example.test>"
    ]


def test_catch_all() -> None:
    net, _ = one_server(FakeServer(rcpt=lambda _: b"250 2.1.5 Ok\r\n"))
    result = verify("anyone@example.test", net)
    assert (result.verdict, result.reason, result.catch_all) == (V.RISKY, R.CATCH_ALL, True)


def test_probe_turned_off() -> None:
    net, server = one_server()
    result = verify("alice@example.test", net, POLICY.replace(catch_all_probe=False))
    assert (result.verdict, result.catch_all) == (V.DELIVERABLE, None)
    assert sum(line.startswith("RCPT") for line in server.received) == 1


def test_starttls_then_ehlo_again() -> None:
    ehlo = b"250-mx\r\n250-STARTTLS\r\n250 PIPELINING\r\n"
    net, server = one_server(FakeServer(ehlo=ehlo, ehlo_after_tls=b"250-mx\r\n250 PIPELINING\r\n"))
    result = verify("alice@example.test", net)
    assert result.verdict is V.DELIVERABLE
    handshakes = [a for a in net.actions if isinstance(a, StartTLSHandshake)]
    assert len(handshakes) == 1
    assert handshakes[0].server_hostname == "mx.example.test"
    assert handshakes[0].verify_certificate is False  # opportunistic on port 25
    assert server.received[:3] == [
        "EHLO verifier.example.net",
        "STARTTLS",
        "EHLO verifier.example.net",
    ]


def test_opportunistic_tls_failure_retries_in_plaintext() -> None:
    ehlo = b"250-mx\r\n250-STARTTLS\r\n250 PIPELINING\r\n"
    net, server = one_server(FakeServer(ehlo=ehlo, tls_fails=True))
    result = verify("alice@example.test", net)
    assert result.verdict is V.DELIVERABLE
    assert server.sessions == 2
    assert server.received.count("STARTTLS") == 1


def test_required_tls_failure_is_unknown() -> None:
    ehlo = b"250-mx\r\n250-STARTTLS\r\n250 PIPELINING\r\n"
    net, server = one_server(FakeServer(ehlo=ehlo, tls_fails=True))
    result = verify("alice@example.test", net, POLICY.replace(tls="required"))
    assert (result.verdict, result.reason) == (V.UNKNOWN, R.TLS_FAILED)
    assert not any(line.startswith("MAIL") for line in server.received)
    handshake = next(a for a in net.actions if isinstance(a, StartTLSHandshake))
    assert handshake.verify_certificate is True


def test_required_tls_not_offered() -> None:
    net, server = one_server()
    result = verify("alice@example.test", net, POLICY.replace(tls="required"))
    assert (result.verdict, result.reason) == (V.UNKNOWN, R.TLS_FAILED)
    assert result.detail == "TLS is required and the server does not offer STARTTLS"
    assert server.received[-1] == "QUIT"


def test_required_tls_refused() -> None:
    ehlo = b"250-mx\r\n250 STARTTLS\r\n"
    net, _ = one_server(FakeServer(ehlo=ehlo, starttls=b"454 4.7.0 TLS not available\r\n"))
    result = verify("alice@example.test", net, POLICY.replace(tls="required"))
    assert (result.reason, result.reply and result.reply.code) == (R.TLS_FAILED, 454)


def test_tls_off_never_starts_tls() -> None:
    ehlo = b"250-mx\r\n250-STARTTLS\r\n250 PIPELINING\r\n"
    net, server = one_server(FakeServer(ehlo=ehlo))
    assert verify("alice@example.test", net, POLICY.replace(tls="off")).verdict is V.DELIVERABLE
    assert "STARTTLS" not in server.received


def test_implicit_tls_connects_with_tls() -> None:
    net, server = one_server()
    result = verify("alice@example.test", net, POLICY.replace(port=465))
    assert result.verdict is V.DELIVERABLE
    connect = next(a for a in net.actions if isinstance(a, Connect))
    assert (connect.port, connect.implicit_tls, connect.verify_certificate) == (465, True, True)
    assert "STARTTLS" not in server.received


def test_helo_fallback_when_ehlo_is_unknown() -> None:
    net, server = one_server(FakeServer(ehlo=b"502 5.5.2 Command not recognized\r\n"))
    result = verify("alice@example.test", net)
    assert result.verdict is V.DELIVERABLE
    assert server.received[:2] == ["EHLO verifier.example.net", "HELO verifier.example.net"]


def test_ehlo_refused_is_about_us() -> None:
    net, _ = one_server(FakeServer(ehlo=b"550 5.7.1 Helo command rejected: Host not found\r\n"))
    result = verify("alice@example.test", net)
    assert (result.verdict, result.reason) == (V.UNKNOWN, R.BLOCKED)


def test_address_literal_helo_without_a_name() -> None:
    net, server = one_server()
    steps = plan("alice@example.test", policy=POLICY, helo_name=None, clock=net.clock)
    run_plan(steps, net)
    assert server.received[0] == "EHLO [127.0.0.1]"


def test_mail_from_refused() -> None:
    net, _ = one_server(
        FakeServer(mail=b"550 5.7.1 <>: Sender address rejected: Access denied\r\n")
    )
    result = verify("alice@example.test", net)
    assert (result.verdict, result.reason) == (V.UNKNOWN, R.POLICY_REJECTED)
    assert result.reply is not None
    assert result.reply.code == 550


def test_mail_from_is_the_policy_sender() -> None:
    net, server = one_server()
    verify("alice@example.test", net, POLICY.replace(mail_from="bounce@verifier.example.net"))
    assert "MAIL FROM:<bounce@verifier.example.net>" in server.received


def test_an_idn_sender_goes_out_in_a_labels() -> None:
    net, server = one_server(FakeServer(ehlo=EHLO_PLAIN))
    result = verify("alice@example.test", net, POLICY.replace(mail_from="me@bücher.example"))
    assert result.verdict is V.DELIVERABLE
    assert "MAIL FROM:<me@xn--bcher-kva.example>" in server.received


def test_smtputf8_needed_and_missing() -> None:
    net, server = one_server(FakeServer(ehlo=EHLO_PLAIN))
    result = verify("jörg@example.test", net)
    assert (result.verdict, result.reason) == (V.UNKNOWN, R.SMTPUTF8_UNSUPPORTED)
    assert not any(line.startswith("MAIL") for line in server.received)


def test_smtputf8_offered() -> None:
    net, server = one_server(FakeServer(rcpt=lambda _: b"250 2.1.5 Ok\r\n"))
    verify("jörg@exämple.test", net)
    assert "MAIL FROM:<> SMTPUTF8" in server.received
    # The domain goes out in A-labels.
    assert "RCPT TO:<jörg@xn--exmple-cua.test>" in server.received


def test_next_host_after_421_greeting() -> None:
    busy = FakeServer(greeting=b"421 4.7.0 Too many connections\r\n")
    good = FakeServer()
    net = Network(
        servers={"192.0.2.1": busy, "192.0.2.2": good},
        hosts=(
            host("mx1.example.test", "192.0.2.1"),
            host("mx2.example.test", "192.0.2.2", preference=20),
        ),
    )
    result = verify("alice@example.test", net)
    assert (result.verdict, result.mx) == (V.DELIVERABLE, "mx2.example.test")


def test_no_next_host_after_554_greeting() -> None:
    blocked = FakeServer(
        greeting=b"554 5.7.1 Client host [192.0.2.9] blocked using zen.spamhaus.org\r\n"
    )
    good = FakeServer()
    net = Network(
        servers={"192.0.2.1": blocked, "192.0.2.2": good},
        hosts=(host("mx1.example.test", "192.0.2.1"), host("mx2.example.test", "192.0.2.2")),
    )
    result = verify("alice@example.test", net)
    assert (result.verdict, result.reason, result.mx) == (V.UNKNOWN, R.BLOCKED, "mx1.example.test")
    assert good.sessions == 0
    assert blocked.received == ["QUIT"]


def test_next_address_after_a_refused_connection() -> None:
    good = FakeServer()
    net = Network(
        servers={"192.0.2.2": good}, hosts=(host("mx.example.test", "192.0.2.1", "192.0.2.2"),)
    )
    assert verify("alice@example.test", net).verdict is V.DELIVERABLE
    assert [a.ip for a in net.actions if isinstance(a, Connect)] == ["192.0.2.1", "192.0.2.2"]


def test_every_host_refused() -> None:
    net = Network(
        servers={}, hosts=(host("mx1.example.test"), host("mx2.example.test", "192.0.2.3"))
    )
    result = verify("alice@example.test", net)
    assert (result.verdict, result.reason, result.mx) == (V.UNKNOWN, R.CONNECTION_FAILED, None)
    assert result.detail == "Connection refused"


def test_retries_go_round_the_hosts_again() -> None:
    net = Network(servers={}, hosts=(host("mx.example.test"),))
    verify("alice@example.test", net, POLICY.replace(retries=2))
    assert sum(isinstance(a, Connect) for a in net.actions) == 3


def test_max_mx_hosts() -> None:
    hosts = tuple(host(f"mx{i}.example.test", f"192.0.2.{i}") for i in range(1, 6))
    net = Network(servers={}, hosts=hosts)
    verify("alice@example.test", net, POLICY.replace(max_mx_hosts=2))
    assert [a.ip for a in net.actions if isinstance(a, Connect)] == ["192.0.2.1", "192.0.2.2"]
    assert next(a for a in net.actions if isinstance(a, Resolve)).max_hosts == 2


def test_a_silent_server_costs_at_most_the_budget() -> None:
    silent = FakeServer(silent=True)
    net = Network(
        servers={"192.0.2.1": silent, "192.0.2.2": FakeServer(silent=True)},
        hosts=(host("mx1.example.test", "192.0.2.1"), host("mx2.example.test", "192.0.2.2")),
    )
    policy = POLICY.replace(timeout=50.0, reply_timeout=30.0)
    result = verify("alice@example.test", net, policy)
    assert (result.verdict, result.reason) == (V.UNKNOWN, R.TIMEOUT)
    assert net.now <= 50.0
    timeouts = [a.timeout for a in net.actions if isinstance(a, Receive)]
    assert timeouts == [30.0, 20.0]  # the second host gets what is left of the budget


def test_dns_outcomes() -> None:
    for status, verdict, reason in [
        (DomainStatus.NO_SUCH_DOMAIN, V.UNDELIVERABLE, R.NO_SUCH_DOMAIN),
        (DomainStatus.NULL_MX, V.UNDELIVERABLE, R.NULL_MX),
        (DomainStatus.NO_MAIL_SERVER, V.UNDELIVERABLE, R.NO_MAIL_SERVER),
        (DomainStatus.DNS_FAILURE, V.UNKNOWN, R.DNS_FAILURE),
    ]:
        net = Network(servers={}, status=status)
        result = verify("alice@example.test", net)
        assert (result.verdict, result.reason) == (verdict, reason)
        assert not any(isinstance(a, Connect) for a in net.actions)


def test_domain_literal_skips_dns() -> None:
    net = Network(servers={"192.0.2.7": FakeServer()})
    policy = POLICY.replace(allow_domain_literal=True)
    result = verify("alice@[192.0.2.7]", net, policy)
    assert result.verdict is V.DELIVERABLE
    assert not any(isinstance(a, Resolve) for a in net.actions)


def test_invalid_syntax_takes_no_action() -> None:
    net = Network(servers={})
    result = verify("alice@@example.test", net)
    assert (result.verdict, result.reason, result.normalized) == (
        V.UNDELIVERABLE,
        R.INVALID_SYNTAX,
        None,
    )
    assert result.detail
    assert net.actions == []


def batch(addresses: list[str], net: Network, policy: Policy = POLICY) -> list[Result]:
    items = [(a, parse_address(a, allow_special_use=True)) for a in addresses]
    steps = plan_domain(items, policy=policy, helo_name="verifier.example.net", clock=net.clock)
    return run_plan(steps, net).results


def test_batch_across_a_recipient_limit() -> None:
    net, server = one_server(FakeServer(max_rcpts=3))
    addresses = [f"{'alice' if i % 2 else 'user'}{i}@example.test" for i in range(7)]
    results = batch(addresses, net, POLICY.replace(max_recipients=10))
    assert [r.address for r in results] == addresses
    assert all(r.reason in (R.ACCEPTED, R.MAILBOX_NOT_FOUND) for r in results), results
    # Each session answers up to 3 (the probe among them in the first: 2 + 3 + 2): every
    # address is asked until it has its own answer, and the probe only once.
    assert server.sessions == 3
    probe = random_local_part("example.test")
    assert sum(probe in line for line in server.received) == 1


def test_batch_survives_a_server_that_hangs_up() -> None:
    net, _ = one_server(FakeServer(close_after_rcpts=4))
    addresses = [f"user{i}@example.test" for i in range(10)]
    results = batch(addresses, net, POLICY.replace(max_recipients=10))
    assert sorted(r.address for r in results) == sorted(addresses)
    assert all(r.reason is R.MAILBOX_NOT_FOUND for r in results), results


def test_batch_asks_every_address_until_it_is_answered() -> None:
    net, server = one_server(FakeServer(max_rcpts=2, ehlo=EHLO_PLAIN))
    addresses = [f"alice{i}@example.test" for i in range(5)]
    batch(addresses, net, POLICY.replace(max_recipients=10))
    asked = [line for line in server.received if line.startswith("RCPT TO:<alice")]
    answered = set(asked)
    # A 452 leaves an address unanswered, so it may be asked again; an answered one never.
    assert answered == {f"RCPT TO:<{a}>" for a in addresses}


def test_a_lone_rate_limited_address_costs_one_session() -> None:
    net, server = one_server(FakeServer(rcpt=lambda _: b"452 4.5.3 Too many recipients\r\n"))
    result = verify("alice@example.test", net)
    assert (result.verdict, result.reason) == (V.UNKNOWN, R.RATE_LIMITED)
    assert server.sessions == 1


@pytest.mark.parametrize(
    ("probe_reply", "verdict", "reason"),
    [
        (b"450 4.7.1 Greylisted, try again later\r\n", V.UNKNOWN, R.GREYLISTED),
        (b"250 2.1.5 Ok\r\n", V.RISKY, R.CATCH_ALL),
        (b"550 5.1.1 User unknown\r\n", V.DELIVERABLE, R.ACCEPTED),
    ],
)
def test_the_probe_decides_an_accepted_address(
    probe_reply: bytes, verdict: Verdict, reason: Reason
) -> None:
    def rcpt(address: str) -> bytes:
        return b"250 2.1.5 Ok\r\n" if address.startswith("alice@") else probe_reply

    net, _ = one_server(FakeServer(rcpt=rcpt))
    result = verify("alice@example.test", net)
    assert (result.verdict, result.reason) == (verdict, reason)
    assert result.reply is not None
    expected = probe_reply if verdict is V.UNKNOWN else b"250 2.1.5 Ok\r\n"
    assert result.reply.code == int(expected[:3])


def test_random_local_part_is_stable_per_domain_and_plain() -> None:
    a, b = random_local_part("example.test"), random_local_part("other.test")
    assert a == random_local_part("example.test")
    assert a != b
    assert len(a) == 16
    assert a[0].isalpha()
    assert a.isalnum()
    assert a == a.lower()


def test_no_time_limit_at_all() -> None:
    net, _ = one_server()
    policy = POLICY.replace(timeout=None, reply_timeout=None, connect_timeout=None)
    assert verify("alice@example.test", net, policy).verdict is V.DELIVERABLE
    assert all(a.timeout is None for a in net.actions if isinstance(a, Receive))


def test_the_budget_runs_out_between_steps() -> None:
    # A slow first host eats the budget; the second host is not even tried.
    slow = FakeServer(silent=True)
    net = Network(
        servers={"192.0.2.1": slow, "192.0.2.2": FakeServer()},
        hosts=(host("mx1.example.test", "192.0.2.1"), host("mx2.example.test", "192.0.2.2")),
    )
    result = verify("alice@example.test", net, POLICY.replace(timeout=5.0, reply_timeout=10.0))
    assert (result.verdict, result.reason) == (V.UNKNOWN, R.TIMEOUT)
    assert [a.ip for a in net.actions if isinstance(a, Connect)] == ["192.0.2.1"]


def test_ehlo_refused_after_starttls() -> None:
    ehlo = b"250-mx\r\n250 STARTTLS\r\n"
    server = FakeServer(ehlo=ehlo, ehlo_after_tls=b"554 5.7.1 Not after TLS\r\n")
    net, _ = one_server(server)
    result = verify("alice@example.test", net)
    assert (result.verdict, result.reply and result.reply.code) == (V.UNKNOWN, 554)


def test_starttls_answered_421() -> None:
    ehlo = b"250-mx\r\n250 STARTTLS\r\n"
    busy = FakeServer(ehlo=ehlo, starttls=b"421 4.3.2 Service shutting down\r\n")
    good = FakeServer()
    net = Network(
        servers={"192.0.2.1": busy, "192.0.2.2": good},
        hosts=(host("mx1.example.test", "192.0.2.1"), host("mx2.example.test", "192.0.2.2")),
    )
    result = verify("alice@example.test", net)
    assert (result.verdict, result.mx) == (V.DELIVERABLE, "mx2.example.test")


def test_starttls_refused_in_opportunistic_mode_goes_on_in_plaintext() -> None:
    ehlo = b"250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n"
    net, server = one_server(FakeServer(ehlo=ehlo, starttls=b"454 4.7.0 TLS not available\r\n"))
    assert verify("alice@example.test", net).verdict is V.DELIVERABLE
    assert server.sessions == 1


def test_a_421_among_recipients_without_pipelining() -> None:
    answers = iter([b"250 2.1.5 Ok\r\n", b"550 5.1.1 User unknown\r\n", b"421 4.7.0 Bye\r\n"])

    def rcpt(_: str) -> bytes:
        return next(answers, b"250 2.1.5 Ok\r\n")

    net, _ = one_server(FakeServer(ehlo=EHLO_PLAIN, rcpt=rcpt))
    results = batch(["alice@example.test", "bob@example.test", "carol@example.test"], net)
    # alice answered; the probe (after her) refused; bob got the 421 and is asked again.
    assert [r.reason for r in results] == [R.ACCEPTED, R.ACCEPTED, R.ACCEPTED]
    assert results[0].catch_all is False


def test_quit_waits_briefly_for_its_reply() -> None:
    net, server = one_server(FakeServer(ehlo=EHLO_PLAIN, quit=b""))
    assert verify("nobody@example.test", net).reason is R.MAILBOX_NOT_FOUND
    receives = [a for a in net.actions if isinstance(a, Receive)]
    assert receives[-1].timeout == 2.0  # QUIT's reply is not worth more
    assert server.received[-1] == "QUIT"


@pytest.mark.parametrize("ehlo", [EHLO_PIPELINING, EHLO_PLAIN], ids=["pipelined", "plain"])
def test_a_server_that_never_answers_quit_costs_a_short_grace_not_the_answer(
    ehlo: bytes,
) -> None:
    net, server = one_server(FakeServer(ehlo=ehlo, quit=b""))
    result = verify("alice@example.test", net)
    assert (result.verdict, result.reason, result.catch_all) == (V.DELIVERABLE, R.ACCEPTED, False)
    assert server.received[-1] == "QUIT"
    receives = [a for a in net.actions if isinstance(a, Receive)]
    assert receives[-1].timeout == 2.0
    assert isinstance(net.actions[-2], Close)  # closed after the grace, then released
    assert net.now == 2.0  # the only time spent: the grace


# -- real servers' shapes: postscreen, one recipient a transaction --------------------------

POSTSCREEN_450 = b"450 4.3.2 Service currently unavailable\r\n"


def postscreen() -> FakeServer:
    """A first session like postscreen's for a new client; the real server after it."""
    server = FakeServer(ehlo=EHLO_PLAIN)
    server.rcpt = lambda address: POSTSCREEN_450 if server.sessions == 1 else default_rcpt(address)
    return server


def test_postscreen_shape_is_asked_again_once_at_once() -> None:
    net, server = one_server(postscreen())
    result = verify("alice@example.test", net, POLICY.replace(transcript=True))
    assert (result.verdict, result.reason, result.catch_all) == (V.DELIVERABLE, R.ACCEPTED, False)
    assert server.sessions == 2
    assert net.now == 0.0  # no wait between the two
    # Not a rate limit: the gates do not make the second connection wait.
    assert [r.lesson.rate_limited for r in net.released] == [False, False]
    assert "450 4.3.2 Service currently unavailable" in [line.text for line in result.transcript]


def test_postscreen_shape_twice_is_the_answer() -> None:
    net, server = one_server(FakeServer(ehlo=EHLO_PLAIN, rcpt=lambda _: POSTSCREEN_450))
    result = verify("alice@example.test", net)
    assert (result.verdict, result.reason) == (V.UNKNOWN, R.TEMPORARY_FAILURE)
    assert server.sessions == 2  # once more, never a loop


def test_a_4_3_2_with_pipelining_is_not_postscreen() -> None:
    net, server = one_server(FakeServer(rcpt=lambda _: POSTSCREEN_450))
    assert verify("alice@example.test", net).reason is R.TEMPORARY_FAILURE
    assert server.sessions == 1


def test_one_recipient_a_transaction_asks_the_probe_in_a_session_of_its_own() -> None:
    net, server = one_server(FakeServer(max_rcpts=1))
    result = verify("alice@example.test", net)
    assert (result.verdict, result.reason, result.catch_all) == (V.DELIVERABLE, R.ACCEPTED, False)
    assert server.sessions == 2
    # Taught as a limit on recipients, not as a rate limit to wait out.
    assert [(r.lesson.recipient_limit, r.lesson.rate_limited) for r in net.released] == [
        (1, False),
        (None, False),
    ]
    probe = random_local_part("example.test")
    assert server.received.count(f"RCPT TO:<{probe}@example.test>") == 2


def test_one_recipient_a_transaction_on_a_catch_all() -> None:
    net, _ = one_server(FakeServer(max_rcpts=1, rcpt=lambda _: b"250 2.1.5 Ok\r\n"))
    result = verify("alice@example.test", net)
    assert (result.verdict, result.reason, result.catch_all) == (V.RISKY, R.CATCH_ALL, True)


def test_one_recipient_a_transaction_is_remembered_for_the_other_addresses() -> None:
    given = [
        "alice@example.test",
        "bob@example.test",
        "nobody@example.test",
        "ALICE@example.test",
    ]
    net, server = one_server(FakeServer(max_rcpts=1))
    items = [(g, parse_address(g, allow_special_use=True)) for g in given]
    steps = plan_domain(items, policy=POLICY, helo_name="v.example.net", clock=net.clock)
    found = run_plan(steps, net)
    assert [r.verdict for r in found.results] == [
        V.DELIVERABLE,
        V.UNDELIVERABLE,
        V.UNDELIVERABLE,
        V.DELIVERABLE,
    ]
    assert all(r.catch_all is False for r in found.results if r.verdict is V.DELIVERABLE)
    assert found.recipient_limit == 1
    # The first session learned the limit; the probe had one of its own; then one
    # address a session, with no probe and no "too many" (the limit was kept).
    assert server.sessions == 1 + 1 + 3
    assert sum(line.startswith("RCPT") for line in server.received) == 5 + 1 + 3
    # Told the limit, another run of the domain wastes no RCPT on it.
    net2, server2 = one_server(FakeServer(max_rcpts=1))
    steps = plan_domain(
        items[1:],
        policy=POLICY,
        helo_name="v.example.net",
        clock=net2.clock,
        random_reply=found.random_reply,
        recipient_limit=found.recipient_limit,
    )
    assert [r.verdict for r in run_plan(steps, net2).results] == [
        V.UNDELIVERABLE,
        V.UNDELIVERABLE,
        V.DELIVERABLE,
    ]
    assert server2.sessions == 3
    assert sum(line.startswith("RCPT") for line in server2.received) == 3


def test_session_capacity_under_a_recipient_limit() -> None:
    assert session_capacity(POLICY, None, 1) == 1
    assert session_capacity(POLICY, None, 3) == 2
    assert session_capacity(POLICY, Reply(550, ("5.1.1 no",)), 3) == 3
    assert session_capacity(POLICY.replace(max_recipients=2), None, 5) == 1


# -- admission: a step of the plan ---------------------------------------------------------


def admits(net: Network) -> list[Admit]:
    return [a for a in net.actions if isinstance(a, Admit)]


def test_every_connection_is_admitted_first_and_released_after_it_closed() -> None:
    net, _ = one_server()
    result = verify("alice@example.test", net)
    assert result.verdict is V.DELIVERABLE
    kinds = [type(a).__name__ for a in net.actions]
    assert kinds.index("Admit") < kinds.index("Connect")
    assert kinds[-1] == "Release"  # after the connection's Close
    assert kinds[-2] == "Close"
    assert admits(net) == [Admit(host="mx.example.test", ip="192.0.2.1", port=25)]
    assert net.held == []
    [release] = net.released
    assert release.lesson.pipelining is True
    assert release.lesson.refused_us is None


def test_a_wait_for_admission_does_not_eat_the_budget() -> None:
    # A 25 s wait against a 30 s budget: the deadline moves by the wait, so the first
    # read still has the whole budget (it would have 5 s if the wait counted).
    server = FakeServer()
    net, _ = one_server(server)
    net.waits["192.0.2.1"] = 25.0
    policy = POLICY.replace(transcript=True)
    steps = plan("alice@example.test", policy=policy, helo_name="v.example.net", clock=net.clock)
    result = run_plan(steps, net)
    assert result.verdict is V.DELIVERABLE
    receives = [a for a in net.actions if isinstance(a, Receive)]
    assert receives[0].timeout == pytest.approx(30.0)  # min(reply_timeout, whole budget)
    assert any("after waiting 25.00 s" in line.text for line in result.transcript)
    assert result.elapsed == pytest.approx(25.0)  # wall time: the wait included


def test_a_refused_host_is_passed_over_and_the_refusal_is_the_answer() -> None:
    refusal = Refused(
        reason=Reason.BLOCKED,
        detail="mx1 refused us at 10:00; asked again after 11:00",
        reply=Reply(554, ("5.7.1 Service unavailable; client host blocked",)),
        retry_at=1000.0,
    )
    server = FakeServer()
    net = Network(
        servers={"192.0.2.1": FakeServer(), "192.0.2.3": server},
        hosts=(host("mx1.example.test", "192.0.2.1"), host("mx2.example.test", "192.0.2.3")),
    )
    net.refusals["192.0.2.1"] = refusal
    result = verify("alice@example.test", net)
    assert result.verdict is V.DELIVERABLE  # the next host answered
    assert result.mx == "mx2.example.test"
    # Every host refused: no connection at all, and the remembered refusal decides.
    net = Network(servers={"192.0.2.1": FakeServer()}, hosts=(host("mx1.example.test"),))
    net.refusals["192.0.2.1"] = refusal
    result = verify("alice@example.test", net)
    assert not any(isinstance(a, Connect) for a in net.actions)
    assert (result.verdict, result.reason) == (V.UNKNOWN, R.BLOCKED)
    assert result.reply == refusal.reply
    assert result.detail == refusal.detail
    assert result.mx is None
    assert net.released == []  # nothing was admitted, nothing is released


def test_a_slot_is_released_after_a_drop_with_what_the_session_taught() -> None:
    net, _ = one_server(
        FakeServer(rcpt=lambda _: b"421 4.7.0 Too many connections from your IP, slow down\r\n")
    )
    result = verify("alice@example.test", net)
    assert result.verdict is V.UNKNOWN
    assert net.held == []
    [release] = net.released
    assert release.lesson.rate_limited is True
    assert release.lesson.reply is not None
    assert release.lesson.reply.code == 421


def test_a_block_at_the_greeting_is_a_lesson_about_us() -> None:
    banner = b"554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen\r\n"
    net, _ = one_server(FakeServer(greeting=banner))
    result = verify("alice@example.test", net)
    assert result.reason is R.BLOCKED
    [release] = net.released
    assert release.lesson.refused_us is R.BLOCKED
    assert release.lesson.pipelining is None  # it never got to EHLO


def test_an_opportunistic_tls_retry_is_covered_by_one_admission() -> None:
    net, _ = one_server(
        FakeServer(
            ehlo=b"250-mx.example.test\r\n250-STARTTLS\r\n250 PIPELINING\r\n", tls_fails=True
        )
    )
    result = verify("alice@example.test", net)
    assert result.verdict is V.DELIVERABLE
    assert len([a for a in net.actions if isinstance(a, Connect)]) == 2
    assert len(admits(net)) == 1
    [release] = net.released
    assert release.lesson.tls_failed is True


def test_a_recipient_limit_is_learned() -> None:
    given = ["alice@example.test", "bob@example.test", "carol@example.test"]
    net, _ = one_server(FakeServer(max_rcpts=2))
    items = [(g, parse_address(g, allow_special_use=True)) for g in given]
    steps = plan_domain(items, policy=POLICY, helo_name="v.example.net", clock=net.clock)
    found = run_plan(steps, net)
    assert len(found.results) == 3
    assert net.released[0].lesson.recipient_limit == 2


def test_the_session_capacity_counts_the_probe_only_when_it_is_asked() -> None:
    policy = POLICY.replace(max_recipients=10)
    known = Reply(550, ("5.1.1 no such user",))
    assert session_capacity(policy, None) == 9
    assert session_capacity(policy, known) == 10
    assert session_capacity(policy.replace(catch_all_probe=False), None) == 10
    assert session_capacity(policy.replace(max_recipients=1), None) == 1
    assert settles_catch_all(known)
    assert settles_catch_all(Reply(250, ("2.1.5 Ok",)))
    assert not settles_catch_all(Reply(450, ("4.2.0 greylisted",)))
    assert not settles_catch_all(None)

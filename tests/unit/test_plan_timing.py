"""The plan's time limits mean what they say (issue 18), on a fake clock.

``reply_timeout`` is a deadline for a whole reply, not for each read; a session that
runs out of time keeps the recipients' answers it had received.
"""

from __future__ import annotations

from fakes import EHLO_PLAIN, FakeServer, Network, host, run_plan
from smtpcheck import Policy, Reason, Result, Verdict
from smtpcheck._address import parse_address
from smtpcheck._verifier import plan, plan_domain

V, R = Verdict, Reason
POLICY = Policy(allow_special_use=True, helo_name="verifier.example.net", timeout=60.0)


def one_server(server: FakeServer) -> Network:
    return Network(servers={"192.0.2.1": server}, hosts=(host("mx.example.test"),))


def verify(address: str, net: Network, policy: Policy) -> Result:
    return run_plan(plan(address, policy=policy, helo_name=policy.helo_name, clock=net.clock), net)


def batch(addresses: list[str], net: Network, policy: Policy) -> list[Result]:
    items = [(a, parse_address(a, allow_special_use=True)) for a in addresses]
    steps = plan_domain(items, policy=policy, helo_name=policy.helo_name, clock=net.clock)
    return run_plan(steps, net).results


def test_a_trickling_server_gets_reply_timeout_for_its_whole_reply() -> None:
    # One byte every 0.5 s: each read is quick, the greeting (26 bytes) is not.
    net = one_server(FakeServer(trickle=0.5))
    result = verify("alice@example.test", net, POLICY.replace(reply_timeout=2.0))
    assert (result.verdict, result.reason) == (V.UNKNOWN, R.TIMEOUT)
    assert result.detail == "no reply in time (reply_timeout, 2 s, bounds each whole reply)"
    assert net.now <= 2.0


def test_a_reply_that_trickles_in_time_is_read() -> None:
    net = one_server(FakeServer(trickle=0.01, ehlo=EHLO_PLAIN))
    result = verify("alice@example.test", net, POLICY.replace(reply_timeout=2.0))
    assert result.verdict is V.DELIVERABLE


def test_the_budget_still_bounds_a_server_slower_than_reply_timeout_allows() -> None:
    net = one_server(FakeServer(reply_delay=1.5))
    result = verify("alice@example.test", net, POLICY.replace(timeout=4.0, reply_timeout=2.0))
    assert (result.verdict, result.reason) == (V.UNKNOWN, R.TIMEOUT)
    assert net.now <= 4.0


def test_a_pipelined_session_out_of_time_keeps_the_answers_it_had() -> None:
    # 1.5 s per reply, 10 s per session: greeting, EHLO, MAIL, then alice, the probe and
    # bob are answered before the time runs out; the others are asked in a new session.
    addresses = [f"{name}@example.test" for name in ("alice", "bob", "carol", "dave", "erin")]
    net = one_server(FakeServer(reply_delay=1.5))
    results = batch(addresses, net, POLICY.replace(timeout=10.0))
    assert [r.reason for r in results] == [R.ACCEPTED] + [R.MAILBOX_NOT_FOUND] * 4
    assert results[0].catch_all is False


def test_a_session_that_answered_nobody_in_time_is_a_timeout_for_all() -> None:
    net = one_server(FakeServer(reply_delay=1.5))
    policy = POLICY.replace(timeout=5.0)  # MAIL's reply at 4.5 s, alice's due at 6 s
    results = batch(["alice@example.test", "bob@example.test"], net, policy)
    assert [(r.verdict, r.reason) for r in results] == [(V.UNKNOWN, R.TIMEOUT)] * 2
    assert results[0].detail == "the verification's time budget ran out"

"""smtpcheck against real shapes of Postfix sites: postscreen, postgrey, one RCPT (issue 19).

Three more services of the interop Postfix, each on its own loopback address: postscreen
in front of its smtpd, an smtpd that asks postgrey at RCPT, and an smtpd that takes one
recipient a transaction (``smtpd_recipient_limit = 1``, as some large hosts behave).

postscreen runs with the pregreet test (a ``220-`` greeting, then a pause, to catch
clients that talk too early) and the deep protocol tests (pipelining without PIPELINING,
non-SMTP commands, bare newlines). A client that passes them talks to postscreen's own
dummy SMTP engine, is answered ``450 4.3.2 Service currently unavailable`` at RCPT for
that session, and is handed to the real smtpd on its next connection. postscreen and
postgrey both key on the client's address: each test comes from a loopback address of
its own (``client_ip``), so that none inherits another's standing.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

import smtpcheck
from smtpcheck import Reason, Result, Verdict

from . import _checks
from .conftest import GREYLIST_DELAY, MTA, make_policy

pytestmark = pytest.mark.interop

POSTSCREEN_DEFER = "4.3.2 Service currently unavailable"


def verify(mta: MTA, local: str, resolver: smtpcheck.Resolver, ip: str, **policy: Any) -> Result:
    return _checks.verify(mta, local, resolver, source_address=ip, **policy)


def greetings(result: Result) -> list[str]:
    return [line.text for line in result.transcript if line.text.startswith("220")]


def test_verify_passes_the_tests_and_asks_again_at_once(
    postscreen: MTA, resolver: smtpcheck.Resolver, client_ip: str
) -> None:
    result = verify(postscreen, "alice", resolver, client_ip, retries=0)
    said = _checks.transcript(result)
    assert result.verdict is Verdict.DELIVERABLE, _checks.explain(result, postscreen)
    assert result.catch_all is False
    # The first session was postscreen's own engine: deferred, then a new connection.
    assert POSTSCREEN_DEFER in said, said
    assert said.count("* connect ") == 2, said
    # The pregreet test was on: the first greeting came in two parts, and we waited.
    assert greetings(result)[0].startswith("220-"), said
    # The deep tests were on: postscreen offered no PIPELINING, and none was used.
    first_session = said.split("* connect ")[1]
    assert "PIPELINING" not in first_session
    assert "DATA" not in [line.text for line in result.transcript if line.direction == ">"]
    # postscreen logged that we passed, not that we were caught.
    log = [line for line in postscreen.log().splitlines() if f"[{client_ip}]" in line]
    assert any("PASS NEW" in line for line in log), log
    assert not any(word in line for line in log for word in ("PREGREET", "COMMAND", "BARE"))


def test_verify_of_a_missing_mailbox_through_postscreen(
    postscreen: MTA, resolver: smtpcheck.Resolver, client_ip: str
) -> None:
    missing = verify(postscreen, "nobody", resolver, client_ip, retries=0)
    assert missing.verdict is Verdict.UNDELIVERABLE, _checks.explain(missing, postscreen)
    assert missing.reason is Reason.MAILBOX_NOT_FOUND
    # Once passed, the client goes straight to the real server.
    found = verify(postscreen, "bob", resolver, client_ip, retries=0)
    assert found.verdict is Verdict.DELIVERABLE, _checks.explain(found, postscreen)
    assert _checks.transcript(found).count("* connect ") == 1


def test_bulk_asks_again_and_gets_the_real_answers(
    postscreen: MTA, resolver: smtpcheck.Resolver, client_ip: str
) -> None:
    addresses = {
        f"alice@{postscreen.domain}": Verdict.DELIVERABLE,
        f"bob@{postscreen.domain}": Verdict.DELIVERABLE,
        f"nobody@{postscreen.domain}": Verdict.UNDELIVERABLE,
    }
    # The default back-off (rate_limit_delay=5 s) stays unused: postscreen's deferral is
    # not a rate limit, and the second connection goes out at once.
    policy = make_policy(postscreen, source_address=client_ip, retries=0, timeout=30)
    started = time.monotonic()
    results = list(smtpcheck.verify_many(list(addresses), policy=policy, resolver=resolver))
    elapsed = time.monotonic() - started
    assert sorted(r.address for r in results) == sorted(addresses)
    for result in results:
        assert result.verdict is addresses[result.address], _checks.explain(result, postscreen)
    assert elapsed < policy.rate_limit_delay


# --- postgrey --------------------------------------------------------------------------


def test_greylisting_defers_a_known_mailbox_and_refuses_an_unknown_one(
    greylisting: MTA, resolver: smtpcheck.Resolver, client_ip: str
) -> None:
    found = verify(greylisting, "alice", resolver, client_ip)
    assert (found.verdict, found.reason) == (Verdict.UNKNOWN, Reason.GREYLISTED), _checks.explain(
        found, greylisting
    )
    assert found.reply is not None
    assert "Greylisted" in found.reply.text
    missing = verify(greylisting, "nobody", resolver, client_ip)
    assert missing.verdict is Verdict.UNDELIVERABLE, _checks.explain(missing, greylisting)


def test_bulk_greylist_retries_turn_greylisted_answers_into_real_ones(
    greylisting: MTA, resolver: smtpcheck.Resolver, client_ip: str
) -> None:
    addresses = {
        f"alice@{greylisting.domain}": Verdict.DELIVERABLE,
        f"carol.jones@{greylisting.domain}": Verdict.DELIVERABLE,
        f"nobody@{greylisting.domain}": Verdict.UNDELIVERABLE,
    }
    policy = make_policy(
        greylisting,
        source_address=client_ip,
        greylist_retries=1,
        greylist_delay=GREYLIST_DELAY + 1,
        timeout=30,
    )
    results = list(smtpcheck.verify_many(list(addresses), policy=policy, resolver=resolver))
    assert sorted(r.address for r in results) == sorted(addresses)
    for result in results:
        assert result.verdict is addresses[result.address], _checks.explain(result, greylisting)
    # Without the retry, the same run from a new client would have stopped at greylisted.


def test_bulk_without_greylist_retries_reports_greylisted(
    greylisting: MTA, resolver: smtpcheck.Resolver, client_ip: str
) -> None:
    policy = make_policy(greylisting, source_address=client_ip, greylist_retries=0)
    (result,) = smtpcheck.verify_many(
        [f"bob@{greylisting.domain}"], policy=policy, resolver=resolver
    )
    assert result.reason is Reason.GREYLISTED, _checks.explain(result, greylisting)


# --- one recipient a transaction (smtpd_recipient_limit = 1) ----------------------------


def test_one_recipient_a_transaction_gets_the_probe_in_a_session_of_its_own(
    postfix: MTA, resolver: smtpcheck.Resolver
) -> None:
    single = postfix.siblings["one-recipient"]
    result = _checks.verify(single, "alice", resolver)
    said = _checks.transcript(result)
    assert result.verdict is Verdict.DELIVERABLE, _checks.explain(result, single)
    assert result.catch_all is False
    assert "452 4.5.3 Error: too many recipients" in said
    assert said.count("* connect ") == 2, said


def test_one_recipient_a_transaction_in_bulk(postfix: MTA, resolver: smtpcheck.Resolver) -> None:
    single = postfix.siblings["one-recipient"]
    _checks.check_bulk(single, resolver)

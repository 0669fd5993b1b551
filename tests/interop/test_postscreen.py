"""smtpcheck against a real Postfix postscreen and a real postgrey (issue 19).

postscreen runs with the pregreet test (a ``220-`` greeting, then a pause, to catch
clients that talk too early) and the deep protocol tests (pipelining without PIPELINING,
non-SMTP commands, bare newlines). A client that passes them talks to postscreen's own
dummy SMTP engine, is answered ``450 4.3.2 Service currently unavailable`` at RCPT for
that session, and is handed to the real smtpd on its next connection. postscreen and
postgrey both key on the client's address: each test comes from a loopback address of
its own (``client_ip``), so that none inherits another's standing.
"""

from __future__ import annotations

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


def test_a_new_client_passes_the_tests_and_is_deferred_for_that_session(
    postscreen: MTA, resolver: smtpcheck.Resolver, client_ip: str
) -> None:
    # The first session of a client that has never passed: postscreen's own engine.
    first = verify(postscreen, "alice", resolver, client_ip, retries=0)
    said = _checks.transcript(first)
    assert first.verdict is Verdict.UNKNOWN, _checks.explain(first, postscreen)
    assert POSTSCREEN_DEFER in said, _checks.explain(first, postscreen)
    # The pregreet test was on: the greeting came in two parts, and we waited for both.
    assert any(text.startswith("220-") for text in greetings(first)), said
    # The deep tests were on: no PIPELINING offered, and none used.
    assert "PIPELINING" not in said
    assert "DATA" not in [line.text for line in first.transcript if line.direction == ">"]
    # postscreen logged that we passed (not that we were caught).
    log = postscreen.log()
    assert f"PASS NEW [{client_ip}]" in log, log[-2000:]
    assert not any("PREGREET" in line for line in log.splitlines() if client_ip in line)


def test_the_next_connection_reaches_the_real_server(
    postscreen: MTA, resolver: smtpcheck.Resolver, client_ip: str
) -> None:
    verify(postscreen, "alice", resolver, client_ip, retries=0)
    found = verify(postscreen, "alice", resolver, client_ip, retries=0)
    assert found.verdict is Verdict.DELIVERABLE, _checks.explain(found, postscreen)
    assert found.catch_all is False
    missing = verify(postscreen, "nobody", resolver, client_ip, retries=0)
    assert missing.verdict is Verdict.UNDELIVERABLE, _checks.explain(missing, postscreen)
    assert missing.reason is Reason.MAILBOX_NOT_FOUND


def test_bulk_asks_again_and_gets_the_real_answers(
    postscreen: MTA, resolver: smtpcheck.Resolver, client_ip: str
) -> None:
    addresses = {
        f"alice@{postscreen.domain}": Verdict.DELIVERABLE,
        f"bob@{postscreen.domain}": Verdict.DELIVERABLE,
        f"nobody@{postscreen.domain}": Verdict.UNDELIVERABLE,
    }
    policy = make_policy(
        postscreen, source_address=client_ip, rate_limit_delay=0.2, retries=0, timeout=30
    )
    results = list(smtpcheck.verify_many(list(addresses), policy=policy, resolver=resolver))
    assert sorted(r.address for r in results) == sorted(addresses)
    for result in results:
        assert result.verdict is addresses[result.address], _checks.explain(result, postscreen)


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

"""smtpcheck against a real OpenSMTPD with a static table of users (issue 19).

Debian 12's OpenSMTPD 6.8.0p2 offers STARTTLS but cannot finish a TLS handshake with
OpenSSL 3 (its key-holding process signs with a copy of the key that OpenSSL 3 no longer
updates: OpenSMTPD issues #1171 and #1239, fixed upstream in 7.x). Servers like it are out
there, so the tests hold smtpcheck to what such a server allows: opportunistic TLS falls
back to plaintext and gets the real answer; required TLS says ``tls_failed``.
"""

from __future__ import annotations

import asyncio

import pytest

import smtpcheck
from smtpcheck import Reason, Verdict

from . import _checks
from .conftest import MTA, make_policy

pytestmark = pytest.mark.interop

#: What OpenSMTPD says when no `match` rule takes the recipient (here: not in <users>).
UNKNOWN_USER = "Invalid recipient"


def test_existing_mailbox_is_deliverable(opensmtpd: MTA, resolver: smtpcheck.Resolver) -> None:
    _checks.check_existing(opensmtpd, resolver)


def test_missing_mailbox_is_undeliverable_with_the_servers_words(
    opensmtpd: MTA, resolver: smtpcheck.Resolver
) -> None:
    _checks.check_missing(opensmtpd, resolver, UNKNOWN_USER)


def test_missing_mailbox_has_no_enhanced_code(opensmtpd: MTA, resolver: smtpcheck.Resolver) -> None:
    # OpenSMTPD offers ENHANCEDSTATUSCODES but gives none to an unmatched recipient.
    result = _checks.verify(opensmtpd, "nobody", resolver)
    assert result.reply is not None
    assert result.reply.enhanced is None
    assert result.reason is Reason.MAILBOX_NOT_FOUND


def test_upper_case_mailbox_matches_the_lower_case_one(
    opensmtpd: MTA, resolver: smtpcheck.Resolver
) -> None:
    _checks.check_upper_case(opensmtpd, resolver)


def test_subaddress_is_accepted_for_a_known_mailbox(
    opensmtpd: MTA, resolver: smtpcheck.Resolver
) -> None:
    _checks.check_subaddress(opensmtpd, resolver)


def test_broken_starttls_falls_back_to_plaintext(
    opensmtpd: MTA, resolver: smtpcheck.Resolver
) -> None:
    result = _checks.verify(opensmtpd, "alice", resolver)
    assert result.verdict is Verdict.DELIVERABLE, _checks.explain(result, opensmtpd)
    lines = _checks.transcript(result)
    assert "> STARTTLS" in lines
    assert "* TLS started" not in lines
    # The handshake failed, and a second, plaintext session gave the answer.
    assert lines.count("* connect ") == 2, lines


def test_broken_starttls_with_tls_required_is_tls_failed(
    opensmtpd: MTA, resolver: smtpcheck.Resolver, ca_file: str
) -> None:
    result = _checks.verify(opensmtpd, "alice", resolver, tls="required", ca_file=ca_file)
    assert result.verdict is Verdict.UNKNOWN, _checks.explain(result, opensmtpd)
    assert result.reason is Reason.TLS_FAILED
    assert "> MAIL FROM:<>" not in _checks.transcript(result)


def test_async_driver_agrees(opensmtpd: MTA, resolver: smtpcheck.Resolver) -> None:
    async def both() -> tuple[smtpcheck.Result, smtpcheck.Result]:
        policy = make_policy(opensmtpd)
        found = await smtpcheck.averify(
            f"alice@{opensmtpd.domain}", policy=policy, resolver=resolver
        )
        missing = await smtpcheck.averify(
            f"nobody@{opensmtpd.domain}", policy=policy, resolver=resolver
        )
        return found, missing

    found, missing = asyncio.run(both())
    assert found.verdict is Verdict.DELIVERABLE, _checks.explain(found, opensmtpd)
    assert missing.reason is Reason.MAILBOX_NOT_FOUND, _checks.explain(missing, opensmtpd)


def test_virtual_table_miss_is_its_own_reply(opensmtpd: MTA, resolver: smtpcheck.Resolver) -> None:
    # With the virtual table alone, OpenSMTPD refuses an unknown user at expansion time
    # with "524 5.2.4 Mailing list expansion problem", not Postfix's or Exim's words.
    virtual = opensmtpd.siblings["virtual"]
    found = _checks.verify(virtual, "alice", resolver)
    assert found.verdict is Verdict.DELIVERABLE, _checks.explain(found, virtual)
    assert found.catch_all is False
    missing = _checks.verify(virtual, "nobody", resolver)
    assert missing.reply is not None
    assert (missing.reply.code, str(missing.reply.enhanced)) == (524, "5.2.4")
    assert missing.verdict is Verdict.UNDELIVERABLE, _checks.explain(missing, virtual)
    assert missing.reason is Reason.MAILBOX_NOT_FOUND


def test_bulk_loses_and_repeats_nothing(opensmtpd: MTA, resolver: smtpcheck.Resolver) -> None:
    _checks.check_bulk(opensmtpd, resolver)

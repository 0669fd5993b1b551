"""smtpcheck against a real Exim with a router over a mailbox list (issue 9)."""

from __future__ import annotations

import pytest

import smtpcheck

from . import _checks
from .conftest import EXIM_RCPT_FAIL_LIMIT, MTA

pytestmark = pytest.mark.interop

#: What the `drop` ACL says to the recipient after which it hangs up.
DROP_TEXT = "Too many unknown recipients"
#: What Exim says when `require verify = recipient` finds no router for the address.
UNKNOWN_USER = "Unrouteable address"


def test_existing_mailbox_is_deliverable(exim: MTA, resolver: smtpcheck.Resolver) -> None:
    _checks.check_existing(exim, resolver)


def test_missing_mailbox_is_undeliverable_with_the_servers_words(
    exim: MTA, resolver: smtpcheck.Resolver
) -> None:
    _checks.check_missing(exim, resolver, UNKNOWN_USER)


def test_missing_mailbox_without_enhanced_codes(exim: MTA, resolver: smtpcheck.Resolver) -> None:
    # Exim does not offer ENHANCEDSTATUSCODES: the basic code and the text decide alone.
    result = _checks.verify(exim, "nobody", resolver)
    assert result.reply is not None
    assert result.reply.enhanced is None
    assert result.reason is smtpcheck.Reason.MAILBOX_NOT_FOUND


def test_upper_case_mailbox_matches_the_lower_case_one(
    exim: MTA, resolver: smtpcheck.Resolver
) -> None:
    # Postfix lookup tables fold case: ALICE@ finds alice@.
    _checks.check_upper_case(exim, resolver)


def test_subaddress_follows_recipient_delimiter(exim: MTA, resolver: smtpcheck.Resolver) -> None:
    # local_part_suffix = +* with local_part_suffix_optional.
    _checks.check_subaddress(exim, resolver)


def test_starttls_required_with_the_test_ca(
    exim: MTA, resolver: smtpcheck.Resolver, ca_file: str
) -> None:
    _checks.check_starttls_required(exim, resolver, ca_file)


def test_async_driver_agrees(exim: MTA, resolver: smtpcheck.Resolver, ca_file: str) -> None:
    _checks.check_async_driver(exim, resolver, ca_file)


def test_starttls_required_with_an_untrusted_certificate(
    exim: MTA, resolver: smtpcheck.Resolver
) -> None:
    _checks.check_starttls_untrusted(exim, resolver)


def test_bulk_across_the_drop_limit_asks_the_dropped_recipient_again(
    exim: MTA, resolver: smtpcheck.Resolver
) -> None:
    _, results, elapsed = _checks.bulk(exim, resolver)
    # The limit was really crossed: the ACL refused a recipient and hung up...
    assert DROP_TEXT in exim.log(), exim.log()[-3000:]
    # ...and the recipient it refused was asked again in a new session, so no result
    # carries the drop's reply: each has its own mailbox's answer.
    assert not [r for r in results if r.reply is not None and r.reply.text == DROP_TEXT]
    assert elapsed < 30


def test_bulk_across_the_drop_limit_answers_every_address(
    exim: MTA, resolver: smtpcheck.Resolver
) -> None:
    _checks.check_bulk(exim, resolver)


def test_bulk_with_few_recipients_per_session_stays_under_the_limit(
    exim: MTA, resolver: smtpcheck.Resolver
) -> None:
    # Fewer RCPT TO per session than the hard limit: Postfix never hangs up on us.
    results, _ = _checks.check_bulk(exim, resolver, max_recipients=EXIM_RCPT_FAIL_LIMIT - 1)
    said = "\n".join(line.text for r in results for line in r.transcript)
    assert DROP_TEXT not in said

"""smtpcheck against a real Postfix with virtual mailbox domains (issue 9)."""

from __future__ import annotations

import pytest

import smtpcheck

from . import _checks
from .conftest import MTA, POSTFIX_HARD_ERROR_LIMIT

pytestmark = pytest.mark.interop

UNKNOWN_USER = "Recipient address rejected: User unknown in virtual mailbox table"


def test_existing_mailbox_is_deliverable(postfix: MTA, resolver: smtpcheck.Resolver) -> None:
    _checks.check_existing(postfix, resolver)


def test_missing_mailbox_is_undeliverable_with_the_servers_words(
    postfix: MTA, resolver: smtpcheck.Resolver
) -> None:
    _checks.check_missing(postfix, resolver, UNKNOWN_USER)


def test_missing_mailbox_enhanced_code(postfix: MTA, resolver: smtpcheck.Resolver) -> None:
    result = _checks.verify(postfix, "nobody", resolver)
    assert result.reply is not None
    assert str(result.reply.enhanced) == "5.1.1"
    assert result.reply.text.startswith("<nobody@shop.test>: ")


def test_upper_case_mailbox_matches_the_lower_case_one(
    postfix: MTA, resolver: smtpcheck.Resolver
) -> None:
    # Postfix lookup tables fold case: ALICE@ finds alice@.
    _checks.check_upper_case(postfix, resolver)


def test_subaddress_follows_recipient_delimiter(postfix: MTA, resolver: smtpcheck.Resolver) -> None:
    # recipient_delimiter = +: alice+tag@ is looked up as alice+tag@, then alice@.
    _checks.check_subaddress(postfix, resolver)


def test_starttls_required_with_the_test_ca(
    postfix: MTA, resolver: smtpcheck.Resolver, ca_file: str
) -> None:
    _checks.check_starttls_required(postfix, resolver, ca_file)


def test_async_driver_agrees(postfix: MTA, resolver: smtpcheck.Resolver, ca_file: str) -> None:
    _checks.check_async_driver(postfix, resolver, ca_file)


def test_starttls_required_with_an_untrusted_certificate(
    postfix: MTA, resolver: smtpcheck.Resolver
) -> None:
    _checks.check_starttls_untrusted(postfix, resolver)


def test_bulk_across_error_limits_loses_and_repeats_nothing(
    postfix: MTA, resolver: smtpcheck.Resolver
) -> None:
    results, elapsed = _checks.check_bulk(postfix, resolver)
    # The limits were really crossed: Postfix hung up with 421 at least once.
    said = "\n".join(line.text for r in results for line in r.transcript)
    assert f"421 4.7.0 {postfix.mx} Error: too many errors" in said, postfix.log()[-3000:]
    assert elapsed < 60


def test_bulk_with_few_recipients_per_session_stays_under_the_limit(
    postfix: MTA, resolver: smtpcheck.Resolver
) -> None:
    # Fewer RCPT TO per session than the hard limit: Postfix never hangs up on us.
    results, _ = _checks.check_bulk(postfix, resolver, max_recipients=POSTFIX_HARD_ERROR_LIMIT - 1)
    said = "\n".join(line.text for r in results for line in r.transcript)
    assert "too many errors" not in said

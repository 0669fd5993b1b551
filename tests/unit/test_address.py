"""Table tests for smtpcheck._address: what may follow ``RCPT TO:<``, and why not."""

from __future__ import annotations

import dataclasses
import doctest
import ipaddress
import time

import pytest

from smtpcheck import _address as address_module
from smtpcheck._address import REASONS, Address, parse_address
from smtpcheck._errors import InvalidAddress, SMTPCheckError

ALLOW_ALL = {
    "allow_domain_literal": True,
    "allow_single_label": True,
    "allow_special_use": True,
}

# Each case: the text, the options, then the expected normalized form, smtp_path,
# is_quoted and requires_smtputf8.
VALID = [
    ("user@mail.shop.co.uk", {}, "user@mail.shop.co.uk", "user@mail.shop.co.uk", False, False),
    ("a@b.io", {}, "a@b.io", "a@b.io", False, False),
    (
        "John.Doe@EXAMPLE.ORG",
        ALLOW_ALL,
        "John.Doe@example.org",
        "John.Doe@example.org",
        False,
        False,
    ),
    (
        "!#$%&'*+-/=?^_`{|}~@shop.de",
        {},
        "!#$%&'*+-/=?^_`{|}~@shop.de",
        "!#$%&'*+-/=?^_`{|}~@shop.de",
        False,
        False,
    ),
    (
        "first.middle.last@shop.de",
        {},
        "first.middle.last@shop.de",
        "first.middle.last@shop.de",
        False,
        False,
    ),
    ("1@123.com", {}, "1@123.com", "1@123.com", False, False),
    ("user@a-b.c-d.de", {}, "user@a-b.c-d.de", "user@a-b.c-d.de", False, False),
    # IDNA: U-labels, A-labels in either case, UTS #46 mapping.
    ("user@exämple.org", {}, "user@exämple.org", "user@xn--exmple-cua.org", False, False),
    ("user@XN--EXMPLE-CUA.ORG", {}, "user@exämple.org", "user@xn--exmple-cua.org", False, False),
    ("user@ÖBB.at", {}, "user@öbb.at", "user@xn--bb-eka.at", False, False),
    ("user@fa\u00df.de", {}, "user@fa\u00df.de", "user@xn--fa-hia.de", False, False),
    (
        "user@\uff53\uff48\uff4f\uff50\uff0e\uff44\uff45",
        {},
        "user@shop.de",
        "user@shop.de",
        False,
        False,
    ),
    ("user@例え。テスト", {}, "user@例え.テスト", "user@xn--r8jz45g.xn--zckzah", False, False),
    ("user@sh\u00adop.de", {}, "user@shop.de", "user@shop.de", False, False),
    ("user@пример.рф", {}, "user@пример.рф", "user@xn--e1afmkfd.xn--p1ai", False, False),
    # Unicode local parts: SMTPUTF8, NFC, case kept.
    ("Jöhn@shop.de", {}, "Jöhn@shop.de", "Jöhn@shop.de", False, True),
    ("Jo\u0308hn@shop.de", {}, "J\u00f6hn@shop.de", "J\u00f6hn@shop.de", False, True),
    ("用户@例子.广告", {}, "用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v", False, True),
    (
        "\u0645\u200c\u06cc@shop.ir",
        {},
        "\u0645\u200c\u06cc@shop.ir",
        "\u0645\u200c\u06cc@shop.ir",
        False,
        True,
    ),
    # Quoted local parts: least quoting kept.
    ('"john doe"@shop.de', {}, '"john doe"@shop.de', '"john doe"@shop.de', True, False),
    ('"john"@shop.de', {}, "john@shop.de", "john@shop.de", False, False),
    ('"john"@shop.de', {"allow_quoted_local": False}, "john@shop.de", "john@shop.de", False, False),
    ('"j\\ohn"@shop.de', {}, "john@shop.de", "john@shop.de", False, False),
    ('"a\\"b"@shop.de', {}, '"a\\"b"@shop.de', '"a\\"b"@shop.de', True, False),
    ('"a\\\\b"@shop.de', {}, '"a\\\\b"@shop.de', '"a\\\\b"@shop.de', True, False),
    ('"a@b"@shop.de', {}, '"a@b"@shop.de', '"a@b"@shop.de', True, False),
    ('"a..b"@shop.de', {}, '"a..b"@shop.de', '"a..b"@shop.de', True, False),
    ('"\\ "@shop.de', {}, '" "@shop.de', '" "@shop.de', True, False),
    ('"jö hn"@shop.de', {}, '"jö hn"@shop.de', '"jö hn"@shop.de', True, True),
    # Literals, single labels and special-use names, when allowed.
    ("user@[192.0.2.1]", ALLOW_ALL, "user@[192.0.2.1]", "user@[192.0.2.1]", False, False),
    (
        "user@[ipv6:2001:DB8:0::1]",
        ALLOW_ALL,
        "user@[IPv6:2001:db8::1]",
        "user@[IPv6:2001:db8::1]",
        False,
        False,
    ),
    ("user@localhost", ALLOW_ALL, "user@localhost", "user@localhost", False, False),
    ("user@mailhost", {"allow_single_label": True}, "user@mailhost", "user@mailhost", False, False),
    ("user@shop.test", ALLOW_ALL, "user@shop.test", "user@shop.test", False, False),
    ("user@mx.home.arpa", ALLOW_ALL, "user@mx.home.arpa", "user@mx.home.arpa", False, False),
    # Not special: the reserved names only as whole labels.
    ("user@testing.org", {}, "user@testing.org", "user@testing.org", False, False),
    ("user@example.co", {}, "user@example.co", "user@example.co", False, False),
    ("user@arpa.de", {}, "user@arpa.de", "user@arpa.de", False, False),
]


@pytest.mark.parametrize(("text", "options", "expected"), [(c[0], c[1], c[2:]) for c in VALID])
def test_valid(text: str, options: dict[str, bool], expected: tuple[str, str, bool, bool]) -> None:
    normalized, smtp_path, is_quoted, requires_smtputf8 = expected
    address = parse_address(text, **options)
    assert address.normalized == normalized
    assert str(address) == normalized
    assert address.smtp_path == smtp_path
    assert address.is_quoted is is_quoted
    assert address.requires_smtputf8 is requires_smtputf8
    assert parse_address(address.normalized, **ALLOW_ALL) == address
    assert parse_address(address.smtp_path, **ALLOW_ALL) == address


LOCAL_64 = "a" * 64
LABEL_63 = "b" * 63


def _domain_of(octets: int) -> str:
    """A valid domain name of exactly *octets* octets: 63-octet labels, then .de."""
    body = octets - len(".de")
    full, rest = divmod(body - 1, 64)
    domain = ("c" * 63 + ".") * full + "c" * (rest + 1) + ".de"
    assert len(domain) == octets
    return domain


def test_length_limits_exactly() -> None:
    assert parse_address(f"{LOCAL_64}@shop.de").local_part == LOCAL_64
    assert parse_address(f"{LABEL_63}@{LABEL_63}.de").domain == f"{LABEL_63}.de"
    # 254 octets accepted, 255 refused.
    domain = _domain_of(254 - 2)
    assert len(parse_address(f"a@{domain}").normalized) == 254
    with pytest.raises(InvalidAddress) as info:
        parse_address(f"ab@{domain}")
    assert info.value.reason == "too_long"
    # Octets, not characters: 32 two-octet characters fit, 33 do not.
    assert parse_address("ü" * 32 + "@shop.de").requires_smtputf8
    with pytest.raises(InvalidAddress) as info:
        parse_address("ü" * 33 + "@shop.de")
    assert info.value.reason == "local_too_long"
    # The quoted form's length counts: 62 characters and two quotes.
    assert parse_address('"' + " " * 62 + '"@shop.de').is_quoted
    with pytest.raises(InvalidAddress) as info:
        parse_address('"' + " " * 63 + '"@shop.de')
    assert info.value.reason == "local_too_long"
    # A label counts in A-labels, not in characters or UTF-8.
    # 57 'ü' make 'xn--tda' and 56 'a': 63 octets.
    assert parse_address("user@" + "ü" * 57 + ".de").ascii_domain == "xn--tda" + "a" * 56 + ".de"


# (text, options, reason, part of the message)
INVALID = [
    ("", {}, "empty", "empty"),
    ("a" * 10_000 + "@shop.de", {}, "too_long", "10008 characters"),
    ("a" * 250 + "@shop.de", {}, "local_too_long", "250 octets"),
    ("user@shop.de\r\nRCPT TO:<x@y.de>", {}, "control_character", "CARRIAGE RETURN"),
    ("user@shop.de\n", {}, "control_character", "LINE FEED"),
    ("us\x00er@shop.de", {}, "control_character", "NULL"),
    ("us\ter@shop.de", {}, "control_character", "U+0009 CHARACTER TABULATION"),
    ("us\x7fer@shop.de", {}, "control_character", "U+007F"),
    ("us\x85er@shop.de", {}, "control_character", "U+0085"),
    ('"us\ter"@shop.de', {}, "control_character", "position 4"),
    (" user@shop.de", {}, "whitespace", "white space"),
    ("user@shop.de ", {}, "whitespace", "white space"),
    ("user@shop.de\u3000", {}, "whitespace", "white space"),
    ("user.shop.de", {}, "no_at_sign", "no @"),
    ("@shop.de", {}, "local_empty", "nothing before"),
    ('""@shop.de', {}, "local_empty", '("")'),
    ("john doe@shop.de", {}, "local_invalid_char", "contains a space"),
    ("john(comment)@shop.de", {}, "local_invalid_char", "comments"),
    ("john)@shop.de", {}, "local_invalid_char", "comments"),
    ('jo"hn"@shop.de', {}, "local_invalid_char", "quoted as a whole"),
    ('"jo"hn@shop.de', {}, "local_invalid_char", "no closing quote"),
    ('"jo"."hn"@shop.de', {}, "local_invalid_char", "quoted as a whole"),
    ('"@shop.de', {}, "local_invalid_char", "no closing quote"),
    ('"john\\"@shop.de', {}, "local_invalid_char", "backslash"),
    ('"jo\\\u00e9hn"@shop.de', {}, "local_invalid_char", "backslash"),
    ("a@b@shop.de", {}, "local_invalid_char", "'@'"),
    ("a\\b@shop.de", {}, "local_invalid_char", "quoted local part"),
    ("a,b@shop.de", {}, "local_invalid_char", "','"),
    ("jo\u00a0hn@shop.de", {}, "local_invalid_char", "U+00A0 NO-BREAK SPACE"),
    ("jo\u202ehn@shop.de", {}, "local_invalid_char", "RIGHT-TO-LEFT OVERRIDE"),
    ("jo\ue000hn@shop.de", {}, "local_invalid_char", "U+E000"),
    ("jo\ud800hn@shop.de", {}, "local_invalid_char", "U+D800,"),
    ('"jo\u2028hn"@shop.de', {}, "local_invalid_char", "LINE SEPARATOR"),
    (".john@shop.de", {}, "local_dot", "dot"),
    ("john.@shop.de", {}, "local_dot", "dot"),
    ("jo..hn@shop.de", {}, "local_dot", "two dots"),
    ("jö..hn@shop.de", {}, "local_dot", "two dots"),
    ('"john doe"@shop.de', {"allow_quoted_local": False}, "quoted_local_not_allowed", "quotes"),
    ("jöhn@shop.de", {"allow_smtputf8": False}, "smtputf8_not_allowed", "SMTPUTF8"),
    ('"jö hn"@shop.de', {"allow_smtputf8": False}, "smtputf8_not_allowed", "SMTPUTF8"),
    (f"{LOCAL_64}a@shop.de", {}, "local_too_long", "65 octets"),
    ("user@", {}, "domain_empty", "nothing after"),
    ("user@[192.0.2.1]", {}, "domain_literal_not_allowed", "address literal"),
    ("user@[192.0.2.1", ALLOW_ALL, "domain_literal_invalid", "'[192.0.2.1'"),
    ("user@[]", ALLOW_ALL, "domain_literal_invalid", "not a valid address literal"),
    ("user@[192.0.2.256]", ALLOW_ALL, "domain_literal_invalid", "[IPv4 address]"),
    ("user@[192.0.2.01]", ALLOW_ALL, "domain_literal_invalid", "[IPv4 address]"),
    ("user@[2001:db8::1]", ALLOW_ALL, "domain_literal_invalid", "[IPv6:"),
    ("user@[IPv6:192.0.2.1]", ALLOW_ALL, "domain_literal_invalid", "[IPv6:"),
    ("user@[IPv6:fe80::1%eth0]", ALLOW_ALL, "domain_literal_invalid", "[IPv6:"),
    ("user@[x400:c=de]", ALLOW_ALL, "domain_literal_invalid", "[IPv6:"),
    ("user@[ 192.0.2.1]", ALLOW_ALL, "domain_literal_invalid", "[IPv4"),
    ("user@exa mple.org", {}, "domain_invalid", "label 'exa mple' contains a space"),
    ("user@ex_ample.org", {}, "domain_invalid", "label 'ex_ample' contains '_'"),
    ("user@shop.de.", {}, "domain_invalid", "ends with a dot"),
    ("user@shop.de\u3002", {}, "domain_invalid", "ends with a dot"),
    ("user@.shop.de", {}, "domain_invalid", "empty label"),
    ("user@shop..de", {}, "domain_invalid", "empty label"),
    ("user@\u00ad.de", {}, "domain_invalid", "empty label"),
    ("user@-shop.de", {}, "domain_invalid", "hyphen"),
    ("user@shop-.de", {}, "domain_invalid", "hyphen"),
    ("user@sh--op.de", {}, "domain_invalid", "'--'"),
    ("user@xn--zz.de", {}, "domain_invalid", "not a valid IDNA A-label"),
    ("user@xn--.de", {}, "domain_invalid", "hyphen"),
    ("user@a\u200db.de", {}, "domain_invalid", "IDNA 2008"),
    ("user@\u2603.de", {}, "domain_invalid", "IDNA 2008"),
    ("user@shop.de\u2488", {}, "domain_invalid", "U+2488"),
    ("user@(comment)shop.de", {}, "domain_invalid", "'('"),
    ("user@shop.de>", {}, "domain_invalid", "'>'"),
    ("user@\ud800.de", {}, "domain_invalid", "U+D800"),
    ("user@192.0.2.1", {}, "domain_invalid", "all digits"),
    ("user@123", ALLOW_ALL, "domain_invalid", "all digits"),
    (f"user@{LABEL_63}b.de", {}, "label_too_long", "64 octets"),
    ("user@" + "ü" * 58 + ".de", {}, "label_too_long", "64 octets (in A-label form)"),
    ("user@" + "ü" * 300 + ".de", {}, "label_too_long", "A-label"),
    (f"u@{'c' * 63}.{'c' * 63}.{'c' * 63}.{'c' * 61}.de", {}, "domain_too_long", "256 octets"),
    ("user@localhost", {}, "domain_single_label", "single label"),
    ("user@de", {}, "domain_single_label", "single label"),
    ("user@localhost", {"allow_single_label": True}, "domain_special_use", "RFC 6761"),
    ("user@shop.test", {}, "domain_special_use", "RFC 6761"),
    ("user@SHOP.TEST", {}, "domain_special_use", "'shop.test'"),
    ("user@a.example", {}, "domain_special_use", "RFC 6761"),
    ("user@nowhere.invalid", {}, "domain_special_use", "RFC 6761"),
    ("user@my.localhost", {}, "domain_special_use", "RFC 6761"),
    ("user@example.com", {}, "domain_special_use", "RFC 6761"),
    ("user@mail.example.net", {}, "domain_special_use", "RFC 6761"),
    ("user@example.org", {}, "domain_special_use", "RFC 6761"),
    ("user@printer.local", {}, "domain_special_use", "RFC 6762"),
    ("user@abc.onion", {}, "domain_special_use", "RFC 7686"),
    ("user@router.home.arpa", {}, "domain_special_use", "RFC 8375"),
    ("user@thing.alt", {}, "domain_special_use", "RFC 9476"),
    (f"ab@{_domain_of(252)}", {}, "too_long", "255 octets"),
    # The UTF-8 form counts as well as the wire form: 260 octets, 192 in A-labels.
    ("u@" + ".".join([("例え日本語" * 5)[:21]] * 4) + ".jp", {}, "too_long", "260 octets"),
]


@pytest.mark.parametrize(("text", "options", "reason", "message"), INVALID)
def test_invalid(text: str, options: dict[str, bool], reason: str, message: str) -> None:
    with pytest.raises(InvalidAddress) as info:
        parse_address(text, **options)
    error = info.value
    assert error.reason == reason
    assert error.reason in REASONS
    assert error.address == text
    assert message in str(error)
    assert isinstance(error, ValueError)
    assert isinstance(error, SMTPCheckError)


def test_every_reason_is_tested_and_documented() -> None:
    assert {reason for _, _, reason, _ in INVALID} == REASONS
    doc = address_module.__doc__
    assert doc is not None
    for reason in REASONS:
        assert f"``{reason}``" in doc


def test_a_huge_input_is_refused_in_microseconds() -> None:
    # 100 kB: walking it character by character in Python would take milliseconds.
    huge = "a" * 50_000 + "@" + "b" * 50_000
    start = time.perf_counter()
    for _ in range(1000):
        with pytest.raises(InvalidAddress) as info:
            parse_address(huge)
    assert (time.perf_counter() - start) / 1000 < 1e-3
    assert info.value.reason == "too_long"


def test_text_must_be_a_str() -> None:
    with pytest.raises(TypeError, match="bytes"):
        parse_address(b"user@shop.de")  # type: ignore[arg-type]


def test_domain_literals() -> None:
    v4 = parse_address("user@[192.0.2.1]", allow_domain_literal=True)
    assert v4.domain_literal == ipaddress.IPv4Address("192.0.2.1")
    assert v4.domain == v4.ascii_domain == "[192.0.2.1]"
    v6 = parse_address("user@[IPv6:2001:db8::1]", allow_domain_literal=True)
    assert v6.domain_literal == ipaddress.IPv6Address("2001:db8::1")
    assert parse_address("user@shop.de").domain_literal is None
    # Literals are not domain names: no single-label or special-use rule applies.
    assert parse_address("user@[127.0.0.1]", allow_domain_literal=True).smtp_path == (
        "user@[127.0.0.1]"
    )


def test_address_is_a_frozen_slotted_keyword_only_value() -> None:
    address = parse_address("user@shop.de")
    with pytest.raises(dataclasses.FrozenInstanceError):
        address.local_part = "other"  # type: ignore[misc]
    assert not hasattr(address, "__dict__")
    assert hash(address) == hash(parse_address("user@SHOP.de"))
    with pytest.raises(TypeError):
        Address("user", "shop.de", "shop.de")  # type: ignore[call-arg]


def test_address_built_directly_is_checked() -> None:
    built = Address(
        local_part="Jöhn",
        domain="exämple.org",
        ascii_domain="xn--exmple-cua.org",
        requires_smtputf8=True,
    )
    assert built == parse_address("Jöhn@Exämple.org")
    with pytest.raises(ValueError, match="do not agree"):
        Address(local_part="user", domain="shop.de", ascii_domain="evil.de")
    with pytest.raises(ValueError, match="do not agree"):
        Address(local_part="user", domain="SHOP.de", ascii_domain="shop.de")
    with pytest.raises(InvalidAddress) as info:
        Address(local_part="user\r\nDATA", domain="shop.de", ascii_domain="shop.de")
    assert info.value.reason == "control_character"


def test_doctests_run() -> None:
    result = doctest.testmod(address_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0

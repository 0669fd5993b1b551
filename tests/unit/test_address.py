"""Table tests for smtpcheck._address: what may follow ``RCPT TO:<``, and why not."""

from __future__ import annotations

import contextlib
import dataclasses
import doctest
import ipaddress
import re
import time

import idna
import pytest

from smtpcheck import _address as address_module
from smtpcheck import protocol
from smtpcheck._address import REASONS, Address, parse_address, path_problem
from smtpcheck._enrich_tlds import TLDS
from smtpcheck._errors import InvalidAddress, LocalProtocolError, PolicyError, SMTPCheckError

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
    # Half-width katakana with a half-width voiced mark: width, then NFC.
    ("user@\uff76\uff9e.jp", {}, "user@\u30ac.jp", "user@xn--mck.jp", False, False),
    # A one-character case folding (MICRO SIGN to GREEK SMALL LETTER MU) is case.
    ("user@\u00b5.de", {}, "user@\u03bc.de", "user@xn--xxa.de", False, False),
    # RFC 5893 §2: every label of a domain with a right-to-left label obeys the Bidi rule.
    ("user@shop.שלום.il", {}, "user@shop.שלום.il", "user@shop.xn--9dbne9b.il", False, False),
    ("user@a1.שלום.il", {}, "user@a1.שלום.il", "user@a1.xn--9dbne9b.il", False, False),
    ("user@пример.рф", {}, "user@пример.рф", "user@xn--e1afmkfd.xn--p1ai", False, False),
    # Unicode local parts: SMTPUTF8, NFC, case kept.
    ("Jöhn@shop.de", {}, "Jöhn@shop.de", "Jöhn@shop.de", False, True),
    ("Jo\u0308hn@shop.de", {}, "J\u00f6hn@shop.de", "J\u00f6hn@shop.de", False, True),
    ("用户@例子.广告", {}, "用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v", False, True),
    # A combining mark after the first character is fine.
    ("e\u0301\u0301@shop.de", {}, "\u00e9\u0301@shop.de", "\u00e9\u0301@shop.de", False, True),
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
    # RFC 5321 §4.1.2: "<" and ">" are qtextSMTP; Postfix and Exim read them as part of
    # the quoted string, so they can be sent.
    ('"a>b"@shop.de', {}, '"a>b"@shop.de', '"a>b"@shop.de', True, False),
    ('"<a@b.de>"@shop.de', {}, '"<a@b.de>"@shop.de', '"<a@b.de>"@shop.de', True, False),
    # Quoted-string = DQUOTE *QcontentSMTP DQUOTE: the empty one is valid, and stays quoted.
    ('""@shop.de', {}, '""@shop.de', '""@shop.de', True, False),
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
    ("user@mx1", {"allow_single_label": True}, "user@mx1", "user@mx1", False, False),
    # RFC 5321 §4.1.3 IPv6 literals (Dominic Sayers' is_email cases it counts valid).
    *[
        (
            f"user@[IPv6:{value}]",
            ALLOW_ALL,
            f"user@[IPv6:{canon}]",
            f"user@[IPv6:{canon}]",
            False,
            False,
        )
        for value, canon in [
            ("1111:2222:3333:4444:5555:6666:7777:8888", "1111:2222:3333:4444:5555:6666:7777:8888"),
            ("1111:2222:3333:4444:5555::8888", "1111:2222:3333:4444:5555::8888"),
            ("::3333:4444:5555:6666:7777:8888", "::3333:4444:5555:6666:7777:8888"),
            ("::", "::"),
            ("1111:2222:3333:4444:5555:6666:1.2.3.4", "1111:2222:3333:4444:5555:6666:102:304"),
            ("1111:2222:3333:4444::1.2.3.4", "1111:2222:3333:4444::102:304"),
            ("::1.2.3.4", "::102:304"),
            ("1::1.2.3.4", "1::102:304"),
        ]
    ],
    # Not special: the reserved names only as whole labels.
    ("user@testing.org", {}, "user@testing.org", "user@testing.org", False, False),
    ("user@example.co", {}, "user@example.co", "user@example.co", False, False),
    ("user@arpa.de", {}, "user@arpa.de", "user@arpa.de", False, False),
    # RFC 6761 §6.5: applications SHOULD NOT treat the example names as special.
    ("user@example.com", {}, "user@example.com", "user@example.com", False, False),
    ("user@mail.example.net", {}, "user@mail.example.net", "user@mail.example.net", False, False),
    ("user@EXAMPLE.ORG", {}, "user@example.org", "user@example.org", False, False),
    ("user@a.example", {}, "user@a.example", "user@a.example", False, False),
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
    # Default-ignorable (invisible) characters: refused, never removed.
    ("jo\u200dhn@shop.de", {}, "local_invalid_char", "U+200D ZERO WIDTH JOINER, an invisible"),
    ("\u0645\u200c\u06cc@shop.ir", {}, "local_invalid_char", "U+200C ZERO WIDTH NON-JOINER"),
    ("\U0001f468\u200d\U0001f469@shop.de", {}, "local_invalid_char", "U+200D"),
    ("jo\u00adhn@shop.de", {}, "local_invalid_char", "U+00AD SOFT HYPHEN, an invisible"),
    ("jo\u200bhn@shop.de", {}, "local_invalid_char", "U+200B ZERO WIDTH SPACE"),
    ("\u2764\ufe0f@shop.de", {}, "local_invalid_char", "U+FE0F VARIATION SELECTOR-16"),
    ("a\u3164b@shop.de", {}, "local_invalid_char", "U+3164 HANGUL FILLER, an invisible"),
    ("a\u034fb@shop.de", {}, "local_invalid_char", "COMBINING GRAPHEME JOINER"),
    ('"jo\u200dhn"@shop.de', {}, "local_invalid_char", "U+200D"),
    # A combining mark first would join the "<" or ":" before the address.
    ("\u0301a@shop.de", {}, "local_invalid_char", "starts with U+0301 COMBINING ACUTE"),
    ('"\u0301a b"@shop.de', {}, "local_invalid_char", "a combining mark"),
    ("\u0903x@shop.de", {}, "local_invalid_char", "a combining mark"),
    ('"jo\u2028hn"@shop.de', {}, "local_invalid_char", "LINE SEPARATOR"),
    (".john@shop.de", {}, "local_dot", "dot"),
    ("john.@shop.de", {}, "local_dot", "dot"),
    ("jo..hn@shop.de", {}, "local_dot", "two dots"),
    ("jö..hn@shop.de", {}, "local_dot", "two dots"),
    ('"john doe"@shop.de', {"allow_quoted_local": False}, "quoted_local_not_allowed", "quotes"),
    ('""@shop.de', {"allow_quoted_local": False}, "quoted_local_not_allowed", "quotes"),
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
    # RFC 5321 §4.1.3 is stricter than ipaddress (is_email's cases, and "::" for one group).
    *[
        (f"user@[IPv6:{value}]", ALLOW_ALL, "domain_literal_invalid", "RFC 5321 §4.1.3")
        for value in [
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "1111:2222:3333:4444:5555:6666::8888",
            "1111:2222:3333:4444:5555:6666::7777:8888",
            "1111:2222:3333:4444:5555:6666:7777",
            "1111:2222:3333:4444:5555:6666:7777:8888:9999",
            "1111:2222:3333:4444:5555:6666:7777:888G",
            ":3333:4444:5555:6666:7777:8888",
            "1111::4444:5555::8888",
            "1111:2222:3333:4444:5555:1.2.3.4",
            "1111:2222:3333:4444:5555:6666:7777:1.2.3.4",
            "1111:2222:3333:4444:5555::1.2.3.4",
            "1111:2222:3333:4444:::1.2.3.4",
            ":1.2.3.4",
            "::1.2.3",
            "::01.2.3.4",
        ]
    ],
    ("user@[ 192.0.2.1]", ALLOW_ALL, "domain_literal_invalid", "[IPv4"),
    ("user@exa mple.org", {}, "domain_invalid", "label 'exa mple' contains a space"),
    ("user@ex_ample.org", {}, "domain_invalid", "label 'ex_ample' contains '_'"),
    ("user@shop.de.", {}, "domain_invalid", "ends with a dot"),
    ("user@shop.de\u3002", {}, "domain_invalid", "ends with a dot"),
    ("user@.shop.de", {}, "domain_invalid", "empty label"),
    ("user@shop..de", {}, "domain_invalid", "empty label"),
    ("user@\u00ad.de", {}, "domain_invalid", "U+00AD SOFT HYPHEN, an invisible"),
    ("user@sh\u00adop.de", {}, "domain_invalid", "label 'sh\\xadop' contains U+00AD"),
    ("user@sh\u200bop.de", {}, "domain_invalid", "U+200B ZERO WIDTH SPACE"),
    ("user@shop\ufe0f.de", {}, "domain_invalid", "VARIATION SELECTOR-16"),
    ("user@\u0915\u094d\u200d\u0937.in", {}, "domain_invalid", "U+200D ZERO WIDTH JOINER"),
    ("user@\u0645\u200c\u06cc.ir", {}, "domain_invalid", "U+200C ZERO WIDTH NON-JOINER"),
    # UTS #46 changes beyond the documented ones (case, NFC, width, dots): refused.
    ("user@\ufb01sh.de", {}, "domain_invalid", "LIGATURE FI, which IDNA would change to 'fi'"),
    ("user@x\u00b2.de", {}, "domain_invalid", "SUPERSCRIPT TWO, which IDNA would change"),
    ("user@\U0001d41a.de", {}, "domain_invalid", "MATHEMATICAL BOLD SMALL A"),
    ("user@\u2163.de", {}, "domain_invalid", "ROMAN NUMERAL FOUR"),
    # RFC 5893 §2 across labels: a leading digit label beside a Hebrew one.
    ("user@123.שלום.il", {}, "domain_invalid", "label '123' breaks the Bidi rule (RFC 5893"),
    ("user@1shop.שלום.il", {}, "domain_invalid", "label '1shop' breaks the Bidi rule"),
    ("user@שלום.1.il", {}, "domain_invalid", "label '1' breaks the Bidi rule"),
    ("user@-shop.de", {}, "domain_invalid", "hyphen"),
    ("user@shop-.de", {}, "domain_invalid", "hyphen"),
    ("user@sh--op.de", {}, "domain_invalid", "'--'"),
    ("user@xn--zz.de", {}, "domain_invalid", "not a valid IDNA A-label"),
    ("user@xn--.de", {}, "domain_invalid", "hyphen"),
    ("user@a\u200db.de", {}, "domain_invalid", "U+200D ZERO WIDTH JOINER, an invisible"),
    ("user@\u2603.de", {}, "domain_invalid", "IDNA 2008"),
    ("user@shop.de\u2488", {}, "domain_invalid", "U+2488"),
    ("user@(comment)shop.de", {}, "domain_invalid", "'('"),
    ("user@shop.de>", {}, "domain_invalid", "'>'"),
    ("user@\ud800.de", {}, "domain_invalid", "U+D800"),
    ("user@192.0.2.1", {}, "domain_invalid", "all digits"),
    ("user@123", ALLOW_ALL, "domain_invalid", "all digits"),
    # The last label ends with a letter, as every TLD does (RFC 3696 §2: not all-numeric).
    ("user@shop.com1", {}, "domain_invalid", "'com1' does not end with a letter"),
    ("user@shop.c-1", {}, "domain_invalid", "does not end with a letter"),
    (f"user@{LABEL_63}b.de", {}, "label_too_long", "64 octets"),
    ("user@" + "ü" * 58 + ".de", {}, "label_too_long", "64 octets (in A-label form)"),
    ("user@" + "ü" * 300 + ".de", {}, "label_too_long", "A-label"),
    (f"u@{'c' * 63}.{'c' * 63}.{'c' * 63}.{'c' * 61}.de", {}, "domain_too_long", "256 octets"),
    ("user@localhost", {}, "domain_single_label", "single label"),
    ("user@de", {}, "domain_single_label", "single label"),
    ("user@localhost", {"allow_single_label": True}, "domain_special_use", "RFC 6761 §6.3"),
    ("user@shop.test", {}, "domain_special_use", "RFC 6761 §6.2"),
    ("user@SHOP.TEST", {}, "domain_special_use", "'shop.test'"),
    ("user@nowhere.invalid", {}, "domain_special_use", "RFC 6761 §6.4"),
    ("user@my.localhost", {}, "domain_special_use", "RFC 6761 §6.3"),
    ("user@x.in-addr.arpa", {}, "domain_special_use", "RFC 3172"),
    ("user@arpa", {"allow_single_label": True}, "domain_special_use", "RFC 3172"),
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
    with pytest.raises(PolicyError, match="bytes"):
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


# --- One rule per test: invisible characters, TLDs, special-use names, sendable paths ---


def test_every_character_uts46_deletes_is_refused_in_both_parts() -> None:
    # The idna package's UTS #46 table is the independent source: every character it maps
    # to nothing must be refused, in a domain and in a local part, never removed.
    deleted = []
    for code in [*range(0x80, 0x30000), *range(0xE0000, 0xE1000)]:
        if 0xD800 <= code < 0xE000:
            continue
        with contextlib.suppress(idna.IDNAError):
            if idna.uts46_remap(chr(code)) == "":
                deleted.append(chr(code))
    assert len(deleted) > 250  # SOFT HYPHEN, ZWSP, the variation selectors, ...
    for char in deleted:
        for text, reason in [
            (f"user@sh{char}op.de", "domain_invalid"),
            (f"jo{char}hn@shop.de", "local_invalid_char"),
            (f'"jo{char}hn"@shop.de', "local_invalid_char"),
        ]:
            with pytest.raises(InvalidAddress) as info:
                parse_address(text)
            assert info.value.reason == reason, (hex(ord(char)), text)


def test_every_delegated_tld_ends_with_a_letter_and_is_accepted() -> None:
    assert len(TLDS) > 1000
    for tld in TLDS:
        assert "a" <= tld[-1] <= "z", tld
        if tld == "arpa":  # RFC 3172: infrastructure, special-use
            continue
        address = parse_address(f"postmaster@nic.{tld}")
        assert address.ascii_domain == f"nic.{tld}"


SPECIAL_USE = [
    ("test", "RFC 6761 §6.2"),
    ("localhost", "RFC 6761 §6.3"),
    ("invalid", "RFC 6761 §6.4"),
    ("local", "RFC 6762"),
    ("onion", "RFC 7686"),
    ("alt", "RFC 9476"),
    ("home.arpa", "RFC 8375"),
    ("arpa", "RFC 3172"),
    ("in-addr.arpa", "RFC 3172"),
    ("ip6.arpa", "RFC 3172"),
]


@pytest.mark.parametrize(("name", "rfc"), SPECIAL_USE)
def test_special_use_names_are_refused_with_their_rfc(name: str, rfc: str) -> None:
    for domain in (name, f"mx.{name}", f"a.b.{name.upper()}"):
        with pytest.raises(InvalidAddress) as info:
            parse_address(f"user@{domain}", allow_single_label=True)
        assert info.value.reason == "domain_special_use"
        assert f"({rfc})" in str(info.value)
        assert parse_address(f"user@{domain}", **ALLOW_ALL).domain == domain.lower()


@pytest.mark.parametrize(
    "domain", ["example", "example.com", "example.net", "example.org", "www.example.com"]
)
def test_the_example_names_are_ordinary_names(domain: str) -> None:
    # RFC 6761 §6.5: "Application software SHOULD NOT treat these names as special."
    assert parse_address(f"user@{domain}", allow_single_label=True).domain == domain


# Issue 18: the addresses the parser accepted and the protocol refused to send.
SENDABLE = ['"a<b"@shop.de', '"a>b"@shop.de', '"<x> y"@shop.de', '""@shop.de', "jöhn@shop.de"]
UNSENDABLE = [
    "jo\u200dhn@shop.de",
    "jo\u200chn@shop.de",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467@shop.de",
]


@pytest.mark.parametrize("text", SENDABLE)
def test_what_the_parser_accepts_the_protocol_sends(text: str) -> None:
    address = parse_address(text)
    assert path_problem(address.smtp_path) is None
    wire = protocol.RcptTo(address.smtp_path).to_bytes()
    assert wire == f"RCPT TO:<{address.smtp_path}>\r\n".encode()
    protocol.MailFrom(address.smtp_path, smtputf8=address.requires_smtputf8)


@pytest.mark.parametrize("text", UNSENDABLE)
def test_what_the_protocol_cannot_send_the_parser_refuses(text: str) -> None:
    with pytest.raises(InvalidAddress) as info:
        parse_address(text)
    assert info.value.reason == "local_invalid_char"
    problem = path_problem(text)
    assert problem is not None
    with pytest.raises(LocalProtocolError, match=re.escape(problem)):
        protocol.RcptTo(text)


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("a>b@shop.de", "angle bracket outside a quoted local part"),
        ("<a@shop.de>", "angle bracket"),
        ('"a>b@shop.de', "outside a quoted local part"),
        ("a b@shop.de", "space"),
        ('a"b@shop.de', "quote"),
        ("a\\b@shop.de", "backslash"),
        ('"a\\\u00e9"@shop.de', "outside a quoted local part"),
        ("a\r\nDATA", "U+000D CARRIAGE RETURN"),
        ('"a\tb"@shop.de', "U+0009 CHARACTER TABULATION"),
        ("jo\ufe0fhn@shop.de", "U+FE0F VARIATION SELECTOR-16"),
        ("jo\u00a0hn@shop.de", "U+00A0 NO-BREAK SPACE"),
        ('"jo\u3000hn"@shop.de', "U+3000 IDEOGRAPHIC SPACE"),
        ("jo\ud800hn@shop.de", "U+D800"),
    ],
)
def test_the_path_rule(path: str, problem: str) -> None:
    found = path_problem(path)
    assert found is not None
    assert problem in found


@pytest.mark.parametrize(
    "path", ["", "Postmaster", '"a b"@shop.de', '"a\\"b"@shop.de', "@a.de,@b.de:u@c.de", "ü@ß.de"]
)
def test_paths_that_can_be_sent(path: str) -> None:
    assert path_problem(path) is None

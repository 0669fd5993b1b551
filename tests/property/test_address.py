"""Properties of smtpcheck._address, on addresses generated from the grammar."""

from __future__ import annotations

import re
import unicodedata

import idna
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smtpcheck import protocol
from smtpcheck._address import REASONS, Address, parse_address, path_problem
from smtpcheck._errors import InvalidAddress, LocalProtocolError

ALLOW_ALL = {"allow_domain_literal": True, "allow_single_label": True, "allow_special_use": True}

ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~"
# Graphic non-ASCII characters (letters of several scripts, a combining mark, an emoji).
UNICODE = "äöüßéñçøåÄÖÜÉабвгдежзийЖЯ日本語例え用户テストαβγΩ\u0301😀"
# Letters IDNA 2008 takes in a left-to-right label.
IDN_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789äöüßéñçøåабвгдежзий日本語例えテストαβγ"  # noqa: RUF001
TLDS = ["com", "org", "de", "jp", "io", "xn--p1ai", "рф", "中国", "co.uk", "XN--P1AI", "DE"]

# Default_Ignorable_Code_Point samples: invisible characters, refused in both parts.
INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u180b\u180e\u200b\u200c\u200d\u200e"
    "\u202a\u2060\u2064\u2066\u3164\ufe00\ufe0f\ufeff\uffa0\U0001bca0\U0001d173"
    "\U000e0001\U000e0100"
)


def _no_leading_mark(text: str) -> bool:
    return not text or unicodedata.category(text[0])[0] != "M"


ascii_atom = st.text(ATEXT, min_size=1, max_size=12)
unicode_atom = st.text(ATEXT + UNICODE, min_size=1, max_size=8)
ascii_dot_string = st.lists(ascii_atom, min_size=1, max_size=4).map(".".join)
unicode_dot_string = (
    st.lists(unicode_atom, min_size=1, max_size=4).map(".".join).filter(_no_leading_mark)
)


@st.composite
def quoted_strings(draw: st.DrawFn) -> str:
    """A quoted local part: qtext, spaces, non-ASCII, and quoted pairs at random."""
    content = draw(
        st.text(
            st.characters(min_codepoint=32, max_codepoint=126) | st.sampled_from(UNICODE),
            max_size=20,
        ).filter(_no_leading_mark)
    )
    out = []
    for char in content:
        if char in '"\\' or (char.isascii() and draw(st.booleans())):
            out.append("\\" + char)
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


ldh_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True).filter(
    lambda label: label[2:4] != "--"
)
idn_label = st.text(IDN_LETTERS, min_size=1, max_size=15).filter(
    lambda label: not label.isascii() or label[2:4] != "--"
)
label = ldh_label | idn_label | ldh_label.map(str.upper)
domains = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(label, min_size=1, max_size=3),
    st.sampled_from(TLDS),
)
local_parts = ascii_dot_string | unicode_dot_string | quoted_strings()


def _outcome(text: str, **options: bool) -> Address | InvalidAddress:
    try:
        return parse_address(text, **options)
    except InvalidAddress as error:
        return error


def _fits(text: str) -> bool:
    try:
        parse_address(text)
    except InvalidAddress as error:
        return error.reason not in {
            "local_too_long",
            "too_long",
            "label_too_long",
            "domain_too_long",
        }
    return True


valid_addresses = st.builds("{}@{}".format, local_parts, domains).filter(_fits)
ascii_addresses = st.builds(
    "{}@{}".format,
    ascii_dot_string,
    st.lists(ldh_label, min_size=1, max_size=3).map(lambda labels: ".".join([*labels, "com"])),
).filter(_fits)


@given(valid_addresses)
def test_every_valid_address_parses(text: str) -> None:
    address = parse_address(text)
    assert address.requires_smtputf8 == (not address.local_part.isascii())
    assert address.domain == address.domain.lower()
    assert address.smtp_path.isascii() or address.requires_smtputf8
    assert not any(char in address.smtp_path for char in "\r\n\x00")
    assert len(address.normalized.encode()) <= 254
    assert len(address.smtp_path.encode()) <= 254


@given(valid_addresses)
def test_parsing_the_normalized_form_gives_the_same_address(text: str) -> None:
    address = parse_address(text)
    assert parse_address(address.normalized) == address
    assert parse_address(str(address)) == address
    assert parse_address(address.smtp_path) == address
    rebuilt = Address(
        local_part=address.local_part,
        domain=address.domain,
        ascii_domain=address.ascii_domain,
        is_quoted=address.is_quoted,
        requires_smtputf8=address.requires_smtputf8,
        domain_literal=address.domain_literal,
    )
    assert rebuilt == address


@given(valid_addresses)
def test_ascii_domain_round_trips_through_idna(text: str) -> None:
    address = parse_address(text)
    assert address.ascii_domain.isascii()
    assert idna.decode(address.ascii_domain) == address.domain
    assert idna.encode(address.domain).decode("ascii") == address.ascii_domain


@given(valid_addresses)
def test_options_only_narrow(text: str) -> None:
    address = parse_address(text)
    assert parse_address(text, **ALLOW_ALL) == address
    strict = _outcome(text, allow_quoted_local=False, allow_smtputf8=False)
    if isinstance(strict, InvalidAddress):
        assert strict.reason in {"quoted_local_not_allowed", "smtputf8_not_allowed"}
        assert address.is_quoted or address.requires_smtputf8
    else:
        assert strict == address


# Near misses: a valid address with one defect, and the reason it must give.


def _insert(draw: st.DrawFn, text: str, piece: str, start: int = 0) -> str:
    at = draw(st.integers(start, len(text)))
    return text[:at] + piece + text[at:]


@st.composite
def near_misses(draw: st.DrawFn) -> tuple[str, dict[str, bool], str]:
    text = draw(ascii_addresses)
    local, _, domain = text.rpartition("@")
    kind = draw(
        st.sampled_from(
            [
                "control",
                "whitespace",
                "no_at",
                "local_dot",
                "local_space",
                "local_special",
                "local_long",
                "label_long",
                "underscore",
                "trailing_dot",
                "empty_label",
                "special_use",
                "invisible_local",
                "invisible_domain",
                "leading_mark",
                "tld_digit",
                "single_label",
                "smtputf8",
                "quoted",
                "literal",
                "literal_bad",
                "digits",
                "hyphen",
                "domain_empty",
                "local_empty",
            ]
        )
    )
    options: dict[str, bool] = {}
    if kind == "control":
        char = draw(st.characters(categories=["Cc"]))
        return _insert(draw, text, char), options, "control_character"
    if kind == "whitespace":
        space = draw(st.sampled_from([" ", "\u00a0", "\u3000", "\u2028"]))
        return draw(st.sampled_from([space + text, text + space])), options, "whitespace"
    if kind == "no_at":
        return text.replace("@", draw(st.sampled_from(["", ".", "(at)"]))), options, "no_at_sign"
    if kind == "local_dot":
        bad = draw(
            st.sampled_from(
                [
                    "." + local,
                    local + ".",
                    local.replace(".", "..") if "." in local else local + "..x",
                ]
            )
        )
        return f"{bad}@{domain}", options, "local_dot"
    if kind == "local_space":
        return f"{_insert(draw, local, ' ', start=1)}@{domain}", options, "local_invalid_char"
    if kind == "local_special":
        char = draw(st.sampled_from('()<>[]:;@\\,"\u00a0\u200b\ue000'))
        # A leading no-break space is white space before the address: its own reason.
        start = 1 if char.isspace() else 0
        return f"{_insert(draw, local, char, start)}@{domain}", options, "local_invalid_char"
    if kind == "local_long":
        return f"{local + 'x' * (65 - len(local))}@{domain}", options, "local_too_long"
    if kind == "label_long":
        return f"{local}@{'a' * draw(st.integers(64, 200))}.{domain}", options, "label_too_long"
    if kind == "underscore":
        return (
            f"{local}@{_insert(draw, domain.split('.')[0], '_')}.{domain}",
            options,
            "domain_invalid",
        )
    if kind == "trailing_dot":
        return f"{text}.", options, "domain_invalid"
    if kind == "empty_label":
        return f"{local}@{draw(st.sampled_from(['.', 'x..']))}{domain}", options, "domain_invalid"
    if kind == "special_use":
        tld = draw(
            st.sampled_from(
                [
                    "test",
                    "invalid",
                    "localhost",
                    "local",
                    "onion",
                    "alt",
                    "home.arpa",
                    "ARPA",
                    "in-addr.arpa",
                ]
            )
        )
        return f"{local}@{domain.removesuffix('.com')}.{tld}", options, "domain_special_use"
    if kind == "invisible_local":
        char = draw(st.sampled_from(INVISIBLE))
        return f"{_insert(draw, local, char)}@{domain}", options, "local_invalid_char"
    if kind == "invisible_domain":
        char = draw(st.sampled_from(INVISIBLE))
        return f"{local}@{_insert(draw, domain, char)}", options, "domain_invalid"
    if kind == "leading_mark":
        mark = draw(st.characters(categories=["Mn", "Mc", "Me"]))
        return f"{mark}{local}@{domain}", options, "local_invalid_char"
    if kind == "tld_digit":
        return f"{text}{draw(st.integers(0, 9))}", options, "domain_invalid"
    if kind == "single_label":
        return f"{local}@x{domain.split('.')[0]}", options, "domain_single_label"
    if kind == "smtputf8":
        return (
            f"{_insert(draw, local, draw(st.sampled_from(UNICODE[:-2])))}@{domain}",
            {"allow_smtputf8": False},
            "smtputf8_not_allowed",
        )
    if kind == "quoted":
        return f'"{local} x"@{domain}', {"allow_quoted_local": False}, "quoted_local_not_allowed"
    if kind == "literal":
        return f"{local}@[192.0.2.1]", options, "domain_literal_not_allowed"
    if kind == "literal_bad":
        bad = draw(
            st.sampled_from(["[192.0.2]", "[IPv6:1::2::3]", "[1.2.3.4", "[a.b.c.d]", "[IPv7:1::1]"])
        )
        return f"{local}@{bad}", ALLOW_ALL, "domain_literal_invalid"
    if kind == "digits":
        return f"{local}@{domain}.{draw(st.integers(0, 999))}", options, "domain_invalid"
    if kind == "hyphen":
        return (
            f"{local}@{draw(st.sampled_from(['-x.', 'x-.', 'ab--cd.']))}{domain}",
            options,
            "domain_invalid",
        )
    if kind == "domain_empty":
        return f"{local}@", options, "domain_empty"
    return f"@{domain}", options, "local_empty"


@given(near_misses())
def test_every_near_miss_is_rejected_with_its_reason(
    case: tuple[str, dict[str, bool], str],
) -> None:
    text, options, reason = case
    with pytest.raises(InvalidAddress) as info:
        parse_address(text, **options)
    assert info.value.reason == reason, str(info.value)
    assert info.value.address == text
    assert str(info.value)


# Anything at all: an Address, or InvalidAddress with a documented reason; never another
# exception, and whatever parses is stable.
NOISE = ATEXT + UNICODE + INVISIBLE + '@."\\ ()[]:;<>,\t\r\n\x00\u3002\uff0e_-' + "IPv6"


@given(
    st.text(NOISE, max_size=60)
    | st.builds("{}@{}".format, st.text(NOISE, max_size=20), st.text(NOISE, max_size=20))
)
def test_any_text_parses_or_gives_a_documented_reason(text: str) -> None:
    address = _outcome(text, **ALLOW_ALL)
    if isinstance(address, InvalidAddress):
        assert address.reason in REASONS
        return
    assert parse_address(address.normalized, **ALLOW_ALL) == address
    assert parse_address(address.smtp_path, **ALLOW_ALL) == address
    _assert_sendable(address)


# One rule of a sendable path (issue 18): what the parser accepts, the protocol sends.


def _assert_sendable(address: Address) -> None:
    assert path_problem(address.smtp_path) is None
    rcpt = protocol.RcptTo(address.smtp_path)
    assert rcpt.to_bytes() == f"RCPT TO:<{address.smtp_path}>\r\n".encode()
    protocol.MailFrom(address.smtp_path, smtputf8=address.requires_smtputf8)


@given(valid_addresses)
def test_every_accepted_address_can_be_sent(text: str) -> None:
    _assert_sendable(parse_address(text))


PATH_NOISE = ATEXT + UNICODE + INVISIBLE + '@."\\ <>[]:,\t\r\n\x00\u2028\u00a0\ud800'


@given(st.text(PATH_NOISE, min_size=1, max_size=40))
def test_the_protocol_refuses_exactly_what_the_rule_refuses(path: str) -> None:
    problem = path_problem(path)
    if problem is None:
        protocol.RcptTo(path)
        # Nothing that passes can end the path or the line early.
        assert not any(char in path for char in "\r\n\x00")
    else:
        with pytest.raises(LocalProtocolError, match=re.escape(problem)):
            protocol.RcptTo(path)


# Never alter what was typed: the documented mappings, and nothing else.

# Width forms, upper case, decomposed letters and the ideographic full stops; and
# characters UTS #46 would delete or change otherwise (SOFT HYPHEN, ZWSP, a variation
# selector, the ligature fi, SUPERSCRIPT TWO), which must be refused, never applied.
WIDE = "".join(chr(0xFF21 + i) for i in range(26))  # FULLWIDTH LATIN CAPITAL LETTER A..Z
MAPPED_LETTERS = (
    IDN_LETTERS
    + "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÜÉ\u0410\u0411\u0416"
    + WIDE
    + "\uff76\uff9eo\u0308"
    + "\u00ad\u200b\ufe0f\ufb01\u00b2"
)
mapped_label = st.text(MAPPED_LETTERS, min_size=1, max_size=12)
typed_domains = st.builds(
    lambda labels, dots, tld: "".join(a + b for a, b in zip(labels, dots, strict=False)) + tld,
    st.lists(mapped_label, min_size=1, max_size=3),
    st.lists(st.sampled_from([".", "\u3002", "\uff0e", "\uff61"]), min_size=3, max_size=3),
    st.sampled_from(TLDS),
)


def _documented(domain: str) -> str:
    """The documented mappings of a typed domain: width, dots, case, NFC, A-labels."""
    out = []
    for char in domain:
        if char in "\u3002\uff0e\uff61":
            out.append(".")
        elif unicodedata.decomposition(char).startswith(("<wide>", "<narrow>")):
            out.append(unicodedata.normalize("NFKC", char).lower())
        else:
            out.append(char.lower())
    labels = unicodedata.normalize("NFC", "".join(out)).split(".")
    return ".".join(idna.ulabel(label) if label.startswith("xn--") else label for label in labels)


@given(st.builds("{}@{}".format, local_parts, typed_domains))
def test_the_address_differs_from_the_typed_one_only_by_documented_mappings(text: str) -> None:
    address = _outcome(text)
    if isinstance(address, InvalidAddress):
        assert address.reason in REASONS
        return
    typed_local, _, typed_domain = text.rpartition("@")
    assert address.domain == _documented(typed_domain)

    # The local part: NFC and the least quoting, nothing else.
    def content(local: str) -> str:
        if not local.startswith('"'):
            return local
        chars, escaped = [], False
        for char in local[1:-1]:
            if char == "\\" and not escaped:
                escaped = True
                continue
            chars.append(char)
            escaped = False
        return "".join(chars)

    assert content(address.local_part) == unicodedata.normalize("NFC", content(typed_local))
    assert parse_address(address.normalized) == address

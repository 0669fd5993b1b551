"""Properties of smtpcheck._enrich on generated addresses."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from smtpcheck._address import Address, parse_address
from smtpcheck._enrich import POPULAR_DOMAINS, AddressList, enrich, suggest
from smtpcheck._errors import InvalidAddress

LOCAL_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+-_"
DOMAIN_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-.äöüéñ"
ROLES = ["info", "postmaster", "no-reply", "Sales", "ADMIN", "support+x", "john", "jane.doe"]
DOMAINS = [
    *POPULAR_DOMAINS,
    "mailinator.com",
    "eu.mailinator.com",
    "company.example",
    "shop.cmo",
    "bücher.de",
    "yahoo.co.jp",
]


@st.composite
def typo_domains(draw: st.DrawFn) -> str:
    """A popular domain with up to two random edits, or a random domain-like string."""
    if draw(st.booleans()):
        return draw(st.text(DOMAIN_CHARS, min_size=1, max_size=30))
    domain = list(draw(st.sampled_from(POPULAR_DOMAINS)))
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(domain) - 1))
        match draw(st.sampled_from(["delete", "insert", "replace", "swap"])):
            case "delete":
                del domain[at]
            case "insert":
                domain.insert(at, draw(st.sampled_from(DOMAIN_CHARS)))
            case "replace":
                domain[at] = draw(st.sampled_from(DOMAIN_CHARS))
            case _:
                if at + 1 < len(domain):
                    domain[at], domain[at + 1] = domain[at + 1], domain[at]
    return "".join(domain)


locals_ = st.one_of(st.sampled_from(ROLES), st.text(LOCAL_CHARS, min_size=1, max_size=20))


def parsed(local: str, domain: str) -> Address:
    try:
        return parse_address(f"{local}@{domain}", allow_special_use=True)
    except InvalidAddress:
        assume(False)
        raise


@given(locals_, typo_domains())
def test_a_suggestion_is_a_different_valid_address(local: str, domain: str) -> None:
    address = parsed(local, domain)
    suggestion = suggest(address)
    assert suggestion == enrich(address).suggestion
    if suggestion is not None:
        assert suggestion != address.normalized
        again = parse_address(suggestion)  # the defaults: a real, public address
        assert again.local_part == address.local_part
        assert again.ascii_domain != address.ascii_domain
        # A suggestion is final: it needs no further correction.
        assert suggest(again) is None


@given(locals_, st.sampled_from(DOMAINS) | typo_domains())
def test_flags_do_not_depend_on_the_local_parts_case(local: str, domain: str) -> None:
    lower, upper = parsed(local.lower(), domain), parsed(local.upper(), domain)
    a, b = enrich(lower), enrich(upper)
    assert (a.disposable, a.role_account, a.free_provider) == (
        b.disposable,
        b.role_account,
        b.free_provider,
    )
    assert (a.suggestion is None) == (b.suggestion is None)


@given(locals_, st.sampled_from(DOMAINS))
def test_flags_do_not_depend_on_the_domains_case_or_form(local: str, domain: str) -> None:
    address = parsed(local, domain)
    assert enrich(parsed(local, domain.upper())) == enrich(address)
    assert enrich(parsed(local, address.ascii_domain)) == enrich(address)


@given(st.sampled_from(DOMAINS), st.sampled_from(["a", "b.c", "x-y.z"]))
def test_a_sub_domain_of_a_disposable_domain_is_disposable(domain: str, prefix: str) -> None:
    if enrich(parsed("a", domain)).disposable:
        assert enrich(parsed("a", f"{prefix}.{domain}")).disposable


@given(locals_, st.sampled_from(DOMAINS), st.sampled_from(["", "+tag", "+x-1"]))
def test_an_address_entry_matches_whatever_the_case_and_tag(
    local: str, domain: str, tag: str
) -> None:
    assume("+" not in local)
    parsed(local, domain)  # skip local parts that are not valid
    listed = AddressList.of([f"{local}@{domain}"])
    assert listed.matches(parsed(local.swapcase() + tag, domain.upper()))

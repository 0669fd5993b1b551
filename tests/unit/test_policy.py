"""Policy: defaults, derived settings, and every refusal with a clear message."""

from __future__ import annotations

import pytest

from smtpcheck import AddressList, Policy, PolicyError


def test_defaults_are_those_documented() -> None:
    policy = Policy()
    assert (policy.port, policy.tls, policy.mail_from, policy.helo_name) == (
        25,
        "opportunistic",
        "",
        None,
    )
    assert policy.catch_all_probe is True
    assert (policy.implicit, policy.check_certificate) == (False, False)


@pytest.mark.parametrize(
    ("changes", "implicit", "checked"),
    [
        ({"port": 465}, True, True),
        ({"port": 587, "tls": "required"}, False, True),
        ({"port": 2525, "implicit_tls": True}, True, True),
        ({"tls": "required", "verify_certificate": False}, False, False),
        ({"verify_certificate": True}, False, True),
    ],
)
def test_tls_settings(changes: dict[str, object], implicit: bool, checked: bool) -> None:
    policy = Policy(**changes)  # type: ignore[arg-type]
    assert (policy.implicit, policy.check_certificate) == (implicit, checked)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"port": 0}, "port must be 1 to 65535"),
        ({"port": True}, "port must be an int"),
        ({"port": "25"}, "port must be an int"),
        ({"tls": "sometimes"}, "tls must be one of"),
        ({"port": 465, "tls": "off"}, "implicit TLS"),
        ({"timeout": 0}, "timeout must be a positive number"),
        ({"reply_timeout": float("inf")}, "reply_timeout must be a positive number"),
        ({"connect_timeout": "10"}, "connect_timeout must be a number"),
        ({"greylist_delay": None}, "greylist_delay must be a number of seconds"),
        ({"max_mx_hosts": 0}, "at least 1"),
        ({"max_recipients": -1}, "max_recipients must be an int of 0 or more"),
        ({"retries": 1.5}, "retries must be an int"),
        ({"concurrency": 0}, "concurrency and host_concurrency must be at least 1"),
        ({"allow": ["example.com"]}, "allow must be an AddressList"),
        ({"proxy": "http://127.0.0.1:8080"}, "proxy must be a socks5://"),
        ({"helo_name": "bad\r\nname"}, "helo_name must not contain CR, LF or NUL"),
        ({"helo_name": "two words"}, "helo_name must be a host name"),
        ({"helo_name": ""}, "helo_name must be a host name"),
        ({"helo_name": "hötel.example"}, "helo_name must be a host name"),
        ({"mail_from": "not an address"}, "mail_from is not a usable address"),
        ({"mail_from": "jörg@example.net"}, "mail_from must be ASCII"),
        # The wire's own rules (issue 18): what EHLO/HELO and MAIL FROM would refuse in
        # every session is refused once, here.
        ({"helo_name": "a" * 506}, "helo_name must be .* longer than 512"),
        ({"helo_name": "mx." + "a" * 503}, "helo_name must be .* longer than 512"),
        ({"mail_from": "a<b@example.com"}, "mail_from is not a usable address"),
        ({"mail_from": "jo\u200dhn@example.com"}, "mail_from is not a usable address"),
    ],
)
def test_refusals(changes: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        Policy(**changes)  # type: ignore[arg-type]


def test_the_longest_helo_name_the_wire_takes() -> None:
    assert Policy(helo_name="a" * 505).helo_name == "a" * 505  # "EHLO " + 505 + CRLF = 512


@pytest.mark.parametrize(
    ("mail_from", "path"),
    [
        ("", ""),
        ("bounce@verifier.example.net", "bounce@verifier.example.net"),
        ("me@exämple.org", "me@xn--exmple-cua.org"),
        ("me@BÜCHER.example", "me@xn--bcher-kva.example"),
        ('"john doe"@example.org', '"john doe"@example.org'),
        ('"a<b"@example.com', '"a<b"@example.com'),  # sendable inside the quotes
    ],
)
def test_reverse_path_is_what_mail_from_sends(mail_from: str, path: str) -> None:
    assert Policy(mail_from=mail_from).reverse_path == path
    assert Policy(mail_from=mail_from).replace(port=587).reverse_path == path


def test_replace_validates_again() -> None:
    policy = Policy(mail_from="bounce@verifier.example.net", helo_name="[192.0.2.7]")
    assert policy.replace(port=587).mail_from == "bounce@verifier.example.net"
    with pytest.raises(PolicyError):
        policy.replace(port=70000)


def test_lists_are_address_lists() -> None:
    policy = Policy(allow=AddressList.of(["example.net"]))
    assert len(policy.allow) == 1
    assert len(policy.deny) == 0

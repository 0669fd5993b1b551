"""For any text and any valid Policy, verify() against the sandbox returns a Result.

The sandbox world (:meth:`smtpcheck.testing.MailWorld.default`, plus servers that answer
out of step or in Latin-1) runs on loopback for the whole module; Hypothesis draws the
text to verify and the Policy. The property: a Result for that text, never an exception,
with text a caller can print (issue 18).
"""

from __future__ import annotations

import string
from collections.abc import Iterator

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

import smtpcheck
from smtpcheck import Policy, PolicyError, Result, Verdict
from smtpcheck.testing import MailWorld, RawScript
from smtpcheck.testing._catalogue import DEFAULT_RAW_SERVERS, DEFAULT_SERVERS

# Servers that would make a verification wait its whole budget are left out, to keep the
# run short; the budget itself is tested elsewhere.
SLOW = {"tarpit.test", "silent.test", "endless.test"}
HOSTILE = {
    "outofstep.test": RawScript(
        greeting=b"220 mx ESMTP\r\n",
        replies=(b"250 mx\r\n", b"250 Ok\r\n250 Ok\r\n"),
        reply=b"550 5.1.1 no\r\n",
    ),
    "latin1.test": RawScript(
        greeting=b"220 mx \xe9t\xe9\r\n",
        replies=(b"250-mx\r\n250 PIPELINING\r\n", b"250 Ok\r\n"),
        reply=b"550 5.1.1 Empf\xe4nger unbekannt\r\n",
    ),
}
DOMAINS = sorted(
    ({d for d, _, _ in DEFAULT_SERVERS} | {d for d, _ in DEFAULT_RAW_SERVERS} | set(HOSTILE)) - SLOW
)
LOCALS = ["alice", "bob", "jörg", "Alice", '"a b"', '"a<b"', "a\u200db", "x" * 64, "ü" * 30]


@pytest.fixture(scope="module")
def world() -> Iterator[MailWorld]:
    world = MailWorld.default()
    for domain, script in HOSTILE.items():
        world.add_raw_server(f"mx.{domain}", script, domains=[domain])
    with world:
        yield world


ATEXT = string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~"
at_the_sandbox = st.builds(
    "{}@{}".format,
    st.sampled_from(LOCALS) | st.text(ATEXT + "äö€😀\u200d\u200c", min_size=1, max_size=20),
    st.sampled_from(DOMAINS),
)
addresses = st.sampled_from(range(5)).flatmap(
    lambda n: (
        [
            st.builds("{}@{}".format, st.sampled_from(LOCALS), st.text(max_size=20)),
            st.text(max_size=80),
        ][n]
        if n < 2
        else at_the_sandbox
    )
)


def mostly(
    valid: st.SearchStrategy[str], invalid: st.SearchStrategy[str]
) -> st.SearchStrategy[str]:
    """Usually *valid*; now and then a value the wire refuses (Policy must refuse it)."""
    return st.sampled_from([True] * 8 + [False]).flatmap(lambda ok: valid if ok else invalid)


host_names = mostly(
    st.sampled_from(["verifier.example.net", "[127.0.0.1]", "a" * 505, "x", "a.b"]),
    st.just("a" * 506) | st.text(max_size=20),
)
senders = mostly(
    st.sampled_from(["", "me@bücher.example", "bounce@example.net", '"john doe"@x.org']),
    st.just("a<b@example.org") | st.text(max_size=20),
)
policies = st.fixed_dictionaries(
    {
        "tls": st.sampled_from(["opportunistic", "required", "off"]),
        "helo_name": host_names,
        "mail_from": senders,
        "catch_all_probe": st.booleans(),
        "max_recipients": st.integers(1, 5),
        "timeout": st.floats(0.2, 1.5),
        "reply_timeout": st.none() | st.floats(0.1, 1.5),
        "connect_timeout": st.none() | st.floats(0.1, 1.5),
        "dns_timeout": st.floats(0.2, 1.5),
        "transcript": st.booleans(),
        "allow_single_label": st.booleans(),
        "allow_domain_literal": st.booleans(),
        "disposable_undeliverable": st.booleans(),
    },
)


HELO = {"helo_name": "verifier.example.net", "timeout": 1.5}


# The inputs that broke the property before issue 18, always tried first.
@example(text="alice@latin1.test", settings_={**HELO, "transcript": True})
@example(text="alice@ok.test", settings_={**HELO, "helo_name": "a" * 506})
@example(text="alice@ok.test", settings_={**HELO, "mail_from": "me@bücher.example"})
@example(text="alice@ok.test", settings_={**HELO, "mail_from": '"a<b"@example.org'})
@example(text='"a<b"@ok.test', settings_=HELO)
@example(text="a\u200db@ok.test", settings_=HELO)
@example(text="alice@outofstep.test", settings_=HELO)
@given(text=addresses, settings_=policies)
def test_verify_always_returns_a_result(
    world: MailWorld, text: str, settings_: dict[str, object]
) -> None:
    try:
        policy = Policy(allow_special_use=True, **settings_)  # type: ignore[arg-type]
    except PolicyError:
        event("PolicyError")  # a value the wire refuses: refused here, once
        return
    result = smtpcheck.verify(text, policy=policy, resolver=world.resolver)
    event(result.reason.value)
    assert isinstance(result, Result)
    assert result.address == text
    assert result.verdict in Verdict
    # Text a caller can print: no lone surrogate anywhere the server had a say.
    str(result.reply).encode("utf-8")
    (result.detail or "").encode("utf-8")
    for line in result.transcript:
        line.text.encode("utf-8")

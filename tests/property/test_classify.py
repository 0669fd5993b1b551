"""smtpcheck._classify: properties that hold for any reply at any phase."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smtpcheck._classify import Classification, Phase, classify_recipient, classify_reply
from smtpcheck._result import Reason, Verdict
from smtpcheck.protocol import Reply

# The reasons each verdict may carry (DESIGN.md's table, as far as replies can tell).
ALLOWED = {
    Verdict.DELIVERABLE: {Reason.ACCEPTED},
    Verdict.UNDELIVERABLE: {Reason.MAILBOX_NOT_FOUND, Reason.MAILBOX_DISABLED},
    Verdict.RISKY: {Reason.CATCH_ALL, Reason.MAILBOX_FULL},
    Verdict.UNKNOWN: {
        Reason.GREYLISTED,
        Reason.BLOCKED,
        Reason.TLS_FAILED,
        Reason.POLICY_REJECTED,
        Reason.SMTPUTF8_UNSUPPORTED,
        Reason.RATE_LIMITED,
        Reason.TEMPORARY_FAILURE,
        Reason.PROTOCOL_ERROR,
        Reason.UNRECOGNIZED_REPLY,
    },
}

# Words that point at the mailbox, so that the rules are exercised, not only the defaults.
MAILBOX_WORDS = [
    "User unknown",
    "No such user!",
    "does not exist",
    "mailbox unavailable",
    "Recipient address rejected:",
    "Access denied",
    "account is disabled",
    "over quota",
    "receiving mail at a rate",
    "Invalid recipient",
    "try again later",
    "Greylisted",
    "relay=[192.0.2.7]",
    "MY.IP:",
    "blocked due to inactivity",
    "User suspended",
    "account is locked",
    "Refused due to recipient preferences",
    "Mailbox unavailable or access denied",
    "user has too many messages on the server",
    "Bad address syntax",
    "does no exists",
    "banned recipient",
    "用户帐号已被冻结",
]
# Words that say the refusal is aimed at us.
ABOUT_US_WORDS = [
    "blocked using zen.spamhaus.org",
    "listed in Spamhaus",
    "Client host [192.0.2.7] blocked",
    "banned sending IP [192.0.2.7]",
    "your IP address is on our block list",
    "found on one or more DNSBLs",
    "IP address is block listed",
    "Blacklisted",
    "blocklisted",
]

phases = st.sampled_from(Phase)
enhanced = st.builds(
    "{}.{}.{} ".format,
    st.sampled_from("245"),
    st.integers(0, 12),
    st.integers(0, 12),
)
words = st.one_of(st.sampled_from(MAILBOX_WORDS), st.text(max_size=30))
any_code = st.integers(200, 599)
nothing = st.just("")


@st.composite
def replies(
    draw: st.DrawFn,
    codes: st.SearchStrategy[int] = any_code,
    extra: st.SearchStrategy[str] = nothing,
) -> Reply:
    code = draw(codes)
    lines = draw(st.lists(st.lists(words, max_size=4).map(" ".join), min_size=1, max_size=3))
    prefix = draw(st.one_of(st.just(""), st.just(f"{code // 100}.1.1 "), enhanced))
    lines[0] = prefix + lines[0]
    at = draw(st.integers(0, len(lines) - 1))
    lines[at] = f"{lines[at]} {draw(extra)}"
    return Reply(code, tuple(lines))


@given(phases, replies())
def test_never_raises_and_pairs_follow_the_design(phase: Phase, reply: Reply) -> None:
    c = classify_reply(phase, reply)
    assert isinstance(c, Classification)
    assert c.reason in ALLOWED[c.verdict]


@given(st.sampled_from([p for p in Phase if p is not Phase.RCPT]), replies())
def test_only_rcpt_speaks_about_the_mailbox(phase: Phase, reply: Reply) -> None:
    assert classify_reply(phase, reply).verdict is Verdict.UNKNOWN


@given(phases, replies(codes=st.integers(400, 599), extra=st.sampled_from(ABOUT_US_WORDS)))
def test_about_us_is_never_undeliverable(phase: Phase, reply: Reply) -> None:
    assert classify_reply(phase, reply) == Classification(Verdict.UNKNOWN, Reason.BLOCKED)


@given(phases, replies(codes=st.integers(400, 499)))
def test_a_4xx_is_never_undeliverable(phase: Phase, reply: Reply) -> None:
    # A transient reply is never final; a full mailbox (risky) is the only non-unknown.
    c = classify_reply(phase, reply)
    assert c.verdict is Verdict.UNKNOWN or c == Classification(Verdict.RISKY, Reason.MAILBOX_FULL)


@given(replies(codes=st.integers(200, 299)))
def test_a_2xx_to_rcpt_accepts(reply: Reply) -> None:
    assert classify_reply(Phase.RCPT, reply) == Classification(Verdict.DELIVERABLE, Reason.ACCEPTED)


@given(replies(), st.one_of(st.none(), replies()))
def test_recipient_deliverable_only_when_a_random_one_is_refused(
    real: Reply, probe: Reply | None
) -> None:
    c, catch_all = classify_recipient(real, probe, probed=True)
    if c.verdict is Verdict.DELIVERABLE:
        assert catch_all is False
    if catch_all is True:
        assert c.verdict is not Verdict.DELIVERABLE


@given(replies(codes=st.integers(300, 599)), st.one_of(st.none(), replies()), st.booleans())
def test_a_refused_recipient_is_decided_by_its_own_reply(
    real: Reply, probe: Reply | None, probed: bool
) -> None:
    c, _ = classify_recipient(real, probe if probed else None, probed=probed)
    assert c == classify_reply(Phase.RCPT, real)


@given(replies())
def test_without_probing_catch_all_is_unknown(real: Reply) -> None:
    c, catch_all = classify_recipient(real, None, probed=False)
    assert catch_all is None
    assert c == classify_reply(Phase.RCPT, real)

"""Servers that answer out of step, in a legacy charset or too slowly (issue 18).

Raw scripted servers (:class:`~smtpcheck.testing.RawScript`) on loopback, both drivers:
a reply is paired only with the command that asked for it, reply text can always be
printed, and ``reply_timeout`` bounds a whole reply.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable

import pytest

import smtpcheck
from smtpcheck import Policy, Reason, Result, Verdict
from smtpcheck.testing import MailWorld, RawScript

V, R = Verdict, Reason
POLICY = Policy(allow_special_use=True, helo_name="verifier.example.net", timeout=10.0)

GREETING = b"220 mx.evil.test ESMTP\r\n"
PLAIN_EHLO = b"250-mx.evil.test\r\n250 8BITMIME\r\n"
PIPELINING_EHLO = b"250-mx.evil.test\r\n250 PIPELINING\r\n"
MAIL_OK = b"250 2.1.0 Ok\r\n"
NO_SUCH_USER = b"550 5.1.1 User unknown\r\n"


def run_sync(address: str, world: MailWorld, policy: Policy) -> Result:
    return smtpcheck.verify(address, policy=policy, resolver=world.resolver)


def run_async(address: str, world: MailWorld, policy: Policy) -> Result:
    return asyncio.run(smtpcheck.averify(address, policy=policy, resolver=world.resolver))


DRIVERS = pytest.mark.parametrize("run", [run_sync, run_async], ids=["sync", "async"])
Runner = Callable[[str, MailWorld, Policy], Result]


def world_of(script: RawScript) -> MailWorld:
    return MailWorld().add_raw_server("mx.evil.test", script, domains=["evil.test"])


@DRIVERS
@pytest.mark.parametrize(
    ("script", "sent_before"),
    [
        pytest.param(
            # MAIL answered twice: the second 250 would be taken as alice's answer, and
            # a server that refuses every recipient would look like a deliverable one.
            RawScript(greeting=GREETING, replies=(PLAIN_EHLO, MAIL_OK * 2), reply=NO_SUCH_USER),
            "RcptTo",
            id="extra-250-after-mail",
        ),
        pytest.param(
            RawScript(greeting=GREETING + PLAIN_EHLO + MAIL_OK + NO_SUCH_USER * 2 + b"221 Bye\r\n"),
            "Ehlo",
            id="every-reply-at-once",
        ),
    ],
)
def test_replies_before_their_command_are_a_protocol_error(
    run: Runner, script: RawScript, sent_before: str
) -> None:
    with world_of(script) as world:
        result = run("alice@evil.test", world, POLICY)
    assert (result.verdict, result.reason) == (V.UNKNOWN, R.PROTOCOL_ERROR)
    assert result.detail is not None
    assert f"reply received before {sent_before} was sent" in result.detail
    assert result.reply is None


@DRIVERS
def test_pipelined_replies_beyond_the_commands_are_a_protocol_error(run: Runner) -> None:
    script = RawScript(
        greeting=GREETING, replies=(PIPELINING_EHLO, MAIL_OK * 2), reply=NO_SUCH_USER
    )
    with world_of(script) as world:
        result = run("alice@evil.test", world, POLICY)
    assert (result.verdict, result.reason) == (V.UNKNOWN, R.PROTOCOL_ERROR)
    assert result.detail is not None
    assert "out of step" in result.detail or "no command pending" in result.detail


@DRIVERS
@pytest.mark.parametrize("ehlo", [PLAIN_EHLO, PIPELINING_EHLO], ids=["plain", "pipelining"])
def test_a_server_answering_in_step_is_believed(run: Runner, ehlo: bytes) -> None:
    # The same bytes, one reply per command: nothing about the checks above refuses it.
    script = RawScript(
        greeting=GREETING,
        replies=(ehlo, MAIL_OK, b"250 2.1.5 Ok\r\n", NO_SUCH_USER, b"221 2.0.0 Bye\r\n"),
    )
    with world_of(script) as world:
        result = run("alice@evil.test", world, POLICY)
    assert (result.verdict, result.reason, result.catch_all) == (V.DELIVERABLE, R.ACCEPTED, False)


@DRIVERS
def test_reply_text_in_latin_1_can_be_printed(run: Runner) -> None:
    script = RawScript(
        greeting=GREETING,
        replies=(PLAIN_EHLO, MAIL_OK, b"550 5.1.1 Empf\xe4nger unbekannt\r\n"),
        reply=b"221 2.0.0 Bye\r\n",
    )
    with world_of(script) as world:
        result = run("nobody@evil.test", world, POLICY.replace(transcript=True))
    assert result.reason is R.MAILBOX_NOT_FOUND
    assert result.reply is not None
    assert result.reply.text == "Empfänger unbekannt"
    strict = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    print(result.reply, result.to_dict(), file=strict)
    for line in result.transcript:
        line.text.encode("utf-8")
    # The transcript shows the bytes as they came.
    assert any(line.text == r"550 5.1.1 Empf\xe4nger unbekannt" for line in result.transcript)


@DRIVERS
def test_reply_timeout_bounds_a_whole_trickled_reply(run: Runner) -> None:
    # One byte every 0.2 s: every read is quick, the 24-byte greeting takes 4.8 s.
    script = RawScript(greeting=GREETING, reply=MAIL_OK, trickle=0.2)
    with world_of(script) as world:
        started = time.monotonic()
        result = run("alice@evil.test", world, POLICY.replace(reply_timeout=1.0))
        elapsed = time.monotonic() - started
    assert (result.verdict, result.reason) == (V.UNKNOWN, R.TIMEOUT)
    assert result.detail == "no reply in time (reply_timeout, 1 s, bounds each whole reply)"
    assert elapsed < 4.0  # 1 s and the machine's load; per read it would be 10 s

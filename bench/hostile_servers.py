"""Issue 18's figures: servers that answer out of step, in Latin-1, or trickle bytes.

    python bench/hostile_servers.py [extra atonce pipelined latin1 trickle policy]

Prints each verification's verdict, reason and detail (and elapsed time for the
trickling server, ``reply_timeout=2`` with a 60 s budget), on both drivers.
"""

from __future__ import annotations

import asyncio
import io
import sys
import time

import smtpcheck
from smtpcheck import Policy, Result
from smtpcheck.testing import MailWorld, RawScript

POLICY = Policy(
    allow_special_use=True, helo_name="verifier.example.net", timeout=20.0, reply_timeout=2.0
)
GREETING = b"220 mx ESMTP\r\n"
EHLO = b"250 mx.evil.test\r\n"
NO = b"550 5.1.1 no such user\r\n"
SCRIPTS = {
    "extra": RawScript(greeting=GREETING, replies=(EHLO, b"250 ok\r\n" * 2), reply=NO),
    "atonce": RawScript(greeting=GREETING + EHLO + b"250 ok\r\n" + NO * 2 + b"221 bye\r\n"),
    "pipelined": RawScript(
        greeting=GREETING, replies=(b"250-mx\r\n250 PIPELINING\r\n", b"250 ok\r\n" * 2), reply=NO
    ),
    "latin1": RawScript(
        greeting=GREETING,
        replies=(EHLO, b"250 ok\r\n", b"550 5.1.1 Empf\xe4nger unbekannt\r\n"),
        reply=b"221 bye\r\n",
    ),
    "trickle": RawScript(greeting=GREETING, replies=(EHLO, b"250 ok\r\n"), reply=NO, trickle=0.5),
}


def show(tag: str, result: Result, elapsed: float) -> None:
    print(f"{tag}: {result.verdict.value}/{result.reason.value} reply={result.reply}")
    print(f"    detail={result.detail!r} elapsed={elapsed:.1f}s")
    try:
        strict = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
        print(result.reply, file=strict)
    except UnicodeError as error:
        print(f"    printing the reply raises {type(error).__name__}: {error}")


def servers(names: list[str]) -> None:
    for name in names:
        policy = POLICY.replace(timeout=60.0) if name == "trickle" else POLICY
        world = MailWorld().add_raw_server("mx.evil.test", SCRIPTS[name], domains=["evil.test"])
        with world:
            for driver in ("sync", "async"):
                started = time.monotonic()
                if driver == "sync":
                    result = smtpcheck.verify(
                        "alice@evil.test", policy=policy, resolver=world.resolver
                    )
                else:
                    ask = smtpcheck.averify(
                        "alice@evil.test", policy=policy, resolver=world.resolver
                    )
                    result = asyncio.run(ask)
                show(f"{name} {driver}", result, time.monotonic() - started)


def policies() -> None:
    for changes in ({"helo_name": "a" * 506}, {"mail_from": "me@exämple.org"}):
        try:
            policy = Policy(allow_special_use=True, **changes)  # type: ignore[arg-type]
        except smtpcheck.PolicyError as error:
            print(f"policy {str(changes)[:30]}: PolicyError {error}")
            continue
        world = MailWorld().add_server("mx.ok.test", domains=["ok.test"], mailboxes=["alice"])
        with world:
            try:
                result = smtpcheck.verify("alice@ok.test", policy=policy, resolver=world.resolver)
            except smtpcheck.SMTPCheckError as error:
                print(f"policy {str(changes)[:30]}: verify raised {type(error).__name__}: {error}")
                continue
            show(f"policy {str(changes)[:30]}", result, 0.0)


if __name__ == "__main__":
    chosen = sys.argv[1:] or [*SCRIPTS, "policy"]
    servers([name for name in chosen if name in SCRIPTS])
    if "policy" in chosen:
        policies()

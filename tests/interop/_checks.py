"""The checks every real MTA goes through; test_postfix.py and test_exim.py call them.

Each MTA knows the mailboxes of ``MAILBOXES`` at its domain, rejects every other local
part at RCPT time, folds case, and accepts ``box+tag`` for a known ``box``.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import smtpcheck
from smtpcheck import Reason, Result, Verdict
from smtpcheck._sync import drive
from smtpcheck._verifier import plan_domain

from .conftest import BULK_SIZE, HELO, MAILBOXES, MTA, make_policy


def transcript(result: Result) -> str:
    """The transcript as text, for assertion messages."""
    return "\n".join(f"{line.direction} {line.text}" for line in result.transcript)


def explain(result: Result, mta: MTA) -> str:
    return (
        f"{result.address}: {result.verdict.value}/{result.reason.value} {result.reply} "
        f"({result.detail})\n{transcript(result)}\n--- {mta.version} log ---\n{mta.log()[-1500:]}"
    )


def verify(mta: MTA, local: str, resolver: smtpcheck.Resolver, **policy: Any) -> Result:
    return smtpcheck.verify(
        f"{local}@{mta.domain}", policy=make_policy(mta, **policy), resolver=resolver
    )


def check_existing(mta: MTA, resolver: smtpcheck.Resolver) -> None:
    result = verify(mta, "alice", resolver)
    assert result.verdict is Verdict.DELIVERABLE, explain(result, mta)
    assert result.reason is Reason.ACCEPTED
    assert result.catch_all is False
    assert result.mx == mta.mx
    assert result.reply is not None
    assert result.reply.code == 250
    sent = [line.text for line in result.transcript if line.direction == ">"]
    assert "DATA" not in sent
    assert sent[-1] == "QUIT"


def check_missing(mta: MTA, resolver: smtpcheck.Resolver, expected_text: str) -> None:
    result = verify(mta, "nobody", resolver)
    assert result.verdict is Verdict.UNDELIVERABLE, explain(result, mta)
    assert result.reason is Reason.MAILBOX_NOT_FOUND
    assert result.reply is not None
    assert result.reply.code == 550
    # The server's own words, as it said them in the session.
    assert expected_text in result.reply.text, explain(result, mta)
    received = [line.text for line in result.transcript if line.direction == "<"]
    assert any(expected_text in text for text in received)


def check_upper_case(mta: MTA, resolver: smtpcheck.Resolver) -> None:
    for local in ("ALICE", "Carol.Jones"):
        result = verify(mta, local, resolver)
        assert result.verdict is Verdict.DELIVERABLE, explain(result, mta)
        # Reported as given: smtpcheck folds no local part's case itself.
        assert result.address == f"{local}@{mta.domain}"
        assert f"RCPT TO:<{local}@{mta.domain}>" in transcript(result)


def check_subaddress(mta: MTA, resolver: smtpcheck.Resolver) -> None:
    result = verify(mta, "alice+newsletter", resolver)
    assert result.verdict is Verdict.DELIVERABLE, explain(result, mta)
    result = verify(mta, "nobody+newsletter", resolver)
    assert result.verdict is Verdict.UNDELIVERABLE, explain(result, mta)
    assert result.reason is Reason.MAILBOX_NOT_FOUND


def check_starttls_required(mta: MTA, resolver: smtpcheck.Resolver, ca_file: str) -> None:
    result = verify(mta, "alice", resolver, tls="required", ca_file=ca_file)
    assert result.verdict is Verdict.DELIVERABLE, explain(result, mta)
    lines = transcript(result)
    assert "> STARTTLS" in lines
    assert "* TLS started" in lines
    # EHLO again after the handshake, and the recipients only after it.
    assert lines.index("* TLS started") < lines.index("> MAIL FROM:<>")


def check_starttls_untrusted(mta: MTA, resolver: smtpcheck.Resolver) -> None:
    """A certificate we do not trust: required TLS fails, and says nothing of the mailbox."""
    result = verify(mta, "alice", resolver, tls="required")
    assert result.verdict is Verdict.UNKNOWN, explain(result, mta)
    assert result.reason is Reason.TLS_FAILED
    assert "> MAIL FROM:<>" not in transcript(result)


def bulk_addresses(mta: MTA) -> dict[str, Verdict]:
    """Mostly missing mailboxes, so every session runs into the server's limits."""
    expected: dict[str, Verdict] = {}
    for i in range(BULK_SIZE):
        if i % 4 == 0:
            box = MAILBOXES[(i // 4) % len(MAILBOXES)]
            expected[f"{box}+bulk{i}@{mta.domain}"] = Verdict.DELIVERABLE
        else:
            expected[f"missing{i:03d}@{mta.domain}"] = Verdict.UNDELIVERABLE
    return expected


def run_bulk(
    addresses: Sequence[str], policy: smtpcheck.Policy, resolver: smtpcheck.Resolver
) -> list[Result]:
    """verify_many when it exists; else the domain plan it is built on, driven directly."""
    verify_many: Callable[..., Iterable[Result]] | None = getattr(smtpcheck, "verify_many", None)
    if verify_many is not None:
        return list(verify_many(addresses, policy=policy, resolver=resolver))
    items = [(a, smtpcheck.parse_address(a, allow_special_use=True)) for a in addresses]
    steps = plan_domain(items, policy=policy, helo_name=HELO, clock=time.monotonic)
    return drive(steps, policy=policy, resolver=resolver).results


def bulk(
    mta: MTA, resolver: smtpcheck.Resolver, **policy: Any
) -> tuple[dict[str, Verdict], list[Result], float]:
    """Verify bulk_addresses(mta); check that each gets exactly one result, none wrong.

    "Wrong" is the cardinal sin of DESIGN.md: a real mailbox called undeliverable, or a
    missing one called deliverable. An ``unknown`` is not wrong; check_bulk forbids it.
    """
    expected = bulk_addresses(mta)
    started = time.monotonic()
    results = run_bulk(list(expected), make_policy(mta, timeout=60, **policy), resolver)
    elapsed = time.monotonic() - started
    counts = Counter(r.address for r in results)
    assert sorted(counts) == sorted(expected), "lost or invented addresses"
    assert [a for a, n in counts.items() if n != 1] == [], "repeated results"
    wrong = [
        r
        for r in results
        if r.verdict in (Verdict.DELIVERABLE, Verdict.UNDELIVERABLE)
        and r.verdict is not expected[r.address]
    ]
    assert wrong == [], "\n\n".join(explain(r, mta) for r in wrong[:3])
    return expected, results, elapsed


def check_bulk(mta: MTA, resolver: smtpcheck.Resolver, **policy: Any) -> tuple[list[Result], float]:
    """Every address gets exactly one result, the right one, across the server's limits."""
    expected, results, elapsed = bulk(mta, resolver, **policy)
    unsettled = [r for r in results if r.verdict is not expected[r.address]]
    assert unsettled == [], "\n\n".join(explain(r, mta) for r in unsettled[:2])
    return results, elapsed


def check_async_driver(mta: MTA, resolver: smtpcheck.Resolver, ca_file: str) -> None:
    """The asyncio driver gets the same answers, STARTTLS included."""

    async def both() -> tuple[Result, Result]:
        policy = make_policy(mta, tls="required", ca_file=ca_file)
        found = await smtpcheck.averify(f"alice@{mta.domain}", policy=policy, resolver=resolver)
        missing = await smtpcheck.averify(f"nobody@{mta.domain}", policy=policy, resolver=resolver)
        return found, missing

    found, missing = asyncio.run(both())
    assert found.verdict is Verdict.DELIVERABLE, explain(found, mta)
    assert missing.verdict is Verdict.UNDELIVERABLE, explain(missing, mta)
    assert missing.reason is Reason.MAILBOX_NOT_FOUND
    assert "* TLS started" in transcript(found)

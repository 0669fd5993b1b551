"""Verification through a SOCKS5 proxy (Policy.proxy), with a real proxy on loopback.

The proxy is Debian's microsocks, started by the test on a free port; the tests skip
when it is not installed (``apt-get install microsocks``; ``.ci/run`` installs it).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

import smtpcheck
from smtpcheck import Policy, PolicyError, Reason, Verdict
from smtpcheck.testing import MailWorld

MICROSOCKS = shutil.which("microsocks")
pytestmark = pytest.mark.skipif(
    MICROSOCKS is None, reason="needs microsocks: apt-get install microsocks"
)

POLICY = Policy(allow_special_use=True, helo_name="verifier.example.net", timeout=5.0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def proxy() -> Iterator[str]:
    assert MICROSOCKS is not None
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - a fixed local binary
        [MICROSOCKS, "-i", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
        yield f"socks5://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def test_verify_through_the_proxy(mail_world: MailWorld, proxy: str) -> None:
    policy = POLICY.replace(proxy=proxy)
    result = smtpcheck.verify("alice@ok.test", policy=policy, resolver=mail_world.resolver)
    assert (result.verdict, result.reason) == (Verdict.DELIVERABLE, Reason.ACCEPTED)
    result = asyncio.run(
        smtpcheck.averify("nobody@ok.test", policy=policy, resolver=mail_world.resolver)
    )
    assert (result.verdict, result.reason) == (Verdict.UNDELIVERABLE, Reason.MAILBOX_NOT_FOUND)
    assert mail_world.stats("mx.ok.test").connections == 2


def test_starttls_through_the_proxy(mail_world: MailWorld, proxy: str) -> None:
    policy = POLICY.replace(proxy=proxy)
    for outcome in (
        smtpcheck.verify("alice@tls.test", policy=policy, resolver=mail_world.resolver),
        asyncio.run(
            smtpcheck.averify("alice@tls.test", policy=policy, resolver=mail_world.resolver)
        ),
    ):
        assert outcome.verdict is Verdict.DELIVERABLE
    assert all(c.tls for c in mail_world.commands("mx.tls.test") if c.verb == "MAIL")


def test_a_target_the_proxy_cannot_reach(mail_world: MailWorld, proxy: str) -> None:
    policy = POLICY.replace(proxy=proxy)
    for outcome in (
        smtpcheck.verify("alice@dead.test", policy=policy, resolver=mail_world.resolver),
        asyncio.run(
            smtpcheck.averify("alice@dead.test", policy=policy, resolver=mail_world.resolver)
        ),
    ):
        assert (outcome.verdict, outcome.reason) == (Verdict.UNKNOWN, Reason.CONNECTION_FAILED)
        assert outcome.detail is not None
        assert "proxy" in outcome.detail


def test_a_proxy_that_is_not_there(mail_world: MailWorld) -> None:
    policy = POLICY.replace(proxy=f"socks5://127.0.0.1:{free_port()}")
    result = smtpcheck.verify("alice@ok.test", policy=policy, resolver=mail_world.resolver)
    assert (result.verdict, result.reason) == (Verdict.UNKNOWN, Reason.CONNECTION_FAILED)


def test_only_socks_urls() -> None:
    with pytest.raises(PolicyError, match="socks5"):
        Policy(proxy="http://127.0.0.1:8080")

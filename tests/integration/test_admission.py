"""Admission through the real drivers: slots given back whatever happens, bugs named."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time

import pytest

import smtpcheck
from smtpcheck import Policy, Reason, Verdict
from smtpcheck._admission import Admit, Admitted, Release
from smtpcheck._async import drive as adrive
from smtpcheck._gates import Gates, ThreadGates
from smtpcheck._mailhosts import DomainStatus, MailHost, MailHosts
from smtpcheck._sync import drive
from smtpcheck._verifier import plan

POLICY = Policy(allow_special_use=True, helo_name="client.example.net", timeout=10.0)


class OneHost:
    """Every domain's mail goes to one loopback port."""

    def __init__(self, port: int) -> None:
        self.port = port

    def mail_hosts(self, ascii_domain: str, **_: object) -> MailHosts:
        host = MailHost(
            name="mx.example.test", preference=0, addresses=("127.0.0.1",), port=self.port
        )
        return MailHosts(domain=ascii_domain, status=DomainStatus.OK, hosts=(host,))

    async def amail_hosts(self, ascii_domain: str, **kwargs: object) -> MailHosts:
        return self.mail_hosts(ascii_domain, **kwargs)


class Recording(ThreadGates):
    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        self.released: list[Release] = []

    def release(self, request: Release) -> None:
        self.released.append(request)
        super().release(request)


def test_a_plan_abandoned_mid_conversation_gives_its_slot_back() -> None:
    async def main() -> None:
        connected = asyncio.Event()

        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            connected.set()
            await reader.read()  # never greets
            writer.close()

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        gates = Gates(POLICY)
        steps = plan(
            "alice@example.test", policy=POLICY, helo_name="c.example", clock=time.monotonic
        )
        task = asyncio.create_task(
            adrive(steps, policy=POLICY, resolver=OneHost(port), admission=gates)
        )
        await connected.wait()
        assert ("127.0.0.1", port) in gates.hosts  # held while talking
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert gates.hosts == {}
        assert isinstance(await gates.admit(Admit("mx", "127.0.0.1", port)), Admitted)
        server.close()
        await server.wait_closed()

    asyncio.run(main())


def test_the_blocking_driver_releases_with_the_lesson() -> None:
    # A server that greets with a 421 rate limit: refused, and the lesson says so.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(b"421 4.7.0 Too many connections, try again later\r\n")
            conn.recv(100)

    thread = threading.Thread(target=serve)
    thread.start()
    gates = Recording(POLICY)
    steps = plan("alice@example.test", policy=POLICY, helo_name="c.example", clock=time.monotonic)
    result = drive(steps, policy=POLICY, resolver=OneHost(port), admission=gates)
    thread.join()
    listener.close()
    assert result.verdict is Verdict.UNKNOWN
    [release] = gates.released
    assert release.lesson.rate_limited is True
    assert gates.hosts == {}
    assert gates.book.wait(("127.0.0.1", port)) > 0  # backed off


def test_a_bug_of_ours_is_an_internal_error_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken:
        def mail_hosts(self, ascii_domain: str, **_: object) -> MailHosts:
            return None  # type: ignore[return-value]  # breaks the plan

        async def amail_hosts(self, ascii_domain: str, **_: object) -> MailHosts:
            return None  # type: ignore[return-value]

    with caplog.at_level(logging.ERROR, logger="smtpcheck"):
        result = smtpcheck.verify("alice@example.test", policy=POLICY, resolver=Broken())
        aresult = asyncio.run(
            smtpcheck.averify("alice@example.test", policy=POLICY, resolver=Broken())
        )
    for found in (result, aresult):
        assert (found.verdict, found.reason) == (Verdict.UNKNOWN, Reason.INTERNAL_ERROR)
        assert "a bug" in (found.detail or "")
    records = [r for r in caplog.records if r.name == "smtpcheck"]
    assert len(records) == 2
    assert all(r.exc_info is not None for r in records)

"""smtpcheck.testing: each behaviour of the mail world, talked to with smtplib."""

from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl
import time
from collections.abc import Iterator

import pytest

from smtpcheck import DomainStatus, testing
from smtpcheck.testing import (
    TLS,
    Behaviour,
    Block,
    MailWorld,
    ManualClock,
    RawScript,
    ReplyStyle,
)

pytest_plugins = ("pytester",)

PROBE = "probe@client.test"


@pytest.fixture(scope="module")
def world() -> Iterator[MailWorld]:
    with MailWorld.default() as started:
        yield started


def client(world: MailWorld, server: str, timeout: float = 5) -> smtplib.SMTP:
    host, port = world.address(server)
    smtp = smtplib.SMTP(host, port, local_hostname="client.test", timeout=timeout)
    smtp.ehlo()
    return smtp


def rcpt(world: MailWorld, domain: str, *locals_: str) -> list[tuple[int, bytes]]:
    with client(world, f"mx.{domain}") as smtp:
        assert smtp.mail(PROBE)[0] == 250
        return [smtp.rcpt(f"{local}@{domain}") for local in locals_]


def one(behaviour: Behaviour, *, clock: ManualClock | None = None) -> MailWorld:
    return MailWorld(clock=clock).add_server(
        "mx.one.test", domains=["one.test"], mailboxes=["alice"], behaviour=behaviour
    )


# -- behaviours ----------------------------------------------------------------------------


def test_normal_server_knows_its_mailboxes(world: MailWorld) -> None:
    known, unknown = rcpt(world, "ok.test", "alice", "nobody")
    assert known == (250, b"2.1.5 Ok")
    assert unknown == (
        550,
        (
            b"5.1.1 <nobody@ok.test>: Recipient address rejected: "
            b"User unknown in virtual mailbox table"
        ),
    )


def test_normal_server_refuses_relaying(world: MailWorld) -> None:
    with client(world, "mx.ok.test") as smtp:
        smtp.mail(PROBE)
        assert smtp.rcpt("alice@elsewhere.test") == (
            554,
            b"5.7.1 <alice@elsewhere.test>: Relay access denied",
        )


def test_ehlo_advertises_what_real_servers_do(world: MailWorld) -> None:
    with client(world, "mx.ok.test") as smtp:
        for extension in ("pipelining", "enhancedstatuscodes", "smtputf8", "8bitmime"):
            assert smtp.has_extn(extension)
        assert not smtp.has_extn("starttls")
    with client(world, "mx.ascii.test") as smtp:
        assert not smtp.has_extn("smtputf8")
        assert not smtp.has_extn("pipelining")


def test_catch_all_accepts_anyone(world: MailWorld) -> None:
    assert [code for code, _ in rcpt(world, "catchall.test", "alice", "x7q2z")] == [250, 250]


def test_mailbox_full(world: MailWorld) -> None:
    full, unknown = rcpt(world, "full.test", "alice", "nobody")
    assert full[0] == 552
    assert full[1].startswith(b"5.2.2 <alice@full.test>")
    assert unknown[0] == 550


def test_mailbox_disabled(world: MailWorld) -> None:
    (reply,) = rcpt(world, "disabled.test", "alice")
    assert reply[0] == 550
    assert reply[1].startswith(b"5.2.1 ")
    assert b"disabled" in reply[1]


def test_greylisting_until_the_same_triple_retries() -> None:
    clock = ManualClock()
    with one(Behaviour(greylist_seconds=300), clock=clock) as w:
        first = rcpt(w, "one.test", "alice", "nobody")
        assert [code for code, _ in first] == [450, 450]
        assert first[0][1].startswith(b"4.7.1 <alice@one.test>: Recipient address rejected:")
        assert b"Greylisted" in first[0][1]
        clock.advance(299)
        assert rcpt(w, "one.test", "alice")[0][0] == 450
        clock.advance(1)
        assert [code for code, _ in rcpt(w, "one.test", "alice", "nobody")] == [250, 550]
        # A new triple waits its own turn.
        with client(w, "mx.one.test") as smtp:
            smtp.mail("other@client.test")
            assert smtp.rcpt("alice@one.test")[0] == 450
        w.reset()
        assert rcpt(w, "one.test", "alice")[0][0] == 450


def test_blocked_at_rcpt_like_spamhaus(world: MailWorld) -> None:
    (reply,) = rcpt(world, "blocked.test", "alice")
    assert reply == (
        554,
        (
            b"5.7.1 Service unavailable; Client host [127.0.0.1] blocked using "
            b"zen.spamhaus.org; https://www.spamhaus.org/query/ip/127.0.0.1"
        ),
    )


def test_blocked_at_connect_then_503_until_quit(world: MailWorld) -> None:
    host, port = world.address("mx.blocked-connect.test")
    with pytest.raises(smtplib.SMTPConnectError) as caught:
        smtplib.SMTP(host, port, timeout=5)
    assert caught.value.smtp_code == 554
    assert b"blocked using zen.spamhaus.org" in caught.value.smtp_error
    with socket.create_connection((host, port), timeout=5) as sock, sock.makefile("rb") as reader:
        assert reader.readline().startswith(b"554 5.7.1 Service unavailable")
        sock.sendall(b"EHLO client.test\r\n")
        assert reader.readline().startswith(b"503 5.5.1")
        sock.sendall(b"QUIT\r\n")
        assert reader.readline().startswith(b"221")
        assert reader.readline() == b""


def test_sender_refused_at_mail_from(world: MailWorld) -> None:
    with client(world, "mx.sender-refused.test") as smtp:
        assert smtp.mail(PROBE) == (
            550,
            b"5.7.1 <probe@client.test>: Sender address rejected: Access denied",
        )


def test_starttls_required(world: MailWorld) -> None:
    with client(world, "mx.starttls.test") as smtp:
        assert smtp.has_extn("starttls")
        assert smtp.mail(PROBE) == (530, b"5.7.0 Must issue a STARTTLS command first")
        smtp.rset()
        assert smtp.starttls(context=world.client_ssl_context())[0] == 220
        smtp.ehlo()
        assert not smtp.has_extn("starttls")
        assert smtp.mail(PROBE)[0] == 250
        assert smtp.rcpt("alice@starttls.test")[0] == 250
    tls_lines = [c.line for c in world.commands("mx.starttls.test") if c.tls]
    assert tls_lines[:2] == ["ehlo client.test", "mail FROM:<probe@client.test>"]


def test_starttls_certificate_is_trusted_by_name(world: MailWorld) -> None:
    context = world.client_ssl_context()
    host, port = world.address("mx.tls.test")
    with smtplib.SMTP(host, port, timeout=5) as smtp:
        smtp.ehlo("client.test")
        smtp._host = "mx.tls.test"  # type: ignore[attr-defined]  # verify the certificate against the MX name
        assert smtp.starttls(context=context)[0] == 220
        cert = smtp.sock.getpeercert()  # type: ignore[union-attr]
        assert ("DNS", "mx.tls.test") in cert["subjectAltName"]


def test_implicit_tls(world: MailWorld) -> None:
    host, port = world.address("mx.implicit-tls.test")
    with smtplib.SMTP_SSL(host, port, context=world.client_ssl_context(), timeout=5) as smtp:
        smtp.ehlo("client.test")
        assert not smtp.has_extn("starttls")
        smtp.mail(PROBE)
        assert smtp.rcpt("alice@implicit-tls.test")[0] == 250
    with pytest.raises((smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError)):
        smtplib.SMTP(host, port, timeout=0.5)  # plain text gets no banner


def test_tarpit_delays_banner_and_replies() -> None:
    with one(Behaviour(banner_delay=0.2, reply_delay=0.2)) as w:
        host, port = w.address("mx.one.test")
        start = time.monotonic()
        smtp = smtplib.SMTP(host, port, timeout=5)
        banner = time.monotonic() - start
        start = time.monotonic()
        assert smtp.noop()[0] == 250
        noop = time.monotonic() - start
        start = time.monotonic()
        assert smtp.ehlo("client.test")[0] == 250
        ehlo = time.monotonic() - start
        smtp.close()
    assert 0.2 <= banner < 1.0
    assert 0.2 <= noop < 1.0
    assert 0.2 <= ehlo < 0.4  # a multi-line reply is delayed once


def test_drop_after_ehlo(world: MailWorld) -> None:
    host, port = world.address("mx.drop.test")
    smtp = smtplib.SMTP(host, port, timeout=5)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        smtp.ehlo("client.test")


def test_too_many_connections(world: MailWorld) -> None:
    host, port = world.address("mx.busy.test")
    with pytest.raises(smtplib.SMTPConnectError) as caught:
        smtplib.SMTP(host, port, timeout=5)
    assert caught.value.smtp_code == 421
    error = caught.value.smtp_error
    assert isinstance(error, bytes)
    assert error.startswith(b"4.7.0 mx.busy.test Error: too many connections")


def test_connection_limit_counts_open_connections() -> None:
    with one(Behaviour(max_connections=1)) as w:
        host, port = w.address("mx.one.test")
        with smtplib.SMTP(host, port, timeout=5) as first:
            with pytest.raises(smtplib.SMTPConnectError):
                smtplib.SMTP(host, port, timeout=5)
            assert first.noop()[0] == 250
        stats = w.stats("mx.one.test")
        assert (stats.connections, stats.peak) == (2, 2)


def test_recipient_limit_per_transaction(world: MailWorld) -> None:
    replies = rcpt(world, "limit.test", "alice", "bob", "alice")
    assert [code for code, _ in replies] == [250, 250, 452]
    assert replies[2][1] == b"4.5.3 Error: too many recipients"


@pytest.mark.parametrize(
    ("domain", "unknown", "full"),
    [
        (
            "gmail.test",
            (
                b"5.1.1 The email account that you tried to reach does not exist. Please try\n"
                b"5.1.1 double-checking the recipient's email address for typos or\n"
                b"5.1.1 unnecessary spaces. Learn more at\n"
                b"5.1.1  https://support.google.com/mail/?p=NoSuchUser a640c23a62f3a - gsmtp"
            ),
            None,
        ),
        ("outlook.test", b"Requested action not taken: mailbox unavailable", None),
        ("plain.test", b"<nobody@plain.test>... User unknown", None),
    ],
)
def test_reply_styles_of_big_providers(
    world: MailWorld, domain: str, unknown: bytes, full: bytes | None
) -> None:
    known, missing = rcpt(world, domain, "alice", "nobody")
    assert known[0] == 250
    assert missing == (550, unknown)


def test_styles_without_enhanced_codes_say_so_in_ehlo(world: MailWorld) -> None:
    with client(world, "mx.outlook.test") as smtp:
        assert not smtp.has_extn("enhancedstatuscodes")
    with client(world, "mx.gmail.test") as smtp:
        assert smtp.has_extn("enhancedstatuscodes")


def test_every_line_is_recorded_with_its_session() -> None:
    with one(Behaviour()) as w:
        for _ in range(2):
            with client(w, "mx.one.test") as smtp:
                smtp.mail(PROBE)
                smtp.rcpt("alice@one.test")
        commands = w.commands("mx.one.test")
    assert [(c.session, c.verb) for c in commands] == [
        (s, verb) for s in (1, 2) for verb in ("EHLO", "MAIL", "RCPT", "QUIT")
    ]
    assert commands[1].line == "mail FROM:<probe@client.test>"


@pytest.mark.parametrize(
    ("line", "code"),
    [("DATA", 554), ("BDAT 10 LAST", 554), ("VRFY alice", 502), ("EXPN staff", 502)],
)
def test_forbidden_commands_are_refused_recorded_and_reported(line: str, code: int) -> None:
    w = one(Behaviour())

    def session() -> None:
        with w, client(w, "mx.one.test") as smtp:
            smtp.mail(PROBE)
            smtp.rcpt("alice@one.test")
            assert smtp.docmd(line)[0] == code

    with pytest.raises(AssertionError, match=line.split(maxsplit=1)[0]):
        session()
    (forbidden,) = w.forbidden()
    assert (forbidden.server, forbidden.line) == ("mx.one.test", line)


def test_forbidden_even_from_a_blocked_client(world: MailWorld) -> None:
    w = MailWorld().add_server(
        "mx.b.test", domains=["b.test"], behaviour=Behaviour(block=Block.CONNECT)
    )
    with (
        w,
        socket.create_connection(w.address("mx.b.test"), timeout=5) as sock,
        sock.makefile("rb") as reader,
    ):
        reader.readline()
        sock.sendall(b"VRFY alice\r\n")
        assert reader.readline().startswith(b"502")
        w.stop()
        with pytest.raises(AssertionError, match="VRFY"):
            w.check()
        w.reset()


# -- hostile servers and dead hosts --------------------------------------------------------


def test_dead_host_refuses_connections(world: MailWorld) -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(world.address("mx.dead.test"), timeout=5)


def test_raw_garbage(world: MailWorld) -> None:
    with socket.create_connection(world.address("mx.garbage.test"), timeout=5) as sock:
        assert sock.recv(100).startswith(b"\x00\xff")
        sock.sendall(b"EHLO client.test\r\n")
        assert sock.recv(100).startswith(b"\x16\x03")
    assert "EHLO client.test" in [c.line for c in world.commands("mx.garbage.test")]


def test_raw_endless_reply(world: MailWorld) -> None:
    with socket.create_connection(world.address("mx.endless.test"), timeout=5) as sock:
        received = b""
        while len(received) < 100_000:
            received += sock.recv(65536)
    assert received.startswith(b"220-sandbox ESMTP\r\n220-and more")
    assert b"\r\n220 " not in received


def test_raw_reset_mid_reply(world: MailWorld) -> None:
    """The server sends half a line, then a reset (RST, not FIN).

    On a loaded machine the reset can reach the client before its connect() returns;
    that is the same behaviour seen earlier, so a few connections are tried and each
    must end in a reset, and at least one must see the half line first.
    """
    seen: list[bytes] = []
    for _ in range(10):
        chunks: list[bytes] = []
        with (  # noqa: PT012 - connect or read may see the reset
            pytest.raises(ConnectionResetError),
            socket.create_connection(world.address("mx.reset.test"), timeout=5) as sock,
        ):
            while chunk := sock.recv(100):
                chunks.append(chunk)
        data = b"".join(chunks)
        assert b"220-half a li".startswith(data) or data.endswith(b"220-half a li")
        seen.append(data)
        if data:
            break
    assert any(data.endswith(b"220-half a li") for data in seen)


def test_raw_silent(world: MailWorld) -> None:
    with (
        socket.create_connection(world.address("mx.silent.test"), timeout=0.1) as sock,
        pytest.raises(TimeoutError),
    ):
        sock.recv(1)


def test_raw_script_long_line() -> None:
    w = MailWorld().add_raw_server("mx.long.test", RawScript.long_line(10_000))
    with w, socket.create_connection(w.address("mx.long.test"), timeout=5) as sock:
        received = b""
        while len(received) < 10_004:
            received += sock.recv(65536)
    assert b"\n" not in received


# -- the resolver ---------------------------------------------------------------------------


def test_resolver_points_at_each_server(world: MailWorld) -> None:
    answer = world.resolver.mail_hosts("OK.test.")
    assert answer.status is DomainStatus.OK
    (host,) = answer.hosts
    assert (host.name, host.preference, host.implicit) == ("mx.ok.test", 10, False)
    assert (host.addresses[0], host.port) == world.address("mx.ok.test")
    assert world.resolver.lookups[-1] == "ok.test"


def test_resolver_statuses(world: MailWorld) -> None:
    status = {
        d: world.resolver.mail_hosts(d).status
        for d in (
            "nullmx.test",
            "nomail.test",
            "servfail.test",
            "nxdomain.test",
            "unheard-of.test",
            "noaddress.test",
        )
    }
    assert status == {
        "nullmx.test": DomainStatus.NULL_MX,
        "nomail.test": DomainStatus.NO_MAIL_SERVER,
        "servfail.test": DomainStatus.DNS_FAILURE,
        "nxdomain.test": DomainStatus.NO_SUCH_DOMAIN,
        "unheard-of.test": DomainStatus.NO_SUCH_DOMAIN,
        "noaddress.test": DomainStatus.NO_MAIL_SERVER,
    }
    # The world runs the resolver's own plan: the same sentences as real DNS gives.
    assert world.resolver.mail_hosts("noaddress.test").problems == (
        "MX host mx.nowhere.test (preference 10) has no A or AAAA record; skipped.",
    )


def test_resolver_implicit_mx_backup_and_limits(world: MailWorld) -> None:
    (implicit,) = world.resolver.mail_hosts("implicit.test").hosts
    assert (implicit.name, implicit.implicit, implicit.port) == (
        "implicit.test",
        True,
        world.address("implicit.test")[1],
    )
    backup = world.resolver.mail_hosts("backup.test").hosts
    assert [(h.name, h.preference) for h in backup] == [
        ("mx1.backup.test", 10),
        ("mx2.backup.test", 20),
    ]
    assert len(world.resolver.mail_hosts("backup.test", max_hosts=1).hosts) == 1
    assert world.resolver.mail_hosts("nomail.test", spf=True).spf == "v=spf1 -all"
    assert world.resolver.mail_hosts("nomail.test").spf is None
    with client(world, "implicit.test") as smtp:
        smtp.mail(PROBE)
        assert smtp.rcpt("alice@implicit.test")[0] == 250


def test_async_resolver() -> None:
    w = MailWorld().add_domain("x.test", mx=["mx.x.test"], dmarc="v=DMARC1; p=reject")
    answer = asyncio.run(w.resolver.amail_hosts("x.test", dmarc=True))
    assert answer.dmarc == "v=DMARC1; p=reject"
    assert answer.status is DomainStatus.NO_MAIL_SERVER


def test_shared_port_world_and_its_dns_records() -> None:
    w = (
        MailWorld(shared_port=0)
        .add_server("mx1.shop.test", domains=["shop.test"], mailboxes=["alice"])
        .add_server("mx2.shop.test", domains=["shop.test"], preference=20)
        .add_dead_host("mx.dead.test", domains=["dead.test"])
        .add_domain("nullmx.test", status=DomainStatus.NULL_MX)
        .add_domain("broken.test", status=DomainStatus.DNS_FAILURE)
        .add_domain("shop.test", spf="v=spf1 mx -all", dmarc="v=DMARC1; p=none")
    )
    with w:
        assert w.port is not None
        assert w.address("mx1.shop.test") == ("127.0.0.2", w.port)
        assert w.address("mx2.shop.test") == ("127.0.0.3", w.port)
        with client(w, "mx1.shop.test") as smtp:
            smtp.mail(PROBE)
            assert smtp.rcpt("alice@shop.test")[0] == 250
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(w.address("mx.dead.test"), timeout=5)
        records = w.dns_records()
    assert records["shop.test"] == [
        ("MX", "10 mx1.shop.test.", 300),
        ("MX", "20 mx2.shop.test.", 300),
        ("TXT", '"v=spf1 mx -all"', 300),
    ]
    assert records["mx2.shop.test"] == [("A", "127.0.0.3", 300)]
    assert records["_dmarc.shop.test"] == [("TXT", '"v=DMARC1; p=none"', 300)]
    assert records["nullmx.test"] == [("MX", "0 .", 300)]
    assert "broken.test" not in records
    assert w.dns_behaviours() == {"broken.test": "servfail"}
    with pytest.raises(RuntimeError, match="shared_port"):
        MailWorld().dns_records()


# -- life cycle -----------------------------------------------------------------------------


def test_async_with_from_a_running_loop() -> None:
    async def scenario() -> tuple[bytes, bytes]:
        async with MailWorld.default() as w:
            host, port = w.address("mx.ok.test")
            reader, writer = await asyncio.open_connection(host, port)
            banner = await reader.readline()
            writer.write(b"QUIT\r\n")
            bye = await reader.readline()
            writer.close()
            await writer.wait_closed()
        return banner, bye

    banner, bye = asyncio.run(scenario())
    assert banner == b"220 mx.ok.test ESMTP Postfix\r\n"
    assert bye.startswith(b"221")


def test_sync_start_and_stop_inside_a_running_loop() -> None:
    async def scenario() -> bool:
        w = MailWorld.default().start()
        try:
            host, port = w.address("mx.ok.test")
            reader, writer = await asyncio.open_connection(host, port)
            line = await reader.readline()
            writer.close()
            await writer.wait_closed()
        finally:
            w.stop()
        return line.startswith(b"220")

    assert asyncio.run(scenario())


def test_stop_closes_open_connections_and_ports() -> None:
    w = MailWorld.default().start()
    host, port = w.address("mx.ok.test")
    smtp = smtplib.SMTP(host, port, timeout=5)
    endless = socket.create_connection(w.address("mx.endless.test"), timeout=5)
    endless.recv(10)
    w.stop()
    assert not w.running
    with pytest.raises(smtplib.SMTPServerDisconnected):
        smtp.noop()
    endless.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, port), timeout=5)
    with pytest.raises(RuntimeError, match="not running"):
        w.address("mx.ok.test")
    w.start().stop()  # a world can start again


def test_ten_server_world_starts_and_stops_quickly() -> None:
    w = MailWorld()
    for n in range(10):
        w.add_server(f"mx{n}.ten.test", domains=[f"d{n}.test"], mailboxes=["alice"])
    start = time.perf_counter()
    with w:
        pass
    assert time.perf_counter() - start < 0.5


def test_building_errors() -> None:
    w = one(Behaviour())
    with pytest.raises(ValueError, match="already a server"):
        w.add_server("mx.one.test")
    with pytest.raises(ValueError, match="reply_delay"):
        Behaviour(reply_delay=-1)
    with pytest.raises(ValueError, match="back"):
        ManualClock().advance(-1)
    with w, pytest.raises(RuntimeError, match="already running"):
        w.start()


def test_public_names() -> None:
    assert len(set(testing.__all__)) == len(testing.__all__)
    assert set(testing.__all__) <= set(dir(testing))
    for name in testing.__all__:
        assert getattr(testing, name) is not None
    assert TLS.IMPLICIT.value == "implicit"
    assert ReplyStyle.OUTLOOK.value == "outlook"
    with pytest.raises(AttributeError):
        _ = testing.Nope  # type: ignore[attr-defined]


# -- the pytest plugin ----------------------------------------------------------------------


def test_fixture_gives_a_running_default_world(mail_world: MailWorld) -> None:
    assert mail_world.running
    assert rcpt(mail_world, "ok.test", "alice")[0][0] == 250


def test_fixture_teardown_fails_on_forbidden_commands(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import smtplib

        def test_sends_data(mail_world):
            host, port = mail_world.address("mx.ok.test")
            with smtplib.SMTP(host, port) as smtp:
                smtp.ehlo("client.test")
                smtp.docmd("DATA")
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*AssertionError: the mail world received forbidden*DATA*"])


def test_ssl_context_is_a_real_client_context(world: MailWorld) -> None:
    context = world.client_ssl_context()
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert world.ca_pem.startswith(b"-----BEGIN CERTIFICATE-----")


def test_world_served_through_real_dns() -> None:
    import dns.resolver

    w = MailWorld.default(shared_port=0)
    with w, w.dns_server() as server:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [server.host]
        resolver.port = server.port
        resolver.lifetime = 2
        (mx,) = resolver.resolve("ok.test", "MX")
        assert str(mx.exchange) == "mx.ok.test."
        (address,) = resolver.resolve("mx.ok.test", "A")
        assert (str(address), w.port) == w.address("mx.ok.test")
        (implicit,) = resolver.resolve("implicit.test", "A")
        assert str(implicit) == w.address("implicit.test")[0]
        (null,) = resolver.resolve("nullmx.test", "MX")
        assert (null.preference, str(null.exchange)) == (0, ".")
        with pytest.raises(dns.resolver.NXDOMAIN):
            resolver.resolve("nxdomain.test", "MX")
        with pytest.raises(dns.resolver.NoNameservers):
            resolver.resolve("servfail.test", "MX")
        with pytest.raises(dns.resolver.NoAnswer):
            resolver.resolve("nomail.test", "MX")
        with socket.create_connection((str(address), w.port), timeout=5) as sock:
            assert sock.recv(100).startswith(b"220 mx.ok.test")
        assert server.errors == []

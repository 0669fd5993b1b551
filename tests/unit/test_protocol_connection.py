"""ClientConnection: bytes in, events out; commands in, bytes out. No sockets, no mocks."""

from __future__ import annotations

import pytest

import smtpcheck.protocol as p
from smtpcheck._errors import LocalProtocolError, RemoteProtocolError
from smtpcheck.protocol import State

GREETING = b"220 mx.example.com ESMTP Postfix\r\n"

POSTFIX_EHLO = (
    b"250-mx.example.com\r\n"
    b"250-PIPELINING\r\n"
    b"250-SIZE 10240000\r\n"
    b"250-VRFY\r\n"
    b"250-ETRN\r\n"
    b"250-STARTTLS\r\n"
    b"250-ENHANCEDSTATUSCODES\r\n"
    b"250-8BITMIME\r\n"
    b"250-DSN\r\n"
    b"250-SMTPUTF8\r\n"
    b"250 CHUNKING\r\n"
)
EXIM_EHLO = (
    b"250-mail.example.net Hello client.example.org [192.0.2.1]\r\n"
    b"250-SIZE 52428800\r\n"
    b"250-8BITMIME\r\n"
    b"250-PIPELINING\r\n"
    b"250-X_PIPE_CONNECT\r\n"
    b"250-AUTH PLAIN LOGIN\r\n"
    b"250-CHUNKING\r\n"
    b"250-STARTTLS\r\n"
    b"250-PRDR\r\n"
    b"250 HELP\r\n"
)
GMAIL_EHLO = (
    b"250-mx.google.com at your service, [1.2.3.4]\r\n"
    b"250-SIZE 157286400\r\n"
    b"250-8BITMIME\r\n"
    b"250-STARTTLS\r\n"
    b"250-ENHANCEDSTATUSCODES\r\n"
    b"250-PIPELINING\r\n"
    b"250-CHUNKING\r\n"
    b"250 SMTPUTF8\r\n"
)
OUTLOOK_EHLO = (
    b"250-AM0PR01MB1234.eurprd01.prod.outlook.com Hello [192.0.2.1]\r\n"
    b"250-SIZE 157286400\r\n"
    b"250-PIPELINING\r\n"
    b"250-DSN\r\n"
    b"250-ENHANCEDSTATUSCODES\r\n"
    b"250-STARTTLS\r\n"
    b"250-8BITMIME\r\n"
    b"250-BINARYMIME\r\n"
    b"250-CHUNKING\r\n"
    b"250 SMTPUTF8\r\n"
)
PLAIN_EHLO = b"250-mx.example.com\r\n250 SIZE\r\n"  # no PIPELINING, no STARTTLS


def fresh(conn: p.ClientConnection) -> p.ClientConnection:
    """The connection itself: its properties read afresh after a call changed them.

    A type checker keeps a property it saw asserted (``conn.state is State.HELLO``)
    narrowed to that value, across the calls that change it.
    """
    return conn


def events(conn: p.ClientConnection, data: bytes | None = None) -> list[p.Event]:
    """Feed *data* and collect events until NEED_DATA (or a close)."""
    if data is not None:
        conn.receive_data(data)
    out: list[p.Event] = []
    while (event := conn.next_event()) is not p.NEED_DATA:
        out.append(event)
        if isinstance(event, p.ConnectionClosed):
            break
    return out


def greeted(greeting: bytes = GREETING) -> p.ClientConnection:
    conn = p.ClientConnection()
    assert conn.state is State.GREETING
    (event,) = events(conn, greeting)
    assert isinstance(event, p.Greeting)
    return conn


def ready(ehlo_reply: bytes = GMAIL_EHLO) -> p.ClientConnection:
    conn = greeted()
    conn.send(p.Ehlo("client.example.org"))
    (event,) = events(conn, ehlo_reply)
    assert isinstance(event, p.Response)
    assert conn.state is State.READY
    return conn


def reply(code: int, *lines: str) -> p.Reply:
    return p.Reply(code, lines or ("",))


# --- Reading replies -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"220 mx.example.com ESMTP\r\n", reply(220, "mx.example.com ESMTP")),
        (b"220\r\n", reply(220, "")),
        (b"220 \r\n", reply(220, "")),
        (b"220  two spaces \r\n", reply(220, " two spaces ")),
        (b"220 bare LF\n", reply(220, "bare LF")),
        (b"220-first\n220-\r\n220 last\r\n", reply(220, "first", "", "last")),
        (b"220-a\r\n220\r\n", reply(220, "a", "")),
        (b"220 a\rb\r\n", reply(220, "a\rb")),
        (b"220 caf\xc3\xa9\r\n", reply(220, "café")),
        (b"220 bad \xff utf8\r\n", reply(220, "bad \xff utf8")),  # Latin-1: "bad ÿ utf8"
        (b"220 Empf\xe4nger unbekannt\r\n", reply(220, "Empfänger unbekannt")),
        (b"220 half \xc3\r\n", reply(220, "half \xc3")),  # cut UTF-8: Latin-1 too
        (b"554 5.7.1 no service\r\n", reply(554, "5.7.1 no service")),
    ],
)
def test_greeting_is_parsed(data: bytes, expected: p.Reply) -> None:
    conn = p.ClientConnection()
    assert events(conn, data) == [p.Greeting(expected)]


@pytest.mark.parametrize(
    "data",
    [
        b"hello\r\n",
        b"22\r\n",
        b"\r\n",
        b" 220 leading space\r\n",
        b"2x0 x\r\n",
        b"199 too small\r\n",
        b"600 too big\r\n",
        b"000 zero\r\n",
        b"220_x\r\n",
        b"220\tx\r\n",
        b"220-a\r\n250 b\r\n",
        b"220-a\r\n221 b\r\n",
    ],
)
def test_garbage_is_a_remote_error_and_breaks_the_connection(data: bytes) -> None:
    conn = p.ClientConnection()
    conn.receive_data(data)
    with pytest.raises(RemoteProtocolError) as info:
        conn.next_event()
    assert info.value.line is not None
    assert conn.state is State.ERROR
    for call in (
        conn.next_event,
        lambda: conn.receive_data(b"220 ok\r\n"),
        lambda: conn.send(p.Quit()),
        conn.start_tls_done,
    ):
        with pytest.raises(LocalProtocolError, match="ERROR"):
            call()


def test_greeting_split_byte_by_byte() -> None:
    conn = p.ClientConnection()
    data = b"220-mx.example.com\r\n220 ESMTP\r\n"
    for byte in data[:-1]:
        assert events(conn, bytes([byte])) == []
    assert events(conn, data[-1:]) == [p.Greeting(reply(220, "mx.example.com", "ESMTP"))]
    assert conn.buffered == 0


@pytest.mark.parametrize(
    ("greeting", "state"),
    [
        (b"220 ok\r\n", State.HELLO),
        (b"250 odd but positive\r\n", State.HELLO),
        (b"554 5.7.1 go away\r\n", State.REFUSED),
        (b"450 busy\r\n", State.REFUSED),
        (b"421 4.3.2 closing\r\n", State.CLOSING),
    ],
)
def test_state_after_greeting(greeting: bytes, state: State) -> None:
    conn = p.ClientConnection()
    events(conn, greeting)
    assert conn.state is state


def test_refused_greeting_allows_only_quit() -> None:
    conn = p.ClientConnection()
    events(conn, b"554 no\r\n")
    assert conn.send(p.Quit()) == b"QUIT\r\n"
    assert events(conn, b"221 bye\r\n") == [p.Response(p.Quit(), reply(221, "bye"))]
    assert conn.state is State.CLOSING
    conn = p.ClientConnection()
    events(conn, b"554 no\r\n")
    with pytest.raises(LocalProtocolError):
        conn.send(p.Ehlo("client.example.org"))


# --- EHLO and extensions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            GMAIL_EHLO,
            p.Extensions(
                size=157286400,
                starttls=True,
                pipelining=True,
                smtputf8=True,
                eightbitmime=True,
                enhancedstatuscodes=True,
                chunking=True,
            ),
        ),
        (
            OUTLOOK_EHLO,
            p.Extensions(
                size=157286400,
                starttls=True,
                pipelining=True,
                smtputf8=True,
                eightbitmime=True,
                enhancedstatuscodes=True,
                chunking=True,
                dsn=True,
            ),
        ),
        (
            POSTFIX_EHLO,
            p.Extensions(
                size=10240000,
                starttls=True,
                pipelining=True,
                smtputf8=True,
                eightbitmime=True,
                enhancedstatuscodes=True,
                chunking=True,
                dsn=True,
            ),
        ),
        (
            EXIM_EHLO,
            p.Extensions(
                size=52428800,
                starttls=True,
                pipelining=True,
                eightbitmime=True,
                chunking=True,
                auth=frozenset({"PLAIN", "LOGIN"}),
            ),
        ),
        (b"250 mx.example.com\r\n", p.Extensions()),
        (b"250-mx\r\n250-SIZE\r\n250 size 0\r\n", p.Extensions()),
        (b"250-mx\r\n250-SIZE many\r\n250 PIPELINING\r\n", p.Extensions(pipelining=True)),
        (b"250-mx\r\n250 SIZE 123456789012345678901\r\n", p.Extensions()),
        (
            b"250-mx\r\n250-pipelining\r\n250-  8bitmime  \r\n250 starttls\r\n",
            p.Extensions(pipelining=True, eightbitmime=True, starttls=True),
        ),
        (
            b"250-mx\r\n250-AUTH=LOGIN\r\n250-AUTH login cram-md5\r\n250-AUTH=\r\n250 DSN\r\n",
            p.Extensions(auth=frozenset({"LOGIN", "CRAM-MD5"}), dsn=True),
        ),
        (
            b"250-mx\r\n250-\r\n250-   \r\n250--BAD\r\n250-X=Y\r\n250-\xff\xfe\r\n250 DSN\r\n",
            p.Extensions(dsn=True),
        ),
    ],
)
def test_extensions_from_real_and_odd_ehlo_replies(data: bytes, expected: p.Extensions) -> None:
    conn = ready(data)
    got = conn.extensions
    assert (got.size, got.auth) == (expected.size, expected.auth)
    flags: tuple[str, ...] = ("starttls", "pipelining", "smtputf8", "eightbitmime")
    flags += ("enhancedstatuscodes", "chunking", "dsn")
    assert {f: getattr(got, f) for f in flags} == {f: getattr(expected, f) for f in flags}
    assert got == p.Extensions(**{f: getattr(got, f) for f in (*flags, "size", "auth", "raw")})


def test_extensions_keep_unknown_keywords_raw() -> None:
    ext = ready(EXIM_EHLO).extensions
    assert ext.raw["PRDR"] == ()
    assert ext.raw["SIZE"] == ("52428800",)
    assert ext.raw["AUTH"] == ("PLAIN", "LOGIN")
    assert "X_PIPE_CONNECT" not in ext.raw  # "_" is not valid in a keyword
    assert hash(ext) == hash(ready(EXIM_EHLO).extensions)
    assert p.Extensions().raw == {}


def test_ehlo_response_event_and_extensions_are_empty_before() -> None:
    conn = greeted()
    assert conn.extensions == p.Extensions()
    assert conn.send(p.Ehlo("client.example.org")) == b"EHLO client.example.org\r\n"
    assert conn.pending == (p.Ehlo("client.example.org"),)
    assert conn.state is State.HELLO
    (event,) = events(conn, b"250-mx.example.com\r\n250 PIPELINING\r\n")
    assert event == p.Response(
        p.Ehlo("client.example.org"), reply(250, "mx.example.com", "PIPELINING")
    )
    assert fresh(conn).pending == ()
    assert conn.extensions.pipelining


@pytest.mark.parametrize("code", [500, 502, 550])
def test_helo_fallback_after_ehlo_refused(code: int) -> None:
    conn = greeted()
    conn.send(p.Ehlo("client.example.org"))
    events(conn, b"%d 5.5.1 unknown command\r\n" % code)
    assert conn.state is State.HELLO
    assert conn.extensions == p.Extensions()
    conn.send(p.Helo("client.example.org"))
    events(conn, b"250 mx.example.com\r\n")
    assert fresh(conn).state is State.READY
    assert conn.extensions == p.Extensions()
    with pytest.raises(LocalProtocolError, match="STARTTLS"):
        conn.send(p.StartTLS())


# --- State rules ----------------------------------------------------------------------

EHLO = p.Ehlo("client.example.org")
HELO = p.Helo("client.example.org")
MAIL = p.MailFrom("")
RCPT = p.RcptTo("someone@example.com")


def at(state: State) -> p.ClientConnection:
    """A connection in *state*, with nothing pending, whose EHLO offered everything."""
    if state is State.GREETING:
        return p.ClientConnection()
    if state is State.HELLO:
        return greeted()
    conn = ready(GMAIL_EHLO)
    if state is State.TRANSACTION:
        conn.send(MAIL)
        events(conn, b"250 2.1.0 Ok\r\n")
    elif state is State.TLS_HANDSHAKE:
        conn.send(p.StartTLS())
        events(conn, b"220 2.0.0 Ready to start TLS\r\n")
    elif state is State.CLOSING:
        conn.send(p.Quit())
        events(conn, b"221 bye\r\n")
    elif state is State.CLOSED:
        conn.send(p.Quit())
        events(conn, b"221 bye\r\n")
        events(conn, b"")
    assert conn.state is state
    return conn


COMMANDS = [EHLO, HELO, MAIL, RCPT, p.Rset(), p.Noop(), p.Quit(), p.StartTLS()]
ALLOWED = {
    State.GREETING: set(),
    State.HELLO: {"Ehlo", "Helo", "Rset", "Noop", "Quit"},
    State.READY: {"MailFrom", "Rset", "Noop", "Quit", "StartTLS"},
    State.TRANSACTION: {"RcptTo", "Rset", "Noop", "Quit"},
    State.TLS_HANDSHAKE: set(),
    State.CLOSING: set(),
    State.CLOSED: set(),
}


@pytest.mark.parametrize("state", list(ALLOWED))
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: type(c).__name__)
def test_what_may_be_sent_in_each_state(state: State, command: p.Command) -> None:
    conn = at(state)
    if type(command).__name__ in ALLOWED[state]:
        assert conn.send(command) == command.to_bytes()
        assert conn.pending == (command,)
    else:
        with pytest.raises(LocalProtocolError):
            conn.send(command)
        assert conn.state is State.ERROR


@pytest.mark.parametrize(
    ("command", "answer", "after"),
    [
        (MAIL, b"250 2.1.0 Ok\r\n", State.TRANSACTION),
        (MAIL, b"550 5.7.1 sender rejected\r\n", State.READY),
        (MAIL, b"451 4.3.0 try later\r\n", State.READY),
        (p.Rset(), b"250 2.0.0 Ok\r\n", State.READY),
        (p.Noop(), b"250 2.0.0 Ok\r\n", State.READY),
        (p.Quit(), b"221 2.0.0 Bye\r\n", State.CLOSING),
        (p.StartTLS(), b"220 2.0.0 go ahead\r\n", State.TLS_HANDSHAKE),
        (p.StartTLS(), b"454 4.7.0 TLS not available\r\n", State.READY),
        (p.StartTLS(), b"250 not 220\r\n", State.READY),
        (MAIL, b"421 4.7.0 closing\r\n", State.CLOSING),
        (p.Noop(), b"421 4.7.0 closing\r\n", State.CLOSING),
    ],
)
def test_state_after_reply_in_ready(command: p.Command, answer: bytes, after: State) -> None:
    conn = at(State.READY)
    conn.send(command)
    (event,) = events(conn, answer)
    assert event == p.Response(command, p.Reply(int(answer[:3]), (answer[4:-2].decode(),)))
    assert conn.state is after


@pytest.mark.parametrize(
    ("command", "answer", "after"),
    [
        (RCPT, b"250 2.1.5 Ok\r\n", State.TRANSACTION),
        (RCPT, b"550 5.1.1 no such user\r\n", State.TRANSACTION),
        (p.Rset(), b"250 Ok\r\n", State.READY),
        (p.Noop(), b"250 Ok\r\n", State.TRANSACTION),
        (RCPT, b"421 4.4.2 timeout\r\n", State.CLOSING),
    ],
)
def test_state_after_reply_in_transaction(command: p.Command, answer: bytes, after: State) -> None:
    conn = at(State.TRANSACTION)
    conn.send(command)
    events(conn, answer)
    assert conn.state is after


@pytest.mark.parametrize("answer", [b"250 Ok\r\n", b"503 bad sequence\r\n"])
def test_rset_in_hello_stays_in_hello(answer: bytes) -> None:
    conn = greeted()
    conn.send(p.Rset())
    events(conn, answer)
    assert conn.state is State.HELLO


def test_after_421_nothing_may_be_sent_and_close_follows() -> None:
    conn = at(State.TRANSACTION)
    conn.send(RCPT)
    events(conn, b"421 4.4.2 mx.example.com Error: timeout exceeded\r\n")
    with pytest.raises(LocalProtocolError, match="CLOSING"):
        conn.send(p.Quit())
    conn = at(State.TRANSACTION)
    conn.send(RCPT)
    assert events(conn, b"421 bye\r\n") == [p.Response(RCPT, reply(421, "bye"))]
    assert events(conn, b"") == [p.ConnectionClosed()]
    assert conn.state is State.CLOSED
    assert conn.next_event() == p.ConnectionClosed()


@pytest.mark.parametrize(
    ("ehlo", "mail"),
    [
        (PLAIN_EHLO, p.MailFrom("a@example.org", smtputf8=True)),
        (PLAIN_EHLO, p.MailFrom("a@example.org", body="8BITMIME")),
        (PLAIN_EHLO, p.MailFrom("a@example.org", body="BINARYMIME")),
        (GMAIL_EHLO, p.MailFrom("a@example.org", body="BINARYMIME")),
        (b"250 mx\r\n", p.MailFrom("a@example.org", size=100)),
    ],
)
def test_mail_parameters_need_the_extension(ehlo: bytes, mail: p.MailFrom) -> None:
    conn = ready(ehlo)
    with pytest.raises(LocalProtocolError, match="not offered"):
        conn.send(mail)


@pytest.mark.parametrize(
    ("ehlo", "mail"),
    [
        (PLAIN_EHLO, p.MailFrom("a@example.org", size=100, body="7BIT")),
        (GMAIL_EHLO, p.MailFrom("jöhn@example.org", smtputf8=True, body="8BITMIME")),
        (OUTLOOK_EHLO, p.MailFrom("a@example.org", body="BINARYMIME")),
    ],
)
def test_mail_parameters_with_the_extension(ehlo: bytes, mail: p.MailFrom) -> None:
    conn = ready(ehlo)
    assert conn.send(mail) == mail.to_bytes()


def test_non_ascii_rcpt_needs_smtputf8_mail() -> None:
    utf8_rcpt = p.RcptTo("jöhn@exämple.org")
    conn = ready()
    conn.send(p.MailFrom("a@example.org"))
    events(conn, b"250 ok\r\n")
    with pytest.raises(LocalProtocolError, match="smtputf8"):
        conn.send(utf8_rcpt)
    conn = ready()
    conn.send(p.MailFrom("a@example.org", smtputf8=True))
    events(conn, b"250 ok\r\n")
    assert conn.send(utf8_rcpt) == "RCPT TO:<jöhn@exämple.org>\r\n".encode()


# --- Pipelining -------------------------------------------------------------------------


def test_pipelined_mail_and_rcpts_with_replies_in_one_chunk() -> None:
    conn = ready(GMAIL_EHLO)
    rcpt2 = p.RcptTo("other@example.com")
    wire = conn.send(MAIL) + conn.send(RCPT) + conn.send(rcpt2)
    assert (
        wire == b"MAIL FROM:<>\r\nRCPT TO:<someone@example.com>\r\nRCPT TO:<other@example.com>\r\n"
    )
    assert conn.pending == (MAIL, RCPT, rcpt2)
    assert conn.state is State.TRANSACTION
    got = events(
        conn,
        b"250 2.1.0 OK\r\n250 2.1.5 OK\r\n"
        b"550-5.1.1 The email account\r\n550 5.1.1 does not exist\r\n",
    )
    assert got == [
        p.Response(MAIL, reply(250, "2.1.0 OK")),
        p.Response(RCPT, reply(250, "2.1.5 OK")),
        p.Response(rcpt2, reply(550, "5.1.1 The email account", "5.1.1 does not exist")),
    ]
    assert got[2].reply.enhanced == p.EnhancedStatus(5, 1, 1)  # type: ignore[union-attr]
    assert fresh(conn).pending == ()
    assert conn.state is State.TRANSACTION


def test_pipelined_mail_refused_goes_back_to_ready_when_its_reply_arrives() -> None:
    conn = ready(GMAIL_EHLO)
    conn.send(MAIL)
    conn.send(RCPT)
    conn.send(RCPT)
    conn.receive_data(b"550 5.7.1 sender refused\r\n503 5.5.1 need MAIL\r\n")
    assert conn.state is State.TRANSACTION
    assert conn.next_event() == p.Response(MAIL, reply(550, "5.7.1 sender refused"))
    assert fresh(conn).state is State.READY
    with pytest.raises(LocalProtocolError):
        ready(GMAIL_EHLO).send(RCPT)  # the same rule as a fresh READY connection
    assert conn.next_event() == p.Response(RCPT, reply(503, "5.5.1 need MAIL"))
    assert events(conn, b"503 5.5.1 need MAIL\r\n") == [
        p.Response(RCPT, reply(503, "5.5.1 need MAIL"))
    ]
    assert fresh(conn).state is State.READY
    conn.send(MAIL)
    assert conn.state is State.TRANSACTION


def test_pipelined_rset_mail_after_refused_mail_stays_in_the_new_transaction() -> None:
    conn = ready(GMAIL_EHLO)
    for command in (MAIL, RCPT, p.Rset(), MAIL, RCPT):
        conn.send(command)
    events(conn, b"550 no\r\n503 no\r\n")
    assert conn.state is State.TRANSACTION
    events(conn, b"250 ok\r\n250 ok\r\n250 ok\r\n")
    assert conn.state is State.TRANSACTION


def test_pipelined_quit_after_rcpt() -> None:
    conn = ready(GMAIL_EHLO)
    conn.send(MAIL)
    conn.send(RCPT)
    conn.send(p.Quit())
    assert conn.state is State.CLOSING
    got = events(conn, b"250 ok\r\n250 ok\r\n221 bye\r\n")
    assert [type(e.command) for e in got] == [p.MailFrom, p.RcptTo, p.Quit]  # type: ignore[union-attr]
    assert conn.state is State.CLOSING


def test_pipelined_replies_after_421_are_still_delivered() -> None:
    conn = ready(GMAIL_EHLO)
    conn.send(MAIL)
    conn.send(RCPT)
    got = events(conn, b"421 4.7.0 closing\r\n421 4.7.0 closing\r\n")
    assert [e.reply.code for e in got] == [421, 421]  # type: ignore[union-attr]
    assert conn.state is State.CLOSING


@pytest.mark.parametrize("ehlo", [PLAIN_EHLO, b"250 mx\r\n"])
def test_without_pipelining_nothing_is_sent_before_the_reply(ehlo: bytes) -> None:
    conn = ready(ehlo)
    conn.send(MAIL)
    with pytest.raises(LocalProtocolError, match="PIPELINING"):
        conn.send(RCPT)


def test_nothing_is_sent_while_ehlo_is_pending() -> None:
    conn = greeted()
    conn.send(EHLO)
    with pytest.raises(LocalProtocolError):
        conn.send(p.Quit())


@pytest.mark.parametrize("last", [p.Noop(), p.StartTLS()], ids=lambda c: type(c).__name__)
@pytest.mark.parametrize(
    "then", [MAIL, p.Rset(), p.Noop(), p.Quit()], ids=lambda c: type(c).__name__
)
def test_must_be_last_in_a_group(last: p.Command, then: p.Command) -> None:
    conn = ready(GMAIL_EHLO)
    conn.send(last)
    with pytest.raises(LocalProtocolError, match="may not follow"):
        conn.send(then)


# --- STARTTLS ---------------------------------------------------------------------------


def test_starttls_then_ehlo_again() -> None:
    conn = at(State.TLS_HANDSHAKE)
    assert conn.extensions.starttls
    assert not conn.tls
    conn.start_tls_done()
    assert conn.state is State.HELLO
    assert fresh(conn).tls
    assert conn.extensions == p.Extensions()
    with pytest.raises(LocalProtocolError):
        conn.send(MAIL)
    conn = at(State.TLS_HANDSHAKE)
    conn.start_tls_done()
    conn.send(EHLO)
    events(conn, GMAIL_EHLO)  # offers STARTTLS again: we must not use it twice
    assert conn.state is State.READY
    with pytest.raises(LocalProtocolError, match="STARTTLS"):
        conn.send(p.StartTLS())


@pytest.mark.parametrize(
    "injected", [b"250 injected\r\n", b"2", b"\r\n", b"250-PIPELINING\r\n250 ok\r\n"]
)
def test_bytes_after_starttls_220_in_the_same_chunk_are_refused(injected: bytes) -> None:
    conn = ready(GMAIL_EHLO)
    conn.send(p.StartTLS())
    conn.receive_data(b"220 2.0.0 Ready to start TLS\r\n" + injected)
    with pytest.raises(RemoteProtocolError, match="STARTTLS") as info:
        conn.next_event()
    assert info.value.line == injected
    assert conn.state is State.ERROR


def test_bytes_after_starttls_220_in_a_later_chunk_are_refused() -> None:
    conn = at(State.TLS_HANDSHAKE)
    with pytest.raises(RemoteProtocolError, match="STARTTLS"):
        conn.receive_data(b"250 injected\r\n")
    assert conn.state is State.ERROR


def test_close_during_tls_handshake() -> None:
    conn = at(State.TLS_HANDSHAKE)
    assert events(conn, b"") == [p.ConnectionClosed()]


@pytest.mark.parametrize("state", [State.HELLO, State.READY, State.TRANSACTION])
def test_start_tls_done_outside_the_handshake_is_an_error(state: State) -> None:
    conn = at(state)
    with pytest.raises(LocalProtocolError, match="TLS_HANDSHAKE"):
        conn.start_tls_done()
    assert conn.state is State.ERROR


# --- Closing, abort, unsolicited data ---------------------------------------------------


def test_quit_then_close() -> None:
    conn = ready()
    conn.send(p.Quit())
    assert conn.state is State.CLOSING
    assert events(conn, b"221 2.0.0 Bye\r\n") == [p.Response(p.Quit(), reply(221, "2.0.0 Bye"))]
    assert conn.next_event() is p.NEED_DATA
    assert events(conn, b"") == [p.ConnectionClosed()]
    conn.receive_data(b"")  # again: harmless
    assert conn.next_event() == p.ConnectionClosed()
    with pytest.raises(LocalProtocolError, match="after the connection closed"):
        conn.receive_data(b"250 late\r\n")
    assert fresh(conn).state is State.ERROR


def test_close_with_commands_pending_is_reported() -> None:
    conn = ready()
    conn.send(MAIL)
    assert events(conn, b"") == [p.ConnectionClosed()]
    assert conn.pending == (MAIL,)


def test_close_before_greeting() -> None:
    assert events(p.ClientConnection(), b"") == [p.ConnectionClosed()]


@pytest.mark.parametrize("partial", [b"250 no line end", b"250-first\r\n", b"2"])
def test_close_in_the_middle_of_a_reply(partial: bytes) -> None:
    conn = ready()
    conn.send(MAIL)
    conn.receive_data(partial)
    conn.receive_data(b"")
    with pytest.raises(RemoteProtocolError, match="middle of a reply"):
        conn.next_event()


@pytest.mark.parametrize("state", [State.HELLO, State.READY, State.CLOSING])
@pytest.mark.parametrize("data", [b"250 unsolicited\r\n", b"2", b"421 4.4.2 idle timeout\r\n"])
def test_unsolicited_data_is_refused(state: State, data: bytes) -> None:
    conn = at(state)
    conn.receive_data(data)
    with pytest.raises(RemoteProtocolError, match="no command pending") as info:
        conn.next_event()
    assert info.value.line == data


def test_extra_reply_after_pipelined_ones_is_refused() -> None:
    conn = ready()
    conn.send(MAIL)
    conn.receive_data(b"250 ok\r\n250 extra\r\n")
    assert conn.next_event() == p.Response(MAIL, reply(250, "ok"))
    with pytest.raises(RemoteProtocolError, match="no command pending"):
        conn.next_event()


def test_abort_means_never_again() -> None:
    conn = ready()
    conn.send(MAIL)
    conn.abort()
    assert conn.state is State.ERROR
    conn.abort()
    for call in (
        lambda: conn.receive_data(b"250 late reply\r\n"),
        conn.next_event,
        lambda: conn.send(p.Rset()),
        conn.start_tls_done,
    ):
        with pytest.raises(LocalProtocolError, match="ERROR"):
            call()


def test_abort_before_anything() -> None:
    conn = p.ClientConnection()
    conn.abort()
    with pytest.raises(LocalProtocolError):
        conn.receive_data(GREETING)


# --- Limits ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_line_length": 0}, "positive"),
        ({"max_reply_lines": 0}, "positive"),
        ({"max_buffer": 0}, "positive"),
        ({"max_line_length": 100, "max_buffer": 99}, "at least"),
    ],
)
def test_bad_limits(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        p.ClientConnection(**kwargs)


def test_defaults() -> None:
    assert (p.DEFAULT_MAX_LINE_LENGTH, p.DEFAULT_MAX_REPLY_LINES) == (2048, 100)
    assert p.DEFAULT_MAX_BUFFER == 256 * 1024


@pytest.mark.parametrize("ending", [b"\r\n", b"\n"])
def test_line_exactly_at_the_limit_is_accepted(ending: bytes) -> None:
    conn = p.ClientConnection(max_line_length=64)
    line = b"220 " + b"x" * (64 - 4 - len(ending)) + ending
    assert len(line) == 64
    assert len(events(conn, line)) == 1


@pytest.mark.parametrize(
    "data",
    [
        b"220 " + b"x" * 61 + b"\r\n",  # 65 octets with its end
        b"220 " + b"x" * 60,  # 64 octets and no end yet
        b"220 " + b"x" * 200,
    ],
)
def test_line_over_the_limit(data: bytes) -> None:
    conn = p.ClientConnection(max_line_length=64)
    conn.receive_data(data)
    with pytest.raises(RemoteProtocolError, match="longer than 64 octets") as info:
        conn.next_event()
    assert info.value.line is not None
    assert info.value.line.startswith(b"220 xxx")


def test_reply_lines_limit() -> None:
    ok = b"220-x\r\n" * 4 + b"220 x\r\n"
    assert len(events(p.ClientConnection(max_reply_lines=5), ok)) == 1
    conn = p.ClientConnection(max_reply_lines=5)
    conn.receive_data(b"220-x\r\n" * 5)
    with pytest.raises(RemoteProtocolError, match="longer than 5 lines"):
        conn.next_event()


def test_buffer_limit() -> None:
    conn = p.ClientConnection(max_line_length=64, max_buffer=100)
    conn.receive_data(b"220 ok\r\n" * 12)
    with pytest.raises(RemoteProtocolError, match="more than 100 octets"):
        conn.receive_data(b"220 ok\r\n")
    assert conn.state is State.ERROR
    conn = p.ClientConnection(max_line_length=64, max_buffer=100)
    with pytest.raises(RemoteProtocolError, match="more than 100 octets") as info:
        conn.receive_data(b"x" * 101)
    assert info.value.line == b"x" * 101


def test_format_reply() -> None:
    assert p.format_reply(reply(250, "a", "", "b")) == b"250-a\r\n250-\r\n250 b\r\n"
    assert p.format_reply(reply(550, "bad \udcff")) == b"550 bad \xff\r\n"
    for bad in ("a\r\nb", "a\nb", "a\rb"):
        with pytest.raises(LocalProtocolError, match="CR or LF"):
            p.format_reply(reply(250, bad))
    with pytest.raises(LocalProtocolError, match="encoded"):
        p.format_reply(reply(250, "\ud800"))


def test_need_data_repr() -> None:
    assert repr(p.NEED_DATA) == "NEED_DATA"
    assert isinstance(p.NEED_DATA, p.NeedData)

"""Replies paired with the command that asked: a reply nobody asked for is an error.

Bytes in, events out (issue 18): a server that sends a reply before the command it
answers, or more replies than commands, never has a reply paired with a later command.
"""

from __future__ import annotations

import pytest

import smtpcheck.protocol as p
from smtpcheck._errors import LocalProtocolError, RemoteProtocolError
from smtpcheck.protocol import State

GREETING = b"220 mx.example.com ESMTP\r\n"
PLAIN_EHLO = b"250-mx.example.com\r\n250 8BITMIME\r\n"
PIPELINING_EHLO = b"250-mx.example.com\r\n250 PIPELINING\r\n"


def events(conn: p.ClientConnection, data: bytes = b"") -> list[p.Event]:
    """Feed *data* (when some) and collect events until NEED_DATA."""
    if data:
        conn.receive_data(data)
    out: list[p.Event] = []
    while (event := conn.next_event()) is not p.NEED_DATA:
        out.append(event)
    return out


def first_event(conn: p.ClientConnection, data: bytes) -> p.Event:
    """Feed *data* and take one event only, as a plan does that sends right after it."""
    conn.receive_data(data)
    event = conn.next_event()
    assert event is not p.NEED_DATA
    return event


def ready(ehlo: bytes) -> p.ClientConnection:
    conn = p.ClientConnection()
    events(conn, GREETING)
    conn.send(p.Ehlo("client.example.org"))
    assert [type(e) for e in events(conn, ehlo)] == [p.Response]
    return conn


def assert_broken(conn: p.ClientConnection) -> None:
    assert conn.state is State.ERROR
    with pytest.raises(LocalProtocolError, match="ERROR"):
        conn.send(p.Quit())


def test_every_reply_at_once_is_refused_at_the_first_command() -> None:
    conn = p.ClientConnection()
    everything = GREETING + PLAIN_EHLO + b"250 2.1.0 Ok\r\n" + b"550 5.1.1 no\r\n" * 2
    assert isinstance(first_event(conn, everything), p.Greeting)
    with pytest.raises(RemoteProtocolError, match="before Ehlo was sent") as info:
        conn.send(p.Ehlo("client.example.org"))
    assert info.value.line is not None
    assert info.value.line.startswith(b"250-mx.example.com")
    assert_broken(conn)


def test_an_extra_reply_after_mail_is_not_paired_with_rcpt() -> None:
    conn = ready(PLAIN_EHLO)
    conn.send(p.MailFrom(""))
    mail = first_event(conn, b"250 2.1.0 Ok\r\n250 2.1.0 Ok again\r\n")
    assert isinstance(mail, p.Response)
    assert isinstance(mail.command, p.MailFrom)
    with pytest.raises(RemoteProtocolError, match="before RcptTo was sent"):
        conn.send(p.RcptTo("nobody@example.com"))
    assert_broken(conn)


def test_part_of_an_unasked_reply_is_enough() -> None:
    conn = ready(PLAIN_EHLO)
    conn.send(p.MailFrom(""))
    first_event(conn, b"250 2.1.0 Ok\r\n25")
    with pytest.raises(RemoteProtocolError, match="no command pending"):
        conn.send(p.RcptTo("nobody@example.com"))


def test_replies_read_before_the_next_command_are_fine() -> None:
    conn = ready(PLAIN_EHLO)
    exchanges: list[tuple[p.Command, bytes]] = [
        (p.MailFrom(""), b"250 2.1.0 Ok\r\n"),
        (p.RcptTo("a@example.com"), b"550 5.1.1 no\r\n"),
        (p.RcptTo("b@example.com"), b"250 2.1.5 Ok\r\n"),
        (p.Quit(), b"221 bye\r\n"),
    ]
    for command, answer in exchanges:
        conn.send(command)
        (event,) = events(conn, answer)
        assert isinstance(event, p.Response)
        assert event.command == command
    assert conn.state is State.CLOSING


def test_pipelined_replies_beyond_the_pending_commands_are_refused() -> None:
    conn = ready(PIPELINING_EHLO)
    for command in (p.MailFrom(""), p.RcptTo("a@example.com"), p.Quit()):
        conn.send(command)
    conn.receive_data(b"250 2.1.0 Ok\r\n250 2.1.0 Ok\r\n550 5.1.1 no\r\n221 bye\r\n")
    paired = [conn.next_event() for _ in range(3)]
    assert [type(e) for e in paired] == [p.Response] * 3
    with pytest.raises(RemoteProtocolError, match="no command pending"):
        conn.next_event()
    assert_broken(conn)


def test_pipelined_replies_may_come_in_any_reads() -> None:
    conn = ready(PIPELINING_EHLO)
    commands = (p.MailFrom(""), p.RcptTo("a@example.com"), p.RcptTo("b@example.com"))
    for command in commands:
        conn.send(command)
    got = events(conn, b"250 2.1.0 Ok\r\n25")
    got += events(conn, b"0 2.1.5 Ok\r\n")
    # A command sent while others are pending may meet their replies in the buffer.
    conn.send(p.Quit())
    got += events(conn, b"550 5.1.1 no\r\n221 bye\r\n")
    assert [e.command for e in got if isinstance(e, p.Response)] == [*commands, p.Quit()]
    assert events(conn) == []

"""Properties of the sans-IO SMTP client that must hold for any input."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

import smtpcheck.protocol as p
from smtpcheck._errors import LocalProtocolError, RemoteProtocolError

# Reply text: any characters but CR, LF and lone surrogates.
line_text = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n"), max_size=40
)
line_bytes = st.binary(max_size=40).filter(lambda b: b"\r" not in b and b"\n" not in b)
replies = st.builds(
    p.Reply,
    code=st.integers(200, 599),
    lines=st.lists(line_text, min_size=1, max_size=8).map(tuple),
)


def drain(conn: p.ClientConnection) -> list[p.Event]:
    out: list[p.Event] = []
    while (event := conn.next_event()) is not p.NEED_DATA:
        out.append(event)
        if isinstance(event, p.ConnectionClosed):
            break
    return out


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    return [c for c in chunks if c]  # b"" would mean "closed"


@given(reply=replies)
def test_format_then_parse_gives_the_reply_back(reply: p.Reply) -> None:
    conn = p.ClientConnection()
    conn.receive_data(p.format_reply(reply))
    assert drain(conn) == [p.Greeting(reply)]
    assert conn.buffered == 0


@given(lines=st.lists(line_bytes, min_size=1, max_size=8))
def test_reply_text_is_always_valid_unicode(lines: list[bytes]) -> None:
    wire = b"".join(b"220-" + line + b"\r\n" for line in lines[:-1]) + b"220 " + lines[-1]
    conn = p.ClientConnection()
    conn.receive_data(wire + b"\r\n")
    (greeting,) = drain(conn)
    assert isinstance(greeting, p.Greeting)
    for text, raw in zip(greeting.reply.lines, lines, strict=True):
        text.encode("utf-8")  # no lone surrogate: printable to any UTF-8 stream
        try:
            assert text == raw.decode("utf-8")
        except UnicodeDecodeError:
            assert text == raw.decode("latin-1")
    assert greeting.raw == tuple(lines)
    str(greeting.reply).encode("utf-8")


@given(
    greeting=replies,
    answers=st.lists(replies.filter(lambda r: r.code != 421), min_size=1, max_size=6),
    cuts=st.lists(st.integers(0, 10_000), max_size=30),
    bare_lf=st.booleans(),
)
def test_any_split_of_the_stream_gives_the_same_events(
    greeting: p.Reply, answers: list[p.Reply], cuts: list[int], bare_lf: bool
) -> None:
    greeting = p.Reply(220, greeting.lines)
    # Each reply's bytes arrive after the command it answers was sent (no PIPELINING:
    # one command at a time); how they are cut into reads is Hypothesis's choice.
    wires = [p.format_reply(r) for r in (greeting, *answers)]
    if bare_lf:
        wires = [w.replace(b"\r\n", b"\n") for w in wires]
    commands = [p.Rset() for _ in answers]

    def run(cut: bool) -> list[p.Event]:
        conn = p.ClientConnection()
        reads = [split(w, cuts) if cut else [w] for w in wires]
        feed = iter(reads[0])
        out: list[p.Event] = []
        while not out or not isinstance(out[-1], p.ConnectionClosed):
            event = conn.next_event()
            if event is p.NEED_DATA:
                conn.receive_data(next(feed, b""))
                continue
            out.append(event)
            if len(out) <= len(commands):  # one command at a time: no PIPELINING
                conn.send(commands[len(out) - 1])
                feed = iter(reads[len(out)])
        return out

    whole = run(cut=False)
    assert whole == run(cut=True)
    assert whole[0] == p.Greeting(greeting)
    assert [e.reply for e in whole[1:-1]] == answers  # type: ignore[union-attr]
    assert whole[-1] == p.ConnectionClosed()


@given(
    answers=st.lists(replies.filter(lambda r: r.code != 421), min_size=1, max_size=6),
    cuts=st.lists(st.integers(0, 10_000), max_size=30),
)
def test_replies_sent_ahead_of_their_commands_are_refused(
    answers: list[p.Reply], cuts: list[int]
) -> None:
    # The greeting and every reply sent at once, before any command, read in any cuts:
    # a reply is paired with a command only when it was still unread as the command
    # went out, which a client cannot tell from a good server: only when every reply
    # ended a read. Anything else is refused as soon as it is seen.
    wires = [b"220 hi\r\n", *map(p.format_reply, answers)]
    stream = b"".join(wires)
    chunks = split(stream, cuts)
    conn = p.ClientConnection()
    feed = iter(chunks)
    reply_ends = set(itertools.accumulate(map(len, wires)))
    if reply_ends <= set(itertools.accumulate(map(len, chunks))):
        return  # every reply ended a read: as from a good server

    def talk() -> None:
        while True:
            event = conn.next_event()
            if event is p.NEED_DATA:
                conn.receive_data(next(feed))
                continue
            conn.send(p.Rset())

    with pytest.raises(RemoteProtocolError, match="no command pending"):
        talk()
    assert conn.state is p.State.ERROR


anything = st.text(max_size=80) | st.sampled_from(
    ["\r", "\n", "\r\n", "\x00", "a\r\nDATA", "\u2028", "\x85", "é", "\ud800"]
).flatmap(lambda s: st.text(max_size=20).map(lambda t: t + s + t))


def make_commands(text: str) -> list[object]:
    return [
        lambda: p.Ehlo(text),
        lambda: p.Helo(text),
        lambda: p.MailFrom(text),
        lambda: p.MailFrom(text, smtputf8=True),
        lambda: p.MailFrom(text, smtputf8=True, size=len(text), body="8BITMIME"),
        lambda: p.RcptTo(text),
    ]


@given(text=anything)
def test_no_argument_puts_cr_or_lf_on_the_wire(text: str) -> None:
    for make in make_commands(text):
        try:
            command = make()  # type: ignore[operator]
        except LocalProtocolError:
            continue
        wire = command.to_bytes()
        assert wire.endswith(b"\r\n")
        assert wire.count(b"\r") == wire.count(b"\n") == 1
        assert b"\x00" not in wire
        assert len(wire) <= p.MAX_COMMAND_LINE


@given(chunk=st.integers(1, 5000), limit=st.integers(64, 4096))
def test_endless_line_is_refused_within_bounds(chunk: int, limit: int) -> None:
    conn = p.ClientConnection(max_line_length=limit, max_buffer=limit)
    try:
        while True:
            conn.receive_data(b"2" * chunk)
            assert conn.next_event() is p.NEED_DATA
            assert conn.buffered < limit
    except RemoteProtocolError:
        assert conn.state is p.State.ERROR


@given(chunk=st.integers(1, 3000), lines=st.integers(1, 200))
def test_endless_multiline_reply_is_refused_within_bounds(chunk: int, lines: int) -> None:
    conn = p.ClientConnection(max_reply_lines=lines)
    data = b"220-flood flood flood\r\n" * (chunk // 23 + 1)
    fed = 0
    try:
        while True:
            conn.receive_data(data)
            fed += len(data)
            assert conn.next_event() is p.NEED_DATA
            assert conn.buffered < p.DEFAULT_MAX_LINE_LENGTH
    except RemoteProtocolError:
        assert fed <= (lines + 1) * 23 + len(data)


@given(count=st.integers(1, 50))
def test_many_replies_are_refused(count: int) -> None:
    conn = p.ClientConnection()
    conn.receive_data(b"220 hi\r\n" + b"250 ok\r\n" * count)
    assert isinstance(conn.next_event(), p.Greeting)
    with pytest.raises(RemoteProtocolError, match="no command pending") as info:
        conn.next_event()
    assert info.value.line == b"250 ok\r\n" * min(count, 25)


@given(flood=st.integers(1, 64))
def test_flood_without_reading_events_hits_the_buffer_limit(flood: int) -> None:
    conn = p.ClientConnection(max_line_length=512, max_buffer=4096)
    try:
        for _ in range(10_000):
            conn.receive_data(b"250 ok\r\n" * flood)
            assert conn.buffered <= 4096
    except RemoteProtocolError:
        assert conn.buffered <= 4096
    else:
        raise AssertionError("flood accepted")

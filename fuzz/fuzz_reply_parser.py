"""Fuzz target: the protocol's reply parser, on any bytes cut into any reads.

Run: ``python fuzz/fuzz_reply_parser.py -max_total_time=300`` (see fuzz/README.md).

Invariants: the only exception is :class:`~smtpcheck.RemoteProtocolError` (after which
the connection is in ERROR); no more than ``max_buffer`` octets are ever held; every
reply's text is valid Unicode; the same bytes give the same events in one read or many.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    import smtpcheck.protocol as p
    from smtpcheck._errors import RemoteProtocolError

LIMITS = {"max_line_length": 512, "max_reply_lines": 20, "max_buffer": 4096}


def events(chunks: list[bytes]) -> list[object]:
    """Feed *chunks*, asking NOOPs one at a time; the events, or the error's name."""
    conn = p.ClientConnection(**LIMITS)
    out: list[object] = []
    feed = iter([*chunks, b""])
    try:
        while True:
            event = conn.next_event()
            if event is p.NEED_DATA:
                conn.receive_data(next(feed))
                assert conn.buffered <= LIMITS["max_buffer"]
                continue
            out.append(event)
            if isinstance(event, p.ConnectionClosed):
                return out
            assert isinstance(event, p.Greeting | p.Response)
            for line in event.reply.lines:
                line.encode("utf-8")  # valid Unicode: no lone surrogate
            if conn.state in (p.State.HELLO, p.State.READY, p.State.REFUSED):
                conn.send(p.Quit() if conn.state is p.State.REFUSED else p.Noop())
    except RemoteProtocolError as error:
        assert conn.state is p.State.ERROR
        out.append(type(error).__name__)
        return out
    except StopIteration:  # a command was refused for sending: not here
        raise AssertionError("fed past the end") from None


def test_one_input(data: bytes) -> None:
    """One fuzz input: the first byte says where to cut the rest."""
    if not data:
        return
    step, stream = data[0] + 1, data[1:]
    whole = events([stream])
    cut = events([stream[i : i + step] for i in range(0, len(stream), step)])
    # Events depend on the cuts only where a reply came before its command was sent
    # (then the cut decides whether the client saw it early): both must be sane, and
    # equal whenever neither run saw a protocol error.
    if "RemoteProtocolError" not in whole and "RemoteProtocolError" not in cut:
        assert whole == cut, (whole, cut)


def main() -> None:
    """Run the fuzzer (libFuzzer's options on the command line)."""
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

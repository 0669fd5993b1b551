"""Replies parsed per second by smtpcheck.protocol.ClientConnection.

Run: .venv/bin/python bench/protocol.py
"""

from __future__ import annotations

import time

from smtpcheck.protocol import NEED_DATA, ClientConnection, Noop, Reply, format_reply

SINGLE = format_reply(Reply(250, ("2.1.5 Ok",)))
EHLO = format_reply(
    Reply(
        250,
        (
            "mx.google.com at your service, [192.0.2.1]",
            "SIZE 157286400",
            "8BITMIME",
            "STARTTLS",
            "ENHANCEDSTATUSCODES",
            "PIPELINING",
            "CHUNKING",
            "DSN",
            "BINARYMIME",
            "SMTPUTF8",
        ),
    )
)
REPLIES = 20_000


def run(reply: bytes, chunk: int | None) -> float:
    """Parse REPLIES copies of *reply* fed in *chunk*-octet pieces (None: whole)."""
    conn = ClientConnection()
    conn.receive_data(b"220 mx.example.com\r\n")
    conn.next_event()
    pieces = (
        [reply] if chunk is None else [reply[i : i + chunk] for i in range(0, len(reply), chunk)]
    )
    start = time.perf_counter()
    for _ in range(REPLIES):
        conn.send(Noop())
        for piece in pieces:  # an event is asked for after each piece, as a driver does
            conn.receive_data(piece)
            event = conn.next_event()
        assert event is not NEED_DATA
    return REPLIES / (time.perf_counter() - start)


def main() -> None:
    for name, reply in (("single-line", SINGLE), ("10-line EHLO", EHLO)):
        for chunk in (None, 16, 1):
            label = "one chunk" if chunk is None else f"{chunk}-octet chunks"
            best = max(run(reply, chunk) for _ in range(3))
            print(f"{name:13} {len(reply):4} octets, {label:16} {best:12,.0f} replies/s")


if __name__ == "__main__":
    main()

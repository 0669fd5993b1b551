"""A sans-IO SMTP client: commands in, bytes out; bytes in, replies out.

This package does no I/O and imports nothing that does. A driver owns the socket::

    conn = ClientConnection()
    while True:
        event = conn.next_event()
        if event is NEED_DATA:
            conn.receive_data(sock.recv(65536))
            continue
        ...                       # react to Greeting / Response / ConnectionClosed
        sock.sendall(conn.send(RcptTo("someone@example.com")))

The states and their transitions are in :class:`State`; the commands are the only
lines that can be sent (there is no ``DATA``, ``BDAT``, ``VRFY`` or ``EXPN``).
"""

from __future__ import annotations

from smtpcheck.protocol._commands import (
    MAX_COMMAND_LINE,
    Command,
    Ehlo,
    Helo,
    MailFrom,
    Noop,
    Quit,
    RcptTo,
    Rset,
    StartTLS,
)
from smtpcheck.protocol._connection import (
    DEFAULT_MAX_BUFFER,
    DEFAULT_MAX_LINE_LENGTH,
    DEFAULT_MAX_REPLY_LINES,
    ClientConnection,
)
from smtpcheck.protocol._events import (
    NEED_DATA,
    ConnectionClosed,
    Event,
    Greeting,
    NeedData,
    Response,
)
from smtpcheck.protocol._extensions import Extensions
from smtpcheck.protocol._reply import EnhancedStatus, Reply, format_reply
from smtpcheck.protocol._state import State

__all__ = [
    "DEFAULT_MAX_BUFFER",
    "DEFAULT_MAX_LINE_LENGTH",
    "DEFAULT_MAX_REPLY_LINES",
    "MAX_COMMAND_LINE",
    "NEED_DATA",
    "ClientConnection",
    "Command",
    "ConnectionClosed",
    "Ehlo",
    "EnhancedStatus",
    "Event",
    "Extensions",
    "Greeting",
    "Helo",
    "MailFrom",
    "NeedData",
    "Noop",
    "Quit",
    "RcptTo",
    "Reply",
    "Response",
    "Rset",
    "StartTLS",
    "State",
    "format_reply",
]

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

import importlib
from typing import TYPE_CHECKING, Any

from smtpcheck._public import publish as _publish
from smtpcheck.protocol._reply import EnhancedStatus, Reply, format_reply

if TYPE_CHECKING:
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

# The replies are imported with the package (every Result holds one); the rest of the
# client on first use, so that `import smtpcheck` does not pay for the state machine.
_HOME = {
    "MAX_COMMAND_LINE": "_commands",
    "Command": "_commands",
    "Ehlo": "_commands",
    "Helo": "_commands",
    "MailFrom": "_commands",
    "Noop": "_commands",
    "Quit": "_commands",
    "RcptTo": "_commands",
    "Rset": "_commands",
    "StartTLS": "_commands",
    "DEFAULT_MAX_BUFFER": "_connection",
    "DEFAULT_MAX_LINE_LENGTH": "_connection",
    "DEFAULT_MAX_REPLY_LINES": "_connection",
    "ClientConnection": "_connection",
    "NEED_DATA": "_events",
    "ConnectionClosed": "_events",
    "Event": "_events",
    "Greeting": "_events",
    "NeedData": "_events",
    "Response": "_events",
    "Extensions": "_extensions",
    "State": "_state",
}

for _name in ("EnhancedStatus", "Reply", "format_reply"):
    _publish(__name__, globals()[_name])  # they report smtpcheck.protocol as their module
del _name

# Hidden from type checkers, which see the names through the TYPE_CHECKING imports.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        home = _HOME.get(name)
        if home is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = _publish(__name__, getattr(importlib.import_module(f"{__name__}.{home}"), name))
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    """The public names and the module's own dunders."""
    return sorted({*__all__, *(name for name in globals() if name.startswith("__"))})

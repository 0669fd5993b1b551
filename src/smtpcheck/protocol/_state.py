"""The client's states and the transition table: the only place that says what moves.

A state changes in three ways, each a table below:

- **sending** a command moves at once, optimistically, as if it will succeed
  (:data:`AFTER_SEND`), so that ``MAIL`` and ``RCPT`` can be pipelined;
- its **reply** confirms that move unless :data:`ON_SUCCESS` or :data:`ON_FAILURE` says
  otherwise (a refused ``MAIL`` goes back to ``READY``); a ``421`` always means
  ``CLOSING``;
- events outside the command flow: the greeting (:func:`after_greeting`), the end of the
  TLS handshake, the peer closing, an error or an abort (the constants at the end).

Transitions::

    GREETING --2xx greeting--> HELLO --EHLO/HELO 2xx--> READY --MAIL--> TRANSACTION
       |                         ^                        | ^              |  |
       +--4xx/5xx--> REFUSED     |       STARTTLS 220     | +----RSET------+  RCPT
       +--421------> CLOSING     +-- TLS_HANDSHAKE <------+   (or MAIL refused)
                                     (start_tls_done)
    any --QUIT or 421--> CLOSING --peer closes--> CLOSED;  any --error/abort--> ERROR
"""

from __future__ import annotations

import enum

from smtpcheck.protocol._commands import (
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
from smtpcheck.protocol._reply import Reply

__all__ = [
    "AFTER_SEND",
    "ALLOWED",
    "MUST_BE_LAST",
    "ON_FAILURE",
    "ON_SUCCESS",
    "State",
    "after_greeting",
    "after_reply",
    "after_send",
]


class State(enum.Enum):
    """Where a :class:`ClientConnection` is in the SMTP session.

    Attributes:
        GREETING: Connected; waiting for the server's greeting. Nothing may be sent.
        HELLO: Greeted (or TLS just started); ``EHLO`` or ``HELO`` comes next.
        READY: The session is open and no mail transaction is in progress.
        TRANSACTION: ``MAIL FROM`` was sent (and not refused); ``RCPT TO`` may follow.
        TLS_HANDSHAKE: ``STARTTLS`` got ``220``; the driver performs the TLS handshake
            and then calls :meth:`~ClientConnection.start_tls_done`.
        REFUSED: The greeting was a failure other than ``421``; only ``QUIT`` may be sent.
        CLOSING: ``QUIT`` was sent or the server answered ``421``; nothing more may be
            sent, replies still pending are still delivered.
        CLOSED: The server closed the connection.
        ERROR: A protocol error happened or the driver aborted; every call raises.
    """

    GREETING = "GREETING"
    HELLO = "HELLO"
    READY = "READY"
    TRANSACTION = "TRANSACTION"
    TLS_HANDSHAKE = "TLS_HANDSHAKE"
    REFUSED = "REFUSED"
    CLOSING = "CLOSING"
    CLOSED = "CLOSED"
    ERROR = "ERROR"


_S = State
_SESSION = (_S.HELLO, _S.READY, _S.TRANSACTION)

#: The commands that may be sent in each state (absent: none).
ALLOWED: dict[State, frozenset[type[Command]]] = {
    _S.HELLO: frozenset({Ehlo, Helo, Rset, Noop, Quit}),
    _S.READY: frozenset({MailFrom, StartTLS, Rset, Noop, Quit}),
    _S.TRANSACTION: frozenset({RcptTo, Rset, Noop, Quit}),
    _S.REFUSED: frozenset({Quit}),
}

#: Commands after which nothing may be sent until their reply (RFC 2920 §3.1, RFC 3207).
MUST_BE_LAST: frozenset[type[Command]] = frozenset({Ehlo, Helo, StartTLS, Noop, Quit})

#: Where sending a command moves, assuming it succeeds (absent: the state stays).
AFTER_SEND: dict[tuple[State, type[Command]], State] = {
    (_S.READY, MailFrom): _S.TRANSACTION,
    (_S.READY, Rset): _S.READY,
    (_S.TRANSACTION, Rset): _S.READY,
    **{(state, Quit): _S.CLOSING for state in (*_SESSION, _S.REFUSED)},
}

#: Where a positive reply moves when it differs from :data:`AFTER_SEND`.
ON_SUCCESS: dict[tuple[State, type[Command]], State] = {
    (_S.HELLO, Ehlo): _S.READY,
    (_S.HELLO, Helo): _S.READY,
    (_S.READY, StartTLS): _S.TLS_HANDSHAKE,
}

#: Where a negative reply moves when it differs from :data:`AFTER_SEND`.
ON_FAILURE: dict[tuple[State, type[Command]], State] = {
    (_S.READY, MailFrom): _S.READY,
}

#: After the TLS handshake: EHLO must be sent again.
AFTER_TLS = _S.HELLO


def after_send(state: State, command: Command) -> State:
    """The state once *command* is sent in *state*, assuming it will succeed."""
    return AFTER_SEND.get((state, type(command)), state)


def after_reply(state: State, command: Command, reply: Reply) -> State:
    """The state once *reply* to *command* arrives, *state* being the state it was sent in.

    *state* is the confirmed state: the one that the replies to all earlier commands led
    to, which may differ from the optimistic state *command* was sent in.
    """
    if state is _S.CLOSING or reply.code == 421:
        return _S.CLOSING
    # STARTTLS succeeds with 220 only (RFC 3207 §4); others with any 2xx.
    ok = reply.code == 220 if isinstance(command, StartTLS) else 200 <= reply.code < 300
    table = ON_SUCCESS if ok else ON_FAILURE
    return table.get((state, type(command)), after_send(state, command))


def after_greeting(reply: Reply) -> State:
    """The state once the greeting *reply* arrives."""
    if reply.code == 421:
        return _S.CLOSING
    return _S.HELLO if 200 <= reply.code < 300 else _S.REFUSED

"""The sans-IO SMTP client connection: commands to bytes, bytes to events."""

from __future__ import annotations

from collections import deque

from smtpcheck._errors import LocalProtocolError, PolicyError, ProtocolError, RemoteProtocolError
from smtpcheck.protocol import _state
from smtpcheck.protocol._commands import Command, Ehlo, MailFrom, RcptTo, StartTLS
from smtpcheck.protocol._events import (
    NEED_DATA,
    ConnectionClosed,
    EventOrNeedData,
    Greeting,
    Response,
)
from smtpcheck.protocol._extensions import Extensions
from smtpcheck.protocol._reader import ReplyReader
from smtpcheck.protocol._state import State

__all__ = ["ClientConnection"]

#: Default longest reply line, CRLF included. RFC 5321 says 512, real servers exceed it.
DEFAULT_MAX_LINE_LENGTH = 2048
#: Default most lines in one reply (a long EHLO reply has about 15).
DEFAULT_MAX_REPLY_LINES = 100
#: Default most octets received and not yet parsed.
DEFAULT_MAX_BUFFER = 256 * 1024


class ClientConnection:
    r"""One SMTP client session, without I/O.

    The driver writes the bytes that :meth:`send` returns, feeds what it reads to
    :meth:`receive_data` (``b""`` when the server closed), and calls :meth:`next_event`
    until it returns :data:`NEED_DATA`::

        conn = ClientConnection()
        conn.receive_data(b"220 mx.example.com ESMTP\r\n")
        conn.next_event()                 # Greeting(reply=Reply(220, ...))
        sock.sendall(conn.send(Ehlo("client.example.org")))

    Replies are paired in order with the commands awaiting them (:attr:`pending`). A
    reply nobody asked for is an error, never paired with a later command: bytes beyond
    the replies of the pending commands (:meth:`next_event`), and bytes already received
    when a command is sent with none pending (:meth:`send`), as from a server that sends
    its replies before the commands they answer.
    Several commands may be in flight only when the EHLO reply offered ``PIPELINING``,
    and never after ``EHLO``, ``HELO``, ``STARTTLS``, ``NOOP`` or ``QUIT`` (RFC 2920
    §3.1): those must wait for their reply before anything else is sent.

    Reply lines end with CRLF; a bare LF is accepted too, because some servers and
    middleboxes send it and reading replies leniently carries no smuggling risk for a
    client (a CR before the LF is removed, any other CR is kept in the text).

    Any :class:`~smtpcheck.LocalProtocolError` or
    :class:`~smtpcheck.RemoteProtocolError` raised by a method puts the connection in
    :attr:`State.ERROR <State>`, where every later call raises
    :class:`~smtpcheck.LocalProtocolError`: a broken connection is never reused.

    Args:
        max_line_length: The longest reply line accepted, in octets with its line end.
        max_reply_lines: The most lines accepted in one reply.
        max_buffer: The most octets held unparsed: :meth:`receive_data` raises
            :class:`~smtpcheck.RemoteProtocolError` beyond it. Call :meth:`next_event`
            until :data:`NEED_DATA` before receiving more. At least *max_line_length*.

    Raises:
        PolicyError: A limit is not a positive number, or *max_buffer* is smaller than
            *max_line_length*.
    """

    def __init__(
        self,
        *,
        max_line_length: int = DEFAULT_MAX_LINE_LENGTH,
        max_reply_lines: int = DEFAULT_MAX_REPLY_LINES,
        max_buffer: int = DEFAULT_MAX_BUFFER,
    ) -> None:
        if min(max_line_length, max_reply_lines, max_buffer) < 1:
            raise PolicyError("limits must be positive")
        if max_buffer < max_line_length:
            raise PolicyError("max_buffer must be at least max_line_length")
        self._reader = ReplyReader(max_line_length, max_reply_lines, max_buffer)
        self._state = State.GREETING  # as if every pending command succeeds
        self._confirmed = State.GREETING  # as the replies received so far say
        self._pending: deque[Command] = deque()
        self._extensions = Extensions()
        self._mail: MailFrom | None = None  # the last MAIL FROM sent
        self._tls = False
        self._closed = False  # the peer closed (b"" received)

    @property
    def state(self) -> State:
        """The current state, counting commands sent as if they will succeed."""
        return self._state

    @property
    def pending(self) -> tuple[Command, ...]:
        """The commands sent and awaiting replies, oldest first."""
        return tuple(self._pending)

    @property
    def extensions(self) -> Extensions:
        """What the last positive EHLO reply offered; empty before it and after STARTTLS."""
        return self._extensions

    @property
    def tls(self) -> bool:
        """True once :meth:`start_tls_done` was called."""
        return self._tls

    @property
    def buffered(self) -> int:
        """Octets received and not yet parsed (bounded by *max_buffer*)."""
        return self._reader.buffered

    def _check_usable(self) -> None:
        if self._state is State.ERROR:
            raise LocalProtocolError("the connection is in the ERROR state and cannot be used")

    def _fail(self) -> None:
        self._state = self._confirmed = State.ERROR

    def abort(self) -> None:
        """Give up on the connection, for example after a timeout.

        The connection goes to :attr:`State.ERROR <State>` for good, so that a late
        reply can never be paired with a later command. The driver closes the socket.
        Aborting twice is harmless.
        """
        self._fail()

    def receive_data(self, data: bytes) -> None:
        """Take bytes read from the server; ``b""`` means the server closed.

        Raises:
            RemoteProtocolError: Too many unparsed octets, or bytes arrived while the TLS
                handshake should be running (plaintext injected after ``220``).
            LocalProtocolError: Bytes after ``b""``, or the connection is in ERROR.
        """
        self._check_usable()
        try:
            if self._closed:
                if data:
                    raise LocalProtocolError("data received after the connection closed")
            elif not data:
                self._closed = True
            elif self._state is State.TLS_HANDSHAKE:
                raise RemoteProtocolError(
                    "plaintext received after STARTTLS 220, before TLS", line=data[:200]
                )
            else:
                self._reader.feed(data)
        except ProtocolError:
            self._fail()
            raise

    def next_event(self) -> EventOrNeedData:
        """Return the next event, or :data:`NEED_DATA` when more bytes are needed.

        Returns:
            A :class:`Greeting` (the first reply), a :class:`Response` (a reply paired
            with the oldest pending command), :class:`ConnectionClosed` (the server
            closed, now and on every later call), or :data:`NEED_DATA`.

        Raises:
            RemoteProtocolError: The server sent something that is not a valid reply, a
                reply nobody asked for, more than the limits allow, bytes after the
                ``220`` to ``STARTTLS``, or closed in the middle of a reply.
            LocalProtocolError: The connection is in ERROR.
        """
        self._check_usable()
        try:
            return self._next_event()
        except ProtocolError:
            self._fail()
            raise

    def _next_event(self) -> EventOrNeedData:
        if self._state is State.CLOSED:
            return ConnectionClosed()
        if self._confirmed is not State.GREETING and not self._pending and self._reader.in_progress:
            raise RemoteProtocolError("reply received with no command pending", self._reader.head())
        reply = self._reader.next_reply()
        if reply is None:
            if not self._closed:
                return NEED_DATA
            if self._reader.in_progress:
                raise RemoteProtocolError("connection closed in the middle of a reply")
            self._state = self._confirmed = State.CLOSED
            return ConnectionClosed()
        if self._confirmed is State.GREETING:
            self._state = self._confirmed = _state.after_greeting(reply)
            return Greeting(reply, self._reader.last_raw)
        command = self._pending.popleft()
        expected = _state.after_send(self._confirmed, command)
        self._confirmed = _state.after_reply(self._confirmed, command, reply)
        if self._confirmed is not expected:
            # The reply differs from the optimistic guess: replay the rest on it.
            state = self._confirmed
            for later in self._pending:
                state = _state.after_send(state, later)
            self._state = state
        if isinstance(command, Ehlo) and self._confirmed is State.READY:
            self._extensions = Extensions.from_reply(reply)
        if self._confirmed is State.TLS_HANDSHAKE and self._reader.in_progress:
            # RFC 3207 §5 / CVE-2024-27305 in aiosmtplib: bytes after the 220 were sent in
            # plaintext and would be read as if they had come through TLS.
            raise RemoteProtocolError(
                "data received after STARTTLS 220, before TLS", line=self._reader.head()
            )
        return Response(command, reply, self._reader.last_raw)

    def send(self, command: Command) -> bytes:
        """Queue *command* as pending and return the bytes to write.

        Raises:
            LocalProtocolError: The command is not allowed now: wrong state, the server
                did not offer what it needs (``STARTTLS``, ``PIPELINING``, ``SMTPUTF8``,
                ``SIZE``, ``8BITMIME``, ``BINARYMIME``), a non-ASCII ``RCPT TO`` in a
                transaction without ``SMTPUTF8``, or the connection is in ERROR.
            RemoteProtocolError: No command is pending and yet bytes were received and
                not read as events: the server sent a reply before the command it
                would answer. Call :meth:`next_event` until :data:`NEED_DATA` before
                sending, so that such bytes are seen here rather than paired with this
                command.
        """
        self._check_usable()
        try:
            self._check_send(command)
        except ProtocolError:
            self._fail()
            raise
        if isinstance(command, MailFrom):
            self._mail = command
        self._pending.append(command)
        self._state = _state.after_send(self._state, command)
        return command.to_bytes()

    def _check_send(self, command: Command) -> None:
        name = type(command).__name__
        if not self._pending and self._reader.in_progress:
            # Every reply asked for has been read, yet bytes are waiting: the server
            # answered a command before we sent it. Taken as this command's reply, it
            # would shift every later pairing by one (RFC 5321 §4.1.1, RFC 2920 §3.2).
            raise RemoteProtocolError(
                f"reply received before {name} was sent, with no command pending",
                line=self._reader.head(),
            )
        if type(command) not in _state.ALLOWED.get(self._state, ()):
            raise LocalProtocolError(f"{name} may not be sent in state {self._state.name}")
        if self._pending:
            if not self._extensions.pipelining:
                raise LocalProtocolError(f"{name} sent before the last reply (no PIPELINING)")
            if type(self._pending[-1]) in _state.MUST_BE_LAST:
                raise LocalProtocolError(
                    f"{name} may not follow {type(self._pending[-1]).__name__} before its reply"
                )
        ext = self._extensions
        if isinstance(command, StartTLS) and (self._tls or not ext.starttls):
            raise LocalProtocolError("STARTTLS was not offered, or TLS is already on")
        if isinstance(command, MailFrom):
            needs = {
                "SMTPUTF8": command.smtputf8,
                "SIZE": command.size is not None,
                "8BITMIME": command.body == "8BITMIME",
                "BINARYMIME": command.body == "BINARYMIME",
            }
            for keyword, used in needs.items():
                if used and keyword not in ext.raw:
                    raise LocalProtocolError(f"MAIL FROM uses {keyword}, not offered")
        if (
            isinstance(command, RcptTo)
            and not command.address.isascii()
            and not (self._mail is not None and self._mail.smtputf8)
        ):
            raise LocalProtocolError("a non-ASCII RCPT TO needs MAIL FROM with smtputf8=True")

    def start_tls_done(self) -> None:
        """Say that the TLS handshake after ``STARTTLS`` succeeded.

        The extensions are forgotten (RFC 3207 §4.2) and ``EHLO`` must be sent again.
        A driver whose handshake failed calls :meth:`abort` instead.

        Raises:
            LocalProtocolError: The state is not ``TLS_HANDSHAKE``.
        """
        self._check_usable()
        if self._state is not State.TLS_HANDSHAKE:
            self._fail()
            raise LocalProtocolError("start_tls_done() called outside TLS_HANDSHAKE")
        self._state = self._confirmed = _state.AFTER_TLS
        self._extensions = Extensions()
        self._tls = True

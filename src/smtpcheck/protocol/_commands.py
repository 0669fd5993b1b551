"""The SMTP commands a verifier may send, as values that validate themselves.

Only the commands that verification needs exist: there is no ``DATA``, ``BDAT``,
``VRFY`` or ``EXPN`` and no way to send a line of one's own choosing. Every argument is
checked on construction, so a command that exists can be written to the wire safely: no
argument can carry CR, LF or any other control character, and no line is longer than the
512 octets of RFC 5321 §4.5.3.1.4.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smtpcheck._address import path_problem
from smtpcheck._errors import LocalProtocolError

__all__ = [
    "MAX_COMMAND_LINE",
    "Command",
    "Ehlo",
    "Helo",
    "MailFrom",
    "Noop",
    "Quit",
    "RcptTo",
    "Rset",
    "StartTLS",
]

#: The longest command line, CRLF included (RFC 5321 §4.5.3.1.4).
MAX_COMMAND_LINE = 512

_BODY_TYPES = frozenset({"7BIT", "8BITMIME", "BINARYMIME"})


def _check_printable(value: str, what: str) -> None:
    # str.isprintable() is False for C0 and C1 controls, DEL, line and paragraph
    # separators, format characters and lone surrogates: nothing that could end or
    # disguise a line survives it. The space is printable.
    if not value.isprintable():
        raise LocalProtocolError(f"{what} contains a control or non-printable character")


def _check_path(address: str, what: str) -> None:
    # What may stand between the angle brackets is the address layer's rule, the same
    # one parse_address() keeps: one owner, so nothing it accepts fails here.
    problem = path_problem(address)
    if problem is not None:
        raise LocalProtocolError(f"{what} cannot be sent: {problem}")


def _check_length(line: bytes) -> None:
    if len(line) > MAX_COMMAND_LINE:
        raise LocalProtocolError(
            f"command line of {len(line)} octets is longer than {MAX_COMMAND_LINE}"
        )


def _check_domain(name: str, verb: str) -> None:
    if not name:
        raise LocalProtocolError(f"{verb} needs a name")
    _check_printable(name, f"{verb} name")
    if not name.isascii() or " " in name:
        raise LocalProtocolError(f"{verb} name must be ASCII without spaces (use A-labels)")


@dataclass(frozen=True, slots=True)
class Ehlo:
    r"""``EHLO name``: open an extended SMTP session (RFC 5321 §4.1.1.1).

    Attributes:
        name: Our host name or address literal, in ASCII (A-labels for IDNs).

    >>> Ehlo("client.example.org").to_bytes()
    b'EHLO client.example.org\r\n'
    """

    name: str

    def __post_init__(self) -> None:
        _check_domain(self.name, "EHLO")
        _check_length(self.to_bytes())

    def to_bytes(self) -> bytes:
        """The command line as sent, CRLF included."""
        return f"EHLO {self.name}\r\n".encode("ascii")


@dataclass(frozen=True, slots=True)
class Helo:
    r"""``HELO name``: open a plain SMTP session, the fallback when EHLO is refused.

    Attributes:
        name: Our host name or address literal, in ASCII.

    >>> Helo("client.example.org").to_bytes()
    b'HELO client.example.org\r\n'
    """

    name: str

    def __post_init__(self) -> None:
        _check_domain(self.name, "HELO")
        _check_length(self.to_bytes())

    def to_bytes(self) -> bytes:
        """The command line as sent, CRLF included."""
        return f"HELO {self.name}\r\n".encode("ascii")


@dataclass(frozen=True, slots=True)
class MailFrom:
    r"""``MAIL FROM:<address>`` with optional parameters: start a mail transaction.

    Attributes:
        address: The reverse-path without angle brackets; ``""`` sends the null
            reverse-path ``<>``.
        smtputf8: Add the RFC 6531 ``SMTPUTF8`` parameter. Required for a non-ASCII
            address here, and for a non-ASCII address in any ``RCPT TO`` of the
            transaction. The server must have offered ``SMTPUTF8``.
        size: The RFC 1870 ``SIZE=`` parameter, when the server offered ``SIZE``.
        body: The RFC 6152 / 3030 ``BODY=`` parameter: ``"7BIT"``, ``"8BITMIME"`` or
            ``"BINARYMIME"`` (the last two only when the server offered them).

    >>> MailFrom("", size=1000, body="8BITMIME").to_bytes()
    b'MAIL FROM:<> SIZE=1000 BODY=8BITMIME\r\n'
    """

    address: str
    smtputf8: bool = False
    size: int | None = None
    body: str | None = None

    def __post_init__(self) -> None:
        _check_path(self.address, "MAIL FROM address")
        if not self.smtputf8 and not self.address.isascii():
            raise LocalProtocolError("a non-ASCII MAIL FROM address needs smtputf8=True")
        if self.size is not None and self.size < 0:
            raise LocalProtocolError("SIZE must not be negative")
        if self.body is not None and self.body not in _BODY_TYPES:
            raise LocalProtocolError(f"BODY must be one of {sorted(_BODY_TYPES)}")
        _check_length(self.to_bytes())

    def to_bytes(self) -> bytes:
        """The command line as sent (UTF-8), CRLF included."""
        parts = [f"MAIL FROM:<{self.address}>"]
        if self.size is not None:
            parts.append(f"SIZE={self.size}")
        if self.body is not None:
            parts.append(f"BODY={self.body}")
        if self.smtputf8:
            parts.append("SMTPUTF8")
        return (" ".join(parts) + "\r\n").encode("utf-8")


@dataclass(frozen=True, slots=True)
class RcptTo:
    r"""``RCPT TO:<address>``: ask whether the server accepts this recipient.

    A non-ASCII address is valid here, but the connection sends it only in a transaction
    whose ``MAIL FROM`` had ``smtputf8=True``.

    Attributes:
        address: The forward-path without angle brackets.

    >>> RcptTo("someone@example.com").to_bytes()
    b'RCPT TO:<someone@example.com>\r\n'
    """

    address: str

    def __post_init__(self) -> None:
        if not self.address:
            raise LocalProtocolError("RCPT TO needs an address")
        _check_path(self.address, "RCPT TO address")
        _check_length(self.to_bytes())

    def to_bytes(self) -> bytes:
        """The command line as sent (UTF-8), CRLF included."""
        return f"RCPT TO:<{self.address}>\r\n".encode()


@dataclass(frozen=True, slots=True)
class Rset:
    """``RSET``: abandon the current mail transaction."""

    _line: ClassVar[bytes] = b"RSET\r\n"

    def to_bytes(self) -> bytes:
        """The command line as sent, CRLF included."""
        return self._line


@dataclass(frozen=True, slots=True)
class Noop:
    """``NOOP``: ask for a ``250`` and nothing else (a keep-alive)."""

    _line: ClassVar[bytes] = b"NOOP\r\n"

    def to_bytes(self) -> bytes:
        """The command line as sent, CRLF included."""
        return self._line


@dataclass(frozen=True, slots=True)
class Quit:
    """``QUIT``: end the session politely."""

    _line: ClassVar[bytes] = b"QUIT\r\n"

    def to_bytes(self) -> bytes:
        """The command line as sent, CRLF included."""
        return self._line


@dataclass(frozen=True, slots=True)
class StartTLS:
    """``STARTTLS``: ask to upgrade the connection to TLS (RFC 3207)."""

    _line: ClassVar[bytes] = b"STARTTLS\r\n"

    def to_bytes(self) -> bytes:
        """The command line as sent, CRLF included."""
        return self._line


#: Any command that :meth:`ClientConnection.send` accepts.
Command = Ehlo | Helo | MailFrom | RcptTo | Rset | Noop | Quit | StartTLS

"""Reading SMTP replies from a stream of bytes, incrementally and within bounds."""

from __future__ import annotations

from smtpcheck._errors import RemoteProtocolError
from smtpcheck.protocol._reply import Reply

__all__ = ["ReplyReader", "decode_text"]

# How much of an offending line an error carries.
_SHOWN = 200


def _shown(data: bytes | bytearray) -> bytes:
    return bytes(data[:_SHOWN])


def decode_text(data: bytes) -> str:
    r"""Reply text as valid Unicode: UTF-8 where it is, Latin-1 where it is not.

    Servers mostly write ASCII or UTF-8 (RFC 6531); some still write a legacy 8-bit
    charset. Latin-1 maps every byte to one character, so decoding never fails and the
    text never holds a lone surrogate: a caller can print it to any UTF-8 stream.

    >>> decode_text(b"caf\xc3\xa9"), decode_text(b"Empf\xe4nger")
    ('café', 'Empfänger')
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _parse_line(line: bytes) -> tuple[int, bool, str]:
    """Split one reply line (terminator removed) into code, is-last and text."""
    head = line[:3]
    if len(head) < 3 or not head.isdigit():
        raise RemoteProtocolError("not an SMTP reply line", line=_shown(line))
    code = int(head)
    if not 200 <= code <= 599:
        raise RemoteProtocolError(f"reply code {code} is not 200 to 599", line=_shown(line))
    separator = line[3:4]
    if separator not in (b"", b" ", b"-"):
        raise RemoteProtocolError("reply code not followed by space or '-'", line=_shown(line))
    return code, separator != b"-", decode_text(line[4:])


class ReplyReader:
    """Turns bytes into :class:`Reply` values, one line at a time.

    Lines end with LF, optionally preceded by CR (see :class:`ClientConnection`). The
    buffer is searched for LF only from where the last search stopped, so any split of
    the input costs linear time. Memory is bounded: at most *max_buffer* unparsed octets
    plus the lines of one reply, decoded and as received (*max_reply_lines* lines of at
    most *max_line_length* octets each).
    """

    def __init__(self, max_line_length: int, max_reply_lines: int, max_buffer: int) -> None:
        self._max_line = max_line_length
        self._max_lines = max_reply_lines
        self._max_buffer = max_buffer
        self._buffer = bytearray()
        self._searched = 0  # octets at the start of _buffer known to hold no LF
        self._code = 0  # code of the reply being read, when _lines is not empty
        self._lines: list[str] = []
        self._raw: list[bytes] = []  # the same lines as received
        #: The lines of the last reply returned, as received (for transcripts).
        self.last_raw: tuple[bytes, ...] = ()

    @property
    def buffered(self) -> int:
        """Octets received and not yet parsed into lines."""
        return len(self._buffer)

    @property
    def in_progress(self) -> bool:
        """True when part of a reply has been received."""
        return bool(self._buffer or self._lines)

    def head(self) -> bytes:
        """The start of the unparsed bytes, for error messages."""
        return _shown(self._buffer)

    def feed(self, data: bytes) -> None:
        """Append *data* to the buffer.

        Raises:
            RemoteProtocolError: The buffer would exceed its limit.
        """
        if len(self._buffer) + len(data) > self._max_buffer:
            raise RemoteProtocolError(
                f"more than {self._max_buffer} octets of unparsed replies",
                line=_shown(self._buffer or data),
            )
        self._buffer += data

    def _next_line(self) -> bytes | None:
        end = self._buffer.find(b"\n", self._searched)
        if end < 0:
            self._searched = len(self._buffer)
            if self._searched >= self._max_line:
                raise RemoteProtocolError(
                    f"reply line longer than {self._max_line} octets", line=self.head()
                )
            return None
        if end + 1 > self._max_line:
            raise RemoteProtocolError(
                f"reply line longer than {self._max_line} octets", line=self.head()
            )
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        self._searched = 0
        return line.removesuffix(b"\r")

    def next_reply(self) -> Reply | None:
        """Parse the next whole reply, or return None when more bytes are needed.

        Raises:
            RemoteProtocolError: The bytes are not a valid reply, or exceed a limit.
        """
        while (line := self._next_line()) is not None:
            code, last, text = _parse_line(line)
            if self._lines and code != self._code:
                raise RemoteProtocolError(
                    f"reply line with code {code} inside a {self._code} reply",
                    line=_shown(line),
                )
            self._code = code
            self._lines.append(text)
            self._raw.append(line[4:])
            if last:
                lines, self._lines = tuple(self._lines), []
                self.last_raw, self._raw = tuple(self._raw), []
                return Reply(code, lines)
            if len(self._lines) >= self._max_lines:
                raise RemoteProtocolError(
                    f"reply longer than {self._max_lines} lines", line=_shown(line)
                )
        return None

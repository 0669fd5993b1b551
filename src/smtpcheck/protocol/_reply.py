"""SMTP replies as values: the basic code, the RFC 3463 enhanced status code, the text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from smtpcheck._errors import LocalProtocolError, PolicyError

__all__ = ["EnhancedStatus", "Reply", "format_reply"]

# RFC 3463 §2: class "." subject "." detail; class is 2, 4 or 5, subject 0-999, detail 0-999.
_ENHANCED = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)")


@dataclass(frozen=True, slots=True, order=True)
class EnhancedStatus:
    """An RFC 3463 enhanced status code such as ``5.1.1``.

    Attributes:
        klass: 2 (success), 4 (persistent transient failure) or 5 (permanent failure).
        subject: The subject, such as 1 for addressing or 7 for security and policy.
        detail: The detail within the subject.
    """

    klass: int
    subject: int
    detail: int

    def __post_init__(self) -> None:
        if self.klass not in (2, 4, 5):
            raise PolicyError(f"enhanced status class must be 2, 4 or 5, not {self.klass}")
        if not (0 <= self.subject <= 999 and 0 <= self.detail <= 999):
            raise PolicyError("enhanced status subject and detail must be 0 to 999")

    @classmethod
    def parse(cls, text: str) -> EnhancedStatus | None:
        """Read an enhanced status code at the start of *text*, or return None.

        >>> EnhancedStatus.parse("5.1.1 User unknown")
        EnhancedStatus(klass=5, subject=1, detail=1)
        >>> EnhancedStatus.parse("User unknown") is None
        True
        """
        match = _ENHANCED.match(text)
        if match is None:
            return None
        return cls(int(match[1]), int(match[2]), int(match[3]))

    def __str__(self) -> str:
        return f"{self.klass}.{self.subject}.{self.detail}"


@dataclass(frozen=True, slots=True)
class Reply:
    """One whole SMTP reply, single- or multi-line (RFC 5321 §4.2).

    Attributes:
        code: The three-digit basic reply code, 200 to 599.
        lines: The text of each line after the code and its separator. A line that
            is valid UTF-8 is decoded as UTF-8, any other as Latin-1, so that decoding
            never fails and the text is always valid Unicode (never a lone surrogate).
        enhanced: The RFC 3463 enhanced status code at the start of the first line, when
            the server sent one.

    >>> r = Reply(550, ("5.1.1 <x@example.com>: Recipient address rejected",))
    >>> r.enhanced, r.text
    (EnhancedStatus(klass=5, subject=1, detail=1), '<x@example.com>: Recipient address rejected')
    """

    code: int
    lines: tuple[str, ...] = ("",)
    enhanced: EnhancedStatus | None = None

    def __post_init__(self) -> None:
        if not 200 <= self.code <= 599:
            raise PolicyError(f"reply code must be 200 to 599, not {self.code}")
        if not self.lines:
            raise PolicyError("a reply has at least one line")
        if self.enhanced is None:
            found = EnhancedStatus.parse(self.lines[0])
            if found is not None and found.klass == self.code // 100:
                object.__setattr__(self, "enhanced", found)

    @property
    def text(self) -> str:
        """The reply's text: its lines joined by spaces, enhanced codes removed."""
        parts = []
        for line in self.lines:
            found = _ENHANCED.match(line)
            parts.append(line[found.end() :].lstrip() if found else line)
        return " ".join(p for p in parts if p)

    @property
    def is_positive(self) -> bool:
        """True for 2xx and 3xx replies."""
        return self.code < 400

    @property
    def is_transient(self) -> bool:
        """True for 4xx replies (try again later)."""
        return 400 <= self.code < 500

    @property
    def is_permanent(self) -> bool:
        """True for 5xx replies."""
        return self.code >= 500

    def __str__(self) -> str:
        return " / ".join(f"{self.code} {line}".rstrip() for line in self.lines)


def format_reply(reply: Reply) -> bytes:
    r"""Write *reply* as a server would send it: one CRLF-ended line per text line.

    Every line but the last has a ``-`` after the code, the last a space. The text is
    encoded as UTF-8 (with ``surrogateescape``, so that a test can write any byte as an
    escaped surrogate, ``"\udcff"`` for ``0xff``). The enhanced code is written only
    as part of the text, where :class:`Reply` finds it.

    >>> format_reply(Reply(250, ("mx.example.com", "PIPELINING")))
    b'250-mx.example.com\r\n250 PIPELINING\r\n'

    Raises:
        LocalProtocolError: A line contains CR or LF, or text that cannot be encoded.
    """
    out = bytearray()
    last = len(reply.lines) - 1
    for index, line in enumerate(reply.lines):
        if "\r" in line or "\n" in line:
            raise LocalProtocolError("a reply line must not contain CR or LF")
        try:
            text = line.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as exc:
            raise LocalProtocolError("a reply line cannot be encoded as UTF-8") from exc
        out += b"%d%s%s\r\n" % (reply.code, b" " if index == last else b"-", text)
    return bytes(out)

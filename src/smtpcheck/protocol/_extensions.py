"""The service extensions a server lists in its EHLO reply, as a typed value."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from smtpcheck.protocol._reply import Reply

__all__ = ["Extensions"]

# RFC 5321 §4.1.1.1: ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-").
_KEYWORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
# Digits of a SIZE parameter; longer numbers are nonsense, not a limit.
_SIZE = re.compile(r"[0-9]{1,20}")


def _empty() -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class Extensions:
    """What the server offered in its EHLO reply (RFC 5321 §4.1.1.1).

    An empty ``Extensions()`` means nothing was offered: before EHLO, after ``HELO``,
    and after ``STARTTLS`` until EHLO is sent again.

    Attributes:
        size: The RFC 1870 ``SIZE`` limit in octets; None when ``SIZE`` was not
            offered, had no number, or was ``0`` (no fixed limit). ``"SIZE" in raw``
            tells whether it was offered.
        starttls: ``STARTTLS`` (RFC 3207).
        pipelining: ``PIPELINING`` (RFC 2920).
        smtputf8: ``SMTPUTF8`` (RFC 6531).
        eightbitmime: ``8BITMIME`` (RFC 6152).
        enhancedstatuscodes: ``ENHANCEDSTATUSCODES`` (RFC 2034).
        chunking: ``CHUNKING`` (RFC 3030).
        dsn: ``DSN`` (RFC 3461).
        auth: The SASL mechanisms of ``AUTH`` (and of the old ``AUTH=`` form), upper case.
        raw: Every keyword offered, upper case, mapped to its parameters, including the
            keywords this class has no field for.

    >>> ext = Extensions.from_reply(Reply(250, ("mx.example.com", "SIZE 1000", "X-FOO a b")))
    >>> ext.size, ext.pipelining, ext.raw["X-FOO"]
    (1000, False, ('a', 'b'))
    """

    size: int | None = None
    starttls: bool = False
    pipelining: bool = False
    smtputf8: bool = False
    eightbitmime: bool = False
    enhancedstatuscodes: bool = False
    chunking: bool = False
    dsn: bool = False
    auth: frozenset[str] = frozenset()
    raw: Mapping[str, tuple[str, ...]] = field(default_factory=_empty, hash=False)

    @classmethod
    def from_reply(cls, reply: Reply) -> Extensions:
        """Read the extensions from a positive EHLO reply.

        The first line is the server's name and greeting, each later line one keyword
        and its parameters. Parsing is tolerant: a line that does not start with a valid
        keyword is ignored, and unknown keywords are kept in :attr:`raw`.
        """
        raw: dict[str, tuple[str, ...]] = {}
        auth: set[str] = set()
        for line in reply.lines[1:]:
            words = line.split()
            if not words:
                continue
            keyword, equals, first = words[0].partition("=")
            params = tuple(words[1:])
            if equals and keyword.upper() == "AUTH":
                # Old servers advertise "AUTH=LOGIN PLAIN" for old clients.
                auth.update(p.upper() for p in (first, *params) if p)
                continue
            if equals or not _KEYWORD.fullmatch(keyword):
                continue
            keyword = keyword.upper()
            raw[keyword] = params
            if keyword == "AUTH":
                auth.update(p.upper() for p in params)
        size_params = raw.get("SIZE", ())
        size = int(size_params[0]) if size_params and _SIZE.fullmatch(size_params[0]) else None
        return cls(
            size=size or None,
            starttls="STARTTLS" in raw,
            pipelining="PIPELINING" in raw,
            smtputf8="SMTPUTF8" in raw,
            eightbitmime="8BITMIME" in raw,
            enhancedstatuscodes="ENHANCEDSTATUSCODES" in raw,
            chunking="CHUNKING" in raw,
            dsn="DSN" in raw,
            auth=frozenset(auth),
            raw=MappingProxyType(raw),
        )

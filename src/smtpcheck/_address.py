r"""Email address syntax and normalisation: can this text follow ``RCPT TO:<``?

:func:`parse_address` answers one question: could the text be used as the mailbox in
``RCPT TO:<...>`` (:rfc:`5321` §4.1.2), with SMTPUTF8 local parts (:rfc:`6531`) and
IDNA 2008 domains (through the ``idna`` package)? It is a pure function: no DNS, no I/O.
It returns an :class:`Address` or raises :class:`~smtpcheck.InvalidAddress`.

What is accepted:

- A local part that is a dot-string of ``atext`` characters (letters, digits and
  ``!#$%&'*+-/=?^_`{|}~``) and, unless ``allow_smtputf8=False``, non-ASCII characters.
  Non-ASCII characters must be graphic: not a control, format, private-use, surrogate or
  unassigned code point (Unicode categories ``C*``), not a space or separator (``Z*``)
  and not default-ignorable (invisible: SOFT HYPHEN, ZERO WIDTH SPACE, JOINER and
  NON-JOINER, variation selectors, Hangul fillers, ...). The first character may not be
  a combining mark, which would join the ``<`` or ``:`` before it on the wire and in
  every display. The local part is put in NFC; its case is kept, because the local part
  is case-sensitive.
- A quoted local part (``"john doe"@example.org``), unless ``allow_quoted_local=False``.
  Inside the quotes: printable ASCII (``<`` and ``>`` included: :rfc:`5321` allows them
  there, and servers parse them as part of the quoted string), the non-ASCII characters
  above, and quoted pairs (a backslash and a printable ASCII character). It is rewritten
  with the least quoting possible (:rfc:`5321` §4.1.2): ``"john"`` becomes ``john``,
  ``"\\a"`` becomes ``a``. :attr:`Address.is_quoted` tells whether quotes are still
  needed.
- The empty quoted local part, ``""@example.org``: :rfc:`5321` §4.1.2 allows it
  (``Quoted-string = DQUOTE *QcontentSMTP DQUOTE``), so the server, not the syntax
  check, decides whether it is a mailbox. It stays quoted (``is_quoted`` is true), so
  ``allow_quoted_local=False`` refuses it. An unquoted empty local part (``@example.org``)
  is refused (``local_empty``).
- A domain name, mapped as UTS #46 does and checked by IDNA 2008: :attr:`Address.domain`
  holds U-labels, :attr:`Address.ascii_domain` A-labels. The only changes made to what
  was typed are the documented ones: lower case, NFC, full-width and half-width forms to
  their usual width, the ideographic full stops to ``.``, and A-labels to U-labels. A
  character that UTS #46 would delete (an invisible, default-ignorable character) or
  change in any other way (a ligature such as ``ﬁ``, a mathematical or superscript
  letter) is refused rather than silently changed, so the address checked is the address
  typed. Host-name rules apply: a label holds letters, digits and inner hyphens only, so
  ``_`` is refused. In a domain that has a right-to-left label, every label, ASCII ones
  included, must satisfy the Bidi rule (:rfc:`5893` §2). The last label must end with a
  letter, as every top-level domain does (IDN ones in A-label form included; :rfc:`3696`
  §2 forbids all-numeric ones): an IP address belongs in brackets.
- An address literal (``[192.0.2.1]``, ``[IPv6:2001:db8::1]``, :rfc:`5321` §4.1.3), only
  with ``allow_domain_literal=True``. IPv6 follows the grammar of :rfc:`5321` §4.1.3,
  which is stricter than Python's :mod:`ipaddress`: ``::`` stands for at least two zero
  groups, so at most 6 groups may stand beside it (at most 4 beside an IPv4 tail). IPv4
  parts with leading zeros, IPv6 zone ids and tags other than ``IPv6:`` are refused. The
  literal is rewritten in canonical form.

What is refused, and the decisions behind it:

- Comments and folding white space (:rfc:`5322`): they are not SMTP syntax.
- White space before or after the address: refused (reason ``whitespace``), not
  stripped. The caller decides whether ``" a@b.org "`` is a typo to fix or bad data;
  readers of files of addresses strip each line themselves.
- A trailing dot in the domain (``user@example.com.``): refused (``domain_invalid``).
  :rfc:`5321` has no such form, and servers refuse it.
- A single-label domain (``user@localhost``), unless ``allow_single_label=True``.
- A special-use name, unless ``allow_special_use=True``: the domain is, or ends with,
  one of ``test``, ``invalid``, ``localhost`` (:rfc:`6761` §6.2-6.4), ``local``
  (:rfc:`6762`), ``onion`` (:rfc:`7686`), ``alt`` (:rfc:`9476`), ``home.arpa``
  (:rfc:`8375`) or anything else under ``arpa`` (:rfc:`3172`: infrastructure, not mail).
  None of them can receive mail over the internet; the refusal names the RFC. To probe a
  loopback test world such as ``user@shop.test`` or ``user@localhost``, pass
  ``allow_special_use=True`` (and ``allow_single_label=True`` for ``localhost``).
  ``example``, ``example.com``, ``example.net`` and ``example.org`` are *not* refused:
  :rfc:`6761` §6.5 says applications SHOULD NOT treat them as special. They are ordinary
  names; the ``.com``, ``.net`` and ``.org`` ones publish a null MX, which
  :func:`smtpcheck.verify` reports from DNS (``undeliverable``, ``null_mx``).

Every accepted address can be sent: :attr:`Address.smtp_path` always satisfies
:func:`path_problem`, the one rule of what may stand between the angle brackets of
``MAIL FROM`` and ``RCPT TO``, which the commands of ``smtpcheck.protocol`` check too.

Length limits, in octets of UTF-8: the local part 64, a label 63 and the domain 255
(both counted in A-labels, as DNS sees them), the whole address 254, counted on the
longer of :attr:`Address.normalized` and :attr:`Address.smtp_path`. They apply to the
normalised form. Text longer than 1,024 characters is refused at once as ``too_long``:
no valid address comes near it, so hostile input costs microseconds.

The reasons :class:`~smtpcheck.InvalidAddress` carries, checked in this order:

==============================  ==========================================================
``empty``                       the text is empty
``too_long``                    the text or the normalised address is too long
``control_character``           a control character (CR, LF, NUL, TAB, DEL, C1) anywhere
``whitespace``                  white space before or after the address
``no_at_sign``                  there is no ``@``
``local_empty``                 nothing before the ``@`` (``""`` is a valid quoted
                                local part, not an empty one)
``local_invalid_char``          a character the local part may not hold (unquoted space,
                                comment, stray quote, bad escape, non-graphic or
                                invisible character, a combining mark first)
``local_dot``                   a dot at the start or end of the local part, or two dots
``quoted_local_not_allowed``    the local part needs quotes and they are not allowed
``smtputf8_not_allowed``        a non-ASCII local part and ``allow_smtputf8=False``
``local_too_long``              the local part is longer than 64 octets
``domain_empty``                nothing after the ``@``
``domain_literal_not_allowed``  an address literal and ``allow_domain_literal=False``
``domain_literal_invalid``      an address literal that is not an IPv4 or IPv6 address
                                of :rfc:`5321` §4.1.3
``domain_invalid``              not a valid domain name (a character, a hyphen, an
                                empty label, a trailing dot, an invisible character or
                                one that IDNA would change, the Bidi rule, a last label
                                that does not end with a letter)
``label_too_long``              a label longer than 63 octets in A-label form
``domain_too_long``             a domain longer than 255 octets in A-label form
``domain_single_label``         a domain of one label
``domain_special_use``          a special-use domain name (the message names the RFC)
==============================  ==========================================================

The set is also available as :data:`REASONS`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import ipaddress
import re
import string
import unicodedata
from typing import Final

import idna

from smtpcheck._errors import InvalidAddress, PolicyError

__all__ = ["REASONS", "Address", "parse_address", "path_problem"]

REASONS: Final = frozenset(
    {
        "empty",
        "too_long",
        "control_character",
        "whitespace",
        "no_at_sign",
        "local_empty",
        "local_invalid_char",
        "local_dot",
        "quoted_local_not_allowed",
        "smtputf8_not_allowed",
        "local_too_long",
        "domain_empty",
        "domain_literal_not_allowed",
        "domain_literal_invalid",
        "domain_invalid",
        "label_too_long",
        "domain_too_long",
        "domain_single_label",
        "domain_special_use",
    }
)
"""Every value :attr:`InvalidAddress.reason <smtpcheck.InvalidAddress>` can take here."""

_MAX_INPUT_CHARS: Final = 1024
_MAX_ADDRESS_OCTETS: Final = 254
_MAX_LOCAL_OCTETS: Final = 64
_MAX_DOMAIN_OCTETS: Final = 255
_MAX_LABEL_OCTETS: Final = 63

_ATEXT: Final = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~\-"
# An ASCII dot-string: the fast path for the common case.
_ASCII_DOT_STRING: Final = re.compile(rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*")
# A dot-string whose non-ASCII characters have already been vetted.
_DOT_STRING: Final = re.compile(rf"[{_ATEXT}\x80-\U0010ffff]+(?:\.[{_ATEXT}\x80-\U0010ffff]+)*")
# An ASCII host-name label; with no "--" in the third and fourth places, IDNA 2008
# accepts it as it is.
_LDH_LABEL: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# The label separators UTS #46 maps to ".".
_DOTS: Final = re.compile("[.\u3002\uff0e\uff61]")
# Default_Ignorable_Code_Point (Unicode 15.1, DerivedCoreProperties.txt): characters that
# are invisible by default. UTS #46 deletes most of them from a domain ("ignored", such as
# SOFT HYPHEN and the variation selectors), and transitional processing deleted ZERO
# WIDTH (NON-)JOINER, so the same typed text named different domains in different
# software. None of them belongs in an address: refused in both parts, never removed.
# (Every character that the idna package's UTS #46 table maps to nothing is in this set;
# a test checks it against that table.)
_INVISIBLE: Final = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
# RFC 5321 §4.1.2 path text: an optional leading Quoted-string (qtext, or a backslash and
# printable ASCII), then text with no space, quote, backslash or angle bracket. Outside
# the quotes a server may end the path at a space or ">"; inside them it may not.
_PATH: Final = re.compile(r'(?:"(?:[^"\\]|\\[ -~])*")?[^ "<>\\]*')
_ATEXT_CHARS: Final = frozenset(string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-.")
_CONTROL_NAMES: Final = {
    0x00: "NULL",
    0x09: "CHARACTER TABULATION",
    0x0A: "LINE FEED",
    0x0D: "CARRIAGE RETURN",
}

# Names special to applications, by their last one or two labels (the longer one wins).
# Not here: example, example.com, example.net, example.org (RFC 6761 §6.5: applications
# SHOULD NOT treat them as special; DNS answers for them, with a null MX for the last three).
_SPECIAL_USE: Final = {
    "test": "RFC 6761 §6.2",
    "localhost": "RFC 6761 §6.3",
    "invalid": "RFC 6761 §6.4",
    "local": "RFC 6762",
    "onion": "RFC 7686",
    "alt": "RFC 9476",
    "home.arpa": "RFC 8375",
    "arpa": "RFC 3172",
}

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Address:
    """A mailbox that can follow ``RCPT TO:<``, normalised.

    Build one with :func:`parse_address`. Building one directly checks that the fields
    agree with what :func:`parse_address` makes of :attr:`normalized` (with every
    ``allow_*`` option on), so an ``Address`` is always safe to put on the wire.

    Attributes:
        local_part: The part before ``@``, in NFC, case kept. A local part that needs
            quotes is stored quoted, with the least quoting possible:
            ``'"john doe"'``.
        domain: The domain in Unicode (U-labels, NFC, lower case), or the address
            literal in canonical form, such as ``'[192.0.2.1]'`` or
            ``'[IPv6:2001:db8::1]'``.
        ascii_domain: The domain in A-labels (``'xn--exmple-cua.org'``), or the same
            address literal as :attr:`domain`.
        is_quoted: Whether :attr:`local_part` needs (and has) quotes.
        requires_smtputf8: Whether the local part holds non-ASCII characters, so that
            the server must offer ``SMTPUTF8`` (:rfc:`6531`).
        domain_literal: The IP address of an address literal, or ``None`` for a domain
            name.
    """

    local_part: str
    domain: str
    ascii_domain: str
    is_quoted: bool = False
    requires_smtputf8: bool = False
    domain_literal: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None

    def __post_init__(self) -> None:
        expected = _parse(
            f"{self.local_part}@{self.domain}",
            allow_domain_literal=True,
            allow_single_label=True,
            allow_special_use=True,
            allow_quoted_local=True,
            allow_smtputf8=True,
        )
        actual = (
            self.local_part,
            self.domain,
            self.ascii_domain,
            self.is_quoted,
            self.requires_smtputf8,
            self.domain_literal,
        )
        if actual != expected:
            raise PolicyError(
                f"these Address fields do not agree with each other: {actual!r}; "
                "build an Address with parse_address()"
            )

    @property
    def normalized(self) -> str:
        """The address in Unicode: local part as kept, ``@``, :attr:`domain`."""
        return f"{self.local_part}@{self.domain}"

    @property
    def smtp_path(self) -> str:
        """The exact text to put inside ``RCPT TO:<...>``.

        The local part as kept (quoted if :attr:`is_quoted`), ``@`` and
        :attr:`ascii_domain`. It is ASCII unless :attr:`requires_smtputf8`.
        """
        return f"{self.local_part}@{self.ascii_domain}"

    def __str__(self) -> str:
        return self.normalized


def parse_address(
    text: str,
    /,
    *,
    allow_domain_literal: bool = False,
    allow_single_label: bool = False,
    allow_special_use: bool = False,
    allow_quoted_local: bool = True,
    allow_smtputf8: bool = True,
) -> Address:
    """Check that *text* is a mailbox usable in ``RCPT TO`` and normalise it.

    Args:
        text: The address, such as ``"Jöhn@exämple.org"``. It must not have white
            space around it.
        allow_domain_literal: Accept an address literal such as ``user@[192.0.2.1]``
            or ``user@[IPv6:2001:db8::1]``.
        allow_single_label: Accept a domain of one label, such as ``user@localhost``.
        allow_special_use: Accept special-use names (``.test``, ``.invalid``,
            ``.localhost``, ``.local``, ``.onion``, ``.alt``, ``.arpa``), as a
            loopback test world needs.
        allow_quoted_local: Accept a local part that needs quotes, such as
            ``"john doe"``. A needlessly quoted local part is unquoted and accepted
            either way.
        allow_smtputf8: Accept a non-ASCII local part, which needs a server that
            offers ``SMTPUTF8``. Non-ASCII domains are always accepted: they go on the
            wire as A-labels.

    Returns:
        The normalised address.

    Raises:
        InvalidAddress: The text cannot be used as a mailbox; ``reason`` is one of
            those listed under :class:`~smtpcheck.InvalidAddress`.
        PolicyError: *text* is not a ``str``.

    Examples:
        >>> address = parse_address("Jöhn.Doe@Exämple.ORG")
        >>> address.normalized
        'Jöhn.Doe@exämple.org'
        >>> address.smtp_path
        'Jöhn.Doe@xn--exmple-cua.org'
        >>> address.requires_smtputf8
        True
        >>> parse_address('"john doe"@例え。JP').smtp_path
        '"john doe"@xn--r8jz45g.jp'
        >>> parse_address("user@shop.test", allow_special_use=True).domain
        'shop.test'
        >>> parse_address("postmaster@[IPv6:2001:DB8::1]", allow_domain_literal=True)
        ... # doctest: +NORMALIZE_WHITESPACE
        Address(local_part='postmaster', domain='[IPv6:2001:db8::1]',
                ascii_domain='[IPv6:2001:db8::1]', is_quoted=False,
                requires_smtputf8=False, domain_literal=IPv6Address('2001:db8::1'))
        >>> try:
        ...     parse_address("user@exa mple.org")
        ... except InvalidAddress as error:
        ...     print(error.reason)
        ...     print(error)
        domain_invalid
        the part after @ is not a valid domain name: label 'exa mple' contains a space
    """
    if not isinstance(text, str):
        raise PolicyError(f"parse_address() takes a str, not {type(text).__name__}")
    parsed = _parse(
        text,
        allow_domain_literal=allow_domain_literal,
        allow_single_label=allow_single_label,
        allow_special_use=allow_special_use,
        allow_quoted_local=allow_quoted_local,
        allow_smtputf8=allow_smtputf8,
    )
    # The fields come from _parse itself: skip __post_init__, which would parse again.
    address = object.__new__(Address)
    for name, value in zip(_FIELDS, parsed, strict=True):
        object.__setattr__(address, name, value)
    return address


def path_problem(path: str, /) -> str | None:
    r"""Say why *path* cannot be sent between the angle brackets of a command, or None.

    This is the one rule of what smtpcheck puts inside ``MAIL FROM:<...>`` and
    ``RCPT TO:<...>``: :func:`parse_address` accepts only addresses whose
    :attr:`Address.smtp_path` passes it, and the commands of ``smtpcheck.protocol``
    refuse any other path with :class:`~smtpcheck.LocalProtocolError`.

    The rule (:rfc:`5321` §4.1.2, :rfc:`6531` §3.3): every character is printable ASCII
    or a graphic non-ASCII character (not a control, format, private-use, surrogate or
    unassigned code point, not a separator, not default-ignorable); and a space, ``"``,
    ``\``, ``<`` or ``>`` stands only inside a leading quoted local part, where a server
    reads it as part of the quoted string rather than as the end of the path. It checks
    what can be written, not what is a valid mailbox: ``Postmaster`` and ``""`` (the
    null path) pass.

    Args:
        path: The text between the angle brackets.

    Returns:
        A sentence saying what is wrong, or ``None`` when the path can be sent.

    Examples:
        >>> path_problem('"a>b"@shop.de') is None
        True
        >>> path_problem("a>b@shop.de")
        'it has a space, quote, backslash or angle bracket outside a quoted local part'
        >>> path_problem("jo\u200dhn@shop.de")
        'it contains U+200D ZERO WIDTH JOINER, which is not a graphic character'
    """
    if not _PATH.fullmatch(path):
        return "it has a space, quote, backslash or angle bracket outside a quoted local part"
    if path.isascii():
        if path.isprintable():
            return None
        bad = next(char for char in path if not char.isprintable())
    else:
        found = next((char for char in path if not _graphic(char)), None)
        if found is None:
            return None
        bad = found
    return f"it contains {_describe(bad)}, which is not a graphic character"


@functools.lru_cache(maxsize=4096)
def _graphic(char: str) -> bool:
    """Whether *char* may stand in a path: printable ASCII, or graphic non-ASCII."""
    if char.isascii():
        return char.isprintable()
    return unicodedata.category(char)[0] not in "CZ" and not _INVISIBLE.match(char)


_Parsed = tuple[str, str, str, bool, bool, _IPAddress | None]
_FIELDS: Final = tuple(field.name for field in dataclasses.fields(Address))


def _parse(
    text: str,
    *,
    allow_domain_literal: bool,
    allow_single_label: bool,
    allow_special_use: bool,
    allow_quoted_local: bool,
    allow_smtputf8: bool,
) -> _Parsed:
    if not text:
        raise InvalidAddress(text, "empty", "the address is empty")
    if len(text) > _MAX_INPUT_CHARS:
        raise InvalidAddress(
            text,
            "too_long",
            f"the address is {len(text)} characters long; no valid address is longer "
            f"than {_MAX_ADDRESS_OCTETS} octets",
        )
    control = _CONTROL.search(text)
    if control:
        raise InvalidAddress(
            text,
            "control_character",
            f"the address contains a control character ({_describe(control.group())}) "
            f"at position {control.start() + 1}",
        )
    if text != text.strip():
        raise InvalidAddress(
            text,
            "whitespace",
            "the address has white space before or after it; remove it first",
        )
    local, at, raw_domain = text.rpartition("@")
    if not at:
        raise InvalidAddress(text, "no_at_sign", "the address has no @")
    local_part, is_quoted = _parse_local(text, local, allow_quoted_local=allow_quoted_local)
    requires_smtputf8 = not local_part.isascii()
    if requires_smtputf8 and not allow_smtputf8:
        raise InvalidAddress(
            text,
            "smtputf8_not_allowed",
            "the part before @ has non-ASCII characters, which need SMTPUTF8, and "
            "SMTPUTF8 is not allowed here",
        )
    local_octets = len(local_part.encode("utf-8"))
    if local_octets > _MAX_LOCAL_OCTETS:
        raise InvalidAddress(
            text,
            "local_too_long",
            f"the part before @ is {local_octets} octets long; the limit is {_MAX_LOCAL_OCTETS}",
        )
    domain_literal: _IPAddress | None = None
    if not raw_domain:
        raise InvalidAddress(text, "domain_empty", "there is nothing after the @")
    if raw_domain.startswith("["):
        if not allow_domain_literal:
            raise InvalidAddress(
                text,
                "domain_literal_not_allowed",
                "the part after @ is an address literal, and address literals are not allowed here",
            )
        domain_literal = _parse_literal(text, raw_domain)
        domain = ascii_domain = _literal_text(domain_literal)
    else:
        domain, ascii_domain = _parse_domain(
            text,
            raw_domain,
            allow_single_label=allow_single_label,
            allow_special_use=allow_special_use,
        )
    octets = max(
        len(f"{local_part}@{domain}".encode()),
        len(f"{local_part}@{ascii_domain}".encode()),
    )
    if octets > _MAX_ADDRESS_OCTETS:
        raise InvalidAddress(
            text,
            "too_long",
            f"the address is {octets} octets long; the limit is {_MAX_ADDRESS_OCTETS}",
        )
    return local_part, domain, ascii_domain, is_quoted, requires_smtputf8, domain_literal


def _describe(char: str) -> str:
    """Name a character for a person: ``a space``, ``'('``, ``U+00A0 NO-BREAK SPACE``."""
    if char == " ":
        return "a space"
    if char.isascii() and char.isprintable():
        return repr(char)
    name = _CONTROL_NAMES.get(ord(char)) or unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}".rstrip()


def _local_error(text: str, char: str) -> InvalidAddress:
    if char in "()":
        detail = "; comments are not part of SMTP addresses"
    elif char == '"':
        detail = '; a quoted local part must be quoted as a whole, as in "john doe"@'
    elif char.isascii():
        detail = ", which is only allowed inside a quoted local part"
    elif _INVISIBLE.match(char):
        detail = ", an invisible character, which a mailbox name may not contain"
    else:
        detail = ", which a mailbox name may not contain"
    return InvalidAddress(
        text,
        "local_invalid_char",
        f"the part before @ contains {_describe(char)}{detail}",
    )


def _check_unicode(text: str, char: str) -> None:
    """Refuse a non-ASCII character that is not graphic (``C*``, ``Z*``, invisible)."""
    if not _graphic(char):
        raise _local_error(text, char)


def _check_first(text: str, content: str) -> None:
    """Refuse a local part that starts with a combining mark.

    It would combine with the character before it: ``<`` or ``:`` on the wire, the quote
    or the quote's neighbour in every display (the same rule as email-validator's).
    """
    if not content.isascii() and unicodedata.category(content[0])[0] == "M":
        raise InvalidAddress(
            text,
            "local_invalid_char",
            f"the part before @ starts with {_describe(content[0])}, a combining mark, "
            "which would join the character before the address",
        )


def _parse_local(text: str, local: str, *, allow_quoted_local: bool) -> tuple[str, bool]:
    """Return the local part in NFC with the least quoting, and whether it is quoted."""
    if not local:
        raise InvalidAddress(text, "local_empty", "there is nothing before the @")
    if _ASCII_DOT_STRING.fullmatch(local):
        return local, False
    if not local.startswith('"'):
        for char in local:
            if char.isascii():
                if char not in _ATEXT_CHARS:
                    raise _local_error(text, char)
            else:
                _check_unicode(text, char)
        local = unicodedata.normalize("NFC", local)
        _check_first(text, local)
        if not _DOT_STRING.fullmatch(local):
            raise InvalidAddress(
                text,
                "local_dot",
                "the part before @ starts or ends with a dot, or has two dots in a row",
            )
        return local, False
    content = unicodedata.normalize("NFC", _unquote(text, local))
    # RFC 5321 §4.1.2: Quoted-string = DQUOTE *QcontentSMTP DQUOTE, so "" is a valid
    # (empty) quoted local part. It stays quoted: no dot-string can stand for it.
    if content:
        _check_first(text, content)
    if _DOT_STRING.fullmatch(content):
        return content, False
    if not allow_quoted_local:
        raise InvalidAddress(
            text,
            "quoted_local_not_allowed",
            "the part before @ needs quotes, and quoted local parts are not allowed here",
        )
    escaped = content.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"', True


def _unquote(text: str, local: str) -> str:
    """Return the content of a quoted local part, with quoted pairs resolved."""
    if len(local) < 2 or not local.endswith('"'):
        raise InvalidAddress(
            text,
            "local_invalid_char",
            "the quoted part before @ has no closing quote",
        )
    content: list[str] = []
    chars = iter(local[1:-1])
    for char in chars:
        if char == "\\":
            escaped = next(chars, "")
            if not " " <= escaped <= "~":
                raise InvalidAddress(
                    text,
                    "local_invalid_char",
                    "a backslash in a quoted local part must be followed by a printable "
                    "ASCII character",
                )
            content.append(escaped)
            continue
        if char == '"':
            raise _local_error(text, char)
        if not char.isascii():
            _check_unicode(text, char)
        content.append(char)
    return "".join(content)


# RFC 5321 §4.1.3, IPv6-addr. "::" stands for at least two zero groups: at most 6 groups
# beside it (IPv6-comp), at most 4 beside it and an IPv4 tail (IPv6v4-comp). Python's
# ipaddress is laxer (it takes "::" for one group, and 5 groups + "::" + IPv4).
_HEX4: Final = "[0-9A-Fa-f]{1,4}"
_IPV4_TAIL: Final = r"\d{1,3}(?:\.\d{1,3}){3}"
_IPV6_FULL: Final = re.compile(rf"{_HEX4}(?::{_HEX4}){{7}}")
_IPV6_COMP: Final = re.compile(rf"(?:{_HEX4}(?::{_HEX4}){{0,5}})?::(?:{_HEX4}(?::{_HEX4}){{0,5}})?")
_IPV6V4_FULL: Final = re.compile(rf"{_HEX4}(?::{_HEX4}){{5}}:{_IPV4_TAIL}")
_IPV6V4_COMP: Final = re.compile(
    rf"(?:{_HEX4}(?::{_HEX4}){{0,3}})?::(?:{_HEX4}(?::{_HEX4}){{0,3}}:)?{_IPV4_TAIL}"
)


def _rfc5321_ipv6(value: str) -> bool:
    """Whether *value* is an RFC 5321 IPv6-addr (the group counts included)."""
    if _IPV6_FULL.fullmatch(value) or _IPV6V4_FULL.fullmatch(value):
        return True
    groups = len([part for part in value.replace("::", ":").split(":") if part])
    if _IPV6_COMP.fullmatch(value):
        return groups <= 6
    if _IPV6V4_COMP.fullmatch(value):
        return groups - 1 <= 4  # the IPv4 tail is one of the parts
    return False


def _parse_literal(text: str, literal: str) -> _IPAddress:
    """Return the IP address of an address literal (``[...]``)."""
    inner = literal[1:-1] if literal.endswith("]") else ""
    tag, colon, value = inner.partition(":")
    address: _IPAddress | None = None
    with contextlib.suppress(ValueError):
        if not colon:
            address = ipaddress.IPv4Address(tag)
        elif tag.lower() == "ipv6" and _rfc5321_ipv6(value):
            address = ipaddress.IPv6Address(value)
    if address is None:
        raise InvalidAddress(
            text,
            "domain_literal_invalid",
            f"the part after @ is not a valid address literal: {literal!r} is not "
            "[IPv4 address] or [IPv6:IPv6 address] (RFC 5321 §4.1.3), as in [192.0.2.1] or "
            "[IPv6:2001:db8::1]",
        )
    return address


def _literal_text(address: _IPAddress) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        return f"[IPv6:{address.compressed}]"
    return f"[{address}]"


def _domain_error(text: str, problem: str) -> InvalidAddress:
    return InvalidAddress(
        text,
        "domain_invalid",
        f"the part after @ is not a valid domain name: {problem}",
    )


def _maps(char: str) -> bool:
    try:
        idna.uts46_remap(char)
    except idna.IDNAError:
        return False
    return True


# The IDNA work is cached by domain and label (bounded): lists repeat their domains,
# and the idna package is what makes an internationalised address slow to parse.
@functools.lru_cache(maxsize=4096)
def _uts46_remap(raw: str) -> str:
    return idna.uts46_remap(raw, std3_rules=True)


@functools.lru_cache(maxsize=4096)
def _changed(raw: str) -> tuple[str, str] | None:
    """The first character of *raw* that UTS #46 changes beyond the documented mappings.

    Returns the character and what UTS #46 makes of it, or ``None``. The documented
    mappings: lower case (or a one-character case folding), NFC, full-width and
    half-width forms to their usual width, and the ideographic full stops to ``.``.
    Anything else (a ligature, a mathematical, superscript or compatibility letter, a
    presentation form) would make the checked address differ from the typed one. A
    character UTS #46 disallows is left to the mapping itself, which reports it.
    """
    for char in raw:
        if char.isascii():
            continue
        try:
            mapped = idna.uts46_remap(char, std3_rules=True)
        except idna.IDNAError:
            continue
        if mapped == char or _DOTS.fullmatch(char):
            continue
        forms = [char, unicodedata.normalize("NFC", char)]
        if unicodedata.decomposition(char).startswith(("<wide>", "<narrow>")):
            forms.append(unicodedata.normalize("NFKC", char))
        lowered = {form.lower() for form in forms}
        # Case folding counts as case only when it keeps one character (MICRO SIGN to
        # mu); a fold that expands (the ligature fi to f, i) changes what was typed.
        lowered |= {fold for form in forms if len(fold := form.casefold()) == 1}
        if mapped not in lowered:
            return char, mapped
    return None


def _check_typed_domain(text: str, raw: str) -> None:
    """Refuse a domain that UTS #46 would change beyond the documented mappings."""
    invisible = _INVISIBLE.search(raw)
    if invisible:
        label = next(label for label in _DOTS.split(raw) if invisible.group() in label)
        raise _domain_error(
            text,
            f"label {label!r} contains {_describe(invisible.group())}, an invisible "
            "character that IDNA would delete or that software reads in different ways",
        )
    changed = _changed(raw)
    if changed:
        char, mapped_char = changed
        raise _domain_error(
            text,
            f"it contains {_describe(char)}, which IDNA would change to {mapped_char!r}; "
            f"write {mapped_char!r} if that is what is meant",
        )


@functools.lru_cache(maxsize=4096)
def _bidi_problem(domain: str) -> str | None:
    """RFC 5893 §2: in a domain with a right-to-left label, every label obeys the Bidi rule.

    Returns the first label that breaks it, or ``None``. The idna package checks each
    label on its own, so an ASCII label (``1shop``) beside a Hebrew or Arabic one escapes
    it; this checks them all.
    """
    if not any(unicodedata.bidirectional(char) in {"R", "AL", "AN"} for char in domain):
        return None
    for label in domain.split("."):
        try:
            idna.check_bidi(label, check_ltr=True)
        except idna.IDNAError:
            return label
    return None


@functools.lru_cache(maxsize=4096)
def _alabel(label: str) -> str:
    return idna.alabel(label).decode("ascii")


@functools.lru_cache(maxsize=4096)
def _ulabel(a_label: str) -> str:
    return idna.ulabel(a_label)


def _parse_domain(
    text: str,
    raw: str,
    *,
    allow_single_label: bool,
    allow_special_use: bool,
) -> tuple[str, str]:
    """Return the domain in U-labels and in A-labels."""
    if not raw.isascii():
        _check_typed_domain(text, raw)
    try:
        mapped = _uts46_remap(raw)
    except idna.IDNAError:
        bad = next(char for char in raw if not _maps(char))
        label = next(label for label in _DOTS.split(raw) if bad in label)
        raise _domain_error(text, f"label {label!r} contains {_describe(bad)}") from None
    if mapped.endswith("."):
        raise _domain_error(text, "it ends with a dot")
    labels = mapped.split(".")
    u_labels: list[str] = []
    a_labels: list[str] = []
    for label in labels:
        if not label:
            raise _domain_error(text, "it has an empty label (a dot at the start, or two dots)")
        if _LDH_LABEL.fullmatch(label) and label[2:4] != "--":
            a_label = label  # what idna.alabel returns for it, only faster
        else:
            try:
                a_label = _alabel(label)
            except idna.IDNAError as error:
                raise _label_error(text, label, error) from None
        u_labels.append(_ulabel(a_label) if label.startswith("xn--") else label)
        a_labels.append(a_label)
    domain = ".".join(u_labels)
    ascii_domain = ".".join(a_labels)
    bidi = None if domain == ascii_domain else _bidi_problem(domain)
    if bidi is not None:
        raise _domain_error(
            text,
            f"label {bidi!r} breaks the Bidi rule (RFC 5893 §2), which every label of a "
            "domain with a right-to-left label must follow",
        )
    if len(ascii_domain) > _MAX_DOMAIN_OCTETS:
        raise InvalidAddress(
            text,
            "domain_too_long",
            f"the part after @ is {len(ascii_domain)} octets long in A-labels; the limit "
            f"is {_MAX_DOMAIN_OCTETS}",
        )
    if a_labels[-1].isdigit():
        raise _domain_error(
            text,
            f"the last label {a_labels[-1]!r} is all digits; an IP address must be "
            "written as an address literal, as in [192.0.2.1]",
        )
    # Every delegated top-level domain ends with a letter (RFC 3696 §2 forbids all-numeric
    # ones), IDN ones in A-label form too: Punycode ends each number with a digit below
    # its threshold (at most 26), which is a letter. A single label is a host name here.
    if len(a_labels) > 1 and not ("a" <= a_labels[-1][-1] <= "z"):
        raise _domain_error(
            text,
            f"the last label {a_labels[-1]!r} does not end with a letter, as every "
            "top-level domain does",
        )
    if len(a_labels) == 1 and not allow_single_label:
        raise InvalidAddress(
            text,
            "domain_single_label",
            f"the part after @ ({domain!r}) has a single label; mail domains have at "
            "least two, as in example.org",
        )
    rfc = _SPECIAL_USE.get(".".join(a_labels[-2:])) or _SPECIAL_USE.get(a_labels[-1])
    if rfc and not allow_special_use:
        raise InvalidAddress(
            text,
            "domain_special_use",
            f"the part after @ ({domain!r}) is a special-use name ({rfc}) that cannot "
            "receive mail over the internet",
        )
    return domain, ascii_domain


def _label_error(text: str, label: str, error: idna.IDNAError) -> InvalidAddress:
    length = len(label) if label.isascii() else 4 + len(label.encode("punycode"))
    if length > _MAX_LABEL_OCTETS:
        return InvalidAddress(
            text,
            "label_too_long",
            f"the part after @ has a label of {length} octets (in A-label form); the "
            f"limit is {_MAX_LABEL_OCTETS}",
        )
    if label.startswith("-") or label.endswith("-"):
        problem = "starts or ends with a hyphen"
    elif label.startswith("xn--"):
        problem = "is not a valid IDNA A-label"
    elif label[2:4] == "--":
        problem = "has '--' in the third and fourth places, which only 'xn--' labels may"
    else:
        problem = f"is not allowed by IDNA 2008 ({error})"
    return _domain_error(text, f"label {label!r} {problem}")

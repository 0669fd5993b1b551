"""Where mail for a domain goes, as a plan that does no I/O (MX, null MX, implicit MX).

The plan is a generator: it *yields* a batch of DNS questions (:class:`Query`) and is
*sent* their answers (:class:`Answer`, plain data: no dnspython object), one per question
and in order; it *returns* the :class:`~smtpcheck.MailHosts`. The questions of one batch
do not depend on each other, so an asyncio driver may ask them concurrently.

Two resolvers drive it: the dnspython adapter (:class:`smtpcheck.Resolver`), and the
sandbox's in-process resolver, which answers from the world's records. The rules of the
RFCs (preference order, RFC 7505's null MX, RFC 5321's implicit MX, MX hosts that are
aliases or IP literals) are written here once, for both.

The SPF and DMARC record rules (which TXT record is one) live here too; the doctor uses
them as well.
"""

from __future__ import annotations

import enum
import ipaddress
import random
from collections.abc import Callable, Generator
from dataclasses import dataclass

from smtpcheck._errors import PolicyError
from smtpcheck._literals import is_ip
from smtpcheck._mailhosts import DomainStatus, MailHost, MailHosts

__all__ = [
    "Answer",
    "Kind",
    "MailHostsPlan",
    "Query",
    "check_domain",
    "is_dmarc",
    "is_spf",
    "plan_mail_hosts",
    "reverse_name",
    "txt_matching",
]

#: The record types the plans ask for, as their DNS names.
RDTYPES = frozenset({"A", "AAAA", "MX", "TXT", "PTR"})


class Kind(enum.Enum):
    """What one question came back with."""

    ANSWER = "answer"
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"
    FAILURE = "failure"


@dataclass(frozen=True, slots=True)
class Query:
    """One DNS question: a name (A-labels, lowercase, no trailing dot) and a type."""

    name: str
    rdtype: str

    def __str__(self) -> str:
        return f"{self.rdtype} {self.name}"


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer to one :class:`Query`, reduced to plain text.

    Attributes:
        kind: Answer, NXDOMAIN, no data, or failure.
        records: The records of the answer (after CNAMEs), each as text: an address for
            A and AAAA; ``"preference exchange"`` for MX (the exchange lowercase without
            its trailing dot, ``"."`` for a null MX); the target name for PTR; the
            strings joined and decoded (UTF-8, errors replaced) for TXT.
        canonical: The name the answer belongs to after following CNAMEs ("" when
            unknown).
        ttl: Seconds this answer may be cached; 0 means not at all.
        detail: Why a failure failed, as a sentence.
    """

    kind: Kind
    records: tuple[str, ...] = ()
    canonical: str = ""
    ttl: float = 0.0
    detail: str = ""


MailHostsPlan = Generator[tuple[Query, ...], tuple[Answer, ...], MailHosts]


def check_domain(ascii_domain: str) -> str:
    """Return the domain lowercased without its trailing dot, or raise PolicyError.

    Raises:
        PolicyError: The domain is not ASCII, empty, or not a valid DNS name (an empty
            label, a label longer than 63 octets, a name longer than 253).
    """
    if not ascii_domain.isascii():
        raise PolicyError(f"the domain must be in A-labels (ASCII), not {ascii_domain!r}")
    domain = ascii_domain.lower().removesuffix(".")
    if not domain:
        raise PolicyError("the domain must not be empty")
    labels = domain.split(".")
    if "" in labels:
        why = "it has an empty label"
    elif max(len(label) for label in labels) > 63:
        why = "a label is longer than 63 characters"
    elif len(domain) > 253:
        why = "it is longer than 253 characters"
    else:
        return domain
    raise PolicyError(f"{ascii_domain!r} is not a valid domain name: {why}")


def reverse_name(ip: str) -> str:
    """The PTR name of an address: ``1.0.0.127.in-addr.arpa``, nibbles under ip6.arpa."""
    return ipaddress.ip_address(ip).reverse_pointer


def is_spf(text: str) -> bool:
    """Whether a TXT record is an SPF record (RFC 7208 §4.5: ``v=spf1``, then a space)."""
    lowered = text.lower()
    return lowered == "v=spf1" or lowered.startswith("v=spf1 ")


def is_dmarc(text: str) -> bool:
    """Whether a TXT record is a DMARC record (RFC 7489 §6.4: ``v=DMARC1`` first)."""
    rest = text.removeprefix("v=DMARC1")
    return rest != text and rest.lstrip()[:1] in {"", ";"}


def txt_matching(answer: Answer, wanted: Callable[[str], bool]) -> list[str]:
    """The TXT records of ``answer`` that ``wanted`` accepts (none unless an answer)."""
    if answer.kind is not Kind.ANSWER:
        return []
    return [text for text in answer.records if wanted(text)]


@dataclass(frozen=True, slots=True)
class _Candidate:
    """An MX host still to be resolved."""

    name: str
    preference: int


def plan_mail_hosts(
    domain: str,
    *,
    prefer_ipv6: bool = False,
    max_hosts: int | None = None,
    spf: bool = False,
    dmarc: bool = False,
    rng: random.Random | None = None,
) -> MailHostsPlan:
    """Find a domain's mail hosts: yield batches of queries, receive their answers.

    Args:
        domain: The domain, as :func:`check_domain` returns it.
        prefer_ipv6: List each host's IPv6 addresses before its IPv4 ones.
        max_hosts: At most this many hosts with an address; None for all.
        spf: Also fetch the domain's SPF record.
        dmarc: Also fetch the domain's DMARC record.
        rng: Shuffles MX hosts of equal preference (RFC 5321 §5.1); None keeps them in
            the order of their names (a sandbox's answers stay the same run to run).

    Returns:
        The domain's mail hosts, or why there are none, by the generator's value.
    """
    first = [Query(domain, "MX")]
    if spf:
        first.append(Query(domain, "TXT"))
    if dmarc:
        first.append(Query(f"_dmarc.{domain}", "TXT"))
    answers = yield tuple(first)
    mx = answers[0]
    problems: list[str] = []
    spf_record = _pick_txt(answers[1], is_spf, "SPF", problems) if spf else None
    dmarc_record = _pick_txt(answers[-1], is_dmarc, "DMARC", problems) if dmarc else None

    def done(
        status: DomainStatus, detail: str | None = None, hosts: tuple[MailHost, ...] = ()
    ) -> MailHosts:
        return MailHosts(
            domain=domain,
            status=status,
            hosts=hosts,
            detail=detail,
            problems=tuple(problems),
            spf=spf_record,
            dmarc=dmarc_record,
        )

    if mx.kind is Kind.FAILURE:
        return done(DomainStatus.DNS_FAILURE, f"The MX look-up for {domain} failed: {mx.detail}")
    if mx.kind is Kind.NXDOMAIN:
        return done(DomainStatus.NO_SUCH_DOMAIN, f"The domain {domain} does not exist (NXDOMAIN).")
    if mx.kind is Kind.NODATA:
        # RFC 5321 §5.1: no MX records, so the domain itself is the implicit MX.
        a, aaaa = yield (Query(domain, "A"), Query(domain, "AAAA"))
        addresses, failure = _addresses(a, aaaa, prefer_ipv6=prefer_ipv6)
        if addresses:
            if failure:
                problems.append(f"Part of the address look-up for {domain} failed: {failure}")
            host = MailHost(name=domain, preference=0, addresses=addresses, implicit=True)
            return done(
                DomainStatus.OK,
                f"{domain} has no MX record; mail goes to the domain itself (implicit MX).",
                (host,),
            )
        if failure:
            return done(
                DomainStatus.DNS_FAILURE,
                f"{domain} has no MX record and the look-up of its address failed: {failure}",
            )
        return done(
            DomainStatus.NO_MAIL_SERVER,
            f"{domain} exists but has no MX record and no A or AAAA record.",
        )

    first_mx_problem = len(problems)
    candidates = _candidates(domain, mx.records, problems, rng)
    if candidates is None:
        return done(DomainStatus.NULL_MX, f"{domain} accepts no mail: it publishes a null MX.")
    hosts: list[MailHost] = []
    failed = 0
    while candidates and (max_hosts is None or len(hosts) < max_hosts):
        take = len(candidates) if max_hosts is None else max_hosts - len(hosts)
        batch, candidates = candidates[:take], candidates[take:]
        answers = yield tuple(Query(c.name, rdtype) for c in batch for rdtype in ("A", "AAAA"))
        for i, candidate in enumerate(batch):
            a, aaaa = answers[2 * i], answers[2 * i + 1]
            addresses, failure = _addresses(a, aaaa, prefer_ipv6=prefer_ipv6)
            alias = next((o.canonical for o in (a, aaaa) if o.canonical), candidate.name)
            if alias != candidate.name:
                problems.append(
                    f"MX host {candidate.name} is an alias (CNAME) of {alias}, which "
                    "RFC 2181 §10.3 forbids; it was followed."
                )
            if addresses:
                if failure:
                    problems.append(
                        f"Part of the address look-up for MX host {candidate.name} "
                        f"failed: {failure}"
                    )
                hosts.append(
                    MailHost(
                        name=candidate.name,
                        preference=candidate.preference,
                        addresses=addresses,
                    )
                )
            elif failure:
                failed += 1
                problems.append(
                    f"The address look-up for MX host {candidate.name} failed: {failure}"
                )
            else:
                problems.append(
                    f"MX host {candidate.name} (preference {candidate.preference}) "
                    "has no A or AAAA record; skipped."
                )
    if hosts:
        return done(DomainStatus.OK, hosts=tuple(hosts))
    if failed:
        return done(
            DomainStatus.DNS_FAILURE,
            f"No MX host of {domain} could be resolved to an address; {failed} look-up(s) failed.",
        )
    return done(
        DomainStatus.NO_MAIL_SERVER,
        f"None of the MX hosts of {domain} is usable: {' '.join(problems[first_mx_problem:])}",
    )


def _candidates(
    domain: str, records: tuple[str, ...], problems: list[str], rng: random.Random | None
) -> list[_Candidate] | None:
    """Order the MX records to try, or return None for a null MX.

    Sorted by preference, equal preferences shuffled (RFC 5321 §5.1). A ``.`` exchange
    alone is a null MX (RFC 7505 §3); among other MX records it is ignored, since it
    names no host and RFC 7505 forbids the mix. An IP literal exchange is skipped, as
    Postfix and Exim do: RFC 5321 §5.1 and RFC 1035 want a host name there.
    """
    parsed = [_mx(text) for text in records]
    nulls = [(p, e) for p, e in parsed if e == "."]
    if nulls and len(nulls) == len(parsed):
        if len(parsed) > 1 or parsed[0][0] != 0:
            problems.append(f"{domain}'s null MX is not the single 'MX 0 .' that RFC 7505 defines.")
        return None
    if nulls:
        problems.append(
            f"{domain} publishes a null MX among other MX records, which RFC 7505 §3 "
            "forbids; the null MX was ignored."
        )
    best: dict[str, int] = {}
    for preference, name in parsed:
        if name == ".":
            continue
        if _is_ip_literal(name):
            problems.append(
                f"MX record '{preference} {name}' of {domain} points to an IP "
                "address, not a host name (RFC 5321 §5.1); skipped, as Postfix and Exim "
                "do."
            )
            continue
        if name not in best or preference < best[name]:
            best[name] = preference
    by_preference: dict[int, list[str]] = {}
    for name, preference in best.items():
        by_preference.setdefault(preference, []).append(name)
    ordered: list[_Candidate] = []
    for preference in sorted(by_preference):
        names = sorted(by_preference[preference])
        if rng is not None:
            rng.shuffle(names)
        ordered.extend(_Candidate(name, preference) for name in names)
    return ordered


def _mx(text: str) -> tuple[int, str]:
    """``"10 mx.example"`` -> ``(10, "mx.example")``; the exchange ``"."`` is the root."""
    preference, _, exchange = text.partition(" ")
    exchange = exchange.strip().lower()
    if exchange not in {"", "."}:
        exchange = exchange.removesuffix(".")
    return int(preference), exchange or "."


def _is_ip_literal(name: str) -> bool:
    if not (name[-1:].isdigit() or ":" in name or name.startswith("[")):
        return False  # the common case, fast: a name whose last label is not a number
    return is_ip(name.removeprefix("[").removesuffix("]"))


def _addresses(a: Answer, aaaa: Answer, *, prefer_ipv6: bool) -> tuple[tuple[str, ...], str | None]:
    """Merge the A and AAAA answers: the addresses in order, and a failure if any."""
    first, second = (aaaa, a) if prefer_ipv6 else (a, aaaa)
    addresses: list[str] = []
    for answer in (first, second):
        if answer.kind is Kind.ANSWER:
            for address in answer.records:
                if address not in addresses:
                    addresses.append(address)
    failures = [o.detail for o in (a, aaaa) if o.kind is Kind.FAILURE]
    return tuple(addresses), "; ".join(failures) or None


def _pick_txt(
    answer: Answer, wanted: Callable[[str], bool], what: str, problems: list[str]
) -> str | None:
    """Return the one TXT record that ``wanted`` accepts, or None (noting why)."""
    if answer.kind is Kind.FAILURE:
        problems.append(f"The {what} look-up failed: {answer.detail}")
        return None
    found = txt_matching(answer, wanted)
    if len(found) > 1:
        problems.append(f"{len(found)} {what} records were found where one is allowed.")
        return None
    return found[0] if found else None

"""A domain's mail hosts, from DNS: MX by preference, implicit MX, null MX.

Built on dnspython. The answers are the plain data of :mod:`smtpcheck._mailhosts`; the
:class:`ResolverProtocol` says what any injected resolver must offer.
"""

from __future__ import annotations

import asyncio
import enum
import ipaddress
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.rdtypes.IN.A
import dns.rdtypes.IN.AAAA
import dns.resolver
from dns.rdata import Rdata
from dns.rdatatype import RdataType
from dns.rdtypes.ANY.MX import MX
from dns.rdtypes.ANY.SOA import SOA
from dns.rdtypes.ANY.TXT import TXT

from smtpcheck._mailhosts import DomainStatus, MailHost, MailHosts

__all__ = ["DomainStatus", "MailHost", "MailHosts", "Resolver", "ResolverProtocol"]


#: The longest time any answer stays in the cache, whatever its TTL says.
MAX_TTL = 86_400.0
#: The longest time a negative answer stays in the cache (RFC 2308 §5: one to three
#: hours work well).
MAX_NEGATIVE_TTL = 10_800.0
#: RFC 2308 §7.1: a server failure may be cached, for five minutes at most.
MAX_FAILURE_TTL = 300.0


class Resolver:
    """Finds a domain's mail hosts with dnspython, with a shared TTL-honouring cache.

    The resolver owns its dnspython resolvers (one blocking, one asyncio); it never
    touches dnspython's module-level default resolver. Without ``nameservers`` it reads
    the system's configuration (``/etc/resolv.conf``).

    The blocking and asyncio look-ups share one cache, safe across threads and event
    loops. Answers stay in it for their TTL; NXDOMAIN and "no such record" answers for
    the negative TTL of RFC 2308 (the smaller of the SOA's TTL and its minimum field,
    not cached when the server sent no SOA). SERVFAIL and REFUSED answers are cached for
    ``failure_ttl`` seconds (RFC 2308 §7.1 allows up to five minutes), so that a bulk
    run does not ask a broken server once per address; timeouts are never cached, since
    they depend on the caller's time budget.

    Args:
        nameservers: IP addresses of the name servers to ask, or None for the system's.
        port: The name servers' port.
        timeout: Seconds a whole look-up may take when the call gives no ``lifetime``.
        cache: Whether to cache answers.
        cache_size: How many answers the cache holds before it drops the least recently
            used.
        failure_ttl: Seconds to remember that the name servers failed (SERVFAIL,
            REFUSED); 0 not to. At most 300.
        clock: A monotonic clock in seconds for the cache's expiry times; tests inject
            one to expire entries without sleeping.

    Raises:
        ValueError: An argument is out of range.
        dns.resolver.NoResolverConfiguration: ``nameservers`` is None and the system's
            configuration cannot be read.

    >>> resolver = Resolver(nameservers=["127.0.0.1"], port=5353, timeout=2.0)
    """

    def __init__(
        self,
        *,
        nameservers: Sequence[str] | None = None,
        port: int = 53,
        timeout: float = 5.0,
        cache: bool = True,
        cache_size: int = 10_000,
        failure_ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout!r}")
        if cache_size < 1:
            raise ValueError(f"cache_size must be at least 1, not {cache_size!r}")
        if not 0 <= failure_ttl <= MAX_FAILURE_TTL:
            raise ValueError(f"failure_ttl must be within 0..{MAX_FAILURE_TTL:g} s")
        configure = nameservers is None
        self._sync = dns.resolver.Resolver(configure=configure)
        self._async = dns.asyncresolver.Resolver(configure=configure)
        for resolver in (self._sync, self._async):
            if nameservers is not None:
                resolver.nameservers = list(nameservers)
            resolver.port = port
            resolver.timeout = timeout
            resolver.lifetime = timeout
            resolver.cache = None  # we cache ourselves: one cache, our clock, our rules
        self._timeout = timeout
        self._failure_ttl = failure_ttl
        self._cache = _Cache(cache_size, clock) if cache else None
        self._rng = random.Random()

    def __repr__(self) -> str:
        servers = [str(s) for s in self._sync.nameservers]
        return f"Resolver(nameservers={servers!r}, timeout={self._timeout!r})"

    def clear_cache(self) -> None:
        """Forget every cached answer."""
        if self._cache is not None:
            self._cache.clear()

    def mail_hosts(
        self,
        ascii_domain: str,
        *,
        lifetime: float | None = None,
        prefer_ipv6: bool = False,
        max_hosts: int | None = None,
        spf: bool = False,
        dmarc: bool = False,
    ) -> MailHosts:
        """Return where mail for a domain goes, blocking.

        MX hosts come sorted by preference, equal preferences in random order (RFC 5321
        §5.1), each with its addresses (IPv4 first unless ``prefer_ipv6``). A domain
        without MX records but with an address is its own implicit MX. DNS trouble is
        data: a :class:`MailHosts` whose status says what happened, never an exception.

        Args:
            ascii_domain: The domain in A-labels (``xn--...``), as the address module
                normalises it; a trailing dot is allowed.
            lifetime: Seconds the whole look-up (all its queries) may take; None for the
                resolver's ``timeout``.
            prefer_ipv6: List each host's IPv6 addresses before its IPv4 ones.
            max_hosts: At most this many hosts in the answer; None for all. MX hosts
                without an address do not count, so a dead first MX hides no live one.
            spf: Also fetch the domain's SPF record.
            dmarc: Also fetch the domain's DMARC record (``_dmarc.<domain>``).

        Returns:
            The domain's mail hosts, or why there are none.

        Raises:
            ValueError: The domain is not ASCII, not a valid DNS name, or an argument
                is out of range.
        """
        deadline = time.monotonic() + self._lifetime(lifetime)
        plan = self._plan(ascii_domain, prefer_ipv6, max_hosts, spf, dmarc)
        try:
            queries = next(plan)
            while True:
                queries = plan.send(tuple(self._ask(q, deadline) for q in queries))
        except StopIteration as stop:
            return cast("MailHosts", stop.value)

    async def amail_hosts(
        self,
        ascii_domain: str,
        *,
        lifetime: float | None = None,
        prefer_ipv6: bool = False,
        max_hosts: int | None = None,
        spf: bool = False,
        dmarc: bool = False,
    ) -> MailHosts:
        """Return where mail for a domain goes, with asyncio.

        The same look-up as :meth:`mail_hosts`; queries that do not depend on each other
        (the A and AAAA records of all MX hosts) run concurrently.
        """
        deadline = time.monotonic() + self._lifetime(lifetime)
        plan = self._plan(ascii_domain, prefer_ipv6, max_hosts, spf, dmarc)
        try:
            queries = next(plan)
            while True:
                outcomes = await asyncio.gather(*(self._aask(q, deadline) for q in queries))
                queries = plan.send(tuple(outcomes))
        except StopIteration as stop:
            return cast("MailHosts", stop.value)

    def _lifetime(self, lifetime: float | None) -> float:
        if lifetime is None:
            return self._timeout
        if lifetime <= 0:
            raise ValueError(f"lifetime must be positive, not {lifetime!r}")
        return lifetime

    def _plan(
        self, ascii_domain: str, prefer_ipv6: bool, max_hosts: int | None, spf: bool, dmarc: bool
    ) -> _Plan:
        if max_hosts is not None and max_hosts < 1:
            raise ValueError(f"max_hosts must be at least 1 or None, not {max_hosts!r}")
        return _plan(
            _check_domain(ascii_domain),
            prefer_ipv6=prefer_ipv6,
            max_hosts=max_hosts,
            spf=spf,
            dmarc=dmarc,
            rng=self._rng,
        )

    # The two drivers' I/O: one query each, through the cache.

    def _ask(self, query: _Query, deadline: float) -> _Outcome:
        cached = self._cache.get(query) if self._cache is not None else None
        if cached is not None:
            return cached
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return _out_of_time(query)
        try:
            answer = self._sync.resolve(
                _qname(query),
                query.rdtype,
                raise_on_no_answer=False,
                lifetime=remaining,
                search=False,
            )
        except dns.exception.DNSException as exc:
            return self._remember(query, _from_exception(query, exc, self._failure_ttl))
        return self._remember(query, _from_answer(answer))

    async def _aask(self, query: _Query, deadline: float) -> _Outcome:
        cached = self._cache.get(query) if self._cache is not None else None
        if cached is not None:
            return cached
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return _out_of_time(query)
        try:
            answer = await self._async.resolve(
                _qname(query),
                query.rdtype,
                raise_on_no_answer=False,
                lifetime=remaining,
                search=False,
            )
        except dns.exception.DNSException as exc:
            return self._remember(query, _from_exception(query, exc, self._failure_ttl))
        return self._remember(query, _from_answer(answer))

    def _remember(self, query: _Query, outcome: _Outcome) -> _Outcome:
        if self._cache is not None:
            self._cache.put(query, outcome)
        return outcome


def _check_domain(ascii_domain: str) -> str:
    """Return the domain lowercased without its trailing dot, or raise ValueError."""
    if not ascii_domain.isascii():
        raise ValueError(f"the domain must be in A-labels (ASCII), not {ascii_domain!r}")
    domain = ascii_domain.lower().removesuffix(".")
    try:
        name = dns.name.from_text(domain)
    except dns.exception.DNSException as exc:
        raise ValueError(f"{ascii_domain!r} is not a valid domain name: {exc}") from None
    if name == dns.name.root:
        raise ValueError("the domain must not be empty")
    return domain


def _qname(query: _Query) -> dns.name.Name:
    return dns.name.from_text(query.name)


def _out_of_time(query: _Query) -> _Outcome:
    return _Outcome(_Kind.FAILURE, detail=f"no time was left to ask for {query}.")


def _from_answer(answer: dns.resolver.Answer) -> _Outcome:
    canonical = answer.canonical_name.to_text(omit_final_dot=True).lower()
    if answer.rrset is None:
        ttl = _negative_ttl(answer.response)
        return _Outcome(_Kind.NODATA, canonical=canonical, ttl=ttl)
    ttl = min(float(answer.chaining_result.minimum_ttl), MAX_TTL)
    return _Outcome(_Kind.ANSWER, tuple(answer.rrset), canonical, ttl)


def _from_exception(query: _Query, exc: dns.exception.DNSException, failure_ttl: float) -> _Outcome:
    if isinstance(exc, dns.resolver.NXDOMAIN):
        responses = list(_nxdomain_responses(exc).values())
        ttl = _negative_ttl(responses[0]) if responses else 0.0
        return _Outcome(_Kind.NXDOMAIN, ttl=ttl)
    if isinstance(exc, dns.exception.Timeout):
        return _Outcome(_Kind.FAILURE, detail=f"no answer to {query} in time ({exc}).")
    ttl = failure_ttl if isinstance(exc, dns.resolver.NoNameservers) else 0.0
    return _Outcome(_Kind.FAILURE, ttl=ttl, detail=f"{query}: {exc}")


def _nxdomain_responses(exc: dns.resolver.NXDOMAIN) -> dict[dns.name.Name, dns.message.Message]:
    return cast("dict[dns.name.Name, dns.message.Message]", exc.kwargs.get("responses") or {})


def _negative_ttl(response: dns.message.Message) -> float:
    """RFC 2308 §5: the SOA's TTL or its minimum, the smaller; 0 without an SOA."""
    for rrset in response.authority:
        if rrset.rdtype == RdataType.SOA and len(rrset):
            soa = cast("SOA", rrset[0])
            return min(float(rrset.ttl), float(soa.minimum), MAX_NEGATIVE_TTL)
    return 0.0


class _Cache:
    """A bounded LRU map from query to outcome, expiring by a given clock; thread-safe."""

    def __init__(self, max_size: int, clock: Callable[[], float]) -> None:
        self._max_size = max_size
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[_Query, tuple[float, _Outcome]] = OrderedDict()

    def get(self, query: _Query) -> _Outcome | None:
        with self._lock:
            entry = self._entries.get(query)
            if entry is None:
                return None
            expires, outcome = entry
            if expires <= self._clock():
                del self._entries[query]
                return None
            self._entries.move_to_end(query)
            return outcome

    def put(self, query: _Query, outcome: _Outcome) -> None:
        if outcome.ttl <= 0:
            return
        with self._lock:
            self._entries[query] = (self._clock() + outcome.ttl, outcome)
            self._entries.move_to_end(query)
            while len(self._entries) > self._max_size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class ResolverProtocol(Protocol):
    """What the verifier needs from a resolver; :class:`Resolver` is one.

    Any object with these two methods can be injected (the sandbox's world is one), so
    tests and applications can answer from their own data.
    """

    def mail_hosts(
        self,
        ascii_domain: str,
        *,
        lifetime: float | None = None,
        prefer_ipv6: bool = False,
        max_hosts: int | None = None,
        spf: bool = False,
        dmarc: bool = False,
    ) -> MailHosts:
        """Return where mail for ``ascii_domain`` goes (see :meth:`Resolver.mail_hosts`)."""
        ...

    async def amail_hosts(
        self,
        ascii_domain: str,
        *,
        lifetime: float | None = None,
        prefer_ipv6: bool = False,
        max_hosts: int | None = None,
        spf: bool = False,
        dmarc: bool = False,
    ) -> MailHosts:
        """Return where mail for ``ascii_domain`` goes (see :meth:`Resolver.amail_hosts`)."""
        ...


# --- the plan: what to ask next, written once (sans-IO) -------------------------------


class _Kind(enum.Enum):
    """What one query came back with."""

    ANSWER = "answer"
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"
    FAILURE = "failure"


@dataclass(frozen=True, slots=True)
class _Query:
    """One DNS question: a name (A-labels, lowercase, no trailing dot) and a type."""

    name: str
    rdtype: RdataType

    def __str__(self) -> str:
        return f"{self.rdtype.name} {self.name}"


@dataclass(frozen=True, slots=True)
class _Outcome:
    """The answer to one :class:`_Query`, reduced to what the plan reads.

    Attributes:
        kind: Answer, NXDOMAIN, no data, or failure.
        rdatas: The records of the answer (after CNAMEs).
        canonical: The name the answer belongs to after following CNAMEs.
        ttl: Seconds this outcome may be cached; 0 means not at all.
        detail: Why a failure failed.
    """

    kind: _Kind
    rdatas: tuple[Rdata, ...] = ()
    canonical: str = ""
    ttl: float = 0.0
    detail: str = ""


_Plan = Generator[tuple[_Query, ...], tuple[_Outcome, ...], MailHosts]


@dataclass(frozen=True, slots=True)
class _Candidate:
    """An MX host still to be resolved."""

    name: str
    preference: int


def _plan(
    domain: str,
    *,
    prefer_ipv6: bool,
    max_hosts: int | None,
    spf: bool,
    dmarc: bool,
    rng: random.Random,
) -> _Plan:
    """Find a domain's mail hosts: yield batches of queries, receive their outcomes.

    A driver sends back one outcome per query, in order. The queries in one batch do not
    depend on each other, so an asyncio driver may run them concurrently.
    """
    first = [_Query(domain, RdataType.MX)]
    if spf:
        first.append(_Query(domain, RdataType.TXT))
    if dmarc:
        first.append(_Query(f"_dmarc.{domain}", RdataType.TXT))
    outcomes = yield tuple(first)
    mx = outcomes[0]
    problems: list[str] = []
    spf_record = _pick_txt(outcomes[1], _is_spf, "SPF", problems) if spf else None
    dmarc_record = _pick_txt(outcomes[-1], _is_dmarc, "DMARC", problems) if dmarc else None

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

    if mx.kind is _Kind.FAILURE:
        return done(DomainStatus.DNS_FAILURE, f"The MX look-up for {domain} failed: {mx.detail}")
    if mx.kind is _Kind.NXDOMAIN:
        return done(DomainStatus.NO_SUCH_DOMAIN, f"The domain {domain} does not exist (NXDOMAIN).")
    if mx.kind is _Kind.NODATA:
        # RFC 5321 §5.1: no MX records, so the domain itself is the implicit MX.
        a, aaaa = yield (_Query(domain, RdataType.A), _Query(domain, RdataType.AAAA))
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
    candidates = _candidates(domain, mx.rdatas, problems, rng)
    if candidates is None:
        return done(DomainStatus.NULL_MX, f"{domain} accepts no mail: it publishes a null MX.")
    hosts: list[MailHost] = []
    failed = 0
    while candidates and (max_hosts is None or len(hosts) < max_hosts):
        take = len(candidates) if max_hosts is None else max_hosts - len(hosts)
        batch, candidates = candidates[:take], candidates[take:]
        outcomes = yield tuple(
            _Query(c.name, rdtype) for c in batch for rdtype in (RdataType.A, RdataType.AAAA)
        )
        for i, candidate in enumerate(batch):
            a, aaaa = outcomes[2 * i], outcomes[2 * i + 1]
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
    domain: str, rdatas: tuple[Rdata, ...], problems: list[str], rng: random.Random
) -> list[_Candidate] | None:
    """Order the MX records to try, or return None for a null MX.

    Sorted by preference, equal preferences shuffled (RFC 5321 §5.1). A ``.`` exchange
    alone is a null MX (RFC 7505 §3); among other MX records it is ignored, since it
    names no host and RFC 7505 forbids the mix. An IP literal exchange is skipped, as
    Postfix and Exim do: RFC 5321 §5.1 and RFC 1035 want a host name there.
    """
    records = [cast("MX", rd) for rd in rdatas]
    nulls = [r for r in records if r.exchange == dns.name.root]
    if nulls and len(nulls) == len(records):
        if len(records) > 1 or records[0].preference != 0:
            problems.append(f"{domain}'s null MX is not the single 'MX 0 .' that RFC 7505 defines.")
        return None
    if nulls:
        problems.append(
            f"{domain} publishes a null MX among other MX records, which RFC 7505 §3 "
            "forbids; the null MX was ignored."
        )
    best: dict[str, int] = {}
    for record in records:
        if record.exchange == dns.name.root:
            continue
        name = record.exchange.to_text(omit_final_dot=True).lower()
        if _is_ip_literal(name):
            problems.append(
                f"MX record '{record.preference} {name}' of {domain} points to an IP "
                "address, not a host name (RFC 5321 §5.1); skipped, as Postfix and Exim "
                "do."
            )
            continue
        if name not in best or record.preference < best[name]:
            best[name] = record.preference
    by_preference: dict[int, list[str]] = {}
    for name, preference in best.items():
        by_preference.setdefault(preference, []).append(name)
    ordered: list[_Candidate] = []
    for preference in sorted(by_preference):
        names = sorted(by_preference[preference])
        rng.shuffle(names)
        ordered.extend(_Candidate(name, preference) for name in names)
    return ordered


def _is_ip_literal(name: str) -> bool:
    if not (name[-1:].isdigit() or ":" in name or name.startswith("[")):
        return False  # the common case, fast: a name whose last label is not a number
    text = name.removeprefix("[").removesuffix("]")
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _addresses(
    a: _Outcome, aaaa: _Outcome, *, prefer_ipv6: bool
) -> tuple[tuple[str, ...], str | None]:
    """Merge the A and AAAA outcomes: the addresses in order, and a failure if any."""
    first, second = (aaaa, a) if prefer_ipv6 else (a, aaaa)
    addresses: list[str] = []
    for outcome in (first, second):
        if outcome.kind is _Kind.ANSWER:
            for rd in outcome.rdatas:
                address = cast("dns.rdtypes.IN.A.A | dns.rdtypes.IN.AAAA.AAAA", rd).address
                if address not in addresses:
                    addresses.append(address)
    failures = [o.detail for o in (a, aaaa) if o.kind is _Kind.FAILURE]
    return tuple(addresses), "; ".join(failures) or None


def _is_spf(text: str) -> bool:
    lowered = text.lower()
    return lowered == "v=spf1" or lowered.startswith("v=spf1 ")


def _is_dmarc(text: str) -> bool:
    rest = text.removeprefix("v=DMARC1")
    return rest != text and (not rest or rest.lstrip()[:1] in {"", ";"})


def _pick_txt(
    outcome: _Outcome, wanted: Callable[[str], bool], what: str, problems: list[str]
) -> str | None:
    """Return the one TXT record that ``wanted`` accepts, or None (noting why)."""
    if outcome.kind is _Kind.FAILURE:
        problems.append(f"The {what} look-up failed: {outcome.detail}")
        return None
    texts = [b"".join(cast("TXT", rd).strings).decode("utf-8", "replace") for rd in outcome.rdatas]
    found = [t for t in texts if wanted(t)]
    if len(found) > 1:
        problems.append(f"{len(found)} {what} records were found where one is allowed.")
        return None
    return found[0] if found else None

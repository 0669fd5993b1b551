"""The dnspython adapter: asks real DNS the questions of the plans, with one cache.

dnspython is imported when a :class:`Resolver` first asks something, not when this
module is imported, so that ``import smtpcheck`` stays cheap.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from smtpcheck._errors import PolicyError
from smtpcheck._resolver._driver import PlanResolver
from smtpcheck._resolver._plan import RDTYPES, Answer, Kind, Query, check_domain

if TYPE_CHECKING:
    import dns.asyncresolver
    import dns.exception
    import dns.message
    import dns.resolver

__all__ = ["Resolver"]

_T = TypeVar("_T")

#: The longest time any answer stays in the cache, whatever its TTL says.
MAX_TTL = 86_400.0
#: The longest time a negative answer stays in the cache (RFC 2308 §5: one to three
#: hours work well).
MAX_NEGATIVE_TTL = 10_800.0
#: RFC 2308 §7.1: a server failure may be cached, for five minutes at most.
MAX_FAILURE_TTL = 300.0

# Every question is asked once, for its own name: no search list, no exception for an
# empty answer (it is data: NODATA).
_ONCE: dict[str, Any] = {"raise_on_no_answer": False, "search": False}
_Engines = tuple["dns.resolver.Resolver", "dns.asyncresolver.Resolver"]


def _rebuild(arguments: dict[str, Any]) -> Resolver:
    return Resolver(**arguments)


class Resolver(PlanResolver):
    """Finds a domain's mail hosts with dnspython, with a shared TTL-honouring cache.

    The resolver owns its dnspython resolvers (one blocking, one asyncio), made when it
    first asks something; it never touches dnspython's module-level default resolver.
    Without ``nameservers`` it reads the system's configuration (``/etc/resolv.conf``,
    or the file named by ``resolv_conf``). A configuration that cannot be read is a DNS
    failure of every look-up, with a sentence saying why, never an exception.

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
        resolv_conf: The file to read the system's configuration from when
            ``nameservers`` is None; None for the platform's own (``/etc/resolv.conf``).
        clock: A monotonic clock in seconds for the cache's expiry times; tests inject
            one to expire entries without sleeping.

    Raises:
        PolicyError: An argument is out of range.

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
        resolv_conf: str | os.PathLike[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if timeout <= 0:
            raise PolicyError(f"timeout must be positive, not {timeout!r}")
        if cache_size < 1:
            raise PolicyError(f"cache_size must be at least 1, not {cache_size!r}")
        if not 0 <= failure_ttl <= MAX_FAILURE_TTL:
            raise PolicyError(f"failure_ttl must be within 0..{MAX_FAILURE_TTL:g} s")
        if not 0 < port < 65536:
            raise PolicyError(f"port must be 1 to 65535, not {port!r}")
        self._nameservers = None if nameservers is None else [str(n) for n in nameservers]
        self._port = port
        self._resolv_conf = resolv_conf
        self._timeout = timeout
        self._failure_ttl = failure_ttl
        self._cache = _Cache(cache_size, clock) if cache else None
        self._rng = random.Random()
        self._lock = threading.Lock()
        self._dns: _Engines | None = None
        self._arguments: dict[str, Any] = {
            "nameservers": self._nameservers,
            "port": port,
            "timeout": timeout,
            "cache": cache,
            "cache_size": cache_size,
            "failure_ttl": failure_ttl,
            "resolv_conf": resolv_conf,
            "clock": clock,
        }
        if self._nameservers is not None:
            self._engines()  # a bad name server address is the caller's error: say it now

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as the configuration, so a resolver can travel to another process.

        The copy starts with an empty cache (a Dask worker builds its own).
        """
        return (_rebuild, (self._arguments,))

    def __repr__(self) -> str:
        servers = "system" if self._nameservers is None else repr(self._nameservers)
        return f"Resolver(nameservers={servers}, timeout={self._timeout!r})"

    def clear_cache(self) -> None:
        """Forget every cached answer."""
        if self._cache is not None:
            self._cache.clear()

    def records(self, name: str, rdtype: str, *, lifetime: float | None = None) -> Answer:
        """Ask one question (A, AAAA, MX, TXT or PTR), blocking, through the cache.

        The doctor's look-ups (PTR, the HELO name's addresses, SPF and DMARC records,
        blocklists) go through here, so they use the same name servers and cache.

        Raises:
            PolicyError: The name is not a valid DNS name, or the type is not one of
                those.
        """
        query = _query(name, rdtype)
        return self._ask(query, time.monotonic() + self._lifetime(lifetime))

    async def arecords(self, name: str, rdtype: str, *, lifetime: float | None = None) -> Answer:
        """The asyncio twin of :meth:`records`."""
        query = _query(name, rdtype)
        return await self._aask(query, time.monotonic() + self._lifetime(lifetime))

    # -- dnspython, made on first use ----------------------------------------------------

    def _engines(self) -> _Engines | str:
        """The two dnspython resolvers, or why the system's configuration is unusable."""
        with self._lock:
            if self._dns is not None:
                return self._dns
            import dns.asyncresolver  # noqa: PLC0415 - dnspython on first use
            import dns.exception  # noqa: PLC0415
            import dns.resolver  # noqa: PLC0415

            try:
                sync = self._make(dns.resolver.Resolver)
                engines = (sync, self._make(dns.asyncresolver.Resolver))
            except dns.exception.DNSException as exc:
                # No /etc/resolv.conf, an unreadable one, one without name servers: not
                # remembered, so that a configuration fixed later is read then.
                where = self._resolv_conf or "/etc/resolv.conf"
                return f"the system's DNS configuration ({where}) cannot be used: {exc}"
            except ValueError as exc:
                if self._nameservers is None:
                    return f"the system's DNS configuration cannot be used: {exc}"
                raise PolicyError(f"a name server must be an IP address: {exc}") from None
            self._dns = engines
            return engines

    def _make(self, kind: Callable[..., _T]) -> _T:
        if self._nameservers is None:
            if self._resolv_conf is None:
                engine: Any = kind(configure=True)
            else:
                engine = kind(filename=os.fspath(self._resolv_conf), configure=True)
        else:
            engine = kind(configure=False)
            engine.nameservers = list(self._nameservers)
        engine.port = self._port
        engine.timeout = self._timeout
        engine.lifetime = self._timeout
        engine.cache = None  # we cache ourselves: one cache, our clock, our rules
        return cast("_T", engine)

    # -- the two drivers' I/O: one query each, through the cache -------------------------

    def _ask(self, query: Query, deadline: float) -> Answer:
        ready = self._ready(query, deadline)
        if isinstance(ready, Answer):
            return ready
        import dns.exception  # noqa: PLC0415 - loaded by _engines already

        (engine, _), remaining = ready
        try:
            answer = engine.resolve(_qname(query), query.rdtype, lifetime=remaining, **_ONCE)
        except dns.exception.DNSException as exc:
            return self._remember(query, _from_exception(query, exc, self._failure_ttl))
        return self._remember(query, _from_answer(query, answer))

    async def _aask(self, query: Query, deadline: float) -> Answer:
        ready = self._ready(query, deadline)
        if isinstance(ready, Answer):
            return ready
        import dns.exception  # noqa: PLC0415 - loaded by _engines already

        (_, engine), remaining = ready
        try:
            answer = await engine.resolve(_qname(query), query.rdtype, lifetime=remaining, **_ONCE)
        except dns.exception.DNSException as exc:
            return self._remember(query, _from_exception(query, exc, self._failure_ttl))
        return self._remember(query, _from_answer(query, answer))

    def _ready(self, query: Query, deadline: float) -> Answer | tuple[_Engines, float]:
        """The cached or known answer, or the engines and the time left to ask."""
        cached = self._cache.get(query) if self._cache is not None else None
        if cached is not None:
            return cached
        engines = self._engines()
        if isinstance(engines, str):
            return Answer(Kind.FAILURE, detail=engines)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return _out_of_time(query)
        return engines, remaining

    def _remember(self, query: Query, answer: Answer) -> Answer:
        if self._cache is not None:
            self._cache.put(query, answer)
        return answer


def _query(name: str, rdtype: str) -> Query:
    kind = rdtype.upper()
    if kind not in RDTYPES:
        raise PolicyError(f"the record type must be one of {', '.join(sorted(RDTYPES))}")
    return Query(check_domain(name), kind)


def _qname(query: Query) -> Any:
    import dns.name  # noqa: PLC0415 - loaded with the engines

    return dns.name.from_text(query.name)


def _out_of_time(query: Query) -> Answer:
    return Answer(Kind.FAILURE, detail=f"no time was left to ask for {query}.")


def _from_answer(query: Query, answer: dns.resolver.Answer) -> Answer:
    canonical = answer.canonical_name.to_text(omit_final_dot=True).lower()
    if answer.rrset is None:
        return Answer(Kind.NODATA, canonical=canonical, ttl=_negative_ttl(answer.response))
    ttl = min(float(answer.chaining_result.minimum_ttl), MAX_TTL)
    texts = tuple(_text(query.rdtype, rd) for rd in answer.rrset)
    return Answer(Kind.ANSWER, texts, canonical, ttl)


def _text(rdtype: str, rd: Any) -> str:
    """One record as the plain text of :class:`Answer` (see its ``records``)."""
    if rdtype in {"A", "AAAA"}:
        return str(rd.address)
    if rdtype == "MX":
        exchange = rd.exchange.to_text(omit_final_dot=True).lower()
        return f"{rd.preference} {exchange if len(rd.exchange) > 1 else '.'}"
    if rdtype == "PTR":
        return str(rd.target.to_text(omit_final_dot=True).lower())
    return b"".join(rd.strings).decode("utf-8", "replace")


def _from_exception(query: Query, exc: dns.exception.DNSException, failure_ttl: float) -> Answer:
    import dns.exception  # noqa: PLC0415 - loaded with the engines
    import dns.resolver  # noqa: PLC0415

    if isinstance(exc, dns.resolver.NXDOMAIN):
        responses = list(_nxdomain_responses(exc).values())
        ttl = _negative_ttl(responses[0]) if responses else 0.0
        return Answer(Kind.NXDOMAIN, ttl=ttl)
    if isinstance(exc, dns.exception.Timeout):
        return Answer(Kind.FAILURE, detail=f"no answer to {query} in time ({exc}).")
    ttl = failure_ttl if isinstance(exc, dns.resolver.NoNameservers) else 0.0
    return Answer(Kind.FAILURE, ttl=ttl, detail=f"{query}: {exc}")


def _nxdomain_responses(exc: dns.resolver.NXDOMAIN) -> dict[Any, dns.message.Message]:
    return cast("dict[Any, dns.message.Message]", exc.kwargs.get("responses") or {})


def _negative_ttl(response: dns.message.Message) -> float:
    """RFC 2308 §5: the SOA's TTL or its minimum, the smaller; 0 without an SOA."""
    from dns.rdatatype import RdataType  # noqa: PLC0415 - loaded with the engines

    for rrset in response.authority:
        if rrset.rdtype == RdataType.SOA and len(rrset):
            soa: Any = rrset[0]
            return min(float(rrset.ttl), float(soa.minimum), MAX_NEGATIVE_TTL)
    return 0.0


class _Cache:
    """A bounded LRU map from query to answer, expiring by a given clock; thread-safe."""

    def __init__(self, max_size: int, clock: Callable[[], float]) -> None:
        self._max_size = max_size
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[Query, tuple[float, Answer]] = OrderedDict()

    def get(self, query: Query) -> Answer | None:
        with self._lock:
            entry = self._entries.get(query)
            if entry is None:
                return None
            expires, answer = entry
            if expires <= self._clock():
                del self._entries[query]
                return None
            self._entries.move_to_end(query)
            return answer

    def put(self, query: Query, answer: Answer) -> None:
        if answer.ttl <= 0:
            return
        with self._lock:
            self._entries[query] = (self._clock() + answer.ttl, answer)
            self._entries.move_to_end(query)
            while len(self._entries) > self._max_size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

"""The world builder: servers and domains, started and stopped together on one loop.

Its parts live next to it: the loop thread (:mod:`._loop`), the resolver that answers
for the world's domains (:mod:`._resolver`) and the catalogue of the default world
(:mod:`._catalogue`).
"""

from __future__ import annotations

import asyncio
import errno
import functools
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

from smtpcheck._mailhosts import DomainStatus, MailHost
from smtpcheck.testing._catalogue import furnish
from smtpcheck.testing._loop import LoopThread
from smtpcheck.testing._record import Command, Recorder, ServerStats
from smtpcheck.testing._resolver import WorldResolver
from smtpcheck.testing._servers import (
    TLS,
    Behaviour,
    RawScript,
    RawServer,
    SandboxSMTP,
    ServerState,
)

if TYPE_CHECKING:
    from smtpcheck.testing._dns import DNSServer

__all__ = ["MailWorld", "ManualClock", "ServerInfo"]

_T = TypeVar("_T")
_TTL = 300


class ManualClock:
    """A clock that moves only when told to, for greylisting without sleeping.

    Example:
        >>> clock = ManualClock()
        >>> clock.advance(301)
        >>> clock()
        301.0
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        if seconds < 0:
            raise ValueError(f"a clock does not go back: {seconds}")
        with self._lock:
            self._now += seconds


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerInfo:
    """A server of the world, as a test sees it.

    Attributes:
        name: Its host name (what MX records point to).
        host: The loopback address it listens on.
        port: The port it listens on (None before the world starts).
        domains: The domains it receives mail for.
        mailboxes: Its mailboxes: local parts (valid in every domain it serves) and
            full addresses, lowercase.
        behaviour: How it answers (None for a raw or dead server).
        script: The script of a hostile raw server, else None.
        dead: True for a host where nothing listens (connections are refused).
    """

    name: str
    host: str
    port: int | None
    domains: tuple[str, ...] = ()
    mailboxes: tuple[str, ...] = ()
    behaviour: Behaviour | None = None
    script: RawScript | None = None
    dead: bool = False


@dataclass(slots=True)
class _Domain:
    status: DomainStatus = DomainStatus.OK
    mx: list[tuple[int, str]] = field(default_factory=list)
    implicit: str | None = None
    spf: str | None = None
    dmarc: str | None = None


@functools.cache
def _certificate_authority() -> Any:
    import trustme  # noqa: PLC0415 - only worlds with TLS servers pay for it

    return trustme.CA(organization_name="smtpcheck sandbox")


class MailWorld:
    """Mail servers and their domains on loopback, started and stopped in one line.

    Build a world with :meth:`add_server` and :meth:`add_domain` (each returns the world,
    so calls chain), or take the ready-made :meth:`default` one; then start it with
    ``with``, ``async with`` or :meth:`start`. The servers are real SMTP servers
    (aiosmtpd), all run by one event loop in one background thread, so blocking and
    asyncio clients can talk to them from any thread.

    Every server records each line it receives (:meth:`commands`). DATA, BDAT, VRFY and
    EXPN are refused (554/502) and recorded; :meth:`check` raises AssertionError when
    any was received, and leaving a ``with`` block runs it.

    Args:
        shared_port: None (the default) puts every server on 127.0.0.1 with a port of its
            own. A number puts every server on its own address 127.0.0.N (N >= 2), all on
            that one port (0 picks a free one): then an A record can point at a server,
            as real DNS needs (see :meth:`dns_records`).
        clock: Seconds as a float, for greylisting; :class:`ManualClock` lets a test
            move time. Defaults to :func:`time.monotonic`.

    Example:
        >>> import smtplib
        >>> world = MailWorld().add_server("mx.shop.test", domains=["shop.test"],
        ...                                mailboxes=["alice"])
        >>> with world:
        ...     host, port = world.address("mx.shop.test")
        ...     with smtplib.SMTP(host, port) as client:
        ...         _ = client.ehlo("client.test")
        ...         _ = client.mail("probe@client.test")
        ...         client.rcpt("alice@shop.test")
        (250, b'2.1.5 Ok')
    """

    def __init__(
        self, *, shared_port: int | None = None, clock: Callable[[], float] | None = None
    ) -> None:
        self.clock: Callable[[], float] = clock or time.monotonic
        self._shared_port = shared_port
        self._domains: dict[str, _Domain] = {}
        self._servers: dict[str, ServerInfo] = {}
        self._recorder = Recorder()
        self._thread: LoopThread | None = None
        self._listeners: list[asyncio.Server] = []
        self._holders: list[socket.socket] = []
        self._connections: set[asyncio.BaseTransport] = set()
        self._states: list[ServerState] = []
        self._resolver = WorldResolver(self)
        self._port: int | None = None
        # The zone, computed once after the last change (servers and domains are added
        # before the world starts, and its records carry no port).
        self._zone_memo: tuple[dict[str, list[tuple[str, str]]], frozenset[str]] | None = None

    # -- building ----------------------------------------------------------------------

    def _add(self, info: ServerInfo, domains: Iterable[str], preference: int, mx: bool) -> None:
        self._zone_memo = None
        if self._thread is not None:
            raise RuntimeError("add servers before the world starts")
        if info.name in self._servers:
            raise ValueError(f"there is already a server named {info.name!r}")
        self._servers[info.name] = info
        if mx:
            for domain in domains:
                self.add_domain(domain, mx=[(preference, info.name)])

    def _host(self) -> str:
        if self._shared_port is None:
            return "127.0.0.1"
        number = len(self._servers) + 2
        if number > 254:
            raise ValueError("a shared-port world has room for 253 servers")
        return f"127.0.0.{number}"

    def add_server(
        self,
        name: str,
        *,
        domains: Iterable[str] = (),
        mailboxes: Iterable[str] = (),
        behaviour: Behaviour | None = None,
        preference: int = 10,
        publish_mx: bool = True,
    ) -> Self:
        """Add an SMTP server.

        Args:
            name: Its host name, such as ``"mx.shop.test"``.
            domains: The domains it receives mail for; RCPT to others is refused as
                relaying.
            mailboxes: Local parts (``"alice"``, valid in each of ``domains``) or full
                addresses (``"alice@shop.test"``). Compared without regard to case.
            behaviour: How it answers; a plain server by default.
            preference: The MX preference published for it.
            publish_mx: Publish an MX record for each of ``domains`` pointing to it.
                Turn off for a server reached as an implicit MX or not at all.

        Returns:
            The world, so that calls chain.

        Example:
            >>> world = MailWorld().add_server(
            ...     "mx.shop.test", domains=["shop.test"], mailboxes=["alice"],
            ...     behaviour=Behaviour(greylist_seconds=60))
            >>> world.server("mx.shop.test").behaviour.greylist_seconds
            60
        """
        domains = tuple(d.lower().rstrip(".") for d in domains)
        info = ServerInfo(
            name=name.lower(),
            host=self._host(),
            port=None,
            domains=domains,
            mailboxes=tuple(m.lower() for m in mailboxes),
            behaviour=behaviour or Behaviour(),
        )
        self._add(info, domains, preference, publish_mx)
        return self

    def add_raw_server(
        self,
        name: str,
        script: RawScript,
        *,
        domains: Iterable[str] = (),
        preference: int = 10,
    ) -> Self:
        """Add a hostile server that is not SMTP (see :class:`RawScript`).

        Only for robustness tests of an SMTP client: it sends the script's bytes, whatever
        the client says.

        Example:
            >>> world = MailWorld().add_raw_server(
            ...     "mx.garbage.test", RawScript.garbage(), domains=["garbage.test"])
        """
        domains = tuple(d.lower().rstrip(".") for d in domains)
        info = ServerInfo(
            name=name.lower(), host=self._host(), port=None, domains=domains, script=script
        )
        self._add(info, domains, preference, mx=True)
        return self

    def add_dead_host(
        self, name: str, *, domains: Iterable[str] = (), preference: int = 10
    ) -> Self:
        """Add a mail host where nothing listens: connecting to it is refused.

        Example:
            >>> world = MailWorld().add_dead_host("mx1.backup.test", domains=["backup.test"])
        """
        domains = tuple(d.lower().rstrip(".") for d in domains)
        info = ServerInfo(
            name=name.lower(), host=self._host(), port=None, domains=domains, dead=True
        )
        self._add(info, domains, preference, mx=True)
        return self

    def add_domain(
        self,
        domain: str,
        *,
        status: DomainStatus = DomainStatus.OK,
        mx: Iterable[str | tuple[int, str]] = (),
        implicit: str | None = None,
        spf: str | None = None,
        dmarc: str | None = None,
    ) -> Self:
        """Add a domain, or more records to one (servers add their own MX records).

        Args:
            domain: The domain, such as ``"shop.test"``.
            status: What DNS says about it: ``NULL_MX``, ``NO_SUCH_DOMAIN``,
                ``NO_MAIL_SERVER`` or ``DNS_FAILURE`` (SERVFAIL) need no other argument.
            mx: MX hosts, as names (preferences 10, 20, ... in order) or
                ``(preference, name)`` pairs. A name that is not a host of the world is
                an MX without an address.
            implicit: The name of a server whose address the domain's own A record
                carries: the domain has no MX and is its own mail host (RFC 5321 §5.1).
            spf: The domain's SPF record, such as ``"v=spf1 -all"``.
            dmarc: The domain's DMARC record, such as ``"v=DMARC1; p=reject"``.

        Returns:
            The world, so that calls chain.

        Example:
            >>> world = (MailWorld()
            ...     .add_domain("nullmx.test", status=DomainStatus.NULL_MX)
            ...     .add_domain("broken.test", status=DomainStatus.DNS_FAILURE))
        """
        self._zone_memo = None
        record = self._domains.setdefault(domain.lower().rstrip("."), _Domain())
        record.status = status
        start = len(record.mx)
        for index, entry in enumerate(mx, start=start + 1):
            pair = entry if isinstance(entry, tuple) else (10 * index, entry)
            record.mx.append((pair[0], pair[1].lower().rstrip(".")))
        if implicit is not None:
            record.implicit = implicit.lower()
        if spf is not None:
            record.spf = spf
        if dmarc is not None:
            record.dmarc = dmarc
        return self

    @classmethod
    def default(
        cls, *, shared_port: int | None = None, clock: Callable[[], float] | None = None
    ) -> MailWorld:
        """The ready-made world: one ``.test`` domain per behaviour.

        Every server is ``mx.<domain>`` with mailboxes ``alice`` and ``bob`` (and
        ``jörg`` on ``ok.test``). See :data:`DEFAULT_SERVERS` for the table.

        Example:
            >>> with MailWorld.default() as world:
            ...     world.resolver.mail_hosts("ok.test").hosts[0].name
            'mx.ok.test'
        """
        return furnish(cls(shared_port=shared_port, clock=clock))

    # -- running -----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the world's servers are listening."""
        return self._thread is not None

    def start(self) -> Self:
        """Start every server (a plain call; safe from a thread that runs an event loop).

        Returns:
            The world.
        """
        if self._thread is not None:
            raise RuntimeError("the world is already running")
        self._thread = LoopThread()
        try:
            self._thread.run(self._start())
        except BaseException:
            self._thread.run(self._stop())
            self._thread.close()
            self._thread = None
            raise
        return self

    def stop(self) -> None:
        """Stop every server and close every connection; a no-op when not running."""
        if self._thread is None:
            return
        try:
            self._thread.run(self._stop())
        finally:
            self._thread.close()
            self._thread = None

    async def astart(self) -> Self:
        """Start every server without blocking the caller's event loop."""
        if self._thread is not None:
            raise RuntimeError("the world is already running")
        self._thread = LoopThread()
        try:
            await self._thread.arun(self._start())
        except BaseException:
            await self._thread.arun(self._stop())
            self._thread.close()
            self._thread = None
            raise
        return self

    async def astop(self) -> None:
        """Stop every server without blocking the caller's event loop."""
        if self._thread is None:
            return
        thread, self._thread = self._thread, None
        try:
            await thread.arun(self._stop())
        finally:
            await asyncio.to_thread(thread.close)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
        if exc is None:
            self.check()

    async def __aenter__(self) -> Self:
        return await self.astart()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.astop()
        if exc is None:
            self.check()

    async def _start(self) -> None:
        tls = self._tls_context()
        for attempt in range(5):
            try:
                await self._listen(tls)
            except OSError as error:
                await self._stop()
                if error.errno != errno.EADDRINUSE or self._shared_port or attempt == 4:
                    raise
            else:
                return

    async def _listen(self, tls: ssl.SSLContext | None) -> None:
        loop = asyncio.get_running_loop()
        self._port = self._shared_port or None
        for name, info in list(self._servers.items()):
            port = self._port or 0
            if info.dead:
                holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                self._holders.append(holder)
                holder.bind((info.host, port))  # bound, never listening: refused
                bound = holder.getsockname()[1]
            else:
                if info.script is not None:
                    listener = await asyncio.start_server(
                        RawServer(
                            name=name,
                            script=info.script,
                            recorder=self._recorder,
                            connections=self._connections,
                        ),
                        info.host,
                        port,
                    )
                else:
                    state = ServerState(
                        name=name,
                        domains=frozenset(info.domains),
                        mailboxes=frozenset(info.mailboxes),
                        behaviour=info.behaviour or Behaviour(),
                        recorder=self._recorder,
                        clock=self.clock,
                        tls_context=tls,
                        connections=self._connections,
                    )
                    self._states.append(state)
                    implicit = tls if state.behaviour.tls is TLS.IMPLICIT else None
                    listener = await loop.create_server(
                        functools.partial(SandboxSMTP, state, loop),
                        info.host,
                        port,
                        ssl=implicit,
                    )
                self._listeners.append(listener)
                bound = listener.sockets[0].getsockname()[1]
            if self._shared_port is not None:
                self._port = bound
            self._servers[name] = _replace_port(info, bound)

    async def _stop(self) -> None:
        for listener in self._listeners:
            listener.close()
        for transport in list(self._connections):
            if isinstance(transport, asyncio.WriteTransport):
                transport.abort()
            else:
                transport.close()
        for holder in self._holders:
            holder.close()
        for listener in self._listeners:
            await listener.wait_closed()
        self._listeners.clear()
        self._holders.clear()
        self._states.clear()
        # Let the aborted connections run their connection_lost, then end what is left.
        for _ in range(3):
            await asyncio.sleep(0)
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._connections.clear()
        for name, info in list(self._servers.items()):
            self._servers[name] = _replace_port(info, None)

    def _tls_context(self) -> ssl.SSLContext | None:
        wanted = any(
            info.behaviour is not None and info.behaviour.tls is not TLS.NONE
            for info in self._servers.values()
        )
        if not wanted:
            return None
        names = sorted({*self._servers, "localhost"})
        hosts = sorted({info.host for info in self._servers.values()})
        cert = _certificate_authority().issue_cert(*names, *hosts)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        return context

    # -- looking at it -----------------------------------------------------------------

    @property
    def resolver(self) -> WorldResolver:
        """The in-process resolver of this world, for ``verify(..., resolver=...)``."""
        return self._resolver

    @property
    def port(self) -> int | None:
        """The port every server shares, when ``shared_port`` was given and it runs."""
        return self._port if self._shared_port is not None else None

    @property
    def servers(self) -> tuple[ServerInfo, ...]:
        """Every server of the world, in the order they were added."""
        return tuple(self._servers.values())

    def server(self, name: str) -> ServerInfo:
        """The server named ``name`` (KeyError when there is none)."""
        return self._servers[name.lower()]

    def address(self, name: str) -> tuple[str, int]:
        """``(host, port)`` of a running server, for a client to connect to."""
        info = self.server(name)
        if info.port is None:
            raise RuntimeError("the world is not running")
        return info.host, info.port

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts the world's certificates (made with trustme)."""
        context = ssl.create_default_context()
        _certificate_authority().configure_trust(context)
        return context

    @property
    def ca_pem(self) -> bytes:
        """The PEM of the certificate authority that signed the servers' certificates."""
        return bytes(_certificate_authority().cert_pem.bytes())

    def commands(self, server: str | None = None) -> list[Command]:
        """Every line received, by ``server`` or by all servers, in order of arrival.

        Example:
            >>> [c.verb for c in world.commands("mx.ok.test")]  # doctest: +SKIP
            ['EHLO', 'MAIL', 'RCPT', 'QUIT']
        """
        return self._recorder.commands(server.lower() if server else None)

    def forbidden(self) -> list[Command]:
        """The DATA, BDAT, VRFY and EXPN commands received (which smtpcheck never sends)."""
        return self._recorder.forbidden_commands()

    def stats(self, server: str) -> ServerStats:
        """Connection counters of ``server``: total, open now, and peak concurrency."""
        return self._recorder.stats(server.lower())

    def check(self) -> None:
        """Raise AssertionError if any server received DATA, BDAT, VRFY or EXPN.

        Raises:
            AssertionError: Naming each forbidden command and the server that got it.
        """
        seen = self.forbidden()
        if seen:
            lines = "; ".join(
                f"{c.verb} to {c.server} (session {c.session}): {c.line!r}" for c in seen
            )
            raise AssertionError(f"the mail world received forbidden commands: {lines}")

    def reset(self) -> None:
        """Forget recorded commands, counters and greylisting state."""
        self._recorder.clear()
        for state in self._states:
            state.greylist.clear()

    # -- DNS ---------------------------------------------------------------------------

    def _zone(self) -> tuple[dict[str, list[tuple[str, str]]], frozenset[str]]:
        """The world's DNS data: name -> ``[(type, value), ...]``, and the SERVFAIL names.

        Values are plain text: an address, ``"preference host"`` for MX (``"0 ."`` for a
        null MX), the record itself for TXT. NXDOMAIN names are absent.
        """
        records: dict[str, list[tuple[str, str]]] = {}
        for name, info in self._servers.items():
            records.setdefault(name, []).append(("A", info.host))
        for domain, record in self._domains.items():
            entries = records.setdefault(domain, [])
            if record.status is DomainStatus.NULL_MX:
                entries.append(("MX", "0 ."))
            elif record.status is DomainStatus.OK:
                entries.extend(("MX", f"{pref} {host}") for pref, host in record.mx)
                if record.implicit is not None and record.implicit in self._servers:
                    address = ("A", self._servers[record.implicit].host)
                    if address not in entries:
                        entries.append(address)
            if record.spf is not None:
                entries.append(("TXT", record.spf))
            if record.dmarc is not None:
                records.setdefault(f"_dmarc.{domain}", []).append(("TXT", record.dmarc))
            if record.status is DomainStatus.NO_MAIL_SERVER and not entries:
                entries.append(("TXT", "no mail here"))
            if record.status in {DomainStatus.NO_SUCH_DOMAIN, DomainStatus.DNS_FAILURE}:
                del records[domain]
        failing = frozenset(
            d for d, r in self._domains.items() if r.status is DomainStatus.DNS_FAILURE
        )
        self._zone_memo = (records, failing)
        return self._zone_memo

    def _mail_port(self, host: MailHost) -> int | None:
        """The port of the server behind a mail host the world's DNS named."""
        info = self._servers.get(host.name)
        if host.implicit:
            record = self._domains.get(host.name)
            if record is not None and record.implicit is not None:
                info = self._servers.get(record.implicit, info)
        return info.port if info is not None else None

    def dns_records(self) -> dict[str, list[tuple[str, str, int]]]:
        """The world as DNS records: name -> ``[(type, rdata, ttl), ...]``.

        Only a world built with ``shared_port`` can be served through DNS (an A record
        carries no port); the client's port is then :attr:`port`. SERVFAIL domains are
        in :meth:`dns_behaviours`, NXDOMAIN ones have no record.
        """
        if self._shared_port is None:
            raise RuntimeError("a world served through DNS needs MailWorld(shared_port=0)")
        zone, _ = self._zone()
        return {
            name: [(kind, _rdata(kind, value), _TTL) for kind, value in entries]
            for name, entries in zone.items()
        }

    def dns_server(self, *, host: str = "127.0.0.1", port: int = 0) -> DNSServer:
        """A loopback DNS server (not started) that serves this world's records.

        Use it for code that must go through real DNS: point a resolver at its
        ``host`` and ``port``, and connect to the mail hosts on :attr:`port`.

        Example:
            >>> world = MailWorld(shared_port=0).add_server(
            ...     "mx.shop.test", domains=["shop.test"], mailboxes=["alice"])
            >>> import dns.resolver
            >>> with world, world.dns_server() as dns_server:
            ...     resolver = dns.resolver.Resolver(configure=False)
            ...     resolver.nameservers, resolver.port = [dns_server.host], dns_server.port
            ...     str(resolver.resolve("shop.test", "MX")[0].exchange)
            'mx.shop.test.'
        """
        from smtpcheck.testing._dns import DNSServer  # noqa: PLC0415 - dnspython on demand

        return DNSServer(self.dns_records(), behaviours=self.dns_behaviours(), host=host, port=port)

    def dns_behaviours(self) -> dict[str, str]:
        """Names whose DNS answer is a failure: name -> ``"servfail"``."""
        return {
            d: "servfail" for d, r in self._domains.items() if r.status is DomainStatus.DNS_FAILURE
        }


def _rdata(kind: str, value: str) -> str:
    """A value of :meth:`MailWorld._zone` in DNS presentation format."""
    if kind == "TXT":
        return _txt(value)
    if kind == "MX" and not value.endswith("."):
        return f"{value}."
    return value


def _txt(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _replace_port(info: ServerInfo, port: int | None) -> ServerInfo:
    return ServerInfo(
        name=info.name,
        host=info.host,
        port=port,
        domains=info.domains,
        mailboxes=info.mailboxes,
        behaviour=info.behaviour,
        script=info.script,
        dead=info.dead,
    )

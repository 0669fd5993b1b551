"""A small authoritative DNS server on loopback, for tests and the sandbox.

:class:`DNSServer` answers UDP and TCP queries on one port of ``127.0.0.1`` from data
held in memory, in a background thread. It is built on dnspython's message, name and
rdata classes; nothing here parses wire format by hand.

The data is a mapping from owner name to records::

    records = {
        "example.test": [("MX", "10 mx1.example.test"), ("TXT", '"v=spf1 -all"', 60)],
        "mx1.example.test": [("A", "127.0.0.2")],
        "alias.example.test": [("CNAME", "mx1.example.test")],
    }
    with DNSServer(records) as server:
        resolver = Resolver(nameservers=[server.host], port=server.port)

or the same as zone-file text (``DNSServer(zone_text, origin="example.test")``).

How it answers, as an authoritative server would:

- A name with records of the asked type: those records (AA flag set). CNAMEs are
  followed within the data, each link added to the answer.
- A name that exists without records of the asked type (or is an empty non-terminal,
  such as ``test`` above): NOERROR with no answer, the SOA in the authority section.
- Any other name: NXDOMAIN, the SOA in the authority section.

The SOA is the closest enclosing one in the data; without any, a synthetic root SOA
whose TTL and minimum are ``negative_ttl``, so resolvers cache negative answers for
that long (RFC 2308).

Per-name behaviours (:meth:`DNSServer.set_behaviour`) make a name misbehave:
``"servfail"``, ``"refused"``, or ``"drop"`` (the query is never answered). Every query
received is logged (:attr:`DNSServer.queries`, :meth:`DNSServer.query_count`), so a
test can prove that a cache answered instead of the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import textwrap
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Self, cast

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone
from dns.rdatatype import RdataType

__all__ = ["Behaviour", "DNSServer", "LoggedQuery", "Record", "Records"]

#: A record: ``(type, rdata text)`` or ``(type, rdata text, ttl)``, such as
#: ``("MX", "10 mx.example.test")`` or ``("A", "127.0.0.2", 60)``.
Record = tuple[str, str] | tuple[str, str, int]
#: Records by owner name (absolute, in A-labels; the trailing dot is optional).
Records = Mapping[str, Sequence[Record]]
#: How a name misbehaves: answer SERVFAIL, answer REFUSED, or never answer.
Behaviour = Literal["servfail", "refused", "drop"]

_BEHAVIOURS = ("servfail", "refused", "drop")
_MAX_CNAME_CHAIN = 16
_IN = dns.rdataclass.IN


@dataclass(frozen=True, slots=True)
class LoggedQuery:
    """One query the server received.

    Attributes:
        name: The name asked about, lowercase, without the trailing dot.
        rdtype: The type asked for, as text (``"MX"``).
        tcp: True when it came over TCP.
    """

    name: str
    rdtype: str
    tcp: bool


class DNSServer:
    """An authoritative DNS server on loopback, serving in-memory data.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`. Its data and
    behaviours may change while it runs; every method is thread-safe.

    Args:
        records: The data: records by owner name (see :data:`Records`), or zone-file
            text (its common indentation is removed first), or None to start empty.
        origin: The zone-file text's origin: relative names are under it, and an SOA
            record must be owned by it. The root by default.
        behaviours: Misbehaving names: name -> ``"servfail"``, ``"refused"`` or
            ``"drop"`` (see :meth:`set_behaviour`).
        negative_ttl: TTL and minimum of the synthetic root SOA that negative answers
            carry when the data has no SOA of its own.
        default_ttl: TTL of records given without one.
        host: The address to listen on.
        port: The UDP and TCP port; 0 lets the system pick a free one.

    Raises:
        ValueError: A record or a behaviour is invalid.
        dns.exception.SyntaxError: The zone text or an rdata text does not parse.

    Example:
        >>> with DNSServer({"example.test": [("A", "127.0.0.2")]}) as server:
        ...     server.port > 0
        True
    """

    def __init__(
        self,
        records: Records | str | None = None,
        *,
        origin: str | None = None,
        behaviours: Mapping[str, str] | None = None,
        negative_ttl: int = 60,
        default_ttl: int = 300,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._default_ttl = default_ttl
        self._lock = threading.Lock()
        self._data: dict[dns.name.Name, dict[RdataType, dns.rrset.RRset]] = {}
        self._names: dict[dns.name.Name, int] = {}  # name -> owners at or below it
        self._behaviours: dict[dns.name.Name, Behaviour] = {}
        self._log: list[LoggedQuery] = []
        #: Exceptions raised while answering (a bug in the data or the server); a test
        #: may assert that it stays empty. The query got no answer.
        self.errors: list[Exception] = []
        self._root_soa = dns.rrset.from_text(
            dns.name.root,
            negative_ttl,
            _IN,
            RdataType.SOA,
            f"ns.invalid. hostmaster.invalid. 1 3600 600 86400 {negative_ttl}",
        )
        if isinstance(records, str):
            self._load_zone(records, origin)
        elif records is not None:
            for name, recs in records.items():
                self.set_records(name, recs)
        for name, behaviour in (behaviours or {}).items():
            self.set_behaviour(name, cast("Behaviour", behaviour))
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._startup_error: BaseException | None = None

    # --- life cycle -------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the server listens on (UDP and TCP).

        Raises:
            RuntimeError: The server is not running.
        """
        if self._port is None:
            raise RuntimeError("the DNS server is not running")
        return self._port

    def start(self) -> None:
        """Bind the sockets and start serving in a background thread.

        Raises:
            RuntimeError: The server is already running.
            OSError: The port could not be bound.
        """
        if self._thread is not None:
            raise RuntimeError("the DNS server is already running")
        udp, tcp = _bind_pair(self.host, self._requested_port)
        self._port = udp.getsockname()[1]
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._loop = loop
        self._thread = threading.Thread(
            target=self._run, args=(loop, udp, tcp, ready), name="DNSServer", daemon=True
        )
        self._thread.start()
        ready.wait()
        if self._startup_error is not None:
            error, self._startup_error = self._startup_error, None
            self.stop()
            raise error

    def stop(self) -> None:
        """Stop serving, close every socket and join the thread. Idempotent."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None or loop is None:
            return
        if stopping is not None:
            loop.call_soon_threadsafe(stopping.set)
        thread.join()
        self._thread = self._loop = self._stopping = None
        self._port = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- data -------------------------------------------------------------------------

    def set_records(self, name: str, records: Iterable[Record]) -> None:
        """Replace all records of ``name`` (an empty list removes the name).

        Args:
            name: The owner name, absolute, in A-labels.
            records: ``(type, rdata text)`` or ``(type, rdata text, ttl)`` tuples; names
                inside rdata are taken as absolute.
        """
        owner = _name(name)
        rrsets: dict[RdataType, dns.rrset.RRset] = {}
        for record in records:
            rdtype = RdataType.make(record[0])
            ttl = record[2] if len(record) == 3 else self._default_ttl
            rdata = dns.rdata.from_text(
                _IN, rdtype, record[1], origin=dns.name.root, relativize=False
            )
            rrset = rrsets.setdefault(rdtype, dns.rrset.RRset(owner, _IN, rdtype))
            rrset.add(rdata, ttl)
        with self._lock:
            self._drop_owner(owner)
            for rrset in rrsets.values():
                self._add_rrset(rrset)

    def set_behaviour(self, name: str, behaviour: Behaviour | None) -> None:
        """Make queries for exactly ``name`` misbehave, or (None) behave again.

        Args:
            name: The name asked about.
            behaviour: ``"servfail"``, ``"refused"``, ``"drop"`` (never answer), or None.

        Raises:
            ValueError: ``behaviour`` is none of those.
        """
        if behaviour is not None and behaviour not in _BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}; use one of {_BEHAVIOURS}")
        owner = _name(name)
        with self._lock:
            if behaviour is None:
                self._behaviours.pop(owner, None)
            else:
                self._behaviours[owner] = behaviour

    @property
    def queries(self) -> list[LoggedQuery]:
        """A copy of the log of queries received, oldest first."""
        with self._lock:
            return list(self._log)

    def query_count(self, name: str | None = None, rdtype: str | None = None) -> int:
        """Count the queries received, optionally only for one name and/or type.

        Args:
            name: Count only queries for this name (case and trailing dot ignored).
            rdtype: Count only queries for this type (``"MX"``).

        Returns:
            How many queries matched.
        """
        wanted = None if name is None else name.lower().removesuffix(".")
        kind = None if rdtype is None else rdtype.upper()
        with self._lock:
            return sum(
                1
                for q in self._log
                if (wanted is None or q.name == wanted) and (kind is None or q.rdtype == kind)
            )

    def clear_queries(self) -> None:
        """Empty the query log."""
        with self._lock:
            self._log.clear()

    def _load_zone(self, text: str, origin: str | None) -> None:
        zone = dns.zone.from_text(
            textwrap.dedent(text),
            origin=_name(origin) if origin else dns.name.root,
            relativize=False,
            check_origin=False,
        )
        with self._lock:
            for owner, rdataset in zone.iterate_rdatasets():
                rrset = dns.rrset.RRset(owner, _IN, rdataset.rdtype)
                for rdata in rdataset:
                    rrset.add(rdata, rdataset.ttl)
                self._add_rrset(rrset)

    def _add_rrset(self, rrset: dns.rrset.RRset) -> None:
        owner = rrset.name
        if owner not in self._data:
            self._data[owner] = {}
            for name in _self_and_ancestors(owner):
                self._names[name] = self._names.get(name, 0) + 1
        self._data[owner][RdataType(rrset.rdtype)] = rrset

    def _drop_owner(self, owner: dns.name.Name) -> None:
        if self._data.pop(owner, None) is None:
            return
        for name in _self_and_ancestors(owner):
            self._names[name] -= 1
            if not self._names[name]:
                del self._names[name]

    # --- answering --------------------------------------------------------------------

    def _answer(self, wire: bytes, tcp: bool) -> bytes | None:
        """Return the response to one query's wire form, or None to send nothing."""
        try:
            return self._respond(wire, tcp)
        except Exception as exc:  # noqa: BLE001 - a bug here must not kill the server
            with self._lock:
                self.errors.append(exc)
            return None

    def _respond(self, wire: bytes, tcp: bool) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        if query.flags & dns.flags.QR:
            return None
        response = dns.message.make_response(query)
        if query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
            response.set_rcode(
                dns.rcode.NOTIMP if query.opcode() != dns.opcode.QUERY else dns.rcode.FORMERR
            )
            return response.to_wire()
        question = query.question[0]
        qname, rdtype = question.name, RdataType(question.rdtype)
        with self._lock:
            self._log.append(
                LoggedQuery(qname.to_text(omit_final_dot=True).lower(), rdtype.name, tcp)
            )
            behaviour = self._behaviours.get(qname)
            if behaviour == "drop":
                return None
            if behaviour is not None:
                rcode = dns.rcode.SERVFAIL if behaviour == "servfail" else dns.rcode.REFUSED
                response.set_rcode(rcode)
                return response.to_wire()
            self._resolve(response, qname, rdtype)
        response.flags |= dns.flags.AA
        limit = 65535 if tcp else max(query.payload if query.edns >= 0 else 512, 512)
        try:
            return response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            truncated = dns.message.make_response(query)
            truncated.flags |= dns.flags.TC | dns.flags.AA
            return truncated.to_wire()

    def _resolve(
        self, response: dns.message.Message, qname: dns.name.Name, rdtype: RdataType
    ) -> None:
        """Fill ``response`` from the data, following CNAMEs (the caller holds the lock)."""
        name = qname
        for _ in range(_MAX_CNAME_CHAIN):
            node = self._data.get(name, {})
            if rdtype == RdataType.ANY and node:
                response.answer.extend(node.values())
                return
            if (rrset := node.get(rdtype)) is not None:
                response.answer.append(rrset)
                return
            cname = node.get(RdataType.CNAME)
            if cname is None or rdtype == RdataType.CNAME:
                break
            response.answer.append(cname)
            name = cname[0].target
        if name not in self._names:
            response.set_rcode(dns.rcode.NXDOMAIN)
        response.authority.append(self._soa_for(name))

    def _soa_for(self, name: dns.name.Name) -> dns.rrset.RRset:
        for ancestor in _self_and_ancestors(name):
            soa = self._data.get(ancestor, {}).get(RdataType.SOA)
            if soa is not None:
                return soa
        return self._root_soa

    # --- the I/O thread ---------------------------------------------------------------

    def _run(
        self,
        loop: asyncio.AbstractEventLoop,
        udp: socket.socket,
        tcp: socket.socket,
        ready: threading.Event,
    ) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve(udp, tcp, ready))
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self, udp: socket.socket, tcp: socket.socket, ready: threading.Event) -> None:
        loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        connections: set[asyncio.Task[None]] = set()

        async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None  # noqa: S101 - always true inside a task
            connections.add(task)
            try:
                await self._serve_tcp(reader, writer)
            finally:
                connections.discard(task)
                writer.close()

        try:
            transport, _ = await loop.create_datagram_endpoint(lambda: _UDP(self), sock=udp)
            server = await asyncio.start_server(on_connection, sock=tcp)
        except (OSError, ValueError) as exc:
            udp.close()
            tcp.close()
            self._startup_error = exc
            ready.set()
            return
        ready.set()
        try:
            await self._stopping.wait()
        finally:
            transport.close()
            server.close()
            for task in list(connections):
                task.cancel()
            await asyncio.gather(*connections, return_exceptions=True)
            await server.wait_closed()

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                reply = self._answer(await reader.readexactly(length), tcp=True)
                if reply is not None:
                    writer.write(struct.pack("!H", len(reply)) + reply)
                    await writer.drain()


class _UDP(asyncio.DatagramProtocol):
    def __init__(self, server: DNSServer) -> None:
        self._server = server
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast("asyncio.DatagramTransport", transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        reply = self._server._answer(data, tcp=False)  # noqa: SLF001 - our own helper
        if reply is not None and self._transport is not None:
            self._transport.sendto(reply, addr)


def _bind_pair(host: str, port: int) -> tuple[socket.socket, socket.socket]:
    """Bind a UDP and a TCP socket to the same port (a free one when ``port`` is 0)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(1 if port else 20):
        udp = socket.socket(family, socket.SOCK_DGRAM)
        try:
            udp.bind((host, port))
            tcp = socket.socket(family, socket.SOCK_STREAM)
        except BaseException:
            udp.close()
            raise
        try:
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind((host, udp.getsockname()[1]))
            tcp.listen(64)
        except OSError:
            udp.close()
            tcp.close()
            if port:
                raise
            continue
        return udp, tcp
    raise OSError(f"found no port free for both UDP and TCP on {host}")


def _name(text: str) -> dns.name.Name:
    return dns.name.from_text(text.lower().removesuffix(".") + ".")


def _self_and_ancestors(name: dns.name.Name) -> list[dns.name.Name]:
    names = [name]
    while names[-1] != dns.name.root:
        names.append(names[-1].parent())
    return names

"""The self-audit: is *this host* fit to verify addresses? (``smtpcheck doctor``).

Most wrong answers of a verifier come from the host it runs on, not from its code:
outbound port 25 blocked by the provider, no reverse DNS, a HELO name that does not
resolve back, an IP on a blocklist, a MAIL FROM domain whose SPF does not allow the
host. :func:`audit` checks each of these and returns an :class:`Audit`: one
:class:`Check` per question, passed, warned, failed or "could not be checked", each with
the fix in one sentence.

The checks, in order (their :attr:`Check.name`):

- ``outbound_smtp``: a TCP connection to port 25 of a real mail host (``target``, or
  the first MX of ``domain``) opens in time; refused, filtered (timed out) and
  unreachable are told apart. It then says EHLO and QUIT (never MAIL, RCPT or DATA).
- ``public_ip``: the address the world sees, read from the EHLO reply when the server
  names it (``250-mx.example at your service, [203.0.113.7]``), else the one given.
- ``reverse_dns``: that IP has a PTR record whose name resolves back to it (FCrDNS).
- ``helo_name``: the HELO name is fully qualified, resolves to the IP, matches the PTR.
- ``spf``: the SPF record of the MAIL FROM domain (of the HELO name with the null
  sender ``<>``) authorises the IP, evaluated by spf3, the maintained fork of pyspf (``pip install
  'smtpcheck[doctor]'``; without it the check "could not be checked").
- ``dmarc``: the MAIL FROM domain (or a parent of it) publishes a DMARC record.
- ``blocklist:<zone>``: one per DNS blocklist of ``blocklists``, with their answer
  codes read right: Spamhaus's ``127.255.255.252/254/255`` mean "query refused", not
  "listed".

This is a driver-level module: it opens sockets itself (a short blocking loop around the
sans-IO :class:`~smtpcheck.protocol.ClientConnection`) and asks DNS through resolvers of
its own, pointed at ``nameservers`` and ``dns_port`` when given (never dnspython's
module-level default resolver). Tests inject ``connect`` to reproduce a filtered port
without leaving loopback.

It also holds the ``smtpcheck doctor`` command: :func:`add_parser` and :func:`run` for
``smtpcheck._cli``, and :func:`main` to run it alone.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import enum
import errno
import importlib
import ipaddress
import json
import re
import socket
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver
import dns.reversename
from dns.rdata import Rdata

from smtpcheck._drivers import default_helo_name, describe_os_error
from smtpcheck._errors import PolicyError, ProtocolError
from smtpcheck._policy import Policy
from smtpcheck._resolver import DomainStatus, Resolver
from smtpcheck.protocol import NEED_DATA, ClientConnection, Ehlo, Greeting, Quit, Reply, Response

__all__ = [
    "DEFAULT_BLOCKLISTS",
    "DEFAULT_DOMAIN",
    "EXIT_FAILED",
    "EXIT_INCOMPLETE",
    "EXIT_OK",
    "EXIT_USAGE",
    "GUIDE_URL",
    "Audit",
    "Blocklist",
    "Check",
    "CheckStatus",
    "Connector",
    "Target",
    "add_parser",
    "audit",
    "main",
    "render_text",
    "run",
]

#: The page that explains every check and its fix; the doctor's output links to it.
GUIDE_URL = "https://smtpcheck.readthedocs.io/en/latest/guide/before-you-verify.html"
#: The domain whose first MX is the default target: Gmail's mail hosts name the
#: client's address in their EHLO reply, so the public IP is read from it.
DEFAULT_DOMAIN = "gmail.com"

#: Exit status: every check passed (warnings allowed).
EXIT_OK = 0
#: Exit status: at least one check failed.
EXIT_FAILED = 1
#: Exit status: the command line was wrong.
EXIT_USAGE = 2
#: Exit status: nothing failed, but at least one check could not be checked.
EXIT_INCOMPLETE = 3

_READ_SIZE = 65536
_INSTALL_HINT = "pip install 'smtpcheck[doctor]'"


class CheckStatus(enum.Enum):
    """The outcome of one check."""

    #: All is well.
    PASS = "pass"  # noqa: S105 - a status, not a password
    #: It works, but some servers will like it less; worth fixing.
    WARN = "warn"
    #: Verification from this host will give wrong or "unknown" answers until fixed.
    FAIL = "fail"
    #: It could not be checked (a DNS failure, a missing input, a missing package).
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One question about this host, answered.

    Attributes:
        name: A stable identifier, such as ``"reverse_dns"`` or
            ``"blocklist:zen.spamhaus.org"``.
        status: Passed, warned, failed, or could not be checked.
        summary: One sentence: what was found.
        fix: One sentence: what to do about it; None when there is nothing to do.
        details: More facts, one sentence each (records found, errors, hints).
    """

    name: str
    status: CheckStatus
    summary: str
    fix: str | None = None
    details: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``name``, ``status``, ``summary``, ``fix``, ``details``."""
        return {
            "name": self.name,
            "status": self.status.value,
            "summary": self.summary,
            "fix": self.fix,
            "details": list(self.details),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """The mail host the audit connected to (or tried to).

    Attributes:
        host: Its name, or the address as given.
        address: The IP address connected to, or None when none was found.
        port: The TCP port.
        domain: The domain whose MX it is, when it was found that way.
    """

    host: str
    address: str | None
    port: int
    domain: str | None = None

    def __str__(self) -> str:
        where = self.host if self.address in {None, self.host} else f"{self.host} [{self.address}]"
        mx = f" (MX of {self.domain})" if self.domain else ""
        return f"{where} port {self.port}{mx}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Audit:
    """The report of :func:`audit`.

    Attributes:
        checks: The checks, in the order of the module's docstring.
        public_ip: The address the world sees, when found or given.
        helo_name: The HELO name audited (the policy's, else this machine's), or None.
        mail_from: The MAIL FROM audited (``""`` is the null sender).
        target: The mail host connected to, or None when none could be found.
    """

    checks: tuple[Check, ...]
    public_ip: str | None = None
    helo_name: str | None = None
    mail_from: str = ""
    target: Target | None = None

    def __getitem__(self, name: str) -> Check:
        """The check named ``name`` (KeyError when there is none)."""
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def count(self, status: CheckStatus) -> int:
        """How many checks have ``status``."""
        return sum(1 for c in self.checks if c.status is status)

    @property
    def ok(self) -> bool:
        """True when no check failed (warnings and unknowns allowed)."""
        return self.count(CheckStatus.FAIL) == 0

    @property
    def exit_status(self) -> int:
        """For scripts: 0 nothing failed or unknown, 1 a failure, 3 something unknown."""
        if not self.ok:
            return EXIT_FAILED
        if self.count(CheckStatus.UNKNOWN):
            return EXIT_INCOMPLETE
        return EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        """The JSON form printed by ``smtpcheck doctor --json``."""
        target = None
        if self.target is not None:
            target = {
                "host": self.target.host,
                "address": self.target.address,
                "port": self.target.port,
                "domain": self.target.domain,
            }
        return {
            "ok": self.ok,
            "exit_status": self.exit_status,
            "public_ip": self.public_ip,
            "helo_name": self.helo_name,
            "mail_from": self.mail_from,
            "target": target,
            "checks": [c.to_dict() for c in self.checks],
            "counts": {s.value: self.count(s) for s in CheckStatus},
            "guide": GUIDE_URL,
        }


# --- blocklists, as data -------------------------------------------------------------------


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


def _blocklist(item: Blocklist | str) -> Blocklist:
    if isinstance(item, Blocklist):
        return item
    zone = item.strip().lower().removesuffix(".")
    known = {b.zone: b for b in DEFAULT_BLOCKLISTS}
    return known.get(zone) or Blocklist(zone=zone)


# --- DNS ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Answer:
    kind: str  # "answer", "nxdomain", "nodata", "failure"
    rdatas: tuple[Rdata, ...] = ()
    detail: str = ""

    def texts(self) -> list[str]:
        out = []
        for rd in self.rdatas:
            strings = getattr(rd, "strings", None)
            if strings is not None:
                out.append(b"".join(strings).decode("utf-8", "replace"))
            else:
                out.append(rd.to_text().rstrip(".").lower())
        return out


class _DNS:
    """Our own dnspython resolver for PTR, A, AAAA, TXT and DNSBL questions."""

    def __init__(self, nameservers: Sequence[str] | None, port: int, lifetime: float) -> None:
        self.broken: str | None = None
        try:
            self.resolver = dns.resolver.Resolver(configure=nameservers is None)
        except dns.exception.DNSException as exc:  # no /etc/resolv.conf, say
            self.broken = f"the system's DNS configuration cannot be read: {exc}"
            self.resolver = dns.resolver.Resolver(configure=False)
        if nameservers is not None:
            self.resolver.nameservers = list(nameservers)
        self.resolver.port = port
        self.resolver.lifetime = lifetime
        self.resolver.timeout = lifetime

    def ask(self, name: str, rdtype: str) -> _Answer:
        question = f"{rdtype} {name}"
        if self.broken:
            return _Answer("failure", detail=self.broken)
        try:
            qname = dns.name.from_text(name)
            answer = self.resolver.resolve(qname, rdtype, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return _Answer("nxdomain")
        except dns.exception.Timeout:
            return _Answer("failure", detail=f"no answer to {question} in time")
        except dns.resolver.NoNameservers:
            return _Answer("failure", detail=f"the name servers failed to answer {question}")
        except dns.exception.DNSException as exc:
            return _Answer("failure", detail=f"{question}: {exc}")
        if answer.rrset is None:
            return _Answer("nodata")
        return _Answer("answer", tuple(answer.rrset))

    def addresses(self, name: str) -> tuple[list[str], str | None]:
        """The A and AAAA addresses of ``name``, and a failure sentence if any."""
        found: list[str] = []
        failures = []
        for rdtype in ("A", "AAAA"):
            answer = self.ask(name, rdtype)
            if answer.kind == "failure":
                failures.append(answer.detail)
            found.extend(str(ipaddress.ip_address(t)) for t in answer.texts())
        return found, "; ".join(failures) or None


# --- SPF through pyspf ---------------------------------------------------------------------

_spf_lookup: contextvars.ContextVar[Callable[..., list[Any]] | None] = contextvars.ContextVar(
    "smtpcheck_spf_lookup", default=None
)
_spf_lock = threading.Lock()


def _load_spf() -> Any:
    """Import pyspf and route its DNS through :data:`_spf_lookup`; None when missing.

    pyspf asks DNS through its module-level function ``spf.DNSLookup`` (which uses
    dnspython's default resolver). It is replaced, once, by a function that asks the
    lookup set in the current context (this audit's own resolver), and otherwise calls
    the original, so that other users of pyspf in the process see no change.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyspf's old code warns when compiled
            spf: Any = importlib.import_module("spf")
    except ImportError:
        return None
    with _spf_lock:
        if not getattr(spf.DNSLookup, "smtpcheck", False):
            original = spf.DNSLookup

            def lookup(name: str, qtype: str, strict: bool = True, timeout: float = 30) -> Any:  # noqa: FBT002 - pyspf's signature
                ours = _spf_lookup.get()
                if ours is None:
                    return original(name, qtype, strict, timeout)
                return ours(name, qtype)

            lookup.smtpcheck = True  # type: ignore[attr-defined]
            spf.DNSLookup = lookup
    return spf


def _spf_dns(resolver: _DNS, spf: Any) -> Callable[..., list[Any]]:
    """A pyspf ``DNSLookup`` that asks ``resolver``: ``[((name, type), value), ...]``."""

    def lookup(name: str, qtype: str) -> list[Any]:
        answer = resolver.ask(name, qtype)
        if answer.kind == "failure":
            raise spf.TempError(f"DNS {answer.detail}")
        out: list[Any] = []
        for rd in answer.rdatas:
            value: Any
            if qtype in {"A", "AAAA"}:
                value = rd.address  # type: ignore[attr-defined]
            elif qtype == "MX":
                value = (rd.preference, rd.exchange)  # type: ignore[attr-defined]
            elif qtype == "PTR":
                value = rd.target.to_text(omit_final_dot=True)  # type: ignore[attr-defined]
            elif qtype in {"TXT", "SPF"}:
                value = rd.strings  # type: ignore[attr-defined]
            else:
                continue
            out.append(((name, qtype), value))
        return out

    return lookup


# --- the connection ----------------------------------------------------------------------

#: How the audit opens a TCP connection: ``(ip, port, timeout) -> socket``. It raises
#: ``TimeoutError`` when nothing answered in time, ``ConnectionRefusedError`` on a reset,
#: another ``OSError`` otherwise. Tests inject one to reproduce a filtered port.
Connector = Callable[[str, int, float | None], socket.socket]


@dataclass(frozen=True, slots=True)
class _Conversation:
    greeting: Reply | None = None
    ehlo: Reply | None = None
    error: str | None = None
    local_ip: str | None = None
    elapsed: float = 0.0


def _default_connector(policy: Policy) -> Connector:
    source = (policy.source_address, 0) if policy.source_address else None

    def connect(ip: str, port: int, timeout: float | None) -> socket.socket:
        return socket.create_connection((ip, port), timeout=timeout, source_address=source)

    return connect


def _converse(sock: socket.socket, helo: str | None, timeout: float | None) -> _Conversation:
    """Read the greeting, say EHLO, read its reply, say QUIT. Never more."""
    local_ip = str(sock.getsockname()[0])
    deadline = None if timeout is None else time.monotonic() + timeout
    conn = ClientConnection()
    greeting: Reply | None = None
    ehlo: Reply | None = None

    def next_reply() -> Reply | None:
        while True:
            event = conn.next_event()
            if event is NEED_DATA:
                left = None if deadline is None else max(deadline - time.monotonic(), 0.001)
                sock.settimeout(left)
                conn.receive_data(sock.recv(_READ_SIZE))
                continue
            if isinstance(event, Greeting | Response):
                return event.reply
            return None  # the server closed

    try:
        greeting = next_reply()
        if greeting is None or not greeting.is_positive:
            with contextlib.suppress(OSError, ProtocolError):
                sock.sendall(conn.send(Quit()))
            return _Conversation(greeting=greeting, local_ip=local_ip)
        name = helo or _address_literal(local_ip)
        sock.sendall(conn.send(Ehlo(name)))
        ehlo = next_reply()
        with contextlib.suppress(OSError, ProtocolError):
            sock.sendall(conn.send(Quit()))
            next_reply()
    except TimeoutError:
        return _Conversation(greeting, ehlo, "no reply in time", local_ip)
    except OSError as exc:
        return _Conversation(greeting, ehlo, describe_os_error(exc), local_ip)
    except ProtocolError as exc:
        return _Conversation(greeting, ehlo, f"the server broke the protocol: {exc}", local_ip)
    return _Conversation(greeting, ehlo, None, local_ip)


def _address_literal(ip: str) -> str:
    return f"[IPv6:{ip}]" if ":" in ip else f"[{ip}]"


_BRACKETED = re.compile(r"\[(?:IPv6:)?([0-9A-Fa-f:.]+)\]")


def _ip_in_reply(reply: Reply | None) -> str | None:
    """The client address a server names in the first line of its EHLO reply."""
    if reply is None or not reply.is_positive:
        return None
    for match in _BRACKETED.finditer(reply.lines[0]):
        try:
            address = ipaddress.ip_address(match[1])
        except ValueError:
            continue
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(address)
    return None


def _parse_target(target: str | tuple[str, int], port: int) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port`` or ``(host, port)`` -> ``(host, port)``."""
    if isinstance(target, tuple):
        return target[0], int(target[1])
    text = target.strip()
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise PolicyError(
                f"cannot read the target {target!r}: use host, host:port or [v6]:port"
            )
        text_port = rest[1:]
    elif text.count(":") == 1:
        host, _, text_port = text.partition(":")
    else:
        host, text_port = text, ""
    if not host:
        raise PolicyError(f"the target {target!r} names no host")
    if text_port:
        if not text_port.isdigit() or not 1 <= int(text_port) <= 65535:
            raise PolicyError(f"the target's port must be 1 to 65535, not {text_port!r}")
        port = int(text_port)
    return host, port


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# --- the checks ------------------------------------------------------------------------------

_PORT_BLOCK_FIX = (
    "Ask your provider to open outbound port 25 (most clouds block it by default, some "
    "never open it) or run smtpcheck from a host where it is open."
)


@dataclass(slots=True)
class _Context:
    policy: Policy
    dns: _DNS
    helo: str | None
    mail_from: str
    public_ip: str | None = None
    ptr_names: list[str] = field(default_factory=list)


def _find_target(
    ctx: _Context,
    *,
    domain: str | None,
    target: str | tuple[str, int] | None,
    nameservers: Sequence[str] | None,
    dns_port: int,
) -> tuple[Target | None, Check | None]:
    """Where to connect, or the check that says why there is nowhere."""
    policy = ctx.policy
    if target is not None:
        host, port = _parse_target(target, policy.port)
        if _is_ip(host):
            return Target(host=host, address=str(ipaddress.ip_address(host)), port=port), None
        addresses, failure = ctx.dns.addresses(host)
        if addresses:
            return Target(host=host, address=addresses[0], port=port), None
        return None, Check(
            name="outbound_smtp",
            status=CheckStatus.UNKNOWN,
            summary=f"The target {host} has no address in DNS, so nothing was tried.",
            fix="Name a target that resolves (a mail host such as gmail-smtp-in.l.google.com).",
            details=(failure,) if failure else (),
        )
    name = domain or DEFAULT_DOMAIN
    try:
        resolver = Resolver(
            nameservers=nameservers, port=dns_port, timeout=policy.dns_timeout or 10.0, cache=False
        )
        hosts = resolver.mail_hosts(name.lower().removesuffix("."))
    except (ValueError, dns.exception.DNSException) as exc:
        return None, Check(
            name="outbound_smtp",
            status=CheckStatus.UNKNOWN,
            summary=f"The mail hosts of {name} could not be looked up: {exc}",
            fix="Name a valid domain, or give name servers with --nameserver.",
        )
    if hosts.status is DomainStatus.OK:
        first = hosts.hosts[0]
        return Target(
            host=first.name,
            address=first.addresses[0],
            port=first.port or policy.port,
            domain=hosts.domain,
        ), None
    return None, Check(
        name="outbound_smtp",
        status=CheckStatus.UNKNOWN,
        summary=f"No mail host of {name} was found, so nothing was tried.",
        fix="Name a domain with a working MX (--domain gmail.com) or a host (--target).",
        details=tuple(d for d in (hosts.detail, *hosts.problems) if d),
    )


def _check_outbound(
    ctx: _Context, target: Target, connect: Connector
) -> tuple[Check, _Conversation | None]:
    assert target.address is not None  # noqa: S101 - _find_target gives one
    policy = ctx.policy
    where = str(target)
    started = time.monotonic()
    try:
        sock = connect(target.address, target.port, policy.connect_timeout)
    except TimeoutError:
        return Check(
            name="outbound_smtp",
            status=CheckStatus.FAIL,
            summary=(
                f"Filtered: no answer from {where} within {policy.connect_timeout} s "
                "(the connection attempt was silently dropped)."
            ),
            fix=_PORT_BLOCK_FIX,
            details=(
                (
                    "A silent drop is the usual sign of a provider's block on outbound "
                    "port 25 (AWS, Google Cloud, Azure, DigitalOcean and many home ISPs) "
                    "or of a firewall that drops packets."
                ),
            ),
        ), None
    except ConnectionRefusedError as exc:
        return Check(
            name="outbound_smtp",
            status=CheckStatus.FAIL,
            summary=f"Refused: {where} answered with a reset ({describe_os_error(exc)}).",
            fix=(
                "If the target is a real mail host, a firewall on this host or your "
                "provider rejects outbound port 25: open it, or try another target."
            ),
            details=(
                (
                    "A refusal means something answered for the address: nothing listens "
                    "on that port, or a firewall on the way rejects the connection actively."
                ),
            ),
        ), None
    except OSError as exc:
        unreachable = exc.errno in {errno.ENETUNREACH, errno.EHOSTUNREACH}
        return Check(
            name="outbound_smtp",
            status=CheckStatus.FAIL,
            summary=(
                f"{'Unreachable' if unreachable else 'Failed'}: no connection to {where} "
                f"({describe_os_error(exc)})."
            ),
            fix=(
                "Check this host's network route (IPv6 often has none) or name an IPv4 target."
                if unreachable
                else _PORT_BLOCK_FIX
            ),
        ), None
    with sock:
        connected = time.monotonic() - started
        conversation = _converse(sock, ctx.helo, policy.reply_timeout)
    details = [f"Connected in {connected:.2f} s from {conversation.local_ip}."]
    if conversation.greeting is not None:
        details.append(f"Greeting: {conversation.greeting}")
    if conversation.ehlo is not None:
        details.append(f"EHLO reply: {conversation.ehlo.code} {conversation.ehlo.lines[0]}")
    if conversation.error:
        details.append(f"The conversation stopped: {conversation.error}.")
    greeting = conversation.greeting
    if greeting is not None and not greeting.is_positive:
        return Check(
            name="outbound_smtp",
            status=CheckStatus.WARN,
            summary=f"Port {target.port} is open, but {target.host} refused the session: "
            f"{greeting.code} {greeting.text}",
            fix="Read the server's reply: a 554 at connect usually means this IP is blocklisted.",
            details=tuple(details),
        ), conversation
    return Check(
        name="outbound_smtp",
        status=CheckStatus.PASS,
        summary=f"Outbound SMTP works: connected to {where}.",
        details=tuple(details),
    ), conversation


def _check_public_ip(ctx: _Context, given: str | None, seen: str | None) -> Check:
    name = "public_ip"
    details = []
    if seen and given and seen != given:
        ctx.public_ip = seen
        return Check(
            name=name,
            status=CheckStatus.WARN,
            summary=f"The mail host saw {seen}, not the {given} you gave; the checks use {seen}.",
            fix="Give the address servers see (check the outbound NAT or source address).",
        )
    ip = seen or given
    if ip is None:
        return Check(
            name=name,
            status=CheckStatus.UNKNOWN,
            summary="This host's public IP is unknown: the mail host did not name it.",
            fix=(
                "Give it with --public-ip (public_ip=...), or use a target whose EHLO reply "
                "names the client (Gmail's does)."
            ),
        )
    ctx.public_ip = ip
    if not ipaddress.ip_address(ip).is_global:
        details.append(
            f"{ip} is not a public address: servers on the internet see another one "
            "(or the target is inside your network)."
        )
    how = "named by the mail host in its EHLO reply" if seen else "as given (not confirmed)"
    return Check(
        name=name,
        status=CheckStatus.PASS,
        summary=f"The world sees this host as {ip} ({how}).",
        details=tuple(details),
    )


_GENERIC_WORDS = re.compile(
    r"(^|[.-])(dyn|dynamic|dhcp|dsl|adsl|cable|pool|ppp|pppoe|dialup|client|cust|customer|"
    r"broadband|static|ip|host|user|res|residential)[.0-9-]",
    re.IGNORECASE,
)


def _looks_generic(name: str, ip: str) -> bool:
    """A provider-made PTR name: it spells the IP, or says "dynamic", "dsl", "pool"..."""
    if ":" in ip:
        return bool(_GENERIC_WORDS.search(name))
    octets = ip.split(".")
    spelled = [sep.join(octets) for sep in ("-", ".", "_")]
    spelled += [sep.join(reversed(octets)) for sep in ("-", ".", "_")]
    return any(s in name for s in spelled) or bool(_GENERIC_WORDS.search(name))


def _no_public_ip(name: str) -> Check:
    """The answer of a check that needs the public IP when nobody knows it."""
    return Check(
        name=name,
        status=CheckStatus.UNKNOWN,
        summary="Not checked: the public IP is unknown.",
        fix="Give the public IP with --public-ip.",
    )


def _lookup_failed(name: str, summary: str, detail: str) -> Check:
    """The answer of a check whose DNS look-up failed (SERVFAIL, REFUSED, no answer)."""
    return Check(
        name=name,
        status=CheckStatus.UNKNOWN,
        summary=summary,
        fix="Try again, or with another name server (--nameserver).",
        details=(detail,),
    )


def _check_reverse_dns(ctx: _Context) -> Check:
    name = "reverse_dns"
    ip = ctx.public_ip
    if ip is None:
        return _no_public_ip(name)
    reverse = dns.reversename.from_address(ip).to_text(omit_final_dot=True)
    answer = ctx.dns.ask(reverse, "PTR")
    if answer.kind == "failure":
        return _lookup_failed(name, f"The PTR look-up for {ip} failed.", answer.detail)
    names = answer.texts()
    if not names:
        return Check(
            name=name,
            status=CheckStatus.FAIL,
            summary=f"{ip} has no reverse DNS (no PTR record at {reverse}).",
            fix=(
                "Ask the owner of the IP (your hosting provider, in its control panel) to "
                "set its PTR to your HELO name, such as mail.example.com."
            ),
            details=("Many mail servers refuse or distrust clients without reverse DNS.",),
        )
    details = [f"PTR: {', '.join(names)}."]
    confirmed = []
    lookup_failed = False
    for ptr in names:
        addresses, failure = ctx.dns.addresses(ptr)
        if ip in addresses:
            confirmed.append(ptr)
        elif failure:
            lookup_failed = True
            details.append(f"The address look-up of {ptr} failed: {failure}")
        else:
            details.append(f"{ptr} resolves to {', '.join(addresses) or 'nothing'}.")
    ctx.ptr_names = confirmed or names
    if not confirmed:
        status = CheckStatus.UNKNOWN if lookup_failed else CheckStatus.FAIL
        return Check(
            name=name,
            status=status,
            summary=f"{ip} has a PTR ({names[0]}), but it does not resolve back to {ip}.",
            fix=(
                f"Add an A record for {names[0]} pointing to {ip}, or have the PTR changed "
                "to a name that has one (forward-confirmed reverse DNS)."
            ),
            details=tuple(details),
        )
    if all(_looks_generic(ptr, ip) for ptr in confirmed):
        return Check(
            name=name,
            status=CheckStatus.WARN,
            summary=f"{ip} has forward-confirmed reverse DNS ({confirmed[0]}), but the name "
            "looks generic (made by the provider).",
            fix="Ask your provider to set the PTR to your own mail name, such as mail.example.com.",
            details=tuple(details),
        )
    return Check(
        name=name,
        status=CheckStatus.PASS,
        summary=f"{ip} has forward-confirmed reverse DNS: {confirmed[0]}.",
        details=tuple(details),
    )


def _check_helo(ctx: _Context) -> Check:
    name = "helo_name"
    helo = ctx.helo
    ip = ctx.public_ip
    if not helo:
        return Check(
            name=name,
            status=CheckStatus.WARN,
            summary="No HELO name: this machine has no fully qualified name, so smtpcheck "
            "greets with an address literal such as [192.0.2.7].",
            fix="Set --helo-name (Policy(helo_name=...)) to the PTR name of your public IP.",
        )
    lowered = helo.lower().removesuffix(".")
    if _is_ip(lowered.strip("[]")) or lowered.startswith("["):
        return Check(
            name=name,
            status=CheckStatus.WARN,
            summary=f"The HELO name {helo} is an address literal, which many servers score badly.",
            fix="Set --helo-name to a name whose A record is your public IP and whose PTR matches.",
        )
    if "." not in lowered or lowered == "localhost" or lowered.endswith(".localhost"):
        return Check(
            name=name,
            status=CheckStatus.FAIL,
            summary=f"The HELO name {helo} is not a fully qualified domain name.",
            fix="Set --helo-name to a full name such as mail.example.com that resolves to "
            "your public IP.",
        )
    addresses, failure = ctx.dns.addresses(lowered)
    if not addresses:
        if failure:
            return _lookup_failed(
                name, f"The address look-up of the HELO name {helo} failed.", failure
            )
        return Check(
            name=name,
            status=CheckStatus.FAIL,
            summary=f"The HELO name {helo} does not resolve (no A or AAAA record).",
            fix=f"Add an A record for {helo} pointing to your public IP{f' ({ip})' if ip else ''}.",
        )
    details = [f"{helo} resolves to {', '.join(addresses)}."]
    if ip is None:
        return Check(
            name=name,
            status=CheckStatus.UNKNOWN,
            summary=f"The HELO name {helo} resolves, but the public IP is unknown.",
            fix="Give the public IP with --public-ip.",
            details=tuple(details),
        )
    if ip not in addresses:
        return Check(
            name=name,
            status=CheckStatus.FAIL,
            summary=f"The HELO name {helo} resolves to {', '.join(addresses)}, not to {ip}.",
            fix=f"Point {helo}'s A record at {ip}, or use a HELO name that resolves to it.",
            details=tuple(details),
        )
    if lowered not in ctx.ptr_names:
        ptr = ", ".join(ctx.ptr_names) or "none"
        return Check(
            name=name,
            status=CheckStatus.WARN,
            summary=f"The HELO name {helo} resolves to {ip} but does not match its PTR ({ptr}).",
            fix=f"Use the PTR name as HELO name, or have the PTR of {ip} set to {helo}.",
            details=tuple(details),
        )
    return Check(
        name=name,
        status=CheckStatus.PASS,
        summary=f"The HELO name {helo} resolves to {ip} and matches its PTR.",
        details=tuple(details),
    )


def _identity(ctx: _Context) -> tuple[str | None, str]:
    """The domain SPF and DMARC are asked about, and a sentence saying why."""
    if ctx.mail_from:
        domain = ctx.mail_from.rpartition("@")[2].strip("<>").lower()
        return domain or None, f"the MAIL FROM domain {domain}"
    if ctx.helo and "." in ctx.helo and not ctx.helo.startswith("["):
        helo = ctx.helo.lower()
        return helo, f"the HELO name {helo} (MAIL FROM is the null sender <>)"
    return None, "no domain (null sender and no HELO name)"


_SPF_RESULTS: dict[str, tuple[CheckStatus, str | None]] = {
    "pass": (CheckStatus.PASS, None),
    "fail": (CheckStatus.FAIL, "Add ip4:{ip} (or ip6:) to the SPF record of {domain}."),
    "softfail": (CheckStatus.WARN, "Add ip4:{ip} (or ip6:) to the SPF record of {domain}."),
    "neutral": (CheckStatus.WARN, "Add ip4:{ip} (or ip6:) to the SPF record of {domain}."),
    "none": (
        CheckStatus.FAIL,
        'Publish an SPF record for {domain}, such as "v=spf1 ip4:{ip} -all".',
    ),
    "permerror": (CheckStatus.FAIL, "Fix the SPF record of {domain}: it is invalid."),
    "temperror": (CheckStatus.UNKNOWN, "Try again, or with another name server (--nameserver)."),
}


def _check_spf(ctx: _Context) -> Check:
    name = "spf"
    domain, what = _identity(ctx)
    ip = ctx.public_ip
    if domain is None or ip is None:
        return Check(
            name=name,
            status=CheckStatus.UNKNOWN,
            summary=f"Not checked: {'the public IP is unknown' if domain else what}.",
            fix="Give --public-ip and --mail-from (an address at a domain you control).",
        )
    spf = _load_spf()
    if spf is None:
        return Check(
            name=name,
            status=CheckStatus.UNKNOWN,
            summary="Not checked: the SPF evaluator (pyspf) is not installed.",
            fix=f"Install it: {_INSTALL_HINT}.",
        )
    sender = ctx.mail_from.strip("<>")
    lifetime = ctx.policy.dns_timeout or 20.0
    token = _spf_lookup.set(_spf_dns(ctx.dns, spf))
    try:
        query = spf.query(i=ip, s=sender, h=ctx.helo or domain, timeout=lifetime, querytime=0)
        result, _code, explanation = query.check()
    except Exception as exc:  # noqa: BLE001 - a bug in pyspf is "could not be checked"
        return Check(
            name=name,
            status=CheckStatus.UNKNOWN,
            summary=f"The SPF evaluation of {domain} failed: {type(exc).__name__}: {exc}",
            fix="Report this to smtpcheck's issue tracker with the domain.",
        )
    finally:
        _spf_lookup.reset(token)
    status, fix = _SPF_RESULTS.get(str(result), (CheckStatus.UNKNOWN, None))
    record = _spf_record(ctx.dns, domain)
    details = [f"Identity: {what}."]
    if record:
        details.append(f"Record: {record}")
    if explanation:
        details.append(f"pyspf: {explanation}")
    summaries = {
        "pass": f"SPF of {domain} authorises {ip}.",
        "none": f"{domain} publishes no SPF record.",
        "permerror": f"The SPF record of {domain} is invalid (permerror).",
        "temperror": f"The SPF evaluation of {domain} failed on DNS (temperror).",
    }
    summary = summaries.get(str(result), f"SPF of {domain} does not authorise {ip} ({result}).")
    return Check(
        name=name,
        status=status,
        summary=summary,
        fix=fix.format(ip=ip, domain=domain) if fix else None,
        details=tuple(details),
    )


def _spf_record(resolver: _DNS, domain: str) -> str | None:
    answer = resolver.ask(domain, "TXT")
    found = [t for t in answer.texts() if t.lower().startswith("v=spf1")]
    return found[0] if len(found) == 1 else None


def _check_dmarc(ctx: _Context) -> Check:
    name = "dmarc"
    if not ctx.mail_from:
        return Check(
            name=name,
            status=CheckStatus.WARN,
            summary="MAIL FROM is the null sender <>: there is no domain for DMARC, and "
            "some servers treat <> probes with suspicion.",
            fix="Set --mail-from to an address at a domain you control that publishes SPF "
            "and DMARC.",
        )
    domain, _ = _identity(ctx)
    if domain is None:
        return Check(
            name=name,
            status=CheckStatus.UNKNOWN,
            summary="Not checked: the MAIL FROM has no domain.",
            fix="Set --mail-from to an address at a domain you control.",
        )
    labels = domain.split(".")
    # From the domain up to its parent of two labels (an approximation of the
    # organisational domain of RFC 7489, without the public suffix list).
    for start in range(max(len(labels) - 1, 1)):
        candidate = ".".join(labels[start:])
        answer = ctx.dns.ask(f"_dmarc.{candidate}", "TXT")
        if answer.kind == "failure":
            return _lookup_failed(name, f"The DMARC look-up for {candidate} failed.", answer.detail)
        records = [t for t in answer.texts() if re.match(r"v=DMARC1\s*(;|$)", t)]
        if len(records) > 1:
            return Check(
                name=name,
                status=CheckStatus.FAIL,
                summary=f"_dmarc.{candidate} has {len(records)} DMARC records; receivers "
                "ignore them all.",
                fix=f"Keep one DMARC record at _dmarc.{candidate}.",
            )
        if records:
            return Check(
                name=name,
                status=CheckStatus.PASS,
                summary=f"DMARC is published for {candidate}.",
                details=(f"_dmarc.{candidate}: {records[0]}",),
            )
    return Check(
        name=name,
        status=CheckStatus.WARN,
        summary=f"{domain} publishes no DMARC record.",
        fix=f'Publish one, such as "v=DMARC1; p=none" at _dmarc.{domain}.',
    )


def _check_blocklist(ctx: _Context, blocklist: Blocklist) -> Check:
    name = f"blocklist:{blocklist.zone}"
    ip = ctx.public_ip
    if ip is None:
        return _no_public_ip(name)
    reverse = dns.reversename.from_address(ip).to_text(omit_final_dot=True)
    suffix = ".in-addr.arpa" if ":" not in ip else ".ip6.arpa"
    qname = f"{reverse.removesuffix(suffix)}.{blocklist.zone}"
    answer = ctx.dns.ask(qname, "A")
    more = (f"Look it up at {blocklist.lookup_url}",) if blocklist.lookup_url else ()
    if answer.kind == "failure":
        return Check(
            name=name,
            status=CheckStatus.UNKNOWN,
            summary=f"The query to {blocklist.zone} failed.",
            fix="Use your own resolver (--nameserver): blocklists often refuse public ones.",
            details=(answer.detail, *more),
        )
    if answer.kind in {"nxdomain", "nodata"}:
        return Check(
            name=name, status=CheckStatus.PASS, summary=f"{ip} is not listed on {blocklist.zone}."
        )
    readings = [(code, *blocklist.read(code)) for code in answer.texts()]
    listed = [f"{code}: {meaning}" for code, kind, meaning in readings if kind == "listed"]
    if listed:
        where = f" ({blocklist.lookup_url})" if blocklist.lookup_url else ""
        reasons = [f"Reason: {t}" for t in ctx.dns.ask(qname, "TXT").texts()]
        return Check(
            name=name,
            status=CheckStatus.FAIL,
            summary=f"{ip} is listed on {blocklist.zone}.",
            fix=f"Fix the cause, then follow the list's removal procedure{where}, or verify "
            "from another IP.",
            details=(*listed, *reasons),
        )
    refused = [f"{code}: {meaning}" for code, kind, meaning in readings if kind == "refused"]
    if refused:
        return Check(
            name=name,
            status=CheckStatus.UNKNOWN,
            summary=f"{blocklist.zone} refused the query, so nothing is known.",
            fix="Ask through your own resolver (--nameserver), not a public one.",
            details=(*refused, *more),
        )
    odd = [f"{code}: {meaning}" for code, _kind, meaning in readings]
    return Check(
        name=name,
        status=CheckStatus.UNKNOWN,
        summary=f"{blocklist.zone} gave an unexpected answer.",
        fix="Use a resolver that does not rewrite NXDOMAIN answers (--nameserver).",
        details=(*odd, *more),
    )


# --- the audit -------------------------------------------------------------------------------


def audit(
    *,
    policy: Policy | None = None,
    domain: str | None = None,
    target: str | tuple[str, int] | None = None,
    public_ip: str | None = None,
    blocklists: Sequence[Blocklist | str] | None = None,
    nameservers: Sequence[str] | None = None,
    dns_port: int = 53,
    connect: Connector | None = None,
) -> Audit:
    """Audit this host as an SMTP client: port 25, public IP, PTR, HELO, SPF, blocklists.

    Nothing is sent but one EHLO and a QUIT to one mail host. A check that cannot be
    done is reported as :attr:`CheckStatus.UNKNOWN`; this never raises for what the
    network or DNS does.

    Args:
        policy: The policy to audit: its ``helo_name`` (else this machine's name),
            ``mail_from``, ``port``, ``source_address`` and timeouts
            (``connect_timeout``, ``reply_timeout`` for the whole EHLO conversation,
            ``dns_timeout`` per DNS question).
        domain: Connect to the first MX of this domain
            (:data:`~smtpcheck._doctor.DEFAULT_DOMAIN` when neither ``domain`` nor
            ``target`` is given).
        target: Connect to this host instead: ``"host"``, ``"host:port"``,
            ``"[2001:db8::1]:25"`` or ``(host, port)``; the port defaults to the policy's.
        public_ip: This host's public IP, used when the mail host does not name it.
        blocklists: DNS blocklists, as :class:`~smtpcheck._doctor.Blocklist` or zone
            names (known zones keep their answer codes);
            :data:`~smtpcheck._doctor.DEFAULT_BLOCKLISTS` when None, none when empty.
        nameservers: Name servers to ask, or None for the system's.
        dns_port: The name servers' port.
        connect: Opens the TCP connection (see :data:`~smtpcheck._doctor.Connector`);
            tests inject one.

    Returns:
        The report.

    Raises:
        PolicyError: ``target`` or ``public_ip`` cannot be read.
    """
    policy = policy or Policy()
    if public_ip is not None:
        try:
            public_ip = str(ipaddress.ip_address(public_ip.strip()))
        except ValueError:
            raise PolicyError(f"the public IP must be an IP address, not {public_ip!r}") from None
    zones = [_blocklist(b) for b in (DEFAULT_BLOCKLISTS if blocklists is None else blocklists)]
    ctx = _Context(
        policy=policy,
        dns=_DNS(nameservers, dns_port, policy.dns_timeout or 10.0),
        helo=policy.helo_name or default_helo_name(),
        mail_from=policy.mail_from,
    )
    found, failed = _find_target(
        ctx, domain=domain, target=target, nameservers=nameservers, dns_port=dns_port
    )
    conversation = None
    if found is None:
        assert failed is not None  # noqa: S101 - one or the other
        outbound = failed
    else:
        outbound, conversation = _check_outbound(ctx, found, connect or _default_connector(policy))
    seen = _ip_in_reply(conversation.ehlo) if conversation else None
    checks = [outbound, _check_public_ip(ctx, public_ip, seen)]
    checks.append(_check_reverse_dns(ctx))
    checks.append(_check_helo(ctx))
    checks.append(_check_spf(ctx))
    checks.append(_check_dmarc(ctx))
    checks.extend(_check_blocklist(ctx, b) for b in zones)
    return Audit(
        checks=tuple(checks),
        public_ip=ctx.public_ip,
        helo_name=ctx.helo,
        mail_from=policy.mail_from,
        target=found,
    )


# --- presentation and the command line -------------------------------------------------------

_LABELS = {
    CheckStatus.PASS: "PASS",
    CheckStatus.WARN: "WARN",
    CheckStatus.FAIL: "FAIL",
    CheckStatus.UNKNOWN: "UNKNOWN",
}


def render_text(report: Audit, *, verbose: bool = False) -> str:
    """The report as text for a person: one line per check, its fix below it.

    Args:
        report: The audit.
        verbose: Also print each check's details.
    """
    lines = ["smtpcheck doctor: is this host ready to verify addresses?"]
    if report.target is not None:
        lines.append(f"target: {report.target}")
    lines.append(
        f"public IP: {report.public_ip or 'unknown'}; HELO name: {report.helo_name or 'none'}; "
        f"MAIL FROM: <{report.mail_from}>"
    )
    lines.append("")
    width = max(len(c.name) for c in report.checks)
    for check in report.checks:
        lines.append(f"  {_LABELS[check.status]:<8}{check.name:<{width}}  {check.summary}")
        indent = " " * (10 + width + 2)
        if check.fix and check.status is not CheckStatus.PASS:
            lines.append(f"{indent}fix: {check.fix}")
        if verbose:
            lines.extend(f"{indent}- {detail}" for detail in check.details)
    counts = [
        f"{report.count(CheckStatus.PASS)} passed",
        f"{report.count(CheckStatus.WARN)} warned",
        f"{report.count(CheckStatus.FAIL)} failed",
        f"{report.count(CheckStatus.UNKNOWN)} could not be checked",
    ]
    lines.extend(["", ", ".join(counts) + ".", f'Read "Before you verify for real": {GUIDE_URL}'])
    return "\n".join(lines)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def _port_number(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1 to 65535, not {text!r}")
    return int(text)


def _configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--domain",
        metavar="DOMAIN",
        help=f"connect to the first MX of this domain (default {DEFAULT_DOMAIN})",
    )
    where.add_argument("--target", metavar="HOST[:PORT]", help="connect to this mail host instead")
    parser.add_argument(
        "--public-ip", metavar="IP", help="this host's public IP, if the mail host does not name it"
    )
    parser.add_argument("--helo-name", metavar="NAME", help="the HELO name you will verify with")
    parser.add_argument(
        "--mail-from", metavar="ADDRESS", default="", help="the MAIL FROM you will verify with"
    )
    parser.add_argument(
        "--port", type=_port_number, default=25, help="the mail hosts' port (default 25)"
    )
    parser.add_argument(
        "--nameserver",
        action="append",
        metavar="IP",
        help="ask this name server (repeat for more; default: the system's)",
    )
    parser.add_argument(
        "--dns-port", type=_port_number, default=53, metavar="PORT", help="the DNS port (53)"
    )
    parser.add_argument(
        "--blocklist",
        action="append",
        metavar="ZONE",
        help="check this DNS blocklist (repeat for more; replaces the default set: "
        + ", ".join(b.zone for b in DEFAULT_BLOCKLISTS)
        + ")",
    )
    parser.add_argument("--no-blocklists", action="store_true", help="check no blocklist at all")
    parser.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=10.0,
        metavar="SECONDS",
        help="for the connection, the EHLO conversation and each DNS question (10)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every detail")
    return parser


_DESCRIPTION = (
    "Check this host before verifying for real: outbound port 25, the public IP, reverse "
    "DNS, the HELO name, SPF and DMARC of the MAIL FROM domain, and DNS blocklists. It "
    "sends one EHLO and QUIT to one mail host, nothing more."
)
_EPILOG = (
    "Exit status: 0 every check passed (warnings allowed); 1 a check failed; 2 usage "
    f"error; 3 nothing failed but something could not be checked. Guide: {GUIDE_URL}"
)


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``doctor`` command to a parser's subparsers (``add_subparsers()``).

    Returns:
        The new subparser; its arguments are read by :func:`run`.
    """
    parser: argparse.ArgumentParser = commands.add_parser(
        "doctor",
        help="check this host before verifying for real",
        description=_DESCRIPTION,
        epilog=_EPILOG,
    )
    return _configure(parser)


def run(args: argparse.Namespace) -> int:
    """Run ``smtpcheck doctor`` with parsed arguments; print the report.

    Returns:
        The exit status (see :attr:`Audit.exit_status`), or 2 for a usage error.
    """
    try:
        policy = Policy(
            port=args.port,
            helo_name=args.helo_name,
            mail_from=args.mail_from,
            connect_timeout=args.timeout,
            reply_timeout=args.timeout,
            dns_timeout=args.timeout,
        )
        blocklists = [] if args.no_blocklists else args.blocklist
        report = audit(
            policy=policy,
            domain=args.domain,
            target=args.target,
            public_ip=args.public_ip,
            blocklists=blocklists,
            nameservers=args.nameserver,
            dns_port=args.dns_port,
        )
    except PolicyError as error:
        print(f"error: {error}", file=sys.stderr)  # noqa: T201 - the command's output
        return EXIT_USAGE
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))  # noqa: T201
    else:
        print(render_text(report, verbose=args.verbose))  # noqa: T201
    return report.exit_status


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``smtpcheck doctor`` alone: ``main(["--domain", "gmail.com", "--json"])``.

    Returns:
        The exit status; 2 for a usage error.
    """
    parser = _configure(
        argparse.ArgumentParser(prog="smtpcheck doctor", description=_DESCRIPTION, epilog=_EPILOG)
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    return run(args)

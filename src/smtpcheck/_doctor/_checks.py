"""The doctor's checks, each a plan of DNS questions (no I/O of its own).

A check yields batches of :class:`~smtpcheck._resolver._plan.Query` and is sent their
answers, as the resolver's MX plan is, and returns its :class:`Check`; the audit drives
them with :class:`~smtpcheck.Resolver`'s blocking or asyncio look-ups. The outbound check
reads what the EHLO-only conversation (:func:`smtpcheck._probe.greet`) found.
"""

from __future__ import annotations

import errno
import ipaddress
import re
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TypeVar

from smtpcheck._doctor import _spf
from smtpcheck._doctor._blocklists import Blocklist
from smtpcheck._doctor._report import Check, CheckStatus, Target
from smtpcheck._errors import PolicyError
from smtpcheck._literals import is_ip
from smtpcheck._mailhosts import DomainStatus
from smtpcheck._policy import Policy
from smtpcheck._probe import Greeted
from smtpcheck._resolver._plan import (
    Answer,
    Kind,
    Query,
    check_domain,
    is_dmarc,
    is_spf,
    plan_mail_hosts,
    reverse_name,
    txt_matching,
)
from smtpcheck.protocol import Reply

__all__ = [
    "DEFAULT_DOMAIN",
    "Context",
    "DNSPlan",
    "check_blocklist",
    "check_dmarc",
    "check_helo",
    "check_helo_form",
    "check_outbound",
    "check_public_ip",
    "check_reverse_dns",
    "check_spf",
    "find_target",
    "ip_in_reply",
    "parse_target",
]

_T = TypeVar("_T")

#: A plan of DNS questions that returns a ``T``.
DNSPlan = Generator[tuple[Query, ...], tuple[Answer, ...], _T]

#: The domain whose first MX is the default target: Gmail's mail hosts name the
#: client's address in their EHLO reply, so the public IP is read from it.
DEFAULT_DOMAIN = "gmail.com"


@dataclass(slots=True)
class Context:
    """What the checks share: the policy audited and what earlier checks found."""

    policy: Policy
    helo: str | None
    mail_from: str
    public_ip: str | None = None
    ptr_names: list[str] = field(default_factory=list)


def ask(name: str, rdtype: str) -> DNSPlan[Answer]:
    """One question; a name that is not a valid DNS name is a failed answer."""
    try:
        query = Query(check_domain(name), rdtype)
    except PolicyError as exc:
        return Answer(Kind.FAILURE, detail=str(exc))
    (answer,) = yield (query,)
    return answer


def addresses_of(name: str) -> DNSPlan[tuple[list[str], str | None]]:
    """The A and AAAA addresses of ``name``, and a failure sentence if any."""
    try:
        domain = check_domain(name)
    except PolicyError as exc:
        return [], str(exc)
    a, aaaa = yield (Query(domain, "A"), Query(domain, "AAAA"))
    found = [address for answer in (a, aaaa) for address in answer.records]
    failures = [answer.detail for answer in (a, aaaa) if answer.kind is Kind.FAILURE]
    return found, "; ".join(failures) or None


def find_target(
    policy: Policy, *, domain: str | None, target: str | tuple[str, int] | None
) -> DNSPlan[tuple[Target | None, Check | None]]:
    """Where to connect, or the check that says why there is nowhere.

    Raises:
        PolicyError: ``target`` cannot be read.
    """
    if target is not None:
        host, port = parse_target(target, policy.port)
        if is_ip(host):
            return Target(host=host, address=str(ipaddress.ip_address(host)), port=port), None
        addresses, failure = yield from addresses_of(host)
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
        checked = check_domain(name)
    except PolicyError as exc:
        return None, Check(
            name="outbound_smtp",
            status=CheckStatus.UNKNOWN,
            summary=f"The mail hosts of {name} could not be looked up: {exc}",
            fix="Name a valid domain, or give name servers with --nameserver.",
        )
    hosts = yield from plan_mail_hosts(checked, max_hosts=1)
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


def check_outbound(policy: Policy, target: Target, greeted: Greeted) -> Check:
    """Did the connection open, and did the server greet us? (from the conversation)."""
    where = str(target)
    failure = greeted.failure
    if failure is not None:
        if failure.errno == errno.ETIMEDOUT:
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
            )
        if failure.errno == errno.ECONNREFUSED:
            return Check(
                name="outbound_smtp",
                status=CheckStatus.FAIL,
                summary=f"Refused: {where} answered with a reset ({failure.message}).",
                fix=(
                    "If the target is a real mail host, a firewall on this host or your "
                    "provider rejects outbound port 25: open it, or try another target."
                ),
                details=(
                    (
                        "A refusal means something answered for the address: nothing "
                        "listens on that port, or a firewall on the way rejects the "
                        "connection actively."
                    ),
                ),
            )
        unreachable = failure.errno in {errno.ENETUNREACH, errno.EHOSTUNREACH}
        return Check(
            name="outbound_smtp",
            status=CheckStatus.FAIL,
            summary=(
                f"{'Unreachable' if unreachable else 'Failed'}: no connection to {where} "
                f"({failure.message})."
            ),
            fix=(
                "Check this host's network route (IPv6 often has none) or name an IPv4 target."
                if unreachable
                else _PORT_BLOCK_FIX
            ),
        )
    details = [f"Connected in {greeted.connect_time:.2f} s from {greeted.local_ip}."]
    if greeted.greeting is not None:
        details.append(f"Greeting: {greeted.greeting}")
    if greeted.ehlo is not None:
        details.append(f"EHLO reply: {greeted.ehlo.code} {greeted.ehlo.lines[0]}")
    if greeted.detail:
        details.append(f"The conversation stopped: {greeted.detail}.")
    greeting = greeted.greeting
    if greeting is not None and not greeting.is_positive:
        return Check(
            name="outbound_smtp",
            status=CheckStatus.WARN,
            summary=f"Port {target.port} is open, but {target.host} refused the session: "
            f"{greeting.code} {greeting.text}",
            fix="Read the server's reply: a 554 at connect usually means this IP is blocklisted.",
            details=tuple(details),
        )
    return Check(
        name="outbound_smtp",
        status=CheckStatus.PASS,
        summary=f"Outbound SMTP works: connected to {where}.",
        details=tuple(details),
    )


_BRACKETED = re.compile(r"\[(?:IPv6:)?([0-9A-Fa-f:.]+)\]")


def ip_in_reply(reply: Reply | None) -> str | None:
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


def parse_target(target: str | tuple[str, int], port: int) -> tuple[str, int]:
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


_PORT_BLOCK_FIX = (
    "Ask your provider to open outbound port 25 (most clouds block it by default, some "
    "never open it) or run smtpcheck from a host where it is open."
)


def check_public_ip(ctx: Context, given: str | None, seen: str | None) -> Check:
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


def check_reverse_dns(ctx: Context) -> DNSPlan[Check]:
    name = "reverse_dns"
    ip = ctx.public_ip
    if ip is None:
        return _no_public_ip(name)
    reverse = reverse_name(ip)
    answer = yield from ask(reverse, "PTR")
    if answer.kind is Kind.FAILURE:
        return _lookup_failed(name, f"The PTR look-up for {ip} failed.", answer.detail)
    names = list(answer.records)
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
        addresses, failure = yield from addresses_of(ptr)
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


def check_helo_form(helo: str | None) -> Check | None:
    """The ``helo_name`` check of the name's form alone (no DNS), or None when it is fine.

    No name and an address literal warn; a name that is not fully qualified fails.
    """
    name = "helo_name"
    if not helo:
        return Check(
            name=name,
            status=CheckStatus.WARN,
            summary="No HELO name: this machine has no fully qualified name, so smtpcheck "
            "greets with an address literal such as [192.0.2.7].",
            fix="Set --helo-name (Policy(helo_name=...)) to the PTR name of your public IP.",
        )
    lowered = helo.lower().removesuffix(".")
    if is_ip(lowered.strip("[]")) or lowered.startswith("["):
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
    return None


def check_helo(ctx: Context) -> DNSPlan[Check]:
    name = "helo_name"
    helo = ctx.helo
    ip = ctx.public_ip
    form = check_helo_form(helo)
    if form is not None:
        return form
    lowered = (helo or "").lower().removesuffix(".")  # a name: check_helo_form answers for none
    addresses, failure = yield from addresses_of(lowered)
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


def _identity(ctx: Context) -> tuple[str | None, str]:
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


def check_spf(ctx: Context) -> DNSPlan[Check]:
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
    spf = _spf.load()
    if spf is None:
        return Check(
            name=name,
            status=CheckStatus.UNKNOWN,
            summary="Not checked: the SPF evaluator (pyspf) is not installed.",
            fix=f"Install it: {_spf.INSTALL_HINT}.",
        )
    sender = ctx.mail_from.strip("<>")
    lifetime = ctx.policy.dns_timeout or 20.0
    evaluation = _spf.evaluate(spf, ip=ip, sender=sender, helo=ctx.helo or domain, timeout=lifetime)
    try:
        result, explanation = yield from evaluation
    except Exception as exc:  # noqa: BLE001 - a bug in pyspf is "could not be checked"
        return Check(
            name=name,
            status=CheckStatus.UNKNOWN,
            summary=f"The SPF evaluation of {domain} failed: {type(exc).__name__}: {exc}",
            fix="Report this to smtpcheck's issue tracker with the domain.",
        )
    status, fix = _SPF_RESULTS.get(result, (CheckStatus.UNKNOWN, None))
    found = txt_matching((yield from ask(domain, "TXT")), is_spf)
    details = [f"Identity: {what}."]
    if len(found) == 1:
        details.append(f"Record: {found[0]}")
    if explanation:
        details.append(f"pyspf: {explanation}")
    summaries = {
        "pass": f"SPF of {domain} authorises {ip}.",
        "none": f"{domain} publishes no SPF record.",
        "permerror": f"The SPF record of {domain} is invalid (permerror).",
        "temperror": f"The SPF evaluation of {domain} failed on DNS (temperror).",
    }
    summary = summaries.get(result, f"SPF of {domain} does not authorise {ip} ({result}).")
    return Check(
        name=name,
        status=status,
        summary=summary,
        fix=fix.format(ip=ip, domain=domain) if fix else None,
        details=tuple(details),
    )


def check_dmarc(ctx: Context) -> DNSPlan[Check]:
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
        answer = yield from ask(f"_dmarc.{candidate}", "TXT")
        if answer.kind is Kind.FAILURE:
            return _lookup_failed(name, f"The DMARC look-up for {candidate} failed.", answer.detail)
        records = txt_matching(answer, is_dmarc)
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


def check_blocklist(ctx: Context, blocklist: Blocklist) -> DNSPlan[Check]:
    name = f"blocklist:{blocklist.zone}"
    ip = ctx.public_ip
    if ip is None:
        return _no_public_ip(name)
    reverse = reverse_name(ip)
    suffix = ".in-addr.arpa" if ":" not in ip else ".ip6.arpa"
    qname = f"{reverse.removesuffix(suffix)}.{blocklist.zone}"
    answer = yield from ask(qname, "A")
    more = (f"Look it up at {blocklist.lookup_url}",) if blocklist.lookup_url else ()
    if answer.kind is Kind.FAILURE:
        return Check(
            name=name,
            status=CheckStatus.UNKNOWN,
            summary=f"The query to {blocklist.zone} failed.",
            fix="Use your own resolver (--nameserver): blocklists often refuse public ones.",
            details=(answer.detail, *more),
        )
    if answer.kind in {Kind.NXDOMAIN, Kind.NODATA}:
        return Check(
            name=name, status=CheckStatus.PASS, summary=f"{ip} is not listed on {blocklist.zone}."
        )
    readings = [(code, *blocklist.read(code)) for code in answer.records]
    listed = [f"{code}: {meaning}" for code, kind, meaning in readings if kind == "listed"]
    if listed:
        where = f" ({blocklist.lookup_url})" if blocklist.lookup_url else ""
        reasons = [f"Reason: {t}" for t in (yield from ask(qname, "TXT")).records]
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

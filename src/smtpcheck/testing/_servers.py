"""The SMTP servers of a mail world: behaviours as data, built on aiosmtpd.

:class:`Behaviour` says how a server answers; :class:`ReplyStyle` picks the wording of
a family of real servers. :class:`RawScript` describes a *hostile* server that is not an
SMTP server at all (garbage, endless replies, resets), for robustness tests.
"""

from __future__ import annotations

import asyncio
import enum
import socket
import ssl
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, AnyStr

from aiosmtpd.smtp import SMTP

from smtpcheck.testing._record import Command, Recorder

__all__ = ["TLS", "Behaviour", "Block", "RawEnd", "RawScript", "ReplyStyle"]


class TLS(enum.Enum):
    """What a server offers for TLS."""

    #: No TLS at all.
    NONE = "none"
    #: STARTTLS offered, not required.
    STARTTLS = "starttls"
    #: STARTTLS required: MAIL and RCPT answer ``530 5.7.0`` until TLS is up.
    REQUIRED = "required"
    #: TLS from the first byte (port-465 style); no STARTTLS.
    IMPLICIT = "implicit"


class Block(enum.Enum):
    """Where a server refuses the client's IP as blocklisted."""

    #: A ``554`` banner; then ``503`` to everything but QUIT.
    CONNECT = "connect"
    #: ``554 5.7.1 ... blocked using zen.spamhaus.org`` to every RCPT.
    RCPT = "rcpt"


class ReplyStyle(enum.Enum):
    """The wording of a family of real servers."""

    #: Postfix, with enhanced status codes (the default).
    POSTFIX = "postfix"
    #: Gmail: enhanced codes, multi-line 550 for unknown users, ``- gsmtp`` tails.
    GMAIL = "gmail"
    #: Outlook / Exchange without enhanced status codes.
    OUTLOOK = "outlook"
    #: An old sendmail-like server without enhanced status codes.
    PLAIN = "plain"


@dataclass(frozen=True, slots=True, kw_only=True)
class Behaviour:
    """How a server of the world answers. Pure data; combine knobs freely.

    Attributes:
        catch_all: Accept every recipient of the served domains (``250``).
        mailbox_full: Known mailboxes answer ``552 5.2.2`` (over quota).
        mailbox_disabled: Known mailboxes answer ``550 5.2.1`` (disabled).
        greylist_seconds: When set, the first RCPT of each (client IP, sender,
            recipient) triple answers ``450 4.7.1`` until that many seconds of the
            world's clock have passed since the triple was first seen.
        block: Refuse the client's IP as blocklisted, at connect or at RCPT.
        refuse_sender: Refuse every MAIL FROM with ``550 5.7.1``.
        tls: What the server offers for TLS.
        banner_delay: Seconds to wait before the greeting (a tarpit).
        reply_delay: Seconds to wait before every other reply (a tarpit, or a distant
            server).
        drop_after_ehlo: Close the connection, without a reply, on EHLO or HELO.
        max_connections: More connections than this at once get
            ``421 4.7.0 ... too many connections`` and are closed (0 refuses all).
        max_connections_per_client: More connections than this at once *from one client
            IP* get the same ``421`` (Postfix's ``smtpd_client_connection_count_limit``):
            clients with addresses of their own each get this many.
        max_recipients: RCPTs beyond this many in one transaction get
            ``452 4.5.3``.
        style: The wording of the replies.
        smtputf8: Advertise SMTPUTF8 and accept UTF-8 addresses.
        pipelining: Advertise PIPELINING.
        echo_client_address: Name the client's address in the first line of the EHLO
            reply, as Gmail does (``250-mx.example at your service, [203.0.113.7]``);
            ``smtpcheck doctor`` reads the public IP from it.

    Example:
        >>> Behaviour(greylist_seconds=300).greylist_seconds
        300
        >>> Behaviour(banner_delay=-1)
        Traceback (most recent call last):
        ...
        ValueError: banner_delay must be >= 0, not -1
    """

    catch_all: bool = False
    mailbox_full: bool = False
    mailbox_disabled: bool = False
    greylist_seconds: float | None = None
    block: Block | None = None
    refuse_sender: bool = False
    tls: TLS = TLS.NONE
    banner_delay: float = 0.0
    reply_delay: float = 0.0
    drop_after_ehlo: bool = False
    max_connections: int | None = None
    max_connections_per_client: int | None = None
    max_recipients: int | None = None
    style: ReplyStyle = ReplyStyle.POSTFIX
    smtputf8: bool = True
    pipelining: bool = True
    echo_client_address: bool = False

    def __post_init__(self) -> None:
        for name in ("banner_delay", "reply_delay", "greylist_seconds"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0, not {value}")
        for name in ("max_connections", "max_connections_per_client", "max_recipients"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0, not {value}")


# The replies, per style. Placeholders: {host} the server, {ip} the client, {rcpt} the
# recipient, {domain} its domain, {sender} the sender.
_POSTFIX = {
    "ident": "ESMTP Postfix",
    "mail_ok": "250 2.1.0 Ok",
    "rcpt_ok": "250 2.1.5 Ok",
    "unknown": (
        "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table"
    ),
    "full": "552 5.2.2 <{rcpt}>: Recipient address rejected: Mailbox full",
    "disabled": "550 5.2.1 <{rcpt}>: Recipient address rejected: Mailbox disabled",
    "greylist": (
        "450 4.7.1 <{rcpt}>: Recipient address rejected: Greylisted, see "
        "http://postgrey.schweikert.ch/help/{domain}.html"
    ),
    "blocked": (
        "554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; "
        "https://www.spamhaus.org/query/ip/{ip}"
    ),
    "blocked_banner": (
        "554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org"
    ),
    "sender": "550 5.7.1 <{sender}>: Sender address rejected: Access denied",
    "starttls": "530 5.7.0 Must issue a STARTTLS command first",
    "busy": "421 4.7.0 {host} Error: too many connections from {ip}",
    "recipients": "452 4.5.3 Error: too many recipients",
    "relay": "554 5.7.1 <{rcpt}>: Relay access denied",
    "sequence": "503 5.5.1 Error: access denied for {ip}",
}
_GMAIL = {
    **_POSTFIX,
    "ident": "ESMTP a640c23a62f3a-sandbox - gsmtp",
    "mail_ok": "250 2.1.0 OK a640c23a62f3a-sandbox - gsmtp",
    "rcpt_ok": "250 2.1.5 OK a640c23a62f3a-sandbox - gsmtp",
    "unknown": (
        "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n"
        "550-5.1.1 double-checking the recipient's email address for typos or\r\n"
        "550-5.1.1 unnecessary spaces. Learn more at\r\n"
        "550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a640c23a62f3a - gsmtp"
    ),
    "full": (
        "552 5.2.2 The email account that you tried to reach is over quota. Please direct "
        "the recipient to https://support.google.com/mail/?p=OverQuotaPerm - gsmtp"
    ),
    "disabled": (
        "550 5.2.1 The email account that you tried to reach is disabled. Learn more at "
        "https://support.google.com/mail/?p=DisabledUser - gsmtp"
    ),
    "greylist": ("450 4.7.1 Greylisted, please try again in a few minutes. a640c23a62f3a - gsmtp"),
    "blocked": (
        "554 5.7.1 [{ip}] Our system has detected that this message is likely "
        "unsolicited mail. Client host blocked using zen.spamhaus.org - gsmtp"
    ),
    "starttls": "530 5.7.0 Must issue a STARTTLS command first. a640c23a62f3a - gsmtp",
    "busy": "421 4.7.0 Try again later, closing connection. a640c23a62f3a - gsmtp",
    "recipients": (
        "452 4.5.3 Your message has too many recipients. For more information regarding "
        "Google's sending limits, visit https://support.google.com/mail/answer/6592 - gsmtp"
    ),
}
_OUTLOOK = {
    "ident": "Microsoft ESMTP MAIL Service ready",
    "mail_ok": "250 Sender OK",
    "rcpt_ok": "250 Recipient OK",
    "unknown": "550 Requested action not taken: mailbox unavailable",
    "full": "552 Requested mail action aborted: exceeded storage allocation",
    "disabled": "550 Requested action not taken: mailbox disabled",
    "greylist": "450 Requested mail action not taken: greylisted, try again later",
    "blocked": "554 Service unavailable; Client host [{ip}] blocked using Spamhaus",
    "blocked_banner": "554 Service unavailable; Client host [{ip}] blocked using Spamhaus",
    "sender": "550 Sender address rejected: access denied",
    "starttls": "530 Must issue a STARTTLS command first",
    "busy": "421 Too many concurrent connections from [{ip}], try again later",
    "recipients": "452 Too many recipients",
    "relay": "550 Unable to relay for {rcpt}",
    "sequence": "503 Bad sequence of commands",
}
_PLAIN = {
    "ident": "ESMTP Sendmail 8.15.2",
    "mail_ok": "250 <{sender}>... Sender ok",
    "rcpt_ok": "250 <{rcpt}>... Recipient ok",
    "unknown": "550 <{rcpt}>... User unknown",
    "full": "552 <{rcpt}>... Mailbox full",
    "disabled": "550 <{rcpt}>... Mailbox disabled for this recipient",
    "greylist": "450 <{rcpt}>... Greylisted, try again later",
    "blocked": "554 Rejected: {ip} is listed at zen.spamhaus.org",
    "blocked_banner": "554 {host} Access denied: {ip} is listed at zen.spamhaus.org",
    "sender": "550 <{sender}>... Access denied",
    "starttls": "530 Must issue a STARTTLS command first",
    "busy": "421 {host} Too many connections, closing transmission channel",
    "recipients": "452 Too many recipients",
    "relay": "550 <{rcpt}>... Relaying denied",
    "sequence": "503 Bad sequence of commands",
}
_REPLIES: dict[ReplyStyle, dict[str, str]] = {
    ReplyStyle.POSTFIX: _POSTFIX,
    ReplyStyle.GMAIL: _GMAIL,
    ReplyStyle.OUTLOOK: _OUTLOOK,
    ReplyStyle.PLAIN: _PLAIN,
}
_ENHANCED = frozenset({ReplyStyle.POSTFIX, ReplyStyle.GMAIL})

_FORBIDDEN_REPLY = {
    "DATA": "554 5.7.1 smtpcheck sandbox: DATA is forbidden, smtpcheck must never send mail",
    "BDAT": "554 5.7.1 smtpcheck sandbox: BDAT is forbidden, smtpcheck must never send mail",
    "VRFY": "502 5.5.1 smtpcheck sandbox: VRFY is forbidden",
    "EXPN": "502 5.5.1 smtpcheck sandbox: EXPN is forbidden",
}


class ServerState:
    """Everything one server needs at run time, shared by its connections."""

    def __init__(
        self,
        *,
        name: str,
        domains: frozenset[str],
        mailboxes: frozenset[str],
        behaviour: Behaviour,
        recorder: Recorder,
        clock: Callable[[], float],
        tls_context: ssl.SSLContext | None,
        connections: set[asyncio.BaseTransport],
    ) -> None:
        self.name = name
        self.domains = domains
        self.mailboxes = mailboxes
        self.behaviour = behaviour
        self.recorder = recorder
        self.clock = clock
        self.tls_context = tls_context
        self.connections = connections
        self.greylist: dict[tuple[str, str, str], float] = {}
        #: Connections open now, per client IP.
        self.clients: dict[str, int] = {}
        self.replies = _REPLIES[behaviour.style]

    def reply(self, key: str, **values: str) -> str:
        """The reply ``key`` in this server's style, filled in."""
        return self.replies[key].format(host=self.name, **values)

    def knows(self, address: str) -> bool:
        """Whether ``address`` is a mailbox of this server."""
        local, _, domain = address.lower().rpartition("@")
        return address.lower() in self.mailboxes or (
            local in self.mailboxes and domain in self.domains
        )

    def serves(self, address: str) -> bool:
        """Whether the domain of ``address`` is one this server receives mail for."""
        return address.rpartition("@")[2].lower() in self.domains


class _Handler:
    """aiosmtpd hooks; the state lives on the protocol (``server``), so one suffices."""

    async def handle_EHLO(  # noqa: N802 - aiosmtpd's hook name
        self, server: SandboxSMTP, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        del envelope
        session.host_name = hostname
        state = server.state
        lines = [r for r in responses if not r.startswith(("250-AUTH", "250 HELP"))]
        if state.behaviour.echo_client_address and session.peer:
            lines[0] = f"{lines[0]} at your service, [{session.peer[0]}]"
        if state.behaviour.pipelining:
            lines.append("250-PIPELINING")
        if state.behaviour.style in _ENHANCED:
            lines.append("250-ENHANCEDSTATUSCODES")
        if state.behaviour.style is ReplyStyle.GMAIL:
            lines.append("250-CHUNKING")
        last = lines.pop()
        lines.append("250 " + last[4:])
        # One write, so that a reply delay applies once per reply, not once per line.
        return ["\r\n".join(lines)]

    async def handle_MAIL(  # noqa: N802
        self, server: SandboxSMTP, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        del session
        state = server.state
        sender = address.strip("<>")
        if state.behaviour.tls is TLS.REQUIRED and not server.tls:
            return state.reply("starttls")
        if state.behaviour.refuse_sender:
            return state.reply("sender", sender=sender)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return state.reply("mail_ok", sender=sender)

    async def handle_RCPT(  # noqa: N802
        self, server: SandboxSMTP, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        state = server.state
        behaviour = state.behaviour
        domain = address.rpartition("@")[2].lower()
        ip = str(session.peer[0])
        sender = str(envelope.mail_from).strip("<>")
        if behaviour.tls is TLS.REQUIRED and not server.tls:
            return state.reply("starttls")
        if behaviour.block is Block.RCPT:
            return state.reply("blocked", ip=ip)
        if not state.serves(address):
            return state.reply("relay", rcpt=address)
        if behaviour.max_recipients is not None and (
            len(envelope.rcpt_tos) >= behaviour.max_recipients
        ):
            return state.reply("recipients")
        if behaviour.greylist_seconds is not None:
            triple = (ip, sender.lower(), address.lower())
            now = state.clock()
            first = state.greylist.setdefault(triple, now)
            if now - first < behaviour.greylist_seconds:
                return state.reply("greylist", rcpt=address, domain=domain)
        if state.knows(address):
            if behaviour.mailbox_full:
                return state.reply("full", rcpt=address)
            if behaviour.mailbox_disabled:
                return state.reply("disabled", rcpt=address)
        elif not behaviour.catch_all:
            return state.reply("unknown", rcpt=address)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return state.reply("rcpt_ok", rcpt=address)


_HANDLER = _Handler()
_MAX_RECORDED_LINE = 4096


class SandboxSMTP(SMTP):
    """One connection to a sandbox server: aiosmtpd's SMTP, recording and refusing."""

    def __init__(self, state: ServerState, loop: asyncio.AbstractEventLoop) -> None:
        behaviour = state.behaviour
        tls_context = state.tls_context if behaviour.tls in {TLS.STARTTLS, TLS.REQUIRED} else None
        super().__init__(
            _HANDLER,
            hostname=state.name,
            ident=state.replies["ident"],
            tls_context=tls_context,
            enable_SMTPUTF8=behaviour.smtputf8,
            timeout=60,
            loop=loop,
        )
        self.state = state
        self.implicit_tls = behaviour.tls is TLS.IMPLICIT
        self.session_number = 0
        self._buffer = b""
        self._greeted = False
        self._counted = False
        self._client: str | None = None

    @property
    def tls(self) -> bool:
        """Whether this connection is encrypted now."""
        return self.implicit_tls or self._tls_protocol is not None

    # -- connection bookkeeping --------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self._counted:
            self._counted = True
            self.session_number = self.state.recorder.open(self.state.name)
            self.state.connections.add(transport)
            peer = transport.get_extra_info("peername")
            self._client = str(peer[0]) if peer else None
            if self._client is not None:
                clients = self.state.clients
                clients[self._client] = clients.get(self._client, 0) + 1
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._counted:
            self._counted = False
            self.state.recorder.close(self.state.name)
            self.state.connections.discard(self._original_transport or self.transport)
            if self._client is not None:
                self.state.clients[self._client] -= 1
        super().connection_lost(error)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while b"\n" in self._buffer:
            line, _, self._buffer = self._buffer.partition(b"\n")
            self._record(line)
        if len(self._buffer) > _MAX_RECORDED_LINE:
            self._record(self._buffer[:_MAX_RECORDED_LINE])
            self._buffer = b""
        super().data_received(data)

    def _record(self, raw: bytes) -> None:
        line = raw.rstrip(b"\r").decode("utf-8", "backslashreplace")
        self.state.recorder.line(self._command(line))

    def _command(self, line: str) -> Command:
        return Command(server=self.state.name, session=self.session_number, line=line, tls=self.tls)

    # -- replies -----------------------------------------------------------------------

    async def push(self, status: AnyStr) -> None:
        behaviour = self.state.behaviour
        delay = behaviour.reply_delay if self._greeted else behaviour.banner_delay
        self._greeted = True
        if delay:
            await asyncio.sleep(delay)
        if self.transport is not None and not self.transport.is_closing():
            await super().push(status)

    async def _handle_client(self) -> None:
        state = self.state
        behaviour = state.behaviour
        if self.session is None or self.transport is None:
            return
        ip = str(self.session.peer[0]) if self.session.peer else "?"
        if behaviour.max_connections is not None and (
            state.recorder.active(state.name) > behaviour.max_connections
        ):
            await self.push(state.reply("busy", ip=ip))
            self.transport.close()
            return
        per_client = behaviour.max_connections_per_client
        if per_client is not None and state.clients.get(ip, 0) > per_client:
            await self.push(state.reply("busy", ip=ip))
            self.transport.close()
            return
        if behaviour.block is Block.CONNECT:
            await self._refuse_session(state.reply("blocked_banner", ip=ip), ip)
            return
        await super()._handle_client()

    async def _refuse_session(self, banner: str, ip: str) -> None:
        """RFC 5321 §3.1: a 554 greeting, then 503 to everything until QUIT."""
        await self.push(banner)
        try:
            for _ in range(20):
                line = await self._reader.readuntil()
                verb = line.split(b" ", 1)[0].strip().upper()
                if verb == b"QUIT":
                    await self.push("221 2.0.0 Bye")
                    break
                if verb.decode("ascii", "replace") in _FORBIDDEN_REPLY:
                    await self._forbidden(verb.decode("ascii"))
                    continue
                await self.push(self.state.reply("sequence", ip=ip))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        if self.transport is not None:
            self.transport.close()

    # -- commands ----------------------------------------------------------------------

    async def smtp_EHLO(self, hostname: str) -> None:  # noqa: N802
        if self.state.behaviour.drop_after_ehlo:
            if self.transport is not None:
                self.transport.close()
            return
        await super().smtp_EHLO(hostname)

    async def smtp_HELO(self, hostname: str) -> None:  # noqa: N802
        if self.state.behaviour.drop_after_ehlo:
            if self.transport is not None:
                self.transport.close()
            return
        await super().smtp_HELO(hostname)

    async def _forbidden(self, verb: str) -> None:
        line = next(
            (
                c.line
                for c in reversed(self.state.recorder.commands(self.state.name))
                if c.session == self.session_number and c.verb == verb
            ),
            verb,
        )
        self.state.recorder.forbidden(self._command(line))
        await self.push(_FORBIDDEN_REPLY[verb])

    async def smtp_DATA(self, arg: str | None) -> None:  # noqa: N802
        del arg
        await self._forbidden("DATA")

    async def smtp_BDAT(self, arg: str | None) -> None:  # noqa: N802
        del arg
        await self._forbidden("BDAT")

    async def smtp_VRFY(self, arg: str | None) -> None:  # noqa: N802
        del arg
        await self._forbidden("VRFY")

    async def smtp_EXPN(self, arg: str | None) -> None:  # noqa: N802
        del arg
        await self._forbidden("EXPN")


# -- hostile servers -------------------------------------------------------------------


class RawEnd(enum.Enum):
    """What a hostile server does once its greeting is out."""

    #: Keep the connection open, answer each line with ``RawScript.reply`` if set.
    HANG = "hang"
    #: Close the connection cleanly (FIN).
    CLOSE = "close"
    #: Reset the connection (RST).
    RESET = "reset"


@dataclass(frozen=True, slots=True, kw_only=True)
class RawScript:
    """A hostile "server" that is not SMTP: it sends bytes it is told to.

    aiosmtpd cannot misbehave at the byte level, so these are plain asyncio servers, for
    the verifier's robustness tests only. On connect it sends ``greeting``; then, if
    ``repeat`` is set, it sends ``repeat`` again and again until the client goes away;
    otherwise it does what ``end`` says.

    Attributes:
        greeting: Bytes sent at connect.
        reply: Bytes sent in answer to every line received (with ``end=HANG``).
        replies: Bytes sent in answer to the first lines received, one entry per line
            in turn (with ``end=HANG``); the lines after them get ``reply``.
        repeat: Bytes sent forever after the greeting (an endless reply).
        end: What to do after the greeting.
        trickle: Seconds between two bytes: everything the server sends goes out one
            byte at a time (a tarpit that keeps every single read short).

    Example:
        >>> RawScript.reset_mid_reply().end
        <RawEnd.RESET: 'reset'>
    """

    greeting: bytes = b""
    reply: bytes | None = None
    replies: tuple[bytes, ...] = ()
    repeat: bytes | None = None
    end: RawEnd = RawEnd.HANG
    trickle: float = 0.0

    @classmethod
    def garbage(cls) -> RawScript:
        """Binary garbage instead of a greeting, and more garbage to every line."""
        return cls(
            greeting=b"\x00\xff\xfeSSH-2.0-OpenSSH_9.6\r\n", reply=b"\x16\x03\x01\x00\xa5\r\n"
        )

    @classmethod
    def endless_reply(cls) -> RawScript:
        """A multi-line greeting that never ends (``220-`` lines forever)."""
        return cls(greeting=b"220-sandbox ESMTP\r\n", repeat=b"220-and more, and more\r\n")

    @classmethod
    def reset_mid_reply(cls) -> RawScript:
        """Half a multi-line greeting, then a TCP reset."""
        return cls(greeting=b"220-sandbox ESMTP\r\n220-half a li", end=RawEnd.RESET)

    @classmethod
    def silent(cls) -> RawScript:
        """Accept the connection and say nothing, ever."""
        return cls()

    @classmethod
    def long_line(cls, size: int = 1_000_000) -> RawScript:
        """A greeting line of ``size`` bytes that never ends with CRLF."""
        return cls(greeting=b"220 " + b"x" * size)


class RawServer:
    """Runs one :class:`RawScript` per connection, recording the lines it receives."""

    def __init__(
        self,
        *,
        name: str,
        script: RawScript,
        recorder: Recorder,
        connections: set[asyncio.BaseTransport],
    ) -> None:
        self.name = name
        self.script = script
        self.recorder = recorder
        self.connections = connections

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one connection."""
        transport = writer.transport
        self.connections.add(transport)
        session = self.recorder.open(self.name)
        script = self.script

        async def send(data: bytes) -> None:
            if not script.trickle:
                writer.write(data)
                await writer.drain()
                return
            for index in range(len(data)):
                await asyncio.sleep(script.trickle)
                if transport.is_closing():
                    return
                writer.write(data[index : index + 1])
                await writer.drain()

        try:
            await send(script.greeting)
            if script.repeat is not None:
                while not transport.is_closing():
                    writer.write(script.repeat * 64)
                    await writer.drain()
            elif script.end is RawEnd.CLOSE:
                writer.close()
            elif script.end is RawEnd.RESET:
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                transport.abort()
            else:
                answers = iter(script.replies)
                while line := await reader.readline():
                    text = line.rstrip(b"\r\n").decode("utf-8", "backslashreplace")
                    self.recorder.line(Command(server=self.name, session=session, line=text))
                    answer = next(answers, script.reply)
                    if answer is not None:
                        await send(answer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            # The world stops while this connection still trickles or hangs: end quietly
            # (asyncio 3.11 logs a connection handler that ends cancelled).
            pass
        finally:
            self.recorder.close(self.name)
            self.connections.discard(transport)
            transport.close()

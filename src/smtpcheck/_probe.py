"""The SMTP part of a verification, written once, as a plan that does no I/O.

A plan is a generator: it *yields* an action (connect, send, receive, start TLS, close)
and is *sent* the outcome (connected, sent, bytes received, failed). The blocking and the
asyncio drivers are short loops that carry out the actions; the order of the steps and
every decision live here, next to the :class:`~smtpcheck.protocol.ClientConnection` that
parses the conversation.

One conversation asks about one or more recipients of one domain on one mail host::

    connect -> greeting -> EHLO (HELO) -> [STARTTLS -> EHLO] -> MAIL FROM
            -> RCPT TO each recipient -> RCPT TO a random local part -> QUIT

With ``PIPELINING`` the transaction goes out in one round trip (MAIL FROM, every RCPT
TO and QUIT together). ``DATA`` is never sent: the protocol layer cannot even write it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field

from smtpcheck._address import Address
from smtpcheck._errors import LocalProtocolError, RemoteProtocolError
from smtpcheck._literals import address_literal
from smtpcheck._policy import Policy
from smtpcheck._result import Reason, TranscriptLine
from smtpcheck.protocol import (
    NEED_DATA,
    ClientConnection,
    Command,
    ConnectionClosed,
    Ehlo,
    Greeting,
    Helo,
    MailFrom,
    Quit,
    RcptTo,
    Reply,
    Response,
    StartTLS,
    State,
)

__all__ = [
    "Action",
    "Close",
    "Connect",
    "Connected",
    "Failed",
    "FailureKind",
    "Greeted",
    "Outcome",
    "Receive",
    "Received",
    "Send",
    "Sent",
    "SessionReport",
    "StartTLSHandshake",
    "TLSStarted",
    "converse",
    "greet",
]

# How long to wait for the reply to QUIT at most: politeness, not a reason to linger.
QUIT_TIMEOUT = 2.0


# --- actions: what the plan asks a driver to do --------------------------------------


@dataclass(frozen=True, slots=True)
class Connect:
    """Open a TCP connection (and, with ``implicit_tls``, a TLS session at once)."""

    ip: str
    port: int
    server_hostname: str
    implicit_tls: bool
    verify_certificate: bool
    timeout: float | None


@dataclass(frozen=True, slots=True)
class Send:
    """Write these bytes."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Receive:
    """Read what is available (at least one byte, or the end of the stream)."""

    timeout: float | None


@dataclass(frozen=True, slots=True)
class StartTLSHandshake:
    """Run the TLS handshake on the open connection (after ``220`` to STARTTLS)."""

    server_hostname: str
    verify_certificate: bool
    timeout: float | None


@dataclass(frozen=True, slots=True)
class Close:
    """Close the connection. Its outcome is :class:`Sent`."""


Action = Connect | Send | Receive | StartTLSHandshake | Close


# --- outcomes: what a driver reports back ----------------------------------------------


@dataclass(frozen=True, slots=True)
class Connected:
    """The connection is open.

    Attributes:
        local_ip: Our end's IP address (for an address-literal HELO name).
    """

    local_ip: str


@dataclass(frozen=True, slots=True)
class Sent:
    """The action completed and returned nothing."""


@dataclass(frozen=True, slots=True)
class Received:
    """Bytes arrived; ``b""`` means the server closed the connection."""

    data: bytes


@dataclass(frozen=True, slots=True)
class TLSStarted:
    """The TLS handshake completed."""


class FailureKind(enum.Enum):
    """Why an action failed."""

    CONNECT = "connect"  # refused, unreachable, reset while connecting
    TIMEOUT = "timeout"  # the action's time ran out
    TLS = "tls"  # the handshake or the certificate failed
    IO = "io"  # reset or broken while talking


@dataclass(frozen=True, slots=True)
class Failed:
    """The action failed; the connection is unusable.

    Attributes:
        kind: Which kind of failure.
        message: A sentence for a person.
        errno: The operating system's error number, when one said why (``ETIMEDOUT``
            for a connection that timed out), so that refused, unreachable and filtered
            can be told apart.
    """

    kind: FailureKind
    message: str
    errno: int | None = None


Outcome = Connected | Sent | Received | TLSStarted | Failed


# --- what one conversation found --------------------------------------------------------


class Stop(enum.Enum):
    """Where a conversation stopped, when it did not reach the RCPT answers."""

    CONNECT_FAILED = "connect_failed"  # no TCP connection: try the next address
    TIMEOUT = "timeout"
    IO_FAILED = "io_failed"  # reset, or closed by the server mid-conversation
    TLS_FAILED = "tls_failed"
    TLS_UNAVAILABLE = "tls_unavailable"  # required, but STARTTLS not offered or refused
    PROTOCOL_ERROR = "protocol_error"
    REFUSED = "refused"  # a reply to greeting, EHLO/HELO or MAIL said no: see ``reply``
    NOT_ADMITTED = "not_admitted"  # admission refused the host: no connection was made


@dataclass(slots=True)
class SessionReport:
    """What one conversation with one mail host found.

    Attributes:
        host: The mail host's name.
        stop: Why the conversation ended before the recipients were answered, or None.
        phase: The command the deciding reply answered (``"greeting"``, ``"ehlo"``,
            ``"helo"``, ``"starttls"``, ``"mail"``, ``"rcpt"``) or where it stopped.
        reply: The reply that stopped the conversation, when one did.
        detail: A sentence for a person on what went wrong.
        answers: The reply to each recipient's RCPT TO, by index; absent when unasked.
        random_reply: The reply to the catch-all probe's RCPT TO, when it got one.
        probed: Whether the catch-all probe was part of the plan.
        smtputf8_missing: The recipients needed SMTPUTF8 and the server lacks it.
        tls: Whether the conversation was encrypted.
        pipelining: Whether the server offered PIPELINING (None: it never said EHLO).
        refusal: Why admission refused the host (with ``Stop.NOT_ADMITTED``).
        transcript: Every line exchanged (when asked for).
    """

    host: str
    stop: Stop | None = None
    phase: str = "connect"
    reply: Reply | None = None
    detail: str | None = None
    answers: dict[int, Reply] = field(default_factory=dict)
    random_reply: Reply | None = None
    probed: bool = False
    smtputf8_missing: bool = False
    tls: bool = False
    pipelining: bool | None = None
    refusal: Reason | None = None
    transcript: list[TranscriptLine] = field(default_factory=list)

    @property
    def try_next_host(self) -> bool:
        """Whether another mail host of the domain may answer where this one did not.

        True after a connection failure, a timeout, a drop, a TLS failure, a garbled
        conversation, or a transient refusal (``421``, ``4xx`` greeting).
        """
        if self.stop is None:
            return False
        if self.stop is Stop.REFUSED:
            return self.reply is not None and self.reply.is_transient
        return True


class _Abort(Exception):  # noqa: N818 - internal control flow, never escapes
    """The conversation cannot go on; the report already says why."""


_Plan = Generator[Action, Outcome, None]


@dataclass(slots=True)
class _Conversation:
    """The state one conversation carries between its steps."""

    policy: Policy
    report: SessionReport
    clock: Callable[[], float]
    started: float
    deadline: float | None
    keep_transcript: bool
    conn: ClientConnection = field(default_factory=ClientConnection)

    def budget(self, step: float | None) -> float | None:
        """The time for one step: ``min(step, time left)``; raise when none is left."""
        if self.deadline is None:
            return step
        left = self.deadline - self.clock()
        if left <= 0:
            self.fail(Stop.TIMEOUT, "the verification's time budget ran out")
        return left if step is None else min(step, left)

    def reply_wait(self, until: float | None) -> float | None:
        """The time to wait for the rest of a reply due by *until* (and the budget)."""
        if until is None:
            return self.budget(None)
        left = until - self.clock()
        if left <= 0:
            detail = self.timeout_detail(until)
            self.note("*", f"timeout failed: {detail}")
            self.fail(Stop.TIMEOUT, detail)
        return self.budget(left)

    def timeout_detail(self, until: float | None) -> str:
        """Which limit a read that timed out ran into."""
        now = self.clock()
        binding = until is not None and (self.deadline is None or until <= self.deadline)
        if binding and until is not None and now >= until:
            return (
                f"no reply in time (reply_timeout, {self.policy.reply_timeout:g} s, "
                "bounds each whole reply)"
            )
        if self.deadline is not None and now >= self.deadline:
            return "the verification's time budget ran out"
        return "no reply in time"

    def reply_due(self) -> float | None:
        """When the reply we start waiting for now must be complete.

        ``reply_timeout`` is a deadline for the whole reply, however slowly its bytes
        trickle in, not a limit on each read.
        """
        step = self.policy.reply_timeout
        return None if step is None else self.clock() + step

    def out_of_step(self, detail: str) -> None:
        """Stop: the server answered out of turn.

        No reply of this session can be trusted to answer the command it was paired
        with, so none is kept.
        """
        self.note("*", f"protocol error: {detail}")
        self.report.answers.clear()
        self.report.random_reply = None
        self.fail(Stop.PROTOCOL_ERROR, f"the server broke the SMTP protocol: {detail}")

    def note(self, direction: str, text: str, at: float | None = None) -> None:
        if self.keep_transcript:
            when = self.clock() - self.started if at is None else at
            self.report.transcript.append(TranscriptLine(direction=direction, text=text, at=when))

    def fail(self, stop: Stop, detail: str, reply: Reply | None = None) -> None:
        self.report.stop = stop
        self.report.detail = detail
        if reply is not None:
            self.report.reply = reply
        raise _Abort

    def check(self, outcome: Outcome) -> Outcome:
        """Turn a failed outcome into the report's stop reason."""
        if isinstance(outcome, Failed):
            self.conn.abort()
            stop = {
                FailureKind.CONNECT: Stop.CONNECT_FAILED,
                FailureKind.TIMEOUT: Stop.TIMEOUT,
                FailureKind.TLS: Stop.TLS_FAILED,
                FailureKind.IO: Stop.IO_FAILED,
            }[outcome.kind]
            self.note("*", f"{outcome.kind.value} failed: {outcome.message}")
            self.fail(stop, outcome.message)
        return outcome

    def send(self, commands: Sequence[Command]) -> _Plan:
        """Send *commands* in one write (pipelined when there are several)."""
        data = b""
        at = self.clock() - self.started  # one write: one moment for all its lines
        for command in commands:
            try:
                wire = self.conn.send(command)
            except RemoteProtocolError as exc:  # replies waiting that nobody asked for
                self.out_of_step(str(exc))
            except LocalProtocolError as exc:
                self.fail(Stop.PROTOCOL_ERROR, f"cannot send {type(command).__name__}: {exc}")
            data += wire
            self.note(">", wire.decode("utf-8", "replace").rstrip("\r\n"), at)
        self.check((yield Send(data)))

    def receive(
        self, count: int, *, partial: bool = False
    ) -> Generator[Action, Outcome, list[Reply]]:
        """Wait for the next *count* replies (the greeting counts as one).

        With *partial*, a server that closes the connection early gives the replies that
        arrived before it did (perhaps none) instead of a failure.

        Each reply must be complete within ``reply_timeout`` of when its wait began.
        """
        replies: list[Reply] = []
        until = self.reply_due()
        while len(replies) < count:
            try:
                event = self.conn.next_event()
            except RemoteProtocolError as exc:
                self.note("*", f"protocol error: {exc}")
                self.fail(Stop.PROTOCOL_ERROR, f"the server broke the SMTP protocol: {exc}")
            if event is NEED_DATA:
                outcome = yield Receive(self.reply_wait(until))
                if isinstance(outcome, Failed) and outcome.kind is FailureKind.TIMEOUT:
                    outcome = Failed(FailureKind.TIMEOUT, self.timeout_detail(until))
                outcome = self.check(outcome)
                assert isinstance(outcome, Received)  # noqa: S101 - the drivers' contract
                try:
                    self.conn.receive_data(outcome.data)
                except RemoteProtocolError as exc:
                    self.fail(Stop.PROTOCOL_ERROR, f"the server broke the SMTP protocol: {exc}")
                if not outcome.data:
                    self.note("*", "the server closed the connection")
                continue
            if isinstance(event, ConnectionClosed):
                if partial:
                    return replies
                self.fail(
                    Stop.IO_FAILED, f"the server closed the connection during {self.report.phase}"
                )
            assert isinstance(event, Greeting | Response)  # noqa: S101 - exhaustive
            # The transcript shows the bytes as received: UTF-8, or \xNN escapes.
            raw = event.raw or tuple(line.encode() for line in event.reply.lines)
            last = len(raw) - 1
            for number, line_bytes in enumerate(raw):
                separator = " " if number == last else "-"
                line = line_bytes.decode("utf-8", "backslashreplace")
                self.note("<", f"{event.reply.code}{separator}{line}".rstrip())
            replies.append(event.reply)
            until = self.reply_due()
        return replies

    def check_in_step(self) -> None:
        """Make sure no reply beyond those asked for is waiting.

        One would mean that the replies were paired with the wrong commands.
        """
        try:
            self.conn.next_event()
        except RemoteProtocolError as exc:
            self.out_of_step(str(exc))

    def check_quit_reply(self, reply: Reply) -> None:
        """Make sure QUIT's reply is one that QUIT can get.

        QUIT is answered ``221`` (RFC 5321 §4.3.2), or ``421`` by a server closing
        anyway; a refusal means that the replies ran behind the commands.
        """
        if not (reply.code == 421 or 200 <= reply.code < 300):
            self.out_of_step(f"QUIT answered {reply.code}: the replies are out of step")

    def ask(self, phase: str, command: Command) -> Generator[Action, Outcome, Reply]:
        """Send one command and wait for its reply."""
        self.report.phase = phase
        yield from self.send([command])
        (reply,) = yield from self.receive(1)
        return reply

    def quit(self, *, strict: bool = False) -> _Plan:
        """Say QUIT, wait briefly for its reply, close. Failures here change nothing.

        With *strict* (after the recipients were answered), a reply that shows the
        server answering out of step (waiting before QUIT, or a refusal of QUIT) makes
        the session a protocol error.
        """
        if self.conn.state in (State.HELLO, State.READY, State.TRANSACTION, State.REFUSED):
            try:
                wire = self.conn.send(Quit())
            except RemoteProtocolError as exc:
                if strict:
                    self.out_of_step(str(exc))
                wire = b""
            except LocalProtocolError:  # replies still pending on a server without pipelining
                wire = b""
            if wire:
                self.note(">", "QUIT")
                if isinstance((yield Send(wire)), Sent):
                    reply = yield from self.drain_quit()
                    if strict and reply is not None:
                        self.check_quit_reply(reply)
        yield Close()

    def drain_quit(self) -> Generator[Action, Outcome, Reply | None]:
        """Read until QUIT's reply or the end, within a short time (``QUIT_TIMEOUT``).

        Whatever the server does here (closes, stays silent, garbles), the
        conversation's findings stand: QUIT is politeness. Its reply, when one comes, is
        returned, so that a caller holding answers can check that it is QUIT's own
        (:meth:`check_quit_reply`).
        """
        while True:
            try:
                event = self.conn.next_event()
            except RemoteProtocolError:
                return None
            if event is not NEED_DATA:
                if isinstance(event, Response) and isinstance(event.command, Quit):
                    self.note("<", str(event.reply))
                    return event.reply
                if isinstance(event, ConnectionClosed):
                    return None
                continue
            left = self.deadline - self.clock() if self.deadline is not None else QUIT_TIMEOUT
            outcome = yield Receive(max(0.0, min(QUIT_TIMEOUT, left)))
            if not isinstance(outcome, Received):
                return None
            try:
                self.conn.receive_data(outcome.data)
            except RemoteProtocolError:
                return None


def converse(
    *,
    host: str,
    ip: str,
    port: int,
    recipients: Sequence[Address],
    random_local_part: str | None,
    policy: Policy,
    helo_name: str | None,
    clock: Callable[[], float],
    started: float,
    deadline: float | None,
    use_tls: bool = True,
) -> Generator[Action, Outcome, SessionReport]:
    """Plan one conversation with one mail host about *recipients* of one domain.

    Args:
        host: The mail host's name (for TLS server name indication and the report).
        ip: The address to connect to.
        port: The TCP port.
        recipients: The addresses to ask about, all of the same domain.
        random_local_part: The local part of the catch-all probe, or None for no probe.
        policy: What to do.
        helo_name: The name for EHLO/HELO, or None for our address literal.
        clock: Monotonic seconds.
        started: When the verification began (for the transcript).
        deadline: When the whole verification's budget runs out, or None.
        use_tls: False to skip STARTTLS on this connection (an opportunistic retry
            after a failed handshake).

    Returns:
        The report of what was said, by the generator's return value.
    """
    report = SessionReport(host=host, probed=random_local_part is not None)
    conv = _Conversation(
        policy=policy,
        report=report,
        clock=clock,
        started=started,
        deadline=deadline,
        keep_transcript=policy.transcript,
    )
    try:
        yield from _converse(
            conv,
            ip=ip,
            port=port,
            recipients=recipients,
            random_local_part=random_local_part,
            helo_name=helo_name,
            use_tls=use_tls,
        )
    except _Abort:
        # Never reuse a connection that failed: abort it, say QUIT if it is still sane.
        if report.stop in (Stop.REFUSED, Stop.TLS_UNAVAILABLE, Stop.PROTOCOL_ERROR):
            if report.stop is Stop.PROTOCOL_ERROR:
                conv.conn.abort()
            yield from conv.quit()
        elif report.stop is not Stop.CONNECT_FAILED:
            conv.conn.abort()
            yield Close()
    return report


def _converse(  # noqa: PLR0915 - one step after the other, on purpose
    conv: _Conversation,
    *,
    ip: str,
    port: int,
    recipients: Sequence[Address],
    random_local_part: str | None,
    helo_name: str | None,
    use_tls: bool,
) -> _Plan:
    policy, report = conv.policy, conv.report
    verify_cert = policy.check_certificate

    # Connect (with TLS at once on port 465).
    conv.note("*", f"connect {report.host} [{ip}]:{port}")
    outcome = conv.check(
        (
            yield Connect(
                ip=ip,
                port=port,
                server_hostname=report.host,
                implicit_tls=policy.implicit,
                verify_certificate=verify_cert,
                timeout=conv.budget(policy.connect_timeout),
            )
        )
    )
    assert isinstance(outcome, Connected)  # noqa: S101 - the drivers' contract
    report.tls = policy.implicit
    helo = helo_name or address_literal(outcome.local_ip)

    # Greeting.
    report.phase = "greeting"
    (greeting,) = yield from conv.receive(1)
    if not greeting.is_positive:
        conv.fail(Stop.REFUSED, "the server refused the session at its greeting", greeting)

    # EHLO, with HELO as the fallback for servers that do not know EHLO.
    ehlo = yield from conv.ask("ehlo", Ehlo(helo))
    if ehlo.code in (500, 502) and not policy.implicit:
        ehlo = yield from conv.ask("helo", Helo(helo))
    if not ehlo.is_positive:
        conv.fail(Stop.REFUSED, f"the server refused our {report.phase.upper()}", ehlo)

    # STARTTLS.
    wants_tls = use_tls and policy.tls != "off" and not policy.implicit
    if wants_tls and conv.conn.extensions.starttls:
        reply = yield from conv.ask("starttls", StartTLS())
        if reply.code == 220:
            outcome = conv.check(
                (
                    yield StartTLSHandshake(
                        server_hostname=report.host,
                        verify_certificate=verify_cert,
                        timeout=conv.budget(policy.connect_timeout),
                    )
                )
            )
            conv.conn.start_tls_done()
            report.tls = True
            conv.note("*", "TLS started")
            ehlo = yield from conv.ask("ehlo", Ehlo(helo))
            if not ehlo.is_positive:
                conv.fail(Stop.REFUSED, "the server refused our EHLO after STARTTLS", ehlo)
        elif policy.tls == "required":
            conv.fail(Stop.TLS_UNAVAILABLE, "the server refused STARTTLS", reply)
        elif reply.code == 421:
            conv.fail(Stop.REFUSED, "the server closed the session at STARTTLS", reply)
    elif policy.tls == "required" and not policy.implicit:
        conv.fail(Stop.TLS_UNAVAILABLE, "TLS is required and the server does not offer STARTTLS")

    # SMTPUTF8: an internationalised local part cannot be asked about without it.
    extensions = conv.conn.extensions
    report.pipelining = extensions.pipelining
    needs_utf8 = any(r.requires_smtputf8 for r in recipients)
    if needs_utf8 and not extensions.smtputf8:
        report.smtputf8_missing = True
        report.phase = "ehlo"
        report.detail = "the address needs SMTPUTF8 and the server does not offer it"
        yield from conv.quit()
        return

    # The transaction: MAIL FROM, RCPT TO the first recipient, the catch-all probe right
    # after it (a server that refuses a second RCPT has answered the real one already),
    # the other recipients, QUIT.
    mail = MailFrom(policy.reverse_path, smtputf8=needs_utf8)
    rcpts = [RcptTo(r.smtp_path) for r in recipients]
    probe_at = None
    if random_local_part is not None:
        probe_at = 1
        rcpts.insert(probe_at, RcptTo(f"{random_local_part}@{recipients[0].ascii_domain}"))
    report.phase = "mail"
    if extensions.pipelining:
        yield from conv.send([mail, *rcpts, Quit()])
        (mail_reply,) = yield from conv.receive(1)
        if not mail_reply.is_positive:
            conv.fail(Stop.REFUSED, "the server refused our MAIL FROM", mail_reply)
        report.phase = "rcpt"
        # Each answer is kept as it arrives: a session that runs out of time, or is
        # dropped, still reports the recipients it had answered.
        rcpt_replies = []
        for _ in rcpts:
            got = yield from conv.receive(1, partial=True)
            if not got:
                break  # the server closed: the rest are unanswered
            rcpt_replies.extend(got)
            _record_answers(report, rcpt_replies, probe_at)
        if len(rcpt_replies) == len(rcpts):
            # QUIT's reply is not waited for like the others: a server that never
            # answers QUIT costs a short grace (drain_quit), not the result. One that
            # answers shows whether its replies kept step with the commands.
            quit_reply = yield from conv.drain_quit()
            if quit_reply is not None:
                conv.check_quit_reply(quit_reply)
                conv.check_in_step()
        yield Close()
        return

    mail_reply = yield from conv.ask("mail", mail)
    if not mail_reply.is_positive:
        conv.fail(Stop.REFUSED, "the server refused our MAIL FROM", mail_reply)
    rcpt_replies = []
    for index, rcpt in enumerate(rcpts):
        if index == probe_at and len(rcpts) == 2 and not rcpt_replies[0].is_positive:
            break  # the only recipient was refused: the catch-all question does not arise
        reply = yield from conv.ask("rcpt", rcpt)
        rcpt_replies.append(reply)
        _record_answers(report, rcpt_replies, probe_at)  # kept if the server drops us next
        if reply.code == 421:
            break  # the server is closing the session
    report.phase = "rcpt"
    yield from conv.quit(strict=True)


def _record_answers(report: SessionReport, replies: Sequence[Reply], probe_at: int | None) -> None:
    """File each RCPT reply under its recipient's index, or as the probe's."""
    recipient = 0
    for index, reply in enumerate(replies):
        if index == probe_at:
            report.random_reply = reply
        else:
            report.answers[recipient] = reply
            recipient += 1


# --- an EHLO-only conversation (the doctor's) -------------------------------------------


@dataclass(frozen=True, slots=True)
class Greeted:
    """What a :func:`greet` conversation found.

    Attributes:
        failure: Why no connection was made (the driver's outcome), or None.
        local_ip: Our end's address, once connected.
        connect_time: Seconds the connection took to open.
        greeting: The server's greeting, when it came.
        ehlo: The reply to EHLO, when it came.
        detail: Why the conversation stopped before EHLO was answered, or None.
    """

    failure: Failed | None = None
    local_ip: str | None = None
    connect_time: float = 0.0
    greeting: Reply | None = None
    ehlo: Reply | None = None
    detail: str | None = None


def greet(
    *,
    host: str,
    ip: str,
    port: int,
    policy: Policy,
    helo_name: str | None,
    clock: Callable[[], float],
) -> Generator[Action, Outcome, Greeted]:
    """Plan a conversation that says EHLO and QUIT, never more (no MAIL, RCPT or DATA).

    ``policy.connect_timeout`` bounds the connection, ``policy.reply_timeout`` the rest
    of the conversation; a refused greeting is answered with QUIT.

    Returns:
        What the greeting and EHLO said, and our address, by the generator's value.
    """
    started = clock()
    outcome = yield Connect(
        ip=ip,
        port=port,
        server_hostname=host,
        implicit_tls=policy.implicit,
        verify_certificate=policy.check_certificate,
        timeout=policy.connect_timeout,
    )
    if isinstance(outcome, Failed):
        return Greeted(failure=outcome)
    assert isinstance(outcome, Connected)  # noqa: S101 - the drivers' contract
    local_ip, connected = outcome.local_ip, clock()
    deadline = None if policy.reply_timeout is None else connected + policy.reply_timeout
    conv = _Conversation(
        policy=policy,
        report=SessionReport(host=host),
        clock=clock,
        started=started,
        deadline=deadline,
        keep_transcript=False,
    )
    replies: list[Reply] = []
    try:
        conv.report.phase = "greeting"
        replies += yield from conv.receive(1)
        if replies[0].is_positive:
            helo = Ehlo(helo_name or address_literal(local_ip))
            replies.append((yield from conv.ask("ehlo", helo)))
    except _Abort:
        if conv.report.stop is Stop.PROTOCOL_ERROR:
            conv.conn.abort()
        yield Close()
    else:
        yield from conv.quit()
    return Greeted(
        local_ip=local_ip,
        connect_time=connected - started,
        greeting=replies[0] if replies else None,
        ehlo=replies[1] if len(replies) > 1 else None,
        detail=conv.report.detail,
    )

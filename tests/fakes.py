"""An in-process fake of the network for the sans-IO verification plan.

``run_plan`` drives a plan the way the real drivers do, but each ``Connect`` reaches a
:class:`FakeServer` (or fails), each ``Send`` is answered from the server's script and
each ``Receive`` returns what the server queued. Time is a fake clock that a silent
server advances by the whole receive timeout, so budgets are tested without waiting.
Admission is scripted too: an IP may make the plan wait (the clock moves by the wait)
or be refused; every slot admitted must be released by the plan itself.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from smtpcheck._admission import Admit, Admitted, Refused, Release
from smtpcheck._memory import Recall, Remember
from smtpcheck._memory_store import Memory, consult
from smtpcheck._probe import (
    Close,
    Connect,
    Connected,
    Failed,
    FailureKind,
    Receive,
    Received,
    Send,
    Sent,
    StartTLSHandshake,
    TLSStarted,
)
from smtpcheck._resolver import DomainStatus, MailHost, MailHosts
from smtpcheck._verifier import PlanAction, PlanOutcome, Resolve, Resolved

T = TypeVar("T")

EHLO_PIPELINING = b"250-mx.example.test\r\n250-PIPELINING\r\n250-SMTPUTF8\r\n250 8BITMIME\r\n"
EHLO_PLAIN = b"250-mx.example.test\r\n250 8BITMIME\r\n"


def default_rcpt(address: str) -> bytes:
    """alice exists; everyone else does not."""
    if address.lower().startswith("alice@"):
        return b"250 2.1.5 Ok\r\n"
    return b"550 5.1.1 <" + address.encode() + b">: Recipient address rejected: User unknown\r\n"


@dataclass
class FakeServer:
    """A scripted SMTP server: a reply for each command verb, as bytes."""

    greeting: bytes = b"220 mx.example.test ESMTP\r\n"
    ehlo: bytes = EHLO_PIPELINING
    helo: bytes = b"250 mx.example.test\r\n"
    starttls: bytes = b"220 2.0.0 Ready to start TLS\r\n"
    ehlo_after_tls: bytes | None = None
    mail: bytes = b"250 2.1.0 Ok\r\n"
    rcpt: Callable[[str], bytes] = default_rcpt
    quit: bytes = b"221 2.0.0 Bye\r\n"
    tls_fails: bool = False
    silent: bool = False  # never sends anything
    close_after_rcpts: int | None = None  # hang up after answering this many RCPTs
    max_rcpts: int | None = None  # 452 4.5.3 after this many RCPTs in a session
    reply_delay: float = 0.0  # seconds (of the fake clock) before each reply
    trickle: float = 0.0  # seconds (of the fake clock) before each byte
    received: list[str] = field(default_factory=list)
    sessions: int = 0

    def answer(self, line: str, session: dict[str, int]) -> bytes:
        verb = line.split(":", maxsplit=1)[0].split(" ", maxsplit=1)[0].upper()
        self.received.append(line)
        if verb == "EHLO":
            if session.get("tls") and self.ehlo_after_tls is not None:
                return self.ehlo_after_tls
            return self.ehlo
        if verb == "RCPT":
            session["rcpts"] = session.get("rcpts", 0) + 1
            if self.max_rcpts is not None and session["rcpts"] > self.max_rcpts:
                return b"452 4.5.3 Error: too many recipients\r\n"
            return self.rcpt(line[len("RCPT TO:<") : -1])
        replies = {
            "HELO": self.helo,
            "STARTTLS": self.starttls,
            "MAIL": self.mail,
            "QUIT": self.quit,
            "RSET": b"250 2.0.0 Ok\r\n",
            "NOOP": b"250 2.0.0 Ok\r\n",
        }
        return replies.get(verb, b"502 5.5.2 Error: command not recognized\r\n")


@dataclass
class Network:
    """Where each IP leads: a server, ``"refused"``, or absent (refused too)."""

    servers: dict[str, FakeServer | str]
    hosts: tuple[MailHost, ...] = ()
    status: DomainStatus = DomainStatus.OK
    now: float = 0.0
    actions: list[PlanAction] = field(default_factory=list)
    waits: dict[str, float] = field(default_factory=dict)  # admission waits, by IP
    refusals: dict[str, Refused] = field(default_factory=dict)  # admission refused, by IP
    held: list[Admit] = field(default_factory=list)  # admitted and not yet released
    released: list[Release] = field(default_factory=list)
    memory: Memory | None = None  # answers Recall and Remember

    def clock(self) -> float:
        return self.now

    def answer_dns(self, action: Resolve) -> MailHosts:
        return MailHosts(domain=action.domain, status=self.status, hosts=self.hosts)


def run_plan(steps: Generator[PlanAction, Any, T], net: Network) -> T:  # noqa: PLR0915
    """Drive *steps* against the fake *net*; every action is kept in ``net.actions``.

    *steps* is the verifier's plan or a narrower one (the probe's ``greet``): each gets
    the outcomes of the actions it yields, so its send type is left open.
    """
    server: FakeServer | None = None
    session: dict[str, int] = {}
    queue: list[bytes] = []
    closed = False
    try:
        action = next(steps)
        while True:
            net.actions.append(action)
            outcome: PlanOutcome
            if isinstance(action, Resolve):
                outcome = Resolved(net.answer_dns(action))
            elif isinstance(action, Admit):
                refused = net.refusals.get(action.ip)
                if refused is not None:
                    outcome = refused
                else:
                    wait = net.waits.get(action.ip, 0.0)
                    net.now += wait
                    net.held.append(action)
                    outcome = Admitted(waited=wait)
            elif isinstance(action, Recall | Remember):
                outcome = consult(net.memory, action)
            elif isinstance(action, Release):
                assert server is None, "a slot is released only once its connection closed"
                net.held.remove(action.admit)
                net.released.append(action)
                outcome = Sent()
            elif isinstance(action, Connect):
                target = net.servers.get(action.ip, "refused")
                if isinstance(target, str):
                    outcome = Failed(FailureKind.CONNECT, "Connection refused")
                else:
                    server, session, closed = target, {}, False
                    server.sessions += 1
                    queue = [] if server.silent else [server.greeting]
                    outcome = Connected("127.0.0.1")
            elif isinstance(action, Send):
                assert server is not None
                for line in _lines(action.data):
                    if closed or server.silent:
                        break
                    reply = server.answer(line, session)
                    if reply:  # b"": the server says nothing to this command
                        queue.append(reply)
                    if (
                        server.close_after_rcpts is not None
                        and session.get("rcpts", 0) >= server.close_after_rcpts
                    ):
                        closed = True
                outcome = Sent()
            elif isinstance(action, Receive):
                wait = server.trickle or server.reply_delay if server and queue else 0.0
                if queue and action.timeout is not None and wait > action.timeout:
                    net.now += action.timeout
                    outcome = Failed(FailureKind.TIMEOUT, "no reply in time")
                elif queue:
                    net.now += wait
                    assert server is not None
                    if server.trickle:  # one byte per read
                        data = b"".join(queue)
                        queue[:] = [data[1:]] if data[1:] else []
                        outcome = Received(data[:1])
                    elif server.reply_delay:  # one reply per read
                        outcome = Received(queue.pop(0))
                    else:
                        outcome = Received(b"".join(queue))
                        queue.clear()
                elif closed:
                    outcome = Received(b"")
                else:
                    net.now += action.timeout if action.timeout is not None else 3600
                    outcome = Failed(FailureKind.TIMEOUT, "no reply in time")
            elif isinstance(action, StartTLSHandshake):
                assert server is not None
                if server.tls_fails:
                    outcome = Failed(FailureKind.TLS, "TLS failed: certificate verify failed")
                else:
                    session["tls"] = 1
                    outcome = TLSStarted()
            else:
                assert isinstance(action, Close)
                server = None
                outcome = Sent()
            action = steps.send(outcome)
    except StopIteration as stop:
        value: T = stop.value
        return value


def _lines(data: bytes) -> Iterator[str]:
    for line in data.split(b"\r\n"):
        if line:
            yield line.decode("utf-8")


def host(name: str, *ips: str, preference: int = 10) -> MailHost:
    return MailHost(name=name, preference=preference, addresses=ips or ("192.0.2.1",))

"""The blocking driver: carries out a verification plan with sockets and ``ssl``.

It works in any thread, including one that runs an event loop (a notebook, an async
web framework), because it never touches asyncio.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Generator
from typing import TypeVar

from smtpcheck._address import Address
from smtpcheck._admission import (
    Admission,
    Admit,
    Admitted,
    Lesson,
    OpenAdmission,
    Refused,
    Release,
)
from smtpcheck._drivers import (
    PROXY_MISSING,
    ProxyUnavailableError,
    client_context,
    failed,
    helo_name,
    resolver_failure,
)
from smtpcheck._memory import Recall, Remember
from smtpcheck._memory_admission import remembering
from smtpcheck._memory_store import Memory, consult
from smtpcheck._policy import Policy
from smtpcheck._probe import (
    Close,
    Connect,
    Connected,
    Failed,
    FailureKind,
    Received,
    Send,
    Sent,
    StartTLSHandshake,
    TLSStarted,
)
from smtpcheck._resolver import MailHostResolver
from smtpcheck._result import Result
from smtpcheck._verifier import (
    PlanAction,
    PlanOutcome,
    Resolve,
    Resolved,
    failed_verification,
    plan,
)

__all__ = ["drive", "run"]

_T = TypeVar("_T")

_READ_SIZE = 65536


def run(
    address: str | Address,
    *,
    policy: Policy,
    resolver: MailHostResolver,
    admission: Admission | None = None,
    memory: Memory | None = None,
    fresh: bool = False,
) -> Result:
    """Verify *address* with blocking I/O; a bug of ours gives an ``internal_error``."""
    helo = helo_name(policy.helo_name)
    steps = plan(
        address,
        policy=policy,
        helo_name=helo,
        clock=time.monotonic,
        memory=memory is not None,
        fresh=fresh,
    )
    admission = remembering(admission, memory, policy, helo)
    try:
        return drive(steps, policy=policy, resolver=resolver, admission=admission, memory=memory)
    except Exception as exc:  # noqa: BLE001 - a bug of ours: logged, and a result says so
        return failed_verification(address, exc)


def drive(
    steps: Generator[PlanAction, PlanOutcome, _T],
    *,
    policy: Policy,
    resolver: MailHostResolver,
    admission: Admission | None = None,
    memory: Memory | None = None,
) -> _T:
    """Carry out any plan (one address, or the addresses of a domain); return its value.

    Args:
        steps: The plan.
        policy: The policy the plan was made with (source address, proxy, CA file).
        resolver: Answers the plan's DNS questions.
        admission: Answers its admission requests; everything is admitted at once when
            None. A slot still held when the plan ends is released.
        memory: Answers the plan's :class:`~smtpcheck._memory.Recall` and keeps what
            its :class:`~smtpcheck._memory.Remember` says; none when None.
    """
    return _Driver(policy, resolver, admission or OpenAdmission(), memory).drive(steps)


class _Driver:
    """Carries out one plan's actions on at most one socket at a time."""

    def __init__(
        self,
        policy: Policy,
        resolver: MailHostResolver,
        admission: Admission,
        memory: Memory | None = None,
    ) -> None:
        self.policy = policy
        self.resolver = resolver
        self.admission = admission
        self.memory = memory
        self.held: list[Admit] = []
        self.sock: socket.socket | None = None

    def drive(self, steps: Generator[PlanAction, PlanOutcome, _T]) -> _T:
        try:
            action = next(steps)
            while True:
                action = steps.send(self.act(action))
        except StopIteration as stop:
            value: _T = stop.value
            return value
        finally:
            self.close()
            steps.close()
            while self.held:
                self.admission.release(Release(admit=self.held.pop(), lesson=Lesson()))

    def act(self, action: PlanAction) -> PlanOutcome:
        if isinstance(action, Resolve):
            return self.resolve(action)
        if isinstance(action, Admit):
            return self.admit(action)
        if isinstance(action, Release):
            self.held.remove(action.admit)
            self.admission.release(action)
            return Sent()
        if isinstance(action, Connect):
            return self.connect(action)
        if isinstance(action, Close):
            self.close()
            return Sent()
        if isinstance(action, Recall | Remember):
            return consult(self.memory, action)
        sock = self.sock
        if sock is None:  # pragma: no cover - the plan never acts without a connection
            return Failed(FailureKind.IO, "not connected")
        if isinstance(action, StartTLSHandshake):
            return self.handshake(sock, action)
        try:
            if isinstance(action, Send):
                sock.sendall(action.data)
                return Sent()
            sock.settimeout(action.timeout)
            return Received(sock.recv(_READ_SIZE))
        except Exception as exc:  # noqa: BLE001 - failed() raises what is not the network's
            return failed(exc, "io")

    def admit(self, action: Admit) -> Admitted | Refused:
        outcome = self.admission.admit(action)
        if isinstance(outcome, Admitted):
            self.held.append(action)
        return outcome

    def resolve(self, action: Resolve) -> Resolved:
        try:
            hosts = self.resolver.mail_hosts(
                action.domain,
                lifetime=action.lifetime,
                prefer_ipv6=action.prefer_ipv6,
                max_hosts=action.max_hosts,
            )
        except Exception as exc:  # noqa: BLE001 - an injected resolver's failure is DNS failure
            hosts = resolver_failure(action.domain, exc)
        return Resolved(hosts)

    def open(self, action: Connect) -> socket.socket:
        """A TCP connection to the action's address, directly or through the proxy."""
        if self.policy.proxy is None:
            source = (self.policy.source_address, 0) if self.policy.source_address else None
            return socket.create_connection(
                (action.ip, action.port), timeout=action.timeout, source_address=source
            )
        try:
            from python_socks.sync import Proxy  # noqa: PLC0415 - an optional extra
        except ImportError:
            raise ProxyUnavailableError(PROXY_MISSING) from None
        proxy = Proxy.from_url(self.policy.proxy)
        return proxy.connect(dest_host=action.ip, dest_port=action.port, timeout=action.timeout)

    def connect(self, action: Connect) -> PlanOutcome:
        try:
            sock = self.open(action)
        except Exception as exc:  # noqa: BLE001 - failed() raises what is not the network's
            return failed(exc, "connect")
        self.sock = sock
        local_ip = str(sock.getsockname()[0])
        if action.implicit_tls:
            outcome = self.handshake(
                sock,
                StartTLSHandshake(
                    server_hostname=action.server_hostname,
                    verify_certificate=action.verify_certificate,
                    timeout=action.timeout,
                ),
            )
            if isinstance(outcome, Failed):
                self.close()
                return outcome
        return Connected(local_ip)

    def handshake(self, sock: socket.socket, action: StartTLSHandshake) -> PlanOutcome:
        context = client_context(verify=action.verify_certificate, ca_file=self.policy.ca_file)
        try:
            sock.settimeout(action.timeout)
            self.sock = context.wrap_socket(sock, server_hostname=action.server_hostname)
        except Exception as exc:  # noqa: BLE001 - failed() raises what is not the network's
            return failed(exc, "tls")
        return TLSStarted()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

"""The blocking driver: carries out a verification plan with sockets and ``ssl``.

It works in any thread, including one that runs an event loop (a notebook, an async
web framework), because it never touches asyncio.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Generator
from typing import TypeVar

from smtpcheck._address import Address
from smtpcheck._drivers import (
    PROXY_MISSING,
    client_context,
    describe_os_error,
    helo_name,
    proxy_error,
    resolver_failure,
)
from smtpcheck._policy import Policy
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
from smtpcheck._resolver import ResolverProtocol
from smtpcheck._result import Result
from smtpcheck._verifier import PlanAction, PlanOutcome, Resolve, Resolved, plan

__all__ = ["drive", "run"]

_T = TypeVar("_T")

_READ_SIZE = 65536


def run(address: str | Address, *, policy: Policy, resolver: ResolverProtocol) -> Result:
    """Verify *address* with blocking I/O."""
    steps = plan(
        address, policy=policy, helo_name=helo_name(policy.helo_name), clock=time.monotonic
    )
    return drive(steps, policy=policy, resolver=resolver)


def drive(
    steps: Generator[PlanAction, PlanOutcome, _T], *, policy: Policy, resolver: ResolverProtocol
) -> _T:
    """Carry out any plan (one address, or the addresses of a domain); return its value."""
    return _Driver(policy, resolver).drive(steps)


class _Driver:
    """Carries out one plan's actions on at most one socket at a time."""

    def __init__(self, policy: Policy, resolver: ResolverProtocol) -> None:
        self.policy = policy
        self.resolver = resolver
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

    def act(self, action: PlanAction) -> PlanOutcome:
        if isinstance(action, Resolve):
            return self.resolve(action)
        if isinstance(action, Connect):
            return self.connect(action)
        if isinstance(action, Close):
            self.close()
            return Sent()
        sock = self.sock
        if sock is None:  # pragma: no cover - the plan never acts without a connection
            return Failed(FailureKind.IO, "not connected")
        try:
            if isinstance(action, Send):
                sock.sendall(action.data)
                return Sent()
            if isinstance(action, Receive):
                sock.settimeout(action.timeout)
                return Received(sock.recv(_READ_SIZE))
            return self.handshake(sock, action)
        except TimeoutError:
            return Failed(FailureKind.TIMEOUT, "no reply in time")
        except OSError as exc:
            return Failed(FailureKind.IO, describe_os_error(exc))

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
        from python_socks.sync import Proxy  # noqa: PLC0415 - an optional extra

        proxy = Proxy.from_url(self.policy.proxy)
        return proxy.connect(dest_host=action.ip, dest_port=action.port, timeout=action.timeout)

    def connect(self, action: Connect) -> PlanOutcome:
        try:
            sock = self.open(action)
        except TimeoutError:
            return Failed(FailureKind.CONNECT, "no connection in time")
        except OSError as exc:
            return Failed(FailureKind.CONNECT, describe_os_error(exc))
        except ImportError:
            return Failed(FailureKind.CONNECT, PROXY_MISSING)
        except Exception as exc:  # noqa: BLE001 - python-socks' own errors: the proxy failed
            return Failed(FailureKind.CONNECT, proxy_error(exc))
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
        except TimeoutError:
            return Failed(FailureKind.TIMEOUT, "the TLS handshake did not finish in time")
        except ssl.SSLError as exc:
            return Failed(FailureKind.TLS, f"TLS failed: {exc.reason or exc}")
        except OSError as exc:
            return Failed(FailureKind.IO, describe_os_error(exc))
        return TLSStarted()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

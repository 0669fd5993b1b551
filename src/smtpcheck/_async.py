"""The asyncio driver: carries out a verification plan with asyncio transports.

It reads through a small :class:`asyncio.Protocol` of its own rather than streams, so
that it can see bytes that arrive between the ``220`` to STARTTLS and the handshake
(plaintext injected before TLS) and refuse them, and so that a flooding server is
paused instead of filling memory.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Generator
from typing import TypeVar

from smtpcheck._address import Address
from smtpcheck._admission import (
    Admit,
    Admitted,
    AsyncAdmission,
    AsyncOpenAdmission,
    Lesson,
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
from smtpcheck._memory_admission import aremembering
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
from smtpcheck._resolver import AsyncMailHostResolver
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

# Stop reading from the socket while this much is buffered and unread.
_HIGH_WATER = 65536


async def run(
    address: str | Address,
    *,
    policy: Policy,
    resolver: AsyncMailHostResolver,
    admission: AsyncAdmission | None = None,
    memory: Memory | None = None,
    fresh: bool = False,
) -> Result:
    """Verify *address* with asyncio; a bug of ours gives an ``internal_error``."""
    helo = await asyncio.to_thread(helo_name, policy.helo_name)
    steps = plan(
        address,
        policy=policy,
        helo_name=helo,
        clock=time.monotonic,
        memory=memory is not None,
        fresh=fresh,
    )
    admission = aremembering(admission, memory, policy, helo)
    try:
        return await drive(
            steps, policy=policy, resolver=resolver, admission=admission, memory=memory
        )
    except Exception as exc:  # noqa: BLE001 - a bug of ours: logged, and a result says so
        return failed_verification(address, exc)


async def drive(
    steps: Generator[PlanAction, PlanOutcome, _T],
    *,
    policy: Policy,
    resolver: AsyncMailHostResolver,
    admission: AsyncAdmission | None = None,
    memory: Memory | None = None,
) -> _T:
    """Carry out any plan (one address, or the addresses of a domain); return its value.

    Args:
        steps: The plan.
        policy: The policy the plan was made with (source address, proxy, CA file).
        resolver: Answers the plan's DNS questions.
        admission: Answers its admission requests (a bulk run's gates); everything is
            admitted at once when None. A slot still held when the plan ends, or when
            the task is cancelled, is released.
        memory: Answers the plan's :class:`~smtpcheck._memory.Recall` and keeps what
            its :class:`~smtpcheck._memory.Remember` says (a file's in a thread).
    """
    return await _Driver(policy, resolver, admission or AsyncOpenAdmission(), memory).drive(steps)


async def _through_proxy(url: str, action: Connect) -> socket.socket:
    """A connected socket to the action's address through the SOCKS proxy at *url*."""
    try:
        from python_socks.async_.asyncio import Proxy  # noqa: PLC0415 - an optional extra
    except ImportError:
        raise ProxyUnavailableError(PROXY_MISSING) from None

    proxy = Proxy.from_url(url)
    return await proxy.connect(dest_host=action.ip, dest_port=action.port)


class _Stream(asyncio.Protocol):
    """Buffers what the server sends until the plan asks for it."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.closed = False
        self.error: Exception | None = None
        self.paused = False
        self.waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # noqa: S101 - TCP transports
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) >= _HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()
            self.paused = True
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.error = exc
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def read(self) -> bytes:
        """The bytes buffered, waiting for some; ``b""`` once the server has closed."""
        while not self.buffer and not self.closed:
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        if not self.buffer and self.error is not None:
            raise self.error
        data = bytes(self.buffer)
        self.buffer.clear()
        if self.paused and self.transport is not None:
            self.transport.resume_reading()
            self.paused = False
        return data


class _Driver:
    """Carries out one plan's actions on at most one connection at a time."""

    def __init__(
        self,
        policy: Policy,
        resolver: AsyncMailHostResolver,
        admission: AsyncAdmission,
        memory: Memory | None = None,
    ) -> None:
        self.policy = policy
        self.resolver = resolver
        self.admission = admission
        self.memory = memory
        self.held: list[Admit] = []
        self.stream: _Stream | None = None

    async def drive(self, steps: Generator[PlanAction, PlanOutcome, _T]) -> _T:
        try:
            action = next(steps)
            while True:
                action = steps.send(await self.act(action))
        except StopIteration as stop:
            value: _T = stop.value
            return value
        finally:
            await self.aclose()
            steps.close()
            while self.held:
                await self.admission.release(Release(admit=self.held.pop(), lesson=Lesson()))

    async def act(self, action: PlanAction) -> PlanOutcome:
        if isinstance(action, Resolve):
            return await self.resolve(action)
        if isinstance(action, Admit):
            return await self.admit(action)
        if isinstance(action, Release):
            self.held.remove(action.admit)
            await self.admission.release(action)
            return Sent()
        if isinstance(action, Connect):
            return await self.connect(action)
        if isinstance(action, Close):
            await self.aclose()
            return Sent()
        if isinstance(action, Recall | Remember):
            if self.memory is None or self.memory.in_process:
                return consult(self.memory, action)
            return await asyncio.to_thread(consult, self.memory, action)
        stream = self.stream
        if stream is None or stream.transport is None:  # pragma: no cover - plan contract
            return Failed(FailureKind.IO, "not connected")
        if isinstance(action, StartTLSHandshake):
            return await self.handshake(stream, action)
        try:
            if isinstance(action, Send):
                stream.transport.write(action.data)
                return Sent()
            async with asyncio.timeout(action.timeout):
                return Received(await stream.read())
        except Exception as exc:  # noqa: BLE001 - failed() raises what is not the network's
            return failed(exc, "io")

    async def admit(self, action: Admit) -> Admitted | Refused:
        outcome = await self.admission.admit(action)
        if isinstance(outcome, Admitted):
            self.held.append(action)  # only once admitted: a cancelled wait holds nothing
        return outcome

    async def resolve(self, action: Resolve) -> Resolved:
        try:
            hosts = await self.resolver.amail_hosts(
                action.domain,
                lifetime=action.lifetime,
                prefer_ipv6=action.prefer_ipv6,
                max_hosts=action.max_hosts,
            )
        except Exception as exc:  # noqa: BLE001 - an injected resolver's failure is DNS failure
            hosts = resolver_failure(action.domain, exc)
        return Resolved(hosts)

    async def connect(self, action: Connect) -> PlanOutcome:
        loop = asyncio.get_running_loop()
        source = (self.policy.source_address, 0) if self.policy.source_address else None
        context = None
        if action.implicit_tls:
            context = client_context(verify=action.verify_certificate, ca_file=self.policy.ca_file)
        stream = _Stream()
        server_hostname = action.server_hostname if context else None
        try:
            async with asyncio.timeout(action.timeout):
                if self.policy.proxy is None:
                    await loop.create_connection(
                        lambda: stream,
                        action.ip,
                        action.port,
                        ssl=context,
                        server_hostname=server_hostname,
                        local_addr=source,
                    )
                else:
                    sock = await _through_proxy(self.policy.proxy, action)
                    await loop.create_connection(
                        lambda: stream, sock=sock, ssl=context, server_hostname=server_hostname
                    )
        except Exception as exc:  # noqa: BLE001 - failed() raises what is not the network's
            return failed(exc, "connect")
        self.stream = stream
        assert stream.transport is not None  # noqa: S101 - set by connection_made
        peer = stream.transport.get_extra_info("sockname")
        return Connected(str(peer[0]) if peer else "127.0.0.1")

    async def handshake(self, stream: _Stream, action: StartTLSHandshake) -> PlanOutcome:
        if stream.buffer:
            # Bytes sent after "220 ready to start TLS" and before the handshake would be
            # read as if they came over TLS: a man in the middle's injection.
            return Failed(FailureKind.TLS, "the server sent data before the TLS handshake")
        assert stream.transport is not None  # noqa: S101 - connected
        context = client_context(verify=action.verify_certificate, ca_file=self.policy.ca_file)
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(action.timeout):
                transport = await loop.start_tls(
                    stream.transport, stream, context, server_hostname=action.server_hostname
                )
        except Exception as exc:  # noqa: BLE001 - failed() raises what is not the network's
            return failed(exc, "tls")
        if transport is None:  # pragma: no cover - start_tls returns None only when closing
            return Failed(FailureKind.IO, "the connection closed during the TLS handshake")
        assert isinstance(transport, asyncio.Transport)  # noqa: S101 - a TLS transport
        stream.transport = transport
        return TLSStarted()

    async def aclose(self) -> None:
        if self.stream is not None and self.stream.transport is not None:
            # The conversation is over (QUIT answered, or abandoned): abort rather than
            # close, so that a TLS transport does not wait for the peer's close_notify,
            # and let the loop run the close before going on, so that no socket
            # outlives the verification (asyncio.run may end right after).
            self.stream.transport.abort()
            await asyncio.sleep(0)
        self.stream = None

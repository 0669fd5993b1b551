"""The public entry points: :func:`verify` and :func:`averify`.

Their drivers (and through them DNS, sockets, TLS and asyncio) are imported on the first
call, not with the package: ``import smtpcheck`` stays cheap.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, TypeVar

from smtpcheck._address import Address
from smtpcheck._errors import PolicyError
from smtpcheck._policy import Policy
from smtpcheck._result import Result

if TYPE_CHECKING:
    from smtpcheck._memory_store import Memory
    from smtpcheck._resolver import AsyncMailHostResolver, MailHostResolver, Resolver

__all__ = ["averify", "verify"]

#: The policy of a call that gives none (one object, shared by every entry point).
DEFAULT_POLICY = Policy()
_R = TypeVar("_R")
_default_resolver: Resolver | None = None
_default_memory: Memory | None = None
_default_lock = threading.Lock()


def _check_address(call: str, address: object) -> None:
    """Refuse an address that is neither text nor an :class:`Address` (a bug of the caller)."""
    if not isinstance(address, str | Address):
        raise PolicyError(f"{call}() takes a str or an Address, not {type(address).__name__}")


def resolver_or_default(resolver: _R | None) -> _R | Resolver:
    """The given resolver, or one shared :class:`Resolver` built on first use.

    Sharing it shares its cache: a second address at the same domain asks DNS nothing.
    """
    global _default_resolver  # noqa: PLW0603 - built once, on first use, under a lock
    if resolver is not None:
        return resolver
    with _default_lock:
        if _default_resolver is None:
            from smtpcheck._resolver import Resolver  # noqa: PLC0415 - on first use

            _default_resolver = Resolver()
        return _default_resolver


def memory_or_default(memory: Memory | None) -> Memory:
    """The given memory, or the one this process shares, built on first use."""
    global _default_memory  # noqa: PLW0603 - built once, on first use, under a lock
    if memory is not None:
        return memory
    with _default_lock:
        if _default_memory is None:
            from smtpcheck._memory_store import Memory  # noqa: PLC0415 - on first use

            _default_memory = Memory()
        return _default_memory


def forget_shared_memory() -> None:
    """Start this process's shared memory afresh (a test's new mail world is new)."""
    global _default_memory  # noqa: PLW0603 - replaced under the lock
    with _default_lock:
        _default_memory = None


def verify(
    address: str | Address,
    /,
    *,
    policy: Policy | None = None,
    resolver: MailHostResolver | None = None,
    memory: Memory | None = None,
    fresh: bool = False,
) -> Result:
    """Find out whether *address* can receive mail, without sending any.

    Checks the syntax, finds the domain's mail hosts in DNS and asks them, up to
    ``RCPT TO``, whether they accept the mailbox, and whether they accept a random one
    too (a catch-all domain). It never sends ``DATA``. It blocks; it works in any
    thread, including one that runs an event loop.

    Every outcome is a :class:`Result`: an invalid address, a DNS failure, a server
    that refuses us or breaks the protocol, a timeout. It never takes longer than
    ``policy.timeout`` (plus the DNS look-up's own bound).

    Args:
        address: The address as a person typed it, or an :class:`Address`.
        policy: What to do; the default :class:`Policy` when None.
        resolver: Where to look up mail hosts; a shared :class:`Resolver` using the
            system's DNS configuration when None.
        memory: What earlier verifications learned, and where this one's lessons go
            (see :class:`Memory`); this process's shared in-memory one when None.
            ``Policy(lifetimes=Lifetimes.off())`` remembers nothing.
        fresh: Ask the server even when a definite result of the address is
            remembered (hosts in cool-down stay in cool-down).

    Returns:
        The result, with its verdict and reason; :attr:`Result.remembered_at` says when
        it was learned if it came from memory.

    Raises:
        PolicyError: *address* is neither a ``str`` nor an :class:`Address`. Text that is
            not an address is not an error: it is a result with the reason
            ``invalid_syntax``.

    >>> r = verify("not an address")
    >>> r.verdict, r.reason
    (<Verdict.UNDELIVERABLE: 'undeliverable'>, <Reason.INVALID_SYNTAX: 'invalid_syntax'>)
    """
    from smtpcheck import _sync  # noqa: PLC0415 - the driver is imported on first use

    _check_address("verify", address)
    return _sync.run(
        address,
        policy=policy or DEFAULT_POLICY,
        resolver=resolver_or_default(resolver),
        memory=memory_or_default(memory),
        fresh=fresh,
    )


async def averify(
    address: str | Address,
    /,
    *,
    policy: Policy | None = None,
    resolver: AsyncMailHostResolver | None = None,
    memory: Memory | None = None,
    fresh: bool = False,
) -> Result:
    """The asyncio twin of :func:`verify`, with the same arguments and result."""
    from smtpcheck import _async  # noqa: PLC0415 - the driver is imported on first use

    _check_address("averify", address)
    return await _async.run(
        address,
        policy=policy or DEFAULT_POLICY,
        resolver=resolver_or_default(resolver),
        memory=memory_or_default(memory),
        fresh=fresh,
    )

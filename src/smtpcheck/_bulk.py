"""Verify many addresses politely: :func:`verify_many` and :func:`averify_many`.

The public entry points. The work is done by one asyncio engine
(:mod:`smtpcheck._engine`: grouping by domain, sessions shared, admission by the run's
gates, retries); the blocking twin runs it in a thread of its own
(:mod:`smtpcheck._bridge`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable, Generator, Iterable

from smtpcheck._address import Address
from smtpcheck._api import DEFAULT_POLICY, memory_or_default, resolver_or_default
from smtpcheck._bridge import iterate
from smtpcheck._engine import Engine
from smtpcheck._errors import PolicyError
from smtpcheck._memory_store import Memory
from smtpcheck._policy import Policy
from smtpcheck._resolver import AsyncMailHostResolver
from smtpcheck._result import Result

__all__ = ["averify_many", "verify_many"]


def verify_many(
    addresses: Iterable[str | Address],
    /,
    *,
    policy: Policy | None = None,
    resolver: AsyncMailHostResolver | None = None,
    memory: Memory | None = None,
    fresh: bool = False,
) -> Generator[Result, None, None]:
    """Verify many addresses; yield each :class:`Result` as soon as it is known.

    Addresses of one domain share SMTP sessions (several ``RCPT TO`` in each, the
    catch-all probe asked once per domain), domains are verified concurrently, and the
    policy's politeness limits hold: ``concurrency``, ``host_concurrency``, the back-off
    from hosts that rate-limit, and the greylisting retries (see :class:`Policy`).

    Every input gets exactly one result, duplicates included, with the text given in
    :attr:`Result.address`; results come in the order they complete, not the input's.
    The input is read lazily (a generator of a million lines is fine) from a thread of
    the run's own, at most a few thousand addresses ahead of the caller.

    It works from any thread, including one that runs an event loop: the work runs in a
    background thread with its own event loop. Stopping early (``break``, closing the
    iterator, an exception such as KeyboardInterrupt) stops that thread and closes its
    connections.

    Args:
        addresses: The addresses, as a person typed them, or :class:`Address` objects.
        policy: What to do; the default :class:`Policy` when None.
        resolver: Where to look up mail hosts; a shared :class:`Resolver` using the
            system's DNS configuration when None.
        memory: What earlier verifications learned, and where this run's lessons go
            (see :class:`Memory`); this process's shared in-memory one when None.
        fresh: Ask the servers even for addresses whose definite result is remembered.

    Returns:
        An iterator of results, one per input.

    Raises:
        PolicyError: When ``addresses`` is a single string.

    Errors raised by the input iterable itself are raised by the iterator after the
    results of the addresses read before it.

    Example:
        >>> results = verify_many(["not an address", "@nowhere"],
        ...                       policy=Policy(helo_name="client.example"))
        >>> sorted(r.reason.value for r in results)
        ['invalid_syntax', 'invalid_syntax']
    """
    _check_input(addresses)
    return iterate(
        addresses,
        policy or DEFAULT_POLICY,
        resolver_or_default(resolver),
        memory=memory_or_default(memory),
        fresh=fresh,
    )


async def averify_many(
    addresses: Iterable[str | Address] | AsyncIterable[str | Address],
    /,
    *,
    policy: Policy | None = None,
    resolver: AsyncMailHostResolver | None = None,
    memory: Memory | None = None,
    fresh: bool = False,
) -> AsyncGenerator[Result, None]:
    """The asyncio twin of :func:`verify_many`; also takes an async iterable.

    A plain iterable is read in the event loop's thread, so it must not block (a list,
    a file); pass an async iterable for a source that waits. Leaving the ``async for``
    early and closing the generator (``aclose()``) stops the work.

    Args:
        addresses: The addresses, as a person typed them, or :class:`Address` objects.
        policy: What to do; the default :class:`Policy` when None.
        resolver: Where to look up mail hosts; a shared :class:`Resolver` using the
            system's DNS configuration when None.
        memory: As for :func:`verify_many`.
        fresh: As for :func:`verify_many`.

    Yields:
        One result per input, as each completes.

    Raises:
        PolicyError: When ``addresses`` is a single string.

    Example:
        >>> import asyncio
        >>> async def main():
        ...     policy = Policy(helo_name="client.example")
        ...     return [r.verdict.value async for r in averify_many(["nope"], policy=policy)]
        >>> asyncio.run(main())
        ['undeliverable']
    """
    _check_input(addresses)
    policy = policy or DEFAULT_POLICY
    results: asyncio.Queue[Result | None] = asyncio.Queue()
    engine = Engine(
        policy,
        resolver_or_default(resolver),
        results.put_nowait,
        memory=memory_or_default(memory),
        fresh=fresh,
    )
    task = asyncio.create_task(engine.run(addresses))
    task.add_done_callback(lambda _: results.put_nowait(None))
    try:
        while (result := await results.get()) is not None:
            engine.release()
            yield result
        task.result()  # the input's own error, if it raised one
    finally:
        if not task.done():
            task.cancel()
            await asyncio.wait([task])


def _check_input(addresses: object) -> None:
    if isinstance(addresses, str | bytes | Address):
        raise PolicyError("verify_many takes an iterable of addresses; for one, use verify()")

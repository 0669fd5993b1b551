"""Look-ups per second of smtpcheck._resolver against the loopback DNSServer.

Run: ``.venv/bin/python bench/resolver.py [--seconds 2] [--in-process]``. Each look-up
of ``example.test`` asks for its MX, then the A and AAAA of its two MX hosts (5 queries
uncached). "cached" reuses one warmed resolver; "uncached" has no cache at all.

The server runs in a child process by default: in the same process its thread and the
client's fight over the GIL, which measures the GIL more than the resolver.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection

from smtpcheck._resolver import DomainStatus, Resolver
from smtpcheck.testing._dns import DNSServer

WORLD = {
    "example.test": [("MX", "10 mx1.example.test"), ("MX", "20 mx2.example.test")],
    "mx1.example.test": [("A", "127.0.0.2"), ("AAAA", "::2")],
    "mx2.example.test": [("A", "127.0.0.3")],
}


def serve(conn: Connection) -> None:
    with DNSServer(WORLD) as server:
        conn.send(server.port)
        conn.recv()  # until told to stop
        conn.send(len(server.queries))


@contextmanager
def server_port(in_process: bool) -> Iterator[tuple[int, Callable[[], int]]]:
    if in_process:
        with DNSServer(WORLD) as server:
            yield server.port, lambda: len(server.queries)
        return
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(target=serve, args=(child,))
    process.start()
    counted: list[int] = []

    def count() -> int:
        if not counted:
            parent.send("stop")
            counted.append(parent.recv())
        return counted[0]

    try:
        yield parent.recv(), count
    finally:
        count()
        process.join()


def rate(seconds: float, lookup: Callable[[], object]) -> float:
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        lookup()
        count += 1
    return count / elapsed


async def arate(seconds: float, resolver: Resolver, concurrency: int) -> float:
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        await asyncio.gather(*(resolver.amail_hosts("example.test") for _ in range(concurrency)))
        count += concurrency
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    parser.add_argument("--in-process", action="store_true", help="serve from a thread")
    args = parser.parse_args()
    seconds = args.seconds
    with server_port(args.in_process) as (port, count):
        cached = Resolver(nameservers=["127.0.0.1"], port=port)
        uncached = Resolver(nameservers=["127.0.0.1"], port=port, cache=False)
        assert cached.mail_hosts("example.test").status is DomainStatus.OK
        rows = [
            ("sync   uncached", rate(seconds, lambda: uncached.mail_hosts("example.test"))),
            ("sync   cached", rate(seconds, lambda: cached.mail_hosts("example.test"))),
            ("async  uncached", asyncio.run(arate(seconds, uncached, 1))),
            ("async  uncached x20", asyncio.run(arate(seconds, uncached, 20))),
            ("async  cached", asyncio.run(arate(seconds, cached, 1))),
        ]
        queries = count()
    for label, per_second in rows:
        print(f"{label:<22} {per_second:>10,.0f} look-ups/s")
    print(f"({queries:,} queries reached the server)")


if __name__ == "__main__":
    main()

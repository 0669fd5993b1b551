"""Measure verify_many: sessions shared per domain against one connection per address.

Run: ``.venv/bin/python bench/bulk.py`` (both parts), ``--part latency`` or
``--part stream --limit 120`` (seconds; the stream stops at 1,000,000 addresses or then).

``latency``: 1,000 addresses over 20 domains (half of them exist), each domain's server
behind its own :class:`DelayProxy` with a 20 ms round trip, with and without an extra
``reply_delay`` inside the servers; verify_many against ``verify()`` in a thread pool of
the same concurrency. The floor is the time the sessions take when every domain runs at
once within the policy's caps (see :func:`floor`).

``stream``: up to 1,000,000 generated addresses over 1,000 domains on 20 sandbox servers
without delay; prints the resident memory every few seconds (it must stay flat).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import smtpcheck
from _proxy import DelayProxy
from smtpcheck import Policy
from smtpcheck._bulk import verify_many
from smtpcheck._resolver import DomainStatus, MailHost, MailHosts
from smtpcheck.testing import Behaviour, MailWorld

RTT = 0.02
DOMAINS = 20
PER_DOMAIN = 50
POLICY = Policy(allow_special_use=True, helo_name="client.test", tls="off")


class ProxiedResolver:
    """Every domain's mail host is its server's proxy."""

    def __init__(self, ports: dict[str, int]) -> None:
        self.ports = ports

    def mail_hosts(self, ascii_domain: str, **_: object) -> MailHosts:
        port = self.ports.get(ascii_domain)
        if port is None:
            return MailHosts(domain=ascii_domain, status=DomainStatus.NO_SUCH_DOMAIN)
        host = MailHost(
            name=f"mx.{ascii_domain}", preference=10, addresses=("127.0.0.1",), port=port
        )
        return MailHosts(domain=ascii_domain, status=DomainStatus.OK, hosts=(host,))

    async def amail_hosts(self, ascii_domain: str, **_: object) -> MailHosts:
        return self.mail_hosts(ascii_domain)


def floor(policy: Policy, rtt: float, reply_delay: float) -> float:
    """The least time the sessions need with every domain at once, within the caps.

    A session costs 4 round trips (TCP and greeting 2, EHLO 1, MAIL, the RCPTs and QUIT
    pipelined 1) plus a server reply delay for EHLO, MAIL and each RCPT (the server
    answers pipelined commands one after another). A domain's first
    session (9 addresses and the probe) runs alone; the rest (10 a session) run
    ``host_concurrency`` at a time; and no more than ``concurrency`` sessions run at once.
    """
    session = 4 * rtt + (2 + policy.max_recipients) * reply_delay
    rest = math.ceil((PER_DOMAIN - (policy.max_recipients - 1)) / policy.max_recipients)
    per_domain = 1 + math.ceil(rest / policy.host_concurrency)
    overall = math.ceil(DOMAINS * (1 + rest) / policy.concurrency)
    return max(per_domain, overall) * session


def latency(reply_delay: float) -> None:
    world = MailWorld()
    for n in range(DOMAINS):
        world.add_server(
            f"mx.d{n}.test",
            domains=[f"d{n}.test"],
            mailboxes=[f"user{i}" for i in range(0, PER_DOMAIN, 2)],
            behaviour=Behaviour(reply_delay=reply_delay),
        )
    given = [f"user{i}@d{n}.test" for i in range(PER_DOMAIN) for n in range(DOMAINS)]
    with world, contextlib.ExitStack() as stack:
        ports = {}
        for n in range(DOMAINS):
            proxy = stack.enter_context(DelayProxy(world.address(f"mx.d{n}.test"), rtt=RTT))
            ports[f"d{n}.test"] = proxy.port
        resolver = ProxiedResolver(ports)
        policy = POLICY

        tracemalloc.start()
        started, cpu = time.perf_counter(), time.process_time()
        results = list(verify_many(given, policy=policy, resolver=resolver))
        bulk = time.perf_counter() - started
        bulk_cpu = time.process_time() - cpu
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert len(results) == len(given)
        good = sum(r.verdict is smtpcheck.Verdict.DELIVERABLE for r in results)
        sessions = world.stats("mx.d0.test").connections * DOMAINS

        started, cpu = time.perf_counter(), time.process_time()
        with ThreadPoolExecutor(max_workers=policy.concurrency) as pool:
            single = list(
                pool.map(lambda a: smtpcheck.verify(a, policy=policy, resolver=resolver), given)
            )
        one_by_one = time.perf_counter() - started
        single_cpu = time.process_time() - cpu
        assert len(single) == len(given)
        good_single = sum(r.verdict is smtpcheck.Verdict.DELIVERABLE for r in single)

    least = floor(policy, RTT, reply_delay)
    print(
        f"rtt {RTT * 1000:.0f} ms, reply_delay {reply_delay * 1000:.0f} ms, "
        f"{len(given)} addresses / {DOMAINS} domains, concurrency {policy.concurrency}, "
        f"host_concurrency {policy.host_concurrency}"
    )
    print(
        f"  verify_many      {bulk:6.2f} s  {len(given) / bulk:7.0f} addr/s  "
        f"peak traced {peak / 1e6:5.1f} MB  floor {least:.2f} s  ratio {bulk / least:4.2f}  "
        f"deliverable {good}  sessions ~{sessions}  process CPU {bulk_cpu:.2f} s"
    )
    print(
        f"  verify() x pool  {one_by_one:6.2f} s  {len(given) / one_by_one:7.0f} addr/s  "
        f"({one_by_one / bulk:.1f}x slower)  deliverable {good_single}  "
        f"process CPU {single_cpu:.2f} s"
    )


def _rss() -> tuple[float, float]:
    """(resident now, resident peak) in MB, from /proc."""
    now = peak = 0.0
    with Path("/proc/self/status").open() as status:
        for line in status:
            if line.startswith("VmRSS:"):
                now = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    return now, peak


def stream(limit: float, total: int, every: float) -> None:
    servers, domains = 20, 1000
    world = MailWorld()
    for s in range(servers):
        world.add_server(
            f"mx{s}.stream.test",
            domains=[f"d{d}.test" for d in range(s, domains, servers)],
            mailboxes=[f"user{i}" for i in range(50)],
        )

    def addresses() -> Iterator[str]:
        for i in range(total):
            yield f"user{i % 100}@d{(i * 7919) % domains}.test"

    with world:
        policy = POLICY.replace(concurrency=40, host_concurrency=2)
        started = time.perf_counter()
        last = started
        count = good = 0
        print(f"streaming up to {total:,} addresses, {limit:.0f} s at most")
        print("     s     results   addr/s(window)   RSS MB   RSS peak MB")
        seen_at_last = 0
        results = verify_many(addresses(), policy=policy, resolver=world.resolver)
        with contextlib.closing(results):
            for result in results:
                count += 1
                good += result.verdict is smtpcheck.Verdict.DELIVERABLE
                if count % 1000 == 0:
                    now = time.perf_counter()
                    if now - last >= every:
                        world.reset()  # the world's own record of every command
                        world.resolver.lookups.clear()
                        rate = (count - seen_at_last) / (now - last)
                        rss, peak = _rss()
                        line = f"{now - started:6.0f} {count:11,} {rate:14.0f}"
                        print(f"{line} {rss:10.1f} {peak:11.1f}")
                        last, seen_at_last = now, count
                    if now - started >= limit:
                        break
        took = time.perf_counter() - started
    rss, peak = _rss()
    print(
        f"done: {count:,} results in {took:.0f} s ({count / took:.0f} addr/s), "
        f"{good:,} deliverable; RSS {rss:.1f} MB, peak {peak:.1f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["latency", "stream", "all"], default="all")
    parser.add_argument("--limit", type=float, default=600.0, help="stream: seconds at most")
    parser.add_argument("--total", type=int, default=1_000_000, help="stream: addresses")
    parser.add_argument("--every", type=float, default=10.0, help="stream: seconds a line")
    args = parser.parse_args()
    if args.part in ("latency", "all"):
        for reply_delay in (0.0, 0.01):
            latency(reply_delay)
    if args.part in ("stream", "all"):
        stream(args.limit, args.total, args.every)


if __name__ == "__main__":
    main()

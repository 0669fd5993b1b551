"""Measure the memory: a second run of a list, and what a store costs per result.

Run: ``.venv/bin/python bench/memory.py`` (both parts), ``--part runs`` or
``--part stores``.

``runs``: 1,000 addresses over 20 domains (half of them exist), each domain's server
behind its own :class:`DelayProxy` with a 20 ms round trip. ``verify_many`` twice over the
same list with one memory (in process, then an SQLite file): wall time, SMTP commands the
servers received and connections they accepted, for the first run and the second. The
second run should ask nothing: every result is definite and remembered.

``stores``: the cost of remembering a result and recalling it, per result, in µs, for
the in-process store and the SQLite file (10,000 results: write them, then read them).
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from pathlib import Path

from _proxy import DelayProxy
from bulk import DOMAINS, PER_DOMAIN, RTT, ProxiedResolver
from smtpcheck import Lifetimes, Memory, Policy, Reason, Reply, Verdict
from smtpcheck._bulk import verify_many
from smtpcheck.testing import Behaviour, MailWorld

POLICY = Policy(allow_special_use=True, helo_name="client.test", tls="off")


def _sent(world: MailWorld) -> tuple[int, int]:
    """(commands received, connections accepted) by every server of the world."""
    servers = [f"mx.d{n}.test" for n in range(DOMAINS)]
    return len(world.commands()), sum(world.stats(s).connections for s in servers)


def runs() -> None:
    world = MailWorld()
    for n in range(DOMAINS):
        world.add_server(
            f"mx.d{n}.test",
            domains=[f"d{n}.test"],
            mailboxes=[f"user{i}" for i in range(0, PER_DOMAIN, 2)],
            behaviour=Behaviour(),
        )
    given = [f"user{i}@d{n}.test" for i in range(PER_DOMAIN) for n in range(DOMAINS)]
    print(
        f"{len(given)} addresses / {DOMAINS} domains, rtt {RTT * 1000:.0f} ms, "
        f"concurrency {POLICY.concurrency}, host_concurrency {POLICY.host_concurrency}"
    )
    with world, contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as scratch:
        ports = {}
        for n in range(DOMAINS):
            proxy = stack.enter_context(DelayProxy(world.address(f"mx.d{n}.test"), rtt=RTT))
            ports[f"d{n}.test"] = proxy.port
        resolver = ProxiedResolver(ports)
        memories = {
            "none (Lifetimes.off)": Memory(),
            "in process": Memory(),
            "SQLite file": Memory.file(str(Path(scratch) / "memory.sqlite3")),
        }
        for label, memory in memories.items():
            policy = POLICY
            if label.startswith("none"):
                policy = POLICY.replace(lifetimes=Lifetimes.off())
            for run in ("first", "second"):
                world.reset()
                started = time.perf_counter()
                results = list(verify_many(given, policy=policy, resolver=resolver, memory=memory))
                wall = time.perf_counter() - started
                commands, connections = _sent(world)
                remembered = sum(r.remembered_at is not None for r in results)
                assert len(results) == len(given)
                print(
                    f"  {label:22} {run:6} run {wall:6.2f} s  {commands:5d} SMTP commands  "
                    f"{connections:4d} connections  {remembered:4d} from memory"
                )
            memory.close()


def _result(number: int) -> dict[str, object]:
    return {
        "verdict": Verdict.DELIVERABLE if number % 2 else Verdict.UNDELIVERABLE,
        "reason": Reason.ACCEPTED if number % 2 else Reason.MAILBOX_NOT_FOUND,
        "mx": f"mx.d{number % DOMAINS}.test",
        "reply": Reply(250, ("2.1.5 Ok",)) if number % 2 else Reply(550, ("5.1.1 no such user",)),
        "catch_all": False,
    }


def stores(count: int = 10_000) -> None:
    lifetimes = Lifetimes()
    print(f"cost per result, {count} results (write each, then read each), in µs")
    with tempfile.TemporaryDirectory() as scratch:
        for label, memory in (
            ("in process", Memory()),
            ("SQLite file", Memory.file(str(Path(scratch) / "memory.sqlite3"))),
        ):
            addresses = [f"user{n}@d{n % DOMAINS}.test" for n in range(count)]
            started = time.perf_counter()
            for number, address in enumerate(addresses):
                memory.learn_result(address, lifetimes, **_result(number))  # type: ignore[arg-type]
            write = (time.perf_counter() - started) / count * 1e6
            started = time.perf_counter()
            found = sum(memory.result(address, lifetimes) is not None for address in addresses)
            read = (time.perf_counter() - started) / count * 1e6
            assert found == count
            print(f"  {label:12} remember {write:7.1f} µs   recall {read:7.1f} µs")
            memory.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["runs", "stores"], default=None)
    args = parser.parse_args()
    if args.part in (None, "runs"):
        runs()
    if args.part in (None, "stores"):
        stores()


if __name__ == "__main__":
    main()

"""Measure smtpcheck.distributed: 1 worker against 2 workers with source addresses of their own.

Run: ``.venv/bin/python bench/distributed.py`` (``--hosts 4 --domains 20 --per-domain 20``).

A mail world on loopback (shared port, servers on 127.0.0.N) whose servers allow 2
connections at once per client IP (``Behaviour.max_connections_per_client``) and wait
20 ms before each reply, served through its loopback DNS server. A LocalCluster of
worker processes (2 threads each), each worker with its own source address
(127.0.0.201, 127.0.0.202) and HELO name (:class:`WorkerIdentities`), verifies every
address with ``egress="own"``: each worker keeps its own 2 connections per mail host.
It prints the throughput of each run, the ratio, and each server's peak of connections
open at once (2 per worker is the most the servers take from one IP; a worker that
opened more would see ``421`` and results ``rate_limited``, counted too).
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file has the name of the package it measures: its folder must not hide it.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402

import dask.dataframe as dd  # noqa: E402
import pandas as pd  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

import smtpcheck  # noqa: E402
from smtpcheck import Policy, Reason  # noqa: E402
from smtpcheck.distributed import WorkerIdentities, WorkerIdentity, verify_dataframe  # noqa: E402
from smtpcheck.testing import Behaviour, MailWorld  # noqa: E402

PER_CLIENT = 2
REPLY_DELAY = 0.02
SOURCES = ("127.0.0.201", "127.0.0.202")


def build(hosts: int, domains: int) -> MailWorld:
    world = MailWorld(shared_port=0)
    behaviour = Behaviour(reply_delay=REPLY_DELAY, max_connections_per_client=PER_CLIENT)
    for host in range(hosts):
        served = [f"d{host}-{n}.test" for n in range(domains)]
        world.add_server(
            f"mx{host}.bench.test", domains=served, mailboxes=["alice"], behaviour=behaviour
        )
    return world


def run(
    workers: int, world: MailWorld, addresses: list[str], policy: Policy, resolver: object
) -> tuple[float, Counter[str], dict[str, int]]:
    world.reset()
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=2,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            silence_logs=50,
        ) as cluster,
        Client(cluster) as client,
    ):
        identities = {
            n: WorkerIdentity(source_address=SOURCES[n], helo_name=f"w{n}.bench.test")
            for n in range(workers)
        }
        client.register_plugin(WorkerIdentities(identities, policy=policy))
        frame = dd.from_pandas(pd.DataFrame({"email": addresses}), npartitions=8)
        lazy = verify_dataframe(
            frame,
            column="email",
            policy=policy,
            resolver=resolver,  # type: ignore[arg-type]
            egress="own",
            partition_by="domain",
            npartitions=16,
        )
        started = time.perf_counter()
        out = lazy.compute()
        elapsed = time.perf_counter() - started
    assert len(out) == len(addresses)
    peaks = {info.name: world.stats(info.name).peak for info in world.servers}
    return elapsed, Counter(out["reason"]), peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--domains", type=int, default=20, help="domains per host")
    parser.add_argument("--per-domain", type=int, default=20, help="addresses per domain")
    args = parser.parse_args()
    world = build(args.hosts, args.domains)
    addresses = [
        f"{'alice' if n == 0 else f'user{n}'}@d{host}-{d}.test"
        for host in range(args.hosts)
        for d in range(args.domains)
        for n in range(args.per_domain)
    ]
    with world, world.dns_server() as dns:
        assert world.port is not None
        resolver = smtpcheck.Resolver(nameservers=[dns.host], port=dns.port, timeout=5.0)
        policy = Policy(
            port=world.port,
            helo_name="client.bench.test",
            allow_special_use=True,
            tls="off",
            host_concurrency=PER_CLIENT,
            concurrency=50,
            timeout=30,
        )
        print(
            f"{len(addresses)} addresses, {args.hosts} hosts x {args.domains} domains; servers "
            f"allow {PER_CLIENT} connections per client IP, {REPLY_DELAY * 1000:.0f} ms a reply"
        )
        rates = {}
        for workers in (1, 2):
            elapsed, reasons, peaks = run(workers, world, addresses, policy, resolver)
            rates[workers] = len(addresses) / elapsed
            limited = reasons.get(Reason.RATE_LIMITED.value, 0)
            print(
                f"{workers} worker(s): {elapsed:6.2f} s, {rates[workers]:7.1f} addresses/s; "
                f"rate_limited {limited}; peak connections per host "
                f"{sorted(set(peaks.values()))} (of {PER_CLIENT} per IP x {workers} IP)"
            )
        print(f"ratio 2 workers / 1 worker: {rates[2] / rates[1]:.2f}")


if __name__ == "__main__":
    main()

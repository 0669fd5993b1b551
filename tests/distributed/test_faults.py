"""Faults: a worker killed mid-partition, an unreachable scheduler."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections import Counter

import dask.dataframe as dd
import pandas as pd
import pytest
from distributed import Client

import smtpcheck
from cluster_world import SHARED, start_cluster
from smtpcheck import Policy
from smtpcheck.distributed import SchedulerUnreachable, connect, verify_dataframe, verify_many
from smtpcheck.testing import MailWorld


def test_a_worker_killed_mid_partition_loses_and_repeats_no_row(
    world: MailWorld, resolver: smtpcheck.Resolver, policy: Policy
) -> None:
    # 8 domains x 12 addresses on a host answering each line after 50 ms: partitions
    # that take about a second each, by domain so that both workers have some.
    given = [f"{local}{n}@{domain}" for domain in SHARED for n in range(4)
             for local in ("alice", "bob", "nobody")]  # fmt: skip
    frame = pd.DataFrame({"email": given, "row": range(len(given))})
    with start_cluster() as cluster, Client(cluster) as client:
        lazy = verify_dataframe(
            dd.from_pandas(frame, npartitions=4),
            column="email",
            policy=policy,
            resolver=resolver,
            egress="own",
            npartitions=8,
            fresh=True,
        )
        future = client.compute(lazy)
        pids = client.run(os.getpid)
        deadline = time.monotonic() + 30
        victim = None
        while victim is None and time.monotonic() < deadline:
            for address, keys in client.processing().items():
                if any("verify_rows" in str(key) for key in keys):
                    victim = address
                    break
            else:
                time.sleep(0.02)
        assert victim is not None, "no partition was ever being verified"
        os.kill(pids[victim], signal.SIGKILL)
        out = future.result(timeout=60)
    assert Counter(out["row"]) == Counter(range(len(given)))
    assert sorted(out["email"]) == sorted(given)
    assert out["verdict"].notna().all()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_scheduler_is_a_clear_error_at_once() -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(SchedulerUnreachable, match=f"cannot reach the Dask scheduler at {address}"):
        connect(address, timeout=1.0)
    with pytest.raises(ConnectionError, match="within 1 s"):
        verify_many(["alice@ok.test"], client=address, connect_timeout=1.0)  # not iterated
    assert time.monotonic() - started < 10

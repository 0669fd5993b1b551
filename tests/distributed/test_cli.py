"""``smtpcheck verify --scheduler``: the same output, exit status and resuming on a cluster."""

from __future__ import annotations

import json
import socket
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from distributed import LocalCluster

from cluster_world import OWN, SHARED
from smtpcheck._cli import main
from smtpcheck.testing import MailWorld
from smtpcheck.testing._dns import DNSServer

GIVEN = [f"{local}@{domain}" for domain in OWN + SHARED for local in ("alice", "nobody")]
GIVEN += ["alice@ok.test", "not an address", "x@nxdomain.test"]


def options(world: MailWorld, dns: DNSServer) -> list[str]:
    return [
        "--port", str(world.port), "--nameserver", dns.host, "--dns-port", str(dns.port),
        "--allow-test-domains", "--helo-name", "client.cluster.test", "--no-progress",
        "--no-memory", "--fresh",
    ]  # fmt: skip


def lines(path: Path) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in path.read_text().splitlines()]
    for record in records:
        del record["elapsed_ms"], record["remembered_at"]
    return sorted(records, key=lambda r: (r["address"], json.dumps(r, sort_keys=True)))


def test_a_cluster_run_writes_what_a_local_run_writes_and_resumes(
    tmp_path: Path, world: MailWorld, dns: DNSServer, cluster: LocalCluster
) -> None:
    source = tmp_path / "list.txt"
    source.write_text("\n".join(GIVEN) + "\n")
    local, remote = tmp_path / "local.jsonl", tmp_path / "remote.jsonl"
    assert main(["verify", "-i", str(source), "-o", str(local), *options(world, dns)]) == 1
    scheduler = ["--scheduler", cluster.scheduler_address]
    command = ["verify", "-i", str(source), "-o", str(remote), *scheduler, *options(world, dns)]
    assert main(command) == 1  # some are not deliverable, as locally
    assert lines(remote) == lines(local)
    # Interrupted after 5 results: the next run verifies the rest, each input once.
    kept = remote.read_text().splitlines()[:5]
    remote.write_text("\n".join(kept) + "\n")
    assert main(command) == 1
    assert Counter(r["address"] for r in lines(remote)) == Counter(GIVEN)
    assert lines(remote) == lines(local)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_scheduler_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    status = main(["verify", "alice@ok.test", "--scheduler", address, "--allow-test-domains"])
    assert status == 2
    assert f"cannot reach the Dask scheduler at {address}" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())

"""A Dask LocalCluster (processes, 2 workers) and a mail world served through loopback DNS.

Not collected when the ``distributed`` extra is not installed (CI installs it). The
workers are other processes: they reach the world's SMTP servers (127.0.0.N, one
shared port) and its DNS server on loopback, as a real cluster reaches the internet.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

import smtpcheck
from cluster_world import HOST_LIMIT, build_world, start_cluster
from smtpcheck.testing import MailWorld

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

    from smtpcheck.testing._dns import DNSServer

#: Without the extra, the tests of this folder are not collected.
collect_ignore_glob = (
    [] if all(importlib.util.find_spec(name) for name in ("dask", "distributed")) else ["test_*"]
)


@pytest.fixture(scope="session")
def world() -> Iterator[MailWorld]:
    with build_world() as started:
        yield started


@pytest.fixture(scope="session")
def dns(world: MailWorld) -> Iterator[DNSServer]:
    """The world's loopback DNS server."""
    with world.dns_server() as started:
        yield started


@pytest.fixture(scope="session")
def resolver(dns: DNSServer) -> smtpcheck.Resolver:
    return smtpcheck.Resolver(nameservers=[dns.host], port=dns.port, timeout=3.0)


@pytest.fixture(scope="session")
def policy(world: MailWorld) -> smtpcheck.Policy:
    assert world.port is not None
    return smtpcheck.Policy(
        port=world.port,
        helo_name="client.cluster.test",
        allow_special_use=True,
        host_concurrency=HOST_LIMIT,
        timeout=10,
        reply_timeout=5,
        rate_limit_delay=0.05,
    )


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    with start_cluster() as started:
        yield started


@pytest.fixture
def client(cluster: LocalCluster) -> Iterator[Client]:
    """A client of the session's cluster; the identity plugin is gone after each test."""
    from distributed import Client

    with Client(cluster) as connected:
        yield connected
        with contextlib.suppress(ValueError):  # not registered by this test
            connected.unregister_worker_plugin("smtpcheck-identity")

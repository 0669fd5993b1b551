"""The mail world of tests/distributed and bench/distributed.py: hosts shared by domains,
a host that limits connections per client IP, hosts of their own."""

from __future__ import annotations

from typing import TYPE_CHECKING

import smtpcheck
from smtpcheck.testing import Behaviour, MailWorld, ReplyStyle

if TYPE_CHECKING:
    from distributed import LocalCluster

#: Domains that share one mail host (mx.shared.test), 50 ms per reply.
SHARED = tuple(f"s{n}.test" for n in range(8))
#: Domains of a host that allows 2 connections per client IP (mx.perip.test).
PER_IP = tuple(f"p{n}.test" for n in range(8))
#: Domains on hosts of their own.
OWN = ("ok.test", "catchall.test", "full.test", "gmail.test", "outlook.test")
#: Domains with no mail host.
NOWHERE = ("nxdomain.test", "nullmx.test")

HOST_LIMIT = 2


def build_world() -> MailWorld:
    world = MailWorld(shared_port=0)
    world.add_server("mx.ok.test", domains=["ok.test"], mailboxes=["alice", "bob"])
    world.add_server(
        "mx.catchall.test", domains=["catchall.test"], behaviour=Behaviour(catch_all=True)
    )
    world.add_server(
        "mx.full.test",
        domains=["full.test"],
        mailboxes=["alice"],
        behaviour=Behaviour(mailbox_full=True),
    )
    world.add_server(
        "mx.gmail.test",
        domains=["gmail.test"],
        mailboxes=["alice", "bob"],
        behaviour=Behaviour(style=ReplyStyle.GMAIL),
    )
    world.add_server(
        "mx.outlook.test",
        domains=["outlook.test"],
        mailboxes=["alice"],
        behaviour=Behaviour(style=ReplyStyle.OUTLOOK),
    )
    world.add_server(
        "mx.shared.test",
        domains=SHARED,
        mailboxes=["alice", "bob"],
        behaviour=Behaviour(reply_delay=0.05),
    )
    world.add_server(
        "mx.perip.test",
        domains=PER_IP,
        mailboxes=["alice", "bob"],
        behaviour=Behaviour(
            reply_delay=0.02, max_connections_per_client=HOST_LIMIT, echo_client_address=True
        ),
    )
    world.add_domain("nullmx.test", status=smtpcheck.DomainStatus.NULL_MX)
    return world


def start_cluster(n_workers: int = 2, threads_per_worker: int = 2) -> LocalCluster:
    """A LocalCluster of worker processes on loopback (not yet entered)."""
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=n_workers,
        threads_per_worker=threads_per_worker,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",  # no fixed port to clash on; loopback only
        silence_logs=50,  # CRITICAL only: the P2P shuffle logs each shuffle as a warning
    )

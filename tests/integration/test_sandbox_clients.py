"""The sandbox's per-client-IP connection limit (Behaviour.max_connections_per_client)."""

from __future__ import annotations

import smtplib

import pytest

from smtpcheck.testing import Behaviour, MailWorld


def _connect(world: MailWorld, source: str) -> smtplib.SMTP:
    host, port = world.address("mx.limit.test")
    return smtplib.SMTP(host, port, source_address=(source, 0), timeout=5)


def test_each_client_ip_gets_its_own_limit() -> None:
    world = MailWorld(shared_port=0).add_server(
        "mx.limit.test",
        domains=["limit.test"],
        mailboxes=["alice"],
        behaviour=Behaviour(max_connections_per_client=1),
    )
    with world:
        first = _connect(world, "127.0.0.10")
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            _connect(world, "127.0.0.10")
        assert refused.value.smtp_code == 421
        assert b"too many connections from 127.0.0.10" in refused.value.smtp_error
        other = _connect(world, "127.0.0.11")  # another client IP: a limit of its own
        assert other.noop()[0] == 250
        other.quit()
        first.quit()
        again = _connect(world, "127.0.0.10")  # the first one's slot is free again
        again.quit()


def test_the_limit_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="max_connections_per_client"):
        Behaviour(max_connections_per_client=-1)

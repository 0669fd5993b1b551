"""The suite's own guard (tests/conftest.py): nothing beyond loopback, ever."""

from __future__ import annotations

import socket

import pytest


def test_a_connection_beyond_loopback_fails_the_test() -> None:
    with socket.socket() as sock, pytest.raises(AssertionError, match="beyond loopback"):
        sock.connect(("192.0.2.1", 25))


def test_a_datagram_beyond_loopback_fails_the_test() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        with pytest.raises(AssertionError, match="beyond loopback"):
            sock.sendto(b"x", ("192.0.2.53", 53))
        sock.sendto(b"x", ("127.0.0.1", 9))  # loopback is fine

"""Test-wide configuration: Hypothesis profiles, and no network beyond loopback.

``quick`` (the default on a developer's machine) keeps a run short; ``ci`` (loaded when
the ``CI`` environment variable is set, as ``.ci/run`` does) tries more examples,
derandomised so a CI failure reproduces, with no deadline because CI machines are
shared and slow, and no example database because each CI run starts clean.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("quick", max_examples=60, deadline=None)
settings.register_profile(
    "ci",
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "quick")
)


def _loopback(address: object) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if not isinstance(host, str):
        return False
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return host == "localhost"


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches beyond loopback: any other connection or datagram fails it.

    Covers this process's sockets (the blocking driver, asyncio, dnspython); the
    subprocesses that the command-line tests start are pointed at loopback by their
    arguments.
    """

    def guard(name: str) -> Callable[..., Any]:
        original = getattr(socket.socket, name)

        def guarded(self: socket.socket, *args: Any) -> Any:
            address = args[-1] if name == "sendto" else args[0]
            if self.family in {socket.AF_INET, socket.AF_INET6} and not _loopback(address):
                raise AssertionError(f"a test tried to reach {address!r}, beyond loopback")
            return original(self, *args)

        return guarded

    for name in ("connect", "connect_ex", "sendto"):
        monkeypatch.setattr(socket.socket, name, guard(name))


@pytest.fixture(autouse=True)
def forgetful(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test starts with nothing remembered.

    The process's shared memory is new, and the command line's memory file (in the user's
    cache directory, found by platformdirs through ``XDG_CACHE_HOME``) is the test's own,
    for the command lines the test runs in subprocesses too.
    """
    from smtpcheck._api import forget_shared_memory

    forget_shared_memory()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))

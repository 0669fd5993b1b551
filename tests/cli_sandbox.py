"""What the command-line tests share: the program, and the options that aim it at a
sandbox world served through its loopback DNS server."""

from __future__ import annotations

import sys

from smtpcheck.testing import MailWorld
from smtpcheck.testing._dns import DNSServer


def command(*args: str) -> list[str]:
    """``python -m smtpcheck ARGS`` with this interpreter."""
    return [sys.executable, "-m", "smtpcheck", *args]


def sandbox_args(mail: MailWorld, dns: DNSServer) -> list[str]:
    """The options that point ``smtpcheck verify`` at the world *mail*."""
    return [
        "--nameserver",
        dns.host,
        "--dns-port",
        str(dns.port),
        "--port",
        str(mail.port),
        "--helo-name",
        "verifier.example.net",
        "--allow-test-domains",
    ]

"""Issue 18's figure: bulk against a server that takes 1.5 s per reply.

    python bench/slow_bulk.py [N]

N addresses (half of them mailboxes) at one host, ``timeout=10``; prints how many ended
with each reason (before issue 18: every one ``timeout``).
"""

from __future__ import annotations

import collections
import sys
import time

import smtpcheck
from smtpcheck import Policy
from smtpcheck.testing import Behaviour, MailWorld

count = int(sys.argv[1]) if len(sys.argv) > 1 else 40
names = [f"user{i}" for i in range(count)]
world = MailWorld().add_server(
    "mx.slow.test",
    domains=["slow.test"],
    mailboxes=names[::2],
    behaviour=Behaviour(reply_delay=1.5),
)
policy = Policy(allow_special_use=True, helo_name="verifier.example.net", timeout=10.0)
with world:
    started = time.monotonic()
    addresses = [f"{name}@slow.test" for name in names]
    results = list(smtpcheck.verify_many(addresses, policy=policy, resolver=world.resolver))
    elapsed = time.monotonic() - started
reasons = collections.Counter(r.reason.value for r in results)
print(f"{count} addresses, {elapsed:.0f} s: {dict(reasons)}")

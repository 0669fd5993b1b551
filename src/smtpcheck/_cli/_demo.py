"""``smtpcheck demo``: a sample list verified against a sandbox on loopback."""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from smtpcheck._cli._args import EXIT_OK, EXIT_USAGE, add_verbosity, error
from smtpcheck._cli._output import out, render_table, result_json, summary_line, terminal_width
from smtpcheck._cli._verify import in_input_order, verify_all
from smtpcheck._policy import Policy
from smtpcheck._result import Result

__all__ = ["add_parser", "run"]

_REAL_USE = (
    "To check real addresses: smtpcheck verify you@yourdomain.example "
    "--helo-name mail.yourdomain.example --mail-from check@yourdomain.example"
    " - outbound port 25 must be open (many ISPs and clouds block it) and the HELO name"
    " should resolve to this host, with matching reverse DNS;"
    " see https://smtpcheck.readthedocs.io/"
)

# The demo's sample list: one or more addresses per verdict and reason, all quick.
_DEMO_ADDRESSES = (
    "alice@ok.test",  # deliverable: accepted, a random mailbox refused
    "jörg@ok.test",  # deliverable: an internationalised mailbox, over SMTPUTF8
    "alice@backup.test",  # deliverable: the first MX is down, the second answers
    "alice@starttls.test",  # deliverable: the server insists on STARTTLS
    "nobody@ok.test",  # undeliverable: 550 5.1.1
    "nobody@gmail.test",  # undeliverable: Gmail's wording
    "alice@disabled.test",  # undeliverable: mailbox disabled
    "alice@nxdomain.test",  # undeliverable: no such domain
    "alice@nullmx.test",  # undeliverable: null MX (RFC 7505)
    "alice@nomail.test",  # undeliverable: no MX and no address
    "not an address",  # undeliverable: invalid syntax
    "anyone@catchall.test",  # risky: the server accepts every mailbox
    "alice@full.test",  # risky: mailbox full
    "alice@greylist.test",  # unknown: greylisted, try later
    "alice@blocked.test",  # unknown: the server blocks us, not the mailbox
    "alice@sender-refused.test",  # unknown: our MAIL FROM refused
    "alice@busy.test",  # unknown: too many connections
    "jörg@ascii.test",  # unknown: needs SMTPUTF8, not offered
    "alice@servfail.test",  # unknown: DNS failure
    "alice@dead.test",  # unknown: connection refused
    "alice@garbage.test",  # unknown: not an SMTP server
)


def add_parser(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="verify a sample list against a sandbox on loopback (no network)",
        description="Start a sandbox mail world on loopback (DNS answers and SMTP servers, "
        "one .test domain per behaviour), verify a sample list that shows every verdict, "
        "and print the results. Needs no network; needs pip install 'smtpcheck[testing]'.",
    )
    demo.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    add_verbosity(demo)


def run(args: argparse.Namespace) -> int:
    try:
        from smtpcheck.testing import MailWorld  # noqa: PLC0415 - an optional extra
    except ImportError as problem:
        error(
            f"the demo needs the sandbox mail world ({problem}): pip install 'smtpcheck[testing]'"
        )
        return EXIT_USAGE
    policy = Policy(
        helo_name="verifier.example.net",
        allow_special_use=True,
        connect_timeout=2.0,
        reply_timeout=2.0,
        timeout=5.0,
        rate_limit_retries=0,  # busy.test would otherwise be asked again after 5 s
    )
    results: list[Result] = []
    with MailWorld.default() as world:
        verify_all(_DEMO_ADDRESSES, policy=policy, resolver=world.resolver, emit=results.append)
    ordered = in_input_order(_DEMO_ADDRESSES, results)
    if args.json:
        for result in ordered:
            out(result_json(result))
        return EXIT_OK
    out(
        "smtpcheck demo: a sandbox mail world on 127.0.0.1 (SMTP servers for .test domains, "
        "answers instead of DNS); nothing leaves this machine.\n"
    )
    out(render_table(ordered, width=terminal_width()))
    counts = Counter(r.verdict.value for r in ordered)
    out(f"\n{summary_line(counts)}.")
    out(_REAL_USE)
    return EXIT_OK

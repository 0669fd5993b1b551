"""``smtpcheck doctor``: is this host fit to verify addresses? (see :mod:`smtpcheck._doctor`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from smtpcheck._cli._args import Parser, port_number, seconds
from smtpcheck._doctor import (
    DEFAULT_BLOCKLISTS,
    DEFAULT_DOMAIN,
    EXIT_USAGE,
    GUIDE_URL,
    audit,
    render_text,
)
from smtpcheck._errors import PolicyError
from smtpcheck._policy import Policy

__all__ = ["add_parser", "main", "run"]


def _configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--domain",
        metavar="DOMAIN",
        help=f"connect to the first MX of this domain (default {DEFAULT_DOMAIN})",
    )
    where.add_argument("--target", metavar="HOST[:PORT]", help="connect to this mail host instead")
    parser.add_argument(
        "--public-ip", metavar="IP", help="this host's public IP, if the mail host does not name it"
    )
    parser.add_argument("--helo-name", metavar="NAME", help="the HELO name you will verify with")
    parser.add_argument(
        "--mail-from", metavar="ADDRESS", default="", help="the MAIL FROM you will verify with"
    )
    parser.add_argument(
        "--port", type=port_number, default=25, help="the mail hosts' port (default 25)"
    )
    parser.add_argument(
        "--nameserver",
        action="append",
        metavar="IP",
        help="ask this name server (repeat for more; default: the system's)",
    )
    parser.add_argument(
        "--dns-port", type=port_number, default=53, metavar="PORT", help="the DNS port (53)"
    )
    parser.add_argument(
        "--blocklist",
        action="append",
        metavar="ZONE",
        help="check this DNS blocklist (repeat for more; replaces the default set: "
        + ", ".join(b.zone for b in DEFAULT_BLOCKLISTS)
        + ")",
    )
    parser.add_argument("--no-blocklists", action="store_true", help="check no blocklist at all")
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=10.0,
        metavar="SECONDS",
        help="for the connection, the EHLO conversation and each DNS question (10)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every detail")
    return parser


_DESCRIPTION = (
    "Check this host before verifying for real: outbound port 25, the public IP, reverse "
    "DNS, the HELO name, SPF and DMARC of the MAIL FROM domain, and DNS blocklists. It "
    "sends one EHLO and QUIT to one mail host, nothing more."
)
_EPILOG = (
    "Exit status: 0 every check passed (warnings allowed); 1 a check failed; 2 usage "
    f"error; 3 nothing failed but something could not be checked. Guide: {GUIDE_URL}"
)


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``doctor`` command to a parser's subparsers (``add_subparsers()``).

    Returns:
        The new subparser; its arguments are read by :func:`run`.
    """
    parser: argparse.ArgumentParser = commands.add_parser(
        "doctor",
        help="check this host before verifying for real",
        description=_DESCRIPTION,
        epilog=_EPILOG,
    )
    return _configure(parser)


def run(args: argparse.Namespace) -> int:
    """Run ``smtpcheck doctor`` with parsed arguments; print the report.

    Returns:
        The exit status (see :attr:`Audit.exit_status`), or 2 for a usage error.
    """
    try:
        policy = Policy(
            port=args.port,
            helo_name=args.helo_name,
            mail_from=args.mail_from,
            connect_timeout=args.timeout,
            reply_timeout=args.timeout,
            dns_timeout=args.timeout,
        )
        blocklists = [] if args.no_blocklists else args.blocklist
        report = audit(
            policy=policy,
            domain=args.domain,
            target=args.target,
            public_ip=args.public_ip,
            blocklists=blocklists,
            nameservers=args.nameserver,
            dns_port=args.dns_port,
        )
    except PolicyError as error:
        print(f"error: {error}", file=sys.stderr)  # noqa: T201 - the command's output
        return EXIT_USAGE
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))  # noqa: T201
    else:
        print(render_text(report, verbose=args.verbose))  # noqa: T201
    return report.exit_status


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``smtpcheck doctor`` alone: ``main(["--domain", "gmail.com", "--json"])``.

    Returns:
        The exit status; 2 for a usage error.
    """
    parser = _configure(Parser(prog="smtpcheck doctor", description=_DESCRIPTION, epilog=_EPILOG))
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    return run(args)

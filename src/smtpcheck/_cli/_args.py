"""What every subcommand shares: exit statuses, the parser, argument types, policy options.

The argument types (:func:`port_number`, :func:`at_least`, :func:`seconds`) turn a bad
value into argparse's one-line usage error; :func:`add_policy_options` and
:func:`policy_from` are the options that build a :class:`~smtpcheck.Policy`, for any
subcommand that verifies or talks to mail servers.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import IO, Any, NoReturn

from tqdm import tqdm

from smtpcheck._enrich import AddressList
from smtpcheck._errors import PolicyError
from smtpcheck._policy import Policy
from smtpcheck._resolver import Resolver

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_NOT_ALL_DELIVERABLE",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "Parser",
    "Stopped",
    "UsageError",
    "add_policy_options",
    "add_verbosity",
    "at_least",
    "count",
    "error",
    "isatty",
    "logging_to_stderr",
    "policy_default",
    "policy_from",
    "port_number",
    "reasons",
    "resolver_from",
    "seconds",
    "sigterm_stops",
    "verdicts",
    "whole",
]

#: Every address is deliverable.
EXIT_OK = 0
#: Some address is undeliverable, risky or unknown.
EXIT_NOT_ALL_DELIVERABLE = 1
#: The command line or one of its files is wrong.
EXIT_USAGE = 2
#: Interrupted by Ctrl-C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130
#: Stopped by SIGTERM (128 + SIGTERM).
EXIT_TERMINATED = 143


class Stopped(KeyboardInterrupt):
    """Raised in the main thread by SIGTERM, so that a command stops as Ctrl-C stops it.

    Attributes:
        signal: The signal's number.
    """

    def __init__(self, signal: int) -> None:
        super().__init__(signal)
        self.signal = signal


@contextlib.contextmanager
def sigterm_stops() -> Iterator[None]:
    """While in the block, SIGTERM raises :class:`Stopped` in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(number: int, _frame: object) -> None:
        raise Stopped(number)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


class _BarSafe(logging.Handler):
    """Log lines on standard error, written around the progress bar."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # noqa: BLE001 - logging must never break the run
            self.handleError(record)


@contextlib.contextmanager
def logging_to_stderr(verbose: int) -> Iterator[None]:
    """While in the block, the ``smtpcheck`` logger writes on stderr: INFO (1), DEBUG (2+).

    The library installs no handler; this one is the command line's, removed after.
    """
    if verbose <= 0:
        yield
        return
    logger = logging.getLogger("smtpcheck")
    handler = _BarSafe()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    level = logger.level
    logger.setLevel(logging.INFO if verbose == 1 else logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


class UsageError(Exception):
    """A problem with the command line or its files: one line on stderr, exit status 2."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def policy_default(name: str) -> str:
    """The library's default for a :class:`Policy` field, for ``--help``."""
    for field in dataclasses.fields(Policy):
        if field.name == name:
            return "none" if field.default is None else str(field.default)
    return "the library's"


def port_number(text: str) -> int:
    """An argparse type: a TCP or UDP port, 1 to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1 to 65535, not {value}")
    return value


def at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least *minimum*."""

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        return value

    return convert


count = at_least(1)
whole = at_least(0)


def seconds(text: str) -> float:
    """An argparse type: a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def add_policy_options(parser: argparse.ArgumentParser) -> None:
    """Add the options that make a :class:`Policy` (read back by :func:`policy_from`)."""
    policy = parser.add_argument_group("how to verify (defaults are the library's)")
    policy.add_argument(
        "--port",
        type=port_number,
        help=f"the mail servers' port (default {policy_default('port')})",
    )
    policy.add_argument(
        "--tls",
        choices=("opportunistic", "required", "off"),
        help="STARTTLS when offered / required with a verified certificate / never "
        f"(default {policy_default('tls')})",
    )
    policy.add_argument(
        "--helo-name",
        metavar="NAME",
        help="the name to give in EHLO; set it to a name whose A and PTR records match this "
        "host (default: this host's FQDN)",
    )
    policy.add_argument(
        "--mail-from",
        metavar="ADDRESS",
        help="the MAIL FROM address (default: the null sender <>)",
    )
    policy.add_argument(
        "--timeout",
        type=seconds,
        metavar="SECONDS",
        help=f"the budget of one address (default {policy_default('timeout')})",
    )
    policy.add_argument(
        "--connect-timeout",
        type=seconds,
        metavar="SECONDS",
        help=f"for each TCP connection (default {policy_default('connect_timeout')})",
    )
    policy.add_argument(
        "--reply-timeout",
        type=seconds,
        metavar="SECONDS",
        help=f"for each SMTP reply (default {policy_default('reply_timeout')})",
    )
    policy.add_argument(
        "--concurrency",
        type=count,
        metavar="N",
        help=f"addresses in flight at once (default {policy_default('concurrency')})",
    )
    policy.add_argument(
        "--host-concurrency",
        type=count,
        metavar="N",
        help=f"connections per mail host at once (default {policy_default('host_concurrency')})",
    )
    policy.add_argument(
        "--greylist-retries",
        type=whole,
        metavar="N",
        help="ask a greylisted address again N more times "
        f"(default {policy_default('greylist_retries')})",
    )
    policy.add_argument(
        "--greylist-delay",
        type=seconds,
        metavar="SECONDS",
        help=f"before asking again (default {policy_default('greylist_delay')})",
    )
    policy.add_argument(
        "--nameserver",
        action="append",
        metavar="IP",
        help="a DNS server to ask instead of the system's (repeatable)",
    )
    policy.add_argument(
        "--dns-port", type=port_number, metavar="PORT", help="the DNS port (default 53)"
    )
    policy.add_argument(
        "--no-catch-all-probe",
        action="store_true",
        help="do not ask for a random mailbox too (a catch-all domain then looks deliverable)",
    )
    policy.add_argument(
        "--transcript",
        action="store_true",
        help="keep the SMTP conversation: printed under each row of the table, and as a "
        '"transcript" list of {direction, text, at} in JSON',
    )
    policy.add_argument(
        "--proxy",
        metavar="URL",
        help="connect through a SOCKS proxy, socks5://[user:password@]host:port "
        "(needs pip install 'smtpcheck[socks]')",
    )
    policy.add_argument(
        "--allow",
        action="append",
        metavar="ENTRY",
        help="a domain (example.com) or address taken as deliverable without asking (repeatable)",
    )
    policy.add_argument(
        "--deny",
        action="append",
        metavar="ENTRY",
        help="a domain or address refused without asking (repeatable)",
    )
    policy.add_argument(
        "--disposable-undeliverable",
        action="store_true",
        help="call addresses at disposable-address domains undeliverable without asking",
    )
    policy.add_argument(
        "--allow-test-domains",
        action="store_true",
        help="accept special-use and single-label domains such as .test and localhost "
        "(for test mail worlds)",
    )


def policy_from(args: argparse.Namespace) -> Policy:
    """The :class:`Policy` that the options of :func:`add_policy_options` ask for.

    Raises:
        UsageError: A value the policy refuses.
    """
    changes: dict[str, Any] = {}
    for name in (
        "port",
        "tls",
        "helo_name",
        "mail_from",
        "timeout",
        "connect_timeout",
        "reply_timeout",
        "concurrency",
        "host_concurrency",
        "greylist_retries",
        "greylist_delay",
    ):
        value = getattr(args, name)
        if value is not None:
            changes[name] = value
    if args.no_catch_all_probe:
        changes["catch_all_probe"] = False
    if args.transcript:
        changes["transcript"] = True
    if args.allow_test_domains:
        changes["allow_special_use"] = changes["allow_single_label"] = True
    if args.proxy is not None:
        changes["proxy"] = args.proxy
    if args.disposable_undeliverable:
        changes["disposable_undeliverable"] = True
    for name in ("allow", "deny"):
        entries = getattr(args, name)
        if entries:
            try:
                changes[name] = AddressList.of(entries)
            except ValueError as problem:
                raise UsageError(f"--{name}: {problem}") from None
    known = {field.name for field in dataclasses.fields(Policy)}
    unknown = sorted(f"--{name.replace('_', '-')}" for name in changes if name not in known)
    if unknown:
        raise UsageError(f"this smtpcheck does not support {', '.join(unknown)}")
    try:
        return Policy(**changes)
    except PolicyError as problem:
        raise UsageError(str(problem)) from None


def resolver_from(args: argparse.Namespace) -> Resolver | None:
    """The resolver that ``--nameserver`` and ``--dns-port`` ask for; None for the system's."""
    if args.nameserver is None and args.dns_port is None:
        return None
    try:
        return Resolver(nameservers=args.nameserver, port=args.dns_port or 53)
    except ValueError as problem:
        raise UsageError(f"--nameserver: {problem}") from None


def isatty(stream: IO[str]) -> bool:
    """Whether ``stream`` is a terminal (False for a closed or replaced stream)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def error(message: str, *, prefix: bool = True) -> None:
    """Write a line to standard error, after ``smtpcheck: `` unless ``prefix`` is False."""
    sys.stderr.write(("smtpcheck: " if prefix else "") + message + "\n")
    sys.stderr.flush()


def add_verbosity(parser: argparse.ArgumentParser) -> None:
    """Add ``-v``/``-vv``: the ``smtpcheck`` logger's INFO, then DEBUG lines on stderr."""
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log what smtpcheck does on standard error: -v back-offs and retries, "
        "-vv every step (DNS, connections, TLS, replies)",
    )


def reasons(text: str) -> frozenset[str]:
    """An argparse type: reasons (values of :class:`~smtpcheck.Reason`), comma-separated."""
    from smtpcheck._result import Reason  # noqa: PLC0415 - light, and only for this option

    known = {reason.value for reason in Reason}
    given = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(given - known)
    if unknown or not given:
        raise argparse.ArgumentTypeError(
            f"not a reason: {', '.join(unknown) or repr(text)} "
            f"(reasons: {', '.join(sorted(known))})"
        )
    return given


def verdicts(text: str) -> frozenset[str]:
    """An argparse type: verdicts (deliverable, undeliverable, risky, unknown), comma-separated."""
    from smtpcheck._result import Verdict  # noqa: PLC0415 - light, and only for this option

    known = [verdict.value for verdict in Verdict]
    given = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(given - set(known))
    if unknown or not given:
        raise argparse.ArgumentTypeError(
            f"not a verdict: {', '.join(unknown) or repr(text)} (verdicts: {', '.join(known)})"
        )
    return given

"""The command line: ``smtpcheck verify``, ``smtpcheck demo`` and ``smtpcheck doctor``.

``smtpcheck`` and ``python -m smtpcheck`` are the same program, :func:`main`.

Exit status:

- 0: every address is deliverable;
- 1: some address is undeliverable, risky or unknown;
- 2: a usage error (a bad option, an unreadable file);
- 130: interrupted (Ctrl-C); the results written so far are kept, and running the same
  command again resumes.

``smtpcheck doctor`` has its own: 0 ready, 1 a check failed, 2 usage error, 3 something
could not be checked (see :mod:`smtpcheck._doctor`).

Results go out as they complete, one JSON line each, flushed at once, so that an
interrupted or crashed run loses no finished result. Running ``smtpcheck verify -i IN -o
OUT`` again skips the inputs that already have a line in ``OUT``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import io
import json
import os
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

from tqdm import tqdm

from smtpcheck import _doctor
from smtpcheck._enrich import AddressList
from smtpcheck._errors import PolicyError
from smtpcheck._policy import Policy
from smtpcheck._resolver import Resolver, ResolverProtocol
from smtpcheck._result import Result, Verdict

__all__ = ["main", "render_table"]

#: Every address is deliverable.
EXIT_OK = 0
#: Some address is undeliverable, risky or unknown.
EXIT_NOT_ALL_DELIVERABLE = 1
#: The command line or one of its files is wrong.
EXIT_USAGE = 2
#: Interrupted by Ctrl-C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130

_VERDICT_ORDER = tuple(v.value for v in Verdict)
_CSV_COLUMNS = ("email", "e-mail", "email_address", "email address", "mail", "address")
_ELLIPSIS = "..."
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


class UsageError(Exception):
    """A problem with the command line or its files: one line on stderr, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# -- the command line -------------------------------------------------------------------


def _policy_default(name: str) -> str:
    """The library's default for a :class:`Policy` field, for ``--help``."""
    for field in dataclasses.fields(Policy):
        if field.name == name:
            return "none" if field.default is None else str(field.default)
    return "the library's"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1 to 65535, not {value}")
    return value


def _at_least(minimum: int) -> Callable[[str], int]:
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


_count = _at_least(1)
_whole = _at_least(0)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def _version() -> str:
    from smtpcheck import __version__  # noqa: PLC0415 - the package imports nothing of ours

    return __version__


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the ``smtpcheck`` command line.

    >>> build_parser().parse_args(["verify", "a@example.com", "--json"]).json
    True
    """
    parser = _Parser(
        prog="smtpcheck",
        description="Tell whether email addresses can receive mail, without sending any: "
        "smtpcheck talks SMTP to the domain's mail server up to RCPT TO, never DATA.",
        epilog="Exit status: 0 all deliverable; 1 some undeliverable, risky or unknown; "
        "2 usage error; 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"smtpcheck {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_verify(commands)
    _add_demo(commands)
    _doctor.add_parser(commands)
    return parser


def _add_verify(commands: Any) -> None:
    verify = commands.add_parser(
        "verify",
        help="verify addresses",
        description="Verify email addresses given on the command line or in a file. "
        "Output: a table when standard output is a terminal, JSON lines (one object per "
        "address: address, normalized, verdict, reason, mx, smtp, catch_all, elapsed_ms, "
        "detail) when it is not, or as --json / --table say. Results are written as they "
        "complete, in that order. With -o FILE, running the same command again resumes: "
        "inputs that already have a line in FILE are skipped, the rest are appended.",
        epilog="Exit status: 0 all deliverable; 1 some undeliverable, risky or unknown; "
        "2 usage error; 130 interrupted (re-run the command to resume).",
    )
    verify.add_argument("addresses", nargs="*", metavar="ADDRESS", help="an address to verify")
    files = verify.add_argument_group("files")
    files.add_argument(
        "-i",
        "--input",
        metavar="FILE",
        help="read addresses from FILE ('-' for standard input): one per line (blank lines "
        "and lines starting with # are skipped), or CSV when FILE ends in .csv or with --csv",
    )
    files.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="append JSON lines to FILE ('-' for standard output) and resume from it: "
        "inputs that already have a line there are not verified again",
    )
    files.add_argument(
        "--overwrite", action="store_true", help="empty the output file first instead of resuming"
    )
    files.add_argument("--csv", action="store_true", help="read the input file as CSV")
    files.add_argument(
        "--column",
        metavar="NAME",
        help="the CSV column of the addresses (implies --csv; default: a column called "
        "email, e-mail, email_address or address, or the only column); the first row names "
        "the columns",
    )
    shape = verify.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print JSON lines, even on a terminal")
    shape.add_argument("--table", action="store_true", help="print a table, even when piped")
    verify.add_argument(
        "--no-progress", action="store_true", help="no progress bar (shown only on a terminal)"
    )
    _add_policy_options(verify)


def _add_policy_options(parser: argparse.ArgumentParser) -> None:
    policy = parser.add_argument_group("how to verify (defaults are the library's)")
    policy.add_argument(
        "--port", type=_port, help=f"the mail servers' port (default {_policy_default('port')})"
    )
    policy.add_argument(
        "--tls",
        choices=("opportunistic", "required", "off"),
        help="STARTTLS when offered / required with a verified certificate / never "
        f"(default {_policy_default('tls')})",
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
        type=_seconds,
        metavar="SECONDS",
        help=f"the budget of one address (default {_policy_default('timeout')})",
    )
    policy.add_argument(
        "--connect-timeout",
        type=_seconds,
        metavar="SECONDS",
        help=f"for each TCP connection (default {_policy_default('connect_timeout')})",
    )
    policy.add_argument(
        "--reply-timeout",
        type=_seconds,
        metavar="SECONDS",
        help=f"for each SMTP reply (default {_policy_default('reply_timeout')})",
    )
    policy.add_argument(
        "--concurrency",
        type=_count,
        metavar="N",
        help=f"addresses in flight at once (default {_policy_default('concurrency')})",
    )
    policy.add_argument(
        "--host-concurrency",
        type=_count,
        metavar="N",
        help=f"connections per mail host at once (default {_policy_default('host_concurrency')})",
    )
    policy.add_argument(
        "--greylist-retries",
        type=_whole,
        metavar="N",
        help="ask a greylisted address again N more times "
        f"(default {_policy_default('greylist_retries')})",
    )
    policy.add_argument(
        "--greylist-delay",
        type=_seconds,
        metavar="SECONDS",
        help=f"before asking again (default {_policy_default('greylist_delay')})",
    )
    policy.add_argument(
        "--nameserver",
        action="append",
        metavar="IP",
        help="a DNS server to ask instead of the system's (repeatable)",
    )
    policy.add_argument("--dns-port", type=_port, metavar="PORT", help="the DNS port (default 53)")
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


def _add_demo(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="verify a sample list against a sandbox on loopback (no network)",
        description="Start a sandbox mail world on loopback (DNS answers and SMTP servers, "
        "one .test domain per behaviour), verify a sample list that shows every verdict, "
        "and print the results. Needs no network; needs pip install 'smtpcheck[testing]'.",
    )
    demo.add_argument("--json", action="store_true", help="print JSON lines instead of a table")


def _policy(args: argparse.Namespace) -> Policy:
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
            except ValueError as error:
                raise UsageError(f"--{name}: {error}") from None
    known = {field.name for field in dataclasses.fields(Policy)}
    unknown = sorted(f"--{name.replace('_', '-')}" for name in changes if name not in known)
    if unknown:
        raise UsageError(f"this smtpcheck does not support {', '.join(unknown)}")
    try:
        return Policy(**changes)
    except PolicyError as error:
        raise UsageError(str(error)) from None


def _resolver(args: argparse.Namespace) -> ResolverProtocol | None:
    if args.nameserver is None and args.dns_port is None:
        return None
    try:
        return Resolver(nameservers=args.nameserver, port=args.dns_port or 53)
    except ValueError as error:
        raise UsageError(f"--nameserver: {error}") from None


# -- input ------------------------------------------------------------------------------


def _read_text(name: str) -> str:
    try:
        data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {name}: {error.strerror or error}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UsageError(f"{name} is not UTF-8 text (byte {error.start})") from None


def plain_addresses(text: str) -> list[str]:
    r"""The addresses of a plain list: one a line, blank lines and ``#`` comments skipped.

    >>> plain_addresses("# customers\n a@example.com \n\nb@example.com\n")
    ['a@example.com', 'b@example.com']
    """
    found = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            found.append(stripped)
    return found


def csv_addresses(text: str, column: str | None, name: str = "the CSV file") -> list[str]:
    r"""The addresses in one column of CSV text whose first row names the columns.

    Args:
        text: The CSV text.
        column: The column's name; None picks a column called ``email``, ``e-mail``,
            ``email_address`` or ``address`` (in any case), or the only column.
        name: The file's name, for error messages.

    Raises:
        UsageError: The text is not CSV, or the column cannot be found.

    >>> csv_addresses("Name,Email\nAl,al@example.com\nBo,\n", None)
    ['al@example.com']
    """
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise UsageError(f"{name} is not valid CSV: {error}") from None
    if not rows:
        return []
    header = [cell.strip() for cell in rows[0]]
    folded = [cell.casefold() for cell in header]
    if column is not None:
        wanted = [column] if column in header else []
        index = header.index(column) if wanted else None
        if index is None and column.strip().casefold() in folded:
            index = folded.index(column.strip().casefold())
        if index is None:
            raise UsageError(f"{name} has no column {column!r} (columns: {', '.join(header)})")
    else:
        candidates = [folded.index(c) for c in _CSV_COLUMNS if c in folded]
        if candidates:
            index = candidates[0]
        elif len(header) == 1:
            index = 0
        else:
            raise UsageError(
                f"which column of {name} holds the addresses? use --column "
                f"(columns: {', '.join(header)})"
            )
    return [row[index].strip() for row in rows[1:] if index < len(row) and row[index].strip()]


def _addresses(args: argparse.Namespace) -> list[str]:
    addresses = list(args.addresses)
    if args.input is not None:
        text = _read_text(args.input)
        name = "standard input" if args.input == "-" else args.input
        if args.csv or args.column is not None or args.input.lower().endswith(".csv"):
            addresses += csv_addresses(text, args.column, name)
        else:
            addresses += plain_addresses(text)
    elif args.csv or args.column is not None:
        raise UsageError("--csv and --column need an input file (-i FILE)")
    return addresses


# -- output -----------------------------------------------------------------------------


def result_json(result: Result, *, transcript: bool = False) -> str:
    """One JSON line (without its newline) for a result.

    Non-ASCII text stays readable; text that is not valid Unicode (bytes a server sent
    that are not UTF-8) is escaped instead, so that the line is always valid UTF-8.
    """
    record = result.to_dict()
    if transcript:
        record["transcript"] = [
            {"direction": line.direction, "text": line.text, "at": round(line.at, 6)}
            for line in result.transcript
        ]
    text = json.dumps(record, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(record)
    return text


def _clean(text: str) -> str:
    """Text safe to print on a terminal: control characters and lone surrogates escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def _shorten(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    return text[: max(width - len(_ELLIPSIS), 0)] + _ELLIPSIS


def _what_happened(result: Result) -> str:
    reply = result.reply
    if reply is None:
        said = result.detail or ""
    else:
        parts = [str(reply.code), str(reply.enhanced) if reply.enhanced else "", reply.text]
        said = " ".join(part for part in parts if part)
    if result.suggestion is not None:
        said = f"(did you mean {result.suggestion}?) {said}".rstrip()
    return said


def render_table(results: Sequence[Result], *, width: int = 100, transcript: bool = False) -> str:
    """A table of results for a person: address, verdict, reason, mail host, SMTP reply.

    Long cells are shortened to fit ``width`` columns; the reply (or, without one, the
    detail) takes what is left. With ``transcript``, each row is followed by its
    conversation.

    >>> from smtpcheck._result import Reason
    >>> r = Result(address="a@b.example", normalized=None, verdict=Verdict.UNDELIVERABLE,
    ...            reason=Reason.INVALID_SYNTAX, detail="the address has no @")
    >>> print(render_table([r]))
    ADDRESS      VERDICT        REASON          MX  SMTP REPLY / DETAIL
    a@b.example  undeliverable  invalid_syntax  -   the address has no @
    """
    header = ("ADDRESS", "VERDICT", "REASON", "MX", "SMTP REPLY / DETAIL")
    caps = (48, 13, 20, 32)
    rows = [
        (
            _clean(r.address),
            r.verdict.value,
            r.reason.value,
            _clean(r.mx or "-"),
            _clean(_what_happened(r)),
        )
        for r in results
    ]
    widths = [min(cap, max(len(row[i]) for row in [header, *rows])) for i, cap in enumerate(caps)]
    rest = max(width - sum(widths) - 2 * len(widths), 24)
    lines = []
    for index, row in enumerate([header, *rows]):
        cells = [_shorten(cell, w).ljust(w) for cell, w in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, _shorten(row[-1], rest)]).rstrip())
        if transcript and index > 0:
            lines.extend(
                f"    {line.direction} {_clean(line.text)}"
                for line in results[index - 1].transcript
            )
    return "\n".join(lines)


def _summary(counts: Counter[str]) -> str:
    total = sum(counts.values())
    parts = [f"{counts[v]} {v}" for v in _VERDICT_ORDER if counts[v]]
    noun = "result" if total == 1 else "results"
    return f"{total} {noun}" + (": " + ", ".join(parts) if parts else "")


def _terminal_width() -> int:
    """The width to fit a table in: the terminal's, or no limit when not on one."""
    if not _isatty(sys.stdout):
        return 1_000
    return shutil.get_terminal_size((100, 24)).columns


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# -- resuming ---------------------------------------------------------------------------


def _previous_results(path: Path) -> list[dict[str, Any]]:
    """The result lines already in an output file, after dropping a cut-off last line.

    A run killed in the middle of a write leaves a partial last line; it is truncated
    away, so that the lines appended next start on a line of their own.
    """
    try:
        handle = path.open("r+b")
    except FileNotFoundError:
        return []
    except OSError as error:
        raise UsageError(f"cannot open {path}: {error.strerror or error}") from None
    with handle:
        data = handle.read()
        end = data.rfind(b"\n") + 1
        records = []
        for number, line in enumerate(data[:end].splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict) or not isinstance(record.get("address"), str):
                raise UsageError(
                    f"{path} line {number} is not a smtpcheck result; pick another output "
                    "file, or --overwrite to empty this one"
                )
            records.append(record)
        tail = data[end:]
        if tail.strip():
            if not tail.lstrip().startswith(b"{"):
                raise UsageError(f"{path} does not end like a smtpcheck output file")
            handle.truncate(end)
    return records


# -- running ----------------------------------------------------------------------------


def _verify_all(
    addresses: Iterable[str],
    *,
    policy: Policy,
    resolver: ResolverProtocol | None,
    emit: Callable[[Result], None],
) -> None:
    """Verify ``addresses`` in bulk, calling ``emit`` for each result as it completes."""
    from smtpcheck._bulk import verify_many  # noqa: PLC0415 - only the commands that verify

    results = verify_many(addresses, policy=policy, resolver=resolver)
    try:
        for result in results:
            emit(result)
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()


def _in_input_order(addresses: Sequence[str], results: Iterable[Result]) -> list[Result]:
    """Results sorted as their addresses came in (duplicates in turn)."""
    slots: dict[str, list[int]] = {}
    for index in range(len(addresses) - 1, -1, -1):  # backwards, so that pop() is the first
        slots.setdefault(addresses[index], []).append(index)
    placed: list[tuple[int, Result]] = []
    unplaced: list[Result] = []
    for result in results:
        free = slots.get(result.address)
        if free:
            placed.append((free.pop(), result))
        else:
            unplaced.append(result)
    return [r for _, r in sorted(placed, key=lambda pair: pair[0])] + unplaced


def _out(text: str = "") -> None:
    """Write a line to standard output."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _same_file(first: str, second: str) -> bool:
    with contextlib.suppress(OSError):
        return Path(first).samefile(second)
    return False


def _resume(path: Path, addresses: Sequence[str]) -> tuple[list[str], Counter[str]]:
    """The addresses still to verify, and the verdicts of those already in ``path``.

    The output file's addresses are a multiset: an address that came twice in the input
    and once in the file is verified once more.
    """
    verdicts: dict[str, list[str]] = {}
    for record in _previous_results(path):
        verdicts.setdefault(record["address"], []).append(str(record.get("verdict")))
    todo = []
    counts: Counter[str] = Counter()
    for address in addresses:
        seen = verdicts.get(address)
        if seen:
            counts[seen.pop()] += 1
        else:
            todo.append(address)
    return todo, counts


class _Sink:
    """Where results go: JSON lines to a file or to standard output, or a table at the end.

    Each JSON line is written and flushed as its result completes, so that nothing
    finished is lost to Ctrl-C, a kill or a crash.
    """

    def __init__(self, args: argparse.Namespace, addresses: list[str], policy: Policy) -> None:
        self.addresses = addresses
        self.policy = policy
        self.to_file = args.output not in (None, "-")
        self.json = (
            args.json or args.output is not None or (not args.table and not _isatty(sys.stdout))
        )
        self.todo = addresses
        self.counts: Counter[str] = Counter()
        self.stream: IO[str] = sys.stdout
        if self.to_file:
            path = Path(args.output)
            if not args.overwrite:
                self.todo, self.counts = _resume(path, addresses)
            try:
                self.stream = path.open(
                    "w" if args.overwrite else "a", encoding="utf-8", newline="\n"
                )
            except OSError as error:
                raise UsageError(f"cannot write {path}: {error.strerror or error}") from None
        self.finished: list[Result] = []
        progress = not args.no_progress and _isatty(sys.stderr) and bool(self.todo)
        self.bar = tqdm(
            total=len(addresses),
            initial=len(addresses) - len(self.todo),
            unit="addr",
            file=sys.stderr,
            disable=not progress,
            dynamic_ncols=True,
            leave=False,
        )
        self.bar.set_postfix(self._postfix(), refresh=False)

    def _postfix(self) -> dict[str, int]:
        return {v: self.counts[v] for v in _VERDICT_ORDER if self.counts[v]}

    def add(self, result: Result) -> None:
        """Write (or keep, for the table) one result and move the progress bar."""
        if self.json:
            line = result_json(result, transcript=self.policy.transcript)
            if self.stream is sys.stdout and not self.bar.disable:
                tqdm.write(line, file=self.stream)  # clears the bar, writes, redraws it
            else:
                self.stream.write(line + "\n")
            self.stream.flush()
        self.finished.append(result)
        self.counts[result.verdict.value] += 1
        self.bar.set_postfix(self._postfix(), refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        """Close the bar and the output file, then print the table if there is one."""
        self.bar.close()
        if self.stream is not sys.stdout:
            self.stream.close()
        if not self.json and self.finished:
            results = _in_input_order(self.addresses, self.finished)
            width = _terminal_width()
            _out(render_table(results, width=width, transcript=self.policy.transcript))

    @property
    def remaining(self) -> int:
        """How many inputs have no result yet."""
        return len(self.todo) - len(self.finished)


def _verify_command(args: argparse.Namespace) -> int:
    policy = _policy(args)
    resolver = _resolver(args)
    addresses = _addresses(args)
    if not addresses and args.input is None:
        raise UsageError("give addresses to verify, or -i FILE")
    if (
        args.output not in (None, "-")
        and args.input not in (None, "-")
        and _same_file(args.input, args.output)
    ):
        raise UsageError("the output file must not be the input file")
    sink = _Sink(args, addresses, policy)
    where = f" in {args.output}" if sink.to_file else ""
    try:
        try:
            _verify_all(sink.todo, policy=policy, resolver=resolver, emit=sink.add)
        finally:
            sink.close()
    except KeyboardInterrupt:
        again = "; run the same command again to resume" if sink.to_file else ""
        _error(
            f"interrupted: {len(addresses) - sink.remaining} of {len(addresses)} results"
            f"{where}, {sink.remaining} remain{again}"
        )
        return EXIT_INTERRUPTED
    except BaseException:
        if sink.to_file:
            _error(
                f"stopped with {sink.remaining} of {len(addresses)} addresses left{where}; "
                "running the same command again resumes"
            )
        raise
    if sink.to_file or _isatty(sys.stderr):
        _error(_summary(sink.counts) + where, prefix=False)
    everything = sum(sink.counts.values())
    return EXIT_OK if sink.counts["deliverable"] == everything else EXIT_NOT_ALL_DELIVERABLE


# -- the demo ---------------------------------------------------------------------------


def _demo_command(args: argparse.Namespace) -> int:
    try:
        from smtpcheck.testing import MailWorld  # noqa: PLC0415 - an optional extra
    except ImportError as error:
        _error(f"the demo needs the sandbox mail world ({error}): pip install 'smtpcheck[testing]'")
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
        _verify_all(_DEMO_ADDRESSES, policy=policy, resolver=world.resolver, emit=results.append)
    ordered = _in_input_order(_DEMO_ADDRESSES, results)
    if args.json:
        for result in ordered:
            _out(result_json(result))
        return EXIT_OK
    _out(
        "smtpcheck demo: a sandbox mail world on 127.0.0.1 (SMTP servers for .test domains, "
        "answers instead of DNS); nothing leaves this machine.\n"
    )
    _out(render_table(ordered, width=_terminal_width()))
    counts = Counter(r.verdict.value for r in ordered)
    _out(f"\n{_summary(counts)}.")
    _out(_REAL_USE)
    return EXIT_OK


# -- main -------------------------------------------------------------------------------


def _error(message: str, *, prefix: bool = True) -> None:
    sys.stderr.write(("smtpcheck: " if prefix else "") + message + "\n")
    sys.stderr.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``smtpcheck`` command line.

    Args:
        argv: The arguments, without the program's name; ``sys.argv[1:]`` when None.

    Returns:
        The exit status: 0 all deliverable, 1 some not, 2 usage error, 130 interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "verify": _verify_command,
        "demo": _demo_command,
        "doctor": _doctor.run,
    }
    command = commands.get(args.command)
    if command is None:
        _error("error: give a command: verify, demo or doctor (see smtpcheck --help)")
        return EXIT_USAGE
    try:
        return command(args)
    except UsageError as error:
        _error(f"error: {error}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``smtpcheck verify ... | head``): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_NOT_ALL_DELIVERABLE

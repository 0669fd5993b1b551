"""``smtpcheck verify``: addresses in, results out, resumable."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from smtpcheck._cli._args import (
    EXIT_INTERRUPTED,
    EXIT_NOT_ALL_DELIVERABLE,
    EXIT_OK,
    UsageError,
    add_policy_options,
    error,
    isatty,
    policy_from,
    resolver_from,
)
from smtpcheck._cli._input import addresses_from
from smtpcheck._cli._memory import add_memory_options, memory_from
from smtpcheck._cli._output import (
    VERDICT_ORDER,
    out,
    render_table,
    result_json,
    summary_line,
    terminal_width,
)
from smtpcheck._memory_store import Memory
from smtpcheck._policy import Policy
from smtpcheck._resolver import AsyncMailHostResolver
from smtpcheck._result import Result

__all__ = ["add_parser", "in_input_order", "run", "verify_all"]


def add_parser(commands: Any) -> None:
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
    cluster = verify.add_argument_group("on a Dask cluster (pip install 'smtpcheck[distributed]')")
    cluster.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="verify on the Dask cluster whose scheduler is at ADDRESS, such as "
        "tcp://10.0.0.5:8786 (same output, progress and resuming; results come a "
        "partition at a time); each worker's SMTPCHECK_HELO_NAME, SMTPCHECK_SOURCE_ADDRESS, "
        "SMTPCHECK_MAIL_FROM and SMTPCHECK_PROXY override the options here; each worker "
        "remembers within its own process (--memory is this machine's file)",
    )
    cluster.add_argument(
        "--egress",
        choices=("shared", "own"),
        default="shared",
        help="shared: the workers reach the internet through one public IP and share the "
        "per-host limits (the default); own: each worker has an IP of its own and keeps its "
        "own limits",
    )
    add_policy_options(verify)
    add_memory_options(verify)


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
    except OSError as problem:
        raise UsageError(f"cannot open {path}: {problem.strerror or problem}") from None
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


def verify_all(
    addresses: Iterable[str],
    *,
    policy: Policy,
    resolver: AsyncMailHostResolver | None,
    emit: Callable[[Result], None],
    memory: Memory | None = None,
    fresh: bool = False,
    scheduler: str | None = None,
    egress: str = "shared",
) -> None:
    """Verify ``addresses`` in bulk, calling ``emit`` for each result as it completes.

    *memory* is what earlier runs learned (a new, empty one when None). With
    *scheduler*, on the Dask cluster at that address
    (:func:`smtpcheck.distributed.verify_many`), where each worker remembers within its
    own process instead.
    """
    if scheduler is not None:
        results = _on_cluster(addresses, policy, resolver, scheduler, egress, fresh=fresh)
    else:
        from smtpcheck._bulk import verify_many  # noqa: PLC0415 - only the commands that verify

        results = verify_many(
            addresses, policy=policy, resolver=resolver, memory=memory or Memory(), fresh=fresh
        )
    try:
        for result in results:
            emit(result)
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()


def _on_cluster(
    addresses: Iterable[str],
    policy: Policy,
    resolver: AsyncMailHostResolver | None,
    scheduler: str,
    egress: str,
    *,
    fresh: bool,
) -> Iterator[Result]:
    try:
        from smtpcheck import distributed  # noqa: PLC0415 - an optional extra, loaded on demand
    except ImportError:
        raise UsageError(
            "--scheduler needs the distributed extra: pip install 'smtpcheck[distributed]'"
        ) from None
    try:
        return distributed.verify_many(
            addresses,
            client=scheduler,
            policy=policy,
            resolver=resolver,
            egress="own" if egress == "own" else "shared",
            fresh=fresh,
        )
    except distributed.SchedulerUnreachable as problem:
        raise UsageError(f"--scheduler: {problem}") from None


def in_input_order(addresses: Sequence[str], results: Iterable[Result]) -> list[Result]:
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
            args.json or args.output is not None or (not args.table and not isatty(sys.stdout))
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
            except OSError as problem:
                raise UsageError(f"cannot write {path}: {problem.strerror or problem}") from None
        self.finished: list[Result] = []
        progress = not args.no_progress and isatty(sys.stderr) and bool(self.todo)
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
        return {v: self.counts[v] for v in VERDICT_ORDER if self.counts[v]}

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
            results = in_input_order(self.addresses, self.finished)
            width = terminal_width()
            out(render_table(results, width=width, transcript=self.policy.transcript))

    @property
    def remaining(self) -> int:
        """How many inputs have no result yet."""
        return len(self.todo) - len(self.finished)


def run(args: argparse.Namespace) -> int:
    policy = policy_from(args)
    resolver = resolver_from(args)
    addresses = addresses_from(args)
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
    memory = memory_from(args)
    try:
        try:
            verify_all(
                sink.todo,
                policy=policy,
                resolver=resolver,
                emit=sink.add,
                memory=memory,
                fresh=args.fresh,
                scheduler=args.scheduler,
                egress=args.egress,
            )
        finally:
            sink.close()
            memory.close()
    except KeyboardInterrupt:
        again = "; run the same command again to resume" if sink.to_file else ""
        error(
            f"interrupted: {len(addresses) - sink.remaining} of {len(addresses)} results"
            f"{where}, {sink.remaining} remain{again}"
        )
        return EXIT_INTERRUPTED
    except BaseException:
        if sink.to_file:
            error(
                f"stopped with {sink.remaining} of {len(addresses)} addresses left{where}; "
                "running the same command again resumes"
            )
        raise
    if sink.to_file or isatty(sys.stderr):
        error(summary_line(sink.counts) + where, prefix=False)
    everything = sum(sink.counts.values())
    return EXIT_OK if sink.counts["deliverable"] == everything else EXIT_NOT_ALL_DELIVERABLE

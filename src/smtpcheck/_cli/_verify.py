"""``smtpcheck verify``: addresses in, results out, in the input's order, resumable.

The inputs stream from the file (:mod:`._input`) to :func:`~smtpcheck.verify_many`
through :class:`~._order.InOrder`, which puts the results back in the input's order
and hands each to the outputs: JSON lines, or CSV rows written like the input's, to a
file, to ``--split DIR`` (one file per verdict), or to standard output (a table on a
terminal). Nothing is kept once written, so memory stays flat however long the list.

Each row is written and flushed as soon as every earlier input has its row, so that a
crash, a kill, Ctrl-C or SIGTERM loses little: running the same command again reads the
outputs (:mod:`._resume`), skips the inputs they answer and appends the rest.
``--retry REASONS`` asks again the inputs whose earlier answer had one of those reasons
(``greylisted``), and writes the outputs anew, the other rows copied as they were.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from smtpcheck._cli._args import (
    EXIT_INTERRUPTED,
    EXIT_NOT_ALL_DELIVERABLE,
    EXIT_OK,
    EXIT_TERMINATED,
    Stopped,
    UsageError,
    add_policy_options,
    add_verbosity,
    error,
    isatty,
    policy_from,
    reasons,
    resolver_from,
    verdicts,
)
from smtpcheck._cli._input import Item, Source, open_source
from smtpcheck._cli._memory import add_memory_options, memory_from
from smtpcheck._cli._order import Answer, InOrder
from smtpcheck._cli._output import (
    VERDICT_ORDER,
    CsvFormat,
    out,
    render_table,
    result_json,
    terminal_width,
)
from smtpcheck._cli._resume import Done, Row, csv_rows, jsonl_rows, walk
from smtpcheck._cli._summary import Tally
from smtpcheck._memory_store import Memory
from smtpcheck._policy import Policy
from smtpcheck._resolver import AsyncMailHostResolver
from smtpcheck._result import Reason, Result, Verdict

__all__ = ["add_parser", "in_input_order", "run", "verify_all"]

_FORMATS = ("jsonl", "csv")


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``smtpcheck verify`` to the subcommands; return its parser (for more options)."""
    verify: argparse.ArgumentParser = commands.add_parser(
        "verify",
        help="verify addresses",
        description="Verify email addresses given on the command line or in a file. "
        "Output: a table when standard output is a terminal, JSON lines (one object per "
        "address: address, normalized, verdict, reason, mx, smtp, catch_all, elapsed_ms, "
        "detail) when it is not, or as --json / --table say; with -o FILE.csv (or "
        "--format csv), the input's CSV rows as they were plus the result's columns. "
        "Results are written in the input's order, each as soon as the ones before it "
        "are. With -o FILE, running the same command again resumes: inputs that already "
        "have a row in FILE are skipped, the rest are appended.",
        epilog="Exit status: 0 all deliverable; 1 some undeliverable, risky or unknown; "
        "2 usage error; 130 interrupted, 143 terminated (re-run the command to resume).",
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
        help="write the results to FILE ('-' for standard output) and resume from it: "
        "inputs that already have a row there are not verified again; JSON lines, or CSV "
        "when FILE ends in .csv",
    )
    files.add_argument(
        "--format",
        choices=_FORMATS,
        help="the output's format: JSON lines, or CSV (the input's columns, dialect, "
        "encoding and quoting, then the result's); default: from -o FILE's name",
    )
    files.add_argument(
        "--overwrite", action="store_true", help="empty the output files first instead of resuming"
    )
    files.add_argument("--csv", action="store_true", help="read the input file as CSV")
    files.add_argument(
        "--column",
        metavar="NAME",
        help="the CSV column of the addresses (implies --csv; default: a column called "
        "email, e-mail, email_address or address, or the only column); the first row names "
        "the columns",
    )
    files.add_argument(
        "--encoding",
        metavar="NAME",
        help="the input file's encoding (default: UTF-8, or UTF-16 when it starts with its "
        "byte order mark); a CSV output is written in it",
    )
    cleaning = verify.add_argument_group("cleaning a list")
    cleaning.add_argument(
        "--keep",
        type=verdicts,
        metavar="VERDICTS",
        help="write only the rows of these verdicts, comma-separated (deliverable,risky); "
        "the others are still counted",
    )
    cleaning.add_argument(
        "--split",
        metavar="DIR",
        help="also write one file per verdict in DIR (deliverable.csv, unknown.csv...), "
        "resumed like -o",
    )
    cleaning.add_argument(
        "--dedupe",
        action="store_true",
        help="one row per normalised address: later inputs with the same address (in any "
        "case of the domain, or Unicode form) are counted and not written",
    )
    cleaning.add_argument(
        "--retry",
        type=reasons,
        metavar="REASONS",
        help="ask again the inputs whose answer in the outputs has one of these reasons "
        "(greylisted,timeout), and write the outputs anew with their new answers",
    )
    cleaning.add_argument(
        "--summary",
        action="store_true",
        help="print a summary on standard error at the end (the default on a terminal)",
    )
    cleaning.add_argument(
        "--summary-json", metavar="FILE", help="write the summary to FILE as JSON"
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
    add_verbosity(verify)
    add_policy_options(verify)
    add_memory_options(verify)
    return verify


# -- outputs ----------------------------------------------------------------------------


class _Output:
    """One place results go: a file or standard output, JSON lines or CSV rows.

    A file is opened at once: to append (resuming), to write anew (``--overwrite``), or,
    with ``--retry``, to a ``.partial`` file beside it that replaces it at the end.
    """

    def __init__(
        self,
        path: Path | None,
        form: str,
        csv_format: CsvFormat | None,
        *,
        takes: frozenset[str] | None,
        transcript: bool,
        bar: tqdm[Any] | None = None,
    ) -> None:
        self.path = path
        self.form = form
        self.csv = csv_format
        self.takes = takes
        self.transcript = transcript
        self.bar = bar
        self.stream: IO[str] = sys.stdout
        self.partial: Path | None = None
        self.written = 0

    @property
    def name(self) -> str:
        """The file's name, for messages."""
        return "standard output" if self.path is None else str(self.path)

    def earlier(self) -> Iterator[Row]:
        """The rows an earlier run wrote (none for standard output)."""
        if self.path is None:
            return iter(())
        if self.csv is not None:
            return csv_rows(self.path, self.csv)
        return jsonl_rows(self.path)

    def open(self, *, overwrite: bool, rewrite: bool) -> None:
        """Open the file: to write anew, to append, or (rewrite) to a partial copy."""
        if self.path is None:
            if self.csv is not None:
                self.stream.write(self.csv.header())
            return
        encoding = "utf-8" if self.csv is None else self.csv.table.encoding
        target = self.path
        if rewrite:
            self.partial = target = self.path.with_name(self.path.name + ".partial")
        mode = "w" if overwrite or rewrite else "a"
        try:
            self.stream = target.open(
                mode, encoding=encoding, errors="backslashreplace", newline=""
            )
        except OSError as problem:
            raise UsageError(f"cannot write {target}: {problem.strerror or problem}") from None
        if self.csv is not None and self.stream.tell() == 0:
            self.stream.write(self.csv.header())
            self.stream.flush()

    def accepts(self, verdict: str) -> bool:
        """Whether a row of this verdict goes here (``""``: a CSV row without address)."""
        if verdict == "":
            return self.csv is not None and self.takes is None
        return self.takes is None or verdict in self.takes

    def write(self, item: Item, result: Result | None) -> None:
        """Write the row of one input, and flush it."""
        if self.csv is not None:
            self._text(self.csv.row(item.address, item.row, result))
        elif result is not None:
            self._text(result_json(result, transcript=self.transcript) + "\n")

    def copy(self, text: str) -> None:
        """Write a row of an earlier run as it was."""
        self._text(text)

    def _text(self, text: str) -> None:
        if self.bar is not None and self.stream is sys.stdout and not self.bar.disable:
            # Clears the bar, writes, redraws it.
            tqdm.write(text.removesuffix("\n").removesuffix("\r"), file=self.stream)
        else:
            self.stream.write(text)
            self.stream.flush()
        self.written += 1

    def close(self, *, keep: bool) -> None:
        """Close the file; a partial copy replaces the file when ``keep``, else goes."""
        if self.stream is sys.stdout:
            return
        self.stream.close()
        if self.partial is not None and self.path is not None:
            if keep:
                self.partial.replace(self.path)
            else:
                with contextlib.suppress(OSError):
                    self.partial.unlink()


def _form(args: argparse.Namespace, source: Source) -> str:
    """The outputs' format: jsonl, csv, or table (standard output only)."""
    if args.format is not None:
        return str(args.format)
    if args.output not in (None, "-"):
        return "csv" if args.output.lower().endswith(".csv") else "jsonl"
    if args.output is None and args.split is not None and source.table is not None:
        return "csv"
    if args.output == "-" or args.json or args.split is not None:
        return "jsonl"
    if args.table or isatty(sys.stdout):
        return "table"
    return "jsonl"


def _outputs(args: argparse.Namespace, source: Source, policy: Policy, form: str) -> list[_Output]:
    csv_format = CsvFormat(source.table, source.encoding) if form == "csv" else None

    def output(path: Path | None, takes: frozenset[str] | None) -> _Output:
        return _Output(path, form, csv_format, takes=takes, transcript=policy.transcript)

    outputs = []
    if args.output not in (None, "-"):
        outputs.append(output(Path(args.output), args.keep))
    elif args.output == "-" or (args.split is None and form != "table"):
        outputs.append(output(None, args.keep))
    if args.split is not None:
        folder = Path(args.split)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as problem:
            raise UsageError(f"cannot make {folder}: {problem.strerror or problem}") from None
        suffix = "csv" if form == "csv" else "jsonl"
        outputs.extend(
            output(folder / f"{verdict}.{suffix}", frozenset({verdict}))
            for verdict in VERDICT_ORDER
            if args.keep is None or verdict in args.keep
        )
    return outputs


# -- the pieces of a run ------------------------------------------------------------------


class _Dedupe:
    """The normalised addresses seen so far (their hashes), for ``--dedupe``."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.seen: set[int] = set()

    def key(self, item: Item) -> int:
        from smtpcheck._verifier import parse  # noqa: PLC0415 - light once bulk is in

        parsed = parse(item.address, self.policy)
        return hash(item.address if isinstance(parsed, Exception) else parsed.normalized)

    def duplicate(self, item: Item) -> bool:
        """Whether an address like this one was seen (without recording it)."""
        return self.key(item) in self.seen

    def add(self, item: Item) -> None:
        """Record an address as seen."""
        self.seen.add(self.key(item))


def _too_long(item: Item) -> Result:
    return Result(
        address=item.address,
        normalized=None,
        verdict=Verdict.UNDELIVERABLE,
        reason=Reason.INVALID_SYNTAX,
        detail=f"the input is {item.too_long:,} characters long: longer than any address "
        "(at most 254 octets); only its start is shown",
    )


def _retry_command(argv: Sequence[str], retry: frozenset[str] | None) -> str:
    words = ["smtpcheck", *argv]
    if retry is None or Reason.GREYLISTED.value not in retry:
        words = [w for w in words if w != "--overwrite"]
        words += ["--retry", Reason.GREYLISTED.value]
    return shlex.join(words)


class _Run:
    """One ``smtpcheck verify``: its outputs, counts, progress bar, and ordering."""

    def __init__(self, args: argparse.Namespace, policy: Policy) -> None:
        self.args = args
        self.policy = policy
        self.source = open_source(args)
        self.form = _form(args, self.source)
        self.outputs = _outputs(args, self.source, policy, self.form)
        self.files = [o for o in self.outputs if o.path is not None]
        self.rewrite = args.retry is not None
        if self.rewrite and not self.files:
            raise UsageError("--retry needs output files to read and write again (-o or --split)")
        self.tally = Tally()
        self.table: list[Result] = []
        self.dedupe = _Dedupe(policy) if args.dedupe else None
        progress = not args.no_progress and isatty(sys.stderr)
        self.bar = tqdm(
            total=self.source.total,
            unit="addr",
            file=sys.stderr,
            disable=not progress,
            dynamic_ncols=True,
            leave=False,
        )
        for output in self.outputs:
            output.bar = self.bar
        self.order = InOrder(self._write)
        self.started = time.monotonic()
        self.postfixed = 0.0

    # The inputs, as the engine reads them (in its reader thread).

    def inputs(self) -> Iterator[str]:
        """The addresses for the engine, fed in order, the answered ones held back."""
        return self.order.feed(self._pairs())

    def _pairs(self) -> Iterator[tuple[Item, Answer | None]]:
        earlier = [] if self.args.overwrite else [(o.path, o.earlier()) for o in self.files]
        steps = walk(
            self.source.items,
            [(path, rows) for path, rows in earlier if path is not None],
            drops=self.args.keep is not None,
            blank_written=bool(self.files) and self.files[0].accepts(""),
            duplicate=self.dedupe.duplicate if self.dedupe else None,
            seen=self.dedupe.add if self.dedupe else None,
        )
        retry = self.args.retry or frozenset()
        for item, done in steps:
            if self.order.closed:  # stopping: no need to read the rest of the files
                return
            if done is not None and not (done.row is not None and done.row.reason in retry):
                if self.rewrite:
                    yield item, Answer(earlier=done)
                elif (lagging := self._lagging(done)) is not None:
                    yield item, Answer(earlier=lagging)
                else:
                    self._count_earlier(done)
                    self.bar.update(1)
                continue
            yield item, self._answer(item)

    def _lagging(self, done: Done) -> Done | None:
        """The outputs that should hold an earlier answer and do not, with its row.

        A run killed between writing a result to one output and to the next (``-o`` with
        ``--split``) leaves the later ones a row behind; the resumed run copies the row
        that one output holds to the others (they are written in one form).
        """
        if done.row is None or not done.texts:
            return None
        text = next(iter(done.texts.values()))
        lagging = {
            index: text
            for index, output in enumerate(self.files)
            if index not in done.texts and output.accepts(done.row.verdict)
        }
        return Done(done.row, lagging) if lagging else None

    def _answer(self, item: Item) -> Answer | None:
        if item.too_long is not None:
            return Answer(_too_long(item))
        if item.address == "":
            return Answer()
        if self.dedupe is not None:
            if self.dedupe.duplicate(item):
                return Answer(duplicate=True)
            self.dedupe.add(item)
        return None

    def _count_earlier(self, done: Done) -> None:
        tally = self.tally
        if done.duplicate:
            tally.duplicates += 1
        elif done.row is None:
            tally.not_kept_earlier += 1
        elif done.row.verdict == "":
            tally.blank += 1
        else:
            tally.earlier += 1
            tally.add(done.row.address, done.row.verdict, done.row.reason)

    # The outputs, in input order (under the ordering's lock).

    def _write(self, item: Item, outcome: Result | Answer) -> None:
        if isinstance(outcome, Result):
            self.tally.verified += 1
            self._result(item, outcome)
        elif outcome.earlier is not None:
            self._count_earlier(outcome.earlier)
            for index, text in outcome.earlier.texts.items():
                self.files[index].copy(text)
        elif outcome.duplicate:
            self.tally.duplicates += 1
        elif outcome.result is None:
            self.tally.blank += 1
            for output in self.outputs:
                if output.accepts(""):
                    output.write(item, None)
        else:
            self._result(item, outcome.result)
        if not self.bar.disable and (now := time.monotonic()) >= self.postfixed + 0.2:
            self.postfixed = now
            counts = self.tally.verdicts
            self.bar.set_postfix({v: counts[v] for v in VERDICT_ORDER if counts[v]}, refresh=False)
        self.bar.update(1)

    def _result(self, item: Item, result: Result) -> None:
        self.tally.add_result(result)
        if self.form == "table":
            if self.args.keep is None or result.verdict.value in self.args.keep:
                self.table.append(result)
            return
        for output in self.outputs:
            if output.accepts(result.verdict.value):
                output.write(item, result)

    # The run.

    def verify(self, resolver: AsyncMailHostResolver | None, memory: Memory) -> None:
        """Verify every input still to do, writing each result in order.

        With ``--scheduler``, on the Dask cluster at that address
        (:func:`smtpcheck.distributed.verify_many`), where each worker remembers within
        its own process instead.
        """
        for output in self.outputs:
            output.open(overwrite=self.args.overwrite, rewrite=self.rewrite)
        results: Iterable[Result]
        inputs = self.inputs()
        if self.args.scheduler is not None:
            results = _on_cluster(
                inputs,
                self.policy,
                resolver,
                self.args.scheduler,
                self.args.egress,
                fresh=self.args.fresh,
            )
        else:
            from smtpcheck._bulk import verify_many  # noqa: PLC0415 - only the commands that verify

            results = verify_many(
                inputs,
                policy=self.policy,
                resolver=resolver,
                memory=memory,
                fresh=self.args.fresh,
            )
        try:
            for result in results:
                self.order.put(result)
        finally:
            self.order.close()
            close = getattr(results, "close", None)
            if close is not None:
                close()

    def close(self, *, complete: bool) -> None:
        """Close the bar and the files, then print the table if there is one."""
        self.bar.close()
        for output in self.outputs:
            output.close(keep=complete)
        if self.table:
            width = terminal_width()
            out(render_table(self.table, width=width, transcript=self.policy.transcript))

    @property
    def where(self) -> str:
        """`` in FILE`` for the messages, when the results go to files."""
        names = [self.args.output] if self.args.output not in (None, "-") else []
        if self.args.split is not None:
            names.append(self.args.split.rstrip("/") + "/")
        return " in " + " and ".join(names) if names else ""

    def retry_command(self) -> str | None:
        """The command that asks the greylisted inputs again, when there are files."""
        if not self.files:
            return None
        return _retry_command(self.args.argv, self.args.retry)

    def summary(self) -> None:
        """Print and write the summaries that were asked for."""
        seconds = time.monotonic() - self.started
        retry = self.retry_command()
        if self.args.summary or isatty(sys.stderr):
            error(self.tally.text(seconds=seconds, retry=retry, where=self.where), prefix=False)
        elif self.files:
            error(self.tally.line() + self.where, prefix=False)
        if self.args.summary_json is not None:
            record = self.tally.to_dict(seconds=seconds, retry=retry)
            record["outputs"] = {o.name: o.written for o in self.files}
            try:
                Path(self.args.summary_json).write_text(
                    json.dumps(record, indent=2) + "\n", encoding="utf-8"
                )
            except OSError as problem:
                raise UsageError(
                    f"cannot write {self.args.summary_json}: {problem.strerror or problem}"
                ) from None


def _same_file(first: str, second: str) -> bool:
    with contextlib.suppress(OSError):
        return Path(first).samefile(second)
    return False


def _check_files(args: argparse.Namespace) -> None:
    if args.input in (None, "-"):
        return
    named = [args.output] if args.output not in (None, "-") else []
    if args.split is not None:
        named += [str(Path(args.split) / f"{v}.{s}") for v in VERDICT_ORDER for s in _FORMATS]
    if args.summary_json is not None:
        named.append(args.summary_json)
    if any(_same_file(args.input, name) for name in named):
        raise UsageError("the output file must not be the input file")


def run(args: argparse.Namespace) -> int:
    """Run ``smtpcheck verify``; return its exit status."""
    policy = policy_from(args)
    resolver = resolver_from(args)
    if not args.addresses and args.input is None:
        raise UsageError("give addresses to verify, or -i FILE")
    _check_files(args)
    if not hasattr(args, "argv"):
        args.argv = sys.argv[1:]
    job = _Run(args, policy)
    memory = memory_from(args)
    complete = False
    try:
        try:
            job.verify(resolver, memory)
            complete = True
        finally:
            job.close(complete=complete)
            memory.close()
    except KeyboardInterrupt as stop:
        total = job.source.total
        done = job.tally.total
        remain = f", {total - done} remain" if total is not None and total >= done else ""
        if job.rewrite:
            again = "; the files are as they were: run the same command again to retry"
        else:
            again = "; run the same command again to resume" if job.files else ""
        what = "terminated" if isinstance(stop, Stopped) else "interrupted"
        error(f"{what}: {done} results{job.where}{remain}{again}")
        return EXIT_TERMINATED if isinstance(stop, Stopped) else EXIT_INTERRUPTED
    except BaseException:
        if job.files and not job.rewrite:
            error(
                f"stopped with {job.tally.total} results{job.where}; "
                "running the same command again resumes"
            )
        raise
    job.summary()
    return EXIT_OK if job.tally.all_deliverable else EXIT_NOT_ALL_DELIVERABLE


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


# -- for the demo -------------------------------------------------------------------------


def verify_all(
    addresses: Iterable[str],
    *,
    policy: Policy,
    resolver: AsyncMailHostResolver | None,
    emit: Callable[[Result], None],
    memory: Memory | None = None,
    fresh: bool = False,
) -> None:
    """Verify ``addresses`` in bulk, calling ``emit`` for each result as it completes.

    *memory* is what earlier runs learned (a new, empty one when None).
    """
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

r"""Where addresses come from: the command line, a plain list, a CSV file.

Files are read as a stream, one line at a time, so that a list of ten million lines
costs no more memory than a list of ten. Lines end at LF or CRLF and nowhere else (not
at VT, FF, NEL or U+2028, which :meth:`str.splitlines` would split on). The encoding is
UTF-8 unless the file starts with a UTF-16 byte order mark or ``--encoding`` says
otherwise; a UTF-8 byte order mark is skipped, and remembered so that a CSV output
keeps it.

A line longer than any address can be (:data:`MAX_ADDRESS_CHARS`) is not kept: it is
answered ``invalid_syntax`` with a shortened echo of its start (:class:`Item.too_long`).
"""

from __future__ import annotations

import argparse
import codecs
import csv
import io
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from smtpcheck._address import _MAX_INPUT_CHARS
from smtpcheck._cli._args import UsageError

__all__ = [
    "MAX_ADDRESS_CHARS",
    "CsvTable",
    "Item",
    "Source",
    "csv_addresses",
    "open_source",
    "plain_addresses",
]

#: The longest text the address parser looks at; anything longer is not an address.
MAX_ADDRESS_CHARS = _MAX_INPUT_CHARS
#: Characters of a too-long input echoed in its result.
ECHO_CHARS = 64
#: The longest line of a plain list read whole (blanks around an address included).
_PLAIN_LINE_LIMIT = 4 * MAX_ADDRESS_CHARS
#: The longest physical line of a CSV file: a row is a person's data, not a book.
_CSV_LINE_LIMIT = 1 << 20
#: Column names taken for the addresses, in this order, when --column is not given.
_CSV_COLUMNS = ("email", "e-mail", "email_address", "email address", "mail", "address")
#: The delimiters a CSV file may use.
_DELIMITERS = ",;\t|"
#: Characters of a CSV file the dialect is guessed from.
_SNIFF_CHARS = 64 * 1024


@dataclass(frozen=True, slots=True)
class Item:
    """One input: an address to verify, and for a CSV file the row it came from.

    Attributes:
        address: The address as read (white space around it removed); the shortened
            echo of a too-long line; ``""`` for a CSV row without an address.
        row: The CSV record exactly as the file holds it, without its line ending;
            None for other inputs.
        too_long: The length in characters of a line too long to be an address (its
            result is ``invalid_syntax``, and ``address`` only echoes its start);
            None for the others.
    """

    address: str
    row: str | None = None
    too_long: int | None = None


@dataclass(frozen=True, slots=True)
class CsvTable:
    """What a CSV output needs to know of the input file, to write rows like it.

    Attributes:
        header: The first record, as the file holds it, without its line ending.
        columns: The column names of the first record.
        column: The index of the addresses' column.
        delimiter: The delimiter the file uses.
        quotechar: The quote character the file uses.
        quote_all: Whether the file quotes every cell (as its header does).
        newline: The line ending of the first record.
        encoding: The encoding to write with (``utf-8-sig`` keeps a byte order mark).
    """

    header: str
    columns: tuple[str, ...]
    column: int
    delimiter: str = ","
    quotechar: str = '"'
    quote_all: bool = False
    newline: str = "\n"
    encoding: str = "utf-8"


@dataclass(slots=True)
class Source:
    """The inputs of a run, read lazily.

    Attributes:
        items: The inputs, in order (command-line addresses first, then the file's).
        total: How many there are, when known in advance (a file, counted quickly);
            None for standard input.
        table: The CSV input's shape, or None when the input is not CSV.
        encoding: The input file's encoding (``utf-8-sig`` when it had a byte order
            mark), for a CSV output written like it.
    """

    items: Iterator[Item]
    total: int | None
    table: CsvTable | None = None
    encoding: str = "utf-8"


def open_source(args: argparse.Namespace) -> Source:
    """The inputs that the command line names: addresses, and ``-i FILE``.

    Raises:
        UsageError: The file cannot be read, or its CSV header names no usable column.
    """
    given = [Item(address) for address in args.addresses]
    as_csv = args.csv or args.column is not None
    if args.input is None:
        if as_csv:
            raise UsageError("--csv and --column need an input file (-i FILE)")
        return Source(iter(given), len(given))
    name = "standard input" if args.input == "-" else args.input
    as_csv = as_csv or args.input.lower().endswith(".csv")
    raw = _open_binary(args.input)
    encoding = _encoding(raw, args.encoding)
    text = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="\n")
    total = None if args.input == "-" or encoding.startswith("utf-16") else _count_lines(raw)
    if as_csv:
        table, rows = _csv_rows(text, args.column, name, encoding)
        if total is not None:
            total = max(total - 1, 0)
        return Source(_chain(given, rows, text), _plus(total, len(given)), table, encoding)
    return Source(
        _chain(given, _plain_items(text, name), text), _plus(total, len(given)), None, encoding
    )


def _plus(total: int | None, more: int) -> int | None:
    return None if total is None else total + more


def _chain(first: list[Item], rest: Iterator[Item], file: IO[str]) -> Iterator[Item]:
    """The inputs in order; the file is closed once they are read, or given up."""
    try:
        yield from first
        yield from rest
    finally:
        file.close()


def _open_binary(name: str) -> io.BufferedReader:
    if name == "-":
        return io.BufferedReader(io.FileIO(sys.stdin.fileno(), "rb", closefd=False))
    try:
        return Path(name).open("rb")
    except OSError as problem:
        raise UsageError(f"cannot read {name}: {problem.strerror or problem}") from None


def _encoding(raw: io.BufferedReader, wanted: str | None) -> str:
    """The encoding to read with: a byte order mark decides, then ``--encoding``."""
    start = raw.peek(4)[:4]
    if start.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return wanted or "utf-8"


def _count_lines(raw: io.BufferedReader) -> int | None:
    """The number of lines of a seekable file (for the progress bar), or None."""
    try:
        start = raw.tell()
        count = 0
        last = b"\n"
        while chunk := raw.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
        raw.seek(start)
    except OSError:
        return None
    return count + (last != b"\n")


def _lines(text: IO[str], name: str, limit: int) -> Iterator[tuple[str, int]]:
    """The lines of ``text`` with their line endings, and each one's length.

    A line longer than ``limit`` characters is cut to its first ``limit`` characters and
    the rest is read and dropped; the length says how long it was (without its ending).
    """
    number = 0
    try:
        while line := text.readline(limit):
            number += 1
            if len(line) < limit or line.endswith("\n"):
                yield line, len(line.rstrip("\r\n"))
                continue
            length = len(line)
            while (more := text.readline(limit)) and not more.endswith("\n"):
                length += len(more)
            length += len(more.rstrip("\r\n"))
            yield line, length
    except UnicodeDecodeError as problem:
        encoding = getattr(text, "encoding", "UTF-8").upper().replace("-SIG", "")
        raise UsageError(
            f"{name} is not {encoding} text (line {number + 1}: {problem.reason}); "
            "give its encoding with --encoding"
        ) from None
    except OSError as problem:
        raise UsageError(f"cannot read {name}: {problem.strerror or problem}") from None


def _echo(text: str) -> str:
    """The start of a too-long input, safe to keep and print."""
    return text[:ECHO_CHARS] + "..."


def _plain_items(text: IO[str], name: str) -> Iterator[Item]:
    for line, length in _lines(text, name, _PLAIN_LINE_LIMIT):
        stripped = line.strip() if length < _PLAIN_LINE_LIMIT else line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        if length >= _PLAIN_LINE_LIMIT or len(stripped) > MAX_ADDRESS_CHARS:
            yield Item(_echo(stripped), too_long=max(length, len(stripped)))
        else:
            yield Item(stripped)


def plain_addresses(text: str) -> list[str]:
    r"""The addresses of a plain list: one a line, blank lines and ``#`` comments skipped.

    Lines end at LF or CRLF only.

    >>> plain_addresses("# customers\n a@example.com \r\n\nb@example.com\x0bc@example.com\n")
    ['a@example.com', 'b@example.com\x0bc@example.com']
    """
    return [item.address for item in _plain_items(io.StringIO(text, newline="\n"), "the list")]


class _Recorder:
    """The lines a :func:`csv.reader` pulls, kept until the record they make is taken."""

    def __init__(self, lines: Iterable[tuple[str, int]], name: str) -> None:
        self._lines = iter(lines)
        self._name = name
        self.taken: list[str] = []

    def __iter__(self) -> _Recorder:
        return self

    def __next__(self) -> str:
        line, length = next(self._lines)
        if length >= _CSV_LINE_LIMIT:
            raise UsageError(
                f"{self._name} has a line of {length:,} characters: "
                "that is not a CSV file of addresses"
            )
        self.taken.append(line)
        return line

    def record(self) -> str:
        """The text of the record just read, without its final line ending."""
        text = "".join(self.taken)
        self.taken.clear()
        return text.removesuffix("\n").removesuffix("\r")


def _csv_rows(
    text: IO[str], column: str | None, name: str, encoding: str
) -> tuple[CsvTable | None, Iterator[Item]]:
    """The header of a CSV input, and its rows as items (read lazily)."""
    head: list[tuple[str, int]] = []
    lines = _lines(text, name, _CSV_LINE_LIMIT)
    size = 0
    for line, length in lines:
        head.append((line, length))
        size += len(line)
        if size >= _SNIFF_CHARS:
            break
    sample = "".join(line for line, _ in head)
    dialect: type[csv.Dialect] | csv.Dialect
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS)
    except csv.Error:  # ragged rows, say: the delimiter the header uses most
        first = head[0][0] if head else ""
        counts = {d: first.count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        dialect = csv.excel
        if counts[best] and best != ",":
            dialect = type("Sniffed", (csv.excel,), {"delimiter": best})
    recorder = _Recorder(_chain_lines(head, lines), name)
    reader = csv.reader(recorder, dialect=dialect, strict=False)
    try:
        header = next(reader, None)
    except csv.Error as problem:
        raise UsageError(f"{name} is not valid CSV: {problem}") from None
    if header is None:
        return None, iter(())
    raw_header = recorder.record()
    index = _address_column([cell.strip() for cell in header], column, name)
    first = head[0][0] if head else "\n"
    quotechar = dialect.quotechar or '"'
    table = CsvTable(
        header=raw_header,
        columns=tuple(header),
        column=index,
        delimiter=dialect.delimiter,
        quotechar=quotechar,
        quote_all=bool(header)
        and all(cell.strip().startswith(quotechar) for cell in raw_header.split(dialect.delimiter)),
        newline="\r\n" if first.endswith("\r\n") else "\n",
        encoding=encoding,
    )
    return table, _csv_items(reader, recorder, index, name, len(header), dialect.delimiter)


def _chain_lines(
    head: list[tuple[str, int]], rest: Iterator[tuple[str, int]]
) -> Iterator[tuple[str, int]]:
    yield from head
    yield from rest


def _csv_items(  # noqa: PLR0917 - a private step of _csv_rows
    reader: Iterator[list[str]],
    recorder: _Recorder,
    index: int,
    name: str,
    width: int,
    delimiter: str,
) -> Iterator[Item]:
    """The rows as items; a row shorter than the header gets its missing empty cells."""
    while True:
        try:
            cells = next(reader, None)
        except csv.Error as problem:
            raise UsageError(f"{name} is not valid CSV: {problem}") from None
        if cells is None:
            return
        raw = recorder.record()
        if not cells:
            continue  # a blank line is not a row
        if len(cells) < width:  # so that the result's columns fall under their names
            raw += delimiter * (width - len(cells))
        address = cells[index].strip() if index < len(cells) else ""
        if len(address) > MAX_ADDRESS_CHARS:
            yield Item(_echo(address), row=raw, too_long=len(address))
        else:
            yield Item(address, row=raw)


def _address_column(header: list[str], column: str | None, name: str) -> int:
    folded = [cell.casefold() for cell in header]
    if column is not None:
        if column in header:
            return header.index(column)
        if column.strip().casefold() in folded:
            return folded.index(column.strip().casefold())
        raise UsageError(f"{name} has no column {column!r} (columns: {', '.join(header)})")
    for candidate in _CSV_COLUMNS:
        if candidate in folded:
            return folded.index(candidate)
    if len(header) == 1:
        return 0
    raise UsageError(
        f"which column of {name} holds the addresses? use --column (columns: {', '.join(header)})"
    )


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
    _, items = _csv_rows(io.StringIO(text, newline="\n"), column, name, "utf-8")
    return [item.address for item in items if item.address]

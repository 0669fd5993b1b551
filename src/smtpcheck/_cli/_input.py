"""Where addresses come from: the command line, a plain list, a CSV file."""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

from smtpcheck._cli._args import UsageError

__all__ = ["addresses_from", "csv_addresses", "plain_addresses", "read_text"]

_CSV_COLUMNS = ("email", "e-mail", "email_address", "email address", "mail", "address")


def read_text(name: str) -> str:
    try:
        data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as problem:
        raise UsageError(f"cannot read {name}: {problem.strerror or problem}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        raise UsageError(f"{name} is not UTF-8 text (byte {problem.start})") from None


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
    except csv.Error as problem:
        raise UsageError(f"{name} is not valid CSV: {problem}") from None
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


def addresses_from(args: argparse.Namespace) -> list[str]:
    addresses = list(args.addresses)
    if args.input is not None:
        text = read_text(args.input)
        name = "standard input" if args.input == "-" else args.input
        if args.csv or args.column is not None or args.input.lower().endswith(".csv"):
            addresses += csv_addresses(text, args.column, name)
        else:
            addresses += plain_addresses(text)
    elif args.csv or args.column is not None:
        raise UsageError("--csv and --column need an input file (-i FILE)")
    return addresses

"""Resuming: which inputs an earlier run already answered, read from its output files.

Outputs are written in the input's order, so an earlier run's output is the answers
of the inputs up to some point (less those ``--keep`` or ``--dedupe`` left out).
:func:`walk` reads the inputs and the earlier outputs side by side, a row at a time:
an input whose address is the next row's of an output is done; the first one that no
output holds, once every output is read to its end, is where the run resumes. Memory
stays flat however long the files.

A run killed in the middle of a write leaves a cut last row: it is truncated away before
anything is appended, so that the rows appended next start on a line of their own.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from smtpcheck._cli._args import UsageError
from smtpcheck._cli._input import MAX_ADDRESS_CHARS, Item, _echo, _lines, _Recorder
from smtpcheck._cli._output import CsvFormat

__all__ = ["Done", "Row", "csv_rows", "jsonl_rows", "walk"]


@dataclass(frozen=True, slots=True)
class Row:
    """One row of an earlier output.

    Attributes:
        address: The input's address, as the row holds it (or its echo, when too long).
        verdict: The row's verdict; ``""`` for a CSV row without an address.
        reason: The row's reason; ``""`` for a CSV row without an address.
        text: The row as the file holds it, line ending included.
    """

    address: str
    verdict: str
    reason: str
    text: str


@dataclass(frozen=True, slots=True)
class Done:
    """An input that an earlier run answered, and the rows each output has of it.

    Attributes:
        row: The earlier answer (the first output's row that holds it), or None for an
            input left out by ``--keep``, or skipped as a duplicate.
        texts: For each output (by position), the row it holds, when it holds one.
        duplicate: Whether it was skipped as a duplicate by ``--dedupe``.
    """

    row: Row | None
    texts: dict[int, str]
    duplicate: bool = False


def _not_ours(path: Path, where: str) -> UsageError:
    return UsageError(
        f"{path} {where} is not a smtpcheck result; pick another output file, "
        "or --overwrite to empty this one"
    )


def jsonl_rows(path: Path) -> Iterator[Row]:
    """The rows of an earlier JSON lines output; a cut last line is truncated away."""
    try:
        handle = path.open("r+b")
    except FileNotFoundError:
        return
    except OSError as problem:
        raise UsageError(f"cannot open {path}: {problem.strerror or problem}") from None
    with handle:
        number = offset = 0
        while line := handle.readline():
            number += 1
            if not line.endswith(b"\n"):
                if line.strip() and not line.lstrip().startswith(b"{"):
                    raise UsageError(f"{path} does not end like a smtpcheck output file")
                handle.truncate(offset)
                return
            offset += len(line)
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict) or not isinstance(record.get("address"), str):
                raise _not_ours(path, f"line {number}")
            yield Row(
                record["address"],
                str(record.get("verdict", "")),
                str(record.get("reason", "")),
                line.decode("utf-8", "surrogateescape"),
            )


def csv_rows(path: Path, form: CsvFormat) -> Iterator[Row]:
    """The rows of an earlier CSV output written like ``form``; a cut last row is dropped.

    Raises:
        UsageError: Its header is not the one this run writes.
    """
    table = form.table
    encoding = table.encoding
    plain = {"utf-8-sig": "utf-8", "utf-16": "utf-16-le"}.get(encoding, encoding)
    try:
        handle = path.open("r+b")
    except FileNotFoundError:
        return
    except OSError as problem:
        raise UsageError(f"cannot open {path}: {problem.strerror or problem}") from None
    with handle:
        bom = {"utf-8-sig": 3, "utf-16": 2}.get(encoding, 0)
        if not handle.read(1):
            return  # empty: written afresh
        handle.seek(0)
        text = io.TextIOWrapper(handle, encoding=encoding, errors="strict", newline="\n")
        recorder = _Recorder(_lines(text, str(path), 1 << 20), str(path))
        reader = csv.reader(
            recorder, delimiter=table.delimiter, quotechar=table.quotechar, strict=False
        )
        offset = bom
        width = len(form.columns)
        first = True
        while True:
            try:
                cells = next(reader, None)
            except csv.Error:
                cells = []  # a cut quoted cell at the end
            if cells is None:
                return
            raw = "".join(recorder.taken)
            recorder.taken.clear()
            complete = raw.endswith("\n") and len(cells) == width
            if first:
                if tuple(cells) != form.columns:
                    raise UsageError(
                        f"{path} does not have the columns this run writes; pick another "
                        "output file, or --overwrite to empty this one"
                    )
                first = False
                offset += len(raw.encode(plain))
                continue
            if not complete:
                if next(reader, None) is not None:
                    raise UsageError(f"{path} has a cut row before its end")
                handle.truncate(offset)
                return
            offset += len(raw.encode(plain))
            address = cells[table.column].strip()
            if len(address) > MAX_ADDRESS_CHARS:
                address = _echo(address)
            at = len(table.columns)
            yield Row(address, cells[at], cells[at + 1], raw)


def walk(
    items: Iterator[Item],
    earlier: list[tuple[Path, Iterator[Row]]],
    *,
    drops: bool,
    blank_written: bool,
    duplicate: Callable[[Item], bool] | None,
    seen: Callable[[Item], None] | None,
) -> Iterator[tuple[Item, Done | None]]:
    """Each input, with what the earlier outputs hold of it (None: still to do).

    Args:
        items: The inputs.
        earlier: Each output's path and rows, in the order the run writes them.
        drops: Whether an output may leave an answered input out (``--keep``): an
            input no output holds, followed by one they hold, was left out.
        blank_written: Whether the first output holds CSV rows without an address.
        duplicate: Whether an input is a duplicate of one before it (``--dedupe``);
            it does not record the input.
        seen: Records an input as answered, for ``duplicate``.

    Raises:
        UsageError: An output holds rows that are not the input's.
    """
    heads = [(path, next(rows, None), rows) for path, rows in earlier]
    pending: list[Item] = []
    for item in items:
        if all(head is None for _, head, _ in heads):
            yield from ((waiting, None) for waiting in pending)
            yield item, None
            yield from ((rest, None) for rest in items)
            return
        texts: dict[int, str] = {}
        row = None
        for index, (path, head, rows) in enumerate(heads):
            if head is not None and head.address == item.address:
                texts[index] = head.text
                row = row or head
                heads[index] = (path, next(rows, None), rows)
        if row is not None:
            for waiting in pending:
                if seen is not None:
                    seen(waiting)
                yield waiting, Done(None, {})
            pending.clear()
            if seen is not None:
                seen(item)
            yield item, Done(row, texts)
        elif duplicate is not None and duplicate(item):
            yield item, Done(None, {}, duplicate=True)
        elif item.address == "" and not blank_written:
            yield item, Done(Row("", "", "", ""), {})
        elif drops:
            pending.append(item)
        else:
            path, head = next((path, head) for path, head, _ in heads if head is not None)
            assert head is not None  # noqa: S101 - chosen for it
            raise UsageError(
                f"{path} is not the output of this input: its next row is for "
                f"{head.address!r}, the input's next address is {item.address!r}; "
                "pick another output file, or --overwrite to empty this one"
            )
    for path, head, _ in heads:
        if head is not None:
            raise UsageError(
                f"{path} has a row for {head.address!r}, which is not in the rest of the "
                "input; pick another output file, or --overwrite to empty this one"
            )
    yield from ((waiting, None) for waiting in pending)

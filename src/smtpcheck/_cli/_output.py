"""How results are written: JSON lines, CSV rows, a table for a person."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from collections import Counter
from collections.abc import Sequence

from smtpcheck._cli._args import isatty
from smtpcheck._cli._input import CsvTable
from smtpcheck._result import Result, Verdict

__all__ = [
    "RESULT_COLUMNS",
    "VERDICT_ORDER",
    "CsvFormat",
    "out",
    "render_table",
    "result_cells",
    "result_json",
    "summary_line",
    "terminal_width",
]

VERDICT_ORDER = tuple(v.value for v in Verdict)
#: The columns a CSV output adds to the input's, in this order (the names of the Dask
#: DataFrame form). ``normalized`` is filled only where it differs from the address.
RESULT_COLUMNS = (
    "verdict",
    "reason",
    "normalized",
    "mx",
    "smtp_code",
    "smtp_enhanced",
    "smtp_message",
    "catch_all",
    "disposable",
    "role_account",
    "free_provider",
    "suggestion",
    "detail",
)
#: The column of the addresses of a CSV output written from a plain list.
ADDRESS_COLUMN = "email"
_ELLIPSIS = "..."
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})
#: A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def result_json(result: Result, *, transcript: bool = False) -> str:
    """One JSON line (without its newline) for a result.

    Non-ASCII text stays readable; text that is not valid Unicode (bytes a server sent
    that are not UTF-8) is escaped instead, so that the line is always valid UTF-8. NEL,
    LINE SEPARATOR and PARAGRAPH SEPARATOR are escaped too, so that no reader splits the
    line (Python's :meth:`str.splitlines` would).
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
        return json.dumps(record)
    # Characters that some readers take for a line break are escaped, so that a record
    # is one line for every reader (they can only be inside strings here).
    return text.translate(_LINE_BREAKS)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _remote(text: str | None) -> str | None:
    """Text a server or DNS chose, made safe to open in a spreadsheet.

    A cell that starts like a formula gets an apostrophe in front, as OWASP advises
    against CSV injection.
    """
    if text is not None and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def result_cells(result: Result) -> list[str]:
    """The cells of :data:`RESULT_COLUMNS` for a result.

    >>> from smtpcheck._result import Reason
    >>> r = Result(address="A@B.example", normalized="A@b.example",
    ...            verdict=Verdict.UNKNOWN, reason=Reason.TIMEOUT, detail="=1+1")
    >>> result_cells(r)[:3], result_cells(r)[-1]
    (['unknown', 'timeout', 'A@b.example'], "'=1+1")
    """
    reply = result.reply
    normalized = result.normalized if result.normalized != result.address else None
    return [
        _cell(value)
        for value in (
            result.verdict.value,
            result.reason.value,
            normalized,
            _remote(result.mx),
            reply.code if reply else None,
            str(reply.enhanced) if reply and reply.enhanced else None,
            _remote(reply.text) if reply else None,
            result.catch_all,
            result.disposable,
            result.role_account,
            result.free_provider,
            result.suggestion,
            _remote(result.detail),
        )
    ]


class CsvFormat:
    """Rows of a CSV output, written like the input's: its rows as they were, plus ours.

    For a CSV input the record is copied as the file holds it (its quoting, spacing and
    columns untouched) and the result's cells follow, with the input's delimiter, quote
    character and line ending. For a plain list the rows are the address and the cells.
    """

    def __init__(self, table: CsvTable | None, encoding: str = "utf-8") -> None:
        self.table = table or CsvTable(
            header=ADDRESS_COLUMN, columns=(ADDRESS_COLUMN,), column=0, encoding=encoding
        )
        self._plain = table is None
        self._buffer = io.StringIO()
        self._writer = csv.writer(
            self._buffer,
            delimiter=self.table.delimiter,
            quotechar=self.table.quotechar,
            quoting=csv.QUOTE_ALL if self.table.quote_all else csv.QUOTE_MINIMAL,
            lineterminator="",
        )

    @property
    def columns(self) -> tuple[str, ...]:
        """The output's column names: the input's, then :data:`RESULT_COLUMNS`."""
        return (*self.table.columns, *RESULT_COLUMNS)

    def _join(self, cells: list[str]) -> str:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(cells)
        return self._buffer.getvalue()

    def header(self) -> str:
        """The header line, with its line ending."""
        first = self._join([ADDRESS_COLUMN]) if self._plain else self.table.header
        return first + self.table.delimiter + self._join(list(RESULT_COLUMNS)) + self.table.newline

    def row(self, address: str, row: str | None, result: Result | None) -> str:
        """The line of one input, with its line ending (empty cells without a result)."""
        first = self._join([address]) if row is None else row
        cells = result_cells(result) if result is not None else [""] * len(RESULT_COLUMNS)
        return first + self.table.delimiter + self._join(cells) + self.table.newline


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


def _shown(result: Result) -> str:
    """The address, and its normalised form where that differs."""
    if result.normalized is None or result.normalized == result.address:
        return result.address
    return f"{result.address} ({result.normalized})"


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
            _clean(_shown(r)),
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


def summary_line(counts: Counter[str]) -> str:
    total = sum(counts.values())
    parts = [f"{counts[v]} {v}" for v in VERDICT_ORDER if counts[v]]
    noun = "result" if total == 1 else "results"
    return f"{total} {noun}" + (": " + ", ".join(parts) if parts else "")


def terminal_width() -> int:
    """The width to fit a table in: the terminal's, or no limit when not on one."""
    if not isatty(sys.stdout):
        return 1_000
    return shutil.get_terminal_size((100, 24)).columns


def out(text: str = "") -> None:
    """Write a line to standard output."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()

"""How results are written: JSON lines, a table for a person."""

from __future__ import annotations

import json
import shutil
import sys
from collections import Counter
from collections.abc import Sequence

from smtpcheck._cli._args import isatty
from smtpcheck._result import Result, Verdict

__all__ = ["VERDICT_ORDER", "out", "render_table", "result_json", "summary_line", "terminal_width"]

VERDICT_ORDER = tuple(v.value for v in Verdict)
_ELLIPSIS = "..."


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

"""What a run found, told at its end: counts by verdict and reason, trouble by domain.

:class:`Tally` counts every input (those written, those ``--keep`` leaves out, those of
an earlier run that this one resumes); :meth:`Tally.text` is the summary a person reads
on standard error, :meth:`Tally.to_dict` the one ``--summary-json`` writes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from smtpcheck._result import Reason, Result, Verdict

__all__ = ["TOP_DOMAINS", "Tally"]

#: Domains listed under "the most unknown answers".
TOP_DOMAINS = 5
_VERDICTS = tuple(v.value for v in Verdict)
_REASONS = tuple(r.value for r in Reason)


def _domain(address: str) -> str:
    return address.rpartition("@")[2].strip().lower() if "@" in address else ""


@dataclass
class Tally:
    """Counts of a run's answers.

    Attributes:
        verdicts: Inputs by verdict.
        reasons: Inputs by reason.
        unknown: For each domain, its ``unknown`` answers by reason.
        earlier: Answers that an earlier run wrote and this one resumed after.
        not_kept_earlier: Inputs an earlier run answered and ``--keep`` left out: their
            verdicts are not known now.
        verified: Inputs this run asked the engine about.
        duplicates: Inputs skipped by ``--dedupe``.
        blank: CSV rows without an address.
    """

    verdicts: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    unknown: dict[str, Counter[str]] = field(default_factory=dict)
    earlier: int = 0
    not_kept_earlier: int = 0
    verified: int = 0
    duplicates: int = 0
    blank: int = 0

    def add(self, address: str, verdict: str, reason: str) -> None:
        """Count one answer."""
        self.verdicts[verdict] += 1
        self.reasons[reason] += 1
        if verdict == Verdict.UNKNOWN.value:
            self.unknown.setdefault(_domain(address), Counter())[reason] += 1

    def add_result(self, result: Result) -> None:
        """Count one result."""
        self.add(result.address, result.verdict.value, result.reason.value)

    @property
    def answered(self) -> int:
        """Inputs with a known verdict."""
        return sum(self.verdicts.values())

    @property
    def total(self) -> int:
        """Every input counted, whatever became of it."""
        return self.answered + self.not_kept_earlier + self.duplicates + self.blank

    @property
    def all_deliverable(self) -> bool:
        """Whether every answered input is deliverable (the exit status 0)."""
        return self.verdicts[Verdict.DELIVERABLE.value] == self.answered and not (
            self.not_kept_earlier
        )

    def top_unknown(self) -> list[tuple[str, int, Counter[str]]]:
        """The domains with the most ``unknown`` answers, with why."""
        ranked = sorted(self.unknown.items(), key=lambda pair: (-pair[1].total(), pair[0]))
        return [(domain, why.total(), why) for domain, why in ranked[:TOP_DOMAINS]]

    def line(self) -> str:
        """One line: how many results, by verdict."""
        total = self.answered
        parts = [f"{self.verdicts[v]} {v}" for v in _VERDICTS if self.verdicts[v]]
        noun = "result" if total == 1 else "results"
        return f"{total} {noun}" + (": " + ", ".join(parts) if parts else "")

    def to_dict(self, *, seconds: float, retry: str | None) -> dict[str, Any]:
        """The summary as ``--summary-json`` writes it."""
        return {
            "total": self.total,
            "answered": self.answered,
            "verdicts": {v: self.verdicts[v] for v in _VERDICTS},
            "reasons": {r: self.reasons[r] for r in _REASONS if self.reasons[r]},
            "unknown_domains": [
                {"domain": domain, "count": count, "reasons": dict(why.most_common())}
                for domain, count, why in self.top_unknown()
            ],
            "greylisted": self.reasons[Reason.GREYLISTED.value],
            "retry_command": retry if self.reasons[Reason.GREYLISTED.value] else None,
            "earlier": self.earlier,
            "not_kept_earlier": self.not_kept_earlier,
            "verified": self.verified,
            "duplicates": self.duplicates,
            "blank_rows": self.blank,
            "seconds": round(seconds, 3),
            "per_second": round(self.verified / seconds, 1) if seconds > 0 else None,
        }

    def text(self, *, seconds: float, retry: str | None, where: str = "") -> str:
        """The summary for a person, several lines."""
        answered = self.answered or 1
        lines = [self.line() + where]
        for verdict in _VERDICTS:
            if self.verdicts[verdict]:
                count = self.verdicts[verdict]
                lines.append(f"  {verdict:<15}{count:>9,}  {100 * count / answered:5.1f}%")
        lines.append("by reason:")
        for reason, count in self.reasons.most_common():
            lines.append(f"  {reason:<22}{count:>9,}  {100 * count / answered:5.1f}%")
        top = self.top_unknown()
        if top:
            lines.append("domains with the most unknown answers:")
            for domain, count, why in top:
                reasons = ", ".join(f"{reason} {n:,}" for reason, n in why.most_common())
                lines.append(f"  {domain or '(none)':<30}{count:>7,}  ({reasons})")
        greylisted = self.reasons[Reason.GREYLISTED.value]
        if greylisted:
            noun = "address is" if greylisted == 1 else "addresses are"
            lines.append(f"{greylisted:,} {noun} still greylisted; in a few minutes, ask again:")
            lines.append(f"  {retry}" if retry else "  re-run with -o FILE to be able to")
        notes = []
        if self.earlier:
            notes.append(f"{self.earlier:,} from an earlier run")
        if self.not_kept_earlier:
            notes.append(f"{self.not_kept_earlier:,} left out by --keep in an earlier run")
        if self.duplicates:
            notes.append(f"{self.duplicates:,} duplicates skipped")
        if self.blank:
            notes.append(f"{self.blank:,} rows without an address")
        if notes:
            lines.append("also: " + "; ".join(notes))
        rate = f", {self.verified / seconds:,.1f} per second" if seconds > 0 else ""
        lines.append(f"this run: {self.verified:,} verified in {seconds:,.1f} s{rate}")
        return "\n".join(lines)

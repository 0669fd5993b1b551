"""The doctor's report: one :class:`Check` per question, gathered in an :class:`Audit`."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

__all__ = [
    "EXIT_FAILED",
    "EXIT_INCOMPLETE",
    "EXIT_OK",
    "EXIT_USAGE",
    "GUIDE_URL",
    "Audit",
    "Check",
    "CheckStatus",
    "Target",
    "render_text",
]

#: The page that explains every check and its fix; the doctor's output links to it.
GUIDE_URL = "https://smtpcheck.readthedocs.io/en/latest/guide/before-you-verify.html"
#: Exit status: every check passed (warnings allowed).
EXIT_OK = 0
#: Exit status: at least one check failed.
EXIT_FAILED = 1
#: Exit status: the command line was wrong.
EXIT_USAGE = 2
#: Exit status: nothing failed, but at least one check could not be checked.
EXIT_INCOMPLETE = 3


class CheckStatus(enum.Enum):
    """The outcome of one check."""

    #: All is well.
    PASS = "pass"  # noqa: S105 - a status, not a password
    #: It works, but some servers will like it less; worth fixing.
    WARN = "warn"
    #: Verification from this host will give wrong or "unknown" answers until fixed.
    FAIL = "fail"
    #: It could not be checked (a DNS failure, a missing input, a missing package).
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One question about this host, answered.

    Attributes:
        name: A stable identifier, such as ``"reverse_dns"`` or
            ``"blocklist:zen.spamhaus.org"``.
        status: Passed, warned, failed, or could not be checked.
        summary: One sentence: what was found.
        fix: One sentence: what to do about it; None when there is nothing to do.
        details: More facts, one sentence each (records found, errors, hints).
    """

    name: str
    status: CheckStatus
    summary: str
    fix: str | None = None
    details: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``name``, ``status``, ``summary``, ``fix``, ``details``."""
        return {
            "name": self.name,
            "status": self.status.value,
            "summary": self.summary,
            "fix": self.fix,
            "details": list(self.details),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """The mail host the audit connected to (or tried to).

    Attributes:
        host: Its name, or the address as given.
        address: The IP address connected to, or None when none was found.
        port: The TCP port.
        domain: The domain whose MX it is, when it was found that way.
    """

    host: str
    address: str | None
    port: int
    domain: str | None = None

    def __str__(self) -> str:
        where = self.host if self.address in {None, self.host} else f"{self.host} [{self.address}]"
        mx = f" (MX of {self.domain})" if self.domain else ""
        return f"{where} port {self.port}{mx}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Audit:
    """The report of :func:`audit`.

    Attributes:
        checks: The checks, in the order of the module's docstring.
        public_ip: The address the world sees, when found or given.
        helo_name: The HELO name audited (the policy's, else this machine's), or None.
        mail_from: The MAIL FROM audited (``""`` is the null sender).
        target: The mail host connected to, or None when none could be found.
    """

    checks: tuple[Check, ...]
    public_ip: str | None = None
    helo_name: str | None = None
    mail_from: str = ""
    target: Target | None = None

    def __getitem__(self, name: str) -> Check:
        """The check named ``name`` (KeyError when there is none)."""
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def count(self, status: CheckStatus) -> int:
        """How many checks have ``status``."""
        return sum(1 for c in self.checks if c.status is status)

    @property
    def ok(self) -> bool:
        """True when no check failed (warnings and unknowns allowed)."""
        return self.count(CheckStatus.FAIL) == 0

    @property
    def exit_status(self) -> int:
        """For scripts: 0 nothing failed or unknown, 1 a failure, 3 something unknown."""
        if not self.ok:
            return EXIT_FAILED
        if self.count(CheckStatus.UNKNOWN):
            return EXIT_INCOMPLETE
        return EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        """The JSON form printed by ``smtpcheck doctor --json``."""
        target = None
        if self.target is not None:
            target = {
                "host": self.target.host,
                "address": self.target.address,
                "port": self.target.port,
                "domain": self.target.domain,
            }
        return {
            "ok": self.ok,
            "exit_status": self.exit_status,
            "public_ip": self.public_ip,
            "helo_name": self.helo_name,
            "mail_from": self.mail_from,
            "target": target,
            "checks": [c.to_dict() for c in self.checks],
            "counts": {s.value: self.count(s) for s in CheckStatus},
            "guide": GUIDE_URL,
        }


_LABELS = {
    CheckStatus.PASS: "PASS",
    CheckStatus.WARN: "WARN",
    CheckStatus.FAIL: "FAIL",
    CheckStatus.UNKNOWN: "UNKNOWN",
}


def render_text(report: Audit, *, verbose: bool = False) -> str:
    """The report as text for a person: one line per check, its fix below it.

    Args:
        report: The audit.
        verbose: Also print each check's details.
    """
    lines = ["smtpcheck doctor: is this host ready to verify addresses?"]
    if report.target is not None:
        lines.append(f"target: {report.target}")
    lines.append(
        f"public IP: {report.public_ip or 'unknown'}; HELO name: {report.helo_name or 'none'}; "
        f"MAIL FROM: <{report.mail_from}>"
    )
    lines.append("")
    width = max(len(c.name) for c in report.checks)
    for check in report.checks:
        lines.append(f"  {_LABELS[check.status]:<8}{check.name:<{width}}  {check.summary}")
        indent = " " * (10 + width + 2)
        if check.fix and check.status is not CheckStatus.PASS:
            lines.append(f"{indent}fix: {check.fix}")
        if verbose:
            lines.extend(f"{indent}- {detail}" for detail in check.details)
    counts = [
        f"{report.count(CheckStatus.PASS)} passed",
        f"{report.count(CheckStatus.WARN)} warned",
        f"{report.count(CheckStatus.FAIL)} failed",
        f"{report.count(CheckStatus.UNKNOWN)} could not be checked",
    ]
    lines.extend(["", ", ".join(counts) + ".", f'Read "Before you verify for real": {GUIDE_URL}'])
    return "\n".join(lines)

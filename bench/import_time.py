"""What ``import smtpcheck`` costs, measured by the interpreter's own import timer.

Runs ``python -X importtime -c "import smtpcheck"`` in fresh processes (so nothing is
cached in memory) and prints the median of the package's cumulative import time, then
the modules that cost the most: the package's direct imports by cumulative time, and
every module it pulls in by its own (self) time, each the median over the runs.

Run: .venv/bin/python bench/import_time.py [--runs 5] [--top 15] [--module smtpcheck]
     [--budget-ms 60]   (exit status 1 when the median is over the budget)
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    """One line of ``-X importtime``: a module, its depth, its own and total time."""

    module: str
    depth: int
    self_us: int
    cumulative_us: int


def parse(stderr: str) -> list[Line]:
    """The import-time lines of one run, in the interpreter's order (children first)."""
    lines = []
    for raw in stderr.splitlines():
        if not raw.startswith("import time:") or "imported package" in raw:
            continue
        self_us, cumulative_us, name = raw.removeprefix("import time:").split("|")
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        lines.append(Line(name.strip(), depth, int(self_us), int(cumulative_us)))
    return lines


def subtree(lines: list[Line], module: str) -> list[Line]:
    """The lines of *module*'s own import: the module itself and what it pulled in."""
    end = next(i for i, line in enumerate(lines) if line.module == module and line.depth == 0)
    start = end
    while start > 0 and lines[start - 1].depth > 0:
        start -= 1
    return lines[start : end + 1]


def run_once(module: str) -> list[Line]:
    """One fresh interpreter importing *module*."""
    completed = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return subtree(parse(completed.stderr), module)


def median_ms(values: list[int]) -> float:
    return statistics.median(values) / 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--module", default="smtpcheck")
    parser.add_argument("--budget-ms", type=float, default=None)
    args = parser.parse_args()

    runs = [run_once(args.module) for _ in range(args.runs)]
    totals = [run[-1].cumulative_us for run in runs]
    total = median_ms(totals)
    print(
        f"import {args.module}: median {total:.1f} ms over {args.runs} runs "
        f"(min {min(totals) / 1000:.1f}, max {max(totals) / 1000:.1f})"
    )

    direct: dict[str, list[int]] = {}
    own: dict[str, list[int]] = {}
    for run in runs:
        for line in run[:-1]:
            if line.depth == 1:
                direct.setdefault(line.module, []).append(line.cumulative_us)
            own.setdefault(line.module, []).append(line.self_us)
    print(f"\n{args.module}'s direct imports, by cumulative time (median ms):")
    for name, values in sorted(direct.items(), key=lambda kv: -statistics.median(kv[1])):
        print(f"  {median_ms(values):7.1f}  {name}")
    print(f"\nthe {args.top} modules that cost most by themselves (self time, median ms):")
    ranked = sorted(own.items(), key=lambda kv: -statistics.median(kv[1]))
    for name, values in ranked[: args.top]:
        print(f"  {median_ms(values):7.1f}  {name}")
    print(f"\n{len(own)} modules imported in all.")

    if args.budget_ms is not None and total > args.budget_ms:
        print(f"over budget: {total:.1f} ms > {args.budget_ms:.1f} ms", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

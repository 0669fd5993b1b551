"""Peak memory (RSS) and time of ``smtpcheck verify -i FILE -o OUT`` over a long list.

The list has ``--lines`` lines (a million by default); every address is at
``denied.example``, a special-use name that the syntax check refuses (``--deny`` lists
it too), so each is answered without a connection and the run measures the command line
itself: reading the input, the bulk engine, writing the output. Then the same
command runs again, resuming from the finished output (it reads the output and the
input, and verifies nothing), and then with ``--format csv`` on a CSV copy of the list.

Run: ``.venv/bin/python bench/cli.py`` (optionally ``--lines 100000``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(args: list[str]) -> tuple[float, float]:
    """Run ``python -m smtpcheck ARGS``; return (seconds, peak RSS in MiB)."""
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - our own program
        [sys.executable, "-m", "smtpcheck", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    stderr = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"smtpcheck failed: {stderr}")
    return elapsed, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines in the list")
    lines = parser.parse_args().lines
    with tempfile.TemporaryDirectory() as folder:
        source, output = Path(folder, "list.txt"), Path(folder, "out.jsonl")
        with source.open("w", encoding="utf-8") as handle:
            handle.writelines(f"user{i}@denied.example\n" for i in range(lines))
        table = Path(folder, "list.csv")
        with table.open("w", encoding="utf-8") as handle:
            handle.write("id,name,email\n")
            handle.writelines(f'{i},"Name, {i}",user{i}@denied.example\n' for i in range(lines))
        usage = subprocess.run(
            [sys.executable, "-m", "smtpcheck", "verify", "--help"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        common = ["--deny", "denied.example", "--no-progress"]
        if "--no-memory" in usage:  # the run measures the command line, not a memory file
            common.append("--no-memory")
        cases = [
            ("JSON lines", ["verify", "-i", str(source), "-o", str(output), *common]),
            ("resume", ["verify", "-i", str(source), "-o", str(output), *common]),
        ]
        if "--format" in usage:  # CSV out, since issue 20
            cleaned = str(Path(folder, "cleaned.csv"))
            cases.append(("CSV", ["verify", "-i", str(table), "-o", cleaned, *common]))
        for name, args in cases:
            seconds, peak = run(args)
            rate = lines / seconds
            print(
                f"{name:>10}: {lines:,} lines, peak RSS {peak:7.1f} MiB, {seconds:6.1f} s "
                f"({rate:,.0f} lines/s)"
            )


if __name__ == "__main__":
    main()

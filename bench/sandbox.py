"""Measure how long a mail world of ten servers (and the default world) takes to start and stop.

Run: ``.venv/bin/python bench/sandbox.py``
"""

from __future__ import annotations

import statistics
import time

from smtpcheck.testing import MailWorld


def ten_servers() -> MailWorld:
    world = MailWorld()
    for n in range(10):
        world.add_server(f"mx{n}.ten.test", domains=[f"d{n}.test"], mailboxes=["alice"])
    return world


def measure(build: type[MailWorld] | object, runs: int = 20) -> tuple[float, float, float]:
    starts, stops = [], []
    for _ in range(runs):
        world = build()  # type: ignore[operator]
        t0 = time.perf_counter()
        world.start()
        t1 = time.perf_counter()
        world.stop()
        t2 = time.perf_counter()
        starts.append(t1 - t0)
        stops.append(t2 - t1)
    total = [a + b for a, b in zip(starts, stops, strict=True)]
    return statistics.median(starts), statistics.median(stops), max(total)


def main() -> None:
    for label, build in (("10 servers", ten_servers), ("default world", MailWorld.default)):
        start, stop, worst = measure(build)
        print(
            f"{label:14} start {start * 1000:6.1f} ms  stop {stop * 1000:6.1f} ms  "
            f"(median of 20; worst start+stop {worst * 1000:.1f} ms)"
        )


if __name__ == "__main__":
    main()

"""How long smtpcheck._enrich takes per address: cached domains, and first-seen domains.

Run: ``.venv/bin/python bench/enrich.py`` (optionally ``--seconds 2``).

``warm`` is the common case of a bulk run: the domain-level work (disposable and
free-provider look-ups, the suggestion) is cached per domain, so an address costs the
role check and a cache hit. ``cold`` clears the caches before every pass, which is the
cost of a domain seen for the first time. ``import`` is the one-off cost of loading the
lists at first use.
"""

from __future__ import annotations

import argparse
import time

from smtpcheck import _enrich as enrich_module
from smtpcheck._address import parse_address
from smtpcheck._enrich import enrich

TEXTS = [
    "john.doe@gmail.com",
    "Info+news@company.example",
    "someone@eu.mailinator.com",
    "jane@gmial.com",
    "jane@hotmail.con",
    "jo@yahoo.co",
    "postmaster@mail.shop-online.co.uk",
    "user@bücher-laden.de",
    "a.b@university.edu",
    "x@shop.cmo",
]
ADDRESSES = [parse_address(text, allow_special_use=True) for text in TEXTS]


def _clear() -> None:
    enrich_module._domain_facts.cache_clear()  # noqa: SLF001
    enrich_module._is_role.cache_clear()  # noqa: SLF001
    enrich_module._parses.cache_clear()  # noqa: SLF001


def per_address(seconds: float, *, cold: bool) -> float:
    """Seconds per address over about *seconds* of enriching."""
    count = 0
    spent = 0.0
    while spent < seconds:
        if cold:
            _clear()
        start = time.perf_counter()
        for address in ADDRESSES:
            enrich(address)
        spent += time.perf_counter() - start
        count += len(ADDRESSES)
    return spent / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.0, help="time per case")
    seconds = parser.parse_args().seconds
    start = time.perf_counter()
    enrich(ADDRESSES[0])
    print(f"{'import':>7}: {(time.perf_counter() - start) * 1e3:8.1f} ms once (lists loaded)")
    for name, cold in (("warm", False), ("cold", True)):
        each = per_address(seconds, cold=cold)
        print(f"{name:>7}: {each * 1e6:8.2f} µs per address  ({1 / each:>12,.0f} addresses/s)")


if __name__ == "__main__":
    main()

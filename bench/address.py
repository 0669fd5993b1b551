"""How many addresses smtpcheck._address parses per second, ASCII and internationalised.

Run: ``.venv/bin/python bench/address.py`` (optionally ``--seconds 2``).
"""

from __future__ import annotations

import argparse
import contextlib
import time

from smtpcheck._address import parse_address
from smtpcheck._errors import InvalidAddress

CASES = {
    "ascii": [
        "john.doe@mail.shop-online.co.uk",
        "a@b.io",
        "first.last+tag@company.com",
        "support@sub.domain.org",
    ],
    "idn": [
        "jöhn.doe@bücher-laden.de",
        "用户@例子.广告",
        "info@пример.рф",
        "user@xn--exmple-cua.org",
    ],
    "quoted": ['"john doe"@shop.de', '"a\\"b"@shop.de'],
    "invalid-10kB": ["a" * 10_000 + "@shop.de"],
}


def rate(addresses: list[str], seconds: float) -> float:
    """Addresses per second over about *seconds* of parsing."""
    count = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for text in addresses:
            with contextlib.suppress(InvalidAddress):
                parse_address(text)
        count += len(addresses)
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.0, help="time per case")
    seconds = parser.parse_args().seconds
    for name, addresses in CASES.items():
        per_second = rate(addresses, seconds)
        print(f"{name:>13}: {per_second:>12,.0f} addresses/s  ({1e6 / per_second:.2f} µs each)")


if __name__ == "__main__":
    main()

"""How fast smtpcheck._address parses addresses, side by side with email-validator.

Run: ``.venv/bin/python bench/address.py`` (optionally ``--seconds 2``). Each case is
parsed by :func:`smtpcheck.parse_address` and, when it is installed, by
python-email-validator's ``validate_email`` (syntax only: ``check_deliverability=False``,
quoted local parts allowed, as ours are by default), in the same run, so the ratio
compares the two on one machine under one load. email-validator is not a dependency of
smtpcheck; install it in the virtual environment for the bench only
(``.venv/bin/pip install email-validator``). The ``mixed`` line is the figure to keep at
3x or more.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable

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
    "invalid": ["john doe@shop.de", "user@shop..de", "user@-shop.de", "no-at-sign.de"],
    "invalid-10kB": ["a" * 10_000 + "@shop.de"],
}
CASES["mixed"] = [text for name in ("ascii", "idn", "quoted", "invalid") for text in CASES[name]]

Parser = Callable[[str], object]


def _smtpcheck() -> tuple[Parser, type[Exception]]:
    return parse_address, InvalidAddress


def _email_validator() -> tuple[Parser, type[Exception]] | None:
    try:
        from email_validator import EmailNotValidError, validate_email
    except ImportError:
        return None

    def parse(text: str) -> object:
        return validate_email(text, check_deliverability=False, allow_quoted_local=True)

    return parse, EmailNotValidError


def rate(parse: Parser, error: type[Exception], addresses: list[str], seconds: float) -> float:
    """Addresses per CPU second over about *seconds* of this process's CPU time.

    CPU time rather than wall time: on a shared machine other processes take the cores
    away at random, which wall time would count against whichever parser was running.
    """
    count = 0
    start = time.process_time()
    while (elapsed := time.process_time() - start) < seconds:
        for text in addresses:
            with contextlib.suppress(error):
                parse(text)
        count += len(addresses)
    return count / elapsed


def compare(
    parsers: list[tuple[Parser, type[Exception]]], addresses: list[str], seconds: float
) -> list[float]:
    """The rate of each parser, measured in ten interleaved rounds so load hits all alike."""
    rounds = 10
    totals = [0.0] * len(parsers)
    for _ in range(rounds):
        for index, (parse, error) in enumerate(parsers):
            totals[index] += rate(parse, error, addresses, seconds / rounds)
    return [total / rounds for total in totals]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.0, help="time per case and parser")
    seconds = parser.parse_args().seconds
    ours = _smtpcheck()
    theirs = _email_validator()
    if theirs is None:
        print("email-validator is not installed: `.venv/bin/pip install email-validator`")
    print(
        f"{'case':>13}  {'smtpcheck':>14}  {'email-validator':>16}  {'ratio':>6}  (per CPU second)"
    )
    parsers = [ours] if theirs is None else [ours, theirs]
    for name, addresses in CASES.items():
        rates = compare(parsers, addresses, seconds)
        line = f"{name:>13}  {rates[0]:>12,.0f}/s"
        if len(rates) == 2:
            line += f"  {rates[1]:>14,.0f}/s  {rates[0] / rates[1]:>5.1f}x"
        print(line)


if __name__ == "__main__":
    main()

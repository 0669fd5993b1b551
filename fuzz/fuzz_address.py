"""Fuzz target: the address parser, on any text.

Run: ``python fuzz/fuzz_address.py -max_total_time=300`` (see fuzz/README.md).

Invariants: the only exception is :class:`~smtpcheck.InvalidAddress`; an accepted
address is stable (parsing its normalised form gives the same address) and can be sent:
``RCPT TO`` takes its SMTP path (the parser and the protocol agree on what is sendable).
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from smtpcheck import InvalidAddress, parse_address
    from smtpcheck.protocol import RcptTo

FLAGS = ("allow_special_use", "allow_single_label", "allow_domain_literal")


def test_one_input(data: bytes) -> None:
    """One fuzz input: three flags, then the text."""
    fdp = atheris.FuzzedDataProvider(data)
    options = {flag: fdp.ConsumeBool() for flag in FLAGS}
    text = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
    try:
        address = parse_address(text, **options)
    except InvalidAddress as error:
        assert error.reason, "an InvalidAddress names its reason"
        return
    assert parse_address(address.normalized, **options) == address
    RcptTo(address.smtp_path)  # raises LocalProtocolError if the two disagree


def main() -> None:
    """Run the fuzzer (libFuzzer's options on the command line)."""
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

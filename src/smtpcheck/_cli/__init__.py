"""The command line: ``smtpcheck verify``, ``demo``, ``doctor`` and ``memory``.

``smtpcheck`` and ``python -m smtpcheck`` are the same program, :func:`main`.

Exit status:

- 0: every address is deliverable;
- 1: some address is undeliverable, risky or unknown;
- 2: a usage error (a bad option, an unreadable file);
- 130: interrupted (Ctrl-C), 143: terminated (SIGTERM); the results written so far are
  kept, and running the same command again resumes.

``smtpcheck doctor`` has its own: 0 ready, 1 a check failed, 2 usage error, 3 something
could not be checked (see :mod:`smtpcheck._doctor` and :mod:`smtpcheck._cli._doctor`).

Results go out in the input's order, one JSON line or CSV row each, flushed at once,
so that an interrupted or crashed run keeps what it wrote. Running ``smtpcheck verify -i
IN -o OUT`` again skips the inputs that already have a row in ``OUT``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from smtpcheck._cli import _demo, _doctor, _memory, _verify
from smtpcheck._cli._args import (
    EXIT_INTERRUPTED,
    EXIT_NOT_ALL_DELIVERABLE,
    EXIT_TERMINATED,
    EXIT_USAGE,
    Parser,
    Stopped,
    UsageError,
    error,
    logging_to_stderr,
    sigterm_stops,
)
from smtpcheck._cli._input import csv_addresses, plain_addresses
from smtpcheck._cli._output import render_table, result_json

__all__ = [
    "UsageError",
    "build_parser",
    "csv_addresses",
    "main",
    "plain_addresses",
    "render_table",
    "result_json",
]


def _version() -> str:
    from smtpcheck import __version__  # noqa: PLC0415 - the package imports nothing of ours

    return __version__


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the ``smtpcheck`` command line.

    >>> build_parser().parse_args(["verify", "a@example.com", "--json"]).json
    True
    """
    parser = Parser(
        prog="smtpcheck",
        description="Tell whether email addresses can receive mail, without sending any: "
        "smtpcheck talks SMTP to the domain's mail server up to RCPT TO, never DATA.",
        epilog="Exit status: 0 all deliverable; 1 some undeliverable, risky or unknown; "
        "2 usage error; 130 interrupted; 143 terminated.",
    )
    parser.add_argument("--version", action="version", version=f"smtpcheck {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _verify.add_parser(commands)
    _demo.add_parser(commands)
    _doctor.add_parser(commands)
    _memory.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``smtpcheck`` command line.

    Args:
        argv: The arguments, without the program's name; ``sys.argv[1:]`` when None.

    Returns:
        The exit status: 0 all deliverable, 1 some not, 2 usage error, 130 interrupted,
        143 terminated.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "verify": _verify.run,
        "demo": _demo.run,
        "doctor": _doctor.run,
        "memory": _memory.run,
    }
    command = commands.get(args.command)
    if command is None:
        error("error: give a command: verify, demo, doctor or memory (see smtpcheck --help)")
        return EXIT_USAGE
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        with sigterm_stops(), logging_to_stderr(getattr(args, "verbose", 0)):
            return command(args)
    except UsageError as problem:
        error(f"error: {problem}")
        return EXIT_USAGE
    except Stopped:
        error("terminated")
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``smtpcheck verify ... | head``): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_NOT_ALL_DELIVERABLE

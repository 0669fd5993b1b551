"""``smtpcheck memory``, and the memory options of the commands that verify.

The command line remembers by default, in an SQLite file in the user's cache directory
(``platformdirs``: ``~/.cache/smtpcheck/memory.sqlite3`` on Linux): a second run of a
list asks nothing about the addresses that have a fresh definite answer, and a host
that refused us is not asked again before its cool-down, in this run or the next.
``--memory PATH`` uses another file (one that several machines' runs share, say);
``--no-memory`` neither reads nor writes one.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from smtpcheck._cli._args import EXIT_OK
from smtpcheck._cli._output import out
from smtpcheck._memory import Fact, Kind
from smtpcheck._memory_store import Memory

__all__ = ["add_memory_options", "add_parser", "default_path", "memory_from", "run"]

#: ``smtpcheck memory``: nothing was remembered about any of the names.
EXIT_NOTHING_KNOWN = 1


def default_path() -> Path:
    """The memory file of the command line, in the user's cache directory."""
    import platformdirs  # noqa: PLC0415 - only the commands that remember

    return platformdirs.user_cache_path("smtpcheck") / "memory.sqlite3"


def add_memory_options(parser: argparse.ArgumentParser, *, fresh: bool = True) -> None:
    """``--memory PATH`` and ``--no-memory`` (and ``--fresh`` where *fresh*)."""
    group = parser.add_argument_group("memory")
    where = group.add_mutually_exclusive_group()
    where.add_argument(
        "--memory",
        metavar="PATH",
        help="the file of what earlier runs learned (hosts that refused us, catch-all "
        "domains, definite results), shared by runs and processes; default: "
        "smtpcheck/memory.sqlite3 in the user's cache directory",
    )
    where.add_argument(
        "--no-memory",
        action="store_true",
        help="neither read nor write the memory file (the run still remembers within itself)",
    )
    if fresh:
        group.add_argument(
            "--fresh",
            action="store_true",
            help="ask the servers even for addresses with a remembered definite result "
            "(hosts in cool-down stay in cool-down)",
        )


def memory_from(args: argparse.Namespace) -> Memory:
    """The memory the options ask for (a file that cannot be used warns and is skipped)."""
    if args.no_memory:
        return Memory()
    return Memory.file(str(args.memory or default_path()))


def add_parser(commands: Any) -> None:
    memory = commands.add_parser(
        "memory",
        help="show or forget what smtpcheck remembers about a domain, host or address",
        description="Show what the memory file holds about each NAME (a domain, a mail "
        "host or an address): hosts that refused us and until when, rate limits, STARTTLS "
        "failures, recipient limits, catch-all answers, definite results, greylistings. "
        "With --forget, forget it all, so that the next run asks again.",
        epilog="Exit status: 0 something was remembered (or forgotten); 1 nothing; 2 usage error.",
    )
    memory.add_argument(
        "names", nargs="+", metavar="NAME", help="a domain, a mail host or an address"
    )
    memory.add_argument("--forget", action="store_true", help="forget what is remembered")
    memory.add_argument("--json", action="store_true", help="print JSON lines")
    memory.add_argument(
        "--memory",
        metavar="PATH",
        help="the memory file; default: smtpcheck/memory.sqlite3 in the user's cache directory",
    )
    memory.set_defaults(no_memory=False)


def _when(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(moment))


def _reply(data: Any) -> str:
    if not isinstance(data, dict):
        return ""
    lines = data.get("lines") or [""]
    return f"{data.get('code')} {' '.join(str(line) for line in lines)}".strip()


def describe(fact: Fact) -> str:
    """A sentence for a person about one fact.

    >>> describe(Fact("tls_failed", "mx.example.com|default", "mx.example.com", "{}", 0, 1))
    'its STARTTLS handshake failed: plaintext at once'
    """
    try:
        data = json.loads(fact.value)
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    reply = _reply(data.get("reply"))
    said = f": {reply}" if reply else ""
    sentences = {
        Kind.REFUSED: f"refused us ({data.get('reason')}){said}; "
        f"not asked again before {_when(fact.expires_at)}",
        Kind.RATE_LIMITED: f"rate-limited us ({data.get('strikes')} in a row){said}",
        Kind.TLS_FAILED: "its STARTTLS handshake failed: plaintext at once",
        Kind.PIPELINING: "offers PIPELINING" if data.get("offered") else "no PIPELINING",
        Kind.RECIPIENT_LIMIT: f"takes {data.get('limit')} recipients per transaction",
        Kind.CATCH_ALL: (
            "catch-all: accepts any local part"
            if reply.startswith("2")
            else "not catch-all: refuses unknown mailboxes"
        )
        + said,
        Kind.RESULT: f"{data.get('verdict')} ({data.get('reason')}){said}",
        Kind.GREYLISTED: "greylisted; worth asking again after "
        + (_when(data["retry_at"]) if isinstance(data.get("retry_at"), float) else "a while"),
    }
    return sentences.get(fact.kind, fact.kind)


def _record(name: str, fact: Fact) -> dict[str, Any]:
    subject, _, who = fact.key.partition("|")
    try:
        value = json.loads(fact.value)
    except ValueError:
        value = None
    return {
        "name": name,
        "kind": fact.kind,
        "about": subject,
        "identity": who or None,
        "learned_at": fact.learned_at,
        "expires_at": fact.expires_at,
        "what": describe(fact),
        "value": value,
    }


def run(args: argparse.Namespace) -> int:
    memory = memory_from(args)
    try:
        found = 0
        for name in args.names:
            if args.forget:
                count = memory.forget(name)
                found += count
                out(f"{name}: forgot {count} fact{'s' if count != 1 else ''}")
                continue
            facts = memory.about(name)
            found += len(facts)
            if args.json:
                for fact in facts:
                    out(json.dumps(_record(name, fact), ensure_ascii=False))
                continue
            if not facts:
                out(f"{name}: nothing remembered")
            for fact in facts:
                record = _record(name, fact)
                who = f" as {record['identity']}" if record["identity"] else ""
                out(
                    f"{record['about']}{who}: {record['what']} "
                    f"(learned {_when(fact.learned_at)}, until {_when(fact.expires_at)})"
                )
    finally:
        memory.close()
    return EXIT_OK if found else EXIT_NOTHING_KNOWN

"""SPF, evaluated by pyspf (spf3) over the doctor's DNS, without pyspf doing any I/O.

pyspf asks DNS through its module-level function ``spf.DNSLookup``, from deep inside an
evaluation, and the doctor asks DNS as a plan (it yields questions, a driver answers
them). The two meet by replaying: pyspf runs against the answers known so far; each
question it asks that has no answer yet is noted (and aborts that run); the plan yields
the noted questions, learns their answers, and runs pyspf again, until a run needs
nothing new. pyspf's own limits (10 DNS-querying mechanisms, 2 void look-ups) bound the
rounds; a run is a few microseconds of parsing.

``spf.DNSLookup`` is replaced once by a function that answers from the lookup set in the
current context, and otherwise calls the original, so other users of pyspf in the
process see no change.
"""

from __future__ import annotations

import contextvars
import importlib
import threading
import warnings
from collections.abc import Callable, Generator
from typing import Any

from smtpcheck._errors import PolicyError
from smtpcheck._resolver._plan import RDTYPES, Answer, Kind, Query, check_domain

__all__ = ["INSTALL_HINT", "evaluate", "load"]

#: How to install pyspf, for the check that could not run without it.
INSTALL_HINT = "pip install 'smtpcheck[doctor]'"
# Rounds of questions before the evaluation gives up (pyspf's limits need far fewer).
_MAX_ROUNDS = 50

_lookup: contextvars.ContextVar[Callable[[str, str], list[Any]] | None] = contextvars.ContextVar(
    "smtpcheck_spf_lookup", default=None
)
_lock = threading.Lock()


class _Unknown(Exception):  # noqa: N818 - control flow inside one evaluation, never escapes
    """pyspf asked a question whose answer the plan does not know yet."""


def load() -> Any:
    """Import pyspf and route its DNS through this module; None when it is missing."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyspf's old code warns when compiled
            spf: Any = importlib.import_module("spf")
    except ImportError:
        return None
    with _lock:
        if not getattr(spf.DNSLookup, "smtpcheck", False):
            original = spf.DNSLookup

            def lookup(name: str, qtype: str, strict: bool = True, timeout: float = 30) -> Any:  # noqa: FBT002 - pyspf's signature
                ours = _lookup.get()
                if ours is None:
                    return original(name, qtype, strict, timeout)
                return ours(name, qtype)

            lookup.smtpcheck = True  # type: ignore[attr-defined]
            spf.DNSLookup = lookup
    return spf


def evaluate(
    spf: Any, *, ip: str, sender: str, helo: str, timeout: float
) -> Generator[tuple[Query, ...], tuple[Answer, ...], tuple[str, str]]:
    """Evaluate SPF for ``ip``: yield DNS questions, return ``(result, explanation)``.

    ``result`` is pyspf's (``pass``, ``fail``, ``softfail``, ``neutral``, ``none``,
    ``permerror``, ``temperror``). An exception of pyspf's own propagates.
    """
    known: dict[Query, Answer] = {}
    missing: list[Query] = []

    def lookup(name: str, qtype: str) -> list[Any]:
        query = _query(name, qtype)
        if query is None:
            return []  # a type or a name we never ask about: no records
        answer = known.get(query)
        if answer is None:
            missing.append(query)
            raise _Unknown
        if answer.kind is Kind.FAILURE:
            raise spf.TempError(f"DNS {answer.detail}")
        return [((name, qtype), _value(qtype, text)) for text in answer.records]

    for _ in range(_MAX_ROUNDS):
        missing.clear()
        token = _lookup.set(lookup)
        try:
            result, _code, explanation = spf.query(
                i=ip, s=sender, h=helo, timeout=timeout, querytime=0
            ).check()
        except _Unknown:
            pass
        finally:
            _lookup.reset(token)
        # pyspf swallows some errors (an explanation's look-up): a noted question means
        # the run was not complete, whatever it returned.
        if not missing:
            return str(result), str(explanation or "")
        questions = tuple(dict.fromkeys(missing))
        answers = yield questions
        known.update(zip(questions, answers, strict=True))
    return "temperror", "the SPF evaluation needed too many DNS questions"


def _query(name: str, qtype: str) -> Query | None:
    if qtype not in RDTYPES:
        return None
    try:
        return Query(check_domain(str(name)), qtype)
    except PolicyError:
        return None


def _value(qtype: str, text: str) -> Any:
    """An answer's record in the form pyspf's ``DNSLookup`` gives it."""
    if qtype == "MX":
        preference, _, exchange = text.partition(" ")
        return int(preference), exchange
    if qtype == "TXT":
        return (text.encode("utf-8"),)
    return text

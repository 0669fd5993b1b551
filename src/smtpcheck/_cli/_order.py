"""Results put back in the order of their inputs, holding only what waits for an earlier one.

:func:`~smtpcheck.verify_many` yields results as they complete. A list-cleaning output is
written in the input's order instead (a CSV keeps its rows' order, and a resumed run
starts after the last row written), so :class:`InOrder` holds each finished result
until every earlier input has been written, then hands it to ``write`` and forgets it.

Memory stays bounded: the inputs are fed to the engine (in its reader thread) at most
``ahead`` past the first input not yet written, so one slow address (a tarpit, a
greylisting retry) pauses the reading instead of piling up results behind it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from smtpcheck._cli._input import Item
from smtpcheck._cli._resume import Done
from smtpcheck._result import Result

__all__ = ["AHEAD", "Answer", "InOrder"]

#: Inputs fed past the first one not yet written, at most.
AHEAD = 10_000


@dataclass(frozen=True, slots=True)
class Answer:
    """An input answered without asking the engine.

    Attributes:
        result: Its result, or None for an input that has none (a CSV row without an
            address, a duplicate skipped by ``--dedupe``, an earlier run's answer).
        duplicate: Whether it is a duplicate skipped by ``--dedupe``.
        earlier: The rows an earlier run wrote for it, copied as they are when the
            outputs are written anew (``--retry``).
    """

    result: Result | None = None
    duplicate: bool = False
    earlier: Done | None = None


class InOrder:
    """Takes results as they complete; writes them, through ``write``, in input order.

    ``write(item, result_or_answer)`` is called under a lock, in input order, from
    whichever thread completes the run of written inputs: the caller of :meth:`put`,
    or the engine's reader thread for inputs answered at once (:meth:`feed`).
    """

    def __init__(
        self, write: Callable[[Item, Result | Answer], None], *, ahead: int = AHEAD
    ) -> None:
        self._write = write
        self._ahead = ahead
        self._lock = threading.Condition(threading.Lock())
        self._asked: dict[str, deque[int]] = {}  # address -> inputs asked, unanswered
        self._items: dict[int, Item] = {}  # asked and unanswered
        self._done: dict[int, tuple[Item, Result | Answer]] = {}  # answered, not written
        self._fed = 0
        self._written = 0
        self._closed = False

    def feed(self, items: Iterable[tuple[Item, Answer | None]]) -> Iterator[str]:
        """The addresses to give the engine: those of ``items`` without an answer.

        Waits while ``ahead`` inputs are fed and not written; stops when closed.
        """
        for item, given in items:
            with self._lock:
                while self._fed - self._written >= self._ahead and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                index = self._fed
                self._fed += 1
                if given is not None:
                    self._done[index] = (item, given)
                    self._release()
                    continue
                self._items[index] = item
                self._asked.setdefault(item.address, deque()).append(index)
            yield item.address

    def put(self, result: Result) -> None:
        """Take a result from the engine; write it and the results it was holding back.

        Results of identical inputs are interchangeable: a result goes to the earliest
        input with its text that has none yet.
        """
        with self._lock:
            waiting = self._asked[result.address]
            index = waiting.popleft()
            if not waiting:
                del self._asked[result.address]
            self._done[index] = (self._items.pop(index), result)
            self._release()

    def _release(self) -> None:
        if self._closed:
            return
        released = False
        while self._written in self._done:
            item, outcome = self._done.pop(self._written)
            self._write(item, outcome)
            self._written += 1
            released = True
        if released:
            self._lock.notify_all()

    def close(self) -> None:
        """Write nothing more, and let the feeding stop."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called: the run is stopping."""
        return self._closed

    @property
    def unwritten(self) -> int:
        """Inputs fed and not written (answered and held back, or still asked)."""
        with self._lock:
            return self._fed - self._written

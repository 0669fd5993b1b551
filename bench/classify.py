"""The classification of one 10-RCPT session of refusals, as the verifier reads it.

    python bench/classify.py

Each session has new reply texts (nothing carries over between sessions); within one,
the host's lesson, the ask-again rule and each recipient against the one probe reply
read the same replies.
"""

from __future__ import annotations

import itertools
import timeit

from smtpcheck._classify import Phase, classify_recipient, classify_reply
from smtpcheck._probe import SessionReport
from smtpcheck._verifier import lesson
from smtpcheck.protocol import Reply

UNKNOWN = "Recipient address rejected: User unknown in virtual mailbox table"
counter = itertools.count()


def session() -> None:
    k = next(counter)
    probe = Reply(550, (f"5.1.1 <q{k}x0m2k9d4w1b8z3@example.com>: {UNKNOWN}",))
    answers = {i: Reply(550, (f"5.1.1 <user{i}.{k}@example.com>: {UNKNOWN}",)) for i in range(9)}
    report = SessionReport(host="mx", answers=answers, random_reply=probe, probed=True)
    lesson(report)
    for reply in answers.values():
        classify_reply(Phase.RCPT, reply)
        classify_recipient(reply, probe, probed=True)


n = 300
per_session = timeit.timeit(session, number=n) / n * 1e3
print(f"one 10-RCPT session of refusals, classified: {per_session:.2f} ms")

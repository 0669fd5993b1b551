"""The command line's pieces, in process: ordering, resuming walk, logging, SIGTERM."""

from __future__ import annotations

import logging
import random
import signal
import threading
from pathlib import Path

import pytest

from smtpcheck._cli._args import EXIT_TERMINATED, Stopped, logging_to_stderr, sigterm_stops
from smtpcheck._cli._input import Item
from smtpcheck._cli._order import Answer, InOrder
from smtpcheck._cli._resume import Row, jsonl_rows, walk
from smtpcheck._result import Reason, Result, Verdict


def result(address: str) -> Result:
    return Result(address=address, normalized=None, verdict=Verdict.UNKNOWN, reason=Reason.TIMEOUT)


def test_in_order_writes_in_input_order_whatever_the_completion_order() -> None:
    written: list[tuple[str, Result | Answer]] = []
    order = InOrder(lambda item, outcome: written.append((item.address, outcome)), ahead=8)
    items = [Item(f"a{i % 7}@example.com") for i in range(50)]
    pairs = [(item, Answer() if i % 9 == 0 else None) for i, item in enumerate(items)]
    fed: list[str] = []
    feeding = threading.Thread(target=lambda: fed.extend(order.feed(pairs)))
    feeding.start()
    rng = random.Random(4)
    answered = 0
    asked = sum(given is None for _, given in pairs)
    while answered < asked:
        with order._lock:
            waiting = [a for a, indices in order._asked.items() for _ in indices]
            assert order._fed - order._written <= 8  # never more than ahead
        if not waiting:
            continue
        order.put(result(rng.choice(waiting)))
        answered += 1
    feeding.join(5)
    assert [address for address, _ in written] == [item.address for item in items]
    assert sum(isinstance(outcome, Answer) for _, outcome in written) == 6
    assert order.unwritten == 0


def test_in_order_close_lets_the_feeding_stop() -> None:
    order = InOrder(lambda item, outcome: None, ahead=2)
    fed: list[str] = []
    feeding = threading.Thread(
        target=lambda: fed.extend(order.feed((Item(f"{i}@x.example"), None) for i in range(10)))
    )
    feeding.start()
    while order.unwritten < 2:
        pass
    order.close()
    feeding.join(5)
    assert not feeding.is_alive()
    assert fed == ["0@x.example", "1@x.example"]


def rows(*addresses: str) -> list[Row]:
    return [Row(a, "unknown", "timeout", a + "\n") for a in addresses]


def test_walk_skips_what_the_outputs_hold_and_keeps_the_rest() -> None:
    items = [Item(a) for a in ["a", "b", "c", "d", "b"]]
    steps = list(
        walk(
            iter(items),
            [(Path("out"), iter(rows("a", "b")))],
            drops=False,
            blank_written=False,
            duplicate=None,
            seen=None,
        )
    )
    assert [(item.address, done is not None) for item, done in steps] == [
        ("a", True),
        ("b", True),
        ("c", False),
        ("d", False),
        ("b", False),
    ]


def test_walk_with_keep_counts_what_was_left_out_between_kept_rows() -> None:
    items = [Item(a) for a in ["a", "x", "y", "b", "z", "w"]]
    steps = list(
        walk(
            iter(items),
            [(Path("out"), iter(rows("a", "b")))],
            drops=True,
            blank_written=False,
            duplicate=None,
            seen=None,
        )
    )
    left_out = [item.address for item, done in steps if done is not None and done.row is None]
    todo = [item.address for item, done in steps if done is None]
    assert (left_out, todo) == (["x", "y"], ["z", "w"])


def test_walk_refuses_an_output_of_another_input() -> None:
    from smtpcheck._cli._args import UsageError

    with pytest.raises(UsageError, match="is not the output of this input"):
        list(
            walk(
                iter([Item("a"), Item("c")]),
                [(Path("out"), iter(rows("a", "b")))],
                drops=False,
                blank_written=False,
                duplicate=None,
                seen=None,
            )
        )
    with pytest.raises(UsageError, match="not in the rest of the input"):
        list(
            walk(
                iter([Item("a")]),
                [(Path("out"), iter(rows("a", "b")))],
                drops=True,
                blank_written=False,
                duplicate=None,
                seen=None,
            )
        )


def test_jsonl_rows_truncates_a_cut_last_line(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(b'{"address": "a", "verdict": "unknown"}\n{"address": "b", "ver')
    assert [row.address for row in jsonl_rows(path)] == ["a"]
    assert path.read_bytes() == b'{"address": "a", "verdict": "unknown"}\n'


def test_verbose_installs_a_handler_for_the_run_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logger = logging.getLogger("smtpcheck")
    assert logger.handlers == []  # the library installs none
    with logging_to_stderr(1):
        logger.debug("not shown at -v")
        logger.info("backing off from mx.example.com")
    with logging_to_stderr(2):
        logger.debug("connected to 192.0.2.1")
    logger.info("not shown without -v")
    err = capsys.readouterr().err
    assert "INFO smtpcheck: backing off from mx.example.com" in err
    assert "DEBUG smtpcheck: connected to 192.0.2.1" in err
    assert "not shown" not in err
    assert logger.handlers == []


def test_sigterm_raises_stopped_in_the_block_only() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with sigterm_stops(), pytest.raises(Stopped) as stopped:
        signal.raise_signal(signal.SIGTERM)
    assert stopped.value.signal == signal.SIGTERM
    assert 128 + stopped.value.signal == EXIT_TERMINATED
    assert signal.getsignal(signal.SIGTERM) == before

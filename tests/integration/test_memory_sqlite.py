"""The SQLite memory: shared by threads and processes, upgraded, and never fatal."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from smtpcheck import Reason, Reply, Verdict
from smtpcheck._memory import Fact, Lifetimes
from smtpcheck._memory_sqlite import SCHEMA_VERSION, SQLiteStore
from smtpcheck._memory_store import Memory

NOW = 1_800_000_000.0


def _fact(key: str, value: str = "{}") -> Fact:
    return Fact("result", key, key.rpartition("@")[2], value, NOW, NOW + 3600)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_facts_outlive_the_process_that_learned_them(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "memory.sqlite3"
    lifetimes = Lifetimes()
    first = Memory.file(str(path), clock=lambda: NOW)
    first.learn_result(
        "a@example.com",
        lifetimes,
        verdict=Verdict.UNDELIVERABLE,
        reason=Reason.MAILBOX_NOT_FOUND,
        reply=Reply(550, ("5.1.1 no such user \udcff",)),  # undecodable bytes survive
    )
    first.learn_host("mx.example.com", "default", lifetimes, refused_us=Reason.BLOCKED, reply=None)
    first.close()
    second = Memory.file(str(path), clock=lambda: NOW + 60)
    found = second.result("a@example.com", lifetimes)
    assert found is not None
    assert found.reply == Reply(550, ("5.1.1 no such user \udcff",))
    assert second.refusal("mx.example.com", "default", lifetimes) is not None
    assert [f.kind for f in second.about("example.com")] == ["result"]
    assert second.forget("mx.example.com") == 1
    second.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]


def test_expired_facts_are_swept_when_the_file_opens(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    store = SQLiteStore(path, clock=lambda: NOW)
    store.put(Fact("result", "old@example.com", "example.com", "{}", NOW - 10, NOW - 1))
    store.put(_fact("new@example.com"))
    assert store.get("result", "old@example.com", NOW) is None
    store.close()
    SQLiteStore(path, clock=lambda: NOW).close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT key FROM facts").fetchall() == [("new@example.com",)]


def test_the_file_keeps_at_most_max_entries(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "memory.sqlite3", clock=lambda: NOW, max_entries=100)
    for number in range(2000):
        expires = NOW + 10 + number  # the later written, the later it expires
        store.put(Fact("result", f"u{number}@example.com", "example.com", "{}", NOW, expires))
    kept = store.about("example.com", NOW)
    assert len(kept) == 100
    assert min(f.key for f in kept) == "u1900@example.com"
    store.close()


def test_threads_share_one_store(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "memory.sqlite3")

    def write(thread: int) -> None:
        for number in range(200):
            store.put(_fact(f"t{thread}n{number}@example.com"))
            assert store.get("result", f"t{thread}n{number}@example.com", NOW) is not None

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.about("example.com", NOW)) == 800
    assert not store.degraded
    store.close()


_WRITER = """
import sys
from smtpcheck._memory import Fact
from smtpcheck._memory_sqlite import SQLiteStore
path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = SQLiteStore(path, busy_timeout=30)
for number in range(count):
    key = f"{name}{number}@example.com"
    store.put(Fact("result", key, "example.com", "{}", 1.8e9, 1.9e9))
assert not store.degraded
store.close()
"""


def test_two_processes_writing_one_file_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    writers = [
        subprocess.Popen(  # noqa: S603 - this interpreter, this test's own script
            [sys.executable, "-c", _WRITER, str(path), name, "500"], stderr=subprocess.PIPE
        )
        for name in ("first", "second")
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err.decode()
        assert b"cannot be used" not in err
    store = SQLiteStore(path, clock=lambda: NOW)
    keys = {fact.key for fact in store.about("example.com", NOW)}
    assert len(keys) == 1000
    assert {f"first{n}@example.com" for n in range(500)} <= keys
    store.close()


def test_a_corrupt_file_gives_one_warning_and_the_run_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "memory.sqlite3"
    path.write_bytes(b"this is not an SQLite database, it is a shopping list\n" * 100)
    memory = Memory.file(str(path), clock=lambda: NOW)
    lifetimes = Lifetimes()
    for number in range(3):
        memory.learn_result(
            f"u{number}@example.com", lifetimes, verdict=Verdict.RISKY, reason=Reason.CATCH_ALL
        )
    assert memory.result("u2@example.com", lifetimes) is not None  # kept in this process
    warnings = _warnings(caplog)
    assert len(warnings) == 1
    assert str(path) in warnings[0]
    assert "not a database" in warnings[0]
    assert path.read_bytes().startswith(b"this is not")  # the file itself is left alone


def test_a_file_that_breaks_while_in_use(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "memory.sqlite3"
    store = SQLiteStore(path, clock=lambda: NOW)
    store.put(_fact("a@example.com"))
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE facts")
    store.put(_fact("b@example.com"))  # fails on the file: kept in memory instead
    assert store.degraded
    assert store.get("result", "b@example.com", NOW) is not None
    assert store.about("example.com", NOW) != []
    assert store.forget("example.com") == 1
    store.drop("result", "b@example.com")
    assert len(_warnings(caplog)) == 1


def test_a_locked_file_gives_one_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "memory.sqlite3"
    SQLiteStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process in the middle of a long write
    try:
        store = SQLiteStore(path, busy_timeout=0.05)
        store.put(_fact("a@example.com"))
        store.put(_fact("b@example.com"))
        assert store.degraded
        assert store.get("result", "b@example.com", NOW) is not None
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    warnings = _warnings(caplog)
    assert len(warnings) == 1
    assert "locked" in warnings[0]


def test_a_path_that_cannot_be_created_gives_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the directory should be")  # unwritable, even as root
    store = SQLiteStore(blocker / "smtpcheck" / "memory.sqlite3")
    store.put(_fact("a@example.com"))
    assert store.degraded
    assert store.get("result", "a@example.com", NOW) is not None
    assert len(_warnings(caplog)) == 1


def test_a_file_from_a_later_smtpcheck_is_left_untouched(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "memory.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION + 1,))
        db.execute("CREATE TABLE facts (whatever TEXT)")
    store = SQLiteStore(path)
    store.put(_fact("a@example.com"))
    assert store.degraded
    assert "newer than this smtpcheck's" in _warnings(caplog)[0]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version FROM schema_version").fetchone()[0] == SCHEMA_VERSION + 1


def test_a_file_without_a_schema_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE unrelated (x)")  # version 0: an empty or foreign file
    store = SQLiteStore(path, clock=lambda: NOW)
    store.put(_fact("a@example.com"))
    assert not store.degraded
    store.close()
    store.put(_fact("b@example.com"))  # after close: in this process only
    assert store.get("result", "b@example.com", NOW) is not None

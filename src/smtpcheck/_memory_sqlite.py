"""A memory in an SQLite file, shared by threads and processes (standard ``sqlite3``).

The file is in WAL mode (readers never wait for the writer), each write is its own short
transaction, and a writer that finds the file busy waits up to ``busy_timeout`` seconds:
two command-line runs, or the workers of a web application, can share one file.

The file carries its schema version (table ``schema_version``). Opening a file of an
older version upgrades it in one transaction (the migrations below, in order); a file
of a newer version, written by a later smtpcheck, is left untouched.

A file that cannot be used (locked for longer than the busy timeout, corrupt, of a
newer schema, in a directory that cannot be written) gives one warning on the
``smtpcheck`` logger, and the store carries on in this process's memory: the run loses
what the file would have remembered, never a result, and never raises.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from smtpcheck._memory import Fact
from smtpcheck._memory_store import InProcessStore

__all__ = ["SCHEMA_VERSION", "SQLiteStore"]

logger = logging.getLogger("smtpcheck")

#: The schema this smtpcheck writes.
SCHEMA_VERSION = 1

#: The statements that bring a file from version ``n - 1`` to version ``n``.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE facts (
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            subject TEXT NOT NULL,
            value TEXT NOT NULL,
            learned_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            PRIMARY KEY (kind, key)
        ) WITHOUT ROWID""",
        "CREATE INDEX facts_subject ON facts (subject)",
        "CREATE INDEX facts_expires ON facts (expires_at)",
    ),
}

#: Writes between two sweeps of the expired facts.
_SWEEP_EVERY = 1000

_COLUMNS = "kind, key, subject, value, learned_at, expires_at"


def _check_version(version: int) -> None:
    """Refuse a file written by a later smtpcheck: its schema is not ours to change."""
    if version > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(
            f"its schema version is {version}, newer than this smtpcheck's ({SCHEMA_VERSION})"
        )


class SQLiteStore:
    """Facts in an SQLite file (see the module's docstring for sharing and failures).

    Args:
        path: The file; created with its parent directories when missing.
        busy_timeout: Seconds a write waits for another writer before the store gives
            up the file (with one warning) and carries on in memory.
        clock: Wall-clock seconds, for sweeping expired facts.
        max_entries: The most facts the file keeps: every thousand writes, and when it
            opens, the expired facts go, then those nearest their expiry past the bound.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
        max_entries: int = 1_000_000,
    ) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self.clock = clock
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._fallback: InProcessStore | None = None
        self._writes = 0
        try:
            self._open()
        except (sqlite3.Error, OSError) as exc:
            self._give_up(exc)

    @property
    def degraded(self) -> bool:
        """Whether the file was given up and the facts are kept in this process only."""
        return self._fallback is not None

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout,
            isolation_level=None,  # autocommit: each statement is its own transaction
            check_same_thread=False,  # shared by threads, under self._lock
        )
        self._db = db
        db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":  # pragma: no cover - a file system without WAL
            logger.debug("smtpcheck memory %s: journal mode %s, not WAL", self.path, mode)
        db.execute("PRAGMA synchronous = NORMAL")
        self._migrate(db)
        self._sweep(db)

    def _sweep(self, db: sqlite3.Connection) -> None:
        """Drop the expired facts, then the soonest to expire past ``max_entries``."""
        db.execute("DELETE FROM facts WHERE expires_at <= ?", (self.clock(),))
        (count,) = db.execute("SELECT count(*) FROM facts").fetchone()
        if count > self.max_entries:
            db.execute(
                "DELETE FROM facts WHERE (kind, key) IN "
                "(SELECT kind, key FROM facts ORDER BY expires_at LIMIT ?)",
                (count - self.max_entries,),
            )

    def _migrate(self, db: sqlite3.Connection) -> None:
        """Bring the file to :data:`SCHEMA_VERSION`, in one transaction."""
        db.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait, then see it
        try:
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = db.execute("SELECT max(version) FROM schema_version").fetchone()
            version = int(row[0] or 0)
            _check_version(version)
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[step]:
                    db.execute(statement)
            if version < SCHEMA_VERSION:
                db.execute("DELETE FROM schema_version")
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _give_up(self, exc: BaseException) -> None:
        """Warn once, close the file, and keep the facts in this process from now on."""
        if self._fallback is None:
            logger.warning(
                "smtpcheck: the memory file %s cannot be used (%s: %s); "
                "this run remembers in memory only",
                self.path,
                type(exc).__name__,
                exc,
            )
            self._fallback = InProcessStore()
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None

    @contextmanager
    def _file(self) -> Iterator[sqlite3.Connection | None]:
        """The open file, or None once it was given up; a failure gives it up."""
        with self._lock:
            if self._db is None:
                yield None
                return
            try:
                yield self._db
            except sqlite3.Error as exc:
                self._give_up(exc)

    def get(self, kind: str, key: str, now: float) -> Fact | None:
        """The fact of *kind* about *key*, or None when unknown or expired at *now*."""
        with self._file() as db:
            if db is not None:
                row = db.execute(
                    f"SELECT {_COLUMNS} FROM facts WHERE kind = ? AND key = ? AND expires_at > ?",  # noqa: S608 - constant columns
                    (kind, key, now),
                ).fetchone()
                return None if row is None else Fact(*row)
        assert self._fallback is not None  # noqa: S101 - set when the file is given up
        return self._fallback.get(kind, key, now)

    def put(self, fact: Fact) -> None:
        """Remember *fact*, replacing the one of the same kind and key."""
        with self._file() as db:
            if db is not None:
                db.execute(
                    f"INSERT OR REPLACE INTO facts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",  # noqa: S608 - constant columns
                    (
                        fact.kind,
                        fact.key,
                        fact.subject,
                        fact.value,
                        fact.learned_at,
                        fact.expires_at,
                    ),
                )
                self._writes += 1
                if self._writes % _SWEEP_EVERY == 0:
                    self._sweep(db)
                return
        assert self._fallback is not None  # noqa: S101 - set when the file is given up
        self._fallback.put(fact)

    def drop(self, kind: str, key: str) -> None:
        """Forget the fact of *kind* about *key*, if there is one."""
        with self._file() as db:
            if db is not None:
                db.execute("DELETE FROM facts WHERE kind = ? AND key = ?", (kind, key))
                return
        assert self._fallback is not None  # noqa: S101 - set when the file is given up
        self._fallback.drop(kind, key)

    def about(self, name: str, now: float) -> list[Fact]:
        """The unexpired facts about *name*: a host, a domain or an address."""
        with self._file() as db:
            if db is not None:
                rows = db.execute(
                    f"SELECT {_COLUMNS} FROM facts "  # noqa: S608 - constant columns
                    "WHERE (subject = ? OR key = ?) AND expires_at > ? ORDER BY kind, key",
                    (name, name, now),
                ).fetchall()
                return [Fact(*row) for row in rows]
        assert self._fallback is not None  # noqa: S101 - set when the file is given up
        return self._fallback.about(name, now)

    def forget(self, name: str) -> int:
        """Forget every fact about *name*; say how many there were."""
        with self._file() as db:
            if db is not None:
                cursor = db.execute("DELETE FROM facts WHERE subject = ? OR key = ?", (name, name))
                return cursor.rowcount
        assert self._fallback is not None  # noqa: S101 - set when the file is given up
        return self._fallback.forget(name)

    def close(self) -> None:
        """Close the file (later calls keep the facts in this process)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
                self._fallback = InProcessStore()

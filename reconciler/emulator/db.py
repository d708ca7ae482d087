"""SQLite storage for the emulator: the tables, a small connection pool and transactions.

For: durable state (WAL, survives a restart) with no lost update under concurrent writers:
every write runs in ``BEGIN IMMEDIATE``, so writers queue on SQLite's lock instead of racing.
Connections are pooled because opening one per request would dominate a list request.
The tables are the shared ``meta`` (the model clock's offset) and those of every service
(``Service.schema``, created when the database opens).
Not for: business rules (each service's ``models``).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .options import MEMORY_DB

# The shared table; each service brings its own (``Service.schema``).
META_SCHEMA = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"


class Database:
    """A pool of connections to one SQLite file (or one shared in-memory database)."""

    def __init__(self, path: str, schema: str = "") -> None:
        self._path = path
        self._memory = path == MEMORY_DB
        if not self._memory:
            parent = os.path.dirname(os.path.abspath(path))
            os.makedirs(parent, exist_ok=True)
        self._idle: list[sqlite3.Connection] = []
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # An in-memory database lives in one connection, so all threads take turns on it.
        self._memory_turn = threading.Lock()
        self._closed = False
        self._generation = 0
        with self._borrow() as conn:
            conn.executescript(META_SCHEMA + schema)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        conn.row_factory = sqlite3.Row
        if not self._memory:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        with self._lock:
            self._opened.append(conn)
        return conn

    @contextmanager
    def _borrow(self) -> Iterator[sqlite3.Connection]:
        if self._memory:
            with self._memory_turn:
                if not self._opened:
                    self._connect()
                yield self._opened[0]
            return
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        finally:
            with self._lock:
                if self._closed:
                    conn.close()
                else:
                    self._idle.append(conn)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees one snapshot."""
        with self._borrow() as conn:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken up front, committed on success, rolled back on error."""
        with self._borrow() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            with self._lock:
                self._generation += 1

    @property
    def generation(self) -> int:
        """Counts committed writes; a cached answer is good while this has not moved.

        Bumped after COMMIT and before the writer answers, so a client never gets an answer
        cached before its own acknowledged write. Assumes one emulator per database file.
        """
        return self._generation

    def clear(self) -> None:
        """Empty every table, the newest first (a table's rows before those they refer to)."""
        with self.write() as conn:
            tables = conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid DESC"
            ).fetchall()
            for (table,) in tables:
                conn.execute(f'DELETE FROM "{table}"')

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            if self._memory:
                idle = list(self._opened)
        for conn in idle:
            conn.close()

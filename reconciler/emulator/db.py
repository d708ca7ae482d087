"""SQLite storage for the emulator: schema, a small connection pool and transactions.

For: durable state (WAL, survives a restart) with no lost update under concurrent writers:
every write runs in ``BEGIN IMMEDIATE``, so writers queue on SQLite's lock instead of racing.
Connections are pooled because opening one per request would dominate a list request.
Not for: business rules (see :mod:`.registry` and :mod:`.clusters`).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .options import MEMORY_DB

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS registry_user (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    username TEXT NOT NULL,
    password_sha256 TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS namespaces (
    name TEXT PRIMARY KEY,
    public INTEGER NOT NULL,
    owner TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS repositories (
    namespace TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    PRIMARY KEY (namespace, name)
);
CREATE TABLE IF NOT EXISTS tags (
    namespace TEXT NOT NULL,
    repository TEXT NOT NULL,
    tag TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (namespace, repository, tag),
    FOREIGN KEY (namespace, repository)
        REFERENCES repositories(namespace, name) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS clusters (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    status TEXT NOT NULL,
    next_status TEXT,
    due REAL,
    container_net TEXT NOT NULL,
    main_zone TEXT NOT NULL,
    created REAL NOT NULL,
    deleted REAL,
    spec TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS nodes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    short_id TEXT NOT NULL UNIQUE,
    cluster_uuid TEXT NOT NULL REFERENCES clusters(uuid) ON DELETE CASCADE,
    status TEXT NOT NULL,
    next_status TEXT,
    due REAL,
    created REAL NOT NULL,
    spec TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS nodes_by_cluster ON nodes(cluster_uuid, seq);
CREATE TABLE IF NOT EXISTS free_instances (instance_id TEXT PRIMARY KEY, spec TEXT NOT NULL);
-- CCE v2 (ccev2_models): steps = JSON [[due, phase], ...] still to come; due = the first one's.
CREATE TABLE IF NOT EXISTS ccev2_clusters (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    cluster_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    phase TEXT NOT NULL,
    steps TEXT NOT NULL,
    due REAL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    spec TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ccev2_instance_groups (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id TEXT NOT NULL UNIQUE,
    cluster_id TEXT NOT NULL REFERENCES ccev2_clusters(cluster_id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    replicas INTEGER NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    spec TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ccev2_instances (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    cce_instance_id TEXT NOT NULL UNIQUE,
    machine_id TEXT NOT NULL UNIQUE,
    cluster_id TEXT NOT NULL REFERENCES ccev2_clusters(cluster_id) ON DELETE CASCADE,
    group_id TEXT NOT NULL,
    role TEXT NOT NULL,
    phase TEXT NOT NULL,
    steps TEXT NOT NULL,
    due REAL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    spec TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ccev2_instances_by_group ON ccev2_instances(group_id, seq);
CREATE INDEX IF NOT EXISTS ccev2_instances_by_cluster ON ccev2_instances(cluster_id, seq);
"""

TABLES = (
    "ccev2_instances",
    "ccev2_instance_groups",
    "ccev2_clusters",
    "tags",
    "repositories",
    "namespaces",
    "registry_user",
    "nodes",
    "clusters",
    "free_instances",
    "meta",
)


class Database:
    """A pool of connections to one SQLite file (or one shared in-memory database)."""

    def __init__(self, path: str) -> None:
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
            conn.executescript(SCHEMA)

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
        with self.write() as conn:
            for table in TABLES:
                conn.execute(f"DELETE FROM {table}")
            conn.execute("DELETE FROM sqlite_sequence")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            if self._memory:
                idle = list(self._opened)
        for conn in idle:
            conn.close()

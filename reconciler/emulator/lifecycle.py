"""Lifecycles that advance on the model clock, applied lazily: one piece for every service.

For: a service whose objects change on their own (a cluster goes from creating to running)
stores each coming step with its due time in model-clock seconds, and applies every step that
is due before any read or write, so ``POST /__emulator/advance`` moves everything at once and a
0-second step shows on the next read. The service gives two things: ``due``, a query that
returns a row when any step is due at ``?1`` (now), and ``advance(conn, now)``, which applies
every due step inside a write transaction. Reads settle first (cheap when nothing is due);
writes settle inside their own transaction, so no step is applied twice or missed.
Not for: what the steps are (each service's ``models``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .store import Store

Advance = Callable[[sqlite3.Connection, float], None]


class Lifecycle:
    def __init__(self, store: Store, due: str, advance: Advance) -> None:
        self._db = store.db
        self._clock = store.clock
        self._due = due
        self._advance = advance

    def settle(self) -> None:
        """Apply every step that is due; one cheap query when none is."""
        now = self._clock.now()
        with self._db.read() as conn:
            if conn.execute(self._due, (now,)).fetchone() is None:
                return
        with self._db.write() as conn:
            self._advance(conn, now)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction on settled data."""
        self.settle()
        with self._db.read() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[tuple[sqlite3.Connection, float]]:
        """A write transaction on settled data, and the model-clock time it runs at."""
        now = self._clock.now()
        with self._db.write() as conn:
            self._advance(conn, now)
            yield conn, now

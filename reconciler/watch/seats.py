"""Which worker works which environment, decided by PostgreSQL alone.

For: spreading the environments of several ``reconciler watch`` processes over the processes
that are alive, with no queue, broker or scheduler of our own. Each process takes a numbered
*seat* in each state database its environments use: a session-level advisory lock
``(pool, n)`` held on a connection kept open for the life of the process, where ``pool`` is
derived from the set of environments watched (processes watching the same set share a pool).
The live seats are read from ``pg_locks``; the environments, sorted by name, go round-robin to
the seats, sorted by number. A process that dies loses its connection, so its seat, and the
others take its environments at their next turn (within one interval).

A seat only spreads the work. Exclusion is the state's own lock, taken with try-lock for each
turn: while seats change, two processes may both think an environment is theirs, and one of
them then finds the state locked and skips it. File states have no seats: every process
works every environment (one process is the supported setup).
Not for: the state lock or its fencing (``state.postgres``).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from typing import Any

from reconciler.errors import StateError
from reconciler.state import StateStore
from reconciler.state.postgres import MIGRATION_LOCK, PostgresStateStore, redact

MAX_SEATS = 1024
CONNECT_TIMEOUT = 10

_LIVE_SEATS = """
SELECT objid::bigint FROM pg_locks
 WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid::bigint = %(pool)s
   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
 ORDER BY objid
"""


def pool_key(environments: Sequence[str]) -> int:
    """A 31-bit key for the set of environments watched (never the migration lock's)."""
    text = "cce-reconciler:watch:" + "\0".join(sorted(environments))
    key = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") & 0x7FFFFFFF
    return key ^ 1 if key == MIGRATION_LOCK[0] else key


class Seat:
    """This process's seat in one state database."""

    def __init__(self, url: str, pool: int) -> None:
        self.url = url
        self.pool = pool
        self.number: int | None = None
        self._conn: Any = None

    def live(self) -> list[int]:
        """The seats taken now (this one included), taking a seat first if needed."""
        import psycopg

        try:
            if self._conn is None or self._conn.closed:
                self._take()
            return [int(row[0]) for row in self._conn.execute(_LIVE_SEATS, {"pool": self.pool})]
        except psycopg.Error as exc:
            self.close()
            message = redact(" ".join(str(exc).split()), None)
            raise StateError(f"watch seats in {redact(self.url, None)}: {message}") from None

    def _take(self) -> None:
        import psycopg

        conn = psycopg.connect(
            self.url,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT,
            application_name="cce-reconciler watch",
        )
        if conn.info.server_version >= 140000:
            conn.execute("SET idle_session_timeout TO 0")
        for number in range(MAX_SEATS):
            row = conn.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", (self.pool, number)
            ).fetchone()
            if row and row[0]:
                self._conn, self.number = conn, number
                return
        conn.close()
        raise StateError(f"watch seats: all {MAX_SEATS} seats of the pool are taken")

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn, self.number = None, None


class Seats:
    """This process's seats, one per state database, and the round-robin over them."""

    def __init__(self, environments: Sequence[str]) -> None:
        self.order = sorted(environments)
        self.pool = pool_key(self.order)
        self._seats: dict[str, Seat] = {}
        self._lock = threading.Lock()

    def is_mine(self, environment: str, store: StateStore) -> bool:
        if not isinstance(store, PostgresStateStore):
            return True
        with self._lock:
            seat = self._seats.setdefault(store.url, Seat(store.url, self.pool))
            live = seat.live()
            mine = seat.number
        index = self.order.index(environment) if environment in self.order else 0
        return bool(live) and live[index % len(live)] == mine

    def describe(self) -> dict[str, int | None]:
        with self._lock:
            return {redact(url, None): seat.number for url, seat in self._seats.items()}

    def close(self) -> None:
        with self._lock:
            for seat in self._seats.values():
                seat.close()
            self._seats.clear()

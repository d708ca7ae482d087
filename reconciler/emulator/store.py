"""What every service model is built on: one database, the model clock, the random source,
the running settings and the region.

For: one instance per emulator, handed to each service's model factory, and what the admin
endpoints need in one place: ``reset()`` (empty every table, clock and random source back to
their start), ``advance()`` (move the model clock, persisted so a restart keeps lifecycles
consistent), ``reseed()``. Plain Python, no HTTP.
Not for: the rules of any resource (each service's ``models``).
"""

from __future__ import annotations

from .clock import ModelClock
from .db import Database
from .rng import SeededRandom
from .settings import Settings

_OFFSET_KEY = "clock_offset"


class Store:
    def __init__(
        self, db_path: str, settings: Settings, region: str = "bj", schema: str = ""
    ) -> None:
        self.db = Database(db_path, schema)
        self.settings = settings
        self.region = region
        self.clock = ModelClock(self._stored_offset())
        self.rng = SeededRandom(settings.current.seed)

    def _stored_offset(self) -> float:
        with self.db.read() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (_OFFSET_KEY,)).fetchone()
        return float(row[0]) if row else 0.0

    def advance(self, seconds: float) -> float:
        """Move the model clock forward; return the total offset from real time."""
        offset = self.clock.advance(seconds)
        with self.db.write() as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_OFFSET_KEY, repr(offset)))
        return offset

    def reseed(self, seed: int) -> None:
        self.rng.reseed(seed)

    def reset(self) -> None:
        """Empty every table and return the clock and the random source to their start."""
        self.db.clear()
        self.clock.set_offset(0.0)
        self.rng.reseed(self.settings.current.seed)

    def close(self) -> None:
        self.db.close()

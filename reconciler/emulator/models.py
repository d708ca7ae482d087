"""The emulator's model: one object holding the registry, the clusters and CCR Enterprise over
one database.

For: what tests and the admin endpoints need in one place: ``reset()`` (empty everything),
``advance()`` (move the model clock, persisted so a restart keeps lifecycles consistent),
``reseed()``. Plain Python, no HTTP. Not for: rules of a resource kind
(:mod:`.registry`, :mod:`.clusters`).
"""

from __future__ import annotations

from .ccr.models import Ccr
from .clock import ModelClock
from .clusters import Clusters
from .db import Database
from .registry import Registry
from .rng import SeededRandom
from .settings import Settings

_OFFSET_KEY = "clock_offset"


class Model:
    def __init__(self, db_path: str, settings: Settings, region: str = "bj") -> None:
        self.db = Database(db_path)
        self.settings = settings
        self.clock = ModelClock(self._stored_offset())
        self.rng = SeededRandom(settings.current.seed)
        self.registry = Registry(self.db, self.clock, settings)
        self.clusters = Clusters(self.db, self.clock, settings, self.rng, region)
        self.ccr = Ccr(self.db, self.clock, settings, self.rng, region)

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
        self.ccr.reset()

    def close(self) -> None:
        self.db.close()

"""The model clock: real time plus an offset that ``POST /__emulator/advance`` moves.

For: cluster lifecycles and the timestamps the emulator writes, so tests can skip time instead
of sleeping. Not for: signature expiry (always checked against real time) or throttling.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from functools import lru_cache

ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time.Time, used for "never" (deleteTime ...)


class ModelClock:
    def __init__(self, offset: float = 0.0) -> None:
        self._offset = offset
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    def set_offset(self, offset: float) -> None:
        with self._lock:
            self._offset = offset

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._offset += seconds
            return self._offset


def rfc3339(moment: float | None) -> str:
    """``2019-03-11T04:17:29Z``; ``None`` gives the zero time."""
    if moment is None:
        return ZERO_TIME
    return _format_second(int(moment))


@lru_cache(maxsize=65536)
def _format_second(second: int) -> str:
    # Objects made in one burst share their second: formatting once each is a list's main cost.
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

"""A seeded random source shared by threads: ids, cluster fates and fault draws.

For: reproducible runs (same seed and request order, same ids, fates and faults); one lock
keeps draws from interleaving halfway. Not for: request ids, which are plain uuid4.
"""

from __future__ import annotations

import random
import string
import threading
import uuid

_ALPHANUMERIC = string.ascii_letters + string.digits


class SeededRandom:
    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._random.seed(seed)

    def random(self) -> float:
        with self._lock:
            return self._random.random()

    def uniform(self, low: float, high: float) -> float:
        with self._lock:
            return self._random.uniform(low, high)

    def short_id(self, prefix: str, length: int = 8) -> str:
        """``c-qBH9sE28``-style ids: a prefix and alphanumerics."""
        with self._lock:
            return prefix + "".join(self._random.choices(_ALPHANUMERIC, k=length))

    def uuid4(self) -> str:
        with self._lock:
            return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def hex(self, length: int) -> str:
        with self._lock:
            return "".join(self._random.choices("0123456789abcdef", k=length))

"""A thread-safe token bucket: at most ``rate`` requests per second on average, ``burst`` at once.

For: pacing requests to the API (``--rate``), independently of how many worker threads run
(``--parallelism``). Not for: retries or backoff (``transport``).

The clock and the sleep are injected so that tests can drive time by hand.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self,
        rate: float,
        burst: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.burst = max(1, burst if burst is not None else int(rate) or 1)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(self.burst)
        self._updated = clock()

    def acquire(self) -> float:
        """Take one token, sleeping until it is due; return the time slept."""
        wait = self._reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    def _reserve(self) -> float:
        # The token is taken at once (the balance may go negative) and the wait happens outside
        # the lock, so waiting threads queue up in order without holding each other up.
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._updated)
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
            self._updated = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

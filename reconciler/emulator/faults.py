"""Injected trouble: latency, random faults, forced faults and throttling, all reproducible.

For: deciding, before an API request runs, how long it waits and whether it fails, from a
``random.Random(seed)`` behind a lock, so the same seed and request order give the same faults.
A fault rate F is split evenly among 500 ``InternalError``, 503 ``ServiceUnavailable``,
429 ``RequestLimitExceeded``, a connection reset before processing (``reset``) and, for
mutating requests only, "commit then drop the response" (``drop``). Forced faults
(``fail_next``) come first. Throttling (429 above N requests/second) uses real time.
Not for: carrying faults out (the app answers, the server's request handler resets sockets),
or the admin endpoints, which are never faulted.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from reconciler import error_codes

from .rng import SeededRandom
from .settings import Knobs, Settings

RESET = "reset"  # close the connection with a TCP reset before doing anything
DROP = "drop"  # do the work, commit, then reset instead of answering
_READ_FAULTS = ("InternalError", "ServiceUnavailable", "RequestLimitExceeded", RESET)
_WRITE_FAULTS = (*_READ_FAULTS, DROP)


@dataclass(frozen=True)
class Decision:
    latency: float  # seconds to wait before answering
    fault: str | None  # None, an error code, RESET or DROP


def check_fault(name: str) -> str:
    if name in (RESET, DROP) or error_codes.lookup(name) is not None:
        return name
    raise ValueError(f"{name!r} is neither an error code, {RESET!r} nor {DROP!r}")


class FaultInjector:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._rng = SeededRandom(settings.current.seed)
        self._lock = threading.Lock()
        self._next_mutating: deque[str] = deque()
        self._next_any: deque[str] = deque()

    def decide(self, mutating: bool) -> Decision:
        knobs = self._settings.current
        with self._lock:  # both draws of one request stay together
            latency = self._latency(knobs)
            drawn = self._draw(knobs, mutating)
            forced = self._forced(mutating)
        return Decision(latency, forced if forced is not None else drawn)

    def force(self, faults: Iterable[str], mutating_only: bool = True) -> None:
        """The next requests (mutating ones, or any) fail with these, in order."""
        checked = [check_fault(f) for f in faults]
        with self._lock:
            (self._next_mutating if mutating_only else self._next_any).extend(checked)

    def pending(self) -> dict[str, list[str]]:
        with self._lock:
            return {"fail_next": list(self._next_mutating), "fail_next_any": list(self._next_any)}

    def reseed(self, seed: int) -> None:
        self._rng.reseed(seed)

    def reset(self) -> None:
        with self._lock:
            self._next_mutating.clear()
            self._next_any.clear()
        self._rng.reseed(self._settings.current.seed)

    def _latency(self, knobs: Knobs) -> float:
        jitter = self._rng.uniform(0.0, knobs.latency_jitter_ms) if knobs.latency_jitter_ms else 0.0
        return (knobs.latency_ms + jitter) / 1000.0

    def _draw(self, knobs: Knobs, mutating: bool) -> str | None:
        if not knobs.fault_rate:
            return None
        roll = self._rng.random()
        if roll >= knobs.fault_rate:
            return None
        kinds = _WRITE_FAULTS if mutating else _READ_FAULTS
        return kinds[min(int(roll / knobs.fault_rate * len(kinds)), len(kinds) - 1)]

    def _forced(self, mutating: bool) -> str | None:
        if self._next_any:
            return self._next_any.popleft()
        if mutating and self._next_mutating:
            return self._next_mutating.popleft()
        return None


class Throttle:
    """A token bucket refilled at ``rps`` per second holding at most one second's worth."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rate = 0.0
        self._tokens = 0.0
        self._last = time.monotonic()

    def allow(self, rps: float) -> bool:
        if rps <= 0:
            return True
        with self._lock:
            now = time.monotonic()
            if rps != self._rate:
                self._rate, self._tokens = rps, max(rps, 1.0)
            capacity = max(rps, 1.0)
            self._tokens = min(capacity, self._tokens + (now - self._last) * rps)
            self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False

    def reset(self) -> None:
        with self._lock:
            self._rate = 0.0

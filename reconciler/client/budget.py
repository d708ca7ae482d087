"""One request budget per API host, shared by every client of a process that talks to it.

For: a long-running process (``reconciler watch``) whose environments each open their own
client: :class:`HostBudget` paces all of them together and pauses the whole host after
``pause_after`` answers of 429 or 503 in a row, for ``pause`` seconds, doubled at each pause that follows without a good answer between,
up to ``max_pause``. While a host is paused no request is sent: the transport raises
:class:`~reconciler.errors.ServicePausedError` at once. :class:`Budgets` holds one per host.
Not for: retries of one request (``retry``), or a single command's ``--rate`` (the transport's
own token bucket).

Pacing: ``rate`` requests per second as the *server* counts them, whatever the time requests
take to arrive. A request takes one of ``capacity`` (= the rate, rounded down) slots, which is
free again one second after its *answer* came back (``release``). Request k+capacity is then
sent after request k was answered, so it reaches the server more than a second after request k
did: no second of the server's clock sees more than ``capacity`` of them. (A rate below one is
one slot reused 1/rate seconds after each answer.) The cost is latency: a slot is busy for the
request's round trip plus one second.

The clock and the sleep are injected so that tests can drive time by hand.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from reconciler.errors import ServicePausedError

# Answers that say "this host is overloaded: back off" (throttled, unavailable).
OVERLOAD_STATUSES = frozenset({429, 503})
WINDOW = 1.0  # seconds a slot rests after its answer (see the module docstring)
POLL = 0.05  # how often a thread waiting for a slot in flight looks again

AnswerObserver = Callable[[str, int | None, str], None]


def host_of(endpoint: str) -> str:
    """``https://cce.bj.baidubce.com`` -> ``cce.bj.baidubce.com`` (with a port if it has one)."""
    parts = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}")
    host = (parts.hostname or endpoint).lower()
    return f"{host}:{parts.port}" if parts.port else host


@dataclass
class Slot:
    """One request's place in a host's budget: taken at ``start``, answered at ``end``."""

    start: float
    end: float | None = None


class HostBudget:
    """Paces and pauses the requests to one API host; thread-safe."""

    def __init__(
        self,
        host: str,
        rate: float | None = None,
        *,
        pause_after: int = 5,
        pause: float = 60.0,
        max_pause: float = 900.0,
        observer: AnswerObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive")
        self.host = host
        self.rate = rate
        self.pause_after = pause_after
        self.pause = pause
        self.max_pause = max_pause
        self._observer = observer
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._slots: list[Slot] = []  # in flight (end None) or answered less than a span ago
        self._overloaded = 0  # 429/503 answers in a row
        self._pauses = 0  # pauses in a row without a good answer between
        self.paused_until = 0.0

    def acquire(self) -> Slot:
        """Wait for a slot (raise ServicePausedError while the host is paused); give it back
        with :meth:`release` once the answer (or the failure) is in."""
        while True:
            slot, wait = self._reserve()
            if slot is not None:
                return slot
            self._sleep(wait)

    def release(self, slot: Slot) -> None:
        with self._lock:
            slot.end = self._clock()

    def _reserve(self) -> tuple[Slot | None, float]:
        with self._lock:
            now = self._clock()
            if now < self.paused_until:
                raise ServicePausedError(
                    f"requests to {self.host} are paused for {self.paused_until - now:.1f} s "
                    f"more after {self.pause_after} answers of 429/503 in a row"
                )
            if self.rate is None:
                return Slot(now), 0.0
            capacity = max(1, int(self.rate))
            span = max(WINDOW, capacity / self.rate)
            # 1e-9: float rounding must not leave a slot a hair short of free, forever
            self._slots = [s for s in self._slots if s.end is None or now - s.end < span - 1e-9]
            if len(self._slots) < capacity:
                slot = Slot(now)
                self._slots.append(slot)
                return slot, 0.0
            rests = [s.end + span - now for s in self._slots if s.end is not None]
            return None, min(rests) if rests else POLL

    def answered(self, status: int | None, code: str = "") -> None:
        """Count one answer (``status`` None: none came); pause the host on overload."""
        if self._observer is not None:
            self._observer(self.host, status, code)
        if status is None:
            return
        with self._lock:
            if status not in OVERLOAD_STATUSES:
                self._overloaded = 0
                if status < 500:
                    self._pauses = 0
                return
            self._overloaded += 1
            if self._overloaded < self.pause_after:
                return
            self._overloaded = 0
            self._pauses += 1
            length = min(self.max_pause, self.pause * 2 ** (self._pauses - 1))
            self.paused_until = self._clock() + length

    def paused_for(self) -> float:
        """Seconds left in the current pause (0 when requests may go)."""
        with self._lock:
            return max(0.0, self.paused_until - self._clock())


class Budgets:
    """One :class:`HostBudget` per API host, made on first use with this process's limits."""

    def __init__(
        self,
        rate: float | None = None,
        per_host: dict[str, float] | None = None,
        *,
        pause_after: int = 5,
        pause: float = 60.0,
        observer: AnswerObserver | None = None,
    ) -> None:
        self.rate = rate
        self.per_host = dict(per_host or {})
        self.pause_after = pause_after
        self.pause = pause
        self.observer = observer
        self._lock = threading.Lock()
        self._hosts: dict[str, HostBudget] = {}

    def for_endpoint(self, endpoint: str) -> HostBudget:
        host = host_of(endpoint)
        with self._lock:
            if host not in self._hosts:
                self._hosts[host] = HostBudget(
                    host,
                    self.per_host.get(host, self.rate),
                    pause_after=self.pause_after,
                    pause=self.pause,
                    max_pause=max(self.pause, 15 * self.pause),
                    observer=self.observer,
                )
            return self._hosts[host]

    def hosts(self) -> list[HostBudget]:
        with self._lock:
            return list(self._hosts.values())

"""One request budget per API host, shared by every client of a process that talks to it.

For: a long-running process (``reconciler watch``) whose environments each open their own
client: :class:`HostBudget` paces all of them together (at most ``rate`` requests started in any
one-second window) and pauses the whole host after ``pause_after`` answers of 429 or 503 in a
row, for ``pause`` seconds, doubled at each pause that follows without a good answer between,
up to ``max_pause``. While a host is paused no request is sent: the transport raises
:class:`~reconciler.errors.ServicePausedError` at once. :class:`Budgets` holds one per host.
Not for: retries of one request (``retry``), or a single command's ``--rate`` (the transport's
own token bucket).

The clock and the sleep are injected so that tests can drive time by hand.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from urllib.parse import urlsplit

from reconciler.errors import ServicePausedError

# Answers that say "this host is overloaded: back off" (throttled, unavailable).
OVERLOAD_STATUSES = frozenset({429, 503})
# A sliding window a tenth longer than one second: what the server counts as "one second"
# starts when a request arrives, which may be tens of milliseconds after it was sent (a new
# connection, a busy machine); the margin keeps the server's count within the rate.
WINDOW = 1.1

AnswerObserver = Callable[[str, int | None, str], None]


def host_of(endpoint: str) -> str:
    """``https://cce.bj.baidubce.com`` -> ``cce.bj.baidubce.com`` (with a port if it has one)."""
    parts = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}")
    host = (parts.hostname or endpoint).lower()
    return f"{host}:{parts.port}" if parts.port else host


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
        # start times of the requests in the current window (at most ceil(rate) of them)
        self._starts: deque[float] = deque()
        self._overloaded = 0  # 429/503 answers in a row
        self._pauses = 0  # pauses in a row without a good answer between
        self.paused_until = 0.0

    def acquire(self) -> float:
        """Wait for the next slot (raise ServicePausedError while the host is paused); return
        the time slept."""
        slept = 0.0
        while True:
            wait = self._reserve()
            if wait <= 0:
                return slept
            self._sleep(wait)
            slept += wait

    def _reserve(self) -> float:
        with self._lock:
            now = self._clock()
            if now < self.paused_until:
                raise ServicePausedError(
                    f"requests to {self.host} are paused for {self.paused_until - now:.1f} s "
                    f"more after {self.pause_after} answers of 429/503 in a row"
                )
            if self.rate is None:
                return 0.0
            # ``capacity`` requests per ``span``: rate per second, never more in any second
            capacity = max(1, int(self.rate))
            span = max(WINDOW, capacity / self.rate)
            while self._starts and now - self._starts[0] >= span - 1e-9:  # float rounding
                self._starts.popleft()
            if len(self._starts) < capacity:
                self._starts.append(now)
                return 0.0
            return span - (now - self._starts[0])

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

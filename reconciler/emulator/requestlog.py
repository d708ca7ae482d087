"""The request log that ``GET /__emulator/requests`` serves.

For: tests that count requests ("no mutating request on the second run") or check what a
fault did. Entries have stable indexes, so ``?since=N`` reads only what came after.
Bounded: the oldest entries go first once ``limit`` is reached.
Not for: admin requests, which are not logged.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Entry:
    method: str
    path: str
    query: dict[str, str]
    status: int | None  # None: no HTTP answer was sent (reset)
    code: str | None  # the error code, None on success
    time: float  # real time, seconds since the epoch
    mutating: bool
    request_id: str
    fault: str | None  # the injected fault, if any
    agent: str = ""  # the User-Agent: which client (and, for ``watch``, which worker and run)

    def to_json(self, index: int) -> dict[str, Any]:
        data = asdict(self)
        data["requestId"] = data.pop("request_id")
        return {"index": index, **data}


class RequestLog:
    def __init__(self, limit: int = 100_000) -> None:
        self._entries: deque[Entry] = deque(maxlen=limit)
        self._dropped = 0  # entries pushed out by the bound, so indexes stay stable
        self._lock = threading.Lock()

    def append(self, entry: Entry) -> None:
        with self._lock:
            if len(self._entries) == self._entries.maxlen:
                self._dropped += 1
            self._entries.append(entry)

    def since(self, index: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Entries from ``index`` on, and the index the next entry will get."""
        with self._lock:
            start = max(index - self._dropped, 0)
            chosen = list(self._entries)[start:]
            first = self._dropped + start
            total = self._dropped + len(self._entries)
        return [entry.to_json(first + i) for i, entry in enumerate(chosen)], total

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._dropped = 0

"""Encoded answers of registry reads, reused until the next committed write.

For: list-heavy clients (a refresh lists every namespace and image, a benchmark lists in a
loop): the JSON of an unchanged page is built once. Keys are the endpoint, the path
variables and the query; an entry is valid only for the database generation it was built at.
Not for: cluster reads, whose answers change with the model clock without any write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

MAX_ENTRIES = 512


class AnswerCache:
    def __init__(self) -> None:
        self._entries: dict[Hashable, tuple[int, bytes]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, generation: int, build: Callable[[], bytes]) -> bytes:
        with self._lock:
            found = self._entries.get(key)
        if found is not None and found[0] == generation:
            return found[1]
        answer = build()  # outside the lock: concurrent misses just build twice
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (generation, answer)
        return answer

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

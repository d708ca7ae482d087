"""POST events to a webhook, in the background, never holding up the caller.

For: ``reconciler watch --webhook REF``: each event is queued (at most ``MAX_QUEUED``; the
oldest is dropped past that, and counted) and sent as JSON by one thread, with a short
timeout; a failure is said once per kind of failure, without the URL (which often carries a
token). Not for: the cloud's API (``transport``).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

MAX_QUEUED = 1000
TIMEOUT = 5.0


class Webhook:
    def __init__(self, url: str, say: Callable[[str], None], timeout: float = TIMEOUT) -> None:
        self._url = url
        self._say = say
        self._timeout = timeout
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(MAX_QUEUED)
        self._session = requests.Session()
        self._session.trust_env = False
        self.sent = 0
        self.failed = 0
        self.dropped = 0
        self._last_problem = ""
        self._thread = threading.Thread(target=self._run, name="webhook", daemon=True)
        self._thread.start()

    def __call__(self, event: dict[str, Any]) -> None:
        self._put(event)

    def _put(self, item: dict[str, Any] | None) -> None:
        """Queue ``item``, dropping the oldest event when the queue is full."""
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            self._post(event)

    def _post(self, event: dict[str, Any]) -> None:
        try:
            response = self._session.post(self._url, json=event, timeout=self._timeout)
            problem = "" if response.status_code < 300 else f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            problem = type(exc).__name__
        if not problem:
            self.sent += 1
            self._last_problem = ""
            return
        self.failed += 1
        if problem != self._last_problem:
            self._last_problem = problem
            self._say(f"webhook: an event could not be delivered ({problem}); later ones are tried")

    def close(self, wait: float = 5.0) -> None:
        """Send what is queued (for up to ``wait`` seconds), then stop."""
        deadline = time.monotonic() + wait
        self._put(None)
        self._thread.join(max(0.0, deadline - time.monotonic()))
        self._session.close()

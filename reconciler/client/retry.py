"""When to retry a failed request, how long to wait, and how many retries a run may spend.

For: the transport's retry loop (botocore ``retries/standard.py``: small ``is_retryable`` checks
plus capped exponential backoff with full jitter). Not for: waiting on busy resources
(``Cce.ClusterCreating`` ...), which callers do with their own waiters.

Random numbers come from an injected function so that tests are deterministic.
"""

from __future__ import annotations

import random as _random
import threading
from collections.abc import Callable

from reconciler.errors import (
    AnswerTooLargeError,
    ApiError,
    BadResponseError,
    ConnectionFailedError,
    RetryBudgetExhaustedError,
    TransientServerError,
)
from reconciler.records import frozen_record


@frozen_record
class Backoff:
    """Full jitter: a uniform delay in [0, min(cap, base * 2**(attempt-1))]."""

    base: float = 0.2
    cap: float = 5.0
    # A Retry-After longer than this is cut down: a run should not stall for minutes.
    max_retry_after: float = 60.0

    def delay(
        self, attempt: int, retry_after: float | None, random: Callable[[], float] = _random.random
    ) -> float:
        ceiling = min(self.cap, self.base * (2 ** max(0, attempt - 1)))
        jittered = random() * ceiling
        if retry_after is None:
            return jittered
        return max(jittered, min(retry_after, self.max_retry_after))


def is_retryable(error: ApiError) -> bool:
    """Transient codes, 5xx and 429 answers, connection failures (a missed per-request
    deadline included) and answers cut at the size limit; nothing else.

    An answer the client could not parse is retryable when its status says the server is
    overloaded or failing (typically an HTML page from a proxy in front of the API). The
    transport never offers a mutation whose answer was lost or cut: that is an
    ``OutcomeUnknownError``, which is not retryable.
    """
    if isinstance(error, TransientServerError | ConnectionFailedError | AnswerTooLargeError):
        return True
    return isinstance(error, BadResponseError) and (error.status == 429 or error.status >= 500)


class RetryBudget:
    """Retries left for the whole run, shared by every thread and every transport given it."""

    def __init__(self, limit: int = 50) -> None:
        self.limit = limit
        self._spent = 0
        self._lock = threading.Lock()

    @property
    def spent(self) -> int:
        return self._spent

    def spend(self, error: ApiError) -> None:
        """Take one retry, or raise RetryBudgetExhaustedError carrying ``error``'s details."""
        with self._lock:
            if self._spent < self.limit:
                self._spent += 1
                return
        raise RetryBudgetExhaustedError(
            f"giving up after {self.limit} retries this run: the endpoint looks unavailable "
            f"(last error: {error.message})",
            status=error.status,
            code=error.code,
            request_id=error.request_id,
            method=error.method,
            path=error.path,
        )

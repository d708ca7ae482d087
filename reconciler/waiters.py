"""Waits as tables: status -> success / failure / keep waiting, with a delay and a deadline.

A waiter polls a read function, looks the observed status up in its table, and either returns,
fails with the last observed status attached, or sleeps and polls again. Progress is reported
through a callback at a fixed interval ("still creating... [40s elapsed]"). Clock and sleep are
injected so tests never really wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from reconciler.errors import ReconcilerError

SUCCESS, FAILURE, RETRY = "success", "failure", "retry"


class WaitFailed(ReconcilerError):
    def __init__(self, message: str, last_status: str) -> None:
        super().__init__(message)
        self.last_status = last_status


@dataclass(frozen=True)
class Waiter:
    name: str  # "creating", "deleting", "scaling"
    table: Mapping[str, str]  # status -> SUCCESS / FAILURE / RETRY; unknown statuses retry
    delay: float = 2.0
    timeout: float = 1800.0
    progress_every: float = 10.0

    def wait(
        self,
        read_status: Callable[[], str],
        progress: Callable[[str], None] = lambda _: None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> str:
        start = last_report = clock()
        while True:
            status = read_status()
            verdict = self.table.get(status, RETRY)
            if verdict == SUCCESS:
                return status
            if verdict == FAILURE:
                raise WaitFailed(f"{self.name} ended in status {status}", status)
            now = clock()
            if now - start >= self.timeout:
                raise WaitFailed(
                    f"timed out after {self.timeout:.0f}s {self.name} (last status {status})",
                    status,
                )
            if now - last_report >= self.progress_every:
                progress(f"still {self.name}... [{now - start:.0f}s elapsed, status {status}]")
                last_report = now
            sleep(min(self.delay, max(0.0, self.timeout - (now - start))))


GONE = "<gone>"  # what read functions return when the object no longer exists

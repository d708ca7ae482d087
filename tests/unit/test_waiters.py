"""Waits as status tables, with an injected clock: progress lines, success, failure, timeout."""

from __future__ import annotations

import pytest

from reconciler.kinds.cluster import CREATED as CLUSTER_CREATED
from reconciler.kinds.cluster import DELETED as CLUSTER_DELETED
from reconciler.waiters import GONE, Waiter, WaitFailed


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def statuses(*values: str):  # type: ignore[no-untyped-def]
    it = iter(values)
    last = [values[-1]]

    def read() -> str:
        last[0] = next(it, last[0])
        return last[0]

    return read


def test_progress_every_ten_seconds_until_running() -> None:
    t, lines = FakeTime(), []
    waiter = Waiter("creating", CLUSTER_CREATED.table, delay=2.0, timeout=600, progress_every=10.0)
    result = waiter.wait(statuses(*["CREATING"] * 21, "RUNNING"), lines.append, t.clock, t.sleep)
    assert result == "RUNNING"
    assert lines[:2] == [
        "still creating... [10s elapsed, status CREATING]",
        "still creating... [20s elapsed, status CREATING]",
    ]
    assert len(lines) == 4


def test_failure_status_carries_the_last_status() -> None:
    t = FakeTime()
    with pytest.raises(WaitFailed) as failed:
        CLUSTER_CREATED.wait(statuses("CREATING", "CREATE_FAILED"), clock=t.clock, sleep=t.sleep)
    assert failed.value.last_status == "CREATE_FAILED"


def test_timeout_names_the_last_status() -> None:
    t = FakeTime()
    waiter = Waiter("deleting", CLUSTER_DELETED.table, delay=5.0, timeout=30.0)
    with pytest.raises(WaitFailed, match=r"timed out after 30s deleting \(last status DELETING\)"):
        waiter.wait(statuses("DELETING"), clock=t.clock, sleep=t.sleep)
    assert t.now == pytest.approx(30.0)


def test_gone_counts_as_deleted() -> None:
    t = FakeTime()
    assert CLUSTER_DELETED.wait(statuses("DELETING", GONE), clock=t.clock, sleep=t.sleep) == GONE

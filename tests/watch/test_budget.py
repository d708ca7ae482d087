"""The request budget of a watch: one per API host for every environment of a process, never
exceeded as the emulator counts it; a host paused after repeated 429/503."""

from __future__ import annotations

import signal
import time
from typing import Any

import pytest

from reconciler.client.budget import Budgets, HostBudget, host_of
from reconciler.errors import ServicePausedError

from .conftest import Fleet


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    best, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        best = max(best, last - first + 1)
    return best


def test_a_host_budget_lets_rate_requests_start_in_any_second() -> None:
    clock = Clock()
    budget = HostBudget("h", 5, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(40):
        budget.release(budget.acquire())  # answered at once
        starts.append(clock.now)
    assert most_in_one_second(starts) == 5
    assert starts[-1] - starts[0] == pytest.approx(7.0)  # 8 seconds of 5


def test_a_slot_rests_one_second_after_its_answer_not_its_start() -> None:
    clock = Clock()
    budget = HostBudget("h", 2, clock=clock, sleep=clock.sleep)
    first, second = budget.acquire(), budget.acquire()
    clock.now += 0.7  # a slow answer
    budget.release(first)
    clock.now += 0.1
    budget.release(second)
    third = budget.acquire()
    assert third.start == pytest.approx(101.7)  # first's answer + 1 s, not first's start + 1 s


def test_a_slow_rate_spaces_requests() -> None:
    clock = Clock()
    budget = HostBudget("h", 0.5, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(3):
        budget.release(budget.acquire())
        starts.append(clock.now)
    assert [b - a for a, b in zip(starts, starts[1:], strict=False)] == [2.0, 2.0]


def test_repeated_429_or_503_pause_the_host_and_pauses_double() -> None:
    clock = Clock()
    seen: list[tuple[str, int | None, str]] = []
    budget = HostBudget(
        "h",
        None,
        pause_after=3,
        pause=10,
        max_pause=25,
        clock=clock,
        sleep=clock.sleep,
        observer=lambda *args: seen.append(args),
    )
    for status in (429, 503, 200, 429, 429):  # a good answer breaks the streak
        budget.answered(status, "")
    budget.acquire()
    budget.answered(503, "ServiceUnavailable")
    with pytest.raises(ServicePausedError, match="paused for 10.0 s"):
        budget.acquire()
    clock.now += 10
    budget.acquire()  # the pause is over
    for _ in range(3):
        budget.answered(429, "RequestLimitExceeded")
    assert budget.paused_for() == 20  # no good answer since: twice as long
    clock.now += 20
    for _ in range(3):
        budget.answered(429, "RequestLimitExceeded")
    assert budget.paused_for() == 25  # at most max_pause
    assert len(seen) == 12 and seen[-1] == ("h", 429, "RequestLimitExceeded")


def test_budgets_are_per_host_with_overrides() -> None:
    budgets = Budgets(5, {"cce.bj.baidubce.com": 2})
    one = budgets.for_endpoint("https://cce.bj.baidubce.com")
    assert one is budgets.for_endpoint("https://CCE.bj.baidubce.com/")
    assert one.rate == 2
    assert budgets.for_endpoint("http://127.0.0.1:8080").rate == 5
    assert host_of("http://127.0.0.1:8080/x") == "127.0.0.1:8080"


def test_six_environments_never_exceed_the_rate_the_emulator_sees(fleet_of: Any) -> None:
    fleet: Fleet = fleet_of(6)
    mark = fleet.emulator.next_index()
    watch = fleet.spawn("--all-envs", "--interval", "0.05s", "--rate", "5", "--concurrency", "6")
    for env in fleet.names:  # every environment worked
        watch.wait_for(lambda e, env=env: e["event"] == "run" and e["environment"] == env)
    time.sleep(1.0)
    assert watch.stop(signal.SIGTERM) == 0
    log = fleet.emulator.requests_log(since=mark)
    times = [e["time"] for e in log]
    assert len(times) > 15  # the budget was the limit, not the work
    assert most_in_one_second(times) <= 5


def test_a_host_answering_429_again_and_again_is_paused(fleet_of: Any) -> None:
    fleet: Fleet = fleet_of(1)
    fleet.emulator.set_faults(fail_next_any=["RequestLimitExceeded"] * 3)
    mark = fleet.emulator.next_index()
    watch = fleet.spawn("--env", "e1", "--interval", "0.2s", "--pause-after", "3", "--pause", "1s")
    paused = watch.wait_for(lambda e: e["event"] == "paused")
    failed = watch.wait_for(lambda e: e["event"] == "failed")
    assert "paused" in failed["reason"]
    watch.wait_for(lambda e: e["event"] == "resumed")
    watch.wait_for(lambda e: e["event"] == "run" and e["outcome"] == "ok")
    assert watch.stop() == 0
    log = fleet.emulator.requests_log(since=mark)
    throttled = [e for e in log if e["code"] == "RequestLimitExceeded"]
    assert len(throttled) == 3
    after = [e for e in log if e["time"] > throttled[-1]["time"]]
    assert after and after[0]["time"] - throttled[-1]["time"] >= 0.95  # nothing while paused
    assert paused["service"].startswith("127.0.0.1:")

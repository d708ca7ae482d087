"""The watch loop: every interval (less a random jitter) each environment gets a turn.

For: :class:`Watch`, which schedules turns (``watch.turn``) on a small pool so that a long
apply in one environment does not hold the others up, hands each result to the reporter with
what is new in it (the policy's memory decides), reports API hosts paused and resumed, and
stops cleanly: the first SIGTERM or SIGINT starts no new turn and no new change, lets the
changes in flight finish (each journaled), then returns; a second one also cuts their waits
short (the next run settles what they were waiting for).
Not for: deciding what a turn changes (``watch.policy``) or how it is reported
(``watch.report``).
"""

from __future__ import annotations

import random
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from reconciler.client.budget import Budgets
from reconciler.gcpause import settle
from reconciler.state import StateStore
from reconciler.watch.policy import REFUSALS, Mode
from reconciler.watch.report import Reporter
from reconciler.watch.seats import Seats
from reconciler.watch.turn import (
    FAILED_TURN,
    Environment,
    TurnResult,
    WatchSettings,
    Worker,
    take_turn,
)

TICK = 0.2  # the longest the loop sleeps before looking again


class Watch:
    def __init__(
        self,
        settings: WatchSettings,
        names: Sequence[str | None],
        reporter: Reporter,
        budgets: Budgets,
        seats: Seats,
        worker_id: str,
        say: Callable[[str], None],
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.environments = [Environment(name) for name in names]
        self.reporter = reporter
        self.budgets = budgets
        self.seats = seats
        self.stopping = threading.Event()
        self.say = say
        self.worker = Worker(worker_id, budgets, self._is_mine, self.stopping, say)
        self._rng = rng or random.Random()
        self._wake = threading.Event()
        self._paused: dict[str, bool] = {}
        self._signals: list[str] = []  # appended by signal handlers, handled by the loop
        self.turns = 0
        self.failed_turns = 0

    def _is_mine(self, env: Environment, store: StateStore) -> bool:
        return self.seats.is_mine(env.label, store)

    def signalled(self, name: str) -> None:
        """For a signal handler: takes no lock (the handler runs in the loop's thread, which may
        hold the very lock an Event or a stream would take); the loop stops within a tick."""
        self._signals.append(name)

    def stop(self, why: str = "signal") -> None:
        """First call: finish what is in flight, start nothing new. Second: cut waits too."""
        if self.stopping.is_set():
            with self.worker.lock:
                executors = list(self.worker.executors)
            for executor in executors:
                executor.cancel()
            self.say(f"stopping now ({why} again): waits in flight are cut short")
        else:
            self.stopping.set()
            self.say(f"stopping ({why}): changes in flight finish and are journaled")
        self._wake.set()

    def run(self, once: bool = False) -> int:
        """Turn until stopped (or, with ``once``, until every environment had one turn);
        returns the number of environments whose last turn failed."""
        settings = self.settings
        now = time.monotonic()
        due = {env.label: now for env in self.environments}
        last: dict[str, TurnResult] = {}
        turned: set[str] = set()
        running: dict[Future[TurnResult], Environment] = {}
        pool = ThreadPoolExecutor(settings.concurrency, thread_name_prefix="watch")
        try:
            while True:
                self.reporter.tick()
                while self._signals:
                    self.stop(self._signals.pop(0))
                finished = [f for f in running if f.done()]
                for future in finished:
                    env = running.pop(future)
                    last[env.label] = future.result()
                    turned.add(env.label)
                    self._after(env, last[env.label])
                if finished and not running:
                    settle()  # what the turns' pauses of the collector kept, while idle
                self._watch_hosts()
                if self.stopping.is_set() or (once and len(turned) == len(self.environments)):
                    if not running:
                        break
                    self._sleep(TICK)
                    continue
                now = time.monotonic()
                busy = {env.label for env in running.values()}
                for env in self.environments:
                    if env.label in busy or due[env.label] > now:
                        continue
                    if once and env.label in turned:
                        continue
                    future = pool.submit(self._turn, env)
                    future.add_done_callback(lambda _: self._wake.set())
                    running[future] = env
                    due[env.label] = now + settings.interval * (
                        1 - settings.jitter * self._rng.random()
                    )
                soonest = min(due.values(), default=now + TICK) - time.monotonic()
                self._sleep(min(TICK, max(0.0, soonest)))
        finally:
            pool.shutdown(wait=True)
            self.seats.close()
        return sum(1 for r in last.values() if r.outcome == FAILED_TURN)

    def _sleep(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

    def _turn(self, env: Environment) -> TurnResult:
        try:
            return take_turn(env, self.settings, self.worker)
        except Exception as exc:  # noqa: BLE001 - a bug must not end the watch of the others
            self.say(f"[{env.label}] internal error in a watch turn:\n{traceback.format_exc()}")
            result = TurnResult(env.label, "-", FAILED_TURN, f"internal error: {exc!r}")
            result.finished = time.time()
            return result

    def _after(self, env: Environment, result: TurnResult) -> None:
        self.turns += 1
        memory = env.memory
        new_drift: list[str] = []
        new_refused: list[str] = []
        drifted_now = {
            a: r for a, r in result.resources.items() if r.fields and r.status != "pending"
        }
        repaired = {a.address for a in result.applied if a.drift}
        for address in list(result.resources):
            report = result.resources[address]
            if address in drifted_now and (report.status == "drifted" or address in repaired):
                key = ",".join(report.fields)
                if memory.is_new("drift", address, key) and self.settings.mode is not Mode.OBSERVE:
                    new_drift.append(str(address))
            else:
                memory.forget("drift", address)
            if report.hold in REFUSALS:
                if memory.is_new("refused", address, report.held or ""):
                    new_refused.append(str(address))
            else:
                memory.forget("refused", address)
        if result.outcome == FAILED_TURN:
            self.failed_turns += 1
        self.reporter.record(result, new_drift, new_refused)

    def _watch_hosts(self) -> None:
        for host in self.budgets.hosts():
            left = host.paused_for()
            paused = left > 0
            if paused != self._paused.get(host.host, False):
                self._paused[host.host] = paused
                self.reporter.paused(host.host, left)
                if paused:
                    self.reporter.emit("paused", service=host.host, seconds=round(left, 3))
                else:
                    self.reporter.emit("resumed", service=host.host)

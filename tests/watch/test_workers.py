"""Several `reconciler watch` workers on one PostgreSQL state: one writer per environment at any
moment (from the emulator's request log and the lock table), takeover of a killed worker's
environments within one interval, no duplicate and no lost update, and a clean SIGTERM."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections import defaultdict
from typing import Any

import psycopg

from reconciler.kinds import names as kind_names
from reconciler.state.postgres import PostgresStateStore
from tests.state.conftest import PgServer, pg_server  # noqa: F401 - the fixture

from .conftest import Fleet, WatchProcess

INTERVAL = 1.0
SLACK = 1.0  # process scheduling on a loaded two-core machine


def worker_pid(agent_or_id: str) -> int:
    worker = (
        agent_or_id.split("worker=")[1].split(";")[0] if "worker=" in agent_or_id else agent_or_id
    )
    return int(worker.split(":")[1])


def runs_from_log(entries: list[dict[str, Any]]) -> dict[str, list[tuple[float, float, int, str]]]:
    """env -> [(first request, last request, worker pid, run id)] from the User-Agent column."""
    spans: dict[tuple[str, str], list[float]] = {}
    pids: dict[tuple[str, str], int] = {}
    for entry in entries:
        agent = entry["agent"]
        if "watch;" not in agent:
            continue
        fields = dict(
            part.strip().split("=", 1) for part in agent.split("(", 1)[1].rstrip(")").split(";")[1:]
        )
        key = (fields["env"], fields["run"])
        spans.setdefault(key, []).append(entry["time"])
        pids[key] = worker_pid(fields["worker"])
    runs: dict[str, list[tuple[float, float, int, str]]] = defaultdict(list)
    for (env, run), times in spans.items():
        runs[env].append((min(times), max(times), pids[(env, run)], run))
    for env in runs:
        runs[env].sort()
    return runs


class LockSampler:
    """Reads the lock table (rows whose session holds the advisory lock) every few ms."""

    QUERY = """
        SELECT l.workspace, l.pid FROM reconciler_locks l
          JOIN pg_locks p ON p.locktype = 'advisory' AND p.granted AND p.pid = l.backend_pid
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.samples: list[tuple[float, str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.is_set():
                try:
                    rows = conn.execute(self.QUERY).fetchall()
                except psycopg.errors.UndefinedTable:
                    rows = []
                now = time.time()
                self.samples.extend((now, str(ws), int(pid)) for ws, pid in rows)
                self._stop.wait(0.02)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


def test_three_workers_share_six_environments_and_take_over_a_killed_one(
    fleet_of: Any,
    pg_server: PgServer,  # noqa: F811 - the fixture
) -> None:
    fleet: Fleet = fleet_of(6)
    database = f"watch_{int(time.time() * 1000) % 10**9}"
    pg_server.create_database(database)
    url = pg_server.url(database)
    sampler = LockSampler(url)
    args = ("--all-envs", "--mode", "enforce", "--interval", f"{INTERVAL}s", "--state", url)
    workers = [fleet.spawn(*args) for _ in range(3)]
    by_pid = {w.popen.pid: w for w in workers}
    try:
        for env in fleet.names:  # every environment created and then in sync
            wait_any(
                workers,
                lambda e, env=env: (
                    e["event"] == "run"
                    and e["environment"] == env
                    and e["resources"]["in_sync"] == 2
                    and e["applied"] == 0
                ),
            )
        owner = last_workers(workers)
        victim_pid = max(set(owner.values()), key=lambda p: list(owner.values()).count(p))
        orphans = sorted(env for env, pid in owner.items() if pid == victim_pid)
        fleet.emulator.set_faults(latency_ms=60)
        with fleet.client() as client:  # drift everywhere: the victim dies while repairing
            for env in fleet.names:
                client.delete_image_meta(f"ns-{env}", "app", "v1")
        by_pid[victim_pid].wait_for(lambda e: e["event"] == "repaired", timeout=10)
        by_pid[victim_pid].popen.send_signal(signal.SIGKILL)
        killed = time.time()
        by_pid[victim_pid].popen.wait(10)
        survivors = [w for w in workers if w.popen.pid != victim_pid]
        fleet.emulator.set_faults(latency_ms=0)
        for env in orphans:
            wait_any(
                survivors,
                lambda e, env=env: (
                    e["event"] == "run"
                    and e["environment"] == env
                    and e["resources"]["in_sync"] == 2
                    and e["applied"] == 0
                ),
                timeout=15,
            )
        time.sleep(INTERVAL)
        for worker in survivors:
            assert worker.stop(signal.SIGTERM) == 0, "".join(worker.err)[-2000:]
            assert worker.of("stopped")
    finally:
        sampler.stop()
        for worker in workers:
            worker.kill()

    log = fleet.emulator.requests_log()
    runs = runs_from_log(log)
    assert set(runs) == set(fleet.names)
    for env, spans in runs.items():  # one worker at a time per environment
        ended = float("-inf")
        for start, end, pid, run in spans:
            assert start > ended, f"{env}: run {run} of {pid} began before the one before ended"
            ended = max(ended, end)
        for at, workspace, pid in sampler.samples:  # the lock holder is the worker in flight
            if workspace != env:
                continue
            assert pid in by_pid
            for start, end, run_pid, _ in spans:
                if start <= at <= end:
                    assert run_pid == pid, f"{env}: lock held by {pid} while {run_pid} sends"
    assert {pid for _, _, pid in sampler.samples} <= set(by_pid)

    for env in orphans:  # taken over within one interval of the kill
        after = [s for s in runs[env] if s[2] != victim_pid and s[0] > killed]
        assert after and after[0][0] - killed < INTERVAL + SLACK, (env, after[:1], killed)

    state = fleet.emulator.state()  # no duplicate: one of each, with both tags back
    namespaces = sorted(n["namespace"] for n in state["namespaces"])
    assert namespaces == sorted(f"ns-{env}" for env in fleet.names)
    for env in fleet.names:
        assert fleet.tags(env) == ["latest", "v1"]
    for env in fleet.names:  # no lost update: every state holds both, nothing left pending
        stored = PostgresStateStore(url, env, kinds=kind_names()).read()
        assert not stored.pending
        assert sorted(map(str, stored.resources)) == [
            f"namespace.ns-{env}",
            f"repository.ns-{env}/app",
        ]
        plan = fleet.cli("plan", *fleet.args("--env", env, "--state", url, "--detailed-exitcode"))
        assert plan.code == 0, plan.out + plan.err


def wait_any(workers: list[WatchProcess], check: Any, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        for worker in workers:
            for event in list(worker.events):
                if check(event):
                    return event
        if time.monotonic() > deadline:
            tails = [json.dumps(w.events[-3:]) + "".join(w.err)[-500:] for w in workers]
            raise AssertionError(f"no such event within {timeout}s: {tails}")
        time.sleep(0.05)


def last_workers(workers: list[WatchProcess]) -> dict[str, int]:
    """env -> the pid of the worker whose run of it came last."""
    latest: dict[str, tuple[str, int]] = {}
    for worker in workers:
        for event in list(worker.events):
            if event["event"] == "run":
                env = event["environment"]
                if env not in latest or event["finished"] > latest[env][0]:
                    latest[env] = (event["finished"], worker.popen.pid)
    return {env: pid for env, (_, pid) in latest.items()}

"""A run that loses its state lock stops with exit 4 before its next change, and never
overwrites the state of the run that took over; the next run finishes its journal.

- a PostgreSQL lock session ended (``pg_terminate_backend``) while a cluster create waits, and
  a second apply runs meanwhile: the first stops, the second's state stands, nothing is sent
  twice;
- a holder stopped with SIGSTOP, force-unlocked and continued with SIGCONT (local file and
  PostgreSQL): it exits 4 before its next mutating request.

Clusters take an hour to create here (the emulator's lifecycle knob), so a run sits in its wait
until the test moves the emulator's clock.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from collections.abc import Callable

import psycopg
import pytest

from reconciler.kinds import names as kind_names
from reconciler.model import Address
from reconciler.state import State
from reconciler.state.local import LocalStateStore
from reconciler.state.postgres import PostgresStateStore
from tests.e2e.conftest import Result, Workspace
from tests.state.conftest import PgServer, pg_server

__all__ = ["pg_server"]

CLUSTER = """  - name: {name}
    version: "1.20.8"
    mainAvailableZone: zoneA
    containerNet: 172.{net}.0.0/16
    workers: {{count: 1, instanceType: "10", cpu: 4, memory: 8, imageId: m-1, subnetUuid: sbn-1, securityGroupId: g-1}}
"""
CONFIG = (
    """users:
  - username: ccetest
    password: {env: CCR_PASSWORD}
namespaces:
  - name: team-a
clusters:
"""
    + CLUSTER.format(name="blue", net=16)
    + CLUSTER.format(name="green", net=17)
)
LATE = CONFIG.replace("  - name: team-a\n", "  - name: team-a\n  - name: late\n")
HOUR = 3600.0
LOST = "no longer holds the state lock"


def wait_for(what: str, check: Callable[[], bool], proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 15
    while not check():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the apply ended before {what}: {proc.returncode}\n{out}{err}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def cluster_creates(ws: Workspace) -> int:
    """Create requests sent, answered or not (a refused duplicate counts too)."""
    requests = ws.emulator.mutating_requests()
    return sum(1 for r in requests if r["method"] == "POST" and r["path"] == "/v1/cluster")


def live_cluster_names(ws: Workspace) -> list[str]:
    clusters = ws.emulator.state()["clusters"]
    return sorted(c["clusterName"] for c in clusters if c["status"] not in ("DELETED", "DELETING"))


class Local:
    """The local backend as the CLI finds it (beside the config)."""

    def __init__(self, ws: Workspace) -> None:
        self.store = LocalStateStore(ws.state_file(), kinds=kind_names())
        self.args: tuple[str, ...] = ()

    def cloud_id_journaled(self) -> bool:
        path = self.store.journal_path
        return path.exists() and '"op": "cloud_id"' in path.read_text()

    def lock_id(self) -> str:
        return str(json.loads(self.store.lock_path.read_text())["id"])

    def read(self) -> State:
        return self.store.read()


class Postgres:
    """A fresh PostgreSQL workspace, named on every command line."""

    def __init__(self, server: PgServer) -> None:
        self.url, self.workspace = server.url(), f"fence-{uuid.uuid4().hex[:8]}"
        self.store = PostgresStateStore(self.url, self.workspace, kinds=kind_names())
        self.args = ("--state", self.url, "--workspace", self.workspace)
        self.store.read()  # creates the tables the queries below look at

    def _one(self, query: str) -> object:
        with psycopg.connect(self.url, autocommit=True) as conn:
            row = conn.execute(query, (self.workspace,)).fetchone()
        return row[0] if row else None

    def cloud_id_journaled(self) -> bool:
        query = (
            "SELECT count(*) FROM reconciler_journal "
            "WHERE workspace = %s AND record->>'op' = 'cloud_id'"
        )
        return bool(self._one(query))

    def lock_id(self) -> str:
        return str(self._one("SELECT id FROM reconciler_locks WHERE workspace = %s"))

    def end_lock_session(self) -> None:
        query = (
            "SELECT pg_terminate_backend(backend_pid, 5000) FROM reconciler_locks "
            "WHERE workspace = %s"
        )
        assert self._one(query) is True

    def read(self) -> State:
        return self.store.read()


Backend = Local | Postgres


@pytest.fixture(params=["local", "postgres"])
def backend(request: pytest.FixtureRequest, ws: Workspace) -> Backend:
    if request.param == "local":
        return Local(ws)
    return Postgres(request.getfixturevalue("pg_server"))


def start_first_apply(ws: Workspace, backend: Backend) -> subprocess.Popen[str]:
    """An apply that creates one cluster and sits waiting for it (one change at a time, so
    the other cluster is still to come)."""
    ws.write(CONFIG)
    ws.emulator.set_faults(cluster_create_seconds=HOUR)
    proc = ws.spawn("apply", str(ws.root), "--auto-approve", "--parallelism", "1", *backend.args)
    wait_for("a cluster create was journaled", backend.cloud_id_journaled, proc)
    return proc


def finish(proc: subprocess.Popen[str]) -> Result:
    """Wait for a spawned run (a hang fails the test instead of stalling the suite)."""
    try:
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return Result(proc.returncode, out, err)


def apply(ws: Workspace, backend: Backend) -> Result:
    return finish(ws.spawn("apply", str(ws.root), "--auto-approve", *backend.args))


def converges(ws: Workspace, backend: Backend) -> None:
    again = ws.cli("plan", str(ws.root), "--detailed-exitcode", *backend.args)
    assert again.code == 0, again.out + again.err


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_run_whose_lock_session_ended_never_overwrites_the_next_run(
    ws: Workspace, backend: Postgres
) -> None:
    first = start_first_apply(ws, backend)
    backend.end_lock_session()
    ws.write(LATE)
    ws.emulator.set_faults(cluster_create_seconds=0)  # the second cluster
    # the first run's cluster comes up: the first run wakes up to record it (and is fenced),
    # the second takes it into state without waiting
    ws.emulator.advance(HOUR)
    second = apply(ws, backend)
    assert second.code == 0, second.out + second.err
    assert "was created by an interrupted run; now in state" in second.out
    theirs = backend.read()
    assert Address("namespace", "late") in theirs.resources
    stopped = finish(first)
    assert stopped.code == 4, stopped.out + stopped.err
    assert stopped.err.startswith("error: ") and LOST in stopped.err
    final = backend.read()
    assert (final.serial, final.resources) == (theirs.serial, theirs.resources), "lost update"
    assert final.pending == {}
    assert cluster_creates(ws) == 2 and live_cluster_names(ws) == ["blue", "green"]
    converges(ws, backend)


def test_a_stopped_holder_that_was_force_unlocked_exits_4_before_its_next_change(
    ws: Workspace, backend: Backend
) -> None:
    first = start_first_apply(ws, backend)
    lock_id = backend.lock_id()
    first.send_signal(signal.SIGSTOP)
    try:
        locked = ws.cli("apply", str(ws.root), "--auto-approve", *backend.args)
        assert locked.code == 4 and lock_id in locked.err
        unlocked = ws.cli("force-unlock", lock_id, "-c", str(ws.root), *backend.args)
        assert unlocked.code == 0, unlocked.err
        ws.emulator.advance(HOUR)
        mark = ws.emulator.next_index()
    finally:
        first.send_signal(signal.SIGCONT)
    stopped = finish(first)
    assert stopped.code == 4, stopped.out + stopped.err
    assert LOST in stopped.err and f"its lock {lock_id} was released" in stopped.err
    assert ws.emulator.mutating_requests(since=mark) == [], "a change after the lock was lost"
    assert cluster_creates(ws) == 1
    ws.emulator.set_faults(cluster_create_seconds=0)
    rerun = apply(ws, backend)
    assert rerun.code == 0, rerun.out + rerun.err
    assert cluster_creates(ws) == 2 and live_cluster_names(ws) == ["blue", "green"]
    assert len(backend.read().resources) == 4 and backend.read().pending == {}
    converges(ws, backend)

"""SIGKILL an apply at its k-th mutating request, then run it again: no duplicate, no orphan
(every object the killed run created ends up in state), and the state file always parses. The
config holds v1 kinds and v2 ones (a k8s_cluster and two instance groups). The short form kills
at a sample of k values (every v2 mutation and the v1 cluster's among them); RECONCILER_LONG=1
kills at every k. Also kill a process in the middle of state writes: the file is always the old
or the new version."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reconciler import jsontext
from reconciler.kinds import names as kind_names
from reconciler.state import ResourceState, State
from reconciler.state.local import LocalStateStore
from tests.e2e.conftest import Workspace

from .scenario import (
    LONG_SWEEP,
    V2_CONFIG,
    V2_RESOURCES,
    cloud_ids,
    damage,
    duplicates,
    expected_v2,
    observed_v2,
    unmanaged,
)
from .test_faults import record

V1_CONFIG = """users:
  - username: ccetest
    password: {env: CCR_PASSWORD}
namespaces:
  - name: alpha
  - name: beta
    public: true
  - name: gamma
repositories:
  - {namespace: alpha, name: api, tags: [latest, v1]}
  - {namespace: alpha, name: web, tags: [latest]}
  - {namespace: beta, name: docs, tags: [latest, v2]}
  - {namespace: beta, name: site, tags: [latest]}
  - {namespace: gamma, name: tools, tags: [latest]}
clusters:
  - name: prod
    version: "1.20.8"
    mainAvailableZone: zoneA
    containerNet: 172.16.0.0/16
    workers: {count: 1, instanceType: "10", cpu: 4, memory: 8, imageId: m-1, subnetUuid: sbn-1, securityGroupId: g-1}
"""
CONFIG = V1_CONFIG + V2_CONFIG
# user + 3 namespaces + 5 repositories + 1 cluster, and k8s_cluster.shop with its 2 groups
RESOURCES = 10 + V2_RESOURCES
# user + 3 namespaces + 7 tags + 1 cluster + 1 v2 cluster + 2 instance groups. At parallelism 1
# the walker sends: 1 cluster.prod, 2 k8s_cluster.shop, 3 the user, 4-5 the two groups, 6-8 the
# namespaces, 9-15 the tags (each run records the path it was killed after).
MUTATIONS = 15
# The short form: every k up to the last group, then every other tag-or-namespace mutation
# (12 kills, as many as before the v2 kinds joined).
SAMPLED = (1, 2, 3, 4, 5, 6, 7, 9, 11, 12, 13, 15)
KS = range(1, MUTATIONS + 1) if LONG_SWEEP else SAMPLED
ROOT = Path(__file__).resolve().parents[2]
V2_CLUSTER_POST = "/api/cce/service/v2/cluster"


def start_apply(ws: Workspace) -> subprocess.Popen[str]:
    return ws.spawn("apply", str(ws.root), "--auto-approve", "--parallelism", "1")


def kill_at(ws: Workspace, proc: subprocess.Popen[str], k: int, deadline: float = 30.0) -> int:
    start = time.monotonic()
    while time.monotonic() - start < deadline:
        seen = len(ws.emulator.mutating_requests())
        assert proc.poll() is None, f"the apply ended before its mutation {k}: k is out of range"
        if seen >= k:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return seen
        time.sleep(0.002)
    proc.kill()
    raise AssertionError("the apply never reached its k-th mutation")


def killed_after(ws: Workspace, seen: int) -> str:
    """``METHOD path`` of the last mutating request the killed run had sent."""
    last = ws.emulator.mutating_requests()[seen - 1]
    return f"{last['method']} {last['path']}"


def assert_whole(ws: Workspace, when: str) -> None:
    """The cloud holds each declared object once (v1 and v2), state holds every one of them and
    nothing else."""
    cloud = ws.emulator.state()
    names = [
        c["clusterName"] for c in cloud["clusters"] if c["status"] not in ("DELETED", "DELETING")
    ]
    assert names == ["prod"], f"duplicate or missing cluster {when}: {names}"
    assert duplicates(cloud) == [], f"duplicates {when}"
    assert observed_v2(cloud) == expected_v2(), f"v2 clusters, groups or nodes differ {when}"
    state = json.loads(ws.state_file().read_text())
    managed = {(e["kind"], e["cloud_id"]) for e in state["resources"].values()}
    assert cloud_ids(cloud) == managed, "every cloud object is in state and nothing else"
    assert unmanaged(cloud, state) == set(), f"orphans {when}"
    assert len(state["resources"]) == RESOURCES and state["pending"] == []


@pytest.mark.parametrize("k", KS)
def test_killed_apply_is_finished_without_duplicates_or_orphans(ws: Workspace, k: int) -> None:
    ws.write(CONFIG)
    ws.emulator.set_faults(latency_ms=15)
    seen = kill_at(ws, start_apply(ws), k)
    if ws.state_file().exists():
        json.loads(ws.state_file().read_text())  # always parses
    ws.emulator.set_faults(latency_ms=0)
    rerun = ws.cli("apply", str(ws.root), "--auto-approve")
    cloud = ws.emulator.state()
    state = json.loads(ws.state_file().read_text())
    record({"suite": "crash", "k": k, "after": killed_after(ws, seen), **damage(cloud, state)})
    assert rerun.code == 0, rerun.out + rerun.err
    assert_whole(ws, f"after a kill at mutation {k}")
    again = ws.cli("plan", str(ws.root), "--detailed-exitcode")
    assert again.code == 0, again.out


WRITER = """
import sys
from reconciler.state import ResourceState, State
from reconciler.state.local import LocalStateStore
from reconciler import jsontext
from reconciler.kinds import names as kind_names
store = LocalStateStore(sys.argv[1], kinds=kind_names())
state = store.read()
while True:
    n = state.serial + 1
    if sys.argv[2] == "spliced":  # as apply --plan reads it: the entries as stored, spliced back
        state = store.read(known=store.read().read_digest)
    else:
        state.resources = {a: r for a, r in state.resources.items()}
    from reconciler.model import Address
    state.resources[Address("namespace", f"ns{n}")] = ResourceState("namespace", f"ns{n}")
    state = store.write(state)
"""


@pytest.mark.parametrize("writes", ["encoded", "spliced"])
def test_kill_during_state_writes_leaves_old_or_new(tmp_path: Path, writes: str) -> None:
    path = tmp_path / "state.json"
    store = LocalStateStore(path, kinds=kind_names())
    store.write(State(lineage="crash-test"))
    for round_ in range(15):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), writes],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        time.sleep(0.25 + 0.01 * round_)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = store.read()  # parses, or raises
        assert state.lineage == "crash-test"
        assert len(state.resources) == state.serial - 1, "document is one whole version"
        assert all(isinstance(r, ResourceState) for r in state.resources.values())
        assert path.read_text() == jsontext.dumps(state.to_json()) + "\n"  # as a full write
    record({"suite": "state-write-kills", "writes": writes, "kills": 15})


# first killed at the v2 cluster's create, at a group's, at a namespace's
@pytest.mark.parametrize("first_kill", [2, 4, 7])
def test_a_recovering_run_killed_again_loses_nothing(ws: Workspace, first_kill: int) -> None:
    ws.write(CONFIG)
    ws.emulator.set_faults(latency_ms=15)
    seen = kill_at(ws, start_apply(ws), first_kill)
    after = killed_after(ws, seen)
    seen = kill_at(ws, start_apply(ws), seen + 1)  # the run that recovers the first one dies too
    after += f" + {killed_after(ws, seen)}"
    ws.emulator.set_faults(latency_ms=0)
    final = ws.cli("apply", str(ws.root), "--auto-approve")
    cloud = ws.emulator.state()
    state = json.loads(ws.state_file().read_text())
    record({"suite": "crash", "k": f"{first_kill}+1", "after": after, **damage(cloud, state)})
    assert final.code == 0, final.out + final.err
    assert_whole(ws, f"after kills at mutation {first_kill} and the next")
    again = ws.cli("plan", str(ws.root), "--detailed-exitcode")
    assert again.code == 0, again.out


def test_ctrl_c_stops_a_long_wait_and_the_next_run_finishes(ws: Workspace) -> None:
    ws.write(CONFIG)
    ws.emulator.set_faults(cluster_create_seconds=3600)
    env = ws.subprocess_env()
    args = [sys.executable, "-m", "reconciler", "apply", str(ws.root), "--auto-approve"]
    proc = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30
    while not {"/v1/cluster", V2_CLUSTER_POST} <= {
        r["path"] for r in ws.emulator.mutating_requests() if r["method"] == "POST"
    }:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.02)
    time.sleep(0.5)  # both clusters are being waited for (v1 and v2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, out + err
    assert "interrupted" in err and "Traceback" not in err
    state = json.loads(ws.state_file().read_text())  # written on the way out
    for address in ("cluster.prod", "k8s_cluster.shop"):
        pending = [p for p in state["pending"] if p["address"] == address]
        assert len(pending) == 1 and pending[0]["action"] == "create", address
        assert pending[0]["cloud_id"], f"{address}'s id was journaled, so the next run adopts it"
    ws.emulator.advance(3600)
    ws.emulator.set_faults(cluster_create_seconds=0)  # the groups' nodes come up at once
    rerun = ws.cli("apply", str(ws.root), "--auto-approve")
    assert rerun.code == 0, rerun.out + rerun.err
    assert_whole(ws, "after Ctrl-C during the cluster waits")

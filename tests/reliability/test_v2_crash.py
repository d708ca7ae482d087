"""SIGKILL an apply of CCE v2 objects (examples/v2: a k8s_cluster and two instance groups, plus
the registry) at the moments a v2 create is most exposed, then run it again: exactly one cluster
of that name, each group created once, every object in state, and an empty plan afterwards.

- during the cluster wait: the create's answer arrived (its id journaled) and the run polls
  ``GET /cluster/{id}``, the emulator's cluster creation being slow (``cluster_create_seconds``,
  moved on with ``advance``, never with sleep);
- during the instance-group wait: both groups created, their nodes coming up;
- after a create was committed but its answer dropped (the emulator's ``drop`` fault): the run
  dies before it learns the id, so the rerun must find the object by name, not create a second.

A killed run's state is read with the journal folded in (``LocalStateStore.read``), to check
what the rerun had to go on.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.kinds import names as kind_names
from reconciler.state.local import LocalStateStore
from tests.e2e.conftest import ROOT, Workspace

from .scenario import damage, expected_v2, observed_v2, unmanaged, v2_clusters, v2_groups
from .test_faults import record

EXAMPLE = ROOT / "examples" / "v2"
V2 = "/api/cce/service/v2"
CLUSTER_POST = f"{V2}/cluster"
CLUSTER_GET = re.compile(rf"{V2}/cluster/(cce-[a-z0-9]+)")
GROUP_POST = re.compile(rf"{V2}/cluster/(cce-[a-z0-9]+)/instancegroup")
GROUP_GET = re.compile(rf"{V2}/cluster/cce-[a-z0-9]+/instancegroup/(cce-ig-[a-z0-9]+)")
CREATE_SECONDS = 600  # emulated seconds a v2 cluster (and a node) takes to come up
LATENCY_MS = 500  # drop tests: every answer waits this long, so a kill lands before the next


class RerunDidNotWait(AssertionError):
    """The rerun of a run killed in a create's wait did not finish that wait (it must: the
    plan's `settle` step waits for an object still coming up before its dependents)."""


# --- workspace -----------------------------------------------------------------------------------


@pytest.fixture
def example(ws: Workspace) -> Path:
    """examples/v2 as it ships, aimed at the test's emulator."""
    folder = ws.root / "v2"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns(".reconciler"))
    registry = folder / "registry.yaml"
    text = registry.read_text()
    assert text.count("endpoint: local") == 1
    registry.write_text(text.replace("endpoint: local", f"endpoint: {ws.emulator.url}"))
    return folder


@pytest.fixture
def v2_only(ws: Workspace) -> Path:
    """The example's cluster.yaml alone (no registry), aimed at the test's emulator."""
    folder = ws.root / "v2-only"
    folder.mkdir()
    (folder / "target.yaml").write_text(f"target:\n  endpoint: {ws.emulator.url}\n")
    shutil.copy(EXAMPLE / "cluster.yaml", folder / "cluster.yaml")
    return folder


def declared(folder: Path) -> tuple[str, dict[str, int]]:
    """The cluster's name and its groups' node counts, as cluster.yaml declares them (an
    autoscaled group's: its minReplicas, what it starts with)."""
    spec = yaml.safe_load((folder / "cluster.yaml").read_text())
    (cluster,) = spec["k8s_clusters"]
    return cluster["name"], {
        g["name"]: g["replicas"] if "replicas" in g else g["autoscaler"]["minReplicas"]
        for g in spec["instance_groups"]
    }


def declared_addons(folder: Path) -> tuple[str, ...]:
    path = folder / "addons.yaml"
    if not path.exists():
        return ()
    return tuple(a["name"] for a in yaml.safe_load(path.read_text())["addons"])


def state_doc(folder: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((folder / ".reconciler" / "state.json").read_text())
    return doc


def pending_creates(folder: Path) -> dict[str, str | None]:
    """What a killed run left in flight: address -> journaled cloud id (None: not yet known)."""
    state = LocalStateStore(folder / ".reconciler" / "state.json", kinds=kind_names()).read()
    return {str(p.address): p.cloud_id for p in state.pending.values() if p.action == "create"}


# --- watching a run through the emulator's request log -------------------------------------------


def wait_for(
    ws: Workspace,
    proc: subprocess.Popen[str],
    found: Callable[[list[dict[str, Any]]], Any],
    what: str,
    deadline: float = 30.0,
) -> Any:
    """Poll the request log until ``found`` returns something truthy."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        seen = found(ws.emulator.requests_log())
        if seen:
            return seen
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the apply ended (exit {proc.returncode}) before {what}: {err}")
        time.sleep(0.005)
    proc.kill()
    proc.communicate()
    raise AssertionError(f"the apply never reached {what}")


def cluster_polled(log: list[dict[str, Any]]) -> str | None:
    """The cluster's id once its create was answered and the run polls ``GET /cluster/{id}``."""
    created = [
        r for r in log if r["method"] == "POST" and r["path"] == CLUSTER_POST and r["status"] == 200
    ]
    if not created or created[0].get("fault"):
        return None
    for r in log:
        match = CLUSTER_GET.fullmatch(r["path"])
        if r["method"] == "GET" and match and r["index"] > created[0]["index"]:
            return match.group(1)
    return None


def groups_polled(count: int) -> Callable[[list[dict[str, Any]]], set[str] | None]:
    """The groups' ids once ``count`` creates were answered and the run polls each one."""

    def found(log: list[dict[str, Any]]) -> set[str] | None:
        created = [r for r in group_posts(log) if r["status"] == 200 and not r.get("fault")]
        if len(created) < count:
            return None
        after = created[count - 1]["index"]
        polled = {
            m.group(1)
            for r in log
            if r["method"] == "GET"
            and r["index"] > after
            and (m := GROUP_GET.fullmatch(r["path"])) is not None
        }
        return polled if len(polled) >= count else None

    return found


def dropped_post(path: re.Pattern[str] | str) -> Callable[[list[dict[str, Any]]], bool]:
    def found(log: list[dict[str, Any]]) -> bool:
        return any(
            r["method"] == "POST"
            and r.get("fault") == "drop"
            and (r["path"] == path if isinstance(path, str) else path.fullmatch(r["path"]))
            for r in log
        )

    return found


def group_posts(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in log if r["method"] == "POST" and GROUP_POST.fullmatch(r["path"])]


def committed(posts: list[dict[str, Any]]) -> int:
    """Creates that reached the cloud: answered 200, or committed and the answer dropped."""
    return sum(1 for r in posts if r["status"] == 200)


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    proc.stderr.close()


def apply(ws: Workspace, folder: Path, *args: str) -> str:
    result = ws.cli("apply", str(folder), "--auto-approve", *args)
    assert result.code == 0, result.out + result.err
    assert "Traceback" not in result.out + result.err
    return result.out + result.err


@dataclass(frozen=True)
class Rerun:
    code: int
    out: str
    ended_before_advance: bool  # it did not wait for what the killed run was waiting for


def rerun_while_waiting(ws: Workspace, folder: Path, polled: re.Pattern[str]) -> Rerun:
    """Rerun apply in a child while the killed run's objects are still coming up; once it
    polls one of them (or ends), move the emulator's clock on so that wait can end."""
    mark = ws.emulator.next_index()
    proc = ws.spawn("apply", str(folder), "--auto-approve")
    end = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < end:
        log = ws.emulator.requests_log(mark)
        if any(r["method"] == "GET" and polled.fullmatch(r["path"]) for r in log):
            break
        time.sleep(0.01)
    ended = proc.poll() is not None
    ws.emulator.advance(CREATE_SECONDS)
    out, err = proc.communicate(timeout=60)
    assert "Traceback" not in out + err
    return Rerun(proc.returncode, out + err, ended)


# --- what must hold after the rerun --------------------------------------------------------------


def assert_whole(ws: Workspace, folder: Path, cluster_id: str | None = None) -> None:
    """One cluster of the declared name (``cluster_id`` if given: the killed run's), each group
    created once and at its replicas with every node ready, every object in state and nothing
    else, and a plan with no changes that an apply agrees with. The damage found is recorded
    for the README's figures."""
    name, groups = declared(folder)
    cloud = ws.emulator.state()
    test = os.environ.get("PYTEST_CURRENT_TEST", "").split("::")[-1].split(" ")[0]
    record({"suite": "v2-crash", "test": test, **damage(cloud, state_doc(folder))})
    clusters = [c["spec"] for c in v2_clusters(cloud) if c["spec"]["clusterName"] == name]
    assert len(clusters) == 1, f"{len(clusters)} live clusters named {name}"
    if cluster_id is not None:
        assert clusters[0]["clusterID"] == cluster_id, "the killed run's cluster was replaced"
    assert observed_v2(cloud) == expected_v2(name, groups, declared_addons(folder))
    log = ws.emulator.requests_log()
    cluster_posts = [r for r in log if r["method"] == "POST" and r["path"] == CLUSTER_POST]
    assert committed(cluster_posts) == 1, "the cluster was created more than once"
    assert committed(group_posts(log)) == len(groups), "a group was created twice"
    doc = state_doc(folder)
    assert doc["pending"] == []
    assert unmanaged(cloud, doc) == set(), "cloud objects missing from state"
    managed = {e["cloud_id"] for e in doc["resources"].values()}
    live_groups = {
        f"{g['spec']['clusterID']}/{g['spec']['cceInstanceGroupID']}" for g in v2_groups(cloud)
    }
    assert clusters[0]["clusterID"] in managed and live_groups <= managed
    plan = ws.cli("plan", str(folder), "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err
    mark = ws.emulator.next_index()
    apply(ws, folder)
    assert ws.emulator.mutating_requests(since=mark) == []


# --- the tests -----------------------------------------------------------------------------------


def kill_in_cluster_wait(ws: Workspace, folder: Path) -> str:
    """Start applying with slow v2 clusters; SIGKILL the run while it polls the new cluster.
    Returns the cluster's id, which the killed run journaled before it started waiting."""
    ws.emulator.set_faults(cluster_create_seconds=CREATE_SECONDS)
    proc = ws.spawn("apply", str(folder), "--auto-approve")
    cluster_id: str = wait_for(ws, proc, cluster_polled, "the cluster wait")
    kill(proc)
    name, _ = declared(folder)
    assert pending_creates(folder).get(f"k8s_cluster.{name}") == cluster_id
    phases = [c["status"]["clusterPhase"] for c in v2_clusters(ws.emulator.state())]
    assert phases and "running" not in phases, phases
    ws.emulator.set_faults(cluster_create_seconds=0)  # what is created from now on is ready at once
    return cluster_id


def test_kill_during_the_cluster_wait_then_rerun_creates_nothing_twice(
    ws: Workspace, example: Path
) -> None:
    cluster_id = kill_in_cluster_wait(ws, example)
    ws.emulator.advance(CREATE_SECONDS)  # the cluster came up while nothing was running
    out = apply(ws, example)
    assert f"{cluster_id} was created by an interrupted run" in out
    assert_whole(ws, example, cluster_id)


def test_a_rerun_while_the_cluster_is_still_creating_waits_for_it(
    ws: Workspace, example: Path
) -> None:
    cluster_id = kill_in_cluster_wait(ws, example)
    rerun = rerun_while_waiting(ws, example, CLUSTER_GET)
    if rerun.code != 0:  # today: the groups were refused; a third run finishes the job
        apply(ws, example)
    assert_whole(ws, example, cluster_id)
    if rerun.code != 0:
        raise RerunDidNotWait(f"the rerun exited {rerun.code}: {rerun.out[-900:]}")


def test_kill_during_the_group_wait_then_rerun_creates_nothing_twice(
    ws: Workspace, example: Path
) -> None:
    _, groups = declared(example)
    ws.emulator.set_faults(cluster_create_seconds=CREATE_SECONDS)
    proc = ws.spawn("apply", str(example), "--auto-approve")
    cluster_id = wait_for(ws, proc, cluster_polled, "the cluster wait")
    ws.emulator.advance(CREATE_SECONDS)  # running at the next poll; the nodes will take as long
    group_ids = wait_for(ws, proc, groups_polled(len(groups)), "the instance-group wait")
    kill(proc)
    journaled = pending_creates(example)
    waiting = {a: i for a, i in journaled.items() if a.startswith("instance_group.")}
    assert {i.partition("/")[2] for i in waiting.values() if i} == group_ids, journaled
    cloud = ws.emulator.state()
    assert all(g["status"]["readyReplicas"] == 0 for g in v2_groups(cloud))

    rerun = rerun_while_waiting(ws, example, GROUP_GET)
    assert rerun.code == 0, rerun.out
    assert_whole(ws, example, cluster_id)
    if rerun.ended_before_advance:
        raise RerunDidNotWait("the rerun reported success before the groups' nodes were ready")


def test_kill_after_a_dropped_cluster_create_answer_finds_it_by_name(
    ws: Workspace, v2_only: Path
) -> None:
    name, _ = declared(v2_only)
    ws.emulator.set_faults(latency_ms=LATENCY_MS, fail_next=["drop"])  # the cluster's POST
    proc = ws.spawn("apply", str(v2_only), "--auto-approve")
    wait_for(ws, proc, dropped_post(CLUSTER_POST), "the dropped cluster create")
    kill(proc)  # its read by name is still waiting for an answer
    assert pending_creates(v2_only) == {f"k8s_cluster.{name}": None}, "the id was not yet known"
    assert len(v2_clusters(ws.emulator.state())) == 1, "the create was committed"
    ws.emulator.set_faults(latency_ms=0)
    out = apply(ws, v2_only)
    assert re.search(rf"k8s_cluster.{name}: \S+ was created by an interrupted run", out), out
    assert_whole(ws, v2_only)


def test_kill_after_a_dropped_group_create_answer_finds_it_by_name(
    ws: Workspace, v2_only: Path
) -> None:
    cluster_yaml = v2_only / "cluster.yaml"
    full = cluster_yaml.read_text()
    spec = yaml.safe_load(full)
    cluster_yaml.write_text(yaml.safe_dump({"k8s_clusters": spec["k8s_clusters"]}))
    apply(ws, v2_only)  # the cluster alone
    cluster_yaml.write_text(full)
    ws.emulator.set_faults(latency_ms=LATENCY_MS, fail_next=["drop"])  # the first group's POST
    proc = ws.spawn("apply", str(v2_only), "--auto-approve", "--parallelism", "1")
    wait_for(ws, proc, dropped_post(GROUP_POST), "the dropped group create")
    kill(proc)
    in_flight = pending_creates(v2_only)
    assert len(in_flight) == 1 and list(in_flight.values()) == [None], in_flight
    assert len(v2_groups(ws.emulator.state())) == 1, "the create was committed"
    ws.emulator.set_faults(latency_ms=0)
    out = apply(ws, v2_only)
    (address,) = in_flight
    assert re.search(rf"{re.escape(address)}: \S+ was created by an interrupted run", out), out
    assert_whole(ws, v2_only)

"""SIGKILL an apply while it waits for a node upgrade (an UpgradeNodes workflow), then run it
again: the rerun resumes the same workflow (its id journaled before the wait), never starts a
second one, and the plan after it is empty. A pause policy stops apply on purpose; the next
apply resumes the paused workflow, again without a second one.

The emulator's batches take ``workflow_batch_seconds`` of its model clock, moved on with
``advance``, never with sleep."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.kinds import names as kind_names
from reconciler.state.local import LocalStateStore
from tests.e2e.conftest import Workspace

V2 = "/api/cce/service/v2"
WORKFLOW_POST = re.compile(rf"{V2}/cluster/cce-[a-z0-9]+/workflow")
WORKFLOW_GET = re.compile(rf"{V2}/cluster/cce-[a-z0-9]+/workflow/(wf-[a-z0-9]+)")
BATCH_SECONDS = 600
CONFIG = """target:
  endpoint: {url}
k8s_clusters:
  - name: shop
    k8sVersion: "1.28.8"
    vpcID: vpc-shop
    networkMode: kubenet
    podCIDR: 172.28.0.0/16
    lbServiceVPCSubnetID: sbn-lb
instance_groups:
  - cluster: shop
    name: web
    replicas: 3
    machineSpec: bcc.g5.c2m8
    cpu: 2
    memory: 8
    imageID: m-image
    vpcSubnetID: sbn-nodes
    securityGroupID: g-nodes
{upgrade}"""
UPGRADE = (
    '    containerRuntimeVersion: "1.7.13"\n    upgrade: {{batchSize: 1, pausePolicy: {policy}}}\n'
)


@pytest.fixture
def folder(ws: Workspace) -> Path:
    """A cluster with a group of three nodes, applied; upgrades slowed to a batch per 600 s."""
    path = ws.root / "main.yaml"
    path.write_text(CONFIG.format(url=ws.emulator.url, upgrade=""))
    result = ws.cli("apply", str(ws.root), "--auto-approve")
    assert result.code == 0, result.out + result.err
    ws.emulator.set_faults(workflow_batch_seconds=BATCH_SECONDS)
    return ws.root


def declare_upgrade(folder: Path, ws: Workspace, policy: str = "NotPause") -> None:
    upgrade = UPGRADE.format(policy=policy)
    (folder / "main.yaml").write_text(CONFIG.format(url=ws.emulator.url, upgrade=upgrade))


def posts(ws: Workspace) -> list[dict[str, Any]]:
    return [
        r
        for r in ws.emulator.requests_log()
        if r["method"] == "POST" and WORKFLOW_POST.fullmatch(r["path"])
    ]


def polled_workflow(since: int) -> Callable[[list[dict[str, Any]]], str | None]:
    def found(log: list[dict[str, Any]]) -> str | None:
        for r in log:
            match = WORKFLOW_GET.fullmatch(r["path"])
            if r["index"] >= since and r["method"] == "GET" and match and r["status"] == 200:
                return match.group(1)
        return None

    return found


def wait_for(
    ws: Workspace, proc: subprocess.Popen[str], found: Callable[[list[dict[str, Any]]], Any]
) -> Any:
    end = time.monotonic() + 30
    while time.monotonic() < end:
        seen = found(ws.emulator.requests_log())
        if seen:
            return seen
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the apply ended (exit {proc.returncode}) first: {out}{err}")
        time.sleep(0.01)
    proc.kill()
    proc.communicate()
    raise AssertionError("the apply never polled the workflow")


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate()


def runtime_versions(ws: Workspace) -> list[str]:
    return sorted(i["spec"]["runtimeVersion"] for i in ws.emulator.state()["ccev2"]["instances"])


def converged(ws: Workspace, folder: Path) -> None:
    plan = ws.cli("plan", str(folder), "--detailed-exitcode")
    assert plan.code == 0 and "No changes." in plan.out, plan.out + plan.err
    mark = ws.emulator.next_index()
    assert ws.cli("apply", str(folder), "--auto-approve").code == 0
    assert ws.emulator.mutating_requests(since=mark) == []


def test_a_kill_during_the_upgrade_wait_resumes_the_same_workflow(
    ws: Workspace, folder: Path
) -> None:
    declare_upgrade(folder, ws)
    mark = ws.emulator.next_index()
    proc = ws.spawn("apply", str(folder), "--auto-approve")
    workflow_id = wait_for(ws, proc, polled_workflow(mark))
    kill(proc)
    # the killed run journaled the workflow's id before it waited
    state = LocalStateStore(folder / ".reconciler" / "state.json", kinds=kind_names()).read()
    assert [p.cloud_id for p in state.pending.values() if p.action == "update"] == [workflow_id]
    assert len(posts(ws)) == 1

    mark = ws.emulator.next_index()
    rerun = ws.spawn("apply", str(folder), "--auto-approve")
    assert wait_for(ws, rerun, polled_workflow(mark)) == workflow_id  # the same one
    ws.emulator.advance(3 * BATCH_SECONDS)
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, out + err
    assert f"{workflow_id} was started by an interrupted run; the next apply resumes it" in out
    assert f"the node upgrade {workflow_id} started by an earlier run is still running" in out
    assert len(posts(ws)) == 1, "a second workflow was started"
    assert runtime_versions(ws) == ["1.7.13"] * 3
    converged(ws, folder)


def test_a_paused_upgrade_stops_apply_and_the_next_apply_resumes_it(
    ws: Workspace, folder: Path
) -> None:
    declare_upgrade(folder, ws, "FirstBatch")
    ws.emulator.set_faults(workflow_batch_seconds=0)
    first = ws.cli("apply", str(folder), "--auto-approve")
    assert first.code == 1, first.out + first.err
    assert re.search(r"the node upgrade (wf-[a-z0-9]+) paused after 1 of 3 nodes", first.out)
    assert "run apply again to resume it" in first.out
    assert runtime_versions(ws) == ["1.6.28", "1.6.28", "1.7.13"]
    plan = ws.cli("plan", str(folder), "--detailed-exitcode")
    assert plan.code == 2 and "containerRuntimeVersion" in plan.out, plan.out

    second = ws.cli("apply", str(folder), "--auto-approve")
    assert second.code == 0, second.out + second.err
    assert "started by an earlier run is resumed" in second.out
    assert len(posts(ws)) == 1, "a second workflow was started"
    resumes = [
        r
        for r in ws.emulator.requests_log()
        if r["method"] == "PUT" and WORKFLOW_GET.fullmatch(r["path"])
    ]
    assert len(resumes) == 1
    assert runtime_versions(ws) == ["1.7.13"] * 3
    converged(ws, folder)


def test_a_failed_upgrade_says_why_and_the_next_apply_starts_again(
    ws: Workspace, folder: Path
) -> None:
    declare_upgrade(folder, ws)
    ws.emulator.set_faults(workflow_batch_seconds=0, workflow_failure_rate=1.0)
    failed = ws.cli("apply", str(folder), "--auto-approve")
    assert failed.code == 1
    assert re.search(
        r"the node upgrade wf-[a-z0-9]+ ended Failed: upgrading node .* failed", failed.out
    )
    ws.emulator.set_faults(workflow_failure_rate=0.0)
    again = ws.cli("apply", str(folder), "--auto-approve")
    assert again.code == 0, again.out + again.err
    assert len(posts(ws)) == 2  # the failed one is over: a new one, never two at once
    converged(ws, folder)

"""examples/v2 end to end through the CLI against the emulator: apply, converge, scale a pool up
and down, destroy. The example is copied as it ships, with only ``endpoint: local`` pointed at
the test's emulator."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, Workspace

EXAMPLE = ROOT / "examples" / "v2"
NODE_PASSWORD = "NodePassw0rd!"
GENERAL = "instance_group.shop/general"
COMPUTE = "instance_group.shop/compute"


@pytest.fixture
def v2(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example in the workspace, aimed at the emulator."""
    monkeypatch.setenv("NODE_ADMIN_PASSWORD", NODE_PASSWORD)
    folder = ws.root / "v2"
    shutil.copytree(EXAMPLE, folder)
    registry = folder / "registry.yaml"
    text = registry.read_text()
    assert text.count("endpoint: local") == 1
    registry.write_text(text.replace("endpoint: local", f"endpoint: {ws.emulator.url}"))
    return folder


def state_file(folder: Path) -> Path:
    return folder / ".reconciler" / "state.json"


def set_replicas(folder: Path, pool: str, replicas: int) -> None:
    """Edit one pool's ``replicas`` line in cluster.yaml, as a user would."""
    path = folder / "cluster.yaml"
    lines = path.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == f"name: {pool}")
    at = next(i for i in range(start, len(lines)) if lines[i].strip().startswith("replicas:"))
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    lines[at] = f"{indent}replicas: {replicas}\n"
    path.write_text("".join(lines))


def ccev2(ws: Workspace) -> dict[str, Any]:
    state: dict[str, Any] = ws.emulator.state()["ccev2"]
    return state


def groups(ws: Workspace) -> dict[str, dict[str, Any]]:
    return {g["spec"]["instanceGroupName"]: g for g in ccev2(ws)["instanceGroups"]}


def nodes_of(ws: Workspace, group_id: str) -> list[dict[str, Any]]:
    return [
        i
        for i in ccev2(ws)["instances"]
        if i["spec"].get("instanceGroupID") == group_id
        and i["status"]["instancePhase"] not in ("deleting", "deleted")
    ]


def apply(ws: Workspace, folder: Path) -> str:
    result = ws.cli("apply", str(folder), "--auto-approve")
    assert result.code == 0, result.out + result.err
    return result.out


def assert_converged(ws: Workspace, folder: Path) -> None:
    plan = ws.cli("plan", str(folder), "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err
    assert "No changes." in plan.out
    mark = ws.emulator.next_index()
    apply(ws, folder)
    assert ws.emulator.mutating_requests(since=mark) == []


def test_the_example_validates(ws: Workspace) -> None:
    result = ws.cli("validate", str(EXAMPLE))
    assert result.code == 0, result.err
    assert result.out.strip() == (
        "valid: 1 user, 2 namespaces, 4 repositories, 1 k8s_cluster, 2 instance_groups, 2 addons "
        "(3 files)"
    )


def test_apply_then_plan_is_empty(ws: Workspace, v2: Path) -> None:
    out = apply(ws, v2)
    assert "Apply complete: 12 created" in out
    clusters = [c for c in ccev2(ws)["clusters"] if c["status"]["clusterPhase"] == "running"]
    assert [c["spec"]["clusterName"] for c in clusters] == ["shop"]
    network = clusters[0]["spec"]["containerNetworkConfig"]
    assert (network["mode"], network["clusterPodCIDR"]) == ("kubenet", "172.28.0.0/16")
    found = groups(ws)
    assert {name: g["spec"]["replicas"] for name, g in found.items()} == {
        "general": 2,
        "compute": 1,
    }
    template = found["compute"]["spec"]["instanceTemplate"]
    assert template["instanceResource"]["machineSpec"] == "bcc.c5.c8m16"
    assert found["compute"]["spec"]["clusterAutoscalerSpec"]["maxReplicas"] == 3
    assert found["general"]["spec"]["instanceTemplate"]["labels"] == {"tier": "general"}
    assert sorted((a["name"], a["phase"]) for a in ccev2(ws)["addons"]) == [
        ("cce-csi-cds-plugin", "Running"),
        ("cce-volcano", "Running"),
    ]
    assert [a["caConfig"]["expander"] for a in ccev2(ws)["autoscalers"]] == ["least-waste"]
    assert NODE_PASSWORD not in json.dumps(ccev2(ws)) + state_file(v2).read_text()
    assert_converged(ws, v2)


def test_upgrade_the_general_pools_nodes_in_place(ws: Workspace, v2: Path) -> None:
    apply(ws, v2)
    path = v2 / "cluster.yaml"
    path.write_text(path.read_text().replace('"1.6.28"', '"1.7.13"'))
    plan = ws.cli("plan", str(v2), "--detailed-exitcode")
    assert plan.code == 2, plan.out + plan.err
    assert f"~ {GENERAL} will be updated in place" in plan.out and "-/+" not in plan.out
    out = apply(ws, v2)
    assert "upgrading the nodes to containerRuntime 1.7.13" in out
    group_id = groups(ws)["general"]["spec"]["cceInstanceGroupID"]
    assert {n["spec"]["runtimeVersion"] for n in nodes_of(ws, group_id)} == {"1.7.13"}
    assert [w["status"]["phase"] for w in ccev2(ws)["workflows"]] == ["Succeeded"]
    assert_converged(ws, v2)


def test_scale_a_pool_up_then_down(ws: Workspace, v2: Path) -> None:
    apply(ws, v2)
    group_id = groups(ws)["general"]["spec"]["cceInstanceGroupID"]
    first = {n["spec"]["cceInstanceID"] for n in nodes_of(ws, group_id)}
    ws.emulator.advance(120)  # the scaled-up nodes are two minutes younger

    set_replicas(v2, "general", 4)
    plan = ws.cli("plan", str(v2), "--detailed-exitcode")
    assert plan.code == 2, plan.out + plan.err
    assert GENERAL in plan.out and "replicas: 2 -> 4" in plan.out
    assert COMPUTE not in plan.out
    apply(ws, v2)
    assert groups(ws)["general"]["spec"]["replicas"] == 4
    assert groups(ws)["general"]["status"]["readyReplicas"] == 4
    added = {n["spec"]["cceInstanceID"] for n in nodes_of(ws, group_id)} - first
    assert len(added) == 2

    set_replicas(v2, "general", 3)
    plan = ws.cli("plan", str(v2), "--detailed-exitcode")
    assert plan.code == 2, plan.out + plan.err
    assert "replicas: 4 -> 3" in plan.out
    assert "nodes to remove (newest first)" in plan.out
    removed = [node for node in added if node in plan.out]
    assert len(removed) == 1  # one of the two newest, named in the plan
    apply(ws, v2)
    assert groups(ws)["general"]["spec"]["replicas"] == 3
    remaining = {n["spec"]["cceInstanceID"] for n in nodes_of(ws, group_id)}
    assert len(remaining) == 3 and first <= remaining and removed[0] not in remaining
    assert groups(ws)["compute"]["spec"]["replicas"] == 1
    assert_converged(ws, v2)


def test_destroy_removes_everything(ws: Workspace, v2: Path) -> None:
    apply(ws, v2)
    result = ws.cli("destroy", str(v2), "--auto-approve")
    assert result.code == 0, result.out + result.err
    state = ws.emulator.state()
    assert state["namespaces"] == [] and state["images"] == []
    v2_state = state["ccev2"]
    assert all(c["status"]["clusterPhase"] == "deleted" for c in v2_state["clusters"])
    assert v2_state["instanceGroups"] == [] and v2_state["instances"] == []
    assert v2_state["addons"] == []
    assert json.loads(state_file(v2).read_text())["resources"] == {}

"""Day 2 of CCE v2 clusters end to end through the CLI against the emulator: each in-place
change plans ``~`` (never ``-/+``), applies, and the next plan is empty with no request that
changes anything; what the API cannot do is refused by the plan, saying why."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from reconciler.client.credentials import Credentials
from reconciler.client.v2 import CceV2Client

from .conftest import Workspace

PASSWORD = "NodePassw0rd!"
CLUSTER = """k8s_clusters:
  - name: shop
    k8sVersion: "1.28.8"
    vpcID: vpc-shop
    networkMode: kubenet
    podCIDR: 172.28.0.0/16
    lbServiceVPCSubnetID: sbn-lb
{cluster_extra}
instance_groups:
  - cluster: shop
    name: web
    machineSpec: bcc.g5.c2m8
    cpu: 2
    memory: 8
    imageID: m-image
    vpcSubnetID: sbn-nodes
    securityGroupID: g-nodes
    adminPassword: {{env: NODE_ADMIN_PASSWORD}}
{group_extra}
{addons}"""
SHOP = "k8s_cluster.shop"
WEB = "instance_group.shop/web"


@pytest.fixture(autouse=True)
def node_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NODE_ADMIN_PASSWORD", PASSWORD)


def config(
    ws: Workspace,
    group: str = "    replicas: 2",
    cluster: str = "",
    addons: str = "",
) -> Path:
    return ws.write(CLUSTER.format(cluster_extra=cluster, group_extra=group, addons=addons))


def apply(ws: Workspace, path: Path, *args: str) -> str:
    result = ws.cli("apply", str(path), "--auto-approve", *args)
    assert result.code == 0, result.out + result.err
    return result.out


def plan(ws: Workspace, path: Path) -> str:
    result = ws.cli("plan", str(path), "--detailed-exitcode")
    assert result.code == 2, result.out + result.err
    assert "-/+" not in result.out and "must be replaced" not in result.out
    return result.out


def converged(ws: Workspace, path: Path) -> None:
    result = ws.cli("plan", str(path), "--detailed-exitcode")
    assert result.code == 0 and "No changes." in result.out, result.out + result.err
    mark = ws.emulator.next_index()
    apply(ws, path)
    assert ws.emulator.mutating_requests(since=mark) == []


def v2(ws: Workspace) -> dict[str, Any]:
    found: dict[str, Any] = ws.emulator.state()["ccev2"]
    return found


def web(ws: Workspace) -> dict[str, Any]:
    (group,) = [g for g in v2(ws)["instanceGroups"] if g["spec"]["instanceGroupName"] == "web"]
    return group


def nodes(ws: Workspace) -> list[dict[str, Any]]:
    group_id = web(ws)["spec"]["cceInstanceGroupID"]
    return [i for i in v2(ws)["instances"] if i["spec"].get("instanceGroupID") == group_id]


def cluster_id(ws: Workspace) -> str:
    (cluster,) = [c for c in v2(ws)["clusters"] if c["status"]["clusterPhase"] == "running"]
    return str(cluster["spec"]["clusterID"])


def console(ws: Workspace) -> CceV2Client:
    """The API as someone else uses it (the console, another tool)."""
    creds = Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    return CceV2Client.connect(ws.emulator.url, creds)


def mutations(ws: Workspace, since: int) -> list[tuple[str, str]]:
    return [
        (e["method"], e["path"].split("/v2", 1)[1]) for e in ws.emulator.mutating_requests(since)
    ]


# --- delete protection ---------------------------------------------------------------------


def test_forbid_delete_changes_in_place_and_protects_in_the_cloud(ws: Workspace) -> None:
    path = config(ws)
    apply(ws, path)
    path = config(ws, cluster="    forbidDelete: true")
    out = plan(ws, path)
    assert f"~ {SHOP} will be updated in place" in out and "forbidDelete: false -> true" in out
    mark = ws.emulator.next_index()
    apply(ws, path)
    assert mutations(ws, mark) == [("PUT", f"/cluster/{cluster_id(ws)}/forbiddelete")]
    assert v2(ws)["clusters"][0]["spec"]["forbidDelete"] is True
    converged(ws, path)
    # protected in the cloud: destroy is refused by the plan, before any request
    destroy = ws.cli("destroy", str(path), "--auto-approve")
    assert destroy.code == 3, destroy.out + destroy.err
    assert "deletion protection in the cloud (forbidDelete: true)" in destroy.out + destroy.err


def test_lifecycle_protect_sets_forbid_delete_and_console_drift_is_reported(
    ws: Workspace,
) -> None:
    path = config(ws, cluster="    lifecycle: {protect: true}")
    apply(ws, path)
    assert v2(ws)["clusters"][0]["spec"]["forbidDelete"] is True
    converged(ws, path)
    # someone turns the protection off in the console: the plan reports it and sets it back
    with console(ws) as client:
        client.set_forbid_delete(cluster_id(ws), False)
    out = plan(ws, path)
    assert "changed outside the reconciler: forbidDelete" in out
    apply(ws, path)
    converged(ws, path)
    bad = config(ws, cluster="    forbidDelete: false\n    lifecycle: {protect: true}")
    result = ws.cli("validate", str(bad))
    assert (
        result.code == 1 and "forbidDelete: false contradicts lifecycle.protect: true" in result.err
    )


# --- instance groups in place --------------------------------------------------------------


def test_labels_taints_and_annotations_change_in_place_on_the_nodes_too(ws: Workspace) -> None:
    path = config(ws)
    apply(ws, path)
    meta = (
        "    replicas: 2\n    labels: {tier: web, team: shop}\n"
        "    taints: [{key: dedicated, value: web, effect: NoSchedule}]\n"
        "    annotations: {owner: shop}"
    )
    path = config(ws, group=meta)
    out = plan(ws, path)
    assert f"~ {WEB} will be updated in place" in out
    mark = ws.emulator.next_index()
    apply(ws, path)
    assert [m for m in mutations(ws, mark) if m[0] == "PUT"] == [
        (
            "PUT",
            f"/cluster/{cluster_id(ws)}/instancegroup/{web(ws)['spec']['cceInstanceGroupID']}/configure",
        )
    ]
    template = web(ws)["spec"]["instanceTemplate"]
    assert template["labels"] == {"tier": "web", "team": "shop"}
    for node in nodes(ws):
        assert node["spec"]["labels"]["tier"] == "web"
        assert node["spec"]["taints"] == [
            {"key": "dedicated", "value": "web", "effect": "NoSchedule"}
        ]
    converged(ws, path)
    # a label removed from the mapping is removed from the group
    path = config(ws, group=meta.replace(", team: shop", ""))
    assert '"team=shop"' in plan(ws, path)
    apply(ws, path)
    assert web(ws)["spec"]["instanceTemplate"]["labels"] == {"tier": "web"}
    converged(ws, path)


def test_the_machine_still_replaces_the_group_saying_why(ws: Workspace) -> None:
    path = config(ws)
    apply(ws, path)
    text = path.read_text().replace("cpu: 2", "cpu: 4")
    path.write_text(text)
    result = ws.cli("plan", str(path))
    assert result.code == 3, result.out
    assert f"-/+ {WEB} must be replaced" in result.out
    assert "replacement must be allowed with --replace" in result.out


def test_autoscaling_owns_the_node_count(ws: Workspace) -> None:
    path = config(ws)
    apply(ws, path)
    scaled = "    autoscaler: {enabled: true, minReplicas: 1, maxReplicas: 4, priority: 5}"
    path = config(ws, group=scaled)
    out = plan(ws, path)
    assert f"~ {WEB} will be updated in place" in out
    assert "autoscaler.minReplicas: 0 -> 1" in out and "autoscaler.maxReplicas: 0 -> 4" in out
    assert "replicas: 2 ->" not in out
    mark = ws.emulator.next_index()
    apply(ws, path)
    puts = [p for m, p in mutations(ws, mark)]
    assert any(p.endswith("/autoscaler") and "instancegroup" in p for p in puts)
    assert f"/autoscaler/{cluster_id(ws)}" in puts  # the cluster autoscaler deployed with it
    assert web(ws)["spec"]["clusterAutoscalerSpec"] == {
        "enabled": True, "minReplicas": 1, "maxReplicas": 4, "scalingGroupPriority": 5}  # fmt: skip
    converged(ws, path)
    # the autoscaler grows the group: no drift, nothing planned
    with console(ws) as client:
        client.update_replicas(cluster_id(ws), web(ws)["spec"]["cceInstanceGroupID"], 4)
    converged(ws, path)
    # replicas beside an enabled autoscaler is a validate error
    both = config(ws, group="    replicas: 2\n" + scaled)
    result = ws.cli("validate", str(both))
    assert result.code == 1
    assert "declares replicas and autoscaler.enabled: true" in result.err


def test_a_scale_down_waits_until_the_nodes_are_gone(ws: Workspace) -> None:
    path = config(ws, group="    replicas: 3")
    apply(ws, path)
    ws.emulator.set_faults(cluster_delete_seconds=2)
    path = config(ws, group="    replicas: 1")
    out = apply(ws, path)
    assert re.search(r"instance_group.shop/web: updated after [1-9]", out), out
    assert [n["status"]["instancePhase"] for n in nodes(ws)] == ["running"]
    assert v2(ws)["clusters"][0]["status"]["nodeNum"] == 1
    converged(ws, path)


# --- node upgrades -------------------------------------------------------------------------


def test_a_runtime_upgrade_runs_one_workflow_with_the_declared_batches(ws: Workspace) -> None:
    path = config(ws, group="    replicas: 3")
    apply(ws, path)
    upgrade = '    replicas: 3\n    containerRuntimeVersion: "1.7.13"\n    upgrade: {batchSize: 2}'
    path = config(ws, group=upgrade)
    out = plan(ws, path)
    assert f"~ {WEB} will be updated in place" in out
    assert 'containerRuntimeVersion: "1.6.28" -> "1.7.13"' in out
    mark = ws.emulator.next_index()
    out = apply(ws, path)
    posts = [p for m, p in mutations(ws, mark) if m == "POST"]
    assert posts == [f"/cluster/{cluster_id(ws)}/workflow"]
    assert "upgrading the nodes to containerRuntime 1.7.13" in out
    assert {n["spec"]["runtimeVersion"] for n in nodes(ws)} == {"1.7.13"}
    converged(ws, path)


def test_a_version_the_group_cannot_take_is_refused_by_the_plan(ws: Workspace) -> None:
    path = config(ws)
    apply(ws, path)
    path = config(ws, group='    replicas: 2\n    kubeletVersion: "1.30.1"')
    result = ws.cli("plan", str(path))
    assert result.code == 3, result.out
    assert (
        "kubeletVersion 1.30.1 is not a version the group can be upgraded to from 1.28.8"
        in result.out
    )
    assert "upgrade the master in the console first" in result.out


def test_the_master_is_upgraded_in_the_console_then_the_nodes_follow(ws: Workspace) -> None:
    path = config(ws)
    apply(ws, path)
    newer = CLUSTER.replace('k8sVersion: "1.28.8"', 'k8sVersion: "1.30.1"')
    path.write_text(f"target:\n  endpoint: {ws.emulator.url}\n" + newer.format(
        cluster_extra="", group_extra="    replicas: 2", addons=""))  # fmt: skip
    result = ws.cli("plan", str(path))
    assert result.code == 3
    assert "the v2 API cannot upgrade a cluster's Kubernetes version" in result.out
    ws.emulator.admin("POST", "cce_v2/upgrade-master",
                      json={"clusterID": cluster_id(ws), "k8sVersion": "1.30.1"})  # fmt: skip
    out = plan(ws, path)
    assert f"~ {SHOP} will be updated in place" in out
    assert "changed outside the reconciler to the declared value: k8sVersion" in out
    mark = ws.emulator.next_index()
    apply(ws, path)
    assert mutations(ws, mark) == []  # an update of state
    path.write_text(
        path.read_text().replace("    replicas: 2", '    replicas: 2\n    kubeletVersion: "1.30.1"')
    )
    plan(ws, path)
    apply(ws, path)
    converged(ws, path)


# --- the cluster autoscaler and add-ons -------------------------------------------------------


def test_the_cluster_autoscaler_is_deployed_and_changed_in_place(ws: Workspace) -> None:
    path = config(ws)
    apply(ws, path)
    path = config(
        ws, cluster="    clusterAutoscaler: {expander: least-waste, scaleDownEnabled: true}"
    )
    assert "clusterAutoscaler" in plan(ws, path)
    apply(ws, path)
    converged(ws, path)
    path = config(ws, cluster="    clusterAutoscaler: {expander: priority, scaleDownEnabled: true}")
    assert 'expander: "least-waste" -> "priority"' in plan(ws, path)
    apply(ws, path)
    converged(ws, path)


ADDONS = """addons:
  - cluster: shop
    name: cce-volcano
    version: "{version}"
    params: |
      Binpack: {binpack}
  - cluster: shop
    name: cce-csi-cds-plugin
"""


def test_add_ons_install_upgrade_update_and_uninstall(ws: Workspace) -> None:
    path = config(ws, addons=ADDONS.format(version="1.8.2", binpack="false"))
    out = apply(ws, path)
    assert (
        "addon.shop/cce-volcano: created" in out and "addon.shop/cce-csi-cds-plugin: created" in out
    )
    converged(ws, path)
    path = config(ws, addons=ADDONS.format(version="1.9.1", binpack="true"))
    out = plan(ws, path)
    assert "~ addon.shop/cce-volcano will be updated in place" in out
    mark = ws.emulator.next_index()
    apply(ws, path)
    calls = mutations(ws, mark)
    assert ("POST", f"/cluster/{cluster_id(ws)}/addon/upgrade") in calls
    assert ("PUT", f"/cluster/{cluster_id(ws)}/addon") in calls
    converged(ws, path)
    downgrade = config(ws, addons=ADDONS.format(version="1.7.0", binpack="true"))
    result = ws.cli("plan", str(downgrade))
    assert result.code == 3 and "cannot be upgraded from 1.9.1 to 1.7.0" in result.out
    path = config(
        ws,
        addons=ADDONS.format(version="1.9.1", binpack="true").split(
            "  - cluster: shop\n    name: cce-csi"
        )[0],
    )
    out = ws.cli("plan", str(path))
    assert "- addon.shop/cce-csi-cds-plugin will be deleted" in out.out, out.out
    apply(ws, path, "--allow-deletes", "1")
    converged(ws, path)


def test_an_unknown_add_on_name_is_a_validate_error(ws: Workspace) -> None:
    path = config(ws, addons="addons:\n  - cluster: shop\n    name: cce-nothing\n")
    result = ws.cli("validate", str(path))
    assert result.code == 1 and "cce-nothing" in result.err


def test_destroy_takes_the_add_ons_with_the_cluster(ws: Workspace) -> None:
    path = config(ws, addons=ADDONS.format(version="1.9.1", binpack="true"))
    apply(ws, path)
    out = ws.cli("destroy", str(path), "--auto-approve")
    assert out.code == 0, out.out + out.err
    assert json.loads((ws.root / ".reconciler" / "state.json").read_text())["resources"] == {}


# --- quotas --------------------------------------------------------------------------------


def test_v2_quotas_refuse_at_plan_time(ws: Workspace) -> None:
    path = config(ws)
    apply(ws, path)
    ws.emulator.set_faults(v2_node_quota=3)
    path = config(ws, group="    replicas: 4")
    result = ws.cli("plan", str(path))
    assert result.code == 3, result.out
    assert "the plan adds 2 node(s) to k8s_cluster.shop and 2 of its 3 exist" in result.out
    ws.emulator.set_faults(v2_cluster_quota=1)
    second = CLUSTER.format(cluster_extra="", group_extra="", addons="")
    second = second.split("instance_groups:")[0].replace("name: shop", "name: shop2")
    other = ws.write(second.replace("172.28.0.0/16", "172.29.0.0/16"), "other.yaml")
    config(ws)
    result = ws.cli("plan", str(ws.root))
    assert result.code == 3
    assert "the plan creates 1 v2 cluster(s) and 1 of the account's 1 exist" in result.out
    other.unlink()

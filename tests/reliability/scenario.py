"""The reliability scenario: a config of about 200 resources, and the final cloud it must give.

A user, 12 namespaces, 180 repositories with one to three tags, 3 clusters (CCE v1), and one
CCE v2 cluster with two instance groups of small replicas. The expected final state is derived
from the same numbers, so a fault-free run and a faulted one are compared on content (names,
tags, visibility, node counts, replicas), never on generated ids.

``V2_CONFIG`` (the v2 part) is shared with the crash suites, and ``observed_cloud`` / ``damage``
read the v1 and the v2 parts of the emulator's state (``ws.emulator.state()``) alike.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

NAMESPACES = 12
REPOSITORIES = 180
CLUSTERS = 3
LONG_SWEEP = os.environ.get("RECONCILER_LONG") == "1"

# CCE v2: one cluster, its two node pools (name -> replicas) and two add-ons.
V2_CLUSTER = "shop"
V2_GROUPS = {"general": 2, "compute": 1}
NODE_PASSWORD = "NodePassw0rd!"  # NODE_ADMIN_PASSWORD (the reliability conftest sets it)
V2_CONFIG = f"""k8s_clusters:
  - name: {V2_CLUSTER}
    k8sVersion: "1.28.8"
    vpcID: vpc-shop0example
    masterType: managedPro
    clusterHA: 3
    masterVPCSubnetZone: zoneA
    runtimeType: containerd
    networkMode: kubenet
    podCIDR: 172.28.0.0/16
    serviceCIDR: 172.31.0.0/16
    lbServiceVPCSubnetID: sbn-shop0lb
    tags: {{team: shop}}
instance_groups:
  - cluster: {V2_CLUSTER}
    name: general
    replicas: {V2_GROUPS["general"]}
    machineSpec: bcc.g5.c2m8
    cpu: 2
    memory: 8
    imageID: m-shop0image
    vpcSubnetID: sbn-shop0nodes
    securityGroupID: g-shop0nodes
    adminPassword: {{env: NODE_ADMIN_PASSWORD}}
    labels: {{tier: general}}
  - cluster: {V2_CLUSTER}
    name: compute
    replicas: {V2_GROUPS["compute"]}
    instanceType: N5
    machineSpec: bcc.c5.c8m16
    cpu: 8
    memory: 16
    imageID: m-shop0image
    vpcSubnetID: sbn-shop0nodes
    securityGroupID: g-shop0nodes
addons:
  - cluster: {V2_CLUSTER}
    name: cce-volcano
  - cluster: {V2_CLUSTER}
    name: cce-csi-cds-plugin
"""
V2_ADDONS = ("cce-volcano", "cce-csi-cds-plugin")
V2_RESOURCES = 1 + len(V2_GROUPS) + len(V2_ADDONS)
V2_GONE = ("deleting", "deleted")  # v2 cluster and node phases that no longer count


def tags_of(i: int) -> list[str]:
    return ["latest", "v1", "v2"][: 1 + i % 3]


def config_text(endpoint: str) -> str:
    lines = [
        f"target:\n  endpoint: {endpoint}",
        "users:\n  - username: ccetest\n    password: {env: CCR_PASSWORD}",
        "namespaces:",
    ]
    lines += [
        f"  - name: ns{n:02d}\n    public: {str(n % 4 == 0).lower()}" for n in range(NAMESPACES)
    ]
    lines.append("repositories:")
    for i in range(REPOSITORIES):
        lines.append(
            f"  - namespace: ns{i % NAMESPACES:02d}\n    name: repo{i:03d}\n    tags: [{', '.join(tags_of(i))}]"
        )
    lines.append("clusters:")
    for c in range(CLUSTERS):
        lines.append(
            f'  - name: k8s-{c}\n    version: "1.20.8"\n    mainAvailableZone: zoneA\n'
            f"    containerNet: 172.{16 + c}.0.0/16\n"
            f'    workers: {{count: {c + 1}, instanceType: "10", cpu: 4, memory: 8, imageId: m-1, subnetUuid: sbn-1, securityGroupId: g-1}}'
        )
    return "\n".join(lines) + "\n" + V2_CONFIG


def resource_count() -> int:
    return 1 + NAMESPACES + REPOSITORIES + CLUSTERS + V2_RESOURCES


def expected_v2(
    cluster: str = V2_CLUSTER,
    groups: dict[str, int] | None = None,
    addons: tuple[str, ...] = V2_ADDONS,
) -> dict[str, Any]:
    """The v2 part of ``expected_cloud``: one running cluster, each pool (name -> replicas) at
    its replicas with every node ready, each add-on running, and nothing else."""
    groups = V2_GROUPS if groups is None else groups
    return {
        "k8s_clusters": [(cluster, "running")],
        "instance_groups": sorted((cluster, g, n, n) for g, n in groups.items()),
        "instances": {(cluster, g): ["running"] * n for g, n in sorted(groups.items())},
        "addons": sorted((cluster, a, "Running") for a in addons),
    }


def expected_cloud() -> dict[str, Any]:
    return {
        "user": "ccetest",
        "namespaces": {f"ns{n:02d}": n % 4 == 0 for n in range(NAMESPACES)},
        "images": {
            (f"ns{i % NAMESPACES:02d}", f"repo{i:03d}"): sorted(tags_of(i))
            for i in range(REPOSITORIES)
        },
        "clusters": {f"k8s-{c}": c + 1 for c in range(CLUSTERS)},
        **expected_v2(),
    }


# --- the v2 part of the emulator's state (state()["ccev2"]) ------------------------------------


def v2_clusters(state: dict[str, Any]) -> list[dict[str, Any]]:
    """Live v2 clusters (not deleting or deleted), in creation order."""
    return [c for c in state["ccev2"]["clusters"] if c["status"]["clusterPhase"] not in V2_GONE]


def v2_groups(state: dict[str, Any]) -> list[dict[str, Any]]:
    """Instance groups of live v2 clusters."""
    alive = {c["spec"]["clusterID"] for c in v2_clusters(state)}
    return [g for g in state["ccev2"]["instanceGroups"] if g["spec"]["clusterID"] in alive]


def v2_instances(state: dict[str, Any]) -> list[dict[str, Any]]:
    """Nodes of live v2 clusters that are not being deleted, in a group or not."""
    alive = {c["spec"]["clusterID"] for c in v2_clusters(state)}
    return [
        i
        for i in state["ccev2"]["instances"]
        if i["spec"]["clusterID"] in alive and i["status"]["instancePhase"] not in V2_GONE
    ]


def observed_v2(state: dict[str, Any]) -> dict[str, Any]:
    """The v2 part in the shape of ``expected_v2``; a duplicate cluster or group shows as a
    second entry, a node outside every group under the group name ``""``."""
    names = {c["spec"]["clusterID"]: c["spec"]["clusterName"] for c in v2_clusters(state)}
    groups = {g["spec"]["cceInstanceGroupID"]: g for g in v2_groups(state)}
    instances: dict[tuple[str, str], list[str]] = {}
    for i in v2_instances(state):
        group = groups.get(i["spec"].get("instanceGroupID") or "")
        key = (names[i["spec"]["clusterID"]], group["spec"]["instanceGroupName"] if group else "")
        instances.setdefault(key, []).append(i["status"]["instancePhase"])
    return {
        "k8s_clusters": sorted(
            (c["spec"]["clusterName"], c["status"]["clusterPhase"]) for c in v2_clusters(state)
        ),
        "instance_groups": sorted(
            (
                names[g["spec"]["clusterID"]],
                g["spec"]["instanceGroupName"],
                g["spec"]["replicas"],
                g["status"]["readyReplicas"],
            )
            for g in groups.values()
        ),
        "instances": {key: sorted(phases) for key, phases in sorted(instances.items())},
        "addons": sorted(
            (names[a["clusterID"]], a["name"], a["phase"])
            for a in state["ccev2"]["addons"]
            if a["clusterID"] in names
        ),
    }


def observed_cloud(state: dict[str, Any]) -> dict[str, Any]:
    """The emulator's state in the shape of expected_cloud; duplicates are kept visible."""
    live = [c for c in state["clusters"] if c["status"] not in ("DELETED", "DELETING")]
    names = [c["clusterName"] for c in live]
    return {
        "user": (state.get("user") or {}).get("username"),
        "namespaces": {n["namespace"]: n["public"] for n in state["namespaces"]},
        "images": {(i["namespace"], i["repository"]): sorted(i["tags"]) for i in state["images"]},
        "clusters": {c["clusterName"]: len(c["nodes"]) for c in live if c["status"] == "RUNNING"},
        "duplicate_clusters": sorted({n for n in names if names.count(n) > 1}),
        "cluster_statuses": sorted(c["status"] for c in live),
        **observed_v2(state),
    }


def cloud_ids(state: dict[str, Any]) -> set[tuple[str, str]]:
    """(kind, cloud id) of every object in the cloud that a state entry stands for."""
    out = {("user", state["user"]["username"])} if state.get("user") else set()
    out |= {("namespace", n["namespace"]) for n in state["namespaces"]}
    out |= {("repository", f"{i['namespace']}/{i['repository']}") for i in state["images"]}
    out |= {
        ("cluster", c["clusterUuid"])
        for c in state["clusters"]
        if c["status"] not in ("DELETED", "DELETING")
    }
    out |= {("k8s_cluster", c["spec"]["clusterID"]) for c in v2_clusters(state)}
    out |= {
        ("instance_group", f"{g['spec']['clusterID']}/{g['spec']['cceInstanceGroupID']}")
        for g in v2_groups(state)
    }
    alive = {c["spec"]["clusterID"] for c in v2_clusters(state)}
    out |= {
        ("addon", f"{a['clusterID']}/{a['name']}")
        for a in state["ccev2"]["addons"]
        if a["clusterID"] in alive
    }
    return out


def managed_ids(state_doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["kind"], e["cloud_id"]) for e in state_doc["resources"].values()}


def unmanaged(cloud: dict[str, Any], state_doc: dict[str, Any]) -> set[tuple[str, str]]:
    """Orphans: cloud objects missing from state, and v2 nodes outside every managed group
    (a node has no state entry of its own: its group stands for it)."""
    managed = managed_ids(state_doc)
    groups = {cloud_id for kind, cloud_id in managed if kind == "instance_group"}
    nodes = {
        ("instance", i["spec"]["cceInstanceID"])
        for i in v2_instances(cloud)
        if f"{i['spec']['clusterID']}/{i['spec'].get('instanceGroupID') or ''}" not in groups
    }
    return (cloud_ids(cloud) - managed) | nodes


def duplicates(cloud: dict[str, Any]) -> list[str]:
    """One entry per extra live object of a name: v1 and v2 clusters, and v2 groups (per
    cluster)."""
    v1 = [c["clusterName"] for c in cloud["clusters"] if c["status"] not in ("DELETED", "DELETING")]
    v2 = [f"k8s_cluster.{c['spec']['clusterName']}" for c in v2_clusters(cloud)]
    names = {c["spec"]["clusterID"]: c["spec"]["clusterName"] for c in v2_clusters(cloud)}
    groups = [
        f"instance_group.{names[g['spec']['clusterID']]}/{g['spec']['instanceGroupName']}"
        f" in {g['spec']['clusterID']}"
        for g in v2_groups(cloud)
    ]
    extra: list[str] = []
    for found in (v1, v2, groups):
        extra += [name for name, n in Counter(found).items() for _ in range(n - 1)]
    return sorted(extra)


def damage(cloud: dict[str, Any], state_doc: dict[str, Any]) -> dict[str, int]:
    """Duplicates (extra live clusters per name, v1 and v2, and extra v2 groups per name in a
    cluster) and orphans (cloud objects not in state, v2 nodes outside managed groups)."""
    return {
        "duplicates": len(duplicates(cloud)),
        "orphans": len(unmanaged(cloud, state_doc)),
    }

"""The reliability scenario: a config of about 200 resources, and the final cloud it must give.

A user, 12 namespaces, 180 repositories with one to three tags, and 3 clusters. The expected
final state is derived from the same numbers, so a fault-free run and a faulted one are
compared on content (names, tags, visibility, node counts), never on generated ids.
"""

from __future__ import annotations

import os
from typing import Any

NAMESPACES = 12
REPOSITORIES = 180
CLUSTERS = 3
LONG_SWEEP = os.environ.get("RECONCILER_LONG") == "1"


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
    return "\n".join(lines) + "\n"


def resource_count() -> int:
    return 1 + NAMESPACES + REPOSITORIES + CLUSTERS


def expected_cloud() -> dict[str, Any]:
    return {
        "user": "ccetest",
        "namespaces": {f"ns{n:02d}": n % 4 == 0 for n in range(NAMESPACES)},
        "images": {
            (f"ns{i % NAMESPACES:02d}", f"repo{i:03d}"): sorted(tags_of(i))
            for i in range(REPOSITORIES)
        },
        "clusters": {f"k8s-{c}": c + 1 for c in range(CLUSTERS)},
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
    }


def cloud_ids(state: dict[str, Any]) -> set[tuple[str, str]]:
    out = {("user", state["user"]["username"])} if state.get("user") else set()
    out |= {("namespace", n["namespace"]) for n in state["namespaces"]}
    out |= {("repository", f"{i['namespace']}/{i['repository']}") for i in state["images"]}
    out |= {
        ("cluster", c["clusterUuid"])
        for c in state["clusters"]
        if c["status"] not in ("DELETED", "DELETING")
    }
    return out


def managed_ids(state_doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["kind"], e["cloud_id"]) for e in state_doc["resources"].values()}


def damage(cloud: dict[str, Any], state_doc: dict[str, Any]) -> dict[str, int]:
    """Duplicates (extra live clusters per name) and orphans (cloud objects not in state)."""
    names = [
        c["clusterName"] for c in cloud["clusters"] if c["status"] not in ("DELETED", "DELETING")
    ]
    return {
        "duplicates": len(names) - len(set(names)),
        "orphans": len(cloud_ids(cloud) - managed_ids(state_doc)),
    }

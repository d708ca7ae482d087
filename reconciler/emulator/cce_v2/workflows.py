"""CCE v2 node upgrades: the node component versions and ``UpgradeNodes`` workflows.

For: the versions each node and each group runs (``ccev2_versions``: a node's, and a group's
for the nodes it creates next), what ``component_upgrade_versions`` offers, and the workflow
lifecycle (cce-v2-day2-api.md 5; docs/api-contract.md "Node upgrades" for the emulator's
choices)::

    Upgrading --batch--> ... --last batch--> Succeeded     (one batch per workflow_batch_seconds)
              \\-> Paused (pausePolicy FirstBatch / EveryBatch) --resume--> Upgrading
              \\-> Failed                     (probability workflow_failure_rate, first batch)

Each batch gives its nodes the target versions; the last gives them to the group. Functions
over an open connection, called by :class:`.models.CceV2` inside its lifecycle's transactions.
Not for: which cluster or group exists (:mod:`.models` checks first), nor the wire envelope.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from ..clock import rfc3339
from ..params import Json
from .catalogue import (
    COMPONENTS,
    CONTAINER_RUNTIME,
    KUBELET,
    RUNTIME_CATALOGUE,
    kubelet_targets,
    oldest,
    runtime_targets,
    version_key,
)
from .errors import READ, invalid, no_such_object, not_allowed
from .specs import choice

SCHEMA = """
-- owner = a node's cce instance id, or a group id (what the group's next nodes run).
CREATE TABLE IF NOT EXISTS ccev2_versions (
    owner TEXT PRIMARY KEY,
    kubelet TEXT NOT NULL,
    container_runtime TEXT NOT NULL
);
-- progress = JSON {"batches": [[cce ids], ...], "done": batches done, "fate": phase,
--                  "interval": seconds per batch, "group": group id}
CREATE TABLE IF NOT EXISTS ccev2_workflows (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    workflow_id TEXT NOT NULL UNIQUE,
    cluster_id TEXT NOT NULL,
    phase TEXT NOT NULL,
    due REAL,
    created REAL NOT NULL,
    finished REAL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    progress TEXT NOT NULL
);
"""

UPGRADE_NODES = "UpgradeNodes"
WORKFLOW_TYPES = (UPGRADE_NODES, "UpgradeNodesPreCheck", "UpgradeKubeletConfig")
PAUSE_POLICIES = ("NotPause", "FirstBatch", "EveryBatch")
UPGRADING, SUCCEEDED, FAILED, PAUSED = "Upgrading", "Succeeded", "Failed", "Paused"
FINISHED = (SUCCEEDED, FAILED)
MAX_BATCH = 20  # [DOC console guide: 1-20 nodes at a time]
ACTIONS = ("pause", "resume", "updateSpec")
DUE = "SELECT 1 FROM ccev2_workflows WHERE due <= ?1"


# --- versions ------------------------------------------------------------------------------------


def versions_of(conn: sqlite3.Connection, owner: str) -> tuple[str, str]:
    row = conn.execute(
        "SELECT kubelet, container_runtime FROM ccev2_versions WHERE owner = ?", (owner,)
    ).fetchone()
    if row is None:
        raise AssertionError(f"no versions stored for {owner}")
    return row["kubelet"], row["container_runtime"]


def set_versions(conn: sqlite3.Connection, owner: str, kubelet: str, runtime: str) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO ccev2_versions (owner, kubelet, container_runtime)"
        " VALUES (?, ?, ?)",
        (owner, kubelet, runtime),
    )


def new_group_versions(
    conn: sqlite3.Connection, group_id: str, master: str, runtime_type: str, template: Json
) -> None:
    """A new group's nodes run the master's kubelet and the template's runtime version (or
    the runtime's first version of the catalogue)."""
    offered = RUNTIME_CATALOGUE.get(runtime_type, ("",))
    runtime = READ.text(template, "runtimeVersion", where="instanceTemplate.") or offered[0]
    if runtime not in offered:
        raise invalid(
            f"instanceTemplate.runtimeVersion {runtime!r} is not one of {', '.join(offered)} "
            f"({runtime_type})"
        )
    set_versions(conn, group_id, master, runtime)


def current_versions(
    conn: sqlite3.Connection, group_id: str, members: Sequence[str]
) -> tuple[str, str]:
    """A group's versions: its oldest node's, or (no node) what its next node runs."""
    if not members:
        return versions_of(conn, group_id)
    pairs = [versions_of(conn, m) for m in members]
    return oldest([k for k, _ in pairs]), oldest([r for _, r in pairs])


def upgrade_versions(
    conn: sqlite3.Connection, group_id: str, members: Sequence[str], master: str, runtime: str
) -> dict[str, Any]:
    """The ``result`` of ``component_upgrade_versions``: every component, always."""
    kubelet, container_runtime = current_versions(conn, group_id, members)
    offered = {
        KUBELET: (kubelet, kubelet_targets(kubelet, master)),
        CONTAINER_RUNTIME: (container_runtime, runtime_targets(runtime, container_runtime)),
    }
    result: dict[str, Any] = {}
    for name in COMPONENTS:
        current, targets = offered.get(name, ("", ()))
        result[name] = {
            "currentVersion": current,
            "componentVersions": [{"targetVersion": t, "needDrainNode": True} for t in targets]
            or None,  # Go's nil slice
            "gpuCurrentVersion": None,
        }
    return result


# --- workflows -----------------------------------------------------------------------------------


def checked_request(
    body: Json,
    members: Sequence[str],
    offered: dict[str, Any],
) -> tuple[dict[str, Any], list[str]]:
    """The stored ``upgradeNodesWorkflowConfig`` of a create body, and the nodes it upgrades.
    Every target must be one ``component_upgrade_versions`` offers now."""
    config = READ.section(READ.section(body, "workflowConfig"), "upgradeNodesWorkflowConfig")
    where = "workflowConfig.upgradeNodesWorkflowConfig."
    named = READ.strings(config, "cceInstanceIDList", where)
    strangers = [n for n in named if n not in members]
    if strangers:
        raise invalid(f"{where}cceInstanceIDList: {', '.join(strangers)} not in the group")
    components = []
    for item in READ.items(config, "components", where):
        component = READ.element(item, f"{where}components[]")
        name = choice(READ.text(component, "name"), COMPONENTS, "component name")
        target = READ.text(component, "targetVersion")
        targets = [v["targetVersion"] for v in offered[name]["componentVersions"] or ()]
        if target not in targets:
            raise invalid(
                f"{name} cannot be upgraded to {target!r} (offered: {', '.join(targets) or 'none'})"
            )
        components.append({"name": name, "targetVersion": target})
    if not components:
        raise invalid(f"{where}components is required")
    size = READ.opt_int(config, "nodeUpgradeBatchSize", where) or 1
    if not 1 <= size <= MAX_BATCH:
        raise invalid(f"{where}nodeUpgradeBatchSize must be 1-{MAX_BATCH}")
    stored = dict(config)
    stored.update(nodeUpgradeBatchSize=size, components=components)
    policy = READ.opt_str(config, "pausePolicy", where)
    if policy is not None:
        stored["pausePolicy"] = choice(policy, PAUSE_POLICIES, "pausePolicy")
    READ.opt_bool(config, "drainNodeBeforeUpgrade", where)
    READ.opt_int(config, "batchIntervalMinutes", where)  # accepted, not modelled
    return stored, named or list(members)


def batches(nodes: Sequence[str], size: int) -> list[list[str]]:
    return [list(nodes[i : i + size]) for i in range(0, len(nodes), size)] or [[]]


def insert(
    conn: sqlite3.Connection,
    workflow_id: str,
    cluster_id: str,
    body: Json,
    config: dict[str, Any],
    nodes: Sequence[str],
    fate: str,
    interval: float,
    now: float,
) -> None:
    spec = {
        "workflowID": workflow_id,
        "clusterID": cluster_id,
        "workflowType": UPGRADE_NODES,
        "config": {"upgradeNodesWorkflowConfig": config},
        "watchDogConfig": READ.section(body, "watchDogConfig"),
    }
    progress = {
        "batches": batches(nodes, config["nodeUpgradeBatchSize"]),
        "done": 0,
        "fate": fate,
        "interval": interval,
        "group": config["instanceGroupID"],
    }
    status = {"startTime": rfc3339(now), "totalTaskCount": len(nodes), "finishedTaskCount": 0}
    conn.execute(
        "INSERT INTO ccev2_workflows (workflow_id, cluster_id, phase, due, created, spec, status,"
        " progress) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (workflow_id, cluster_id, UPGRADING, now + interval, now, json.dumps(spec),
         json.dumps(status), json.dumps(progress)),
    )  # fmt: skip


def unfinished(conn: sqlite3.Connection, cluster_id: str) -> str | None:
    """The cluster's workflow still running or paused (``status.upgradeWorkflowID``)."""
    row = conn.execute(
        "SELECT workflow_id FROM ccev2_workflows WHERE cluster_id = ? AND phase NOT IN (?, ?)"
        " ORDER BY seq DESC",
        (cluster_id, *FINISHED),
    ).fetchone()
    return None if row is None else str(row["workflow_id"])


def row_of(conn: sqlite3.Connection, cluster_id: str, workflow_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM ccev2_workflows WHERE workflow_id = ? AND cluster_id = ?",
        (workflow_id, cluster_id),
    ).fetchone()
    if row is None:
        raise no_such_object(f"workflow [{workflow_id}] of [{cluster_id}] not exists")
    return row


def workflow_json(row: sqlite3.Row) -> dict[str, Any]:
    """``{spec, status}`` as the SDK's ``types.Workflow`` (omitempty keys left out)."""
    spec = json.loads(row["spec"])
    status = json.loads(row["status"])
    status["phase"] = row["phase"]
    if row["finished"] is not None:
        status["finishedTime"] = rfc3339(row["finished"])
    if row["phase"] == PAUSED:
        spec["paused"] = True
    return {"spec": spec, "status": status}


def update(conn: sqlite3.Connection, row: sqlite3.Row, body: Json, now: float) -> None:
    """``pause``, ``resume`` or ``updateSpec`` (a new batch size for the nodes left)."""
    action = choice(READ.text(body, "action"), ACTIONS, "action")
    phase = row["phase"]
    if phase in FINISHED:
        raise not_allowed(f"workflow {row['workflow_id']} is {phase}")
    progress = json.loads(row["progress"])
    status = json.loads(row["status"])
    due = row["due"]
    if action == "pause":
        phase, due = PAUSED, None
        status.setdefault("watchDogStatus", {})["pausedReason"] = "paused by the user"
    elif action == "resume" and phase == PAUSED:
        phase, due = UPGRADING, now + progress["interval"]
        status.pop("watchDogStatus", None)
    elif action == "updateSpec":
        spec = READ.section(body, "spec")
        config = READ.section(READ.section(spec, "config"), "upgradeNodesWorkflowConfig")
        size = READ.opt_int(config, "nodeUpgradeBatchSize", "spec.config.")
        if size is not None:
            if not 1 <= size <= MAX_BATCH:
                raise invalid(f"nodeUpgradeBatchSize must be 1-{MAX_BATCH}")
            left = [n for b in progress["batches"][progress["done"] :] for n in b]
            progress["batches"] = progress["batches"][: progress["done"]] + batches(left, size)
            stored = json.loads(row["spec"])
            stored["config"]["upgradeNodesWorkflowConfig"]["nodeUpgradeBatchSize"] = size
            conn.execute(
                "UPDATE ccev2_workflows SET spec = ? WHERE seq = ?",
                (json.dumps(stored), row["seq"]),
            )
    conn.execute(
        "UPDATE ccev2_workflows SET phase = ?, due = ?, status = ?, progress = ? WHERE seq = ?",
        (phase, due, json.dumps(status), json.dumps(progress), row["seq"]),
    )


def advance(
    conn: sqlite3.Connection,
    now: float,
    upgraded: Callable[[sqlite3.Connection, str, dict[str, str], float], None],
) -> None:
    """Run every batch that is due; ``upgraded(conn, owner, targets, when)`` gives a node or
    (at the end) the group its new versions."""
    for row in conn.execute("SELECT * FROM ccev2_workflows WHERE due <= ?", (now,)).fetchall():
        _run_batches(conn, row, now, upgraded)


def _run_batches(
    conn: sqlite3.Connection,
    row: sqlite3.Row,
    now: float,
    upgraded: Callable[[sqlite3.Connection, str, dict[str, str], float], None],
) -> None:
    spec, status, progress = (json.loads(row[k]) for k in ("spec", "status", "progress"))
    config = spec["config"]["upgradeNodesWorkflowConfig"]
    targets = {c["name"]: c["targetVersion"] for c in config["components"]}
    policy = config.get("pausePolicy", "NotPause")
    phase, due, finished = row["phase"], row["due"], None
    while due is not None and due <= now:
        batch = progress["batches"][progress["done"]]
        if progress["fate"] == FAILED:
            phase, due, finished = FAILED, None, due
            status["errorMessage"] = (
                f"upgrading node {batch[0] if batch else '-'} failed (emulated fault)"
            )
            break
        for node in batch:
            upgraded(conn, node, targets, due)
        progress["done"] += 1
        status["finishedTaskCount"] += len(batch)
        if progress["done"] == len(progress["batches"]):
            upgraded(conn, progress["group"], targets, due)
            phase, finished, due = SUCCEEDED, due, None
        elif policy == "EveryBatch" or (policy == "FirstBatch" and progress["done"] == 1):
            phase, due = PAUSED, None
            status["watchDogStatus"] = {
                "pausedReason": f"pausePolicy {policy}: batch {progress['done']} of "
                f"{len(progress['batches'])} is done"
            }
        else:
            due += progress["interval"]
    conn.execute(
        "UPDATE ccev2_workflows SET phase = ?, due = ?, finished = ?, status = ?, progress = ?"
        " WHERE seq = ?",
        (phase, due, finished, json.dumps(status), json.dumps(progress), row["seq"]),
    )


def newer(current: str, target: str) -> str:
    return target if version_key(target) > version_key(current) else current

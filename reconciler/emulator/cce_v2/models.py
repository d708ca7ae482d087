"""The CCE v2 model: clusters, instance groups and their instances, with their lifecycles.

For: the rules of docs/api-contract.md "CCE v2" as plain Python over SQLite (the ``ccev2_*``
tables of :data:`SCHEMA`): storing what :mod:`.specs` checked, and the asynchronous phases.
A lifecycle is a list of ``[due, phase]`` steps stored with its row and applied lazily before
every read or write (:class:`..lifecycle.Lifecycle`), so ``POST /__emulator/advance`` moves
everything at once and a 0-second step shows on the next read::

    cluster:   pending -> provisioning -> provisioned -> running   (cluster_create_seconds,
               pending -> provisioning -> create_failed             in three equal steps)
               deleting -> deleted | delete_failed                 (cluster_delete_seconds)
    instance:  the same create phases, timed from its own creation;
               deleting -> deleted (cluster_delete_seconds), then it is gone

``create_failure_rate`` draws ``create_failed`` for clusters and instances,
``delete_failure_rate`` draws ``delete_failed`` for clusters. A deleted cluster answers
``ClusterNotFound`` and takes its groups and instances with it. An instance group has no
phase: ``replicas`` is what was asked, ``readyReplicas`` counts its running instances.
Not for: checking request bodies (:mod:`.specs`), the wire shapes (:mod:`.handlers`), nor v1
clusters (:mod:`..cce_v1`).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from ..clock import rfc3339
from ..lifecycle import Lifecycle
from ..paging import NumberedPage, NumberedPaging
from ..params import Json
from ..store import Store
from . import addons, workflows
from .catalogue import CONTAINER_RUNTIME, KUBELET, RUNTIME_CATALOGUE
from .errors import (
    READ,
    cluster_not_found,
    group_not_found,
    invalid,
    no_such_object,
    not_allowed,
)
from .specs import (
    CLEAN_POLICIES,
    CLUSTER_KEYWORD_TYPES,
    CLUSTER_ORDER_BY,
    GROUP_KEYWORD_TYPES,
    INSTANCE_KEYWORD_TYPES,
    INSTANCE_ORDER_BY,
    K8S_VERSIONS,
    KUBECONFIG_TYPES,
    MASTER,
    NODE,
    ORDERS,
    autoscaler_config,
    choice,
    cluster_spec,
    configured_group_spec,
    group_autoscaler,
    group_spec,
    instance_template,
    put,
)

SCHEMA = (
    """
-- steps = JSON [[due, phase], ...] still to come; due = the first one's.
CREATE TABLE IF NOT EXISTS ccev2_clusters (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    cluster_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    phase TEXT NOT NULL,
    steps TEXT NOT NULL,
    due REAL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    spec TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ccev2_instance_groups (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id TEXT NOT NULL UNIQUE,
    cluster_id TEXT NOT NULL REFERENCES ccev2_clusters(cluster_id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    replicas INTEGER NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    spec TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ccev2_instances (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    cce_instance_id TEXT NOT NULL UNIQUE,
    machine_id TEXT NOT NULL UNIQUE,
    cluster_id TEXT NOT NULL REFERENCES ccev2_clusters(cluster_id) ON DELETE CASCADE,
    group_id TEXT NOT NULL,
    role TEXT NOT NULL,
    phase TEXT NOT NULL,
    steps TEXT NOT NULL,
    due REAL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    spec TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ccev2_instances_by_group ON ccev2_instances(group_id, seq);
CREATE INDEX IF NOT EXISTS ccev2_instances_by_cluster ON ccev2_instances(cluster_id, seq);
-- scale tasks: operation "scaleup" / "scaledown", instances = JSON [cce ids] added / removed
CREATE TABLE IF NOT EXISTS ccev2_tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL UNIQUE,
    cluster_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    instances TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS ccev2_autoscalers (cluster_id TEXT PRIMARY KEY, config TEXT NOT NULL);
"""
    + workflows.SCHEMA
    + addons.SCHEMA
)

PENDING, PROVISIONING, PROVISIONED, RUNNING = "pending", "provisioning", "provisioned", "running"
CREATE_FAILED, DELETING, DELETED = "create_failed", "deleting", "deleted"
DELETE_FAILED = "delete_failed"
# The cluster list: absent or 0 is page 1 of 10 [SDK PageNoDefault / PageSizeDefault]; the
# largest size is UNKNOWN on the real service (a guess).
CLUSTER_PAGING = NumberedPaging(default_no=1, default_size=10, max_size=1000)
# Group and group-instance lists: absent is 0, "all", like the SDK's zero values; 100000 is
# [DOC] for instance lists, used for groups too.
GROUP_PAGING = NumberedPaging(default_no=0, default_size=0, max_size=100_000)
# A cluster's instance list: page 1 of 10 by default, at most 100000 [DOC].
INSTANCE_PAGING = NumberedPaging(default_no=1, default_size=10, max_size=100_000)
ALL = NumberedPage(0, 0)  # no paging: every item
TASK_TYPE = "InstanceGroupReplicas"  # the only task type [SDK types/task.go]
SCALE_UP, SCALE_DOWN = "scaleup", "scaledown"
# The cluster autoscaler's settings after a create [DOC defaults; GUESS for the rest].
AUTOSCALER_DEFAULTS = {
    "replicaCount": 1,
    "scaleDownEnabled": False,
    "skipNodesWithLocalStorage": True,
    "skipNodesWithSystemPods": True,
    "expander": "random",
}
SYSTEM_LABELS = ("cluster-id", "cluster-role", "instance-group-id")


def node_ip(seq: int) -> str:
    """The VPC IP (and Kubernetes node name) of the instance stored as ``seq``."""
    return f"192.168.{(seq // 250) % 256}.{seq % 250 + 2}"


# --- stored rows and queries ---------------------------------------------------------------------


@dataclass(frozen=True)
class StoredCluster:
    seq: int
    cluster_id: str
    name: str
    phase: str
    created: float
    updated: float
    spec: dict[str, Any]
    node_num: int
    workflow_id: str | None = None  # status.upgradeWorkflowID: an unfinished node upgrade


@dataclass(frozen=True)
class StoredGroup:
    seq: int
    group_id: str
    cluster_id: str
    name: str
    replicas: int
    ready_replicas: int
    created: float
    updated: float
    spec: dict[str, Any]


@dataclass(frozen=True)
class StoredInstance:
    seq: int
    cce_instance_id: str
    machine_id: str
    cluster_id: str
    group_id: str
    role: str
    phase: str
    created: float
    updated: float
    spec: dict[str, Any]


@dataclass(frozen=True)
class ClusterQuery:
    keyword_type: str
    keyword: str
    order_by: str
    order: str
    page: NumberedPage


def cluster_query(
    keyword_type: str | None,
    keyword: str | None,
    order_by: str | None,
    order: str | None,
    page: NumberedPage,
) -> ClusterQuery:
    """The list query with the documented defaults."""
    return ClusterQuery(
        choice(keyword_type or "clusterName", CLUSTER_KEYWORD_TYPES, "keywordType"),
        keyword or "",
        choice(order_by or "clusterName", CLUSTER_ORDER_BY, "orderBy"),
        choice(order or "ASC", ORDERS, "order"),
        page,
    )


@dataclass(frozen=True)
class GroupQuery:
    """The group list's filters: by name or id (a case-insensitive substring [GUESS]), only
    autoscaled groups, by the template's charging type."""

    keyword_type: str = "instanceGroupName"
    keyword: str = ""
    autoscaler_enabled: bool = False
    charging_type: str = ""

    def matches(self, group: StoredGroup) -> bool:
        value = group.group_id if self.keyword_type == "instanceGroupID" else group.name
        if self.keyword and self.keyword.lower() not in value.lower():
            return False
        autoscaler = group.spec.get("clusterAutoscalerSpec") or {}
        if self.autoscaler_enabled and not autoscaler.get("enabled"):
            return False
        charging = group.spec["instanceTemplate"].get("instanceChargingType", "")
        return not self.charging_type or self.charging_type.lower() == charging.lower()


def group_query(
    keyword_type: str | None, keyword: str | None, autoscaler: bool, charging: str | None
) -> GroupQuery:
    kind = choice(keyword_type or "instanceGroupName", GROUP_KEYWORD_TYPES, "keywordType")
    return GroupQuery(kind, keyword or "", autoscaler, charging or "")


@dataclass(frozen=True)
class InstanceQuery:
    """An instance list's filters and (for a cluster's list) order and page."""

    keyword_type: str = "instanceName"
    keyword: str = ""
    phases: tuple[str, ...] = ()
    order_by: str = "instanceName"
    order: str = "ASC"
    page: NumberedPage = ALL

    def matches(self, instance: StoredInstance) -> bool:
        if self.phases and instance.phase not in self.phases:
            return False
        if not self.keyword:
            return True
        values = {
            "instanceName": (instance.spec.get("instanceName", ""),),
            "instanceID": (instance.cce_instance_id, instance.machine_id),
            "k8sNodeName": (node_ip(instance.seq),),
            "vpcIP": (node_ip(instance.seq),),
            "instanceGroupID": (instance.group_id,),
            "clusterRole": (instance.role,),
        }[self.keyword_type]
        return any(self.keyword.lower() in v.lower() for v in values)


def instance_query(
    keyword_type: str | None,
    keyword: str | None,
    phases: str | None = None,
    order_by: str | None = None,
    order: str | None = None,
    page: NumberedPage = ALL,
) -> InstanceQuery:
    return InstanceQuery(
        choice(keyword_type or "instanceName", INSTANCE_KEYWORD_TYPES, "keywordType"),
        keyword or "",
        tuple(p.strip() for p in (phases or "").split(",") if p.strip()),
        choice(order_by or "instanceName", INSTANCE_ORDER_BY, "orderBy"),
        choice(order or "ASC", ORDERS, "order"),
        page,
    )


# --- the model ---------------------------------------------------------------------------------

_CLUSTER_SELECT = (
    "SELECT c.*, (SELECT count(*) FROM ccev2_instances i WHERE i.cluster_id = c.cluster_id"
    " AND i.role = 'node') AS node_num, (SELECT w.workflow_id FROM ccev2_workflows w"
    " WHERE w.cluster_id = c.cluster_id AND w.phase NOT IN ('Succeeded', 'Failed')"
    " ORDER BY w.seq DESC LIMIT 1) AS workflow_id FROM ccev2_clusters c"
)
_GROUP_SELECT = (
    "SELECT g.*, (SELECT count(*) FROM ccev2_instances i WHERE i.group_id = g.group_id"
    " AND i.phase = 'running') AS ready FROM ccev2_instance_groups g"
)


class CceV2:
    """The v2 resources over the emulator's database (it holds no state of its own)."""

    def __init__(self, store: Store) -> None:
        self._settings = store.settings
        self._rng = store.rng
        self._lifecycle = Lifecycle(store, _DUE, _advance)

    # -- clusters --------------------------------------------------------------------------

    def create_cluster(self, body: Json) -> str:
        """Store a pending cluster with its masters, nodes and node groups; return its id."""
        fate = self._fate(self._settings.current.create_failure_rate, CREATE_FAILED, RUNNING)
        with self._lifecycle.write() as (conn, now):
            quota = self._settings.current.v2_cluster_quota
            if _live_cluster_count(conn) >= quota:
                raise invalid(f"cluster quota exceeded: {quota} of {quota} used")
            cluster_id = self._new_id(conn, "ccev2_clusters", "cluster_id", "cce-", lower=True)
            spec = cluster_spec(body, cluster_id, self._rng.uuid4())
            sets = self._instance_sets(body, spec)
            groups = [READ.element(g, "nodeGroups[]") for g in READ.items(body, "nodeGroups")]
            adding = sum(n for role, _, n in sets if role == NODE) + sum(
                READ.opt_int(g, "replicas") or 0 for g in groups
            )
            self._check_node_quota(conn, cluster_id, adding)
            options = READ.section(body, "options")
            READ.opt_bool(options, "skipNetworkCheck", "options.")  # accepted, not modelled
            conn.execute(
                "INSERT INTO ccev2_clusters (cluster_id, name, phase, steps, due, created, updated,"
                " spec) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (cluster_id, spec["clusterName"], PENDING, *self._create_steps(now, fate), now, now,
                 json.dumps(spec)),
            )  # fmt: skip
            for role, template, count in sets:
                for _ in range(count):
                    self._add_instance(conn, cluster_id, template, role, None, fate, now)
            for group in groups:
                self._insert_group(conn, cluster_id, group, fate, now)
        return cluster_id

    def list_clusters(self, query: ClusterQuery) -> tuple[list[StoredCluster], int]:
        """One page of the live clusters (deleted ones are gone), and how many match."""
        with self._lifecycle.read() as conn:
            rows = conn.execute(f"{_CLUSTER_SELECT} WHERE phase != ? ORDER BY seq", (DELETED,))
            found = [_cluster(row) for row in rows.fetchall()]
        keyword = query.keyword.lower()
        if keyword:
            by_id = query.keyword_type == "clusterID"
            found = [c for c in found if keyword in (c.cluster_id if by_id else c.name).lower()]
        sort_key = {"clusterName": "name", "clusterID": "cluster_id", "createdAt": "created"}
        attribute = sort_key[query.order_by]
        found.sort(key=lambda c: getattr(c, attribute), reverse=query.order == "DESC")
        return query.page.cut(found), len(found)

    def get_cluster(self, cluster_id: str) -> StoredCluster:
        with self._lifecycle.read() as conn:
            return _cluster(_live_cluster_row(conn, cluster_id))

    def delete_cluster(self, cluster_id: str) -> None:
        """Start deleting; a cluster already deleting is left as it is (a resend is harmless)."""
        knobs = self._settings.current
        fate = self._fate(knobs.delete_failure_rate, DELETE_FAILED, DELETED)
        with self._lifecycle.write() as (conn, now):
            row = _live_cluster_row(conn, cluster_id)
            if json.loads(row["spec"])["forbidDelete"]:
                raise not_allowed("the cluster has deletion protection (forbidDelete)")
            if row["phase"] == DELETING:
                return
            steps = [[now + knobs.cluster_delete_seconds, fate]]
            conn.execute(
                "UPDATE ccev2_clusters SET phase = ?, steps = ?, due = ?, updated = ?"
                " WHERE cluster_id = ?",
                (DELETING, json.dumps(steps), steps[0][0], now, cluster_id),
            )

    def kubeconfig(self, cluster_id: str, kind: str) -> tuple[StoredCluster, str]:
        kind = choice(kind, KUBECONFIG_TYPES, "kubeconfig type")
        cluster = self.get_cluster(cluster_id)
        if cluster.phase != RUNNING:
            raise not_allowed(f"the cluster is {cluster.phase}, not running")
        if kind == "public" and not cluster.spec["masterConfig"]["exposedPublic"]:
            raise invalid("the cluster's API server has no EIP (masterConfig.exposedPublic)")
        return cluster, kind

    # -- instance groups -------------------------------------------------------------------

    def create_group(self, cluster_id: str, body: Json) -> str:
        with self._lifecycle.write() as (conn, now):
            _running_cluster(conn, cluster_id)
            return self._insert_group(conn, cluster_id, body, None, now)

    def list_groups(
        self, cluster_id: str, page: NumberedPage, query: GroupQuery | None = None
    ) -> tuple[list[StoredGroup], int]:
        query = query or GroupQuery()
        with self._lifecycle.read() as conn:
            _live_cluster_row(conn, cluster_id)
            rows = conn.execute(f"{_GROUP_SELECT} WHERE cluster_id = ? ORDER BY seq", (cluster_id,))
            found = [g for g in (_group(row) for row in rows.fetchall()) if query.matches(g)]
        return page.cut(found), len(found)

    def get_group(self, cluster_id: str, group_id: str) -> StoredGroup:
        with self._lifecycle.read() as conn:
            _live_cluster_row(conn, cluster_id)
            return _group(_group_row(conn, cluster_id, group_id))

    def set_replicas(self, cluster_id: str, group_id: str, body: Json) -> None:
        """Grow with new instances, or shrink: the named ``instanceIDs`` first, then the newest."""
        replicas = READ.opt_int(body, "replicas")
        if replicas is None or replicas < 0:
            raise invalid("replicas is required and must not be negative")
        named = READ.strings(body, "instanceIDs")
        delete = bool(READ.opt_bool(body, "deleteInstance"))
        READ.section(body, "deleteOption")  # accepted, not modelled
        with self._lifecycle.write() as (conn, now):
            _running_cluster(conn, cluster_id)
            group = _group(_group_row(conn, cluster_id, group_id))
            members = _members(conn, group_id)
            if replicas > len(members):
                if named:
                    raise invalid("attaching existing instances (instanceIDs) is not modelled")
                self._check_node_quota(conn, cluster_id, replicas - len(members))
                for _ in range(replicas - len(members)):
                    self._add_group_instance(conn, group, now)
            elif replicas < len(members):
                first = _pick(members, named)
                taken = {m.seq for m in first}
                chosen = first + [m for m in reversed(members) if m.seq not in taken]
                delete = delete or group.spec["cleanPolicy"] == "Delete"
                self._remove(conn, group, chosen[: len(members) - replicas], delete, now)
            _set_replicas(conn, group_id, replicas, now)

    def scale_down(self, cluster_id: str, group_id: str, body: Json) -> str:
        """Remove the named instances from the group (and lower ``replicas``); a task id."""
        named = READ.strings(body, "instancesToBeRemoved")
        READ.strings(body, "k8sNodesToBeRemoved")
        if not named:
            raise invalid("instancesToBeRemoved is required")
        policy = READ.text(body, "cleanPolicy")
        READ.section(body, "deleteOption")  # accepted, not modelled
        with self._lifecycle.write() as (conn, now):
            _running_cluster(conn, cluster_id)
            group = _group(_group_row(conn, cluster_id, group_id))
            members = _members(conn, group_id)
            chosen = _pick(members, named)
            clean = choice(policy or group.spec["cleanPolicy"], CLEAN_POLICIES, "cleanPolicy")
            self._remove(conn, group, chosen, clean == "Delete", now)
            _set_replicas(conn, group_id, len(members) - len(chosen), now)
            return self._record_task(
                conn, group, SCALE_DOWN, [m.cce_instance_id for m in chosen], now
            )

    def delete_group(self, cluster_id: str, group_id: str, delete_instances: bool) -> None:
        """The group goes at once; its instances are deleted, or stay as plain nodes."""
        with self._lifecycle.write() as (conn, now):
            _running_cluster(conn, cluster_id)
            group = _group(_group_row(conn, cluster_id, group_id))
            members = _members(conn, group_id)
            self._remove(conn, group, members, delete_instances, now)
            conn.execute("UPDATE ccev2_instances SET group_id = '' WHERE group_id = ?", (group_id,))
            conn.execute("DELETE FROM ccev2_instance_groups WHERE group_id = ?", (group_id,))
            conn.execute("DELETE FROM ccev2_versions WHERE owner = ?", (group_id,))

    def group_instances(
        self,
        cluster_id: str,
        group_id: str,
        page: NumberedPage,
        query: InstanceQuery | None = None,
    ) -> tuple[list[StoredInstance], int]:
        query = query or InstanceQuery()
        with self._lifecycle.read() as conn:
            _live_cluster_row(conn, cluster_id)
            _group_row(conn, cluster_id, group_id)
            rows = conn.execute(
                "SELECT * FROM ccev2_instances WHERE group_id = ? ORDER BY seq", (group_id,)
            ).fetchall()
        found = [i for i in (_instance(row) for row in rows) if query.matches(i)]
        return page.cut(found), len(found)

    def cluster_instances(
        self, cluster_id: str, query: InstanceQuery
    ) -> tuple[list[StoredInstance], int]:
        """One page of the cluster's instances (masters and nodes), filtered and ordered."""
        with self._lifecycle.read() as conn:
            _live_cluster_row(conn, cluster_id)
            rows = conn.execute(
                "SELECT * FROM ccev2_instances WHERE cluster_id = ? ORDER BY seq", (cluster_id,)
            ).fetchall()
        found = [i for i in (_instance(row) for row in rows) if query.matches(i)]
        order = {"instanceName": lambda i: i.spec["instanceName"],
                 "instanceID": lambda i: i.cce_instance_id, "createdAt": lambda i: i.created}  # fmt: skip
        found.sort(key=order[query.order_by], reverse=query.order == "DESC")
        return query.page.cut(found), len(found)

    # -- day 2: delete protection, quotas (cce-v2-day2-api.md 1) ----------------------------

    def set_forbid_delete(self, cluster_id: str, body: Json) -> bool:
        """``ForbidDelete`` (the SDK) or ``forbidDelete`` (the docs): the key is matched as Go
        matches it."""
        forbid = READ.opt_bool(body, "forbidDelete")
        if forbid is None:
            raise invalid("forbidDelete is required")
        with self._lifecycle.write() as (conn, now):
            row = _live_cluster_row(conn, cluster_id)
            spec = json.loads(row["spec"])
            spec["forbidDelete"] = forbid
            conn.execute(
                "UPDATE ccev2_clusters SET spec = ?, updated = ? WHERE cluster_id = ?",
                (json.dumps(spec), now, cluster_id),
            )
        return forbid

    def cluster_quota(self) -> tuple[int, int]:
        with self._lifecycle.read() as conn:
            return self._settings.current.v2_cluster_quota, _live_cluster_count(conn)

    def node_quota(self, cluster_id: str) -> tuple[int, int]:
        with self._lifecycle.read() as conn:
            _live_cluster_row(conn, cluster_id)
            return self._settings.current.v2_node_quota, _node_count(conn, cluster_id)

    def _check_node_quota(self, conn: sqlite3.Connection, cluster_id: str, adding: int) -> None:
        quota = self._settings.current.v2_node_quota
        used = _node_count(conn, cluster_id)
        if adding > 0 and used + adding > quota:
            raise invalid(f"node quota exceeded: {used} of {quota} used, {adding} more asked")

    # -- day 2: instance groups (cce-v2-day2-api.md 2) --------------------------------------

    def configure_group(self, cluster_id: str, group_id: str, body: Json) -> None:
        """Replace the group's spec (the machine stays); with ``syncMeta`` its nodes take the
        template's labels, taints and annotations."""
        READ.opt_bool(body, "passwordNeedUpdate")  # the password is never stored
        sync = bool(READ.opt_bool(body, "syncMeta"))
        with self._lifecycle.write() as (conn, now):
            _running_cluster(conn, cluster_id)
            group = _group(_group_row(conn, cluster_id, group_id))
            spec = configured_group_spec(body, group.spec)
            conn.execute(
                "UPDATE ccev2_instance_groups SET name = ?, spec = ?, updated = ?"
                " WHERE group_id = ?",
                (spec["instanceGroupName"], json.dumps(spec), now, group_id),
            )
            if sync:
                for member in _members(conn, group_id):
                    _sync_meta(conn, member, spec["instanceTemplate"], now)

    def set_group_autoscaler(self, cluster_id: str, group_id: str, body: Json) -> None:
        autoscaler = group_autoscaler(body)
        with self._lifecycle.write() as (conn, now):
            _running_cluster(conn, cluster_id)
            group = _group(_group_row(conn, cluster_id, group_id))
            spec = dict(group.spec, clusterAutoscalerSpec=autoscaler)
            conn.execute(
                "UPDATE ccev2_instance_groups SET spec = ?, updated = ? WHERE group_id = ?",
                (json.dumps(spec), now, group_id),
            )

    def scale_up(self, cluster_id: str, group_id: str, up_to: int | None, up_by: int | None) -> str:
        """Add nodes up to ``upToReplicas`` (above the current replicas) or by ``upReplicas``
        (exactly one of them [DOC]); a task id."""
        if (up_to is None) == (up_by is None):
            raise invalid("exactly one of upToReplicas and upReplicas is required")
        with self._lifecycle.write() as (conn, now):
            _running_cluster(conn, cluster_id)
            group = _group(_group_row(conn, cluster_id, group_id))
            members = _members(conn, group_id)
            target = up_to if up_to is not None else len(members) + (up_by or 0)
            if target <= len(members):
                raise invalid(
                    f"upToReplicas must be more than the current {len(members)} replicas"
                    if up_to is not None
                    else "upReplicas must be positive"
                )
            self._check_node_quota(conn, cluster_id, target - len(members))
            added = [
                self._add_group_instance(conn, group, now) for _ in range(target - len(members))
            ]
            _set_replicas(conn, group_id, target, now)
            return self._record_task(conn, group, SCALE_UP, added, now)

    def _record_task(
        self, conn: sqlite3.Connection, group: StoredGroup, operation: str, ids: list[str],
        now: float,
    ) -> str:  # fmt: skip
        task_id = self._rng.short_id(f"task-{group.group_id}-{operation}-").lower()
        conn.execute(
            "INSERT INTO ccev2_tasks (task_id, cluster_id, group_id, operation, instances,"
            " created) VALUES (?, ?, ?, ?, ?, ?)",
            (task_id, group.cluster_id, group.group_id, operation, json.dumps(ids), now),
        )
        return task_id

    def get_task(self, task_type: str, task_id: str) -> dict[str, Any]:
        _task_type(task_type)
        with self._lifecycle.read() as conn:
            row = conn.execute("SELECT * FROM ccev2_tasks WHERE task_id = ?", (task_id,)).fetchone()
            if row is None:
                raise no_such_object(f"task [{task_id}] not exists")
            return _task_json(conn, row)

    def list_tasks(
        self, task_type: str, target_id: str, page: NumberedPage
    ) -> tuple[list[dict[str, Any]], int]:
        """A group's tasks, newest first [DOC: order DESC by startTime by default]."""
        _task_type(task_type)
        if not target_id:
            raise invalid("targetID is required")
        with self._lifecycle.read() as conn:
            rows = conn.execute(
                "SELECT * FROM ccev2_tasks WHERE group_id = ? ORDER BY seq DESC", (target_id,)
            ).fetchall()
            found = [_task_json(conn, row) for row in rows]
        return page.cut(found), len(found)

    # -- day 2: the cluster autoscaler (cce-v2-day2-api.md 4) -------------------------------

    def create_autoscaler(self, cluster_id: str) -> None:
        """Deploy it with the defaults; a second create changes nothing [GUESS]."""
        with self._lifecycle.write() as (conn, _):
            cluster = _cluster(_running_cluster(conn, cluster_id))
            config = {"kubeVersion": cluster.spec["k8sVersion"], **AUTOSCALER_DEFAULTS}
            conn.execute(
                "INSERT OR IGNORE INTO ccev2_autoscalers (cluster_id, config) VALUES (?, ?)",
                (cluster_id, json.dumps(config)),
            )

    def get_autoscaler(self, cluster_id: str) -> tuple[StoredCluster, dict[str, Any]]:
        """The cluster and its ``caConfig``, with ``instanceGroups`` from the groups' bounds."""
        with self._lifecycle.read() as conn:
            cluster = _cluster(_live_cluster_row(conn, cluster_id))
            config = _autoscaler_row(conn, cluster_id)
            rows = conn.execute(
                f"{_GROUP_SELECT} WHERE cluster_id = ? ORDER BY seq", (cluster_id,)
            ).fetchall()
        scaled = [_group(r) for r in rows]
        config["instanceGroups"] = [
            {"instanceGroupID": g.group_id, "minReplicas": a["minReplicas"],
             "maxReplicas": a["maxReplicas"], "priority": a["scalingGroupPriority"]}
            for g in scaled
            if (a := g.spec.get("clusterAutoscalerSpec") or {}).get("enabled")
        ] or None  # fmt: skip
        return cluster, config

    def update_autoscaler(self, cluster_id: str, body: Json) -> None:
        with self._lifecycle.write() as (conn, _):
            cluster = _cluster(_running_cluster(conn, cluster_id))
            _autoscaler_row(conn, cluster_id)
            config = autoscaler_config(body, cluster.spec)
            conn.execute(
                "UPDATE ccev2_autoscalers SET config = ? WHERE cluster_id = ?",
                (json.dumps(config), cluster_id),
            )

    # -- day 2: node upgrades (cce-v2-day2-api.md 5) ----------------------------------------

    def upgrade_versions(self, cluster_id: str, group_id: str) -> dict[str, Any]:
        with self._lifecycle.read() as conn:
            cluster = _cluster(_live_cluster_row(conn, cluster_id))
            _group_row(conn, cluster_id, group_id)
            return self._offered(conn, cluster, group_id)

    def _offered(
        self, conn: sqlite3.Connection, cluster: StoredCluster, group_id: str
    ) -> dict[str, Any]:
        members = [m.cce_instance_id for m in _members(conn, group_id)]
        return workflows.upgrade_versions(
            conn, group_id, members, cluster.spec["k8sVersion"], cluster.spec["runtimeType"]
        )

    def create_workflow(self, cluster_id: str, body: Json) -> str:
        kind = choice(READ.text(body, "workflowType"), workflows.WORKFLOW_TYPES, "workflowType")
        if kind != workflows.UPGRADE_NODES:
            raise invalid(f"workflowType {kind} is not modelled (UpgradeNodes only)")
        knobs = self._settings.current
        fate = self._fate(knobs.workflow_failure_rate, workflows.FAILED, workflows.SUCCEEDED)
        with self._lifecycle.write() as (conn, now):
            cluster = _cluster(_running_cluster(conn, cluster_id))
            config = READ.section(
                READ.section(body, "workflowConfig"), "upgradeNodesWorkflowConfig"
            )
            group_id = READ.text(config, "instanceGroupID")
            if not group_id:
                raise invalid(
                    "workflowConfig.upgradeNodesWorkflowConfig.instanceGroupID is required"
                )
            _group_row(conn, cluster_id, group_id)
            running = workflows.unfinished(conn, cluster_id)
            if running is not None:
                raise not_allowed(f"workflow {running} is still running in {cluster_id}")
            members = [m.cce_instance_id for m in _members(conn, group_id)]
            stored, nodes = workflows.checked_request(
                body, members, self._offered(conn, cluster, group_id)
            )
            workflow_id = self._new_id(conn, "ccev2_workflows", "workflow_id", "wf-", lower=True)
            workflows.insert(
                conn, workflow_id, cluster_id, body, stored, nodes, fate,
                knobs.workflow_batch_seconds, now,
            )  # fmt: skip
        return workflow_id

    def get_workflow(self, cluster_id: str, workflow_id: str) -> dict[str, Any]:
        with self._lifecycle.read() as conn:
            _live_cluster_row(conn, cluster_id)
            return workflows.workflow_json(workflows.row_of(conn, cluster_id, workflow_id))

    def update_workflow(self, cluster_id: str, workflow_id: str, body: Json) -> None:
        with self._lifecycle.write() as (conn, now):
            _live_cluster_row(conn, cluster_id)
            workflows.update(conn, workflows.row_of(conn, cluster_id, workflow_id), body, now)

    def upgrade_master(self, cluster_id: str, version: str) -> None:
        """What the console's "upgrade the master" does (no API exists): the control plane
        runs ``version``, newer than now; the nodes keep theirs."""
        version = choice(version, K8S_VERSIONS, "k8sVersion")
        with self._lifecycle.write() as (conn, now):
            row = _running_cluster(conn, cluster_id)
            spec = json.loads(row["spec"])
            if workflows.version_key(version) <= workflows.version_key(spec["k8sVersion"]):
                raise invalid(f"{version} is not newer than {spec['k8sVersion']}")
            spec["k8sVersion"] = version
            conn.execute(
                "UPDATE ccev2_clusters SET spec = ?, updated = ? WHERE cluster_id = ?",
                (json.dumps(spec), now, cluster_id),
            )

    # -- day 2: add-ons (cce-v2-day2-api.md 6) ----------------------------------------------

    def list_addons(self, cluster_id: str, names: list[str]) -> list[dict[str, Any]]:
        with self._lifecycle.read() as conn:
            _running_cluster(conn, cluster_id)
            return addons.listed(conn, cluster_id, names)

    def change_addon(self, cluster_id: str, operation: str, body: Json) -> None:
        """``install``, ``upgrade``, ``update`` or ``uninstall`` (``addons.AddonRefused``: a
        refusal the service answers in a 200 body)."""
        sent = READ.text(body, "clusterID")
        if sent and sent != cluster_id:
            raise invalid(f"clusterID {sent!r} is not the cluster of the path")
        change = {
            "install": addons.install,
            "upgrade": addons.upgrade,
            "update": addons.update,
            "uninstall": addons.uninstall,
        }[operation]
        with self._lifecycle.write() as (conn, now):
            _running_cluster(conn, cluster_id)
            change(conn, cluster_id, body, now + self._settings.current.addon_seconds)

    # -- everything, for the admin state ---------------------------------------------------

    def everything(self) -> tuple[list[StoredCluster], list[StoredGroup], list[StoredInstance]]:
        with self._lifecycle.read() as conn:
            clusters = conn.execute(f"{_CLUSTER_SELECT} ORDER BY seq").fetchall()
            groups = conn.execute(f"{_GROUP_SELECT} ORDER BY seq").fetchall()
            instances = conn.execute("SELECT * FROM ccev2_instances ORDER BY seq").fetchall()
        return (
            [_cluster(r) for r in clusters],
            [_group(r) for r in groups],
            [_instance(r) for r in instances],
        )

    def day2(self) -> dict[str, list[dict[str, Any]]]:
        """The day-2 objects for the admin state: add-ons, workflows and cluster autoscalers
        (in their answers' shapes, each with its cluster's id)."""
        with self._lifecycle.read() as conn:
            found = {
                "addons": [
                    {"clusterID": r["cluster_id"], "name": r["name"], "phase": r["phase"],
                     "installedVersion": r["version"], "params": r["params"]}
                    for r in conn.execute("SELECT * FROM ccev2_addons ORDER BY cluster_id, name")
                ],
                "workflows": [
                    workflows.workflow_json(r)
                    for r in conn.execute("SELECT * FROM ccev2_workflows ORDER BY seq")
                ],
                "autoscalers": [
                    {"clusterID": r["cluster_id"], "caConfig": json.loads(r["config"])}
                    for r in conn.execute("SELECT * FROM ccev2_autoscalers ORDER BY cluster_id")
                ],
            }  # fmt: skip
        return found

    # -- internals -------------------------------------------------------------------------

    def _fate(self, rate: float, bad: str, good: str) -> str:
        return bad if self._rng.random() < rate else good

    def _create_steps(self, now: float, fate: str) -> tuple[str, float]:
        """The create steps as stored (JSON) and the first one's due time."""
        seconds = self._settings.current.cluster_create_seconds
        steps: list[list[Any]] = [[now + seconds / 3, PROVISIONING]]
        if fate == RUNNING:
            steps.append([now + 2 * seconds / 3, PROVISIONED])
        steps.append([now + seconds, fate])
        return json.dumps(steps), steps[0][0]

    def _new_id(
        self, conn: sqlite3.Connection, table: str, column: str, prefix: str, lower: bool = False
    ) -> str:
        while True:
            candidate = self._rng.short_id(prefix)
            candidate = prefix + candidate[len(prefix) :].lower() if lower else candidate
            found = conn.execute(f"SELECT 1 FROM {table} WHERE {column} = ?", (candidate,))
            if found.fetchone() is None:
                return candidate

    def _instance_sets(self, body: Json, spec: Json) -> list[tuple[str, dict[str, Any], int]]:
        """(role, template, count) for each InstanceSet of ``masters`` and ``nodes``."""
        found = []
        for key, role in (("masters", MASTER), ("nodes", NODE)):
            for item in READ.items(body, key):
                where = f"{key}[]."
                instance_set = READ.element(item, f"{key}[]")
                template = instance_template(
                    READ.section(instance_set, "instanceSpec", where), where
                )
                count = (
                    1 if template["existed"] else READ.opt_int(instance_set, "count", where) or 0
                )
                if count < 0:
                    raise invalid(f"{where}count must not be negative")
                found.append((role, template, count))
        custom = spec["masterConfig"]["masterType"] in ("custom", "containerizedCustom")
        if custom and not any(role == MASTER for role, _, _ in found):
            raise invalid("a custom master cluster needs masters")
        return found

    def _insert_group(
        self, conn: sqlite3.Connection, cluster_id: str, body: Json, fate: str | None, now: float
    ) -> str:
        group_id = self._new_id(conn, "ccev2_instance_groups", "group_id", "cce-ig-", lower=True)
        spec = group_spec(body, cluster_id, group_id)
        self._check_node_quota(conn, cluster_id, spec["replicas"])
        cluster = json.loads(_live_cluster_row(conn, cluster_id)["spec"])
        runtime = spec["instanceTemplate"].get("runtimeType") or cluster["runtimeType"]
        workflows.new_group_versions(
            conn, group_id, cluster["k8sVersion"], runtime, spec["instanceTemplate"]
        )
        conn.execute(
            "INSERT INTO ccev2_instance_groups (group_id, cluster_id, name, replicas, created,"
            " updated, spec) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (group_id, cluster_id, spec["instanceGroupName"], spec["replicas"], now, now,
             json.dumps(spec)),
        )  # fmt: skip
        group = _group(_group_row(conn, cluster_id, group_id))
        for _ in range(group.replicas):
            self._add_group_instance(conn, group, now, fate)
        return group_id

    def _add_group_instance(
        self, conn: sqlite3.Connection, group: StoredGroup, now: float, fate: str | None = None
    ) -> str:
        if fate is None:
            fate = self._fate(self._settings.current.create_failure_rate, CREATE_FAILED, RUNNING)
        template = group.spec["instanceTemplate"]
        return self._add_instance(conn, group.cluster_id, template, NODE, group, fate, now)

    def _add_instance(
        self,
        conn: sqlite3.Connection,
        cluster_id: str,
        template: Json,
        role: str,
        group: StoredGroup | None,
        fate: str,
        now: float,
    ) -> str:
        cce_id = self._new_id(conn, "ccev2_instances", "cce_instance_id", f"{cluster_id}-", True)
        machine_id = self._machine_id(conn, template)
        if group is not None:
            kubelet, runtime = workflows.versions_of(conn, group.group_id)
        else:
            cluster = json.loads(_live_cluster_row(conn, cluster_id)["spec"])
            offered = RUNTIME_CATALOGUE.get(cluster["runtimeType"], ("",))
            kubelet, runtime = cluster["k8sVersion"], offered[0]
        workflows.set_versions(conn, cce_id, kubelet, runtime)
        spec = dict(template)
        put(spec, "runtimeVersion", runtime)
        put(spec, "cceInstanceID", cce_id)
        put(spec, "instanceName", READ.text(template, "instanceName") or cce_id)
        put(spec, "clusterID", cluster_id)
        put(spec, "clusterRole", role)
        put(spec, "instanceGroupID", group.group_id if group else "")
        put(spec, "instanceGroupName", group.name if group else "")
        labels = {**template.get("labels", {}), "cluster-id": cluster_id, "cluster-role": role}
        if group is not None:
            labels["instance-group-id"] = group.group_id
        put(spec, "labels", labels)
        steps, due = self._create_steps(now, fate)
        conn.execute(
            "INSERT INTO ccev2_instances (cce_instance_id, machine_id, cluster_id, group_id, role,"
            " phase, steps, due, created, updated, spec) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (cce_id, machine_id, cluster_id, group.group_id if group else "", role, PENDING,
             steps, due, now, now, json.dumps(spec)),
        )  # fmt: skip
        return cce_id

    def _machine_id(self, conn: sqlite3.Connection, template: Json) -> str:
        if not template.get("existed"):
            return self._new_id(conn, "ccev2_instances", "machine_id", "i-")
        existing = READ.text(READ.section(template, "existedOption"), "existedInstanceID")
        taken = conn.execute("SELECT 1 FROM ccev2_instances WHERE machine_id = ?", (existing,))
        if not existing or taken.fetchone() is not None:
            raise invalid(f"existedOption.existedInstanceID {existing!r} is missing or in use")
        return existing

    def _remove(
        self,
        conn: sqlite3.Connection,
        group: StoredGroup,
        chosen: list[StoredInstance],
        delete: bool,
        now: float,
    ) -> None:
        """Delete the chosen members, or move them out of the group as plain nodes."""
        due = now + self._settings.current.cluster_delete_seconds
        for member in chosen:
            if delete:
                conn.execute(
                    "UPDATE ccev2_instances SET phase = ?, steps = ?, due = ?, updated = ?"
                    " WHERE seq = ?",
                    (DELETING, json.dumps([[due, DELETED]]), due, now, member.seq),
                )
            else:
                spec = dict(member.spec)
                spec.update(instanceGroupID="", instanceGroupName="")
                spec["labels"] = {
                    k: v for k, v in spec.get("labels", {}).items() if k != "instance-group-id"
                }
                conn.execute(
                    "UPDATE ccev2_instances SET group_id = '', spec = ?, updated = ? WHERE seq = ?",
                    (json.dumps(spec), now, member.seq),
                )


# --- rows and queries --------------------------------------------------------------------------


_DUE = (
    "SELECT 1 FROM ccev2_clusters WHERE due <= ?1"
    " UNION ALL SELECT 1 FROM ccev2_instances WHERE due <= ?1"
    f" UNION ALL {workflows.DUE} UNION ALL {addons.DUE} LIMIT 1"
)


def _advance(conn: sqlite3.Connection, now: float) -> None:
    for table in ("ccev2_clusters", "ccev2_instances"):
        rows = conn.execute(f"SELECT seq, steps FROM {table} WHERE due <= ?", (now,)).fetchall()
        for row in rows:
            steps = json.loads(row["steps"])
            done = [step for step in steps if step[0] <= now]
            left = [step for step in steps if step[0] > now]
            when, phase = done[-1]
            conn.execute(
                f"UPDATE {table} SET phase = ?, steps = ?, due = ?, updated = ? WHERE seq = ?",
                (phase, json.dumps(left), left[0][0] if left else None, when, row["seq"]),
            )
    workflows.advance(conn, now, _upgraded)
    addons.advance(conn, now)
    gone = "SELECT cluster_id FROM ccev2_clusters WHERE phase = 'deleted'"
    conn.execute(f"DELETE FROM ccev2_instances WHERE phase = 'deleted' OR cluster_id IN ({gone})")
    conn.execute(f"DELETE FROM ccev2_instance_groups WHERE cluster_id IN ({gone})")
    for table in ("ccev2_tasks", "ccev2_autoscalers", "ccev2_workflows", "ccev2_addons"):
        conn.execute(f"DELETE FROM {table} WHERE cluster_id IN ({gone})")
    conn.execute(
        "DELETE FROM ccev2_versions WHERE owner NOT IN (SELECT cce_instance_id FROM"
        " ccev2_instances) AND owner NOT IN (SELECT group_id FROM ccev2_instance_groups)"
    )


def _upgraded(conn: sqlite3.Connection, owner: str, targets: dict[str, str], when: float) -> None:
    """A node (or, at the end of a workflow, a group) takes the upgrade's target versions."""
    kubelet, runtime = workflows.versions_of(conn, owner)
    kubelet = workflows.newer(kubelet, targets.get(KUBELET, kubelet))
    runtime = workflows.newer(runtime, targets.get(CONTAINER_RUNTIME, runtime))
    workflows.set_versions(conn, owner, kubelet, runtime)
    for table, key in (
        ("ccev2_instances", "cce_instance_id"),
        ("ccev2_instance_groups", "group_id"),
    ):
        row = conn.execute(f"SELECT seq, spec FROM {table} WHERE {key} = ?", (owner,)).fetchone()
        if row is None:
            continue
        spec = json.loads(row["spec"])
        target = spec if table == "ccev2_instances" else spec["instanceTemplate"]
        target["runtimeVersion"] = runtime
        conn.execute(
            f"UPDATE {table} SET spec = ?, updated = ? WHERE seq = ?",
            (json.dumps(spec), when, row["seq"]),
        )


def _live_cluster_count(conn: sqlite3.Connection) -> int:
    found = conn.execute(
        "SELECT count(*) FROM ccev2_clusters WHERE phase NOT IN (?, ?)", (DELETING, DELETED)
    ).fetchone()
    return int(found[0])


def _node_count(conn: sqlite3.Connection, cluster_id: str) -> int:
    found = conn.execute(
        "SELECT count(*) FROM ccev2_instances WHERE cluster_id = ? AND role = ? AND phase NOT IN"
        " (?, ?)",
        (cluster_id, NODE, DELETING, DELETED),
    ).fetchone()
    return int(found[0])


def _sync_meta(
    conn: sqlite3.Connection, member: StoredInstance, template: Json, now: float
) -> None:
    """The template's labels (beside the system ones), taints and annotations on a node."""
    spec = dict(member.spec)
    system = {k: v for k, v in spec.get("labels", {}).items() if k in SYSTEM_LABELS}
    spec["labels"] = {**template.get("labels", {}), **system}
    for key in ("taints", "annotations"):
        if template.get(key):
            spec[key] = template[key]
        else:
            spec.pop(key, None)
    conn.execute(
        "UPDATE ccev2_instances SET spec = ?, updated = ? WHERE seq = ?",
        (json.dumps(spec), now, member.seq),
    )


def _task_type(task_type: str) -> None:
    if task_type != TASK_TYPE:
        raise invalid(f"unsupported taskType {task_type!r} ({TASK_TYPE} only)")


def _task_json(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    """A task, its phase worked out from its nodes [GUESS]: a scale-up is done when every
    added node is running or failed, a scale-down when every removed node left the group."""
    ids = json.loads(row["instances"])
    metrics: dict[str, str] = {}
    latest = row["created"]
    for cce_id in ids:
        node = conn.execute(
            "SELECT * FROM ccev2_instances WHERE cce_instance_id = ?", (cce_id,)
        ).fetchone()
        if node is not None:
            latest = max(latest, node["updated"])
        if row["operation"] == SCALE_UP:
            metrics[cce_id] = DELETED if node is None else node["phase"]
        else:
            left = node is None or node["phase"] == DELETED or node["group_id"] != row["group_id"]
            metrics[cce_id] = "Succeed" if left else "Processing"
    settled = (RUNNING, CREATE_FAILED, DELETED) if row["operation"] == SCALE_UP else ("Succeed",)
    done = all(value in settled for value in metrics.values())
    phase = "Done" if done else "Processing"
    name = (
        "ScaleUpInstanceGroup"
        if row["operation"] == SCALE_UP
        else "RemoveInstancesFromInstanceGroup"
    )
    process: dict[str, Any] = {"name": name, "phase": phase, "startTime": rfc3339(row["created"]),
                               "metrics": metrics}  # fmt: skip
    task: dict[str, Any] = {
        "id": row["task_id"],
        "type": TASK_TYPE,
        "description": "add instances to instance group"
        if row["operation"] == SCALE_UP
        else "remove specified instances from instance group",
        "startTime": rfc3339(row["created"]),
        "phase": phase,
        "processes": [process],
    }
    if done:
        task["finishTime"] = process["finishTime"] = rfc3339(latest)
    return task


def _autoscaler_row(conn: sqlite3.Connection, cluster_id: str) -> dict[str, Any]:
    row = conn.execute(
        "SELECT config FROM ccev2_autoscalers WHERE cluster_id = ?", (cluster_id,)
    ).fetchone()
    if row is None:
        raise no_such_object(f"cluster [{cluster_id}] has no autoscaler")
    config: dict[str, Any] = json.loads(row["config"])
    return config


def _live_cluster_row(conn: sqlite3.Connection, cluster_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        f"{_CLUSTER_SELECT} WHERE cluster_id = ? AND phase != ?", (cluster_id, DELETED)
    ).fetchone()
    if row is None:
        raise cluster_not_found(cluster_id)
    return row


def _running_cluster(conn: sqlite3.Connection, cluster_id: str) -> sqlite3.Row:
    row = _live_cluster_row(conn, cluster_id)
    if row["phase"] != RUNNING:
        raise not_allowed(f"cluster {cluster_id} is {row['phase']}, not running")
    return row


def _group_row(conn: sqlite3.Connection, cluster_id: str, group_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        f"{_GROUP_SELECT} WHERE group_id = ? AND cluster_id = ?", (group_id, cluster_id)
    ).fetchone()
    if row is None:
        raise group_not_found(cluster_id, group_id)
    return row


def _members(conn: sqlite3.Connection, group_id: str) -> list[StoredInstance]:
    """The group's instances that count towards its replicas (not deleting), oldest first."""
    rows = conn.execute(
        "SELECT * FROM ccev2_instances WHERE group_id = ? AND phase NOT IN (?, ?) ORDER BY seq",
        (group_id, DELETING, DELETED),
    ).fetchall()
    return [_instance(row) for row in rows]


def _pick(members: list[StoredInstance], named: list[str]) -> list[StoredInstance]:
    """The members named by CCE id or BCC id, in the order named; any stranger is an error."""
    chosen = []
    for name in dict.fromkeys(named):
        member = next((m for m in members if name in (m.cce_instance_id, m.machine_id)), None)
        if member is None:
            raise invalid(f"instance {name!r} is not in the instance group")
        chosen.append(member)
    return chosen


def _set_replicas(conn: sqlite3.Connection, group_id: str, replicas: int, now: float) -> None:
    row = conn.execute("SELECT spec FROM ccev2_instance_groups WHERE group_id = ?", (group_id,))
    spec = json.loads(row.fetchone()["spec"])
    spec["replicas"] = replicas
    conn.execute(
        "UPDATE ccev2_instance_groups SET replicas = ?, spec = ?, updated = ? WHERE group_id = ?",
        (replicas, json.dumps(spec), now, group_id),
    )


def _cluster(row: sqlite3.Row) -> StoredCluster:
    return StoredCluster(
        seq=row["seq"],
        cluster_id=row["cluster_id"],
        name=row["name"],
        phase=row["phase"],
        created=row["created"],
        updated=row["updated"],
        spec=json.loads(row["spec"]),
        node_num=row["node_num"],
        workflow_id=row["workflow_id"],
    )


def _group(row: sqlite3.Row) -> StoredGroup:
    return StoredGroup(
        seq=row["seq"],
        group_id=row["group_id"],
        cluster_id=row["cluster_id"],
        name=row["name"],
        replicas=row["replicas"],
        ready_replicas=row["ready"],
        created=row["created"],
        updated=row["updated"],
        spec=json.loads(row["spec"]),
    )


def _instance(row: sqlite3.Row) -> StoredInstance:
    return StoredInstance(
        seq=row["seq"],
        cce_instance_id=row["cce_instance_id"],
        machine_id=row["machine_id"],
        cluster_id=row["cluster_id"],
        group_id=row["group_id"],
        role=row["role"],
        phase=row["phase"],
        created=row["created"],
        updated=row["updated"],
        spec=json.loads(row["spec"]),
    )

"""The cluster model: clusters, their worker nodes, and the asynchronous lifecycle.

For: the rules of docs/api-contract.md "Clusters" as plain Python over SQLite. A lifecycle
step is stored as ``(next_status, due)`` in model-clock seconds and applied lazily before any
read or write (:class:`..lifecycle.Lifecycle`), so ``POST /__emulator/advance`` moves every
cluster at once and a 0-second step shows on the next read::

    create:  CREATING --create_seconds--> RUNNING | CREATE_FAILED (create_failure_rate)
    delete:  (RUNNING | CREATE_FAILED | ...) --> DELETING --delete_seconds--> DELETED

Deleted clusters stay readable and listed; their nodes are gone. Scaling down and shifting
out remove nodes at once; scaling up and shifting in add nodes that are CREATING first.
Answers carry ``advancedOptions`` with the service's defaults filled in (``ADVANCED_DEFAULTS``),
so a client that compares them with a configuration must ignore what it did not declare.
Not for: wire shapes (see :mod:`.handlers`) or order parsing (:mod:`.orders`).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from ..errors import ErrorAnswer
from ..lifecycle import Lifecycle
from ..paging import Page, PageRequest, cut
from ..store import Store
from . import errors
from .errors import illegal
from .orders import PAY_TYPES, Machine, Order

SCHEMA = """
CREATE TABLE IF NOT EXISTS clusters (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    status TEXT NOT NULL,
    next_status TEXT,
    due REAL,
    container_net TEXT NOT NULL,
    main_zone TEXT NOT NULL,
    created REAL NOT NULL,
    deleted REAL,
    spec TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS nodes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    short_id TEXT NOT NULL UNIQUE,
    cluster_uuid TEXT NOT NULL REFERENCES clusters(uuid) ON DELETE CASCADE,
    status TEXT NOT NULL,
    next_status TEXT,
    due REAL,
    created REAL NOT NULL,
    spec TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS nodes_by_cluster ON nodes(cluster_uuid, seq);
CREATE TABLE IF NOT EXISTS free_instances (instance_id TEXT PRIMARY KEY, spec TEXT NOT NULL);
"""

VERSIONS = ("1.13.4", "1.16.8", "1.18.9", "1.20.8", "1.22.5")
KUBECONFIG_TYPES = frozenset({"default", "internal", "intraVpc"})
CREATING, RUNNING, CREATE_FAILED = "CREATING", "RUNNING", "CREATE_FAILED"
DELETING, DELETED = "DELETING", "DELETED"
# Status of a cluster that refuses a change, and the code it answers with.
BUSY_CODES = {
    CREATING: errors.CLUSTER_CREATING,
    DELETING: errors.CLUSTER_DELETING,
    DELETED: errors.CLUSTER_DELETED,
}
# advancedOptions as the service fills them when a create leaves them out (cce-v1-api.md 1.1:
# the Terraform provider's defaults for kubeProxyMode, cniMode, dnsMode and maxPodNum, and
# secureContainerEnable false as in the detail example of 1.3). setOSSecurity and cniType have
# no documented default, so they appear only when sent.
ADVANCED_DEFAULTS: dict[str, Any] = {
    "kubeProxyMode": "ipvs",
    "secureContainerEnable": False,
    "cniMode": "kubenet",
    "dnsMode": "coreDNS",
    "maxPodNum": 256,
}
_FREE_NETS = [f"172.{n}.0.0/16" for n in range(16, 32)] + [f"10.{n}.0.0/16" for n in range(256)]


@dataclass(frozen=True)
class ClusterRequest:
    """A create request as read from the wire; ``None`` = absent."""

    name: str | None
    version: str | None
    main_zone: str | None
    container_net: str | None
    order: Order | None
    master_order: Order | None = None
    comment: str = ""
    advanced_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    master_exposed: bool = False
    dcc_uuid: str = ""
    deploy_mode: str = "BCC"


@dataclass(frozen=True)
class StoredClusterSpec:
    """What a cluster keeps from its create request (stored as JSON)."""

    comment: str
    advanced_options: dict[str, Any]
    master_exposed: bool
    master_count: int
    dcc_uuid: str
    deploy_mode: str
    has_prepay: bool
    vpc_id: str
    vpc_uuid: str
    vpc_cidr: str
    subnet: str


@dataclass(frozen=True)
class NodeSpec:
    instance_uuid: str
    name: str
    zone: str
    subnet: str
    cpu: int
    memory: int
    sys_disk_gb: int
    disk_gb: int
    instance_type: str
    payment: str
    eip_bandwidth: int
    fix_ip: str = ""


@dataclass(frozen=True)
class Node:
    seq: int
    short_id: str
    cluster_uuid: str
    status: str
    created: float
    spec: NodeSpec

    @property
    def fix_ip(self) -> str:
        return self.spec.fix_ip or f"192.168.{(self.seq // 250) % 256}.{self.seq % 250 + 2}"


@dataclass(frozen=True)
class Cluster:
    seq: int
    uuid: str
    name: str
    version: str
    status: str
    container_net: str
    main_zone: str
    created: float
    deleted: float | None
    spec: StoredClusterSpec
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Quota:
    cluster: int
    cluster_used: int
    slave: int
    slave_used: int


@dataclass(frozen=True)
class FreeInstance:
    """An instance shifted out of a cluster, which ``existed_bcc_node/list`` offers back."""

    instance_id: str
    name: str
    internal_ip: str
    payment: str


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


class Clusters:
    def __init__(self, store: Store) -> None:
        self._db = store.db
        self._clock = store.clock
        self._settings = store.settings
        self._rng = store.rng
        self.region = store.region
        self._lifecycle = Lifecycle(store, _DUE, _advance)

    def settle(self) -> None:
        """Apply every lifecycle step that is due (reads and writes do it themselves)."""
        self._lifecycle.settle()

    # -- clusters --------------------------------------------------------------------------

    def create(self, request: ClusterRequest) -> tuple[str, list[str]]:
        """Check, then store a CREATING cluster with its nodes; return its id and order ids."""
        order = _check_create(request)
        assert request.main_zone is not None and request.container_net is not None
        knobs = self._settings.current
        fate = CREATE_FAILED if self._rng.random() < knobs.create_failure_rate else RUNNING
        with self._lifecycle.write() as (conn, now):
            if overlaps(request.container_net, _live_nets(conn)):
                raise ErrorAnswer(errors.CONTAINER_NET_CONFLICT)
            if _live_cluster_count(conn) >= knobs.cluster_quota:
                raise ErrorAnswer(errors.CLUSTER_QUOTA)
            self._check_slave_quota(conn, order.node_count)
            uuid = self._new_cluster_id(conn)
            conn.execute(
                "INSERT INTO clusters (uuid, name, version, status, next_status, due,"
                " container_net, main_zone, created, spec) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (uuid, request.name, request.version, CREATING, fate,
                 now + knobs.cluster_create_seconds, request.container_net, request.main_zone,
                 now, _dump(self._cluster_spec(request, order))),
            )  # fmt: skip
            self._add_nodes(conn, uuid, order, request.main_zone, fate)
        return uuid, self._order_ids(order)

    def list_clusters(self, status: str | None, page: PageRequest) -> Page[Cluster]:
        start = _seq_marker(page)
        with self._lifecycle.read() as conn:
            rows = conn.execute(
                "SELECT * FROM clusters WHERE seq >= ? AND (? IS NULL OR status = ?)"
                " ORDER BY seq LIMIT ?",
                (start, status, status, page.limit),
            ).fetchall()
            clusters = [_cluster(conn, row) for row in rows]
        return cut(clusters, page, lambda c: str(c.seq))

    def get(self, uuid: str) -> Cluster:
        with self._lifecycle.read() as conn:
            return _cluster(conn, _cluster_row(conn, uuid))

    def all_clusters(self) -> list[Cluster]:
        with self._lifecycle.read() as conn:
            rows = conn.execute("SELECT * FROM clusters ORDER BY seq").fetchall()
            return [_cluster(conn, row) for row in rows]

    def delete(self, uuid: str) -> None:
        with self._lifecycle.write() as (conn, now):
            due = now + self._settings.current.cluster_delete_seconds
            status = _cluster_row(conn, uuid)["status"]
            if status in BUSY_CODES:
                raise ErrorAnswer(BUSY_CODES[status])
            conn.execute(
                "UPDATE clusters SET status = ?, next_status = ?, due = ? WHERE uuid = ?",
                (DELETING, DELETED, due, uuid),
            )
            conn.execute(
                "UPDATE nodes SET status = ?, next_status = ?, due = ? WHERE cluster_uuid = ?",
                (DELETING, DELETED, due, uuid),
            )

    def upgrade(self, uuid: str | None, version: str | None) -> None:
        if not uuid or not version or version not in VERSIONS:
            raise illegal("clusterUuid and a known version are needed")
        with self._lifecycle.write() as (conn, _now):
            row = _running(conn, uuid)
            if _version_key(version) <= _version_key(row["version"]):
                raise illegal("a cluster is only upgraded to a newer one")
            conn.execute("UPDATE clusters SET version = ? WHERE uuid = ?", (version, uuid))

    # -- nodes -----------------------------------------------------------------------------

    def scale_up(self, uuid: str | None, order: Order | None) -> list[str]:
        if not uuid or order is None:
            raise illegal("clusterUuid and orderContent are needed")
        with self._lifecycle.write() as (conn, _now):
            row = _running(conn, uuid)
            _check_order(order, row["main_zone"])
            self._check_slave_quota(conn, order.node_count)
            self._add_nodes(conn, uuid, order, row["main_zone"], RUNNING)
        return self._order_ids(order)

    def scale_down(self, uuid: str | None, instance_ids: list[str]) -> None:
        if not uuid or not instance_ids:
            raise illegal("clusterUuid and nodeInfo are needed")
        with self._lifecycle.write() as (conn, _now):
            _running(conn, uuid)
            for row in _own_nodes(conn, uuid, instance_ids):
                conn.execute("DELETE FROM nodes WHERE seq = ?", (row["seq"],))

    def list_nodes(self, uuid: str | None, page: PageRequest) -> Page[Node]:
        if not uuid:
            raise illegal("clusterUuid is needed")
        start = _seq_marker(page)
        with self._lifecycle.read() as conn:
            _cluster_row(conn, uuid)
            rows = conn.execute(
                "SELECT * FROM nodes WHERE cluster_uuid = ? AND seq >= ? ORDER BY seq LIMIT ?",
                (uuid, start, page.limit),
            ).fetchall()
        return cut([_node(row) for row in rows], page, lambda n: str(n.seq))

    def shift_in(self, uuid: str | None, instance_ids: list[str], instance_type: str) -> None:
        if not uuid or not instance_ids or instance_type not in ("BCC", "BBC"):
            raise illegal("clusterUuid, nodeInfoList, BCC or BBC")
        with self._lifecycle.write() as (conn, now):
            due = now + self._settings.current.cluster_create_seconds
            row = _running(conn, uuid)
            self._check_slave_quota(conn, len(instance_ids))
            for instance_id in instance_ids:
                spec = self._adopted_spec(conn, instance_id, row["main_zone"])
                _insert_node(conn, instance_id, uuid, spec, now, RUNNING, due)

    def shift_out(self, uuid: str | None, instance_ids: list[str]) -> None:
        if not uuid or not instance_ids:
            raise illegal("clusterUuid and nodeInfoList are needed")
        with self._lifecycle.write() as (conn, _now):
            _running(conn, uuid)
            for row in _own_nodes(conn, uuid, instance_ids):
                node = _node(row)
                spec = dataclasses.replace(node.spec, fix_ip=node.fix_ip)
                conn.execute("DELETE FROM nodes WHERE seq = ?", (node.seq,))
                conn.execute(
                    "INSERT OR REPLACE INTO free_instances VALUES (?, ?)",
                    (node.short_id, _dump(spec)),
                )

    def free_instances(self, uuid: str | None, keyword: str = "") -> list[FreeInstance]:
        if not uuid:
            raise illegal("clusterUuid is needed")
        with self._db.read() as conn:
            _cluster_row(conn, uuid)
            rows = conn.execute("SELECT * FROM free_instances ORDER BY instance_id").fetchall()
        found = [_free_instance(row) for row in rows]
        return [f for f in found if keyword in f.instance_id or keyword in f.name]

    # -- helpers for the other endpoints ---------------------------------------------------

    def kubeconfig(self, uuid: str | None, kind: str | None) -> tuple[Cluster, str]:
        kind = kind or "default"
        if not uuid or kind not in KUBECONFIG_TYPES:
            raise illegal("clusterUuid and a known type are needed")
        cluster = self.get(uuid)
        _refuse_unless_running(cluster.status)
        return cluster, kind

    def quota(self) -> Quota:
        knobs = self._settings.current
        with self._lifecycle.read() as conn:
            return Quota(
                knobs.cluster_quota, _live_cluster_count(conn), knobs.slave_quota, _node_count(conn)
            )

    def free_container_net(self, vpc_cidr: str | None) -> str:
        with self._lifecycle.read() as conn:
            taken = _live_nets(conn) + ([vpc_cidr] if vpc_cidr else [])
        for candidate in _FREE_NETS:
            if not overlaps(candidate, taken):
                return candidate
        raise ErrorAnswer(errors.CONTAINER_NET_CONFLICT)

    def check_container_net(self, vpc_cidr: str | None, cidr: str | None) -> None:
        if not cidr or parse_cidr(cidr) is None:
            raise illegal("containerNetCidr is not a CIDR")
        with self._lifecycle.read() as conn:
            taken = _live_nets(conn) + ([vpc_cidr] if vpc_cidr else [])
        if overlaps(cidr, taken):
            raise ErrorAnswer(errors.CONTAINER_NET_CONFLICT)

    # -- internals -------------------------------------------------------------------------

    def _check_slave_quota(self, conn: sqlite3.Connection, adding: int) -> None:
        if _node_count(conn) + adding > self._settings.current.slave_quota:
            raise ErrorAnswer(errors.NODE_QUOTA)

    def _new_cluster_id(self, conn: sqlite3.Connection) -> str:
        while True:
            uuid = self._rng.short_id("c-")
            if not conn.execute("SELECT 1 FROM clusters WHERE uuid = ?", (uuid,)).fetchone():
                return uuid

    def _new_node_id(self, conn: sqlite3.Connection) -> str:
        while True:
            short_id = self._rng.short_id("i-")
            if not conn.execute("SELECT 1 FROM nodes WHERE short_id = ?", (short_id,)).fetchone():
                return short_id

    def _order_ids(self, order: Order) -> list[str]:
        return [self._rng.hex(32) for _ in range(order.item_count)]

    def _cluster_spec(self, request: ClusterRequest, order: Order) -> StoredClusterSpec:
        masters = request.master_order.node_count if request.master_order else 3
        return StoredClusterSpec(
            comment=request.comment,
            advanced_options=request.advanced_options,
            master_exposed=request.master_exposed,
            master_count=masters,
            dcc_uuid=request.dcc_uuid,
            deploy_mode=request.deploy_mode,
            has_prepay=order.has_prepay,
            vpc_id=self._rng.short_id("vpc-", 12).lower(),
            vpc_uuid=self._rng.uuid4(),
            vpc_cidr="192.168.0.0/16",
            subnet=next((m.subnet for m in order.machines if m.subnet), self._rng.uuid4()),
        )

    def _add_nodes(
        self, conn: sqlite3.Connection, uuid: str, order: Order, main_zone: str, fate: str
    ) -> None:
        now = self._clock.now()
        due = now + self._settings.current.cluster_create_seconds
        for machine in order.machines:
            for _ in range(machine.count):
                spec = self._node_spec(machine, order, main_zone)
                _insert_node(conn, self._new_node_id(conn), uuid, spec, now, fate, due)

    def _node_spec(self, machine: Machine, order: Order, main_zone: str) -> NodeSpec:
        return NodeSpec(
            instance_uuid=self._rng.uuid4(),
            name=machine.name or self._rng.short_id("instance-").lower(),
            zone=machine.zone or main_zone,
            subnet=machine.subnet,
            cpu=machine.cpu,
            memory=machine.memory,
            sys_disk_gb=machine.root_disk_gb,
            disk_gb=order.disk_gb,
            instance_type=machine.instance_type,
            payment=machine.product_type,
            eip_bandwidth=order.eip_bandwidth,
        )

    def _adopted_spec(self, conn: sqlite3.Connection, instance_id: str, zone: str) -> NodeSpec:
        if (
            not instance_id
            or conn.execute("SELECT 1 FROM nodes WHERE short_id = ?", (instance_id,)).fetchone()
        ):
            raise illegal(f"{instance_id!r} is already a node")
        row = conn.execute(
            "DELETE FROM free_instances WHERE instance_id = ? RETURNING spec", (instance_id,)
        ).fetchone()
        if row is not None:
            return _load_node_spec(row["spec"])
        return NodeSpec(
            instance_uuid=self._rng.uuid4(),
            name=instance_id,
            zone=zone,
            subnet="",
            cpu=2,
            memory=8,
            sys_disk_gb=40,
            disk_gb=0,
            instance_type="10",
            payment="postpay",
            eip_bandwidth=0,
        )


def _check_create(request: ClusterRequest) -> Order:
    required = (request.name, request.version, request.main_zone, request.container_net)
    if not all(required) or request.order is None:
        raise illegal("a required field is missing")
    if request.version not in VERSIONS:
        raise illegal(f"unknown version {request.version}")
    if parse_cidr(request.container_net or "") is None:
        raise illegal("containerNet is not a CIDR")
    assert request.main_zone is not None
    _check_order(request.order, request.main_zone)
    return request.order


def _check_order(order: Order, main_zone: str) -> None:
    if any(m.zone is not None and m.zone != main_zone for m in order.machines):
        raise ErrorAnswer(errors.WRONG_MAIN_ZONE)
    if any(p not in PAY_TYPES for p in order.product_types):
        raise ErrorAnswer(errors.UNSUPPORTED_PAY_TYPE)


def _running(conn: sqlite3.Connection, uuid: str) -> sqlite3.Row:
    """The cluster's row if it is RUNNING; else the code its status answers."""
    row = _cluster_row(conn, uuid)
    _refuse_unless_running(row["status"])
    return row


def _refuse_unless_running(status: str) -> None:
    if status != RUNNING:
        raise ErrorAnswer(BUSY_CODES.get(status, errors.ILLEGAL_ARGUMENTS), f"cluster is {status}")


_DUE = (
    "SELECT 1 FROM clusters WHERE next_status IS NOT NULL AND due <= ?1"
    " UNION ALL SELECT 1 FROM nodes WHERE next_status IS NOT NULL AND due <= ?1 LIMIT 1"
)


def _advance(conn: sqlite3.Connection, now: float) -> None:
    # SET expressions read the row as it was, so `deleted` sees the old next_status and due.
    conn.execute(
        "UPDATE clusters SET status = next_status, next_status = NULL, due = NULL,"
        " deleted = CASE WHEN next_status = 'DELETED' THEN due ELSE deleted END"
        " WHERE next_status IS NOT NULL AND due <= ?",
        (now,),
    )
    conn.execute(
        "UPDATE nodes SET status = next_status, next_status = NULL, due = NULL"
        " WHERE next_status IS NOT NULL AND due <= ?",
        (now,),
    )
    conn.execute("DELETE FROM nodes WHERE status = 'DELETED'")


def parse_cidr(text: str) -> ipaddress.IPv4Network | None:
    """An IPv4 network written exactly (``172.16.0.0/16``), else ``None``."""
    try:
        return ipaddress.IPv4Network(text, strict=True)
    except ValueError:
        return None


def overlaps(cidr: str, others: list[str]) -> bool:
    network = parse_cidr(cidr)
    if network is None:
        return False
    return any(
        (other_net := parse_cidr(other)) is not None and network.overlaps(other_net)
        for other in others
    )


def _seq_marker(page: PageRequest) -> int:
    if page.from_start:
        return 0
    try:
        return int(page.marker)
    except ValueError:
        raise illegal(f"bad marker {page.marker!r}") from None


def _cluster_row(conn: sqlite3.Connection, uuid: str) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM clusters WHERE uuid = ?", (uuid,)
    ).fetchone()
    if row is None:
        raise ErrorAnswer(errors.CLUSTER_NOT_FOUND)
    return row


def _own_nodes(conn: sqlite3.Connection, uuid: str, instance_ids: list[str]) -> list[sqlite3.Row]:
    rows = []
    for instance_id in instance_ids:
        row = conn.execute(
            "SELECT * FROM nodes WHERE short_id = ? AND cluster_uuid = ?", (instance_id, uuid)
        ).fetchone()
        if row is None:
            raise illegal(f"{instance_id!r} is not a node of {uuid}")
        rows.append(row)
    return rows


def _live_nets(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT container_net FROM clusters WHERE status != 'DELETED'").fetchall()
    return [row[0] for row in rows]


def _live_cluster_count(conn: sqlite3.Connection) -> int:
    (count,) = conn.execute("SELECT count(*) FROM clusters WHERE status != 'DELETED'").fetchone()
    return int(count)


def _node_count(conn: sqlite3.Connection) -> int:
    (count,) = conn.execute("SELECT count(*) FROM nodes").fetchone()
    return int(count)


def _insert_node(
    conn: sqlite3.Connection,
    short_id: str,
    uuid: str,
    spec: NodeSpec,
    now: float,
    fate: str,
    due: float,
) -> None:
    conn.execute(
        "INSERT INTO nodes (short_id, cluster_uuid, status, next_status, due, created, spec)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (short_id, uuid, CREATING, fate, due, now, _dump(spec)),
    )


def _dump(spec: StoredClusterSpec | NodeSpec) -> str:
    return json.dumps(dataclasses.asdict(spec), sort_keys=True)


def _load_cluster_spec(text: str) -> StoredClusterSpec:
    """The stored spec, with the advancedOptions defaults under what was sent (also for
    databases written before the defaults were filled)."""
    spec = StoredClusterSpec(**json.loads(text))
    return dataclasses.replace(
        spec, advanced_options={**ADVANCED_DEFAULTS, **spec.advanced_options}
    )


def _load_node_spec(text: str) -> NodeSpec:
    return NodeSpec(**json.loads(text))


def _node(row: sqlite3.Row) -> Node:
    spec = _load_node_spec(row["spec"])
    return Node(
        row["seq"], row["short_id"], row["cluster_uuid"], row["status"], row["created"], spec
    )


def _cluster(conn: sqlite3.Connection, row: sqlite3.Row) -> Cluster:
    nodes = conn.execute(
        "SELECT * FROM nodes WHERE cluster_uuid = ? ORDER BY seq", (row["uuid"],)
    ).fetchall()
    return Cluster(
        seq=row["seq"],
        uuid=row["uuid"],
        name=row["name"],
        version=row["version"],
        status=row["status"],
        container_net=row["container_net"],
        main_zone=row["main_zone"],
        created=row["created"],
        deleted=row["deleted"],
        spec=_load_cluster_spec(row["spec"]),
        nodes=tuple(_node(node) for node in nodes),
    )


def _free_instance(row: sqlite3.Row) -> FreeInstance:
    spec = _load_node_spec(row["spec"])
    return FreeInstance(row["instance_id"], spec.name, spec.fix_ip, spec.payment)

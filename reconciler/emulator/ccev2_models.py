"""The CCE v2 model: clusters, instance groups and their instances, with their lifecycles.

For: the rules of docs/api-contract.md "CCE v2" as plain Python over SQLite (the ``ccev2_*``
tables of :mod:`.db`): request validation with the v2 error codes, the defaults the server
fills in, and the asynchronous phases. A lifecycle is a list of ``[due, phase]`` steps stored
with its row and applied lazily by :meth:`CceV2.settle` before every read or write, so
``POST /__emulator/advance`` moves everything at once and a 0-second step shows on the next
read::

    cluster:   pending -> provisioning -> provisioned -> running   (cluster_create_seconds,
               pending -> provisioning -> create_failed             in three equal steps)
               deleting -> deleted | delete_failed                 (cluster_delete_seconds)
    instance:  the same create phases, timed from its own creation;
               deleting -> deleted (cluster_delete_seconds), then it is gone

``create_failure_rate`` draws ``create_failed`` for clusters and instances,
``delete_failure_rate`` draws ``delete_failed`` for clusters. A deleted cluster answers
``ClusterNotFound`` and takes its groups and instances with it. An instance group has no
phase: ``replicas`` is what was asked, ``readyReplicas`` counts its running instances.
Request keys are matched like Go's ``encoding/json`` (exact, else case-insensitive) and enum
values case-insensitively; answers use the SDK's spelling.
Not for: the wire shapes (:mod:`.ccev2_handlers`), nor v1 clusters (:mod:`.clusters`).
"""

from __future__ import annotations

import ipaddress
import json
import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from reconciler import error_codes
from reconciler.error_codes import ErrorCode

from .clock import ModelClock
from .db import Database
from .rng import SeededRandom
from .settings import Settings

T = TypeVar("T")
Json = Mapping[str, Any]

PENDING, PROVISIONING, PROVISIONED, RUNNING = "pending", "provisioning", "provisioned", "running"
CREATE_FAILED, DELETING, DELETED = "create_failed", "deleting", "deleted"
DELETE_FAILED = "delete_failed"
MASTER, NODE = "master", "node"

# The v2 error table lives with the v1 one in reconciler/error_codes.py.
V2_CODES: dict[str, ErrorCode] = {e.code: e for e in error_codes.V2_CODES}
CLUSTER_NOT_FOUND = "cce.warning.ClusterNotFound"
NO_SUCH_OBJECT = "cce.warning.NoSuchObject"
INVALID_PARAM = "cce.warning.InvalidParam"
MALFORMED_JSON = "cce.warning.MalformedJSON"
NOT_ALLOWED = "cce.warning.OperationNotAllowed"


class V2Error(Exception):
    """Answer the current v2 request with ``code`` (a key of ``V2_CODES``)."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.entry = V2_CODES[code]  # fail loudly, at the raise site, on an unknown code
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail

    @property
    def message(self) -> str:
        if not self.detail:
            return self.entry.message
        return f"{self.entry.message.rstrip('.')}: {self.detail}"


def invalid(detail: str) -> V2Error:
    return V2Error(INVALID_PARAM, detail)


# --- allowed values [SDK types/*.go; DOC] ------------------------------------------------------

K8S_VERSIONS = (
    "1.14.9", "1.16.3", "1.16.8", "1.17.17", "1.18.9", "1.18.9-bilibili-mixprotocols", "1.20.8",
    "1.20.8-arm64", "1.21.14", "1.22.5", "1.24.4", "1.26.9", "1.28.8", "1.30.1", "1.31.1",
    "1.32.7", "1.34.2",
)  # fmt: skip
CLUSTER_TYPES = (
    "normal",
    "crossvpceni",
    "serverless",
    "gpuShare",
    "edge",
    "cloudEdge",
    "aihpc",
    "arm",
)
MASTER_TYPES = ("managedPro", "managed", "custom", "serverless", "containerizedCustom")
CLUSTER_HA = (1, 2, 3, 5)
RUNTIME_TYPES = ("docker", "containerd", "bci")
RUNTIME_VERSIONS = {"docker": "18.9.2", "containerd": "1.6.28", "bci": ""}  # containerd: INFERRED
NETWORK_MODES = (
    "kubenet", "vpc-cni", "vpc-route-veth", "vpc-route-ipvlan", "vpc-route-auto-detect",
    "vpc-secondary-ip-veth", "vpc-secondary-ip-ipvlan", "vpc-secondary-ip-auto-detect",
)  # fmt: skip
IP_VERSIONS = ("ipv4", "ipv6", "dualStack")
KUBE_PROXY_MODES = ("ipvs", "iptables", "cilium", "ebpf")
MACHINE_TYPES = ("BCC", "BBC", "EBC", "HPAS", "BEC", "Metal", "BCI")
CLUSTER_ROLES = (MASTER, NODE)
SHRINK_POLICIES = ("Priority", "Random", "Uniform")
UPDATE_POLICIES = ("Rolling", "Concurrency")
CLEAN_POLICIES = ("Remain", "Delete")
KUBECONFIG_TYPES = ("vpc", "public", "internal")
CLUSTER_KEYWORD_TYPES = ("clusterName", "clusterID")
CLUSTER_ORDER_BY = ("clusterName", "clusterID", "createdAt")
ORDERS = ("ASC", "DESC")
CLUSTER_NAME = re.compile(r"[\w.\-]{1,65}")  # letters, digits, - . _; at most 65 [DOC]
PASSWORD_SPECIAL = re.compile(r"[!@#$%^*()]")
DEFAULT_PAGE_NO, DEFAULT_PAGE_SIZE = 1, 10  # [SDK PageNoDefault / PageSizeDefault]
MAX_CLUSTER_PAGE_SIZE = 1000  # UNKNOWN on the real service: a guess
MAX_PAGE_SIZE = 100_000  # [DOC] for instance lists; used for groups too
VPC_CIDR = "192.168.0.0/16"


# --- reading request JSON like Go's encoding/json ----------------------------------------------


def field(data: Json, key: str) -> Any:
    """The value under ``key``: the exact key first, else one that differs only in case."""
    if key in data:
        return data[key]
    lower = key.lower()
    return next((v for k, v in data.items() if k.lower() == lower), None)


def put(data: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` in the SDK's spelling, dropping any differently-cased copy."""
    for other in [k for k in data if k.lower() == key.lower() and k != key]:
        del data[other]
    data[key] = value


def obj_at(data: Json, key: str, where: str) -> dict[str, Any]:
    value = field(data, key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise invalid(f"{where}{key} must be an object")
    return dict(value)


def text_at(data: Json, key: str, where: str) -> str:
    value = field(data, key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid(f"{where}{key} must be a string")
    return value


def int_at(data: Json, key: str, where: str) -> int | None:
    value = field(data, key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"{where}{key} must be an integer")
    return value


def bool_at(data: Json, key: str, where: str) -> bool | None:
    value = field(data, key)
    if value is not None and not isinstance(value, bool):
        raise invalid(f"{where}{key} must be a boolean")
    return value


def list_at(data: Json, key: str, where: str) -> list[Any]:
    value = field(data, key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(f"{where}{key} must be a list")
    return value


def choice(value: str, allowed: Sequence[str], what: str) -> str:
    """``value`` in the spelling of ``allowed`` (matched case-insensitively)."""
    found = next((a for a in allowed if a.lower() == value.lower()), None)
    if found is None:
        raise invalid(f"{what} {value!r} is not one of {', '.join(allowed)}")
    return found


def _network(text: str, what: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError:
        raise invalid(f"{what} {text!r} is not a CIDR") from None


# --- request bodies -> stored specs (the answer's spelling) ------------------------------------


def cluster_spec(body: Json, cluster_id: str, vpc_uuid: str) -> dict[str, Any]:
    """The stored (response) ClusterSpec for a create body's ``cluster`` object."""
    raw = obj_at(body, "cluster", "")
    if not raw:
        raise invalid("cluster is required")
    name = text_at(raw, "clusterName", "cluster.")
    if not CLUSTER_NAME.fullmatch(name):
        raise invalid("cluster.clusterName must be 1-65 letters, digits, '-', '.' or '_'")
    version = choice(text_at(raw, "k8sVersion", "cluster."), K8S_VERSIONS, "cluster.k8sVersion")
    vpc_id = text_at(raw, "vpcID", "cluster.")
    if not vpc_id:
        raise invalid("cluster.vpcID is required")
    runtime = choice(
        text_at(raw, "runtimeType", "cluster.") or "docker", RUNTIME_TYPES, "runtimeType"
    )
    plugins = _strings(list_at(raw, "plugins", "cluster."), "cluster.plugins")
    network = _network_config(obj_at(raw, "containerNetworkConfig", "cluster."))
    spec: dict[str, Any] = {
        "clusterID": cluster_id,
        "clusterName": name,
        "clusterType": choice(
            text_at(raw, "clusterType", "cluster.") or "normal", CLUSTER_TYPES, "clusterType"
        ),
        "description": text_at(raw, "description", "cluster."),
        "k8sVersion": version,
        "runtimeType": runtime,
        "runtimeVersion": text_at(raw, "runtimeVersion", "cluster.") or RUNTIME_VERSIONS[runtime],
        "vpcID": vpc_id,
        "vpcCIDR": VPC_CIDR,
        "vpcUUID": vpc_uuid,
        "vpcName": "default",
        "plugins": plugins or _default_plugins(network["mode"]),
        "forbidDelete": bool(bool_at(raw, "forbidDelete", "cluster.")),
        "masterConfig": _master_config(obj_at(raw, "masterConfig", "cluster.")),
        "containerNetworkConfig": network,
        "k8sCustomConfig": obj_at(raw, "k8sCustomConfig", "cluster."),
        "resourceChargingOption": obj_at(raw, "resourceChargingOption", "cluster."),
    }
    for key in _OPTIONAL_LISTS:
        spec[key] = list_at(raw, key, "cluster.") or None  # nil slices: Go writes null
    return spec


_OPTIONAL_LISTS = (
    "masterDefaultSecurityGroups",
    "nodeDefaultSecurityGroups",
    "eniDefaultSecurityGroups",
    "tags",
)


def _strings(values: list[Any], what: str) -> list[str]:
    if not all(isinstance(v, str) for v in values):
        raise invalid(f"{what} must be a list of strings")
    return list(values)


def _default_plugins(mode: str) -> list[str]:
    extra = ["ip-masq-agent"] if mode == "kubenet" else ["vpc-cni"]
    return ["core-dns", "kube-proxy", "metrics-server", *extra]


def _master_config(raw: dict[str, Any]) -> dict[str, Any]:
    where = "cluster.masterConfig."
    if not raw:
        raise invalid("cluster.masterConfig is required")
    master_type = choice(text_at(raw, "masterType", where), MASTER_TYPES, "masterType")
    ha = int_at(raw, "clusterHA", where) or (2 if master_type == "serverless" else 3)
    if ha not in CLUSTER_HA:
        raise invalid(f"{where}clusterHA must be one of 1, 2, 3, 5")
    option = obj_at(raw, "managedClusterMasterOption", where)
    put(option, "masterVPCSubnetZone", text_at(option, "masterVPCSubnetZone", where) or "zoneA")
    config = dict(raw)
    put(config, "masterType", master_type)
    put(config, "clusterHA", ha)
    put(config, "exposedPublic", bool(bool_at(raw, "exposedPublic", where)))
    put(config, "clusterBLBVPCSubnetID", text_at(raw, "clusterBLBVPCSubnetID", where))
    put(config, "managedClusterMasterOption", option)
    return config


def _network_config(raw: dict[str, Any]) -> dict[str, Any]:
    where = "cluster.containerNetworkConfig."
    mode = choice(text_at(raw, "mode", where) or "kubenet", NETWORK_MODES, "mode")
    if not text_at(raw, "lbServiceVPCSubnetID", where):
        raise invalid(f"{where}lbServiceVPCSubnetID is required")
    pod_cidr = text_at(raw, "clusterPodCIDR", where)
    if mode == "kubenet" and not pod_cidr:
        raise invalid(f"{where}clusterPodCIDR is required for kubenet")
    service_cidr = text_at(raw, "clusterIPServiceCIDR", where) or "172.31.0.0/16"
    service = _network(service_cidr, "clusterIPServiceCIDR")
    pod = _network(pod_cidr, "clusterPodCIDR") if pod_cidr else None
    if pod is not None and pod.version == service.version and pod.overlaps(service):
        raise invalid("clusterPodCIDR and clusterIPServiceCIDR overlap")
    low = int_at(raw, "nodePortRangeMin", where) or 30000
    high = int_at(raw, "nodePortRangeMax", where) or 32767
    if not 0 < low <= high <= 65535:
        raise invalid(f"{where}nodePortRangeMin/Max do not make a range")
    config = dict(raw)
    put(config, "mode", mode)
    put(
        config,
        "ipVersion",
        choice(text_at(raw, "ipVersion", where) or "ipv4", IP_VERSIONS, "ipVersion"),
    )
    put(config, "clusterPodCIDR", pod_cidr)
    put(config, "clusterIPServiceCIDR", service_cidr)
    put(config, "maxPodsPerNode", int_at(raw, "maxPodsPerNode", where) or 128)
    proxy = text_at(raw, "kubeProxyMode", where) or "ipvs"
    put(config, "kubeProxyMode", choice(proxy, KUBE_PROXY_MODES, "kubeProxyMode"))
    put(config, "nodePortRangeMin", low)
    put(config, "nodePortRangeMax", high)
    return config


def instance_template(raw: Json, where: str) -> dict[str, Any]:
    """An InstanceSpec as stored: checked, defaults filled, ``adminPassword`` never kept."""
    spec = {k: v for k, v in raw.items() if k.lower() != "adminpassword"}
    _check_password(text_at(raw, "adminPassword", where), where)
    existed = bool(bool_at(raw, "existed", where))
    vpc = obj_at(raw, "vpcConfig", where)
    if not existed and not text_at(vpc, "vpcSubnetID", f"{where}vpcConfig."):
        raise invalid(f"{where}vpcConfig.vpcSubnetID is required for a new instance")
    put(vpc, "availableZone", text_at(vpc, "availableZone", f"{where}vpcConfig.") or "zoneA")
    put(vpc, "vpcSubnetType", text_at(vpc, "vpcSubnetType", f"{where}vpcConfig.") or "BCC")
    resource = obj_at(raw, "instanceResource", where)
    for key in ("cpu", "mem", "rootDiskSize"):
        if (int_at(resource, key, f"{where}instanceResource.") or 0) < 0:
            raise invalid(f"{where}instanceResource.{key} must not be negative")
    text_at(raw, "instanceType", where)
    labels = obj_at(raw, "labels", where)
    if not all(isinstance(v, str) for v in labels.values()):
        raise invalid(f"{where}labels must map strings to strings")
    machine = text_at(raw, "machineType", where) or "BCC"
    put(spec, "machineType", choice(machine, MACHINE_TYPES, "machineType"))
    put(spec, "vpcConfig", vpc)
    put(spec, "instanceResource", resource)
    put(spec, "labels", labels)
    put(spec, "existed", existed)
    put(spec, "instanceChargingType", text_at(raw, "instanceChargingType", where) or "Postpaid")
    put(spec, "cceInstancePriority", int_at(raw, "cceInstancePriority", where) or 5)
    return spec


def _check_password(password: str, where: str) -> None:
    """8-32 characters with letters, digits and one of ``!@#$%^*()`` [DOC]."""
    if not password:
        return
    if not (
        8 <= len(password) <= 32
        and re.search(r"[A-Za-z]", password)
        and re.search(r"[0-9]", password)
        and PASSWORD_SPECIAL.search(password)
    ):
        raise invalid(f"{where}adminPassword does not meet the password rules")


def group_spec(body: Json, cluster_id: str, group_id: str) -> dict[str, Any]:
    """The stored (response) InstanceGroupSpec for a create body (a bare InstanceGroupSpec)."""
    name = text_at(body, "instanceGroupName", "")
    if not name:
        raise invalid("instanceGroupName is required")
    sent_cluster = text_at(body, "clusterID", "")
    if sent_cluster and sent_cluster != cluster_id:
        raise invalid(f"clusterID {sent_cluster!r} is not the cluster of the path")
    role = choice(text_at(body, "clusterRole", "") or NODE, CLUSTER_ROLES, "clusterRole")
    if role != NODE:
        raise invalid("an instance group holds worker nodes only (clusterRole node)")
    replicas = int_at(body, "replicas", "")
    if replicas is None or replicas < 0:
        raise invalid("replicas is required and must not be negative")
    templates = [
        instance_template(_as_obj(t, "instanceTemplates[]"), "instanceTemplates[].")
        for t in list_at(body, "instanceTemplates", "")
    ]
    template_raw = obj_at(body, "instanceTemplate", "")
    if not template_raw and not templates:
        raise invalid("instanceTemplate (or instanceTemplates) is required")
    template = (
        instance_template(template_raw, "instanceTemplate.") if template_raw else templates[0]
    )
    spec = {k: v for k, v in body.items() if k.lower() != "selector"}  # answers have none [SDK]
    put(spec, "cceInstanceGroupID", group_id)
    put(spec, "instanceGroupName", name)
    put(spec, "clusterID", cluster_id)
    put(spec, "clusterRole", role)
    for key, allowed, default in (
        ("shrinkPolicy", SHRINK_POLICIES, "Priority"),
        ("updatePolicy", UPDATE_POLICIES, "Concurrency"),
        ("cleanPolicy", CLEAN_POLICIES, "Delete"),
    ):
        put(spec, key, choice(text_at(body, key, "") or default, allowed, key))
    put(spec, "instanceTemplate", template)
    put(spec, "instanceTemplates", templates or None)
    put(spec, "replicas", replicas)
    return spec


def _as_obj(value: Any, what: str) -> Json:
    if not isinstance(value, Mapping):
        raise invalid(f"{what} must be an object")
    return value


# --- stored rows -------------------------------------------------------------------------------


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
class PageAsk:
    """``pageNo`` / ``pageSize`` as read; either 0 means "all" (the group lists [DOC])."""

    page_no: int
    page_size: int

    def cut(self, items: list[T]) -> list[T]:
        if self.page_no == 0 or self.page_size == 0:
            return items
        start = (self.page_no - 1) * self.page_size
        return items[start : start + self.page_size]


@dataclass(frozen=True)
class ClusterQuery:
    keyword_type: str
    keyword: str
    order_by: str
    order: str
    page: PageAsk


def cluster_query(
    keyword_type: str | None,
    keyword: str | None,
    order_by: str | None,
    order: str | None,
    page_no: int | None,
    page_size: int | None,
) -> ClusterQuery:
    """The list query with the documented defaults; 0 or absent paging is 1 / 10."""
    if (page_no or 0) < 0 or (page_size or 0) < 0:
        raise invalid("pageNo and pageSize must not be negative")
    return ClusterQuery(
        choice(keyword_type or "clusterName", CLUSTER_KEYWORD_TYPES, "keywordType"),
        keyword or "",
        choice(order_by or "clusterName", CLUSTER_ORDER_BY, "orderBy"),
        choice(order or "ASC", ORDERS, "order"),
        PageAsk(
            page_no or DEFAULT_PAGE_NO, min(page_size or DEFAULT_PAGE_SIZE, MAX_CLUSTER_PAGE_SIZE)
        ),
    )


def page_ask(page_no: int | None, page_size: int | None) -> PageAsk:
    """Group and group-instance paging: absent is 0 ("all"), like the SDK's zero values."""
    if (page_no or 0) < 0 or (page_size or 0) < 0:
        raise invalid("pageNo and pageSize must not be negative")
    return PageAsk(page_no or 0, min(page_size or 0, MAX_PAGE_SIZE))


# --- the model ---------------------------------------------------------------------------------

_CLUSTER_SELECT = (
    "SELECT c.*, (SELECT count(*) FROM ccev2_instances i WHERE i.cluster_id = c.cluster_id"
    " AND i.role = 'node') AS node_num FROM ccev2_clusters c"
)
_GROUP_SELECT = (
    "SELECT g.*, (SELECT count(*) FROM ccev2_instances i WHERE i.group_id = g.group_id"
    " AND i.phase = 'running') AS ready FROM ccev2_instance_groups g"
)


class CceV2:
    """The v2 resources over the emulator's database; cheap to make (it holds no state)."""

    def __init__(
        self, db: Database, clock: ModelClock, settings: Settings, rng: SeededRandom
    ) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._rng = rng

    # -- lifecycle -------------------------------------------------------------------------

    def settle(self) -> None:
        """Apply every lifecycle step that is due; cheap when none is."""
        now = self._clock.now()
        with self._db.read() as conn:
            if not _anything_due(conn, now):
                return
        with self._db.write() as conn:
            _settle(conn, now)

    # -- clusters --------------------------------------------------------------------------

    def create_cluster(self, body: Json) -> str:
        """Store a pending cluster with its masters, nodes and node groups; return its id."""
        now = self._clock.now()
        fate = self._fate(self._settings.current.create_failure_rate, CREATE_FAILED, RUNNING)
        with self._db.write() as conn:
            _settle(conn, now)
            cluster_id = self._new_id(conn, "ccev2_clusters", "cluster_id", "cce-", lower=True)
            spec = cluster_spec(body, cluster_id, self._rng.uuid4())
            sets = self._instance_sets(body, spec)
            groups = [_as_obj(g, "nodeGroups[]") for g in list_at(body, "nodeGroups", "")]
            options = obj_at(body, "options", "")
            bool_at(options, "skipNetworkCheck", "options.")  # accepted, not modelled
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
        self.settle()
        with self._db.read() as conn:
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
        self.settle()
        with self._db.read() as conn:
            return _cluster(_live_cluster_row(conn, cluster_id))

    def delete_cluster(self, cluster_id: str) -> None:
        """Start deleting; a cluster already deleting is left as it is (a resend is harmless)."""
        now = self._clock.now()
        knobs = self._settings.current
        fate = self._fate(knobs.delete_failure_rate, DELETE_FAILED, DELETED)
        with self._db.write() as conn:
            _settle(conn, now)
            row = _live_cluster_row(conn, cluster_id)
            if json.loads(row["spec"])["forbidDelete"]:
                raise V2Error(NOT_ALLOWED, "the cluster has deletion protection (forbidDelete)")
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
            raise V2Error(NOT_ALLOWED, f"the cluster is {cluster.phase}, not running")
        if kind == "public" and not cluster.spec["masterConfig"]["exposedPublic"]:
            raise invalid("the cluster's API server has no EIP (masterConfig.exposedPublic)")
        return cluster, kind

    # -- instance groups -------------------------------------------------------------------

    def create_group(self, cluster_id: str, body: Json) -> str:
        now = self._clock.now()
        with self._db.write() as conn:
            _settle(conn, now)
            _running_cluster(conn, cluster_id)
            return self._insert_group(conn, cluster_id, body, None, now)

    def list_groups(self, cluster_id: str, page: PageAsk) -> tuple[list[StoredGroup], int]:
        self.settle()
        with self._db.read() as conn:
            _live_cluster_row(conn, cluster_id)
            rows = conn.execute(f"{_GROUP_SELECT} WHERE cluster_id = ? ORDER BY seq", (cluster_id,))
            found = [_group(row) for row in rows.fetchall()]
        return page.cut(found), len(found)

    def get_group(self, cluster_id: str, group_id: str) -> StoredGroup:
        self.settle()
        with self._db.read() as conn:
            _live_cluster_row(conn, cluster_id)
            return _group(_group_row(conn, cluster_id, group_id))

    def set_replicas(self, cluster_id: str, group_id: str, body: Json) -> None:
        """Grow with new instances, or shrink: the named ``instanceIDs`` first, then the newest."""
        replicas = int_at(body, "replicas", "")
        if replicas is None or replicas < 0:
            raise invalid("replicas is required and must not be negative")
        named = _strings(list_at(body, "instanceIDs", ""), "instanceIDs")
        delete = bool(bool_at(body, "deleteInstance", ""))
        obj_at(body, "deleteOption", "")  # accepted, not modelled
        now = self._clock.now()
        with self._db.write() as conn:
            _settle(conn, now)
            _running_cluster(conn, cluster_id)
            group = _group(_group_row(conn, cluster_id, group_id))
            members = _members(conn, group_id)
            if replicas > len(members):
                if named:
                    raise invalid("attaching existing instances (instanceIDs) is not modelled")
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
        named = _strings(list_at(body, "instancesToBeRemoved", ""), "instancesToBeRemoved")
        _strings(list_at(body, "k8sNodesToBeRemoved", ""), "k8sNodesToBeRemoved")
        if not named:
            raise invalid("instancesToBeRemoved is required")
        policy = text_at(body, "cleanPolicy", "")
        obj_at(body, "deleteOption", "")  # accepted, not modelled
        now = self._clock.now()
        with self._db.write() as conn:
            _settle(conn, now)
            _running_cluster(conn, cluster_id)
            group = _group(_group_row(conn, cluster_id, group_id))
            members = _members(conn, group_id)
            chosen = _pick(members, named)
            clean = choice(policy or group.spec["cleanPolicy"], CLEAN_POLICIES, "cleanPolicy")
            self._remove(conn, group, chosen, clean == "Delete", now)
            _set_replicas(conn, group_id, len(members) - len(chosen), now)
        return self._rng.short_id(f"task-{group_id}-scaledown-").lower()

    def delete_group(self, cluster_id: str, group_id: str, delete_instances: bool) -> None:
        """The group goes at once; its instances are deleted, or stay as plain nodes."""
        now = self._clock.now()
        with self._db.write() as conn:
            _settle(conn, now)
            _running_cluster(conn, cluster_id)
            group = _group(_group_row(conn, cluster_id, group_id))
            members = _members(conn, group_id)
            self._remove(conn, group, members, delete_instances, now)
            conn.execute("UPDATE ccev2_instances SET group_id = '' WHERE group_id = ?", (group_id,))
            conn.execute("DELETE FROM ccev2_instance_groups WHERE group_id = ?", (group_id,))

    def group_instances(
        self, cluster_id: str, group_id: str, page: PageAsk
    ) -> tuple[list[StoredInstance], int]:
        self.settle()
        with self._db.read() as conn:
            _live_cluster_row(conn, cluster_id)
            _group_row(conn, cluster_id, group_id)
            rows = conn.execute(
                "SELECT * FROM ccev2_instances WHERE group_id = ? ORDER BY seq", (group_id,)
            ).fetchall()
        found = [_instance(row) for row in rows]
        return page.cut(found), len(found)

    # -- everything, for the admin state ---------------------------------------------------

    def everything(self) -> tuple[list[StoredCluster], list[StoredGroup], list[StoredInstance]]:
        self.settle()
        with self._db.read() as conn:
            clusters = conn.execute(f"{_CLUSTER_SELECT} ORDER BY seq").fetchall()
            groups = conn.execute(f"{_GROUP_SELECT} ORDER BY seq").fetchall()
            instances = conn.execute("SELECT * FROM ccev2_instances ORDER BY seq").fetchall()
        return (
            [_cluster(r) for r in clusters],
            [_group(r) for r in groups],
            [_instance(r) for r in instances],
        )

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
            for item in list_at(body, key, ""):
                where = f"{key}[]."
                instance_set = _as_obj(item, f"{key}[]")
                template = instance_template(obj_at(instance_set, "instanceSpec", where), where)
                count = 1 if template["existed"] else int_at(instance_set, "count", where) or 0
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
    ) -> None:
        if fate is None:
            fate = self._fate(self._settings.current.create_failure_rate, CREATE_FAILED, RUNNING)
        template = group.spec["instanceTemplate"]
        self._add_instance(conn, group.cluster_id, template, NODE, group, fate, now)

    def _add_instance(
        self,
        conn: sqlite3.Connection,
        cluster_id: str,
        template: Json,
        role: str,
        group: StoredGroup | None,
        fate: str,
        now: float,
    ) -> None:
        cce_id = self._new_id(conn, "ccev2_instances", "cce_instance_id", f"{cluster_id}-", True)
        machine_id = self._machine_id(conn, template)
        spec = dict(template)
        put(spec, "cceInstanceID", cce_id)
        put(spec, "instanceName", text_at(template, "instanceName", "") or cce_id)
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

    def _machine_id(self, conn: sqlite3.Connection, template: Json) -> str:
        if not template.get("existed"):
            return self._new_id(conn, "ccev2_instances", "machine_id", "i-")
        existing = text_at(obj_at(template, "existedOption", ""), "existedInstanceID", "")
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


def _anything_due(conn: sqlite3.Connection, now: float) -> bool:
    found = conn.execute(
        "SELECT 1 FROM ccev2_clusters WHERE due <= ?1"
        " UNION ALL SELECT 1 FROM ccev2_instances WHERE due <= ?1 LIMIT 1",
        (now,),
    ).fetchone()
    return found is not None


def _settle(conn: sqlite3.Connection, now: float) -> None:
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
    gone = "SELECT cluster_id FROM ccev2_clusters WHERE phase = 'deleted'"
    conn.execute(f"DELETE FROM ccev2_instances WHERE phase = 'deleted' OR cluster_id IN ({gone})")
    conn.execute(f"DELETE FROM ccev2_instance_groups WHERE cluster_id IN ({gone})")


def _live_cluster_row(conn: sqlite3.Connection, cluster_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        f"{_CLUSTER_SELECT} WHERE cluster_id = ? AND phase != ?", (cluster_id, DELETED)
    ).fetchone()
    if row is None:
        raise V2Error(CLUSTER_NOT_FOUND, f"ClusterID [{cluster_id}] not exists")
    return row


def _running_cluster(conn: sqlite3.Connection, cluster_id: str) -> sqlite3.Row:
    row = _live_cluster_row(conn, cluster_id)
    if row["phase"] != RUNNING:
        raise V2Error(NOT_ALLOWED, f"cluster {cluster_id} is {row['phase']}, not running")
    return row


def _group_row(conn: sqlite3.Connection, cluster_id: str, group_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        f"{_GROUP_SELECT} WHERE group_id = ? AND cluster_id = ?", (group_id, cluster_id)
    ).fetchone()
    if row is None:
        raise V2Error(NO_SUCH_OBJECT, f"instance group [{group_id}] of [{cluster_id}] not exists")
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

"""Kubernetes clusters of the v1 API. Only the worker count can change in place (scalingUp /
scalingDown); the v1 API cannot change anything else of a cluster, so every other declared
field forces a replacement (as the Terraform provider's ForceNew does). The id comes from the
API; a create has no client token, so a lost answer is settled by reading by name.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from reconciler import waiters
from reconciler.errors import (
    BusyError,
    NotFoundError,
    OutcomeUnknownError,
    ReconcilerError,
)
from reconciler.kinds.base import (
    BROKEN,
    FAILED_CREATE,
    HEALTHY,
    ClusterAccess,
    ConfigView,
    Kind,
    LiveObject,
    NotConvertible,
    Operations,
    PlanView,
    Problem,
    ReadAhead,
    RefreshContext,
    TaintedError,
    TerraformRecord,
    TerraformSecret,
    TerraformType,
    cidr_problem,
    create_once,
    drop_none,
    normal_cidr,
    scale_step,
    status_of,
    terraform_int,
    terraform_text,
    terraform_value,
)
from reconciler.kinds.fields import (
    CREATE_ONLY,
    IN_PLACE,
    Field,
    Section,
    boolean,
    choice,
    integer,
    text,
)
from reconciler.model import Address, DesiredState, Spec
from reconciler.plan import ScaleStep
from reconciler.probes import SKIPPED, Check, Doctor, Phase, Probe, check_credentials, page_summary
from reconciler.wording import show

if TYPE_CHECKING:
    from reconciler.client.v1 import CceClient
    from reconciler.client.v1_types import Cluster, Node
    from reconciler.diff import FieldChange
    from reconciler.plan import Change
    from reconciler.state import ResourceState

SCALE_FIELD = "workers.count"
VERSIONS_FACT = "cluster.versions"  # RefreshContext.facts: the versions the v1 API offers
QUOTA_FACT = "cluster.quota"  # RefreshContext.facts: the account's cluster and node quota
ADMIN_PASSWORD = "workers.adminPassword"
# Statuses after which the object no longer exists for planning purposes.
GONE_STATUSES = frozenset({"DELETED", "DELETING"})
BROKEN_STATUSES = frozenset({"CREATE_FAILED", "ERROR", "DELETE_FAILED"})

CREATED = waiters.Waiter(
    "creating",
    {
        "RUNNING": waiters.SUCCESS,
        "CREATE_FAILED": waiters.FAILURE,
        "ERROR": waiters.FAILURE,
        "DELETING": waiters.FAILURE,
        "DELETED": waiters.FAILURE,
        waiters.GONE: waiters.FAILURE,
    },
)
DELETED = waiters.Waiter(
    "deleting",
    {"DELETED": waiters.SUCCESS, waiters.GONE: waiters.SUCCESS, "DELETE_FAILED": waiters.FAILURE},
)
SCALED = waiters.Waiter(
    "scaling",
    {
        "RUNNING": waiters.SUCCESS,
        "ERROR": waiters.FAILURE,
        "DELETED": waiters.FAILURE,
        waiters.GONE: waiters.FAILURE,
    },
)
NOT_BUSY = waiters.Waiter(
    "waiting for a busy cluster",
    {
        "RUNNING": waiters.SUCCESS,
        "CREATE_FAILED": waiters.SUCCESS,
        "ERROR": waiters.SUCCESS,
        "DELETED": waiters.SUCCESS,
        waiters.GONE: waiters.SUCCESS,
    },
)


def node_dict(node: Node) -> dict[str, Any]:
    return {
        "id": node.instance_short_id,
        "status": node.status,
        "instanceType": node.instance_type,
        "cpu": node.cpu,
        "memory": node.memory,
        "createTime": node.create_time,
    }


def live_attrs(cluster: Cluster, nodes: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Normalise a cluster (list item or detail) and its nodes (None: not read, the cluster's
    own count stands) to the desired attribute shape. Values are the typed reader's; an
    optional key the answer left out stays out (compared with what was applied instead)."""
    said = cluster.raw  # which optional keys the answer had

    def optional(key: str, value: Any) -> Any:
        return value if said.get(key) is not None else None

    workers: dict[str, Any] = {"count": cluster.slave_vm_count}
    if nodes is not None:
        workers["count"] = len(staying(nodes))
    if nodes:
        first = nodes[0]
        for key in ("instanceType", "cpu", "memory"):
            if first.get(key) not in (None, ""):
                workers[key] = str(first[key]) if key == "instanceType" else first[key]
    advanced = said.get("advancedOptions")
    attrs: dict[str, Any] = {
        "name": cluster.cluster_name,
        "version": optional("version", cluster.version),
        "mainAvailableZone": optional("mainAvailableZone", cluster.main_available_zone),
        "containerNet": normal_cidr(cluster.container_net) if cluster.container_net else None,
        "comment": optional("comment", cluster.comment),
        # a JSON object (checked by the reader); kept as JSON, lists and all
        "advancedOptions": _thawed(advanced) if advanced else None,
        "workers": workers,
    }
    return drop_none(attrs)


def _thawed(value: Any) -> Any:
    """Read-only parsed JSON (mappings, tuples) as plain JSON, to compare with declared values."""
    if isinstance(value, Mapping):
        return {k: _thawed(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_thawed(v) for v in value]
    return value


def staying(nodes: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The nodes that count as workers (not being deleted)."""
    return [n for n in nodes if n.get("status") not in GONE_STATUSES]


def count_doubt(cluster: Cluster, nodes: list[Node], listed_in: str, nodes_from: str) -> str:
    """Why the cluster's own worker count and its node list cannot both be right, or ""."""
    listed = len([n for n in nodes if n.status not in GONE_STATUSES])
    if cluster.slave_vm_count in (listed, len(nodes)):
        return ""
    return (
        f"the answers do not agree: {listed_in} says slaveVmCount {cluster.slave_vm_count} "
        f"for {cluster.cluster_uuid}, "
        f"but {nodes_from} lists {listed} worker node(s); a node count is never changed from "
        "answers that disagree"
    )


def bcc_config(attrs: Mapping[str, Any], count: int, admin_password: str | None) -> dict[str, Any]:
    """One BCC item of an ``orderContent``: the worker order of a create or a scale-up."""
    w = attrs.get("workers", {})
    config: dict[str, Any] = {
        "productType": w.get("productType", "postpay"),
        "logicalZone": w.get("logicalZone", attrs.get("mainAvailableZone")),
        "instanceType": w.get("instanceType"),
        "gpuCount": 0,
        "cpu": w.get("cpu"),
        "memory": w.get("memory"),
        "imageType": w.get("imageType", "common"),
        "subnetUuid": w.get("subnetUuid"),
        "securityGroupId": w.get("securityGroupId"),
        "purchaseNum": count,
        "imageId": w.get("imageId"),
        "serviceType": "BCC",
    }
    if "rootDiskSizeInGb" in w:
        config["rootDiskSizeInGb"] = w["rootDiskSizeInGb"]
    if "rootDiskStorageType" in w:
        config["rootDiskStorageType"] = w["rootDiskStorageType"]
    if admin_password:
        config["adminPass"] = admin_password
    return config


def cluster_body(attrs: Mapping[str, Any], admin_password: str | None) -> dict[str, Any]:
    """The body of ``POST /v1/cluster`` for the declared attributes."""
    count = int(attrs.get("workers", {}).get("count", 0))
    body: dict[str, Any] = {
        "clusterName": attrs["name"],
        "version": attrs["version"],
        "mainAvailableZone": attrs["mainAvailableZone"],
        "containerNet": attrs["containerNet"],
        "deployMode": attrs.get("deployMode", "BCC"),
        "orderContent": {
            "items": [{"config": bcc_config(attrs, count, admin_password)}] if count else []
        },
    }
    if attrs.get("comment") is not None:
        body["comment"] = attrs["comment"]
    if attrs.get("advancedOptions"):
        body["advancedOptions"] = dict(attrs["advancedOptions"])
    return body


# ``baiducloud_cce_cluster`` (terraform-baiducloud-state.md 2.5). The provider refreshes none of
# the declared fields: these are what it last planned.
WORKER = "worker_config.0."
TERRAFORM = TerraformType(
    "baiducloud_cce_cluster",
    secrets={
        WORKER + "admin_pass": TerraformSecret(ADMIN_PASSWORD, "CLUSTER_ADMIN_PASSWORD"),
        "master_config.0.admin_pass": TerraformSecret(),
    },
    no_field={
        "master_config": None,
        WORKER + "eip": None,
        WORKER + "cds_disks": None,
        WORKER + "keypair_id": None,
        WORKER + "gpu_card": None,
        WORKER + "gpu_count": None,
        WORKER + "purchase_length": None,
        WORKER + "auto_renew": None,
        "delete_eip_cds": True,  # what a delete here does too
        "delete_snapshots": True,
    },
)


def terraform_workers(attributes: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """``worker_config``'s order as ``workers`` attributes, and its zone (None: no worker)."""
    counts = terraform_value(attributes, WORKER + "count")
    counts = counts if isinstance(counts, dict) else {}
    if len(counts) > 1:
        raise NotConvertible(
            f"its workers are in {len(counts)} zones ({', '.join(sorted(counts))}); a cluster "
            "here orders its workers in one zone"
        )
    zone = next(iter(counts), None)
    subnets = terraform_value(attributes, WORKER + "subnet_uuid")
    instance_type = terraform_value(attributes, WORKER + "instance_type")
    workers = {
        "count": sum(int(n) for n in counts.values() if isinstance(n, int | float)),
        "instanceType": str(instance_type) if instance_type not in (None, "") else None,
        "cpu": terraform_int(attributes, WORKER + "cpu"),
        "memory": terraform_int(attributes, WORKER + "memory"),
        "imageId": terraform_text(attributes, WORKER + "image_id"),
        "subnetUuid": subnets.get(zone) if isinstance(subnets, dict) and zone else None,
        "securityGroupId": terraform_text(attributes, WORKER + "security_group_id"),
        "productType": terraform_text(attributes, WORKER + "product_type"),
        "imageType": terraform_text(attributes, WORKER + "image_type"),
        "logicalZone": zone,
        "rootDiskSizeInGb": terraform_int(attributes, WORKER + "root_disk_size_in_gb") or None,
        "rootDiskStorageType": terraform_text(attributes, WORKER + "root_disk_storage_type"),
    }
    return drop_none(workers), zone


def worker_count(attrs: Mapping[str, Any]) -> int:
    return int(attrs.get("workers", {}).get("count", 0))


def _growth(desired: DesiredState | None, live: list[LiveObject], kind: Kind) -> tuple[int, int]:
    """(clusters created, worker nodes added) if every declared cluster is applied; deletes
    are not subtracted (they may run after the creates). (0, 0): no quota is needed."""
    if desired is None:
        return 0, 0
    running = {o.address.name: o for o in live if not kind.is_gone(o)}
    clusters = nodes = 0
    for spec in desired.of_kind(kind.name):
        want = worker_count(spec.attrs)
        have = running.get(spec.name)
        if have is None:
            clusters += 1
            nodes += want
        else:
            nodes += max(0, want - worker_count(have.attrs))
    return clusters, nodes


NAME = "^[A-Za-z][A-Za-z0-9_./-]{0,64}$"
ZONE = "^zone[A-Z]$"
CIDR = "^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$"

ADVANCED_OPTIONS = (
    Field(
        "kubeProxyMode",
        "kube-proxy mode",
        "ipvs or iptables.",
        choice("ipvs", "iptables"),
        doc="`ipvs` or `iptables`",
    ),
    Field(
        "cniMode",
        "CNI mode",
        "kubenet or cni.",
        choice("kubenet", "cni"),
        doc="`kubenet` or `cni`",
    ),
    Field(
        "cniType",
        "CNI type",
        "The CNI plugin when cniMode is cni.",
        text(min_length=1),
        doc="the CNI plugin when `cniMode` is `cni`",
    ),
    Field(
        "dnsMode",
        "DNS mode",
        "kubeDNS or coreDNS.",
        choice("kubeDNS", "coreDNS"),
        doc="`kubeDNS` or `coreDNS`",
    ),
    Field(
        "maxPodNum",
        "Maximum pods per node",
        "The maximum number of pods on one node.",
        integer(minimum=1),
        doc="pods per node, >= 1",
    ),
    Field(
        "secureContainerEnable",
        "Secure containers",
        "Run pods in secure (sandboxed) containers.",
        boolean(),
        doc="`true` / `false`: run pods in secure (sandboxed) containers",
    ),
    Field(
        "setOSSecurity",
        "OS security hardening",
        "Apply the OS security baseline to the nodes.",
        boolean(),
        doc="`true` / `false`: apply the OS security baseline to the nodes",
    ),
)

WORKERS = (
    Field(
        "count",
        "Count",
        "Number of worker nodes, 0-1000; the only field that changes in place (scale up / down).",
        integer(minimum=0, maximum=1000),
        required=True,
        change=IN_PLACE,
        why="scalingUp / scalingDown; a scale-down names the newest nodes",
        wire="orderContent.items[].config.purchaseNum",
        doc="0-1000",
        placeholder=0,
    ),
    Field(
        "instanceType",
        "Instance type",
        'The numeric BCC instance type code, e.g. "10" (a number is accepted too).',
        {"type": ["string", "integer"], "pattern": "^[0-9]+$", "minimum": 0},
        required=True,
        normalize=str,
        wire="instanceType",
        doc='numeric code such as `"10"`; a bare number is accepted',
        placeholder="10",
    ),
    Field(
        "cpu",
        "CPU cores",
        "CPU cores per node.",
        integer(minimum=1),
        required=True,
        wire="cpu",
        doc="cores per node, >= 1",
        placeholder=4,
    ),
    Field(
        "memory",
        "Memory (GB)",
        "Memory per node in GB.",
        integer(minimum=1),
        required=True,
        wire="memory",
        doc="GB per node, >= 1",
        placeholder=8,
    ),
    # the v1 API never reports the next three: export writes placeholders, which matter only
    # for nodes added later (the planner compares them with what state recorded as applied)
    Field(
        "imageId",
        "Image id",
        "The OS image of the nodes, e.g. m-xxxx.",
        text(min_length=1),
        required=True,
        wire="imageId",
        doc="`m-...`",
        placeholder="m-UNKNOWN",
    ),
    Field(
        "subnetUuid",
        "Subnet",
        "The subnet of the nodes, e.g. sbn-xxxx.",
        text(min_length=1),
        required=True,
        wire="subnetUuid",
        doc="`sbn-...`",
        placeholder="sbn-UNKNOWN",
    ),
    Field(
        "securityGroupId",
        "Security group",
        "The security group of the nodes, e.g. g-xxxx.",
        text(min_length=1),
        required=True,
        wire="securityGroupId",
        doc="`g-...`",
        placeholder="g-UNKNOWN",
    ),
    Field(
        "productType",
        "Billing",
        "postpay (pay as you go) or prepay. Default postpay.",
        choice("postpay", "prepay"),
        default="postpay",
        wire="productType",
        doc="`postpay` (default) or `prepay`",
    ),
    Field(
        "imageType",
        "Image type",
        "The kind of image, e.g. common. Default common.",
        text(min_length=1),
        default="common",
        wire="imageType",
        doc="default `common`",
    ),
    Field(
        "logicalZone",
        "Zone",
        "The zone of the nodes when not the main one, e.g. zoneB.",
        text(ZONE),
        wire="logicalZone",
        doc="`zoneA` ... `zoneZ`; default the main zone",
    ),
    Field(
        "rootDiskSizeInGb",
        "Root disk size (GB)",
        "Size of the system disk in GB.",
        integer(minimum=1),
        wire="rootDiskSizeInGb",
        doc="GB, >= 1",
    ),
    Field(
        "rootDiskStorageType",
        "Root disk type",
        "sata, ssd or premium_ssd.",
        choice("sata", "ssd", "premium_ssd"),
        wire="rootDiskStorageType",
        doc="`sata`, `ssd` or `premium_ssd`",
    ),
    Field(
        "adminPassword",
        "Admin password",
        "The nodes' root password, by reference only: {env: NAME} or {file: PATH}.",
        secret=True,
        change=CREATE_ONLY,
        why="it applies only to nodes created from then on",
        wire="adminPass",
        doc="a [secret reference](#secrets)",
    ),
)


def cluster_status(client: CceClient, cloud_id: str) -> Callable[[], str]:
    """Reads the cluster's status (``waiters.GONE`` once it is not found)."""
    return status_of(lambda: client.get_cluster(cloud_id).status)


def _live_facts(client: CceClient, cloud_id: str) -> dict[str, Any] | None:
    """The cluster and its node list: what ``ClusterKind.read_one`` reads, plus the master
    count its ``LiveObject`` leaves out."""
    try:
        cluster = client.get_cluster(cloud_id)
        gone = cluster.status in GONE_STATUSES
        nodes = () if gone else client.list_nodes(cloud_id)
    except NotFoundError:
        return None
    alive = [n.instance_short_id for n in nodes if n.status not in GONE_STATUSES]
    return {
        "status": cluster.status,
        "masterCount": cluster.master_vm_count,
        "workerCount": len(alive),
        "nodeIds": alive,
    }


OUTPUTS = ClusterAccess(
    running="RUNNING",
    default_type="public",
    # the v1 API's ``default`` is the public (EIP) address
    api_types={
        "public": "default",
        "internal": "internal",
        "intraVpc": "intraVpc",
        "vpc": "intraVpc",
    },
    live_fields=("status", "masterCount", "workerCount", "nodeIds"),
    status=cluster_status,
    facts=_live_facts,
    fetch=lambda client, cloud_id, api_type: client.get_kubeconfig(cloud_id, api_type),
)


# --- reconciler doctor ----------------------------------------------------------------------


def _probe_clusters(doctor: Doctor) -> None:
    """One signed GET of the cluster list: the credentials, the clock and the list's shape."""
    from reconciler.client import v1  # when doctor runs: validate needs no client
    from reconciler.client.v1_types import Cluster

    response = check_credentials(doctor, v1.CLUSTER_PATH)
    if response is None:
        return
    doctor.found["clusters"] = doctor.shaped(
        "clusters",
        response,
        lambda d: v1.parse_page(d, v1.CLUSTERS_KEY, Cluster.from_json),
        v1.CLUSTER_PATH,
        page_summary(v1.CLUSTERS_KEY),
    )


def _probe_nodes(doctor: Doctor) -> None:
    from reconciler.client import v1  # when doctor runs: validate needs no client
    from reconciler.client.v1_types import Node

    clusters = doctor.found.get("clusters")
    where = f"GET {v1.NODE_PATH}"
    live = [c for c in clusters.items if c.status not in GONE_STATUSES] if clusters else []
    if not live:
        doctor.add(Check("nodes", SKIPPED, where, "no live cluster to list the nodes of"))
        return
    with doctor.answer("nodes", where):
        doctor.first_page(
            "nodes",
            v1.NODE_PATH,
            v1.nodes_query(live[0].cluster_uuid),
            v1.NODES_KEY,
            Node.from_json,
        )


def _probe_quota(doctor: Doctor) -> None:
    from reconciler.client import v1  # when doctor runs: validate needs no client
    from reconciler.client.v1_types import Quota

    doctor.optional(
        "quota",
        v1.CLUSTER_PATH,
        dict(v1.QUOTA_QUERY),
        "quota call",  # known only from third-party code: it may not exist
        Quota.from_json,
        lambda q: f"clusters {q.cluster_used}/{q.cluster}, workers {q.slave_used}/{q.slave}",
    )


def _probe_versions(doctor: Doctor) -> None:
    from reconciler.client import v1  # when doctor runs: validate needs no client

    doctor.optional(
        "versions",
        v1.VERSIONS_PATH,
        None,
        "version list",
        v1.versions_from,
        lambda v: ", ".join(v) or "none",
    )


PROBES = (
    Probe("clusters", Phase.REACH, _probe_clusters),
    Probe("nodes", Phase.DETAILS, _probe_nodes),
    Probe("quota", Phase.FACTS, _probe_quota),
    Probe("versions", Phase.FACTS, _probe_versions),
)


# What the v1 API never reports of the workers, and what export writes for it instead.
UNREPORTED = {f.key: f.placeholder for f in WORKERS if str(f.placeholder).endswith("-UNKNOWN")}


class ClusterKind(Kind):
    name = "cluster"
    section = Section("clusters", "Clusters", "Kubernetes clusters and their workers.")
    identity = ("name",)
    title = "Cluster"
    summary = (
        "A CCE Kubernetes cluster and its worker nodes (address cluster.<name>). Only "
        "workers.count can change in place; other changes replace the cluster."
    )
    fields = (
        Field(
            "name",
            "Name",
            '1-65 letters, digits, "-", "_", "/" or ".", starting with a letter.',
            text(NAME),
            required=True,
            wire="clusterName",
            doc="same format as a repository name",
        ),
        Field(
            "version",
            "Kubernetes version",
            'The Kubernetes version, quoted, e.g. "1.20.8".',
            text("^[0-9]+\\.[0-9]+\\.[0-9]+$"),
            required=True,
            wire="version",
            doc='Kubernetes version, quoted: `"1.20.8"`',
        ),
        Field(
            "mainAvailableZone",
            "Main availability zone",
            "The zone of the master and of the workers by default, e.g. zoneA.",
            text(ZONE),
            required=True,
            wire="mainAvailableZone",
            doc="`zoneA` ... `zoneZ`",
        ),
        Field(
            "containerNet",
            "Container network",
            "The pod network, an IPv4 CIDR such as 172.16.0.0/16; it must not overlap the VPC.",
            text(CIDR),
            required=True,
            normalize=normal_cidr,
            wire="containerNet",
            doc="an IPv4 network, `172.16.0.0/16` (no host bits set)",
        ),
        Field(
            "deployMode",
            "Deploy mode",
            "BCC (cloud servers) or DCC (dedicated hosts). Default BCC.",
            choice("BCC", "DCC"),
            default="BCC",
            wire="deployMode",
            doc="`BCC` (default) or `DCC`",
        ),
        Field(
            "comment",
            "Comment",
            "Free text shown in the console.",
            text(),
            wire="comment",
            doc="free text",
        ),
        Field(
            "advancedOptions",
            "Advanced options",
            "Network and security options of the cluster, passed to CCE as given.",
            fields=ADVANCED_OPTIONS,
            wire="advancedOptions",
            doc="network and security options, passed to CCE as given: the keys below",
        ),
        Field(
            "workers",
            "Workers",
            "The worker nodes: how many, and the BCC instance each one is.",
            required=True,
            fields=WORKERS,
            wire="orderContent.items[].config",
            doc="the worker order: the keys below",
        ),
    )
    default_timeout = 1800.0
    export_reads_one = True
    cluster_access = OUTPUTS
    terraform = TERRAFORM
    export_note = (
        "The v1 API does not report workers.imageId, subnetUuid or securityGroupId: the\n"
        "*-UNKNOWN placeholders only matter for nodes added later; replace them first\n"
        "(a plan adding nodes refuses them)."
    )

    # --- planning ----------------------------------------------------------------------------

    def probes(self) -> tuple[Probe, ...]:
        return PROBES

    def config_problems(self, view: ConfigView) -> Iterator[Problem]:
        """Each container network is a network (the schema checks only its shape)."""
        for item in view.items_of(self.name):
            text = item.data.get("containerNet")
            if isinstance(text, str) and view.clean(item, "containerNet"):
                problem = cidr_problem(text)
                if problem:
                    yield (
                        item.at("containerNet"),
                        f"{item.label} containerNet {show(text)} is invalid: {problem}",
                    )

    def refusal(self, spec: Spec, view: PlanView) -> str | None:
        """A version the API does not offer (its version list, read when a declared version is
        new); Cce.ContainerNetConflict: a pod network overlapping another declared cluster's or
        a live cluster's (other than those of this address: the one being replaced, or one
        that is already a conflict)."""
        unexported = self._placeholder_problem(spec, view)
        if unexported:
            return unexported
        quota = view.facts.get(QUOTA_FACT)
        if quota is not None:
            clusters, nodes = _growth(view.desired, view.live_objects.get(self.name, []), self)
            if clusters and quota.cluster_used + clusters > quota.cluster:
                return (
                    f"the plan creates {clusters} cluster(s) and {quota.cluster_used} of the "
                    f"account's {quota.cluster} exist (Cce.ClusterOverQuota)"
                )
            if nodes and quota.slave_used + nodes > quota.slave:
                return (
                    f"the plan adds {nodes} worker node(s) and {quota.slave_used} of the "
                    f"account's {quota.slave} exist (Cce.slaveOverQuota)"
                )
        offered = view.facts.get(VERSIONS_FACT)
        version = spec.attrs["version"]
        if offered and version not in offered:
            return (
                f"version {version} is not one the API offers ({', '.join(offered)}; "
                "Cce.IllegalArguments)"
            )
        mine = ipaddress.ip_network(spec.attrs["containerNet"], strict=False)
        own = view.managed.get(spec.address)
        others = [
            (str(o.address), o.attrs.get("containerNet"))
            for o in view.live_objects.get(self.name, [])
            if o.cloud_id != own and o.address != spec.address
        ] + [
            (str(s.address), s.attrs["containerNet"])
            for s in view.desired.of_kind(self.name)
            if s.address != spec.address
        ]
        for name, net in others:
            if net and mine.overlaps(ipaddress.ip_network(normal_cidr(net), strict=False)):
                return (
                    f"containerNet {mine} overlaps {name}'s {normal_cidr(net)} "
                    "(Cce.ContainerNetConflict)"
                )
        return None

    def _placeholder_problem(self, spec: Spec, view: PlanView) -> str | None:
        """Nodes to add while workers still carry export's ``*-UNKNOWN`` placeholders: the API
        would reject ids that do not exist, so the plan refuses it now."""
        workers = spec.attrs["workers"]
        unknown = [f"workers.{k}" for k, v in UNREPORTED.items() if workers.get(k) == v]
        if not unknown:
            return None
        live = next(
            (o for o in view.live_objects.get(self.name, []) if o.address == spec.address), None
        )
        have = worker_count(live.attrs) if live is not None else 0
        want = worker_count(spec.attrs)
        if want <= have:
            return None
        return (
            f"it adds {want - have} worker node(s), but {', '.join(unknown)} still hold the "
            "placeholders `reconciler export` wrote (the v1 API never reports them): the new "
            "nodes need real ids; set them first"
        )

    def is_gone(self, live: LiveObject) -> bool:
        return live.status in GONE_STATUSES

    def health(self, live: LiveObject) -> str:
        if live.status == "CREATE_FAILED":
            return FAILED_CREATE
        if live.status in BROKEN_STATUSES:
            return BROKEN
        return HEALTHY

    def is_ready(self, live: LiveObject) -> bool:
        return live.status == "RUNNING" or self.health(live) != HEALTHY or self.is_gone(live)

    def settle(self, ops: Operations, change: Change, entry: ResourceState) -> None:
        ops.wait(change.address, CREATED, cluster_status(ops.client, entry.cloud_id))

    def update_step(
        self, change_fields: Iterable[FieldChange], live: LiveObject
    ) -> ScaleStep | None:
        def newest() -> list[str]:
            nodes = staying(live.details.get("nodes", []))
            ordered = sorted(nodes, key=lambda n: (n.get("createTime", ""), n.get("id", "")))
            return [n["id"] for n in reversed(ordered)]

        return scale_step(change_fields, SCALE_FIELD, live, newest)

    def from_terraform(
        self, attributes: Mapping[str, Any], found: Mapping[str, list[LiveObject]]
    ) -> TerraformRecord:
        name, cloud_id = (
            terraform_text(attributes, "cluster_name"),
            terraform_text(attributes, "id"),
        )
        if not name or not cloud_id:
            raise NotConvertible("cannot name it: Terraform recorded no cluster_name or id")
        workers, zone = terraform_workers(attributes)
        notes = []
        main_zone = terraform_text(attributes, "main_available_zone")
        if main_zone is None and zone is not None:
            main_zone = zone
            notes.append(
                f"mainAvailableZone: Terraform recorded none; written as {zone}, the zone of "
                "its workers (plan --adopt shows the cloud's value if it differs)"
            )
        net = terraform_text(attributes, "container_net")
        options = terraform_value(attributes, "advanced_options")
        attrs = {
            "name": name,
            "version": terraform_text(attributes, "version"),
            "mainAvailableZone": main_zone,
            "containerNet": normal_cidr(net) if net else None,
            "comment": terraform_text(attributes, "comment"),
            "advancedOptions": dict(options) if isinstance(options, dict) and options else None,
            "workers": workers,
        }
        status = terraform_text(attributes, "status") or ""
        live = LiveObject(Address(self.name, name), cloud_id, drop_none(attrs), status)
        return TerraformRecord(live, tuple(notes))

    # --- reading -----------------------------------------------------------------------------

    def live_object(
        self, cluster: Cluster, nodes: list[Node] | None, doubt: str = ""
    ) -> LiveObject:
        node_dicts = [node_dict(n) for n in nodes] if nodes is not None else None
        return LiveObject(
            Address(self.name, cluster.cluster_name),
            cluster.cluster_uuid,
            live_attrs(cluster, node_dicts),
            cluster.status,
            {"nodes": node_dicts or []},
            doubt,
        )

    def read_all(self, ctx: RefreshContext) -> list[LiveObject]:
        """One paged list of clusters, plus one node list per managed cluster, asked for at
        once with the cluster list (by the state's ids) and used for the clusters the list
        has, not gone (:class:`ReadAhead`)."""
        client = ctx.client
        wanted = ctx.managed_ids(self.name)
        with ReadAhead(ctx.parallelism, client.list_nodes, sorted(wanted)) as node_reads:
            clusters = client.list_clusters()
            with_nodes = [
                c.cluster_uuid
                for c in clusters
                if c.cluster_uuid in wanted and c.status not in GONE_STATUSES
            ]
            node_lists = node_reads.results(with_nodes)
        found = []
        for cluster in clusters:
            nodes = node_lists.get(cluster.cluster_uuid)
            doubt = (
                ""
                if nodes is None
                else count_doubt(cluster, list(nodes), clusters.origin(), nodes.origin())
            )
            found.append(
                self.live_object(cluster, list(nodes) if nodes is not None else None, doubt)
            )
        if self._new_versions(ctx, found):
            ctx.facts[VERSIONS_FACT] = tuple(client.list_versions())
        if _growth(ctx.desired, found, self) != (0, 0):
            ctx.facts[QUOTA_FACT] = client.get_quota()
        return found

    def _new_versions(self, ctx: RefreshContext, found: list[LiveObject]) -> bool:
        """True when a declared cluster asks for a version no live cluster of its name runs:
        only then is the API's version list read (an in-sync plan costs no request more)."""
        if ctx.desired is None:
            return False
        running = {(o.address.name, o.attrs.get("version")) for o in found if not self.is_gone(o)}
        return any(
            (s.name, s.attrs["version"]) not in running for s in ctx.desired.of_kind(self.name)
        )

    def read_one(self, client: CceClient, address: Address, cloud_id: str) -> LiveObject | None:
        try:
            cluster = client.get_cluster(cloud_id)
            if cluster.status in GONE_STATUSES:
                return self.live_object(cluster, [])
            nodes = client.list_nodes(cloud_id)
        except NotFoundError:
            return None
        doubt = count_doubt(cluster, list(nodes), f"GET /v1/cluster/{cloud_id}", nodes.origin())
        return self.live_object(cluster, list(nodes), doubt)

    # --- changing ----------------------------------------------------------------------------

    def create(self, ops: Operations, change: Change, entry: ResourceState) -> ResourceState:
        after = change.after or {}
        body = cluster_body(after, ops.secret(change, ADMIN_PASSWORD))
        cloud_id = create_once(
            ops,
            change,
            lambda: ops.client.create_cluster(body).cluster_uuid,
            lambda: [
                c.cluster_uuid
                for c in ops.client.list_clusters()
                if c.cluster_name == after["name"] and c.status not in GONE_STATUSES
            ],
        )
        ops.record_cloud_id(cloud_id)
        entry = entry.evolve(cloud_id=cloud_id)
        try:
            ops.wait(change.address, CREATED, cluster_status(ops.client, cloud_id))
        except waiters.WaitFailed as exc:
            if exc.last_status in BROKEN_STATUSES:
                raise TaintedError(
                    f"{change.address} ({cloud_id}) failed to create (status {exc.last_status}); "
                    "it is marked tainted and the next plan replaces it",
                    entry.evolve(tainted=True),
                ) from None
            raise
        return entry

    def update(self, ops: Operations, change: Change, entry: ResourceState) -> None:
        step, cloud_id = change.scale, entry.cloud_id
        if step is None:
            return
        if step.add:
            config = bcc_config(change.after or {}, step.add, ops.secret(change, ADMIN_PASSWORD))
            order = {"items": [{"config": config}]}
            self._scale(ops, change, cloud_id, lambda: ops.client.scale_up(cloud_id, order))
        elif step.remove:
            nodes = list(step.remove)
            self._scale(ops, change, cloud_id, lambda: ops.client.scale_down(cloud_id, nodes))

    def _scale(
        self, ops: Operations, change: Change, cloud_id: str, send: Callable[[], object]
    ) -> None:
        """Scale, then wait; a lost answer is settled by counting the nodes, never by a resend.
        The node list is read first: the step is sent only if it still leads from what is
        listed to the declared count (never removing more nodes than that, nor any node that
        is not listed)."""
        want = int((change.after or {}).get("workers", {}).get("count", 0))
        step = change.scale or ScaleStep()
        nodes = ops.client.list_nodes(cloud_id)
        ids = {n.instance_short_id for n in nodes if n.status not in GONE_STATUSES}
        if not set(step.remove) <= ids or len(ids) + step.add - len(step.remove) != want:
            raise ReconcilerError(
                f"{change.address}: {nodes.origin()} lists {len(ids)} worker node(s) "
                f"({', '.join(sorted(ids)) or 'none'}); the plan's step (add {step.add}, remove "
                f"{', '.join(step.remove) or 'none'}) would not leave the declared {want}; "
                "nothing was sent, plan again"
            )
        try:
            send()
        except OutcomeUnknownError:
            nodes = ops.client.list_nodes(cloud_id)
            if len([n for n in nodes if n.status not in GONE_STATUSES]) != want:
                raise
        ops.wait(change.address, SCALED, self._scaled(ops.client, cloud_id, want))

    def _scaled(self, client: CceClient, cloud_id: str, want: int) -> Callable[[], str]:
        """RUNNING once the cluster runs with exactly ``want`` nodes, all running: a scale is
        done when its nodes are, so a plan made right after sees what it will keep seeing."""
        of_cluster = cluster_status(client, cloud_id)

        def status() -> str:
            current = of_cluster()
            if current != "RUNNING":
                return current
            nodes = [n for n in client.list_nodes(cloud_id) if n.status not in GONE_STATUSES]
            if len(nodes) != want or any(n.status != "RUNNING" for n in nodes):
                return "SCALING"
            return "RUNNING"

        return status

    def delete(self, ops: Operations, address: Address, cloud_id: str) -> None:
        status = cluster_status(ops.client, cloud_id)
        for _ in range(ops.busy_retries):
            try:
                ops.client.delete_cluster(cloud_id, delete_eip_cds=True, delete_snap=True)
                break
            except BusyError:
                ops.wait(address, NOT_BUSY, status)
        ops.wait(address, DELETED, status)

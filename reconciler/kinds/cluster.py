"""Kubernetes clusters of the v1 API. Only the worker count can change in place (scalingUp /
scalingDown); the v1 API cannot change anything else of a cluster, so every other declared
field forces a replacement (as the Terraform provider's ForceNew does). The id comes from the
API; a create has no client token, so a lost answer is settled by reading by name.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from reconciler import waiters
from reconciler.errors import (
    BusyError,
    NotFoundError,
    OutcomeUnknownError,
    ReconcilerError,
    ShapeError,
)
from reconciler.kinds.base import (
    BROKEN,
    FAILED_CREATE,
    HEALTHY,
    Kind,
    LiveObject,
    NotConvertible,
    Operations,
    PlanView,
    RefreshContext,
    TaintedError,
    TerraformRecord,
    TerraformSecret,
    TerraformType,
    create_once,
    drop_none,
    secrets_of,
    terraform_int,
    terraform_text,
    terraform_value,
)
from reconciler.model import Address, ClusterSpec, DesiredState, SecretRef
from reconciler.plan import ScaleStep

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


def normal_cidr(text: str) -> str:
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        return text


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


def _growth(desired: DesiredState | None, live: list[LiveObject], kind: Kind) -> tuple[int, int]:
    """(clusters created, worker nodes added) if every declared cluster is applied; deletes
    are not subtracted (they may run after the creates). (0, 0): no quota is needed."""
    if desired is None:
        return 0, 0
    running = {o.address.name: o for o in live if not kind.is_gone(o)}
    clusters = nodes = 0
    for spec in desired.of_kind(kind.name):
        if not isinstance(spec, ClusterSpec):
            continue
        have = running.get(spec.name)
        if have is None:
            clusters += 1
            nodes += spec.workers.count
        else:
            nodes += max(0, spec.workers.count - int(have.attrs.get("workers", {}).get("count", 0)))
    return clusters, nodes


class ClusterKind(Kind):
    name = "cluster"
    spec_type = ClusterSpec
    replace_fields = frozenset(
        {
            "name",  # the v1 API cannot rename a cluster
            "version",
            "mainAvailableZone",
            "containerNet",
            "deployMode",
            "comment",
            "advancedOptions",
            "workers.instanceType",
            "workers.cpu",
            "workers.memory",
            "workers.imageId",
            "workers.subnetUuid",
            "workers.securityGroupId",
            "workers.productType",
            "workers.imageType",
            "workers.logicalZone",
            "workers.rootDiskSizeInGb",
            "workers.rootDiskStorageType",
        }
    )
    # a worker admin password only applies to nodes created from now on: never rotated
    rotatable_secrets = frozenset[str]()
    default_timeout = 1800.0
    config_section = "clusters"
    export_reads_one = True
    # What the v1 API never reports of the workers; an exported cluster gets placeholders,
    # used only for nodes added later (the planner compares them with the declared value).
    UNREPORTED = {
        "imageId": "m-UNKNOWN",
        "subnetUuid": "sbn-UNKNOWN",
        "securityGroupId": "g-UNKNOWN",
    }

    terraform = TERRAFORM

    # --- planning ----------------------------------------------------------------------------

    def desired_attrs(self, spec: ClusterSpec) -> dict[str, Any]:
        w = spec.workers
        return drop_none(
            {
                "name": spec.name,
                "version": spec.version,
                "mainAvailableZone": spec.main_available_zone,
                "containerNet": normal_cidr(spec.container_net),
                "deployMode": spec.deploy_mode,
                "comment": spec.comment,
                "advancedOptions": dict(spec.advanced_options),
                "workers": {
                    "count": w.count,
                    "instanceType": str(w.instance_type),
                    "cpu": w.cpu,
                    "memory": w.memory,
                    "imageId": w.image_id,
                    "subnetUuid": w.subnet_uuid,
                    "securityGroupId": w.security_group_id,
                    "productType": w.product_type,
                    "imageType": w.image_type,
                    "logicalZone": w.logical_zone,
                    "rootDiskSizeInGb": w.root_disk_size_gb,
                    "rootDiskStorageType": w.root_disk_storage_type,
                },
            }
        )

    def secret_refs(self, spec: ClusterSpec) -> dict[str, SecretRef]:
        return secrets_of({ADMIN_PASSWORD: spec.workers.admin_password})

    def refusal(self, spec: ClusterSpec, view: PlanView) -> str | None:
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
        if offered and spec.version not in offered:
            return (
                f"version {spec.version} is not one the API offers ({', '.join(offered)}; "
                "Cce.IllegalArguments)"
            )
        mine = ipaddress.ip_network(normal_cidr(spec.container_net), strict=False)
        own = view.managed.get(spec.address)
        others = [
            (str(o.address), o.attrs.get("containerNet"))
            for o in view.live_objects.get(self.name, [])
            if o.cloud_id != own and o.address != spec.address
        ] + [
            (str(s.address), s.container_net)
            for s in view.desired.of_kind(self.name)
            if isinstance(s, ClusterSpec) and s.address != spec.address
        ]
        for name, net in others:
            if net and mine.overlaps(ipaddress.ip_network(normal_cidr(net), strict=False)):
                return (
                    f"containerNet {mine} overlaps {name}'s {normal_cidr(net)} "
                    "(Cce.ContainerNetConflict)"
                )
        return None

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
        ops.wait(change.address, CREATED, self._status(ops.client, entry.cloud_id))

    def update_step(
        self, change_fields: Iterable[FieldChange], live: LiveObject
    ) -> ScaleStep | None:
        count = next((f for f in change_fields if f.path == SCALE_FIELD), None)
        if count is None:
            return None
        if live.doubt:
            raise ShapeError(f"{live.address}: {live.doubt}")
        before, after = int(count.before), int(count.after)
        if after >= before:
            return ScaleStep(add=after - before)
        nodes = sorted(
            staying(live.details.get("nodes", [])),
            key=lambda n: (n.get("createTime", ""), n.get("id", "")),
            reverse=True,
        )
        return ScaleStep(remove=tuple(n["id"] for n in nodes[: before - after]))

    def _placeholder_problem(self, spec: ClusterSpec, view: PlanView) -> str | None:
        """Nodes to add while workers still carry export's ``*-UNKNOWN`` placeholders: the API
        would reject ids that do not exist, so the plan refuses it now."""
        w = spec.workers
        declared = {
            "imageId": w.image_id,
            "subnetUuid": w.subnet_uuid,
            "securityGroupId": w.security_group_id,
        }
        unknown = [f"workers.{k}" for k, v in declared.items() if v == self.UNREPORTED[k]]
        if not unknown:
            return None
        live = next(
            (o for o in view.live_objects.get(self.name, []) if o.address == spec.address), None
        )
        have = int(live.attrs.get("workers", {}).get("count", 0)) if live is not None else 0
        if w.count <= have:
            return None
        return (
            f"it adds {w.count - have} worker node(s), but {', '.join(unknown)} still hold the "
            "placeholders `reconciler export` wrote (the v1 API never reports them): the new "
            "nodes need real ids; set them first"
        )

    def export_entry(self, live: LiveObject) -> dict[str, Any]:
        attrs = dict(live.attrs)
        workers = {
            "count": 0,
            "instanceType": "10",
            "cpu": 4,
            "memory": 8,
            **self.UNREPORTED,
            **dict(attrs.get("workers", {})),  # the API never reports what UNREPORTED holds
        }
        entry = {k: attrs[k] for k in ("name", "version", "mainAvailableZone", "containerNet")}
        for key in ("comment", "advancedOptions"):
            if attrs.get(key):
                entry[key] = attrs[key]
        entry["workers"] = workers
        return entry

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
        """One paged list of clusters, plus one node list per managed cluster (in parallel)."""
        client = ctx.client
        clusters = client.list_clusters()
        wanted = ctx.managed_ids(self.name)
        with_nodes = [
            c for c in clusters if c.cluster_uuid in wanted and c.status not in GONE_STATUSES
        ]
        workers = max(1, min(ctx.parallelism, len(with_nodes) or 1))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            node_lists = dict(
                zip(
                    [c.cluster_uuid for c in with_nodes],
                    pool.map(lambda c: client.list_nodes(c.cluster_uuid), with_nodes),
                    strict=True,
                )
            )
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
            (s.name, s.version) not in running
            for s in ctx.desired.of_kind(self.name)
            if isinstance(s, ClusterSpec)
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

    def _status(self, client: CceClient, cloud_id: str) -> Callable[[], str]:
        def status() -> str:
            try:
                return client.get_cluster(cloud_id).status
            except NotFoundError:
                return waiters.GONE

        return status

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
            ops.wait(change.address, CREATED, self._status(ops.client, cloud_id))
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
        cluster_status = self._status(client, cloud_id)

        def status() -> str:
            current = cluster_status()
            if current != "RUNNING":
                return current
            nodes = [n for n in client.list_nodes(cloud_id) if n.status not in GONE_STATUSES]
            if len(nodes) != want or any(n.status != "RUNNING" for n in nodes):
                return "SCALING"
            return "RUNNING"

        return status

    def delete(self, ops: Operations, address: Address, cloud_id: str) -> None:
        status = self._status(ops.client, cloud_id)
        for _ in range(ops.busy_retries):
            try:
                ops.client.delete_cluster(cloud_id, delete_eip_cds=True, delete_snap=True)
                break
            except BusyError:
                ops.wait(address, NOT_BUSY, status)
        ops.wait(address, DELETED, status)

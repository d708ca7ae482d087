"""Kubernetes clusters of the CCE v2 API (``k8s_cluster.NAME``): masters, network and runtime.
Their worker nodes are instance groups (``kinds/instance_group.py``), which live in a cluster.

The v2 API has no call that changes a cluster's spec (cce-v2-api.md 2), so every declared field
forces a replacement, tags included; only the delete options (what a delete releases) change in
place, in state alone. The id comes from the API and a create has no client token, so a lost
answer is settled by reading by name before anything is sent again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from reconciler import waiters
from reconciler.client.v2_types import (
    ClusterCreate,
    ClusterSpecBody,
    ContainerNetworkConfig,
    ManagedMasterOption,
    MasterConfig,
)
from reconciler.errors import NotFoundError
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
    terraform_int,
    terraform_text,
    terraform_value,
    v2_client,
)
from reconciler.kinds.cluster import normal_cidr
from reconciler.model import Address, K8sClusterSpec

if TYPE_CHECKING:
    from reconciler.client.v1 import CceClient
    from reconciler.client.v2 import CceV2Client
    from reconciler.client.v2_types import K8sCluster
    from reconciler.plan import Change
    from reconciler.state import ResourceState

RUNNING, CREATE_FAILED = "running", "create_failed"
DELETING, DELETED, DELETE_FAILED = "deleting", "deleted", "delete_failed"
# Phases after which the cluster no longer exists for planning purposes.
GONE_PHASES = frozenset({DELETING, DELETED})
BROKEN_PHASES = frozenset({DELETE_FAILED, "error"})

# What a delete releases with the cluster (the API's query flags). They are declared with the
# cluster but never reported by the API: changing them changes state only.
DELETE_OPTIONS = ("deleteResource", "deleteCDSSnapshot")

CREATED = waiters.Waiter(
    "creating",
    {
        RUNNING: waiters.SUCCESS,
        CREATE_FAILED: waiters.FAILURE,
        DELETING: waiters.FAILURE,
        DELETED: waiters.FAILURE,
        waiters.GONE: waiters.FAILURE,
    },
)
DELETED_WAIT = waiters.Waiter(
    "deleting",
    {DELETED: waiters.SUCCESS, waiters.GONE: waiters.SUCCESS, DELETE_FAILED: waiters.FAILURE},
)


def live_attrs(cluster: K8sCluster) -> dict[str, Any]:
    """A listed or read cluster in the shape of ``desired_attrs`` (server defaults included:
    they are compared only when declared). Only the typed reader's values are used: a field of
    the wrong type was a ShapeError when the answer was read."""
    return drop_none(
        {
            "name": cluster.cluster_name,
            "k8sVersion": cluster.k8s_version,
            "vpcID": cluster.vpc_id,
            "masterType": cluster.master_type,
            "clusterHA": cluster.cluster_ha,
            "masterVPCSubnetZone": cluster.master_subnet_zone or None,
            "runtimeType": cluster.runtime_type,
            "runtimeVersion": cluster.runtime_version or None,
            "networkMode": cluster.network_mode,
            "podCIDR": normal_cidr(cluster.pod_cidr) if cluster.pod_cidr else None,
            "serviceCIDR": normal_cidr(cluster.service_cidr) if cluster.service_cidr else None,
            "lbServiceVPCSubnetID": cluster.lb_service_subnet_id or None,
            "kubeProxyMode": cluster.kube_proxy_mode or None,
            "description": cluster.description,
            "tags": dict(cluster.tags),
        }
    )


def delete_flags(applied: Mapping[str, Any]) -> dict[str, bool]:
    """The delete options recorded in state; the spec's default (release) where none is."""
    return {key: bool(applied.get(key, True)) for key in DELETE_OPTIONS}


def create_request(attrs: Mapping[str, Any]) -> ClusterCreate:
    """The ``POST /cluster`` request for the declared attributes (managed masters, no nodes:
    the workers are instance groups)."""
    master = MasterConfig(
        attrs["masterType"],
        attrs.get("clusterHA", 0),
        managed_option=ManagedMasterOption(attrs.get("masterVPCSubnetZone", "")),
    )
    network = ContainerNetworkConfig(
        attrs["networkMode"],
        attrs.get("lbServiceVPCSubnetID", ""),
        cluster_pod_cidr=attrs.get("podCIDR", ""),
        cluster_ip_service_cidr=attrs.get("serviceCIDR", ""),
        kube_proxy_mode=attrs.get("kubeProxyMode", ""),
    )
    cluster = ClusterSpecBody(
        attrs["name"],
        attrs["k8sVersion"],
        attrs["vpcID"],
        master,
        network,
        description=attrs.get("description", ""),
        runtime_type=attrs.get("runtimeType", ""),
        runtime_version=attrs.get("runtimeVersion", ""),
        tags=dict(attrs.get("tags", {})),
    )
    return ClusterCreate(cluster)


# The Kubernetes versions the official Go SDK lists for v2 clusters (cce-v2-api.md, [SDK]).
K8S_VERSIONS = (
    "1.18.9",
    "1.20.8",
    "1.20.8-arm64",
    "1.21.14",
    "1.22.5",
    "1.24.4",
    "1.26.9",
    "1.28.8",
    "1.30.1",
    "1.31.1",
    "1.32.7",
    "1.34.2",
)


# ``baiducloud_ccev2_cluster`` attribute paths of the declared fields (terraform-baiducloud-
# state.md 2.2). The provider never refreshes ``cluster_spec``: these are what it last planned.
SPEC = "cluster_spec.0."
NETWORK = SPEC + "container_network_config.0."
MASTER = SPEC + "master_config.0."
TERRAFORM_TEXT = {
    "name": SPEC + "cluster_name",
    "k8sVersion": SPEC + "k8s_version",
    "vpcID": SPEC + "vpc_id",
    "masterType": MASTER + "master_type",
    "masterVPCSubnetZone": MASTER + "managed_cluster_master_option.0.master_vpc_subnet_zone",
    "runtimeType": SPEC + "runtime_type",
    "runtimeVersion": SPEC + "runtime_version",
    "networkMode": NETWORK + "mode",
    "podCIDR": NETWORK + "cluster_pod_cidr",
    "serviceCIDR": NETWORK + "cluster_ip_service_cidr",
    "lbServiceVPCSubnetID": NETWORK + "lb_service_vpc_subnet_id",
    "kubeProxyMode": NETWORK + "kube_proxy_mode",
    "description": SPEC + "description",
}
TERRAFORM_DELETE_OPTIONS = {
    "deleteResource": SPEC + "cluster_delete_option.0.delete_resource",
    "deleteCDSSnapshot": SPEC + "cluster_delete_option.0.delete_cds_snapshot",
}
TERRAFORM = TerraformType(
    "baiducloud_ccev2_cluster",
    secrets={
        "master_specs.*.master_spec.0.admin_password": TerraformSecret(),
        "node_group_specs.*.instance_template.0.admin_password": TerraformSecret(),
    },
    no_field={
        SPEC + "cluster_type": "normal",
        SPEC + "plugins": None,
        SPEC + "vpc_cidr": None,
        SPEC + "vpc_cidr_ipv6": None,
        SPEC + "k8s_custom_config": None,
        MASTER + "cluster_blb_vpc_subnet_id": None,
        MASTER + "cluster_blb_id": None,
        MASTER + "cluster_blb_eip": None,
        MASTER + "exposed_public": None,
        MASTER + "managed_cluster_master_option.0.master_vpc_subnet_uuid": None,
        MASTER + "managed_cluster_master_option.0.master_security_group_uuid": None,
        MASTER + "managed_cluster_master_option.0.master_flavor": None,
        MASTER + "managed_cluster_master_option.0.cluster_blb_source": None,
        NETWORK + "eni_vpc_subnet_ids": None,
        NETWORK + "eni_security_group_id": None,
        NETWORK + "ip_version": "ipv4",
        NETWORK + "cluster_pod_cidr_ipv6": None,
        NETWORK + "cluster_ip_service_cidr_ipv6": None,
        NETWORK + "max_pods_per_node": 128,
        NETWORK + "node_port_range_min": None,
        NETWORK + "node_port_range_max": None,
        NETWORK + "network_policy_type": "none",
        NETWORK + "enable_node_local_dns": None,
        NETWORK + "node_local_dns_addr": None,
        NETWORK + "net_device_driver": None,
        NETWORK + "enable_rdma": None,
        NETWORK + "enable_cv_eni": None,
        NETWORK + "ebpf_config": None,
        SPEC + "cluster_delete_option.0.batch_refund_resource": None,
        "master_specs": None,
        "node_group_specs": None,
        "metadata": None,
        "create_options": None,
        "api_server_cert_san": None,
        "kms_encryption": None,
    },
)


def terraform_attrs(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """A ``baiducloud_ccev2_cluster`` instance's attributes in the shape of ``live_attrs``
    (the same keys in the same order), plus the delete options Terraform recorded."""
    text = {key: terraform_text(attributes, path) for key, path in TERRAFORM_TEXT.items()}
    for key in ("podCIDR", "serviceCIDR"):
        cidr = text[key]
        text[key] = normal_cidr(cidr) if cidr else None
    ha = terraform_int(attributes, MASTER + "cluster_ha")
    tags = terraform_value(attributes, "tags")
    ordered: dict[str, Any] = {
        key: (ha or None) if key == "clusterHA" else text.get(key)
        for key in ("name", "k8sVersion", "vpcID", "masterType", "clusterHA", *text)
    }
    ordered["tags"] = {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else None
    for key, path in TERRAFORM_DELETE_OPTIONS.items():
        flag = terraform_value(attributes, path)
        ordered[key] = flag if isinstance(flag, bool) else None
    return drop_none(ordered)


class K8sClusterKind(Kind):
    name = "k8s_cluster"
    spec_type = K8sClusterSpec
    config_section = "k8s_clusters"
    read_with = ("instance_group",)
    api_name = "the CCE v2 API"
    # The v2 API changes nothing of a cluster's spec in place (it has no update call).
    replace_fields = frozenset(
        {
            "name",
            "k8sVersion",
            "vpcID",
            "masterType",
            "clusterHA",
            "masterVPCSubnetZone",
            "runtimeType",
            "runtimeVersion",
            "networkMode",
            "podCIDR",
            "serviceCIDR",
            "lbServiceVPCSubnetID",
            "kubeProxyMode",
            "description",
            "tags",
        }
    )
    default_timeout = 1800.0
    terraform = TERRAFORM

    # --- planning ----------------------------------------------------------------------------

    def desired_attrs(self, spec: K8sClusterSpec) -> dict[str, Any]:
        return drop_none(
            {
                "name": spec.name,
                "k8sVersion": spec.k8s_version,
                "vpcID": spec.vpc_id,
                "masterType": spec.master_type,
                "clusterHA": spec.master_ha,
                "masterVPCSubnetZone": spec.master_subnet_zone,
                "runtimeType": spec.runtime,
                "runtimeVersion": spec.runtime_version,
                "networkMode": spec.network_mode,
                "podCIDR": normal_cidr(spec.pod_cidr) if spec.pod_cidr else None,
                "serviceCIDR": normal_cidr(spec.service_cidr),
                "lbServiceVPCSubnetID": spec.lb_service_subnet_id,
                "kubeProxyMode": spec.kube_proxy_mode,
                "description": spec.description,
                "tags": dict(spec.tags),
                "deleteResource": spec.delete_resources,
                "deleteCDSSnapshot": spec.delete_snapshots,
            }
        )

    def refusal(self, spec: K8sClusterSpec, view: PlanView) -> str | None:
        if spec.k8s_version in K8S_VERSIONS:
            return None
        return (
            f"k8sVersion {spec.k8s_version} is not one the v2 API offers "
            f"({', '.join(K8S_VERSIONS)}; cce.warning.InvalidParam)"
        )

    def export_entry(self, live: LiveObject) -> dict[str, Any]:
        return dict(live.attrs)

    def from_terraform(
        self, attributes: Mapping[str, Any], found: Mapping[str, list[LiveObject]]
    ) -> TerraformRecord:
        attrs = terraform_attrs(attributes)
        cloud_id = terraform_text(attributes, "id")
        if not cloud_id or "name" not in attrs:
            raise NotConvertible(
                "cannot name it: Terraform recorded no cluster_spec.0.cluster_name (a cluster "
                "brought in with `terraform import` has an empty cluster_spec); declare it with "
                "`reconciler export --kind k8s_cluster` instead"
            )
        status = terraform_text(attributes, "cluster_status.0.cluster_phase") or ""
        return TerraformRecord(
            LiveObject(Address(self.name, attrs["name"]), cloud_id, attrs, status)
        )

    def is_gone(self, live: LiveObject) -> bool:
        return live.status in GONE_PHASES

    def health(self, live: LiveObject) -> str:
        if live.status == CREATE_FAILED:
            return FAILED_CREATE
        if live.status in BROKEN_PHASES:
            return BROKEN
        return HEALTHY

    def is_ready(self, live: LiveObject) -> bool:
        return live.status == RUNNING or self.health(live) != HEALTHY or self.is_gone(live)

    def settle(self, ops: Operations, change: Change, entry: ResourceState) -> None:
        v2 = v2_client(ops.client)
        ops.wait(change.address, CREATED, self._phase(v2, entry.cloud_id))

    # --- reading -----------------------------------------------------------------------------

    def live_object(self, cluster: K8sCluster) -> LiveObject:
        return LiveObject(
            Address(self.name, cluster.cluster_name),
            cluster.cluster_id,
            live_attrs(cluster),
            cluster.phase,
        )

    def read_all(self, ctx: RefreshContext) -> list[LiveObject]:
        """One paged list; the list items carry the whole spec, so no GET per cluster."""
        return [self.live_object(c) for c in v2_client(ctx.client).list_clusters()]

    def read_one(self, client: CceClient, address: Address, cloud_id: str) -> LiveObject | None:
        try:
            return self.live_object(v2_client(client).get_cluster(cloud_id))
        except NotFoundError:
            return None

    def _phase(self, v2: CceV2Client, cloud_id: str) -> Callable[[], str]:
        def phase() -> str:
            try:
                return v2.get_cluster(cloud_id).phase
            except NotFoundError:
                return waiters.GONE

        return phase

    # --- changing ----------------------------------------------------------------------------

    def create(self, ops: Operations, change: Change, entry: ResourceState) -> ResourceState:
        after = change.after or {}
        v2 = v2_client(ops.client)
        request = create_request(after)
        cloud_id = create_once(
            ops,
            change,
            lambda: v2.create_cluster(request).cluster_id,
            lambda: [
                c.cluster_id for c in v2.find_clusters(after["name"]) if c.phase not in GONE_PHASES
            ],
        )
        ops.record_cloud_id(cloud_id)
        entry = entry.evolve(cloud_id=cloud_id)
        try:
            ops.wait(change.address, CREATED, self._phase(v2, cloud_id))
        except waiters.WaitFailed as exc:
            if exc.last_status == CREATE_FAILED:
                raise TaintedError(
                    f"{change.address} ({cloud_id}) failed to create (phase {exc.last_status}); "
                    "it is marked tainted and the next plan replaces it",
                    entry.evolve(tainted=True),
                ) from None
            raise
        return entry

    def delete(self, ops: Operations, address: Address, cloud_id: str) -> None:
        v2 = v2_client(ops.client)
        entry = ops.entry(address)  # the delete options as last applied
        flags = delete_flags(entry.applied if entry else {})
        v2.delete_cluster(
            cloud_id,
            delete_resource=flags["deleteResource"],
            delete_cds_snapshot=flags["deleteCDSSnapshot"],
        )
        ops.wait(address, DELETED_WAIT, self._phase(v2, cloud_id))

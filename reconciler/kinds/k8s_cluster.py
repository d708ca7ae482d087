"""Kubernetes clusters of the CCE v2 API (``k8s_cluster.NAME``): masters, network and runtime.
Their worker nodes are instance groups (``kinds/instance_group.py``) and their add-ons
``kinds/addon.py``, which live in a cluster.

The v2 API has no call that changes a cluster's spec (cce-v2-api.md 2), so most declared fields
force a replacement, tags included. In place: ``forbidDelete``, the cluster's own deletion
protection (``PUT .../forbiddelete``; ``lifecycle.protect`` turns it on too, and the plan
refuses to delete or replace a cluster protected in the cloud), the cluster autoscaler
(deployed, then its settings replaced), and the delete options (what a delete releases), in
state alone. ``k8sVersion`` has no API at all (cce-v2-day2-api.md 5.4): a change is refused
with the console's way, and a master the console upgraded to the declared version is an update
of state. The id comes from the API and a create has no client token, so a lost answer is
settled by reading by name before anything is sent again; the account's cluster quota is read
when the plan creates a cluster, for the plan's refusal.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from reconciler import waiters
from reconciler.errors import NotFoundError
from reconciler.kinds.base import (
    BROKEN,
    FAILED_CREATE,
    HEALTHY,
    ClusterAccess,
    ConfigItem,
    ConfigView,
    Kind,
    LiveObject,
    NotConvertible,
    Operations,
    PlanView,
    Problem,
    RefreshContext,
    TaintedError,
    TerraformRecord,
    TerraformSecret,
    TerraformType,
    cidr_problem,
    cluster_autoscaler,
    create_once,
    drop_none,
    ensure_cluster_autoscaler,
    in_parallel,
    normal_cidr,
    status_of,
    terraform_int,
    terraform_text,
    terraform_value,
    v2_client,
)
from reconciler.kinds.fields import (
    IN_PLACE,
    REFUSED,
    VARIABLE_REF,
    Field,
    Section,
    boolean,
    choice,
    integer,
    text,
)
from reconciler.model import Address, Spec
from reconciler.probes import (
    NOT_USED,
    OK,
    SKIPPED,
    V2_FIRST_PAGE,
    Check,
    Doctor,
    Phase,
    Probe,
    check_credentials,
    v2_cluster,
    v2_list,
    v2_object,
)
from reconciler.wording import show

if TYPE_CHECKING:
    from reconciler.client.v1 import CceClient
    from reconciler.client.v2 import CceV2Client
    from reconciler.client.v2_types import (
        AutoscalerConfig,
        ClusterAutoscaler,
        ClusterCreate,
        K8sCluster,
        Quota,
    )
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


def _pod_service_overlap(
    item: ConfigItem, pod: ipaddress.IPv4Network, service: ipaddress.IPv4Network | None
) -> Iterator[Problem]:
    declared = "serviceCIDR" in item.data
    if service is None and declared:
        return  # malformed, reported already
    service = service or ipaddress.IPv4Network(SERVICE_CIDR)
    if pod.overlaps(service):
        which = "serviceCIDR" if declared else "the default serviceCIDR"
        yield (
            item.at("podCIDR"),
            f"{item.label} podCIDR {pod} overlaps {which} {service}; pods and services need "
            "separate networks",
        )


def _pod_overlaps(pods: list[tuple[ConfigItem, ipaddress.IPv4Network]]) -> Iterator[Problem]:
    """Each overlap once, at the later declaration; a cluster declared twice is reported as a
    duplicate, not as overlapping itself."""
    for index, (item, pod) in enumerate(pods):
        for other, theirs in pods[:index]:
            if other.identity != item.identity and pod.overlaps(theirs):
                yield (
                    item.at("podCIDR"),
                    f"{item.label} podCIDR {pod} overlaps the podCIDR {theirs} of "
                    f"{other.label} at {other.at('podCIDR')}",
                )
                break


def _protection_problems(item: ConfigItem) -> Iterator[Problem]:
    lifecycle = item.data.get("lifecycle")
    protect = lifecycle.get("protect") if isinstance(lifecycle, Mapping) else None
    if protect is True and item.data.get(FORBID_DELETE) is False:
        yield (
            item.at(FORBID_DELETE),
            f"{item.label} forbidDelete: false contradicts lifecycle.protect: true, which turns "
            "the cluster's deletion protection on",
        )
    autoscaler = item.data.get(AUTOSCALER)
    if isinstance(autoscaler, Mapping) and autoscaler.get("enabled") is False:
        yield (
            item.at(AUTOSCALER, "enabled"),
            f"{item.label} clusterAutoscaler.enabled: false cannot be applied: the API has no "
            "call that removes the cluster autoscaler (leave clusterAutoscaler out to stop "
            "managing it)",
        )


def _creating(declared: list[Spec], live: list[LiveObject]) -> list[Spec]:
    """The declared clusters no live cluster answers to by name: the plan creates them."""
    names = {o.address.name for o in live if o.status not in GONE_PHASES}
    return [s for s in declared if s.address.name not in names]


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
            FORBID_DELETE: cluster.forbid_delete,
        }
    )


def autoscaler_attrs(found: ClusterAutoscaler | None) -> dict[str, Any]:
    """The cluster autoscaler in the shape of the declared ``clusterAutoscaler`` (None: not
    deployed, ``enabled: false``)."""
    if found is None:
        return {"enabled": False}
    c = found.config
    return drop_none(
        {
            "enabled": True,
            "expander": c.expander,
            "scaleDownEnabled": c.scale_down_enabled,
            "scaleDownUtilizationThreshold": c.scale_down_utilization_threshold,
            "scaleDownUnneededTime": c.scale_down_unneeded_time,
            "scaleDownDelayAfterAdd": c.scale_down_delay_after_add,
            "maxEmptyBulkDelete": c.max_empty_bulk_delete,
            "skipNodesWithLocalStorage": c.skip_nodes_with_local_storage,
            "skipNodesWithSystemPods": c.skip_nodes_with_system_pods,
        }
    )


def autoscaler_config(declared: Mapping[str, Any], kube_version: str) -> AutoscalerConfig:
    """The ``caConfig`` a PUT sends for the declared settings (a whole replacement)."""
    from reconciler.client.v2_types import AutoscalerConfig  # see create_request

    return AutoscalerConfig(
        expander=declared.get("expander", "random"),
        scale_down_enabled=bool(declared.get("scaleDownEnabled", False)),
        replica_count=1,
        kube_version=kube_version,
        scale_down_utilization_threshold=declared.get("scaleDownUtilizationThreshold"),
        scale_down_unneeded_time=declared.get("scaleDownUnneededTime"),
        scale_down_delay_after_add=declared.get("scaleDownDelayAfterAdd"),
        max_empty_bulk_delete=declared.get("maxEmptyBulkDelete"),
        skip_nodes_with_local_storage=declared.get("skipNodesWithLocalStorage", True),
        skip_nodes_with_system_pods=declared.get("skipNodesWithSystemPods", True),
    )


def delete_flags(applied: Mapping[str, Any]) -> dict[str, bool]:
    """The delete options recorded in state; the spec's default (release) where none is."""
    return {key: bool(applied.get(key, True)) for key in DELETE_OPTIONS}


def create_request(attrs: Mapping[str, Any]) -> ClusterCreate:
    """The ``POST /cluster`` request for the declared attributes (managed masters, no nodes:
    the workers are instance groups)."""
    # the client's wire types, when used: validate loads the kinds, not the client
    from reconciler.client.v2_types import (
        ClusterCreate,
        ClusterSpecBody,
        ContainerNetworkConfig,
        ManagedMasterOption,
        MasterConfig,
    )

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
        forbid_delete=bool(attrs.get(FORBID_DELETE, False)),
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


NAME = "^[A-Za-z][A-Za-z0-9_.-]{0,64}$"
CIDR = "^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$"
TAG_KEY = "^[A-Za-z0-9][A-Za-z0-9_./-]{0,64}$"
KUBENET = "kubenet"
SERVICE_CIDR = "172.31.0.0/16"  # the network of services when a cluster declares none
NETWORK_MODES = (
    KUBENET,
    "vpc-cni",
    "vpc-route-veth",
    "vpc-route-ipvlan",
    "vpc-route-auto-detect",
    "vpc-secondary-ip-veth",
    "vpc-secondary-ip-ipvlan",
    "vpc-secondary-ip-auto-detect",
)
DELETE_ONLY = "changes state only: what a later delete releases"
QUOTA_FACT = "k8s_cluster.quota"  # RefreshContext.facts: the account's v2 cluster quota
FORBID_DELETE = "forbidDelete"
AUTOSCALER = "clusterAutoscaler"
MASTER_UPGRADE = (
    "the v2 API cannot upgrade a cluster's Kubernetes version: upgrade the master in the "
    "console (the cluster's More menu, Upgrade Master Kubernetes Version / 升级Master "
    "Kubernetes版本), then set k8sVersion to the version it runs; the nodes follow with their "
    "groups' kubeletVersion"
)
EXPANDERS = ("random", "most-pods", "least-waste", "priority")
AUTOSCALER_FIELDS = (
    Field(
        "enabled",
        "Deployed",
        "true (default): the cluster autoscaler is deployed. The API has no call that removes "
        "it, so false is refused.",
        boolean(),
        default=True,
        change=IN_PLACE,
        wire="POST /autoscaler/{id}",
        doc="`true` (default); the API cannot remove it",
    ),
    Field(
        "expander",
        "Expander",
        "Which group grows first: random (default), most-pods, least-waste or priority (the "
        "groups' autoscaler priority).",
        choice(*EXPANDERS),
        default="random",
        change=IN_PLACE,
        wire="caConfig.expander",
        doc=", ".join(f"`{e}`" for e in EXPANDERS) + "; default `random`",
    ),
    Field(
        "scaleDownEnabled",
        "Scale down",
        "Whether the autoscaler also removes unneeded nodes. Default false.",
        boolean(),
        default=False,
        change=IN_PLACE,
        wire="caConfig.scaleDownEnabled",
        doc="`true` / `false` (default)",
    ),
    Field(
        "scaleDownUtilizationThreshold",
        "Scale-down threshold (%)",
        "A node below this use (percent, 1-99) is unneeded.",
        integer(minimum=1, maximum=99),
        change=IN_PLACE,
        wire="caConfig.scaleDownUtilizationThreshold",
        doc="percent, 1-99",
    ),
    Field(
        "scaleDownUnneededTime",
        "Unneeded time (minutes)",
        "How long a node must be unneeded before it is removed.",
        integer(minimum=0),
        change=IN_PLACE,
        wire="caConfig.scaleDownUnneededTime",
        doc="minutes",
    ),
    Field(
        "scaleDownDelayAfterAdd",
        "Delay after a scale-up (minutes)",
        "How long after a scale-up scale-down waits.",
        integer(minimum=0),
        change=IN_PLACE,
        wire="caConfig.scaleDownDelayAfterAdd",
        doc="minutes",
    ),
    Field(
        "maxEmptyBulkDelete",
        "Empty nodes removed at once",
        "How many empty nodes may be removed at once.",
        integer(minimum=1),
        change=IN_PLACE,
        wire="caConfig.maxEmptyBulkDelete",
        doc=">= 1",
    ),
    Field(
        "skipNodesWithLocalStorage",
        "Keep nodes with local storage",
        "Never remove a node whose pods use local storage. Default true.",
        boolean(),
        default=True,
        change=IN_PLACE,
        wire="caConfig.skipNodesWithLocalStorage",
        doc="`true` (default) / `false`",
    ),
    Field(
        "skipNodesWithSystemPods",
        "Keep nodes with system pods",
        "Never remove a node running kube-system pods. Default true.",
        boolean(),
        default=True,
        change=IN_PLACE,
        wire="caConfig.skipNodesWithSystemPods",
        doc="`true` (default) / `false`",
    ),
)

FIELDS = (
    Field(
        "name",
        "Name",
        '1-65 letters, digits, "-", "_" or ".", starting with a letter (no "/": instance groups '
        "are addressed CLUSTER/NAME).",
        text(NAME),
        required=True,
        wire="clusterName",
        doc="1-65 letters, digits, `-` `_` `.`, starting with a letter (no `/`)",
    ),
    Field(
        "k8sVersion",
        "Kubernetes version",
        'The Kubernetes version, quoted, e.g. "1.28.8". The v2 API cannot upgrade it: upgrade '
        "the master in the console, then declare the version it runs.",
        text("^[0-9]+\\.[0-9]+\\.[0-9]+$"),
        required=True,
        change=REFUSED,
        why=MASTER_UPGRADE,
        wire="k8sVersion",
        doc='Kubernetes version, quoted: `"1.28.8"` (digits `N.N.N`)',
    ),
    Field(
        "vpcID",
        "VPC",
        "The VPC of the cluster, e.g. vpc-a1b2c3d4e5f6.",
        text("^vpc-[A-Za-z0-9]+$"),
        required=True,
        wire="vpcID",
        doc="`vpc-...`",
    ),
    Field(
        "masterType",
        "Master type",
        "managedPro (default) or managed: masters run by CCE.",
        choice("managedPro", "managed"),
        default="managedPro",
        wire="masterConfig.masterType",
        doc="`managedPro` (default) or `managed`",
    ),
    Field(
        "clusterHA",
        "Masters",
        "How many masters: 1, 3 (default) or 5.",
        choice(1, 3, 5),
        default=3,
        wire="masterConfig.clusterHA",
        doc="masters: `1`, `3` (default) or `5`",
    ),
    Field(
        "masterVPCSubnetZone",
        "Master zone",
        "The zone of the managed masters' subnet, zoneA ... zoneF. CCE picks zoneA when it is "
        "left out.",
        choice("zoneA", "zoneB", "zoneC", "zoneD", "zoneE", "zoneF"),
        wire="masterConfig.managedClusterMasterOption.masterVPCSubnetZone",
        doc="`zoneA` ... `zoneF`; CCE picks `zoneA` when left out",
    ),
    Field(
        "runtimeType",
        "Container runtime",
        "containerd (default) or docker.",
        choice("containerd", "docker"),
        default="containerd",
        wire="runtimeType",
        doc="`containerd` (default) or `docker`",
    ),
    Field(
        "runtimeVersion",
        "Runtime version",
        'The version of the container runtime, quoted, e.g. "1.6.28". CCE picks one when it is '
        "left out.",
        text("^[0-9]+(\\.[0-9]+){1,3}$"),
        wire="runtimeVersion",
        doc='quoted, `"1.6.28"`; CCE picks one when left out',
    ),
    Field(
        "networkMode",
        "Container network mode",
        "How pods get addresses: kubenet (needs podCIDR), vpc-cni, vpc-route-veth, "
        "vpc-route-ipvlan, vpc-route-auto-detect, vpc-secondary-ip-veth, "
        "vpc-secondary-ip-ipvlan or vpc-secondary-ip-auto-detect (default).",
        choice(*NETWORK_MODES),
        default="vpc-secondary-ip-auto-detect",
        wire="containerNetworkConfig.mode",
        doc=", ".join(f"`{m}`" for m in NETWORK_MODES) + " (default)",
    ),
    Field(
        "podCIDR",
        "Pod network",
        "The pod network, an IPv4 CIDR such as 172.28.0.0/16. Required with networkMode "
        "kubenet; it must not overlap serviceCIDR or another cluster's podCIDR.",
        text(CIDR),
        normalize=normal_cidr,
        wire="containerNetworkConfig.clusterPodCIDR",
        doc="an IPv4 network, `172.28.0.0/16` (no host bits set); required with `kubenet`",
    ),
    Field(
        "serviceCIDR",
        "Service network",
        "The network of ClusterIP services, an IPv4 CIDR. Default 172.31.0.0/16.",
        text(CIDR),
        default=SERVICE_CIDR,
        normalize=normal_cidr,
        wire="containerNetworkConfig.clusterIPServiceCIDR",
        doc="an IPv4 network; default `172.31.0.0/16`",
    ),
    Field(
        "lbServiceVPCSubnetID",
        "LoadBalancer service subnet",
        "The subnet of the load balancers made for LoadBalancer services, e.g. "
        "sbn-a1b2c3d4e5f6. The API refuses a cluster without it.",
        text("^sbn-[A-Za-z0-9]+$"),
        required=True,
        wire="containerNetworkConfig.lbServiceVPCSubnetID",
        doc="`sbn-...`: the subnet of LoadBalancer services (the API refuses a cluster without it)",
    ),
    Field(
        "kubeProxyMode",
        "kube-proxy mode",
        "ipvs (default) or iptables.",
        choice("ipvs", "iptables"),
        default="ipvs",
        wire="containerNetworkConfig.kubeProxyMode",
        doc="`ipvs` (default) or `iptables`",
    ),
    Field(
        "description",
        "Description",
        "Free text shown in the console.",
        text(),
        wire="description",
        doc="free text",
    ),
    Field(
        "tags",
        "Tags",
        'Cloud tags, key: value. Keys are 1-65 letters, digits, "-", "_", "/" or ".", starting '
        "with a letter or digit; values are text.",
        {
            "type": "object",
            "additionalProperties": False,
            "patternProperties": {
                TAG_KEY: {
                    "title": "Tag value",
                    "description": "The value of the tag, as text (quote numbers).",
                    "type": "string",
                }
            },
        },
        variables=VARIABLE_REF,
        normalize=dict,
        wire="tags[].tagKey, tagValue",
        doc="a mapping `key: value`; keys 1-65 letters, digits, `-` `_` `/` `.` starting with a "
        "letter or digit; values are text (quote numbers)",
    ),
    Field(
        FORBID_DELETE,
        "Deletion protection in the cloud",
        "The cluster's own deletion protection: while it is true the API, and the console, "
        "refuse to delete the cluster. lifecycle.protect: true turns it on as well. Default "
        "false.",
        boolean(),
        default=False,
        change=IN_PLACE,
        why="PUT .../forbiddelete; drift on it is reported",
        wire="forbidDelete (PUT /cluster/{id}/forbiddelete)",
        doc="`true` / `false` (default); `lifecycle.protect: true` sets it too",
    ),
    Field(
        AUTOSCALER,
        "Cluster autoscaler",
        "The cluster autoscaler that scales the instance groups whose autoscaler is enabled, "
        "and its settings. Declared, it is deployed; left out, it is not managed.",
        {"type": "object"},
        change=IN_PLACE,
        why="POST (deploy) and PUT /autoscaler/{id}",
        wire="autoscaler caConfig",
        doc="a mapping of the settings below; declared, the autoscaler is deployed",
        fields=AUTOSCALER_FIELDS,
    ),
    Field(
        "deleteResource",
        "Release resources on delete",
        "When the cluster is deleted, also release its pay-as-you-go EIPs and disks. Default "
        "true. Changing it changes only what a later delete does.",
        boolean(),
        default=True,
        change=IN_PLACE,
        why=DELETE_ONLY,
        wire="DELETE ?deleteResource",
        doc="`true` (default): deleting the cluster also releases its pay-as-you-go EIPs and disks",
    ),
    Field(
        "deleteCDSSnapshot",
        "Delete disk snapshots on delete",
        "When the cluster is deleted, also delete the snapshots of its disks. Default true. "
        "Changing it changes only what a later delete does.",
        boolean(),
        default=True,
        change=IN_PLACE,
        why=DELETE_ONLY,
        wire="DELETE ?deleteCDSSnapshot",
        doc="`true` (default): deleting the cluster also deletes its disks' snapshots",
    ),
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


def _set_autoscaler(
    v2: CceV2Client, cluster_id: str, declared: Mapping[str, Any], kube_version: str
) -> None:
    """Deploy the autoscaler if it is not, then replace its settings with the declared ones."""
    ensure_cluster_autoscaler(v2, cluster_id)
    v2.update_autoscaler(cluster_id, autoscaler_config(declared, kube_version))


def cluster_phase(client: CceClient, cloud_id: str) -> Callable[[], str]:
    """Reads the cluster's phase (``waiters.GONE`` once it is not found)."""
    v2 = v2_client(client)
    return status_of(lambda: v2.get_cluster(cloud_id).phase)


def _live_facts(client: CceClient, cloud_id: str) -> dict[str, Any] | None:
    """One cluster GET (as ``read_one``); its nodes belong to instance groups, whose ids would
    take a read per group, so only their count is given."""
    try:
        cluster = v2_client(client).get_cluster(cloud_id)
    except NotFoundError:
        return None
    return {
        "status": cluster.phase,
        "masterCount": cluster.cluster_ha,
        "workerCount": cluster.node_num,
    }


OUTPUTS = ClusterAccess(
    running=RUNNING,
    # clusters this tool creates have no public API-server address (no exposedPublic)
    default_type="vpc",
    api_types={"public": "public", "internal": "internal", "intraVpc": "vpc", "vpc": "vpc"},
    live_fields=("status", "masterCount", "workerCount"),
    status=cluster_phase,
    facts=_live_facts,
    fetch=lambda client, cloud_id, api_type: (
        v2_client(client).get_kubeconfig(cloud_id, api_type).text
    ),
)


# --- reconciler doctor ----------------------------------------------------------------------


def _probe_clusters(doctor: Doctor) -> None:
    """The v2 cluster list's first page (the credentials and the clock, when no other API
    reached the target first), and which running cluster the per-cluster probes read: a
    declared one first."""
    from reconciler.client.v2_types import K8sCluster  # when doctor runs

    path = f"{doctor.client.v2.prefix}/clusters"
    response = check_credentials(doctor, path, dict(V2_FIRST_PAGE))
    if response is None:
        return
    with doctor.answer("v2 clusters", f"GET {path}"):
        clusters = v2_list(
            doctor, "v2 clusters", path, "clusterPage", "clusterList", K8sCluster.read, response
        )
        declared = (
            {s.address.name for s in doctor.desired.of_kind("k8s_cluster")}
            if (doctor.desired)
            else set()
        )
        running = sorted(
            (c for c in clusters or () if c.phase == RUNNING),
            key=lambda c: c.cluster_name not in declared,
        )
        doctor.found["v2 cluster"] = running[0] if running else None


def _probe_quota(doctor: Doctor) -> None:
    from reconciler.client.v2_types import Quota  # when doctor runs

    path = f"{doctor.client.v2.prefix}/quota/cluster"
    with doctor.answer("v2 quota", f"GET {path}"):
        v2_object(doctor, "v2 quota", path, Quota.read, lambda q: f"{q.used} of {q.quota} used")


def _probe_autoscaler(doctor: Doctor) -> None:
    from reconciler.client.v2_types import ClusterAutoscaler  # when doctor runs

    cluster = v2_cluster(doctor)
    path = f"{doctor.client.v2.prefix}/autoscaler/" + (cluster.cluster_id if cluster else "{id}")
    if not (doctor.uses("k8s_cluster", AUTOSCALER) or doctor.uses("instance_group", "autoscaler")):
        doctor.add(Check("v2 autoscaler", SKIPPED, f"GET {path}", NOT_USED))
        return
    if cluster is None:
        doctor.add(Check("v2 autoscaler", SKIPPED, f"GET {path}", "no running v2 cluster to read"))
        return
    with doctor.answer("v2 autoscaler", f"GET {path}"):
        try:
            v2_object(
                doctor,
                "v2 autoscaler",
                path,
                lambda r: ClusterAutoscaler.read(r.obj("autoscaler")),
                lambda a: f"deployed, expander {a.config.expander}",
            )
        except NotFoundError as exc:
            detail = f"not deployed yet ({exc.code}); apply deploys the one declared"
            doctor.add(Check("v2 autoscaler", OK, f"GET {path}", detail, exc.request_id))


PROBES = (
    Probe("v2 clusters", Phase.REACH, _probe_clusters),
    Probe("v2 autoscaler", Phase.DETAILS, _probe_autoscaler),
    Probe("v2 quota", Phase.FACTS, _probe_quota),
)


class K8sClusterKind(Kind):
    name = "k8s_cluster"
    section = Section(
        "k8s_clusters",
        "Kubernetes clusters (CCE v2)",
        "Clusters of the CCE v2 API with managed masters; their worker nodes are instance_groups.",
    )
    identity = ("name",)
    title = "Kubernetes cluster (CCE v2)"
    summary = (
        "A cluster of the CCE v2 API with managed masters (address k8s_cluster.<name>); its "
        "worker nodes are instance groups. forbidDelete, clusterAutoscaler, deleteResource, "
        "deleteCDSSnapshot and lifecycle change in place; a k8sVersion change is refused "
        "(the master is upgraded in the console); any other change replaces the cluster."
    )
    fields = FIELDS
    read_with = ("instance_group",)
    api_name = "the CCE v2 API"
    default_timeout = 1800.0
    cluster_access = OUTPUTS
    terraform = TERRAFORM

    def probes(self) -> tuple[Probe, ...]:
        return PROBES

    # --- planning ----------------------------------------------------------------------------

    def desired_attrs(self, spec: Spec) -> Mapping[str, Any]:
        """``lifecycle.protect: true`` turns the cluster's own deletion protection on too, so
        that the console refuses to delete it as well."""
        if spec.lifecycle.protect and not spec.attrs.get(FORBID_DELETE):
            return {**spec.attrs, FORBID_DELETE: True}
        return spec.attrs

    def refusal(self, spec: Spec, view: PlanView) -> str | None:
        version = spec.attrs["k8sVersion"]
        if version not in K8S_VERSIONS:
            return (
                f"k8sVersion {version} is not one the v2 API offers "
                f"({', '.join(K8S_VERSIONS)}; cce.warning.InvalidParam)"
            )
        quota: Quota | None = view.facts.get(QUOTA_FACT)
        if quota is None or spec.address in view.managed:
            return None
        creating = _creating(view.desired.of_kind(self.name), view.live_objects.get(self.name, []))
        if len(creating) > quota.left:
            return (
                f"the plan creates {len(creating)} v2 cluster(s) and {quota.used} of the "
                f"account's {quota.quota} exist (GET /quota/cluster: cluster quota)"
            )
        return None

    def delete_refusal(self, live: LiveObject) -> str | None:
        if not live.attrs.get(FORBID_DELETE):
            return None
        return (
            "the cluster has deletion protection in the cloud (forbidDelete: true), which the "
            "API keeps: declare forbidDelete: false (and no lifecycle.protect) and apply, then "
            "remove it"
        )

    def config_problems(self, view: ConfigView) -> Iterator[Problem]:
        """The CIDRs: each a network, podCIDR declared for kubenet, and no pod network
        overlapping its cluster's service network or another cluster's pod network; no
        forbidDelete: false beside lifecycle.protect: true; no clusterAutoscaler.enabled: false."""
        pods: list[tuple[ConfigItem, ipaddress.IPv4Network]] = []
        for item in view.items_of(self.name):
            yield from _protection_problems(item)
            if item.data.get("networkMode") == KUBENET and "podCIDR" not in item.data:
                message = f'{item.label} needs "podCIDR": networkMode {KUBENET} takes the pod network from it'
                yield item.at(), message
            networks: dict[str, ipaddress.IPv4Network] = {}
            for key in ("podCIDR", "serviceCIDR"):
                text = item.data.get(key)
                if not isinstance(text, str) or not view.valid(item, key):
                    continue
                problem = cidr_problem(text)
                if problem:
                    yield item.at(key), f"{item.label} {key} {show(text)} is invalid: {problem}"
                else:
                    networks[key] = ipaddress.IPv4Network(text)
            pod = networks.get("podCIDR")
            if pod is None:
                continue
            pods.append((item, pod))
            yield from _pod_service_overlap(item, pod, networks.get("serviceCIDR"))
        yield from _pod_overlaps(pods)

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
        """Wait for a cluster an interrupted run created, then do what that run's create did
        after its wait: deploy the declared autoscaler (a PUT of the whole settings)."""
        ops.wait(change.address, CREATED, cluster_phase(ops.client, entry.cloud_id))
        after = change.after or {}
        if AUTOSCALER in after:
            v2 = v2_client(ops.client)
            _set_autoscaler(v2, entry.cloud_id, after[AUTOSCALER], after["k8sVersion"])

    # --- reading -----------------------------------------------------------------------------

    def live_object(self, cluster: K8sCluster) -> LiveObject:
        return LiveObject(
            Address(self.name, cluster.cluster_name),
            cluster.cluster_id,
            live_attrs(cluster),
            cluster.phase,
        )

    def read_all(self, ctx: RefreshContext) -> list[LiveObject]:
        """One paged list; the list items carry the whole spec, so no GET per cluster. Beside
        it, only what the declaration needs: the autoscaler of each running cluster that
        declares one (its settings have no list), and the account's cluster quota when the
        plan creates a cluster."""
        v2 = v2_client(ctx.client)
        found = [self.live_object(c) for c in v2.list_clusters()]
        declared = {s.address: s for s in ctx.desired.of_kind(self.name)} if ctx.desired else {}
        # every running cluster of a declared name, managed or not yet (one an interrupted run
        # created is taken into state after this refresh)
        scaled = [
            o
            for o in found
            if o.status == RUNNING and AUTOSCALER in getattr(declared.get(o.address), "attrs", {})
        ]
        autoscalers = in_parallel(
            ctx.parallelism, lambda o: cluster_autoscaler(v2, o.cloud_id), scaled
        )
        with_autoscaler = {
            o.cloud_id: replace(o, attrs={**o.attrs, AUTOSCALER: autoscaler_attrs(a)})
            for o, a in zip(scaled, autoscalers, strict=True)
        }
        if _creating(list(declared.values()), found):
            ctx.facts[QUOTA_FACT] = v2.get_cluster_quota()
        return [with_autoscaler.get(o.cloud_id, o) for o in found]

    def read_one(self, client: CceClient, address: Address, cloud_id: str) -> LiveObject | None:
        try:
            return self.live_object(v2_client(client).get_cluster(cloud_id))
        except NotFoundError:
            return None

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
            ops.wait(change.address, CREATED, cluster_phase(ops.client, cloud_id))
        except waiters.WaitFailed as exc:
            if exc.last_status == CREATE_FAILED:
                raise TaintedError(
                    f"{change.address} ({cloud_id}) failed to create (phase {exc.last_status}); "
                    "it is marked tainted and the next plan replaces it",
                    entry.evolve(tainted=True),
                ) from None
            raise
        if AUTOSCALER in after:
            _set_autoscaler(v2, cloud_id, after[AUTOSCALER], after["k8sVersion"])
        return entry

    def update(self, ops: Operations, change: Change, entry: ResourceState) -> None:
        """forbidDelete (one PUT) and the cluster autoscaler (deployed if it is not, then its
        settings). k8sVersion never gets here: a change of it is refused by the plan, and a
        master upgraded in the console to the declared version is an update of state."""
        after, before = change.after or {}, change.before or {}
        changed = {f.path.split(".")[0] for f in change.fields}
        v2 = v2_client(ops.client)
        if FORBID_DELETE in changed:
            v2.set_forbid_delete(entry.cloud_id, bool(after.get(FORBID_DELETE, False)))
        if AUTOSCALER in changed and AUTOSCALER in after:
            _set_autoscaler(v2, entry.cloud_id, after[AUTOSCALER], before.get("k8sVersion", ""))

    def delete(self, ops: Operations, address: Address, cloud_id: str) -> None:
        v2 = v2_client(ops.client)
        entry = ops.entry(address)  # the delete options as last applied
        flags = delete_flags(entry.applied if entry else {})
        v2.delete_cluster(
            cloud_id,
            delete_resource=flags["deleteResource"],
            delete_cds_snapshot=flags["deleteCDSSnapshot"],
        )
        ops.wait(address, DELETED_WAIT, cluster_phase(ops.client, cloud_id))

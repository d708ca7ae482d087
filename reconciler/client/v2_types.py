"""Frozen values for the CCE v2 wire: the request bodies the client sends, the answers it reads.

For: request bodies shaped like the official Go SDK's (``to_json()`` writes the SDK's keys,
leaves out what its ``omitempty`` tags leave out and always writes what the SDK always writes,
nested empty objects included; cce-v2-api.md 2.1, 3.1, 3.4), and strict readers for answers
(:class:`Reader`): a key the client relies on that is missing, ``null`` or of the wrong type
raises :class:`~reconciler.errors.ShapeError` naming the method, path, key path and request id.
A key the real service may leave out (``omitempty`` in the SDK, or of unknown tagging) is read
as ``None`` when absent, never as a made-up default.
Not for: HTTP or paging (:mod:`.v2`), nor the v1 API (:mod:`.types`).

Phases are the API's lower-case strings: clusters ``pending``, ``provisioning``,
``provisioned``, ``running``, ``create_failed``, ``deleting``, ``deleted``,
``delete_failed`` (and the SDK's other 16, such as ``upgrading``); instances the first eight.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from reconciler.client.answers import Reader
from reconciler.client.answers import put_omitempty as _put

Json = dict[str, Any]

CLUSTER_PHASES = (
    "pending", "provisioning", "provisioned", "running", "create_failed", "deleting", "deleted",
    "delete_failed", "upgrading", "upgrade_failed", "eip_opening", "eip_open_failed",
    "eip_closing", "eip_close_failed", "apiserver_san_updating", "apiserver_san_update_failed",
    "starting", "releasing", "stoping", "stoped", "kms_encryption_enabling",
    "kms_encryption_enable_failed", "kms_encryption_disabling", "kms_encryption_disable_failed",
)  # fmt: skip
INSTANCE_PHASES = CLUSTER_PHASES[:8]


def _raw() -> Any:
    # Raw JSON stays out of hashing and comparison: the typed fields are the value.
    return field(
        default_factory=lambda: MappingProxyType({}), hash=False, compare=False, repr=False
    )


# --- answers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class K8sCluster:
    """``GetClusterResponse.cluster`` / a ``clusterList`` item (cce-v2-api.md 2.2)."""

    cluster_id: str
    cluster_name: str
    phase: str  # status.clusterPhase, e.g. "running"
    k8s_version: str
    cluster_type: str
    runtime_type: str
    vpc_id: str
    description: str
    forbid_delete: bool
    master_type: str  # spec.masterConfig.masterType
    network_mode: str  # spec.containerNetworkConfig.mode
    node_num: int
    created_at: str  # RFC 3339
    updated_at: str
    cluster_ha: int | None = None  # None: the answer left it out
    pod_cidr: str | None = None
    service_cidr: str | None = None
    runtime_version: str | None = None
    master_subnet_zone: str | None = None  # masterConfig.managedClusterMasterOption
    lb_service_subnet_id: str | None = None
    kube_proxy_mode: str | None = None
    tags: tuple[tuple[str, str], ...] = ()  # (tagKey, tagValue); null (a nil slice) is none
    spec: Mapping[str, Any] = _raw()
    status: Mapping[str, Any] = _raw()

    @classmethod
    def read(cls, r: Reader) -> K8sCluster:
        spec, status = r.obj("spec"), r.obj("status")
        master, network = spec.obj("masterConfig"), spec.obj("containerNetworkConfig")
        managed = master.opt_obj("managedClusterMasterOption")
        return cls(
            cluster_id=spec.text("clusterID", nonempty=True),
            cluster_name=spec.text("clusterName", nonempty=True),
            phase=status.text("clusterPhase", nonempty=True),
            k8s_version=spec.text("k8sVersion"),
            cluster_type=spec.text("clusterType"),
            runtime_type=spec.text("runtimeType"),
            vpc_id=spec.text("vpcID"),
            description=spec.text("description"),
            forbid_delete=spec.boolean("forbidDelete"),
            master_type=master.text("masterType", nonempty=True),
            network_mode=network.text("mode", nonempty=True),
            node_num=status.count("nodeNum"),
            created_at=r.text("createdAt", nonempty=True),
            updated_at=r.text("updatedAt", nonempty=True),
            cluster_ha=master.opt_integer("clusterHA"),
            pod_cidr=network.opt_text("clusterPodCIDR"),
            service_cidr=network.opt_text("clusterIPServiceCIDR"),
            runtime_version=spec.opt_text("runtimeVersion"),
            master_subnet_zone=managed.opt_text("masterVPCSubnetZone") if managed else None,
            lb_service_subnet_id=network.opt_text("lbServiceVPCSubnetID"),
            kube_proxy_mode=network.opt_text("kubeProxyMode"),
            tags=tuple(
                (t.text("tagKey", nonempty=True), t.text("tagValue"))
                for t in spec.opt_objects("tags")
            ),
            spec=spec.raw(),
            status=status.raw(),
        )


@dataclass(frozen=True)
class InstanceTemplate:
    """The declared part of a group's ``instanceTemplate`` (an InstanceSpecBody as answered);
    every key optional (None: left out), each of its type when present."""

    machine_type: str | None = None
    instance_type: str | None = None
    image_id: str | None = None
    machine_spec: str | None = None  # instanceResource
    cpu: int | None = None
    mem: int | None = None
    root_disk_type: str | None = None
    root_disk_size: int | None = None
    vpc_subnet_id: str | None = None  # vpcConfig
    security_group_id: str | None = None

    @classmethod
    def read(cls, r: Reader) -> InstanceTemplate:
        resource = r.opt_obj("instanceResource")
        vpc = r.opt_obj("vpcConfig")
        return cls(
            machine_type=r.opt_text("machineType"),
            instance_type=r.opt_text("instanceType"),
            image_id=r.opt_text("imageID"),
            machine_spec=resource.opt_text("machineSpec") if resource else None,
            cpu=resource.opt_count("cpu") if resource else None,
            mem=resource.opt_count("mem") if resource else None,
            root_disk_type=resource.opt_text("rootDiskType") if resource else None,
            root_disk_size=resource.opt_count("rootDiskSize") if resource else None,
            vpc_subnet_id=vpc.opt_text("vpcSubnetID") if vpc else None,
            security_group_id=vpc.opt_text("securityGroupID") if vpc else None,
        )


@dataclass(frozen=True)
class InstanceGroup:
    """``GetInstanceGroupResponse.instanceGroup`` / a group list item (cce-v2-api.md 3.2).

    A group has no phase: it has converged when ``ready_replicas == replicas``."""

    instance_group_id: str  # spec.cceInstanceGroupID, "cce-ig-..."
    instance_group_name: str
    replicas: int
    ready_replicas: int  # status.readyReplicas: Ready nodes in the group
    created_at: str
    cluster_id: str | None = None  # the SDK's tags make these omitempty
    cluster_role: str | None = None
    shrink_policy: str | None = None
    update_policy: str | None = None
    clean_policy: str | None = None
    paused: bool | None = None  # status.pause.paused; None: no pause object
    template: InstanceTemplate = field(default_factory=InstanceTemplate)
    instance_template: Mapping[str, Any] = _raw()
    spec: Mapping[str, Any] = _raw()
    status: Mapping[str, Any] = _raw()

    @classmethod
    def read(cls, r: Reader) -> InstanceGroup:
        spec, status = r.obj("spec"), r.obj("status")
        pause = status.opt_obj("pause")
        return cls(
            instance_group_id=spec.text("cceInstanceGroupID", nonempty=True),
            instance_group_name=spec.text("instanceGroupName", nonempty=True),
            replicas=spec.count("replicas"),
            ready_replicas=status.count("readyReplicas"),
            created_at=r.text("createdAt", nonempty=True),
            cluster_id=spec.opt_text("clusterID"),
            cluster_role=spec.opt_text("clusterRole"),
            shrink_policy=spec.opt_text("shrinkPolicy"),
            update_policy=spec.opt_text("updatePolicy"),
            clean_policy=spec.opt_text("cleanPolicy"),
            paused=None if pause is None else pause.boolean("paused"),
            template=InstanceTemplate.read(spec.obj("instanceTemplate")),
            instance_template=spec.obj("instanceTemplate").raw(),
            spec=spec.raw(),
            status=status.raw(),
        )


@dataclass(frozen=True)
class CceInstance:
    """A node (``Instance``, cce-v2-api.md 4.2): ``cce_instance_id`` is CCE's id
    (``<clusterID>-xxxxxxxx``), ``machine_id`` the BCC id (``i-...``, "" until one exists)."""

    cce_instance_id: str
    instance_name: str
    phase: str  # status.instancePhase, e.g. "provisioning", "running"
    machine_status: str  # status.machineStatus, e.g. "ACTIVE" ("" before a machine exists)
    machine_id: str  # status.machine.instanceID
    created_at: str
    updated_at: str
    cluster_id: str | None = None
    cluster_role: str | None = None
    instance_group_id: str | None = None  # "" for a node outside any group
    vpc_ip: str | None = None
    spec: Mapping[str, Any] = _raw()
    status: Mapping[str, Any] = _raw()

    @classmethod
    def read(cls, r: Reader) -> CceInstance:
        spec, status = r.obj("spec"), r.obj("status")
        machine = status.obj("machine")
        return cls(
            cce_instance_id=spec.text("cceInstanceID", nonempty=True),
            instance_name=spec.text("instanceName"),
            phase=status.text("instancePhase", nonempty=True),
            machine_status=status.text("machineStatus"),
            machine_id=machine.text("instanceID"),
            created_at=r.text("createdAt", nonempty=True),
            updated_at=r.text("updatedAt", nonempty=True),
            cluster_id=spec.opt_text("clusterID"),
            cluster_role=spec.opt_text("clusterRole"),
            instance_group_id=spec.opt_text("instanceGroupID"),
            vpc_ip=machine.opt_text("vpcIP"),
            spec=spec.raw(),
            status=status.raw(),
        )


@dataclass(frozen=True)
class ClusterCreated:
    cluster_id: str
    request_id: str


@dataclass(frozen=True)
class InstanceGroupCreated:
    instance_group_id: str
    request_id: str


@dataclass(frozen=True)
class TaskCreated:
    """A scale task was accepted (``task-<groupID>-scaledown-xxxxxxxx``)."""

    task_id: str
    request_id: str


@dataclass(frozen=True)
class Kubeconfig:
    kind: str  # kubeConfigType: "vpc", "public" or "internal"
    text: str = field(repr=False)  # the kubeconfig YAML (it holds a credential)


# --- request bodies (the Go SDK's JSON) --------------------------------------------------------


@dataclass(frozen=True)
class ManagedMasterOption:
    master_vpc_subnet_zone: str = ""  # zoneA ... zoneF
    master_flavor: str = ""  # l50 ... l5000
    cluster_blb_source: str = ""  # CCE or USER

    def to_json(self) -> Json:
        body: Json = {}
        _put(body, "masterVPCSubnetZone", self.master_vpc_subnet_zone)
        _put(body, "masterFlavor", self.master_flavor)
        _put(body, "clusterBLBSource", self.cluster_blb_source)
        return body


@dataclass(frozen=True)
class MasterConfig:
    master_type: str  # managedPro, managed, custom, serverless, containerizedCustom
    cluster_ha: int = 0  # 1, 3, 5 (2 = serverless); 0 leaves it to the server
    exposed_public: bool = False
    cluster_blb_vpc_subnet_id: str = ""
    managed_option: ManagedMasterOption = field(default_factory=ManagedMasterOption)

    def to_json(self) -> Json:
        body: Json = {}
        _put(body, "masterType", self.master_type)
        _put(body, "clusterHA", self.cluster_ha)
        _put(body, "exposedPublic", self.exposed_public)
        _put(body, "clusterBLBVPCSubnetID", self.cluster_blb_vpc_subnet_id)
        body["managedClusterMasterOption"] = self.managed_option.to_json()  # always [SDK-RUN]
        return body


@dataclass(frozen=True)
class ContainerNetworkConfig:
    mode: str  # kubenet, vpc-cni, vpc-route-*, vpc-secondary-ip-*
    lb_service_vpc_subnet_id: str
    cluster_pod_cidr: str = ""
    cluster_ip_service_cidr: str = ""
    ip_version: str = ""
    max_pods_per_node: int = 0
    kube_proxy_mode: str = ""
    node_port_range_min: int = 0
    node_port_range_max: int = 0

    def to_json(self) -> Json:
        body: Json = {}
        _put(body, "mode", self.mode)
        body["ebpfConfig"] = {}  # always [SDK-RUN]
        _put(body, "lbServiceVPCSubnetID", self.lb_service_vpc_subnet_id)
        _put(body, "ipVersion", self.ip_version)
        _put(body, "clusterPodCIDR", self.cluster_pod_cidr)
        _put(body, "clusterIPServiceCIDR", self.cluster_ip_service_cidr)
        _put(body, "maxPodsPerNode", self.max_pods_per_node)
        _put(body, "kubeProxyMode", self.kube_proxy_mode)
        _put(body, "nodePortRangeMin", self.node_port_range_min)
        _put(body, "nodePortRangeMax", self.node_port_range_max)
        return body


@dataclass(frozen=True)
class ClusterSpecBody:
    """The ``cluster`` of a create request (the SDK's ``types.ClusterSpec``)."""

    cluster_name: str
    k8s_version: str
    vpc_id: str
    master_config: MasterConfig
    container_network_config: ContainerNetworkConfig
    cluster_type: str = ""
    description: str = ""
    runtime_type: str = ""  # docker, containerd
    runtime_version: str = ""
    plugins: tuple[str, ...] = ()
    forbid_delete: bool = False
    tags: Mapping[str, str] = field(default_factory=dict, hash=False)

    def to_json(self) -> Json:
        body: Json = {}
        _put(body, "clusterName", self.cluster_name)
        _put(body, "clusterType", self.cluster_type)
        _put(body, "description", self.description)
        _put(body, "k8sVersion", self.k8s_version)
        _put(body, "runtimeType", self.runtime_type)
        _put(body, "runtimeVersion", self.runtime_version)
        _put(body, "vpcID", self.vpc_id)
        _put(body, "plugins", list(self.plugins))
        body["masterConfig"] = self.master_config.to_json()
        body["containerNetworkConfig"] = self.container_network_config.to_json()
        body["forbidDelete"] = self.forbid_delete  # always sent [SDK-RUN]
        body["resourceChargingOption"] = {}
        body["k8sCustomConfig"] = {}
        tags = [{"tagKey": k, "tagValue": v} for k, v in self.tags.items()]
        _put(body, "tags", tags)
        return body


@dataclass(frozen=True)
class InstanceSpecBody:
    """An ``InstanceSpecBody`` (also an instance group's ``instanceTemplate``, flattened).

    ``extra`` holds any other InstanceSpecBody key (``cdsList``, ``taints``, ``deployCustomConfig``
    ...), written last so it replaces a key of the same name."""

    instance_type: str  # N3, N5, ... (always sent)
    vpc_subnet_id: str = ""
    machine_type: str = ""  # BCC (the server's default), BBC, ...
    instance_name: str = ""  # "" lets the server name it (always sent)
    security_group_id: str = ""
    cpu: int = 0
    mem: int = 0  # GB
    machine_spec: str = ""  # bcc.g5.c2m8
    root_disk_type: str = ""
    root_disk_size: int = 0
    image_id: str = ""
    admin_password: str = field(default="", repr=False)
    ssh_key_id: str = ""
    instance_charging_type: str = ""  # Postpaid
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def to_json(self) -> Json:
        body: Json = {"instanceName": self.instance_name, "existedOption": {}}
        _put(body, "machineType", self.machine_type)
        body["instanceType"] = self.instance_type
        body["bidOption"] = {}
        body["vpcConfig"] = self._vpc_config()
        body["instanceResource"] = self._resource()
        _put(body, "imageID", self.image_id)
        body["instanceOS"] = {}
        _put(body, "adminPassword", self.admin_password)
        _put(body, "sshKeyID", self.ssh_key_id)
        _put(body, "instanceChargingType", self.instance_charging_type)
        body["instancePreChargingOption"] = {}
        _put(body, "labels", dict(self.labels))
        body["deployCustomConfig"] = {"dockerConfig": {}, "containerdConfig": {}}
        body.update(self.extra)
        return body

    def _vpc_config(self) -> Json:
        body: Json = {}
        _put(body, "vpcSubnetID", self.vpc_subnet_id)
        _put(body, "securityGroupID", self.security_group_id)
        body["securityGroup"] = {
            "enableCCERequiredSecurityGroup": False,
            "enableCCEOptionalSecurityGroup": False,
        }
        body["securityGroupType"] = ""
        body["securityGroups"] = None
        return body

    def _resource(self) -> Json:
        body: Json = {}
        _put(body, "machineSpec", self.machine_spec)
        _put(body, "cpu", self.cpu)
        _put(body, "mem", self.mem)
        _put(body, "rootDiskType", self.root_disk_type)
        _put(body, "rootDiskSize", self.root_disk_size)
        return body


@dataclass(frozen=True)
class InstanceSet:
    spec: InstanceSpecBody
    count: int

    def to_json(self) -> Json:
        return {"instanceSpec": self.spec.to_json(), "count": self.count}


@dataclass(frozen=True)
class ClusterCreate:
    """``POST /cluster``: the cluster, optional masters (custom masters only) and nodes."""

    cluster: ClusterSpecBody
    masters: tuple[InstanceSet, ...] = ()
    nodes: tuple[InstanceSet, ...] = ()
    skip_network_check: bool | None = None  # the SDK sends null when unset

    def to_json(self) -> Json:
        body: Json = {"cluster": self.cluster.to_json()}
        _put(body, "masters", [m.to_json() for m in self.masters])
        _put(body, "nodes", [n.to_json() for n in self.nodes])
        body["options"] = {"skipNetworkCheck": self.skip_network_check}
        return body


@dataclass(frozen=True)
class InstanceGroupCreate:
    """``POST /cluster/{id}/instancegroup``: a bare InstanceGroupSpec."""

    instance_group_name: str
    instance_template: InstanceSpecBody
    replicas: int
    cluster_role: str = ""  # node (the default)
    shrink_policy: str = ""  # Priority, Random / Uniform
    update_policy: str = ""  # Rolling, Concurrency
    clean_policy: str = ""  # Remain, Delete

    def to_json(self) -> Json:
        body: Json = {"instanceGroupName": self.instance_group_name}
        _put(body, "clusterRole", self.cluster_role)
        body["selector"] = None  # always null [SDK-RUN]
        _put(body, "shrinkPolicy", self.shrink_policy)
        _put(body, "updatePolicy", self.update_policy)
        _put(body, "cleanPolicy", self.clean_policy)
        body["instanceTemplate"] = self.instance_template.to_json()
        body["replicas"] = self.replicas
        return body


@dataclass(frozen=True)
class DeleteOption:
    """What happens to removed nodes' resources. Every key is ``omitempty`` in the SDK, so
    ``False`` is never sent and the server's default applies (for new nodes the docs say
    ``deleteResource`` and ``deleteCDSSnapshot`` default to true)."""

    move_out: bool = False
    delete_resource: bool = False
    delete_cds_snapshot: bool = False
    drain_node: bool = False

    def to_json(self) -> Json:
        body: Json = {}
        _put(body, "moveOut", self.move_out)
        _put(body, "deleteResource", self.delete_resource)
        _put(body, "deleteCDSSnapshot", self.delete_cds_snapshot)
        _put(body, "drainNode", self.drain_node)
        return body


@dataclass(frozen=True)
class ReplicasUpdate:
    """``PUT .../replicas``: the desired count; ``instance_ids`` are removed first when
    shrinking; ``delete_instance`` deletes the removed nodes' machines."""

    replicas: int
    instance_ids: tuple[str, ...] | None = None
    delete_instance: bool = False
    delete_option: DeleteOption | None = None

    def to_json(self) -> Json:
        ids = None if self.instance_ids is None else list(self.instance_ids)
        body: Json = {"replicas": self.replicas, "instanceIDs": ids}
        body["deleteInstance"] = self.delete_instance
        if self.delete_option is not None:
            body["deleteOption"] = self.delete_option.to_json()
        return body


@dataclass(frozen=True)
class ScaleDown:
    """``PUT .../scaledown``: remove these nodes (CCE ids) from the group."""

    instances_to_be_removed: tuple[str, ...]
    clean_policy: str = ""  # Remain, Delete; "" = the group's
    delete_option: DeleteOption | None = None

    def to_json(self) -> Json:
        option = None if self.delete_option is None else self.delete_option.to_json()
        return {
            "instancesToBeRemoved": list(self.instances_to_be_removed),
            "cleanPolicy": self.clean_policy,
            "deleteOption": option,
        }

"""Frozen values for the CCE v2 wire: the request bodies the client sends, the answers it reads.

For: request bodies shaped like the official Go SDK's (``to_json()`` writes the SDK's keys,
leaves out what its ``omitempty`` tags leave out and always writes what the SDK always writes,
nested empty objects included; cce-v2-api.md 2.1, 3.1, 3.4), and strict readers for answers
(:class:`Reader`): a key the client relies on that is missing, ``null`` or of the wrong type
raises :class:`~reconciler.errors.ShapeError` naming the method, path, key path and request id.
A key the real service may leave out (``omitempty`` in the SDK, or of unknown tagging) is read
as ``None`` when absent, never as a made-up default.
The day-2 values (delete protection, quotas, group configure, autoscaling, scale tasks,
node-upgrade workflows, add-ons; cce-v2-day2-api.md) follow the same rules: a key the SDK tags
``omitempty`` is read as absent-able, a key it always writes is required.
Not for: HTTP or paging (:mod:`.v2`), nor the v1 API (:mod:`.types`).

Phases are the API's lower-case strings: clusters ``pending``, ``provisioning``,
``provisioned``, ``running``, ``create_failed``, ``deleting``, ``deleted``,
``delete_failed`` (and the SDK's other 16, such as ``upgrading``); instances the first eight.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from types import MappingProxyType
from typing import Any

from reconciler.client.answers import Reader
from reconciler.client.answers import put_omitempty as _put
from reconciler.records import frozen_record

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


@frozen_record
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
    upgrade_workflow_id: str | None = None  # status.upgradeWorkflowID: a node upgrade running
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
            upgrade_workflow_id=status.opt_text("upgradeWorkflowID") or None,
            spec=spec.raw(),
            status=status.raw(),
        )


@frozen_record
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
    runtime_version: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    taints: tuple[Taint, ...] = ()
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False)

    @classmethod
    def read(cls, r: Reader) -> InstanceTemplate:
        resource = r.opt_obj("instanceResource")
        vpc = r.opt_obj("vpcConfig")
        return cls(
            runtime_version=r.opt_text("runtimeVersion"),
            labels=r.text_map("labels"),
            taints=tuple(Taint.read(t) for t in r.opt_objects("taints")),
            annotations=r.text_map("annotations"),
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


@frozen_record
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
    autoscaler: GroupAutoscaler | None = None  # spec.clusterAutoscalerSpec (omitempty)
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
            autoscaler=GroupAutoscaler.read_optional(spec.opt_obj("clusterAutoscalerSpec")),
            template=InstanceTemplate.read(spec.obj("instanceTemplate")),
            instance_template=spec.obj("instanceTemplate").raw(),
            spec=spec.raw(),
            status=status.raw(),
        )


@frozen_record
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


@frozen_record
class ClusterCreated:
    cluster_id: str
    request_id: str


@frozen_record
class InstanceGroupCreated:
    instance_group_id: str
    request_id: str


@frozen_record
class TaskCreated:
    """A scale task was accepted (``task-<groupID>-scaledown-xxxxxxxx``)."""

    task_id: str
    request_id: str


@frozen_record
class Kubeconfig:
    kind: str  # kubeConfigType: "vpc", "public" or "internal"
    text: str = field(repr=False)  # the kubeconfig YAML (it holds a credential)


# --- request bodies (the Go SDK's JSON) --------------------------------------------------------


@frozen_record
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


@frozen_record
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


@frozen_record
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


@frozen_record
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


@frozen_record
class Taint:
    """A Kubernetes node taint of an instance template (``{key, value, effect}``)."""

    key: str
    value: str = ""
    effect: str = "NoSchedule"  # NoSchedule, PreferNoSchedule, NoExecute

    def to_json(self) -> Json:
        body: Json = {"key": self.key}
        _put(body, "value", self.value)  # corev1.Taint: value is omitempty
        body["effect"] = self.effect
        return body

    @classmethod
    def read(cls, r: Reader) -> Taint:
        return cls(r.text("key", nonempty=True), r.opt_text("value") or "", r.text("effect"))


@frozen_record
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
    runtime_type: str = ""  # docker, containerd ("" = the cluster's)
    runtime_version: str = ""  # the container runtime's version on the new nodes
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    taints: tuple[Taint, ...] = ()
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False)
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def to_json(self) -> Json:
        body: Json = {"instanceName": self.instance_name}
        _put(body, "runtimeType", self.runtime_type)
        _put(body, "runtimeVersion", self.runtime_version)
        body["existedOption"] = {}
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
        body["deployCustomConfig"] = {"dockerConfig": {}, "containerdConfig": {}}
        _put(body, "labels", dict(self.labels))  # after deployCustomConfig [SDK types/instance.go]
        _put(body, "taints", [t.to_json() for t in self.taints])
        _put(body, "annotations", dict(self.annotations))
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


@frozen_record
class InstanceSet:
    spec: InstanceSpecBody
    count: int

    def to_json(self) -> Json:
        return {"instanceSpec": self.spec.to_json(), "count": self.count}


@frozen_record
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


@frozen_record
class InstanceGroupCreate:
    """``POST /cluster/{id}/instancegroup``: a bare InstanceGroupSpec."""

    instance_group_name: str
    instance_template: InstanceSpecBody
    replicas: int
    cluster_role: str = ""  # node (the default)
    shrink_policy: str = ""  # Priority, Random / Uniform
    update_policy: str = ""  # Rolling, Concurrency
    clean_policy: str = ""  # Remain, Delete
    autoscaler: GroupAutoscaler | None = None  # clusterAutoscalerSpec (omitempty)

    def to_json(self) -> Json:
        body: Json = {"instanceGroupName": self.instance_group_name}
        _put(body, "clusterRole", self.cluster_role)
        body["selector"] = None  # always null [SDK-RUN]
        _put(body, "shrinkPolicy", self.shrink_policy)
        _put(body, "updatePolicy", self.update_policy)
        _put(body, "cleanPolicy", self.clean_policy)
        body["instanceTemplate"] = self.instance_template.to_json()
        body["replicas"] = self.replicas
        if self.autoscaler is not None:
            body["clusterAutoscalerSpec"] = self.autoscaler.to_json()
        return body


@frozen_record
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


@frozen_record
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


@frozen_record
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


# --- day 2: delete protection, quotas, autoscaling (cce-v2-day2-api.md 1, 2, 4) ------------------


@frozen_record
class ForbidDelete:
    """``PUT /cluster/{id}/forbiddelete``: the SDK's struct has no json tag, so the key is
    ``ForbidDelete`` (the docs spell it ``forbidDelete``; the service reads either)."""

    forbid_delete: bool

    def to_json(self) -> Json:
        return {"ForbidDelete": self.forbid_delete}


@frozen_record
class Quota:
    """``GET /quota/cluster`` and ``/quota/cluster/{id}/node``: ``{quota, used}``."""

    quota: int
    used: int

    @property
    def left(self) -> int:
        return max(0, self.quota - self.used)

    @classmethod
    def read(cls, r: Reader) -> Quota:
        return cls(r.integer("quota"), r.integer("used"))


@frozen_record
class GroupAutoscaler:
    """An instance group's autoscaling bounds: ``clusterAutoscalerSpec`` in the group's spec,
    and the body of ``PUT .../instancegroup/{id}/autoscaler`` (all four keys always sent)."""

    enabled: bool
    min_replicas: int = 0
    max_replicas: int = 0
    priority: int = 0  # scalingGroupPriority

    def problem(self) -> str | None:
        """The SDK's own check before sending (only when enabled) [SDK ccev2.go:538-545]."""
        if not self.enabled:
            return None
        if self.min_replicas < 0 or self.max_replicas < self.min_replicas:
            return "invalid minReplicas or maxReplicas"
        if self.priority < 0:
            return "invalid scalingGroupPriority"
        return None

    def to_json(self) -> Json:
        return {
            "enabled": self.enabled,
            "minReplicas": self.min_replicas,
            "maxReplicas": self.max_replicas,
            "scalingGroupPriority": self.priority,
        }

    @classmethod
    def read(cls, r: Reader) -> GroupAutoscaler:
        return cls(
            r.boolean("enabled"),
            r.integer("minReplicas"),
            r.integer("maxReplicas"),
            r.integer("scalingGroupPriority"),
        )

    @classmethod
    def read_optional(cls, r: Reader | None) -> GroupAutoscaler | None:
        return None if r is None else cls.read(r)


EXPANDERS = ("random", "most-pods", "least-waste", "priority")


@frozen_record
class AutoscalerConfig:
    """The cluster autoscaler's settings (``caConfig``; the body of ``PUT /autoscaler/{id}``,
    day2 4). ``replicaCount``, ``scaleDownEnabled`` and ``expander`` are always sent; the rest
    only when set. ``instanceGroups`` is never sent: the service derives it from the groups'
    own ``clusterAutoscalerSpec``."""

    expander: str = "random"
    scale_down_enabled: bool = False
    replica_count: int = 0
    kube_version: str = ""
    scale_down_utilization_threshold: int | None = None  # percent
    scale_down_gpu_utilization_threshold: int | None = None
    scale_down_unneeded_time: int | None = None  # minutes
    scale_down_delay_after_add: int | None = None  # minutes
    max_empty_bulk_delete: int | None = None
    skip_nodes_with_local_storage: bool | None = None
    skip_nodes_with_system_pods: bool | None = None
    custom_configs: Mapping[str, str] = field(default_factory=dict, hash=False)

    def to_json(self) -> Json:
        body: Json = {}
        _put(body, "kubeVersion", self.kube_version)
        body["replicaCount"] = self.replica_count
        body["scaleDownEnabled"] = self.scale_down_enabled
        for key, value in (  # pointers in the SDK: sent whenever set, 0 and false included
            ("scaleDownUtilizationThreshold", self.scale_down_utilization_threshold),
            ("scaleDownGPUUtilizationThreshold", self.scale_down_gpu_utilization_threshold),
            ("scaleDownUnneededTime", self.scale_down_unneeded_time),
            ("scaleDownDelayAfterAdd", self.scale_down_delay_after_add),
            ("maxEmptyBulkDelete", self.max_empty_bulk_delete),
            ("skipNodesWithLocalStorage", self.skip_nodes_with_local_storage),
            ("skipNodesWithSystemPods", self.skip_nodes_with_system_pods),
        ):
            if value is not None:
                body[key] = value
        body["expander"] = self.expander
        _put(body, "customConfigs", dict(self.custom_configs))
        return body

    @classmethod
    def read(cls, r: Reader) -> AutoscalerConfig:
        return cls(
            expander=r.text("expander"),
            scale_down_enabled=r.boolean("scaleDownEnabled"),
            replica_count=r.integer("replicaCount"),
            kube_version=r.opt_text("kubeVersion") or "",
            scale_down_utilization_threshold=r.opt_integer("scaleDownUtilizationThreshold"),
            scale_down_gpu_utilization_threshold=r.opt_integer("scaleDownGPUUtilizationThreshold"),
            scale_down_unneeded_time=r.opt_integer("scaleDownUnneededTime"),
            scale_down_delay_after_add=r.opt_integer("scaleDownDelayAfterAdd"),
            max_empty_bulk_delete=r.opt_integer("maxEmptyBulkDelete"),
            skip_nodes_with_local_storage=r.opt_boolean("skipNodesWithLocalStorage"),
            skip_nodes_with_system_pods=r.opt_boolean("skipNodesWithSystemPods"),
            custom_configs=r.text_map("customConfigs"),
        )


@frozen_record
class ClusterAutoscaler:
    """``GET /autoscaler/{id}``: ``{"autoscaler": {clusterID, clusterName, caConfig}}``."""

    cluster_id: str
    config: AutoscalerConfig
    cluster_name: str | None = None

    @classmethod
    def read(cls, r: Reader) -> ClusterAutoscaler:
        return cls(
            r.text("clusterID", nonempty=True),
            AutoscalerConfig.read(r.obj("caConfig")),
            r.opt_text("clusterName"),
        )


# --- day 2: instance group configure (cce-v2-day2-api.md 2.1) ---------------------------------

# The keys of the SDK's InstanceGroupSpec, in its order, and which are always sent.
_GROUP_SPEC_KEYS = (
    ("cceInstanceGroupID", False),
    ("instanceGroupName", True),
    ("clusterID", False),
    ("clusterRole", False),
    ("selector", True),
    ("shrinkPolicy", False),
    ("updatePolicy", False),
    ("cleanPolicy", False),
    ("instanceTemplate", True),
    ("instanceTemplates", False),
    ("replicas", True),
    ("clusterAutoscalerSpec", False),
    ("iamRole", False),
    ("remedyRulesBinding", False),
    ("securityGroups", False),
    ("securityGroupType", False),
    ("customNodeNameEnabled", False),
    ("customNodeNameRule", False),
)


def _thaw(value: Any) -> Any:
    """Plain JSON (dicts, lists) from a frozen answer, to send back."""
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_thaw(v) for v in value]
    return value


@frozen_record
class TemplateEdit:
    """What a configure changes in a group's instance template; None leaves a key as read."""

    labels: Mapping[str, str] | None = None
    taints: tuple[Taint, ...] | None = None
    annotations: Mapping[str, str] | None = None
    admin_password: str | None = field(default=None, repr=False)
    cce_instance_priority: int | None = None

    def apply(self, template: Mapping[str, Any]) -> Json:
        out: Json = _thaw(template)
        for key, value in (
            ("labels", None if self.labels is None else dict(self.labels)),
            ("taints", None if self.taints is None else [t.to_json() for t in self.taints]),
            ("annotations", None if self.annotations is None else dict(self.annotations)),
            ("adminPassword", self.admin_password),
            ("cceInstancePriority", self.cce_instance_priority),
        ):
            if value is None:
                continue
            out.pop(key, None)
            _put(out, key, value)  # omitempty: an empty map clears the key
        return out


@frozen_record
class InstanceGroupConfigure:
    """``PUT .../instancegroup/{id}/configure``: ``passwordNeedUpdate``, ``syncMeta`` and the
    group's WHOLE spec flattened beside them (the SDK's ``UpdateInstanceGroupConfigure``). The
    call replaces the spec, so it is built from the spec as read (:meth:`from_group`), with
    ``replicas`` as read and ``selector`` null, as the SDK sends them."""

    spec: Mapping[str, Any] = field(hash=False)
    password_need_update: bool = False
    sync_meta: bool = True  # also push labels / taints / annotations to the existing nodes

    @classmethod
    def from_group(
        cls,
        group: InstanceGroup,
        edit: TemplateEdit,
        *,
        sync_meta: bool = True,
    ) -> InstanceGroupConfigure:
        spec = dict(_thaw(group.spec))
        spec["instanceTemplate"] = edit.apply(group.instance_template)
        spec["replicas"] = group.replicas
        return cls(spec, edit.admin_password is not None, sync_meta)

    def to_json(self) -> Json:
        body: Json = {"passwordNeedUpdate": self.password_need_update, "syncMeta": self.sync_meta}
        for key, always in _GROUP_SPEC_KEYS:
            value = None if key == "selector" else self.spec.get(key)
            if always:
                body[key] = value
            else:
                _put(body, key, value)
        return body


# --- day 2: scale tasks (cce-v2-day2-api.md 2.3, 2.5) ----------------------------------------

TASK_TYPE = "InstanceGroupReplicas"  # the only task type [SDK types/task.go:14]
TASK_DONE, TASK_ABORTED = "Done", "Aborted"
TASK_PHASES = ("Pending", "Processing", "Collecting", TASK_DONE, TASK_ABORTED)


@frozen_record
class TaskProcess:
    name: str
    phase: str
    metrics: Mapping[str, str] = field(default_factory=dict, hash=False)  # cceInstanceID -> outcome
    err_message: str = ""

    @classmethod
    def read(cls, r: Reader) -> TaskProcess:
        return cls(
            r.opt_text("name") or "",
            r.opt_text("phase") or "",
            r.text_map("metrics"),
            r.opt_text("errMessage") or "",
        )


@frozen_record
class Task:
    """A scale task (``task-<groupID>-scaleup|scaledown|scaleupexist-xxxxxxxx``). ``Done`` can
    hold nodes that failed: :attr:`failed_nodes` reads them from the processes' metrics."""

    task_id: str
    phase: str  # Pending, Processing, Collecting, Done, Aborted
    task_type: str = ""
    description: str = ""
    err_message: str = ""
    processes: tuple[TaskProcess, ...] = ()

    @property
    def finished(self) -> bool:
        return self.phase in (TASK_DONE, TASK_ABORTED)

    @property
    def failed_nodes(self) -> tuple[str, ...]:
        return tuple(
            node
            for process in self.processes
            for node, outcome in process.metrics.items()
            if outcome.lower().endswith("failed")
        )

    @classmethod
    def read(cls, r: Reader) -> Task:
        processes = r.opt_objects("processes")
        return cls(
            r.text("id", nonempty=True),
            r.text("phase", nonempty=True),
            r.opt_text("type") or "",
            r.opt_text("description") or "",
            r.opt_text("errMessage") or "",
            tuple(TaskProcess.read(p) for p in processes),
        )


# --- day 2: node upgrades (cce-v2-day2-api.md 5) ---------------------------------------------

COMPONENTS = ("kubelet", "containerRuntime", "nvidiaContainerToolkit", "xpuContainerToolkit",
              "gpuDriver")  # fmt: skip
PAUSE_POLICIES = ("NotPause", "FirstBatch", "EveryBatch")
UPGRADE_NODES = "UpgradeNodes"
WORKFLOW_TYPES = (UPGRADE_NODES, "UpgradeNodesPreCheck", "UpgradeKubeletConfig")
WF_SUCCEEDED, WF_FAILED, WF_PAUSED, WF_DELETED = "Succeeded", "Failed", "Paused", "Deleted"
WORKFLOW_PHASES = ("Pending", "Upgrading", WF_SUCCEEDED, WF_FAILED, "verifying", "Warning",
                   "Skipped", "Confirmed", WF_PAUSED, "Deleting", WF_DELETED, "Unknown")  # fmt: skip


@frozen_record
class ComponentVersions:
    """What one node component runs now and what it may be upgraded to."""

    current_version: str
    targets: tuple[str, ...] = ()
    need_drain: Mapping[str, bool] = field(default_factory=dict, hash=False)

    @classmethod
    def read(cls, r: Reader) -> ComponentVersions:
        # Go writes a slice it never filled as null; the key itself is always sent.
        versions = r.opt_objects("componentVersions")
        targets = tuple(v.text("targetVersion") for v in versions)
        drains = {v.text("targetVersion"): v.boolean("needDrainNode") for v in versions}
        return cls(r.text("currentVersion"), targets, drains)


@frozen_record
class UpgradeVersions:
    """``GET .../instancegroup/{id}/component_upgrade_versions``: per component (``kubelet``,
    ``containerRuntime``, ...), the current version and the upgrade targets."""

    components: Mapping[str, ComponentVersions] = field(hash=False)

    def of(self, name: str) -> ComponentVersions:
        return self.components[name]

    @classmethod
    def read(cls, r: Reader) -> UpgradeVersions:
        return cls({name: ComponentVersions.read(r.obj(name)) for name in COMPONENTS})


@frozen_record
class ComponentUpgrade:
    name: str  # one of COMPONENTS
    target_version: str
    current_version: str = ""

    def to_json(self) -> Json:
        body: Json = {"name": self.name}
        _put(body, "currentVersion", self.current_version)
        _put(body, "targetVersion", self.target_version)
        return body

    @classmethod
    def read(cls, r: Reader) -> ComponentUpgrade:
        return cls(
            r.text("name", nonempty=True),
            r.opt_text("targetVersion") or "",
            r.opt_text("currentVersion") or "",
        )


@frozen_record
class UpgradeNodes:
    """``upgradeNodesWorkflowConfig`` (every key omitempty): upgrade these components on the
    group's nodes, ``batch_size`` nodes at a time, pausing as ``pause_policy`` says."""

    instance_group_id: str
    components: tuple[ComponentUpgrade, ...]
    batch_size: int = 0  # nodeUpgradeBatchSize
    drain_before_upgrade: bool | None = None
    pause_policy: str | None = None  # NotPause, FirstBatch, EveryBatch
    batch_interval_minutes: int | None = None
    cce_instance_ids: tuple[str, ...] = ()

    def to_json(self) -> Json:
        body: Json = {}
        _put(body, "cceInstanceIDList", list(self.cce_instance_ids))
        _put(body, "instanceGroupID", self.instance_group_id)
        _put(body, "nodeUpgradeBatchSize", self.batch_size)
        for key, value in (
            ("drainNodeBeforeUpgrade", self.drain_before_upgrade),
            ("pausePolicy", self.pause_policy),
            ("batchIntervalMinutes", self.batch_interval_minutes),
        ):
            if value is not None:  # pointers in the SDK: sent whenever set
                body[key] = value
        _put(body, "components", [c.to_json() for c in self.components])
        return body


@frozen_record
class WorkflowCreate:
    """``POST /cluster/{id}/workflow``: all three keys always sent; the config sits under
    ``workflowConfig`` here but under ``config`` in a read workflow's spec."""

    config: UpgradeNodes
    workflow_type: str = UPGRADE_NODES
    unhealthy_pods_percent: int = 0  # watchDogConfig; 0: no watchdog

    def to_json(self) -> Json:
        watchdog: Json = {}
        _put(watchdog, "unhealthyPodsPercent", self.unhealthy_pods_percent)
        return {
            "workflowType": self.workflow_type,
            "workflowConfig": {"upgradeNodesWorkflowConfig": self.config.to_json()},
            "watchDogConfig": watchdog,
        }


@frozen_record
class WorkflowCreated:
    workflow_id: str
    request_id: str


@frozen_record
class Workflow:
    """``GET /cluster/{id}/workflow/{wf}``. Every spec key and ``status.phase`` are omitempty
    in the SDK: a phase not yet set reads as ""; the two task counts are always sent."""

    phase: str  # WORKFLOW_PHASES, or "" before the service set one
    total_tasks: int
    finished_tasks: int
    workflow_id: str | None = None
    workflow_type: str | None = None
    paused: bool = False  # spec.paused
    error_message: str = ""
    paused_reason: str = ""  # status.watchDogStatus.pausedReason
    instance_group_id: str | None = None
    components: tuple[ComponentUpgrade, ...] = ()
    spec: Mapping[str, Any] = _raw()
    status: Mapping[str, Any] = _raw()

    @property
    def finished(self) -> bool:
        return self.phase in (WF_SUCCEEDED, WF_FAILED, WF_DELETED)

    @classmethod
    def read(cls, r: Reader) -> Workflow:
        spec, status = r.obj("spec"), r.obj("status")
        config = spec.opt_obj("config")
        nodes = None if config is None else config.opt_obj("upgradeNodesWorkflowConfig")
        components = nodes.opt_objects("components") if nodes else []
        watchdog = status.opt_obj("watchDogStatus")
        return cls(
            phase=status.opt_text("phase") or "",
            total_tasks=status.integer("totalTaskCount"),
            finished_tasks=status.integer("finishedTaskCount"),
            workflow_id=spec.opt_text("workflowID"),
            workflow_type=spec.opt_text("workflowType"),
            paused=bool(spec.opt_boolean("paused")),
            error_message=status.opt_text("errorMessage") or "",
            paused_reason=(watchdog.opt_text("pausedReason") or "") if watchdog else "",
            instance_group_id=None if nodes is None else nodes.opt_text("instanceGroupID"),
            components=tuple(ComponentUpgrade.read(c) for c in components),
            spec=spec.raw(),
            status=status.raw(),
        )


WORKFLOW_ACTIONS = ("pause", "resume", "updateSpec")


# --- day 2: add-ons (cce-v2-day2-api.md 6) ---------------------------------------------------

ADDON_RUNNING = "Running"
ADDON_PHASES = (ADDON_RUNNING, "Abnormal", "Installing", "Uninstalling", "Upgrading", "Failed",
                "Deleting")  # fmt: skip
ADDON_FAILED_PHASES = ("Abnormal", "Failed")


@frozen_record
class AddonInstance:
    """An installed add-on (``instance``; every key omitempty in the SDK, the four info
    objects and ``status`` are structs and always sent)."""

    name: str
    installed_version: str
    params: str  # a YAML string, add-on specific
    phase: str  # ADDON_PHASES; "" when the service left it out
    message: str = ""  # status.message: why it is abnormal
    allow_upgrade: bool = False
    next_version: str = ""
    allow_update: bool = False
    allow_uninstall: bool = False

    @classmethod
    def read(cls, r: Reader) -> AddonInstance:
        status = r.obj("status")
        upgrade = r.obj("upgradeInfo")
        return cls(
            name=r.opt_text("name") or "",
            installed_version=r.opt_text("installedVersion") or "",
            params=r.opt_text("params") or "",
            phase=status.opt_text("phase") or "",
            message=status.opt_text("message") or "",
            allow_upgrade=upgrade.boolean("allowUpgrade"),
            next_version=upgrade.text("nextVersion"),
            allow_update=r.obj("updateInfo").boolean("allowUpdate"),
            allow_uninstall=r.obj("uninstallInfo").boolean("allowUninstall"),
        )


@frozen_record
class Addon:
    """One add-on of a cluster (``AddOnInfo``): its catalogue entry and, when installed, its
    instance (``instances`` too for add-ons installed several times)."""

    name: str
    latest_version: str
    addon_type: str = ""
    default_params: str = ""
    allow_install: bool = False
    install_message: str = ""
    instance: AddonInstance | None = None  # None: not installed
    instances: tuple[AddonInstance, ...] = ()

    @classmethod
    def read(cls, r: Reader) -> Addon:
        meta = r.obj("meta")
        install = meta.obj("installInfo")
        instance = r.opt_obj("instance")
        many = r.opt_objects("multiInstances")
        return cls(
            name=meta.text("name", nonempty=True),
            latest_version=meta.opt_text("latestVersion") or "",
            addon_type=meta.opt_text("type") or "",
            default_params=meta.opt_text("defaultParams") or "",
            allow_install=install.boolean("allowInstall"),
            install_message=install.opt_text("message") or "",
            instance=None if instance is None else AddonInstance.read(instance),
            instances=tuple(AddonInstance.read(i) for i in many),
        )


@frozen_record
class AddonInstall:
    """``POST /cluster/{id}/addon``; ``version`` "usually not needed", ``params`` a YAML string."""

    name: str
    version: str = ""
    params: str = ""

    def to_json(self, cluster_id: str) -> Json:
        body: Json = {"name": self.name}
        _put(body, "version", self.version)
        _put(body, "params", self.params)
        body["clusterID"] = cluster_id
        return body


@frozen_record
class AddonUpgrade:
    """``POST /cluster/{id}/addon/upgrade``: to ``target_version`` ("" lets the service pick)."""

    name: str
    target_version: str = ""
    instance_name: str = ""
    params: str = ""

    def to_json(self, cluster_id: str) -> Json:
        body: Json = {}
        _put(body, "name", self.name)
        body["clusterID"] = cluster_id
        _put(body, "targetVersion", self.target_version)
        _put(body, "instanceName", self.instance_name)
        _put(body, "params", self.params)
        return body


@frozen_record
class AddonUpdate:
    """``PUT /cluster/{id}/addon``: new parameters (required by the service)."""

    name: str
    params: str
    instance_name: str = ""

    def to_json(self, cluster_id: str) -> Json:
        body: Json = {"name": self.name, "clusterID": cluster_id}
        _put(body, "instanceName", self.instance_name)
        _put(body, "params", self.params)
        return body


@frozen_record
class AddonUninstall:
    """``DELETE /cluster/{id}/addon`` WITH a body."""

    name: str
    instance_name: str = ""

    def to_json(self, cluster_id: str) -> Json:
        body: Json = {"name": self.name, "clusterID": cluster_id}
        _put(body, "instanceName", self.instance_name)
        return body

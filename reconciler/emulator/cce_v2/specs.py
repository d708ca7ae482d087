"""CCE v2 request bodies checked and turned into the specs the answers carry.

For: the allowed values (from the Go SDK's ``types/*.go`` and the docs), the defaults the
server fills in, and the rules a body must meet (``InvalidParam`` with the detail): a create
body's ``cluster`` into a ClusterSpec, an InstanceSpec (template) with ``adminPassword`` never
kept, a bare InstanceGroupSpec. Keys are read like Go's ``encoding/json`` (:data:`.errors.READ`)
and enum values case-insensitively; the stored specs use the SDK's spelling (:func:`put`).
Not for: storing or the lifecycle (:mod:`.models`), nor the wire envelope (:mod:`.handlers`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Any

from ..params import Json
from .errors import READ, invalid

MASTER, NODE = "master", "node"

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
GROUP_KEYWORD_TYPES = ("instanceGroupName", "instanceGroupID")  # [DOC]
INSTANCE_KEYWORD_TYPES = ("instanceName", "instanceID", "k8sNodeName", "vpcIP",
                          "instanceGroupID", "clusterRole")  # [SDK] + [DOC]  # fmt: skip
INSTANCE_ORDER_BY = ("instanceName", "instanceID", "createdAt")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
EXPANDERS = ("random", "most-pods", "least-waste", "priority")  # [DOC]
# What a configure may not change: the machine (the reconciler replaces the group) [GUESS].
FIXED_TEMPLATE_KEYS = ("machineType", "instanceType", "instanceResource", "imageID")
FIXED_VPC_KEYS = ("vpcSubnetID", "securityGroupID")
CLUSTER_ORDER_BY = ("clusterName", "clusterID", "createdAt")
ORDERS = ("ASC", "DESC")
CLUSTER_NAME = re.compile(r"[\w.\-]{1,65}")  # letters, digits, - . _; at most 65 [DOC]
PASSWORD_SPECIAL = re.compile(r"[!@#$%^*()]")
VPC_CIDR = "192.168.0.0/16"


# --- reading and writing keys ------------------------------------------------------------------


def put(data: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` in the SDK's spelling, dropping any differently-cased copy."""
    for other in [k for k in data if k.lower() == key.lower() and k != key]:
        del data[other]
    data[key] = value


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
    raw = READ.section(body, "cluster")
    if not raw:
        raise invalid("cluster is required")
    name = READ.text(raw, "clusterName", where="cluster.")
    if not CLUSTER_NAME.fullmatch(name):
        raise invalid("cluster.clusterName must be 1-65 letters, digits, '-', '.' or '_'")
    version = choice(
        READ.text(raw, "k8sVersion", where="cluster."), K8S_VERSIONS, "cluster.k8sVersion"
    )
    vpc_id = READ.text(raw, "vpcID", where="cluster.")
    if not vpc_id:
        raise invalid("cluster.vpcID is required")
    runtime = choice(
        READ.text(raw, "runtimeType", where="cluster.") or "docker", RUNTIME_TYPES, "runtimeType"
    )
    plugins = READ.strings(raw, "plugins", "cluster.")
    network = _network_config(READ.section(raw, "containerNetworkConfig", "cluster."))
    spec: dict[str, Any] = {
        "clusterID": cluster_id,
        "clusterName": name,
        "clusterType": choice(
            READ.text(raw, "clusterType", where="cluster.") or "normal",
            CLUSTER_TYPES,
            "clusterType",
        ),
        "description": READ.text(raw, "description", where="cluster."),
        "k8sVersion": version,
        "runtimeType": runtime,
        "runtimeVersion": READ.text(raw, "runtimeVersion", where="cluster.")
        or RUNTIME_VERSIONS[runtime],
        "vpcID": vpc_id,
        "vpcCIDR": VPC_CIDR,
        "vpcUUID": vpc_uuid,
        "vpcName": "default",
        "plugins": plugins or _default_plugins(network["mode"]),
        "forbidDelete": bool(READ.opt_bool(raw, "forbidDelete", "cluster.")),
        "masterConfig": _master_config(READ.section(raw, "masterConfig", "cluster.")),
        "containerNetworkConfig": network,
        "k8sCustomConfig": READ.section(raw, "k8sCustomConfig", "cluster."),
        "resourceChargingOption": READ.section(raw, "resourceChargingOption", "cluster."),
    }
    for key in _OPTIONAL_LISTS:
        spec[key] = READ.items(raw, key, "cluster.") or None  # nil slices: Go writes null
    return spec


_OPTIONAL_LISTS = (
    "masterDefaultSecurityGroups",
    "nodeDefaultSecurityGroups",
    "eniDefaultSecurityGroups",
    "tags",
)


def _default_plugins(mode: str) -> list[str]:
    extra = ["ip-masq-agent"] if mode == "kubenet" else ["vpc-cni"]
    return ["core-dns", "kube-proxy", "metrics-server", *extra]


def _master_config(raw: dict[str, Any]) -> dict[str, Any]:
    where = "cluster.masterConfig."
    if not raw:
        raise invalid("cluster.masterConfig is required")
    master_type = choice(READ.text(raw, "masterType", where=where), MASTER_TYPES, "masterType")
    ha = READ.opt_int(raw, "clusterHA", where) or (2 if master_type == "serverless" else 3)
    if ha not in CLUSTER_HA:
        raise invalid(f"{where}clusterHA must be one of 1, 2, 3, 5")
    option = READ.section(raw, "managedClusterMasterOption", where)
    put(
        option,
        "masterVPCSubnetZone",
        READ.text(option, "masterVPCSubnetZone", where=where) or "zoneA",
    )
    config = dict(raw)
    put(config, "masterType", master_type)
    put(config, "clusterHA", ha)
    put(config, "exposedPublic", bool(READ.opt_bool(raw, "exposedPublic", where)))
    put(config, "clusterBLBVPCSubnetID", READ.text(raw, "clusterBLBVPCSubnetID", where=where))
    put(config, "managedClusterMasterOption", option)
    return config


def _network_config(raw: dict[str, Any]) -> dict[str, Any]:
    where = "cluster.containerNetworkConfig."
    mode = choice(READ.text(raw, "mode", where=where) or "kubenet", NETWORK_MODES, "mode")
    if not READ.text(raw, "lbServiceVPCSubnetID", where=where):
        raise invalid(f"{where}lbServiceVPCSubnetID is required")
    pod_cidr = READ.text(raw, "clusterPodCIDR", where=where)
    if mode == "kubenet" and not pod_cidr:
        raise invalid(f"{where}clusterPodCIDR is required for kubenet")
    service_cidr = READ.text(raw, "clusterIPServiceCIDR", where=where) or "172.31.0.0/16"
    service = _network(service_cidr, "clusterIPServiceCIDR")
    pod = _network(pod_cidr, "clusterPodCIDR") if pod_cidr else None
    if pod is not None and pod.version == service.version and pod.overlaps(service):
        raise invalid("clusterPodCIDR and clusterIPServiceCIDR overlap")
    low = READ.opt_int(raw, "nodePortRangeMin", where) or 30000
    high = READ.opt_int(raw, "nodePortRangeMax", where) or 32767
    if not 0 < low <= high <= 65535:
        raise invalid(f"{where}nodePortRangeMin/Max do not make a range")
    config = dict(raw)
    put(config, "mode", mode)
    put(
        config,
        "ipVersion",
        choice(READ.text(raw, "ipVersion", where=where) or "ipv4", IP_VERSIONS, "ipVersion"),
    )
    put(config, "clusterPodCIDR", pod_cidr)
    put(config, "clusterIPServiceCIDR", service_cidr)
    put(config, "maxPodsPerNode", READ.opt_int(raw, "maxPodsPerNode", where) or 128)
    proxy = READ.text(raw, "kubeProxyMode", where=where) or "ipvs"
    put(config, "kubeProxyMode", choice(proxy, KUBE_PROXY_MODES, "kubeProxyMode"))
    put(config, "nodePortRangeMin", low)
    put(config, "nodePortRangeMax", high)
    return config


def instance_template(raw: Json, where: str) -> dict[str, Any]:
    """An InstanceSpec as stored: checked, defaults filled, ``adminPassword`` never kept."""
    spec = {k: v for k, v in raw.items() if k.lower() != "adminpassword"}
    _check_password(READ.text(raw, "adminPassword", where=where), where)
    existed = bool(READ.opt_bool(raw, "existed", where))
    vpc = READ.section(raw, "vpcConfig", where)
    if not existed and not READ.text(vpc, "vpcSubnetID", where=f"{where}vpcConfig."):
        raise invalid(f"{where}vpcConfig.vpcSubnetID is required for a new instance")
    put(
        vpc, "availableZone", READ.text(vpc, "availableZone", where=f"{where}vpcConfig.") or "zoneA"
    )
    put(vpc, "vpcSubnetType", READ.text(vpc, "vpcSubnetType", where=f"{where}vpcConfig.") or "BCC")
    resource = READ.section(raw, "instanceResource", where)
    for key in ("cpu", "mem", "rootDiskSize"):
        if (READ.opt_int(resource, key, f"{where}instanceResource.") or 0) < 0:
            raise invalid(f"{where}instanceResource.{key} must not be negative")
    READ.text(raw, "instanceType", where=where)
    labels = READ.section(raw, "labels", where)
    annotations = READ.section(raw, "annotations", where)
    for key, values in (("labels", labels), ("annotations", annotations)):
        if not all(isinstance(v, str) for v in values.values()):
            raise invalid(f"{where}{key} must map strings to strings")
    taints = [_taint(READ.element(t, f"{where}taints[]"), where) for t in READ.items(raw, "taints")]
    machine = READ.text(raw, "machineType", where=where) or "BCC"
    put(spec, "machineType", choice(machine, MACHINE_TYPES, "machineType"))
    put(spec, "vpcConfig", vpc)
    put(spec, "instanceResource", resource)
    put(spec, "labels", labels)
    if annotations:
        put(spec, "annotations", annotations)
    if taints:
        put(spec, "taints", taints)
    put(spec, "existed", existed)
    put(
        spec,
        "instanceChargingType",
        READ.text(raw, "instanceChargingType", where=where) or "Postpaid",
    )
    put(spec, "cceInstancePriority", READ.opt_int(raw, "cceInstancePriority", where) or 5)
    return spec


def _taint(raw: Json, where: str) -> dict[str, Any]:
    key = READ.text(raw, "key", where=f"{where}taints[].")
    if not key:
        raise invalid(f"{where}taints[].key is required")
    effect = choice(READ.text(raw, "effect", where=f"{where}taints[]."), TAINT_EFFECTS, "effect")
    taint: dict[str, Any] = {"key": key}
    value = READ.text(raw, "value", where=f"{where}taints[].")
    if value:
        taint["value"] = value
    taint["effect"] = effect
    return taint


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
    name = READ.text(body, "instanceGroupName")
    if not name:
        raise invalid("instanceGroupName is required")
    sent_cluster = READ.text(body, "clusterID")
    if sent_cluster and sent_cluster != cluster_id:
        raise invalid(f"clusterID {sent_cluster!r} is not the cluster of the path")
    role = choice(READ.text(body, "clusterRole") or NODE, CLUSTER_ROLES, "clusterRole")
    if role != NODE:
        raise invalid("an instance group holds worker nodes only (clusterRole node)")
    replicas = READ.opt_int(body, "replicas")
    if replicas is None or replicas < 0:
        raise invalid("replicas is required and must not be negative")
    templates = [
        instance_template(READ.element(t, "instanceTemplates[]"), "instanceTemplates[].")
        for t in READ.items(body, "instanceTemplates")
    ]
    template_raw = READ.section(body, "instanceTemplate")
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
        put(spec, key, choice(READ.text(body, key) or default, allowed, key))
    put(spec, "instanceTemplate", template)
    put(spec, "instanceTemplates", templates or None)
    put(spec, "replicas", replicas)
    return spec


def configured_group_spec(body: Json, current: dict[str, Any]) -> dict[str, Any]:
    """The stored spec after ``PUT .../configure``: the body is the whole InstanceGroupSpec.
    The group's identity, ``replicas`` (scaling has its own calls) and the template's
    ``runtimeVersion`` (upgrades change it) are kept; the machine must not change [GUESS]."""
    where = "instanceTemplate."
    for key in ("cceInstanceGroupID", "clusterID"):
        sent = READ.text(body, key)
        if sent and sent != current[key]:
            raise invalid(f"{key} {sent!r} is not the group of the path")
    template = instance_template(READ.section(body, "instanceTemplate"), where)
    before = current["instanceTemplate"]
    for key in FIXED_TEMPLATE_KEYS:
        if template.get(key) != before.get(key):
            raise invalid(f"{where}{key} cannot be changed by configure; create a new group")
    for key in FIXED_VPC_KEYS:
        if template["vpcConfig"].get(key) != before["vpcConfig"].get(key):
            raise invalid(f"{where}vpcConfig.{key} cannot be changed by configure")
    if "runtimeVersion" in before:
        template["runtimeVersion"] = before["runtimeVersion"]
    else:
        template.pop("runtimeVersion", None)
    spec = dict(current)
    name = READ.text(body, "instanceGroupName")
    if not name:
        raise invalid("instanceGroupName is required")
    put(spec, "instanceGroupName", name)
    for key, allowed in (
        ("shrinkPolicy", SHRINK_POLICIES),
        ("updatePolicy", UPDATE_POLICIES),
        ("cleanPolicy", CLEAN_POLICIES),
    ):
        value = READ.text(body, key)
        if value:
            put(spec, key, choice(value, allowed, key))
    autoscaler = READ.opt_obj(body, "clusterAutoscalerSpec")
    if autoscaler is not None:
        put(spec, "clusterAutoscalerSpec", group_autoscaler(autoscaler))
    put(spec, "instanceTemplate", template)
    return spec


def group_autoscaler(body: Json) -> dict[str, Any]:
    """``{enabled, minReplicas, maxReplicas, scalingGroupPriority}``, all four required [DOC],
    checked as the SDK checks them when enabled (min <= max; the docs say min < max)."""
    enabled = READ.opt_bool(body, "enabled")
    numbers = [
        READ.opt_int(body, k) for k in ("minReplicas", "maxReplicas", "scalingGroupPriority")
    ]
    if enabled is None or any(n is None for n in numbers):
        raise invalid("enabled, minReplicas, maxReplicas and scalingGroupPriority are required")
    low, high, priority = (int(n or 0) for n in numbers)
    if enabled and not (0 <= low <= high and priority >= 0):
        raise invalid("invalid minReplicas, maxReplicas or scalingGroupPriority")
    return {"enabled": enabled, "minReplicas": low, "maxReplicas": high,
            "scalingGroupPriority": priority}  # fmt: skip


def autoscaler_config(body: Json, cluster: dict[str, Any]) -> dict[str, Any]:
    """A ``caConfig`` as stored after ``PUT /autoscaler/{id}`` (a bare config body)."""
    expander = choice(READ.text(body, "expander"), EXPANDERS, "expander")
    config: dict[str, Any] = {
        "kubeVersion": READ.text(body, "kubeVersion") or cluster["k8sVersion"],
        "replicaCount": READ.number(body, "replicaCount"),
        "scaleDownEnabled": bool(READ.opt_bool(body, "scaleDownEnabled")),
        "expander": expander,
    }
    for key in ("scaleDownUtilizationThreshold", "scaleDownGPUUtilizationThreshold"):
        value = READ.opt_int(body, key)
        if value is not None:
            if not 0 < value < 100:
                raise invalid(f"{key} must be within (0, 100)")
            config[key] = value
    for key in ("scaleDownUnneededTime", "scaleDownDelayAfterAdd", "maxEmptyBulkDelete"):
        value = READ.opt_int(body, key)
        if value is not None:
            if value < 0:
                raise invalid(f"{key} must not be negative")
            config[key] = value
    for key in ("skipNodesWithLocalStorage", "skipNodesWithSystemPods"):
        flag = READ.opt_bool(body, key)
        config[key] = True if flag is None else flag  # default true [DOC]
    custom = READ.section(body, "customConfigs")
    if not all(isinstance(v, str) for v in custom.values()):
        raise invalid("customConfigs must map strings to strings")
    if custom:
        config["customConfigs"] = custom
    return config

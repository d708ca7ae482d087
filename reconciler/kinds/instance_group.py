"""Instance groups of CCE v2 clusters (``instance_group.CLUSTER/NAME``): a node pool of one
``k8s_cluster``, which it depends on and which contains it (deleting the cluster deletes its
groups, after them in the graph, with no planner change).

In place (cce-v2-day2-api.md 2, 5): ``replicas`` (``PUT .../replicas`` to grow, ``PUT
.../scaledown`` naming the newest nodes to shrink; done when the group holds exactly its nodes,
all running); the template's labels, taints, annotations and admin password (one ``configure``
with the whole spec as read, ``syncMeta`` on, waited for until it reads back); the
``autoscaler`` bounds (while enabled, ``replicas`` is left to the autoscaler: never planned nor
drift); ``kubeletVersion`` / ``containerRuntimeVersion`` (:class:`NodeUpgrade`: one
``UpgradeNodes`` workflow, its id journaled before the wait so that a killed run resumes it,
never starts a second). The machine is fixed: its fields force a replacement. The plan checks
declared versions against what the group offers (one GET per group declaring a version) and
new nodes against the cluster's node quota.

The cloud id is ``CLUSTER_ID/GROUP_ID``: every group call needs both, and ``read_one`` (import,
lost answers) is given nothing but the id. A create has no client token, so a lost answer is
settled by reading the cluster's groups by name before anything is sent again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from reconciler import waiters
from reconciler.errors import (
    NotFoundError,
    OutcomeUnknownError,
    ReconcilerError,
)
from reconciler.kinds.base import (
    V2_CLUSTER_KIND,
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
    create_once,
    drop_none,
    ensure_cluster_autoscaler,
    in_cluster_id,
    in_parallel,
    in_v2_cluster,
    scale_step,
    split_in_cluster_id,
    status_of,
    terraform_int,
    terraform_text,
    v2_client,
)
from reconciler.kinds.fields import (
    IN_PLACE,
    VARIABLE_REF,
    Field,
    Section,
    boolean,
    choice,
    integer,
    text,
)
from reconciler.model import Address, Spec
from reconciler.plan import ScaleStep
from reconciler.probes import (
    NOT_USED,
    SKIPPED,
    Check,
    Doctor,
    Phase,
    Probe,
    v2_cluster,
    v2_list,
    v2_object,
)

if TYPE_CHECKING:
    from reconciler.client.v1 import CceClient
    from reconciler.client.v1_types import Listing
    from reconciler.client.v2 import CceV2Client
    from reconciler.client.v2_types import (
        CceInstance,
        ComponentUpgrade,
        GroupAutoscaler,
        InstanceGroup,
        InstanceGroupCreate,
        InstanceTemplate,
        Quota,
        UpgradeVersions,
        Workflow,
    )
    from reconciler.diff import FieldChange
    from reconciler.plan import Change
    from reconciler.state import ResourceState


SCALE_FIELD = "replicas"
AUTOSCALER = "autoscaler"
KUBELET_VERSION, RUNTIME_VERSION = "kubeletVersion", "containerRuntimeVersion"
# The declared version -> the workflow's component name [SDK types/workflow.go].
COMPONENTS = {KUBELET_VERSION: "kubelet", RUNTIME_VERSION: "containerRuntime"}
META = ("labels", "taints", "annotations")  # changed by PUT .../configure
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
PAUSE_POLICIES = ("NotPause", "FirstBatch", "EveryBatch")
# Why a machine field replaces the group: configure's effect on it is not established.
MACHINE = "the machine of a group's nodes is fixed: the configure call does not change it"
CONFIGURE = "PUT .../instancegroup/{id}/configure, with syncMeta: on the template and the nodes"
UPGRADE = (
    "an UpgradeNodes workflow (batch size and pause policy from upgrade); apply waits for it, "
    "and a killed run resumes the same workflow"
)
VERSIONS_FACT = "instance_group.versions"  # RefreshContext.facts: address -> UpgradeVersions
NODE_QUOTA_FACT = "instance_group.node_quota"  # RefreshContext.facts: cluster id -> Quota
ADMIN_PASSWORD = "adminPassword"
ADMIN_PASSWORD_SPECIALS = "!@#$%^*()"  # cce-v2-api.md: the instance password rule


def admin_password_problem(value: str) -> str | None:
    ok = (
        8 <= len(value) <= 32
        and any(c.isalpha() for c in value)
        and any(c.isdigit() for c in value)
        and any(c in ADMIN_PASSWORD_SPECIALS for c in value)
    )
    if ok:
        return None
    return (
        "adminPassword breaks the v2 API's rule: 8-32 characters with letters, digits and "
        f"one of {ADMIN_PASSWORD_SPECIALS} (cce.warning.InvalidParam)"
    )


V1_CLUSTER_KIND = "cluster"
# Phases after which a cluster no longer exists for planning purposes (as ``k8s_cluster`` says).
GONE_PHASES = frozenset({"deleting", "deleted"})
NAME = "^[A-Za-z][A-Za-z0-9_.-]{0,64}$"
# What ``status`` reports for a group (it has no phase of its own).
READY, SCALING, CREATE_FAILED = "ready", "scaling", "create_failed"
# Node phases that no longer count towards the group.
LEAVING = frozenset({"deleting", "deleted"})
RUNNING = "running"

CREATED = waiters.Waiter(
    "creating",
    {READY: waiters.SUCCESS, CREATE_FAILED: waiters.FAILURE, waiters.GONE: waiters.FAILURE},
)
SCALED = waiters.Waiter(
    "scaling",
    {READY: waiters.SUCCESS, CREATE_FAILED: waiters.FAILURE, waiters.GONE: waiters.FAILURE},
)
DELETED = waiters.Waiter("deleting", {waiters.GONE: waiters.SUCCESS})
CONFIGURED = waiters.Waiter("configuring", {READY: waiters.SUCCESS, waiters.GONE: waiters.FAILURE})
# A node-upgrade workflow's phases [SDK types/workflow.go]; the rest ("Upgrading ...") retry.
SUCCEEDED, FAILED, PAUSED, DELETED_WORKFLOW = "Succeeded", "Failed", "Paused", "Deleted"
UPGRADED = waiters.Waiter(
    "upgrading",
    {
        SUCCEEDED: waiters.SUCCESS,
        PAUSED: waiters.SUCCESS,  # then apply stops, saying so; the next apply resumes it
        FAILED: waiters.FAILURE,
        DELETED_WORKFLOW: waiters.FAILURE,
        waiters.GONE: waiters.FAILURE,
    },
)


def split_cloud_id(cloud_id: str) -> tuple[str, str]:
    return split_in_cluster_id(
        cloud_id, "instance group", "CLUSTER_ID/GROUP_ID (cce-xxxxxxxx/cce-ig-xxxxxxxx)"
    )


def pairs(mapping: Mapping[str, Any]) -> list[str]:
    """Labels or annotations as compared: ``key=value`` strings, sorted. A list, so that a
    key missing live is a difference (the planner fills a mapping's missing keys from the
    declaration); a key cannot hold "=", so the first one splits it back."""
    return sorted(f"{k}={v}" for k, v in mapping.items())


def unpairs(values: Iterable[str]) -> dict[str, str]:
    return dict(v.split("=", 1) for v in values)


def _growth(declared: Iterable[Spec], live: Iterable[LiveObject]) -> dict[str, int]:
    """cluster name -> the nodes the plan adds to it (new groups, and groups whose replicas
    grow; an autoscaled group counts its minReplicas when new, nothing after)."""
    have = {o.address: o for o in live}
    out: dict[str, int] = {}
    for spec in declared:
        cluster = in_v2_cluster(spec.address).name
        existing = have.get(spec.address)
        if existing is None:
            adding = wanted_replicas(spec.attrs)
        elif SCALE_FIELD in spec.attrs:
            adding = max(0, int(spec.attrs[SCALE_FIELD]) - int(existing.attrs.get(SCALE_FIELD, 0)))
        else:
            adding = 0
        if adding:
            out[cluster] = out.get(cluster, 0) + adding
    return out


def _master_version(spec: Spec, view: PlanView) -> str | None:
    """The Kubernetes version of the group's master: the live cluster's, else the declared."""
    cluster = in_v2_cluster(spec.address)
    for live in view.live_objects.get(V2_CLUSTER_KIND, []):
        if live.address == cluster and "k8sVersion" in live.attrs:
            return str(live.attrs["k8sVersion"])
    declared = view.desired.resources.get(cluster)
    return str(declared.attrs["k8sVersion"]) if declared is not None else None


def _count_problems(item: ConfigItem) -> Iterator[Problem]:
    autoscaler = item.data.get(AUTOSCALER)
    enabled = isinstance(autoscaler, Mapping) and autoscaler.get("enabled") is True
    if enabled and SCALE_FIELD in item.data:
        yield (
            item.at(SCALE_FIELD),
            f"{item.label} declares replicas and autoscaler.enabled: true; while the group "
            "autoscales the autoscaler owns its node count: leave replicas out",
        )
    elif not enabled and SCALE_FIELD not in item.data:
        yield (
            item.at(),
            f'{item.label} is missing required key "replicas" (or autoscaler.enabled: true)',
        )
    if not enabled or not isinstance(autoscaler, Mapping):
        return
    low, high = autoscaler.get("minReplicas"), autoscaler.get("maxReplicas")
    if low is None or high is None:
        yield (
            item.at(AUTOSCALER),
            f"{item.label} autoscaler needs minReplicas and maxReplicas when it is enabled",
        )
    elif isinstance(low, int) and isinstance(high, int) and low > high:
        yield (
            item.at(AUTOSCALER, "maxReplicas"),
            f"{item.label} autoscaler maxReplicas {high} is below minReplicas {low}",
        )


def version_attrs(versions: UpgradeVersions | None) -> dict[str, Any]:
    """The nodes' versions (the oldest node's, as the API reports a group's), when read."""
    if versions is None:
        return {}
    return {key: versions.of(name).current_version or None for key, name in COMPONENTS.items()}


def normal_taints(taints: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Taints as compared: key, value ("" when none) and effect, in the declared order."""
    return [{"key": t["key"], "value": t.get("value") or "", "effect": t["effect"]} for t in taints]


def template_attrs(template: InstanceTemplate) -> dict[str, Any]:
    """The declared part of a group's ``instanceTemplate``, as the typed reader read it."""
    return {
        "machineType": template.machine_type or None,
        "instanceType": template.instance_type or None,
        "machineSpec": template.machine_spec or None,
        "cpu": template.cpu,
        "memory": template.mem,
        "rootDiskType": template.root_disk_type or None,
        "rootDiskSize": template.root_disk_size,
        "imageID": template.image_id or None,
        "vpcSubnetID": template.vpc_subnet_id or None,
        "securityGroupID": template.security_group_id or None,
        "labels": pairs(template.labels),
        "taints": normal_taints(
            {"key": t.key, "value": t.value, "effect": t.effect} for t in template.taints
        ),
        "annotations": pairs(template.annotations),
    }


def instance_dict(instance: CceInstance) -> dict[str, Any]:
    return {
        "id": instance.cce_instance_id,
        "phase": instance.phase,
        "createdAt": instance.created_at,
    }


def create_request(attrs: Mapping[str, Any], admin_password: str | None) -> InstanceGroupCreate:
    """The group with its template (labels, taints, annotations and runtime version too) and,
    when it autoscales, its bounds; an autoscaled group starts with minReplicas nodes."""
    # the client's wire types, when used: validate loads the kinds, not the client
    from reconciler.client.v2_types import InstanceGroupCreate, InstanceSpecBody, Taint

    template = InstanceSpecBody(
        attrs["instanceType"],
        vpc_subnet_id=attrs["vpcSubnetID"],
        machine_type=attrs.get("machineType", ""),
        security_group_id=attrs.get("securityGroupID", ""),
        cpu=attrs.get("cpu", 0),
        mem=attrs.get("memory", 0),
        machine_spec=attrs.get("machineSpec", ""),
        root_disk_type=attrs.get("rootDiskType", ""),
        root_disk_size=attrs.get("rootDiskSize", 0),
        image_id=attrs.get("imageID", ""),
        admin_password=admin_password or "",
        runtime_version=attrs.get(RUNTIME_VERSION, ""),
        labels=unpairs(attrs.get("labels", ())),
        taints=tuple(Taint(t["key"], t["value"], t["effect"]) for t in attrs.get("taints", ())),
        annotations=unpairs(attrs.get("annotations", ())),
    )
    return InstanceGroupCreate(
        attrs["name"], template, wanted_replicas(attrs), autoscaler=group_autoscaler(attrs)
    )


def wanted_replicas(attrs: Mapping[str, Any]) -> int:
    """The count to create or wait for: replicas, or (autoscaled) minReplicas."""
    if SCALE_FIELD in attrs:
        return int(attrs[SCALE_FIELD])
    return int(attrs.get(AUTOSCALER, {}).get("minReplicas", 0))


def autoscales(attrs: Mapping[str, Any]) -> bool:
    return bool(attrs.get(AUTOSCALER, {}).get("enabled"))


def group_autoscaler(attrs: Mapping[str, Any]) -> GroupAutoscaler | None:
    from reconciler.client.v2_types import GroupAutoscaler  # see create_request

    declared = attrs.get(AUTOSCALER)
    if declared is None:
        return None
    return GroupAutoscaler(
        bool(declared["enabled"]),
        int(declared.get("minReplicas", 0)),
        int(declared.get("maxReplicas", 0)),
        int(declared.get("priority", 0)),
    )


def autoscaler_attrs(found: GroupAutoscaler | None) -> dict[str, Any]:
    """The group's autoscaler as declared; none reads as off with no range (so that the plan
    of enabling it shows the range it sets)."""
    if found is None:
        return {"enabled": False, "minReplicas": 0, "maxReplicas": 0, "priority": 0}
    return {
        "enabled": found.enabled,
        "minReplicas": found.min_replicas,
        "maxReplicas": found.max_replicas,
        "priority": found.priority,
    }


def newest_first(instances: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Nodes still in the group, newest first; nodes created in the same second keep the
    order the API lists them in (later listed = newer)."""
    staying = [n for n in instances if n.get("phase") not in LEAVING]
    ordered = sorted(enumerate(staying), key=lambda i_n: (i_n[1].get("createdAt", ""), i_n[0]))
    return [n for _, n in reversed(ordered)]


def converged(group: InstanceGroup, members: Sequence[CceInstance], want: int) -> bool:
    """The group asks for ``want`` nodes and holds exactly those, all running (a removed node
    still listed as ``deleting`` is not gone yet)."""
    return (
        group.replicas == want
        and group.ready_replicas == want
        and len(members) == want
        and all(m.phase == RUNNING for m in members)
    )


FIELDS = (
    Field(
        "cluster",
        "Cluster",
        "The name of the k8s_cluster the group belongs to; it must be declared under k8s_clusters.",
        text(NAME),
        required=True,
        address_only=True,  # in the address and in the cloud id, never compared
        refers_to=V2_CLUSTER_KIND,
        wire="clusterID (by the cluster's name)",
        doc="the `name` of a `k8s_cluster` declared in any file",
    ),
    Field(
        "name",
        "Name",
        '1-65 letters, digits, "-", "_" or ".", starting with a letter; unique within its cluster.',
        text(NAME),
        required=True,
        wire="instanceGroupName",
        doc="same format as a cluster name; unique within its cluster",
    ),
    Field(
        SCALE_FIELD,
        "Replicas",
        "Number of nodes, 0-1000. Required unless the group autoscales (autoscaler.enabled: "
        "true), when the autoscaler owns the count and replicas must be left out.",
        integer(minimum=0, maximum=1000),
        change=IN_PLACE,
        why="a scale-up waits for the new nodes to run; a scale-down removes the newest nodes, "
        "named by the plan, with their disks, and waits until they are gone",
        wire="replicas",
        doc="nodes, 0-1000; left out when the group autoscales",
    ),
    Field(
        AUTOSCALER,
        "Autoscaler",
        "Let the cluster autoscaler own the node count, between minReplicas and maxReplicas. "
        "While enabled, replicas is not planned nor reported as drift.",
        {"type": "object"},
        change=IN_PLACE,
        why="PUT .../instancegroup/{id}/autoscaler",
        wire="clusterAutoscalerSpec",
        doc="`{enabled, minReplicas, maxReplicas, priority}`",
        fields=(
            Field(
                "enabled",
                "Enabled",
                "Whether the autoscaler scales this group.",
                boolean(),
                required=True,
                change=IN_PLACE,
                wire="clusterAutoscalerSpec.enabled",
                doc="`true` / `false`",
            ),
            Field(
                "minReplicas",
                "Minimum nodes",
                "The fewest nodes the autoscaler keeps (0-1000); the group starts with this many.",
                integer(minimum=0, maximum=1000),
                change=IN_PLACE,
                wire="clusterAutoscalerSpec.minReplicas",
                doc="0-1000; required when enabled",
            ),
            Field(
                "maxReplicas",
                "Maximum nodes",
                "The most nodes the autoscaler adds (0-1000, at least minReplicas).",
                integer(minimum=0, maximum=1000),
                change=IN_PLACE,
                wire="clusterAutoscalerSpec.maxReplicas",
                doc="0-1000, >= minReplicas; required when enabled",
            ),
            Field(
                "priority",
                "Priority",
                "Which group grows first under the priority expander (higher first). Default 0.",
                integer(minimum=0),
                default=0,
                change=IN_PLACE,
                wire="clusterAutoscalerSpec.scalingGroupPriority",
                doc=">= 0, default 0",
            ),
        ),
    ),
    Field(
        "machineType",
        "Machine type",
        "BCC (cloud servers, default), BBC, EBC, HPAS or BEC.",
        choice("BCC", "BBC", "EBC", "HPAS", "BEC"),
        default="BCC",
        why=MACHINE,
        wire="instanceTemplate.machineType",
        doc="`BCC` (default), `BBC`, `EBC`, `HPAS` or `BEC`",
    ),
    Field(
        "instanceType",
        "Instance type",
        "The instance family, e.g. N3 (default), N5, C2, G1.",
        text("^[A-Z][A-Za-z0-9_]*$"),
        default="N3",
        why=MACHINE,
        wire="instanceTemplate.instanceType",
        doc="the instance family, `N3` (default), `N5`, `C2` ...",
    ),
    Field(
        "machineSpec",
        "Machine spec",
        "The instance specification, e.g. bcc.g5.c2m8.",
        text(min_length=1),
        required=True,
        why=MACHINE,
        wire="instanceTemplate.instanceResource.machineSpec",
        doc="the instance specification, `bcc.g5.c2m8`",
    ),
    Field(
        "cpu",
        "CPU cores",
        "CPU cores per node.",
        integer(minimum=1),
        required=True,
        why=MACHINE,
        wire="instanceTemplate.instanceResource.cpu",
        doc="cores per node, >= 1",
    ),
    Field(
        "memory",
        "Memory (GB)",
        "Memory per node in GB.",
        integer(minimum=1),
        required=True,
        why=MACHINE,
        wire="instanceTemplate.instanceResource.mem",
        doc="GB per node, >= 1",
    ),
    Field(
        "rootDiskType",
        "Root disk type",
        "The storage type of the system disk, e.g. cloud_hp1 (default), hp1, enhanced_ssd_pl1.",
        text(min_length=1),
        default="cloud_hp1",
        why=MACHINE,
        wire="instanceTemplate.instanceResource.rootDiskType",
        doc="`cloud_hp1` (default), `hp1`, `enhanced_ssd_pl1` ...",
    ),
    Field(
        "rootDiskSize",
        "Root disk size (GB)",
        "Size of the system disk in GB. Default 40.",
        integer(minimum=1),
        default=40,
        why=MACHINE,
        wire="instanceTemplate.instanceResource.rootDiskSize",
        doc="GB, >= 1; default 40",
    ),
    Field(
        "imageID",
        "Image",
        "The OS image of the nodes, e.g. m-gTpZ1k6n.",
        text("^m-[A-Za-z0-9]+$"),
        required=True,
        why=MACHINE,
        wire="instanceTemplate.imageID",
        doc="`m-...`",
    ),
    Field(
        "vpcSubnetID",
        "Subnet",
        "The subnet of the nodes, e.g. sbn-a1b2c3d4e5f6 (in the cluster's VPC).",
        text("^sbn-[A-Za-z0-9]+$"),
        required=True,
        why=MACHINE,
        wire="instanceTemplate.vpcConfig.vpcSubnetID",
        doc="`sbn-...`",
    ),
    Field(
        "securityGroupID",
        "Security group",
        "The security group of the nodes, e.g. g-a1b2c3d4e5f6 (esg- for an enterprise group).",
        text("^(g|esg)-[A-Za-z0-9]+$"),
        required=True,
        why=MACHINE,
        wire="instanceTemplate.vpcConfig.securityGroupID",
        doc="`g-...` (or `esg-...` for an enterprise security group)",
    ),
    Field(
        "labels",
        "Node labels",
        "Kubernetes labels of the group's nodes, key: value; changed in place on the template "
        "and on the existing nodes.",
        {"type": "object", "additionalProperties": {"type": "string"}},
        variables=VARIABLE_REF,
        normalize=pairs,
        change=IN_PLACE,
        why=CONFIGURE,
        wire="instanceTemplate.labels",
        doc="a mapping `key: value` (text)",
    ),
    Field(
        "taints",
        "Node taints",
        "Kubernetes taints of the group's nodes: a list of {key, value, effect} with effect "
        "NoSchedule, PreferNoSchedule or NoExecute; changed in place.",
        {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["key", "effect"],
                "properties": {
                    "key": {"type": "string", "minLength": 1},
                    "value": {"type": "string"},
                    "effect": {"enum": list(TAINT_EFFECTS)},
                },
            },
        },
        variables=VARIABLE_REF,
        normalize=normal_taints,
        change=IN_PLACE,
        why=CONFIGURE,
        wire="instanceTemplate.taints",
        doc="a list of `{key, value, effect}`",
    ),
    Field(
        "annotations",
        "Node annotations",
        "Kubernetes annotations of the group's nodes, key: value; changed in place.",
        {"type": "object", "additionalProperties": {"type": "string"}},
        variables=VARIABLE_REF,
        normalize=pairs,
        change=IN_PLACE,
        why=CONFIGURE,
        wire="instanceTemplate.annotations",
        doc="a mapping `key: value` (text)",
    ),
    Field(
        KUBELET_VERSION,
        "Kubelet version",
        'The Kubernetes version of the nodes, quoted, e.g. "1.30.1". A new group runs the '
        "master's; a change upgrades the nodes in place (an UpgradeNodes workflow) to a "
        "version the group offers, never past the master's.",
        text("^[0-9]+\\.[0-9]+\\.[0-9]+$"),
        change=IN_PLACE,
        why=UPGRADE,
        wire="component_upgrade_versions kubelet; workflow components[].targetVersion",
        doc='quoted, `"1.30.1"`; an upgrade target the group offers',
    ),
    Field(
        RUNTIME_VERSION,
        "Container runtime version",
        'The container runtime version of the nodes, quoted, e.g. "1.7.13"; a change '
        "upgrades the nodes in place (an UpgradeNodes workflow).",
        text("^[0-9]+(\\.[0-9]+){1,3}$"),
        change=IN_PLACE,
        why=UPGRADE,
        wire="instanceTemplate.runtimeVersion; workflow components[].targetVersion",
        doc='quoted, `"1.7.13"`; an upgrade target the group offers',
    ),
    Field(
        "upgrade",
        "How nodes are upgraded",
        "How an upgrade of kubeletVersion or containerRuntimeVersion runs. Changing it changes "
        "only how the next upgrade runs.",
        {"type": "object"},
        change=IN_PLACE,
        why="changes state only: how the next upgrade runs",
        wire="workflow upgradeNodesWorkflowConfig",
        doc="`{batchSize, pausePolicy, drainNodes}`",
        fields=(
            Field(
                "batchSize",
                "Batch size",
                "Nodes upgraded at a time, 1-20. Default 1.",
                integer(minimum=1, maximum=20),
                default=1,
                change=IN_PLACE,
                wire="nodeUpgradeBatchSize",
                doc="1-20, default 1",
            ),
            Field(
                "pausePolicy",
                "Pause policy",
                "NotPause (default), FirstBatch (pause after the first batch) or EveryBatch. A "
                "paused upgrade stops apply; the next apply resumes it.",
                choice(*PAUSE_POLICIES),
                default="NotPause",
                change=IN_PLACE,
                wire="pausePolicy",
                doc="`NotPause` (default), `FirstBatch`, `EveryBatch`",
            ),
            Field(
                "drainNodes",
                "Drain nodes",
                "Evict a node's pods before upgrading it. Default true.",
                boolean(),
                default=True,
                change=IN_PLACE,
                wire="drainNodeBeforeUpgrade",
                doc="`true` (default) / `false`",
            ),
        ),
    ),
    Field(
        ADMIN_PASSWORD,
        "Admin password",
        "The nodes' root password, by reference only: {env: NAME} or {file: PATH}. 8-32 "
        "characters with letters, digits and one of !@#$%^*(). It applies to nodes created from "
        "then on and is never rotated; CCE generates one when it is left out.",
        secret=True,
        change=IN_PLACE,
        why="set with the configure call (passwordNeedUpdate); it applies to nodes created "
        "from then on",
        wire="instanceTemplate.adminPassword",
        doc="a [secret reference](#secrets) only; 8-32 characters with letters, digits and one "
        "of `!@#$%^*()`. CCE generates one when left out",
        # optional and never reported: export writes none (a placeholder would make the
        # exported files fail to plan until it is deleted; the export note says how to add one)
        rule=admin_password_problem,
    ),
)


# The attributes, in the order of ``live_object``'s (the field table's).
ATTRIBUTES = tuple(f.key for f in FIELDS if f.attribute)


def replicas_doubt(group: InstanceGroup, instances: Listing[CceInstance], group_from: str) -> str:
    """Why the group's replicas and its node list cannot both be right, or ""."""
    staying = len([i for i in instances if i.phase not in LEAVING])
    if staying == group.replicas:
        return ""
    return (
        f"the answers do not agree: {group_from or 'the group'} says replicas "
        f"{group.replicas}, but {instances.origin()} "
        f"lists {staying} node(s) in the group; nodes are never named for removal from answers "
        "that disagree"
    )


# ``baiducloud_ccev2_instance_group`` attribute paths of the declared fields (terraform-
# baiducloud-state.md 2.3; the provider refreshes ``spec`` from the API on every read).
TEMPLATE = "spec.0.instance_template.0."
RESOURCE = TEMPLATE + "instance_resource.0."
TERRAFORM_TEXT = {
    "name": "spec.0.instance_group_name",
    "machineType": TEMPLATE + "machine_type",
    "instanceType": TEMPLATE + "instance_type",
    "machineSpec": RESOURCE + "machine_spec",
    "rootDiskType": RESOURCE + "root_disk_type",
    "imageID": TEMPLATE + "image_id",
    "vpcSubnetID": TEMPLATE + "vpc_config.0.vpc_subnet_id",
    "securityGroupID": TEMPLATE + "vpc_config.0.security_group_id",
}
TERRAFORM_NUMBERS = {
    "replicas": "spec.0.replicas",
    "cpu": RESOURCE + "cpu",
    "memory": RESOURCE + "mem",
    "rootDiskSize": RESOURCE + "root_disk_size",
}
TERRAFORM = TerraformType(
    "baiducloud_ccev2_instance_group",
    secrets={
        TEMPLATE + "admin_password": TerraformSecret(ADMIN_PASSWORD, "NODE_ADMIN_PASSWORD"),
    },
    no_field={
        TEMPLATE + "labels": None,
        TEMPLATE + "instance_taints": None,
        TEMPLATE + "tag_list": None,
        TEMPLATE + "ssh_key_id": None,
        TEMPLATE + "need_eip": None,
        TEMPLATE + "eip_option": None,
        TEMPLATE + "instance_charging_type": "Postpaid",
        TEMPLATE + "instance_precharging_option": None,
        TEMPLATE + "deploy_custom_config.0.pre_user_script": None,
        TEMPLATE + "deploy_custom_config.0.post_user_script": None,
        TEMPLATE + "deploy_custom_config.0.kube_reserved": None,
        TEMPLATE + "deploy_custom_config.0.enable_cordon": None,
        TEMPLATE + "deploy_custom_config.0.docker_config.0.registry_mirrors": None,
        TEMPLATE + "deploy_custom_config.0.docker_config.0.insecure_registries": None,
        TEMPLATE + "existed_option": None,
        TEMPLATE + "bbc_option": None,
        TEMPLATE + "hpas_option": None,
        TEMPLATE + "ehc_cluster_id": None,
        RESOURCE + "local_disk_size": None,
        RESOURCE + "gpu_type": None,
        RESOURCE + "gpu_count": None,
        RESOURCE + "cds_list": None,
        RESOURCE + "ephemeral_disk_list": None,
    },
)


def terraform_attrs(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """A ``baiducloud_ccev2_instance_group`` instance's attributes in the shape of
    ``live_object``'s (the same keys in the same order)."""
    values: dict[str, Any] = {k: terraform_text(attributes, p) for k, p in TERRAFORM_TEXT.items()}
    values.update({k: terraform_int(attributes, p) for k, p in TERRAFORM_NUMBERS.items()})
    # SDK v1 stores an unset number as 0: only replicas may really be 0
    ordered = {
        key: values.get(key) if key == SCALE_FIELD or values.get(key) != 0 else None
        for key in ATTRIBUTES
    }
    return drop_none(ordered)


# --- reconciler doctor ----------------------------------------------------------------------


def _probe_groups(doctor: Doctor) -> None:
    from reconciler.client.v2_types import InstanceGroup  # when doctor runs

    cluster = v2_cluster(doctor)
    if cluster is None:
        doctor.add(Check("v2 groups", SKIPPED, "", "no running v2 cluster to read"))
        return
    path = f"{doctor.client.v2.prefix}/cluster/{cluster.cluster_id}/instancegroups"
    with doctor.answer("v2 groups", f"GET {path}"):
        groups = v2_list(doctor, "v2 groups", path, "page", "list", InstanceGroup.read)
        doctor.found["v2 group"] = groups[0] if groups else None


def _group_path(doctor: Doctor) -> str | None:
    cluster, group = v2_cluster(doctor), doctor.found.get("v2 group")
    if cluster is None or group is None:
        return None
    v2 = doctor.client.v2
    return f"{v2.prefix}/cluster/{cluster.cluster_id}/instancegroup/{group.instance_group_id}"


def _probe_nodes(doctor: Doctor) -> None:
    from reconciler.client.v2_types import CceInstance  # when doctor runs

    group = _group_path(doctor)
    if group is None:
        doctor.add(Check("v2 nodes", SKIPPED, "", "no v2 instance group to list the nodes of"))
        return
    with doctor.answer("v2 nodes", f"GET {group}/instances"):
        v2_list(doctor, "v2 nodes", f"{group}/instances", "page", "list", CceInstance.read)


def _probe_upgrades(doctor: Doctor) -> None:
    from reconciler.client.v2_types import UpgradeVersions  # when doctor runs

    group = _group_path(doctor)
    where = f"GET {group or '.../instancegroup/{id}'}/component_upgrade_versions"
    if not any(doctor.uses(InstanceGroupKind.name, key) for key in COMPONENTS):
        doctor.add(Check("v2 upgrades", SKIPPED, where, NOT_USED))
        return
    if group is None:
        doctor.add(Check("v2 upgrades", SKIPPED, where, "no v2 instance group to read"))
        return
    with doctor.answer("v2 upgrades", where):
        v2_object(
            doctor,
            "v2 upgrades",
            f"{group}/component_upgrade_versions",
            lambda r: UpgradeVersions.read(r.obj("result")),
            lambda u: (
                f"kubelet {u.of('kubelet').current_version}, offered "
                + (", ".join(u.of("kubelet").targets) or "none")
            ),
        )


def _probe_node_quota(doctor: Doctor) -> None:
    from reconciler.client.v2_types import Quota  # when doctor runs

    cluster = v2_cluster(doctor)
    if cluster is None:
        doctor.add(Check("v2 node quota", SKIPPED, "", "no running v2 cluster to read"))
        return
    path = f"{doctor.client.v2.prefix}/quota/cluster/{cluster.cluster_id}/node"
    with doctor.answer("v2 node quota", f"GET {path}"):
        v2_object(
            doctor, "v2 node quota", path, Quota.read, lambda q: f"{q.used} of {q.quota} used"
        )


PROBES = (
    Probe("v2 groups", Phase.DETAILS, _probe_groups),
    Probe("v2 nodes", Phase.DETAILS, _probe_nodes),
    Probe("v2 upgrades", Phase.DETAILS, _probe_upgrades),
    Probe("v2 node quota", Phase.FACTS, _probe_node_quota),
)


class InstanceGroupKind(Kind):
    name = "instance_group"
    section = Section(
        "instance_groups",
        "Instance groups (CCE v2)",
        "Node pools of the k8s_clusters; each names a declared k8s_cluster.",
    )
    identity = ("cluster", "name")
    title = "Instance group (CCE v2)"
    summary = (
        "A node pool of a k8s_cluster (address instance_group.<cluster>/<name>). replicas, "
        "autoscaler, labels, taints, annotations, kubeletVersion, containerRuntimeVersion "
        "(an upgrade of the nodes), upgrade and adminPassword change in place; changing the "
        "machine replaces the group."
    )
    fields = FIELDS
    read_with = (V2_CLUSTER_KIND,)
    api_name = "the CCE v2 API"
    default_timeout = 1800.0
    terraform = TERRAFORM
    export_note = (
        "The API never returns adminPassword, which is optional: add\n"
        "`adminPassword: {env: NAME}` for nodes created later, if they need one."
    )

    def probes(self) -> tuple[Probe, ...]:
        return PROBES

    # --- planning ----------------------------------------------------------------------------

    def refusal(self, spec: Spec, view: PlanView) -> str | None:
        return (
            self.secret_refusal(spec, view)
            or self._version_refusal(spec, view)
            or self._quota_refusal(spec, view)
        )

    def _version_refusal(self, spec: Spec, view: PlanView) -> str | None:
        """A declared version the group cannot be upgraded to (what the API offers it now), or,
        for a new group, a kubelet version other than its master's."""
        declared = {k: spec.attrs[k] for k in COMPONENTS if k in spec.attrs}
        if not declared:
            return None
        live = next(
            (o for o in view.live_objects.get(self.name, []) if o.address == spec.address), None
        )
        if live is None:
            master = _master_version(spec, view)
            kubelet = declared.get(KUBELET_VERSION)
            if kubelet is None or master is None or kubelet == master:
                return None
            return (
                f"kubeletVersion {kubelet}: a new group's nodes run the master's Kubernetes "
                f"version, {master}; declare {master} (or leave kubeletVersion out), and upgrade "
                "the group once it exists"
            )
        versions: UpgradeVersions | None = view.facts.get(VERSIONS_FACT, {}).get(spec.address)
        if versions is None:
            return None
        for key, want in declared.items():
            offered = versions.of(COMPONENTS[key])
            if want == offered.current_version or want in offered.targets:
                continue
            hint = ""
            if key == KUBELET_VERSION:
                hint = (
                    "; nodes never pass the master's version: upgrade the master in the console "
                    "first (k8s_cluster k8sVersion)"
                )
            return (
                f"{key} {want} is not a version the group can be upgraded to from "
                f"{offered.current_version or 'its current one'} (offered: "
                f"{', '.join(offered.targets) or 'none'}){hint}"
            )
        return None

    def _quota_refusal(self, spec: Spec, view: PlanView) -> str | None:
        cluster = in_v2_cluster(spec.address)
        live_cluster = next(
            (c for c in view.live_objects.get(V2_CLUSTER_KIND, []) if c.address == cluster), None
        )
        quotas = view.facts.get(NODE_QUOTA_FACT, {})
        quota: Quota | None = quotas.get(live_cluster.cloud_id) if live_cluster else None
        if quota is None:
            return None
        growth = _growth(view.desired.of_kind(self.name), view.live_objects.get(self.name, []))
        mine = _growth([spec], view.live_objects.get(self.name, [])).get(cluster.name, 0)
        adding = growth.get(cluster.name, 0)
        if not mine or adding <= quota.left:
            return None
        return (
            f"the plan adds {adding} node(s) to {cluster} and {quota.used} of its {quota.quota} "
            "exist (GET /quota/cluster/{id}/node: node quota)"
        )

    def config_problems(self, view: ConfigView) -> Iterator[Problem]:
        """Besides the references: replicas, or the autoscaler, owns the node count."""
        yield from super().config_problems(view)
        for item in view.items_of(self.name):
            yield from _count_problems(item)

    def autoscaled_fields(self, live: LiveObject) -> frozenset[str]:
        """While the group's autoscaler is on, its node count is the autoscaler's."""
        if (live.attrs.get(AUTOSCALER) or {}).get("enabled"):
            return frozenset({SCALE_FIELD})
        return frozenset()

    def export_entry(self, live: LiveObject) -> dict[str, Any] | None:
        """Labels and annotations as the mappings the YAML declares (compared as lists)."""
        entry = super().export_entry(live)
        if entry is None:
            return None
        for key in ("labels", "annotations"):
            if key in entry:
                entry[key] = unpairs(entry[key])
        if not (live.attrs.get(AUTOSCALER) or {}).get("enabled"):
            entry.pop(AUTOSCALER, None)
        else:
            entry.pop(SCALE_FIELD, None)  # the autoscaler owns the count
        return entry

    def from_terraform(
        self, attributes: Mapping[str, Any], found: Mapping[str, list[LiveObject]]
    ) -> TerraformRecord:
        """Named after its cluster, which must be read from the same state (by its id)."""
        attrs = terraform_attrs(attributes)
        group_id = terraform_text(attributes, "id")
        cluster_id = terraform_text(attributes, "spec.0.cluster_id")
        if not group_id or not cluster_id or "name" not in attrs:
            raise NotConvertible(
                "cannot name it: Terraform recorded no spec.0.cluster_id or "
                "spec.0.instance_group_name (the provider cannot import an instance group)"
            )
        clusters = [c for c in found.get(V2_CLUSTER_KIND, []) if c.cloud_id == cluster_id]
        if not clusters:
            raise NotConvertible(
                f"cannot name it: its cluster {cluster_id} is not converted from this state "
                "file (declare the cluster first, e.g. `reconciler export --kind k8s_cluster`, "
                "then adopt the group with `reconciler import`)"
            )
        address = Address(self.name, f"{clusters[0].address.name}/{attrs['name']}")
        cloud_id = in_cluster_id(cluster_id, group_id)
        replicas = attrs.get(SCALE_FIELD)
        ready = terraform_int(attributes, "status.0.ready_replicas")
        status = READY if ready is not None and ready == replicas else SCALING
        return TerraformRecord(LiveObject(address, cloud_id, attrs, status))

    def reference_hint(self, key: str, name: str, view: ConfigView) -> str:
        if any(other.identity == name for other in view.items_of(V1_CLUSTER_KIND)):
            return (
                f' ("{name}" is a v1 cluster, under {view.section_of(V1_CLUSTER_KIND)}; '
                f"instance groups belong to {view.section_of(V2_CLUSTER_KIND)})"
            )
        return ""

    def container_of(self, address: Address) -> Address | None:
        return in_v2_cluster(address)

    def update_step(
        self, change_fields: Iterable[FieldChange], live: LiveObject
    ) -> ScaleStep | None:
        def newest() -> list[str]:
            return [n["id"] for n in newest_first(live.details.get("instances", ()))]

        # an absolute replicas: a scale-up names no node
        return scale_step(change_fields, SCALE_FIELD, live, newest, absolute=True)

    # --- reading -----------------------------------------------------------------------------

    def live_object(
        self,
        cluster_name: str,
        cluster_id: str,
        group: InstanceGroup,
        instances: Listing[CceInstance] | None = None,
        group_from: str = "",
        versions: UpgradeVersions | None = None,
    ) -> LiveObject:
        """``instances``: the group's node list (None: not read, an unmanaged group);
        ``group_from``: the request that answered ``group``, named when the two disagree."""
        attrs = {
            "name": group.instance_group_name,
            "replicas": group.replicas,
            AUTOSCALER: autoscaler_attrs(group.autoscaler),
            **template_attrs(group.template),
            **version_attrs(versions),
        }
        steady = group.ready_replicas == group.replicas and (
            not instances or converged(group, instances, group.replicas)
        )
        return LiveObject(
            Address(self.name, f"{cluster_name}/{group.instance_group_name}"),
            in_cluster_id(cluster_id, group.instance_group_id),
            drop_none(attrs),
            READY if steady else SCALING,
            {
                "readyReplicas": group.ready_replicas,
                "instances": [instance_dict(i) for i in instances or ()],
            },
            "" if instances is None else replicas_doubt(group, instances, group_from),
        )

    def read_all(self, ctx: RefreshContext) -> list[LiveObject]:
        """One paged group list per cluster found, plus one node list per group this state
        manages (the nodes a scale-down names), in parallel; never a GET per group."""
        v2 = v2_client(ctx.client)
        clusters = self._clusters_to_list(ctx)

        def groups_of(cluster: LiveObject) -> tuple[InstanceGroup, ...]:
            try:
                return v2.list_instance_groups(cluster.cloud_id)
            except NotFoundError:  # deleted since it was listed: its groups went with it
                return ()

        from reconciler.client.v1_types import Listing  # when used: validate loads the kinds

        listed = in_parallel(ctx.parallelism, groups_of, clusters)
        origins = {
            g.instance_group_id: groups.origin() if isinstance(groups, Listing) else ""
            for groups in listed
            for g in groups
        }
        found = [(c, g) for c, groups in zip(clusters, listed, strict=True) for g in groups]
        managed = ctx.managed_ids(self.name)
        wanted = [
            in_cluster_id(c.cloud_id, g.instance_group_id)
            for c, g in found
            if in_cluster_id(c.cloud_id, g.instance_group_id) in managed
        ]

        def nodes_of(cloud_id: str) -> Listing[CceInstance] | None:
            try:
                return v2.list_group_instances(*split_cloud_id(cloud_id))
            except NotFoundError:  # deleted since it was listed
                return None

        nodes = dict(zip(wanted, in_parallel(ctx.parallelism, nodes_of, wanted), strict=True))
        declared = {s.address: s for s in ctx.desired.of_kind(self.name)} if ctx.desired else {}
        versions = self._versions(ctx, v2, found, declared, set(wanted))
        out = []
        for cluster, group in found:
            cloud_id = in_cluster_id(cluster.cloud_id, group.instance_group_id)
            if cloud_id in nodes and nodes[cloud_id] is None:
                continue  # deleted since it was listed
            origin = origins[group.instance_group_id]
            out.append(
                self.live_object(
                    cluster.address.name,
                    cluster.cloud_id,
                    group,
                    nodes.get(cloud_id),
                    origin,
                    versions.get(cloud_id),
                )
            )
        self._node_quotas(ctx, v2, clusters, out, declared)
        return out

    def _versions(
        self,
        ctx: RefreshContext,
        v2: CceV2Client,
        found: list[tuple[LiveObject, InstanceGroup]],
        declared: Mapping[Address, Spec],
        managed: set[str],
    ) -> dict[str, UpgradeVersions]:
        """The component versions of each managed group whose declaration names a version (one
        GET each: the API has no list of them), also kept for the plan's version checks."""
        asked = {}
        for cluster, group in found:
            address = Address(self.name, f"{cluster.address.name}/{group.instance_group_name}")
            cloud_id = in_cluster_id(cluster.cloud_id, group.instance_group_id)
            spec = declared.get(address)
            if cloud_id in managed and spec is not None and set(COMPONENTS) & set(spec.attrs):
                asked[cloud_id] = address

        def read(cloud_id: str) -> UpgradeVersions | None:
            try:
                return v2.upgrade_versions(*split_cloud_id(cloud_id))
            except NotFoundError:
                return None

        ids = list(asked)
        read_back = dict(zip(ids, in_parallel(ctx.parallelism, read, ids), strict=True))
        got = {k: v for k, v in read_back.items() if v is not None}
        facts = ctx.facts.setdefault(VERSIONS_FACT, {})
        facts.update({asked[k]: v for k, v in got.items()})
        return got

    def _node_quotas(
        self,
        ctx: RefreshContext,
        v2: CceV2Client,
        clusters: list[LiveObject],
        live: list[LiveObject],
        declared: Mapping[Address, Spec],
    ) -> None:
        """The node quota of each live cluster the plan adds nodes to (one GET each)."""
        growing = _growth(declared.values(), live)
        ids = [c.cloud_id for c in clusters if growing.get(c.address.name)]
        quotas = in_parallel(ctx.parallelism, v2.get_node_quota, ids)
        ctx.facts.setdefault(NODE_QUOTA_FACT, {}).update(zip(ids, quotas, strict=True))

    def _clusters_to_list(self, ctx: RefreshContext) -> list[LiveObject]:
        """The live clusters whose groups can have addresses. An unmanaged cluster that shares
        its name with a managed one is left out: ``CLUSTER`` in an address means the managed one."""
        alive = [c for c in ctx.found.get(V2_CLUSTER_KIND, []) if c.status not in GONE_PHASES]
        managed = ctx.managed_ids(V2_CLUSTER_KIND)
        names = {c.address.name for c in alive if c.cloud_id in managed}
        return [c for c in alive if c.cloud_id in managed or c.address.name not in names]

    def read_one(self, client: CceClient, address: Address, cloud_id: str) -> LiveObject | None:
        cluster_id, group_id = split_cloud_id(cloud_id)
        v2 = v2_client(client)
        try:
            group = v2.get_instance_group(cluster_id, group_id)
            members = v2.list_group_instances(cluster_id, group_id)
        except NotFoundError:
            return None
        origin = f"GET {v2.prefix}/cluster/{cluster_id}/instancegroup/{group_id}"
        return self.live_object(in_v2_cluster(address).name, cluster_id, group, members, origin)

    def _status(
        self, v2: CceV2Client, cluster_id: str, group_id: str, want: int
    ) -> Callable[[], str]:
        """READY once the group holds exactly ``want`` nodes, all running: a scale-up is done
        when its new nodes run and a scale-down when its removed nodes are gone, so a plan
        made right after sees what it will keep seeing. CREATE_FAILED when a node failed to
        create (the group would never converge)."""

        def status() -> str:
            try:
                group = v2.get_instance_group(cluster_id, group_id)
                members = v2.list_group_instances(cluster_id, group_id)
            except NotFoundError:
                return waiters.GONE
            if any(m.phase == CREATE_FAILED for m in members):
                return CREATE_FAILED
            return READY if converged(group, members, want) else SCALING

        return status

    def _exists(self, v2: CceV2Client, cluster_id: str, group_id: str) -> Callable[[], str]:
        """ "deleting" while the group can still be read, ``waiters.GONE`` after."""

        def read() -> str:
            v2.get_instance_group(cluster_id, group_id)
            return "deleting"

        return status_of(read)

    # --- changing ----------------------------------------------------------------------------

    def create(self, ops: Operations, change: Change, entry: ResourceState) -> ResourceState:
        after = change.after or {}
        v2 = v2_client(ops.client)
        cluster_id = self._cluster_id(ops, v2, change.address)
        request = create_request(after, ops.secret(change, ADMIN_PASSWORD))
        cloud_id = create_once(
            ops,
            change,
            lambda: in_cluster_id(
                cluster_id, v2.create_instance_group(cluster_id, request).instance_group_id
            ),
            lambda: [
                in_cluster_id(cluster_id, g.instance_group_id)
                for g in v2.list_instance_groups(cluster_id)
                if g.instance_group_name == after["name"]
            ],
        )
        ops.record_cloud_id(cloud_id)
        entry = entry.evolve(cloud_id=cloud_id)
        group_id = split_cloud_id(cloud_id)[1]
        if autoscales(after):
            ensure_cluster_autoscaler(v2, cluster_id)
        want = wanted_replicas(after)
        try:
            ops.wait(change.address, CREATED, self._status(v2, cluster_id, group_id, want))
        except waiters.WaitFailed as exc:
            if exc.last_status == CREATE_FAILED:
                raise TaintedError(
                    f"{change.address} ({cloud_id}) failed to create (a node is "
                    f"{CREATE_FAILED}); it is marked tainted and the next plan replaces it",
                    entry.evolve(tainted=True),
                ) from None
            raise
        return entry

    def _cluster_id(self, ops: Operations, v2: CceV2Client, address: Address) -> str:
        """The cloud id of the group's cluster: the live cluster of that name this state owns
        (a dependency, so created before the group)."""
        cluster = in_v2_cluster(address)
        owned = ops.owned_ids(V2_CLUSTER_KIND)
        found = [
            c.cluster_id
            for c in v2.find_clusters(cluster.name)
            if c.cluster_id in owned and c.phase not in GONE_PHASES
        ]
        if len(found) != 1:
            raise ReconcilerError(
                f"{address}: its cluster {cluster} is not in state or not alive "
                f"({len(found)} managed clusters named {cluster.name}); apply the cluster first"
            )
        return found[0]

    def is_ready(self, live: LiveObject) -> bool:
        return live.status != SCALING

    def settle(self, ops: Operations, change: Change, entry: ResourceState) -> None:
        """Wait for the nodes the group already asked for (before any scale of this change)."""
        cluster_id, group_id = split_cloud_id(entry.cloud_id)
        v2 = v2_client(ops.client)
        want = int((change.before or {}).get(SCALE_FIELD, 0))
        ops.wait(change.address, SCALED, self._status(v2, cluster_id, group_id, want))

    def update(self, ops: Operations, change: Change, entry: ResourceState) -> None:
        """In this order: the template (configure: labels, taints, annotations, the admin
        password), the autoscaler's bounds, the node count, and last the nodes' versions (an
        UpgradeNodes workflow), each waited for."""
        after = change.after or {}
        changed = {f.path.split(".")[0] for f in change.fields}
        cluster_id, group_id = split_cloud_id(entry.cloud_id)
        v2 = v2_client(ops.client)
        if changed & set(META) or ADMIN_PASSWORD in change.rotate_secrets:
            self._configure(ops, change, v2, cluster_id, group_id, changed)
        if AUTOSCALER in changed and AUTOSCALER in after:
            autoscaler = group_autoscaler(after)
            if autoscaler is not None:
                v2.update_group_autoscaler(cluster_id, group_id, autoscaler)
                if autoscaler.enabled:
                    ensure_cluster_autoscaler(v2, cluster_id)
        step = change.scale
        if step is not None:
            want = int(after[SCALE_FIELD])
            if step.add:
                v2.update_replicas(cluster_id, group_id, want)  # absolute: a resend is harmless
            elif step.remove:
                self._scale_down(change, v2, cluster_id, group_id, step.remove, want)
            ops.wait(change.address, SCALED, self._status(v2, cluster_id, group_id, want))
        upgrading = tuple(k for k in COMPONENTS if k in changed and k in after)
        if upgrading:
            NodeUpgrade(ops, change, entry, v2, cluster_id, group_id).run(upgrading)

    def _configure(
        self,
        ops: Operations,
        change: Change,
        v2: CceV2Client,
        cluster_id: str,
        group_id: str,
        changed: set[str],
    ) -> None:
        """One configure with the whole spec as read and the changed template keys (syncMeta:
        the nodes take the metadata too); then wait until the group reads back as declared."""
        from reconciler.client.v2_types import InstanceGroupConfigure, Taint, TemplateEdit

        after = change.after or {}
        password = None
        if ADMIN_PASSWORD in change.rotate_secrets:
            password = ops.secret(change, ADMIN_PASSWORD)
        edit = TemplateEdit(
            labels=unpairs(after["labels"]) if "labels" in changed else None,
            taints=tuple(Taint(t["key"], t["value"], t["effect"]) for t in after["taints"])
            if "taints" in changed
            else None,
            annotations=unpairs(after["annotations"]) if "annotations" in changed else None,
            admin_password=password,
        )
        group = v2.get_instance_group(cluster_id, group_id)
        v2.configure_instance_group(
            cluster_id, group_id, InstanceGroupConfigure.from_group(group, edit)
        )
        want = {k: after[k] for k in META if k in changed}

        def status() -> str:
            template = template_attrs(v2.get_instance_group(cluster_id, group_id).template)
            return READY if all(template[k] == v for k, v in want.items()) else "configuring"

        ops.wait(change.address, CONFIGURED, status_of(status))

    def _scale_down(
        self,
        change: Change,
        v2: CceV2Client,
        cluster_id: str,
        group_id: str,
        nodes: Sequence[str],
        want: int,
    ) -> None:
        """Remove (and delete) exactly these nodes; a lost answer is settled by listing the
        group's nodes, never by a resend. The node list is read first: the nodes are removed
        only if they are all listed and removing them leaves the declared count."""
        listed = v2.list_group_instances(cluster_id, group_id)
        ids = {m.cce_instance_id for m in listed if m.phase not in LEAVING}
        if not set(nodes) <= ids or len(ids) - len(nodes) != want:
            raise ReconcilerError(
                f"{change.address}: {listed.origin()} lists {len(ids)} node(s) "
                f"({', '.join(sorted(ids)) or 'none'}); removing {', '.join(nodes)} would not "
                f"leave the declared {want}; nothing was sent, plan again"
            )
        from reconciler.client.v2_types import DeleteOption, ScaleDown  # see create_request

        request = ScaleDown(
            tuple(nodes),
            clean_policy="Delete",
            delete_option=DeleteOption(delete_resource=True, delete_cds_snapshot=True),
        )
        try:
            v2.scale_down(cluster_id, group_id, request)
        except OutcomeUnknownError:
            members = v2.list_group_instances(cluster_id, group_id)
            if {m.cce_instance_id for m in members if m.phase not in LEAVING} & set(nodes):
                raise

    def delete(self, ops: Operations, address: Address, cloud_id: str) -> None:
        cluster_id, group_id = split_cloud_id(cloud_id)
        v2 = v2_client(ops.client)
        v2.delete_instance_group(cluster_id, group_id, delete_instances=True)
        ops.wait(address, DELETED, self._exists(v2, cluster_id, group_id))


class UpgradePaused(ReconcilerError):
    """A node upgrade paused (its pause policy, or the service's watchdog): apply stops here;
    the workflow's id is journaled, so the next apply resumes it."""


class NodeUpgrade:
    """Upgrade a group's nodes with one UpgradeNodes workflow, never two: resume the one an
    earlier run started (its id journaled as ``operation``, or the cluster's
    ``upgradeWorkflowID``), else create one and journal its id before waiting. Progress is
    printed while it runs; a failure says the service's reason."""

    def __init__(
        self,
        ops: Operations,
        change: Change,
        entry: ResourceState,
        v2: CceV2Client,
        cluster_id: str,
        group_id: str,
    ) -> None:
        self.ops, self.change, self.entry = ops, change, entry
        self.v2, self.cluster_id, self.group_id = v2, cluster_id, group_id
        self.last: Workflow | None = None

    def run(self, keys: Sequence[str]) -> None:
        from reconciler.client.v2_types import ComponentUpgrade

        after = self.change.after or {}
        components = tuple(ComponentUpgrade(COMPONENTS[k], str(after[k])) for k in keys)
        running = self._resumable()
        if running is None:
            workflow_id = self._start(components)
        else:
            workflow_id = self._resume(running, components)
        self._wait(workflow_id)

    def _resumable(self) -> Workflow | None:
        """The unfinished workflow of this group an earlier run started, if any."""
        from reconciler.errors import NotFoundError as Gone

        candidates = [
            self.entry.operation,
            self.v2.get_cluster(self.cluster_id).upgrade_workflow_id,
        ]
        for workflow_id in dict.fromkeys(c for c in candidates if c):
            try:
                workflow = self.v2.get_workflow(self.cluster_id, workflow_id)
            except Gone:
                continue
            if workflow.instance_group_id == self.group_id and not workflow.finished:
                return replace(workflow, workflow_id=workflow_id)
        return None

    def _start(self, components: tuple[ComponentUpgrade, ...]) -> str:
        from reconciler.client.v2_types import UpgradeNodes, WorkflowCreate

        how = (self.change.after or {}).get("upgrade", {})
        request = WorkflowCreate(
            UpgradeNodes(
                self.group_id,
                components,
                batch_size=int(how.get("batchSize", 1)),
                drain_before_upgrade=bool(how.get("drainNodes", True)),
                pause_policy=str(how.get("pausePolicy", "NotPause")),
            )
        )
        try:
            workflow_id = self.v2.create_workflow(self.cluster_id, request).workflow_id
        except OutcomeUnknownError:
            # no client token and no list call: the cluster names the workflow it runs
            found = self.v2.get_cluster(self.cluster_id).upgrade_workflow_id
            if not found:
                raise
            workflow_id = found
        self.ops.record_cloud_id(workflow_id)
        targets = ", ".join(f"{c.name} {c.target_version}" for c in components)
        self.ops.progress(
            f"{self.change.address}: upgrading the nodes to {targets} ({workflow_id})"
        )
        return workflow_id

    def _resume(self, running: Workflow, components: tuple[ComponentUpgrade, ...]) -> str:
        workflow_id = running.workflow_id or ""
        wanted = {(c.name, c.target_version) for c in components}
        doing = {(c.name, c.target_version) for c in running.components}
        if not wanted <= doing:
            raise ReconcilerError(
                f"{self.change.address}: the node upgrade {workflow_id} ("
                + ", ".join(f"{n} {v}" for n, v in sorted(doing))
                + ") is unfinished and the API runs one at a time: declare its versions to let "
                "it finish, or end it in the console"
            )
        self.ops.record_cloud_id(workflow_id)
        if running.phase == PAUSED:
            self.v2.update_workflow(self.cluster_id, workflow_id, "resume")
            what = "resumed"
        else:
            what = "still running; waiting for it"
        self.ops.progress(
            f"{self.change.address}: the node upgrade {workflow_id} started by an earlier run "
            f"is {what} ({running.finished_tasks} of {running.total_tasks} nodes done)"
        )
        return workflow_id

    def _wait(self, workflow_id: str) -> None:
        def read() -> str:
            workflow = self.v2.get_workflow(self.cluster_id, workflow_id)
            self.last = workflow
            if workflow.phase in (SUCCEEDED, FAILED, PAUSED, DELETED_WORKFLOW):
                return workflow.phase
            return (
                f"{workflow.phase or 'Pending'}, {workflow.finished_tasks} of "
                f"{workflow.total_tasks} nodes upgraded"
            )

        address = self.change.address
        try:
            self.ops.wait(address, UPGRADED, status_of(read))
        except waiters.WaitFailed as exc:
            reason = self.last.error_message if self.last else ""
            raise ReconcilerError(
                f"{address}: the node upgrade {workflow_id} ended {exc.last_status}"
                + (f": {reason}" if reason else "")
            ) from None
        last = self.last
        if last is not None and last.phase == PAUSED:
            why = last.paused_reason or "paused"
            raise UpgradePaused(
                f"{address}: the node upgrade {workflow_id} paused after {last.finished_tasks} "
                f"of {last.total_tasks} nodes ({why}); look at the upgraded nodes, then run "
                "apply again to resume it"
            )

"""Instance groups of CCE v2 clusters (``instance_group.CLUSTER/NAME``): a node pool of one
``k8s_cluster``, which it depends on and which contains it (deleting the cluster deletes its
groups, after them in the graph, with no planner change).

Only ``replicas`` changes in place (``PUT .../replicas`` to grow, ``PUT .../scaledown`` naming
the newest nodes to shrink); the instance template is fixed at creation, so every other declared
field forces a replacement. The admin password applies only to nodes created from then on and is
never rotated. A group has no phase: it has converged when its ready replicas equal its
replicas, and a node that failed to create ends the wait.

The cloud id is ``CLUSTER_ID/GROUP_ID``: every group call needs both, and ``read_one`` (import,
lost answers) is given nothing but the id. A create has no client token, so a lost answer is
settled by reading the cluster's groups by name before anything is sent again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from reconciler import waiters
from reconciler.errors import (
    NotFoundError,
    OutcomeUnknownError,
    ReconcilerError,
    UsageError,
)
from reconciler.kinds.base import (
    ConfigView,
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
    scale_step,
    status_of,
    terraform_int,
    terraform_text,
    v2_client,
)
from reconciler.kinds.fields import (
    CREATE_ONLY,
    IN_PLACE,
    Field,
    Section,
    choice,
    integer,
    text,
)
from reconciler.model import Address, Spec
from reconciler.plan import ScaleStep

if TYPE_CHECKING:
    from reconciler.client.v1 import CceClient
    from reconciler.client.v1_types import Listing
    from reconciler.client.v2 import CceV2Client
    from reconciler.client.v2_types import (
        CceInstance,
        InstanceGroup,
        InstanceGroupCreate,
        InstanceTemplate,
    )
    from reconciler.diff import FieldChange
    from reconciler.plan import Change
    from reconciler.state import ResourceState

T = TypeVar("T")
R = TypeVar("R")

SCALE_FIELD = "replicas"
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


CLUSTER_KIND = "k8s_cluster"
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


def group_cloud_id(cluster_id: str, group_id: str) -> str:
    return f"{cluster_id}/{group_id}"


def split_cloud_id(cloud_id: str) -> tuple[str, str]:
    cluster_id, _, group_id = cloud_id.partition("/")
    if not cluster_id or not group_id or "/" in group_id:
        raise UsageError(
            f"instance group id {cloud_id!r} is not CLUSTER_ID/GROUP_ID (cce-xxxxxxxx/cce-ig-xxxxxxxx)"
        )
    return cluster_id, group_id


def cluster_of(address: Address) -> Address:
    """``instance_group.prod/pool-a`` lives in ``k8s_cluster.prod``."""
    return Address(CLUSTER_KIND, address.name.partition("/")[0])


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
    }


def instance_dict(instance: CceInstance) -> dict[str, Any]:
    return {
        "id": instance.cce_instance_id,
        "phase": instance.phase,
        "createdAt": instance.created_at,
    }


def create_request(attrs: Mapping[str, Any], admin_password: str | None) -> InstanceGroupCreate:
    # the client's wire types, when used: validate loads the kinds, not the client
    from reconciler.client.v2_types import InstanceGroupCreate, InstanceSpecBody

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
    )
    return InstanceGroupCreate(attrs["name"], template, int(attrs["replicas"]))


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


def in_parallel(parallelism: int, call: Callable[[T], R], items: Sequence[T]) -> list[R]:
    if not items:
        return []
    from concurrent.futures import ThreadPoolExecutor  # when used: validate loads the kinds

    with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(items)))) as pool:
        return list(pool.map(call, items))


FIELDS = (
    Field(
        "cluster",
        "Cluster",
        "The name of the k8s_cluster the group belongs to; it must be declared under k8s_clusters.",
        text(NAME),
        required=True,
        address_only=True,  # in the address and in the cloud id, never compared
        refers_to=CLUSTER_KIND,
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
        "replicas",
        "Replicas",
        "Number of nodes, 0-1000; the only field that changes in place.",
        integer(minimum=0, maximum=1000),
        required=True,
        change=IN_PLACE,
        why="a scale-down removes the newest nodes, named by the plan, with their disks",
        wire="replicas",
        doc="nodes, 0-1000",
    ),
    Field(
        "machineType",
        "Machine type",
        "BCC (cloud servers, default), BBC, EBC, HPAS or BEC.",
        choice("BCC", "BBC", "EBC", "HPAS", "BEC"),
        default="BCC",
        wire="instanceTemplate.machineType",
        doc="`BCC` (default), `BBC`, `EBC`, `HPAS` or `BEC`",
    ),
    Field(
        "instanceType",
        "Instance type",
        "The instance family, e.g. N3 (default), N5, C2, G1.",
        text("^[A-Z][A-Za-z0-9_]*$"),
        default="N3",
        wire="instanceTemplate.instanceType",
        doc="the instance family, `N3` (default), `N5`, `C2` ...",
    ),
    Field(
        "machineSpec",
        "Machine spec",
        "The instance specification, e.g. bcc.g5.c2m8.",
        text(min_length=1),
        required=True,
        wire="instanceTemplate.instanceResource.machineSpec",
        doc="the instance specification, `bcc.g5.c2m8`",
    ),
    Field(
        "cpu",
        "CPU cores",
        "CPU cores per node.",
        integer(minimum=1),
        required=True,
        wire="instanceTemplate.instanceResource.cpu",
        doc="cores per node, >= 1",
    ),
    Field(
        "memory",
        "Memory (GB)",
        "Memory per node in GB.",
        integer(minimum=1),
        required=True,
        wire="instanceTemplate.instanceResource.mem",
        doc="GB per node, >= 1",
    ),
    Field(
        "rootDiskType",
        "Root disk type",
        "The storage type of the system disk, e.g. cloud_hp1 (default), hp1, enhanced_ssd_pl1.",
        text(min_length=1),
        default="cloud_hp1",
        wire="instanceTemplate.instanceResource.rootDiskType",
        doc="`cloud_hp1` (default), `hp1`, `enhanced_ssd_pl1` ...",
    ),
    Field(
        "rootDiskSize",
        "Root disk size (GB)",
        "Size of the system disk in GB. Default 40.",
        integer(minimum=1),
        default=40,
        wire="instanceTemplate.instanceResource.rootDiskSize",
        doc="GB, >= 1; default 40",
    ),
    Field(
        "imageID",
        "Image",
        "The OS image of the nodes, e.g. m-gTpZ1k6n.",
        text("^m-[A-Za-z0-9]+$"),
        required=True,
        wire="instanceTemplate.imageID",
        doc="`m-...`",
    ),
    Field(
        "vpcSubnetID",
        "Subnet",
        "The subnet of the nodes, e.g. sbn-a1b2c3d4e5f6 (in the cluster's VPC).",
        text("^sbn-[A-Za-z0-9]+$"),
        required=True,
        wire="instanceTemplate.vpcConfig.vpcSubnetID",
        doc="`sbn-...`",
    ),
    Field(
        "securityGroupID",
        "Security group",
        "The security group of the nodes, e.g. g-a1b2c3d4e5f6 (esg- for an enterprise group).",
        text("^(g|esg)-[A-Za-z0-9]+$"),
        required=True,
        wire="instanceTemplate.vpcConfig.securityGroupID",
        doc="`g-...` (or `esg-...` for an enterprise security group)",
    ),
    Field(
        ADMIN_PASSWORD,
        "Admin password",
        "The nodes' root password, by reference only: {env: NAME} or {file: PATH}. 8-32 "
        "characters with letters, digits and one of !@#$%^*(). It applies to nodes created from "
        "then on and is never rotated; CCE generates one when it is left out.",
        secret=True,
        change=CREATE_ONLY,
        why="it applies to nodes created from then on",
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
        key: values[key] if key == SCALE_FIELD or values[key] != 0 else None for key in ATTRIBUTES
    }
    return drop_none(ordered)


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
        "A node pool of a k8s_cluster (address instance_group.<cluster>/<name>). replicas "
        "changes in place (scale up, or scale down removing the newest nodes); changing any "
        "other field replaces the group."
    )
    fields = FIELDS  # the instance template is fixed at creation
    read_with = (CLUSTER_KIND,)
    api_name = "the CCE v2 API"
    default_timeout = 1800.0
    terraform = TERRAFORM
    export_note = (
        "The API never returns adminPassword, which is optional: add\n"
        "`adminPassword: {env: NAME}` for nodes created later, if they need one."
    )

    # --- planning ----------------------------------------------------------------------------

    def refusal(self, spec: Spec, view: PlanView) -> str | None:
        return self.secret_refusal(spec, view)

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
        clusters = [c for c in found.get(CLUSTER_KIND, []) if c.cloud_id == cluster_id]
        if not clusters:
            raise NotConvertible(
                f"cannot name it: its cluster {cluster_id} is not converted from this state "
                "file (declare the cluster first, e.g. `reconciler export --kind k8s_cluster`, "
                "then adopt the group with `reconciler import`)"
            )
        address = Address(self.name, f"{clusters[0].address.name}/{attrs['name']}")
        cloud_id = group_cloud_id(cluster_id, group_id)
        replicas = attrs.get(SCALE_FIELD)
        ready = terraform_int(attributes, "status.0.ready_replicas")
        status = READY if ready is not None and ready == replicas else SCALING
        return TerraformRecord(LiveObject(address, cloud_id, attrs, status))

    def reference_hint(self, key: str, name: str, view: ConfigView) -> str:
        if any(other.identity == name for other in view.items_of(V1_CLUSTER_KIND)):
            return (
                f' ("{name}" is a v1 cluster, under {view.section_of(V1_CLUSTER_KIND)}; '
                f"instance groups belong to {view.section_of(CLUSTER_KIND)})"
            )
        return ""

    def container_of(self, address: Address) -> Address | None:
        return cluster_of(address)

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
    ) -> LiveObject:
        """``instances``: the group's node list (None: not read, an unmanaged group);
        ``group_from``: the request that answered ``group``, named when the two disagree."""
        attrs = {
            "name": group.instance_group_name,
            "replicas": group.replicas,
            **template_attrs(group.template),
        }
        steady = group.ready_replicas == group.replicas and (
            not instances or converged(group, instances, group.replicas)
        )
        return LiveObject(
            Address(self.name, f"{cluster_name}/{group.instance_group_name}"),
            group_cloud_id(cluster_id, group.instance_group_id),
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
            group_cloud_id(c.cloud_id, g.instance_group_id)
            for c, g in found
            if group_cloud_id(c.cloud_id, g.instance_group_id) in managed
        ]

        def nodes_of(cloud_id: str) -> Listing[CceInstance] | None:
            try:
                return v2.list_group_instances(*split_cloud_id(cloud_id))
            except NotFoundError:  # deleted since it was listed
                return None

        nodes = dict(zip(wanted, in_parallel(ctx.parallelism, nodes_of, wanted), strict=True))
        out = []
        for cluster, group in found:
            cloud_id = group_cloud_id(cluster.cloud_id, group.instance_group_id)
            if cloud_id in nodes and nodes[cloud_id] is None:
                continue  # deleted since it was listed
            origin = origins[group.instance_group_id]
            out.append(
                self.live_object(
                    cluster.address.name, cluster.cloud_id, group, nodes.get(cloud_id), origin
                )
            )
        return out

    def _clusters_to_list(self, ctx: RefreshContext) -> list[LiveObject]:
        """The live clusters whose groups can have addresses. An unmanaged cluster that shares
        its name with a managed one is left out: ``CLUSTER`` in an address means the managed one."""
        alive = [c for c in ctx.found.get(CLUSTER_KIND, []) if c.status not in GONE_PHASES]
        managed = ctx.managed_ids(CLUSTER_KIND)
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
        return self.live_object(cluster_of(address).name, cluster_id, group, members, origin)

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
            lambda: group_cloud_id(
                cluster_id, v2.create_instance_group(cluster_id, request).instance_group_id
            ),
            lambda: [
                group_cloud_id(cluster_id, g.instance_group_id)
                for g in v2.list_instance_groups(cluster_id)
                if g.instance_group_name == after["name"]
            ],
        )
        ops.record_cloud_id(cloud_id)
        entry = entry.evolve(cloud_id=cloud_id)
        group_id = split_cloud_id(cloud_id)[1]
        want = int(after["replicas"])
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
        cluster = cluster_of(address)
        owned = ops.owned_ids(CLUSTER_KIND)
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
        step = change.scale
        if step is None:
            return
        cluster_id, group_id = split_cloud_id(entry.cloud_id)
        v2 = v2_client(ops.client)
        want = int((change.after or {})[SCALE_FIELD])
        if step.add:
            v2.update_replicas(cluster_id, group_id, want)  # absolute: a resend is harmless
        elif step.remove:
            self._scale_down(change, v2, cluster_id, group_id, step.remove, want)
        ops.wait(change.address, SCALED, self._status(v2, cluster_id, group_id, want))

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

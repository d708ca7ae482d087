"""Typed calls for the CCE v2 API (docs/api-contract.md "CCE v2"): clusters, instance groups
and their nodes, and the day-2 calls (cce-v2-day2-api.md): delete protection, quotas, group
configure, autoscaling (group bounds and the cluster autoscaler), scale tasks, node-upgrade
workflows and add-ons.

For: one method per endpoint under the Go SDK's prefix ``/api/cce/service/v2``, building the
path, query and body as the SDK does, reading every page of a list (``pageNo`` / ``pageSize``
until ``totalCount`` items are in), and parsing answers strictly into the frozen values of
:mod:`.v2_types`. Signing, retries and error classification are the shared
:class:`~reconciler.client.transport.Transport`'s, as for :class:`~reconciler.client.v1.CceClient`.
Not for: waiting for phases, or deciding what an error means for a plan (the kinds do).

Creates (cluster, instance group, workflow, add-on install and upgrade) and scale tasks pass
``idempotent=False``: v2 has no client token, so a lost answer surfaces as
``OutcomeUnknownError`` and the caller must read (for example
:meth:`CceV2Client.find_clusters` by name) before sending again. Names are not unique. Add-on
calls can answer 200 with a ``code``: that is the service refusing, raised as its error class.

Paging is strict (:mod:`.pages`, shared with the CCR Enterprise client): a ``null`` list, a
page longer than asked (unless it is the whole list at once), a short page before ``totalCount``
items, a ``totalCount`` beyond ``pages.MAX_LIST_ITEMS``, an item listed twice on a page, an item
seen on two pages or a ``totalCount`` that moves between pages is never taken as the list. The
last two may mean the list changed while it was read: the listing starts over, at most
``pages.LIST_ATTEMPTS`` times, then fails with ``ShapeError``; the others fail at once. Pages are
bounded by the ``totalCount`` the answers announce, and the pages after the first are asked for
at once (within ``--parallelism``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from reconciler.client.answers import Origin, Reader
from reconciler.client.base import ClientBase
from reconciler.client.pages import PageShape, read_all_pages
from reconciler.client.transport import Transport
from reconciler.client.v1_types import Ack, Listing, frozen
from reconciler.client.v2_types import (
    TASK_TYPE,
    WORKFLOW_ACTIONS,
    Addon,
    AddonInstall,
    AddonUninstall,
    AddonUpdate,
    AddonUpgrade,
    AutoscalerConfig,
    CceInstance,
    ClusterAutoscaler,
    ClusterCreate,
    ClusterCreated,
    ForbidDelete,
    GroupAutoscaler,
    InstanceGroup,
    InstanceGroupConfigure,
    InstanceGroupCreate,
    InstanceGroupCreated,
    K8sCluster,
    Kubeconfig,
    Quota,
    ReplicasUpdate,
    ScaleDown,
    Task,
    TaskCreated,
    UpgradeVersions,
    Workflow,
    WorkflowCreate,
    WorkflowCreated,
)
from reconciler.errors import FatalServerError, UsageError, server_error

T = TypeVar("T")

PREFIX = "/api/cce/service/v2"  # [SDK url.go]; the emulator also serves /v2
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000  # the service's maximum is unknown; the emulator's for clusters
KUBECONFIG_TYPES = ("vpc", "public", "internal")  # the SDK refuses any other before sending


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _present(**values: str) -> dict[str, str]:
    """Query parameters as the SDK adds them: empty strings left out."""
    return {k: v for k, v in values.items() if v}


def _segment(value: str, what: str) -> str:
    """An id placed in the URL path; dot segments would be rewritten by URL normalisation."""
    if not value or "/" in value or value in (".", ".."):
        raise UsageError(f"{what} {value!r} cannot be used in a URL path")
    return value


class CceV2Client(ClientBase):
    """The CCE v2 API as typed calls. Thread-safe: share one client between workers."""

    DEFAULT_PAGE_SIZE = DEFAULT_PAGE_SIZE
    MAX_PAGE_SIZE = MAX_PAGE_SIZE

    def __init__(
        self, transport: Transport, *, page_size: int | None = None, prefix: str = PREFIX
    ) -> None:
        super().__init__(transport, page_size=page_size)
        self.prefix = prefix.rstrip("/")

    # --- plumbing ----------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        *,
        idempotent: bool = True,
    ) -> Reader:
        """One call; its answer as a Reader (every v2 success is a JSON object)."""
        response = self.transport.request(method, path, query, body, idempotent=idempotent)
        origin = Origin(method, path, response.status, response.request_id)
        return Reader(response.data, origin)

    def _ack(
        self, method: str, path: str, query: Mapping[str, str] | None = None, **kw: Any
    ) -> Ack:
        reader = self._send(method, path, query, **kw)
        return Ack(reader.origin.request_id, frozen(reader.data))

    def _cluster_path(self, cluster_id: str, *rest: str) -> str:
        return "/".join((f"{self.prefix}/cluster", _segment(cluster_id, "cluster id"), *rest))

    def _group_path(self, cluster_id: str, group_id: str, *rest: str) -> str:
        group = _segment(group_id, "instance group id")
        return self._cluster_path(cluster_id, "instancegroup", group, *rest)

    def _all_pages(
        self,
        path: str,
        query: Mapping[str, str],
        wrapper: str,
        list_key: str,
        parse: Callable[[Reader], T],
        identity: Callable[[T], str],
    ) -> Listing[T]:
        def fetch(page_no: int, size: int) -> Reader:
            paging = {"pageNo": str(page_no), "pageSize": str(size)}
            return self._send("GET", path, {**query, **paging}).obj(wrapper)

        shape = PageShape(list_key, "totalCount")
        at_once = self.transport.config.pool_size
        return read_all_pages(
            fetch, self.page_size, shape, parse, identity, path=path, at_once=at_once
        )

    # --- clusters [SDK ccev2.go; DOC] --------------------------------------------------------

    def create_cluster(self, request: ClusterCreate) -> ClusterCreated:
        """Start creating a cluster (phase ``pending``); names need not be unique."""
        path = f"{self.prefix}/cluster"
        reader = self._send("POST", path, body=request.to_json(), idempotent=False)
        return ClusterCreated(reader.text("clusterID", nonempty=True), reader.origin.request_id)

    def list_clusters(
        self,
        keyword: str = "",
        *,
        keyword_type: str = "clusterName",
        order_by: str = "clusterID",
        order: str = "ASC",
    ) -> Listing[K8sCluster]:
        """Every cluster (``keyword`` narrows by substring, as the service matches it).
        Ordered by the unique cluster id by default, so that pages cannot shift on ties."""
        query = {"keywordType": keyword_type, "orderBy": order_by, "order": order}
        if keyword:
            query["keyword"] = keyword  # the SDK leaves empty strings out
        return self._all_pages(
            f"{self.prefix}/clusters",
            query,
            "clusterPage",
            "clusterList",
            K8sCluster.read,
            lambda c: c.cluster_id,
        )

    def find_clusters(self, name: str) -> tuple[K8sCluster, ...]:
        """The clusters named exactly ``name`` (more than one is possible)."""
        return tuple(c for c in self.list_clusters(name) if c.cluster_name == name)

    def get_cluster(self, cluster_id: str) -> K8sCluster:
        reader = self._send("GET", self._cluster_path(cluster_id))
        return K8sCluster.read(reader.obj("cluster"))

    def delete_cluster(
        self,
        cluster_id: str,
        *,
        delete_resource: bool = False,
        delete_cds_snapshot: bool = False,
        move_out: bool = False,
        batch_refund_resource: bool = False,
    ) -> Ack:
        """Start deleting (phase ``deleting``, then ``deleted``). The four flags are always
        sent, as the SDK does: postpaid EIP/CDS, CDS snapshots, keeping the nodes' machines."""
        query = {
            "deleteResource": _bool(delete_resource),
            "deleteCDSSnapshot": _bool(delete_cds_snapshot),
            "moveOut": _bool(move_out),
            "batchRefundResource": _bool(batch_refund_resource),
        }
        return self._ack("DELETE", self._cluster_path(cluster_id), query)

    def get_kubeconfig(self, cluster_id: str, kind: str = "vpc") -> Kubeconfig:
        if kind not in KUBECONFIG_TYPES:
            raise UsageError(
                f"kubeconfig type {kind!r} is not one of {', '.join(KUBECONFIG_TYPES)}"
            )
        path = f"{self.prefix}/kubeconfig/{_segment(cluster_id, 'cluster id')}/{kind}"
        reader = self._send("GET", path)
        return Kubeconfig(reader.text("kubeConfigType"), reader.text("kubeConfig", nonempty=True))

    # --- instance groups [SDK ccev2.go; DOC] -------------------------------------------------

    def create_instance_group(
        self, cluster_id: str, request: InstanceGroupCreate
    ) -> InstanceGroupCreated:
        path = self._cluster_path(cluster_id, "instancegroup")
        reader = self._send("POST", path, body=request.to_json(), idempotent=False)
        group_id = reader.text("instanceGroupID", nonempty=True)
        return InstanceGroupCreated(group_id, reader.origin.request_id)

    def list_instance_groups(
        self,
        cluster_id: str,
        *,
        keyword_type: str = "",
        keyword: str = "",
        autoscaler_enabled: bool | None = None,
        charging_type: str = "",
    ) -> Listing[InstanceGroup]:
        """The cluster's groups; ``keyword`` (by ``instanceGroupName`` or ``instanceGroupID``),
        ``autoscaler_enabled=True`` (only autoscaled groups) and ``charging_type`` narrow it."""
        query = _present(
            keywordType=keyword_type,
            keyword=keyword,
            autoscalerEnabled="" if autoscaler_enabled is None else _bool(autoscaler_enabled),
            chargingType=charging_type,
        )
        return self._all_pages(
            self._cluster_path(cluster_id, "instancegroups"),
            query,
            "page",
            "list",
            InstanceGroup.read,
            lambda g: g.instance_group_id,
        )

    def get_instance_group(self, cluster_id: str, group_id: str) -> InstanceGroup:
        reader = self._send("GET", self._group_path(cluster_id, group_id))
        return InstanceGroup.read(reader.obj("instanceGroup"))

    def update_replicas(self, cluster_id: str, group_id: str, update: ReplicasUpdate | int) -> Ack:
        """Set the desired node count (an absolute value, so a resend is harmless)."""
        request = ReplicasUpdate(update) if isinstance(update, int) else update
        path = self._group_path(cluster_id, group_id, "replicas")
        return self._ack("PUT", path, body=request.to_json())

    def scale_down(self, cluster_id: str, group_id: str, request: ScaleDown) -> TaskCreated:
        """Remove the named nodes from the group (its replicas drop by as many)."""
        path = self._group_path(cluster_id, group_id, "scaledown")
        reader = self._send("PUT", path, body=request.to_json(), idempotent=False)
        return TaskCreated(reader.text("taskID", nonempty=True), reader.origin.request_id)

    def delete_instance_group(
        self,
        cluster_id: str,
        group_id: str,
        *,
        delete_instances: bool = False,
        release_all_resources: bool = False,
    ) -> Ack:
        """Delete the group; its nodes are deleted too only with ``delete_instances``."""
        query = {
            "deleteInstances": _bool(delete_instances),
            "releaseAllResources": _bool(release_all_resources),  # the SDK's spelling
        }
        return self._ack("DELETE", self._group_path(cluster_id, group_id), query)

    def list_group_instances(
        self,
        cluster_id: str,
        group_id: str,
        *,
        keyword_type: str = "",
        keyword: str = "",
        phases: Sequence[str] = (),
    ) -> Listing[CceInstance]:
        """The group's nodes; ``phases`` (``running``, ``pending`` ...) narrows them (the SDK
        passes one comma-separated string)."""
        query = _present(keywordType=keyword_type, keyword=keyword, phases=",".join(phases))
        return self._all_pages(
            self._group_path(cluster_id, group_id, "instances"),
            query,
            "page",
            "list",
            CceInstance.read,
            lambda i: i.cce_instance_id,
        )

    def list_instances(
        self,
        cluster_id: str,
        *,
        keyword_type: str = "",
        keyword: str = "",
        order_by: str = "instanceID",
        order: str = "ASC",
    ) -> Listing[CceInstance]:
        """Every node of the cluster (``keyword_type``: ``instanceName``, ``instanceID``,
        ``k8sNodeName``, ``vpcIP``, ``instanceGroupID``); ordered by the unique id by default."""
        query = _present(keywordType=keyword_type, keyword=keyword, orderBy=order_by, order=order)
        return self._all_pages(
            self._cluster_path(cluster_id, "instances"),
            query,
            "instancePage",
            "instanceList",
            CceInstance.read,
            lambda i: i.cce_instance_id,
        )

    # --- day 2: instance groups (cce-v2-day2-api.md 2) ---------------------------------------

    def configure_instance_group(
        self, cluster_id: str, group_id: str, request: InstanceGroupConfigure
    ) -> Ack:
        """Replace the group's spec (labels, taints, annotations ... of its template; with
        ``syncMeta`` also on its nodes). The whole spec is sent, so a resend is harmless."""
        path = self._group_path(cluster_id, group_id, "configure")
        return self._ack("PUT", path, body=request.to_json())

    def update_group_autoscaler(self, cluster_id: str, group_id: str, spec: GroupAutoscaler) -> Ack:
        """Set the group's autoscaling bounds (checked as the SDK checks them, before sending)."""
        problem = spec.problem()
        if problem:
            raise UsageError(f"instance group {group_id}: {problem}")
        path = self._group_path(cluster_id, group_id, "autoscaler")
        return self._ack("PUT", path, body=spec.to_json())

    def scale_up(
        self, cluster_id: str, group_id: str, *, up_to_replicas: int = 0, up_replicas: int = 0
    ) -> TaskCreated:
        """Grow the group to ``up_to_replicas`` (more than now) or by ``up_replicas``; a task.
        Not resent after a lost answer: ``up_replicas`` would add twice."""
        if up_to_replicas <= 0 and up_replicas <= 0:
            raise UsageError("target replicas or up replicas should be positive")
        query: dict[str, str] = {}
        if up_to_replicas > 0:
            query["upToReplicas"] = str(up_to_replicas)
        if up_replicas > 0:
            query["upReplicas"] = str(up_replicas)
        path = self._group_path(cluster_id, group_id, "scaleup")
        reader = self._send("PUT", path, query, idempotent=False)
        return TaskCreated(reader.text("taskID", nonempty=True), reader.origin.request_id)

    def get_task(self, task_id: str) -> Task:
        path = f"{self.prefix}/task/{TASK_TYPE}/{_segment(task_id, 'task id')}"
        return Task.read(self._send("GET", path).obj("task"))

    def list_tasks(self, target_id: str) -> tuple[Task, ...]:
        """Every scale task of one group (``targetID``); paging 0/0 asks for all of them."""
        if not target_id:
            raise UsageError("targetID is empty")
        query = {"targetID": target_id, "pageNo": "0", "pageSize": "0"}
        page = self._send("GET", f"{self.prefix}/tasks/{TASK_TYPE}", query).obj("page")
        count = page.integer("totalCount")
        items = page.opt_objects("items") if count == 0 else page.objects("items")  # Go: nil
        tasks = tuple(Task.read(t) for t in items)
        if len(tasks) != count:
            raise page.error("items", f"{len(tasks)} tasks, but totalCount {count}")
        return tasks

    # --- day 2: clusters (cce-v2-day2-api.md 1, 4) -------------------------------------------

    def set_forbid_delete(self, cluster_id: str, forbid: bool) -> bool:
        """Turn the cluster's own deletion protection on or off; the value now in effect."""
        path = self._cluster_path(cluster_id, "forbiddelete")
        reader = self._send("PUT", path, body=ForbidDelete(forbid).to_json())
        if not reader.boolean("success"):
            raise FatalServerError(
                "the service did not change forbidDelete (success: false)",
                status=reader.origin.status,
                request_id=reader.origin.request_id,
                method="PUT",
                path=path,
            )
        return reader.boolean("forbidDelete")

    def get_cluster_quota(self) -> Quota:
        """The account's cluster quota (how many clusters it may have, how many it has)."""
        return Quota.read(self._send("GET", f"{self.prefix}/quota/cluster"))

    def get_node_quota(self, cluster_id: str) -> Quota:
        path = f"{self.prefix}/quota/cluster/{_segment(cluster_id, 'cluster id')}/node"
        return Quota.read(self._send("GET", path))

    def _autoscaler_path(self, cluster_id: str) -> str:
        return f"{self.prefix}/autoscaler/{_segment(cluster_id, 'cluster id')}"

    def create_autoscaler(self, cluster_id: str) -> Ack:
        """Deploy the cluster autoscaler (no body)."""
        return self._ack("POST", self._autoscaler_path(cluster_id))

    def get_autoscaler(self, cluster_id: str) -> ClusterAutoscaler:
        reader = self._send("GET", self._autoscaler_path(cluster_id))
        return ClusterAutoscaler.read(reader.obj("autoscaler"))

    def update_autoscaler(self, cluster_id: str, config: AutoscalerConfig) -> Ack:
        """Replace the cluster autoscaler's settings (a bare config body)."""
        return self._ack("PUT", self._autoscaler_path(cluster_id), body=config.to_json())

    # --- day 2: node upgrades (cce-v2-day2-api.md 5) -----------------------------------------

    def upgrade_versions(self, cluster_id: str, group_id: str) -> UpgradeVersions:
        path = self._group_path(cluster_id, group_id, "component_upgrade_versions")
        return UpgradeVersions.read(self._send("GET", path).obj("result"))

    def create_workflow(self, cluster_id: str, request: WorkflowCreate) -> WorkflowCreated:
        """Start a workflow (an ``UpgradeNodes`` upgrade). There is no client token and no
        list call: a lost answer is never resent (the group's nodes tell what happened)."""
        path = self._cluster_path(cluster_id, "workflow")
        reader = self._send("POST", path, body=request.to_json(), idempotent=False)
        return WorkflowCreated(reader.text("workflowID", nonempty=True), reader.origin.request_id)

    def get_workflow(self, cluster_id: str, workflow_id: str) -> Workflow:
        path = self._cluster_path(cluster_id, "workflow", _segment(workflow_id, "workflow id"))
        return Workflow.read(self._send("GET", path).obj("workflow"))

    def update_workflow(
        self,
        cluster_id: str,
        workflow_id: str,
        action: str,
        spec: Mapping[str, Any] | None = None,
    ) -> Ack:
        """``pause``, ``resume`` or ``updateSpec`` (with ``spec``) a running workflow."""
        if action not in WORKFLOW_ACTIONS:
            raise UsageError(f"workflow action {action!r} is not one of {WORKFLOW_ACTIONS}")
        body: dict[str, Any] = {"action": action}
        if spec is not None:
            body["spec"] = dict(spec)
        path = self._cluster_path(cluster_id, "workflow", _segment(workflow_id, "workflow id"))
        return self._ack("PUT", path, body=body)

    # --- day 2: add-ons (cce-v2-day2-api.md 6) -----------------------------------------------

    def list_addons(self, cluster_id: str, names: Sequence[str] = ()) -> tuple[Addon, ...]:
        """The cluster's add-ons (all of the catalogue when ``names`` is empty). The SDK sends
        the filter twice: as ``?addons=a,b`` and in a JSON body on the GET."""
        wanted = ",".join(names)
        path = self._cluster_path(cluster_id, "addon")
        body = {"clusterID": cluster_id, "addons": wanted}
        reader = self._addon_answer("GET", path, _present(addons=wanted), body)
        return tuple(Addon.read(item) for item in reader.objects("items"))

    def install_addon(self, cluster_id: str, request: AddonInstall) -> Ack:
        path = self._cluster_path(cluster_id, "addon")
        return self._addon_ack("POST", path, request.to_json(cluster_id), idempotent=False)

    def upgrade_addon(self, cluster_id: str, request: AddonUpgrade) -> Ack:
        path = self._cluster_path(cluster_id, "addon", "upgrade")
        return self._addon_ack("POST", path, request.to_json(cluster_id), idempotent=False)

    def update_addon(self, cluster_id: str, request: AddonUpdate) -> Ack:
        path = self._cluster_path(cluster_id, "addon")
        return self._addon_ack("PUT", path, request.to_json(cluster_id))

    def uninstall_addon(self, cluster_id: str, request: AddonUninstall) -> Ack:
        path = self._cluster_path(cluster_id, "addon")
        return self._addon_ack("DELETE", path, request.to_json(cluster_id))

    def _addon_ack(self, method: str, path: str, body: Any, *, idempotent: bool = True) -> Ack:
        reader = self._addon_answer(method, path, None, body, idempotent=idempotent)
        return Ack(reader.origin.request_id, frozen(reader.data))

    def _addon_answer(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        body: Any,
        *,
        idempotent: bool = True,
    ) -> Reader:
        """An add-on call's answer; a 200 carrying a ``code`` is the service refusing it."""
        reader = self._send(method, path, query, body, idempotent=idempotent)
        code = reader.opt_text("code")
        if code:
            o = reader.origin
            message = reader.opt_text("message") or "the add-on call was refused"
            raise server_error(o.status, code, message, o.request_id, method, path)
        return reader

"""Typed calls for the CCE v2 cluster and instance-group endpoints (docs/api-contract.md "CCE v2").

For: one method per endpoint under the Go SDK's prefix ``/api/cce/service/v2``, building the
path, query and body as the SDK does, reading every page of a list (``pageNo`` / ``pageSize``
until ``totalCount`` items are in), and parsing answers strictly into the frozen values of
:mod:`.v2_types`. Signing, retries and error classification are the shared
:class:`~reconciler.client.transport.Transport`'s, as for :class:`~reconciler.client.v1.CceClient`.
Not for: waiting for phases, or deciding what an error means for a plan (the kinds do).

Creates (cluster, instance group) and scale-downs pass ``idempotent=False``: v2 has no client
token, so a lost answer surfaces as ``OutcomeUnknownError`` and the caller must read (for
example :meth:`CceV2Client.find_clusters` by name) before sending again. Names are not unique.

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

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from reconciler.client.answers import Origin, Reader
from reconciler.client.base import ClientBase
from reconciler.client.pages import PageShape, read_all_pages
from reconciler.client.transport import Transport
from reconciler.client.v1_types import Ack, Listing, frozen
from reconciler.client.v2_types import (
    CceInstance,
    ClusterCreate,
    ClusterCreated,
    InstanceGroup,
    InstanceGroupCreate,
    InstanceGroupCreated,
    K8sCluster,
    Kubeconfig,
    ReplicasUpdate,
    ScaleDown,
    TaskCreated,
)
from reconciler.errors import UsageError

T = TypeVar("T")

PREFIX = "/api/cce/service/v2"  # [SDK url.go]; the emulator also serves /v2
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000  # the service's maximum is unknown; the emulator's for clusters
KUBECONFIG_TYPES = ("vpc", "public", "internal")  # the SDK refuses any other before sending


def _bool(value: bool) -> str:
    return "true" if value else "false"


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

    def list_instance_groups(self, cluster_id: str) -> Listing[InstanceGroup]:
        return self._all_pages(
            self._cluster_path(cluster_id, "instancegroups"),
            {},
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

    def list_group_instances(self, cluster_id: str, group_id: str) -> Listing[CceInstance]:
        return self._all_pages(
            self._group_path(cluster_id, group_id, "instances"),
            {},
            "page",
            "list",
            CceInstance.read,
            lambda i: i.cce_instance_id,
        )

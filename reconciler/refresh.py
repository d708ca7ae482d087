"""Read the live state with list calls: one paged list per kind and one user read, plus one node
list per managed cluster. Never one GET per declared resource, so a plan over 10,000
repositories costs a handful of requests.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from reconciler.client.api import CceClient
from reconciler.client.types import Cluster, Image, Namespace, Node
from reconciler.errors import NotFoundError
from reconciler.gcpause import paused_gc
from reconciler.kinds import cluster as cluster_kind
from reconciler.kinds import namespace as namespace_kind
from reconciler.kinds import repository as repository_kind
from reconciler.kinds import user as user_kind
from reconciler.kinds.base import LiveObject
from reconciler.model import Address
from reconciler.plan import LiveState
from reconciler.state import State


def node_dict(node: Node) -> dict[str, Any]:
    return {
        "id": node.instance_short_id,
        "status": node.status,
        "instanceType": node.instance_type,
        "cpu": node.cpu,
        "memory": node.memory,
        "createTime": node.create_time,
    }


def cluster_object(cluster: Cluster, nodes: list[Node] | None) -> LiveObject:
    data = dict(cluster.raw) or {
        "clusterName": cluster.cluster_name,
        "containerNet": cluster.container_net,
    }
    node_dicts = [node_dict(n) for n in nodes] if nodes is not None else []
    attrs = cluster_kind.live_attrs(data, node_dicts)
    if nodes is None:
        attrs.setdefault("workers", {})["count"] = cluster.slave_vm_count
    return LiveObject(
        Address("cluster", cluster.cluster_name),
        cluster.cluster_uuid,
        attrs,
        cluster.status,
        {"nodes": node_dicts},
    )


def namespace_object(ns: Namespace) -> LiveObject:
    attrs = namespace_kind.live_attrs({"name": ns.namespace, "public": ns.public})
    return LiveObject(Address("namespace", ns.namespace), ns.namespace, attrs)


def repository_object(image: Image) -> LiveObject:
    name = f"{image.namespace}/{image.repository}"
    attrs = repository_kind.live_attrs(
        {
            "namespace": image.namespace,
            "name": image.repository,
            "tags": list(image.tags),
            "description": image.description,
        }
    )
    return LiveObject(Address("repository", name), name, attrs)


class LiveStateBuilder:
    def __init__(self) -> None:
        self.by_id: dict[tuple[str, str], LiveObject] = {}
        self.by_name: dict[Address, list[LiveObject]] = defaultdict(list)

    def add(self, obj: LiveObject) -> None:
        self.by_id[(obj.address.kind, obj.cloud_id)] = obj
        self.by_name[obj.address].append(obj)

    def build(self) -> LiveState:
        return LiveState(dict(self.by_id), {a: tuple(v) for a, v in self.by_name.items()})


def managed_cluster_ids(state: State) -> set[str]:
    ids = {e.cloud_id for a, e in state.resources.items() if a.kind == "cluster"}
    ids |= {
        p.cloud_id for p in state.pending.values() if p.address.kind == "cluster" and p.cloud_id
    }
    return ids


@paused_gc()
def refresh(client: CceClient, state: State, parallelism: int = 10) -> LiveState:
    live = LiveStateBuilder()
    try:
        user = client.get_user()
    except NotFoundError:
        user = None
    if user is not None:
        live.add(
            LiveObject(
                Address("user", user.username),
                user.username,
                user_kind.live_attrs({"username": user.username}),
            )
        )
        for ns in client.list_namespaces(user.username):
            live.add(namespace_object(ns))
        for image in client.list_images(user.username):
            live.add(repository_object(image))
    clusters = client.list_clusters()
    wanted = managed_cluster_ids(state)
    with_nodes = [
        c
        for c in clusters
        if c.cluster_uuid in wanted and c.status not in cluster_kind.GONE_STATUSES
    ]
    with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(with_nodes) or 1))) as pool:
        node_lists = dict(
            zip(
                [c.cluster_uuid for c in with_nodes],
                pool.map(lambda c: list(client.list_nodes(c.cluster_uuid)), with_nodes),
                strict=True,
            )
        )
    for cluster in clusters:
        live.add(cluster_object(cluster, node_lists.get(cluster.cluster_uuid)))
    return live.build()


def read_one(client: CceClient, address: Address, cloud_id: str) -> LiveObject | None:
    """One object by id, for `import` and for reads after an unknown outcome."""
    try:
        if address.kind == "user":
            user = client.get_user()
            if user.username != cloud_id:
                return None
            return LiveObject(address, cloud_id, user_kind.live_attrs({"username": user.username}))
        if address.kind == "namespace":
            return namespace_object(client.get_namespace(cloud_id))
        if address.kind == "repository":
            namespace, _, name = cloud_id.partition("/")
            user = client.get_user()
            found = [
                i for i in client.list_images(user.username, namespace) if i.repository == name
            ]
            return repository_object(found[0]) if found else None
        cluster = client.get_cluster(cloud_id)
        nodes = (
            list(client.list_nodes(cloud_id))
            if cluster.status not in cluster_kind.GONE_STATUSES
            else []
        )
        return cluster_object(cluster, nodes)
    except NotFoundError:
        return None

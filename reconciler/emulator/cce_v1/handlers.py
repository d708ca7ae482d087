"""Thin HTTP handlers for the cluster and node endpoints (cce-v1-api.md section 1).

Read parameters, call :class:`.models.Clusters`, serialise to the shapes of section 1 (list
1.2, detail 1.3, nodes 1.7, helpers 1.8). ``/v1/cluster`` carries four operations told apart by
a query key (``?scalingUp``, ``?scalingDown``, ``?quota``), dispatched here.
Not for: lifecycle or validation rules (the model's).
"""

from __future__ import annotations

from typing import Any

from ..call import Call, Reply
from ..clock import ZERO_TIME, rfc3339
from ..paging import NumberedPage, marker_fields
from ..params import Json
from .errors import READ, illegal
from .models import RUNNING, VERSIONS, Cluster, ClusterRequest, Clusters, FreeInstance, Node
from .orders import Order, parse_order

ClustersCall = Call[Clusters]

INSTANCE_MODE = "cce"  # [INFERRED]: the real values are not documented
FLAVORS = (  # [INFERRED]: POST /v1/node/flavor/list is known from third-party code only
    {"instanceType": "10", "cpu": 2, "memory": 8},
    {"instanceType": "10", "cpu": 4, "memory": 16},
    {"instanceType": "10", "cpu": 8, "memory": 32},
    {"instanceType": "13", "cpu": 4, "memory": 16},
)


# -- serialisation --------------------------------------------------------------------------


def simple_node_json(node: Node) -> dict[str, Any]:
    return {
        "instanceShortId": node.short_id,
        "instanceUuid": node.spec.instance_uuid,
        "instanceName": node.spec.name,
        "clusterUuid": node.cluster_uuid,
        "status": node.status,
    }


def node_json(node: Node, cluster_vpc: tuple[str, str]) -> dict[str, Any]:
    spec = node.spec
    eip = f"106.13.{(node.seq // 250) % 256}.{node.seq % 250 + 2}" if spec.eip_bandwidth else ""
    return {
        **simple_node_json(node),
        "availableZone": spec.zone,
        "vpcId": cluster_vpc[0],
        "vpcCidr": cluster_vpc[1],
        "subnetId": spec.subnet,
        "subnetType": "BCC",
        "eip": eip,
        "eipBandwidth": spec.eip_bandwidth,
        "cpu": spec.cpu,
        "memory": spec.memory,
        "diskSize": spec.disk_gb,
        "sysDisk": spec.sys_disk_gb,
        "instanceType": spec.instance_type,
        "blb": "",
        "floatingIp": "",
        "fixIp": node.fix_ip,
        "hostname": node.fix_ip,
        "createTime": rfc3339(node.created),
        "deleteTime": ZERO_TIME,
        "expireTime": ZERO_TIME,
        "paymentMethod": spec.payment,
        "runtimeVersion": "18.9.2",
    }


def cluster_json(cluster: Cluster, region: str) -> dict[str, Any]:
    """The list shape (1.2) plus the detail fields (1.3): one shape serves both endpoints."""
    spec = cluster.spec
    return {
        "clusterUuid": cluster.uuid,
        "clusterName": cluster.name,
        "version": cluster.version,
        "region": region,
        "status": cluster.status,
        "slaveVmCount": len(cluster.nodes),
        "masterVmCount": spec.master_count,
        "containerNet": cluster.container_net,
        "mainAvailableZone": cluster.main_zone,
        "vpcId": spec.vpc_id,
        "vpcUuid": spec.vpc_uuid,
        "vpcCidr": spec.vpc_cidr,
        "vpcName": "default",
        "zoneSubnetMap": {cluster.main_zone: spec.subnet},
        "masterZoneSubnetMap": {cluster.main_zone: spec.subnet},
        "advancedOptions": spec.advanced_options,
        "secureContainerEnable": bool(spec.advanced_options.get("secureContainerEnable", False)),
        "createTime": rfc3339(cluster.created),
        "createStartTime": rfc3339(cluster.created),
        "deleteTime": rfc3339(cluster.deleted),
        "comment": spec.comment,
        "instanceMode": INSTANCE_MODE,
        "hasPrepay": spec.has_prepay,
        "masterExposed": spec.master_exposed,
        "dccUuid": spec.dcc_uuid,
        "allInstanceNormal": all(node.status == RUNNING for node in cluster.nodes),
        "instanceList": [simple_node_json(node) for node in cluster.nodes],
    }


def free_instance_json(instance: FreeInstance) -> dict[str, Any]:
    return {
        "instanceId": instance.instance_id,
        "name": instance.name,
        "status": RUNNING,
        "payment": instance.payment,
        "internalIp": instance.internal_ip,
    }


def kubeconfig_text(cluster: Cluster, kind: str) -> str:
    host = {"default": "106.12.0.10", "internal": "100.64.0.10", "intraVpc": "192.168.0.10"}[kind]
    user = f"{cluster.uuid}-admin"
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- cluster:\n    server: https://{host}:6443\n"
        "    insecure-skip-tls-verify: true\n"
        f"  name: {cluster.uuid}\n"
        f"contexts:\n- context:\n    cluster: {cluster.uuid}\n    user: {user}\n"
        f"  name: {cluster.uuid}\n"
        f"current-context: {cluster.uuid}\n"
        f"users:\n- name: {user}\n  user:\n    token: emulator-token-{cluster.uuid}\n"
    )


# -- parsing --------------------------------------------------------------------------------


def _order(body: Json, key: str) -> Order | None:
    content = READ.opt_obj(body, key)
    return None if content is None else parse_order(content)


def _instance_ids(body: Json, key: str) -> list[str]:
    return [READ.text(item, "instanceId") for item in READ.object_list(body, key)]


def _cluster_request(body: Json) -> ClusterRequest:
    READ.opt_obj(body, "cdsPreMountInfo")  # accepted, type-checked, not modelled
    return ClusterRequest(
        name=READ.opt_str(body, "clusterName"),
        version=READ.opt_str(body, "version"),
        main_zone=READ.opt_str(body, "mainAvailableZone"),
        container_net=READ.opt_str(body, "containerNet"),
        order=_order(body, "orderContent"),
        master_order=_order(body, "masterOrderContent"),
        comment=READ.text(body, "comment"),
        advanced_options=dict(READ.opt_obj(body, "advancedOptions") or {}),
        master_exposed=bool(READ.opt_bool(body, "masterExposed")),
        dcc_uuid=READ.text(body, "dccUuid"),
        deploy_mode=READ.text(body, "deployMode", "BCC"),
    )


# -- /v1/cluster ----------------------------------------------------------------------------


def cluster_post(call: ClustersCall) -> Reply:
    if call.has_flag("scalingUp"):
        return scale_up(call)
    if call.has_flag("scalingDown"):
        return scale_down(call)
    return create_cluster(call)


def cluster_get(call: ClustersCall) -> Reply:
    if call.has_flag("quota"):
        return quota(call)
    return list_clusters(call)


def create_cluster(call: ClustersCall) -> Reply:
    uuid, order_ids = call.model.create(_cluster_request(call.json()))
    return {"clusterUuid": uuid, "orderId": order_ids}


def list_clusters(call: ClustersCall) -> Reply:
    page = call.model.list_clusters(call.arg("status") or None, call.page())
    items = [cluster_json(cluster, call.model.region) for cluster in page.items]
    return {"clusters": items, **marker_fields(page)}


def get_cluster(call: ClustersCall) -> Reply:
    return cluster_json(call.model.get(call.path["cluster"]), call.model.region)


def delete_cluster(call: ClustersCall) -> Reply:
    call.model.delete(call.path["cluster"])  # deleteEipCds / deleteSnap: accepted
    return None


def scale_up(call: ClustersCall) -> Reply:
    body = call.json()
    uuid = READ.opt_str(body, "clusterUuid")
    order_ids = call.model.scale_up(uuid, _order(body, "orderContent"))
    return {"clusterUuid": uuid, "orderId": order_ids}


def scale_down(call: ClustersCall) -> Reply:
    body = call.json()
    ids = _instance_ids(body, "nodeInfo")
    call.model.scale_down(READ.opt_str(body, "clusterUuid"), ids)
    return None


def quota(call: ClustersCall) -> Reply:
    q = call.model.quota()
    return {
        "cluster": q.cluster,
        "clusterUsed": q.cluster_used,
        "slave": q.slave,
        "slaveUsed": q.slave_used,
    }


def versions(call: ClustersCall) -> Reply:
    return {"data": list(VERSIONS)}


def kubeconfig(call: ClustersCall) -> Reply:
    cluster, kind = call.model.kubeconfig(call.arg("clusterUuid"), call.arg("type"))
    return {"data": kubeconfig_text(cluster, kind)}


def get_container_net(call: ClustersCall) -> Reply:
    body = call.json()
    READ.opt_int(body, "size")  # any size gets a /16
    net = call.model.free_container_net(READ.opt_str(body, "vpcCidr"))
    return {"containerNet": net, "capacity": 65536}


def check_container_net(call: ClustersCall) -> Reply:
    body = call.json()
    call.model.check_container_net(
        READ.opt_str(body, "vpcCidr"), READ.opt_str(body, "containerNetCidr")
    )
    return None


def existed_node(call: ClustersCall) -> Reply:
    body = call.json()
    uuid, ids = READ.opt_str(body, "clusterUuid"), _instance_ids(body, "nodeInfoList")
    action = call.arg("action")
    if action == "shift_in":
        READ.opt_bool(body, "needRebuild")
        call.model.shift_in(uuid, ids, READ.text(body, "instanceType", "BCC"))
    elif action == "shift_out":
        call.model.shift_out(uuid, ids)
    else:
        raise illegal(f"action {action!r} is not shift_in or shift_out")
    return None


def existed_bcc_nodes(call: ClustersCall) -> Reply:
    body = call.json()
    uuid = READ.opt_str(body, "clusterUuid")
    found = call.model.free_instances(uuid, READ.text(body, "keyword"))
    order_by, order = READ.text(body, "orderBy", "name"), READ.text(body, "order", "asc")
    field = "instance_id" if order_by == "instanceId" else "name"
    found.sort(key=lambda f: str(getattr(f, field)), reverse=order == "desc")
    page = NumberedPage(
        max(READ.number(body, "pageNo", 1), 1),
        min(max(READ.number(body, "pageSize", 100), 1), 1000),
    )
    return {
        "clusterUuid": uuid,
        "orderBy": order_by,
        "order": order,
        "pageNo": page.page_no,
        "pageSize": page.page_size,
        "totalCount": len(found),
        "nodeList": [free_instance_json(f) for f in page.cut(found)],
    }


def upgrade(call: ClustersCall) -> Reply:
    body = call.json()
    call.model.upgrade(READ.opt_str(body, "clusterUuid"), READ.opt_str(body, "version"))
    return None


# -- /v1/node -------------------------------------------------------------------------------


def list_nodes(call: ClustersCall) -> Reply:
    uuid = call.arg("clusterUuid")
    page = call.model.list_nodes(uuid, call.page())
    vpc = _vpc_of(call, uuid) if page.items else ("", "")
    return {"nodes": [node_json(node, vpc) for node in page.items], **marker_fields(page)}


def _vpc_of(call: ClustersCall, uuid: str | None) -> tuple[str, str]:
    spec = call.model.get(uuid or "").spec
    return spec.vpc_id, spec.vpc_cidr


def flavors(call: ClustersCall) -> Reply:
    call.json()
    return {"flavors": [dict(f) for f in FLAVORS]}


def dump(clusters: Clusters) -> dict[str, Any]:
    """The v1 clusters' part of ``GET /__emulator/state``: every cluster with its nodes."""
    return {
        "clusters": [
            {
                **cluster_json(cluster, clusters.region),
                "nodes": [
                    node_json(node, (cluster.spec.vpc_id, cluster.spec.vpc_cidr))
                    for node in cluster.nodes
                ],
            }
            for cluster in clusters.all_clusters()
        ]
    }

"""Thin HTTP handlers for the cluster and node endpoints (cce-v1-api.md section 1).

Read parameters, call :class:`.clusters.Clusters`, serialise to the shapes of section 1 (list
1.2, detail 1.3, nodes 1.7, helpers 1.8). ``/v1/cluster`` carries four operations told apart by
a query key (``?scalingUp``, ``?scalingDown``, ``?quota``), dispatched here.
Not for: lifecycle or validation rules (the model's).
"""

from __future__ import annotations

from typing import Any

from . import params
from .call import Call, Handler, Reply
from .clock import ZERO_TIME, rfc3339
from .clusters import RUNNING, VERSIONS, Cluster, ClusterRequest, FreeInstance, Node
from .error_answer import ErrorAnswer
from .orders import Order, parse_order
from .registry_handlers import paging_fields

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


def _order(body: params.Json, key: str) -> Order | None:
    content = params.opt_obj(body, key)
    return None if content is None else parse_order(content)


def _instance_ids(body: params.Json, key: str) -> list[str]:
    return [params.text(item, "instanceId") for item in params.object_list(body, key)]


def _cluster_request(body: params.Json) -> ClusterRequest:
    params.opt_obj(body, "cdsPreMountInfo")  # accepted, type-checked, not modelled
    return ClusterRequest(
        name=params.opt_str(body, "clusterName"),
        version=params.opt_str(body, "version"),
        main_zone=params.opt_str(body, "mainAvailableZone"),
        container_net=params.opt_str(body, "containerNet"),
        order=_order(body, "orderContent"),
        master_order=_order(body, "masterOrderContent"),
        comment=params.text(body, "comment"),
        advanced_options=dict(params.opt_obj(body, "advancedOptions") or {}),
        master_exposed=bool(params.opt_bool(body, "masterExposed")),
        dcc_uuid=params.text(body, "dccUuid"),
        deploy_mode=params.text(body, "deployMode", "BCC"),
    )


# -- /v1/cluster ----------------------------------------------------------------------------


def cluster_post(call: Call) -> Reply:
    if call.has_flag("scalingUp"):
        return scale_up(call)
    if call.has_flag("scalingDown"):
        return scale_down(call)
    return create_cluster(call)


def cluster_get(call: Call) -> Reply:
    if call.has_flag("quota"):
        return quota(call)
    return list_clusters(call)


def create_cluster(call: Call) -> Reply:
    uuid, order_ids = call.model.clusters.create(_cluster_request(call.json()))
    return {"clusterUuid": uuid, "orderId": order_ids}


def list_clusters(call: Call) -> Reply:
    clusters = call.model.clusters
    page = clusters.list_clusters(call.arg("status") or None, call.page())
    items = [cluster_json(cluster, clusters.region) for cluster in page.items]
    return {"clusters": items, **paging_fields(page)}


def get_cluster(call: Call) -> Reply:
    clusters = call.model.clusters
    return cluster_json(clusters.get(call.path["cluster"]), clusters.region)


def delete_cluster(call: Call) -> Reply:
    call.model.clusters.delete(call.path["cluster"])  # deleteEipCds / deleteSnap: accepted
    return None


def scale_up(call: Call) -> Reply:
    body = call.json()
    uuid = params.opt_str(body, "clusterUuid")
    order_ids = call.model.clusters.scale_up(uuid, _order(body, "orderContent"))
    return {"clusterUuid": uuid, "orderId": order_ids}


def scale_down(call: Call) -> Reply:
    body = call.json()
    ids = _instance_ids(body, "nodeInfo")
    call.model.clusters.scale_down(params.opt_str(body, "clusterUuid"), ids)
    return None


def quota(call: Call) -> Reply:
    q = call.model.clusters.quota()
    return {
        "cluster": q.cluster,
        "clusterUsed": q.cluster_used,
        "slave": q.slave,
        "slaveUsed": q.slave_used,
    }


def versions(call: Call) -> Reply:
    return {"data": list(VERSIONS)}


def kubeconfig(call: Call) -> Reply:
    cluster, kind = call.model.clusters.kubeconfig(call.arg("clusterUuid"), call.arg("type"))
    return {"data": kubeconfig_text(cluster, kind)}


def get_container_net(call: Call) -> Reply:
    body = call.json()
    params.opt_int(body, "size")  # any size gets a /16
    net = call.model.clusters.free_container_net(params.opt_str(body, "vpcCidr"))
    return {"containerNet": net, "capacity": 65536}


def check_container_net(call: Call) -> Reply:
    body = call.json()
    clusters = call.model.clusters
    clusters.check_container_net(
        params.opt_str(body, "vpcCidr"), params.opt_str(body, "containerNetCidr")
    )
    return None


def existed_node(call: Call) -> Reply:
    body = call.json()
    uuid, ids = params.opt_str(body, "clusterUuid"), _instance_ids(body, "nodeInfoList")
    action = call.arg("action")
    if action == "shift_in":
        params.opt_bool(body, "needRebuild")
        call.model.clusters.shift_in(uuid, ids, params.text(body, "instanceType", "BCC"))
    elif action == "shift_out":
        call.model.clusters.shift_out(uuid, ids)
    else:
        raise ErrorAnswer("Cce.IllegalArguments", f"action {action!r} is not shift_in or shift_out")
    return None


def existed_bcc_nodes(call: Call) -> Reply:
    body = call.json()
    uuid = params.opt_str(body, "clusterUuid")
    found = call.model.clusters.free_instances(uuid, params.text(body, "keyword"))
    order_by, order = params.text(body, "orderBy", "name"), params.text(body, "order", "asc")
    field = "instance_id" if order_by == "instanceId" else "name"
    found.sort(key=lambda f: str(getattr(f, field)), reverse=order == "desc")
    page_no = max(params.number(body, "pageNo", 1), 1)
    page_size = min(max(params.number(body, "pageSize", 100), 1), 1000)
    chosen = found[(page_no - 1) * page_size : page_no * page_size]
    return {
        "clusterUuid": uuid,
        "orderBy": order_by,
        "order": order,
        "pageNo": page_no,
        "pageSize": page_size,
        "totalCount": len(found),
        "nodeList": [free_instance_json(f) for f in chosen],
    }


def upgrade(call: Call) -> Reply:
    body = call.json()
    call.model.clusters.upgrade(
        params.opt_str(body, "clusterUuid"), params.opt_str(body, "version")
    )
    return None


# -- /v1/node -------------------------------------------------------------------------------


def list_nodes(call: Call) -> Reply:
    clusters = call.model.clusters
    uuid = call.arg("clusterUuid")
    page = clusters.list_nodes(uuid, call.page())
    vpc = _vpc_of(call, uuid) if page.items else ("", "")
    return {"nodes": [node_json(node, vpc) for node in page.items], **paging_fields(page)}


def _vpc_of(call: Call, uuid: str | None) -> tuple[str, str]:
    spec = call.model.clusters.get(uuid or "").spec
    return spec.vpc_id, spec.vpc_cidr


def flavors(call: Call) -> Reply:
    call.json()
    return {"flavors": [dict(f) for f in FLAVORS]}


HANDLERS: dict[str, Handler] = {
    "cluster.post": cluster_post,
    "cluster.get": cluster_get,
    "cluster.detail": get_cluster,
    "cluster.delete": delete_cluster,
    "cluster.versions": versions,
    "cluster.kubeconfig": kubeconfig,
    "cluster.get_container_net": get_container_net,
    "cluster.check_container_net": check_container_net,
    "cluster.existed_node": existed_node,
    "cluster.existed_bcc_nodes": existed_bcc_nodes,
    "cluster.upgrade": upgrade,
    "node.list": list_nodes,
    "node.flavors": flavors,
}

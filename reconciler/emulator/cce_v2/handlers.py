"""Thin HTTP handlers for the CCE v2 cluster and instance-group endpoints (cce-v2-api.md 2-3).

Read parameters, call :class:`.models.CceV2`, serialise to the Go SDK's response structs.
Every answer is a JSON object carrying ``requestID`` equal to the ``x-bce-request-id`` header
(the service's ``request_id_key``, stamped by the app); errors are ``{code, message,
requestId}`` with the v2 codes of :mod:`.errors`.
Not for: the rules (:mod:`.specs`, :mod:`.models`), or the v1 endpoints (:mod:`..cce_v1`).
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..call import Call, Reply
from ..clock import rfc3339
from ..paging import NumberedPage
from ..params import Json
from .addons import AddonRefused
from .errors import READ, invalid
from .models import (
    CLUSTER_PAGING,
    GROUP_PAGING,
    INSTANCE_PAGING,
    PROVISIONED,
    RUNNING,
    CceV2,
    StoredCluster,
    StoredGroup,
    StoredInstance,
    cluster_query,
    group_query,
    instance_query,
    node_ip,
)

V2Call = Call[CceV2]
ACCOUNT_ID = "eca97e148cb74e9683d7b7240829d1ff"  # the emulated account, as in kubeconfig users
_BEFORE_MACHINE = frozenset({"pending"})  # phases in which no BCC machine exists yet
_MACHINE_STATUS = {
    "pending": "",
    "provisioning": "BUILD",
    "create_failed": "ERROR",
    "deleting": "ACTIVE",
}  # every other phase: ACTIVE


# -- serialisation (the SDK's structs, cce-v2-api.md 2.2, 3.2, 4.2) -------------------------


def cluster_json(cluster: StoredCluster) -> dict[str, Any]:
    built = cluster.phase in (PROVISIONED, RUNNING) or cluster.phase.startswith("delet")
    blb_ip = f"100.64.{(cluster.seq // 250) % 256}.{cluster.seq % 250 + 2}" if built else ""
    exposed = cluster.spec["masterConfig"]["exposedPublic"]
    return {
        "spec": cluster.spec,
        "status": {
            "clusterBLB": {
                "id": f"lb-{_hex8(cluster.cluster_id)}" if built else "",
                "vpcIP": blb_ip,
                "eip": f"106.12.{cluster.seq % 250}.10" if built and exposed else "",
            },
            "infrastructureReady": built,
            "apiServerAccessSuccess": cluster.phase == RUNNING,
            "k8sPluginDeploySuccess": cluster.phase == RUNNING,
            "clusterPhase": cluster.phase,
            "nodeNum": cluster.node_num,
            "problemDetectorServiceSourceBCM": False,  # [INFERRED] type
            **({"upgradeWorkflowID": cluster.workflow_id} if cluster.workflow_id else {}),
        },
        "createdAt": rfc3339(cluster.created),
        "updatedAt": rfc3339(cluster.updated),
    }


def _hex8(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def group_json(group: StoredGroup) -> dict[str, Any]:
    return {
        "spec": group.spec,
        "status": {"readyReplicas": group.ready_replicas, "pause": {"paused": False, "reason": ""}},
        "createdAt": rfc3339(group.created),
    }


def instance_json(instance: StoredInstance) -> dict[str, Any]:
    has_machine = instance.phase not in _BEFORE_MACHINE
    ip = node_ip(instance.seq) if has_machine else ""
    return {
        "spec": instance.spec,
        "status": {
            "machine": {
                "instanceID": instance.machine_id if has_machine else "",
                "instanceUUID": "",
                "orderID": "",
                "mountList": [],
                "vpcIP": ip,
                "vpcIPIPv6": "",
                "eip": "",
                "k8sNodeName": ip,
                "hostname": instance.spec["instanceName"] if has_machine else "",
            },
            "instancePhase": instance.phase,
            "machineStatus": _MACHINE_STATUS.get(instance.phase, "ACTIVE"),
        },
        "createdAt": rfc3339(instance.created),
        "updatedAt": rfc3339(instance.updated),
    }


def kubeconfig_text(cluster: StoredCluster, kind: str) -> str:
    status = cluster_json(cluster)["status"]["clusterBLB"]
    host = status["eip"] if kind == "public" else status["vpcIP"]
    user = ACCOUNT_ID
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- cluster:\n    server: https://{host}:6443\n"
        "    insecure-skip-tls-verify: true\n"
        "  name: kubernetes\n"
        f"contexts:\n- context:\n    cluster: kubernetes\n    user: {user}\n"
        f"  name: {user}@kubernetes\n"
        f"current-context: {user}@kubernetes\n"
        f"users:\n- name: {user}\n  user:\n    token: emulator-token-{cluster.cluster_id}\n"
    )


def dump(model: CceV2) -> dict[str, Any]:
    """Every v2 object, deleted clusters included, for ``GET /__emulator/state``."""
    clusters, groups, instances = model.everything()
    return {
        "ccev2": {
            "clusters": [cluster_json(c) for c in clusters],
            "instanceGroups": [group_json(g) for g in groups],
            "instances": [instance_json(i) for i in instances],
            **model.day2(),
        }
    }


# -- clusters -------------------------------------------------------------------------------


def create_cluster(call: V2Call) -> Reply:
    return {"clusterID": call.model.create_cluster(call.json())}


def list_clusters(call: V2Call) -> Reply:
    page = call.numbered_page(CLUSTER_PAGING)
    query = cluster_query(
        call.arg("keywordType"), call.arg("keyword"), call.arg("orderBy"), call.arg("order"), page
    )
    clusters, total = call.model.list_clusters(query)
    answer = {
        "keywordType": query.keyword_type,
        "keyword": query.keyword,
        "orderBy": query.order_by,
        "order": query.order,
        "pageNo": query.page.page_no,
        "pageSize": query.page.page_size,
        "totalCount": total,
        "clusterList": [cluster_json(c) for c in clusters],
    }
    return {"clusterPage": answer}


def get_cluster(call: V2Call) -> Reply:
    return {"cluster": cluster_json(call.model.get_cluster(call.path["cluster"]))}


def delete_cluster(call: V2Call) -> Reply:
    for flag in ("deleteResource", "deleteCDSSnapshot", "moveOut", "batchRefundResource"):
        call.bool_arg(flag)  # checked, not modelled
    call.model.delete_cluster(call.path["cluster"])
    return {}


def kubeconfig(call: V2Call) -> Reply:
    cluster, kind = call.model.kubeconfig(call.path["cluster"], call.path["kind"])
    return {"kubeConfigType": kind, "kubeConfig": kubeconfig_text(cluster, kind)}


# -- instance groups ------------------------------------------------------------------------


def create_group(call: V2Call) -> Reply:
    group_id = call.model.create_group(call.path["cluster"], call.json())
    return {"instanceGroupID": group_id}


def list_groups(call: V2Call) -> Reply:
    page = call.numbered_page(GROUP_PAGING)
    query = group_query(
        call.arg("keywordType"),
        call.arg("keyword"),
        call.bool_arg("autoscalerEnabled"),
        call.arg("chargingType"),
    )
    groups, total = call.model.list_groups(call.path["cluster"], page, query)
    return {"page": _page_json(page, total, [group_json(g) for g in groups])}


def get_group(call: V2Call) -> Reply:
    group = call.model.get_group(call.path["cluster"], call.path["group"])
    return {"instanceGroup": group_json(group)}


def update_replicas(call: V2Call) -> Reply:
    call.model.set_replicas(call.path["cluster"], call.path["group"], call.json())
    return {}


def scale_down(call: V2Call) -> Reply:
    task = call.model.scale_down(call.path["cluster"], call.path["group"], call.json())
    return {"taskID": task}


def delete_group(call: V2Call) -> Reply:
    delete_instances = call.bool_arg("deleteInstances")
    call.bool_arg("releaseAllResources", "releaseAllResource")  # SDK and DOC spellings
    call.model.delete_group(call.path["cluster"], call.path["group"], delete_instances)
    return {}


def group_instances(call: V2Call) -> Reply:
    page = call.numbered_page(GROUP_PAGING)
    query = instance_query(call.arg("keywordType"), call.arg("keyword"), call.arg("phases"))
    found, total = call.model.group_instances(call.path["cluster"], call.path["group"], page, query)
    return {"page": _page_json(page, total, [instance_json(i) for i in found])}


def cluster_instances(call: V2Call) -> Reply:
    query = instance_query(
        call.arg("keywordType"),
        call.arg("keyword"),
        order_by=call.arg("orderBy"),
        order=call.arg("order"),
        page=call.numbered_page(INSTANCE_PAGING),
    )
    found, total = call.model.cluster_instances(call.path["cluster"], query)
    page = {
        "clusterID": call.path["cluster"],
        "keywordType": query.keyword_type,
        "keyword": query.keyword,
        "orderBy": query.order_by,
        "order": query.order,
        "pageNo": query.page.page_no,
        "pageSize": query.page.page_size,
        "totalCount": total,
        "instanceList": [instance_json(i) for i in found],
    }
    return {"instancePage": page}


# -- day 2 (cce-v2-day2-api.md) ---------------------------------------------------------------


def forbid_delete(call: V2Call) -> Reply:
    forbid = call.model.set_forbid_delete(call.path["cluster"], call.json())
    return {"success": True, "forbidDelete": forbid}


def cluster_quota(call: V2Call) -> Reply:
    quota, used = call.model.cluster_quota()
    return {"quota": quota, "used": used}


def node_quota(call: V2Call) -> Reply:
    quota, used = call.model.node_quota(call.path["cluster"])
    return {"quota": quota, "used": used}


def configure_group(call: V2Call) -> Reply:
    call.model.configure_group(call.path["cluster"], call.path["group"], call.json())
    return {}


def group_autoscaler(call: V2Call) -> Reply:
    call.model.set_group_autoscaler(call.path["cluster"], call.path["group"], call.json())
    return {}


def scale_up(call: V2Call) -> Reply:
    task = call.model.scale_up(
        call.path["cluster"],
        call.path["group"],
        call.int_arg("upToReplicas"),
        call.int_arg("upReplicas"),
    )
    return {"taskID": task}


def get_task(call: V2Call) -> Reply:
    return {"task": call.model.get_task(call.path["kind"], call.path["task"])}


def list_tasks(call: V2Call) -> Reply:
    page = call.numbered_page(GROUP_PAGING)
    tasks, total = call.model.list_tasks(call.path["kind"], call.arg("targetID") or "", page)
    answer = {"pageNo": page.page_no, "pageSize": page.page_size, "totalCount": total}
    return {"page": {**answer, "items": tasks}}


def create_autoscaler(call: V2Call) -> Reply:
    call.model.create_autoscaler(call.path["cluster"])
    return {}


def get_autoscaler(call: V2Call) -> Reply:
    cluster, config = call.model.get_autoscaler(call.path["cluster"])
    return {
        "autoscaler": {
            "clusterID": cluster.cluster_id,
            "clusterName": cluster.name,
            "caConfig": config,
        }
    }


def update_autoscaler(call: V2Call) -> Reply:
    call.model.update_autoscaler(call.path["cluster"], call.json())
    return {}


def upgrade_versions(call: V2Call) -> Reply:
    return {"result": call.model.upgrade_versions(call.path["cluster"], call.path["group"])}


def create_workflow(call: V2Call) -> Reply:
    return {"workflowID": call.model.create_workflow(call.path["cluster"], call.json())}


def get_workflow(call: V2Call) -> Reply:
    """The SDK's answer has no ``requestID``; the stamped one is decoded as an unknown key."""
    return {"workflow": call.model.get_workflow(call.path["cluster"], call.path["workflow"])}


def update_workflow(call: V2Call) -> Reply:
    cluster_id, workflow_id = call.path["cluster"], call.path["workflow"]
    call.model.update_workflow(cluster_id, workflow_id, call.json())
    return {"clusterID": cluster_id, "workflowID": workflow_id}


def list_addons(call: V2Call) -> Reply:
    """The SDK sends the names twice: ``?addons=a,b`` and a JSON body on the GET."""
    body: Json = call.json() if call.body.strip() else {}
    wanted = call.arg("addons")
    if wanted is None:
        wanted = READ.text(body, "addons")
    names = [n.strip() for n in wanted.split(",")]
    return {"items": call.model.list_addons(call.path["cluster"], names)}


def _addon_change(call: V2Call, operation: str) -> Reply:
    """A refusal is a 200 carrying ``code`` and ``message`` [DOC]."""
    try:
        call.model.change_addon(call.path["cluster"], operation, call.json())
    except AddonRefused as refused:
        return {"code": refused.code, "message": refused.message}
    return {}


def install_addon(call: V2Call) -> Reply:
    return _addon_change(call, "install")


def upgrade_addon(call: V2Call) -> Reply:
    return _addon_change(call, "upgrade")


def update_addon(call: V2Call) -> Reply:
    return _addon_change(call, "update")


def uninstall_addon(call: V2Call) -> Reply:
    return _addon_change(call, "uninstall")


# -- the console (no API exists; an admin action) ---------------------------------------------


def upgrade_master(model: CceV2, body: Json) -> dict[str, Any]:
    """``POST /__emulator/cce_v2/upgrade-master {"clusterID", "k8sVersion"}``: what the
    console's master upgrade does."""
    cluster_id, version = READ.text(body, "clusterID"), READ.text(body, "k8sVersion")
    if not cluster_id or not version:
        raise invalid("clusterID and k8sVersion are required")
    model.upgrade_master(cluster_id, version)
    return {"clusterID": cluster_id, "k8sVersion": version}


def _page_json(page: NumberedPage, total: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"pageNo": page.page_no, "pageSize": page.page_size, "totalCount": total, "list": items}

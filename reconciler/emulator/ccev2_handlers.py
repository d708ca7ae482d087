"""Thin HTTP handlers for the CCE v2 cluster and instance-group endpoints (cce-v2-api.md 2-3).

Read parameters, call :class:`.ccev2_models.CceV2`, serialise to the Go SDK's response
structs. The routes serve every endpoint under both ``/api/cce/service/v2`` (the SDK's) and
``/v2`` (the docs'). Every answer is a JSON object carrying ``requestID`` equal to the
``x-bce-request-id`` header (:func:`with_request_id`, applied by the app); errors are
``{code, message, requestId}`` with the v2 codes of :data:`.ccev2_models.V2_CODES`.
Not for: the rules (the model's), or the v1 endpoints (:mod:`.cluster_handlers`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from werkzeug.wrappers import Response

from .call import Call, Handler, Reply
from .ccev2_models import (
    MALFORMED_JSON,
    PROVISIONED,
    RUNNING,
    CceV2,
    PageAsk,
    StoredCluster,
    StoredGroup,
    StoredInstance,
    V2Error,
    cluster_query,
    invalid,
    page_ask,
)
from .clock import rfc3339
from .models import Model
from .responses import json_response

ACCOUNT_ID = "eca97e148cb74e9683d7b7240829d1ff"  # the emulated account, as in kubeconfig users
_BEFORE_MACHINE = frozenset({"pending"})  # phases in which no BCC machine exists yet
_MACHINE_STATUS = {
    "pending": "",
    "provisioning": "BUILD",
    "create_failed": "ERROR",
    "deleting": "ACTIVE",
}  # every other phase: ACTIVE


def v2(model: Model) -> CceV2:
    return CceV2(model.db, model.clock, model.settings, model.rng)


def with_request_id(reply: Reply, request_id: str) -> dict[str, Any]:
    """Every v2 success is a JSON object with ``requestID`` (the Go SDK always decodes one)."""
    return {**(reply or {}), "requestID": request_id}


def error_response(error: V2Error, request_id: str) -> Response:
    body = {"code": error.code, "message": error.message, "requestId": request_id}
    return json_response(body, request_id, error.entry.status)


# -- reading the request --------------------------------------------------------------------


def _body(call: Call) -> dict[str, Any]:
    try:
        data = json.loads(call.body) if call.body.strip() else None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        raise V2Error(MALFORMED_JSON) from None
    if not isinstance(data, dict):
        raise V2Error(MALFORMED_JSON, "the body must be a JSON object")
    return data


def _int_arg(call: Call, key: str) -> int | None:
    value = call.arg(key)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise invalid(f"{key} must be an integer") from None


def _bool_arg(call: Call, *keys: str) -> bool:
    """A query flag sent as ``true``/``false`` (absent is false); the first key present wins."""
    value = next((call.arg(key) for key in keys if call.arg(key) is not None), None)
    if value is None or value == "":
        return False
    if value.lower() not in ("true", "false"):
        raise invalid(f"{keys[0]} must be true or false")
    return value.lower() == "true"


def _page(call: Call) -> PageAsk:
    return page_ask(_int_arg(call, "pageNo"), _int_arg(call, "pageSize"))


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
    ip = f"192.168.{(instance.seq // 250) % 256}.{instance.seq % 250 + 2}" if has_machine else ""
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


def dump(model: Model) -> dict[str, Any]:
    """Every v2 object, deleted clusters included, for ``GET /__emulator/state``."""
    clusters, groups, instances = v2(model).everything()
    return {
        "clusters": [cluster_json(c) for c in clusters],
        "instanceGroups": [group_json(g) for g in groups],
        "instances": [instance_json(i) for i in instances],
    }


# -- clusters -------------------------------------------------------------------------------


def create_cluster(call: Call) -> Reply:
    return {"clusterID": v2(call.model).create_cluster(_body(call))}


def list_clusters(call: Call) -> Reply:
    query = cluster_query(
        call.arg("keywordType"),
        call.arg("keyword"),
        call.arg("orderBy"),
        call.arg("order"),
        _int_arg(call, "pageNo"),
        _int_arg(call, "pageSize"),
    )
    clusters, total = v2(call.model).list_clusters(query)
    page = {
        "keywordType": query.keyword_type,
        "keyword": query.keyword,
        "orderBy": query.order_by,
        "order": query.order,
        "pageNo": query.page.page_no,
        "pageSize": query.page.page_size,
        "totalCount": total,
        "clusterList": [cluster_json(c) for c in clusters],
    }
    return {"clusterPage": page}


def get_cluster(call: Call) -> Reply:
    return {"cluster": cluster_json(v2(call.model).get_cluster(call.path["cluster"]))}


def delete_cluster(call: Call) -> Reply:
    for flag in ("deleteResource", "deleteCDSSnapshot", "moveOut", "batchRefundResource"):
        _bool_arg(call, flag)  # checked, not modelled
    v2(call.model).delete_cluster(call.path["cluster"])
    return {}


def kubeconfig(call: Call) -> Reply:
    cluster, kind = v2(call.model).kubeconfig(call.path["cluster"], call.path["kind"])
    return {"kubeConfigType": kind, "kubeConfig": kubeconfig_text(cluster, kind)}


# -- instance groups ------------------------------------------------------------------------


def create_group(call: Call) -> Reply:
    group_id = v2(call.model).create_group(call.path["cluster"], _body(call))
    return {"instanceGroupID": group_id}


def list_groups(call: Call) -> Reply:
    page = _page(call)
    groups, total = v2(call.model).list_groups(call.path["cluster"], page)
    return {"page": _page_json(page, total, [group_json(g) for g in groups])}


def get_group(call: Call) -> Reply:
    group = v2(call.model).get_group(call.path["cluster"], call.path["group"])
    return {"instanceGroup": group_json(group)}


def update_replicas(call: Call) -> Reply:
    v2(call.model).set_replicas(call.path["cluster"], call.path["group"], _body(call))
    return {}


def scale_down(call: Call) -> Reply:
    task = v2(call.model).scale_down(call.path["cluster"], call.path["group"], _body(call))
    return {"taskID": task}


def delete_group(call: Call) -> Reply:
    delete_instances = _bool_arg(call, "deleteInstances")
    _bool_arg(call, "releaseAllResources", "releaseAllResource")  # SDK and DOC spellings
    v2(call.model).delete_group(call.path["cluster"], call.path["group"], delete_instances)
    return {}


def group_instances(call: Call) -> Reply:
    page = _page(call)
    found, total = v2(call.model).group_instances(call.path["cluster"], call.path["group"], page)
    return {"page": _page_json(page, total, [instance_json(i) for i in found])}


def _page_json(page: PageAsk, total: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"pageNo": page.page_no, "pageSize": page.page_size, "totalCount": total, "list": items}


HANDLERS: dict[str, Handler] = {
    "ccev2.cluster.create": create_cluster,
    "ccev2.cluster.list": list_clusters,
    "ccev2.cluster.get": get_cluster,
    "ccev2.cluster.delete": delete_cluster,
    "ccev2.kubeconfig": kubeconfig,
    "ccev2.group.create": create_group,
    "ccev2.group.list": list_groups,
    "ccev2.group.get": get_group,
    "ccev2.group.replicas": update_replicas,
    "ccev2.group.scaledown": scale_down,
    "ccev2.group.delete": delete_group,
    "ccev2.group.instances": group_instances,
}
# (path under a v2 prefix, method, endpoint) for the URL table of :mod:`.routes`.
RULES: tuple[tuple[str, str, str], ...] = (
    ("/cluster", "POST", "ccev2.cluster.create"),
    ("/clusters", "GET", "ccev2.cluster.list"),
    ("/cluster/<cluster>", "GET", "ccev2.cluster.get"),
    ("/cluster/<cluster>", "DELETE", "ccev2.cluster.delete"),
    ("/kubeconfig/<cluster>/<kind>", "GET", "ccev2.kubeconfig"),
    ("/cluster/<cluster>/instancegroup", "POST", "ccev2.group.create"),
    ("/cluster/<cluster>/instancegroups", "GET", "ccev2.group.list"),
    ("/cluster/<cluster>/instancegroup/<group>", "GET", "ccev2.group.get"),
    ("/cluster/<cluster>/instancegroup/<group>", "DELETE", "ccev2.group.delete"),
    ("/cluster/<cluster>/instancegroup/<group>/replicas", "PUT", "ccev2.group.replicas"),
    ("/cluster/<cluster>/instancegroup/<group>/scaledown", "PUT", "ccev2.group.scaledown"),
    ("/cluster/<cluster>/instancegroup/<group>/instances", "GET", "ccev2.group.instances"),
)
PREFIXES = ("/api/cce/service/v2", "/v2")

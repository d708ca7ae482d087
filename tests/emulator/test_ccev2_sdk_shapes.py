"""SDK fidelity: requests signed and shaped exactly as bce-sdk-go's services/cce/v2 sends them
get answers carrying every field the SDK's response structs decode, with the declared types.

Bodies are the byte-exact [SDK-RUN] JSON of shared/cce-v2-api.md (2.1, 3.1) and the doc's
replicas example (3.4); queries are the SDK's (ccev2.go: flags always sent as true/false,
``pageNo=0&pageSize=0`` for group lists); signing is the Go SDK's style (``Content-Type:
application/json;charset=utf-8``, signed headers ``content-type;host;x-bce-date``).
The other v2 emulator tests import the helpers defined here.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from reconciler.emulator.testing import EmulatorHandle

from .signed import Query, signed_request

PREFIX = "/api/cce/service/v2"  # the SDK's; the docs write /v2
SDK_CREATE_CLUSTER = (
    b'{"cluster":{"clusterName":"c1","k8sVersion":"1.28.8","runtimeType":"containerd",'
    b'"vpcID":"vpc-x","masterConfig":{"masterType":"managedPro","clusterHA":3,'
    b'"managedClusterMasterOption":{"masterVPCSubnetZone":"zoneA"}},"containerNetworkConfig":'
    b'{"mode":"kubenet","ebpfConfig":{},"lbServiceVPCSubnetID":"sbn-x","clusterPodCIDR":'
    b'"172.28.0.0/16","clusterIPServiceCIDR":"172.31.0.0/16"},"forbidDelete":false,'
    b'"resourceChargingOption":{},"k8sCustomConfig":{}},"options":{"skipNetworkCheck":null}}'
)
SDK_CREATE_GROUP = (
    b'{"instanceGroupName":"ig1","selector":null,"instanceTemplate":{"instanceName":"",'
    b'"existedOption":{},"machineType":"BCC","instanceType":"N3","bidOption":{},"vpcConfig":'
    b'{"vpcSubnetID":"sbn-x","securityGroup":{"enableCCERequiredSecurityGroup":false,'
    b'"enableCCEOptionalSecurityGroup":false},"securityGroupType":"","securityGroups":null},'
    b'"instanceResource":{"cpu":2,"mem":8},"imageID":"m-x","instanceOS":{},'
    b'"instancePreChargingOption":{},"deployCustomConfig":{"dockerConfig":{},'
    b'"containerdConfig":{}}},"replicas":2}'
)
DOC_REPLICAS = (
    b'{"replicas":1,"instanceIDs":null,"deleteInstance":true,'
    b'"deleteOption":{"deleteResource":true,"deleteCDSSnapshot":true}}'
)
GO_CONTENT_TYPE = "application/json;charset=utf-8"
CLUSTER_ID = re.compile(r"cce-[a-z0-9]{8}")
GROUP_ID = re.compile(r"cce-ig-[a-z0-9]{8}")
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
Str, Int, Bool, Obj, List, Null = str, int, bool, dict, list, type(None)


class V2:
    """Signed v2 calls in the Go SDK's style: ``v2("GET", "/clusters", {...})``."""

    def __init__(self, emulator: EmulatorHandle, prefix: str = PREFIX) -> None:
        self.emulator = emulator
        self.prefix = prefix
        self.session = requests.Session()

    def __call__(
        self, method: str, path: str, query: Query | None = None, body: bytes | None = None
    ) -> requests.Response:
        e = self.emulator
        headers = {"Content-Type": GO_CONTENT_TYPE}
        return signed_request(
            e.url, e.access_key_id, e.secret_access_key, method, self.prefix + path, query,
            data=body, headers=headers, signed_headers=("content-type", "host", "x-bce-date"),
            session=self.session,
        )  # fmt: skip

    def ok(self, response: requests.Response) -> dict[str, Any]:
        """A 200 JSON object whose ``requestID`` is the ``x-bce-request-id`` header."""
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        assert data["requestID"] == response.headers["x-bce-request-id"]
        return data

    def create_cluster(self, body: bytes = SDK_CREATE_CLUSTER) -> str:
        return str(self.ok(self("POST", "/cluster", body=body))["clusterID"])

    def cluster(self, cluster_id: str) -> dict[str, Any]:
        return self.ok(self("GET", f"/cluster/{cluster_id}"))["cluster"]

    def create_group(self, cluster_id: str, body: bytes = SDK_CREATE_GROUP) -> str:
        data = self.ok(self("POST", f"/cluster/{cluster_id}/instancegroup", body=body))
        return str(data["instanceGroupID"])

    def group(self, cluster_id: str, group_id: str) -> dict[str, Any]:
        data = self.ok(self("GET", f"/cluster/{cluster_id}/instancegroup/{group_id}"))
        return data["instanceGroup"]

    def instances(self, cluster_id: str, group_id: str) -> list[dict[str, Any]]:
        path = f"/cluster/{cluster_id}/instancegroup/{group_id}/instances"
        page = self.ok(self("GET", path, {"pageNo": "0", "pageSize": "0"}))["page"]
        return page["list"]

    def replicas(self, cluster_id: str, group_id: str, body: bytes) -> requests.Response:
        return self("PUT", f"/cluster/{cluster_id}/instancegroup/{group_id}/replicas", body=body)


def v2_error(response: requests.Response, code: str, status: int) -> str:
    """The v2 error body ``{code, message, requestId}``; returns the message."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert set(body) == {"code", "message", "requestId"}
    assert body["code"] == code
    assert body["requestId"] == response.headers["x-bce-request-id"]
    return str(body["message"])


def check(value: Any, schema: dict[str, Any], where: str = "") -> None:
    """Every key of ``schema`` is present with one of its types (nested dicts recurse)."""
    assert isinstance(value, dict), (where, value)
    missing = set(schema) - set(value)
    assert not missing, f"{where}: missing {sorted(missing)}"
    for key, expected in schema.items():
        if isinstance(expected, dict):
            check(value[key], expected, f"{where}.{key}")
            continue
        types = expected if isinstance(expected, tuple) else (expected,)
        got = value[key]
        ok = isinstance(got, types) and not (isinstance(got, bool) and bool not in types)
        assert ok, f"{where}.{key}: {got!r} is not {types}"
        if expected is TIME:
            assert RFC3339.fullmatch(got), f"{where}.{key}: {got!r}"


TIME = (str,)  # an RFC 3339 UTC time (time.Time in the SDK)
# cce-v2-api.md 2.2 (model.go Cluster / ClusterSpec / ClusterStatus)
CLUSTER = {
    "spec": {
        "clusterID": Str, "clusterName": Str, "clusterType": Str, "description": Str,
        "k8sVersion": Str, "runtimeType": Str, "runtimeVersion": Str, "vpcID": Str,
        "vpcCIDR": Str, "vpcUUID": Str, "vpcName": Str, "plugins": List, "forbidDelete": Bool,
        "masterConfig": {"masterType": Str, "clusterHA": Int, "exposedPublic": Bool,
                         "managedClusterMasterOption": Obj},
        "containerNetworkConfig": {"mode": Str, "lbServiceVPCSubnetID": Str, "ipVersion": Str,
                                   "clusterPodCIDR": Str, "clusterIPServiceCIDR": Str,
                                   "maxPodsPerNode": Int, "kubeProxyMode": Str,
                                   "nodePortRangeMin": Int, "nodePortRangeMax": Int},
        "k8sCustomConfig": Obj, "resourceChargingOption": Obj,
        "masterDefaultSecurityGroups": (List, Null), "nodeDefaultSecurityGroups": (List, Null),
        "eniDefaultSecurityGroups": (List, Null), "tags": (List, Null),
    },
    "status": {
        "clusterBLB": {"id": Str, "vpcIP": Str, "eip": Str},
        "infrastructureReady": Bool, "apiServerAccessSuccess": Bool,
        "k8sPluginDeploySuccess": Bool, "clusterPhase": Str, "nodeNum": Int,
        "problemDetectorServiceSourceBCM": Bool,
    },
    "createdAt": TIME,
    "updatedAt": TIME,
}  # fmt: skip
# cce-v2-api.md 3.2 (model.go InstanceGroup / InstanceGroupSpec / InstanceGroupStatus)
GROUP = {
    "spec": {
        "cceInstanceGroupID": Str, "instanceGroupName": Str, "clusterID": Str,
        "clusterRole": Str, "shrinkPolicy": Str, "updatePolicy": Str, "cleanPolicy": Str,
        "instanceTemplate": Obj, "instanceTemplates": (List, Null), "replicas": Int,
    },
    "status": {"readyReplicas": Int, "pause": {"paused": Bool, "reason": Str}},
    "createdAt": TIME,
}  # fmt: skip
# cce-v2-api.md 4.2 (model.go Instance / InstanceStatus / Machine; types.InstanceSpecBody)
INSTANCE = {
    "spec": {
        "cceInstanceID": Str, "instanceName": Str, "clusterID": Str, "clusterRole": Str,
        "instanceGroupID": Str, "instanceGroupName": Str, "machineType": Str,
        "instanceType": Str, "existed": Bool, "vpcConfig": Obj, "instanceResource": Obj,
        "labels": Obj, "instanceChargingType": Str, "cceInstancePriority": Int,
    },
    "status": {
        "machine": {"instanceID": Str, "instanceUUID": Str, "orderID": Str, "mountList": List,
                    "vpcIP": Str, "vpcIPIPv6": Str, "eip": Str, "k8sNodeName": Str,
                    "hostname": Str},
        "instancePhase": Str,
        "machineStatus": Str,
    },
    "createdAt": TIME,
    "updatedAt": TIME,
}  # fmt: skip
PAGE = {"pageNo": Int, "pageSize": Int, "totalCount": Int, "list": List}


@pytest.fixture
def v2(emulator: EmulatorHandle) -> V2:
    return V2(emulator)


@pytest.fixture
def running(v2: V2) -> str:
    """A running cluster made from the SDK's body (lifecycles take 0 s in the tests)."""
    return v2.create_cluster()


def test_create_cluster_answers_the_sdk_create_response(v2: V2) -> None:
    data = v2.ok(v2("POST", "/cluster", body=SDK_CREATE_CLUSTER))
    assert set(data) == {"clusterID", "requestID"}
    assert CLUSTER_ID.fullmatch(data["clusterID"])


def test_get_cluster_carries_every_field_the_sdk_decodes(v2: V2, running: str) -> None:
    data = v2.ok(v2("GET", f"/cluster/{running}"))
    assert set(data) == {"cluster", "requestID"}
    check(data["cluster"], CLUSTER, "cluster")
    spec, status = data["cluster"]["spec"], data["cluster"]["status"]
    assert (spec["clusterID"], spec["clusterName"], spec["k8sVersion"]) == (running, "c1", "1.28.8")
    assert spec["containerNetworkConfig"]["clusterPodCIDR"] == "172.28.0.0/16"
    assert spec["masterConfig"]["managedClusterMasterOption"]["masterVPCSubnetZone"] == "zoneA"
    assert status["clusterPhase"] == "running"


def test_list_clusters_answers_the_sdk_page(v2: V2, running: str) -> None:
    query = {
        "keywordType": "clusterName",
        "keyword": "c1",
        "orderBy": "createdAt",
        "order": "DESC",
        "pageNo": "1",
        "pageSize": "10",
    }
    data = v2.ok(v2("GET", "/clusters", query))
    assert set(data) == {"clusterPage", "requestID"}
    page = data["clusterPage"]
    paging = {"pageNo": Int, "pageSize": Int, "totalCount": Int, "clusterList": List}
    check(page, {"keywordType": Str, "keyword": Str, "orderBy": Str, "order": Str, **paging})
    assert {k: page[k] for k in query} == {**query, "pageNo": 1, "pageSize": 10}
    assert page["totalCount"] == 1
    check(page["clusterList"][0], CLUSTER, "clusterList[0]")


def test_create_instance_group_answers_the_sdk_response(v2: V2, running: str) -> None:
    data = v2.ok(v2("POST", f"/cluster/{running}/instancegroup", body=SDK_CREATE_GROUP))
    assert set(data) == {"instanceGroupID", "requestID"}
    assert GROUP_ID.fullmatch(data["instanceGroupID"])


def test_list_instance_groups_with_the_sdk_zero_paging(v2: V2, running: str) -> None:
    group_id = v2.create_group(running)
    data = v2.ok(v2("GET", f"/cluster/{running}/instancegroups", {"pageNo": "0", "pageSize": "0"}))
    assert set(data) == {"page", "requestID"}
    check(data["page"], PAGE, "page")
    assert data["page"]["totalCount"] == 1
    group = data["page"]["list"][0]
    check(group, GROUP, "list[0]")
    assert group["spec"]["cceInstanceGroupID"] == group_id
    assert "selector" not in group["spec"]  # the response spec has none [SDK]


def test_get_instance_group_carries_every_field_the_sdk_decodes(v2: V2, running: str) -> None:
    group_id = v2.create_group(running)
    data = v2.ok(v2("GET", f"/cluster/{running}/instancegroup/{group_id}"))
    assert set(data) == {"instanceGroup", "requestID"}
    check(data["instanceGroup"], GROUP, "instanceGroup")
    spec = data["instanceGroup"]["spec"]
    assert (spec["clusterID"], spec["instanceGroupName"], spec["replicas"]) == (running, "ig1", 2)
    template = spec["instanceTemplate"]
    assert (template["instanceType"], template["imageID"]) == ("N3", "m-x")
    assert template["vpcConfig"]["vpcSubnetID"] == "sbn-x"
    assert data["instanceGroup"]["status"]["readyReplicas"] == 2


def test_update_replicas_with_the_doc_body(v2: V2, running: str) -> None:
    group_id = v2.create_group(running)
    data = v2.ok(v2.replicas(running, group_id, DOC_REPLICAS))
    assert set(data) == {"requestID"}
    assert v2.group(running, group_id)["spec"]["replicas"] == 1


def test_group_instances_carry_every_field_the_sdk_decodes(v2: V2, running: str) -> None:
    group_id = v2.create_group(running)
    path = f"/cluster/{running}/instancegroup/{group_id}/instances"
    data = v2.ok(v2("GET", path, {"pageNo": "0", "pageSize": "0"}))
    assert set(data) == {"page", "requestID"}
    check(data["page"], PAGE, "page")
    for i, instance in enumerate(data["page"]["list"]):
        check(instance, INSTANCE, f"list[{i}]")
        assert instance["spec"]["instanceGroupID"] == group_id
        assert instance["spec"]["cceInstanceID"].startswith(f"{running}-")
        assert instance["status"]["machine"]["instanceID"].startswith("i-")


def test_scale_down_answers_a_task(v2: V2, running: str) -> None:
    group_id = v2.create_group(running)
    victim = v2.instances(running, group_id)[0]["spec"]["cceInstanceID"]
    body = f'{{"instancesToBeRemoved":["{victim}"],"cleanPolicy":"Delete"}}'.encode()
    path = f"/cluster/{running}/instancegroup/{group_id}/scaledown"
    data = v2.ok(v2("PUT", path, body=body))
    assert set(data) == {"requestID", "taskID"}
    assert data["taskID"].startswith(f"task-{group_id}-scaledown-")


def test_delete_instance_group_with_the_sdk_query(v2: V2, running: str) -> None:
    group_id = v2.create_group(running)
    query = {"deleteInstances": "true", "releaseAllResources": "false"}
    data = v2.ok(v2("DELETE", f"/cluster/{running}/instancegroup/{group_id}", query))
    assert set(data) == {"requestID"}


def test_delete_cluster_with_the_sdk_query(v2: V2, running: str) -> None:
    query = {
        "deleteResource": "true",
        "deleteCDSSnapshot": "true",
        "moveOut": "false",
        "batchRefundResource": "false",
    }
    data = v2.ok(v2("DELETE", f"/cluster/{running}", query))
    assert set(data) == {"requestID"}


def test_kubeconfig_answers_the_sdk_response(v2: V2, running: str) -> None:
    data = v2.ok(v2("GET", f"/kubeconfig/{running}/vpc"))
    assert set(data) == {"kubeConfigType", "kubeConfig", "requestID"}
    assert data["kubeConfigType"] == "vpc"
    vpc_ip = v2.cluster(running)["status"]["clusterBLB"]["vpcIP"]
    assert f"server: https://{vpc_ip}:6443" in data["kubeConfig"]


def test_errors_carry_code_message_and_request_id(v2: V2) -> None:
    message = v2_error(v2("GET", "/cluster/cce-nothere0"), "cce.warning.ClusterNotFound", 404)
    assert "cce-nothere0" in message

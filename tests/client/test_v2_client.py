"""The CCE v2 client: requests shaped like the Go SDK's, strict answers and strict paging
(against a scripted server), and whole flows against the emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler import errors
from reconciler.client.credentials import Credentials
from reconciler.client.v2 import PREFIX, CceV2Client
from reconciler.client.v2_types import (
    ClusterCreate,
    ClusterSpecBody,
    ContainerNetworkConfig,
    DeleteOption,
    InstanceGroupCreate,
    InstanceSpecBody,
    ManagedMasterOption,
    MasterConfig,
    ReplicasUpdate,
    ScaleDown,
)
from reconciler.emulator.testing import EmulatorHandle
from tests.faultproxy import fault_proxy

from .conftest import FakeTime, Reply, ScriptedServer, by_page, make_transport, ok

# The byte-exact bodies the Go SDK sends (shared/cce-v2-api.md 2.1 and 3.1 [SDK-RUN]).
SDK_CREATE_CLUSTER = (
    '{"cluster":{"clusterName":"c1","k8sVersion":"1.28.8","runtimeType":"containerd",'
    '"vpcID":"vpc-x","masterConfig":{"masterType":"managedPro","clusterHA":3,'
    '"managedClusterMasterOption":{"masterVPCSubnetZone":"zoneA"}},"containerNetworkConfig":'
    '{"mode":"kubenet","ebpfConfig":{},"lbServiceVPCSubnetID":"sbn-x","clusterPodCIDR":'
    '"172.28.0.0/16","clusterIPServiceCIDR":"172.31.0.0/16"},"forbidDelete":false,'
    '"resourceChargingOption":{},"k8sCustomConfig":{}},"options":{"skipNetworkCheck":null}}'
)
SDK_CREATE_GROUP = (
    '{"instanceGroupName":"ig1","selector":null,"instanceTemplate":{"instanceName":"",'
    '"existedOption":{},"machineType":"BCC","instanceType":"N3","bidOption":{},"vpcConfig":'
    '{"vpcSubnetID":"sbn-x","securityGroup":{"enableCCERequiredSecurityGroup":false,'
    '"enableCCEOptionalSecurityGroup":false},"securityGroupType":"","securityGroups":null},'
    '"instanceResource":{"cpu":2,"mem":8},"imageID":"m-x","instanceOS":{},'
    '"instancePreChargingOption":{},"deployCustomConfig":{"dockerConfig":{},'
    '"containerdConfig":{}}},"replicas":2}'
)
CLUSTER_SPEC = ClusterSpecBody(
    "c1",
    "1.28.8",
    "vpc-x",
    MasterConfig("managedPro", 3, managed_option=ManagedMasterOption("zoneA")),
    ContainerNetworkConfig("kubenet", "sbn-x", "172.28.0.0/16", "172.31.0.0/16"),
    runtime_type="containerd",
)
TEMPLATE = InstanceSpecBody("N3", "sbn-x", machine_type="BCC", cpu=2, mem=8, image_id="m-x")
GROUP = InstanceGroupCreate("ig1", TEMPLATE, 2)


def cluster_json(cluster_id: str, name: str = "c1", phase: str = "running") -> dict[str, Any]:
    return {
        "spec": {
            "clusterID": cluster_id,
            "clusterName": name,
            "clusterType": "normal",
            "description": "",
            "k8sVersion": "1.28.8",
            "runtimeType": "containerd",
            "vpcID": "vpc-x",
            "forbidDelete": False,
            "masterConfig": {"masterType": "managedPro", "clusterHA": 3},
            "containerNetworkConfig": {"mode": "kubenet", "clusterPodCIDR": "172.28.0.0/16"},
        },
        "status": {"clusterPhase": phase, "nodeNum": 0},
        "createdAt": "2020-09-04T01:58:12Z",
        "updatedAt": "2020-09-04T01:58:12Z",
    }


def cluster_page(ids: list[str], total: int, **page: Any) -> dict[str, Any]:
    items = [cluster_json(i) for i in ids]
    return {"clusterPage": {"totalCount": total, "clusterList": items, **page}, "requestID": "r"}


@pytest.fixture
def client(server: ScriptedServer, fake_time: FakeTime) -> Iterator[CceV2Client]:
    with CceV2Client(make_transport(server.url, fake_time), page_size=2) as c:
        yield c


# -- requests on the wire -------------------------------------------------------------------


def test_bodies_are_the_sdks(client: CceV2Client, server: ScriptedServer) -> None:
    assert ClusterCreate(CLUSTER_SPEC).to_json() == json.loads(SDK_CREATE_CLUSTER)
    assert GROUP.to_json() == json.loads(SDK_CREATE_GROUP)
    server.script(ok({"clusterID": "cce-a", "requestID": "r"}))
    server.script(ok({"instanceGroupID": "cce-ig-a", "requestID": "r"}))
    assert client.create_cluster(ClusterCreate(CLUSTER_SPEC)).cluster_id == "cce-a"
    assert client.create_instance_group("cce-a", GROUP).instance_group_id == "cce-ig-a"
    first, second = server.seen
    assert (first.method, first.path) == ("POST", f"{PREFIX}/cluster")
    assert first.body.decode() == SDK_CREATE_CLUSTER  # key order included
    assert (second.method, second.path) == ("POST", f"{PREFIX}/cluster/cce-a/instancegroup")
    assert json.loads(second.body) == json.loads(SDK_CREATE_GROUP)


def test_replicas_and_scale_down_bodies(client: CceV2Client, server: ScriptedServer) -> None:
    server.default = ok({"requestID": "r", "taskID": "task-x"})
    option = DeleteOption(delete_resource=True, delete_cds_snapshot=True)
    client.update_replicas("cce-a", "cce-ig-a", ReplicasUpdate(1, None, True, option))
    client.update_replicas("cce-a", "cce-ig-a", 3)
    client.scale_down("cce-a", "cce-ig-a", ScaleDown(("cce-a-1",), "Delete"))
    bodies = [(s.method, s.path, s.json()) for s in server.seen]
    path = f"{PREFIX}/cluster/cce-a/instancegroup/cce-ig-a"
    assert bodies == [
        ("PUT", f"{path}/replicas", {"replicas": 1, "instanceIDs": None, "deleteInstance": True,
                                     "deleteOption": {"deleteResource": True,
                                                      "deleteCDSSnapshot": True}}),
        ("PUT", f"{path}/replicas", {"replicas": 3, "instanceIDs": None, "deleteInstance": False}),
        ("PUT", f"{path}/scaledown", {"instancesToBeRemoved": ["cce-a-1"],
                                      "cleanPolicy": "Delete", "deleteOption": None}),
    ]  # fmt: skip


def test_delete_flags_are_always_sent(client: CceV2Client, server: ScriptedServer) -> None:
    server.default = ok({"requestID": "r"})
    client.delete_cluster("cce-a", delete_resource=True)
    client.delete_instance_group("cce-a", "cce-ig-a", delete_instances=True)
    cluster, group = server.seen
    assert (cluster.method, cluster.path) == ("DELETE", f"{PREFIX}/cluster/cce-a")
    assert dict(cluster.query) == {
        "deleteResource": "true",
        "deleteCDSSnapshot": "false",
        "moveOut": "false",
        "batchRefundResource": "false",
    }
    assert dict(group.query) == {"deleteInstances": "true", "releaseAllResources": "false"}


def test_list_query_is_the_sdks(client: CceV2Client, server: ScriptedServer) -> None:
    server.script(ok(cluster_page(["cce-a"], 1)))
    client.list_clusters()
    assert dict(server.seen[0].query) == {
        "keywordType": "clusterName",
        "orderBy": "clusterID",
        "order": "ASC",
        "pageNo": "1",
        "pageSize": "2",
    }


def test_creates_are_not_resent_after_a_lost_answer(
    client: CceV2Client, server: ScriptedServer
) -> None:
    server.script(Reply(drop=True))
    with pytest.raises(errors.OutcomeUnknownError):
        client.create_cluster(ClusterCreate(CLUSTER_SPEC))
    assert server.count() == 1


def test_bad_ids_and_kubeconfig_types_fail_before_sending(
    client: CceV2Client, server: ScriptedServer
) -> None:
    with pytest.raises(errors.UsageError):
        client.get_cluster("../v1/cluster")
    with pytest.raises(errors.UsageError):
        client.get_kubeconfig("cce-a", "admin")
    assert server.count() == 0


# -- strict answers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mangle", "key"),
    [
        (lambda c: c["status"].pop("clusterPhase"), "cluster.status.clusterPhase: missing"),
        (lambda c: c["spec"].update(clusterID=None), "cluster.spec.clusterID: null"),
        (lambda c: c["status"].update(nodeNum="3"), "cluster.status.nodeNum: expected an integer"),
        (lambda c: c["spec"].update(forbidDelete=0), "cluster.spec.forbidDelete: expected a boolean"),
        (lambda c: c.pop("spec"), "cluster.spec: missing"),
        (lambda c: c["spec"]["masterConfig"].update(clusterHA=True), "clusterHA: expected an integer"),
    ],
)  # fmt: skip
def test_a_bad_answer_names_method_path_key_and_request_id(
    client: CceV2Client, server: ScriptedServer, mangle: Any, key: str
) -> None:
    cluster = cluster_json("cce-a")
    mangle(cluster)
    server.script(ok({"cluster": cluster, "requestID": "rid-1"}, request_id="rid-1"))
    with pytest.raises(errors.ShapeError) as caught:
        client.get_cluster("cce-a")
    error = caught.value
    assert (error.method, error.path, error.request_id) == (
        "GET",
        f"{PREFIX}/cluster/cce-a",
        "rid-1",
    )
    assert key in str(error) and "rid-1" in str(error)


def test_keys_the_service_may_omit_read_as_none(
    client: CceV2Client, server: ScriptedServer
) -> None:
    cluster = cluster_json("cce-a")
    del cluster["spec"]["masterConfig"]["clusterHA"]
    server.script(ok({"cluster": cluster, "requestID": "r"}))
    found = client.get_cluster("cce-a")
    assert (found.cluster_ha, found.pod_cidr, found.service_cidr) == (None, "172.28.0.0/16", None)


def test_an_empty_success_body_is_a_shape_error(
    client: CceV2Client, server: ScriptedServer
) -> None:
    server.script(ok(None))
    with pytest.raises(errors.ShapeError, match="the answer: expected a JSON object, got null"):
        client.delete_cluster("cce-a")


# -- strict paging --------------------------------------------------------------------------


def test_every_page_is_read(client: CceV2Client, server: ScriptedServer) -> None:
    server.default = by_page(
        {
            1: ok(cluster_page(["cce-a", "cce-b"], 5)),
            2: ok(cluster_page(["cce-c", "cce-d"], 5)),
            3: ok(cluster_page(["cce-e"], 5)),
        }
    )
    assert [c.cluster_id for c in client.list_clusters()] == [
        "cce-a",
        "cce-b",
        "cce-c",
        "cce-d",
        "cce-e",
    ]
    pages = [dict(s.query)["pageNo"] for s in server.seen]
    assert pages[0] == "1" and sorted(pages) == ["1", "2", "3"]  # then 2 and 3 at once


def test_the_pages_after_the_first_are_asked_for_at_once(emulator: EmulatorHandle) -> None:
    with fault_proxy(emulator.url) as proxy:
        second = proxy.rendezvous(
            lambda call: call.query.get("pageNo") == "2",
            lambda call: call.query.get("pageNo") == "3",
        )
        credentials = Credentials(emulator.access_key_id, emulator.secret_access_key)
        with CceV2Client.connect(proxy.url, credentials, page_size=2) as live:
            ids = {live.create_cluster(ClusterCreate(CLUSTER_SPEC)).cluster_id for _ in range(5)}
            assert {c.cluster_id for c in live.list_clusters()} == ids
    assert second.met


def test_a_short_page_is_an_error(client: CceV2Client, server: ScriptedServer) -> None:
    server.script(ok(cluster_page(["cce-a"], 3)))
    with pytest.raises(errors.ShapeError, match="page 1 holds 1 of pageSize 2"):
        client.list_clusters()


def test_more_items_than_total_is_an_error(client: CceV2Client, server: ScriptedServer) -> None:
    server.script(ok(cluster_page(["cce-a", "cce-b"], 3)), ok(cluster_page(["cce-c", "cce-d"], 3)))
    with pytest.raises(errors.ShapeError, match="totalCount: 3, but 4 items"):
        client.list_clusters()


def test_a_page_longer_than_asked_is_an_error(client: CceV2Client, server: ScriptedServer) -> None:
    server.script(ok(cluster_page(["cce-a", "cce-b", "cce-c"], 4)))
    with pytest.raises(errors.ShapeError, match="3 items, pageSize 2"):
        client.list_clusters()


def test_a_server_ignoring_paging_may_answer_everything_at_once(
    client: CceV2Client, server: ScriptedServer
) -> None:
    server.script(ok(cluster_page(["cce-a", "cce-b", "cce-c"], 3, pageNo=0, pageSize=0)))
    assert len(client.list_clusters()) == 3


@pytest.mark.parametrize("total", [0, 2])
def test_a_null_list_is_a_shape_error_whatever_the_total(
    client: CceV2Client, server: ScriptedServer, total: int
) -> None:
    server.script(ok({"clusterPage": {"totalCount": total, "clusterList": None}}))
    with pytest.raises(errors.ShapeError, match="clusterPage.clusterList: null"):
        client.list_clusters()
    server.script(ok({"clusterPage": {"clusterList": []}}))
    with pytest.raises(errors.ShapeError, match="clusterPage.totalCount: missing"):
        client.list_clusters()


def test_a_list_that_moves_is_read_again(client: CceV2Client, server: ScriptedServer) -> None:
    server.default = by_page(
        {
            1: ok(cluster_page(["cce-a", "cce-b"], 3)),
            2: ok(cluster_page(["cce-b", "cce-c"], 4)),  # one more appeared: start over
        },
        {1: ok(cluster_page(["cce-a", "cce-b"], 4)), 2: ok(cluster_page(["cce-c", "cce-d"], 4))},
    )
    assert [c.cluster_id for c in client.list_clusters()] == ["cce-a", "cce-b", "cce-c", "cce-d"]


def test_a_list_that_keeps_moving_fails(client: CceV2Client, server: ScriptedServer) -> None:
    server.default = ok(cluster_page(["cce-a", "cce-b"], 3))  # page 2 repeats page 1
    with pytest.raises(errors.ShapeError, match="changed while it was read, 3 times") as info:
        client.list_clusters()
    assert "cce-a is listed on page 2 and before" in info.value.message
    assert server.count() == 6


def test_an_object_twice_on_one_page_is_a_shape_error_at_once(
    client: CceV2Client, server: ScriptedServer
) -> None:
    server.default = ok(cluster_page(["cce-a", "cce-a"], 2))
    with pytest.raises(errors.ShapeError, match="cce-a is listed twice on page 1"):
        client.list_clusters()
    assert server.count() == 1


@pytest.mark.parametrize("total", [-1, 100_001, 10**12])
def test_a_total_outside_the_per_list_limit_is_a_shape_error(
    client: CceV2Client, server: ScriptedServer, total: int
) -> None:
    server.default = ok(cluster_page(["cce-a", "cce-b"], total))
    with pytest.raises(errors.ShapeError, match=f"totalCount: {total} is outside 0..100,000"):
        client.list_clusters()
    assert server.count() == 1


# -- against the emulator -------------------------------------------------------------------


@pytest.fixture
def live(emulator: EmulatorHandle) -> Iterator[CceV2Client]:
    credentials = Credentials(emulator.access_key_id, emulator.secret_access_key)
    with CceV2Client.connect(emulator.url, credentials, page_size=2) as c:
        yield c


def test_a_whole_flow_against_the_emulator(live: CceV2Client, emulator: EmulatorHandle) -> None:
    ids = [live.create_cluster(ClusterCreate(CLUSTER_SPEC)).cluster_id for _ in range(3)]
    clusters = live.find_clusters("c1")  # three pages of two
    assert sorted(c.cluster_id for c in clusters) == sorted(ids)
    cluster = live.get_cluster(ids[0])
    assert (cluster.phase, cluster.master_type, cluster.network_mode) == (
        "running",
        "managedPro",
        "kubenet",
    )
    group_id = live.create_instance_group(ids[0], GROUP).instance_group_id
    live.update_replicas(ids[0], group_id, 5)
    group = live.get_instance_group(ids[0], group_id)
    assert (group.replicas, group.ready_replicas, group.clean_policy) == (5, 5, "Delete")
    instances = live.list_group_instances(ids[0], group_id)
    assert [i.phase for i in instances] == ["running"] * 5
    assert all(i.machine_id.startswith("i-") and i.instance_group_id == group_id for i in instances)
    task = live.scale_down(ids[0], group_id, ScaleDown((instances[0].cce_instance_id,), "Delete"))
    assert task.task_id.startswith(f"task-{group_id}-scaledown-")
    assert [g.replicas for g in live.list_instance_groups(ids[0])] == [4]
    assert "server: https://" in live.get_kubeconfig(ids[0]).text
    live.delete_instance_group(ids[0], group_id, delete_instances=True)
    live.delete_cluster(ids[0])
    with pytest.raises(errors.ServerError) as caught:
        live.get_cluster(ids[0])
    assert (caught.value.status, caught.value.code) == (404, "cce.warning.ClusterNotFound")
    assert {e["path"].split("/v2")[0] for e in emulator.requests_log()} == {"/api/cce/service"}


def test_lifecycle_seen_through_the_client(live: CceV2Client, emulator: EmulatorHandle) -> None:
    emulator.set_faults(cluster_create_seconds=30, create_failure_rate=1.0)
    cluster_id = live.create_cluster(ClusterCreate(CLUSTER_SPEC)).cluster_id
    seen = [live.get_cluster(cluster_id).phase]
    for _ in range(2):
        emulator.advance(15)
        seen.append(live.get_cluster(cluster_id).phase)
    assert seen == ["pending", "provisioning", "create_failed"]

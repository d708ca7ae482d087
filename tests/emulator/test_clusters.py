"""Clusters and nodes: create, lifecycle, delete, scale up/down, node list (no sleeping)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from reconciler.emulator.testing import EmulatorHandle

from .helpers import UUID4, Api, assert_error, bcc_item, cluster_body

CLUSTER_ID = re.compile(r"c-[A-Za-z0-9]{8}")
NODE_ID = re.compile(r"i-[A-Za-z0-9]{8}")


def detail(api: Api, uuid: str) -> dict[str, Any]:
    data: dict[str, Any] = api.ok(api.get(f"/v1/cluster/{uuid}"))
    return data


def nodes(api: Api, uuid: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.ok(api.get("/v1/node", {"clusterUuid": uuid}))["nodes"]
    return found


def scale_up(api: Api, uuid: str, count: int = 1, **config: Any) -> Any:
    body = {"clusterUuid": uuid, "orderContent": {"items": [bcc_item(count, **config)]}}
    return api.post("/v1/cluster", body, query=[("scalingUp", None)])


def scale_down(api: Api, uuid: str, ids: list[str]) -> Any:
    body = {"clusterUuid": uuid, "nodeInfo": [{"instanceId": i} for i in ids]}
    query = [("scalingDown", None), ("deleteEipCds", "true"), ("deleteSnap", "false")]
    return api.post("/v1/cluster", body, query=query)


@pytest.fixture
def slow(emulator: EmulatorHandle) -> EmulatorHandle:
    """Lifecycles that take a minute to create and half a minute to delete."""
    emulator.set_faults(cluster_create_seconds=60, cluster_delete_seconds=30)
    return emulator


def test_create_answers_an_id_and_order_ids(api: Api) -> None:
    body = cluster_body()
    body["orderContent"]["items"] += [
        {
            "config": {
                "serviceType": "CDS",
                "productType": "postpay",
                "cdsDiskSize": [{"size": "50", "volumeType": "ssd"}],
            }
        },
        {"config": {"serviceType": "EIP", "productType": "postpay", "bandwidthInMbps": 100}},
    ]
    data = api.ok(api.post("/v1/cluster", body))
    assert CLUSTER_ID.fullmatch(data["clusterUuid"])
    assert len(data["orderId"]) == 3 and len(set(data["orderId"])) == 3
    node = nodes(api, data["clusterUuid"])[0]
    assert (node["diskSize"], node["eipBandwidth"]) == (50, 100)
    assert node["eip"]


def test_detail_and_list_shapes(api: Api) -> None:
    uuid = api.create_cluster(workers=2)
    data = detail(api, uuid)
    assert {
        "clusterUuid": uuid,
        "clusterName": "prod-bj",
        "version": "1.20.8",
        "region": "bj",
        "status": "RUNNING",
        "slaveVmCount": 2,
        "masterVmCount": 3,
        "containerNet": "172.16.0.0/16",
        "mainAvailableZone": "zoneA",
        "comment": "made by a test",
        "advancedOptions": {
            "kubeProxyMode": "ipvs",
            "secureContainerEnable": False,
            "cniMode": "kubenet",
            "dnsMode": "coreDNS",
            "maxPodNum": 256,
        },
        "masterExposed": False,
        "hasPrepay": False,
        "deleteTime": "0001-01-01T00:00:00Z",
        "zoneSubnetMap": {"zoneA": "subnet-uuid-1"},
    }.items() <= data.items()
    for key in ("vpcId", "vpcUuid", "vpcCidr", "createStartTime", "createTime", "instanceMode"):
        assert data[key]
    assert len(data["instanceList"]) == 2
    listed = api.ok(api.get("/v1/cluster"))["clusters"]
    assert listed == [data]


@pytest.mark.parametrize(
    ("sent", "answered"),
    [
        (None, {}),
        ({}, {}),
        (
            {"kubeProxyMode": "iptables", "cniType": "VPC_ROUTE_VETH", "setOSSecurity": True},
            {"kubeProxyMode": "iptables", "cniType": "VPC_ROUTE_VETH", "setOSSecurity": True},
        ),
    ],
    ids=["absent", "empty", "some"],
)
def test_advanced_options_defaults_are_filled(
    api: Api, sent: dict[str, Any] | None, answered: dict[str, Any]
) -> None:
    body = cluster_body()
    if sent is None:
        del body["advancedOptions"]
    else:
        body["advancedOptions"] = sent
    uuid = api.ok(api.post("/v1/cluster", body))["clusterUuid"]
    defaults = {
        "kubeProxyMode": "ipvs",
        "secureContainerEnable": False,
        "cniMode": "kubenet",
        "dnsMode": "coreDNS",
        "maxPodNum": 256,
    }
    assert detail(api, uuid)["advancedOptions"] == {**defaults, **answered}
    (listed,) = api.ok(api.get("/v1/cluster"))["clusters"]
    assert listed["advancedOptions"] == {**defaults, **answered}


def test_node_shape(api: Api) -> None:
    uuid = api.create_cluster(workers=1)
    (node,) = nodes(api, uuid)
    assert NODE_ID.fullmatch(node["instanceShortId"])
    assert UUID4.fullmatch(node["instanceUuid"])
    expected = {"clusterUuid": uuid, "availableZone": "zoneA", "cpu": 4, "memory": 8, "instanceType": "10",
                "status": "RUNNING", "paymentMethod": "postpay", "subnetId": "subnet-uuid-1", "sysDisk": 40}  # fmt: skip
    assert expected.items() <= node.items()
    for key in (
        "vpcId",
        "vpcCidr",
        "fixIp",
        "createTime",
        "expireTime",
        "deleteTime",
        "runtimeVersion",
    ):
        assert key in node


def test_instance_type_may_be_a_number(api: Api) -> None:
    body = cluster_body(orderContent={"items": [bcc_item(1, instanceType=13)]})
    uuid = api.ok(api.post("/v1/cluster", body))["clusterUuid"]
    assert nodes(api, uuid)[0]["instanceType"] == "13"


def test_zero_workers(api: Api) -> None:
    uuid = api.ok(api.post("/v1/cluster", cluster_body(orderContent={"items": []})))["clusterUuid"]
    assert detail(api, uuid)["slaveVmCount"] == 0


def test_names_are_not_unique(api: Api) -> None:
    first = api.create_cluster()
    second = api.create_cluster(containerNet="172.17.0.0/16")
    assert first != second


def test_lifecycle_follows_the_model_clock(api: Api, slow: EmulatorHandle) -> None:
    uuid = api.create_cluster(workers=2)
    assert detail(api, uuid)["status"] == "CREATING"
    assert {n["status"] for n in nodes(api, uuid)} == {"CREATING"}
    slow.advance(59)
    assert detail(api, uuid)["status"] == "CREATING"
    slow.advance(2)
    data = detail(api, uuid)
    assert data["status"] == "RUNNING" and data["allInstanceNormal"] is True
    assert {n["status"] for n in nodes(api, uuid)} == {"RUNNING"}


def test_zero_seconds_means_running_on_the_next_read(api: Api) -> None:
    uuid = api.create_cluster()
    assert detail(api, uuid)["status"] == "RUNNING"


def test_create_failure_rate(api: Api, emulator: EmulatorHandle) -> None:
    emulator.set_faults(create_failure_rate=1.0)
    uuid = api.create_cluster()
    assert detail(api, uuid)["status"] == "CREATE_FAILED"
    assert {n["status"] for n in nodes(api, uuid)} == {"CREATE_FAILED"}
    assert_error(scale_up(api, uuid), "Cce.IllegalArguments")
    api.ok(api.delete(f"/v1/cluster/{uuid}"))
    assert detail(api, uuid)["status"] == "DELETED"


def test_delete_lifecycle(api: Api, slow: EmulatorHandle) -> None:
    uuid = api.create_cluster(workers=2)
    assert_error(api.delete(f"/v1/cluster/{uuid}"), "Cce.ClusterCreating")
    slow.advance(60)
    response = api.delete(f"/v1/cluster/{uuid}", {"deleteEipCds": "true", "deleteSnap": "false"})
    assert response.status_code == 200 and response.content == b""
    assert detail(api, uuid)["status"] == "DELETING"
    assert {n["status"] for n in nodes(api, uuid)} == {"DELETING"}
    assert_error(api.delete(f"/v1/cluster/{uuid}"), "Cce.ClusterDeleting")
    slow.advance(30)
    data = detail(api, uuid)
    assert data["status"] == "DELETED" and data["deleteTime"] != "0001-01-01T00:00:00Z"
    assert data["slaveVmCount"] == 0 and nodes(api, uuid) == []
    assert [c["status"] for c in api.ok(api.get("/v1/cluster"))["clusters"]] == ["DELETED"]
    assert_error(api.delete(f"/v1/cluster/{uuid}"), "Cce.ClusterDeleted")


def test_unknown_cluster(api: Api) -> None:
    for response in (
        api.get("/v1/cluster/c-00000000"),
        api.delete("/v1/cluster/c-00000000"),
        scale_up(api, "c-00000000"),
        scale_down(api, "c-00000000", ["i-00000000"]),
        api.get("/v1/node", {"clusterUuid": "c-00000000"}),
    ):
        assert_error(response, "Cce.warning.ClusterNotExist")


@pytest.mark.parametrize(
    "missing", ["clusterName", "version", "mainAvailableZone", "containerNet", "orderContent"]
)
def test_create_missing_a_required_field(api: Api, missing: str) -> None:
    body = cluster_body()
    del body[missing]
    assert_error(api.post("/v1/cluster", body), "Cce.IllegalArguments")
    assert_error(api.post("/v1/cluster", {**body, missing: None}), "Cce.IllegalArguments")


@pytest.mark.parametrize(
    "overrides",
    [
        {"version": "1.99.0"},
        {"containerNet": "172.16.0.1/16"},
        {"containerNet": "not-a-cidr"},
        {"containerNet": "300.16.0.0/16"},
        {"orderContent": {"items": [{"config": {"serviceType": "BBC"}}]}},
        {"orderContent": {"items": [{"noconfig": {}}]}},
        {"orderContent": {"items": [bcc_item(-1)]}},
        {
            "orderContent": {
                "items": [{"config": {"serviceType": "CDS", "cdsDiskSize": [{"size": "big"}]}}]
            }
        },
    ],
)
def test_create_illegal_arguments(api: Api, overrides: dict[str, Any]) -> None:
    assert_error(api.post("/v1/cluster", cluster_body(**overrides)), "Cce.IllegalArguments")


def test_container_net_conflict(api: Api) -> None:
    uuid = api.create_cluster(containerNet="172.16.0.0/16")
    assert_error(
        api.post("/v1/cluster", cluster_body(containerNet="172.16.128.0/17")),
        "Cce.ContainerNetConflict",
    )
    assert_error(
        api.post("/v1/cluster", cluster_body(containerNet="172.0.0.0/8")),
        "Cce.ContainerNetConflict",
    )
    api.ok(api.delete(f"/v1/cluster/{uuid}"))
    api.get("/v1/cluster")  # DELETED: its net is free again
    api.create_cluster(containerNet="172.16.0.0/16")


def test_wrong_main_zone(api: Api) -> None:
    body = cluster_body(orderContent={"items": [bcc_item(1, logicalZone="zoneB")]})
    assert_error(api.post("/v1/cluster", body), "Cce.WrongMainZone")


@pytest.mark.parametrize("service", ["BCC", "EIP"])
def test_unsupported_pay_type(api: Api, service: str) -> None:
    items = [bcc_item(1), {"config": {"serviceType": service, "productType": "free"}}]
    assert_error(
        api.post("/v1/cluster", cluster_body(orderContent={"items": items})),
        "Cce.UnsupportedPayType",
    )


def test_prepay_is_supported(api: Api) -> None:
    uuid = api.ok(
        api.post(
            "/v1/cluster", cluster_body(orderContent={"items": [bcc_item(1, productType="prepay")]})
        )
    )
    assert detail(api, uuid["clusterUuid"])["hasPrepay"] is True


def test_cluster_quota(api: Api, emulator: EmulatorHandle) -> None:
    emulator.set_faults(cluster_quota=1)
    first = api.create_cluster()
    assert_error(
        api.post("/v1/cluster", cluster_body(containerNet="172.17.0.0/16")), "Cce.ClusterOverQuota"
    )
    api.ok(api.delete(f"/v1/cluster/{first}"))
    api.create_cluster(containerNet="172.17.0.0/16")  # a DELETED cluster does not count


def test_slave_quota(api: Api, emulator: EmulatorHandle) -> None:
    emulator.set_faults(slave_quota=3)
    assert_error(api.post("/v1/cluster", cluster_body(workers=4)), "Cce.slaveOverQuota")
    uuid = api.create_cluster(workers=3)
    assert_error(scale_up(api, uuid), "Cce.slaveOverQuota")


def test_scale_up(api: Api, slow: EmulatorHandle) -> None:
    uuid = api.create_cluster(workers=1)
    slow.advance(60)
    data = api.ok(scale_up(api, uuid, 2, cpu=8))
    assert data["clusterUuid"] == uuid and len(data["orderId"]) == 1
    assert detail(api, uuid)["slaveVmCount"] == 3
    added = [n for n in nodes(api, uuid) if n["cpu"] == 8]
    assert [n["status"] for n in added] == ["CREATING", "CREATING"]
    assert detail(api, uuid)["status"] == "RUNNING"
    slow.advance(60)
    assert {n["status"] for n in nodes(api, uuid)} == {"RUNNING"}


def test_scale_down(api: Api, emulator: EmulatorHandle) -> None:
    uuid = api.create_cluster(workers=3)
    ids = [n["instanceShortId"] for n in nodes(api, uuid)]
    response = scale_down(api, uuid, ids[:2])
    assert response.status_code == 200 and response.content == b""
    assert [n["instanceShortId"] for n in nodes(api, uuid)] == ids[2:]
    assert detail(api, uuid)["slaveVmCount"] == 1
    assert [n["instanceShortId"] for n in emulator.state()["clusters"][0]["nodes"]] == ids[2:]


def test_scale_down_errors(api: Api) -> None:
    uuid = api.create_cluster(workers=1)
    other = api.create_cluster(workers=1, containerNet="172.17.0.0/16")
    foreign = nodes(api, other)[0]["instanceShortId"]
    assert_error(scale_down(api, uuid, ["i-nothere"]), "Cce.IllegalArguments")
    assert_error(scale_down(api, uuid, [foreign]), "Cce.IllegalArguments")
    assert_error(scale_down(api, uuid, []), "Cce.IllegalArguments")
    body = {"nodeInfo": [{"instanceId": foreign}]}
    assert_error(
        api.post("/v1/cluster", body, query=[("scalingDown", None)]), "Cce.IllegalArguments"
    )


def test_scale_up_errors(api: Api) -> None:
    uuid = api.create_cluster()
    assert_error(scale_up(api, uuid, logicalZone="zoneC"), "Cce.WrongMainZone")
    body = {"clusterUuid": uuid}
    assert_error(api.post("/v1/cluster", body, query=[("scalingUp", None)]), "Cce.IllegalArguments")


def test_busy_clusters_refuse_scaling(api: Api, slow: EmulatorHandle) -> None:
    uuid = api.create_cluster()
    assert_error(scale_up(api, uuid), "Cce.ClusterCreating")
    assert_error(scale_down(api, uuid, ["i-00000000"]), "Cce.ClusterCreating")
    slow.advance(60)
    api.ok(api.delete(f"/v1/cluster/{uuid}"))
    assert_error(scale_up(api, uuid), "Cce.ClusterDeleting")
    slow.advance(30)
    assert_error(scale_up(api, uuid), "Cce.ClusterDeleted")


def test_node_list_needs_a_cluster(api: Api) -> None:
    assert_error(api.get("/v1/node"), "Cce.IllegalArguments")


def test_ids_are_reproducible_for_a_seed(api: Api, emulator: EmulatorHandle) -> None:
    first = api.create_cluster()
    first_nodes = [n["instanceShortId"] for n in nodes(api, first)]
    emulator.reset()
    assert api.create_cluster() == first
    assert [n["instanceShortId"] for n in nodes(api, first)] == first_nodes
    emulator.reset()
    emulator.set_faults(seed=99)
    assert api.create_cluster() != first

"""The other cluster endpoints: versions, kubeconfig, quota, container nets, existing nodes,
upgrade and node flavors (cce-v1-api.md section 1.8)."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.emulator.testing import EmulatorHandle

from .helpers import Api, assert_error


def shift(api: Api, action: str, uuid: str | None, ids: list[str], **extra: Any) -> Any:
    body: dict[str, Any] = {"nodeInfoList": [{"instanceId": i} for i in ids], **extra}
    if uuid is not None:
        body["clusterUuid"] = uuid
    return api.post("/v1/cluster/existed_node", body, query={"action": action})


def existed(api: Api, uuid: str | None, **extra: Any) -> Any:
    body = {"clusterUuid": uuid, **extra} if uuid else extra
    return api.post("/v1/cluster/existed_bcc_node/list", body)


def node_ids(api: Api, uuid: str) -> list[str]:
    return [
        n["instanceShortId"] for n in api.ok(api.get("/v1/node", {"clusterUuid": uuid}))["nodes"]
    ]


def test_versions(api: Api) -> None:
    assert api.ok(api.get("/v1/cluster/versions")) == {
        "data": ["1.13.4", "1.16.8", "1.18.9", "1.20.8", "1.22.5"]
    }


@pytest.mark.parametrize("kind", [None, "default", "internal", "intraVpc"])
def test_kubeconfig(api: Api, kind: str | None) -> None:
    uuid = api.create_cluster()
    query = {"clusterUuid": uuid} if kind is None else {"clusterUuid": uuid, "type": kind}
    text = api.ok(api.get("/v1/cluster/kubeconfig", query))["data"]
    assert text.startswith("apiVersion: v1\nkind: Config\n")
    assert f"current-context: {uuid}" in text and "server: https://" in text


def test_kubeconfig_errors(api: Api, emulator: EmulatorHandle) -> None:
    assert_error(api.get("/v1/cluster/kubeconfig"), "Cce.IllegalArguments")
    assert_error(
        api.get("/v1/cluster/kubeconfig", {"clusterUuid": "c-00000000"}),
        "Cce.warning.ClusterNotExist",
    )
    emulator.set_faults(cluster_create_seconds=60)
    uuid = api.create_cluster()
    assert_error(api.get("/v1/cluster/kubeconfig", {"clusterUuid": uuid}), "Cce.ClusterCreating")
    emulator.advance(60)
    assert_error(
        api.get("/v1/cluster/kubeconfig", {"clusterUuid": uuid, "type": "x"}),
        "Cce.IllegalArguments",
    )


def test_quota(api: Api, emulator: EmulatorHandle) -> None:
    emulator.set_faults(cluster_quota=5, slave_quota=50)
    assert api.ok(api.get("/v1/cluster", [("quota", None)])) == {
        "cluster": 5,
        "clusterUsed": 0,
        "slave": 50,
        "slaveUsed": 0,
    }
    api.create_cluster(workers=3)
    data = api.ok(api.get("/v1/cluster", [("quota", None)]))
    assert (data["clusterUsed"], data["slaveUsed"]) == (1, 3)


def test_get_container_net_avoids_taken_nets(api: Api) -> None:
    body = {"vpcShortId": "vpc-1", "vpcCidr": "192.168.0.0/16", "size": 1000}
    first = api.ok(api.post("/v1/cluster/get_container_net", body))
    assert first == {"containerNet": "172.16.0.0/16", "capacity": 65536}
    api.create_cluster(containerNet="172.16.0.0/16")
    second = api.ok(api.post("/v1/cluster/get_container_net", {**body, "vpcCidr": "172.17.0.0/16"}))
    assert second["containerNet"] == "172.18.0.0/16"


def test_check_container_net(api: Api) -> None:
    api.create_cluster(containerNet="172.16.0.0/16")
    body = {"vpcShortId": "vpc-1", "vpcCidr": "192.168.0.0/16"}
    ok = api.post("/v1/cluster/check_container_net", {**body, "containerNetCidr": "172.17.0.0/16"})
    assert ok.status_code == 200 and ok.content == b""
    for taken in ("172.16.0.0/20", "192.168.1.0/24"):
        response = api.post("/v1/cluster/check_container_net", {**body, "containerNetCidr": taken})
        assert_error(response, "Cce.ContainerNetConflict")
    assert_error(api.post("/v1/cluster/check_container_net", body), "Cce.IllegalArguments")
    bad = {**body, "containerNetCidr": "172.16.0.1/16"}
    assert_error(api.post("/v1/cluster/check_container_net", bad), "Cce.IllegalArguments")


def test_shift_out_then_in(api: Api, emulator: EmulatorHandle) -> None:
    uuid = api.create_cluster(workers=3)
    ids = node_ids(api, uuid)
    assert api.ok(existed(api, uuid))["nodeList"] == []
    api.ok(shift(api, "shift_out", uuid, ids[:2]))
    assert node_ids(api, uuid) == ids[2:]
    listed = api.ok(existed(api, uuid, pageNo=1, pageSize=1, orderBy="instanceId"))
    assert listed["totalCount"] == 2 and listed["pageSize"] == 1
    assert listed["nodeList"][0]["instanceId"] == min(ids[:2])
    assert {"name", "status", "payment", "internalIp"} <= listed["nodeList"][0].keys()
    second = api.ok(existed(api, uuid, pageNo=2, pageSize=1, orderBy="instanceId"))["nodeList"]
    assert second[0]["instanceId"] == max(ids[:2])
    api.ok(shift(api, "shift_in", uuid, [ids[0]], needRebuild=False, instanceType="BCC"))
    assert sorted(node_ids(api, uuid)) == sorted([ids[0], *ids[2:]])
    assert api.ok(existed(api, uuid))["totalCount"] == 1
    api.ok(shift(api, "shift_in", uuid, ["i-external"], needRebuild=True))
    assert "i-external" in node_ids(api, uuid)
    assert emulator.mutating_requests()[-1]["path"] == "/v1/cluster/existed_node"


def test_existed_node_errors(api: Api, emulator: EmulatorHandle) -> None:
    uuid = api.create_cluster(workers=1)
    (own,) = node_ids(api, uuid)
    assert_error(shift(api, "shift_sideways", uuid, [own]), "Cce.IllegalArguments")
    assert_error(shift(api, "shift_in", uuid, [own]), "Cce.IllegalArguments")  # already a node
    assert_error(shift(api, "shift_in", uuid, ["i-1"], instanceType="GPU"), "Cce.IllegalArguments")
    assert_error(shift(api, "shift_in", None, ["i-1"]), "Cce.IllegalArguments")
    assert_error(shift(api, "shift_out", uuid, ["i-notmine"]), "Cce.IllegalArguments")
    assert_error(shift(api, "shift_out", uuid, []), "Cce.IllegalArguments")
    assert_error(shift(api, "shift_in", "c-00000000", ["i-1"]), "Cce.warning.ClusterNotExist")
    emulator.set_faults(slave_quota=1)
    assert_error(shift(api, "shift_in", uuid, ["i-2"]), "Cce.slaveOverQuota")
    assert_error(existed(api, None), "Cce.IllegalArguments")
    assert_error(existed(api, "c-00000000"), "Cce.warning.ClusterNotExist")


def test_upgrade(api: Api, emulator: EmulatorHandle) -> None:
    uuid = api.create_cluster(version="1.18.9")
    response = api.post(
        "/v1/cluster/cluster_upgrade/upgrade", {"clusterUuid": uuid, "version": "1.20.8"}
    )
    assert response.status_code == 200
    assert api.ok(api.get(f"/v1/cluster/{uuid}"))["version"] == "1.20.8"
    for version in ("1.18.9", "1.20.8", "9.9.9", None):
        body = {"clusterUuid": uuid, "version": version}
        assert_error(api.post("/v1/cluster/cluster_upgrade/upgrade", body), "Cce.IllegalArguments")
    emulator.set_faults(cluster_create_seconds=60)
    creating = api.create_cluster(containerNet="172.17.0.0/16")
    body = {"clusterUuid": creating, "version": "1.22.5"}
    assert_error(api.post("/v1/cluster/cluster_upgrade/upgrade", body), "Cce.ClusterCreating")


def test_flavors(api: Api) -> None:
    flavors = api.ok(api.post("/v1/node/flavor/list", {"zone": "zoneA"}))["flavors"]
    assert flavors and {"instanceType", "cpu", "memory"} <= flavors[0].keys()


def test_read_only_posts_are_not_mutating(api: Api, emulator: EmulatorHandle) -> None:
    api.post("/v1/node/flavor/list", {})
    api.post("/v1/cluster/get_container_net", {"vpcCidr": "192.168.0.0/16"})
    assert emulator.mutating_requests() == []

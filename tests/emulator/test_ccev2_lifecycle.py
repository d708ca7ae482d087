"""CCE v2 lifecycles on the model clock: cluster phases, create/delete failures, instance
groups (replicas vs readyReplicas), scaling and deletion. No sleeping: ``advance`` moves time."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.emulator.testing import EmulatorHandle

from .test_ccev2_sdk_shapes import SDK_CREATE_CLUSTER, SDK_CREATE_GROUP, V2, v2_error

NOT_FOUND = "cce.warning.ClusterNotFound"
NOT_ALLOWED = "cce.warning.OperationNotAllowed"


def phase(v2: V2, cluster_id: str) -> str:
    return str(v2.cluster(cluster_id)["status"]["clusterPhase"])


def cluster_body(**changes: Any) -> bytes:
    body = json.loads(SDK_CREATE_CLUSTER)
    body["cluster"].update(changes)
    return json.dumps(body).encode()


def group_body(replicas: int = 2, **changes: Any) -> bytes:
    body = json.loads(SDK_CREATE_GROUP)
    body.update(replicas=replicas, **changes)
    return json.dumps(body).encode()


def phases(v2: V2, cluster_id: str, group_id: str) -> list[str]:
    return [i["status"]["instancePhase"] for i in v2.instances(cluster_id, group_id)]


def ready(v2: V2, cluster_id: str, group_id: str) -> tuple[int, int]:
    group = v2.group(cluster_id, group_id)
    return group["spec"]["replicas"], group["status"]["readyReplicas"]


def state_instances(emulator: EmulatorHandle) -> list[dict[str, Any]]:
    return emulator.state()["ccev2"]["instances"]


@pytest.fixture
def v2(emulator: EmulatorHandle) -> V2:
    return V2(emulator)


@pytest.fixture
def slow(emulator: EmulatorHandle) -> EmulatorHandle:
    """Creates take 30 s (three 10 s phases), deletes 20 s."""
    emulator.set_faults(cluster_create_seconds=30, cluster_delete_seconds=20)
    return emulator


# -- clusters -------------------------------------------------------------------------------


def test_cluster_goes_pending_provisioning_provisioned_running(
    v2: V2, slow: EmulatorHandle
) -> None:
    cluster_id = v2.create_cluster()
    status = v2.cluster(cluster_id)["status"]
    assert status["clusterPhase"] == "pending"
    assert (status["infrastructureReady"], status["clusterBLB"]["vpcIP"]) == (False, "")
    seen = []
    for _ in range(3):
        slow.advance(10)
        seen.append(phase(v2, cluster_id))
    assert seen == ["provisioning", "provisioned", "running"]
    status = v2.cluster(cluster_id)["status"]
    assert status["infrastructureReady"] and status["apiServerAccessSuccess"]
    assert status["clusterBLB"]["id"].startswith("lb-") and status["clusterBLB"]["vpcIP"]


def test_a_zero_second_lifecycle_shows_on_the_next_read(v2: V2) -> None:
    assert phase(v2, v2.create_cluster()) == "running"


def test_create_failed_is_injected_with_the_create_failure_rate(
    v2: V2, slow: EmulatorHandle
) -> None:
    slow.set_faults(create_failure_rate=1.0)
    cluster_id = v2.create_cluster()
    slow.set_faults(create_failure_rate=0.0)
    slow.advance(10)
    assert phase(v2, cluster_id) == "provisioning"
    slow.advance(20)
    assert phase(v2, cluster_id) == "create_failed"
    v2.ok(v2("DELETE", f"/cluster/{cluster_id}"))  # a failed cluster can be deleted
    slow.advance(20)
    v2_error(v2("GET", f"/cluster/{cluster_id}"), NOT_FOUND, 404)


def test_delete_goes_deleting_then_the_cluster_is_gone(v2: V2, slow: EmulatorHandle) -> None:
    cluster_id = v2.create_cluster()
    slow.advance(30)
    v2.ok(v2("DELETE", f"/cluster/{cluster_id}"))
    assert phase(v2, cluster_id) == "deleting"
    assert v2.ok(v2("GET", "/clusters"))["clusterPage"]["totalCount"] == 1
    v2.ok(v2("DELETE", f"/cluster/{cluster_id}"))  # a resend while deleting is harmless
    slow.advance(20)
    v2_error(v2("GET", f"/cluster/{cluster_id}"), NOT_FOUND, 404)
    v2_error(v2("DELETE", f"/cluster/{cluster_id}"), NOT_FOUND, 404)
    assert v2.ok(v2("GET", "/clusters"))["clusterPage"]["totalCount"] == 0
    (kept,) = slow.state()["ccev2"]["clusters"]  # the admin state still shows it
    assert kept["status"]["clusterPhase"] == "deleted"


def test_delete_failed_is_injected_with_the_delete_failure_rate(
    v2: V2, slow: EmulatorHandle
) -> None:
    cluster_id = v2.create_cluster()
    slow.advance(30)
    slow.set_faults(delete_failure_rate=1.0)
    v2.ok(v2("DELETE", f"/cluster/{cluster_id}"))
    slow.set_faults(delete_failure_rate=0.0)
    slow.advance(20)
    assert phase(v2, cluster_id) == "delete_failed"
    v2.ok(v2("DELETE", f"/cluster/{cluster_id}"))  # retried
    slow.advance(20)
    v2_error(v2("GET", f"/cluster/{cluster_id}"), NOT_FOUND, 404)


def test_deletion_protection_refuses_delete(v2: V2) -> None:
    cluster_id = v2.create_cluster(cluster_body(forbidDelete=True))
    assert v2.cluster(cluster_id)["spec"]["forbidDelete"] is True
    message = v2_error(v2("DELETE", f"/cluster/{cluster_id}"), NOT_ALLOWED, 403)
    assert "forbidDelete" in message
    assert phase(v2, cluster_id) == "running"


def test_cluster_names_need_not_be_unique(v2: V2) -> None:
    first, second = v2.create_cluster(), v2.create_cluster()
    assert first != second
    page = v2.ok(v2("GET", "/clusters", {"keyword": "c1"}))["clusterPage"]
    assert sorted(c["spec"]["clusterID"] for c in page["clusterList"]) == sorted([first, second])


def test_nodes_of_the_create_request_count_in_node_num(v2: V2, slow: EmulatorHandle) -> None:
    body = json.loads(SDK_CREATE_CLUSTER)
    template = json.loads(SDK_CREATE_GROUP)["instanceTemplate"]
    body["nodes"] = [{"instanceSpec": template, "count": 3}]
    cluster_id = v2.create_cluster(json.dumps(body).encode())
    assert v2.cluster(cluster_id)["status"]["nodeNum"] == 3
    nodes = state_instances(slow)
    assert {(n["spec"]["clusterRole"], n["spec"]["instanceGroupID"]) for n in nodes} == {
        ("node", "")
    }
    assert {n["status"]["instancePhase"] for n in nodes} == {"pending"}
    slow.advance(30)
    assert {n["status"]["instancePhase"] for n in state_instances(slow)} == {"running"}


def test_node_groups_of_the_create_request_become_instance_groups(v2: V2) -> None:
    body = json.loads(SDK_CREATE_CLUSTER)
    body["nodeGroups"] = [json.loads(SDK_CREATE_GROUP)]
    cluster_id = v2.create_cluster(json.dumps(body).encode())
    page = v2.ok(v2("GET", f"/cluster/{cluster_id}/instancegroups"))["page"]
    (group,) = page["list"]
    assert (group["spec"]["replicas"], group["status"]["readyReplicas"]) == (2, 2)


# -- instance groups ------------------------------------------------------------------------


def test_groups_need_a_running_cluster(v2: V2, slow: EmulatorHandle) -> None:
    cluster_id = v2.create_cluster()
    path = f"/cluster/{cluster_id}/instancegroup"
    v2_error(v2("POST", path, body=SDK_CREATE_GROUP), NOT_ALLOWED, 403)
    slow.advance(30)
    v2.create_group(cluster_id)


def test_ready_replicas_catch_up_as_instances_come_up(v2: V2, slow: EmulatorHandle) -> None:
    slow.set_faults(cluster_create_seconds=0)
    cluster_id = v2.create_cluster()
    slow.set_faults(cluster_create_seconds=30)
    group_id = v2.create_group(cluster_id, group_body(3))
    assert ready(v2, cluster_id, group_id) == (3, 0)
    assert phases(v2, cluster_id, group_id) == ["pending"] * 3
    instance = v2.instances(cluster_id, group_id)[0]
    assert instance["status"]["machine"]["instanceID"] == ""  # no machine yet
    slow.advance(20)
    assert phases(v2, cluster_id, group_id) == ["provisioned"] * 3
    assert ready(v2, cluster_id, group_id) == (3, 0)
    slow.advance(10)
    assert ready(v2, cluster_id, group_id) == (3, 3)
    assert v2.cluster(cluster_id)["status"]["nodeNum"] == 3


def test_failed_instances_never_become_ready(v2: V2, emulator: EmulatorHandle) -> None:
    cluster_id = v2.create_cluster()
    emulator.set_faults(create_failure_rate=1.0)
    group_id = v2.create_group(cluster_id)
    assert phases(v2, cluster_id, group_id) == ["create_failed"] * 2
    assert ready(v2, cluster_id, group_id) == (2, 0)


def test_growing_adds_instances(v2: V2, running_group: tuple[str, str]) -> None:
    cluster_id, group_id = running_group
    v2.ok(
        v2.replicas(
            cluster_id, group_id, b'{"replicas":5,"instanceIDs":null,"deleteInstance":false}'
        )
    )
    assert ready(v2, cluster_id, group_id) == (5, 5)
    assert len(v2.instances(cluster_id, group_id)) == 5


def test_shrinking_removes_the_named_then_the_newest(
    v2: V2, running_group: tuple[str, str], emulator: EmulatorHandle
) -> None:
    cluster_id, group_id = running_group
    v2.ok(
        v2.replicas(
            cluster_id, group_id, b'{"replicas":4,"instanceIDs":null,"deleteInstance":false}'
        )
    )
    ids = [i["spec"]["cceInstanceID"] for i in v2.instances(cluster_id, group_id)]
    emulator.set_faults(cluster_delete_seconds=20)
    body = {"replicas": 2, "instanceIDs": [ids[0]], "deleteInstance": True}
    v2.ok(v2.replicas(cluster_id, group_id, json.dumps(body).encode()))
    listed = {
        i["spec"]["cceInstanceID"]: i["status"]["instancePhase"]
        for i in v2.instances(cluster_id, group_id)
    }
    assert listed == {ids[0]: "deleting", ids[1]: "running", ids[2]: "running", ids[3]: "deleting"}
    assert ready(v2, cluster_id, group_id) == (2, 2)
    emulator.advance(20)
    assert [i["spec"]["cceInstanceID"] for i in v2.instances(cluster_id, group_id)] == ids[1:3]


def test_shrinking_a_remain_group_moves_instances_out(v2: V2, emulator: EmulatorHandle) -> None:
    cluster_id = v2.create_cluster()
    group_id = v2.create_group(cluster_id, group_body(2, cleanPolicy="Remain"))
    v2.ok(
        v2.replicas(
            cluster_id, group_id, b'{"replicas":1,"instanceIDs":null,"deleteInstance":false}'
        )
    )
    assert len(v2.instances(cluster_id, group_id)) == 1
    outside = [i for i in state_instances(emulator) if i["spec"]["instanceGroupID"] == ""]
    assert [i["status"]["instancePhase"] for i in outside] == ["running"]
    assert "instance-group-id" not in outside[0]["spec"]["labels"]
    assert v2.cluster(cluster_id)["status"]["nodeNum"] == 2


def test_scale_down_removes_the_named_instances(v2: V2, running_group: tuple[str, str]) -> None:
    cluster_id, group_id = running_group
    victim, keeper = (i["spec"]["cceInstanceID"] for i in v2.instances(cluster_id, group_id))
    path = f"/cluster/{cluster_id}/instancegroup/{group_id}/scaledown"
    body = json.dumps({"instancesToBeRemoved": [victim], "cleanPolicy": "Delete"}).encode()
    v2.ok(v2("PUT", path, body=body))
    assert ready(v2, cluster_id, group_id) == (1, 1)
    assert [i["spec"]["cceInstanceID"] for i in v2.instances(cluster_id, group_id)] == [keeper]
    stranger = json.dumps({"instancesToBeRemoved": [victim]}).encode()
    v2_error(v2("PUT", path, body=stranger), "cce.warning.InvalidParam", 400)


def test_scale_down_accepts_bcc_ids(v2: V2, running_group: tuple[str, str]) -> None:
    cluster_id, group_id = running_group
    machine = v2.instances(cluster_id, group_id)[0]["status"]["machine"]["instanceID"]
    path = f"/cluster/{cluster_id}/instancegroup/{group_id}/scaledown"
    v2.ok(v2("PUT", path, body=json.dumps({"instancesToBeRemoved": [machine]}).encode()))
    assert ready(v2, cluster_id, group_id) == (1, 1)


@pytest.mark.parametrize("delete_instances", [True, False])
def test_deleting_a_group(
    v2: V2, running_group: tuple[str, str], emulator: EmulatorHandle, delete_instances: bool
) -> None:
    cluster_id, group_id = running_group
    query = {"deleteInstances": str(delete_instances).lower(), "releaseAllResources": "false"}
    v2.ok(v2("DELETE", f"/cluster/{cluster_id}/instancegroup/{group_id}", query))
    v2_error(
        v2("GET", f"/cluster/{cluster_id}/instancegroup/{group_id}"),
        "cce.warning.NoSuchObject",
        404,
    )
    left = state_instances(emulator)
    assert len(left) == (0 if delete_instances else 2)
    assert all(i["spec"]["instanceGroupID"] == "" for i in left)


def test_deleting_a_cluster_takes_its_groups_and_instances(
    v2: V2, running_group: tuple[str, str], emulator: EmulatorHandle
) -> None:
    cluster_id, group_id = running_group
    emulator.set_faults(cluster_delete_seconds=20)
    v2.ok(v2("DELETE", f"/cluster/{cluster_id}"))
    assert ready(v2, cluster_id, group_id) == (2, 2)  # readable while deleting
    v2_error(v2.replicas(cluster_id, group_id, b'{"replicas":3}'), NOT_ALLOWED, 403)
    emulator.advance(20)
    v2_error(v2("GET", f"/cluster/{cluster_id}/instancegroup/{group_id}"), NOT_FOUND, 404)
    state = emulator.state()["ccev2"]
    assert (state["instanceGroups"], state["instances"]) == ([], [])


@pytest.fixture
def running_group(v2: V2) -> tuple[str, str]:
    cluster_id = v2.create_cluster()
    return cluster_id, v2.create_group(cluster_id)

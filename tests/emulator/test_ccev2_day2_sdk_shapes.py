"""SDK fidelity of the CCE v2 day-2 calls: requests exactly as bce-sdk-go sends them (the
byte-exact [SDK-RUN] bodies of shared/cce-v2-day2-api.md where it has them; the SDK's key
order and always-sent keys otherwise; the GET and DELETE with a body of the add-on calls) get
answers carrying every field the SDK's response structs decode, and change what they say."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from reconciler.emulator.testing import EmulatorHandle

from .test_ccev2_sdk_shapes import (
    INSTANCE,
    PAGE,
    SDK_CREATE_CLUSTER,
    V2,
    Bool,
    Int,
    List,
    Null,
    Obj,
    Str,
    check,
    v2_error,
)
from .test_ccev2_sdk_shapes import TIME as Time

SDK_GROUP_AUTOSCALER = b'{"enabled":true,"minReplicas":1,"maxReplicas":5,"scalingGroupPriority":10}'
SDK_EMPTY_AUTOSCALER_UPDATE = b'{"replicaCount":0,"scaleDownEnabled":false,"expander":""}'
TASK = {"id": Str, "type": Str, "description": Str, "startTime": Time, "phase": Str,
        "processes": List}  # fmt: skip
VERSIONS = {"currentVersion": Str, "componentVersions": (List, Null), "gpuCurrentVersion": Null}
ADDON_META = {"name": Str, "type": Str, "latestVersion": Str, "installInfo": {"allowInstall": Bool}}
ADDON_INSTANCE = {
    "name": Str, "installedVersion": Str, "params": Str, "status": {"phase": Str},
    "uninstallInfo": {"allowUninstall": Bool},
    "upgradeInfo": {"allowUpgrade": Bool, "nextVersion": Str},
    "updateInfo": {"allowUpdate": Bool}, "rollback": {"allowRollback": Bool},
}  # fmt: skip


@pytest.fixture
def v2(emulator: EmulatorHandle) -> V2:
    return V2(emulator)


@pytest.fixture
def group(v2: V2) -> tuple[str, str]:
    """A running cluster (containerd, 1.28.8) and a group of two running nodes."""
    cluster_id = v2.create_cluster()
    return cluster_id, v2.create_group(cluster_id)


def group_path(ids: tuple[str, str]) -> str:
    return f"/cluster/{ids[0]}/instancegroup/{ids[1]}"


# --- delete protection and quotas ---------------------------------------------------------


def test_forbid_delete_with_the_sdks_untagged_key(v2: V2) -> None:
    cluster_id = v2.create_cluster()
    data = v2.ok(v2("PUT", f"/cluster/{cluster_id}/forbiddelete", body=b'{"ForbidDelete":true}'))
    assert (data["success"], data["forbidDelete"]) == (True, True)
    assert v2.cluster(cluster_id)["spec"]["forbidDelete"] is True
    v2_error(v2("DELETE", f"/cluster/{cluster_id}"), "cce.warning.OperationNotAllowed", 403)
    v2.ok(v2("PUT", f"/cluster/{cluster_id}/forbiddelete", body=b'{"forbidDelete":false}'))
    v2.ok(v2("DELETE", f"/cluster/{cluster_id}"))
    v2_error(v2("PUT", f"/cluster/{cluster_id}/forbiddelete", body=b"{}"),
             "cce.warning.InvalidParam", 400)  # fmt: skip


def test_quotas_count_what_exists_and_refuse_beyond(
    v2: V2, group: tuple[str, str], emulator: EmulatorHandle
) -> None:
    clusters = v2.ok(v2("GET", "/quota/cluster"))
    nodes = v2.ok(v2("GET", f"/quota/cluster/{group[0]}/node"))
    check(clusters, {"quota": Int, "used": Int, "requestID": Str})
    assert (clusters["used"], nodes["used"]) == (1, 2)
    emulator.set_faults(v2_node_quota=3, v2_cluster_quota=1)
    body = b'{"replicas":4,"instanceIDs":null,"deleteInstance":false}'
    message = v2_error(v2.replicas(*group, body), "cce.warning.InvalidParam", 400)
    assert "node quota exceeded: 2 of 3 used, 2 more asked" in message
    message = v2_error(
        v2("POST", "/cluster", body=SDK_CREATE_CLUSTER), "cce.warning.InvalidParam", 400
    )
    assert "cluster quota exceeded" in message


# --- instance groups, day 2 ---------------------------------------------------------------


def configure_body(spec: dict[str, Any], **template: Any) -> bytes:
    """The SDK's UpdateInstanceGroupConfigure for a spec as read: its two flags, then the
    InstanceGroupSpec's keys in the SDK's order (selector null, template and replicas always)."""
    order = ("cceInstanceGroupID", "instanceGroupName", "clusterID", "clusterRole", "selector",
             "shrinkPolicy", "updatePolicy", "cleanPolicy", "instanceTemplate",
             "instanceTemplates", "replicas")  # fmt: skip
    body: dict[str, Any] = {"passwordNeedUpdate": False, "syncMeta": True}
    for key in order:
        if key == "selector":
            body[key] = None
        elif key == "instanceTemplate":
            body[key] = {**spec[key], **template}
        elif spec.get(key) is not None:
            body[key] = spec[key]
    return json.dumps(body, separators=(",", ":")).encode()


def test_configure_changes_the_template_and_syncs_the_nodes(v2: V2, group: tuple[str, str]) -> None:
    spec = v2.group(*group)["spec"]
    taints = [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
    body = configure_body(spec, labels={"team": "a"}, taints=taints, annotations={"x": "y"})
    assert set(v2.ok(v2("PUT", f"{group_path(group)}/configure", body=body))) == {"requestID"}
    template = v2.group(*group)["spec"]["instanceTemplate"]
    assert (template["labels"], template["taints"]) == ({"team": "a"}, taints)
    for node in v2.instances(*group):
        assert node["spec"]["labels"]["team"] == "a"
        assert node["spec"]["labels"]["instance-group-id"] == group[1]  # the system labels stay
        assert (node["spec"]["taints"], node["spec"]["annotations"]) == (taints, {"x": "y"})
    moved = configure_body(spec, imageID="m-other")
    message = v2_error(v2("PUT", f"{group_path(group)}/configure", body=moved),
                       "cce.warning.InvalidParam", 400)  # fmt: skip
    assert "imageID cannot be changed by configure" in message


def test_group_autoscaler_and_the_autoscaled_filter(v2: V2, group: tuple[str, str]) -> None:
    data = v2.ok(v2("PUT", f"{group_path(group)}/autoscaler", body=SDK_GROUP_AUTOSCALER))
    assert set(data) == {"requestID"}
    spec = v2.group(*group)["spec"]
    assert spec["clusterAutoscalerSpec"] == json.loads(SDK_GROUP_AUTOSCALER)
    path = f"/cluster/{group[0]}/instancegroups"
    both = {"pageNo": "0", "pageSize": "0"}
    v2.create_group(group[0])
    listed = v2.ok(v2("GET", path, {**both, "autoscalerEnabled": "true"}))["page"]
    assert [g["spec"]["cceInstanceGroupID"] for g in listed["list"]] == [group[1]]
    assert v2.ok(v2("GET", path, both))["page"]["totalCount"] == 2
    by_id = v2.ok(v2("GET", path, {**both, "keywordType": "instanceGroupID",
                                   "keyword": group[1].upper()}))["page"]  # fmt: skip
    assert by_id["totalCount"] == 1
    bad = b'{"enabled":true,"minReplicas":3,"maxReplicas":2,"scalingGroupPriority":0}'
    v2_error(v2("PUT", f"{group_path(group)}/autoscaler", body=bad),
             "cce.warning.InvalidParam", 400)  # fmt: skip


def test_scale_up_task_and_task_list(
    v2: V2, group: tuple[str, str], emulator: EmulatorHandle
) -> None:
    emulator.set_faults(cluster_create_seconds=30)
    data = v2.ok(v2("PUT", f"{group_path(group)}/scaleup", {"upToReplicas": "4"}))
    assert set(data) == {"requestID", "taskID"}
    task_id = data["taskID"]
    assert re.fullmatch(f"task-{group[1]}-scaleup-[a-z0-9]{{8}}", task_id)
    task = v2.ok(v2("GET", f"/task/InstanceGroupReplicas/{task_id}"))["task"]
    check(task, TASK, "task")
    assert task["phase"] == "Processing" and sorted(task["processes"][0]["metrics"].values()) == [
        "pending",
        "pending",
    ]
    emulator.advance(30)
    task = v2.ok(v2("GET", f"/task/InstanceGroupReplicas/{task_id}"))["task"]
    assert task["phase"] == "Done" and set(task["processes"][0]["metrics"].values()) == {"running"}
    check(task, {"finishTime": Time}, "task")
    query = {"targetID": group[1], "pageNo": "0", "pageSize": "0"}
    page = v2.ok(v2("GET", "/tasks/InstanceGroupReplicas", query))["page"]
    check(page, {"pageNo": Int, "pageSize": Int, "totalCount": Int, "items": List})
    assert [t["id"] for t in page["items"]] == [task_id]
    v2_error(v2("PUT", f"{group_path(group)}/scaleup", {"upToReplicas": "4"}),
             "cce.warning.InvalidParam", 400)  # not above the current 4  # fmt: skip
    v2_error(v2("GET", f"/task/Repair/{task_id}"), "cce.warning.InvalidParam", 400)


def test_scale_down_task_is_done_when_the_node_is_gone(
    v2: V2, group: tuple[str, str], emulator: EmulatorHandle
) -> None:
    emulator.set_faults(cluster_delete_seconds=30)
    victim = v2.instances(*group)[0]["spec"]["cceInstanceID"]
    body = f'{{"instancesToBeRemoved":["{victim}"],"cleanPolicy":"Delete"}}'.encode()
    task_id = v2.ok(v2("PUT", f"{group_path(group)}/scaledown", body=body))["taskID"]
    task = v2.ok(v2("GET", f"/task/InstanceGroupReplicas/{task_id}"))["task"]
    assert (task["phase"], task["processes"][0]["metrics"]) == (
        "Processing",
        {victim: "Processing"},
    )
    emulator.advance(30)
    task = v2.ok(v2("GET", f"/task/InstanceGroupReplicas/{task_id}"))["task"]
    assert (task["phase"], task["processes"][0]["metrics"]) == ("Done", {victim: "Succeed"})


def test_instance_list_filters(v2: V2, group: tuple[str, str], emulator: EmulatorHandle) -> None:
    emulator.set_faults(cluster_create_seconds=30)
    v2.ok(v2("PUT", f"{group_path(group)}/scaleup", {"upReplicas": "1"}))
    path = f"{group_path(group)}/instances"
    paging = {"pageNo": "0", "pageSize": "0"}
    pending = v2.ok(v2("GET", path, {**paging, "phases": "pending,provisioning"}))["page"]
    assert pending["totalCount"] == 1
    running = v2.ok(v2("GET", path, {**paging, "phases": "running"}))["page"]["list"]
    name = running[0]["spec"]["instanceName"]
    found = v2.ok(v2("GET", path, {**paging, "keywordType": "instanceName", "keyword": name}))
    assert [i["spec"]["instanceName"] for i in found["page"]["list"]] == [name]
    query = {"keywordType": "instanceGroupID", "keyword": group[1], "orderBy": "createdAt",
             "order": "DESC", "pageNo": "1", "pageSize": "2"}  # fmt: skip
    page = v2.ok(v2("GET", f"/cluster/{group[0]}/instances", query))["instancePage"]
    check(page, {"clusterID": Str, "keywordType": Str, "keyword": Str, "orderBy": Str,
                 "order": Str, **{k: v for k, v in PAGE.items() if k != "list"},
                 "instanceList": List})  # fmt: skip
    assert (page["totalCount"], len(page["instanceList"])) == (3, 2)
    check(page["instanceList"][0], INSTANCE, "instanceList[0]")


# --- the cluster autoscaler ---------------------------------------------------------------


def test_cluster_autoscaler_create_get_update(v2: V2, group: tuple[str, str]) -> None:
    cluster_id = group[0]
    v2_error(v2("GET", f"/autoscaler/{cluster_id}"), "cce.warning.NoSuchObject", 404)
    assert set(v2.ok(v2("POST", f"/autoscaler/{cluster_id}"))) == {"requestID"}
    v2.ok(v2("PUT", f"{group_path(group)}/autoscaler", body=SDK_GROUP_AUTOSCALER))
    data = v2.ok(v2("GET", f"/autoscaler/{cluster_id}"))["autoscaler"]
    check(data, {"clusterID": Str, "clusterName": Str,
                 "caConfig": {"replicaCount": Int, "scaleDownEnabled": Bool, "expander": Str}})  # fmt: skip
    assert data["caConfig"]["instanceGroups"] == [
        {"instanceGroupID": group[1], "minReplicas": 1, "maxReplicas": 5, "priority": 10}
    ]
    v2_error(v2("PUT", f"/autoscaler/{cluster_id}", body=SDK_EMPTY_AUTOSCALER_UPDATE),
             "cce.warning.InvalidParam", 400)  # expander is required [DOC]  # fmt: skip
    body = b'{"replicaCount":1,"scaleDownEnabled":true,"scaleDownUnneededTime":10,"expander":"least-waste"}'
    v2.ok(v2("PUT", f"/autoscaler/{cluster_id}", body=body))
    config = v2.ok(v2("GET", f"/autoscaler/{cluster_id}"))["autoscaler"]["caConfig"]
    assert (config["expander"], config["scaleDownUnneededTime"]) == ("least-waste", 10)


# --- node upgrades ------------------------------------------------------------------------


def test_upgrade_versions_answer_every_component(v2: V2, group: tuple[str, str]) -> None:
    data = v2.ok(v2("GET", f"{group_path(group)}/component_upgrade_versions"))
    assert set(data) == {"requestID", "result"}
    result = data["result"]
    for name in ("kubelet", "containerRuntime", "nvidiaContainerToolkit", "xpuContainerToolkit",
                 "gpuDriver"):  # fmt: skip
        check(result[name], VERSIONS, name)
    assert result["kubelet"]["currentVersion"] == "1.28.8"
    assert result["kubelet"]["componentVersions"] is None  # the master runs 1.28.8 too
    assert [v["targetVersion"] for v in result["containerRuntime"]["componentVersions"]] == [
        "1.6.36",
        "1.7.13",
    ]


def workflow_body(group_id: str, pause: str = "EveryBatch", size: int = 2) -> bytes:
    """The SDK-RUN body of cce-v2-day2-api.md 5.2, with this group and offered versions."""
    return (
        '{"workflowType":"UpgradeNodes","workflowConfig":{"upgradeNodesWorkflowConfig":'
        f'{{"instanceGroupID":"{group_id}","nodeUpgradeBatchSize":{size},'
        f'"drainNodeBeforeUpgrade":true,"pausePolicy":"{pause}","batchIntervalMinutes":5,'
        '"components":[{"name":"kubelet","targetVersion":"1.30.1"},{"name":"containerRuntime",'
        '"targetVersion":"1.7.13"}]}},"watchDogConfig":{}}'
    ).encode()


def test_a_node_upgrade_workflow_pauses_resumes_and_succeeds(
    v2: V2, group: tuple[str, str], emulator: EmulatorHandle
) -> None:
    cluster_id, group_id = group
    v2.ok(v2("PUT", f"{group_path(group)}/scaleup", {"upToReplicas": "3"}))
    message = v2_error(v2("POST", f"/cluster/{cluster_id}/workflow", body=workflow_body(group_id)),
                       "cce.warning.InvalidParam", 400)  # fmt: skip
    assert "kubelet cannot be upgraded to '1.30.1'" in message  # workers never pass the master
    emulator.admin("POST", "cce_v2/upgrade-master",
                   json={"clusterID": cluster_id, "k8sVersion": "1.30.1"})  # fmt: skip
    assert v2.cluster(cluster_id)["spec"]["k8sVersion"] == "1.30.1"

    data = v2.ok(v2("POST", f"/cluster/{cluster_id}/workflow", body=workflow_body(group_id)))
    assert set(data) == {"workflowID", "requestID"} and data["workflowID"].startswith("wf-")
    workflow_id = data["workflowID"]
    assert v2.cluster(cluster_id)["status"]["upgradeWorkflowID"] == workflow_id
    path = f"/cluster/{cluster_id}/workflow/{workflow_id}"
    workflow = v2.ok(v2("GET", path))["workflow"]
    check(workflow, {"spec": {"workflowID": Str, "clusterID": Str, "workflowType": Str,
                              "config": {"upgradeNodesWorkflowConfig": Obj},
                              "watchDogConfig": Obj},
                     "status": {"startTime": Time, "phase": Str, "totalTaskCount": Int,
                                "finishedTaskCount": Int}})  # fmt: skip
    status = workflow["status"]
    assert (status["phase"], status["totalTaskCount"], status["finishedTaskCount"]) == (
        "Paused",
        3,
        2,
    )  # EveryBatch: after the first batch of two
    assert workflow["spec"]["paused"] is True and status["watchDogStatus"]["pausedReason"]
    again = v2("POST", f"/cluster/{cluster_id}/workflow", body=workflow_body(group_id))
    v2_error(again, "cce.warning.OperationNotAllowed", 403)  # one at a time

    data = v2.ok(v2("PUT", path, body=b'{"action":"resume"}'))
    assert (data["clusterID"], data["workflowID"]) == (cluster_id, workflow_id)
    status = v2.ok(v2("GET", path))["workflow"]["status"]
    assert (status["phase"], status["finishedTaskCount"]) == ("Succeeded", 3)
    assert "finishedTime" in status and "upgradeWorkflowID" not in v2.cluster(cluster_id)["status"]
    versions = v2.ok(v2("GET", f"{group_path(group)}/component_upgrade_versions"))["result"]
    assert (
        versions["kubelet"]["currentVersion"],
        versions["containerRuntime"]["currentVersion"],
    ) == (
        "1.30.1",
        "1.7.13",
    )
    assert {n["spec"]["runtimeVersion"] for n in v2.instances(*group)} == {"1.7.13"}
    v2_error(v2("PUT", path, body=b'{"action":"pause"}'), "cce.warning.OperationNotAllowed", 403)


def test_a_workflow_can_fail(v2: V2, group: tuple[str, str], emulator: EmulatorHandle) -> None:
    emulator.set_faults(workflow_failure_rate=1.0)
    body = workflow_body(group[1], "NotPause").replace(
        b'{"name":"kubelet","targetVersion":"1.30.1"},', b""
    )
    workflow_id = v2.ok(v2("POST", f"/cluster/{group[0]}/workflow", body=body))["workflowID"]
    status = v2.ok(v2("GET", f"/cluster/{group[0]}/workflow/{workflow_id}"))["workflow"]["status"]
    assert status["phase"] == "Failed" and "emulated" in status["errorMessage"]
    versions = v2.ok(v2("GET", f"{group_path(group)}/component_upgrade_versions"))["result"]
    assert versions["containerRuntime"]["currentVersion"] == "1.6.28"


# --- add-ons ------------------------------------------------------------------------------


def test_add_ons_with_the_sdks_bodies(
    v2: V2, group: tuple[str, str], emulator: EmulatorHandle
) -> None:
    cluster_id = group[0]
    path = f"/cluster/{cluster_id}/addon"
    listed = v2.ok(v2("GET", path, {"addons": "cce-volcano"},
                      body=f'{{"clusterID":"{cluster_id}","addons":"cce-volcano"}}'.encode()))  # fmt: skip
    (volcano,) = listed["items"]
    check(volcano, {"meta": ADDON_META}, "items[0]")
    assert "instance" not in volcano

    emulator.set_faults(addon_seconds=10)
    install = f'{{"name":"cce-volcano","version":"1.8.2","params":"Binpack: true\\n","clusterID":"{cluster_id}"}}'
    assert set(v2.ok(v2("POST", path, body=install.encode()))) == {"requestID"}
    (volcano,) = v2.ok(v2("GET", path, {"addons": "cce-volcano"}))["items"]
    assert volcano["instance"]["status"]["phase"] == "Installing"
    emulator.advance(10)
    (volcano,) = v2.ok(v2("GET", path, {"addons": "cce-volcano"}))["items"]
    check(volcano["instance"], ADDON_INSTANCE, "instance")
    instance = volcano["instance"]
    assert (instance["installedVersion"], instance["params"], instance["status"]["phase"]) == (
        "1.8.2", "Binpack: true\n", "Running")  # fmt: skip
    assert instance["upgradeInfo"] == {"allowUpgrade": True, "nextVersion": "1.9.1"}

    upgrade = f'{{"name":"cce-volcano","clusterID":"{cluster_id}","targetVersion":"1.9.1"}}'
    v2.ok(v2("POST", f"{path}/upgrade", body=upgrade.encode()))
    update = f'{{"name":"cce-volcano","clusterID":"{cluster_id}","params":"Binpack: false\\n"}}'
    refused = v2.ok(v2("PUT", path, body=update.encode()))  # still upgrading
    assert refused["code"] == "cce.warning.OperationNotAllowed" and refused["message"]
    emulator.advance(10)
    assert set(v2.ok(v2("PUT", path, body=update.encode()))) == {"requestID"}
    emulator.advance(10)
    (volcano,) = v2.ok(v2("GET", path, {"addons": "cce-volcano"}))["items"]
    assert (volcano["instance"]["installedVersion"], volcano["instance"]["params"]) == (
        "1.9.1", "Binpack: false\n")  # fmt: skip

    uninstall = f'{{"name":"cce-volcano","clusterID":"{cluster_id}"}}'.encode()
    v2.ok(v2("DELETE", path, body=uninstall))
    emulator.advance(10)
    (volcano,) = v2.ok(v2("GET", path, body=f'{{"clusterID":"{cluster_id}","addons":"cce-volcano"}}'.encode()))["items"]  # fmt: skip
    assert "instance" not in volcano


def test_add_on_refusals_are_200s_with_a_code(v2: V2, group: tuple[str, str]) -> None:
    path = f"/cluster/{group[0]}/addon"
    body = f'{{"name":"cce-nothing","clusterID":"{group[0]}"}}'.encode()
    refused = v2.ok(v2("POST", path, body=body))
    assert refused["code"] == "cce.warning.InvalidParam" and "cce-nothing" in refused["message"]
    install = f'{{"name":"cce-ingress-controller","clusterID":"{group[0]}"}}'.encode()
    v2.ok(v2("POST", path, body=install))
    upgrade = v2.ok(v2("POST", f"{path}/upgrade", body=install))
    assert "cannot be upgraded" in upgrade["message"]
    everything = v2.ok(v2("GET", path, body=f'{{"clusterID":"{group[0]}","addons":""}}'.encode()))
    assert len(everything["items"]) == 15

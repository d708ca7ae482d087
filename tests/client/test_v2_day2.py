"""The CCE v2 day-2 calls: requests shaped like the Go SDK's (byte-exact where the facts file
has the SDK's own bytes, cce-v2-day2-api.md [SDK-RUN]) and strict answers, against a scripted
server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler import errors
from reconciler.client.answers import Origin, Reader
from reconciler.client.credentials import Credentials
from reconciler.client.v2 import PREFIX, CceV2Client
from reconciler.client.v2_types import (
    AddonInstall,
    AddonUninstall,
    AddonUpdate,
    AddonUpgrade,
    AutoscalerConfig,
    ClusterCreate,
    ClusterSpecBody,
    ComponentUpgrade,
    ContainerNetworkConfig,
    GroupAutoscaler,
    InstanceGroup,
    InstanceGroupConfigure,
    InstanceGroupCreate,
    InstanceSpecBody,
    MasterConfig,
    Taint,
    TemplateEdit,
    UpgradeNodes,
    WorkflowCreate,
)
from reconciler.emulator.testing import EmulatorHandle

from .conftest import FakeTime, Reply, ScriptedServer, make_transport, ok

C, G = "cce-abc", "cce-ig-1"
GROUP_PATH = f"{PREFIX}/cluster/{C}/instancegroup/{G}"

# [SDK-RUN] bodies from cce-v2-day2-api.md.
SDK_CONFIGURE = (
    '{"passwordNeedUpdate":false,"syncMeta":true,"cceInstanceGroupID":"cce-ig-1",'
    '"instanceGroupName":"ig1","clusterID":"cce-abc","selector":null,"instanceTemplate":'
    '{"instanceName":"","existedOption":{},"instanceType":"","bidOption":{},"vpcConfig":'
    '{"securityGroup":{"enableCCERequiredSecurityGroup":false,"enableCCEOptionalSecurityGroup":'
    'false},"securityGroupType":"","securityGroups":null},"instanceResource":{},"instanceOS":{},'
    '"instancePreChargingOption":{},"deployCustomConfig":{"dockerConfig":{},"containerdConfig":'
    '{}},"labels":{"a":"b"}},"replicas":2}'
)
SDK_WORKFLOW = (
    '{"workflowType":"UpgradeNodes","workflowConfig":{"upgradeNodesWorkflowConfig":'
    '{"instanceGroupID":"cce-ig-1","nodeUpgradeBatchSize":2,"drainNodeBeforeUpgrade":true,'
    '"pausePolicy":"EveryBatch","batchIntervalMinutes":5,"components":[{"name":"kubelet",'
    '"targetVersion":"1.30.1"},{"name":"containerRuntime","targetVersion":"1.7.13"}]}},'
    '"watchDogConfig":{}}'
)


@pytest.fixture
def client(server: ScriptedServer, fake_time: FakeTime) -> Iterator[CceV2Client]:
    with CceV2Client(make_transport(server.url, fake_time), page_size=2) as c:
        yield c


def group_answer(template: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "spec": {
            "cceInstanceGroupID": G,
            "instanceGroupName": "ig1",
            "clusterID": C,
            "instanceTemplate": template,
            "replicas": 2,
            **spec,
        },
        "status": {"readyReplicas": 2},
        "createdAt": "2020-09-27T06:34:51Z",
    }


def read_group(answer: dict[str, Any]) -> InstanceGroup:
    return InstanceGroup.read(Reader(answer, Origin("GET", "/x", 200, "r")))


# -- delete protection and quotas ----------------------------------------------------------


def test_forbid_delete_sends_the_sdks_key(client: CceV2Client, server: ScriptedServer) -> None:
    server.script(ok({"success": True, "forbidDelete": True}))
    assert client.set_forbid_delete(C, True) is True
    seen = server.seen[0]
    assert (seen.method, seen.path, seen.body) == (
        "PUT",
        f"{PREFIX}/cluster/{C}/forbiddelete",
        b'{"ForbidDelete":true}',
    )


def test_forbid_delete_refused_or_half_answered(
    client: CceV2Client, server: ScriptedServer
) -> None:
    server.script(ok({"success": False, "forbidDelete": False}), ok({"success": True}))
    with pytest.raises(errors.FatalServerError, match="success: false"):
        client.set_forbid_delete(C, True)
    with pytest.raises(errors.ShapeError, match="forbidDelete: missing"):
        client.set_forbid_delete(C, True)


def test_quotas(client: CceV2Client, server: ScriptedServer) -> None:
    server.script(ok({"quota": 20, "used": 3, "requestID": "r"}), ok({"quota": 50, "used": 49}))
    assert client.get_cluster_quota().left == 17
    assert client.get_node_quota(C).left == 1
    assert [s.path for s in server.seen] == [
        f"{PREFIX}/quota/cluster",
        f"{PREFIX}/quota/cluster/{C}/node",
    ]
    server.script(ok({"quota": 20}))
    with pytest.raises(errors.ShapeError, match="used: missing"):
        client.get_cluster_quota()


# -- instance groups ------------------------------------------------------------------------


def test_configure_sends_the_whole_spec_as_the_sdk_does(
    client: CceV2Client, server: ScriptedServer
) -> None:
    template = json.loads(SDK_CONFIGURE)["instanceTemplate"]
    del template["labels"]
    group = read_group(group_answer(template))
    request = InstanceGroupConfigure.from_group(group, TemplateEdit(labels={"a": "b"}))
    server.script(ok({"requestID": "r"}))
    client.configure_instance_group(C, G, request)
    seen = server.seen[0]
    assert (seen.method, seen.path) == ("PUT", f"{GROUP_PATH}/configure")
    assert seen.body.decode() == SDK_CONFIGURE  # key order included


def test_configure_keeps_what_it_does_not_edit(client: CceV2Client) -> None:
    template = {
        "instanceType": "N3",
        "labels": {"old": "1"},
        "taints": [{"key": "k", "effect": "NoSchedule"}],
        "deployCustomConfig": {"preUserScript": "bHM="},
    }
    spec = {"cleanPolicy": "Delete", "clusterAutoscalerSpec": {"enabled": False,
            "minReplicas": 0, "maxReplicas": 0, "scalingGroupPriority": 0}}  # fmt: skip
    group = read_group(group_answer(template, **spec))
    edit = TemplateEdit(taints=(Taint("dedicated", "gpu", "NoExecute"),), annotations={})
    body = InstanceGroupConfigure.from_group(group, edit).to_json()
    assert body["instanceTemplate"] == {
        "instanceType": "N3",
        "labels": {"old": "1"},
        "deployCustomConfig": {"preUserScript": "bHM="},  # still base64, as read
        "taints": [{"key": "dedicated", "value": "gpu", "effect": "NoExecute"}],
    }
    assert body["cleanPolicy"] == "Delete" and body["replicas"] == 2
    assert body["passwordNeedUpdate"] is False
    with_password = TemplateEdit(admin_password="Pass1234!")
    assert InstanceGroupConfigure.from_group(group, with_password).to_json()["passwordNeedUpdate"]


def test_group_autoscaler_body_and_the_sdks_checks(
    client: CceV2Client, server: ScriptedServer
) -> None:
    server.default = ok({"requestID": "r"})
    client.update_group_autoscaler(C, G, GroupAutoscaler(True, 1, 5, 10))
    assert server.seen[0].path == f"{GROUP_PATH}/autoscaler"
    assert server.seen[0].body == (
        b'{"enabled":true,"minReplicas":1,"maxReplicas":5,"scalingGroupPriority":10}'
    )
    for bad, message in (
        (GroupAutoscaler(True, 3, 2, 0), "invalid minReplicas or maxReplicas"),
        (GroupAutoscaler(True, 1, 2, -1), "invalid scalingGroupPriority"),
    ):
        with pytest.raises(errors.UsageError, match=message):
            client.update_group_autoscaler(C, G, bad)
    client.update_group_autoscaler(C, G, GroupAutoscaler(False, 3, 2))  # unchecked when off
    assert server.count() == 2


def test_a_groups_autoscaler_is_read_when_present() -> None:
    spec = {"enabled": True, "minReplicas": 1, "maxReplicas": 4, "scalingGroupPriority": 0}
    assert read_group(group_answer({}, clusterAutoscalerSpec=spec)).autoscaler == (
        GroupAutoscaler(True, 1, 4, 0)
    )
    assert read_group(group_answer({})).autoscaler is None
    with pytest.raises(errors.ShapeError, match="clusterAutoscalerSpec.maxReplicas: missing"):
        read_group(group_answer({}, clusterAutoscalerSpec={"enabled": True, "minReplicas": 1,
                                                           "scalingGroupPriority": 0}))  # fmt: skip


def test_scale_up_query_and_no_resend(client: CceV2Client, server: ScriptedServer) -> None:
    task = {"requestID": "r", "taskID": f"task-{G}-scaleup-abcdefgh"}
    server.script(ok(task), ok(task), Reply(drop=True))
    assert client.scale_up(C, G, up_to_replicas=5).task_id.endswith("abcdefgh")
    client.scale_up(C, G, up_to_replicas=5, up_replicas=2)
    with pytest.raises(errors.OutcomeUnknownError):
        client.scale_up(C, G, up_replicas=1)
    with pytest.raises(errors.UsageError, match="should be positive"):
        client.scale_up(C, G)
    assert [(s.method, s.path, s.raw_query) for s in server.seen] == [
        ("PUT", f"{GROUP_PATH}/scaleup", "upToReplicas=5"),
        ("PUT", f"{GROUP_PATH}/scaleup", "upReplicas=2&upToReplicas=5"),
        ("PUT", f"{GROUP_PATH}/scaleup", "upReplicas=1"),
    ]


def task_json(phase: str = "Done", **extra: Any) -> dict[str, Any]:
    return {"id": "task-1", "type": "InstanceGroupReplicas", "phase": phase,
            "startTime": "2026-01-01T00:00:00Z", **extra}  # fmt: skip


def test_tasks_are_read_with_their_failed_nodes(
    client: CceV2Client, server: ScriptedServer
) -> None:
    process = {"name": "ScaleUp", "phase": "Done",
               "metrics": {"cce-abc-1": "running", "cce-abc-2": "create_failed"}}  # fmt: skip
    server.script(ok({"requestID": "r", "task": task_json(processes=[process])}))
    task = client.get_task("task-1")
    assert (task.finished, task.failed_nodes) == (True, ("cce-abc-2",))
    assert server.seen[0].path == f"{PREFIX}/task/InstanceGroupReplicas/task-1"
    server.script(ok({"requestID": "r", "task": {"id": "task-1"}}))
    with pytest.raises(errors.ShapeError, match="task.phase: missing"):
        client.get_task("task-1")


def test_task_list_asks_for_everything_and_counts(
    client: CceV2Client, server: ScriptedServer
) -> None:
    page = {"pageNo": 0, "pageSize": 0, "totalCount": 2, "items": [task_json(), task_json()]}
    server.script(ok({"requestID": "r", "page": page}), ok({"page": {**page, "totalCount": 3}}))
    assert len(client.list_tasks(G)) == 2
    assert server.seen[0].path == f"{PREFIX}/tasks/InstanceGroupReplicas"
    assert dict(server.seen[0].query) == {"targetID": G, "pageNo": "0", "pageSize": "0"}
    with pytest.raises(errors.ShapeError, match="2 tasks, but totalCount 3"):
        client.list_tasks(G)


def test_list_filters_are_sent_as_the_sdk_sends_them(
    client: CceV2Client, server: ScriptedServer
) -> None:
    empty = ok({"requestID": "r", "page": {"pageNo": 1, "pageSize": 2, "totalCount": 0,
                                           "list": []}})  # fmt: skip
    server.default = empty
    client.list_instance_groups(C, keyword_type="instanceGroupName", keyword="gpu",
                                autoscaler_enabled=True)  # fmt: skip
    client.list_group_instances(C, G, phases=("running", "pending"))
    client.list_instance_groups(C)
    groups, nodes, plain = server.seen
    assert dict(groups.query) == {"keywordType": "instanceGroupName", "keyword": "gpu",
                                  "autoscalerEnabled": "true", "pageNo": "1", "pageSize": "2"}  # fmt: skip
    assert "phases=running%2Cpending" in nodes.raw_query
    assert dict(plain.query) == {"pageNo": "1", "pageSize": "2"}


# -- cluster autoscaler ---------------------------------------------------------------------


def test_cluster_autoscaler_calls(client: CceV2Client, server: ScriptedServer) -> None:
    config = {"replicaCount": 1, "scaleDownEnabled": True, "expander": "least-waste",
              "scaleDownUnneededTime": 10, "instanceGroups": [{"InstanceGroupID": G}]}  # fmt: skip
    server.script(
        ok({"requestID": "r"}),
        ok({"requestID": "r", "autoscaler": {"clusterID": C, "caConfig": config}}),
        ok({"requestID": "r"}),
    )
    client.create_autoscaler(C)
    found = client.get_autoscaler(C)
    client.update_autoscaler(C, AutoscalerConfig(expander=""))
    create, get, update = server.seen
    assert (create.method, create.path, create.body) == ("POST", f"{PREFIX}/autoscaler/{C}", b"")
    assert (found.config.expander, found.config.scale_down_unneeded_time) == ("least-waste", 10)
    assert found.config.skip_nodes_with_local_storage is None
    assert update.body == b'{"replicaCount":0,"scaleDownEnabled":false,"expander":""}'
    full = AutoscalerConfig("priority", True, 1, scale_down_delay_after_add=0,
                            skip_nodes_with_system_pods=False)  # fmt: skip
    assert full.to_json() == {"replicaCount": 1, "scaleDownEnabled": True,
                              "scaleDownDelayAfterAdd": 0, "skipNodesWithSystemPods": False,
                              "expander": "priority"}  # fmt: skip


# -- node upgrades --------------------------------------------------------------------------


def test_workflow_create_is_the_sdks_body_and_never_resent(
    client: CceV2Client, server: ScriptedServer
) -> None:
    config = UpgradeNodes(
        G,
        (ComponentUpgrade("kubelet", "1.30.1"), ComponentUpgrade("containerRuntime", "1.7.13")),
        batch_size=2,
        drain_before_upgrade=True,
        pause_policy="EveryBatch",
        batch_interval_minutes=5,
    )
    server.script(ok({"workflowID": "wf-1", "requestID": "r"}), Reply(drop=True))
    assert client.create_workflow(C, WorkflowCreate(config)).workflow_id == "wf-1"
    assert server.seen[0].path == f"{PREFIX}/cluster/{C}/workflow"
    assert server.seen[0].body.decode() == SDK_WORKFLOW
    with pytest.raises(errors.OutcomeUnknownError):
        client.create_workflow(C, WorkflowCreate(config))
    assert server.count() == 2


def workflow_json(**status: Any) -> dict[str, Any]:
    spec = {"workflowID": "wf-1", "workflowType": "UpgradeNodes", "config": {
        "upgradeNodesWorkflowConfig": {"instanceGroupID": G, "components": [
            {"name": "kubelet", "targetVersion": "1.30.1"}]}}}  # fmt: skip
    return {"workflow": {"spec": spec, "status": {"totalTaskCount": 4, "finishedTaskCount": 1,
                                                  **status}}}  # fmt: skip


def test_workflows_are_read_strictly(client: CceV2Client, server: ScriptedServer) -> None:
    server.script(
        ok(workflow_json(phase="Paused", watchDogStatus={"pausedReason": "batch 1 done"})),
        ok(workflow_json()),
        ok({"workflow": {"spec": {}, "status": {"phase": "Upgrading"}}}),
    )
    paused = client.get_workflow(C, "wf-1")
    assert (paused.phase, paused.finished, paused.paused_reason) == (
        "Paused",
        False,
        "batch 1 done",
    )
    assert (paused.instance_group_id, paused.components) == (
        G,
        (ComponentUpgrade("kubelet", "1.30.1"),),
    )
    assert client.get_workflow(C, "wf-1").phase == ""  # omitempty: not set yet
    with pytest.raises(errors.ShapeError, match="workflow.status.totalTaskCount: missing"):
        client.get_workflow(C, "wf-1")
    assert server.seen[0].path == f"{PREFIX}/cluster/{C}/workflow/wf-1"


def test_workflow_actions(client: CceV2Client, server: ScriptedServer) -> None:
    server.default = ok({"clusterID": C, "workflowID": "wf-1", "requestID": "r"})
    client.update_workflow(C, "wf-1", "resume")
    spec = {"workflowType": "UpgradeNodes",
            "config": {"upgradeNodesWorkflowConfig": {"nodeUpgradeBatchSize": 3}},
            "watchDogConfig": {}}  # fmt: skip
    client.update_workflow(C, "wf-1", "updateSpec", spec)
    with pytest.raises(errors.UsageError):
        client.update_workflow(C, "wf-1", "cancel")
    resume, update = server.seen
    assert (resume.method, resume.body) == ("PUT", b'{"action":"resume"}')
    assert update.body.decode() == (
        '{"action":"updateSpec","spec":{"workflowType":"UpgradeNodes","config":'
        '{"upgradeNodesWorkflowConfig":{"nodeUpgradeBatchSize":3}},"watchDogConfig":{}}}'
    )


def versions_json(kubelet: Any) -> dict[str, Any]:
    none = {"currentVersion": "", "componentVersions": None, "gpuCurrentVersion": None}
    return {"requestID": "r", "result": {
        "kubelet": kubelet, "containerRuntime": none, "nvidiaContainerToolkit": none,
        "xpuContainerToolkit": none, "gpuDriver": none}}  # fmt: skip


def test_upgrade_versions(client: CceV2Client, server: ScriptedServer) -> None:
    kubelet = {"currentVersion": "1.28.8", "gpuCurrentVersion": None, "componentVersions": [
        {"targetVersion": "1.30.1", "needDrainNode": True}]}  # fmt: skip
    bad = versions_json(kubelet)
    del bad["result"]["gpuDriver"]
    server.script(ok(versions_json(kubelet)), ok(bad))
    found = client.upgrade_versions(C, G)
    assert server.seen[0].path == f"{GROUP_PATH}/component_upgrade_versions"
    assert (found.of("kubelet").current_version, found.of("kubelet").targets) == (
        "1.28.8",
        ("1.30.1",),
    )
    assert found.of("containerRuntime").targets == ()  # Go's null slice: none offered
    with pytest.raises(errors.ShapeError, match="result.gpuDriver: missing"):
        client.upgrade_versions(C, G)


# -- add-ons --------------------------------------------------------------------------------


def addon_json(name: str, installed: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"meta": {"name": name, "type": "Networking",
                                     "latestVersion": "1.2.0",
                                     "installInfo": {"allowInstall": True}}}  # fmt: skip
    if installed:
        item["instance"] = {
            "name": name,
            "installedVersion": installed,
            "params": "replicas: 2\n",
            "status": {"phase": "Running"},
            "uninstallInfo": {"allowUninstall": True},
            "upgradeInfo": {"allowUpgrade": True, "nextVersion": "1.2.0"},
            "updateInfo": {"allowUpdate": True},
            "rollback": {"allowRollback": False},
        }
    return item


def test_list_addons_sends_a_get_with_a_body(client: CceV2Client, server: ScriptedServer) -> None:
    items = [addon_json("cce-ingress-controller", "1.1.0"), addon_json("cce-volcano")]
    server.script(ok({"requestID": "r", "items": items}), ok({"requestID": "r", "items": []}))
    found = client.list_addons(C, ["cce-ingress-controller", "cce-volcano"])
    client.list_addons(C)
    named, everything = server.seen
    assert (named.method, named.path) == ("GET", f"{PREFIX}/cluster/{C}/addon")
    assert named.raw_query == "addons=cce-ingress-controller%2Ccce-volcano"
    assert named.json() == {"clusterID": C, "addons": "cce-ingress-controller,cce-volcano"}
    assert (everything.raw_query, everything.json()) == ("", {"clusterID": C, "addons": ""})
    ingress, volcano = found
    assert ingress.instance is not None and volcano.instance is None
    assert (ingress.instance.installed_version, ingress.instance.phase) == ("1.1.0", "Running")


def test_addon_bodies(client: CceV2Client, server: ScriptedServer) -> None:
    server.default = ok({"requestID": "r"})
    client.install_addon(C, AddonInstall("cce-volcano", params="Binpack: true\n"))
    client.upgrade_addon(C, AddonUpgrade("cce-volcano", "1.2.0"))
    client.update_addon(C, AddonUpdate("cce-volcano", "Binpack: false\n"))
    client.uninstall_addon(C, AddonUninstall("cce-volcano"))
    path = f"{PREFIX}/cluster/{C}/addon"
    assert [(s.method, s.path, s.body.decode()) for s in server.seen] == [
        ("POST", path, '{"name":"cce-volcano","params":"Binpack: true\\n","clusterID":"cce-abc"}'),
        ("POST", f"{path}/upgrade",
         '{"name":"cce-volcano","clusterID":"cce-abc","targetVersion":"1.2.0"}'),
        ("PUT", path, '{"name":"cce-volcano","clusterID":"cce-abc","params":"Binpack: false\\n"}'),
        ("DELETE", path, '{"name":"cce-volcano","clusterID":"cce-abc"}'),
    ]  # fmt: skip


def test_a_200_with_a_code_is_a_refusal(client: CceV2Client, server: ScriptedServer) -> None:
    server.script(
        ok({"requestID": "r", "code": "cce.warning.InvalidParam", "message": "no such addon"}),
        ok({"requestID": "r", "items": None}),
        ok({"requestID": "r", "items": [{"meta": {"installInfo": {"allowInstall": True}}}]}),
    )
    with pytest.raises(errors.FatalServerError, match="no such addon") as caught:
        client.install_addon(C, AddonInstall("nope"))
    assert (caught.value.status, caught.value.code) == (200, "cce.warning.InvalidParam")
    with pytest.raises(errors.ShapeError, match="items: null"):
        client.list_addons(C)
    with pytest.raises(errors.ShapeError, match=r"items\[0\].meta.name: missing"):
        client.list_addons(C)


# -- against the emulator -------------------------------------------------------------------


def test_the_day2_calls_against_the_emulator(emulator: EmulatorHandle) -> None:
    """Every day-2 call through the typed client, decoded strictly, against the emulator."""
    creds = Credentials(emulator.access_key_id, emulator.secret_access_key)
    spec = ClusterSpecBody("c1", "1.28.8", "vpc-x", MasterConfig("managedPro"),
                           ContainerNetworkConfig("kubenet", "sbn-x", "172.28.0.0/16"),
                           runtime_type="containerd")  # fmt: skip
    with CceV2Client.connect(emulator.url, creds, page_size=2) as live:
        cid = live.create_cluster(ClusterCreate(spec)).cluster_id
        template = InstanceSpecBody("N3", "sbn-x", cpu=2, mem=8, image_id="m-x")
        gid = live.create_instance_group(
            cid, InstanceGroupCreate("ig1", template, 2)
        ).instance_group_id
        assert live.set_forbid_delete(cid, True) is True
        assert live.get_cluster(cid).forbid_delete is True
        assert (live.get_cluster_quota().used, live.get_node_quota(cid).used) == (1, 2)

        group = live.get_instance_group(cid, gid)
        edit = TemplateEdit(labels={"team": "a"}, taints=(Taint("gpu", "", "NoSchedule"),))
        live.configure_instance_group(cid, gid, InstanceGroupConfigure.from_group(group, edit))
        nodes = live.list_group_instances(cid, gid, phases=("running",))
        assert all(n.spec["labels"]["team"] == "a" for n in nodes) and len(nodes) == 2

        live.update_group_autoscaler(cid, gid, GroupAutoscaler(True, 1, 4, 0))
        (scaled,) = live.list_instance_groups(cid, autoscaler_enabled=True)
        assert scaled.autoscaler == GroupAutoscaler(True, 1, 4, 0)
        live.create_autoscaler(cid)
        live.update_autoscaler(cid, AutoscalerConfig("least-waste", True, 1))
        assert live.get_autoscaler(cid).config.expander == "least-waste"

        task = live.scale_up(cid, gid, up_to_replicas=3)
        assert live.get_task(task.task_id).phase == "Done"
        assert [t.task_id for t in live.list_tasks(gid)] == [task.task_id]
        assert len(live.list_instances(cid, keyword_type="instanceGroupID", keyword=gid)) == 3

        versions = live.upgrade_versions(cid, gid)
        assert versions.of("containerRuntime").targets == ("1.6.36", "1.7.13")
        config = UpgradeNodes(gid, (ComponentUpgrade("containerRuntime", "1.7.13"),), 1,
                              pause_policy="FirstBatch")  # fmt: skip
        wf = live.create_workflow(cid, WorkflowCreate(config)).workflow_id
        assert live.get_workflow(cid, wf).phase == "Paused"
        live.update_workflow(cid, wf, "resume")
        done = live.get_workflow(cid, wf)
        assert (done.phase, done.finished, done.finished_tasks, done.instance_group_id) == (
            "Succeeded", True, 3, gid)  # fmt: skip

        live.install_addon(cid, AddonInstall("cce-volcano", "1.8.2"))
        live.upgrade_addon(cid, AddonUpgrade("cce-volcano"))
        live.update_addon(cid, AddonUpdate("cce-volcano", "Binpack: true\n"))
        (volcano,) = live.list_addons(cid, ["cce-volcano"])
        assert volcano.instance is not None
        assert (volcano.instance.installed_version, volcano.instance.params) == (
            "1.9.1", "Binpack: true\n")  # fmt: skip
        with pytest.raises(errors.FatalServerError) as caught:
            live.install_addon(cid, AddonInstall("cce-volcano"))
        assert caught.value.code == "cce.warning.InvalidParam"
        live.uninstall_addon(cid, AddonUninstall("cce-volcano"))
        assert live.list_addons(cid, ["cce-volcano"])[0].instance is None


def test_a_group_create_carries_its_autoscaler_taints_and_runtime_version() -> None:
    template = InstanceSpecBody(
        "N3",
        "sbn-x",
        runtime_type="containerd",
        runtime_version="1.7.13",
        labels={"a": "b"},
        taints=(Taint("gpu", "", "NoSchedule"),),
        annotations={"n": "v"},
    )
    body = InstanceGroupCreate("ig1", template, 1, autoscaler=GroupAutoscaler(True, 1, 3)).to_json()
    assert list(body)[-2:] == ["replicas", "clusterAutoscalerSpec"]
    assert body["clusterAutoscalerSpec"] == {
        "enabled": True, "minReplicas": 1, "maxReplicas": 3, "scalingGroupPriority": 0}  # fmt: skip
    keys = list(body["instanceTemplate"])
    assert keys[:4] == ["instanceName", "runtimeType", "runtimeVersion", "existedOption"]
    assert keys[-4:] == ["deployCustomConfig", "labels", "taints", "annotations"]  # SDK order
    assert body["instanceTemplate"]["taints"] == [{"key": "gpu", "effect": "NoSchedule"}]

"""The CCE v2 kinds (``k8s_cluster``, ``instance_group``) against the emulator over HTTP.

Changes are planned by the real planner from ``DesiredState`` built of specs (by the kinds'
field tables, from YAML-shaped entries), refreshed by the real refresh, and run by the real executor
on the real dependency graph with a real ``LocalStateStore`` journal: exactly as apply uses
the kinds, without the CLI around them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply import ApplyOptions, Executor, execute
from reconciler.client.credentials import Credentials
from reconciler.client.v1 import CceClient
from reconciler.client.v2 import CceV2Client
from reconciler.client.v2_types import InstanceGroupCreate, InstanceSpecBody
from reconciler.emulator.testing import EmulatorHandle
from reconciler.errors import ReconcilerError, UsageError
from reconciler.graph import DONE, edges
from reconciler.kinds import build_spec, kind_named
from reconciler.kinds import names as kind_names
from reconciler.kinds.base import v2_client
from reconciler.kinds.instance_group import newest_first
from reconciler.model import Action, Address, DesiredState, Spec
from reconciler.plan import Plan
from reconciler.planner import make_plan
from reconciler.refresh import refresh
from reconciler.state import State
from reconciler.state.local import LocalStateStore

PASSWORD = "Passw0rd!node"
CLUSTER = Address("k8s_cluster", "prod")
POOL_A = Address("instance_group", "prod/pool-a")
POOL_B = Address("instance_group", "prod/pool-b")
PREFIX = "/api/cce/service/v2"


def cluster(version: str = "1.28.8", **changes: Any) -> Spec:
    """``k8s_cluster.prod``; ``changes`` are YAML keys."""
    declared = {
        "name": "prod",
        "k8sVersion": version,
        "vpcID": "vpc-1",
        "masterVPCSubnetZone": "zoneA",
        "networkMode": "kubenet",
        "podCIDR": "172.28.0.0/16",
        "lbServiceVPCSubnetID": "sbn-lb",
        "description": "production",
        "tags": {"team": "a"},
    }
    return build_spec("k8s_cluster", {**declared, **changes})


def group(name: str, replicas: int, **changes: Any) -> Spec:
    """``instance_group.prod/NAME``; ``changes`` are YAML keys."""
    declared = {
        "cluster": "prod",
        "name": name,
        "replicas": replicas,
        "machineSpec": "bcc.g5.c2m8",
        "cpu": 2,
        "memory": 8,
        "imageID": "m-image",
        "vpcSubnetID": "sbn-node",
        "securityGroupID": "g-sg",
        "adminPassword": {"env": "NODE_PASSWORD"},
    }
    return build_spec("instance_group", {**declared, **changes})


@dataclass
class Harness:
    client: CceClient
    store: LocalStateStore
    emulator: EmulatorHandle

    @property
    def v2(self) -> CceV2Client:
        return v2_client(self.client)

    def desired(self, *specs: Spec) -> DesiredState:
        return DesiredState({s.address: s for s in specs})

    def plan(
        self,
        *specs: Spec,
        allow_replace: Iterable[Address] = (),
        targets: Iterable[Address] = (),
    ) -> Plan:
        state = self.store.read()
        live = refresh(self.client, state, desired=self.desired(*specs))
        return make_plan(self.desired(*specs), state, live, {}, targets, allow_replace)

    def apply(
        self,
        *specs: Spec,
        allow_replace: Iterable[Address] = (),
        sleep: Callable[[float], None] = lambda seconds: None,
        progress: list[str] | None = None,
    ) -> Plan:
        """Plan, then run the plan on the dependency graph; raise the first failure. ``sleep``
        is what a wait does between polls (nothing: the emulator's lifecycles are instant);
        ``progress`` collects what apply prints, a wait's progress at every poll."""
        plan = self.plan(*specs, allow_replace=allow_replace)
        assert not plan.conflicts, plan.conflicts
        state = self.store.read()
        with self.store.journal(state) as journal:
            executor = Executor(
                self.client,
                journal,
                journal.state,
                lambda change, name: PASSWORD,
                {},
                ApplyOptions(
                    poll_interval=0.0, progress_every=0.0 if progress is not None else 3600.0
                ),
                (lambda message: None) if progress is None else progress.append,
                sleep=sleep,
            )
            result = execute(plan, executor, 2, lambda message: None)
        failed = [r for r in result.results.values() if r.status != DONE]
        if failed:
            raise failed[0].error or ReconcilerError(f"{failed[0].change.address} skipped")
        return plan

    def state(self) -> State:
        return self.store.read()

    def mutations(self, since: int) -> list[tuple[str, str]]:
        return [(e["method"], e["path"]) for e in self.emulator.mutating_requests(since)]

    def requests(self, since: int) -> list[tuple[str, str]]:
        return [(e["method"], e["path"]) for e in self.emulator.requests_log(since)]

    def v2_emulated(self) -> dict[str, Any]:
        found: dict[str, Any] = self.emulator.state()["ccev2"]
        return found


@pytest.fixture
def h(emulator: EmulatorHandle, tmp_path: Path) -> Iterator[Harness]:
    creds = Credentials(emulator.access_key_id, emulator.secret_access_key)
    with CceClient.connect(emulator.url, creds) as client:
        yield Harness(
            client, LocalStateStore(str(tmp_path / "state.json"), kinds=kind_names()), emulator
        )


def actions(plan: Plan) -> dict[Address, Action]:
    return {c.address: c.action for c in plan.changes}


def ids(h: Harness, address: Address) -> tuple[str, str]:
    cluster_id, _, group_id = h.state().resources[address].cloud_id.partition("/")
    return cluster_id, group_id


# --- create, converge -------------------------------------------------------------------------


def test_cluster_and_two_groups_are_created_in_order_and_converge(h: Harness) -> None:
    since = h.emulator.next_index()
    plan = h.apply(cluster(), group("pool-a", 2), group("pool-b", 1))
    assert actions(plan) == {CLUSTER: Action.CREATE, POOL_A: Action.CREATE, POOL_B: Action.CREATE}
    posts = [p for m, p in h.mutations(since) if m == "POST"]
    assert posts[0] == f"{PREFIX}/cluster" and len(posts) == 3  # the groups wait for it

    entries = h.state().resources
    cluster_id = entries[CLUSTER].cloud_id
    assert cluster_id.startswith("cce-")
    assert entries[POOL_A].cloud_id.startswith(f"{cluster_id}/cce-ig-")
    emulated = h.v2_emulated()
    assert [c["status"]["clusterPhase"] for c in emulated["clusters"]] == ["running"]
    assert sorted(g["status"]["readyReplicas"] for g in emulated["instanceGroups"]) == [1, 2]

    live = kind_named("k8s_cluster").read_one(h.client, CLUSTER, cluster_id)
    assert live is not None and live.status == "running"
    assert live.attrs["podCIDR"] == "172.28.0.0/16" and live.attrs["tags"] == {"team": "a"}
    group_live = kind_named("instance_group").read_one(h.client, POOL_A, entries[POOL_A].cloud_id)
    assert group_live is not None and group_live.address == POOL_A
    declared = kind_named("instance_group").desired_attrs(group("pool-a", 2))
    assert {k: group_live.attrs[k] for k in declared} == declared
    assert group_live.attrs["autoscaler"]["enabled"] is False  # live, though not declared
    assert len(group_live.details["instances"]) == 2

    # convergence: nothing to do, and applying again sends nothing
    plan = h.plan(cluster(), group("pool-a", 2), group("pool-b", 1))
    assert set(actions(plan).values()) == {Action.NOOP}
    since = h.emulator.next_index()
    h.apply(cluster(), group("pool-a", 2), group("pool-b", 1))
    assert h.mutations(since) == []


def test_server_defaults_cause_no_diff_when_undeclared(h: Harness) -> None:
    minimal = build_spec(
        "k8s_cluster",
        {
            "name": "prod",
            "k8sVersion": "1.28.8",
            "vpcID": "vpc-1",
            "lbServiceVPCSubnetID": "sbn-lb",
        },
    )
    h.apply(minimal)
    plan = h.plan(minimal)
    assert actions(plan) == {CLUSTER: Action.NOOP}


def test_refresh_lists_and_never_gets_one_group(h: Harness) -> None:
    specs = (cluster(), group("pool-a", 2), group("pool-b", 1))
    h.apply(*specs)
    since = h.emulator.next_index()
    h.plan(*specs)
    v2_calls = [(m, p) for m, p in h.requests(since) if p.startswith(PREFIX)]
    cluster_id, group_a = ids(h, POOL_A)
    _, group_b = ids(h, POOL_B)
    assert sorted(v2_calls) == sorted(
        [
            ("GET", f"{PREFIX}/clusters"),
            ("GET", f"{PREFIX}/cluster/{cluster_id}/instancegroups"),
            ("GET", f"{PREFIX}/cluster/{cluster_id}/instancegroup/{group_a}/instances"),
            ("GET", f"{PREFIX}/cluster/{cluster_id}/instancegroup/{group_b}/instances"),
        ]
    )


# --- scale ------------------------------------------------------------------------------------


def test_group_scales_up_and_down_newest_first(h: Harness) -> None:
    h.apply(cluster(), group("pool-a", 2))
    cluster_id, group_id = ids(h, POOL_A)
    h.emulator.advance(5)  # the new node's createdAt is later than the first two

    since = h.emulator.next_index()
    plan = h.apply(cluster(), group("pool-a", 3))
    (change,) = plan.actionable
    assert change.action is Action.UPDATE and change.scale is not None and change.scale.add == 1
    path = f"{PREFIX}/cluster/{cluster_id}/instancegroup/{group_id}"
    assert h.mutations(since) == [("PUT", f"{path}/replicas")]
    members = h.v2.list_group_instances(cluster_id, group_id)
    assert len(members) == 3
    newest = max(members, key=lambda m: m.created_at).cce_instance_id

    since = h.emulator.next_index()
    plan = h.apply(cluster(), group("pool-a", 2))
    (change,) = plan.actionable
    assert change.scale is not None and change.scale.remove == (newest,)
    assert h.mutations(since) == [("PUT", f"{path}/scaledown")]
    left = {m.cce_instance_id for m in h.v2.list_group_instances(cluster_id, group_id)}
    assert newest not in left and len(left) == 2
    assert actions(h.plan(cluster(), group("pool-a", 2))) == {
        CLUSTER: Action.NOOP,
        POOL_A: Action.NOOP,
    }


def test_a_scale_down_waits_until_the_removed_node_is_gone(h: Harness) -> None:
    h.apply(cluster(), group("pool-a", 3))
    cluster_id, group_id = ids(h, POOL_A)
    h.emulator.set_faults(cluster_delete_seconds=30)
    since = h.emulator.next_index()
    h.apply(cluster(), group("pool-a", 2), sleep=lambda seconds: h.emulator.advance(10))
    members = h.v2.list_group_instances(cluster_id, group_id)
    assert [m.phase for m in members] == ["running", "running"]  # the third is gone, not deleting
    path = f"{PREFIX}/cluster/{cluster_id}/instancegroup/{group_id}/instances"
    polls = [p for m, p in h.requests(since) if p == path]
    assert len(polls) >= 4  # listed by the plan, then polled while the node was deleting


def test_newest_first_breaks_ties_by_list_order() -> None:
    nodes = [
        {"id": "a", "phase": "running", "createdAt": "2026-01-01T00:00:00Z"},
        {"id": "b", "phase": "running", "createdAt": "2026-01-01T00:00:05Z"},
        {"id": "c", "phase": "running", "createdAt": "2026-01-01T00:00:05Z"},
        {"id": "d", "phase": "deleting", "createdAt": "2026-01-01T00:00:09Z"},
    ]
    assert [n["id"] for n in newest_first(nodes)] == ["c", "b", "a"]


# --- replacement, taint -----------------------------------------------------------------------


def test_a_change_the_api_cannot_make_replaces_the_cluster_and_its_groups(h: Harness) -> None:
    h.apply(cluster(), group("pool-a", 1))
    plan = h.plan(cluster(description="other"), group("pool-a", 1))
    by_address = {c.address: c for c in plan.changes}
    assert by_address[CLUSTER].action is Action.REPLACE
    assert by_address[CLUSTER].forces == ("description",)
    assert "cannot be changed in place by the CCE v2 API" in by_address[CLUSTER].reason
    assert (
        by_address[CLUSTER].refused == "replacement must be allowed with --replace k8s_cluster.prod"
    )
    assert by_address[POOL_A].action is Action.REPLACE
    assert by_address[POOL_A].refused == f"{CLUSTER}: {by_address[CLUSTER].refused}"

    allowed = h.plan(cluster(description="other"), group("pool-a", 1), allow_replace=[CLUSTER])
    assert {c.refused for c in allowed.changes} == {None}


def test_an_allowed_cluster_replacement_moves_its_groups_to_the_new_cluster(h: Harness) -> None:
    h.apply(cluster(), group("pool-a", 1))
    old = h.state().resources[CLUSTER].cloud_id
    h.apply(cluster(description="other"), group("pool-a", 1), allow_replace=[CLUSTER])
    new = h.state().resources[CLUSTER].cloud_id
    assert new != old and h.state().resources[POOL_A].cloud_id.startswith(f"{new}/")
    (live,) = [c for c in h.v2_emulated()["clusters"] if c["status"]["clusterPhase"] != "deleted"]
    assert live["spec"]["clusterID"] == new and live["spec"]["description"] == "other"
    plan = h.plan(cluster(description="other"), group("pool-a", 1))
    assert set(actions(plan).values()) == {Action.NOOP}


def test_a_version_change_is_refused_with_the_consoles_way(h: Harness) -> None:
    h.apply(cluster(), group("pool-a", 1))
    plan = h.plan(cluster("1.30.1"), group("pool-a", 1))
    change = {c.address: c for c in plan.changes}[CLUSTER]
    assert change.action is Action.UPDATE and change.refused is not None
    assert "upgrade the master in the console" in change.refused
    assert "then set k8sVersion to the version it runs" in change.refused
    # upgraded in the console to the declared version: an update of state, never a replacement
    h.emulator.admin("POST", "cce_v2/upgrade-master",
                     json={"clusterID": h.state().resources[CLUSTER].cloud_id, "k8sVersion": "1.30.1"})  # fmt: skip
    plan = h.plan(cluster("1.30.1"), group("pool-a", 1))
    change = {c.address: c for c in plan.changes}[CLUSTER]
    assert (change.action, change.refused, change.fields) == (Action.UPDATE, None, ())
    assert "changed outside the reconciler to the declared value: k8sVersion" in change.reason
    since = h.emulator.next_index()
    h.apply(cluster("1.30.1"), group("pool-a", 1))
    assert h.mutations(since) == []  # state only
    assert h.state().resources[CLUSTER].applied["k8sVersion"] == "1.30.1"
    assert set(actions(h.plan(cluster("1.30.1"), group("pool-a", 1))).values()) == {Action.NOOP}
    # still declaring the old version: the difference is reported (and refused), not replaced
    change = {c.address: c for c in h.plan(cluster(), group("pool-a", 1)).changes}[CLUSTER]
    assert change.action is Action.UPDATE and change.refused is not None


def test_template_fields_force_replacement_tags_too(h: Harness) -> None:
    h.apply(cluster(), group("pool-a", 1))
    plan = h.plan(cluster(tags={"team": "b"}), group("pool-a", 1, cpu=4))
    by_address = {c.address: c for c in plan.changes}
    assert by_address[CLUSTER].forces == ("tags.team",)
    assert by_address[POOL_A].action is Action.REPLACE and by_address[POOL_A].forces == ("cpu",)


def test_delete_options_change_in_state_only(h: Harness) -> None:
    h.apply(cluster())
    since = h.emulator.next_index()
    plan = h.apply(cluster(deleteCDSSnapshot=False))
    (change,) = plan.actionable
    assert change.action is Action.UPDATE and [f.path for f in change.fields] == [
        "deleteCDSSnapshot"
    ]
    assert h.mutations(since) == []
    assert h.state().resources[CLUSTER].applied["deleteCDSSnapshot"] is False
    assert actions(h.plan(cluster(deleteCDSSnapshot=False))) == {CLUSTER: Action.NOOP}


def test_a_cluster_that_failed_to_create_is_recorded_tainted(h: Harness) -> None:
    h.emulator.set_faults(create_failure_rate=1.0)
    with pytest.raises(ReconcilerError, match="failed to create"):
        h.apply(cluster())
    entry = h.state().resources[CLUSTER]
    assert entry.tainted and entry.cloud_id.startswith("cce-")
    h.emulator.set_faults(create_failure_rate=0.0)
    (change,) = h.plan(cluster()).actionable
    assert change.action is Action.REPLACE and change.refused is None
    assert change.reason.startswith("tainted")


def test_groups_of_a_failed_cluster_are_skipped(h: Harness) -> None:
    h.emulator.set_faults(create_failure_rate=1.0)
    with pytest.raises(ReconcilerError, match="failed to create"):
        h.apply(cluster(), group("pool-a", 1))
    assert POOL_A not in h.state().resources
    assert h.v2_emulated()["instanceGroups"] == []


def test_a_group_whose_node_failed_to_create_is_recorded_tainted(h: Harness) -> None:
    h.apply(cluster())
    h.emulator.set_faults(create_failure_rate=1.0)
    with pytest.raises(ReconcilerError, match="failed to create"):
        h.apply(cluster(), group("pool-a", 1))
    entry = h.state().resources[POOL_A]
    assert entry.tainted and "/cce-ig-" in entry.cloud_id


# --- delete -----------------------------------------------------------------------------------


def test_deleting_the_cluster_deletes_its_groups_first(h: Harness) -> None:
    h.apply(cluster(), group("pool-a", 1), group("pool-b", 1))
    cluster_id = h.state().resources[CLUSTER].cloud_id
    plan = h.plan()
    assert actions(plan) == {CLUSTER: Action.DELETE, POOL_A: Action.DELETE, POOL_B: Action.DELETE}
    assert edges(plan.actionable)[CLUSTER] == {POOL_A, POOL_B}
    # a --target of the cluster takes its groups with it
    targeted = h.plan(targets=[CLUSTER])
    assert set(actions(targeted)) == {CLUSTER, POOL_A, POOL_B}

    since = h.emulator.next_index()
    h.apply()
    deletes = [p for m, p in h.mutations(since) if m == "DELETE"]
    assert deletes[-1] == f"{PREFIX}/cluster/{cluster_id}"
    query = h.emulator.mutating_requests(since)[-1]["query"]
    assert query["deleteResource"] == query["deleteCDSSnapshot"] == "true"
    assert len(deletes) == 3 and all("/instancegroup/" in p for p in deletes[:2])
    assert h.state().resources == {}
    gone = kind_named("k8s_cluster").read_one(h.client, CLUSTER, cluster_id)
    assert gone is None
    assert h.v2_emulated()["instanceGroups"] == []


def test_deleting_a_cluster_with_an_unmanaged_group_is_a_conflict(h: Harness) -> None:
    h.apply(cluster())
    cluster_id = h.state().resources[CLUSTER].cloud_id
    template = InstanceSpecBody("N3", vpc_subnet_id="sbn-node", cpu=2, mem=8)
    made = h.v2.create_instance_group(cluster_id, InstanceGroupCreate("console", template, 0))
    plan = h.plan()
    (conflict,) = plan.conflicts
    assert conflict.address == CLUSTER
    assert "instance_groups this state does not manage" in conflict.message
    assert f"{cluster_id}/{made.instance_group_id}" in conflict.message


def test_deleting_a_group_deletes_its_nodes(h: Harness) -> None:
    h.apply(cluster(), group("pool-a", 2))
    cluster_id, group_id = ids(h, POOL_A)
    since = h.emulator.next_index()
    plan = h.apply(cluster())
    assert actions(plan) == {CLUSTER: Action.NOOP, POOL_A: Action.DELETE}
    path = f"{PREFIX}/cluster/{cluster_id}/instancegroup/{group_id}"
    (entry,) = h.emulator.mutating_requests(since)
    assert (entry["method"], entry["path"]) == ("DELETE", path)
    assert entry["query"]["deleteInstances"] == "true"
    assert h.v2_emulated()["instances"] == []


# --- lost answers -----------------------------------------------------------------------------


def test_a_lost_cluster_create_answer_does_not_create_a_duplicate(h: Harness) -> None:
    h.emulator.set_faults(fail_next=["drop"])  # committed, then the connection is reset
    since = h.emulator.next_index()
    h.apply(cluster())
    log = h.emulator.requests_log(since)
    (post,) = [e for e in log if e["method"] == "POST"]
    assert post["fault"] == "drop"
    reads = [e for e in log if e["index"] > post["index"] and e["path"] == f"{PREFIX}/clusters"]
    assert reads and reads[0]["query"]["keyword"] == "prod"  # read by name, nothing resent
    (made,) = h.v2_emulated()["clusters"]
    assert h.state().resources[CLUSTER].cloud_id == made["spec"]["clusterID"]
    assert actions(h.plan(cluster())) == {CLUSTER: Action.NOOP}


def test_a_create_that_never_arrived_is_sent_again(h: Harness) -> None:
    h.emulator.set_faults(fail_next=["reset"])  # reset before anything is done
    since = h.emulator.next_index()
    h.apply(cluster())
    posts = [e["fault"] for e in h.emulator.mutating_requests(since) if e["method"] == "POST"]
    assert posts == ["reset", None]
    assert len(h.v2_emulated()["clusters"]) == 1


def test_a_lost_group_create_answer_does_not_create_a_duplicate(h: Harness) -> None:
    h.apply(cluster())
    h.emulator.set_faults(fail_next=["drop"])
    since = h.emulator.next_index()
    h.apply(cluster(), group("pool-a", 1))
    posts = [e["fault"] for e in h.emulator.mutating_requests(since) if e["method"] == "POST"]
    assert posts == ["drop"]
    (made,) = h.v2_emulated()["instanceGroups"]
    group_id = made["spec"]["cceInstanceGroupID"]
    assert h.state().resources[POOL_A].cloud_id.endswith(f"/{group_id}")
    assert actions(h.plan(cluster(), group("pool-a", 1)))[POOL_A] is Action.NOOP


def test_a_group_made_outside_with_a_declared_name_is_a_conflict(h: Harness) -> None:
    h.apply(cluster())
    cluster_id = h.state().resources[CLUSTER].cloud_id
    template = InstanceSpecBody("N3", vpc_subnet_id="sbn-node", cpu=2, mem=8)
    made = h.v2.create_instance_group(cluster_id, InstanceGroupCreate("pool-a", template, 0))
    plan = h.plan(cluster(), group("pool-a", 1))
    (conflict,) = plan.conflicts
    assert conflict.address == POOL_A
    assert conflict.cloud_id == f"{cluster_id}/{made.instance_group_id}"
    assert conflict.command == f"reconciler import {POOL_A} {cluster_id}/{made.instance_group_id}"


# --- read_one and addresses -------------------------------------------------------------------


def test_read_one_needs_the_composite_id_and_says_not_found(h: Harness) -> None:
    kind = kind_named("instance_group")
    with pytest.raises(UsageError, match="CLUSTER_ID/GROUP_ID"):
        kind.read_one(h.client, POOL_A, "cce-ig-12345678")
    h.apply(cluster())
    cluster_id = h.state().resources[CLUSTER].cloud_id
    assert kind.read_one(h.client, POOL_A, f"{cluster_id}/cce-ig-00000000") is None
    assert kind.read_one(h.client, POOL_A, "cce-00000000/cce-ig-00000000") is None
    assert kind_named("k8s_cluster").read_one(h.client, CLUSTER, "cce-00000000") is None


def test_a_group_depends_on_and_lives_in_its_cluster(h: Harness) -> None:
    kind = kind_named("instance_group")
    desired = h.desired(cluster(), group("pool-a", 1))
    assert kind.dependencies(group("pool-a", 1), desired) == (CLUSTER,)
    assert kind.container_of(Address("instance_group", "prod/a/b")) == CLUSTER
    assert kind_named("k8s_cluster").container_of(CLUSTER) is None


def test_a_node_upgrade_reports_its_progress_and_upgrades_batch_by_batch(h: Harness) -> None:
    h.apply(cluster(), group("pool-a", 3))
    h.emulator.set_faults(workflow_batch_seconds=100)
    messages: list[str] = []
    upgraded = group("pool-a", 3, containerRuntimeVersion="1.7.13", upgrade={"batchSize": 2})
    h.apply(cluster(), upgraded, sleep=lambda seconds: h.emulator.advance(50), progress=messages)
    waiting = [m for m in messages if "still upgrading" in m]
    assert any("0 of 3 nodes upgraded" in m for m in waiting)
    assert any("2 of 3 nodes upgraded" in m for m in waiting)  # the first batch of two
    assert any("upgrading the nodes to containerRuntime 1.7.13" in m for m in messages)
    (workflow,) = h.v2_emulated()["workflows"]
    assert workflow["spec"]["config"]["upgradeNodesWorkflowConfig"]["nodeUpgradeBatchSize"] == 2
    assert workflow["status"]["phase"] == "Succeeded"
    assert set(actions(h.plan(cluster(), upgraded)).values()) == {Action.NOOP}

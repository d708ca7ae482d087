"""Plan-time refusals: what the API would reject is refused by the plan, before any request
(a green plan means a green apply). Pure: the planner on values."""

from __future__ import annotations

from reconciler.guards import refusals
from reconciler.kinds import build_spec
from reconciler.kinds.base import LiveObject
from reconciler.model import Address, DesiredState, Spec
from reconciler.plan import INVALID, LiveState, Plan
from reconciler.planner import make_plan
from reconciler.state import State

from .test_v2_kinds import cluster as k8s_cluster
from .test_v2_kinds import group

USER = build_spec("user", {"username": "ccetest", "password": {"env": "PW"}})
NAMESPACE = build_spec("namespace", {"name": "team-a"})


def v1_cluster(name: str, container_net: str) -> Spec:
    workers = {
        "count": 1,
        "instanceType": "10",
        "cpu": 4,
        "memory": 8,
        "imageId": "m-1",
        "subnetUuid": "sbn-1",
        "securityGroupId": "g-1",
    }
    declared = {"name": name, "version": "1.20.8", "mainAvailableZone": "zoneA"}
    return build_spec("cluster", {**declared, "containerNet": container_net, "workers": workers})


def plan_of(*specs: Spec, live: list[LiveObject] = (), secrets: dict | None = None) -> Plan:  # type: ignore[assignment,type-arg]
    desired = DesiredState({s.address: s for s in specs})
    by_id = {(o.address.kind, o.cloud_id): o for o in live}
    by_name = {o.address: (o,) for o in live}
    return make_plan(desired, State(), LiveState(by_id, by_name), secrets or {})


def refused(plan: Plan) -> dict[str, str]:
    return {str(c.address): c.refused or "" for c in plan.refused}


def test_a_namespace_without_any_registry_user_is_refused() -> None:
    plan = plan_of(NAMESPACE)
    assert "no registry user is declared or exists" in refused(plan)["namespace.team-a"]
    assert [r.reason for r in refusals(plan, State(), None)] == [INVALID]


def test_a_namespace_is_fine_when_the_account_has_a_user() -> None:
    live = [LiveObject(Address("user", "ops"), "ops", {"username": "ops"})]
    assert refused(plan_of(NAMESPACE, live=live)) == {}


def test_a_password_that_breaks_the_rule_is_refused_naming_the_code() -> None:
    for bad in ("short1A", "alllowercase1", "NoDigitsHere", "A1" + "b" * 19):
        plan = plan_of(USER, secrets={(USER.address, "password"): bad})
        assert "Cce.PasswordFormatError" in refused(plan)["user.ccetest"], bad
    good = plan_of(USER, secrets={(USER.address, "password"): "Passw0rd-ok"})
    assert refused(good) == {}


def test_a_second_registry_user_in_the_account_is_refused() -> None:
    live = [LiveObject(Address("user", "other1"), "other1", {"username": "other1"})]
    plan = plan_of(USER, live=live, secrets={(USER.address, "password"): "Passw0rd-ok"})
    assert "Cce.MoreThanOneUserPerAccount" in refused(plan)["user.ccetest"]


def test_overlapping_container_networks_are_refused() -> None:
    a = v1_cluster("a", "172.16.0.0/16")
    b = v1_cluster("b", "172.16.128.0/17")
    assert "Cce.ContainerNetConflict" in refused(plan_of(a, b))["cluster.b"]
    live = [
        LiveObject(Address("cluster", "old"), "c-1", {"containerNet": "172.16.0.0/12"}, "RUNNING")
    ]
    assert "cluster.old" in refused(plan_of(a, live=live))["cluster.a"]


def test_v2_version_and_node_password_rules() -> None:
    plan = plan_of(k8s_cluster(version="1.19.0"))
    assert "k8sVersion 1.19.0 is not one the v2 API offers" in refused(plan)["k8s_cluster.prod"]
    pool = group("general", 2)
    plan = plan_of(k8s_cluster(), pool, secrets={(pool.address, "adminPassword"): "nospecials1"})
    assert "adminPassword breaks the v2 API's rule" in refused(plan)[str(pool.address)]
    plan = plan_of(k8s_cluster(), pool, secrets={(pool.address, "adminPassword"): "Special1!"})
    assert refused(plan) == {}

"""Refresh reads kinds that do not depend on each other at once, within ``--parallelism``: the
first kind (the registry user) is read alone, so that a dead endpoint costs one request's
attempts; then the namespaces, the repositories, the v1 clusters and the node lists of the
clusters the state manages are asked for together (the node lists by the state's cluster ids,
beside the cluster list, not after it): two round trips in all. What is planned is what reading
them one after another gives: a node list is used only for a cluster the list has (not gone),
and a cluster the list lacks is read by id. No more requests are ever in flight than
``--parallelism`` allows. A kind that fails stops the plan with its own error."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from reconciler.client.credentials import Credentials
from reconciler.client.v1 import CceClient
from tests.faultproxy import FaultProxy, fault_proxy

from .conftest import Workspace

CONFIG = """users:
  - username: ccetest
    password: {env: CCR_PASSWORD}
namespaces:
  - name: team-a
  - name: team-b
repositories:
  - namespace: team-a
    name: api
    tags: [v1]
clusters:
  - name: prod
    version: "1.20.8"
    mainAvailableZone: zoneA
    containerNet: 172.16.0.0/16
    workers: {count: 2, instanceType: "10", cpu: 4, memory: 8, imageId: m-1, subnetUuid: sbn-1, securityGroupId: g-1}
"""


# what a node list would say of the deleted cluster, were it used
NODES = [
    {"instanceShortId": f"i-{n}", "instanceUuid": f"u-{n}", "status": "RUNNING"} for n in (1, 2)
]


@pytest.fixture
def proxy(ws: Workspace) -> Iterator[FaultProxy]:
    with fault_proxy(ws.emulator.url) as running:
        (ws.root / "main.yaml").write_text(f"target:\n  endpoint: {running.url}\n{CONFIG}")
        applied = ws.cli("apply", str(ws.root), "--auto-approve")
        assert applied.code == 0, applied.out + applied.err
        yield running


def is_get(path: str) -> object:
    return lambda call: call.method == "GET" and call.path == path


def test_after_the_user_the_lists_and_the_node_list_are_asked_at_once(
    ws: Workspace, proxy: FaultProxy
) -> None:
    together = proxy.rendezvous(
        is_get("/v1/image/namespace"),
        is_get("/v1/image"),
        is_get("/v1/cluster"),
        is_get("/v1/node"),
    )
    since = ws.emulator.next_index()
    plan = ws.cli("plan", str(ws.root), "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err
    assert "No changes" in plan.out
    assert together.met
    sent = [(e["method"], e["path"]) for e in ws.emulator.requests_log(since)]
    assert sent[0] == ("GET", "/v1/image/user")
    assert sorted(sent[1:]) == [
        ("GET", "/v1/cluster"),
        ("GET", "/v1/image"),
        ("GET", "/v1/image/namespace"),
        ("GET", "/v1/node"),
    ]


def test_the_registry_user_is_read_alone(ws: Workspace, proxy: FaultProxy) -> None:
    alone = proxy.rendezvous(
        is_get("/v1/image/user"), lambda call: "user" not in call.path, within=0.5
    )
    assert ws.cli("plan", str(ws.root), "--detailed-exitcode").code == 0
    assert not alone.met


def test_a_cluster_the_list_lacks_is_read_by_id_not_taken_from_its_node_list(
    ws: Workspace, proxy: FaultProxy
) -> None:
    cluster_id = json.loads(ws.state_file().read_text())["resources"]["cluster.prod"]["cloud_id"]
    proxy.rewrite("/v1/cluster", lambda call, data: {**data, "clusters": []})
    since = ws.emulator.next_index()
    plan = ws.cli("plan", str(ws.root), "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err  # GET /v1/cluster/{id} finds it: in sync
    assert "No changes" in plan.out
    sent = [e["path"] for e in ws.emulator.requests_log(since)]
    assert sent.count(f"/v1/cluster/{cluster_id}") == 1
    assert sent.count("/v1/node") == 2  # read ahead (unused), then with the cluster by id


def test_a_cluster_gone_is_planned_from_the_cluster_list_whatever_its_node_list_says(
    ws: Workspace, proxy: FaultProxy
) -> None:
    cluster_id = json.loads(ws.state_file().read_text())["resources"]["cluster.prod"]["cloud_id"]
    credentials = Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    with CceClient.connect(ws.emulator.url, credentials) as client:
        client.delete_cluster(cluster_id)
    proxy.rewrite("/v1/node", lambda call, data: {**data, "nodes": NODES})
    since = ws.emulator.next_index()
    plan = ws.cli("plan", str(ws.root))
    assert "+ cluster.prod will be created" in plan.out, plan.out + plan.err
    assert "deleted outside the reconciler" in plan.out
    assert [e["path"] for e in ws.emulator.requests_log(since)].count("/v1/node") == 1


@pytest.mark.parametrize("parallelism", [1, 2])
def test_no_more_requests_are_in_flight_than_parallelism(
    ws: Workspace, proxy: FaultProxy, parallelism: int
) -> None:
    proxy.most_in_flight = 0
    plan = ws.cli("plan", str(ws.root), "--parallelism", str(parallelism), "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err
    assert 1 <= proxy.most_in_flight <= parallelism


def test_a_kind_that_fails_stops_the_plan_with_its_own_error(
    ws: Workspace, proxy: FaultProxy
) -> None:
    proxy.rewrite("/v1/image/user", lambda call, data: {"unexpected": True})
    plan = ws.cli("plan", str(ws.root))
    assert plan.code == 1
    assert "GET /v1/image/user" in plan.err and "username" in plan.err, plan.err
    assert "Traceback" not in plan.err and "internal error" not in plan.err

"""Refresh reads kinds that do not depend on each other at once, within ``--parallelism``: after
the first kind (the registry user, read alone, so that a dead endpoint costs one request's
attempts), the namespaces, the repositories and the v1 clusters are listed together; the
namespaces only once the registry user is read (their list is asked per user); no more requests
are ever in flight than ``--parallelism`` allows. A kind that fails stops the plan with its own
error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faultproxy import Call, FaultProxy, fault_proxy

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


@pytest.fixture
def proxy(ws: Workspace) -> Iterator[FaultProxy]:
    with fault_proxy(ws.emulator.url) as running:
        (ws.root / "main.yaml").write_text(f"target:\n  endpoint: {running.url}\n{CONFIG}")
        applied = ws.cli("apply", str(ws.root), "--auto-approve")
        assert applied.code == 0, applied.out + applied.err
        yield running


def is_get(path: str) -> object:
    return lambda call: call.method == "GET" and call.path == path


def test_the_registry_and_the_clusters_are_listed_at_once(ws: Workspace, proxy: FaultProxy) -> None:
    together = proxy.rendezvous(is_get("/v1/image/user"), is_get("/v1/cluster"))
    plan = ws.cli("plan", str(ws.root), "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err
    assert "No changes" in plan.out
    assert together.met


def test_the_namespaces_wait_for_the_registry_user(ws: Workspace, proxy: FaultProxy) -> None:
    asked: list[str] = []

    def seen(call: Call) -> bool:
        asked.append(call.path)
        return False

    proxy.rendezvous(seen, within=0)
    assert ws.cli("plan", str(ws.root), "--detailed-exitcode").code == 0
    assert asked.index("/v1/image/namespace") > asked.index("/v1/image/user")
    assert asked.index("/v1/image") > asked.index("/v1/image/user")


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

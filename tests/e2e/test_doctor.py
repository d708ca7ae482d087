"""`reconciler doctor` against the emulator over real HTTP: read-only, every list checked, and a
shape mismatch (from a small rewriting proxy in front of the emulator) reported with the keys
the answer had."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.client.credentials import Credentials
from reconciler.client.transport import ApiResponse
from reconciler.client.v1 import CceClient
from reconciler.client.v2 import PREFIX as V2_PREFIX
from reconciler.client.v2_types import (
    ClusterCreate,
    ClusterSpecBody,
    ContainerNetworkConfig,
    InstanceGroupCreate,
    InstanceSpecBody,
    MasterConfig,
)
from reconciler.commands import doctor
from reconciler.emulator.testing import EmulatorHandle
from tests.faultproxy import Call, FaultProxy, fault_proxy

from .conftest import PASSWORD, Result, Workspace

CLUSTER = {
    "clusterName": "prod",
    "version": "1.20.8",
    "mainAvailableZone": "zoneA",
    "containerNet": "172.16.0.0/16",
    "orderContent": {
        "items": [
            {
                "config": {
                    "serviceType": "BCC",
                    "productType": "postpay",
                    "instanceType": "10",
                    "cpu": 4,
                    "memory": 8,
                    "purchaseNum": 2,
                    "imageId": "m-1",
                    "subnetUuid": "sbn-1",
                    "securityGroupId": "g-1",
                }
            }
        ]
    },
}
EVERY_CHECK = [  # phase by phase (reach, lists, notes, details, facts), kinds in registry order
    "credentials",
    "clock",
    "clusters",
    "v2 clusters",
    "user",
    "namespaces",
    "images",
    "namespace get",
    "image meta get",
    "nodes",
    "v2 autoscaler",
    "v2 groups",
    "v2 nodes",
    "v2 upgrades",
    "v2 add-ons",
    "quota",
    "versions",
    "v2 quota",
    "v2 node quota",
]
V2_CLUSTER = """
k8s_clusters:
  - name: prod-v2
    k8sVersion: "1.28.8"
    vpcID: vpc-1
    lbServiceVPCSubnetID: sbn-lb
    podCIDR: 172.28.0.0/16
"""


def run_doctor(config: Path, *args: str) -> Result:
    """The command as `reconciler doctor` runs it (until cli.py registers it: through click)."""
    outcome = CliRunner().invoke(doctor.command, [*args, str(config)], standalone_mode=False)
    if outcome.exception is not None:
        raise outcome.exception
    return Result(int(outcome.return_value), outcome.output, "")


@pytest.fixture
def world(emulator: EmulatorHandle) -> EmulatorHandle:
    """A user, a namespace, a tagged repository and a running cluster with two nodes."""
    credentials = Credentials(emulator.access_key_id, emulator.secret_access_key)
    with CceClient.connect(emulator.url, credentials) as client:
        client.create_user("ccetest", PASSWORD)
        client.create_namespace("team-a", public=False, user="ccetest")
        client.create_image_meta("team-a", "api", "latest", "payment API")
        client.create_cluster(CLUSTER)
        v2 = client.v2
        spec = ClusterSpecBody("prod-v2", "1.28.8", "vpc-1", MasterConfig("managedPro"),
                               ContainerNetworkConfig("kubenet", "sbn-lb", "172.28.0.0/16"))  # fmt: skip
        cluster_id = v2.create_cluster(ClusterCreate(spec)).cluster_id
        template = InstanceSpecBody("N3", "sbn-1", cpu=2, mem=8, image_id="m-1")
        v2.create_instance_group(cluster_id, InstanceGroupCreate("pool", template, 1))
    return emulator


def test_doctor_checks_every_list_and_sends_no_mutating_request(
    ws: Workspace, world: EmulatorHandle
) -> None:
    config = ws.write("")
    since = world.next_index()
    result = run_doctor(config)
    assert result.code == 0, result.out
    assert "All checks passed." in result.out
    for name in EVERY_CHECK:
        assert f" {name} " in result.out
    sent = world.requests_log(since)
    assert sent and all(e["method"] == "GET" and not e["mutating"] for e in sent)
    assert world.mutating_requests(since) == []
    assert {e["path"] for e in sent} >= {
        "/v1/cluster",
        "/v1/image/user",
        "/v1/image/namespace",
        "/v1/image",
        "/v1/node",
        "/v1/cluster/versions",
        f"{V2_PREFIX}/clusters",
        f"{V2_PREFIX}/quota/cluster",
    }
    v2_paths = {e["path"].rsplit("/", 1)[-1] for e in sent if e["path"].startswith(V2_PREFIX)}
    assert v2_paths >= {"node", "instancegroups", "instances", "addon",
                        "component_upgrade_versions"}  # fmt: skip


def test_doctor_json(ws: Workspace, world: EmulatorHandle) -> None:
    result = run_doctor(ws.write(""), "--json")
    report = json.loads(result.out)
    assert (result.code, report["ok"], report["endpoint"]) == (0, True, world.url)
    statuses = {check["name"]: check["status"] for check in report["checks"]}
    assert [c["name"] for c in report["checks"]] == EVERY_CHECK
    assert statuses["namespace get"] == statuses["image meta get"] == "note"
    assert {s for n, s in statuses.items() if "get" not in n} == {"ok"}
    autoscaler = next(c for c in report["checks"] if c["name"] == "v2 autoscaler")
    assert "not deployed yet" in autoscaler["detail"]


def test_doctor_before_anything_exists(ws: Workspace) -> None:
    result = run_doctor(ws.write(""), "--json")
    statuses = {c["name"]: c["status"] for c in json.loads(result.out)["checks"]}
    assert result.code == 0
    assert statuses == {
        "credentials": "ok",
        "clock": "ok",
        "clusters": "ok",
        "user": "ok",
        "namespaces": "skipped",
        "images": "skipped",
        "nodes": "skipped",
        "quota": "ok",
        "versions": "ok",
        "v2 clusters": "ok",
        "v2 quota": "ok",
        "v2 node quota": "skipped",
        "v2 groups": "skipped",
        "v2 nodes": "skipped",
        "v2 add-ons": "skipped",
        "v2 autoscaler": "skipped",
        "v2 upgrades": "skipped",
    }


def test_a_v2_configuration_checks_the_v2_api_and_says_what_it_skipped(
    ws: Workspace, world: EmulatorHandle
) -> None:
    since = world.next_index()
    result = run_doctor(ws.write(V2_CLUSTER), "--json")
    checks = json.loads(result.out)["checks"]
    statuses = {c["name"]: c["status"] for c in checks}
    assert result.code == 0, result.out
    assert statuses == {
        "credentials": "ok",
        "clock": "ok",
        "user": "skipped",
        "namespaces": "skipped",
        "images": "skipped",
        "clusters": "skipped",
        "nodes": "skipped",
        "quota": "skipped",
        "versions": "skipped",
        "v2 clusters": "ok",
        "v2 quota": "ok",
        "v2 node quota": "ok",
        "v2 groups": "ok",
        "v2 nodes": "ok",
        "v2 add-ons": "skipped",
        "v2 autoscaler": "skipped",
        "v2 upgrades": "skipped",
        "namespace get": "skipped",
        "image meta get": "skipped",
    }
    skipped = {c["name"]: c["detail"] for c in checks if c["status"] == "skipped"}
    assert skipped["clusters"] == "not used by this configuration (no clusters)"
    assert skipped["v2 add-ons"] == "not used by this configuration (no addons)"
    assert skipped["v2 autoscaler"] == skipped["v2 upgrades"] == "not used by this configuration"
    paths = {e["path"] for e in world.requests_log(since)}
    assert not any(p.startswith("/v1/") for p in paths)  # the credentials check is v2's too
    assert world.mutating_requests(since) == []


def test_refused_credentials_stop_the_checks(
    ws: Workspace, world: EmulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BCE_SECRET_ACCESS_KEY", "not-the-secret")
    result = run_doctor(ws.write(""))
    assert result.code == 1
    assert "failed    credentials" in result.out
    assert "SignatureDoesNotMatch" in result.out and "BCE_SECRET_ACCESS_KEY" in result.out
    assert " nodes " not in result.out  # nothing else is tried with refused credentials


# --- a shape mismatch, made by a proxy that rewrites the emulator's answers ------------------


def _renamed_nodes(call: Call, data: Any) -> Any:
    data["nodeList"] = data.pop("nodes")
    return data


def _namespaces_without_public(call: Call, data: Any) -> Any:
    for item in data["namespaces"]:
        del item["public"]
    return data


@pytest.fixture
def proxy(world: EmulatorHandle) -> Iterator[FaultProxy]:
    with fault_proxy(world.url) as running:
        running.rewrite("/v1/node", _renamed_nodes)
        running.rewrite("/v1/image/namespace", _namespaces_without_public)
        yield running


def test_a_shape_mismatch_is_reported_with_the_keys_seen(
    ws: Workspace, world: EmulatorHandle, proxy: FaultProxy
) -> None:
    config = ws.root / "main.yaml"
    config.write_text(f"target:\n  endpoint: {proxy.url}\n")
    since = world.next_index()
    result = run_doctor(config)
    assert result.code == 1, result.out
    lines = result.out.splitlines()
    nodes = next(i for i, line in enumerate(lines) if line.split()[:2] == ["mismatch", "nodes"])
    assert (
        "nodes: missing (keys present: {isTruncated, marker, maxKeys, nextMarker, nodeList})"
        in (lines[nodes])
    )
    assert "[request id " in lines[nodes]
    assert lines[nodes + 1].split() == [
        "keys",
        "in",
        "the",
        "answer:",
        "isTruncated,",
        "marker,",
        "maxKeys,",
        "nextMarker,",
        "nodeList",
    ]
    assert "namespaces[0].public: missing (keys present: {createTime, namespace})" in result.out
    assert "2 problem(s)" in result.out
    assert world.mutating_requests(since) == []

    report = json.loads(run_doctor(config, "--json").out)
    assert report["ok"] is False
    mismatches = {c["name"]: c for c in report["checks"] if c["status"] == "mismatch"}
    assert set(mismatches) == {"nodes", "namespaces"}
    assert mismatches["nodes"]["keys"] == [
        "isTruncated",
        "marker",
        "maxKeys",
        "nextMarker",
        "nodeList",
    ]
    assert mismatches["nodes"]["request"] == "GET /v1/node"


# --- the clock check, from a Date header -----------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "status"),
    [(timedelta(0), "ok"), (timedelta(minutes=5), "warning"), (timedelta(minutes=-20), "failed")],
)
def test_clock_skew_is_judged_against_the_signature_window(offset: timedelta, status: str) -> None:
    date = format_datetime(datetime.now(UTC) + offset, usegmt=True)
    checker = doctor.Doctor(client=None)  # type: ignore[arg-type]
    doctor.check_clock(checker, ApiResponse(200, None, "rid", {"Date": date}))
    (check,) = checker.checks
    assert (check.name, check.status) == ("clock", status)
    if status != "ok":
        assert ("ahead of" if offset < timedelta(0) else "behind") in check.detail

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
EVERY_CHECK = [
    "credentials",
    "clock",
    "clusters",
    "user",
    "namespaces",
    "images",
    "namespace get",
    "image meta get",
    "nodes",
    "quota",
    "versions",
]


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
    }


def test_doctor_json(ws: Workspace, world: EmulatorHandle) -> None:
    result = run_doctor(ws.write(""), "--json")
    report = json.loads(result.out)
    assert (result.code, report["ok"], report["endpoint"]) == (0, True, world.url)
    statuses = {check["name"]: check["status"] for check in report["checks"]}
    assert [c["name"] for c in report["checks"]] == EVERY_CHECK
    assert statuses["namespace get"] == statuses["image meta get"] == "note"
    assert {s for n, s in statuses.items() if "get" not in n} == {"ok"}


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
    }


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

"""/__emulator/*: reset, request log, faults, advance, state; loopback only, no signature."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from werkzeug.test import Client

from reconciler import error_codes
from reconciler.emulator.admin import is_loopback
from reconciler.emulator.testing import EmulatorHandle

from .helpers import Api, assert_error


def admin(emulator: EmulatorHandle, method: str, name: str, **kw: Any) -> requests.Response:
    return requests.request(method, f"{emulator.url}/__emulator/{name}", timeout=10, **kw)


def test_reset_empties_everything(api: Api, emulator: EmulatorHandle, user: str) -> None:
    api.create_namespace("team-a")
    api.put_tag("team-a", "api", "v1")
    api.create_cluster()
    emulator.set_faults(fault_rate=0.3, fail_next=["drop"], namespace_quota=3)
    emulator.advance(100)
    assert admin(emulator, "POST", "reset").json() == {"reset": True}
    state = emulator.state()
    assert (state["user"], state["namespaces"], state["images"], state["clusters"]) == (
        None,
        [],
        [],
        [],
    )
    assert state["clock"]["offset"] == 0
    assert emulator.requests_log() == []
    faults = emulator.faults()
    assert (faults["fault_rate"], faults["fail_next"], faults["namespace_quota"]) == (
        0.0,
        [],
        10_000,
    )


def test_request_log(api: Api, emulator: EmulatorHandle) -> None:
    api.get("/v1/cluster", {"status": "RUNNING"})
    api.post("/v1/image/namespace", {"namespace": "x", "public": False, "user": "nobody"})
    api.get("/v1/cluster", [("quota", None)])
    log = emulator.requests_log()
    assert [
        (e["index"], e["method"], e["path"], e["status"], e["code"], e["mutating"]) for e in log
    ] == [
        (0, "GET", "/v1/cluster", 200, None, False),
        (1, "POST", "/v1/image/namespace", 404, "RegistryUserNotFound", True),
        (2, "GET", "/v1/cluster", 200, None, False),
    ]
    assert log[0]["query"] == {"status": "RUNNING"} and log[2]["query"] == {"quota": ""}
    assert all(isinstance(e["time"], float) and e["requestId"] and e["fault"] is None for e in log)
    assert [e["index"] for e in emulator.requests_log(since=2)] == [2]
    assert emulator.next_index() == 3
    assert [e["path"] for e in emulator.mutating_requests()] == ["/v1/image/namespace"]
    assert_error(admin(emulator, "GET", "requests", params={"since": "-1"}), "InvalidURI")


def test_faults_roundtrip_and_validation(emulator: EmulatorHandle) -> None:
    changed = emulator.set_faults(
        fault_rate=0.25, jitter=5, seed=11, fail_next=["drop", "InternalError"]
    )
    assert (changed["fault_rate"], changed["latency_jitter_ms"], changed["seed"]) == (0.25, 5.0, 11)
    assert changed["fail_next"] == ["drop", "InternalError"]
    assert emulator.faults() == changed
    for bad in ({"fault_rate": 2}, {"fault_rate": "high"}, {"nonsense": 1}, {"seed": 1.5},
                {"fail_next": ["NoSuchCode"]}, {"fail_next": "drop"}, {"latency_ms": -1}):  # fmt: skip
        assert_error(admin(emulator, "POST", "faults", json=bad), "InappropriateJSON")
    assert emulator.faults() == changed  # a refused change changes nothing
    assert_error(admin(emulator, "POST", "faults", data=b"{nope"), "MalformedJSON")
    assert_error(admin(emulator, "POST", "faults", json=[1]), "InappropriateJSON")


def test_advance(emulator: EmulatorHandle) -> None:
    first = admin(emulator, "POST", "advance", json={"seconds": 90}).json()
    assert first["offset"] == 90
    assert admin(emulator, "POST", "advance", json={"seconds": 0.5}).json()["offset"] == 90.5
    for bad in ({"seconds": -1}, {"seconds": "1"}, {}, {"seconds": True}):
        assert_error(admin(emulator, "POST", "advance", json=bad), "InappropriateJSON")


def test_state(api: Api, emulator: EmulatorHandle, user: str) -> None:
    api.create_namespace("team-a", public=True)
    api.put_tag("team-a", "api", "v1", "payments")
    uuid = api.create_cluster(workers=2)
    state = emulator.state()
    assert state["user"]["username"] == "ccetest" and len(state["user"]["passwordSha256"]) == 64
    assert [(n["namespace"], n["public"], n["user"]) for n in state["namespaces"]] == [
        ("team-a", True, "ccetest")
    ]
    assert [(i["repository"], i["tags"], i["description"]) for i in state["images"]] == [
        ("api", ["v1"], "payments")
    ]
    (cluster,) = state["clusters"]
    assert cluster["clusterUuid"] == uuid and cluster["status"] == "RUNNING"
    assert len(cluster["nodes"]) == 2 and cluster["nodes"][0]["clusterUuid"] == uuid


def test_unknown_admin_endpoint(emulator: EmulatorHandle) -> None:
    assert_error(admin(emulator, "GET", "nothing"), "InvalidURI")
    assert_error(admin(emulator, "GET", "reset"), "InvalidURI")


def test_no_signature_needed_and_not_logged(emulator: EmulatorHandle) -> None:
    assert admin(emulator, "GET", "state").status_code == 200
    assert emulator.requests_log() == []


def test_non_loopback_clients_are_refused(emulator: EmulatorHandle) -> None:
    client = Client(emulator.running.parts.app)
    response = client.get("/__emulator/state", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    body = json.loads(response.get_data())
    assert response.status_code == 403
    assert body == {
        "code": "AccessDenied",
        "message": error_codes.get("AccessDenied").message,
        "requestId": response.headers["x-bce-request-id"],
    }
    local = client.get("/__emulator/state", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert local.status_code == 200


@pytest.mark.parametrize(
    ("address", "loopback"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("::ffff:127.0.0.1", True),
     ("10.0.0.1", False), ("::ffff:10.0.0.1", False), ("", False), ("<local>", False), (None, False)],
)  # fmt: skip
def test_is_loopback(address: str | None, loopback: bool) -> None:
    assert is_loopback(address) is loopback

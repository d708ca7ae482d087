"""Injected latency, faults and throttling: seeded, reproducible, and drop-after-commit commits."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
import requests

from reconciler.emulator.testing import EmulatorHandle

from .helpers import Api, assert_error
from .test_protocol import signed_headers


def outcomes(api: Api, count: int, mutating: bool = False) -> list[str]:
    """What each of ``count`` requests got: an error code, "ok" or "reset"."""
    seen = []
    for i in range(count):
        try:
            if mutating:
                response = api.post(
                    "/v1/image/namespace", {"namespace": f"ns{i}", "public": False, "user": "x"}
                )
            else:
                response = api.get("/v1/cluster/versions")
        except requests.ConnectionError:
            seen.append("reset")
            continue
        seen.append("ok" if response.status_code == 200 else response.json()["code"])
    return seen


def test_faults_are_reproducible_for_a_seed(api: Api, emulator: EmulatorHandle) -> None:
    emulator.set_faults(fault_rate=0.5, seed=7)
    first = outcomes(api, 40)
    emulator.reset()
    emulator.set_faults(fault_rate=0.5, seed=7)
    assert outcomes(api, 40) == first
    emulator.reset()
    emulator.set_faults(fault_rate=0.5, seed=8)
    assert outcomes(api, 40) != first


def test_a_fault_rate_mixes_every_kind(api: Api, emulator: EmulatorHandle) -> None:
    emulator.set_faults(fault_rate=1.0, seed=3)
    reads = outcomes(api, 60)
    assert set(reads) == {"InternalError", "ServiceUnavailable", "RequestLimitExceeded", "reset"}
    outcomes(api, 60, mutating=True)
    writes = [entry["fault"] for entry in emulator.mutating_requests()]
    assert set(writes) == {
        "InternalError",
        "ServiceUnavailable",
        "RequestLimitExceeded",
        "reset",
        "drop",
    }


def test_no_faults_at_rate_zero(api: Api, emulator: EmulatorHandle) -> None:
    assert set(outcomes(api, 20)) == {"ok"}


@pytest.mark.parametrize("code", ["InternalError", "ServiceUnavailable", "RequestLimitExceeded"])
def test_forced_error_codes(api: Api, emulator: EmulatorHandle, user: str, code: str) -> None:
    emulator.set_faults(fail_next=[code])
    assert api.get("/v1/image/user").status_code == 200  # reads are not in the queue
    body = {"namespace": "team-a", "public": False, "user": user}
    assert_error(api.post("/v1/image/namespace", body), code)
    assert emulator.state()["namespaces"] == []  # nothing was done
    assert api.post("/v1/image/namespace", body).status_code == 200


def test_any_code_of_the_table_can_be_forced(api: Api, emulator: EmulatorHandle) -> None:
    emulator.set_faults(fail_next_any=["Cce.ClusterDeleting", "InternalServerError"])
    assert_error(api.get("/v1/cluster"), "Cce.ClusterDeleting")
    assert_error(api.get("/v1/cluster"), "InternalServerError")
    assert api.get("/v1/cluster").status_code == 200


def test_drop_after_commit_really_commits(api: Api, emulator: EmulatorHandle, user: str) -> None:
    emulator.set_faults(fail_next=["drop"])
    with pytest.raises(requests.ConnectionError):
        api.post("/v1/image/namespace", {"namespace": "team-a", "public": False, "user": user})
    assert api.ok(api.get("/v1/image/namespace/team-a"))["namespace"] == "team-a"
    entry = emulator.mutating_requests()[-1]
    assert (entry["path"], entry["fault"], entry["status"]) == ("/v1/image/namespace", "drop", 200)


def test_drop_after_commit_of_a_cluster_create(api: Api, emulator: EmulatorHandle) -> None:
    emulator.set_faults(fail_next=["drop"])
    with pytest.raises(requests.ConnectionError):
        api.create_cluster()
    assert len(emulator.state()["clusters"]) == 1


def test_reset_before_processing_does_nothing(
    api: Api, emulator: EmulatorHandle, user: str
) -> None:
    emulator.set_faults(fail_next=["reset"])
    with pytest.raises(requests.ConnectionError):
        api.post("/v1/image/namespace", {"namespace": "team-a", "public": False, "user": user})
    assert_error(api.get("/v1/image/namespace/team-a"), "RegistryNamespaceNotFound")
    entry = emulator.mutating_requests()[-1]
    assert (entry["path"], entry["fault"], entry["status"]) == (
        "/v1/image/namespace",
        "reset",
        None,
    )


def test_the_client_sees_a_tcp_reset(emulator: EmulatorHandle) -> None:
    emulator.set_faults(fail_next_any=["reset"])
    parts = urlsplit(emulator.url)
    headers = signed_headers(emulator, "GET", "/v1/cluster/versions")
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(f"GET /v1/cluster/versions HTTP/1.1\r\n{lines}\r\n".encode())
        with pytest.raises(ConnectionResetError):
            if sock.recv(4096) == b"":
                pytest.fail("the connection was closed, not reset")


def test_latency(api: Api, emulator: EmulatorHandle) -> None:
    emulator.set_faults(latency_ms=150, jitter=10)
    started = time.perf_counter()
    assert api.get("/v1/cluster/versions").status_code == 200
    assert time.perf_counter() - started >= 0.15
    emulator.set_faults(latency_ms=0, latency_jitter_ms=0)


def test_throttling(api: Api, emulator: EmulatorHandle) -> None:
    emulator.set_faults(throttle_rps=5)
    codes = outcomes(api, 20)
    assert codes.count("ok") >= 5 and "RequestLimitExceeded" in codes
    assert {entry["fault"] for entry in emulator.requests_log() if entry["code"]} == {"throttle"}
    emulator.set_faults(throttle_rps=0)
    assert set(outcomes(api, 10)) == {"ok"}


def test_admin_endpoints_are_never_faulted(api: Api, emulator: EmulatorHandle) -> None:
    emulator.set_faults(fault_rate=1.0, throttle_rps=1, fail_next_any=["reset"])
    for _ in range(5):
        assert emulator.state()["user"] is None
    assert emulator.requests_log() == []

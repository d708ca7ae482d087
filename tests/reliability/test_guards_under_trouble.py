"""Auth failures, a dead endpoint and two concurrent applies: each gets the right exit code and a
clear message, is never retried where retrying cannot help, and leaves the state intact."""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from reconciler.client import signer
from reconciler.client.credentials import Credentials
from reconciler.client.transport import Transport
from reconciler.client.v1 import CceClient
from reconciler.errors import AuthError
from tests.e2e.conftest import BASE, Workspace

from .test_faults import record

ROOT = Path(__file__).resolve().parents[2]


def signed_headers(
    ws: Workspace, method: str, path: str, query: dict[str, str], body: bytes
) -> dict[str, str]:
    host = ws.emulator.url.split("://", 1)[1]
    now = datetime.now(UTC)
    headers = {
        "Host": host,
        "Content-Type": "application/json; charset=utf-8",
        "Content-Length": str(len(body)),
        "x-bce-date": signer.format_timestamp(now),
    }
    headers["Authorization"] = signer.sign(
        ws.emulator.access_key_id, ws.emulator.secret_access_key, method, path, query, headers, now
    )
    return headers


@pytest.mark.parametrize("part", ["path", "query", "body", "header", "date"])
def test_tampered_requests_are_refused_with_signature_mismatch(ws: Workspace, part: str) -> None:
    body = b'{"namespace": "team-a", "public": false, "user": "ccetest"}'
    path, query = "/v1/image/namespace", {"user": "ccetest"}
    headers = signed_headers(ws, "POST", path, query, body)
    if part == "path":
        path = "/v1/image/namespaces"
    elif part == "query":
        query = {"user": "mallory"}
    elif part == "body":
        body = b'{"namespace": "evil-namespace", "public": true, "user": "ccetest"}'  # content-length is signed
    elif part == "header":
        headers["Content-Type"] = "text/plain"
    else:
        headers["x-bce-date"] = signer.format_timestamp(datetime.now(UTC) + timedelta(seconds=5))
    answer = requests.post(
        ws.emulator.url + path, params=query, data=body, headers=headers, timeout=5
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "SignatureDoesNotMatch"
    assert ws.emulator.state()["namespaces"] == []


def test_wrong_secret_and_clock_skew_are_not_retried(ws: Workspace) -> None:
    wrong = CceClient.connect(
        ws.emulator.url, Credentials(ws.emulator.access_key_id, "not-the-secret")
    )
    with pytest.raises(AuthError) as wrong_error:
        wrong.list_clusters()
    assert wrong_error.value.code == "SignatureDoesNotMatch"
    assert str(wrong_error.value).endswith(
        "; check BCE_SECRET_ACCESS_KEY: it must be the secret of BCE_ACCESS_KEY_ID"
    )
    creds = Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    skewed = CceClient(
        Transport(ws.emulator.url, creds, now=lambda: datetime.now(UTC) - timedelta(hours=2))
    )
    with pytest.raises(AuthError) as skew_error:
        skewed.list_clusters()
    assert skew_error.value.code == "RequestExpired"
    assert "check this machine's clock" in str(skew_error.value)
    assert len(ws.emulator.requests_log()) == 2, "each refused request was sent once, never retried"


def test_a_403_never_means_gone(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    ws.write(BASE)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    before = ws.state_file().read_bytes()
    monkeypatch.setenv("BCE_ACCESS_KEY_ID", "somebody-else")
    refused = ws.cli("apply", str(ws.root), "--auto-approve")
    assert refused.code == 1
    assert "InvalidAccessKeyId" in refused.err
    assert "; check BCE_ACCESS_KEY_ID" in refused.err  # what to do about it
    assert ws.state_file().read_bytes() == before, "a refused run leaves the state as it was"
    monkeypatch.setenv("BCE_ACCESS_KEY_ID", ws.emulator.access_key_id)
    ws.write(BASE.replace("  - namespace: team-b\n    name: web\n    tags: [latest]\n", ""))
    ws.emulator.set_faults(fail_next=["AccessDenied"])
    denied = ws.cli("apply", str(ws.root), "--auto-approve")
    assert denied.code == 1
    assert "AccessDenied" in denied.out
    state = ws.cli("state", "list", "-c", str(ws.root))
    assert "repository.team-b/web" in state.out, "a refused delete keeps the resource in state"
    assert any(i["repository"] == "web" for i in ws.emulator.state()["images"])


def test_retry_budget_stops_a_dead_endpoint(ws: Workspace) -> None:
    ws.write(BASE)
    ws.emulator.set_faults(fail_next_any=["ServiceUnavailable"] * 500)
    start = time.monotonic()
    result = ws.cli("apply", str(ws.root), "--auto-approve", "--retry-budget", "3")
    elapsed = time.monotonic() - start
    assert result.code == 1
    assert "giving up after 3 retries" in result.err
    assert "ServiceUnavailable" in result.err
    sent = len(ws.emulator.requests_log())
    # and one attempt of each list asked for the declared user beside the user's GET (never
    # retried: a guess that fails is asked again once the user is read)
    assert sent <= 3 + 1 + 2, f"{sent} requests for a budget of 3 retries"
    assert not ws.state_file().exists(), "nothing happened, so no state was written"
    assert ws.emulator.mutating_requests() == []
    record({"suite": "retry-budget", "requests": sent, "seconds": round(elapsed, 2)})


def start_apply(ws: Workspace) -> subprocess.Popen[str]:
    return ws.spawn("apply", str(ws.root), "--auto-approve", "--parallelism", "2")


def test_two_applies_on_one_state_exactly_one_proceeds(ws: Workspace) -> None:
    ws.write(BASE)
    ws.emulator.set_faults(latency_ms=400)  # the winner takes a few seconds
    first = start_apply(ws)
    deadline = time.monotonic() + 20
    while (
        not (ws.root / ".reconciler" / "state.json.lock").exists() or not ws.emulator.requests_log()
    ):
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.01)
    started = time.monotonic()
    second = start_apply(ws)
    _, err = second.communicate(timeout=30)
    loser_seconds = time.monotonic() - started
    assert second.returncode == 4, err
    assert "locked" in err and f"pid {first.pid}" in err
    assert first.poll() is None, "the loser gave up while the winner was still working"
    out, err1 = first.communicate(timeout=60)
    assert first.returncode == 0, out + err1
    record({"suite": "concurrency", "loser_exit": 4, "loser_seconds": round(loser_seconds, 2)})


def test_a_dead_endpoint_stops_after_the_attempts_of_one_request(ws: Workspace) -> None:
    ws.write(BASE)
    ws.emulator.set_faults(fail_next_any=["ServiceUnavailable"] * 500)
    result = ws.cli("plan", str(ws.root))
    assert result.code == 1
    assert "HTTP 503 ServiceUnavailable" in result.err and "request id" in result.err
    sent = sorted((e["path"], e["query"].get("user")) for e in ws.emulator.requests_log())
    # max attempts per request, then a clear error; the lists asked for the declared user
    # beside the user's GET are tried once (a guess that fails is asked again, never retried)
    assert sent == [
        ("/v1/image", "ccetest"),
        ("/v1/image/namespace", "ccetest"),
        *[("/v1/image/user", None)] * 5,
    ]

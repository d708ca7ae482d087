"""HTTP-level behaviour shared by every endpoint: headers, bodies, bad JSON, bad paths."""

from __future__ import annotations

import http.client
import json
import socket
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from reconciler.client import signer
from reconciler.emulator.testing import EmulatorHandle

from .helpers import UUID4, Api, assert_error


def test_success_has_json_content_type_and_request_id(api: Api, user: str) -> None:
    response = api.get("/v1/image/user")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert UUID4.fullmatch(response.headers["x-bce-request-id"])
    assert response.headers["Server"] == "BWS"
    assert "Date" in response.headers


def test_request_ids_differ(api: Api) -> None:
    first, second = api.get("/v1/cluster/versions"), api.get("/v1/cluster/versions")
    assert first.headers["x-bce-request-id"] != second.headers["x-bce-request-id"]


def test_undocumented_success_body_is_empty(api: Api) -> None:
    response = api.post(
        "/v1/image/user",
        {"username": "ccetest", "password": "passwd123", "passwordConfirmation": "passwd123"},
    )
    assert response.status_code == 200
    assert response.content == b""


def test_malformed_json(api: Api) -> None:
    assert_error(api.post("/v1/image/user", data=b'{"username": '), "MalformedJSON")


def test_body_that_is_not_utf8_is_malformed(api: Api) -> None:
    assert_error(api.post("/v1/image/namespace", data=b"\xff\xfe{}"), "MalformedJSON")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/image/user", ["a", "list"]),
        ("/v1/image/user", {"username": 42, "password": "p", "passwordConfirmation": "p"}),
        ("/v1/image/namespace", {"namespace": "team-a", "public": "no", "user": "ccetest"}),
        ("/v1/image/meta", {"namespace": "a", "repository": ["r"], "tag": "t"}),
        ("/v1/cluster", {"clusterName": "x", "orderContent": []}),
        ("/v1/cluster", {"clusterName": "x", "orderContent": {"items": {"config": {}}}}),
        (
            "/v1/cluster",
            {"clusterName": "x", "orderContent": {"items": [{"config": {"serviceType": 1}}]}},
        ),
        (
            "/v1/cluster",
            {"orderContent": {"items": [{"config": {"serviceType": "BCC", "cpu": "4"}}]}},
        ),
        (
            "/v1/cluster",
            {"orderContent": {"items": [{"config": {"serviceType": "BCC", "purchaseNum": True}}]}},
        ),
        (
            "/v1/cluster",
            {"orderContent": {"items": [{"config": {"serviceType": "BCC", "instanceType": 1.5}}]}},
        ),
    ],
)
def test_wrong_json_types_are_inappropriate(api: Api, path: str, body: object) -> None:
    assert_error(api.post(path, body), "InappropriateJSON")


def test_unknown_fields_are_ignored(api: Api) -> None:
    body = {
        "username": "ccetest",
        "password": "passwd123",
        "passwordConfirmation": "passwd123",
        "nickname": {"nested": [1, 2]},
    }
    assert api.post("/v1/image/user", body).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/nothing"),
        ("GET", "/v1"),
        ("POST", "/v1/image/namespace/team-a"),  # known path, wrong method
        ("PUT", "/v1/cluster"),
        ("GET", "/v1/cluster/c-abc/extra"),
    ],
)
def test_unknown_path_under_v1_is_invalid_uri(api: Api, method: str, path: str) -> None:
    assert_error(api(method, path), "InvalidURI")


@pytest.mark.parametrize("path", ["/v3/cluster", "/", "/cluster", "/V1/cluster", "/v1.0/cluster"])
def test_other_version_prefix_is_invalid_version(api: Api, path: str) -> None:
    assert_error(api.get(path), "InvalidVersion")


def test_unknown_path_is_still_authenticated_first(emulator: EmulatorHandle) -> None:
    response = http_request(emulator, "GET", "/v1/nothing", {})
    assert json.loads(response[1])["code"] == "InvalidHTTPAuthHeader"


def test_keep_alive_serves_several_requests_on_one_connection(emulator: EmulatorHandle) -> None:
    parts = urlsplit(emulator.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    for _ in range(3):
        headers = signed_headers(emulator, "GET", "/v1/cluster/versions")
        connection.request("GET", "/v1/cluster/versions", headers=headers)
        response = connection.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["data"]
    sock = connection.sock
    assert sock is not None and sock.fileno() != -1  # the same socket carried all three
    connection.close()


def test_chunked_request_body_is_read(emulator: EmulatorHandle, api: Api) -> None:
    parts = urlsplit(emulator.url)
    body = json.dumps(
        {"username": "ccetest", "password": "passwd123", "passwordConfirmation": "passwd123"}
    )
    headers = signed_headers(emulator, "POST", "/v1/image/user", {"Transfer-Encoding": "chunked"})
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    chunks = iter([body[:10].encode(), body[10:].encode()])
    connection.request("POST", "/v1/image/user", body=chunks, headers=headers, encode_chunked=True)
    response = connection.getresponse()
    assert response.status == 200, response.read()
    connection.close()
    assert api.ok(api.get("/v1/image/user"))["username"] == "ccetest"


@pytest.mark.parametrize(
    "framing",
    [b"Content-Length: nope\r\n\r\n", b"Content-Length: -4\r\n\r\n",
     b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", b"Content-Length: 99\r\n\r\n{}"],
    ids=["not-a-number", "negative", "broken-chunks", "ends-early"],
)  # fmt: skip
def test_a_body_that_cannot_be_framed_is_an_invalid_http_request(
    emulator: EmulatorHandle, framing: bytes
) -> None:
    parts = urlsplit(emulator.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(b"POST /v1/image/user HTTP/1.1\r\nHost: x\r\n" + framing)
        if framing.endswith(b"{}"):
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"Connection: close" in head
    assert json.loads(body)["code"] == "InvalidHTTPRequest"


def signed_headers(
    emulator: EmulatorHandle, method: str, path: str, extra: dict[str, str] | None = None
) -> dict[str, str]:
    now = datetime.now(UTC)
    headers = {
        "Host": urlsplit(emulator.url).netloc,
        "x-bce-date": signer.format_timestamp(now),
        **(extra or {}),
    }
    headers["Authorization"] = signer.sign(
        emulator.access_key_id, emulator.secret_access_key, method, path, None, headers, now,
        signed_headers=["host", "x-bce-date"],
    )  # fmt: skip
    return headers


def http_request(
    emulator: EmulatorHandle, method: str, path: str, headers: dict[str, str]
) -> tuple[int, bytes]:
    parts = urlsplit(emulator.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()

"""bce-auth-v1 on every API request: our signer, the official Python SDK, the Go SDK's style."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from baidubce.auth import bce_v1_signer
from baidubce.auth.bce_credentials import BceCredentials
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from reconciler.client import signer
from reconciler.emulator.auth import AuthFailure, authenticate, expired_message
from reconciler.emulator.testing import EmulatorHandle

from .helpers import Api, assert_error
from .signed import query_string, signed_request


def send(
    emulator: EmulatorHandle, method: str, path: str, headers: dict[str, str], **kw: Any
) -> requests.Response:
    return requests.request(method, emulator.url + path, headers=headers, timeout=10, **kw)


def test_missing_authorization(emulator: EmulatorHandle) -> None:
    assert_error(send(emulator, "GET", "/v1/cluster", {}), "InvalidHTTPAuthHeader")


@pytest.mark.parametrize(
    "value",
    [
        "Bearer abc",
        "bce-auth-v1/ak/2019-03-11T04:17:29Z/1800",
        "bce-auth-v1/ak/yesterday/1800//" + "a" * 64,
        "bce-auth-v1/ak/2019-03-11T04:17:29Z/soon//" + "a" * 64,
        "bce-auth-v1/ak/2019-03-11T04:17:29Z/1800//tooshort",
        "bce-auth-v1//2019-03-11T04:17:29Z/1800//" + "a" * 64,
    ],
)
def test_garbled_authorization(emulator: EmulatorHandle, value: str) -> None:
    assert_error(
        send(emulator, "GET", "/v1/cluster", {"Authorization": value}), "InvalidHTTPAuthHeader"
    )


def test_unknown_access_key(emulator: EmulatorHandle) -> None:
    response = signed_request(
        emulator.url, "someone-else", emulator.secret_access_key, "GET", "/v1/cluster"
    )
    assert_error(response, "InvalidAccessKeyId")


def test_wrong_secret(emulator: EmulatorHandle) -> None:
    response = signed_request(
        emulator.url, emulator.access_key_id, "not-the-secret", "GET", "/v1/cluster"
    )
    assert_error(response, "SignatureDoesNotMatch")


def test_expired_signature(api: Api) -> None:
    long_ago = datetime.now(UTC) - timedelta(seconds=1801)
    answer = api.get("/v1/cluster", timestamp=long_ago)
    assert answer.status_code == 400 and answer.json()["code"] == "RequestExpired"
    stamp = long_ago.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert answer.json()["message"] == f"Request has expired. Timestamp date is {stamp}."


@pytest.mark.parametrize("offset", [-1801, 16 * 60], ids=["expired", "far-future"])
def test_an_expired_signature_names_its_timestamp(offset: int) -> None:
    """The seed's message is a template, "Request has expired. Timestamp date is ."; the
    service fills in the request's timestamp (the answer carries it once the app sends
    ``AuthFailure.message``)."""
    moment = (datetime.now(UTC) + timedelta(seconds=offset)).replace(microsecond=0)
    headers = {"Host": "localhost", "x-bce-date": signer.format_timestamp(moment)}
    headers["Authorization"] = signer.sign("ak", "sk", "GET", "/v1/cluster", None, headers, moment)
    request = Request(EnvironBuilder(path="/v1/cluster", headers=headers).get_environ())
    with pytest.raises(AuthFailure) as info:
        authenticate(request, {"ak": "sk"})
    assert info.value.code == "RequestExpired"
    stamp = signer.format_timestamp(moment)
    assert info.value.message == f"Request has expired. Timestamp date is {stamp}."
    assert expired_message(moment) == info.value.message


def test_other_auth_failures_keep_the_tables_message() -> None:
    request = Request(
        EnvironBuilder(path="/v1/cluster", headers={"Authorization": "x"}).get_environ()
    )
    with pytest.raises(AuthFailure) as info:
        authenticate(request, {"ak": "sk"})
    assert (info.value.code, info.value.message) == ("InvalidHTTPAuthHeader", None)


def test_signature_from_the_far_future(api: Api) -> None:
    later = datetime.now(UTC) + timedelta(minutes=16)
    answer = api.get("/v1/cluster", timestamp=later)
    assert answer.status_code == 400 and answer.json()["code"] == "RequestExpired"
    assert later.strftime("%Y-%m-%dT%H:%M:%SZ") in answer.json()["message"]


def test_small_clock_skew_is_tolerated(api: Api) -> None:
    assert (
        api.get("/v1/cluster", timestamp=datetime.now(UTC) + timedelta(minutes=5)).status_code
        == 200
    )


def test_advancing_the_model_clock_does_not_expire_signatures(
    emulator: EmulatorHandle, api: Api
) -> None:
    emulator.advance(86_400)
    assert api.get("/v1/cluster").status_code == 200


def test_default_signed_headers(api: Api, user: str) -> None:
    body = {"namespace": "team-a", "public": True, "user": user}
    assert api.post("/v1/image/namespace", body, signed_headers=None).status_code == 200


def test_go_sdk_style_explicit_signed_headers(emulator: EmulatorHandle, api: Api) -> None:
    """bce-sdk-go: Content-Type application/json;charset=utf-8 and content-type;host;x-bce-date."""
    response = api.post(
        "/v1/cluster",
        {"clusterUuid": "c-unknown0", "orderContent": {"items": []}},
        query=[("scalingUp", None)],
        headers={"Content-Type": "application/json;charset=utf-8"},
        signed_headers=("content-type", "host", "x-bce-date"),
    )
    assert_error(response, "Cce.warning.ClusterNotExist")  # authenticated, then refused


def test_tampered_query_is_rejected(emulator: EmulatorHandle) -> None:
    now = datetime.now(UTC)
    headers = {"Host": urlsplit(emulator.url).netloc, "x-bce-date": signer.format_timestamp(now)}
    headers["Authorization"] = signer.sign(
        emulator.access_key_id, emulator.secret_access_key, "GET", "/v1/cluster",
        {"status": "RUNNING"}, headers, now, signed_headers=["host", "x-bce-date"],
    )  # fmt: skip
    assert send(emulator, "GET", "/v1/cluster?status=RUNNING", headers).status_code == 200
    assert_error(
        send(emulator, "GET", "/v1/cluster?status=DELETED", headers), "SignatureDoesNotMatch"
    )
    assert_error(
        send(emulator, "GET", "/v1/cluster/versions?status=RUNNING", headers),
        "SignatureDoesNotMatch",
    )
    assert_error(
        send(emulator, "DELETE", "/v1/cluster?status=RUNNING", headers), "SignatureDoesNotMatch"
    )


# -- the official bce-python-sdk signer ---------------------------------------------------------


def sdk_headers(
    emulator: EmulatorHandle,
    method: str,
    path: str,
    query: dict[str, str],
    body: bytes = b"",
    headers_to_sign: list[bytes] | None = None,
) -> dict[str, str]:
    """Sign with baidubce.auth.bce_v1_signer.sign; it takes the path as given, so encode it."""
    now = int(time.time())
    headers = {
        b"Host": urlsplit(emulator.url).netloc.encode(),
        b"x-bce-date": signer.format_timestamp(datetime.fromtimestamp(now, UTC)).encode(),
    }
    if body:
        headers[b"Content-Type"] = b"application/json; charset=utf-8"
        headers[b"Content-Length"] = str(len(body)).encode()
    credentials = BceCredentials(
        emulator.access_key_id.encode(), emulator.secret_access_key.encode()
    )
    params = {k.encode(): v.encode() for k, v in query.items()}
    authorization = bce_v1_signer.sign(
        credentials, method.encode(), signer.canonical_uri(path).encode(), headers, params,
        timestamp=now, headers_to_sign=headers_to_sign,
    )  # fmt: skip
    text_headers = {k.decode(): v.decode() for k, v in headers.items()}
    return text_headers | {"Authorization": authorization.decode()}


@pytest.mark.parametrize(
    "headers_to_sign",
    [None, [b"host", b"x-bce-date"], [b"host"]],
    ids=["default-set", "host-and-date", "host-only-sdk-quirk"],
)
def test_official_python_sdk_signatures_are_accepted(
    emulator: EmulatorHandle, api: Api, user: str, headers_to_sign: list[bytes] | None
) -> None:
    body = json.dumps({"namespace": "team-a", "public": False, "user": user}).encode()
    headers = sdk_headers(emulator, "POST", "/v1/image/namespace", {}, body, headers_to_sign)
    assert send(emulator, "POST", "/v1/image/namespace", headers, data=body).status_code == 200
    query = {"user": user, "maxKeys": "10"}
    headers = sdk_headers(
        emulator, "GET", "/v1/image/namespace", query, headers_to_sign=headers_to_sign
    )
    response = send(emulator, "GET", "/v1/image/namespace?" + query_string(query), headers)
    assert response.status_code == 200
    assert [n["namespace"] for n in response.json()["namespaces"]] == ["team-a"]


def test_official_python_sdk_with_an_encoded_path(emulator: EmulatorHandle, user: str) -> None:
    path = "/v1/image/namespace/测试 space"
    headers = sdk_headers(emulator, "GET", path, {}, headers_to_sign=[b"host", b"x-bce-date"])
    response = send(emulator, "GET", signer.canonical_uri(path), headers)
    assert_error(response, "RegistryNamespaceNotFound")  # authenticated, then not found


def test_official_python_sdk_signatures_fail_once_tampered(
    emulator: EmulatorHandle, user: str
) -> None:
    query = {"user": user}
    headers = sdk_headers(
        emulator, "GET", "/v1/image/namespace", query, headers_to_sign=[b"host", b"x-bce-date"]
    )
    assert send(emulator, "GET", "/v1/image/namespace?user=" + user, headers).status_code == 200
    assert_error(
        send(emulator, "GET", "/v1/image/namespace?user=other", headers), "SignatureDoesNotMatch"
    )
    assert_error(send(emulator, "GET", "/v1/image?user=" + user, headers), "SignatureDoesNotMatch")
    later = dict(headers, **{"x-bce-date": "2030-01-01T00:00:00Z"})
    assert_error(
        send(emulator, "GET", "/v1/image/namespace?user=" + user, later), "SignatureDoesNotMatch"
    )
    flipped = headers["Authorization"][:-1] + ("0" if headers["Authorization"][-1] != "0" else "1")
    forged = dict(headers, Authorization=flipped)
    assert_error(
        send(emulator, "GET", "/v1/image/namespace?user=" + user, forged), "SignatureDoesNotMatch"
    )


def test_official_python_sdk_body_headers_are_signed(emulator: EmulatorHandle, user: str) -> None:
    body = json.dumps({"namespace": "team-a", "public": False, "user": user}).encode()
    headers = sdk_headers(emulator, "POST", "/v1/image/namespace", {}, body)  # default set
    other = json.dumps({"namespace": "team-bb", "public": False, "user": user}).encode()
    assert_error(
        send(emulator, "POST", "/v1/image/namespace", headers, data=other), "SignatureDoesNotMatch"
    )

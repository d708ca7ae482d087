"""Shared helpers for the emulator tests: a signed API caller, error checks, request bodies."""

from __future__ import annotations

import re
from typing import Any

import requests

from reconciler import error_codes
from reconciler.emulator.testing import EmulatorHandle

from .signed import Query, signed_request

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
USERNAME = "ccetest"
PASSWORD = "passwd123"


class Api:
    """Signed calls to one emulator: ``api.get("/v1/cluster", {"status": "RUNNING"})``."""

    def __init__(self, emulator: EmulatorHandle) -> None:
        self.emulator = emulator
        self.session = requests.Session()

    def __call__(
        self, method: str, path: str, query: Query | None = None, json: Any = None, **kw: Any
    ) -> requests.Response:
        e = self.emulator
        return signed_request(
            e.url, e.access_key_id, e.secret_access_key, method, path, query, json,
            session=self.session, **kw,
        )  # fmt: skip

    def get(self, path: str, query: Query | None = None, **kw: Any) -> requests.Response:
        return self("GET", path, query, **kw)

    def post(
        self, path: str, json: Any = None, query: Query | None = None, **kw: Any
    ) -> requests.Response:
        return self("POST", path, query, json, **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> requests.Response:
        return self("PUT", path, None, json, **kw)

    def delete(self, path: str, query: Query | None = None, **kw: Any) -> requests.Response:
        return self("DELETE", path, query, **kw)

    def ok(self, response: requests.Response) -> Any:
        assert response.status_code == 200, response.text
        return response.json() if response.content else None

    # Short cuts for setting the scene.

    def create_user(self, username: str = USERNAME, password: str = PASSWORD) -> None:
        body = {"username": username, "password": password, "passwordConfirmation": password}
        self.ok(self.post("/v1/image/user", body))

    def create_namespace(self, name: str, public: bool = False, user: str = USERNAME) -> None:
        self.ok(
            self.post("/v1/image/namespace", {"namespace": name, "public": public, "user": user})
        )

    def put_tag(
        self, namespace: str, repository: str, tag: str, description: str | None = None
    ) -> None:
        body = {"namespace": namespace, "repository": repository, "tag": tag}
        if description is not None:
            body["description"] = description
        self.ok(self.post("/v1/image/meta", body))

    def create_cluster(self, **overrides: Any) -> str:
        data = self.ok(self.post("/v1/cluster", cluster_body(**overrides)))
        return str(data["clusterUuid"])


def assert_error(response: requests.Response, code: str) -> None:
    """Status, code and message exactly from the error table; request id in body and header."""
    entry = error_codes.get(code)
    assert response.status_code == entry.status, (response.status_code, response.text)
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body == {"code": code, "message": entry.message, "requestId": body["requestId"]}
    assert body["requestId"] == response.headers["x-bce-request-id"]
    assert UUID4.fullmatch(body["requestId"])


def bcc_item(count: int = 2, **config: Any) -> dict[str, Any]:
    base = {
        "serviceType": "BCC",
        "productType": "postpay",
        "logicalZone": "zoneA",
        "instanceType": "10",
        "cpu": 4,
        "memory": 8,
        "imageType": "common",
        "subnetUuid": "subnet-uuid-1",
        "securityGroupId": "g-1",
        "purchaseNum": count,
        "imageId": "m-Nlv9C0tF",
    }
    return {"config": {**base, **config}}


def cluster_body(workers: int = 2, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "clusterName": "prod-bj",
        "version": "1.20.8",
        "mainAvailableZone": "zoneA",
        "containerNet": "172.16.0.0/16",
        "deployMode": "BCC",
        "comment": "made by a test",
        "advancedOptions": {"kubeProxyMode": "ipvs", "maxPodNum": 256},
        "orderContent": {"items": [bcc_item(workers)]},
    }
    body.update(overrides)
    return body

"""SDK fidelity for CCR Enterprise: requests signed and shaped exactly as bce-sdk-go's
``services/eccr`` sends them get answers carrying every field the SDK's response structs
decode, with the declared types (shared/ccr-enterprise-api.md).

Bodies are the byte-exact [SDK-RUN] JSON of the facts file (CreateInstance, CreateProject
without ``public``, CreateRobot, registries with a ``null`` credential); queries are the SDK's
(``pageNo=0&pageSize=0`` when unset); repository names are unpadded base64url in paths; the
signing is the Go SDK's style (``Content-Type: application/json;charset=utf-8``, signed
headers ``content-type;host;x-bce-date``). The other CCR emulator tests import the helpers.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import requests

from reconciler.emulator.testing import EmulatorHandle

from .signed import Query, signed_request
from .test_ccev2_sdk_shapes import GO_CONTENT_TYPE, TIME, Bool, Int, List, Null, Obj, Str, check

INSTANCE = "ccr-emulator"  # the instance every emulator starts with
SDK_CREATE_INSTANCE = (
    b'{"type":"BASIC","name":"inst1","bucket":"","paymentTiming":"prepay","billing":'
    b'{"reservationTimeUnit":"MONTH","reservationTime":1,"autoRenew":false,'
    b'"autoRenewTimeUnit":"MONTH","autoRenewTime":1},"paymentMethod":[],"tags":[]}'
)
SDK_CREATE_PROJECT = b'{"projectName":"p1"}'  # public is omitempty in the SDK
SDK_CREATE_ROBOT = (
    b'{"name":"ci","duration":30,"disable":false,"permissions":[{"kind":"project",'
    b'"namespace":"p1","access":[{"action":"pull","resource":"repository"},'
    b'{"action":"push","resource":"repository"}]}]}'
)
SDK_REGISTRY = (
    b'{"credential":null,"description":"hub","insecure":false,"name":"hub",'
    b'"type":"docker-hub","url":"https://hub.docker.com"}'
)
SDK_PAGING = {"pageNo": "0", "pageSize": "0"}  # what the SDK sends when they are unset

# services/eccr/model.go, as the SDK decodes them
INSTANCE_INFO = {
    "id": Str, "instanceType": Str, "name": Str, "status": Str, "createTime": TIME,
    "expireTime": TIME, "region": Str, "publicURL": Str, "tags": List,
}  # fmt: skip
PROJECT = {
    "projectName": Str, "projectId": Int, "public": Str, "autoScan": Str, "repoCount": Int,
    "chartCount": Int, "creationTime": TIME, "updateTime": TIME,
}  # fmt: skip
REPOSITORY = {
    "repositoryName": Str, "projectName": Str, "description": Str, "tagCount": Int,
    "pullCount": Int, "creationTime": TIME, "updateTime": TIME, "repositoryPath": Str,
    "privateRepositoryPath": Str,
}  # fmt: skip
ROBOT = {
    "id": Int, "name": Str, "level": Str, "disable": Bool, "description": Str, "duration": Int,
    "expiresAt": Int, "creationTime": TIME, "updateTime": TIME, "editable": Bool,
    "permissions": List,
}  # fmt: skip
REGISTRY = {
    "id": Int, "name": Str, "type": Str, "url": Str, "description": Str, "insecure": Bool,
    "status": Str, "credential": (Obj, Null), "creationTime": TIME, "updateTime": TIME,
}  # fmt: skip
PAGE = {"total": Int, "pageNo": Int, "pageSize": Int}


def b64(name: str) -> str:
    """``base64.RawURLEncoding``, as the SDK puts a repository name in a path."""
    return base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")


class Ccr:
    """Signed CCR calls in the Go SDK's style: ``ccr("GET", "/instances", {...})``."""

    def __init__(self, emulator: EmulatorHandle) -> None:
        self.emulator = emulator
        self.session = requests.Session()

    def __call__(
        self, method: str, path: str, query: Query | None = None, body: bytes | None = None
    ) -> requests.Response:
        e = self.emulator
        headers = {"Content-Type": GO_CONTENT_TYPE}
        return signed_request(
            e.url, e.access_key_id, e.secret_access_key, method, "/v1" + path, query,
            data=body, headers=headers, signed_headers=("content-type", "host", "x-bce-date"),
            session=self.session,
        )  # fmt: skip

    def ok(self, response: requests.Response) -> Any:
        assert response.status_code == 200, response.text
        assert response.headers["x-bce-request-id"]
        return response.json() if response.content else None

    def project(self, name: str, public: str = "false", instance: str = INSTANCE) -> Any:
        body = f'{{"projectName":"{name}","public":"{public}"}}'.encode()
        return self.ok(self("POST", f"/instances/{instance}/projects", body=body))

    def push(self, project: str, repository: str, tag: str = "latest") -> None:
        body = {"project": project, "repository": repository, "tag": tag}
        self.emulator.admin("POST", "ccr/push", json=body)


def ccr_error(response: requests.Response, code: str, status: int) -> str:
    """The BCE error body ``{code, message, requestId}``; returns the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "requestId"}
    assert body["code"] == code
    assert body["requestId"] == response.headers["x-bce-request-id"]
    return str(body["message"])


def test_instances_as_the_sdk_decodes_them(ccr: Ccr) -> None:
    created = ccr.ok(ccr("POST", "/instances", body=SDK_CREATE_INSTANCE))
    assert set(created) == {"instanceID", "orderID"}
    assert re.fullmatch(r"ccr-[a-z0-9]{8}", created["instanceID"])
    page = ccr.ok(ccr("GET", "/instances", {"keywordType": "name", "keyword": "", **SDK_PAGING}))
    check(page, PAGE)
    assert page["total"] == 2 and page["pageNo"] == 1 and page["pageSize"] == 10
    for info in page["instances"]:
        check(info, INSTANCE_INFO)
    detail = ccr.ok(ccr("GET", f"/instances/{created['instanceID']}"))
    check(detail, {"info": INSTANCE_INFO, "bucket": Str, "region": Str})
    check(detail["statistic"], {"repo": Int, "chart": Int, "namespace": Int, "storage": Int})
    check(detail["quota"], {"repo": Int, "chart": Int, "namespace": Int})
    assert detail["info"]["name"] == "inst1" and detail["info"]["instanceType"] == "BASIC"
    renamed = ccr.ok(ccr("PUT", f"/instances/{INSTANCE}", body=b'{"name":"prod"}'))
    check(renamed, {k: v for k, v in INSTANCE_INFO.items() if k != "tags"})
    assert "tags" not in renamed and renamed["name"] == "prod"
    tags = b'{"tags":[{"tagKey":"team","tagValue":"platform"}]}'
    assert ccr.ok(ccr("PUT", f"/instances/{INSTANCE}/tags", body=tags)) is None
    info = ccr.ok(ccr("GET", f"/instances/{INSTANCE}"))["info"]
    assert info["tags"] == [{"tagKey": "team", "tagValue": "platform"}]


def test_projects_and_repositories_as_the_sdk_decodes_them(ccr: Ccr) -> None:
    created = ccr.ok(ccr("POST", f"/instances/{INSTANCE}/projects", body=SDK_CREATE_PROJECT))
    check(created, PROJECT)
    assert (created["public"], created["autoScan"]) == ("false", "false")  # strings
    ccr.push("p1", "app/web", "v1")
    ccr.push("p1", "app/web", "v2")
    page = ccr.ok(ccr("GET", f"/instances/{INSTANCE}/projects", {"projectName": "", **SDK_PAGING}))
    check(page, PAGE)
    assert [p["repoCount"] for p in page["projects"]] == [1]
    repos = ccr.ok(ccr("GET", f"/instances/{INSTANCE}/projects/p1/repositories", SDK_PAGING))
    check(repos, PAGE)
    (item,) = repos["items"]
    check(item, REPOSITORY)
    assert (item["repositoryName"], item["tagCount"]) == ("app/web", 2)
    path = f"/instances/{INSTANCE}/projects/p1/repositories/{b64('app/web')}"
    assert b64("app/web") == "YXBwL3dlYg"
    check(ccr.ok(ccr("GET", path)), REPOSITORY)
    updated = ccr.ok(ccr("PUT", path, body=b'{"description":"web front"}'))
    assert updated["description"] == "web front"
    # META's advice (padded standard base64) and the raw name are understood too
    padded = base64.b64encode(b"app/web").decode()
    assert ccr.ok(ccr("GET", f"/instances/{INSTANCE}/projects/p1/repositories/{padded}"))
    assert ccr("DELETE", path).status_code == 200
    update = b'{"autoScan":"true","public":"true"}'
    check(ccr.ok(ccr("PUT", f"/instances/{INSTANCE}/projects/p1", body=update)), PROJECT)
    assert ccr("DELETE", f"/instances/{INSTANCE}/projects/p1").status_code == 200


def test_robots_as_the_sdk_decodes_them(ccr: Ccr) -> None:
    ccr.project("p1")
    created = ccr.ok(ccr("POST", f"/instances/{INSTANCE}/robots", body=SDK_CREATE_ROBOT))
    check(created, {**ROBOT, "secret": Str})
    assert created["name"] == "ccr$ci" and created["level"] == "project"
    assert created["expiresAt"] > 0 and len(created["secret"]) >= 8
    page = ccr.ok(ccr("GET", f"/instances/{INSTANCE}/robots", {"status": "", **SDK_PAGING}))
    check(page, PAGE)
    (robot,) = page["robots"]
    check(robot, ROBOT)
    assert "secret" not in robot
    path = f"/instances/{INSTANCE}/robots/{robot['id']}"
    assert ccr("PUT", path, body=b"{}").status_code == 200  # an empty update (SDK-RUN)
    assert ccr("PUT", path, body=b'{"description":"ci","disable":true}').status_code == 200
    disabled = ccr.ok(ccr("GET", f"/instances/{INSTANCE}/robots", {"status": "disabled"}))
    assert [r["description"] for r in disabled["robots"]] == ["ci"]
    fresh = ccr.ok(ccr("PUT", path + "/secret", body=b"{}"))
    assert set(fresh) == {"secret"} and fresh["secret"] != created["secret"]
    chosen = ccr.ok(ccr("PUT", path + "/secret", body=b'{"secret":"Chosen123"}'))
    assert chosen == {"secret": "Chosen123"}
    assert ccr("DELETE", path).status_code == 200


def test_network_access_as_the_sdk_decodes_it(ccr: Ccr, emulator: EmulatorHandle) -> None:
    base = f"/instances/{INSTANCE}"
    public = ccr.ok(ccr("GET", base + "/publiclinks"))
    check(public, {"domain": Str, "status": Str, "whitelist": List})
    assert public["status"] == "closed"
    assert ccr.ok(ccr("PUT", base + "/publiclinks", body=b'{"action":"open"}')) is None
    entry = b'{"ipAddr":"203.0.113.0/24","description":"office"}'
    assert ccr.ok(ccr("POST", base + "/publiclinks/whitelist", body=entry)) is None
    public = ccr.ok(ccr("GET", base + "/publiclinks"))
    assert public["status"] == "opened"  # a 0-second switch settles on the next read
    assert public["whitelist"] == [{"ipAddr": "203.0.113.0/24", "description": "office"}]
    gone = b'{"items":["203.0.113.0/24"]}'
    assert ccr.ok(ccr("DELETE", base + "/publiclinks/whitelist", body=gone)) is None
    link = b'{"vpcID":"vpc-a","subnetID":"sbn-a","ipType":"auto"}'
    response = ccr("POST", base + "/privatelinks", body=link)
    assert response.status_code == 200 and response.content == b""  # the SDK fails on any body
    private = ccr.ok(ccr("GET", base + "/privatelinks"))
    check(private, {"domain": Str, "items": List})
    (item,) = private["items"]
    check(item, {"vpcID": Str, "subnetID": Str, "serviceNetID": Str, "status": Str})
    remove = b'{"vpcID":"vpc-a","subnetID":"sbn-a"}'
    assert ccr.ok(ccr("DELETE", base + "/privatelinks", body=remove)) is None


def test_registries_as_the_sdk_decodes_them(ccr: Ccr) -> None:
    base = f"/instances/{INSTANCE}/registries"
    assert ccr.ok(ccr("POST", base + "/ping", body=SDK_REGISTRY)) is None
    created = ccr.ok(ccr("POST", base, body=SDK_REGISTRY))
    check(created, {"id": Int, "name": Str, "creation_time": TIME, "update_time": TIME})
    page = ccr.ok(ccr("GET", base, {"registryName": "", "registryType": "", **SDK_PAGING}))
    check(page, PAGE)
    (registry,) = page["items"]
    check(registry, REGISTRY)
    assert registry["credential"] is None
    with_secret = SDK_REGISTRY.replace(
        b'"credential":null', b'"credential":{"accessKey":"u","accessSecret":"pw","type":"basic"}'
    )
    updated = ccr.ok(ccr("PUT", f"{base}/{created['id']}", body=with_secret))
    check(updated, REGISTRY)
    assert updated["credential"] == {"type": "basic", "accessKey": "u"}  # never the secret
    check(ccr.ok(ccr("GET", f"{base}/{created['id']}")), REGISTRY)
    assert ccr("DELETE", f"{base}/{created['id']}").status_code == 200

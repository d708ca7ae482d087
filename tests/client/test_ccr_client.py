"""The CCR Enterprise client: requests shaped like the Go SDK's (``services/eccr``), strict
answers and strict paging (against a scripted server), its endpoint beside the CCE one, and
one transport family (budget, rate limit, counters) shared with the CCE client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler import errors
from reconciler.client.ccr import PREFIX, CcrClient, repository_segment
from reconciler.client.ccr_types import (
    Access,
    Permission,
    PrivateLinkCreate,
    RegistryCredential,
    RegistryRequest,
    RobotCreate,
    RobotUpdate,
)
from reconciler.client.credentials import Credentials, ccr_endpoint_for
from reconciler.client.v1 import CceClient
from reconciler.emulator.testing import EmulatorHandle

from .conftest import CREDS, FakeTime, ScriptedServer, error, make_transport, ok

PULL_PUSH = (Access("pull", "repository"), Access("push", "repository"))
# The byte-exact bodies the Go SDK sends (shared/ccr-enterprise-api.md, SDK-RUN).
SDK_CREATE_ROBOT = (
    '{"name":"ci","duration":30,"disable":false,"permissions":[{"kind":"project",'
    '"namespace":"p1","access":[{"action":"pull","resource":"repository"},'
    '{"action":"push","resource":"repository"}]}]}'
)


def project_json(name: str, public: str = "false", **extra: Any) -> dict[str, Any]:
    return {
        "projectName": name,
        "projectId": 7,
        "public": public,
        "autoScan": "false",
        "repoCount": 0,
        "chartCount": 0,
        "creationTime": "2024-01-01T00:00:00Z",
        "updateTime": "2024-01-01T00:00:00Z",
        **extra,
    }


def robot_json(robot_id: int = 3, name: str = "ccr$ci") -> dict[str, Any]:
    return {
        "id": robot_id,
        "name": name,
        "level": "project",
        "disable": False,
        "description": "",
        "duration": 30,
        "expiresAt": 1_900_000_000,
        "creationTime": "2024-01-01T00:00:00Z",
        "updateTime": "2024-01-01T00:00:00Z",
        "editable": True,
        "permissions": [
            {
                "kind": "project",
                "namespace": "p1",
                "access": [{"action": "pull", "resource": "repository"}],
            }
        ],
    }


def page(key: str, items: list[Any], total: int, page_no: int = 1, size: int = 2) -> Any:
    return ok({"total": total, "pageNo": page_no, "pageSize": size, key: items})


@pytest.fixture
def client(server: ScriptedServer, fake_time: FakeTime) -> Iterator[CcrClient]:
    with CcrClient(make_transport(server.url, fake_time), page_size=2) as c:
        yield c


# -- requests on the wire -------------------------------------------------------------------


def test_public_is_a_string_and_names_go_in_raw(client: CcrClient, server: ScriptedServer) -> None:
    server.script(ok(project_json("team-a", "true")), ok(None))
    project = client.create_project("ccr-1", "team-a", public=True)
    assert project.public is True and project.auto_scan is False
    client.update_project("ccr-1", "team-a", public=False, auto_scan=True)
    create, update = server.seen
    assert (create.method, create.path) == ("POST", f"{PREFIX}/ccr-1/projects")
    assert create.body.decode() == '{"projectName":"team-a","public":"true"}'
    assert (update.method, update.path) == ("PUT", f"{PREFIX}/ccr-1/projects/team-a")
    assert update.json() == {"autoScan": "true", "public": "false"}


def test_repository_names_are_unpadded_base64url_in_paths(
    client: CcrClient, server: ScriptedServer
) -> None:
    assert repository_segment("app/web") == "YXBwL3dlYg"  # the facts file's SDK-RUN values
    assert repository_segment("web") == "d2Vi"
    server.default = ok(
        {
            "repositoryName": "app/web",
            "projectName": "p1",
            "description": "d",
            "tagCount": 1,
            "pullCount": 0,
            "creationTime": "",
            "updateTime": "",
            "repositoryPath": "ccr-1.cnc.bj.baidubce.com/p1/app/web",
            "privateRepositoryPath": "ccr-1-vpc.cnc.bj.baidubce.com/p1/app/web",
        }
    )
    assert client.update_repository("ccr-1", "p1", "app/web", "d").name == "app/web"
    client.delete_repository("ccr-1", "p1", "app/web")
    assert [(s.method, s.raw_path) for s in server.seen] == [
        ("PUT", f"{PREFIX}/ccr-1/projects/p1/repositories/YXBwL3dlYg"),
        ("DELETE", f"{PREFIX}/ccr-1/projects/p1/repositories/YXBwL3dlYg"),
    ]
    assert server.seen[0].json() == {"description": "d"}


def test_robot_bodies_are_the_sdks(client: CcrClient, server: ScriptedServer) -> None:
    create = RobotCreate("ci", 30, (Permission("p1", PULL_PUSH),))
    assert create.to_json() == json.loads(SDK_CREATE_ROBOT)
    server.script(ok({**robot_json(), "secret": "S3cretValue1"}), ok(None), ok({"secret": "Next1"}))
    created = client.create_robot("ccr-1", create)
    assert (created.robot.name, created.robot.short_name, created.secret) == (
        "ccr$ci",
        "ci",
        "S3cretValue1",
    )
    assert "S3cretValue1" not in repr(created)
    # every update key is omitempty: disable:false and duration:0 cannot be sent
    client.update_robot("ccr-1", 3, RobotUpdate(description="", duration=0, disabled=False))
    assert client.refresh_robot_secret("ccr-1", 3, "Given1234") == "Next1"
    first, second, third = server.seen
    assert first.body.decode() == SDK_CREATE_ROBOT  # key order included
    assert (second.method, second.path, second.json()) == ("PUT", f"{PREFIX}/ccr-1/robots/3", {})
    assert (third.method, third.path) == ("PUT", f"{PREFIX}/ccr-1/robots/3/secret")
    assert third.json() == {"secret": "Given1234"}


def test_network_and_registry_bodies(client: CcrClient, server: ScriptedServer) -> None:
    server.default = ok(None)
    client.switch_public_network("ccr-1", "open")
    client.add_whitelist("ccr-1", "10.0.0.0/8", "office")
    client.delete_whitelist("ccr-1", ["10.0.0.0/8"])
    client.create_private_network("ccr-1", PrivateLinkCreate("vpc-a", "sbn-a"))
    client.delete_private_network("ccr-1", "vpc-a", "sbn-a")
    request = RegistryRequest("hub", "docker-hub", "https://hub.docker.com")
    client.ping_registry("ccr-1", request)
    sent = [(s.method, s.path.removeprefix(PREFIX), s.body.decode()) for s in server.seen]
    assert sent == [
        ("PUT", "/ccr-1/publiclinks", '{"action":"open"}'),
        ("POST", "/ccr-1/publiclinks/whitelist", '{"ipAddr":"10.0.0.0/8","description":"office"}'),
        ("DELETE", "/ccr-1/publiclinks/whitelist", '{"items":["10.0.0.0/8"]}'),
        ("POST", "/ccr-1/privatelinks", '{"vpcID":"vpc-a","subnetID":"sbn-a","ipType":"auto"}'),
        ("DELETE", "/ccr-1/privatelinks", '{"vpcID":"vpc-a","subnetID":"sbn-a"}'),
        (
            "POST",
            "/ccr-1/registries/ping",
            '{"credential":null,"description":"","insecure":false,"name":"hub",'
            '"type":"docker-hub","url":"https://hub.docker.com"}',
        ),
    ]
    with_secret = RegistryRequest(
        "h", "harbor", "https://h", credential=RegistryCredential("u", access_secret="pw")
    )
    assert with_secret.to_json()["credential"] == {
        "accessKey": "u",
        "accessSecret": "pw",
        "type": "basic",
    }
    assert "pw" not in repr(with_secret)


def test_creates_are_not_resent_after_a_lost_answer(
    client: CcrClient, server: ScriptedServer
) -> None:
    server.default = errors_500()
    with pytest.raises(errors.OutcomeUnknownError):
        client.create_project("ccr-1", "team-a", public=False)
    assert server.count() == 1


def errors_500() -> Any:
    return error("InternalError")


def test_bad_ids_fail_before_sending(client: CcrClient, server: ScriptedServer) -> None:
    for call in (
        lambda: client.get_project("ccr-1", "a/b"),
        lambda: client.list_projects(".."),
        lambda: client.delete_robot("ccr-1", "ccr$ci"),  # type: ignore[arg-type]
        lambda: client.switch_public_network("ccr-1", "shut"),
        lambda: client.get_repository("ccr-1", "p1", ""),
    ):
        with pytest.raises(errors.UsageError):
            call()
    assert server.count() == 0


# -- strict answers -------------------------------------------------------------------------


def test_public_must_be_true_or_false(client: CcrClient, server: ScriptedServer) -> None:
    server.script(ok(project_json("p1", public=True)))  # type: ignore[arg-type]
    with pytest.raises(errors.ShapeError, match="public: expected a string, got bool"):
        client.get_project("ccr-1", "p1")
    server.script(ok(project_json("p1", public="yes")))
    with pytest.raises(errors.ShapeError, match='public: expected "true" or "false"'):
        client.get_project("ccr-1", "p1")


def test_a_create_answer_without_a_secret_is_a_shape_error(
    client: CcrClient, server: ScriptedServer
) -> None:
    server.script(ok(robot_json()))
    with pytest.raises(errors.ShapeError, match="secret: missing") as caught:
        client.create_robot("ccr-1", RobotCreate("ci", 30, ()))
    assert caught.value.method == "POST" and caught.value.path == f"{PREFIX}/ccr-1/robots"


def test_a_null_allow_list_is_a_shape_error(client: CcrClient, server: ScriptedServer) -> None:
    server.script(ok({"domain": "d", "status": "opened", "whitelist": None}))
    with pytest.raises(errors.ShapeError, match="whitelist: null"):
        client.get_public_network("ccr-1")


# -- paging ---------------------------------------------------------------------------------


def test_every_page_is_read_with_the_sdks_query(client: CcrClient, server: ScriptedServer) -> None:
    server.script(
        page("projects", [project_json("a"), project_json("b")], 3),
        page("projects", [project_json("c")], 3, page_no=2),
    )
    assert [p.name for p in client.list_projects("ccr-1")] == ["a", "b", "c"]
    assert [s.query for s in server.seen] == [
        [("pageNo", "1"), ("pageSize", "2")],
        [("pageNo", "2"), ("pageSize", "2")],
    ]


def test_paging_is_bounded_by_the_announced_total(
    client: CcrClient, server: ScriptedServer
) -> None:
    server.script(page("robots", [robot_json(1)], 3))
    with pytest.raises(errors.ShapeError, match="page 1 holds 1 of pageSize 2"):
        client.list_robots("ccr-1")
    server.script(
        page("robots", [robot_json(1), robot_json(2)], 3),
        page("robots", [robot_json(3), robot_json(4)], 3, page_no=2),
    )
    with pytest.raises(errors.ShapeError, match="total: 3, but 4 items"):
        client.list_robots("ccr-1")
    server.script(page("robots", [robot_json(1), robot_json(2)], 3, page_no=1))
    server.script(page("robots", [robot_json(3)], 3, page_no=1))  # the first page again
    with pytest.raises(errors.ShapeError, match="pageNo: page 2 was asked for"):
        client.list_robots("ccr-1")


def test_a_missing_total_or_a_null_list_is_never_an_empty_list(
    client: CcrClient, server: ScriptedServer
) -> None:
    server.script(ok({"pageNo": 1, "pageSize": 2, "projects": []}))
    with pytest.raises(errors.ShapeError, match="total: missing"):
        client.list_projects("ccr-1")
    server.script(ok({"total": 1, "pageNo": 1, "pageSize": 2, "projects": None}))
    with pytest.raises(errors.ShapeError, match="projects: null"):
        client.list_projects("ccr-1")
    server.script(ok({"total": 0, "pageNo": 1, "pageSize": 2}))
    with pytest.raises(errors.ShapeError, match="projects: missing"):
        client.list_projects("ccr-1")
    server.script(ok({"total": 0, "pageNo": 1, "pageSize": 2, "projects": None}))
    assert client.list_projects("ccr-1") == ()  # the total says there are none


# -- one client base, two hosts -------------------------------------------------------------


@pytest.mark.parametrize(
    ("cce", "override", "expected"),
    [
        ("https://cce.bj.baidubce.com", None, "https://ccr.bj.baidubce.com"),
        ("http://cce.gz.baidubce.com:8080", None, "http://ccr.gz.baidubce.com:8080"),
        ("http://127.0.0.1:8765", None, "http://127.0.0.1:8765"),
        ("https://cce.bj.baidubce.com", "https://ccr.example.net/", "https://ccr.example.net"),
    ],
)
def test_the_ccr_endpoint_goes_beside_the_cce_one(
    cce: str, override: str | None, expected: str
) -> None:
    assert ccr_endpoint_for(cce, override) == expected


def test_a_bad_ccr_endpoint_is_a_usage_error() -> None:
    with pytest.raises(errors.UsageError, match="without a path"):
        ccr_endpoint_for("https://cce.bj.baidubce.com", "https://ccr.example.net/v1")


def test_the_cce_client_carries_ccr_on_a_sibling_transport(
    server: ScriptedServer, fake_time: FakeTime
) -> None:
    other = ScriptedServer().start()
    try:
        transport = make_transport(server.url, fake_time, retry_budget=1)
        with CceClient(transport, ccr_endpoint=other.url) as client:
            assert client.ccr.transport.endpoint == other.url
            assert client.ccr.transport.budget is client.transport.budget
            other.script(page("projects", [], 0), errors_500(), errors_500(), errors_500())
            assert client.ccr.list_projects("ccr-1") == ()
            with pytest.raises(errors.RetryBudgetExhaustedError):
                client.ccr.get_project("ccr-1", "p1")  # the shared budget of 1 runs out
            assert client.stats().requests_sent == 3  # one set of counters for both hosts
            assert other.seen[0].verified == CREDS.access_key_id  # signed for its own host
        same = CceClient(make_transport(server.url, fake_time))
        assert same.ccr.transport is same.transport  # an emulator serves both on one port
        same.close()
    finally:
        other.stop()


# -- against the emulator -------------------------------------------------------------------


def test_a_whole_flow_against_the_emulator(emulator: EmulatorHandle) -> None:
    creds = Credentials(emulator.access_key_id, emulator.secret_access_key)
    with CceClient.connect(emulator.url, creds, page_size=1000) as cce:
        ccr = cce.ccr
        ccr.page_size = 2  # several pages
        (instance,) = ccr.list_instances()
        for name in ("a", "b", "c"):
            ccr.create_project(instance.instance_id, name, public=name == "b")
        projects = ccr.list_projects(instance.instance_id)
        assert [(p.name, p.public) for p in projects] == [("a", False), ("b", True), ("c", False)]
        emulator.admin(
            "POST", "ccr/push", json={"project": "a", "repository": "app/web", "tag": "v1"}
        )
        (repo,) = ccr.list_repositories(instance.instance_id, "a")
        assert (
            ccr.update_repository(instance.instance_id, "a", repo.name, "web").description == "web"
        )
        created = ccr.create_robot(
            instance.instance_id, RobotCreate("ci", 30, (Permission("a", PULL_PUSH),))
        )
        (listed,) = ccr.list_robots(instance.instance_id)
        assert listed == created.robot and listed.name == "ccr$ci"
        ccr.delete_repository(instance.instance_id, "a", "app/web")
        ccr.delete_project(instance.instance_id, "a")
        assert [p.name for p in ccr.list_projects(instance.instance_id)] == ["b", "c"]

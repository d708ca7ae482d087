"""CCR Enterprise in the emulator: the service's rules, every code it answers, its paging, its
asynchronous network switches, and the shared machinery (faults, request log, admin state)."""

from __future__ import annotations

import json
from typing import Any

from reconciler.emulator.testing import EmulatorHandle

from .test_ccr_sdk_shapes import INSTANCE, Ccr, b64, ccr_error

BASE = f"/instances/{INSTANCE}"


def body(data: Any) -> bytes:
    return json.dumps(data).encode()


def robot(name: str, project: str = "p1", **extra: Any) -> bytes:
    access = [{"action": "pull", "resource": "repository"}]
    permissions = [{"kind": "project", "namespace": project, "access": access}]
    return body(
        {"name": name, "duration": 30, "disable": False, "permissions": permissions, **extra}
    )


def test_an_unknown_instance_is_not_found(ccr: Ccr) -> None:
    for method, path in (("GET", "/instances/ccr-missing1"), ("GET", "/instances/x/projects")):
        ccr_error(ccr(method, path), "Ccr.InstanceNotFound", 404)


def test_project_names_follow_the_documented_rule(ccr: Ccr) -> None:
    for bad in ("Team", "-team", "team-", "1234", "a b", "x" * 256, "a/b"):
        response = ccr("POST", f"{BASE}/projects", body=body({"projectName": bad}))
        assert "projectName" in ccr_error(response, "Ccr.InvalidParameter", 400)
    for good in ("team-a", "team.a_b", "a1", "x" * 255):
        ccr.project(good)


def test_public_must_be_the_string_true_or_false(ccr: Ccr) -> None:
    response = ccr("POST", f"{BASE}/projects", body=body({"projectName": "p", "public": True}))
    assert "public must be a string" in ccr_error(response, "Ccr.InvalidParameter", 400)
    response = ccr("POST", f"{BASE}/projects", body=body({"projectName": "p", "public": "yes"}))
    ccr_error(response, "Ccr.InvalidParameter", 400)
    assert ccr.project("p", public="true")["public"] == "true"
    update = ccr("PUT", f"{BASE}/projects/p", body=body({"public": "false"}))
    assert "required" in ccr_error(update, "Ccr.InvalidParameter", 400)


def test_a_project_exists_once_and_holds_its_repositories(ccr: Ccr) -> None:
    ccr.project("p1")
    ccr_error(
        ccr("POST", f"{BASE}/projects", body=body({"projectName": "p1"})),
        "Ccr.ProjectAlreadyExists",
        409,
    )
    ccr.push("p1", "web")
    message = ccr_error(ccr("DELETE", f"{BASE}/projects/p1"), "Ccr.ProjectNotEmpty", 412)
    assert "1 repositories" in message
    ccr.ok(ccr("DELETE", f"{BASE}/projects/p1/repositories/{b64('web')}"))
    ccr.ok(ccr("DELETE", f"{BASE}/projects/p1"))
    ccr_error(ccr("GET", f"{BASE}/projects/p1"), "Ccr.ProjectNotFound", 404)
    ccr_error(ccr("DELETE", f"{BASE}/projects/p1"), "Ccr.ProjectNotFound", 404)


def test_a_repository_goes_with_its_tags(ccr: Ccr, emulator: EmulatorHandle) -> None:
    ccr.project("p1")
    ccr.push("p1", "web", "v1")
    path = f"{BASE}/projects/p1/repositories/{b64('web')}"
    ccr.ok(ccr("DELETE", path))
    ccr_error(ccr("GET", path), "Ccr.RepositoryNotFound", 404)
    ccr_error(ccr("PUT", path, body=body({"description": "x"})), "Ccr.RepositoryNotFound", 404)
    ccr.push("p1", "web", "v2")  # a push makes it again, with only the new tag
    assert ccr.ok(ccr("GET", path))["tagCount"] == 1
    missing_key = ccr("PUT", path, body=b"{}")
    assert "description is required" in ccr_error(missing_key, "Ccr.InvalidParameter", 400)


def test_paging_cuts_and_bounds(ccr: Ccr) -> None:
    for name in ("a", "b", "c"):
        ccr.project(name)
    page = ccr.ok(ccr("GET", f"{BASE}/projects", {"pageNo": "2", "pageSize": "2"}))
    assert (page["total"], [p["projectName"] for p in page["projects"]]) == (3, ["c"])
    beyond = ccr.ok(ccr("GET", f"{BASE}/projects", {"pageNo": "3", "pageSize": "2"}))
    assert beyond["projects"] == [] and beyond["total"] == 3
    filtered = ccr.ok(ccr("GET", f"{BASE}/projects", {"projectName": "b"}))
    assert [p["projectName"] for p in filtered["projects"]] == ["b"]
    too_big = ccr.ok(ccr("GET", f"{BASE}/projects", {"pageSize": "101"}))
    assert too_big["pageSize"] == 100  # the emulator's choice: a larger page is cut to 100
    ccr_error(ccr("GET", f"{BASE}/projects", {"pageNo": "x"}), "Ccr.InvalidParameter", 400)


def test_robot_rules(ccr: Ccr) -> None:
    ccr.project("p1")
    for bad in ("CI", "-ci", "ci-", "c--i", "x" * 66):
        ccr_error(ccr("POST", f"{BASE}/robots", body=robot(bad)), "Ccr.InvalidParameter", 400)
    unknown = ccr("POST", f"{BASE}/robots", body=robot("ci", project="nope"))
    assert "'nope', which does not exist" in ccr_error(unknown, "Ccr.InvalidParameter", 400)
    weak = ccr("POST", f"{BASE}/robots", body=robot("ci", secret="password"))
    assert "secret must be" in ccr_error(weak, "Ccr.InvalidParameter", 400)
    bad_access = robot("ci").replace(b'"pull"', b'"own"')
    ccr_error(ccr("POST", f"{BASE}/robots", body=bad_access), "Ccr.InvalidParameter", 400)
    no_duration = body({"name": "ci", "permissions": []})
    ccr_error(ccr("POST", f"{BASE}/robots", body=no_duration), "Ccr.InvalidParameter", 400)
    created = ccr.ok(ccr("POST", f"{BASE}/robots", body=robot("ci", secret="Given1234")))
    assert created["secret"] == "Given1234"
    ccr_error(ccr("POST", f"{BASE}/robots", body=robot("ci")), "Ccr.RobotAlreadyExists", 409)
    every = body({"name": "all", "duration": -1, "disable": False, "permissions": [
        {"kind": "project", "namespace": "*", "access": [{"action": "pull", "resource": "repository"}]}
    ]})  # fmt: skip
    system = ccr.ok(ccr("POST", f"{BASE}/robots", body=every))
    assert (system["level"], system["expiresAt"]) == ("system", -1)
    for method, path in (
        ("PUT", "/robots/99"),
        ("DELETE", "/robots/99"),
        ("PUT", "/robots/99/secret"),
    ):
        ccr_error(ccr(method, BASE + path, body=b"{}"), "Ccr.RobotNotFound", 404)
    ccr_error(ccr("DELETE", f"{BASE}/robots/ccr$ci"), "Ccr.InvalidParameter", 400)


def test_a_robot_update_changes_only_what_it_sends(ccr: Ccr) -> None:
    ccr.project("p1")
    ccr.project("p2")
    created = ccr.ok(ccr("POST", f"{BASE}/robots", body=robot("ci", description="first")))
    path = f"{BASE}/robots/{created['id']}"
    ccr.ok(ccr("PUT", path, body=body({"duration": 60})))
    perms = [
        {
            "kind": "project",
            "namespace": "p2",
            "access": [{"action": "push", "resource": "repository"}],
        }
    ]
    ccr.ok(ccr("PUT", path, body=body({"permissions": perms})))
    (listed,) = ccr.ok(ccr("GET", f"{BASE}/robots"))["robots"]
    assert (listed["description"], listed["duration"], listed["permissions"]) == (
        "first",
        60,
        perms,
    )


def test_the_whitelist(ccr: Ccr) -> None:
    add = f"{BASE}/publiclinks/whitelist"
    for bad in ("10.0.0.1/8", "not-an-ip", "2001:db8::/32"):
        entry = body({"ipAddr": bad, "description": ""})
        ccr_error(ccr("POST", add, body=entry), "Ccr.InvalidParameter", 400)
    no_description = body({"ipAddr": "10.0.0.0/8"})
    ccr_error(ccr("POST", add, body=no_description), "Ccr.InvalidParameter", 400)
    ccr.ok(ccr("POST", add, body=body({"ipAddr": "10.0.0.0/8", "description": ""})))
    again = ccr("POST", add, body=body({"ipAddr": "10.0.0.0/8", "description": "x"}))
    ccr_error(again, "Ccr.WhitelistAlreadyExists", 409)
    # deleting addresses that are not listed is not an error (the emulator's choice)
    ccr.ok(ccr("DELETE", add, body=body({"items": ["10.0.0.0/8", "192.0.2.1"]})))
    ccr_error(ccr("DELETE", add, body=body({"items": []})), "Ccr.InvalidParameter", 400)


def test_the_public_switch_takes_its_time(ccr: Ccr, emulator: EmulatorHandle) -> None:
    emulator.set_faults(ccr_network_seconds=30)
    ccr.ok(ccr("PUT", f"{BASE}/publiclinks", body=b'{"action":"open"}'))
    assert ccr.ok(ccr("GET", f"{BASE}/publiclinks"))["status"] == "opening"
    ccr.ok(ccr("PUT", f"{BASE}/publiclinks", body=b'{"action":"open"}'))  # on its way: no-op
    emulator.advance(30)
    assert ccr.ok(ccr("GET", f"{BASE}/publiclinks"))["status"] == "opened"
    ccr.ok(ccr("PUT", f"{BASE}/publiclinks", body=b'{"action":"close"}'))
    assert ccr.ok(ccr("GET", f"{BASE}/publiclinks"))["status"] == "closing"
    emulator.advance(30)
    assert ccr.ok(ccr("GET", f"{BASE}/publiclinks"))["status"] == "closed"
    shut = ccr("PUT", f"{BASE}/publiclinks", body=b'{"action":"shut"}')
    ccr_error(shut, "Ccr.InvalidParameter", 400)


def test_private_links(ccr: Ccr, emulator: EmulatorHandle) -> None:
    emulator.set_faults(ccr_network_seconds=10)
    link = {"vpcID": "vpc-a", "subnetID": "sbn-a", "ipType": "manual", "ipAddress": "192.168.0.9"}
    ccr.ok(ccr("POST", f"{BASE}/privatelinks", body=body(link)))
    ccr_error(
        ccr("POST", f"{BASE}/privatelinks", body=body(link)), "Ccr.PrivateLinkAlreadyExists", 409
    )
    (item,) = ccr.ok(ccr("GET", f"{BASE}/privatelinks"))["items"]
    assert (item["status"], item["ipAddress"]) == ("creating", "192.168.0.9")
    emulator.advance(10)
    (item,) = ccr.ok(ccr("GET", f"{BASE}/privatelinks"))["items"]
    assert item["status"] == "created"
    no_ip = {**link, "subnetID": "sbn-b", "ipAddress": ""}
    ccr_error(ccr("POST", f"{BASE}/privatelinks", body=body(no_ip)), "Ccr.InvalidParameter", 400)
    no_type = {"vpcID": "vpc-a", "subnetID": "sbn-c"}
    ccr_error(ccr("POST", f"{BASE}/privatelinks", body=body(no_type)), "Ccr.InvalidParameter", 400)
    gone = body({"vpcID": "vpc-a", "subnetID": "sbn-z"})
    ccr_error(ccr("DELETE", f"{BASE}/privatelinks", body=gone), "Ccr.PrivateLinkNotFound", 404)


def test_registries(ccr: Ccr) -> None:
    hub = {"name": "hub", "type": "docker-hub", "url": "https://hub.docker.com", "credential": None}
    created = ccr.ok(ccr("POST", f"{BASE}/registries", body=body(hub)))
    ccr_error(ccr("POST", f"{BASE}/registries", body=body(hub)), "Ccr.RegistryAlreadyExists", 409)
    bad_type = {**hub, "name": "x", "type": "quay"}
    ccr_error(ccr("POST", f"{BASE}/registries", body=body(bad_type)), "Ccr.InvalidParameter", 400)
    far = {**hub, "url": "https://mirror.example.invalid"}
    ping = ccr("POST", f"{BASE}/registries/ping", body=body(far))
    ccr_error(ping, "Ccr.RegistryUnreachable", 400)
    ccr_error(ccr("GET", f"{BASE}/registries/999"), "Ccr.RegistryNotFound", 404)
    ccr.ok(ccr("DELETE", f"{BASE}/registries/{created['id']}"))
    ccr_error(ccr("DELETE", f"{BASE}/registries/{created['id']}"), "Ccr.RegistryNotFound", 404)


def test_bodies_that_are_not_json_objects(ccr: Ccr) -> None:
    ccr_error(ccr("POST", f"{BASE}/projects", body=b"{"), "MalformedJSON", 400)
    wrong = ccr("POST", f"{BASE}/projects", body=b"[]")
    assert "expected a JSON object" in ccr_error(wrong, "Ccr.InvalidParameter", 400)


def test_faults_and_the_request_log_cover_ccr(ccr: Ccr, emulator: EmulatorHandle) -> None:
    emulator.set_faults(fail_next=["Ccr.InvalidParameter"])
    ccr_error(
        ccr("POST", f"{BASE}/projects", body=b'{"projectName":"p1"}'), "Ccr.InvalidParameter", 400
    )
    ccr.project("p1")  # the forced fault was used up
    log = [e for e in emulator.requests_log() if e["path"].startswith("/v1/instances")]
    assert [(e["method"], e["mutating"], e["fault"]) for e in log] == [
        ("POST", True, "Ccr.InvalidParameter"),
        ("POST", True, None),
    ]


def test_the_admin_state_shows_every_instance(ccr: Ccr, emulator: EmulatorHandle) -> None:
    ccr.project("p1")
    ccr.push("p1", "web")
    ccr.ok(ccr("POST", f"{BASE}/robots", body=robot("ci", secret="Given1234")))
    (instance,) = emulator.state()["ccr"]["instances"]
    assert instance["id"] == INSTANCE
    assert [p["projectName"] for p in instance["projects"]] == ["p1"]
    assert [r["repositoryName"] for r in instance["repositories"]] == ["web"]
    (stored,) = instance["robots"]
    assert "Given1234" not in json.dumps(instance)  # secrets are kept as hashes only
    assert len(stored["secretSha256"]) == 64
    emulator.reset()
    assert [i["projects"] for i in emulator.state()["ccr"]["instances"]] == [[]]

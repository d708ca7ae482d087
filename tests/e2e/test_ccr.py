"""CCR Enterprise through the CLI against the emulator: examples/ccr created and converged,
changed in place, an existing instance's objects adopted, drift, deletes under the guard, and
the robot secret written to the one file asked for and nowhere else."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.client.ccr_types import Access, Permission, RobotCreate
from reconciler.client.credentials import Credentials
from reconciler.client.v1 import CceClient

from .conftest import ROOT, Workspace

EXAMPLE = ROOT / "examples" / "ccr"
INSTANCE = "ccr-emulator"
ROBOT = f"ccr_robot.{INSTANCE}/ci"


@pytest.fixture
def example(ws: Workspace) -> Path:
    """examples/ccr as it ships, aimed at the test's emulator."""
    folder = ws.root / "ccr"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns(".reconciler", "secrets"))
    registry = folder / "registry.yaml"
    text = registry.read_text()
    assert text.count("endpoint: local") == 1
    registry.write_text(text.replace("endpoint: local", f"endpoint: {ws.emulator.url}"))
    return folder


def cli_ok(ws: Workspace, *args: str) -> str:
    result = ws.cli(*args)
    assert result.code == 0, result.out + result.err
    assert "Traceback" not in result.out + result.err
    return result.out + result.err


def instance_state(ws: Workspace) -> dict[str, Any]:
    (instance,) = [i for i in ws.emulator.state()["ccr"]["instances"] if i["id"] == INSTANCE]
    return dict(instance)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_text().strip().encode()).hexdigest()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def ccr_client(ws: Workspace) -> CceClient:
    creds = Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    return CceClient.connect(ws.emulator.url, creds)


def test_the_example_is_created_and_converges(ws: Workspace, example: Path) -> None:
    out = cli_ok(ws, "apply", str(example), "--auto-approve")
    assert "4 created" in out and "2 imported" in out
    cloud = instance_state(ws)
    assert cloud["name"] == "shop-registry"
    assert cloud["tags"] == [
        {"tagKey": "cost-center", "tagValue": "4711"},
        {"tagKey": "team", "tagValue": "platform"},
    ]
    projects = {p["projectName"]: (p["public"], p["autoScan"]) for p in cloud["projects"]}
    assert projects == {
        "base-images": ("false", "true"),
        "shop": ("false", "false"),
        "shop-public": ("true", "false"),
    }
    assert cloud["publicNetwork"]["status"] == "opened"
    assert sorted(cloud["publicNetwork"]["whitelist"], key=lambda e: e["ipAddr"]) == [
        {"ipAddr": "198.51.100.7", "description": "CI runner"},
        {"ipAddr": "203.0.113.0/24", "description": "office"},
    ]
    (robot,) = cloud["robots"]
    assert robot["name"] == "ccr$ci" and robot["duration"] == 365
    assert {p["namespace"]: [a["action"] for a in p["access"]] for p in robot["permissions"]} == {
        "shop": ["pull", "push"],
        "base-images": ["pull"],
    }
    secret = example / "secrets" / "ci-robot.secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert sha256_of(secret) == robot["secretSha256"]  # the robot holds the secret in the file

    mark = ws.emulator.next_index()
    again = ws.cli("plan", str(example), "--detailed-exitcode")
    assert again.code == 0 and "No changes." in again.out, again.out + again.err
    cli_ok(ws, "apply", str(example), "--auto-approve")
    assert ws.emulator.mutating_requests(since=mark) == []
    listed = cli_ok(ws, "output", "-c", str(example))
    assert f"ccr_instance.{INSTANCE}" in listed and "running" in listed
    url = cli_ok(ws, "output", f"ccr_instance.{INSTANCE}", "publicURL", "--raw", "-c", str(example))
    assert url.strip() == f"{INSTANCE}-pub.cnc.bj.baidubce.com"


def test_changes_are_made_in_place(ws: Workspace, example: Path) -> None:
    cli_ok(ws, "apply", str(example), "--auto-approve")
    secret = example / "secrets" / "ci-robot.secret"
    first_secret = secret.read_text()
    robot_id = instance_state(ws)["robots"][0]["id"]
    registry, robots = example / "registry.yaml", example / "robots.yaml"
    edit(registry, "name: shop-registry", "name: shop-registry-eu")
    edit(registry, '      cost-center: "4711"\n', "")
    edit(registry, "    public: true          # pulled without logging in", "    public: false")
    edit(registry, "        description: CI runner", "        description: CI runner 2")
    edit(registry, "      - ip: 203.0.113.0/24\n        description: office\n", "")
    edit(robots, "        actions: [pull]", "        actions: [pull, push]")
    edit(robots, 'rotation: "2026-01"', 'rotation: "2026-02"')
    plan = ws.cli("plan", str(example), "--detailed-exitcode")
    assert plan.code == 2, plan.out + plan.err
    assert "0 to create" in plan.out and "0 to replace" in plan.out and "0 to delete" in plan.out
    cli_ok(ws, "apply", str(example), "--auto-approve")

    cloud = instance_state(ws)
    assert cloud["name"] == "shop-registry-eu"
    assert cloud["tags"] == [{"tagKey": "team", "tagValue": "platform"}]
    assert {p["projectName"]: p["public"] for p in cloud["projects"]}["shop-public"] == "false"
    assert cloud["publicNetwork"]["whitelist"] == [
        {"ipAddr": "198.51.100.7", "description": "CI runner 2"}
    ]
    (robot,) = cloud["robots"]
    assert robot["id"] == robot_id  # changed, not replaced
    assert all(len(p["access"]) == 2 for p in robot["permissions"])
    assert secret.read_text() != first_secret  # the declared rotation set a new secret
    assert sha256_of(secret) == robot["secretSha256"]
    again = ws.cli("plan", str(example), "--detailed-exitcode")
    assert again.code == 0, again.out + again.err


def test_enabling_a_disabled_robot_replaces_it_when_asked(ws: Workspace, example: Path) -> None:
    robots = example / "robots.yaml"
    edit(robots, "    duration: 365 ", "    disabled: true\n    duration: 365 ")
    cli_ok(ws, "apply", str(example), "--auto-approve")
    assert instance_state(ws)["robots"][0]["disable"] is True
    edit(robots, "    disabled: true\n", "")
    refused = ws.cli("apply", str(example), "--auto-approve")
    assert refused.code == 3, refused.out + refused.err
    assert f"--replace {ROBOT}" in refused.out + refused.err
    cli_ok(ws, "apply", str(example), "--auto-approve", "--replace", ROBOT)
    (robot,) = instance_state(ws)["robots"]
    assert robot["disable"] is False
    assert sha256_of(example / "secrets" / "ci-robot.secret") == robot["secretSha256"]


def seed_instance(ws: Workspace) -> None:
    """Two projects, three repositories and a robot, made outside the reconciler."""
    with ccr_client(ws) as client:
        ccr = client.ccr
        ccr.create_project(INSTANCE, "legacy", public=True)
        ccr.update_project(INSTANCE, "legacy", public=True, auto_scan=True)
        ccr.create_project(INSTANCE, "tools", public=False)
        for project, repository in (("legacy", "app/web"), ("legacy", "app/api"), ("tools", "ci")):
            body = {"project": project, "repository": repository, "tag": "v1"}
            ws.emulator.admin("POST", "ccr/push", json=body)
        ccr.update_repository(INSTANCE, "legacy", "app/web", "the shop's web front")
        pull = (Access("pull", "repository"),)
        ccr.create_robot(INSTANCE, RobotCreate("deploy", 30, (Permission("legacy", pull),)))


def test_an_instance_is_exported_and_adopted_without_a_change(
    ws: Workspace, tmp_path: Path
) -> None:
    seed_instance(ws)
    target = ws.write("")
    out = tmp_path / "adopted"
    cli_ok(ws, "export", str(target), "--out", str(out))
    robots = yaml.safe_load((out / "ccr_robots.yaml").read_text())["ccr_robots"]
    assert robots == [
        {
            "instance": INSTANCE,
            "name": "deploy",
            "duration": 30,
            "disabled": False,
            "permissions": [{"project": "legacy", "actions": ["pull"]}],
            "secretFile": "deploy.robot-secret",
        }
    ]
    repositories = yaml.safe_load((out / "ccr_repositories.yaml").read_text())
    assert len(repositories["ccr_repositories"]) == 3
    checked = cli_ok(ws, "validate", str(out))
    assert (
        "1 ccr_instance, 1 ccr_public_access, 2 ccr_projects, 3 ccr_repositories, 1 ccr_robot"
        in checked
    )

    mark = ws.emulator.next_index()
    adopted = cli_ok(ws, "apply", str(out), "--adopt", "--auto-approve")
    assert "8 imported" in adopted
    assert ws.emulator.mutating_requests(since=mark) == []
    assert not (out / "deploy.robot-secret").exists()  # adopting shows no secret
    again = ws.cli("plan", str(out), "--detailed-exitcode")
    assert again.code == 0, again.out + again.err


def test_drift_is_seen_and_set_back(ws: Workspace, example: Path) -> None:
    cli_ok(ws, "apply", str(example), "--auto-approve")
    with ccr_client(ws) as client:
        client.ccr.update_project(INSTANCE, "shop-public", public=False, auto_scan=True)
        client.ccr.add_whitelist(INSTANCE, "192.0.2.0/24", "added by hand")
    plan = ws.cli("plan", str(example), "--detailed-exitcode")
    assert plan.code == 2, plan.out + plan.err
    assert "changed outside the reconciler" in plan.out
    assert "192.0.2.0/24" in plan.out
    cli_ok(ws, "apply", str(example), "--auto-approve")
    cloud = instance_state(ws)
    shop_public = next(p for p in cloud["projects"] if p["projectName"] == "shop-public")
    assert (shop_public["public"], shop_public["autoScan"]) == ("true", "false")
    assert "192.0.2.0/24" not in json.dumps(cloud["publicNetwork"])


def test_a_project_is_deleted_with_its_repositories_only_when_the_guard_allows(
    ws: Workspace,
) -> None:
    seed_instance(ws)
    project = f"  - {{instance: {INSTANCE}, name: legacy, public: true, autoScan: true}}\n"
    web = f"  - {{instance: {INSTANCE}, project: legacy, name: app/web, description: web}}\n"
    api = f"  - {{instance: {INSTANCE}, project: legacy, name: app/api}}\n"
    config = ws.write(f"ccr_projects:\n{project}ccr_repositories:\n{web}")
    conflict = ws.cli("apply", str(config), "--auto-approve")
    assert conflict.code == 3  # the project exists and is not managed: import it
    cli_ok(ws, "import", f"ccr_project.{INSTANCE}/legacy", f"{INSTANCE}/legacy", str(config))
    out = cli_ok(ws, "apply", str(config), "--auto-approve")
    assert "1 imported" in out  # the repository, adopted on sight and its description set
    web_now = next(
        r for r in instance_state(ws)["repositories"] if r["repositoryName"] == "app/web"
    )
    assert web_now["description"] == "web"

    ws.write("")  # the project and its repository removed from the configuration
    refused = ws.cli("apply", str(config), "--auto-approve")
    assert refused.code == 3, refused.out + refused.err
    assert "ccr_repositories this state does not manage" in refused.out + refused.err
    assert f"{INSTANCE}/legacy/app/api" in refused.out + refused.err
    assert len(instance_state(ws)["repositories"]) == 3  # nothing was deleted

    ws.write(f"ccr_projects:\n{project}ccr_repositories:\n{web}{api}")
    cli_ok(ws, "apply", str(config), "--auto-approve")  # app/api adopted too
    ws.write("")
    guarded = ws.cli("apply", str(config), "--auto-approve")
    assert guarded.code == 3 and "--allow-deletes 3" in guarded.out + guarded.err
    assert len(instance_state(ws)["repositories"]) == 3
    cli_ok(ws, "apply", str(config), "--auto-approve", "--allow-deletes", "3")
    cloud = instance_state(ws)
    assert [p["projectName"] for p in cloud["projects"]] == ["tools"]
    assert [r["repositoryName"] for r in cloud["repositories"]] == ["ci"]


def every_file(root: Path) -> list[Path]:
    return [Path(d) / f for d, _, files in os.walk(root) for f in files]


def test_the_robot_secret_is_in_the_file_asked_for_and_nowhere_else(
    ws: Workspace, example: Path
) -> None:
    saved = example / "plan.bin"
    planned = ws.cli("plan", str(example), "--out", str(saved))
    assert planned.code == 0, planned.out + planned.err
    applied = ws.cli("--debug", "apply", "--plan", str(saved))
    assert applied.code == 0, applied.out + applied.err
    secret_file = example / "secrets" / "ci-robot.secret"
    secret = secret_file.read_text().strip()
    edit(example / "robots.yaml", 'rotation: "2026-01"', 'rotation: "2026-02"')
    rotated = ws.cli("--debug", "apply", str(example), "--auto-approve")
    assert rotated.code == 0, rotated.out + rotated.err
    new_secret = secret_file.read_text().strip()
    assert new_secret != secret
    written = every_file(ws.root)
    assert len(written) > 5  # state, its lock, the journal's remains, the plan, the configs
    for value in (secret, new_secret):
        holding = [p for p in written if value in p.read_bytes().decode(errors="replace")]
        assert holding == ([secret_file] if value == new_secret else [])
        for output in (planned, applied, rotated):
            assert value not in output.out + output.err


def test_a_secret_asked_for_on_the_output_goes_there_only(ws: Workspace, example: Path) -> None:
    edit(example / "robots.yaml", "secretFile: secrets/ci-robot.secret", 'secretFile: "-"')
    result = ws.cli("apply", str(example), "--auto-approve")
    assert result.code == 0, result.out + result.err
    (line,) = [x for x in result.out.splitlines() if x.startswith(f"{ROBOT}: secret: ")]
    secret = line.rsplit(" ", 1)[1]
    assert (
        hashlib.sha256(secret.encode()).hexdigest()
        == instance_state(ws)["robots"][0]["secretSha256"]
    )
    assert not (example / "secrets").exists()
    assert all(secret not in p.read_bytes().decode(errors="replace") for p in every_file(ws.root))


def test_plan_refuses_what_the_api_would(ws: Workspace) -> None:
    config = ws.write(
        "ccr_projects:\n"
        "  - {instance: ccr-nothere1, name: team-a}\n"
        "ccr_repositories:\n"
        f"  - {{instance: {INSTANCE}, project: team-a, name: web}}\n"
        "ccr_robots:\n"
        f"  - instance: {INSTANCE}\n"
        "    name: ci\n"
        "    duration: 30\n"
        "    permissions: [{project: team-b, actions: [pull]}]\n"
        "    secretFile: ci.secret\n"
    )
    result = ws.cli("plan", str(config))
    assert result.code == 3, result.out + result.err
    text = result.out + result.err
    assert "CCR Enterprise instance ccr-nothere1 does not exist" in text
    assert "push an image to it first" in text
    assert "a permission names project team-b" in text
    assert not (ws.root / "ci.secret").exists()
    bad = ws.write("ccr_projects:\n  - {instance: ccr-emulator, name: Team_A}\n", "bad.yaml")
    invalid = ws.cli("validate", str(bad.parent / "main.yaml"), str(bad))
    assert invalid.code == 1
    assert 'bad.yaml:2:36: error: ccr_project name "Team_A" is invalid' in invalid.err


def test_doctor_checks_the_ccr_endpoint(ws: Workspace, example: Path) -> None:
    mark = ws.emulator.next_index()
    report = ws.cli("doctor", str(example), "--json")
    assert report.code == 0, report.out + report.err
    checks = {c["name"]: c["status"] for c in json.loads(report.out)["checks"]}
    for name in ("ccr instances", "ccr instance", "ccr projects", "ccr robots", "ccr public"):
        assert checks[name] == "ok", (name, checks)
    assert {r["method"] for r in ws.emulator.requests_log(since=mark)} == {"GET"}
    edit(example / "registry.yaml", "  - id: ccr-emulator", "  - id: ccr-nothere1")
    missing = ws.cli("doctor", str(example))
    assert missing.code == 1
    assert "ccr-nothere1 does not exist in this account and region" in missing.out

"""Adopting an account the tool has never seen: export, validate, adopt in one apply without a
mutating request, an empty plan after; import refuses undeclared addresses; a registry user
forgotten by destroy is adopted back."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from reconciler.client.credentials import Credentials
from reconciler.client.v1 import CceClient
from reconciler.kinds.cluster import cluster_body

from .conftest import BASE, PASSWORD, Workspace

CLUSTER = {
    "version": "1.20.8",
    "mainAvailableZone": "zoneA",
    "workers": {
        "count": 1,
        "instanceType": "10",
        "cpu": 4,
        "memory": 8,
        "imageId": "m-1",
        "subnetUuid": "sbn-1",
        "securityGroupId": "g-1",
    },
}


def seed_account(ws: Workspace) -> None:
    """1 registry user, 10 namespaces, 50 repositories, 2 clusters, made outside the tool."""
    creds = Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    with CceClient.connect(ws.emulator.url, creds) as client:
        client.create_user("legacyops", PASSWORD)
        for n in range(10):
            client.create_namespace(f"team{n}", public=n % 2 == 0, user="legacyops")
            for r in range(5):
                for tag in ("latest", f"v{r}"):
                    client.create_image_meta(f"team{n}", f"app{r}", tag, f"app {r} of team {n}")
        for n, net in enumerate(("172.16.0.0/16", "172.17.0.0/16")):
            attrs = {**CLUSTER, "name": f"legacy{n}", "containerNet": net}
            client.create_cluster(cluster_body(attrs, None))


def test_export_then_adopt_a_whole_account_in_one_apply(ws: Workspace, tmp_path: Path) -> None:
    seed_account(ws)
    target = ws.write("")  # main.yaml: only the target
    out = tmp_path / "adopted"
    result = ws.cli("export", str(target), "--out", str(out))
    assert result.code == 0, result.err
    files = sorted(p.name for p in out.iterdir())
    assert files == [
        "ccr_instances.yaml",  # the emulator's CCR Enterprise instance and its public endpoint
        "ccr_public_access.yaml",
        "clusters.yaml",
        "namespaces.yaml",
        "repositories.yaml",
        "target.yaml",
        "users.yaml",
    ]
    assert (out / "users.yaml").read_text().startswith("# yaml-language-server: $schema=")
    repositories = yaml.safe_load((out / "repositories.yaml").read_text())["repositories"]
    assert len(repositories) == 50

    checked = ws.cli("validate", str(out))
    assert checked.code == 0, checked.err
    assert "1 user, 10 namespaces, 50 repositories, 2 clusters" in checked.out

    mark = ws.emulator.next_index()
    plan = ws.cli("plan", str(out), "--adopt", "--json")
    assert plan.code == 0, plan.err
    actions = {c["address"]: c["action"] for c in json.loads(plan.out)["changes"]}
    assert len(actions) == 65 and set(actions.values()) == {"import"}
    adopted = ws.cli("apply", str(out), "--adopt", "--auto-approve")
    assert adopted.code == 0, adopted.out + adopted.err
    assert "65 imported" in adopted.out
    assert ws.emulator.mutating_requests(since=mark) == []
    methods = {r["method"] for r in ws.emulator.requests_log(since=mark)}
    assert methods == {"GET"}, "adoption costs read requests only"

    again = ws.cli("plan", str(out), "--detailed-exitcode")
    assert again.code == 0, again.out + again.err
    assert "No changes." in again.out
    listed = ws.cli("state", "list", "-c", str(out))
    assert all("adopted" in line for line in listed.out.splitlines())

    config = ws.cli("kubeconfig", "cluster.legacy0", "-c", str(out))
    assert config.code == 0, config.err
    kubeconfig = yaml.safe_load(Path(config.out.strip()).read_text())
    assert kubeconfig["kind"] == "Config" and kubeconfig["clusters"] and kubeconfig["users"]


def test_plan_json_conflicts_carry_address_kind_id_and_command(ws: Workspace) -> None:
    seed_account(ws)
    ws.write("users:\n  - username: legacyops\n    password: {env: CCR_PASSWORD}\n")
    result = ws.cli("plan", str(ws.root), "--json")
    assert result.code == 3
    (conflict,) = json.loads(result.out)["conflicts"]
    assert conflict["address"] == "user.legacyops" and conflict["kind"] == "user"
    assert conflict["id"] == "legacyops"
    assert conflict["suggested_command"] == "reconciler import user.legacyops legacyops"


def test_import_refuses_an_address_that_is_not_declared(ws: Workspace) -> None:
    seed_account(ws)
    ws.write("users:\n  - username: legacyops\n    password: {env: CCR_PASSWORD}\n")
    result = ws.cli("import", "namespace.team1", "team1", str(ws.root))
    assert result.code == 1
    assert "namespace.team1 is not declared" in result.err and "reconciler export" in result.err
    assert not ws.state_file().exists() or "team1" not in ws.state_file().read_text()


def test_a_user_forgotten_by_destroy_is_adopted_back(ws: Workspace) -> None:
    ws.write(BASE)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    assert ws.cli("destroy", str(ws.root), "--auto-approve").code == 0
    state = json.loads(ws.state_file().read_text())
    assert state["resources"] == {} and state["forgotten"] == {"user.ccetest": "ccetest"}

    plan = ws.cli("plan", str(ws.root))
    assert plan.code == 0, plan.out + plan.err
    assert "<= user.ccetest will be imported" in plan.out and "Conflict" not in plan.out
    mark = ws.emulator.next_index()
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    users = [r for r in ws.emulator.mutating_requests(since=mark) if "user" in r["path"]]
    assert users == [], "the user was adopted back, not created again"
    assert ws.cli("plan", str(ws.root), "--detailed-exitcode").code == 0


def test_export_refuses_to_overwrite_files_in_out_without_force(
    ws: Workspace, tmp_path: Path
) -> None:
    seed_account(ws)
    target = ws.write("")
    out = tmp_path / "adopted"
    out.mkdir()
    (out / "users.yaml").write_text("users: []\n")
    refused = ws.cli("export", str(target), "--out", str(out))
    assert refused.code == 1, refused.out + refused.err
    assert f"{out}: would overwrite users.yaml; nothing written" in refused.err
    assert sorted(p.name for p in out.iterdir()) == ["users.yaml"]
    forced = ws.cli("export", str(target), "--out", str(out), "--force")
    assert forced.code == 0, forced.err
    assert len(yaml.safe_load((out / "users.yaml").read_text())["users"]) == 1


def test_an_export_limited_by_kind_says_what_its_entries_refer_to_that_it_left_out(
    ws: Workspace, tmp_path: Path
) -> None:
    seed_account(ws)
    target = ws.write("")
    out = tmp_path / "repositories-only"
    result = ws.cli("export", str(target), "--kind", "repository", "--out", str(out))
    assert result.code == 0, result.err
    assert (
        "Warning: the exported repository entries refer to namespace objects that --kind left "
        "out, so `reconciler validate` will refuse them: add --kind namespace"
    ) in result.err
    assert ws.cli("validate", str(out)).code == 1  # as the warning says

    both = tmp_path / "with-namespaces"
    result = ws.cli(
        "export", str(target), "--kind", "repository", "--kind", "namespace", "--out", str(both)
    )
    assert result.code == 0, result.err
    assert "Warning: the exported" not in result.err
    assert "Note: the target has no" not in result.err
    assert ws.cli("validate", str(both)).code == 0

    robots = tmp_path / "robots"
    result = ws.cli("export", str(target), "--kind", "ccr_robot", "--out", str(robots))
    assert result.code == 0, result.err
    assert "Note: the target has no ccr_robot objects; nothing of that kind was written." in (
        result.err
    )
    assert sorted(p.name for p in robots.iterdir()) == ["target.yaml"]

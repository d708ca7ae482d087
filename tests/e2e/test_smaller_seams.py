"""The smaller seams of issue 22, each through the CLI: how to get `reconciler` on PATH, destroy's
wording, a stale plan naming the file that changed, --target's did-you-mean and Terraform's
warnings, -c PATH everywhere, one story per address, exported files that plan, placeholders
that would make nodes fail, and secrets errors in line order."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from reconciler.client.credentials import Credentials
from reconciler.client.v1 import CceClient
from reconciler.kinds.cluster import cluster_body

from .conftest import BASE, PASSWORD, ROOT, Workspace, run_cli
from .test_adoption import CLUSTER

REGISTRY = BASE.split("clusters:")[0]


def test_the_demo_and_the_readme_say_how_to_run_reconciler() -> None:
    from reconciler.demo import on_path_hint  # what `make demo` prints last

    hint = on_path_hint()
    command = Path(hint.split("The reconciler command is ", 1)[1].split(":", 1)[0])
    assert os.access(command, os.X_OK), hint  # the console script make installed
    assert "source " in hint and "activate" in hint
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "source .venv/bin/activate" in quick_start and ".venv/bin/reconciler" in quick_start


def test_destroy_ends_with_destroy_complete(ws: Workspace) -> None:
    ws.write(REGISTRY)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    result = ws.cli("destroy", str(ws.root), "--auto-approve")
    assert result.code == 0, result.out + result.err
    assert "Apply complete" not in result.out
    # as Terraform's "Destroy complete! Resources: 5 destroyed."; the user is forgotten
    assert "Destroy complete: 5 destroyed, 1 forgotten, 0 failed, 0 skipped." in result.out


def test_a_stale_plan_names_the_file_that_changed(ws: Workspace, tmp_path: Path) -> None:
    ws.write(REGISTRY)
    ws.write("namespaces:\n  - name: team-c\n", "more.yaml")
    plan_file = tmp_path / "p.bin"
    assert ws.cli("plan", str(ws.root), "--out", str(plan_file)).code == 0
    ws.write(REGISTRY.replace("payment API", "payments"))
    stale = ws.cli("apply", "--plan", str(plan_file))
    assert stale.code == 5, stale.out + stale.err
    assert "the configuration changed since it was made (changed: main.yaml)" in stale.err
    assert ws.emulator.mutating_requests() == []


def test_target_says_did_you_mean_and_warns_as_terraform_does(ws: Workspace) -> None:
    ws.write(REGISTRY)
    typo = ws.cli("plan", str(ws.root), "--target", "repository.team-a/wroker")
    assert typo.code == 1
    assert "repository.team-a/wroker (did you mean repository.team-a/worker?)" in typo.err

    plan = ws.cli("plan", str(ws.root), "--target", "namespace.team-b")
    assert plan.code == 0, plan.err
    assert "Warning: Resource targeting is in effect" in plan.out
    applied = ws.cli("apply", str(ws.root), "--target", "namespace.team-b", "--auto-approve")
    assert applied.code == 0, applied.out + applied.err
    assert (
        applied.out.rstrip().endswith("run `reconciler plan` to see whether any are pending.")
        and "Warning: Applied changes may be incomplete" in applied.out
    )
    whole = ws.cli("apply", str(ws.root), "--auto-approve")
    assert "targeting" not in whole.out and "may be incomplete" not in whole.out


@pytest.mark.parametrize("command", ["validate", "plan", "apply", "destroy", "doctor"])
def test_every_command_takes_the_configuration_as_dash_c(ws: Workspace, command: str) -> None:
    ws.write(REGISTRY)
    extra = ["--auto-approve"] if command in ("apply", "destroy") else []
    given = ws.cli(command, "-c", str(ws.root), *extra)
    assert given.code == 0, given.out + given.err
    if command == "apply":
        assert ws.cli("state", "list", "-c", str(ws.root)).out.count("\n") == 6
        assert ws.cli("output", "-c", str(ws.root)).code == 0


def test_a_conflicting_create_does_not_also_say_not_in_the_cloud(ws: Workspace) -> None:
    ws.write(REGISTRY)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    ws.state_file().unlink()
    plan = ws.cli("plan", str(ws.root), "--json")
    changes = {c["address"]: c for c in json.loads(plan.out)["changes"]}
    conflicted = {c["address"] for c in json.loads(plan.out)["conflicts"]}
    assert "namespace.team-a" in conflicted
    assert changes["namespace.team-a"]["reason"] != "declared, not in the cloud"
    assert "exists in the cloud" in changes["namespace.team-a"]["reason"]


def test_exported_v2_files_plan_without_a_node_password(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NODE_ADMIN_PASSWORD", "NodePassw0rd!")
    folder = ws.root / "v2"
    shutil.copytree(ROOT / "examples" / "v2", folder)
    registry = folder / "registry.yaml"
    registry.write_text(
        registry.read_text().replace("endpoint: local", f"endpoint: {ws.emulator.url}")
    )
    assert ws.cli("apply", str(folder), "--auto-approve").code == 0
    monkeypatch.delenv("NODE_ADMIN_PASSWORD")

    out = tmp_path / "exported"
    assert ws.cli("export", str(folder), "--out", str(out)).code == 0
    groups = yaml.safe_load((out / "instance_groups.yaml").read_text())["instance_groups"]
    assert groups and all("adminPassword" not in group for group in groups)
    plan = ws.cli("plan", str(out), "--adopt", "--detailed-exitcode")
    assert plan.code in (0, 2), plan.out + plan.err


def test_scaling_an_exported_v1_cluster_with_placeholders_is_refused(
    ws: Workspace, tmp_path: Path
) -> None:
    creds = Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    with CceClient.connect(ws.emulator.url, creds) as client:
        client.create_user("legacyops", PASSWORD)
        client.create_cluster(
            cluster_body({**CLUSTER, "name": "legacy", "containerNet": "172.16.0.0/16"}, None)
        )
    target = ws.write("")
    out = tmp_path / "exported"
    assert ws.cli("export", str(target), "--out", str(out)).code == 0
    assert ws.cli("apply", str(out), "--adopt", "--auto-approve").code == 0
    clusters = out / "clusters.yaml"
    clusters.write_text(clusters.read_text().replace("count: 1", "count: 2"))
    mark = ws.emulator.next_index()
    plan = ws.cli("plan", str(out))
    assert plan.code == 3, plan.out + plan.err
    assert "adds 1 worker node(s), but workers.imageId, workers.subnetUuid, " in plan.out
    applied = ws.cli("apply", str(out), "--auto-approve")
    assert applied.code == 3 and ws.emulator.mutating_requests(since=mark) == []
    clusters.write_text(
        clusters.read_text()
        .replace("m-UNKNOWN", "m-1")
        .replace("sbn-UNKNOWN", "sbn-1")
        .replace("g-UNKNOWN", "g-1")
    )
    assert ws.cli("plan", str(out)).code == 0


def test_unreadable_secrets_are_listed_in_line_order(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CCR_PASSWORD")
    ws.write("users:\n  - username: ccetest\n    password: {env: CCR_PASSWORD}\n", "z.yaml")
    ws.write(
        "clusters:\n  - name: prod\n    version: '1.20.8'\n    mainAvailableZone: zoneA\n"
        "    containerNet: 172.16.0.0/16\n"
        "    workers: {count: 1, instanceType: '10', cpu: 4, memory: 8, imageId: m-1,"
        " subnetUuid: sbn-1, securityGroupId: g-1, adminPassword: {env: NODE_PW_UNSET}}\n",
        "a.yaml",
    )
    ws.write("")
    result = ws.cli("plan", str(ws.root))
    assert result.code == 1
    assert [line.split(": error: ")[0] for line in result.err.splitlines()] == [
        f"{ws.root / 'a.yaml'}:6:134",  # each at its value, as validate --check-secrets says
        f"{ws.root / 'z.yaml'}:3:15",
    ], result.err
    # the plan may have begun listing (the files parse, the target is valid): never more
    sent = {r["method"] for r in ws.emulator.requests_log()}
    assert sent <= {"GET"}, "unreadable secrets stop the run before any change"


def test_examples_readme_describes_every_example_folder() -> None:
    readme = (ROOT / "examples" / "README.md").read_text()
    folders = sorted(p.name for p in (ROOT / "examples").iterdir() if p.is_dir())
    assert "account" in folders
    assert [f for f in folders if f"- `{f}/`" not in readme] == []


def test_the_platform_example_password_file_is_read_at_plan_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As examples/platform/users.yaml says: plan reads the file (before any request)."""
    folder = tmp_path / "platform"
    shutil.copytree(ROOT / "examples" / "platform", folder)
    monkeypatch.setenv("NODE_ADMIN_PASSWORD", "NodePassw0rd!")
    monkeypatch.setenv("BCE_ACCESS_KEY_ID", "unused")
    monkeypatch.setenv("BCE_SECRET_ACCESS_KEY", "unused")
    monkeypatch.chdir(tmp_path)
    assert "read by every plan and apply" in (folder / "users.yaml").read_text()
    plan = run_cli("plan", "platform")
    assert plan.code == 1
    assert plan.err == (
        "platform/users.yaml:9:15: error: user.platform: password: cannot read secret file "
        '"secrets/registry-password.txt": No such file or directory\n'
    )
    assert run_cli("validate", "platform").code == 0


def test_a_mistyped_command_or_state_address_gets_a_suggestion(ws: Workspace) -> None:
    mistyped = run_cli("plna", str(ws.root))
    assert mistyped.code == 1
    assert "Error: No such command 'plna'. Did you mean 'plan'?" in mistyped.err
    assert "Did you mean 'import'?" in run_cli("imprt").err  # a command not imported yet
    assert "Did you mean" not in run_cli("zzzzzz").err
    ws.write(REGISTRY)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    shown = ws.cli("state", "show", "namespace.tema-a", "-c", str(ws.root))
    assert shown.code == 1
    assert "namespace.tema-a is not in state; did you mean namespace.team-a?" in shown.err

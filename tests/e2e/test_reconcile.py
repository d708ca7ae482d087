"""The CLI end to end against the emulator over HTTP: plan, apply, convergence, guards, import."""

from __future__ import annotations

import json

from reconciler.kinds import names as kind_names
from reconciler.state.local import LocalStateStore

from .conftest import BASE, Workspace


def apply_base(ws: Workspace) -> None:
    ws.write(BASE)
    result = ws.cli("apply", str(ws.root), "--auto-approve")
    assert result.code == 0, result.out + result.err
    assert "Apply complete: 7 created" in result.out


def test_apply_converges_and_second_apply_sends_no_mutation(ws: Workspace) -> None:
    apply_base(ws)
    state = ws.emulator.state()
    assert sorted(n["namespace"] for n in state["namespaces"]) == ["team-a", "team-b"]
    plan = ws.cli("plan", str(ws.root), "--detailed-exitcode")
    assert plan.code == 0 and "No changes." in plan.out
    mark = ws.emulator.next_index()
    again = ws.cli("apply", str(ws.root), "--auto-approve")
    assert again.code == 0
    assert ws.emulator.mutating_requests(since=mark) == []


def test_plan_json_and_detailed_exitcode_on_changes(ws: Workspace) -> None:
    ws.write(BASE)
    result = ws.cli("plan", str(ws.root), "--json", "--detailed-exitcode")
    assert result.code == 2
    doc = json.loads(result.out)
    assert doc["summary"]["create"] == 7
    user = next(c for c in doc["changes"] if c["address"] == "user.ccetest")
    assert user["after"]["password"] == "(sensitive)"
    assert "Passw0rd" not in result.out
    assert ws.emulator.mutating_requests() == []


def test_apply_without_tty_or_auto_approve_refuses(ws: Workspace) -> None:
    ws.write(BASE)
    result = ws.cli("apply", str(ws.root))
    assert result.code == 1
    assert "--auto-approve" in result.err
    assert ws.emulator.mutating_requests() == []


def test_tag_change_updates_in_place(ws: Workspace) -> None:
    apply_base(ws)
    ws.write(BASE.replace("tags: [latest, v1]", "tags: [latest, v2]"))
    plan = ws.cli("plan", str(ws.root))
    assert 'tags: ["latest", "v1"] -> ["latest", "v2"]' in plan.out
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    images = {(i["namespace"], i["repository"]): i["tags"] for i in ws.emulator.state()["images"]}
    assert sorted(images[("team-a", "api")]) == ["latest", "v2"]


def test_saved_plan_applies_and_goes_stale(ws: Workspace) -> None:
    ws.write(BASE)
    out = ws.root / "plan.json"
    assert ws.cli("plan", str(ws.root), "--out", str(out)).code == 0
    assert "Passw0rd" not in out.read_text()
    assert ws.cli("apply", "--plan", str(out)).code == 0
    ws.write(
        BASE.replace(
            "tags: [latest]\n  - namespace: team-b", "tags: [latest, v9]\n  - namespace: team-b"
        )
    )
    assert ws.cli("plan", str(ws.root), "--out", str(out)).code == 0
    # someone changes the repository in the cloud after the plan was saved
    from reconciler.client.credentials import Credentials
    from reconciler.client.v1 import CceClient

    with CceClient.connect(
        ws.emulator.url, Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    ) as client:
        client.create_image_meta("team-a", "worker", "hotfix")
    stale = ws.cli("apply", "--plan", str(out))
    assert stale.code == 5, stale.out + stale.err
    assert "repository.team-a/worker" in stale.err


def test_cluster_create_failure_taints_then_replaces(ws: Workspace) -> None:
    ws.emulator.set_faults(create_failure_rate=1.0)
    ws.write(BASE)
    failed = ws.cli("apply", str(ws.root), "--auto-approve")
    assert failed.code == 1
    assert "tainted" in failed.out
    entry = json.loads(ws.state_file().read_text())["resources"]["cluster.prod"]
    assert entry["tainted"] is True
    ws.emulator.set_faults(create_failure_rate=0.0)
    plan = ws.cli("plan", str(ws.root))
    assert "cluster.prod must be replaced" in plan.out
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    live = [c for c in ws.emulator.state()["clusters"] if c["status"] == "RUNNING"]
    assert len(live) == 1


def test_protected_resource_refuses_delete_even_after_block_removed(ws: Workspace) -> None:
    ws.write(
        BASE.replace(
            "  - name: team-b\n    public: true\n",
            "  - name: team-b\n    public: true\n    lifecycle: {protect: true}\n",
        )
    )
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    without_block = BASE.replace("  - name: team-b\n    public: true\n", "").replace(
        "  - namespace: team-b\n    name: web\n    tags: [latest]\n", ""
    )
    ws.write(without_block)
    result = ws.cli("apply", str(ws.root), "--auto-approve", "--allow-deletes", "10")
    assert result.code == 3
    assert "namespace.team-b" in result.err and "protected" in result.err
    assert any(n["namespace"] == "team-b" for n in ws.emulator.state()["namespaces"])


def test_blast_radius_guard(ws: Workspace) -> None:
    extra = "".join(
        f"  - namespace: team-a\n    name: r{i}\n    tags: [latest]\n" for i in range(6)
    )
    ws.write(BASE.split("clusters:")[0] + extra)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    ws.write(BASE.split("clusters:")[0])
    refused = ws.cli("apply", str(ws.root), "--auto-approve")
    assert refused.code == 3
    assert "--allow-deletes 6" in refused.err
    allowed = ws.cli("apply", str(ws.root), "--auto-approve", "--allow-deletes", "6")
    assert allowed.code == 0


def test_unmanaged_object_is_a_conflict_until_imported(ws: Workspace) -> None:
    from reconciler.client.credentials import Credentials
    from reconciler.client.v1 import CceClient

    with CceClient.connect(
        ws.emulator.url, Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    ) as client:
        client.create_user(
            "ccetest",
            "Passw0rd-e2e1",
        )
        client.create_namespace("team-a", public=False, user="ccetest")
    ws.write(
        "users:\n  - username: ccetest\n    password: {env: CCR_PASSWORD}\nnamespaces:\n  - name: team-a\n"
    )
    plan = ws.cli("plan", str(ws.root))
    assert plan.code == 3
    assert "reconciler import namespace.team-a team-a" in plan.out
    assert ws.cli("import", "namespace.team-a", "team-a", str(ws.root)).code == 0
    assert ws.cli("import", "user.ccetest", "ccetest", str(ws.root)).code == 0
    mark = ws.emulator.next_index()
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    # the adopted user's password is unknown to state: one PUT, answered Cce.PasswdNotChange
    assert [r["method"] for r in ws.emulator.mutating_requests(since=mark)] == ["PUT"]
    final = ws.cli("plan", str(ws.root), "--detailed-exitcode")
    assert final.code == 0, final.out


def test_lock_held_by_someone_else_exits_4(ws: Workspace) -> None:
    ws.write(BASE)
    store = LocalStateStore(ws.state_file(), kinds=kind_names())
    with store.lock("test holder") as info:
        result = ws.cli("apply", str(ws.root), "--auto-approve")
    assert result.code == 4
    assert info.id in result.err and "test holder" in result.err
    assert ws.emulator.mutating_requests() == []


def test_destroy_deletes_everything_and_forgets_the_user(ws: Workspace) -> None:
    apply_base(ws)
    result = ws.cli("destroy", str(ws.root), "--auto-approve")
    assert result.code == 0, result.out + result.err
    state = ws.emulator.state()
    assert state["namespaces"] == [] and state["images"] == []
    assert all(c["status"] == "DELETED" for c in state["clusters"])
    assert json.loads(ws.state_file().read_text())["resources"] == {}


def test_destroy_refuses_protected_objects_and_says_destroy(ws: Workspace) -> None:
    ws.write(
        BASE.replace(
            "    password: {env: CCR_PASSWORD}\n",
            "    password: {env: CCR_PASSWORD}\n    lifecycle: {protect: true}\n",
        ).replace("  - name: team-b\n", "  - name: team-b\n    lifecycle: {protect: true}\n")
    )
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    mark = ws.emulator.next_index()
    result = ws.cli("destroy", str(ws.root), "--auto-approve")
    assert result.code == 3, result.out + result.err
    assert "Destroy would refuse this plan (exit 3)" in result.out
    assert "Apply would refuse" not in result.out
    assert "error: refusing to destroy:" in result.err
    assert "user.ccetest: protected by lifecycle.protect (kept in state)" in result.err
    assert "namespace.team-b: protected by lifecycle.protect (kept in state)" in result.err
    assert ws.emulator.mutating_requests(since=mark) == []
    assert "user.ccetest" in json.loads(ws.state_file().read_text())["resources"]


def test_a_protected_user_whose_block_goes_is_refused_not_forgotten(ws: Workspace) -> None:
    protected = "    password: {env: CCR_PASSWORD}\n    lifecycle: {protect: true}\n"
    ws.write(BASE.replace("    password: {env: CCR_PASSWORD}\n", protected))
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    ws.write("users: []\nnamespaces:" + BASE.split("namespaces:")[1])
    plan = ws.cli("plan", str(ws.root))
    assert plan.code == 3, plan.out + plan.err
    assert "protected by lifecycle.protect (kept in state)" in plan.out
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 3
    assert "user.ccetest" in json.loads(ws.state_file().read_text())["resources"]


def test_scale_down_removes_newest_nodes(ws: Workspace) -> None:
    apply_base(ws)
    first = {n["instanceShortId"] for n in ws.emulator.state()["clusters"][0]["nodes"]}
    ws.emulator.advance(120)  # the scaled-up nodes are two minutes younger
    ws.write(BASE.replace("count: 2", "count: 4"))
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    ws.write(BASE.replace("count: 2", "count: 3"))
    plan = ws.cli("plan", str(ws.root))
    assert "nodes to remove (newest first)" in plan.out
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    cluster = next(c for c in ws.emulator.state()["clusters"] if c["status"] == "RUNNING")
    remaining = {n["instanceShortId"] for n in cluster["nodes"]}
    assert len(remaining) == 3
    assert first <= remaining  # the removed node is one of the newest


def test_unset_secret_fails_before_any_mutation(ws: Workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("CCR_PASSWORD")
    ws.write(BASE)
    result = ws.cli("apply", str(ws.root), "--auto-approve")
    assert result.code == 1
    assert result.err == (
        f"{ws.root / 'main.yaml'}:5:15: error: user.ccetest: password: environment variable "
        "CCR_PASSWORD is not set\n"
    )
    assert ws.emulator.mutating_requests() == []
    where = f"{ws.root / 'main.yaml'}:5:15: error: "  # the value, as validate says
    assert ws.cli("plan", str(ws.root)).err.startswith(where + "user.ccetest: password:")
    assert ws.cli("validate", str(ws.root), "--check-secrets").err.startswith(where)


def test_already_exist_that_is_not_ours_is_reported_and_dependents_skipped(ws: Workspace) -> None:
    registry_only = BASE.split("clusters:")[0]
    ws.write(registry_only.split("namespaces:")[0])
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0  # the user
    ws.write(registry_only)
    ws.emulator.set_faults(
        fail_next=["RegistryAlreadyExist"]
    )  # namespace.team-a's create, yet nothing exists
    result = ws.cli("apply", str(ws.root), "--auto-approve", "--parallelism", "1")
    assert result.code == 1
    assert "namespace.team-a: already exists in the cloud with different settings" in result.out
    assert "namespace.team-a: failed: namespace.team-a" not in result.out
    assert (
        "skipped: repository.team-a/api (depends on namespace.team-a, which failed)" in result.out
    )
    assert "namespace.team-b: created after" in result.out
    assert "team-b" in str(ws.emulator.state()["namespaces"])
    again = ws.cli("apply", str(ws.root), "--auto-approve")
    assert again.code == 0, again.out


def test_busy_cluster_delete_waits_and_retries(ws: Workspace) -> None:
    apply_base(ws)
    ws.write(BASE.split("clusters:")[0])
    ws.emulator.set_faults(fail_next=["Cce.ClusterDeleting"])  # the first delete finds it busy
    result = ws.cli("apply", str(ws.root), "--auto-approve")
    assert result.code == 0, result.out + result.err
    deletes = [
        r
        for r in ws.emulator.mutating_requests()
        if r["method"] == "DELETE" and "/v1/cluster/" in r["path"]
    ]
    assert [r["code"] for r in deletes] == ["Cce.ClusterDeleting", None]
    assert all(c["status"] == "DELETED" for c in ws.emulator.state()["clusters"])


def test_cluster_wait_times_out_per_kind(ws: Workspace) -> None:
    ws.emulator.set_faults(cluster_create_seconds=3600)
    ws.write(BASE)
    result = ws.cli("apply", str(ws.root), "--auto-approve", "--timeout", "cluster=1s")
    assert result.code == 1
    assert "timed out after 1s creating (last status CREATING)" in result.out
    state = json.loads(ws.state_file().read_text())
    assert "cluster.prod" not in state["resources"], "a timed-out create is not tainted"
    (pending,) = [p for p in state["pending"] if p["address"] == "cluster.prod"]
    assert pending["cloud_id"], "its id was journaled, so the next run adopts it"
    ws.emulator.advance(3600)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    names = [c["clusterName"] for c in ws.emulator.state()["clusters"] if c["status"] != "DELETED"]
    assert names == ["prod"], "the cluster that was still creating is not created twice"


def test_bad_timeout_flag_is_a_usage_error(ws: Workspace) -> None:
    ws.write(BASE)
    result = ws.cli("apply", str(ws.root), "--auto-approve", "--timeout", "cluster=soon")
    assert result.code == 1
    assert "--timeout cluster=soon: expected KIND=DURATION" in result.err

"""Edge cases of planning and applying that reviews found: objects deleted outside, containers
taking protected or unmanaged contents, protection across re-creation, stale saved plans,
refusals at plan time, token masking, names with a slash, definite refusals."""

from __future__ import annotations

import json
import logging

import pytest

from reconciler.client import signer
from reconciler.client.credentials import Credentials
from reconciler.client.v1 import CceClient

from .conftest import BASE, Workspace


def client(ws: Workspace) -> CceClient:
    return CceClient.connect(
        ws.emulator.url, Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    )


def test_a_cluster_deleted_outside_is_created_again(ws: Workspace) -> None:
    ws.write(BASE)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    old = json.loads(ws.state_file().read_text())["resources"]["cluster.prod"]["cloud_id"]
    with client(ws) as c:
        c.delete_cluster(old)
    plan = ws.cli("plan", str(ws.root))
    assert (
        "+ cluster.prod will be created" in plan.out
        and "deleted outside the reconciler" in plan.out
    )
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    new = json.loads(ws.state_file().read_text())["resources"]["cluster.prod"]["cloud_id"]
    assert new != old
    assert ws.cli("plan", str(ws.root), "--detailed-exitcode").code == 0


def test_deleting_a_namespace_refuses_to_take_a_protected_repository(ws: Workspace) -> None:
    ws.write(
        BASE.replace(
            "    description: payment API\n",
            "    description: payment API\n    lifecycle: {protect: true}\n",
        )
    )
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    without_team_a = BASE.replace("  - name: team-a\n", "").split("repositories:")[0] + (
        "repositories:\n  - namespace: team-b\n    name: web\n    tags: [latest]\n"
    )
    ws.write(without_team_a + "clusters:" + BASE.split("clusters:")[1])
    for args in ([], ["--target", "namespace.team-a"]):
        result = ws.cli("apply", str(ws.root), "--auto-approve", "--allow-deletes", "9", *args)
        assert result.code == 3, result.out + result.err
        assert (
            "namespace.team-a: it would take protected repository.team-a/api with it" in result.err
        )
    assert any(i["repository"] == "api" for i in ws.emulator.state()["images"])


def test_deleting_a_namespace_with_unmanaged_repositories_is_a_conflict(ws: Workspace) -> None:
    ws.write(BASE)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    with client(ws) as c:
        c.create_image_meta("team-b", "someone-elses", "latest")
    ws.write(
        BASE.replace("  - name: team-b\n    public: true\n", "").replace(
            "  - namespace: team-b\n    name: web\n    tags: [latest]\n", ""
        )
    )
    plan = ws.cli("plan", str(ws.root))
    assert plan.code == 3
    assert "would delete repositories this state does not manage: team-b/someone-elses" in plan.out
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 3
    assert any(i["repository"] == "someone-elses" for i in ws.emulator.state()["images"])


def test_protection_survives_re_creation(ws: Workspace) -> None:
    ws.write(
        BASE.replace(
            "  - name: team-b\n    public: true\n",
            "  - name: team-b\n    public: true\n    lifecycle: {protect: true}\n",
        )
    )
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    ws.write(BASE)  # the block is gone; state keeps the protection
    with client(ws) as c:
        c.delete_namespace("team-b")
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    shown = json.loads(ws.cli("state", "show", "namespace.team-b", "-c", str(ws.root)).out)
    assert shown["protect"] is True


def test_a_saved_plan_is_stale_once_the_state_moved_on(ws: Workspace) -> None:
    ws.write(BASE)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    ws.write(BASE.replace("tags: [latest, v1]", "tags: [latest, v3]"))
    out = ws.root / "p.json"
    assert ws.cli("plan", str(ws.root), "--out", str(out)).code == 0
    assert ws.cli("state", "rm", "repository.team-b/web", "-c", str(ws.root)).code == 0
    stale = ws.cli("apply", "--plan", str(out))
    assert stale.code == 5 and "the state changed since it was made" in stale.err


def test_an_unknown_target_is_a_usage_error_not_no_changes(ws: Workspace) -> None:
    ws.write(BASE)
    result = ws.cli("plan", str(ws.root), "--target", "namespace.tema-a", "--detailed-exitcode")
    assert result.code == 1
    assert "no such address in the configuration or the state: namespace.tema-a" in result.err


def test_terraforms_single_dash_options_are_told_their_spelling_here(ws: Workspace) -> None:
    ws.write(BASE)
    for args, spelled in [
        (["plan", str(ws.root), "-refresh-only"], "--refresh-only"),
        (["apply", str(ws.root), "-auto-approve"], "--auto-approve"),
        (["plan", str(ws.root), "-target=namespace.team-a"], "--target"),
        (["state", "list", "-config", str(ws.root)], "--config"),
    ]:
        result = ws.cli(*args)
        assert result.code == 1
        assert f"Did you mean {spelled}? Options take two dashes here." in result.err
    # none of ours; -c... is not read as -c with the rest as its value
    for args in (["plan", str(ws.root), "-compact-warnings"], ["-chdir=/tmp", "plan"]):
        unknown = ws.cli(*args)
        assert unknown.code == 1, unknown.err
        assert unknown.err.strip() == (
            f"Error: No such option: {args[-1] if args[0] == 'plan' else args[0]}. "
            "Options take two dashes here."
        )
    assert ws.emulator.requests_log() == []


def test_plan_exits_3_when_apply_would_refuse(ws: Workspace) -> None:
    ws.write(BASE)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    ws.write(BASE.replace('version: "1.20.8"', 'version: "1.22.5"'))
    plan = ws.cli("plan", str(ws.root))
    assert plan.code == 3 and "--replace cluster.prod" in plan.out
    assert (
        ws.cli("plan", str(ws.root), "--replace", "cluster.prod", "--detailed-exitcode").code == 2
    )


def test_debug_log_masks_the_session_token(caplog: pytest.LogCaptureFixture) -> None:
    from datetime import UTC, datetime

    headers = {
        "host": "h",
        "x-bce-date": "2026-01-01T00:00:00Z",
        "x-bce-security-token": "TOKEN-SECRET-1",
    }
    with caplog.at_level(logging.DEBUG, logger="reconciler.client.signer"):
        signer.sign(
            "ak",
            "sk",
            "GET",
            "/v1/cluster",
            None,
            headers,
            datetime.now(UTC),
            signed_headers=list(headers),
        )
    assert "x-bce-security-token:***" in caplog.text
    assert "TOKEN-SECRET-1" not in caplog.text


SLASHED = BASE.replace("    name: worker\n", "    name: lib/worker\n")


def test_repository_names_with_a_slash_are_deleted_for_real(ws: Workspace) -> None:
    ws.write(SLASHED)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    assert any(i["repository"] == "lib/worker" for i in ws.emulator.state()["images"])
    ws.write(
        SLASHED.replace("  - namespace: team-a\n    name: lib/worker\n    tags: [latest]\n", "")
    )
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    assert not any(i["repository"] == "lib/worker" for i in ws.emulator.state()["images"])
    assert ws.cli("plan", str(ws.root), "--detailed-exitcode").code == 0


def test_a_namespace_replace_counts_repositories_with_a_slash(ws: Workspace) -> None:
    protected = SLASHED.replace(
        "    name: lib/worker\n    tags: [latest]\n",
        "    name: lib/worker\n    tags: [latest]\n    lifecycle: {protect: true}\n",
    )
    ws.write(protected)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    ws.write(protected.replace("  - name: team-a\n", "  - name: team-a\n    public: true\n"))
    result = ws.cli("apply", str(ws.root), "--auto-approve", "--replace", "namespace.team-a")
    assert result.code == 3
    assert "repository.team-a/lib/worker" in result.err
    assert any(i["repository"] == "lib/worker" for i in ws.emulator.state()["images"])


def test_a_definite_refusal_of_a_create_is_not_resent(ws: Workspace) -> None:
    # a quota the plan could not know (it reads the quota; the server refuses anyway)
    ws.write("clusters:" + BASE.split("clusters:")[1])
    ws.emulator.set_faults(fail_next=["Cce.ClusterOverQuota"])
    result = ws.cli("apply", str(ws.root), "--auto-approve")
    assert result.code == 1
    assert "Cce.ClusterOverQuota" in result.out and "answer was lost" not in result.out
    creates = [
        r
        for r in ws.emulator.mutating_requests()
        if r["method"] == "POST" and r["path"] == "/v1/cluster"
    ]
    assert len(creates) == 1


def test_a_cluster_version_the_api_does_not_offer_is_refused_by_plan(ws: Workspace) -> None:
    ws.write(BASE.replace('version: "1.20.8"', 'version: "1.99.1"'))
    result = ws.cli("plan", str(ws.root))
    assert result.code == 3, result.out + result.err
    assert "version 1.99.1 is not one the API offers" in result.out
    applied = ws.cli("apply", str(ws.root), "--auto-approve")
    assert applied.code == 3
    assert ws.emulator.mutating_requests() == []


def test_an_in_sync_plan_does_not_read_the_version_list(ws: Workspace) -> None:
    ws.write(BASE)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    mark = ws.emulator.next_index()
    assert ws.cli("plan", str(ws.root), "--detailed-exitcode").code == 0
    assert not [r for r in ws.emulator.requests_log(since=mark) if "versions" in r["path"]]


def test_a_state_is_never_used_against_another_target(ws: Workspace) -> None:
    ws.write(BASE)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    assert json.loads(ws.state_file().read_text())["target"] == ws.emulator.url
    other = "http://127.0.0.1:9"
    (ws.root / "main.yaml").write_text(f"target:\n  endpoint: {other}\n{BASE}")
    result = ws.cli("plan", str(ws.root))
    assert result.code == 1
    assert f"was applied to {ws.emulator.url}, but this run targets {other}" in result.err


def test_clusters_over_the_accounts_quota_are_refused_by_plan(ws: Workspace) -> None:
    ws.emulator.set_faults(cluster_quota=1, slave_quota=3)
    second = (
        BASE.split("clusters:")[1]
        .replace("name: prod", "name: stage")
        .replace("172.16.0.0/16", "172.20.0.0/16")
    )
    ws.write(BASE + second)
    result = ws.cli("plan", str(ws.root))
    assert result.code == 3, result.out + result.err
    assert "Cce.ClusterOverQuota" in result.out
    ws.write(BASE.replace("count: 2", "count: 4"))
    result = ws.cli("plan", str(ws.root))
    assert result.code == 3 and "Cce.slaveOverQuota" in result.out
    ws.write(BASE)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0


def test_a_scale_up_waits_for_its_nodes_so_a_plan_right_after_is_not_stale(ws: Workspace) -> None:
    ws.write(BASE)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    ws.emulator.set_faults(cluster_create_seconds=3)  # new nodes take 3 s to run
    ws.write(BASE.replace("count: 2", "count: 3"))
    scaled = ws.cli("apply", str(ws.root), "--auto-approve", "--timeout", "cluster=1s")
    assert scaled.code == 1 and "timed out" in scaled.out  # not reported as done at once
    ws.emulator.advance(3)
    saved = ws.root / "after.bin"
    assert ws.cli("plan", str(ws.root), "--out", str(saved)).code == 0
    assert ws.cli("apply", "--plan", str(saved)).code == 0

"""Drift: what changed outside the reconciler since the last apply, apart from config changes;
`plan --refresh-only` shows only that, `apply --refresh-only` records it in state."""

from __future__ import annotations

import json

from reconciler.client.credentials import Credentials
from reconciler.client.v1 import CceClient

from .conftest import BASE, Workspace


def client_of(ws: Workspace) -> CceClient:
    creds = Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    return CceClient.connect(ws.emulator.url, creds)


def test_a_tag_removed_and_a_namespace_deleted_outside_are_drift(ws: Workspace) -> None:
    ws.write(BASE)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    with client_of(ws) as client:
        client.delete_image_meta("team-a", "api", "v1")
        client.delete_namespace("team-b")

    plan = ws.cli("plan", str(ws.root), "--json")
    doc = json.loads(plan.out)
    assert set(doc["drift"]) == {
        "repository.team-a/api",
        "namespace.team-b",
        "repository.team-b/web",
    }
    api = next(c for c in doc["changes"] if c["address"] == "repository.team-a/api")
    assert api["drift"] == [{"path": "tags", "before": ["latest", "v1"], "after": ["latest"]}]
    assert "changed outside the reconciler: tags" in api["reason"]

    nightly = ws.cli("plan", str(ws.root), "--refresh-only", "--detailed-exitcode")
    assert nightly.code == 2, nightly.out + nightly.err
    assert "namespace.team-b: deleted outside the reconciler" in nightly.out
    assert 'tags: ["latest", "v1"] -> ["latest"]' in nightly.out

    mark = ws.emulator.next_index()
    recorded = ws.cli("apply", str(ws.root), "--refresh-only", "--auto-approve")
    assert recorded.code == 0, recorded.out + recorded.err
    assert ws.emulator.mutating_requests(since=mark) == []
    state = json.loads(ws.state_file().read_text())
    assert "namespace.team-b" not in state["resources"]
    assert state["resources"]["repository.team-a/api"]["applied"]["tags"] == ["latest"]

    assert ws.cli("plan", str(ws.root), "--refresh-only", "--detailed-exitcode").code == 0
    after = ws.cli("plan", str(ws.root), "--json")
    actions = {c["address"]: c["action"] for c in json.loads(after.out)["changes"]}
    assert actions["namespace.team-b"] == "create" and actions["repository.team-a/api"] == "update"

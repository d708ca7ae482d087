"""`apply --plan FILE` executes the saved plan: it re-reads only what the staleness check needs,
keeps the plan's mode (a refresh-only plan records drift), and reads the previous format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler import refresh
from reconciler.client.credentials import Credentials
from reconciler.client.v1 import CceClient

from .conftest import BASE, Workspace

MORE_TAGS = BASE.replace(
    "tags: [latest]\n  - namespace: team-b", "tags: [latest, v9]\n  - namespace: team-b"
)


def add_tag_outside(ws: Workspace, repository: str, tag: str) -> None:
    credentials = Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    with CceClient.connect(ws.emulator.url, credentials) as client:
        client.create_image_meta("team-a", repository, tag)


def tags_in_state(ws: Workspace, address: str) -> list[str]:
    document = json.loads(ws.state_file().read_text())
    return sorted(document["resources"][address]["applied"]["tags"])


def as_format_2(plan_file: Path) -> None:
    """Rewrite a saved plan as the previous version wrote it (``refresh_only``, not ``mode``)."""
    doc = json.loads(plan_file.read_text())
    doc["format"] = "cce-reconciler-plan/2"
    doc["refresh_only"] = doc.pop("mode") == "refresh-only"
    plan_file.write_text(json.dumps(doc, indent=2))


def test_a_saved_plan_is_applied_reading_only_the_kinds_it_changes(ws: Workspace) -> None:
    ws.write(BASE)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    ws.write(MORE_TAGS)
    out = ws.root / "plan.json"
    assert ws.cli("plan", str(ws.root), "--out", str(out)).code == 0
    mark = ws.emulator.next_index()

    applied = ws.cli("apply", "--plan", str(out))

    assert applied.code == 0, applied.out + applied.err
    assert "1 updated" in applied.out
    sent = [(e["method"], e["path"]) for e in ws.emulator.requests_log(mark)]
    assert ("GET", "/v1/image") in sent  # the repositories, to check the changed one is as planned
    assert not [path for _, path in sent if path.startswith("/v1/cluster")]  # nothing else read
    assert [m for m, _ in sent if m != "GET"] == ["POST"]  # the one tag added
    assert tags_in_state(ws, "repository.team-a/worker") == ["latest", "v9"]


def test_a_saved_refresh_only_plan_records_the_drift_and_sends_nothing(ws: Workspace) -> None:
    ws.write(BASE)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    add_tag_outside(ws, "worker", "hotfix")
    out = ws.root / "drift.json"
    assert ws.cli("plan", str(ws.root), "--refresh-only", "--out", str(out)).code == 0
    assert json.loads(out.read_text())["mode"] == "refresh-only"
    mark = ws.emulator.next_index()

    recorded = ws.cli("apply", "--plan", str(out))

    assert recorded.code == 0, recorded.out + recorded.err
    assert "Recorded 1 object(s)" in recorded.out
    assert ws.emulator.mutating_requests(since=mark) == []
    assert tags_in_state(ws, "repository.team-a/worker") == ["hotfix", "latest"]


def test_a_plan_saved_in_the_previous_format_is_applied_in_its_mode(ws: Workspace) -> None:
    ws.write(BASE)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    add_tag_outside(ws, "worker", "hotfix")
    drift = ws.root / "drift.json"
    assert ws.cli("plan", str(ws.root), "--refresh-only", "--out", str(drift)).code == 0
    as_format_2(drift)
    assert "Refresh-only: 1 object(s) changed" in ws.cli("show", str(drift)).out

    assert ws.cli("apply", "--plan", str(drift)).code == 0
    assert tags_in_state(ws, "repository.team-a/worker") == ["hotfix", "latest"]

    ws.write(MORE_TAGS.replace("tags: [latest, v9]", "tags: [latest, hotfix, v9]"))
    change = ws.root / "change.json"
    assert ws.cli("plan", str(ws.root), "--out", str(change)).code == 0
    as_format_2(change)
    applied = ws.cli("apply", "--plan", str(change))
    assert applied.code == 0, applied.out + applied.err
    assert tags_in_state(ws, "repository.team-a/worker") == ["hotfix", "latest", "v9"]


def test_a_plan_in_a_format_this_version_cannot_read_is_refused(ws: Workspace) -> None:
    ws.write(BASE)
    out = ws.root / "plan.json"
    assert ws.cli("plan", str(ws.root), "--out", str(out)).code == 0
    doc = json.loads(out.read_text())
    doc["format"] = "cce-reconciler-plan/1"
    out.write_text(json.dumps(doc))

    refused = ws.cli("apply", "--plan", str(out))

    assert refused.code == 1
    assert "in format cce-reconciler-plan/1, which this version" in refused.err
    assert "make it again with `reconciler plan --out`" in refused.err
    assert "Traceback" not in refused.err
    assert ws.emulator.mutating_requests() == []


def test_a_saved_plan_over_many_pages_reads_the_changed_object_by_id(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list of repositories longer than one change's read (pages of 1 object here) is not
    listed: the changed repository is read by itself, and a change made to it outside since
    the plan still makes the plan stale."""
    monkeypatch.setattr(refresh, "BY_ID_PAGE", 1)
    ws.write(BASE)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    ws.write(MORE_TAGS)
    out = ws.root / "plan.json"
    assert ws.cli("plan", str(ws.root), "--out", str(out)).code == 0
    mark = ws.emulator.next_index()

    applied = ws.cli("apply", "--plan", str(out))

    assert applied.code == 0, applied.out + applied.err
    sent = [(e["method"], e["path"], e["query"]) for e in ws.emulator.requests_log(mark)]
    images = [q for m, p, q in sent if (m, p) == ("GET", "/v1/image")]
    assert images and all(q.get("namespace") == "team-a" for q in images)  # only its namespace
    assert [m for m, _, _ in sent if m != "GET"] == ["POST"]
    assert tags_in_state(ws, "repository.team-a/worker") == ["latest", "v9"]

    ws.write(BASE)
    assert ws.cli("plan", str(ws.root), "--out", str(out)).code == 0
    add_tag_outside(ws, "worker", "hotfix")
    stale = ws.cli("apply", "--plan", str(out))
    assert stale.code == 5, stale.out + stale.err
    assert "repository.team-a/worker" in stale.err

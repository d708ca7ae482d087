"""The saved plan's format (``cce-reconciler-plan/5``) through the CLI: it records the changes
and counts the unchanged resources; `show` prints the counts `plan` printed; a plan in the
previous format, one record per resource, is still shown and applied; and `apply --plan`
refuses a stale plan as before, deciding by the configuration's content when its inputs (the
files' bytes, the variables) differ."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler import jsontext, session
from reconciler.planfile import digest_of

from .conftest import BASE, PASSWORD, Workspace

# the user, two namespaces and three repositories; one description changes
REGISTRY = BASE.split("clusters:")[0]
CHANGED = REGISTRY.replace("description: payment API", "description: payments API")
SUMMARY = "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete, 0 to forget, 5 unchanged."


def saved_change(ws: Workspace, out: Path) -> Any:
    """Apply the registry, change one description and save that plan; the plan's JSON."""
    ws.write(REGISTRY)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    ws.write(CHANGED)
    printed = ws.cli("plan", str(ws.root), "--out", str(out), "--no-color")
    assert printed.code == 0, printed.out + printed.err
    assert SUMMARY in printed.out
    return json.loads(ws.cli("plan", str(ws.root), "--json").out)


def description_in_cloud(ws: Workspace) -> str:
    shown = ws.cli("state", "show", "repository.team-a/api", "-c", str(ws.root))
    return str(json.loads(shown.out)["applied"]["description"])


def test_a_saved_plan_records_the_change_and_counts_the_unchanged(ws: Workspace) -> None:
    out = ws.root / "plan.bin"
    printed = saved_change(ws, out)

    doc = json.loads(out.read_text())
    assert doc["format"] == "cce-reconciler-plan/5"
    assert [c["address"] for c in doc["changes"]] == ["repository.team-a/api"]
    assert doc["unchanged"] == 5

    shown = ws.cli("show", str(out), "--no-color")
    assert shown.code == 0, shown.err
    assert SUMMARY in shown.out
    as_json = json.loads(ws.cli("show", str(out), "--json").out)
    assert as_json["summary"] == printed["summary"]
    assert as_json["summary"]["noop"] == 5
    # the unchanged resources are counted, not listed: the changes are plan --json's changes
    assert as_json["changes"] == [c for c in printed["changes"] if c["action"] != "noop"]
    assert "5 unchanged" in ws.cli("show", str(out), "--markdown").out

    applied = ws.cli("apply", "--plan", str(out))
    assert applied.code == 0, applied.out + applied.err
    assert "Apply complete: 0 created, 1 updated" in applied.out
    assert description_in_cloud(ws) == "payments API"
    assert ws.cli("plan", str(ws.root), "--detailed-exitcode").code == 0


def as_format_4(plan_file: Path, state_file: Path) -> None:
    """Rewrite a saved plan as the previous version wrote it: one record per resource (an
    unchanged one as a no-op change), no count, no inputs' digest, its own digest again."""
    doc = json.loads(plan_file.read_text())
    template = doc["changes"][0]
    changed = {c["address"] for c in doc["changes"]}
    resources = json.loads(state_file.read_text())["resources"]
    for address, entry in sorted(resources.items()):
        if address not in changed:
            noop = {**template, "address": address, "action": "noop", "reason": "up to date"}
            noop.update(cloud_id=entry["cloud_id"], fields=[], drift=[], depends_on=[])
            noop.update(before=entry["applied"], after=entry["applied"], secrets={})
            doc["changes"].append(noop)
    del doc["unchanged"], doc["inputs_digest"], doc["digest"]
    doc["format"] = "cce-reconciler-plan/4"
    doc["digest"] = digest_of(doc)
    plan_file.write_text(json.dumps(doc, indent=1))


def test_a_plan_saved_in_the_previous_format_is_shown_and_applied(ws: Workspace) -> None:
    out = ws.root / "plan.bin"
    saved_change(ws, out)
    as_format_4(out, ws.state_file())
    assert len(json.loads(out.read_text())["changes"]) == 6

    shown = ws.cli("show", str(out), "--no-color")
    assert shown.code == 0, shown.err
    assert SUMMARY in shown.out
    assert json.loads(ws.cli("show", str(out), "--json").out)["summary"]["noop"] == 5

    applied = ws.cli("apply", "--plan", str(out))
    assert applied.code == 0, applied.out + applied.err
    assert "Apply complete: 0 created, 1 updated" in applied.out
    assert description_in_cloud(ws) == "payments API"


def test_a_previous_format_plan_edited_after_it_was_made_is_refused(ws: Workspace) -> None:
    out = ws.root / "plan.bin"
    saved_change(ws, out)
    as_format_4(out, ws.state_file())
    doc = json.loads(out.read_text())
    doc["changes"][0]["after"]["description"] = "something else"
    out.write_text(json.dumps(doc))

    refused = ws.cli("apply", "--plan", str(out))

    assert refused.code == 5, refused.out + refused.err
    assert "changed after it was made" in refused.err
    assert description_in_cloud(ws) == "payment API"


VARIABLES = REGISTRY.replace("description: payment API", "description: ${var.api}").replace(
    "users:", "variables:\n  api: {type: string, default: payment API}\nusers:"
)


def test_a_variable_that_changed_makes_the_plan_stale_and_one_unused_does_not(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws.write(VARIABLES)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    ws.write(VARIABLES.replace("name: worker", "name: worker\n    description: jobs"))
    out = ws.root / "plan.bin"
    assert ws.cli("plan", str(ws.root), "--out", str(out)).code == 0
    mark = ws.emulator.next_index()

    # the same files and a different value: the content changed, no file explains it
    monkeypatch.setenv("RECONCILER_VAR_api", "payments API")
    stale = ws.cli("apply", "--plan", str(out))
    assert stale.code == 5, stale.out + stale.err
    assert "configuration changed since it was made (no file changed" in stale.err
    assert ws.emulator.mutating_requests(since=mark) == []

    # a variable the configuration does not declare changes the inputs, not the content
    monkeypatch.delenv("RECONCILER_VAR_api")
    monkeypatch.setenv("RECONCILER_VAR_unused", "anything")
    applied = ws.cli("apply", "--plan", str(out))
    assert applied.code == 0, applied.out + applied.err
    assert "Apply complete: 0 created, 1 updated" in applied.out


def test_a_file_changed_to_the_same_content_does_not_make_the_plan_stale(
    ws: Workspace,
) -> None:
    out = ws.root / "plan.bin"
    saved_change(ws, out)
    # other bytes (a comment, another key order), the same configuration
    ws.write("# reviewed\n" + CHANGED)

    applied = ws.cli("apply", "--plan", str(out))

    assert applied.code == 0, applied.out + applied.err
    assert description_in_cloud(ws) == "payments API"


def test_a_file_edited_while_the_plan_reads_the_cloud_makes_the_plan_stale(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The saved plan records the files as loaded, not as they are once the cloud was read."""
    from reconciler.commands import plan as plan_command

    ws.write(REGISTRY)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    ws.write(CHANGED)
    prepare = plan_command.prepare

    def edited_meanwhile(*args: Any, **kwargs: Any) -> Any:
        ws.write(CHANGED.replace("payments API", "billing API"))
        return prepare(*args, **kwargs)

    monkeypatch.setattr(plan_command, "prepare", edited_meanwhile)
    out = ws.root / "plan.bin"
    assert ws.cli("plan", str(ws.root), "--out", str(out)).code == 0
    monkeypatch.setattr(plan_command, "prepare", prepare)

    stale = ws.cli("apply", "--plan", str(out))

    assert stale.code == 5, stale.out + stale.err
    assert "the configuration changed since it was made (changed: main.yaml)" in stale.err
    assert description_in_cloud(ws) == "payment API"


def test_a_configuration_changed_since_the_plan_is_refused_naming_the_file(
    ws: Workspace,
) -> None:
    out = ws.root / "plan.bin"
    saved_change(ws, out)
    ws.write(CHANGED.replace("payments API", "billing API"))

    stale = ws.cli("apply", "--plan", str(out))

    assert stale.code == 5, stale.out + stale.err
    assert "the configuration changed since it was made (changed: main.yaml)" in stale.err
    assert description_in_cloud(ws) == "payment API"


def test_a_saved_plan_records_the_declarations_its_changes_stand_on_and_no_secret(
    ws: Workspace,
) -> None:
    out = ws.root / "plan.bin"
    saved_change(ws, out)

    doc = json.loads(out.read_text())
    configuration = doc["configuration"]
    # the repository, its namespace and the registry user they are created for: not team-b
    declared = {r["address"]: r for r in configuration["resources"]}
    assert sorted(declared) == ["namespace.team-a", "repository.team-a/api", "user.ccetest"]
    assert declared["user.ccetest"]["secrets"] == {
        "password": {"env": "CCR_PASSWORD", "file": None}
    }
    assert configuration["target"]["endpoint"] == ws.emulator.url
    assert PASSWORD not in out.read_text()
    assert doc["state_digest"].startswith("sha256:")


def test_apply_takes_an_unchanged_configuration_from_the_plan_and_loads_a_changed_one(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = ws.root / "plan.bin"
    saved_change(ws, out)
    loads: list[Any] = []
    real = session.load_config
    monkeypatch.setattr(session, "load_config", lambda *a, **k: loads.append(a) or real(*a, **k))

    # a variable no file declares: other inputs, the same content: loaded, then applied
    monkeypatch.setenv("RECONCILER_VAR_unused", "anything")
    ws.cli("plan", str(ws.root), "--out", str(out))
    monkeypatch.delenv("RECONCILER_VAR_unused")
    loads.clear()
    applied = ws.cli("apply", "--plan", str(out))
    assert applied.code == 0, applied.out + applied.err
    assert len(loads) == 1
    assert description_in_cloud(ws) == "payments API"

    ws.write(REGISTRY)  # back to the first description, planned with the inputs as they are
    assert ws.cli("plan", str(ws.root), "--out", str(out)).code == 0
    loads.clear()
    applied = ws.cli("apply", "--plan", str(out))
    assert applied.code == 0, applied.out + applied.err
    assert loads == []  # the plan's inputs are the configuration's: nothing loaded
    assert description_in_cloud(ws) == "payment API"
    state = ws.state_file().read_text()
    assert state == jsontext.dumps(json.loads(state)) + "\n"  # as a full write gives it


def test_a_secret_the_change_stands_on_is_read_at_apply_and_missing_is_located(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = ws.root / "plan.bin"
    saved_change(ws, out)
    monkeypatch.delenv("CCR_PASSWORD")
    since = ws.emulator.next_index()

    refused = ws.cli("apply", "--plan", str(out))

    # the registry user the repository's namespace stands on: where its reference is written
    assert refused.code != 0, refused.out + refused.err
    assert f"{ws.root / 'main.yaml'}:5:" in refused.err, refused.err
    assert "user.ccetest: password" in refused.err and "CCR_PASSWORD" in refused.err
    assert ws.emulator.mutating_requests(since) == []
    assert description_in_cloud(ws) == "payment API"

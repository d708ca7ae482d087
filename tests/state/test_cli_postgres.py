"""The whole pipeline with state in PostgreSQL: apply, converge, lock, and two workspaces."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from reconciler.kinds import names as kind_names
from reconciler.state.postgres import PostgresStateStore
from tests.e2e.conftest import BASE, Workspace, ws

__all__ = ["ws"]


def test_apply_and_plan_with_postgres_state(ws: Workspace, database_url: str) -> None:
    url, workspace = database_url, f"e2e-{uuid.uuid4().hex[:8]}"
    ws.write(BASE)
    first = ws.cli(
        "apply", str(ws.root), "--auto-approve", "--state", url, "--workspace", workspace
    )
    assert first.code == 0, first.out + first.err
    assert not ws.state_file().exists(), "no local state when the state is in PostgreSQL"
    state = PostgresStateStore(url, workspace, kinds=kind_names()).read()
    assert len(state.resources) == 7 and state.serial >= 1
    again = ws.cli(
        "plan", str(ws.root), "--state", url, "--workspace", workspace, "--detailed-exitcode"
    )
    assert again.code == 0, again.out
    other = ws.cli("plan", str(ws.root), "--state", url, "--workspace", workspace + "-other")
    assert other.code == 3, "another workspace manages nothing, so the live objects are conflicts"
    with PostgresStateStore(url, workspace, kinds=kind_names()).lock("someone else") as info:
        locked = ws.cli(
            "apply", str(ws.root), "--auto-approve", "--state", url, "--workspace", workspace
        )
    assert locked.code == 4 and info.id in locked.err


def test_a_saved_plan_applies_to_its_postgres_workspace(
    ws: Workspace, database_url: str, tmp_path: Path
) -> None:
    """The plan records the URL without its password, and the workspace; `apply --plan` uses
    them (not a local file) and refuses another workspace, naming both."""
    workspace = f"saved-{uuid.uuid4().hex[:8]}"
    public = database_url
    with_password = public.replace("reconciler@", "reconciler:s3cret-pw@")  # trust: not checked
    ws.write(BASE)
    plan_file = tmp_path / "p.bin"
    made = ws.cli(
        "plan",
        str(ws.root),
        "--state",
        with_password,
        "--workspace",
        workspace,
        "--out",
        str(plan_file),
    )
    assert made.code == 0, made.err
    assert "s3cret-pw" not in plan_file.read_text() and "s3cret-pw" not in made.out
    assert json.loads(plan_file.read_text())["state"] == {
        "postgresql": public,
        "workspace": workspace,
    }
    assert "PGPASSWORD" in made.out, "the hint says where the password must come from"

    other = ws.cli("apply", "--plan", str(plan_file), "--workspace", workspace + "-x")
    assert other.code == 1, other.out + other.err
    assert f"(workspace {workspace})" in other.err and f"(workspace {workspace}-x)" in other.err
    assert "s3cret-pw" not in other.err

    applied = ws.cli("apply", "--plan", str(plan_file))
    assert applied.code == 0, applied.out + applied.err
    assert not ws.state_file().exists(), "nothing lands in a local file"
    assert len(PostgresStateStore(public, workspace, kinds=kind_names()).read().resources) == 7

    # against the state that now holds them: the next saved plan is not "stale"
    ws.write(BASE.replace("description: payment API", "description: payments"))
    again = ws.cli(
        "plan", str(ws.root), "--state", public, "--workspace", workspace, "--out", str(plan_file)
    )
    assert again.code == 0, again.err
    named = ws.cli(
        "apply", "--plan", str(plan_file), "--state", with_password, "--workspace", workspace
    )
    assert named.code == 0, named.out + named.err
    assert PostgresStateStore(public, workspace, kinds=kind_names()).read().serial == 2


def test_one_owner_across_the_workspaces_of_one_database(ws: Workspace, database_url: str) -> None:
    url, dev = database_url, f"dev-{uuid.uuid4().hex[:8]}"
    ws.write(BASE)
    assert (
        ws.cli("apply", str(ws.root), "--auto-approve", "--state", url, "--workspace", dev).code
        == 0
    )
    prod = dev.replace("dev-", "prod-")
    owner = f"workspace {dev} of {url}"

    plan = ws.cli("plan", str(ws.root), "--state", url, "--workspace", prod, "--json")
    assert plan.code == 3, plan.err
    conflicts = {c["address"]: c for c in json.loads(plan.out)["conflicts"]}
    assert f"{owner} manages it (as namespace.team-a)" in conflicts["namespace.team-a"]["message"]
    assert conflicts["namespace.team-a"]["suggested_command"] is None

    imported = ws.cli(
        "import", "namespace.team-a", "team-a", str(ws.root), "--state", url, "--workspace", prod
    )
    assert imported.code == 3 and owner in imported.err, imported.out + imported.err
    assert PostgresStateStore(url, prod, kinds=kind_names()).read().resources == {}

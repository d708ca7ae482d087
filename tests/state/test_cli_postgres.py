"""The whole pipeline with state in PostgreSQL: apply, converge, lock, and two workspaces."""

from __future__ import annotations

import uuid

from reconciler.state.postgres import PostgresStateStore
from tests.e2e.conftest import BASE, Workspace, ws

from .conftest import PgServer

__all__ = ["ws"]


def test_apply_and_plan_with_postgres_state(ws: Workspace, pg_server: PgServer) -> None:
    url, workspace = pg_server.url(), f"e2e-{uuid.uuid4().hex[:8]}"
    ws.write(BASE)
    first = ws.cli(
        "apply", str(ws.root), "--auto-approve", "--state", url, "--workspace", workspace
    )
    assert first.code == 0, first.out + first.err
    assert not ws.state_file().exists(), "no local state when the state is in PostgreSQL"
    state = PostgresStateStore(url, workspace).read()
    assert len(state.resources) == 7 and state.serial >= 1
    again = ws.cli(
        "plan", str(ws.root), "--state", url, "--workspace", workspace, "--detailed-exitcode"
    )
    assert again.code == 0, again.out
    other = ws.cli("plan", str(ws.root), "--state", url, "--workspace", workspace + "-other")
    assert other.code == 3, "another workspace manages nothing, so the live objects are conflicts"
    with PostgresStateStore(url, workspace).lock("someone else") as info:
        locked = ws.cli(
            "apply", str(ws.root), "--auto-approve", "--state", url, "--workspace", workspace
        )
    assert locked.code == 4 and info.id in locked.err

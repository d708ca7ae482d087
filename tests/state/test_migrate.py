"""`reconciler state migrate --from PATH --to URL`: a local state moves into PostgreSQL whole."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.commands.state_migrate import command
from reconciler.errors import StateError, StateLockedError, UsageError
from reconciler.kinds import names as kind_names
from reconciler.model import Address
from reconciler.state import ADOPTED, PendingIntent, ResourceState, State
from reconciler.state.local import LocalStateStore
from reconciler.state.postgres import PostgresStateStore

from .conftest import PgServer


@pytest.fixture
def local_state(tmp_path: Path) -> tuple[Path, State]:
    """A local state at serial 3 with two resources and one unfinished operation."""
    store = LocalStateStore(tmp_path / ".reconciler" / "state.json", kinds=kind_names())
    state = store.read()
    state.resources[Address("user", "alice")] = ResourceState("user", "u-1", ADOPTED, protect=True)
    state.resources[Address("namespace", "team-a")] = ResourceState("namespace", "ns-1")
    state.pending["p1"] = PendingIntent("p1", Address("repository", "team-a/api"), "create", "r-1")
    for _ in range(3):
        state = store.write(state)
    return store.path, state


@pytest.fixture
def target(pg_server: PgServer) -> PostgresStateStore:
    return PostgresStateStore(pg_server.url(), f"ws-{uuid.uuid4().hex[:8]}", kinds=kind_names())


def migrate(source: Path, target: PostgresStateStore) -> Result:
    args = ["--from", str(source), "--to", target.url, "--workspace", target.workspace]
    return CliRunner().invoke(command, args, standalone_mode=False)


def test_migrate_moves_the_whole_state_keeping_lineage_and_serial(
    local_state: tuple[Path, State], target: PostgresStateStore
) -> None:
    path, state = local_state
    result = migrate(path, target)
    assert result.exception is None, result.output
    moved = target.read()
    assert (moved.lineage, moved.serial) == (state.lineage, 3)
    assert (moved.resources, moved.pending) == (state.resources, state.pending)
    assert "Migrated 2 resources" in result.output and "user.alice\tu-1" in result.output
    assert "1 unfinished" in result.output
    assert path.exists()
    assert target.write(moved).serial == 4


def test_migrate_twice_is_harmless(
    local_state: tuple[Path, State], target: PostgresStateStore
) -> None:
    path, _ = local_state
    assert migrate(path, target).exception is None
    assert migrate(path, target).exception is None
    assert target.read().serial == 3


def test_migrate_refuses_a_workspace_holding_another_state(
    local_state: tuple[Path, State], target: PostgresStateStore
) -> None:
    other = State()
    other.resources[Address("user", "bob")] = ResourceState("user", "u-9")
    target.write(other)
    result = migrate(local_state[0], target)
    assert isinstance(result.exception, StateError)
    assert "different state" in str(result.exception) and other.lineage in str(result.exception)
    assert target.read().lineage == other.lineage


def test_migrate_replaces_an_empty_workspace_of_another_lineage(
    local_state: tuple[Path, State], target: PostgresStateStore
) -> None:
    target.write(State())
    assert migrate(local_state[0], target).exception is None
    assert target.read().lineage == local_state[1].lineage


def test_migrate_refuses_to_go_back_in_time(
    local_state: tuple[Path, State], target: PostgresStateStore
) -> None:
    path, _ = local_state
    migrate(path, target)
    target.write(target.read())
    result = migrate(path, target)
    assert isinstance(result.exception, StateError) and "newer" in str(result.exception)


def test_migrate_waits_for_no_one(
    local_state: tuple[Path, State], target: PostgresStateStore
) -> None:
    with target.lock("apply"):
        result = migrate(local_state[0], target)
    assert isinstance(result.exception, StateLockedError)


def test_migrate_needs_a_source_and_a_postgresql_target(
    tmp_path: Path, target: PostgresStateStore
) -> None:
    missing = migrate(tmp_path / "nope.json", target)
    assert isinstance(missing.exception, StateError) and "no state file" in str(missing.exception)
    (tmp_path / "state.json").write_text("{}")
    args = ["--from", str(tmp_path / "state.json"), "--to", str(tmp_path / "other.json")]
    wrong = CliRunner().invoke(command, args, standalone_mode=False)
    assert isinstance(wrong.exception, UsageError)


def test_migrate_through_the_cli(
    local_state: tuple[Path, State], target: PostgresStateStore
) -> None:
    path, state = local_state
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_")}
    argv = [
        sys.executable,
        "-m",
        "reconciler",
        "state",
        "migrate",
        "--from",
        str(path),
        "--to",
        target.url,
    ]
    done = subprocess.run(
        [*argv, "--workspace", target.workspace],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Migrated 2 resources" in done.stdout
    assert target.read().lineage == state.lineage
    elsewhere = PostgresStateStore(target.url, f"{target.workspace}-x", kinds=kind_names())
    other = State(resources={Address("user", "bob"): ResourceState("user", "u-9")})
    elsewhere.write(other)
    refused = subprocess.run(
        [*argv, "--workspace", elsewhere.workspace],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: ") and "Traceback" not in refused.stderr

"""What only the PostgreSQL backend has: its schema and migrations, the lock row that is only
believed while the advisory lock is held, and connection errors that never show a password."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import psycopg
import pytest

from reconciler.errors import ReconcilerError, StateError
from reconciler.kinds import names as kind_names
from reconciler.state import LockInfo
from reconciler.state import postgres as pg
from reconciler.state.postgres import PostgresStateStore, advisory_key, redact

from .conftest import PgServer, Proc


@pytest.fixture
def fresh_url(pg_server: PgServer) -> str:
    name = f"fresh_{uuid.uuid4().hex[:8]}"
    pg_server.create_database(name)
    return pg_server.url(name)


def versions(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        return [
            r[0] for r in conn.execute("SELECT version FROM reconciler_schema_version ORDER BY 1")
        ]


def test_tables_are_created_on_first_use_at_the_latest_version(fresh_url: str) -> None:
    PostgresStateStore(fresh_url, kinds=kind_names()).read()
    assert versions(fresh_url) == [pg.SCHEMA_VERSION] == [1]
    PostgresStateStore(fresh_url, "other", kinds=kind_names()).read()
    assert versions(fresh_url) == [1]


def test_a_schema_newer_than_this_code_is_refused(fresh_url: str) -> None:
    PostgresStateStore(fresh_url, kinds=kind_names()).read()
    with psycopg.connect(fresh_url) as conn:
        conn.execute("INSERT INTO reconciler_schema_version (version) VALUES (99)")
    with pytest.raises(StateError, match="schema version 99, newer than this reconciler"):
        PostgresStateStore(fresh_url, kinds=kind_names()).read()


def test_workspaces_are_independent(pg_server: PgServer) -> None:
    url, name = pg_server.url(), uuid.uuid4().hex[:8]
    prod, dev = (
        PostgresStateStore(url, f"prod-{name}", kinds=kind_names()),
        PostgresStateStore(url, f"dev-{name}", kinds=kind_names()),
    )
    prod.write(prod.read())
    with prod.lock("apply"), dev.lock("apply"):
        assert dev.read().serial == 0
    assert advisory_key("prod") != advisory_key("dev")


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_stale_lock_row_is_not_believed(
    spec: tuple[str, str], spawn: Callable[..., Proc]
) -> None:
    proc = spawn("lock")
    stale_id = proc.expect("locked")
    proc.kill()
    store = PostgresStateStore(*spec, kinds=kind_names())
    with pytest.raises(StateError, match="not locked"):
        store.force_unlock(stale_id)  # the row is still there; its session is not
    with store.lock("apply") as info:
        assert info.id != stale_id


def test_the_lock_row_names_the_holder_and_goes_on_release(pg_server: PgServer) -> None:
    store = PostgresStateStore(pg_server.url(), f"ws-{uuid.uuid4().hex[:8]}", kinds=kind_names())
    with store.lock("apply") as info, psycopg.connect(pg_server.url()) as conn:
        found = store._holder(conn)
        assert found is not None and found[0] == info
    with psycopg.connect(pg_server.url()) as conn:
        assert store._holder(conn) is None
        row = conn.execute(
            "SELECT count(*) FROM reconciler_locks WHERE workspace = %s", (store.workspace,)
        ).fetchone()
        assert row == (0,)


def test_force_unlock_of_an_in_process_holder_ends_its_session(pg_server: PgServer) -> None:
    store = PostgresStateStore(pg_server.url(), f"ws-{uuid.uuid4().hex[:8]}", kinds=kind_names())
    with store.lock("apply") as info:
        assert isinstance(store.force_unlock(info.id), LockInfo)
        with store.lock("plan"):
            pass
    # leaving the first lock's block after its session was ended is quiet


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://bob:s3cr3tpw@127.0.0.1:1/db",
        "postgresql://bob:s3cr3tpw@[bad/db",
        "postgresql://bob@127.0.0.1:1/db?password=s3cr3tpw",
    ],
)
def test_connection_errors_are_state_errors_without_the_password(url: str) -> None:
    store = PostgresStateStore(url, kinds=kind_names())
    assert "s3cr3tpw" not in store.describe()
    with pytest.raises(StateError) as caught:
        store.read()
    assert "s3cr3tpw" not in str(caught.value)
    assert "PostgreSQL state" in str(caught.value)


def test_redact_hides_url_and_keyword_passwords() -> None:
    text = "postgresql://u:p4ss@h/db and password=p4ss&x=1"
    assert "p4ss" not in redact(text, None)
    assert redact("p4ss", "p4ss") == "***"


def test_without_psycopg_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg, "psycopg", None)
    with pytest.raises(ReconcilerError, match=r"pip install 'cce-reconciler\[postgres\]'"):
        PostgresStateStore("postgresql://h/db", kinds=kind_names())

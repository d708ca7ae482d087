"""Fencing, on both backends: a run that lost its lock, or whose state was written by someone
else, gets LockLostError (exit 4) from its next append or write, and writes nothing; the
records it had journaled are folded by the next holder, so nothing is lost.

The CLI-level scenarios (SIGSTOP + force-unlock, a terminated lock session during an apply)
are in tests/reliability/test_fencing.py.
"""

from __future__ import annotations

import time

import psycopg
import pytest

from reconciler.errors import EXIT_LOCKED, LockLostError
from reconciler.model import Address
from reconciler.state import DoneRecord, IntentRecord, ResourceState, State, StateStore
from reconciler.state import postgres as pg

from .conftest import Backend, PgServer
from .test_backends import wait_for_lock

BOB, CAROL = Address("user", "bob"), Address("user", "carol")


def bob_intent() -> IntentRecord:
    return IntentRecord("i-bob", BOB, "create", entry=ResourceState("user", "bob"))


def bob_done() -> DoneRecord:
    return DoneRecord("i-bob", BOB, ResourceState("user", "bob"))


def seeded(store: StateStore) -> State:
    state = store.read()
    state.resources[Address("user", "alice")] = ResourceState("user", "alice")
    return store.write(state)


def with_carol(store: StateStore) -> State:
    state = store.read()
    state.resources[CAROL] = ResourceState("user", "carol")
    return store.write(state)


def test_a_force_unlocked_run_stops_at_its_next_record_and_its_journal_is_kept(
    backend: Backend, spec: tuple[str, str]
) -> None:
    run, other = backend.store(spec), backend.store(spec)
    before = seeded(run)
    with run.lock("apply") as mine:
        state = run.read()
        with pytest.raises(LockLostError) as caught, run.journal(state) as journal:
            journal.append(bob_intent())
            other.force_unlock(mine.id)
            with pytest.raises(LockLostError) as first:
                journal.append(bob_done())
            assert BOB not in journal.state.resources
            raise first.value
    message = str(caught.value)
    assert caught.value.exit_code == EXIT_LOCKED == 4
    assert f"this run no longer holds the state lock of {run.describe()}" in message
    assert f"its lock {mine.id} was released" in message
    assert message.endswith("the next run finishes its journal")
    with other.lock("apply"):
        after = other.read()
    assert after.serial == before.serial and after.folded_journal
    assert BOB not in after.resources and list(after.pending) == ["i-bob"]


def test_a_run_whose_lock_was_taken_never_overwrites_the_new_holder(
    backend: Backend, spec: tuple[str, str]
) -> None:
    run, other = backend.store(spec), backend.store(spec)
    seeded(run)
    with run.lock("apply") as mine:
        state = run.read()
        with pytest.raises(LockLostError) as caught, run.journal(state) as journal:
            journal.append(bob_intent())
            other.force_unlock(mine.id)
            with other.lock("apply") as theirs:
                assert list(other.read().pending) == ["i-bob"]  # the journal so far is seen
                newer = with_carol(other)
                journal.append(bob_done())
    assert f"was taken by {theirs.describe()}" in str(caught.value)
    final = backend.store(spec).read()
    assert final.serial == newer.serial and CAROL in final.resources
    assert BOB not in final.resources


def test_a_state_written_under_a_running_journal_is_not_overwritten(
    backend: Backend, spec: tuple[str, str]
) -> None:
    run, other = backend.store(spec), backend.store(spec)
    base = seeded(run)
    with run.lock("apply"):
        state = run.read()
        with pytest.raises(LockLostError) as caught, run.journal(state) as journal:
            journal.append(bob_intent())
            newer = with_carol(other)  # no lock: a careless script, a restored backup ...
            journal.append(bob_done())
    assert (
        f"the state {run.describe()} changed under this run (it built on serial "
        f"{base.serial}; the store now holds serial {newer.serial})"
    ) in str(caught.value)
    final = other.read()
    assert final.serial == newer.serial and set(final.resources) == {
        Address("user", "alice"),
        CAROL,
    }


def test_a_plain_write_is_fenced_too(backend: Backend, spec: tuple[str, str]) -> None:
    run, other = backend.store(spec), backend.store(spec)
    seeded(run)
    with run.lock("state rm") as mine:
        state = run.read()
        other.force_unlock(mine.id)
        state.resources.clear()
        with pytest.raises(LockLostError, match="no longer holds the state lock"):
            run.write(state)
    assert Address("user", "alice") in other.read().resources


def test_a_write_on_top_of_an_old_serial_is_refused_even_without_a_lock(
    store: StateStore,
) -> None:
    old = seeded(store)
    with_carol(store)
    with pytest.raises(LockLostError, match="changed under this run"):
        store.write(old)
    assert CAROL in store.read().resources


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_terminated_lock_session_cannot_overwrite_the_next_runs_state(
    backend: Backend, spec: tuple[str, str], pg_server: PgServer
) -> None:
    """The bug: ``finish`` used to write ``serial + 1`` whatever the serial and the lock."""
    run, other = backend.store(spec), backend.store(spec)
    seeded(run)
    with run.lock("apply") as mine:
        state = run.read()
        with pytest.raises(LockLostError) as caught, run.journal(state) as journal:
            journal.append(bob_intent())
            with psycopg.connect(spec[0], autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(backend_pid, 5000) FROM reconciler_locks "
                    "WHERE workspace = %s",
                    (spec[1],),
                )
            wait_for_lock(other)
            with other.lock("apply"):
                newer = with_carol(other)
    assert mine.id in str(caught.value)
    final = other.read()
    assert final.serial == newer.serial and CAROL in final.resources


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_run_stopped_inside_a_journal_write_cannot_block_a_force_unlock(
    backend: Backend, spec: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its open transaction holds a share lock on the lock row; the server ends that session
    after STUCK_TRANSACTION_MS, and the run, resumed, is told it lost its lock."""
    monkeypatch.setattr(pg, "STUCK_TRANSACTION_MS", 300)
    run, other = backend.store(spec), backend.store(spec)
    seeded(run)
    with run.lock("apply") as mine:
        state = run.read()
        with pytest.raises(LockLostError) as caught, run.journal(state) as journal:
            journal.append(bob_intent())
            with pytest.raises(psycopg.OperationalError), journal._conn.transaction():
                assert isinstance(run, pg.PostgresStateStore)
                run.fence(journal._conn, state)  # as an append does; then the run stops
                started = time.monotonic()
                other.force_unlock(mine.id)
                assert time.monotonic() - started < 3
            journal.append(bob_done())
    assert f"its lock {mine.id} was released" in str(caught.value)
    with other.lock("apply"):
        assert list(other.read().pending) == ["i-bob"]

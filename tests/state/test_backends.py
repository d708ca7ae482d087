"""The state-backend contract, run unchanged against the local file and PostgreSQL backends.

Reads, writes and lineage; the journal folded on exit, after a kill -9, or ignored when stale;
the lock refused to a second process within 2 s (exit 4, naming the holder), freed when its
holder is killed, released by ``force_unlock`` with the right id only; concurrent writers
through the lock never lose an update.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from reconciler.errors import EXIT_LOCKED, StateError, StateLockedError
from reconciler.kinds import names as kind_names
from reconciler.model import Address
from reconciler.state import (
    ADOPTED,
    CloudIdRecord,
    DoneRecord,
    IntentRecord,
    LockInfo,
    ResourceState,
    State,
    StateStore,
    hash_secret,
)

from .conftest import Backend, Proc


def entry(cloud_id: str, **changes: object) -> ResourceState:
    return ResourceState("user", cloud_id).evolve(**changes)


def done(address: str, cloud_id: str, intent: str = "") -> DoneRecord:
    return DoneRecord(
        intent or f"i-{address}", Address.parse(address, kind_names()), entry(cloud_id)
    )


def wait_for_lock(store: StateStore, seconds: float = 5.0) -> LockInfo:
    """Take the lock, allowing the server a moment to notice that a killed holder is gone."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with store.lock("test") as info:
                return info
        except StateLockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def seeded(store: StateStore) -> State:
    state = store.read()
    state.resources[Address("user", "alice")] = entry("u-1", ownership=ADOPTED)
    return store.write(state)


# --- reading and writing -----------------------------------------------------------------


def test_empty_store_reads_as_a_new_state(store: StateStore) -> None:
    state = store.read()
    assert (state.serial, state.resources, state.pending) == (0, {}, {})
    assert state.lineage


def test_write_then_read_round_trips_and_bumps_the_serial(store: StateStore) -> None:
    state = store.read()
    alice = entry(
        "u-1",
        protect=True,
        secret_hashes={"password": hash_secret("pw")},
        applied={"a": [1, {"b": None}]},
    )
    state.resources[Address("user", "alice")] = alice
    first = store.write(state)
    assert first.serial == 1
    again = store.read()
    assert (again.lineage, again.serial, again.resources) == (
        state.lineage,
        1,
        {Address("user", "alice"): alice},
    )
    assert store.write(again).serial == 2
    assert store.read().serial == 2


def test_write_refuses_a_different_lineage(store: StateStore) -> None:
    seeded(store)
    with pytest.raises(StateError, match="lineage"):
        store.write(State())
    assert Address("user", "alice") in store.read().resources


def test_describe_names_the_store(store: StateStore) -> None:
    assert store.describe()


# --- the journal -------------------------------------------------------------------------


def test_journal_exit_folds_the_records_and_drops_the_journal(
    backend: Backend, spec: tuple[str, str], store: StateStore
) -> None:
    state = seeded(store)
    with store.journal(state) as journal:
        journal.append(IntentRecord("i1", Address("user", "bob"), "create"))
        journal.append(CloudIdRecord("i1", "u-2"))
        assert backend.journal_left(spec)
        journal.append(done("user.bob", "u-2", intent="i1"))
        journal.append(DoneRecord("i2", Address("user", "alice"), None))
    assert not backend.journal_left(spec)
    after = store.read()
    assert after.resources == {Address("user", "bob"): entry("u-2")}
    assert (after.pending, after.serial, state.serial) == ({}, 2, 2)


def test_journal_exit_writes_even_when_the_run_fails(store: StateStore) -> None:
    state = store.read()
    with pytest.raises(RuntimeError), store.journal(state) as journal:
        journal.append(done("user.bob", "u-2"))
        raise RuntimeError("boom")
    assert Address("user", "bob") in store.read().resources


def test_journal_appends_from_many_threads(store: StateStore) -> None:
    state = store.read()
    with store.journal(state) as journal:

        def worker(number: int) -> None:
            for index in range(10):
                journal.append(done(f"user.u{number}-{index}", "x"))

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(store.read().resources) == 60


@pytest.mark.parametrize("first_run", [False, True], ids=["after-a-write", "first-run"])
def test_a_killed_runs_journal_is_folded_on_the_next_read(
    first_run: bool,
    backend: Backend,
    spec: tuple[str, str],
    store: StateStore,
    spawn: Callable[..., Proc],
) -> None:
    before = store.read() if first_run else seeded(store)
    proc = spawn("journal", "2")
    proc.expect("lock")
    proc.expect("journaled")
    proc.kill()
    assert backend.journal_left(spec)
    after = store.read()
    assert after.serial == before.serial and after.resources == before.resources
    if not first_run:
        assert after.lineage == before.lineage
    pending = sorted(after.pending.values(), key=lambda p: str(p.address))
    assert [(str(p.address), p.action, p.cloud_id) for p in pending] == [
        ("user.pending0", "create", "id-0"),
        ("user.pending1", "create", None),
    ]


def test_a_journal_older_than_the_state_is_ignored(
    store: StateStore, spawn: Callable[..., Proc]
) -> None:
    seeded(store)
    proc = spawn("journal", "1")
    proc.expect("lock")
    proc.expect("journaled")
    proc.kill()
    recovered = store.read()
    assert len(recovered.pending) == 1
    recovered.pending.clear()  # what recovery does once it has looked at the cloud
    store.write(recovered)
    assert store.read().pending == {}


# --- the lock ----------------------------------------------------------------------------


def test_lock_held_by_another_process_is_refused_at_once_naming_the_holder(
    store: StateStore, spawn: Callable[..., Proc]
) -> None:
    proc = spawn("lock")
    lock_id = proc.expect("locked")
    started = time.monotonic()
    with pytest.raises(StateLockedError) as caught, store.lock("apply"):
        pass
    assert time.monotonic() - started < 2
    assert caught.value.exit_code == EXIT_LOCKED == 4
    message = str(caught.value)
    assert lock_id in message and f"pid {proc.popen.pid}" in message and "test lock" in message


def test_lock_is_exclusive_within_a_process_too(
    backend: Backend, spec: tuple[str, str], store: StateStore
) -> None:
    with store.lock("apply") as mine:
        with pytest.raises(StateLockedError, match=mine.id), backend.store(spec).lock("plan"):
            pass
    with store.lock("apply"):
        pass  # released on exit


def test_lock_is_released_when_the_body_raises(store: StateStore) -> None:
    with pytest.raises(RuntimeError), store.lock("apply"):
        raise RuntimeError("boom")
    wait_for_lock(store, 0)


def test_a_lock_whose_holder_was_killed_is_free(
    store: StateStore, spawn: Callable[..., Proc]
) -> None:
    proc = spawn("lock")
    proc.expect("locked")
    proc.kill()
    info = wait_for_lock(store)
    assert info.operation == "test"


def test_force_unlock_needs_the_right_id(store: StateStore, spawn: Callable[..., Proc]) -> None:
    proc = spawn("lock")
    lock_id = proc.expect("locked")
    with pytest.raises(StateError, match="does not match") as caught:
        store.force_unlock("not-the-id")
    assert not isinstance(caught.value, StateLockedError)
    with pytest.raises(StateLockedError):
        wait_for_lock(store, 0)
    released = store.force_unlock(lock_id)
    assert (released.id, released.pid) == (lock_id, proc.popen.pid)
    wait_for_lock(store, 0)


def test_force_unlock_of_a_free_state_says_so(store: StateStore) -> None:
    with pytest.raises(StateError, match="not locked"):
        store.force_unlock("whatever")


def test_concurrent_writers_through_the_lock_never_lose_an_update(
    backend: Backend, spec: tuple[str, str]
) -> None:
    writers, rounds = 4, 5
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        store = backend.store(spec)
        try:
            for round_ in range(rounds):
                locked_update(store, f"user.w{number}-{round_}", journaled=round_ % 2 == 0)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    final = backend.store(spec).read()
    assert len(final.resources) == writers * rounds
    assert final.serial == writers * rounds


def locked_update(store: StateStore, address: str, journaled: bool) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            with store.lock("apply"):
                state = store.read()
                if journaled:
                    with store.journal(state) as journal:
                        journal.append(done(address, "x"))
                else:
                    state.resources[Address.parse(address, kind_names())] = entry("x")
                    store.write(state)
                return
        except StateLockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)

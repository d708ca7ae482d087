"""The local backend when the disk says no: no permission, no space, a read-only file system.

Each failure is a StateError naming the file and the cause, leaves no temp file beside the
state, and loses nothing: the old document stays whole and a run's journal stays for the next
run to fold.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import StateError
from reconciler.kinds import names as kind_names
from reconciler.model import Address
from reconciler.state import DoneRecord, IntentRecord, ResourceState, State
from reconciler.state.local import LocalStateStore

ERRORS = {
    errno.EACCES: "Permission denied",
    errno.ENOSPC: "No space left on device",
    errno.EROFS: "Read-only file system",
}


def done(name: str) -> DoneRecord:
    return DoneRecord(f"i-{name}", Address("user", name), ResourceState("user", name))


@pytest.fixture
def store(tmp_path: Path) -> LocalStateStore:
    store = LocalStateStore(tmp_path / ".reconciler" / "state.json", kinds=kind_names())
    state = State(lineage="disk-test")
    state.resources[Address("user", "alice")] = ResourceState("user", "alice")
    store.write(state)
    return store


def leftovers(store: LocalStateStore) -> list[str]:
    return sorted(p.name for p in store.path.parent.iterdir() if p.name.endswith(".tmp"))


@contextmanager
def failing(monkeypatch: pytest.MonkeyPatch, name: str, code: int) -> Iterator[None]:
    """``os.<name>`` fails with ``code`` inside the block (the disk, as the kernel tells it)."""
    real: Callable[..., Any] = getattr(os, name)

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise OSError(code, os.strerror(code))

    with monkeypatch.context() as patch:
        patch.setattr(os, name, fail)
        yield
    assert getattr(os, name) is real


@contextmanager
def unwritable(directory: Path) -> Iterator[None]:
    """A directory nobody may write in: ``chattr +i`` for root (who ignores modes), else 0o500."""
    if os.geteuid() != 0:
        directory.chmod(0o500)
        try:
            yield
        finally:
            directory.chmod(0o755)
        return
    made = subprocess.run(["chattr", "+i", str(directory)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"cannot make a directory unwritable as root here: {made.stderr!r}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(directory)], check=True)


@pytest.mark.parametrize("code", list(ERRORS), ids=[errno.errorcode[c] for c in ERRORS])
@pytest.mark.parametrize("call", ["fsync", "replace"])
def test_a_failed_state_write_names_the_file_and_keeps_the_old_one(
    store: LocalStateStore, monkeypatch: pytest.MonkeyPatch, call: str, code: int
) -> None:
    state = store.read()
    state.resources.clear()
    with failing(monkeypatch, call, code), pytest.raises(StateError) as caught:
        store.write(state)
    assert str(caught.value) == f"cannot write state {store.path}: {ERRORS[code]}"
    assert leftovers(store) == []
    after = store.read()
    assert (after.serial, list(after.resources)) == (1, [Address("user", "alice")])


def test_an_unwritable_directory_is_a_state_error_too(store: LocalStateStore) -> None:
    state = store.read()
    with unwritable(store.path.parent), pytest.raises(StateError) as caught:
        store.write(state)
    message = str(caught.value)
    assert message.startswith(f"cannot write state {store.path}: ")
    assert "Operation not permitted" in message or "Permission denied" in message
    assert leftovers(store) == [] and store.read().serial == 1


def test_a_lock_in_an_unwritable_directory_is_a_state_error(tmp_path: Path) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    store = LocalStateStore(directory / "state.json", kinds=kind_names())
    with unwritable(directory), pytest.raises(StateError, match="^cannot lock state"):
        with store.lock("apply"):
            pass


@pytest.mark.parametrize("code", list(ERRORS), ids=[errno.errorcode[c] for c in ERRORS])
def test_a_failed_final_write_keeps_the_journal_for_the_next_run(
    store: LocalStateStore, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    state = store.read()
    with pytest.raises(StateError) as caught:
        with store.journal(state) as journal:
            journal.append(done("bob"))
            journal.append(IntentRecord("i-carol", Address("user", "carol"), "create"))
            monkeypatch.setattr(os, "replace", lambda *a: _raise(code))
    monkeypatch.undo()
    assert str(caught.value) == (
        f"cannot write state {store.path}: {ERRORS[code]}; this run's changes are kept in "
        f"{store.journal_path} and the next run folds them"
    )
    assert leftovers(store) == []
    again = store.read()
    assert again.folded_journal and again.serial == 1
    assert set(again.resources) == {Address("user", "alice"), Address("user", "bob")}
    assert list(again.pending) == ["i-carol"]


def test_a_journal_that_cannot_be_written_refuses_every_later_record(
    store: LocalStateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = store.read()
    with store.journal(state) as journal:
        journal.append(done("bob"))
        with failing(monkeypatch, "write", errno.ENOSPC), pytest.raises(StateError) as caught:
            journal.append(done("carol"))
        assert str(caught.value) == (
            f"cannot write journal {store.journal_path}: No space left on device"
        )
        assert Address("user", "carol") not in journal.state.resources  # never durable
        with pytest.raises(StateError, match="No space left"):
            journal.append(done("dave"))  # a half-written line must stay the last one
    final = store.read()
    assert set(final.resources) == {Address("user", "alice"), Address("user", "bob")}


def test_a_journal_in_an_unwritable_directory_is_refused_before_any_change(
    store: LocalStateStore,
) -> None:
    state = store.read()
    with unwritable(store.path.parent), pytest.raises(StateError) as caught:
        with store.journal(state):
            raise AssertionError("the run must not start")
    assert str(caught.value).startswith(f"cannot write journal {store.journal_path}: ")
    assert store.read().serial == 1


def _raise(code: int) -> None:
    raise OSError(code, os.strerror(code))

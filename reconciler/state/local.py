"""The local state backend: ``.reconciler/state.json`` beside the config.

Files, all beside the state file:

- ``state.json``: the state document, replaced atomically (temp file, fsync, rename, fsync of
  the directory), so it always parses and equals either the old or the new version;
- ``state.json.journal``: JSON lines appended (and fsynced) during a run; its first line names
  the lineage and serial it builds on, so a journal already folded into a newer state is ignored;
- ``state.json.lock``: an ``flock``-ed file holding the holder's id, user@host, pid and start
  time. The kernel drops the lock when the holder dies, so a killed run never leaves it stuck;
  ``force_unlock`` unlinks it for a holder that hangs.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from reconciler.errors import StateError, StateLockedError
from reconciler.gcpause import paused_gc
from reconciler.state import LockInfo, State, iter_records

STATE_DIR = ".reconciler"
STATE_FILE = "state.json"


def default_path(base_dir: str) -> Path:
    return Path(base_dir) / STATE_DIR / STATE_FILE


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class FileJournal:
    """Appends records to the journal file and folds them into the in-memory state.

    ``append`` returns once its record is on disk (fsync), as before; appends from several
    threads share fsyncs (a group commit): one fsync makes durable every record written before
    it, so ten workers no longer queue behind ten fsyncs. Records reach the file and the
    in-memory state in one order, under one lock.
    """

    def __init__(self, path: Path, state: State) -> None:
        self.path = path
        self.state = state
        self._lock = threading.Lock()  # the order of records, in the file and in memory
        self._sync_lock = threading.Lock()  # one fsync at a time
        self._written = 0  # records written to the file (and flushed to the OS)
        self._synced = 0  # records known to be on disk
        self._handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._fd = self._handle.fileno()
        self._sync(
            self._write({"op": "header", "lineage": state.lineage, "base_serial": state.serial})
        )

    def _write(self, record: dict[str, Any]) -> int:
        """Write and flush one record under ``_lock`` (or before any thread can see the
        journal); return its number."""
        self._handle.write(json.dumps(record, sort_keys=True) + "\n")
        self._handle.flush()
        self._written += 1
        return self._written

    def _sync(self, number: int) -> None:
        """Return once record ``number`` is on disk, sharing an fsync with other threads."""
        with self._sync_lock:
            if self._synced >= number:
                return  # an fsync started after this record was written covered it
            with self._lock:
                covered = self._written
            os.fsync(self._fd)
            self._synced = covered

    def append(self, record: dict[str, Any]) -> None:
        with self._lock:
            number = self._write(record)
            self.state.apply_record(record)
        self._sync(number)

    def close(self) -> None:
        self._handle.close()


class LocalStateStore:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.journal_path = self.path.with_name(self.path.name + ".journal")
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    def describe(self) -> str:
        return str(self.path)

    # --- reading and writing -------------------------------------------------------------

    def _read_document(self) -> State | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"{self.path}: cannot read state: {exc.strerror}") from None
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise StateError(f"{self.path}: state is not valid JSON: {exc}") from None
        return State.from_json(data, str(self.path))

    def _replay_journal(self, state: State) -> bool:
        try:
            lines = self.journal_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return False
        records = list(iter_records(iter(lines)))
        header = records[0] if records and records[0].get("op") == "header" else None
        if header is None or header.get("lineage") != state.lineage:
            return False
        if header.get("base_serial") != state.serial:
            return False  # already folded into a newer state
        for record in records[1:]:
            state.apply_record(record)
        return True

    @paused_gc()
    def read(self) -> State:
        state = self._read_document() or State()
        if not self.path.exists() and self.journal_path.exists():
            state = self._state_from_orphan_journal() or state
        state.folded_journal = self._replay_journal(state)
        return state

    def _state_from_orphan_journal(self) -> State | None:
        """A first run killed before its first state write: adopt the journal's lineage."""
        lines = self.journal_path.read_text(encoding="utf-8").splitlines()
        records = list(iter_records(iter(lines)))
        if records and records[0].get("op") == "header" and records[0].get("base_serial") == 0:
            return State(lineage=str(records[0]["lineage"]))
        return None

    def write(self, state: State) -> State:
        current = self._read_document()
        if current is not None and current.lineage != state.lineage:
            raise StateError(
                f"{self.path}: lineage {current.lineage} differs from {state.lineage}; "
                "refusing to overwrite a different state"
            )
        new = state.copy()
        new.serial = (current.serial if current else 0) + 1
        data = json.dumps(new.to_json(), indent=2, sort_keys=True).encode() + b"\n"
        atomic_write(self.path, data)
        return new

    @contextmanager
    def journal(self, state: State) -> Iterator[FileJournal]:
        """Journal a run's mutations; on exit the folded state is written and the journal goes."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.journal_path.exists():
            self.journal_path.unlink()
        journal = FileJournal(self.journal_path, state)
        try:
            yield journal
        finally:
            journal.close()
            written = self.write(journal.state)
            journal.state.serial = written.serial
            self.journal_path.unlink(missing_ok=True)

    # --- locking -------------------------------------------------------------------------

    def _holder(self) -> LockInfo | None:
        try:
            data = json.loads(self.lock_path.read_text(encoding="utf-8") or "null")
            return LockInfo(**data) if isinstance(data, dict) else None
        except (OSError, ValueError, TypeError):
            return None

    def _acquire(self, info: LockInfo) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                holder = self._holder()
                who = holder.describe() if holder else "lock held by another process"
                raise StateLockedError(
                    f"state {self.path} is locked: {who}; "
                    + (
                        f"if that run is gone, run: reconciler force-unlock {holder.id}"
                        if holder
                        else ""
                    )
                ) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.lock_path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # force-unlocked between open and flock: take the new file
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(asdict(info)).encode(), 0)
        os.fsync(fd)
        return fd

    @contextmanager
    def lock(self, operation: str) -> Iterator[LockInfo]:
        info = LockInfo.mine(operation)
        fd = self._acquire(info)
        try:
            yield info
        finally:
            try:
                if os.fstat(fd).st_ino == os.stat(self.lock_path).st_ino:
                    os.ftruncate(fd, 0)
            except FileNotFoundError:
                pass
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def force_unlock(self, lock_id: str) -> LockInfo:
        holder = self._holder()
        if holder is None:
            raise StateError(f"state {self.path} is not locked")
        if holder.id != lock_id:
            raise StateError(f"lock id {lock_id} does not match the current {holder.describe()}")
        self.lock_path.unlink(missing_ok=True)
        return holder

"""The local state backend: ``.reconciler/state.json`` beside the config.

Files, all beside the state file:

- ``state.json``: the state document, replaced atomically (temp file, fsync, rename, fsync of
  the directory), so it always parses and equals either the old or the new version;
- ``state.json.journal``: JSON lines appended (and fsynced) during a run; its first line names
  the lineage and serial it builds on, so a journal already folded into a newer state is ignored;
- ``state.json.lock``: an ``flock``-ed file holding the holder's id, user@host, pid and start
  time. The kernel drops the lock when the holder dies, so a killed run never leaves it stuck;
  ``force_unlock`` unlinks it for a holder that hangs. A run refused the lock reads the
  holder's name again until it is there (it is written right after the ``flock``).

None of these files is ever read or written through a symbolic link, and none that the tool
did not make is truncated (``reconciler.safefiles``): a link, or a lock file with another hard
link, is refused with a StateError naming it.

Fencing: while this store holds the lock, every append and write first checks that the lock
file is still the one it locked and still names its lock id, and that ``state.json`` is still
the serial the run built on; an append checks the lock again once its record is on disk, so a
run that returns from ``append`` was still the holder when its record became durable. A file
has no compare-and-set: the last check comes right before the rename, after the slow part.

A write that fails (permissions, a full disk, a read-only file system) raises a StateError
naming the file and the cause, leaves no temp file, and keeps the journal for the next run.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from reconciler.errors import LockLostError, StateError, StateLockedError
from reconciler.gcpause import paused_gc
from reconciler.safefiles import LinkRefused, open_own_file, read_file, replace_file
from reconciler.state import HOLDER_POLL, HOLDER_WAIT, LockInfo, State, lock_lost, state_moved
from reconciler.state.document import parse_document, parse_header
from reconciler.state.journal import (
    DoneRecord,
    JournalHeader,
    JournalRecord,
    as_record,
    dumps,
    fold,
    iter_records,
    orphan_state,
    replay_journal,
)
from reconciler.state.location import StateLocation
from reconciler.state.stored import document_text, read_stored

STATE_DIR = ".reconciler"
STATE_FILE = "state.json"
Fence = Callable[[], None]


def default_path(config_root: str) -> Path:
    return Path(config_root) / STATE_DIR / STATE_FILE


def cannot(verb: str, what: str, path: Path, exc: OSError) -> StateError:
    """``cannot write state /x/.reconciler/state.json: Permission denied``."""
    return StateError(f"cannot {verb} {what} {path}: {exc.strerror or exc}")


def _no_fence() -> None:
    return None


def atomic_write(path: Path, data: bytes, fence: Fence = _no_fence) -> None:
    """Replace ``path`` by ``data`` (or raise a StateError and leave it as it was). ``fence``
    runs once the new content is on disk, right before the rename, and may refuse it. Neither
    the file nor its temporary file is ever reached through a symbolic link."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, data, fence=fence)
    except OSError as exc:
        raise cannot("write", "state", path, exc) from None


class FileJournal:
    """Appends records to the journal file and folds them into the in-memory state.

    ``append`` returns once its record is on disk (fsync); appends from several threads share
    fsyncs (a group commit): one fsync makes durable every record written before it, so ten
    workers do not queue behind ten fsyncs. A ``done`` record is the exception: it is written
    at once (a killed process loses nothing written) and made durable by the next fsync, or at
    close, without its change waiting for it; an outcome lost with the machine leaves its
    intent pending, which the next run's recovery reads back from the cloud, as after a run
    killed before it wrote the outcome. Records reach the file and the in-memory state in
    one order, under one lock. ``fence`` runs before each record is written and again once it
    is durable; it raises LockLostError when this run lost its lock. After a failed write the
    journal takes no more records (a half-written line must stay the last).
    """

    def __init__(
        self, path: Path, state: State, kinds: Sequence[str], fence: Fence = _no_fence
    ) -> None:
        self.path = path
        self.state = state
        self.kinds = kinds
        self._fence = fence
        self._lock = threading.Lock()  # the order of records, in the file and in memory
        self._sync_lock = threading.Lock()  # one fsync at a time
        self._written = 0  # records written to the file
        self._synced = 0  # records known to be on disk
        self._broken: str | None = None  # why the journal takes no more records
        try:
            # a new file (the run removed the folded one): never a link, nor another's file
            self._fd = os.open(
                path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644
            )
        except OSError as exc:
            raise cannot("write", "journal", path, exc) from None
        self.inode = os.fstat(self._fd).st_ino
        try:
            self._sync(self._write(JournalHeader.of(state)))
        except BaseException:
            self.close()
            raise

    def _write(self, record: JournalRecord | JournalHeader) -> int:
        """Write one record under ``_lock`` (or before any thread can see the journal); return
        its number."""
        if self._broken:
            raise StateError(self._broken)
        line = (dumps(record) + "\n").encode()
        try:
            if os.write(self._fd, line) != len(line):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        except OSError as exc:
            self._broken = str(cannot("write", "journal", self.path, exc))
            raise StateError(self._broken) from None
        self._written += 1
        return self._written

    def _sync(self, number: int) -> None:
        """Return once record ``number`` is on disk, sharing an fsync with other threads."""
        with self._sync_lock:
            if self._synced >= number:
                return  # an fsync started after this record was written covered it
            with self._lock:
                covered = self._written
            try:
                os.fsync(self._fd)
            except OSError as exc:
                self._broken = str(cannot("write", "journal", self.path, exc))
                raise StateError(self._broken) from None
            self._synced = covered

    def append(self, record: JournalRecord | dict[str, Any]) -> None:
        typed = as_record(record, self.kinds)
        with self._lock:
            self._fence()
            number = self._write(typed)
            fold(self.state, [typed])
        if not isinstance(typed, DoneRecord):
            self._sync(number)
        self._fence()

    def close(self) -> None:
        if self._fd >= 0:
            try:
                if self._broken is None:
                    self._sync(self._written)  # the outcomes written since the last fsync
            except StateError:
                pass  # the state written next records them; else the next run reads them back
            finally:
                os.close(self._fd)
                self._fd = -1


def _lock_signature(stat: os.stat_result) -> tuple[int, int, int, int]:
    """What changes whenever the lock file is written (size and times) or replaced (inode)."""
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


class LocalStateStore:
    def __init__(self, path: str | os.PathLike[str], *, kinds: Sequence[str]) -> None:
        """The state in the file ``path``, of ``kinds`` (the registry's names: an entry of
        another kind is refused when read)."""
        self.path = Path(path)
        self.kinds = kinds
        self.journal_path = self.path.with_name(self.path.name + ".journal")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._held: tuple[LockInfo, int] | None = None  # the lock taken through this object
        # the lock file's signature when it was last read and named this run (_check_lock)
        self._lock_seen: tuple[int, int, int, int] | None = None
        # the document's (signature, lineage, serial) when read() read it whole
        self._read_base: tuple[tuple[int, int, int] | None, str, int] | None = None
        self._read_journal: int | None = None  # the inode of the journal the last read folded

    def describe(self) -> str:
        return str(self.path)

    def location(self) -> StateLocation:
        return StateLocation.file(self.path)

    # --- reading and writing -------------------------------------------------------------

    def _read_document(self, known: str | None) -> State | None:
        raw = self._stored_document()
        if raw is None:
            return None
        digest = "sha256:" + hashlib.sha256(raw).hexdigest()
        if digest == known:  # the very text a full read validated: entries when asked for
            state = read_stored(raw, str(self.path), self.kinds)
        else:
            state = parse_document(raw, str(self.path), self.kinds)
        state.read_digest = digest
        return state

    def _stored_document(self) -> bytes | None:
        try:
            return read_file(self.path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise cannot("read", "state", self.path, exc) from None

    def _stored_journal(self) -> list[Any]:
        try:
            raw = read_file(self.journal_path)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise cannot("read", "journal", self.journal_path, exc) from None
        return list(iter_records(raw.decode("utf-8", errors="replace").splitlines()))

    @paused_gc()
    def read(self, known: str | None = None) -> State:
        """The state, its journal folded. ``known``: the digest of a document a full read
        validated (``State.read_digest``, as a saved plan records it); when the stored one is
        that very text, its entries are decoded only when asked for and written back as they
        were read (``state.stored``)."""
        before = self._signature()
        document = self._read_document(known)
        if document is not None and self._signature() == before:
            self._read_base = (before, document.lineage, document.serial)
        stored = self._stored_journal()
        state = document or orphan_state(stored) or State()
        state.folded_journal = replay_journal(state, stored, str(self.journal_path), self.kinds)
        self._read_journal = self._journal_inode() if stored else None
        return state

    def _journal_inode(self) -> int | None:
        try:
            return os.lstat(self.journal_path).st_ino
        except OSError:
            return None

    @paused_gc()
    def write(self, state: State) -> State:
        """Store ``state`` as the next serial, if the stored serial is still ``state.serial``."""
        fence = self._fence_for(state)
        new = state.copy()
        new.serial = state.serial + 1
        new.read_digest = None
        data = document_text(new).encode() + b"\n"
        atomic_write(self.path, data, fence)
        if self._read_journal is not None:
            # the journal the last read found: folded into this write, or one an earlier write
            # had folded already (writes happen under the lock: no other run's)
            self._drop_journal(self._read_journal)
            self._read_journal = None
        return new

    @contextmanager
    def journal(self, state: State) -> Iterator[FileJournal]:
        """Journal a run's mutations; on exit the folded state is written and the journal goes
        (unless that write fails: then the journal stays for the next run to fold)."""
        fence = self._fence_for(state)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.journal_path.unlink(missing_ok=True)
        except OSError as exc:
            raise cannot("write", "journal", self.journal_path, exc) from None
        journal = FileJournal(self.journal_path, state, self.kinds, fence)
        lost = False
        try:
            yield journal
        except LockLostError:
            lost = True  # for good: nothing more to write; the next holder folds the journal
            raise
        finally:
            journal.close()
            if not lost:
                written = self._finish(journal.state)
                journal.state.serial = written.serial
                self._drop_journal(journal.inode)

    def _finish(self, state: State) -> State:
        try:
            return self.write(state)
        except LockLostError:
            raise
        except StateError as exc:
            raise StateError(
                f"{exc}; this run's changes are kept in {self.journal_path} and the next run "
                "folds them"
            ) from None

    def _drop_journal(self, inode: int) -> None:
        try:
            if os.lstat(self.journal_path).st_ino == inode:  # not a newer run's journal
                self.journal_path.unlink()
        except OSError:
            pass  # folded into the new serial already: the next read ignores it

    # --- fencing -------------------------------------------------------------------------

    def _signature(self) -> tuple[int, int, int] | None:
        """What changes whenever the document is replaced (a new inode, mtime, size)."""
        try:
            stat = os.lstat(self.path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise cannot("read", "state", self.path, exc) from None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def _fence_for(self, state: State) -> Fence:
        """Check that this run may write on top of ``state`` now, and return the check to
        repeat before each later write: the lock first, then the serial (read again only
        when the document was replaced meanwhile)."""
        lineage, serial = state.lineage, state.serial
        signature = self._signature()
        self._check_lock()
        if self._read_base != (signature, lineage, serial):
            # not the document this store last read, unchanged since (a 100,000-entry
            # document is not parsed again for its serial)
            self._check_base(lineage, serial)

        def fence() -> None:
            self._check_lock()
            if self._signature() != signature:
                self._check_base(lineage, serial)

        return fence

    def _check_base(self, lineage: str, serial: int) -> None:
        raw = self._stored_document()
        current = None if raw is None else parse_header(raw, str(self.path))
        if current is not None and current.lineage != lineage:
            raise StateError(
                f"{self.path}: lineage {current.lineage} differs from {lineage}; "
                "refusing to overwrite a different state"
            )
        found = current.serial if current is not None else None
        if found != serial and not (found is None and serial == 0):
            raise state_moved(str(self.path), serial, found)

    def _check_lock(self) -> None:
        """Raise LockLostError unless the lock file is still the one this run holds open
        (flocked) and still names this run. The fence runs this before and after every
        journal record: the name is read again only when the file's inode, size or times
        changed since it was last read and found to be this run's."""
        if self._held is None:
            return  # not locked through this object: nothing to lose
        mine, fd = self._held
        try:
            now = os.stat(self.lock_path)
            same_file = os.fstat(fd).st_ino == now.st_ino
        except FileNotFoundError:
            same_file, now = False, None
        except OSError as exc:
            raise cannot("read", "lock", self.lock_path, exc) from None
        seen = _lock_signature(now) if now is not None else None
        if same_file and seen is not None and seen == self._lock_seen:
            return  # the very file, unchanged since it was read and found to be this run's
        holder = self._holder()
        if same_file and holder is not None and holder.id == mine.id:
            self._lock_seen = seen
            return
        self._lock_seen = None
        other = holder if holder is not None and holder.id != mine.id else None
        raise lock_lost(str(self.path), mine, other)

    # --- locking -------------------------------------------------------------------------

    def _holder(self) -> LockInfo | None:
        try:
            data = json.loads(read_file(self.lock_path).decode("utf-8") or "null")
            return LockInfo(**data) if isinstance(data, dict) else None
        except (OSError, ValueError, TypeError, RecursionError):
            return None

    def holder(self) -> LockInfo | None:
        """The run holding the lock now, or None (a killed holder's lock is free)."""
        try:
            fd = os.open(self.lock_path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return self._holder()
        finally:
            os.close(fd)  # closing drops a shared flock taken just now
        return None

    def _acquire(self, info: LockInfo) -> int:
        try:
            return self._take(info)
        except LinkRefused as exc:
            raise cannot("lock", "state", self.lock_path, exc) from None
        except OSError as exc:
            raise cannot("lock", "state", self.path, exc) from None

    def _take(self, info: LockInfo) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        unnamed_until = time.monotonic() + HOLDER_WAIT
        while True:
            # rewritten in place below: never through a link, nor another file's hard link
            fd = open_own_file(self.lock_path, os.O_RDWR | os.O_CREAT)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                holder = self._holder()
                if holder is None and time.monotonic() < unnamed_until:
                    # the holder is writing its name (it locks first) or releasing the lock
                    # (its name is cleared first): look again rather than refuse anonymously
                    time.sleep(HOLDER_POLL)
                    continue
                raise self._locked_error(holder) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.lock_path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # force-unlocked between open and flock: take the new file
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(asdict(info)).encode(), 0)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _locked_error(self, holder: LockInfo | None) -> StateLockedError:
        who = (
            holder.describe()
            if holder
            else f"lock held by another process that did not name itself within {HOLDER_WAIT:g} s"
        )
        hint = f"if that run is gone, run: reconciler force-unlock {holder.id}" if holder else ""
        return StateLockedError(f"state {self.path} is locked: {who}; {hint}")

    @contextmanager
    def lock(self, operation: str) -> Iterator[LockInfo]:
        info = LockInfo.mine(operation)
        fd = self._acquire(info)
        self._held = (info, fd)
        self._lock_seen = None
        try:
            yield info
        finally:
            self._held = None
            self._lock_seen = None
            try:
                if os.fstat(fd).st_ino == os.stat(self.lock_path).st_ino:
                    os.ftruncate(fd, 0)
            except OSError:
                pass  # force-unlocked (gone), or not writable any more: the flock still goes
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def force_unlock(self, lock_id: str) -> LockInfo:
        holder = self._holder()
        if holder is None:
            raise StateError(f"state {self.path} is not locked")
        if holder.id != lock_id:
            raise StateError(f"lock id {lock_id} does not match the current {holder.describe()}")
        try:
            self.lock_path.unlink(missing_ok=True)
        except OSError as exc:
            raise cannot("unlock", "state", self.path, exc) from None
        return holder

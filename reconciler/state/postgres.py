"""The PostgreSQL state backend: one database shared by a team, one workspace per environment.

For: ``--state postgresql://USER@HOST:PORT/DB`` with ``--workspace NAME``. It behaves like
:mod:`reconciler.state.local` (same reads, writes, journal and lock semantics); only the medium
differs. Not for: deciding what a journal means (that is :func:`reconciler.state.journal.fold`)
or any policy about when to lock (the commands decide).

Tables, created on first use and upgraded by :data:`MIGRATIONS` under a migration lock:

- ``reconciler_schema_version``: the migrations applied;
- ``reconciler_states``: per workspace the lineage, serial and the state document (JSONB);
- ``reconciler_journal``: per workspace the records of the running apply, one committed row per
  ``append``; row 0 is the header naming the lineage and serial it builds on, so a journal
  already folded into a newer state is ignored. The folded state is written and the rows
  deleted in one transaction;
- ``reconciler_locks``: who holds a workspace's lock. The lock itself is a session-level
  ``pg_try_advisory_lock`` on a connection held for the run: when the run dies its session
  ends and the server releases the lock, so it cannot stay stuck. The row is only believed
  while ``pg_locks`` shows its backend holding the lock.

Fencing: while this store holds the lock, every append, journal start and state write runs in
one transaction that first takes a share lock on this run's lock row, checked to still carry
its id and to belong to a session that ``pg_locks`` shows holding the advisory lock (so a
takeover, which rewrites the row, waits for the write to commit), and writes the state only
``WHERE serial =`` the serial the run built on. Either fails: LockLostError, nothing written.

Messages never carry the password of the URL.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from reconciler.errors import LockLostError, ReconcilerError, StateError, StateLockedError
from reconciler.state import HOLDER_POLL, HOLDER_WAIT, LockInfo, State, lock_lost, state_moved
from reconciler.state.journal import (
    JournalHeader,
    JournalRecord,
    as_record,
    fold,
    orphan_state,
    replay_journal,
)
from reconciler.state.location import StateLocation
from reconciler.state.stored import StoredEntries, without_entries

try:
    import psycopg
    from psycopg.types.json import Jsonb
except ImportError:  # the extra is not installed; PostgresStateStore() says how to get it
    psycopg = None  # type: ignore[assignment]

CONNECT_TIMEOUT = 10
TERMINATE_WAIT_MS = 5000
# A run stopped (SIGSTOP, a debugger) inside a journal transaction holds a share lock on its lock
# row, which a force-unlock or the next run's lock must wait for: the server ends such a session
# after this long, so they wait at most this long.
STUCK_TRANSACTION_MS = 5000
MIGRATION_LOCK = (0x52454331, 1)  # two-int advisory key space: never collides with a workspace key

MIGRATIONS: list[tuple[int, list[str]]] = [
    (
        1,
        [
            """CREATE TABLE reconciler_states (
                workspace text PRIMARY KEY,
                lineage text NOT NULL,
                serial bigint NOT NULL,
                document jsonb NOT NULL,
                updated timestamptz NOT NULL DEFAULT now())""",
            """CREATE TABLE reconciler_journal (
                workspace text NOT NULL,
                seq bigint NOT NULL,
                record jsonb NOT NULL,
                PRIMARY KEY (workspace, seq))""",
            """CREATE TABLE reconciler_locks (
                workspace text PRIMARY KEY,
                id text NOT NULL,
                who text NOT NULL,
                pid integer NOT NULL,
                operation text NOT NULL,
                created text NOT NULL,
                backend_pid integer NOT NULL)""",
        ],
    ),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]

# The first write of a lineage: a new row, or the row of this lineage still at serial 0 (an
# empty state migrated in). Two first writers cannot both insert. No row back: refused.
_INSERT_FIRST = """
INSERT INTO reconciler_states AS s (workspace, lineage, serial, document)
VALUES (%(ws)s, %(lineage)s, 1, %(doc)s)
ON CONFLICT (workspace) DO UPDATE
   SET serial = 1, document = EXCLUDED.document, updated = now()
 WHERE s.lineage = EXCLUDED.lineage AND s.serial = 0
RETURNING serial
"""

# Compare-and-set: the next serial only on top of the serial this run built on.
_UPDATE_NEXT = """
UPDATE reconciler_states
   SET serial = serial + 1, document = %(doc)s, updated = now()
 WHERE workspace = %(ws)s AND lineage = %(lineage)s AND serial = %(serial)s
RETURNING serial
"""

# The same, sending only the entries that changed since the read (``state.stored``) and the
# rest of the document: DOCUMENT is what the stored document becomes (``_entries_update``).
_UPDATE_ENTRIES = """
UPDATE reconciler_states
   SET serial = serial + 1, updated = now(),
       document = DOCUMENT || (%(rest)s::jsonb - 'resources')
 WHERE workspace = %(ws)s AND lineage = %(lineage)s AND serial = %(serial)s
RETURNING serial
"""
# Up to this many entries changed, each is set in place (a copy of the document each in the
# server's memory; about 1 s for one at 100,000, most of it reading and storing the document);
# more, and the entries are rebuilt in one step (about 1.8 s).
ONE_BY_ONE = 4


def _entries_update(changed: dict[str, Any], removed: list[str], params: dict[str, Any]) -> str:
    """``_UPDATE_ENTRIES`` for the entries ``changed`` (set) and ``removed`` (stored ones
    removed or replaced), their values added to ``params``."""
    gone = [key for key in removed if key not in changed]
    if len(changed) + len(gone) > ONE_BY_ONE:
        params.update(changed=Jsonb(changed), gone=gone)
        document = (
            "jsonb_set(document, '{resources}',"
            " ((document->'resources') - %(gone)s::text[]) || %(changed)s::jsonb)"
        )
        return _UPDATE_ENTRIES.replace("DOCUMENT", document)
    document = "document"
    for number, key in enumerate(gone):
        params[f"gone{number}"] = ["resources", key]
        document = f"({document} #- %(gone{number})s::text[])"
    for number, (key, value) in enumerate(changed.items()):
        params[f"path{number}"], params[f"entry{number}"] = ["resources", key], Jsonb(value)
        document = f"jsonb_set({document}, %(path{number})s::text[], %(entry{number})s::jsonb)"
    return _UPDATE_ENTRIES.replace("DOCUMENT", document)


_REPLACE = """
INSERT INTO reconciler_states (workspace, lineage, serial, document)
VALUES (%(ws)s, %(lineage)s, %(serial)s, %(doc)s)
ON CONFLICT (workspace) DO UPDATE
   SET lineage = EXCLUDED.lineage, serial = EXCLUDED.serial,
       document = EXCLUDED.document, updated = now()
"""

# The lock row joined with the advisory lock actually granted to the backend it names.
_HOLDER = """
SELECT l.id, l.who, l.pid, l.operation, l.created, l.backend_pid
  FROM reconciler_locks l
  JOIN pg_locks p
    ON p.locktype = 'advisory' AND p.granted AND p.objsubid = 1
   AND p.pid = l.backend_pid
   AND p.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND p.classid::bigint = %(classid)s AND p.objid::bigint = %(objid)s
 WHERE l.workspace = %(ws)s
"""

# This run's lock row, if it still names this run's lock and its session still holds the
# advisory lock; the share lock makes a takeover (which rewrites the row) wait for our commit.
_FENCE = """
SELECT l.id
  FROM reconciler_locks l
 WHERE l.workspace = %(ws)s AND l.id = %(id)s AND l.backend_pid = %(backend)s
   AND EXISTS (
       SELECT 1 FROM pg_locks p
        WHERE p.locktype = 'advisory' AND p.granted AND p.objsubid = 1
          AND p.pid = l.backend_pid
          AND p.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND p.classid::bigint = %(classid)s AND p.objid::bigint = %(objid)s)
   FOR SHARE OF l
"""

_LOCK_ROW = """
INSERT INTO reconciler_locks (workspace, id, who, pid, operation, created, backend_pid)
VALUES (%(ws)s, %(id)s, %(who)s, %(pid)s, %(operation)s, %(created)s, pg_backend_pid())
ON CONFLICT (workspace) DO UPDATE
   SET id = EXCLUDED.id, who = EXCLUDED.who, pid = EXCLUDED.pid,
       operation = EXCLUDED.operation, created = EXCLUDED.created,
       backend_pid = EXCLUDED.backend_pid
"""


def advisory_key(workspace: str) -> int:
    """The signed 64-bit advisory lock key of a workspace."""
    digest = hashlib.sha256(f"cce-reconciler:{workspace}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _key_parts(key: int) -> dict[str, int]:
    """How ``pg_locks`` shows a bigint advisory key: high and low 32 bits as oids."""
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    return {"classid": unsigned >> 32, "objid": unsigned & 0xFFFFFFFF}


def redact(text: str, password: str | None) -> str:
    """``text`` with the password (and anything shaped like one in a URL) replaced by ``***``."""
    if password:
        text = text.replace(password, "***")
    text = re.sub(r"(postgres(?:ql)?://[^:/@\s]*):[^@\s]*@", r"\1:***@", text)
    return re.sub(r"(password=)[^&\s]+", r"\1***", text)


def _message(exc: BaseException, password: str | None) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return redact(text, password)


class PostgresJournal:
    """Commits each record as its own row (in a fenced transaction) before returning, and
    folds it into the state."""

    def __init__(
        self, store: PostgresStateStore, conn: psycopg.Connection[Any], state: State
    ) -> None:
        self.store = store
        self.state = state
        self._conn = conn
        self._seq = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._transaction():
            self.store.fence(self._conn, self.state)
            self._conn.execute(
                "DELETE FROM reconciler_journal WHERE workspace = %s", (self.store.workspace,)
            )
            self._insert(0, JournalHeader.of(self.state))

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One fenced write; a failure because this run's lock is gone says so (exit 4)."""
        try:
            with self.store.translated(), self._conn.transaction():
                yield
        except LockLostError:
            raise
        except StateError as exc:
            raise self.store.lost_or(exc) from None

    def _insert(self, seq: int, record: JournalRecord | JournalHeader) -> None:
        self._conn.execute(
            "INSERT INTO reconciler_journal (workspace, seq, record) VALUES (%s, %s, %s)",
            (self.store.workspace, seq, Jsonb(record.to_json())),
        )

    def append(self, record: JournalRecord | dict[str, Any]) -> None:
        typed = as_record(record, self.store.kinds)
        with self._lock:
            with self._transaction():
                self.store.fence(self._conn, self.state)
                self._insert(self._seq + 1, typed)
            self._seq += 1  # committed: durable (synchronous_commit) and fenced
            fold(self.state, [typed])

    def finish(self) -> None:
        """Write the folded state and drop the journal, atomically."""
        with self._lock, self._transaction():
            serial = self.store.upsert(self._conn, self.state)
            self._conn.execute(
                "DELETE FROM reconciler_journal WHERE workspace = %s", (self.store.workspace,)
            )
        self.state.serial = serial


class PostgresStateStore:
    def __init__(self, url: str, workspace: str = "default", *, kinds: Sequence[str]) -> None:
        """The state of ``workspace`` in the database at ``url``, of ``kinds`` (the
        registry's names: an entry of another kind is refused when read)."""
        if psycopg is None:
            raise ReconcilerError(
                "the PostgreSQL state backend needs psycopg: pip install 'cce-reconciler[postgres]'"
            )
        self.url = url
        self.workspace = workspace
        self.kinds = kinds
        self._password = _password_of(url)
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        self._held: tuple[LockInfo, int] | None = None  # the lock taken through this object

    def describe(self) -> str:
        return f"{_public_url(self.url)} (workspace {self.workspace})"

    def location(self) -> StateLocation:
        return StateLocation.postgres(self.url, self.workspace)

    # --- connections ---------------------------------------------------------------------

    @contextmanager
    def translated(self) -> Iterator[None]:
        """Turn a database error into a StateError that names the store but not the password."""
        try:
            yield
        except psycopg.Error as exc:
            raise StateError(
                f"PostgreSQL state {self.describe()}: {_message(exc, self._password)}"
            ) from None

    def _open(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(
                self.url,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT,
                application_name="cce-reconciler",
            )
        except psycopg.Error as exc:
            raise StateError(
                f"cannot connect to PostgreSQL state {self.describe()}: "
                f"{_message(exc, self._password)}"
            ) from None
        try:
            with self.translated():
                self._ensure_schema(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        conn = self._open()
        try:
            with self.translated():
                yield conn
        finally:
            conn.close()

    def _ensure_schema(self, conn: psycopg.Connection[Any]) -> None:
        with self._schema_lock:
            if self._schema_ready:
                return
            current = _schema_version(conn)
            if current > SCHEMA_VERSION:
                raise _too_new(current)
            if current < SCHEMA_VERSION:
                _migrate(conn)
            self._schema_ready = True

    # --- reading and writing -------------------------------------------------------------

    def read(self, known: str | None = None) -> State:
        """The state, its journal folded. ``State.read_digest`` names the stored version read
        (its lineage, serial and time of writing); ``known``: such a name, of a version a full
        read validated (as a saved plan records it): when the stored version is still that
        one, its entries stay in the database until asked for, and a write sends only those
        that changed (``state.stored``)."""
        try:
            if known is not None:
                lazy = self._read_entries_later(known)
                if lazy is not None:
                    return lazy
            row, stored = self._fetch()
        except RecursionError:  # decoding a document nested thousands deep
            raise StateError(
                f"{self.describe()}: state is not valid: it is nested too deeply"
            ) from None
        where = self.describe()
        state = (
            State.from_json(row[0], where, self.kinds) if row else orphan_state(stored) or State()
        )
        state.folded_journal = replay_journal(state, stored, f"{where} journal", self.kinds)
        state.read_digest = _version_name(row[1], row[2], row[3]) if row else None
        return state

    def _read_entries_later(self, known: str) -> State | None:
        """The state of the stored version ``known`` names, its entries fetched one by one
        when asked for; None when the stored version is another (or a journal is left)."""
        with self._connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            row = conn.execute(
                "SELECT lineage, serial, updated, document - 'resources',"
                " ARRAY(SELECT jsonb_object_keys(document->'resources')),"
                " EXISTS (SELECT 1 FROM reconciler_journal WHERE workspace = %(ws)s)"
                " FROM reconciler_states WHERE workspace = %(ws)s",
                {"ws": self.workspace},
            ).fetchone()
        if row is None or row[5] or _version_name(row[0], row[1], row[2]) != known:
            return None
        where = self.describe()
        state = State.from_json({**row[3], "resources": {}}, where, self.kinds)
        keys: list[str] = row[4]
        for key in keys:
            kind, dot, name = key.partition(".")
            if not (dot and name and kind in self.kinds):
                return None  # the full read names what it refuses
        state.resources = StoredEntries(dict.fromkeys(keys), self.kinds, where, self._entry_text)
        state.read_digest = known
        return state

    def _entry_text(self, keys: list[str] | None) -> dict[str, str]:
        """The JSON text of the stored entries ``keys`` (addresses), or of every entry."""
        with self._connection() as conn:
            if keys is None:
                query = (
                    "SELECT e.key, e.value::text FROM reconciler_states,"
                    " jsonb_each(document->'resources') e WHERE workspace = %s"
                )
                rows = conn.execute(query, (self.workspace,)).fetchall()
            else:
                query = (
                    "SELECT k, document->'resources'->>k FROM reconciler_states,"
                    " unnest(%s::text[]) k WHERE workspace = %s"
                )
                rows = conn.execute(query, (keys, self.workspace)).fetchall()
        found = {str(key): str(text) for key, text in rows if text is not None}
        missing = [key for key in keys or () if key not in found]
        if missing:
            raise StateError(
                f"{self.describe()}: the entry {missing[0]} left the state under this run"
            )
        return found

    def other_workspace(self, name: str) -> PostgresStateStore:
        """Another workspace of the same database, reached with the same URL."""
        return PostgresStateStore(self.url, name, kinds=self.kinds)

    def workspaces(self) -> list[str]:
        """Every workspace of this database holding a state or a journal, sorted."""
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT workspace FROM reconciler_states UNION "
                "SELECT workspace FROM reconciler_journal ORDER BY 1"
            ).fetchall()
        return [str(row[0]) for row in rows]

    def _fetch(self) -> tuple[Any, list[Any]]:
        """The stored document's row (or None) and the journal's records, in one snapshot."""
        with self._connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            row = conn.execute(
                "SELECT document, lineage, serial, updated FROM reconciler_states"
                " WHERE workspace = %s",
                (self.workspace,),
            ).fetchone()
            stored = [
                r[0]
                for r in conn.execute(
                    "SELECT record FROM reconciler_journal WHERE workspace = %s ORDER BY seq",
                    (self.workspace,),
                )
            ]
        return row, stored

    def write(self, state: State) -> State:
        with self._connection() as conn, conn.transaction():
            serial = self.upsert(conn, state)
            if state.folded_journal:  # folded into this write: done with
                conn.execute(
                    "DELETE FROM reconciler_journal WHERE workspace = %s", (self.workspace,)
                )
        new = state.copy()
        new.serial = serial
        return new

    def upsert(self, conn: psycopg.Connection[Any], state: State) -> int:
        """Store ``state`` as the next serial, if the stored serial is still ``state.serial``
        and this run still holds its lock (inside the caller's transaction)."""
        self._check_lock(conn)
        new = state.copy()
        new.serial = state.serial + 1
        params: dict[str, Any] = {
            "ws": self.workspace,
            "lineage": state.lineage,
            "serial": state.serial,
        }
        if isinstance(new.resources, StoredEntries) and state.serial > 0:
            # only what changed: the document the full write would store (JSONB has no order)
            changed, removed = new.resources.changes()
            params["rest"] = Jsonb(without_entries(new))
            row = conn.execute(_entries_update(changed, removed, params), params).fetchone()
        else:
            params["doc"] = Jsonb(new.to_json())
            query = _INSERT_FIRST if state.serial == 0 else _UPDATE_NEXT
            row = conn.execute(query, params).fetchone()
        if row is None:
            self._check_base(conn, state)  # says why: another lineage, or another serial
            raise StateError(f"{self.describe()}: the state could not be written")
        return int(row[0])

    def fence(self, conn: psycopg.Connection[Any], state: State) -> None:
        """Refuse (LockLostError) to write on top of ``state`` unless this run still holds its
        lock and the stored serial is still ``state.serial`` (inside the caller's transaction)."""
        self._check_lock(conn)
        self._check_base(conn, state)

    def _check_base(self, conn: psycopg.Connection[Any], state: State) -> None:
        current = conn.execute(
            "SELECT lineage, serial FROM reconciler_states WHERE workspace = %s",
            (self.workspace,),
        ).fetchone()
        if current is not None and current[0] != state.lineage:
            raise StateError(
                f"{self.describe()}: lineage {current[0]} differs from {state.lineage}; "
                "refusing to overwrite a different state"
            )
        found = int(current[1]) if current is not None else None
        if found != state.serial and not (found is None and state.serial == 0):
            raise state_moved(self.describe(), state.serial, found)

    def lost_or(self, error: StateError) -> StateError:
        """A write failed (its session ended, say): if this run's lock is gone too, that is
        what to report; else ``error``."""
        if self._held is None:
            return error
        try:
            with self._connection() as conn:
                self._check_lock(conn)
        except LockLostError as lost:
            return lost
        except StateError:
            pass  # the database is out of reach: the original error says more
        return error

    def _check_lock(self, conn: psycopg.Connection[Any]) -> None:
        if self._held is None:
            return  # not locked through this object: nothing to lose
        mine, backend = self._held
        params = {
            "ws": self.workspace,
            "id": mine.id,
            "backend": backend,
            **_key_parts(advisory_key(self.workspace)),
        }
        if conn.execute(_FENCE, params).fetchone() is None:
            found = self._holder(conn)
            other = found[0] if found is not None and found[0].id != mine.id else None
            raise lock_lost(self.describe(), mine, other)

    def replace(self, state: State) -> State:
        """Store ``state`` exactly (lineage and serial kept) whatever the workspace held, and
        drop its journal. Only for ``state migrate``, which checks what it replaces first."""
        params = {
            "ws": self.workspace,
            "lineage": state.lineage,
            "serial": state.serial,
            "doc": Jsonb(state.to_json()),
        }
        with self._connection() as conn, conn.transaction():
            self._check_lock(conn)
            conn.execute(_REPLACE, params)
            conn.execute("DELETE FROM reconciler_journal WHERE workspace = %s", (self.workspace,))
        return state.copy()

    @contextmanager
    def journal(self, state: State) -> Iterator[PostgresJournal]:
        """Journal a run's mutations; on exit the folded state is written and the journal goes."""
        conn = self._open()
        try:
            with self.translated():
                conn.execute("SET synchronous_commit TO on")  # durable before append returns
                conn.execute(
                    "SELECT set_config('idle_in_transaction_session_timeout', %s, false)",
                    (str(STUCK_TRANSACTION_MS),),
                )
            journal = PostgresJournal(self, conn, state)
            journal.start()
            try:
                yield journal
            except LockLostError:
                raise  # for good: nothing more to write; the next holder folds the journal
            except BaseException:
                journal.finish()
                raise
            else:
                journal.finish()
        finally:
            conn.close()

    # --- locking -------------------------------------------------------------------------

    def _holder(self, conn: psycopg.Connection[Any]) -> tuple[LockInfo, int] | None:
        params = {"ws": self.workspace, **_key_parts(advisory_key(self.workspace))}
        row = conn.execute(_HOLDER, params).fetchone()
        if row is None:
            return None
        return LockInfo(str(row[0]), str(row[1]), int(row[2]), str(row[3]), str(row[4])), int(
            row[5]
        )

    def holder(self) -> LockInfo | None:
        """The run holding this workspace's lock now, or None."""
        with self._connection() as conn:
            found = self._holder(conn)
        return found[0] if found else None

    def _locked_error(self, conn: psycopg.Connection[Any]) -> StateLockedError:
        found = self._holder(conn)
        if found is None:
            return StateLockedError(f"state {self.describe()} is locked by another session")
        holder = found[0]
        return StateLockedError(
            f"state {self.describe()} is locked: {holder.describe()}; if that run hangs, run: "
            f"reconciler force-unlock {holder.id} (with the same --state and --workspace)"
        )

    def _acquire(self, info: LockInfo) -> psycopg.Connection[Any]:
        conn = self._open()
        try:
            with self.translated():
                _keep_session(conn)
                key = advisory_key(self.workspace)
                unnamed_until = time.monotonic() + HOLDER_WAIT
                while True:
                    row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
                    if row and row[0]:
                        break
                    if self._holder(conn) is None and time.monotonic() < unnamed_until:
                        # the holder is writing its row (it locks first) or releasing (its
                        # row goes first): look again rather than refuse anonymously
                        time.sleep(HOLDER_POLL)
                        continue
                    raise self._locked_error(conn)
                conn.execute(_LOCK_ROW, {"ws": self.workspace, **vars_of(info)})
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def lock(self, operation: str) -> Iterator[LockInfo]:
        info = LockInfo.mine(operation)
        conn = self._acquire(info)
        self._held = (info, conn.info.backend_pid)
        try:
            yield info
        finally:
            self._held = None
            self._release(conn, info)

    def _release(self, conn: psycopg.Connection[Any], info: LockInfo) -> None:
        try:
            conn.execute(
                "DELETE FROM reconciler_locks WHERE workspace = %s AND id = %s",
                (self.workspace, info.id),
            )
            conn.execute("SELECT pg_advisory_unlock(%s)", (advisory_key(self.workspace),))
        except psycopg.Error:
            pass  # the session is gone (force-unlocked, server restart): so is the lock
        finally:
            conn.close()

    def force_unlock(self, lock_id: str) -> LockInfo:
        with self._connection() as conn:
            found = self._holder(conn)
            if found is None:
                raise StateError(f"state {self.describe()} is not locked")
            holder, backend_pid = found
            if holder.id != lock_id:
                raise StateError(
                    f"lock id {lock_id} does not match the current {holder.describe()}"
                )
            row = conn.execute(
                "SELECT pg_terminate_backend(%s, %s)", (backend_pid, TERMINATE_WAIT_MS)
            ).fetchone()
            if not (row and row[0]):
                raise StateError(f"could not end the session holding {holder.describe()}")
            conn.execute(
                "DELETE FROM reconciler_locks WHERE workspace = %s AND id = %s",
                (self.workspace, lock_id),
            )
        return holder


def _version_name(lineage: str, serial: int, updated: Any) -> str:
    """What names one stored version of a workspace's state: its lineage, serial and the time
    it was written (every write sets it)."""
    text = f"{lineage}/{serial}/{updated.isoformat() if updated is not None else ''}"
    return "postgresql:" + hashlib.sha256(text.encode()).hexdigest()


def _keep_session(conn: psycopg.Connection[Any]) -> None:
    """A run may sit idle on its lock for the length of a cluster create: do not let a server
    default end the session (and so release the lock) under it."""
    if conn.info.server_version >= 140000:
        conn.execute("SET idle_session_timeout TO 0")


def vars_of(info: LockInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "who": info.who,
        "pid": info.pid,
        "operation": info.operation,
        "created": info.created,
    }


def _schema_version(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT to_regclass('reconciler_schema_version') IS NOT NULL").fetchone()
    if not (row and row[0]):
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM reconciler_schema_version").fetchone()
    return int(row[0]) if row else 0


def _too_new(version: int) -> StateError:
    return StateError(
        f"the state database has schema version {version}, newer than this reconciler "
        f"knows ({SCHEMA_VERSION}); upgrade cce-reconciler"
    )


def _migrate(conn: psycopg.Connection[Any]) -> None:
    """Apply the missing migrations, one session at a time."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", MIGRATION_LOCK)
        conn.execute(
            "CREATE TABLE IF NOT EXISTS reconciler_schema_version ("
            "version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())"
        )
        current = _schema_version(conn)
        if current > SCHEMA_VERSION:
            raise _too_new(current)
        for version, statements in MIGRATIONS:
            if version > current:
                for statement in statements:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO reconciler_schema_version (version) VALUES (%s)", (version,)
                )


def _password_of(url: str) -> str | None:
    try:
        from psycopg.conninfo import conninfo_to_dict

        value = conninfo_to_dict(url).get("password")
        return str(value) if value else None
    except Exception:  # noqa: BLE001 - a malformed URL: fall back to plain URL parsing
        try:
            return urlsplit(url).password
        except ValueError:
            return None


def _public_url(url: str) -> str:
    """The URL without its password (or its query, which may carry one)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return redact(url, _password_of(url))
    user = f"{parts.username}@" if parts.username else ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"

"""What this tool manages: the state document, its journal, and the store interface.

The state maps each managed address to its cloud id, ownership (``created`` or ``adopted``),
protection, a fingerprint of the spec last applied, salted hashes of its secrets (never a
secret itself) and whether it is tainted (a cluster that failed to create). See
``reconciler.state.document``.

Writes are journaled: before a mutation is sent an intent record is appended, the cloud id
is appended the moment it is known, and a done record carries the resource's new entry (or
its removal); see ``reconciler.state.journal`` for the typed records and the one fold. A store
folds the journal into the state document at the end of a run, and whenever it is opened, so
a run killed at any point leaves nothing behind that the next run cannot see. Intents that
never reached ``done`` are returned as ``pending`` for recovery (see ``reconciler.recovery``),
which needs the live state to decide what happened.

Every write is fenced: while a store holds its lock (``with store.lock(...)``), each journal
append and each document write first checks that the lock is still this run's and that the
stored serial is the one the run built on (compare-and-set); if not, it raises
:class:`LockLostError` (exit 4) and writes nothing, so a run whose lock was force-unlocked or
whose lock session ended stops before its next mutation, and the next run finishes its journal.

Backends: ``reconciler.state.local`` (a JSON file beside the config) and
``reconciler.state.postgres``; both implement :class:`StateStore`.
"""

from __future__ import annotations

import getpass
import os
import socket
import uuid
from contextlib import AbstractContextManager
from typing import Any, Protocol

from reconciler.errors import LockLostError
from reconciler.records import frozen_record
from reconciler.state.document import (
    ADOPTED,
    CREATED,
    FORMAT_VERSION,
    PendingIntent,
    ResourceState,
    State,
    hash_secret,
    now_text,
    parse_document,
    secret_matches,
)
from reconciler.state.journal import (
    CloudIdRecord,
    DoneRecord,
    IntentRecord,
    JournalHeader,
    JournalRecord,
    fold,
    iter_records,
    parse_record,
)
from reconciler.state.location import StateLocation

__all__ = [
    "ADOPTED",
    "CREATED",
    "FORMAT_VERSION",
    "CloudIdRecord",
    "DoneRecord",
    "IntentRecord",
    "Journal",
    "JournalHeader",
    "JournalRecord",
    "LockInfo",
    "PendingIntent",
    "ResourceState",
    "State",
    "StateLocation",
    "StateStore",
    "fold",
    "hash_secret",
    "iter_records",
    "lock_lost",
    "new_intent_id",
    "now_text",
    "parse_document",
    "parse_record",
    "secret_matches",
    "state_moved",
]


@frozen_record
class LockInfo:
    id: str
    who: str
    pid: int
    operation: str
    created: str

    @classmethod
    def mine(cls, operation: str) -> LockInfo:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = str(os.getuid())
        return cls(
            str(uuid.uuid4()), f"{user}@{socket.gethostname()}", os.getpid(), operation, now_text()
        )

    def describe(self) -> str:
        return f"lock {self.id} held by {self.who} (pid {self.pid}, {self.operation}, since {self.created})"


class Journal(Protocol):
    state: State  # the in-memory state, with every appended record folded in

    def append(self, record: JournalRecord | dict[str, Any]) -> None:
        """Store ``record`` durably, then fold it into ``state``; raises LockLostError (and
        stores nothing) if this run's lock or base serial is no longer current."""


class StateStore(Protocol):
    """A place to keep state. ``read`` folds any journal left by an earlier run; while the
    store holds its lock every write is fenced (see the module docstring)."""

    def describe(self) -> str: ...

    def location(self) -> StateLocation:
        """Where this state lives, as a saved plan records it."""
        ...

    def lock(self, operation: str) -> AbstractContextManager[LockInfo]: ...

    def read(self, known: str | None = None) -> State:
        """The state, its journal folded; ``known``: the digest of a document read and
        validated in full before (``State.read_digest``), which a store may read lazily when
        it stores that very text (``state.stored``)."""
        ...

    def write(self, state: State) -> State: ...

    def journal(self, state: State) -> AbstractContextManager[Journal]: ...

    def force_unlock(self, lock_id: str) -> LockInfo: ...

    def holder(self) -> LockInfo | None: ...


def new_intent_id() -> str:
    return uuid.uuid4().hex[:12]


_NEXT_RUN = "it stopped before its next change; the next run finishes its journal"
# A lock found taken without its holder's name (being written right after the lock is taken,
# or cleared right before it is released) is looked at again every HOLDER_POLL seconds for up
# to HOLDER_WAIT seconds, so that a refusal names the holder (both backends).
HOLDER_WAIT = 2.0
HOLDER_POLL = 0.01


def lock_lost(where: str, mine: LockInfo, now: LockInfo | None) -> LockLostError:
    """This run's lock on ``where`` is gone: released (force-unlock, its session ended) or,
    if ``now`` is given, taken by another run."""
    how = f"taken by {now.describe()}" if now else "released (force-unlock, or its session ended)"
    return LockLostError(
        f"this run no longer holds the state lock of {where} (its lock {mine.id} was {how}); "
        + _NEXT_RUN
    )


def state_moved(where: str, expected: int, found: int | None) -> LockLostError:
    """The stored serial is not the one this run built on: someone wrote the state meanwhile."""
    now = f"serial {found}" if found is not None else "no state at all"
    return LockLostError(
        f"the state {where} changed under this run (it built on serial {expected}; the store "
        f"now holds {now}); " + _NEXT_RUN
    )

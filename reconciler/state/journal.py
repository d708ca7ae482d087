"""The journal's records, typed, and the one fold that turns them into state.

A run journals each mutation before it is sent: an :class:`IntentRecord` (carrying the entry
the resource gets on success), a :class:`CloudIdRecord` the moment a cloud id is known, and a
:class:`DoneRecord` with the outcome (the new entry, or ``None`` for a removal). A stored
journal opens with a :class:`JournalHeader` naming the lineage and serial it builds on.

The JSON form of each record (``to_json``) is the one on disk and in PostgreSQL, unchanged
since the first journals, so journals left by older runs still fold. :func:`fold` is the only
code that applies records to a :class:`State`; both backends replay through
:func:`replay_journal`. A record is read as the document is (``reconciler.state.document``):
given the kinds' names, it refuses an address or entry of any other kind.

Not for: where records are kept, fsync, or locking (the backends).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any, ClassVar

from reconciler.errors import StateError
from reconciler.model import Address
from reconciler.records import frozen_record
from reconciler.state.document import (
    PendingIntent,
    ResourceState,
    State,
    address_of,
    checked,
    entry_of,
    is_count,
    is_name,
    is_text,
)


@frozen_record
class IntentRecord:
    """A mutation is about to be sent; ``entry`` is what the resource gets on success."""

    op: ClassVar[str] = "intent"
    id: str
    address: Address
    action: str
    cloud_id: str | None = None
    entry: ResourceState | None = None
    started: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op, **self.pending().to_json()}

    @classmethod
    def from_json(cls, data: Any, kinds: Sequence[str]) -> IntentRecord:
        p = PendingIntent.from_json(data, kinds)
        return cls(p.id, p.address, p.action, p.cloud_id, p.entry, p.started)

    def pending(self) -> PendingIntent:
        return PendingIntent(
            self.id, self.address, self.action, self.cloud_id, self.entry, self.started
        )

    def fold_into(self, state: State) -> None:
        state.pending[self.id] = self.pending()


@frozen_record
class CloudIdRecord:
    """The cloud id of the object intent ``id`` is creating, known before the create ends."""

    op: ClassVar[str] = "cloud_id"
    id: str
    cloud_id: str

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op, "id": self.id, "cloud_id": self.cloud_id}

    @classmethod
    def from_json(cls, data: Any, kinds: Sequence[str]) -> CloudIdRecord:
        return cls(
            checked(data, "id", is_name, "a non-empty string", None),
            checked(data, "cloud_id", is_text, "a string", None),
        )

    def fold_into(self, state: State) -> None:
        intent = state.pending.get(self.id)
        if intent is not None:  # an intent already done (or never journaled) needs no id
            state.pending[self.id] = replace(intent, cloud_id=self.cloud_id)


@frozen_record
class DoneRecord:
    """Intent ``id`` finished: ``address`` now has ``entry``, or leaves state if it is None."""

    op: ClassVar[str] = "done"
    id: str
    address: Address
    entry: ResourceState | None = None
    # the object leaves state but still exists: remember its id (``State.forgotten``)
    forgotten: bool = False

    def to_json(self) -> dict[str, Any]:
        entry = self.entry.to_json() if self.entry else None
        data = {"op": self.op, "id": self.id, "address": str(self.address), "entry": entry}
        return {**data, "forgotten": True} if self.forgotten else data

    @classmethod
    def from_json(cls, data: Any, kinds: Sequence[str]) -> DoneRecord:
        return cls(
            checked(data, "id", is_text, "a string", None),
            address_of(checked(data, "address", is_text, "a string", None), kinds),
            entry_of(
                checked(
                    data,
                    "entry",
                    lambda e: e is None or isinstance(e, dict),
                    "an object or null",
                    None,
                ),
                kinds,
            ),
            checked(data, "forgotten", lambda f: isinstance(f, bool), "true or false", False),
        )

    def fold_into(self, state: State) -> None:
        state.pending.pop(self.id, None)
        if self.entry is None:
            old = state.resources.pop(self.address, None)
            if self.forgotten and old is not None:
                state.forgotten[self.address] = old.cloud_id
        else:
            state.resources[self.address] = self.entry
            state.forgotten.pop(self.address, None)


JournalRecord = IntentRecord | CloudIdRecord | DoneRecord
RECORD_TYPES: dict[str, type[JournalRecord]] = {
    t.op: t for t in (IntentRecord, CloudIdRecord, DoneRecord)
}


@frozen_record
class JournalHeader:
    """The first record of a stored journal: the state it builds on."""

    op: ClassVar[str] = "header"
    lineage: str
    base_serial: int

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op, "lineage": self.lineage, "base_serial": self.base_serial}

    @classmethod
    def of(cls, state: State) -> JournalHeader:
        return cls(state.lineage, state.serial)

    @classmethod
    def parse(cls, data: Any) -> JournalHeader | None:
        if not isinstance(data, dict) or data.get("op") != cls.op:
            return None
        lineage, serial = data.get("lineage"), data.get("base_serial", -1)
        if not (is_name(lineage) and is_count(serial)):
            return None
        return cls(str(lineage), int(serial))


def record_from_json(data: Any, kinds: Sequence[str]) -> JournalRecord:
    """A record (of one of ``kinds``) from its JSON form; ValueError saying what is wrong if
    it is not one."""
    op = data.get("op") if isinstance(data, dict) else None
    record_type = RECORD_TYPES.get(op) if isinstance(op, str) else None
    if record_type is None:
        raise ValueError(f"op must be one of {', '.join(RECORD_TYPES)}, not {op!r}")
    return record_type.from_json(data, kinds)


def parse_record(data: Any, kinds: Sequence[str]) -> JournalRecord | None:
    """A record from its JSON form, or None if ``data`` is not one (a header, damage)."""
    try:
        return record_from_json(data, kinds)
    except ValueError:
        return None


def as_record(record: JournalRecord | dict[str, Any], kinds: Sequence[str]) -> JournalRecord:
    """What ``Journal.append`` accepts: a typed record, or (for now) its JSON form."""
    if not isinstance(record, dict):
        return record
    try:
        return record_from_json(record, kinds)
    except ValueError as exc:
        raise StateError(f"not a journal record: {exc}") from None


def fold(state: State, records: Iterable[JournalRecord]) -> State:
    """Apply ``records`` to ``state`` in order, in place, and return it. Idempotent: folding a
    journal twice gives the state folding it once gives. In place, because a running journal's
    state is shared with the executor."""
    for record in records:
        record.fold_into(state)
    return state


def replay_journal(state: State, stored: Sequence[Any], where: str, kinds: Sequence[str]) -> bool:
    """Fold a stored journal (its JSON records, header first) into ``state`` if it builds on
    this very state; return whether it did. A journal of another lineage, or one already folded
    into a newer serial, is ignored."""
    header = JournalHeader.parse(stored[0]) if stored else None
    if header is None or header != JournalHeader.of(state):
        return False
    records = []
    for number, data in enumerate(stored[1:], start=1):
        try:
            records.append(record_from_json(data, kinds))
        except ValueError as exc:
            raise StateError(f"{where}: journal record {number} is not valid: {exc}") from None
    fold(state, records)
    return True


def orphan_state(stored: Sequence[Any]) -> State | None:
    """A first run killed before its first state write left only a journal: its lineage."""
    header = JournalHeader.parse(stored[0]) if stored else None
    return State(lineage=header.lineage) if header and header.base_serial == 0 else None


def iter_records(lines: Iterable[str]) -> Iterator[Any]:
    """Journal lines as JSON values; a torn last line (a kill mid-append) is skipped."""
    for line in lines:
        try:
            yield json.loads(line)
        except (ValueError, RecursionError):
            continue


def dumps(record: JournalRecord | JournalHeader) -> str:
    """One journal line (the format of the first journals: sorted keys, no indent)."""
    return json.dumps(record.to_json(), sort_keys=True)

"""Typed journal records: today's on-disk JSON exactly, one fold, and both backends taking
typed records (and, until apply.py switches, the old dicts) in ``Journal.append``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import StateError
from reconciler.kinds import names as kind_names
from reconciler.model import Address
from reconciler.state import (
    CloudIdRecord,
    DoneRecord,
    IntentRecord,
    JournalRecord,
    PendingIntent,
    ResourceState,
    State,
    StateStore,
    fold,
    parse_record,
)
from reconciler.state.local import LocalStateStore

BOB = Address("user", "bob")
ENTRY = ResourceState("user", "bob", protect=True, fingerprint="f", applied={"a": [1, None]})


def intent(intent_id: str = "i1", **changes: Any) -> IntentRecord:
    fields: dict[str, Any] = {
        "id": intent_id,
        "address": BOB,
        "action": "create",
        "cloud_id": None,
        "entry": ENTRY,
        "started": "2024-01-01T00:00:00Z",
    }
    return IntentRecord(**{**fields, **changes})


# What reconciler/apply.py has always written, byte for byte once dumped with sorted keys.
OLD_FORMAT: list[dict[str, Any]] = [
    {
        "op": "intent",
        "id": "i1",
        "address": "user.bob",
        "action": "create",
        "cloud_id": None,
        "entry": ENTRY.to_json(),
        "started": "2024-01-01T00:00:00Z",
    },
    {"op": "cloud_id", "id": "i1", "cloud_id": "bob"},
    {"op": "done", "id": "i1", "address": "user.bob", "entry": ENTRY.to_json()},
    {"op": "done", "id": "i2", "address": "user.gone", "entry": None},
]
TYPED: list[JournalRecord] = [
    intent(),
    CloudIdRecord("i1", "bob"),
    DoneRecord("i1", BOB, ENTRY),
    DoneRecord("i2", Address("user", "gone"), None),
]


def test_records_keep_the_old_json_format_both_ways() -> None:
    assert [r.to_json() for r in TYPED] == OLD_FORMAT
    assert [parse_record(d, kind_names()) for d in OLD_FORMAT] == TYPED


def test_an_old_intent_without_optional_fields_still_parses() -> None:
    record = parse_record(
        {"op": "intent", "id": "i9", "address": "user.x", "action": "delete"}, kind_names()
    )
    assert record == IntentRecord("i9", Address("user", "x"), "delete")


@pytest.mark.parametrize(
    "data",
    [
        {"op": "header", "lineage": "l", "base_serial": 0},
        {"op": "rename", "id": "i1"},
        {"op": "done", "id": "i1", "address": "bucket.x", "entry": None},
        {"op": "done", "id": "i1", "address": "user.x", "entry": {"kind": "user"}},
        {"op": "intent", "id": "i1", "address": "user.x", "action": "explode"},
        {"op": "cloud_id", "id": "i1", "cloud_id": 7},
        {"id": "i1"},
        ["op", "done"],
        None,
    ],
)
def test_anything_else_is_not_a_record(data: Any) -> None:
    assert parse_record(data, kind_names()) is None


def test_fold_is_one_function_and_idempotent() -> None:
    state = State(lineage="l")
    state.resources[Address("user", "gone")] = ResourceState("user", "gone")
    fold(state, TYPED[:2])
    assert state.pending == {
        "i1": PendingIntent("i1", BOB, "create", "bob", ENTRY, "2024-01-01T00:00:00Z")
    }
    once = fold(state, TYPED[2:])
    assert once is state  # in place: the executor shares the journal's state
    assert (state.pending, state.resources) == ({}, {BOB: ENTRY})
    again = fold(state.copy(), TYPED)
    assert (again.pending, again.resources) == (state.pending, state.resources)


def test_a_cloud_id_for_an_intent_already_done_changes_nothing() -> None:
    state = fold(State(lineage="l"), [CloudIdRecord("nope", "x")])
    assert state.pending == {} and state.resources == {}


def test_both_backends_take_typed_records_and_dicts(store: StateStore) -> None:
    state = store.read()
    with store.journal(state) as journal:
        journal.append(intent())
        journal.append(OLD_FORMAT[1])
        assert journal.state.pending["i1"].cloud_id == "bob"
        journal.append(DoneRecord("i1", BOB, ENTRY))
        journal.append(intent("i3", address=Address("user", "carol"), entry=None))
    after = store.read()
    assert after.resources == {BOB: ENTRY}
    assert list(after.pending) == ["i3"]


def test_a_dict_that_is_no_record_is_refused_before_anything_is_stored(
    store: StateStore,
) -> None:
    state = store.read()
    with store.journal(state) as journal:
        with pytest.raises(StateError, match="not a journal record"):
            journal.append({"op": "done", "id": "i1", "address": "nowhere"})
    assert store.read().resources == {}


def test_the_journal_file_holds_the_old_line_format(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path / "state.json", kinds=kind_names())
    state = store.read()
    with store.journal(state) as journal:
        for record in TYPED[:2]:
            journal.append(record)
        lines = store.journal_path.read_text().splitlines()
        assert lines[1:] == [json.dumps(d, sort_keys=True) for d in OLD_FORMAT[:2]]
        header = json.loads(lines[0])
        assert header == {"op": "header", "lineage": state.lineage, "base_serial": 0}


def test_a_journal_written_by_an_older_run_is_folded(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path / "state.json", kinds=kind_names())
    base = store.write(State(lineage="old-run"))
    header = {"op": "header", "lineage": "old-run", "base_serial": base.serial}
    lines = [json.dumps(r) for r in (header, *OLD_FORMAT[:2])]
    store.journal_path.write_text("\n".join(lines) + '\n{"op": "done", "id": "i1", "addr')
    state = store.read()  # the torn last line (a kill mid-append) is skipped
    assert state.folded_journal
    assert state.pending["i1"].cloud_id == "bob" and state.resources == {}


def test_a_damaged_record_in_a_journal_is_a_state_error_naming_it(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path / "state.json", kinds=kind_names())
    base = store.write(State(lineage="old-run"))
    header = {"op": "header", "lineage": "old-run", "base_serial": base.serial}
    damaged = {"op": "done", "id": "i1", "address": "user.x", "entry": {"kind": "bucket"}}
    store.journal_path.write_text(f"{json.dumps(header)}\n{json.dumps(damaged)}\n{{}}\n")
    with pytest.raises(StateError, match=r"state\.json\.journal: journal record 1 is not valid"):
        store.read()

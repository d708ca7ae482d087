"""The shortcuts taken for speed give the same answers as the slow paths they skip.

- the compiled schema check is sound: whenever it says "valid", jsonschema finds no error
  (over the invalid-config corpus, the examples, and random damage to a valid document);
- the fingerprint with a shared encoder equals ``json.dumps(..., sort_keys=True)``'s;
- pausing the garbage collector nests, and restores the collector as it found it;
- the journal's group commit still puts every record in the file and the state, in order;
- a YAML file without an alias is built without counting aliases into the same document, and
  a plain scalar's remembered tag is PyYAML's;
- the state's and the saved plan's JSON text (``jsontext``) is the JSON value ``json.dumps``
  writes, keys in order when unsorted;
- a state entry read in one test per field is the entry the field-by-field checks read, and
  whatever those refuse the quick test sends to them; so is a listed image.
"""

from __future__ import annotations

import copy
import gc
import hashlib
import json
import threading
import weakref
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from yaml.nodes import MappingNode

from reconciler import config, jsontext
from reconciler.client import v1
from reconciler.config import yamlfull, yamlload
from reconciler.config.yamlload import LoadError, read_document
from reconciler.errors import ShapeError
from reconciler.gcpause import FREEZE_FROM, paused_gc, settle
from reconciler.kinds import names as kind_names
from reconciler.plan import fingerprint
from reconciler.state import ResourceState, State
from reconciler.state.local import FileJournal

REPO = Path(__file__).resolve().parents[2]
YAML_FILES = sorted(
    [*(REPO / "tests" / "config" / "corpus").rglob("*.yaml"), *(REPO / "examples").rglob("*.yaml")]
)
VALID: dict[str, Any] = {
    "target": {"endpoint": "http://127.0.0.1:1"},
    "users": [{"username": "benchuser", "password": {"env": "PW"}}],
    "namespaces": [{"name": "team-a", "public": False, "lifecycle": {"protect": True}}],
    "repositories": [
        {"namespace": "team-a", "name": "api", "tags": ["latest", "v1"], "description": "x"}
    ],
    "clusters": [
        {
            "name": "prod",
            "version": "1.20.8",
            "mainAvailableZone": "zoneA",
            "containerNet": "172.16.0.0/16",
            "workers": {
                "count": 3,
                "instanceType": "10",
                "cpu": 4,
                "memory": 8,
                "imageId": "m-1",
                "subnetUuid": "sbn-1",
                "securityGroupId": "g-1",
            },
        }
    ],
}


def schema_valid(data: Any) -> bool:
    return not list(config._validator().iter_errors(data))


def test_the_schemas_use_only_keywords_the_fast_check_knows() -> None:
    assert config._fast_check() is not None


def test_a_valid_document_passes_the_fast_check() -> None:
    check = config._fast_check()
    assert check is not None and check(VALID) and schema_valid(VALID)


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_the_fast_check_never_passes_what_jsonschema_rejects(path: Path) -> None:
    try:
        data = read_document(str(path)).data
    except LoadError:
        return
    check = config._fast_check()
    assert check is not None
    if check(data):
        assert schema_valid(data)


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 20),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.sampled_from(["", "x", "10", "BCC", "zoneA", "v1", "Team A", "a" * 70, "1.2", "prepay"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths_of(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths_of(item, (*prefix, index))
    return found


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_damaged_documents_are_never_waved_through(data: st.DataObject) -> None:
    document = copy.deepcopy(VALID)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths_of(document)[1:]))
        parent = document
        for part in path[:-1]:
            parent = parent[part]
        action = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[data.draw(st.text(max_size=6))] = data.draw(VALUES)
        elif action == "add":
            parent.append(data.draw(VALUES))
        else:
            parent[path[-1]] = data.draw(VALUES)
    check = config._fast_check()
    assert check is not None
    if check(document):
        assert schema_valid(document)


@given(VALUES)
def test_the_fingerprint_is_canonical_json(value: Any) -> None:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    assert fingerprint(value) == hashlib.sha256(text.encode()).hexdigest()[:16]


def test_gc_pauses_nest_and_restore_the_collector() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()


class Node:
    """An object that can be part of a reference cycle and be watched with a weak reference."""

    def __init__(self) -> None:
        self.other: Node | None = None


def test_a_large_pause_freezes_its_objects_and_settle_collects_its_cycles() -> None:
    """What a long pause built is frozen, so the collection after it does not walk it; a cycle
    that became garbage in the pause is kept until ``settle`` (watch, between turns)."""
    gc.collect()
    with paused_gc():
        kept = [[index] for index in range(FREEZE_FROM)]  # many objects, as a phase builds
        first, second = Node(), Node()
        first.other, second.other = second, first
        watched = weakref.ref(first)
        del first, second
    assert gc.get_freeze_count() >= len(kept)
    gc.collect()
    assert watched() is not None  # frozen: the collector does not see it
    settle()
    assert gc.get_freeze_count() == 0
    assert watched() is None


def test_gc_is_restored_when_the_paused_work_fails() -> None:
    with pytest.raises(ValueError), paused_gc():
        raise ValueError("boom")
    assert gc.isenabled()


def test_group_commit_keeps_every_record_in_order(tmp_path: Path) -> None:
    path = tmp_path / "state.json.journal"
    state = State()
    journal = FileJournal(path, state, kind_names())

    def work(worker: int) -> None:
        for index in range(50):
            address = f"user.u{worker}x{index}"
            entry = {"kind": "user", "cloud_id": address}
            journal.append({"op": "done", "id": address, "address": address, "entry": entry})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    journal.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["op"] == "header"
    written = [line["address"] for line in lines[1:]]
    assert len(written) == 400 == len(set(written))
    assert [str(address) for address in state.resources] == written


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(JSON, st.integers(0, 4))
def test_the_fast_json_text_is_the_same_json_value(value: Any, levels: int) -> None:
    assert json.loads(jsontext.dumps(value, levels)) == value
    unsorted = json.loads(jsontext.dumps(value, levels, sort_keys=False))
    assert json.dumps(unsorted) == json.dumps(value)  # the same keys in the same order


ENTRY = {
    "kind": "repository",
    "cloud_id": "team-a/api",
    "ownership": "adopted",
    "protect": True,
    "fingerprint": "ab12",
    "secret_hashes": {"password": "pbkdf2_sha256$1$s$00"},
    "tainted": False,
    "applied": {"name": "api", "tags": ["v1"]},
}
ODD_VALUES = st.sampled_from(
    [None, 0, 1, True, False, "", "x", "user", "created", [], {}, {"a": 1}, {"a": "b"}, 1.5]
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(ENTRY)), ODD_VALUES, max_size=3))
def test_a_state_entry_reads_as_the_field_by_field_checks_read_it(damage: dict[str, Any]) -> None:
    data = {**ENTRY, **damage}
    try:
        expected: ResourceState | str = ResourceState.checked_json(data, kind_names())
    except ValueError as exc:
        expected = str(exc)
    try:
        got: ResourceState | str = ResourceState.from_json(data, kind_names())
    except ValueError as exc:
        got = str(exc)
    assert got == expected
    assert ResourceState.from_json(ENTRY, kind_names()).to_json() == ENTRY


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_a_file_without_aliases_builds_the_same_document(path: Path) -> None:
    try:
        text = yamlload._read_text(str(path))
        root = yamlfull._compose(str(path), text)
    except LoadError:
        return
    if not isinstance(root, MappingNode):
        return
    counted = yamlfull._Builder(str(path), aliases=True)
    try:
        expected: Any = counted.document(root)
    except LoadError as exc:
        expected = exc.diagnostics
    if yamlfull.ALIAS in text:
        return
    try:
        got: Any = yamlfull._Builder(str(path), aliases=False).document(root)
    except LoadError as exc:
        got = exc.diagnostics
    assert got == expected
    plain = yaml.load(text, Loader=yaml.SafeLoader) if not isinstance(expected, list) else None
    if plain is not None and not isinstance(expected, list):
        assert json.dumps(expected.data, default=str) == json.dumps(plain, default=str)


IMAGE = {
    "namespace": "team-a",
    "repository": "api",
    "tags": ["v1", "latest"],
    "description": "d",
    "createTime": "2024-01-01T00:00:00Z",
}
ODD_IMAGE_VALUES = st.sampled_from(
    [None, "", "x", 0, 7, 1.0, 1.5, True, [], ["v1"], ["v1", 2], [None], {}, {"a": "b"}]
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(IMAGE)), ODD_IMAGE_VALUES, max_size=3))
def test_a_listed_image_reads_as_the_field_by_field_readers_read_it(damage: dict[str, Any]) -> None:
    data = {**IMAGE, **damage}
    try:
        expected: Any = v1.checked_image(data)
    except ShapeError as exc:
        expected = exc.message
    try:
        got: Any = v1.image_from(data)
    except ShapeError as exc:
        got = exc.message
    assert got == expected

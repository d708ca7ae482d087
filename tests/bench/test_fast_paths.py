"""The shortcuts taken for speed give the same answers as the slow paths they skip.

- the compiled schema check is sound: whenever it says "valid", jsonschema finds no error
  (over the invalid-config corpus, the examples, and random damage to a valid document);
- the fingerprint with a shared encoder equals ``json.dumps(..., sort_keys=True)``'s;
- pausing the garbage collector nests, and restores the collector as it found it;
- the journal's group commit still puts every record in the file and the state, in order.
"""

from __future__ import annotations

import copy
import gc
import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import config
from reconciler.config.yamlload import LoadError, read_document
from reconciler.gcpause import paused_gc
from reconciler.plan import fingerprint
from reconciler.state import State
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


def test_gc_is_restored_when_the_paused_work_fails() -> None:
    with pytest.raises(ValueError), paused_gc():
        raise ValueError("boom")
    assert gc.isenabled()


def test_group_commit_keeps_every_record_in_order(tmp_path: Path) -> None:
    path = tmp_path / "state.json.journal"
    state = State()
    journal = FileJournal(path, state)

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

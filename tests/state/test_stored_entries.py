"""A state read as the text it was stored as (``state.stored``, for ``apply --plan``): its
entries decoded when asked for, and written back by splicing the unchanged entries' lines.
Whatever a run does to such a state, its written document is the very text a full encode of
the same state gives; the store reads that text lazily only when it is the text a full read
validated (the digest a saved plan records), and a damaged entry is still refused when read."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import jsontext
from reconciler.errors import StateError
from reconciler.kinds import names as kind_names
from reconciler.model import Address
from reconciler.state import ResourceState, State
from reconciler.state.local import LocalStateStore
from reconciler.state.stored import StoredEntries, document_text, read_stored

KINDS = ["user", "namespace", "repository", "cluster"]
names = st.text("ab/-.x_", min_size=1, max_size=4)
applied = st.dictionaries(
    st.text("abé", max_size=3),
    st.none() | st.booleans() | st.integers(-5, 5) | st.text("a\"é\n", max_size=3)
    | st.lists(st.integers(0, 3), max_size=2),
    max_size=3,
)  # fmt: skip
entries = st.builds(
    ResourceState,
    kind=st.sampled_from(KINDS),
    cloud_id=st.text("abc-1", max_size=4),
    protect=st.booleans(),
    fingerprint=st.text("0af", max_size=3),
    applied=applied,
    operation=st.sampled_from(["", "wf-1"]),
)


def full_text(state: State) -> str:
    return jsontext.dumps(state.to_json())


def stored_state(resources: dict[Address, ResourceState]) -> State:
    state = State(lineage="stored", serial=3, target="http://127.0.0.1:1")
    state.resources = dict(resources)
    state.forgotten[Address("user", "gone")] = "gone"
    return state


def with_kind(address: Address, entry: ResourceState) -> ResourceState:
    return entry.evolve(kind=address.kind)


@st.composite
def resource_maps(draw: Any) -> dict[Address, ResourceState]:
    found = draw(
        st.dictionaries(st.builds(Address, st.sampled_from(KINDS), names), entries, max_size=8)
    )
    return {a: with_kind(a, e) for a, e in found.items()}


@settings(max_examples=300, deadline=None)
@given(
    resource_maps(),
    st.lists(
        st.tuples(
            st.sampled_from(["get", "set", "delete"]),
            st.builds(Address, st.sampled_from(KINDS), names),
            entries,
        ),
        max_size=8,
    ),
)
def test_a_spliced_write_is_the_full_encode_of_the_same_state(
    resources: dict[Address, ResourceState], steps: list[tuple[str, Address, ResourceState]]
) -> None:
    expected = stored_state(resources)
    raw = (full_text(expected) + "\n").encode()
    lazy = read_stored(raw, "state.json", kind_names())
    assert isinstance(lazy.resources, StoredEntries) or not resources
    for verb, address, entry in steps:
        if verb == "get":
            assert lazy.resources.get(address) == expected.resources.get(address)
        elif verb == "set":
            lazy.resources[address] = expected.resources[address] = with_kind(address, entry)
        else:
            assert lazy.resources.pop(address, None) == expected.resources.pop(address, None)
    copied = lazy.copy()  # a run writes a copy (recovery's, the store's next serial)
    assert document_text(copied) == full_text(expected)
    assert dict(copied.resources) == expected.resources
    assert len(copied.resources) == len(expected.resources)


def test_a_document_this_tool_wrote_is_read_lazily_and_in_full_alike() -> None:
    state = stored_state(
        {
            Address("user", "bob"): ResourceState("user", "bob", applied={"n": 1}),
            Address("repository", "team/api"): ResourceState(
                "repository", "team/api", protect=True, applied={"tags": ["v1"]}
            ),
        }
    )
    raw = (full_text(state) + "\n").encode()
    lazy = read_stored(raw, "state.json", kind_names())
    assert isinstance(lazy.resources, StoredEntries)
    assert (lazy.lineage, lazy.serial, lazy.target, lazy.forgotten) == (
        state.lineage,
        state.serial,
        state.target,
        state.forgotten,
    )
    assert dict(lazy.resources) == state.resources


@pytest.mark.parametrize(
    "layout",
    [
        lambda doc: json.dumps(doc, indent=2, sort_keys=True),  # one field per line
        lambda doc: json.dumps(doc, sort_keys=True),  # one line
        lambda doc: jsontext.dumps(doc, sort_keys=False),  # entries out of order
    ],
)
def test_a_document_in_another_layout_is_read_in_full(layout: Any) -> None:
    state = stored_state(
        {
            Address("user", "bob"): ResourceState("user", "bob"),
            Address("namespace", "a"): ResourceState("namespace", "a"),
        }
    )
    document = state.to_json()
    document["resources"] = dict(reversed(list(document["resources"].items())))
    read = read_stored(layout(document).encode(), "state.json", kind_names())
    assert isinstance(read.resources, dict)
    assert read.resources == state.resources


@pytest.mark.parametrize("name", ["caf\u00e9", 'say "hi"', "back\\slash"])
def test_a_document_with_an_escaped_address_is_read_in_full(name: str) -> None:
    state = stored_state({Address("namespace", name): ResourceState("namespace", "x")})
    read = read_stored(full_text(state).encode(), "state.json", kind_names())
    assert isinstance(read.resources, dict)
    assert read.resources == state.resources


def test_a_damaged_entry_is_refused_when_it_is_read() -> None:
    state = stored_state({Address("user", "bob"): ResourceState("user", "bob")})
    raw = full_text(state).replace('"protect": false', '"protect": "no"').encode()
    lazy = read_stored(raw, "state.json", kind_names())
    with pytest.raises(StateError, match=r"state.json: state is not valid: resources.user.bob: "):
        lazy.resources[Address("user", "bob")]


@pytest.mark.parametrize("address", ["bucket.bob", "user.", "user"])
def test_an_address_a_full_read_refuses_is_refused_on_reading(address: str) -> None:
    state = stored_state(
        {
            Address("namespace", "a"): ResourceState("namespace", "a"),
            Address("user", "bob"): ResourceState("user", "bob"),
        }
    )
    raw = full_text(state).replace('"user.bob"', f'"{address}"').encode()
    with pytest.raises(StateError, match="not an address|not valid"):
        read_stored(raw, "state.json", kind_names())


def digest(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_store_reads_lazily_only_the_text_a_full_read_validated(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = LocalStateStore(path, kinds=kind_names())
    first = State(lineage="lazy")
    for number in range(5):
        first.resources[Address("namespace", f"ns{number}")] = ResourceState("namespace", "x")
    store.write(first)
    full = store.read()
    assert isinstance(full.resources, dict)
    assert full.read_digest == digest(path)

    lazy = store.read(known=full.read_digest)
    assert isinstance(lazy.resources, StoredEntries)
    lazy.resources[Address("namespace", "ns2")] = ResourceState("namespace", "changed")
    written = store.write(lazy)
    again = store.read()
    assert written.serial == again.serial == 2
    assert again.resources[Address("namespace", "ns2")].cloud_id == "changed"
    assert path.read_text() == full_text(again) + "\n"

    # another text than the one validated (here: the next serial): read in full
    assert isinstance(store.read(known=full.read_digest).resources, dict)


def one_hundred() -> State:
    state = State(lineage="stored-backend", target="http://127.0.0.1:1")
    for number in range(100):
        address = Address("repository", f"ns/r{number:03}")
        state.resources[address] = ResourceState(
            "repository", f"ns/r{number:03}", applied={"description": f"r {number}"}
        )
    return state


@pytest.mark.parametrize("more", [0, 10])  # PostgreSQL sets a few entries one by one
def test_each_backend_writes_what_changed_as_a_full_write_would(
    backend: Any, store: Any, spec: tuple[str, str], more: int
) -> None:
    store.write(one_hundred())
    full = store.read()
    assert full.read_digest is not None

    lazy = store.read(known=full.read_digest)
    assert isinstance(lazy.resources, StoredEntries)
    assert len(lazy.resources) == 100 and Address("repository", "ns/r007") in lazy.resources
    changed = Address("repository", "ns/r007")
    assert lazy.resources[changed] == full.resources[changed]  # fetched and decoded alike
    expected = full.copy()
    with store.lock("apply"), store.journal(lazy) as journal:  # as apply writes
        for state in (journal.state, expected):
            state.resources[changed] = state.resources[changed].evolve(fingerprint="new")
            del state.resources[Address("repository", "ns/r050")]
            state.resources[Address("namespace", "ns")] = ResourceState("namespace", "ns")
            state.forgotten[Address("user", "gone")] = "gone"
            for number in range(more):
                address = Address("repository", f"ns/r{60 + number:03}")
                state.resources[address] = state.resources[address].evolve(protect=True)

    again = store.read()
    assert again.serial == 2
    assert again.resources == expected.resources
    assert again.forgotten == expected.forgotten
    expected.serial = 2
    if backend.name == "local":
        assert Path(spec[0]).read_text() == full_text(expected) + "\n"
    else:
        import psycopg
        from psycopg.types.json import Jsonb

        with psycopg.connect(spec[0]) as conn:
            query = "SELECT document = %s FROM reconciler_states WHERE workspace = %s"
            row = conn.execute(query, (Jsonb(expected.to_json()), spec[1])).fetchone()
        assert row == (True,)  # the very document a full write stores

    # another version than the one validated: read in full
    assert isinstance(store.read(known=full.read_digest).resources, dict)


def test_a_run_that_walks_every_entry_reads_them_alike(store: Any) -> None:
    store.write(one_hundred())
    full = store.read()
    lazy = store.read(known=full.read_digest)
    assert isinstance(lazy.resources, StoredEntries)
    # one by one at first, then (PostgreSQL) every entry in one read
    assert {a: e.cloud_id for a, e in lazy.resources.items()} == {
        a: e.cloud_id for a, e in full.resources.items()
    }
    assert dict(lazy.copy().resources) == full.resources

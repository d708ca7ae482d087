"""A state document this tool wrote is read in one pass over its entries
(``document._well_formed_state``); anything else goes through the field-by-field checks, which
name what is wrong. The one pass may only ever take a document those checks accept, and must
then give the same state: a damaged document keeps its message whatever the fast path does."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import StateError
from reconciler.kinds import names as kind_names
from reconciler.model import Address
from reconciler.state import ResourceState, State
from reconciler.state.document import (
    MAX_DEPTH,
    _well_formed_entry,
    _well_formed_state,
    check_depth,
    parse_document,
)


def written() -> dict[str, Any]:
    """A document as this tool writes it: every kind of field, a nested ``applied``."""
    state = State(lineage="one-pass", serial=7, target="http://127.0.0.1:1")
    state.resources[Address("user", "bob")] = ResourceState(
        "user", "bob", secret_hashes={"password": "pbkdf2_sha256$1$salt$00"}, applied={}
    )
    state.resources[Address("repository", "team/api")] = ResourceState(
        "repository",
        "team/api",
        protect=True,
        fingerprint="ab",
        applied={"namespace": "team", "name": "api", "tags": ["v1"], "description": ""},
    )
    state.resources[Address("cluster", "prod")] = ResourceState(
        "cluster",
        "c-1",
        ownership="adopted",
        tainted=True,
        applied={"name": "prod", "workers": {"count": 2, "labels": {"a": ["b", {"c": 1}]}}},
        operation="wf-1",
    )
    state.forgotten[Address("user", "alice")] = "alice"
    return json.loads(json.dumps(state.to_json()))


def checked(document: Any) -> State | str:
    """What the field-by-field checks make of ``document``: the state, or the message."""
    try:
        check_depth(document)
        return State._from_checked(document, kind_names())
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        return str(exc)


def deep(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = {"x": value}
    return value


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2)
    ),
    max_leaves=4,
)
PLACES = [
    (),
    ("resources",),
    ("resources", "user.bob"),
    ("resources", "repository.team/api"),
    ("resources", "repository.team/api", "applied"),
    ("resources", "cluster.prod", "applied", "workers"),
    ("forgotten",),
]
KEYS = [
    "format_version", "lineage", "serial", "resources", "pending", "forgotten", "target",
    "kind", "cloud_id", "ownership", "protect", "fingerprint", "secret_hashes", "tainted",
    "applied", "operation", "password", "user.x", "bucket.b", "extra",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(PLACES), st.sampled_from(KEYS), json_values | st.just(deep(70)))
def test_the_one_pass_takes_only_what_the_checks_take_and_reads_it_alike(
    place: tuple[str, ...], key: str, value: Any
) -> None:
    document = written()
    target = document
    for part in place:
        target = target[part]
    target[key] = value
    fast = _well_formed_state(copy.deepcopy(document), kind_names())
    if fast is not None:
        assert checked(document) == fast


def test_a_written_document_is_read_in_one_pass_as_the_checks_read_it() -> None:
    document = written()
    fast = _well_formed_state(document, kind_names())
    assert fast is not None and fast == checked(document)
    for address, entry in fast.resources.items():
        assert vars(entry) == vars(
            ResourceState.checked_json(document["resources"][str(address)], kind_names())
        )


@pytest.mark.parametrize(
    ("where", "levels", "taken"),
    [("applied", 8, True), ("applied", 9, False), ("applied", MAX_DEPTH - 4, False)],
)
def test_an_applied_nested_past_the_one_pass_goes_through_the_checks(
    where: str, levels: int, taken: bool
) -> None:
    document = written()
    document["resources"]["user.bob"][where] = {"k": deep(levels - 1)}
    assert (_well_formed_state(document, kind_names()) is not None) is taken
    state = parse_document(
        json.dumps(document), "state.json", kind_names()
    )  # within MAX_DEPTH: fine
    assert state.resources[Address("user", "bob")].applied == {"k": deep(levels - 1)}


def test_one_level_too_deep_is_refused_with_the_checks_message() -> None:
    document = written()
    document["resources"]["user.bob"]["applied"] = {"k": deep(MAX_DEPTH)}
    with pytest.raises(StateError, match="nested deeper than 64 levels"):
        parse_document(json.dumps(document), "state.json", kind_names())


def test_an_entry_read_alone_is_the_entry_its_fields_make() -> None:
    data = written()["resources"]["cluster.prod"]
    entry = _well_formed_entry(data, kind_names())
    assert entry is not None and vars(entry) == vars(ResourceState.checked_json(data, kind_names()))
    assert list(vars(entry)) == list(
        vars(ResourceState.checked_json(data, kind_names()))
    )  # shared keys
    assert entry.applied is not data["applied"]  # a copy, as the checks make

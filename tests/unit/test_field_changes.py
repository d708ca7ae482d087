"""A plan names changed fields without deepdiff for mappings, scalars and lists of scalars,
and must name exactly the paths deepdiff names (``ignore_order=True``, a change inside a list
named by the list); anything else is left to deepdiff."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.diff import deepdiff_change_paths, field_changes, plain_change_paths, project

SCALARS = st.one_of(
    st.sampled_from(["", "a", "b", "payment API", "1"]),
    st.integers(-2, 2),
    st.sampled_from([0.0, 1.0, 2.5, float("nan")]),
    st.booleans(),
    st.none(),
)
KEYS = st.sampled_from(["name", "tags", "count", "workers", "labels"])
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(KEYS, inner, max_size=4),
    ),
    max_leaves=12,
)
MAPPINGS = st.dictionaries(KEYS, VALUES, max_size=5)


def similar(mapping: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A mapping that differs from ``mapping`` in a few places (most generated pairs of
    independent mappings differ everywhere)."""
    return st.fixed_dictionaries({k: st.one_of(st.just(v), VALUES) for k, v in mapping.items()})


def planned(declared: dict[str, Any]) -> st.SearchStrategy[tuple[dict[str, Any], dict[str, Any]]]:
    """(the live value projected onto the declared keys, the declared value): what the planner
    compares."""
    return similar(declared).map(lambda live: (project(declared, live, {}), declared))


def same_paths(before: dict[str, Any], after: dict[str, Any]) -> None:
    plain = plain_change_paths(before, after)
    if plain is not None:
        assert set(map(str, plain)) == set(map(str, deepdiff_change_paths(before, after)))


@settings(max_examples=400)
@given(MAPPINGS, MAPPINGS)
def test_independent_mappings_get_deepdiffs_paths(before: Any, after: Any) -> None:
    same_paths(before, after)


@settings(max_examples=400)
@given(MAPPINGS.flatmap(lambda m: st.tuples(st.just(m), similar(m))))
def test_similar_mappings_get_deepdiffs_paths(pair: tuple[Any, Any]) -> None:
    same_paths(*pair)


@settings(max_examples=600)
@given(MAPPINGS.flatmap(planned))
def test_what_the_planner_compares_gets_deepdiffs_paths(pair: tuple[Any, Any]) -> None:
    same_paths(*pair)


def test_the_usual_changes_are_named_without_deepdiff() -> None:
    before = {"description": "payment API", "tags": ["v1", "latest"], "workers": {"count": 2}}
    after = {"description": "payments API", "tags": ["latest", "v2"], "workers": {"count": 3}}
    assert plain_change_paths(before, after) == [["description"], ["tags"], ["workers", "count"]]
    reordered = {**before, "tags": ["latest", "v1"]}
    assert plain_change_paths(before, reordered) == []
    assert [(c.path, c.before, c.after) for c in field_changes(after, before)] == [
        ("description", "payment API", "payments API"),
        ("tags", ["v1", "latest"], ["latest", "v2"]),
        ("workers.count", 2, 3),
    ]


def test_a_list_of_mappings_is_left_to_deepdiff() -> None:
    before = {"taints": [{"key": "a", "value": "1"}]}
    after = {"taints": [{"key": "a", "value": "2"}]}
    assert plain_change_paths(before, after) is None
    assert [c.path for c in field_changes(after, before)] == ["taints.0.value"]  # paired


def test_a_plain_change_does_not_import_deepdiff() -> None:
    code = (
        "import sys\n"
        "from reconciler.diff import field_changes\n"
        "print([c.path for c in field_changes({'a': 1, 'b': [1, 2]}, {'a': 2, 'b': [2]})])\n"
        "print('deepdiff' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["['a', 'b']", "False"]

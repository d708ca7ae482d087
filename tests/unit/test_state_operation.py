"""A state entry keeps the long operation (a node-upgrade workflow id) an interrupted update
journaled, through the document's fast reader as through its checked one."""

from __future__ import annotations

from reconciler.kinds import names as kind_names
from reconciler.state.document import ResourceState


def test_an_entry_with_an_operation_reads_back_with_it() -> None:
    entry = ResourceState("instance_group", "cce-ig-1", operation="wf-123")
    data = entry.to_json()
    assert data["operation"] == "wf-123"
    assert ResourceState.from_json(data, kind_names()) == entry


def test_an_entry_without_an_operation_writes_none() -> None:
    entry = ResourceState("instance_group", "cce-ig-1")
    assert "operation" not in entry.to_json()
    assert ResourceState.from_json(entry.to_json(), kind_names()) == entry


def test_a_mistyped_operation_is_named() -> None:
    data = {**ResourceState("instance_group", "cce-ig-1").to_json(), "operation": 5}
    try:
        ResourceState.from_json(data, kind_names())
    except ValueError as exc:
        assert "operation" in str(exc)
    else:
        raise AssertionError("a mistyped operation was accepted")

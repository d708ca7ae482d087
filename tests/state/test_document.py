"""A state document is checked when it is read: a damaged or hostile one is a StateError that
names the store and says what is wrong (exit 1, ``error: ...``), never an internal error."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from reconciler.cli import main
from reconciler.errors import StateError
from reconciler.kinds import names as kind_names
from reconciler.model import Address
from reconciler.state import ResourceState, State
from reconciler.state.local import LocalStateStore
from reconciler.state.postgres import PostgresStateStore


def valid() -> dict[str, Any]:
    state = State(lineage="doc-test", serial=3)
    state.resources[Address("user", "bob")] = ResourceState("user", "bob")
    return state.to_json()


def damaged(key: str, value: Any) -> dict[str, Any]:
    """The valid document with ``key`` set to ``value`` (or removed, for ``DEL``)."""
    document = valid()
    if value is DEL:
        del document[key]
    else:
        document[key] = value
    return document


def deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels):
        value = {"x": value}
    return value


DEL = object()
BAD = {
    "serial -5": (damaged("serial", -5), "serial must be a non-negative integer, not -5"),
    "serial 1.5": (damaged("serial", 1.5), "serial must be a non-negative integer, not 1.5"),
    "serial true": (damaged("serial", True), "serial must be a non-negative integer, not true"),
    "serial null": (damaged("serial", None), "serial must be a non-negative integer, not null"),
    "serial text": (damaged("serial", "3"), 'serial must be a non-negative integer, not "3"'),
    "no serial": (damaged("serial", DEL), "serial must be a non-negative integer, not null"),
    "lineage empty": (damaged("lineage", ""), 'lineage must be a non-empty string, not ""'),
    "lineage number": (damaged("lineage", 7), "lineage must be a non-empty string, not 7"),
    "format 2": (damaged("format_version", 2), "format_version must be 1, not 2"),
    "resources list": (damaged("resources", []), "resources must be an object, not []"),
    "unknown kind": (
        damaged("resources", {"bucket.b": {"kind": "bucket", "cloud_id": "b"}}),
        "'bucket.b' is not an address",
    ),
    "entry of unknown kind": (
        damaged("resources", {"user.b": {"kind": "bucket", "cloud_id": "b"}}),
        "resources.user.b: kind must be one of user, namespace, repository, cluster",
    ),
    "entry of another kind": (
        damaged("resources", {"user.b": {"kind": "cluster", "cloud_id": "b"}}),
        "resources.user.b: kind cluster is not user",
    ),
    "cloud id null": (
        damaged("resources", {"user.b": {"kind": "user", "cloud_id": None}}),
        "resources.user.b: cloud_id must be a string, not null",
    ),
    "protect text": (
        damaged("resources", {"user.b": {"kind": "user", "cloud_id": "b", "protect": "no"}}),
        'protect must be true or false, not "no"',
    ),
    "pending junk": (damaged("pending", [{"id": "p"}]), "pending[0]: address must be a string"),
    "not an object": ([1, 2], "expected an object, not [1, 2]"),
    "deep applied": (
        damaged("resources", {"user.b": {"kind": "user", "cloud_id": "b", "applied": deep(100)}}),
        "nested deeper than 64 levels",
    ),
}


@pytest.mark.parametrize("name", list(BAD))
def test_a_damaged_local_document_names_the_file_and_the_fault(tmp_path: Path, name: str) -> None:
    document, expected = BAD[name]
    path = tmp_path / "state.json"
    path.write_text(json.dumps(document))
    with pytest.raises(StateError) as caught:
        LocalStateStore(path, kinds=kind_names()).read()
    message = str(caught.value)
    assert message.startswith(f"{path}: state is not valid")
    assert expected in message


@pytest.mark.parametrize(
    "raw",
    [b"[" * 200_000, b'{"a":' * 200_000, b"\xff\xfe garbage", b"", b"null", b'"text"'],
    ids=["200k-brackets", "200k-objects", "not-utf8", "empty", "null", "string"],
)
def test_hostile_bytes_are_a_state_error(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(raw)
    with pytest.raises(StateError, match=f"^{path}: state is not valid"):
        LocalStateStore(path, kinds=kind_names()).read()


def test_the_valid_document_reads(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(valid()))
    state = LocalStateStore(path, kinds=kind_names()).read()
    assert (state.lineage, state.serial, len(state.resources)) == ("doc-test", 3, 1)


@pytest.mark.parametrize("name", ["serial -5", "unknown kind", "200k-brackets"])
def test_the_cli_says_error_not_internal_error(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "state.json"
    if name == "200k-brackets":
        path.write_bytes(b"[" * 200_000)
    else:
        path.write_text(json.dumps(BAD[name][0]))
    with pytest.raises(SystemExit) as caught:
        main(["state", "list", "--state", str(path)])
    err = capsys.readouterr().err
    assert caught.value.code == 1
    assert err.startswith(f"error: {path}: state is not valid") and "internal" not in err


DEEP_TEXT = json.dumps(valid()).replace(
    '"resources": {', '"resources": {"x": ' + "[" * 5000 + "]" * 5000 + ", ", 1
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (json.dumps(damaged("serial", -5)), "serial must be a non-negative integer, not -5"),
        (DEEP_TEXT, "state is not valid"),
    ],
    ids=["serial -5", "5000 deep"],
)
def test_a_damaged_postgres_document_is_a_state_error(
    database_url: str, text: str, expected: str
) -> None:
    workspace = f"damaged-{uuid.uuid4().hex[:8]}"
    store = PostgresStateStore(database_url, workspace, kinds=kind_names())
    store.read()  # creates the tables
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO reconciler_states (workspace, lineage, serial, document) "
            "VALUES (%s, 'doc-test', 3, %s::jsonb)",
            (workspace, text),
        )
    with pytest.raises(StateError) as caught:
        store.read()
    message = str(caught.value)
    assert message.startswith(store.describe()) and expected in message

"""A service is its declaration: one defined here is served with nothing else changed.

The ``notes`` service below is what a new service folder holds (a table, a model with a
lifecycle, thin handlers, a URL table, a ``Service``), declared in this test module only; the
emulator serves it next to the real ones with authentication, faults, the request log, the
admin state and reset, and refuses two services that serve the same rule.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.emulator import SERVICES, EmulatorOptions, Endpoint, Service, start_emulator
from reconciler.emulator.call import Call, Reply
from reconciler.emulator.errors import ErrorAnswer
from reconciler.emulator.lifecycle import Lifecycle
from reconciler.emulator.params import BCE_JSON
from reconciler.emulator.server import build
from reconciler.emulator.store import Store
from reconciler.emulator.testing import EmulatorHandle

from .helpers import Api

SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    name TEXT PRIMARY KEY, status TEXT NOT NULL, next_status TEXT, due REAL
);
"""
_DUE = "SELECT 1 FROM notes WHERE due <= ?1 LIMIT 1"


def _advance(conn: sqlite3.Connection, now: float) -> None:
    conn.execute(
        "UPDATE notes SET status = next_status, next_status = NULL, due = NULL WHERE due <= ?",
        (now,),
    )


class Notes:
    """A note is ``pending`` for ``cluster_create_seconds``, then ``ready``."""

    def __init__(self, store: Store) -> None:
        self._settings = store.settings
        self._lifecycle = Lifecycle(store, _DUE, _advance)

    def add(self, name: str | None) -> None:
        if not name:
            raise ErrorAnswer("InappropriateJSON", "name is required")
        with self._lifecycle.write() as (conn, now):
            if conn.execute("SELECT 1 FROM notes WHERE name = ?", (name,)).fetchone():
                raise ErrorAnswer("RegistryAlreadyExist")
            due = now + self._settings.current.cluster_create_seconds
            conn.execute("INSERT INTO notes VALUES (?, 'pending', 'ready', ?)", (name, due))

    def all(self) -> list[dict[str, str]]:
        with self._lifecycle.read() as conn:
            rows = conn.execute("SELECT name, status FROM notes ORDER BY name").fetchall()
        return [{"name": row["name"], "status": row["status"]} for row in rows]


def add_note(call: Call[Notes]) -> Reply:
    call.model.add(BCE_JSON.opt_str(call.json(), "name"))
    return None


def list_notes(call: Call[Notes]) -> Reply:
    return {"notes": call.model.all()}


def dump(notes: Notes) -> dict[str, Any]:
    return {"notes": notes.all()}


NOTES: Service[Notes] = Service(
    name="notes",
    prefixes=("/v9",),
    endpoints=(Endpoint("POST", "/note", add_note), Endpoint("GET", "/notes", list_notes)),
    schema=SCHEMA,
    model=Notes,
    dump=dump,
)


@pytest.fixture
def notes_emulator() -> Iterator[EmulatorHandle]:
    options = EmulatorOptions(port=0, db_path=":memory:", cluster_create_seconds=30.0)
    with start_emulator(options, services=(*SERVICES, NOTES)) as running:
        handle = EmulatorHandle(running)
        yield handle
        handle.close()


def test_a_new_service_is_served_like_the_others(notes_emulator: EmulatorHandle) -> None:
    api = Api(notes_emulator)
    assert api.post("/v9/note", {"name": "first"}).status_code == 200
    assert api.ok(api.get("/v9/notes")) == {"notes": [{"name": "first", "status": "pending"}]}
    assert api.post("/v9/note", {"name": "first"}).json()["code"] == "RegistryAlreadyExist"
    assert api.post("/v9/note", {"name": 5}).json()["code"] == "InappropriateJSON"
    assert api.get("/v9/nothing").json()["code"] == "InvalidURI"
    logged = [(e["method"], e["path"], e["mutating"]) for e in notes_emulator.requests_log()]
    assert logged[:2] == [("POST", "/v9/note", True), ("GET", "/v9/notes", False)]

    notes_emulator.advance(30)  # the lifecycle moves with the model clock
    assert notes_emulator.state()["notes"] == [{"name": "first", "status": "ready"}]
    assert api.get("/v1/image/user").json()["code"] == "Cce.warning.UserNotExist"


def test_faults_auth_and_reset_apply_to_a_new_service(notes_emulator: EmulatorHandle) -> None:
    api = Api(notes_emulator)
    notes_emulator.set_faults(fail_next=["ServiceUnavailable"])
    assert api.post("/v9/note", {"name": "a"}).status_code == 503
    assert api.ok(api.get("/v9/notes")) == {"notes": []}
    unsigned = api.session.get(f"{notes_emulator.url}/v9/notes", timeout=10)
    assert unsigned.json()["code"] == "InvalidHTTPAuthHeader"

    assert api.post("/v9/note", {"name": "a"}).status_code == 200
    notes_emulator.reset()
    assert notes_emulator.state()["notes"] == []


def test_two_services_may_not_serve_one_rule() -> None:
    same_rule = Service(
        name="copy",
        prefixes=("/v9",),
        endpoints=(Endpoint("GET", "/notes", list_notes),),
        schema="",
        model=Notes,
        dump=dump,
    )
    with pytest.raises(ValueError, match="copy: GET /v9/notes is already served"):
        build(EmulatorOptions(port=0, db_path=":memory:"), services=(NOTES, same_rule))

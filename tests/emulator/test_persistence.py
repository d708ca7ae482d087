"""State survives a restart on the same database file; :memory: works too."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.emulator import EmulatorOptions, start_emulator
from reconciler.emulator.testing import EmulatorHandle

from .helpers import Api


def options(db_path: str) -> EmulatorOptions:
    return EmulatorOptions(
        port=0, db_path=db_path, cluster_create_seconds=60, cluster_delete_seconds=0
    )


def test_state_survives_a_restart(tmp_path: Path) -> None:
    db_path = str(tmp_path / "nested" / "emulator.db")
    with start_emulator(options(db_path)) as running:
        handle = EmulatorHandle(running)
        api = Api(handle)
        api.create_user()
        api.create_namespace("team-a", public=True)
        api.put_tag("team-a", "api", "v1", "payments")
        uuid = api.create_cluster(workers=2)
        handle.advance(30)
        before = handle.state()
    with start_emulator(options(db_path)) as running:
        handle = EmulatorHandle(running)
        after = handle.state()
        assert {k: v for k, v in after.items() if k != "clock"} == {
            k: v for k, v in before.items() if k != "clock"
        }
        assert after["clock"]["offset"] == 30  # the model clock is kept too
        api = Api(handle)
        assert api.ok(api.get(f"/v1/cluster/{uuid}"))["status"] == "CREATING"
        handle.advance(30)
        assert api.ok(api.get(f"/v1/cluster/{uuid}"))["status"] == "RUNNING"


def test_in_memory_database() -> None:
    with start_emulator(options(":memory:")) as running:
        api = Api(EmulatorHandle(running))
        api.create_user()
        assert api.ok(api.get("/v1/image/user"))["username"] == "ccetest"


def test_port_in_use_is_an_os_error() -> None:
    with start_emulator(options(":memory:")) as running:
        taken = EmulatorOptions(port=running.port, db_path=":memory:")
        with pytest.raises(OSError):
            start_emulator(taken)


def test_stop_is_idempotent_and_frees_the_port() -> None:
    running = start_emulator(options(":memory:"))
    Api(EmulatorHandle(running)).get("/v1/cluster/versions")  # leaves a keep-alive connection
    running.stop()
    running.stop()
    again = start_emulator(EmulatorOptions(port=running.port, db_path=":memory:"))
    again.stop()

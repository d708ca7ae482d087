"""Shared fixtures: one CCE v1 emulator per test session (per xdist worker), reset per test.

``emulator`` yields a :class:`reconciler.emulator.testing.EmulatorHandle`: ``.url``,
``.access_key_id``, ``.secret_access_key``, ``requests_log()``, ``mutating_requests()``,
``state()``, ``set_faults(**kw)``, ``advance(seconds)``, ``reset()``. Cluster lifecycles take
0 seconds here (they happen on the next read); a test that needs a CREATING cluster sets
``cluster_create_seconds`` and moves time with ``advance``, never with sleep.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.emulator import EmulatorOptions, RunningEmulator, start_emulator
from reconciler.emulator.testing import EmulatorHandle


@pytest.fixture(scope="session")
def emulator_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    db_path = tmp_path_factory.mktemp("emulator") / "emulator.db"
    options = EmulatorOptions(
        port=0,
        db_path=str(db_path),
        seed=1,
        cluster_create_seconds=0.0,
        cluster_delete_seconds=0.0,
    )
    with start_emulator(options) as running:
        yield running


@pytest.fixture
def emulator(emulator_server: RunningEmulator) -> Iterator[EmulatorHandle]:
    handle = EmulatorHandle(emulator_server)
    handle.reset()
    yield handle
    handle.close()

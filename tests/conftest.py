"""Shared fixtures: a clean environment for every test, and one CCE v1 emulator per test session
(per xdist worker), reset per test.

Tests own their environment: ``BCE_*`` credentials and ``RECONCILER_*`` settings exported in the
developer's shell are removed before every test (and so from every CLI the test spawns, since
children inherit ``os.environ``), except the knobs of the test harness itself (``HARNESS_VARIABLES``).
A test that needs a variable sets it with ``monkeypatch.setenv``.

``emulator`` yields a :class:`reconciler.emulator.testing.EmulatorHandle`: ``.url``,
``.access_key_id``, ``.secret_access_key``, ``requests_log()``, ``mutating_requests()``,
``state()``, ``set_faults(**kw)``, ``advance(seconds)``, ``reset()``. Cluster lifecycles take
0 seconds here (they happen on the next read); a test that needs a CREATING cluster sets
``cluster_create_seconds`` and moves time with ``advance``, never with sleep.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

import pytest

from reconciler.emulator import EmulatorOptions, RunningEmulator, start_emulator
from reconciler.emulator.testing import EmulatorHandle

AMBIENT_PREFIXES = ("BCE_", "RECONCILER_")
# Read from the environment on purpose: `make test-long` and the PostgreSQL state tests.
HARNESS_VARIABLES = frozenset(
    {"RECONCILER_LONG", "RECONCILER_RELIABILITY_REPORT", "RECONCILER_PG_BIN"}
)


def ambient_variables(environ: Mapping[str, str]) -> list[str]:
    """The names of ``environ`` that would let a developer's shell change a test's outcome."""
    return [
        name
        for name in environ
        if name.startswith(AMBIENT_PREFIXES) and name not in HARNESS_VARIABLES
    ]


@pytest.fixture(autouse=True)
def _own_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Children inherit the cleaned ``os.environ``: e2e's ``Workspace.subprocess_env`` and every
    ``subprocess.run`` without ``env=`` start from it."""
    for name in ambient_variables(os.environ):
        monkeypatch.delenv(name)


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

"""Shared fixtures: a clean environment for every test, and one CCE v1 emulator per test session
(per xdist worker), reset per test.

Property tests cannot fail by chance in ``make test``: the ``derandomized`` hypothesis profile
(the default) runs every ``@given`` test with a fixed seed and without the example database, so
a run on a fresh clone draws exactly the examples of every other run. ``make test-long``
(``RECONCILER_LONG=1``) loads ``explore`` instead: random examples, still no database; a
failure it finds prints its example, which is then added to the test as an explicit
``@example(...)``. Collection refuses a ``@given`` test whose own settings turn either back on.

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
from hypothesis import settings

from reconciler.emulator import EmulatorOptions, RunningEmulator, start_emulator
from reconciler.emulator.testing import EmulatorHandle

AMBIENT_PREFIXES = ("BCE_", "RECONCILER_")
# Read from the environment on purpose: `make test-long` and the PostgreSQL state tests.
HARNESS_VARIABLES = frozenset(
    {"RECONCILER_LONG", "RECONCILER_RELIABILITY_REPORT", "RECONCILER_PG_BIN"}
)


LONG = os.environ.get("RECONCILER_LONG") == "1"
settings.register_profile("derandomized", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False, database=None, print_blob=True)
settings.load_profile("explore" if LONG else "derandomized")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every hypothesis test ``property`` (``make test-long`` explores them), and refuse
    one that would draw random examples, or replay a local database, in ``make test``."""
    for item in items:
        test = getattr(item, "obj", None)
        chosen = getattr(test, "_hypothesis_internal_use_settings", None)
        if chosen is None:
            continue
        item.add_marker(pytest.mark.property)
        if not LONG and (not chosen.derandomize or chosen.database is not None):
            raise pytest.UsageError(
                f"{item.nodeid}: a property test in `make test` must be derandomized and use no "
                "example database (leave both to the profile in tests/conftest.py)"
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
